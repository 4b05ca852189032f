/* orders: linkage work orders (联动工单). A department reads its inbox, signs for an order
 * and resolves it; resolving the last live order resolves the call (api.call_settle). The
 * allowed steps are rows of huying.transitions, checked by api.order_act(). */
#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "handlers.h"

static db_stmt st_get = DB_STMT("orders_get",
				"select '\"' || o.version || '\"', api.order_json(o)::text from huying.orders o"
				" where o.id = $1::bigint and o.district_id = (select auth.district())",
				1);
/* The inbox: newest first, the keyset is the id, descending. $3 status, $4 department_id,
 * $5 call_id, $6 overdue; shared by the JSON and the CSV statement. Under the generic plan
 * the "$n is null or ..." filters cannot drive an index: the plan walks the primary key
 * backward and stops when the page is full. The cursor bound is a sub-select so that it
 * is an index condition under RLS, and the filters are one CASE so that the planner does
 * not estimate a single row (see CALL_FILTERS in calls.c): same plan, but a page deep in
 * the inbox no longer rereads the rows above it, and the estimated cost fell tenfold, so
 * that PostgreSQL's default JIT no longer compiles the statement with inlining and
 * optimization on every call (350,000 orders, JIT on: 996 ms a page before, 74 ms now;
 * with jit = off both take about 0.5 ms). */
#define ORDER_FILTERS                                                                                                  \
	" from huying.orders o where o.district_id = (select auth.district())"                                         \
	" and o.id < (select coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807))"                                \
	" and case when ($3::text is null or o.status = $3::text)"                                                     \
	"   and ($4::bigint is null or o.department_id = $4::bigint)"                                                  \
	"   and ($5::bigint is null or o.call_id = $5::bigint)"                                                        \
	"   and ($6::boolean is null or o.overdue = $6::boolean) then true else false end"                             \
	" order by o.id desc limit $1::int + 1"
static db_stmt st_list = DB_STMT(
	"orders_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select o.id, api.order_json(o) as j, row_number() over (order by o.id desc) as rn" ORDER_FILTERS ") p",
	6);
/* CSV: the call's number and the department's code by joins here (see api.order_csv). */
static db_stmt st_list_csv =
	DB_STMT("orders_csv",
		"select api.order_csv(p.o, c.number, u.code), api.cursor(jsonb_build_array(p.id))"
		" from (select o.id, o" ORDER_FILTERS ") p left join huying.calls c on c.id = (p.o).call_id"
		" left join huying.units u on u.id = (p.o).department_id order by p.id desc",
		6);
static db_stmt st_act = DB_STMT("orders_act", "select * from api.order_act($1::bigint, $2, $3::jsonb, $4, $5)", 5);

void orders_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", "status", "department_id", "call_id", "overdue", NULL};
	static const char *const statuses[] = {"dispatched", "accepted", "resolved", "returned", "cancelled", NULL};
	const char *v[6];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0 ||
	    http_enum_filter_or_reply(r, "status", v[2], statuses) < 0 ||
	    http_id_filter_or_reply(r, "department_id", v[3]) < 0 || http_id_filter_or_reply(r, "call_id", v[4]) < 0 ||
	    http_bool_filter_or_reply(r, "overdue", v[5]) < 0)
		return;
	const char *params[] = {limit, cursor, v[2], v[3], v[4], v[5]};
	http_reply_list(
		r, &st_list, &st_list_csv,
		"id,call_id,call_number,department_code,role,status,accept_by,resolve_by,accepted_at,resolved_at,"
		"overdue,return_pending,rework_of,plan,resolution,created_at",
		params);
}

void orders_get(http_req *r)
{
	const char *id = r->id_text[0];
	const char *params[] = {id};
	http_answer(r, &st_get, params);
}

static void act(http_req *r, const char *action, const json_field *fields)
{
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *id = r->id_text[0];
	const char *params[] = {id, action, r->body, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_act, params);
}

void orders_accept(http_req *r)
{
	static const json_field fields[] = {{NULL, 0, 0, 0, 0, NULL, NULL, NULL}};
	act(r, "accept", fields);
}

void orders_resolve(http_req *r)
{
	static const json_field fields[] = {
		{"resolution", JF_STRING, 1, 1, 4000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "resolve", fields);
}

void orders_plan(http_req *r)
{
	static const json_field fields[] = {
		{"plan", JF_STRING, 1, 1, 4000, NULL, NULL, NULL},
		{"resolve_by", JF_STRING, 1, 20, 40, NULL, dates_check_timestamp,
		 "must be an RFC 3339 timestamp with an offset"},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "plan", fields);
}

void orders_cancel(http_req *r)
{
	static const json_field fields[] = {
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "cancel", fields);
}

static db_stmt st_return =
	DB_STMT("orders_return", "select * from api.order_return($1::bigint, $2::jsonb, $3, $4)", 4);

/* A return request (退单): {reason, suggested_department_id | suggested_department_code?};
 * 201 with the request, for the district office's ruling (server/returns.c). */
void orders_return(http_req *r)
{
	static const json_field fields[] = {
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		JF_ID("suggested_department_id", 0),
		JF_CODE("suggested_department_code", 0),
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	static const char *const pairs[][2] = {{"suggested_department_id", "suggested_department_code"}};
	if (http_validate_or_reply(r, fields) < 0 || http_refs_or_reply(r, pairs, 1) < 0)
		return;
	const char *params[] = {r->id_text[0], r->body, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_return, params);
}
