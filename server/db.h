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
#define DB_STMT(name, sql, n) {name, sql, n, 0}
#define DB_MAX_STMTS 256

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
int db_init(const char *url, int size, int wait_ms);
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
