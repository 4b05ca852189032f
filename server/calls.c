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
/* $2: embed the timeline (expand=events), its first CALL_EVENTS_EMBEDDED entries. */
#define CALL_EVENTS_EMBEDDED "200"
static db_stmt st_get =
	DB_STMT("calls_get",
		"select '\"' || c.version || '\"', (case when $2::boolean"
		" then api.call_json(c) || jsonb_build_object('events', api.call_events(c, " CALL_EVENTS_EMBEDDED "))"
		" else api.call_json(c) end)::text from huying.calls c"
		" where c.id = $1::bigint and c.district_id = (select auth.district())",
		2);
/* The calls GET /v1/calls shows (visibility is RLS: auth.sees_call), newest first, the keyset
 * the id descending, as (id, c) rows; shared by the JSON and the CSV statement. $3 status,
 * $4 township_id, $5 item_id, $6 urgency, $7 source, $8 domain (the code of the domain of the
 * item revision the call was made under), $9 overdue (an order the caller sees is, or none
 * is), $10 q, $11 created_after, $12 created_before (both exclusive), $13 external_system,
 * $14 external_id. Every filter is "$n is null or ...", so one generic plan serves all.
 *
 * Two branches, of which the parameters switch exactly one on: without a needle (a keyword
 * of 3 characters or more, or an external_id) the district's calls are walked newest first
 * (index calls_district) until the page is full; with one, the calls api.call_search finds
 * through its indexes (trigram, external_id), newest first, are read in that order until
 * the page is full (WITH ORDINALITY tells the planner the order, so nothing sorts them
 * all), so that a rare keyword does not walk the whole district. Keywords of 1 or 2
 * characters have no trigram and are matched inline (api.call_text_has).
 *
 * Written for the generic plan (measured on 214,000 calls, bench notes in the commit):
 * - The cursor bound is a sub-select, hence a plan parameter, hence an index condition
 *   under RLS; written inline (->> is not leakproof) it was a filter checked after the
 *   policy on every row above the cursor (a page deep in the list: 11.9 s, now 1.4 ms).
 * - The filters are two CASE expressions rather than a dozen ANDed ORs: the planner prices
 *   a CASE at one half, where the ORs multiplied to an estimate of one row, with which
 *   LIMIT discounts nothing and a bitmap scan plus a sort of the whole district looks as
 *   cheap as the walk (the statement before this one read the whole district that way:
 *   7 s a page) and the cost passes jit_above_cost. The first CASE is leakproof, so it
 *   runs before the policy's function; the second holds the sub-selects. */
#define CALL_FILTERS                                                                                                   \
	" and c.district_id = (select auth.district())"                                                                \
	" and c.id < (select coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807))"                                \
	" and case when ($3::text is null or c.status = $3::text)"                                                     \
	"   and ($4::bigint is null or c.township_id = $4::bigint)"                                                    \
	"   and ($5::bigint is null or c.item_id = $5::bigint)"                                                        \
	"   and ($6::text is null or c.urgency = $6::text)"                                                            \
	"   and ($7::text is null or c.source = $7::text)"                                                             \
	"   and ($11::timestamptz is null or c.created_at > $11::timestamptz)"                                         \
	"   and ($12::timestamptz is null or c.created_at < $12::timestamptz)"                                         \
	"   and ($13::text is null or c.external_system = $13::text)"                                                  \
	"   and ($14::text is null or c.external_id = $14::text) then true else false end"                             \
	" and case when ($8::text is null or exists (select 1 from huying.item_revisions r join huying.domains dm"     \
	"      on dm.id = r.domain_id where r.item_id = c.item_id and r.revision = c.item_revision"                    \
	"      and dm.code = $8::text))"                                                                               \
	"   and ($9::boolean is null"                                                                                  \
	"      or $9::boolean = exists (select 1 from huying.orders o where o.call_id = c.id and o.overdue))"          \
	"   and ($10::text is null or char_length($10::text) >= 3 or api.call_text_has(c, $10::text))"                 \
	"   then true else false end"
#define CALL_NEEDLE "(char_length($10::text) >= 3 or $14::text is not null)"
#define CALL_ROWS                                                                                                      \
	"(select c.id, c from huying.calls c where not coalesce(" CALL_NEEDLE ", false)" CALL_FILTERS                  \
	" order by c.id desc limit $1::int + 1) union all (select c.id, c"                                             \
	" from api.call_search($10::text, $13::text, $14::text, ($2::jsonb ->> 0)::bigint) with ordinality s(id, n)"   \
	" join huying.calls c on c.id = s.id where " CALL_NEEDLE CALL_FILTERS " order by s.n limit $1::int + 1)"
/* JSON: $15 embeds each call's orders (expand=orders); without it a row is the call alone. */
static db_stmt st_list = DB_STMT(
	"calls_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select u.id, case when $15::boolean then api.call_json(u.c) else api.call_list_json(u.c) end as j,"
	"   row_number() over (order by u.id desc) as rn from (" CALL_ROWS ") u) p",
	15);
