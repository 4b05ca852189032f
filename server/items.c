/* items: reading the responsibility list (DESIGN §5): items at a date, one item with its
 * manual and flow, its versions, and its flowchart as JSON, Mermaid or SVG. Every role of
 * the district reads the list; only imports and enacted list changes write it. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"

/* The revision of item i in force at date a.at (or the last one before it, then retired). */
#define REVISION_AT                                                                                                    \
	" cross join lateral (select x.* from huying.item_revisions x where x.item_id = i.id"                          \
	" and x.effective_from <= a.at order by x.effective_from desc, x.revision desc limit 1) r"

static db_stmt st_list = DB_STMT(
	"items_list",
	DB_LIST_JSON(
		"select i.code as k, api.item_json(i, r, false, a.at) as j from huying.items i"
		" cross join (select coalesce($6::date, api.today()) as at) a" REVISION_AT
		" where i.district_id = (select auth.district()) and i.code > coalesce($2::jsonb ->> 0, '')"
		" and ($3::text is null or r.domain_id = (select d.id from huying.domains d"
		"      where d.district_id = i.district_id and d.code = $3::text))"
		" and ($4::bigint is null or r.lead_department_id = $4::bigint or $4::bigint = any(r.cooperating_department_ids))"
		" and (case when r.effective_to is null or r.effective_to > a.at then 'active' else 'retired' end)"
		"     = coalesce($5::text, 'active')"
		" and ($7::text is null or r.id in (select api.item_search($7::text)))"),
	7);

static db_stmt st_list_csv = DB_STMT(
	"items_csv",
	"select concat_ws(',', api.csv_cell(i.code), api.csv_cell(dm.code), api.csv_cell(r.title),"
	" api.csv_cell(r.description), api.csv_cell(r.legal_basis), api.csv_cell(ld.code),"
	" api.csv_cell((select string_agg(u.code, '|' order by o) from unnest(r.cooperating_department_ids)"
	"   with ordinality as c(id, o) join huying.units u on u.id = c.id)),"
	" api.csv_cell(r.township_duty), api.csv_cell(r.response_limit), api.csv_cell(r.resolve_limit::text)),"
	" api.cursor(jsonb_build_array(i.code))"
	" from huying.items i cross join (select coalesce($6::date, api.today()) as at) a" REVISION_AT
	" join huying.domains dm on dm.id = r.domain_id left join huying.units ld on ld.id = r.lead_department_id"
	" where i.district_id = (select auth.district()) and i.code > coalesce($2::jsonb ->> 0, '')"
	" and ($3::text is null or dm.code = $3::text)"
	" and ($4::bigint is null or r.lead_department_id = $4::bigint or $4::bigint = any(r.cooperating_department_ids))"
	" and (case when r.effective_to is null or r.effective_to > a.at then 'active' else 'retired' end)"
	"     = coalesce($5::text, 'active')"
	" and ($7::text is null or r.id in (select api.item_search($7::text)))"
	" order by i.code limit $1::int + 1",
	7);

static db_stmt st_get =
	DB_STMT("items_get",
		"select '\"' || i.version || '\"', api.item_json(i, r, true, a.at)::text from huying.items i"
		" cross join (select coalesce($2::date, api.today()) as at) a" REVISION_AT
		" where i.id = $1::bigint and i.district_id = (select auth.district())",
		2);

/* Newest first; the keyset is the revision number. */
static db_stmt st_versions = DB_STMT(
	"items_versions",
	"select json_build_object('data', coalesce(json_agg(v.j order by v.revision desc) filter (where v.rn <= $2::int), '[]'),"
	" 'next_cursor', case when count(v.j) > $2::int"
	"   then api.cursor(jsonb_build_array((array_agg(v.revision order by v.revision desc))[$2::int])) end)::text"
	" from huying.items i left join lateral (select r.revision, row_number() over (order by r.revision desc) as rn,"
	"   json_build_object('revision', r.revision, 'effective_from', r.effective_from, 'effective_to', r.effective_to,"
	"     'title', r.title, 'source', r.source,"
	"     'list_change_id', r.list_change_id, 'lead_department_id', r.lead_department_id,"
	"     'created_at', to_char(r.created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"')) as j"
	"   from huying.item_revisions r where r.item_id = i.id"
	"   and r.revision < coalesce(($3::jsonb ->> 0)::int, 2147483647)"
	"   order by r.revision desc limit $2::int + 1) v on true"
	" where i.id = $1::bigint and i.district_id = (select auth.district()) group by i.id",
	3);

