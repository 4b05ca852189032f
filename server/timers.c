/* timers: the running deadlines (DESIGN §5 "Timers"): a call's triage timer, an order's
 * accept and resolve timers, kept by triggers on calls and orders and fired by the sweeper
 * (schema/0007_timers.sql). Each role lists the timers in its view (RLS timers_read), with
 * the working time left; ?explain=true on an order's timers shows how each deadline was
 * counted (api.limit_explain), so that a dispute can be settled from data. */
#include <string.h>

#include "handlers.h"

/* Newest first; the keyset is the id, descending. */
static db_stmt st_list = DB_STMT(
	"timers_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select t.id, api.timer_json(t) as j, row_number() over (order by t.id desc) as rn"
	"   from huying.timers t where t.district_id = (select auth.district())"
	"   and t.id < coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807)"
	"   and ($3::text is null or t.state = $3::text)"
	"   and ($4::text is null or t.kind = $4::text)"
	"   and ($5::bigint is null or t.department_id = $5::bigint)"
	"   and ($6::bigint is null or t.call_id in (select c.id from huying.calls c where c.township_id = $6::bigint))"
	"   and ($7::bigint is null or t.call_id = $7::bigint)"
	"   order by t.id desc limit $1::int + 1) p",
	7);
/* An order's timers, oldest first; 404 when the order is not visible. */
static db_stmt st_order = DB_STMT(
	"timers_order",
	"select json_build_object('data', coalesce((select json_agg(api.timer_json(t)"
	"   || case when $2::boolean then jsonb_build_object('explain', case when t.lim ? 'until'"
	"        then jsonb_build_object('from', api.ts(t.started_at), 'due', api.ts(t.due_at), 'rule', 'a fixed instant',"
	"                                'limit', t.lim)"
	"        else api.limit_explain(t.started_at, t.lim) end) else '{}' end order by t.id)"
	"   from huying.timers t where t.order_id = o.id), '[]'))::text"
	" from huying.orders o where o.id = $1::bigint and o.district_id = (select auth.district())",
	2);

void timers_list(http_req *r)
{
	static const char *const names[] = {"limit",         "cursor",      "state",   "kind",
					    "department_id", "township_id", "call_id", NULL};
	static const char *const states[] = {"running", "warning", "overdue", "escalated", "stopped", NULL};
	static const char *const kinds[] = {"triage", "accept", "resolve", NULL};
	const char *v[7];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0 ||
	    http_enum_filter_or_reply(r, "state", v[2], states) < 0 ||
	    http_enum_filter_or_reply(r, "kind", v[3], kinds) < 0 ||
	    http_id_filter_or_reply(r, "department_id", v[4]) < 0 ||
	    http_id_filter_or_reply(r, "township_id", v[5]) < 0 || http_id_filter_or_reply(r, "call_id", v[6]) < 0)
		return;
	const char *params[] = {limit, cursor, v[2], v[3], v[4], v[5], v[6]};
	http_answer(r, &st_list, params);
}

void timers_of_order(http_req *r)
{
	static const char *const names[] = {"explain", NULL};
	static const char *const bools[] = {"true", "false", NULL};
	const char *v[1];
	if (http_query_or_reply(r, names, v) < 0 || http_enum_filter_or_reply(r, "explain", v[0], bools) < 0)
		return;
	const char *params[] = {r->id_text[0], v[0] ? v[0] : "false"};
	http_answer(r, &st_order, params);
}