/* CSV: the codes behind the ids and the overdue flag by joins here, not per row in a function
 * (see api.call_csv). */
static db_stmt st_list_csv =
	DB_STMT("calls_csv",
		"select api.call_csv(u.c, t.code, i.code, dm.code, g.code,"
		"   exists (select 1 from huying.orders o where o.call_id = u.id and o.overdue)),"
		" api.cursor(jsonb_build_array(u.id)) from (" CALL_ROWS ") u"
		" left join huying.units t on t.id = (u.c).township_id left join huying.items i on i.id = (u.c).item_id"
		" left join huying.item_revisions r on r.item_id = (u.c).item_id and r.revision = (u.c).item_revision"
		" left join huying.domains dm on dm.id = r.domain_id left join huying.grids g on g.id = (u.c).grid_id"
		" order by u.id desc",
		14);
#define CALL_CSV_HEADER                                                                                                \
	"number,id,status,urgency,source,township_code,item_code,domain_code,title,description,grid_code,address,"     \
	"reporter_name,reporter_phone,external_system,external_id,reported_at,created_at,updated_at,overdue"

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

enum { EXPAND_ORDERS = 1, EXPAND_EVENTS = 2 };

/* The ?expand= value v, a comma list of "orders" and "events" (repeats allowed), as EXPAND_*
 * bits into *out (0 when absent). A member outside allowed (bits), or an empty one, is
 * answered 422 naming expand with message; returns -1 then. */
static int expand_or_reply(http_req *r, const char *v, int allowed, const char *message, int *out)
{
	*out = 0;
	if (!v)
		return 0;
	for (const char *p = v;; p++) {
		size_t n = strcspn(p, ",");
		int bit = 0;
		if (n == 6 && strncmp(p, "orders", 6) == 0)
			bit = EXPAND_ORDERS;
		else if (n == 6 && strncmp(p, "events", 6) == 0)
			bit = EXPAND_EVENTS;
		if (!(bit & allowed)) {
			http_field_problem(r, "expand", message, "invalid query parameter");
			return -1;
		}
		*out |= bit;
		p += n;
		if (!*p)
			return 0;
	}
}

void calls_get(http_req *r)
{
	static const char *const names[] = {"expand", NULL};
	static const char *const message = "must be a comma list of: orders events";
	const char *v[1];
	int expand;
	if (http_query_or_reply(r, names, v) < 0 ||
	    expand_or_reply(r, v[0], EXPAND_ORDERS | EXPAND_EVENTS, message, &expand) < 0)
		return;
	const char *id = r->id_text[0];
	const char *params[] = {id, expand & EXPAND_EVENTS ? "true" : "false"};
	http_answer(r, &st_get, params);
}

void calls_list(http_req *r)
{
	static const char *const names[] = {"limit",           "cursor",      "status",        "township_id",
					    "item_id",         "urgency",     "source",        "domain",
					    "overdue",         "q",           "created_after", "created_before",
					    "external_system", "external_id", "expand",        NULL};
	static const char *const statuses[] = {"triage", "dispatched", "resolved", "closed", "cancelled", NULL};
	static const char *const urgencies[] = {"normal", "urgent", "emergency", NULL};
	static const char *const sources[] = {"township", "grid", "hotline", "district", NULL};
	const char *v[15];
	char limit[16];
	const char *cursor;
	int expand;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0 ||
	    http_enum_filter_or_reply(r, "status", v[2], statuses) < 0 ||
	    http_id_filter_or_reply(r, "township_id", v[3]) < 0 || http_id_filter_or_reply(r, "item_id", v[4]) < 0 ||
	    http_enum_filter_or_reply(r, "urgency", v[5], urgencies) < 0 ||
	    http_enum_filter_or_reply(r, "source", v[6], sources) < 0)
		return;
	if (v[7] && (strlen(v[7]) > 32 || !*v[7] || json_code_ok(v[7]) < 0)) {
		http_field_problem(r, "domain", "must be a domain code", "invalid filter");
		return;
	}
	if (http_bool_filter_or_reply(r, "overdue", v[8]) < 0 || http_text_filter_or_reply(r, "q", v[9], 1, 50) < 0 ||
	    http_timestamp_filter_or_reply(r, "created_after", &v[10]) < 0 ||
	    http_timestamp_filter_or_reply(r, "created_before", &v[11]) < 0 ||
	    http_text_filter_or_reply(r, "external_system", v[12], 1, 64) < 0 ||
	    http_text_filter_or_reply(r, "external_id", v[13], 1, 100) < 0 ||
	    expand_or_reply(r, v[14], EXPAND_ORDERS,
			    "must be orders (a call's events: GET /v1/calls/{id}?expand=events)", &expand) < 0)
		return;
	const char *params[] = {limit, cursor, v[2],  v[3],  v[4],
				v[5],  v[6],   v[7],  v[8],  v[9],
				v[10], v[11],  v[12], v[13], expand ? "true" : "false"};
	http_reply_list(r, &st_list, &st_list_csv, CALL_CSV_HEADER, params);
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
