/* extensions: a department's request for more time on its order (延期) and the district
 * office's decision (DESIGN §5 "Timers, calendar, supervision"). The department asks on the
 * order (POST /v1/orders/{id}/extensions) for a later resolve_by, at least
 * extension_lead_days working days before the current one (settings); the district office
 * approves (the order's resolve_by moves, and its resolve timer with it: the trigger on
 * orders) or rejects (nothing moves). One pending request per order. Visibility follows RLS
 * extensions_read: the district office all, a department its own, a township and an
 * integration those on the calls they see. The steps are rows of huying.transitions, checked
 * by api.order_extend() and api.extension_act() (schema/0007_timers.sql). */
#include "dates.h"
#include "handlers.h"

static db_stmt st_get = DB_STMT("extensions_get",
				"select '\"' || x.version || '\"', api.extension_json(x)::text from huying.extensions x"
				" where x.id = $1::bigint and x.district_id = (select auth.district())",
				1);
/* Newest first; the keyset is the id, descending. */
static db_stmt st_list = DB_STMT(
	"extensions_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select x.id, api.extension_json(x) as j, row_number() over (order by x.id desc) as rn"
	"   from huying.extensions x where x.district_id = (select auth.district())"
	"   and x.id < coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807)"
	"   and ($3::text is null or x.status = $3::text)"
	"   and ($4::bigint is null or x.department_id = $4::bigint)"
	"   and ($5::bigint is null or x.order_id = $5::bigint)"
	"   and ($6::bigint is null or x.call_id = $6::bigint)"
	"   order by x.id desc limit $1::int + 1) p",
	6);
static db_stmt st_request =
	DB_STMT("extensions_request", "select * from api.order_extend($1::bigint, $2::jsonb, $3, $4)", 4);
static db_stmt st_act =
	DB_STMT("extensions_act", "select * from api.extension_act($1::bigint, $2, $3::jsonb, $4, $5)", 5);

void extensions_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", "status", "department_id", "order_id", "call_id", NULL};
	static const char *const statuses[] = {"pending", "approved", "rejected", NULL};
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

void extensions_get(http_req *r)
{
	const char *params[] = {r->id_text[0]};
	http_answer(r, &st_get, params);
}

/* POST /v1/orders/{id}/extensions {resolve_by, reason}: 201 with the request, Location
 * /v1/extensions/{id}; If-Match is the order's. */
void extensions_request(http_req *r)
{
	static const json_field fields[] = {
		{"resolve_by", JF_STRING, 1, 20, 40, NULL, dates_check_timestamp,
		 "must be an RFC 3339 timestamp with an offset"},
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *params[] = {r->id_text[0], r->body, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_request, params);
}

static void act(http_req *r, const char *action, const json_field *fields)
{
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *params[] = {r->id_text[0], action, r->body, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_act, params);
}

/* {reason?} */
void extensions_approve(http_req *r)
{
	static const json_field fields[] = {
		{"reason", JF_STRING, 0, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "approve", fields);
}

/* {reason} */
void extensions_reject(http_req *r)
{
	static const json_field fields[] = {
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "reject", fields);
}