/* $3: json | mermaid | svg. A row with a NULL value: the item has no flowchart. */
static db_stmt st_flow =
	DB_STMT("items_flow",
		"select case when r.flow is null then null when $3::text = 'json' then r.flow::text"
		" when $3::text = 'mermaid' then api.flow_mermaid(r.flow) else r.flow_svg end from huying.items i"
		" cross join (select coalesce($2::date, api.today()) as at) a" REVISION_AT
		" where i.id = $1::bigint and i.district_id = (select auth.district())",
		3);

static const char *const statuses[] = {"active", "retired", NULL};

static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

void items_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", "domain", "department_id", "status", "at", "q", NULL};
	const char *v[7];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0)
		return;
	buf e = {0};
	if (v[2] && (strlen(v[2]) > 32 ||
		     strspn(v[2], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(v[2])))
		json_error_add(&e, "domain", "must be a domain code");
	if (v[3] && (strlen(v[3]) > 15 || v[3][0] == '0' || strspn(v[3], "0123456789") != strlen(v[3]) || !v[3][0]))
		json_error_add(&e, "department_id", "must be a positive integer");
	if (v[4] && strcmp(v[4], statuses[0]) != 0 && strcmp(v[4], statuses[1]) != 0)
		json_error_add(&e, "status", "must be one of: active retired");
	if (v[6] && (utf8_len(v[6]) < 1 || utf8_len(v[6]) > 50))
		json_error_add(&e, "q", "must be 1 to 50 characters");
	if (e.len) {
		http_problem(r, 422, "invalid filter", buf_str(&e));
		buf_free(&e);
		return;
	}
	if (http_date_filter_or_reply(r, "at", v[5]) < 0)
		return;
	const char *params[] = {limit, cursor, v[2], v[3], v[4], v[5], v[6]};
	http_reply_list(
		r, &st_list, &st_list_csv,
		"code,domain_code,title,description,legal_basis,lead_department_code,cooperating_department_codes,"
		"township_duty,response_limit,resolve_limit_days",
		params);
}

void items_get(http_req *r)
{
	static const char *const names[] = {"at", NULL};
	const char *v[1];
	if (http_query_or_reply(r, names, v) < 0 || http_date_filter_or_reply(r, "at", v[0]) < 0)
		return;
	const char *id = r->id_text[0];
	const char *params[] = {id, v[0]};
	http_answer(r, &st_get, params);
}

void items_versions(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", NULL};
	const char *v[2];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0)
		return;
	const char *id = r->id_text[0];
	const char *params[] = {id, limit, cursor};
	http_answer(r, &st_versions, params);
}

/* The representation the client prefers among JSON, Mermaid and SVG (first listed wins;
 * no Accept, or a wildcard, means JSON). NULL when it accepts none of them. */
static const char *flow_format(const char *accept)
{
	if (!accept || !*accept)
		return "json";
	const char *best = NULL, *at = NULL;
	static const struct {
		const char *type, *format;
	} kinds[] = {{"application/json", "json"},
		     {"text/vnd.mermaid", "mermaid"},
		     {"image/svg+xml", "svg"},
		     {"*/*", "json"},
		     {"application/*", "json"},
		     {"text/*", "mermaid"},
		     {"image/*", "svg"}};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		const char *p = strcasestr(accept, kinds[i].type);
		if (p && (!at || p < at)) {
			at = p;
			best = kinds[i].format;
		}
	}
	return best;
}

void items_flow(http_req *r)
{
	static const char *const names[] = {"at", NULL};
	const char *v[1];
	if (http_query_or_reply(r, names, v) < 0 || http_date_filter_or_reply(r, "at", v[0]) < 0)
		return;
	const char *format = flow_format(http_get_header(r, "Accept"));
	if (!format) {
		http_problem(r, 406, "the flowchart is served as application/json, text/vnd.mermaid or image/svg+xml",
			     NULL);
		return;
	}
	const char *id = r->id_text[0];
	const char *params[] = {id, v[0], format};
	db_result *res = http_db_or_reply(r, &st_flow, params);
	if (!res)
		return;
	int len = 0;
	const char *body = db_value(res, 0, 0, &len);
	if (db_rows(res) == 0) {
		http_problem(r, 404, "no such item, or not in force at that date", NULL);
	} else if (!body) {
		http_problem(r, 404, "this item has no flowchart", NULL);
	} else if (strcmp(format, "svg") == 0) {
		/* The picture is data: no scripts, no outside requests, even if opened directly. */
		http_header(r, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
		http_reply(r, 200, "image/svg+xml; charset=utf-8", body, (size_t)len);
	} else if (strcmp(format, "mermaid") == 0) {
		http_reply(r, 200, "text/vnd.mermaid; charset=utf-8", body, (size_t)len);
	} else {
		http_reply_json(r, 200, body, (size_t)len);
	}
	db_result_free(res);
}
