/* sweeper: fires due timers, auto-closes resolved calls and purges old Idempotency-Keys, in
 * passes of api.sweep(HUYING_SWEEP_BATCH) (schema/0007_timers.sql), then folds the scores'
 * deltas into their roll-up (api.score_compact, schema/0008_scores.sql; up to ten batches
 * per pass, one replica at a time; readers are exact either way). A pass that found a full
 * batch is followed at once by another; otherwise the thread sleeps HUYING_SWEEP_INTERVAL_MS,
 * so a timer fires within about one interval of its due time. The pass runs with no claims:
 * the function is SECURITY DEFINER and belongs to no district. A database that is away only
 * costs a logged warning per pass; nothing is lost, since the timers stay due. */
#include "sweeper.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"

static db_stmt st_sweep = DB_STMT("sweep", "select api.sweep($1::int)::text", 1);
static db_stmt st_compact = DB_STMT("score_compact", "select api.score_compact($1::int)", 1);

static pthread_t thread;
static int running;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int stopping;

static atomic_ullong passes, failures, fired, closed, purged, folded;

/* The integer member key of a flat JSON object written by PostgreSQL ("key": n). */
static long long member(const char *json, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\": ", key);
	const char *p = strstr(json, pat);
	return p ? atoll(p + strlen(pat)) : 0;
}

/* One pass; returns how many items it handled (timers fired + calls closed + keys purged),
 * or -1 when the database could not be asked. */
static long long pass(void)
{
	char batch[16];
	snprintf(batch, sizeof batch, "%d", cfg.sweep_batch);
	const char *params[] = {batch};
	db_error err;
	db_result *r = db_run(NULL, cfg.statement_timeout_ms, &st_sweep, params, &err);
	atomic_fetch_add(&passes, 1);
	if (!r) {
		atomic_fetch_add(&failures, 1);
		fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"timer sweep failed\",\"sqlstate\":\"%s\"}\n", err.sqlstate);
		return -1;
	}
	const char *j = db_value(r, 0, 0, NULL);
	long long f = j ? member(j, "fired") : 0, c = j ? member(j, "closed") : 0, p = j ? member(j, "purged") : 0;
	db_result_free(r);
	atomic_fetch_add(&fired, (unsigned long long)f);
	atomic_fetch_add(&closed, (unsigned long long)c);
	atomic_fetch_add(&purged, (unsigned long long)p);
	long long most = f > c ? (f > p ? f : p) : (c > p ? c : p);

	char big[16];
	snprintf(big, sizeof big, "%d", cfg.sweep_batch * 10);
	const char *cparams[] = {big};
	r = db_run(NULL, cfg.statement_timeout_ms, &st_compact, cparams, &err);
	if (!r) {
		atomic_fetch_add(&failures, 1);
		fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"score compaction failed\",\"sqlstate\":\"%s\"}\n", err.sqlstate);
		return most;
	}
	const char *n = db_value(r, 0, 0, NULL);
	long long k = n ? atoll(n) : 0;
	db_result_free(r);
	atomic_fetch_add(&folded, (unsigned long long)k);
	/* a full compaction batch counts as a full pass: go on at once */
	return k >= cfg.sweep_batch * 10 ? cfg.sweep_batch : most;
}

static void *loop(void *arg)
{
	(void)arg;
	for (;;) {
		long long n = pass();
		pthread_mutex_lock(&mu);
		if (!stopping && n < cfg.sweep_batch) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			long long ns = until.tv_nsec + (long long)cfg.sweep_interval_ms * 1000000LL;
			until.tv_sec += ns / 1000000000LL;
			until.tv_nsec = ns % 1000000000LL;
			while (!stopping && pthread_cond_timedwait(&wake, &mu, &until) != ETIMEDOUT)
				;
		}
		int stop = stopping;
		pthread_mutex_unlock(&mu);
		if (stop)
			return NULL;
	}
}

int sweeper_start(void)
{
	if (cfg.sweep_interval_ms == 0)
		return 0;
	if (pthread_create(&thread, NULL, loop, NULL) != 0) {
		fprintf(stderr, "huyingd: cannot start the timer sweeper\n");
		return -1;
	}
	running = 1;
	return 0;
}

void sweeper_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	stopping = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	running = 0;
}

void sweeper_metrics(buf *out)
{
	buf_printf(out,
		   "# HELP huying_sweeps_total Timer sweep passes.\n# TYPE huying_sweeps_total counter\n"
		   "huying_sweeps_total %llu\n"
		   "# HELP huying_sweep_failures_total Sweep passes that could not reach the database.\n"
		   "# TYPE huying_sweep_failures_total counter\nhuying_sweep_failures_total %llu\n"
		   "# HELP huying_timers_fired_total Timers that passed a mark (warning, overdue, escalated).\n"
		   "# TYPE huying_timers_fired_total counter\nhuying_timers_fired_total %llu\n"
		   "# HELP huying_calls_auto_closed_total Resolved calls closed by themselves.\n"
		   "# TYPE huying_calls_auto_closed_total counter\nhuying_calls_auto_closed_total %llu\n"
		   "# HELP huying_idempotency_purged_total Idempotency-Keys purged after 24 h.\n"
		   "# TYPE huying_idempotency_purged_total counter\nhuying_idempotency_purged_total %llu\n"
		   "# HELP huying_score_deltas_folded_total Score deltas folded into the roll-up.\n"
		   "# TYPE huying_score_deltas_folded_total counter\nhuying_score_deltas_folded_total %llu\n",
		   (unsigned long long)atomic_load(&passes), (unsigned long long)atomic_load(&failures),
		   (unsigned long long)atomic_load(&fired), (unsigned long long)atomic_load(&closed),
		   (unsigned long long)atomic_load(&purged), (unsigned long long)atomic_load(&folded));
}
