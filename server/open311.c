/* open311: an Open311 GeoReport v2 facade (JSON only) over the responsibility list and the
 * calls, for civic systems that speak that standard (DESIGN §5 "Integration and bulk work";
 * docs/open311.md). Services are the district's list items in force today; service requests
 * are calls, read as each role may see them (row-level security) and created by integration
 * tokens through api.call_create, as POST /v1/calls does. The mapping lives in SQL
 * (schema/0010_open311.sql); errors take Open311's own format, which http.c writes for every
 * path under /open311/. */
#include <string.h>

#include "handlers.h"

static db_stmt st_services = DB_STMT("open311_services", "select api.open311_services($1)", 1);
static db_stmt st_requests =
	DB_STMT("open311_requests",
		"select api.open311_requests($1, string_to_array($2, ',')::bigint[], string_to_array($3, ','),"
		" $4::timestamptz, $5::timestamptz, string_to_array($6, ','))",
		6);
static db_stmt st_request = DB_STMT("open311_request",
				    "select api.open311_list(array[c]) from huying.calls c"
				    " where c.id = $1::bigint and c.district_id = (select auth.district())"
				    " and api.open311_jurisdiction($2)",
				    2);
static db_stmt st_create = DB_STMT("open311_create", "select * from api.open311_request_create($1::jsonb, $2)", 2);

/* How many members a comma list filter may have (service_request_id, service_code). */
#define OPEN311_MAX_LIST 200

static int id_ok(const char *s, size_t n)
{
	return n >= 1 && n <= 15 && s[0] != '0' && strspn(s, "0123456789") >= n;
}

static int code_ok(const char *s, size_t n)
{
	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'A' && s[i] <= 'Z') && !(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= '0' && s[i] <= '9') &&
		    s[i] != '_' && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

static int status_ok(const char *s, size_t n)
{
	return (n == 4 && strncmp(s, "open", 4) == 0) || (n == 6 && strncmp(s, "closed", 6) == 0);
}

/* A comma list filter (GeoReport's "comma delimited"): absent passes; else 1 to
 * OPEN311_MAX_LIST members, each accepted by ok(), or it is answered (a 422, which Open311
 * answers 400) naming the filter with msg. Returns -1 after answering. */
static int comma_list_or_reply(http_req *r, const char *name, const char *v, int (*ok)(const char *, size_t),
			       const char *msg)
{
	if (!v)
		return 0;
	int members = 0;
	for (const char *p = v;; p++) {
		size_t n = strcspn(p, ",");
		if (!ok(p, n) || ++members > OPEN311_MAX_LIST) {
			http_field_problem(r, name, msg, "invalid filter");
			return -1;
		}
		p += n;
		if (!*p)
			return 0;
	}
}

/* GeoReport: "a null parameter should be treated as equivalent to a non-declared parameter",
 * so an empty query value counts as absent. Returns -1 after answering, as the parser does. */
static int query_or_reply(http_req *r, const char *const *names, const char **v)
{
	if (http_query_or_reply(r, names, v) < 0)
		return -1;
	for (int i = 0; names[i]; i++)
		if (v[i] && !*v[i])
			v[i] = NULL;
	return 0;
}

/* GET /open311/v2/services.json: the list items in force today as services. */
void open311_services(http_req *r)
{
	static const char *const names[] = {"jurisdiction_id", NULL};
	const char *v[1];
	if (query_or_reply(r, names, v) < 0 || http_text_filter_or_reply(r, "jurisdiction_id", v[0], 1, 100) < 0)
		return;
	const char *params[] = {v[0]};
	http_answer(r, &st_services, params);
}

/* GET /open311/v2/requests.json: the calls the token sees, newest first, at most 1,000, over
 * at most 90 days of requested_datetime (default: the last 90 days); service_request_id
 * overrides every other filter, as GeoReport says. */
void open311_requests(http_req *r)
{
	static const char *const names[] = {
		"jurisdiction_id", "service_request_id", "service_code", "start_date", "end_date", "status", NULL};
	const char *v[6];
	if (query_or_reply(r, names, v) < 0 || http_text_filter_or_reply(r, "jurisdiction_id", v[0], 1, 100) < 0 ||
	    comma_list_or_reply(r, "service_request_id", v[1], id_ok,
				"must be a comma list of up to 200 service request ids (positive integers)") < 0 ||
	    comma_list_or_reply(r, "service_code", v[2], code_ok, "must be a comma list of up to 200 service codes") <
		    0 ||
	    http_timestamp_filter_or_reply(r, "start_date", &v[3]) < 0 ||
	    http_timestamp_filter_or_reply(r, "end_date", &v[4]) < 0 ||
	    comma_list_or_reply(r, "status", v[5], status_ok, "must be a comma list of: open closed") < 0)
		return;
	const char *params[] = {v[0], v[1], v[2], v[3], v[4], v[5]};
	http_answer(r, &st_requests, params);
}

/* GET /open311/v2/requests/{id}.json: one call, as a one-element array. */
void open311_request(http_req *r)
{
	static const char *const names[] = {"jurisdiction_id", NULL};
	const char *v[1];
	if (query_or_reply(r, names, v) < 0 || http_text_filter_or_reply(r, "jurisdiction_id", v[0], 1, 100) < 0)
		return;
	const char *params[] = {r->id_text[0], v[0]};
	http_answer(r, &st_request, params);
}

/* POST /open311/v2/requests.json: a form-encoded service request becomes a call. The form
 * goes to SQL as one JSON object of strings; api.open311_request_create checks its fields
 * and maps them onto the body of api.call_create. */
void open311_request_create(http_req *r)
{
	buf form = {0};
	if (http_form_json_or_reply(r, &form) == 0) {
		const char *params[] = {buf_str(&form), r->idem_key};
		http_answer(r, &st_create, params);
	}
	buf_free(&form);
}
