#include "metrics.h"

#include <string.h>

#include "db.h"
#include "routes.h"
#include "deliverer.h"
#include "sweeper.h"

/* Statuses we count separately; anything else lands in "other". */
static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
			       406, 409, 412, 413, 415, 422, 429, 500, 503};
#define NSTATUS (int)(sizeof statuses / sizeof statuses[0])
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBOUNDS    (int)(sizeof bounds / sizeof bounds[0])
#define MAX_ROUTES 256

static unsigned long long req_count[MAX_ROUTES + 1][NSTATUS + 1];
static unsigned long long lat_bucket[MAX_ROUTES + 1][NBOUNDS + 1];
static unsigned long long lat_sum_us[MAX_ROUTES + 1];

void metrics_request(int route_index, int status, double seconds)
{
	int r = route_index < 0 || route_index >= MAX_ROUTES ? MAX_ROUTES : route_index;
	int s = 0;
	while (s < NSTATUS && statuses[s] != status)
		s++;
	int b = 0;
	while (b < NBOUNDS && seconds > bounds[b])
		b++;
	__atomic_add_fetch(&req_count[r][s], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&lat_bucket[r][b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&lat_sum_us[r], (unsigned long long)(seconds * 1e6), __ATOMIC_RELAXED);
}

static void route_label(buf *out, int r)
{
	if (r == MAX_ROUTES) {
		buf_puts(out, "method=\"\",route=\"unmatched\"");
		return;
	}
	buf_printf(out, "method=\"%s\",route=\"%s\"", route_table[r].method, route_table[r].path);
}

void metrics_render(buf *out)
{
	buf_puts(out, "# HELP huying_http_requests_total HTTP requests answered, by route and status.\n"
		      "# TYPE huying_http_requests_total counter\n");
	for (int r = 0; r <= MAX_ROUTES; r++) {
		if (r < MAX_ROUTES && r >= route_count)
			continue;
		for (int s = 0; s <= NSTATUS; s++) {
			unsigned long long n = __atomic_load_n(&req_count[r][s], __ATOMIC_RELAXED);
			if (!n)
				continue;
			buf_puts(out, "huying_http_requests_total{");
			route_label(out, r);
			if (s < NSTATUS)
				buf_printf(out, ",status=\"%d\"} %llu\n", statuses[s], n);
			else
				buf_printf(out, ",status=\"other\"} %llu\n", n);
		}
	}
	buf_puts(out, "# HELP huying_http_request_duration_seconds Time from routing to the last byte written.\n"
		      "# TYPE huying_http_request_duration_seconds histogram\n");
	for (int r = 0; r <= MAX_ROUTES; r++) {
		if (r < MAX_ROUTES && r >= route_count)
			continue;
		unsigned long long cum = 0, total;
		unsigned long long counts[NBOUNDS + 1];
		for (int b = 0; b <= NBOUNDS; b++)
			counts[b] = __atomic_load_n(&lat_bucket[r][b], __ATOMIC_RELAXED);
		total = 0;
		for (int b = 0; b <= NBOUNDS; b++)
			total += counts[b];
		if (!total)
			continue;
		for (int b = 0; b < NBOUNDS; b++) {
			cum += counts[b];
			buf_puts(out, "huying_http_request_duration_seconds_bucket{");
			route_label(out, r);
			buf_printf(out, ",le=\"%g\"} %llu\n", bounds[b], cum);
		}
		buf_puts(out, "huying_http_request_duration_seconds_bucket{");
		route_label(out, r);
		buf_printf(out, ",le=\"+Inf\"} %llu\n", total);
		buf_puts(out, "huying_http_request_duration_seconds_sum{");
		route_label(out, r);
		buf_printf(out, "} %.6f\n", (double)__atomic_load_n(&lat_sum_us[r], __ATOMIC_RELAXED) / 1e6);
		buf_puts(out, "huying_http_request_duration_seconds_count{");
		route_label(out, r);
		buf_printf(out, "} %llu\n", total);
	}
	db_stats st;
	db_get_stats(&st);
	buf_printf(
		out,
		"# HELP huying_db_pool_size Configured database connections.\n# TYPE huying_db_pool_size gauge\n"
		"huying_db_pool_size %d\n"
		"# HELP huying_db_pool_open Connections currently open.\n# TYPE huying_db_pool_open gauge\n"
		"huying_db_pool_open %d\n"
		"# HELP huying_db_pool_in_use Connections checked out by requests.\n# TYPE huying_db_pool_in_use gauge\n"
		"huying_db_pool_in_use %d\n"
		"# HELP huying_db_pool_waiting Requests waiting for a connection.\n# TYPE huying_db_pool_waiting gauge\n"
		"huying_db_pool_waiting %d\n"
		"# HELP huying_db_checkouts_total Connection checkouts.\n# TYPE huying_db_checkouts_total counter\n"
		"huying_db_checkouts_total %llu\n"
		"# HELP huying_db_wait_timeouts_total Requests that found no free connection in time (503).\n"
		"# TYPE huying_db_wait_timeouts_total counter\nhuying_db_wait_timeouts_total %llu\n"
		"# HELP huying_db_connects_total Connection attempts.\n# TYPE huying_db_connects_total counter\n"
		"huying_db_connects_total %llu\n"
		"# HELP huying_db_connect_failures_total Failed connection attempts.\n"
		"# TYPE huying_db_connect_failures_total counter\nhuying_db_connect_failures_total %llu\n",
		st.size, st.open, st.in_use, st.waiting, st.checkouts, st.wait_timeouts, st.connects,
		st.connect_failures);
	sweeper_metrics(out);
	deliverer_metrics(out);
}
