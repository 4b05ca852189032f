/* db: the PostgreSQL side. The only module that includes libpq-fe.h.
 *
 * HTTP threads outnumber connections (DESIGN §3), so connections live in a small pool with
 * exclusive checkout, held for one request's round trip only. A request is one pipeline:
 * [prepare what this connection has not prepared yet] + auth.begin(claims, timeout) + the
 * request's statement + Sync, i.e. one round trip and one implicit transaction. Connections
 * open lazily, and a connection that broke is dropped and reopened (and its statements
 * re-prepared) by the next request that needs it. */
#ifndef HUYING_DB_H
#define HUYING_DB_H

#include <stddef.h>

/* A prepared statement. Declare each one once, statically, next to its handler:
 *   static db_stmt st_units_get = DB_STMT("units_get", "select ...", 1);
 * The id is assigned on first use and indexes each connection's prepared set. */
typedef struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
	int id; /* 0 until first use; then fixed */
} db_stmt;
#define DB_STMT(name, sql, n)                                                                                          \
	{                                                                                                              \
		name, sql, n, 0                                                                                        \
	}
#define DB_MAX_STMTS 256

/* The JSON list envelope {data, next_cursor}, one shape for every list ordered by a text
 * key k ascending (select_k_j selects k and j, the row's JSON): the page is fetched with one row more
 * than asked, and that extra row only says whether a next cursor is due. */
#define DB_LIST_JSON(select_k_j)                                                                                       \
	"select json_build_object("                                                                                    \
	"'data', coalesce(json_agg(j order by k) filter (where rn <= $1::int), '[]'),"                                 \
	"'next_cursor', case when count(*) > $1::int"                                                                  \
	" then api.cursor(jsonb_build_array((array_agg(k order by k))[$1::int])) end)::text"                           \
	" from (select p.*, row_number() over (order by k) as rn from (" select_k_j                                    \
	" order by k limit $1::int + 1) p) q"

typedef struct db_result db_result;

typedef enum {
	DB_OK = 0,
	DB_E_BUSY,        /* no free connection within HUYING_DB_WAIT_MS */
	DB_E_UNAVAILABLE, /* cannot connect, or the connection broke */
	DB_E_SQL,         /* the statement failed: see sqlstate, message, detail */
} db_status;

typedef struct db_error {
	db_status status;
	char sqlstate[6];
	char message[512];
	char detail[2048];
	int auth_failed; /* the failure came from auth.begin (the token's unit), not the statement */
} db_error;

/* Creates the pool (no connection is opened yet). Returns 0 or -1. */
int db_init(const char *url, int size, int wait_ms, int statement_timeout_ms);
/* Closes every connection; call after the HTTP threads have stopped. */
void db_shutdown(void);

/* Runs st with params (text; NULL entries are SQL NULL) under claims_json (NULL: no claims,
 * for unauthenticated routes) with statement_timeout timeout_ms, in one round trip. Returns
 * a result to free with db_result_free(), or NULL with *err filled. */
db_result *db_run(const char *claims_json, int timeout_ms, db_stmt *st, const char *const *params, db_error *err);

int db_rows(const db_result *r);
int db_cols(const db_result *r);
/* Value at (row, col): NULL for SQL NULL; *len gets the byte length when len is not NULL. */
const char *db_value(const db_result *r, int row, int col, int *len);
void db_result_free(db_result *r);

/* A transaction over several round trips, for the few requests that need one (bulk
 * imports stream their rows with COPY; enacting a change renders flowcharts between two
 * statements). It holds one pooled connection from begin to end. */
typedef struct db_session db_session;

/* Checks out a connection, BEGINs, and runs auth.begin(claims, timeout). NULL with *err on
 * failure (an auth.begin refusal sets err->auth_failed). */
db_session *db_session_begin(const char *claims_json, int timeout_ms, db_error *err);
/* Runs a prepared statement inside the session. NULL with *err on failure (the transaction
 * is then aborted: end it with commit = 0). */
db_result *db_session_exec(db_session *s, db_stmt *st, const char *const *params, db_error *err);
/* COPY ... FROM STDIN: start, feed (any chunking), finish. Each returns 0 or -1 with *err. */
int db_session_copy_begin(db_session *s, const char *copy_sql, db_error *err);
int db_session_copy_put(db_session *s, const char *data, size_t len, db_error *err);
int db_session_copy_end(db_session *s, const char *abort_reason, db_error *err);
/* COMMITs (commit = 1) or ROLLs BACK, and returns the connection to the pool. Returns 0, or
 * -1 with *err when the COMMIT failed (nothing was written then). s is freed either way. */
int db_session_end(db_session *s, int commit, db_error *err);

/* Pool figures for /metrics. */
typedef struct db_stats {
	int size, open, in_use, waiting;
	unsigned long long checkouts, wait_timeouts, connects, connect_failures;
} db_stats;
void db_get_stats(db_stats *s);

/* A single direct connection for the command-line tools (migrate, district add, token),
 * outside the pool. db_direct_exec runs sql with params (no pipeline, no claims). */
typedef struct db_direct db_direct;
db_direct *db_direct_open(const char *url, char *err, size_t errlen);
db_result *db_direct_exec(db_direct *c, const char *sql, int nparams, const char *const *params, db_error *err);
void db_direct_close(db_direct *c);

#endif
