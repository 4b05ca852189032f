/* supervisions: the district office's supervision cases (督办) on orders and the reminders,
 * notices (通报) and rectification orders (责令整改) it sends on them (DESIGN §5 "Timers,
 * calendar, supervision"). The sweep opens one when a timer of an order goes overdue
 * (api.sweep, server/sweeper.c); the district office opens one by hand, writes notices on it
 * and closes it. At most one open case per order (a unique index). The district office sees
 * every case and notice of its district, a department those on its own orders (RLS
 * supervisions_read, notices_read); townships and integrations never (the route table).
 * The steps are rows of huying.transitions, checked by api.supervision_act()
 * (schema/0007_timers.sql). */
#include "handlers.h"

static db_stmt st_get =
	DB_STMT("supervisions_get",
		"select '\"' || s.version || '\"', api.supervision_json(s)::text from huying.supervisions s"
		" where s.id = $1::bigint and s.district_id = (select auth.district())",
		1);
/* Newest first; the keyset is the id, descending. */
static db_stmt st_list = DB_STMT(
	"supervisions_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select s.id, api.supervision_json(s) as j, row_number() over (order by s.id desc) as rn"
	"   from huying.supervisions s where s.district_id = (select auth.district())"
	"   and s.id < coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807)"
	"   and ($3::text is null or s.status = $3::text)"
	"   and ($4::bigint is null or s.department_id = $4::bigint)"
	"   and ($5::bigint is null or s.order_id = $5::bigint)"
	"   and ($6::bigint is null or s.call_id = $6::bigint)"
	"   order by s.id desc limit $1::int + 1) p",
	6);
static db_stmt st_open = DB_STMT("supervisions_open", "select * from api.supervision_open($1::jsonb, $2)", 2);
static db_stmt st_act =
	DB_STMT("supervisions_act", "select * from api.supervision_act($1::bigint, $2, $3::jsonb, $4, $5)", 5);
/* Notices, newest first; the keyset is the id, descending. */
static db_stmt st_notices = DB_STMT(
	"notices_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select n.id, api.notice_json(n) as j, row_number() over (order by n.id desc) as rn"
	"   from huying.notices n where n.district_id = (select auth.district())"
	"   and n.id < coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807)"
	"   and ($3::bigint is null or n.department_id = $3::bigint)"
	"   and ($4::bigint is null or n.supervision_id = $4::bigint)"
	"   and ($5::text is null or n.kind = $5::text)"
	"   order by n.id desc limit $1::int + 1) p",
	5);

void supervisions_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", "status", "department_id", "order_id", "call_id", NULL};
	static const char *const statuses[] = {"open", "closed", NULL};
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

void supervisions_get(http_req *r)
{
	const char *params[] = {r->id_text[0]};
	http_answer(r, &st_get, params);
}

/* {order_id, reason}: 201 with the case, Location /v1/supervisions/{id}. */
void supervisions_open(http_req *r)
{
	static const json_field fields[] = {
		JF_ID("order_id", 1),
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *params[] = {r->body, r->idem_key};
	http_answer(r, &st_open, params);
}

static void act(http_req *r, const char *action, const json_field *fields)
{
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *params[] = {r->id_text[0], action, r->body, http_get_header(r, "If-Match"), r->idem_key};
	http_answer(r, &st_act, params);
}

/* {kind: reminder|notice|rectification, text}: 201 with the notice; the ETag is the case's
 * new version (a notice is a step on the case). */
void supervisions_notice(http_req *r)
{
	static const char *const kinds[] = {"reminder", "notice", "rectification", NULL};
	static const json_field fields[] = {
		{"kind", JF_ENUM, 1, 0, 0, kinds, NULL, NULL},
		{"text", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "notices", fields);
}

/* {reason?}: 200 with the closed case. */
void supervisions_close(http_req *r)
{
	static const json_field fields[] = {
		{"reason", JF_STRING, 0, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "close", fields);
}

void notices_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", "department_id", "supervision_id", "kind", NULL};
	static const char *const kinds[] = {"reminder", "notice", "rectification", NULL};
	const char *v[5];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0 ||
	    http_id_filter_or_reply(r, "department_id", v[2]) < 0 ||
	    http_id_filter_or_reply(r, "supervision_id", v[3]) < 0 ||
	    http_enum_filter_or_reply(r, "kind", v[4], kinds) < 0)
		return;
	const char *params[] = {limit, cursor, v[2], v[3], v[4]};
	http_answer(r, &st_notices, params);
}
