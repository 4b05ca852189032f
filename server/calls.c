/* calls: a township's call for help (呼叫) and the district's view of them (DESIGN §5 "Calls
 * and dispatch"). Creating a call is one statement, api.call_create(): number, item revision,
 * orders with deadlines or triage, events and the Idempotency-Key, in one transaction.
 * Reads show each role what DESIGN §4 lets it see (row-level security), with reporter data
 * masked for departments. */
#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "handlers.h"

static db_stmt st_create = DB_STMT("calls_create", "select * from api.call_create($1::jsonb, $2)", 2);
static db_stmt st_get = DB_STMT("calls_get",
				"select '\"' || c.version || '\"', api.call_json(c)::text from huying.calls c"
				" where c.id = $1::bigint and c.district_id = (select auth.district())",
				1);
/* Newest first: the keyset is the id, descending. */
static db_stmt st_list = DB_STMT(
	"calls_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select c.id, api.call_json(c) as j, row_number() over (order by c.id desc) as rn"
	"   from huying.calls c where c.district_id = (select auth.district())"
	"   and c.id < coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807)"
	"   and ($3::text is null or c.status = $3::text)"
	"   and ($4::bigint is null or c.township_id = $4::bigint)"
	"   and ($5::bigint is null or c.item_id = $5::bigint)"
	"   and ($6::text is null or c.urgency = $6::text)"
	"   and ($7::text is null or c.source = $7::text)"
	"   order by c.id desc limit $1::int + 1) p",
	7);

static db_stmt st_dispatch =
	DB_STMT("calls_dispatch", "select * from api.call_dispatch($1::bigint, $2::jsonb, $3, $4)", 4);
static db_stmt st_confirm = DB_STMT("calls_confirm", "select * from api.call_confirm($1::bigint, $2, $3)", 3);
/* The timeline, oldest first: the call's events and its orders' (those the caller may see). */
static db_stmt st_events = DB_STMT(
	"calls_events",
	"select json_build_object('data', coalesce(json_agg(v.j order by v.id) filter (where v.rn <= $2::int), '[]'),"
	" 'next_cursor', case when count(v.j) > $2::int"
	"   then api.cursor(jsonb_build_array((array_agg(v.id order by v.id))[$2::int])) end)::text"
	" from huying.calls c left join lateral (select e.id, api.event_json(e) as j, row_number() over (order by e.id) as rn"
	"   from huying.events e where e.district_id = c.district_id"
	"   and ((e.subject_type = 'call' and e.subject_id = c.id)"
	"        or (e.subject_type = 'order' and e.subject_id in (select o.id from huying.orders o where o.call_id = c.id)))"
	"   and e.id > coalesce(($3::jsonb ->> 0)::bigint, 0) order by e.id limit $2::int + 1) v on true"
	" where c.id = $1::bigint and c.district_id = (select auth.district()) group by c.id",
	3);

static db_stmt st_comment = DB_STMT("calls_comment", "select * from api.comment_add($1::bigint, $2::jsonb, $3)", 3);

static db_stmt st_urgency =
	DB_STMT("calls_urgency", "select * from api.call_urgency($1::bigint, $2::jsonb, $3, $4)", 4);


