/* scores: satisfaction ratings (满意度评价) and the departments' assessment (三率) — DESIGN §5
 * "Satisfaction and scores". A township rates each resolved order of its calls once
 * (api.rating_create); the district office reads the league table of a period by
 * department, township or domain, and the district office or a department itself reads one
 * department's figures, by month and with the orders behind each figure. The figures come
 * from a transactional roll-up (schema/0008_scores.sql, which also holds the definitions);
 * the SQL functions that read it are SECURITY DEFINER because a department's rank depends
 * on figures it may not read, and return only what the caller may see. */
#include <limits.h>

#include "handlers.h"

/* The columns of huying.score_csv(). */
#define SCORES_CSV_HEADER                                                                                        \
	"rank,id,code,name,calls,orders,accept_counted,accepted_on_time,accepted_on_time_rate,resolve_counted," \
	"resolved_on_time,resolved_on_time_rate,ratings,satisfied,satisfaction_rate,speed_avg,effectiveness_avg," \
	"overdue,returned,notices,composite"

static db_stmt st_rate = DB_STMT("ratings_create", "select * from api.rating_create($1::bigint, $2::jsonb, $3)", 3);
static db_stmt st_rating_of_order =
	DB_STMT("ratings_of_order",
		"select api.rating_json(r)::text from huying.ratings r"
		" where r.order_id = $1::bigint and r.district_id = (select auth.district())",
		1);
/* Newest first; the keyset is the id, descending. from/to: Asia/Shanghai dates of the rating,
 * both inclusive. */
static db_stmt st_list = DB_STMT(
	"ratings_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select r.id, api.rating_json(r) as j, row_number() over (order by r.id desc) as rn"
	"   from huying.ratings r where r.district_id = (select auth.district())"
	"   and r.id < coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807)"
	"   and ($3::bigint is null or r.department_id = $3::bigint)"
	"   and ($4::bigint is null or r.township_id = $4::bigint)"
	"   and ($5::bigint is null or r.call_id = $5::bigint)"
	"   and ($6::bigint is null or r.order_id = $6::bigint)"
	"   and ($7::date is null or r.created_at >= ($7::date::timestamp at time zone 'Asia/Shanghai'))"
	"   and ($8::date is null or r.created_at < (($8::date + 1)::timestamp at time zone 'Asia/Shanghai'))"
	"   order by r.id desc limit $1::int + 1) p",
	8);

/* The period: to defaults to today, from to the first day of to's month (Asia/Shanghai). */
#define PERIOD_TO "coalesce($3::date, api.today())"
#define PERIOD_FROM "coalesce($2::date, date_trunc('month', " PERIOD_TO ")::date)"
static db_stmt st_scores =
	DB_STMT("scores", "select api.scores($1, " PERIOD_FROM ", " PERIOD_TO ")::text", 3);
static db_stmt st_scores_csv =
	DB_STMT("scores_csv", "select * from api.scores_csv($1, " PERIOD_FROM ", " PERIOD_TO ")", 3);
static db_stmt st_department = DB_STMT(
	"scores_department",
	"select api.score_department($1::bigint, " PERIOD_FROM ", " PERIOD_TO ", $4::boolean, $5::boolean)::text", 5);
static db_stmt st_department_csv =
	DB_STMT("scores_department_csv",
		"select * from api.score_department_csv($1::bigint, " PERIOD_FROM ", " PERIOD_TO ", $4::boolean)", 4);

/* {speed: 1..5, effectiveness: 1..5, comment?}: 201 with the rating, Location
 * /v1/orders/{id}/rating. */
void ratings_create(http_req *r)
{
	static const json_field fields[] = {
		{"speed", JF_INT, 1, 1, 5, NULL, NULL, NULL},
		{"effectiveness", JF_INT, 1, 1, 5, NULL, NULL, NULL},
		{"comment", JF_STRING, 0, 1, 1000, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	const char *params[] = {r->id_text[0], r->body, r->idem_key};
	http_answer(r, &st_rate, params);
}

/* The order's rating; 404 when the order has none or is not visible. */
void ratings_of_order(http_req *r)
{
	const char *params[] = {r->id_text[0]};
	http_answer(r, &st_rating_of_order, params);
}

void ratings_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor",   "department_id", "township_id",
					    "call_id", "order_id", "from",          "to",
					    NULL};
	const char *v[8];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0 ||
	    http_id_filter_or_reply(r, "department_id", v[2]) < 0 ||
	    http_id_filter_or_reply(r, "township_id", v[3]) < 0 || http_id_filter_or_reply(r, "call_id", v[4]) < 0 ||
	    http_id_filter_or_reply(r, "order_id", v[5]) < 0 || http_date_filter_or_reply(r, "from", v[6]) < 0 ||
	    http_date_filter_or_reply(r, "to", v[7]) < 0)
		return;
	const char *params[] = {limit, cursor, v[2], v[3], v[4], v[5], v[6], v[7]};
	http_answer(r, &st_list, params);
}

/* Answers a scores statement: JSON (one value) or, for Accept: text/csv, its rows. */
static void answer(http_req *r, db_stmt *json_st, db_stmt *csv_st, const char *csv_header, const char *const *params)
{
	if (!r->want_csv) {
		http_answer(r, json_st, params);
		return;
	}
	db_result *res = http_db_or_reply(r, csv_st, params);
	if (res)
		http_reply_csv(r, res, csv_header, INT_MAX);
}

/* GET /v1/scores?by=department|township|domain&from=&to= */
void scores_list(http_req *r)
{
	static const char *const names[] = {"by", "from", "to", NULL};
	static const char *const bys[] = {"department", "township", "domain", NULL};
	const char *v[3];
	if (http_query_or_reply(r, names, v) < 0 || http_enum_filter_or_reply(r, "by", v[0], bys) < 0 ||
	    http_date_filter_or_reply(r, "from", v[1]) < 0 || http_date_filter_or_reply(r, "to", v[2]) < 0)
		return;
	const char *params[] = {v[0] ? v[0] : "department", v[1], v[2]};
	answer(r, &st_scores, &st_scores_csv, SCORES_CSV_HEADER, params);
}

/* GET /v1/scores/departments/{id}?from=&to=&interval=month&explain=true */
void scores_department(http_req *r)
{
	static const char *const names[] = {"from", "to", "interval", "explain", NULL};
	static const char *const intervals[] = {"month", NULL};
	static const char *const bools[] = {"true", "false", NULL};
	const char *v[4];
	if (http_query_or_reply(r, names, v) < 0 || http_date_filter_or_reply(r, "from", v[0]) < 0 ||
	    http_date_filter_or_reply(r, "to", v[1]) < 0 || http_enum_filter_or_reply(r, "interval", v[2], intervals) < 0 ||
	    http_enum_filter_or_reply(r, "explain", v[3], bools) < 0)
		return;
	if (r->want_csv && v[3] && v[3][0] == 't') {
		http_field_problem(r, "explain", "is not available as CSV", "invalid filter");
		return;
	}
	const char *params[] = {r->id_text[0], v[0], v[1], v[2] ? "true" : "false", v[3] ? v[3] : "false"};
	answer(r, &st_department, &st_department_csv, "from,to," SCORES_CSV_HEADER, params);
}
