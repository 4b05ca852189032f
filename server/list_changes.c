/* list_changes: requests to add, amend or retire a list item (动态调整), DESIGN §5. Any
 * role of the district but integration submits; the district office approves or rejects,
 * then enacts with the city's review reference and the date the new version takes effect.
 * The allowed steps are rows of huying.transitions, checked by api.list_change_act(). */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "dates.h"
#include "flow.h"
#include "handlers.h"

static db_stmt st_submit = DB_STMT("list_changes_submit", "select * from api.list_change_submit($1::jsonb, $2)", 2);
static db_stmt st_act =
	DB_STMT("list_changes_act", "select * from api.list_change_act($1::bigint, $2, $3::jsonb, $4, $5)", 5);
static db_stmt st_get =
	DB_STMT("list_changes_get",
		"select '\"' || c.version || '\"', api.list_change_json(c)::text from huying.list_changes c"
		" where c.id = $1::bigint and c.district_id = (select auth.district())",
		1);
/* Newest first: the keyset is the id, descending. */
static db_stmt st_list = DB_STMT(
	"list_changes_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select c.id, api.list_change_json(c) as j, row_number() over (order by c.id desc) as rn"
	"   from huying.list_changes c where c.district_id = (select auth.district())"
	"   and c.id < coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807)"
	"   and ($3::text is null or c.status = $3::text)"
	"   order by c.id desc limit $1::int + 1) p",
	3);


void list_changes_submit(http_req *r)
{
	static const char *const kinds[] = {"add", "amend", "retire", NULL};
	static const json_field fields[] = {
		{"kind", JF_ENUM, 1, 0, 0, kinds, NULL, NULL},
		JF_CODE("item_code", 1),
		{"proposal", JF_OBJECT, 0, 0, 0, NULL, NULL, NULL},
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *params[] = {r->body, r->idem_key};
	http_answer(r, &st_submit, params);
}

void list_changes_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", "status", NULL};
	static const char *const statuses[] = {"pending", "approved", "rejected", "enacted", NULL};
	const char *v[3];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0)
		return;
	int ok = !v[2];
	for (int i = 0; statuses[i] && !ok; i++)
		ok = strcmp(v[2], statuses[i]) == 0;
	if (!ok) {
		http_field_problem(r, "status", "must be one of: pending approved rejected enacted", "invalid filter");
		return;
	}
	const char *params[] = {limit, cursor, v[2]};
	http_answer(r, &st_list, params);
}

void list_changes_get(http_req *r)
{
	const char *id = r->id_text[0];
	const char *params[] = {id};
	http_answer(r, &st_get, params);
}

/* approve, reject and enact share one SQL function; enact also draws the new flowchart in
 * the same transaction, so it runs as a session of two statements. */
static void act(http_req *r, const char *action, const json_field *fields)
{
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *id = r->id_text[0];
	const char *params[] = {id, action, r->body, http_get_header(r, "If-Match"), r->idem_key};
	if (strcmp(action, "enact") != 0) {
		http_answer(r, &st_act, params);
		return;
	}
	db_error err;
	db_session *s = db_session_begin(r->claims.json, cfg.statement_timeout_ms, &err);
	if (!s) {
		http_reply_db_error(r, &err);
		return;
	}
	r->token_confirmed = 1;
	db_result *res = db_session_exec(s, &st_act, params, &err);
	int ok = res && flow_render_pending(s, &err) == 0;
	/* db_session_end frees the session whatever happens; it commits only when ok. */
	if (!ok) {
		db_error ignored;
		db_session_end(s, 0, &ignored);
	} else if (db_session_end(s, 1, &err) < 0) {
		ok = 0;
	}
	if (!ok) {
		db_result_free(res);
		http_reply_db_error(r, &err);
		return;
	}
	http_reply_row(r, res);
}

void list_changes_approve(http_req *r)
{
	static const json_field fields[] = {
		{"reason", JF_STRING, 0, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "approve", fields);
}

void list_changes_reject(http_req *r)
{
	static const json_field fields[] = {
		{"reason", JF_STRING, 1, 1, 2000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	act(r, "reject", fields);
}

void list_changes_enact(http_req *r)
{
	static const json_field fields[] = {
		{"city_ref", JF_STRING, 1, 1, 100, NULL, NULL, NULL},
		{"effective_from", JF_STRING, 1, 10, 10, NULL, dates_check, "must be a date YYYY-MM-DD"},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	/* A validation rule (422), so it is checked before the list change is even looked up. */
	const char *eff = NULL;
	char today[11];
	dates_today(today);
	if (json_member_str(r->json, "effective_from", &eff) == 0 && strcmp(eff, today) < 0) {
		http_field_problem(r, "effective_from", "must be today or later", "the body has invalid fields");
		return;
	}
	act(r, "enact", fields);
}
