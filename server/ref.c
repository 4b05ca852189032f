/* ref: reference data of a district: domains, units, grids (DESIGN §5 "Reference data").
 * Every role of the district reads them; the district office adds units. Lists are ordered
 * by code (what a clerk scans for) with the code as the keyset. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"

static db_stmt st_domains = DB_STMT(
	"domains_list",
	DB_LIST_JSON(
		"select d.code as k, json_build_object('id', d.id, 'code', d.code, 'name', d.name, 'name_en', d.name_en) as j"
		" from huying.domains d where d.district_id = (select auth.district())"
		" and d.code > coalesce($2::jsonb ->> 0, '')"),
	2);
static db_stmt st_domains_csv =
	DB_STMT("domains_csv",
		"select concat_ws(',', api.csv_cell(d.code), api.csv_cell(d.name), api.csv_cell(d.name_en)),"
		" api.cursor(jsonb_build_array(d.code))"
		" from huying.domains d where d.district_id = (select auth.district())"
		" and d.code > coalesce($2::jsonb ->> 0, '') order by d.code limit $1::int + 1",
		2);

static db_stmt st_units = DB_STMT(
	"units_list",
	DB_LIST_JSON("select u.code as k, api.unit_json(u) as j from huying.units u"
		     " where u.district_id = (select auth.district()) and u.code > coalesce($2::jsonb ->> 0, '')"
		     " and ($3::text is null or u.kind = $3::text)"),
	3);
static db_stmt st_units_csv =
	DB_STMT("units_csv",
		"select concat_ws(',', api.csv_cell(u.code), api.csv_cell(u.kind), api.csv_cell(u.name),"
		" api.csv_cell(p.code), api.csv_cell(u.phone)), api.cursor(jsonb_build_array(u.code))"
		" from huying.units u left join huying.units p on p.id = u.parent_id"
		" where u.district_id = (select auth.district()) and u.code > coalesce($2::jsonb ->> 0, '')"
		" and ($3::text is null or u.kind = $3::text) order by u.code limit $1::int + 1",
		3);
static db_stmt st_unit_get = DB_STMT("units_get",
				     "select '\"' || u.version || '\"', api.unit_json(u)::text from huying.units u"
				     " where u.id = $1::bigint and u.district_id = (select auth.district())",
				     1);
static db_stmt st_unit_create = DB_STMT("units_create", "select * from api.unit_create($1::jsonb, $2)", 2);

static db_stmt st_grids = DB_STMT(
	"grids_list",
	DB_LIST_JSON(
		"select g.code as k, json_build_object('id', g.id, 'code', g.code, 'level', g.level, 'name', g.name,"
		" 'parent_id', g.parent_id, 'township_id', g.township_id) as j from huying.grids g"
		" where g.district_id = (select auth.district()) and g.code > coalesce($2::jsonb ->> 0, '')"
		" and ($3::bigint is null or g.parent_id = $3::bigint) and ($4::text is null or g.level = $4::text)"),
	4);
static db_stmt st_grids_csv = DB_STMT(
	"grids_csv",
	"select concat_ws(',', api.csv_cell(g.code), api.csv_cell(g.level), api.csv_cell(g.name),"
	" api.csv_cell(coalesce(p.code, t.code))), api.cursor(jsonb_build_array(g.code))"
	" from huying.grids g left join huying.grids p on p.id = g.parent_id join huying.units t on t.id = g.township_id"
	" where g.district_id = (select auth.district()) and g.code > coalesce($2::jsonb ->> 0, '')"
	" and ($3::bigint is null or g.parent_id = $3::bigint) and ($4::text is null or g.level = $4::text)"
	" order by g.code limit $1::int + 1",
	4);

static const char *const unit_kinds[] = {"township", "department", "district_office", NULL};
static const char *const grid_levels[] = {"township", "village", "grid", NULL};

void ref_domains_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", NULL};
	const char *v[2];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0)
		return;
	const char *params[] = {limit, cursor};
	http_reply_list(r, &st_domains, &st_domains_csv, "code,name,name_en", params);
}

void ref_units_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", "kind", NULL};
	const char *v[3];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0 ||
	    http_enum_filter_or_reply(r, "kind", v[2], unit_kinds) < 0)
		return;
	const char *params[] = {limit, cursor, v[2]};
	http_reply_list(r, &st_units, &st_units_csv, "code,kind,name,parent_code,phone", params);
}

void ref_units_get(http_req *r)
{
	const char *id = r->id_text[0];
	const char *params[] = {id};
	http_answer(r, &st_unit_get, params);
}


void ref_units_create(http_req *r)
{
	static const char *const creatable_kinds[] = {"township", "department", NULL};
	static const json_field fields[] = {
		JF_CODE("code", 1),
		{"kind", JF_ENUM, 1, 0, 0, creatable_kinds, NULL, NULL},
		{"name", JF_STRING, 1, 1, 100, NULL, NULL, NULL},
		{"parent_id", JF_INT, 0, 1, 9007199254740991LL, NULL, NULL, NULL},
		JF_CODE("parent_code", 0),
		{"phone", JF_STRING, 0, 1, 32, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	if (json_member_type(r->json, "parent_id") == JT_NUMBER &&
	    json_member_type(r->json, "parent_code") == JT_STRING) {
		http_field_problem(r, "parent_code", "give parent_id or parent_code, not both",
				   "the body has invalid fields");
		return;
	}
	const char *params[] = {r->body, r->idem_key};
	http_answer(r, &st_unit_create, params);
}

void ref_grids_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", "parent_id", "level", NULL};
	const char *v[4];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0 ||
	    http_id_filter_or_reply(r, "parent_id", v[2]) < 0 ||
	    http_enum_filter_or_reply(r, "level", v[3], grid_levels) < 0)
		return;
	const char *params[] = {limit, cursor, v[2], v[3]};
	http_reply_list(r, &st_grids, &st_grids_csv, "code,level,name,parent_code", params);
}