void calls_create(http_req *r)
{
	static const char *const urgencies[] = {"normal", "urgent", "emergency", NULL};
	static const char *const sources[] = {"township", "grid", "hotline", "district", NULL};
	static const json_field fields[] = {
		{"title", JF_STRING, 1, 1, 200, NULL, NULL, NULL},
		{"description", JF_STRING, 0, 0, 4000, NULL, NULL, NULL},
		{"urgency", JF_ENUM, 0, 0, 0, urgencies, NULL, NULL},
		{"source", JF_ENUM, 0, 0, 0, sources, NULL, NULL},
		JF_ID("item_id", 0),
		JF_CODE("item_code", 0),
		JF_ID("scenario_id", 0),
		JF_ID("township_id", 0),
		JF_CODE("township_code", 0),
		JF_ID("grid_id", 0),
		JF_CODE("grid_code", 0),
		{"location", JF_OBJECT, 0, 0, 0, NULL, NULL, NULL},
		{"reporter", JF_OBJECT, 0, 0, 0, NULL, NULL, NULL},
		{"attachments", JF_ARRAY, 0, 0, 0, NULL, NULL, NULL},
		{"external_ref", JF_OBJECT, 0, 0, 0, NULL, NULL, NULL},
		{"reported_at", JF_STRING, 0, 20, 40, NULL, dates_check_timestamp,
		 "must be an RFC 3339 timestamp with an offset"},
		{"triage", JF_BOOL, 0, 0, 0, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	static const char *const pairs[][2] = {
		{"township_id", "township_code"}, {"item_id", "item_code"}, {"grid_id", "grid_code"}};
	if (http_refs_or_reply(r, pairs, 3) < 0)
		return;
	const char *params[] = {r->body, r->idem_key};
	http_answer(r, &st_create, params);
}

void calls_get(http_req *r)
{
	const char *id = r->id_text[0];
	const char *params[] = {id};
	http_answer(r, &st_get, params);
}

void calls_list(http_req *r)
{
	static const char *const names[] = {"limit",   "cursor",  "status", "township_id",
					    "item_id", "urgency", "source", NULL};
	static const char *const statuses[] = {"triage", "dispatched", "resolved", "closed", "cancelled", NULL};
	static const char *const urgencies[] = {"normal", "urgent", "emergency", NULL};
	static const char *const sources[] = {"township", "grid", "hotline", "district", NULL};
	const char *v[7];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0 ||
	    http_enum_filter_or_reply(r, "status", v[2], statuses) < 0 ||
	    http_id_filter_or_reply(r, "township_id", v[3]) < 0 || http_id_filter_or_reply(r, "item_id", v[4]) < 0 ||
	    http_enum_filter_or_reply(r, "urgency", v[5], urgencies) < 0 ||
	    http_enum_filter_or_reply(r, "source", v[6], sources) < 0)
		return;
	const char *params[] = {limit, cursor, v[2], v[3], v[4], v[5], v[6]};
	http_answer(r, &st_list, params);
}

void calls_dispatch(http_req *r)
{
	static const json_field fields[] = {
		JF_ID("item_id", 0),
		JF_CODE("item_code", 0),
		{"orders", JF_ARRAY, 1, 0, 0, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	static const char *const pairs[][2] = {{"item_id", "item_code"}};
	if (http_validate_or_reply(r, fields) < 0 || http_refs_or_reply(r, pairs, 1) < 0)
		return;
	const char *id = r->id_text[0];
	const char *params[] = {id, r->body, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_dispatch, params);
}

void calls_confirm(http_req *r)
{
	static const json_field fields[] = {{NULL, 0, 0, 0, 0, NULL, NULL, NULL}};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *id = r->id_text[0];
	const char *params[] = {id, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_confirm, params);
}

void calls_events(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", NULL};
	const char *v[2];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0)
		return;
	const char *id = r->id_text[0];
	const char *params[] = {id, limit, cursor};
	http_answer(r, &st_events, params);
}

void calls_comment(http_req *r)
{
	static const json_field fields[] = {
		{"text", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{"attachments", JF_ARRAY, 0, 0, 0, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *id = r->id_text[0];
	const char *params[] = {id, r->body, r->idem_key};
	http_answer(r, &st_comment, params);
}

void calls_urgency(http_req *r)
{
	static const char *const urgencies[] = {"normal", "urgent", "emergency", NULL};
	static const json_field fields[] = {
		{"urgency", JF_ENUM, 1, 0, 0, urgencies, NULL, NULL},
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *id = r->id_text[0];
	const char *params[] = {id, r->body, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_urgency, params);
}

static db_stmt st_reopen = DB_STMT("calls_reopen", "select * from api.call_reopen($1::bigint, $2::jsonb, $3, $4)", 4);
static db_stmt st_cancel = DB_STMT("calls_cancel", "select * from api.call_cancel($1::bigint, $2::jsonb, $3, $4)", 4);

/* reopen: the township, {reason}; a rework order (重办) to the same lead department. */
void calls_reopen(http_req *r)
{
	static const json_field fields[] = {
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *params[] = {r->id_text[0], r->body, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_reopen, params);
}

/* cancel: the township before any order is accepted, or the district office:
 * {reason, duplicate_of?}. */
void calls_cancel(http_req *r)
{
	static const json_field fields[] = {
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		JF_ID("duplicate_of", 0),
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *params[] = {r->id_text[0], r->body, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_cancel, params);
}
