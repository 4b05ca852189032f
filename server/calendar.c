/* calendar: the district's working time (DESIGN §5 "Timers, calendar, supervision"): the
 * calendar of each year (office hours, holidays, adjusted workdays 调休), the SLA policy per
 * urgency, and the district's settings. Every role reads them (settings: not integration);
 * the district office writes them with PUT, If-Match honoured. The deadline arithmetic over
 * them lives in SQL (schema/0006_calendar.sql, api.limit_due); the calendar's bulk import is
 * POST /v1/imports/calendar (server/imports.c). */
#include <string.h>

#include "handlers.h"

#define YEAR_MIN 2000
#define YEAR_MAX 2100

static db_stmt st_cal_get = DB_STMT(
	"calendar_get", "select '\"' || (j ->> 'version') || '\"', j::text from api.calendar_json($1::integer) j", 1);
static db_stmt st_cal_put = DB_STMT("calendar_put", "select * from api.calendar_put($1::integer, $2::jsonb, $3)", 3);
/* The three urgencies, always all three: a district without its own row shows the built-in
 * policy (version 0). */
static db_stmt st_sla_list =
	DB_STMT("sla_policies_list",
		"select jsonb_build_object('data', jsonb_agg(api.sla_json(api.sla(u)) order by n))::text"
		" from unnest(array['normal', 'urgent', 'emergency']) with ordinality x (u, n)",
		0);
static db_stmt st_sla_put = DB_STMT("sla_policies_put", "select * from api.sla_put($1, $2::jsonb, $3)", 3);
static db_stmt st_settings_get = DB_STMT(
	"settings_get", "select '\"' || s.version || '\"', api.settings_json(s)::text from api.settings() s", 0);
static db_stmt st_settings_put = DB_STMT("settings_put", "select * from api.settings_put($1::jsonb, $2)", 2);

/* The {year} of the path, checked (it routed as a positive integer). Returns -1 after
 * answering 422. */
static int year_or_reply(http_req *r)
{
	if (r->ids[0] < YEAR_MIN || r->ids[0] > YEAR_MAX) {
		http_field_problem(r, "year", "must be a year from 2000 to 2100", "invalid path parameter");
		return -1;
	}
	return 0;
}

void calendar_get(http_req *r)
{
	if (year_or_reply(r) < 0)
		return;
	const char *params[] = {r->id_text[0]};
	http_answer(r, &st_cal_get, params);
}

/* PUT: {office_hours, days} replaces the year; what is inside the arrays is checked in SQL,
 * which names the entry (days[3].date). */
void calendar_put(http_req *r)
{
	static const json_field fields[] = {
		{"office_hours", JF_ARRAY, 1, 0, 0, NULL, NULL, NULL},
		{"days", JF_ARRAY, 1, 0, 0, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0 || year_or_reply(r) < 0)
		return;
	const char *params[] = {r->id_text[0], r->body, http_get_header(r, "If-Match")};
	http_answer(r, &st_cal_put, params);
}

void sla_policies_list(http_req *r)
{
	http_answer(r, &st_sla_list, NULL);
}

/* PUT /v1/sla-policies/{normal|urgent|emergency}: one route row per urgency (the router's
 * path segments are literals or integers), so the urgency is the route's last segment. The
 * limit documents are checked in SQL, which names the member (accept.minutes). */
void sla_policies_put(http_req *r)
{
	static const json_field fields[] = {
		{"accept", JF_OBJECT, 1, 0, 0, NULL, NULL, NULL},
		{"resolve", JF_OBJECT, 1, 0, 0, NULL, NULL, NULL},
		{"triage", JF_OBJECT, 1, 0, 0, NULL, NULL, NULL},
		{"warn_percent", JF_INT, 1, 1, 99, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *urgency = strrchr(r->route->path, '/') + 1;
	const char *params[] = {urgency, r->body, http_get_header(r, "If-Match")};
	http_answer(r, &st_sla_put, params);
}

void settings_get(http_req *r)
{
	http_answer(r, &st_settings_get, NULL);
}

/* PUT: the full object; the ranges are those of the table's checks. */
void settings_put(http_req *r)
{
	static const json_field fields[] = {
		{"reopen_days", JF_INT, 1, 1, 365, NULL, NULL, NULL},
		{"auto_close_days", JF_INT, 1, 1, 365, NULL, NULL, NULL},
		{"escalation_grace_days", JF_INT, 1, 1, 30, NULL, NULL, NULL},
		{"extension_lead_days", JF_INT, 1, 0, 30, NULL, NULL, NULL},
		/* the scores' weights (0..1; SQL checks that they add up to 1) and the penalty per
		 * notice (0..100 points), each with at most 4 decimal places */
		{"weight_response", JF_DECIMAL, 1, 0, 10000, NULL, NULL, NULL},
		{"weight_resolution", JF_DECIMAL, 1, 0, 10000, NULL, NULL, NULL},
		{"weight_satisfaction", JF_DECIMAL, 1, 0, 10000, NULL, NULL, NULL},
		{"penalty", JF_DECIMAL, 1, 0, 1000000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *params[] = {r->body, http_get_header(r, "If-Match")};
	http_answer(r, &st_settings_put, params);
}
