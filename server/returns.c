/* returns: a department's request to return an order as not its responsibility (退单) and
 * the district office's ruling on it (审定): uphold (the order is returned, optionally with a
 * replacement order to another department) or overrule (nothing about the order changed);
 * the department may withdraw it. The request itself is made on the order
 * (POST /v1/orders/{id}/returns, server/orders.c). The steps are rows of huying.transitions,
 * checked by api.return_act(). */
#include "handlers.h"

static db_stmt st_get = DB_STMT("returns_get",
				"select '\"' || r.version || '\"', api.return_json(r)::text from huying.return_requests r"
				" where r.id = $1::bigint and r.district_id = (select auth.district())",
				1);
/* The ruling queue: newest first, the keyset is the id, descending. */
static db_stmt st_list = DB_STMT(
	"returns_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select r.id, api.return_json(r) as j, row_number() over (order by r.id desc) as rn"
	"   from huying.return_requests r where r.district_id = (select auth.district())"
	"   and r.id < coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807)"
	"   and ($3::text is null or r.status = $3::text)"
	"   and ($4::bigint is null or r.department_id = $4::bigint)"
	"   and ($5::bigint is null or r.order_id = $5::bigint)"
	"   and ($6::bigint is null or r.call_id = $6::bigint)"
	"   order by r.id desc limit $1::int + 1) p",
	6);
static db_stmt st_act = DB_STMT("returns_act", "select * from api.return_act($1::bigint, $2, $3::jsonb, $4, $5)", 5);

void returns_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", "status", "department_id", "order_id", "call_id", NULL};
	static const char *const statuses[] = {"pending", "upheld", "overruled", "withdrawn", "cancelled", NULL};
	const char *v[6];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0 ||
	    http_enum_filter_or_reply(r, "status", v[2], statuses) < 0 ||
	    http_id_filter_or_reply(r, "department_id", v[3]) < 0 || http_id_filter_or_reply(r, "order_id", v[4]) < 0 ||
	    http_id_filter_or_reply(r, "call_id", v[5]) < 0)
		return;
	const char *params[] = {limit, cursor, v[2], v[3], v[4], v[5]};
	http_answer(r, &st_list, params);
}

void returns_get(http_req *r)
{
	const char *params[] = {r->id_text[0]};
	http_answer(r, &st_get, params);
}

static void act(http_req *r, const char *action, const json_field *fields)
{
	static const char *const pairs[][2] = {{"department_id", "department_code"}};
	if (http_validate_or_reply(r, fields) < 0 || http_refs_or_reply(r, pairs, 1) < 0)
		return;
	const char *params[] = {r->id_text[0], action, r->body, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_act, params);
}

void returns_withdraw(http_req *r)
{
	static const json_field fields[] = {{NULL, 0, 0, 0, 0, NULL, NULL, NULL}};
	act(r, "withdraw", fields);
}

/* {department_id | department_code?, reason?}: with a department, a replacement order. */
void returns_uphold(http_req *r)
{
	static const json_field fields[] = {
		JF_ID("department_id", 0),
		JF_CODE("department_code", 0),
		{"reason", JF_STRING, 0, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "uphold", fields);
}

void returns_overrule(http_req *r)
{
	static const json_field fields[] = {
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "overrule", fields);
}
