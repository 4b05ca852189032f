#include "db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A db_result is a PGresult; the cast keeps libpq's type out of the header. */
#define PGR(r) ((PGresult *)(r))

typedef struct slot {
	PGconn *conn;
	int in_use;
	struct timespec failed_at; /* last failed connect: do not retry within RECONNECT_MS */
	unsigned char prepared[DB_MAX_STMTS];
} slot;

#define RECONNECT_MS 250

static struct {
	pthread_mutex_t mu;
	slot *slots;
	int size;
	int wait_ms;
	char *url;
	int in_use, waiting;
	char session_sql[256];
	unsigned long long checkouts, wait_timeouts, connects, connect_failures;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

static atomic_int next_stmt_id = 1;

static db_stmt st_begin = DB_STMT("auth_begin", "select auth.begin($1, $2)", 2);

static int stmt_id(db_stmt *st)
{
	int id = __atomic_load_n(&st->id, __ATOMIC_ACQUIRE);
	if (id)
		return id;
	int fresh = atomic_fetch_add(&next_stmt_id, 1);
	int expected = 0;
	if (__atomic_compare_exchange_n(&st->id, &expected, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return fresh;
	return expected; /* another thread won; the spare id is simply unused */
}

int db_init(const char *url, int size, int wait_ms, int statement_timeout_ms)
{
	snprintf(pool.session_sql, sizeof pool.session_sql,
		 "set plan_cache_mode = force_generic_plan;"
		 "set jit = off;" /* generic list plans pass the JIT cost threshold: 0.3–1 s of compiling per request */
		 "set idle_in_transaction_session_timeout = '10s';"
		 /* a daemon killed mid-request: its backend notices within 250 ms and rolls the
		  * statement back, instead of running on and committing at the pipeline's Sync */
		 "set client_connection_check_interval = 250;"
		 "set statement_timeout = %d;"
		 "set application_name = 'huyingd'",
		 statement_timeout_ms);
	pool.slots = calloc((size_t)size, sizeof *pool.slots);
	pool.url = strdup(url);
	if (!pool.slots || !pool.url)
		return -1;
	pool.size = size;
	pool.wait_ms = wait_ms;
	return 0;
}

void db_shutdown(void)
{
	for (int i = 0; i < pool.size; i++)
		if (pool.slots[i].conn)
			PQfinish(pool.slots[i].conn);
	free(pool.slots);
	free(pool.url);
	pool.slots = NULL;
	pool.size = 0;
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* A request waiting for a connection. Waiters queue in arrival order and release() hands
 * a connection straight to the oldest one, so that a thread arriving just after a release
 * cannot take the connection from under a waiter (that made the p99 a hundred times the
 * p50: bench/README.md). */
typedef struct waiter {
	pthread_cond_t cv;
	slot *given;
	struct waiter *next;
} waiter;

static waiter *queue_head, *queue_tail;

static void unqueue(waiter *w)
{
	waiter **pp = &queue_head, *prev = NULL;
	while (*pp && *pp != w) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = w->next;
	if (queue_tail == w)
		queue_tail = prev;
}

/* Takes a free slot, waiting up to wait_ms. Prefers a slot that is already connected. */
static slot *acquire(void)
{
	pthread_mutex_lock(&pool.mu);
	slot *s = NULL;
	if (!queue_head) {
		slot *idle = NULL;
		for (int i = 0; i < pool.size && !s; i++) {
			if (pool.slots[i].in_use)
				continue;
			if (pool.slots[i].conn)
				s = &pool.slots[i];
			else if (!idle)
				idle = &pool.slots[i];
		}
		if (!s)
			s = idle;
	}
	if (!s) {
		struct timespec deadline;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += pool.wait_ms / 1000;
		deadline.tv_nsec += (long)(pool.wait_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		waiter w = {.given = NULL, .next = NULL};
		pthread_cond_init(&w.cv, NULL);
		if (queue_tail)
			queue_tail->next = &w;
		else
			queue_head = &w;
		queue_tail = &w;
		pool.waiting++;
		while (!w.given) {
			if (pthread_cond_timedwait(&w.cv, &pool.mu, &deadline) == ETIMEDOUT && !w.given) {
				unqueue(&w);
				pool.wait_timeouts++;
				break;
			}
		}
		pool.waiting--;
		pthread_cond_destroy(&w.cv);
		if (w.given) {
			pool.checkouts++;
			pthread_mutex_unlock(&pool.mu);
			return w.given; /* still marked in use: handed over by release() */
		}
	}
	if (s) {
		s->in_use = 1;
		pool.in_use++;
		pool.checkouts++;
	}
	pthread_mutex_unlock(&pool.mu);
	return s;
}

static void release(slot *s)
{
	pthread_mutex_lock(&pool.mu);
	waiter *w = queue_head;
	if (w) {
		queue_head = w->next;
		if (!queue_head)
			queue_tail = NULL;
		w->given = s;
		pthread_cond_signal(&w->cv);
	} else {
		s->in_use = 0;
		pool.in_use--;
	}
	pthread_mutex_unlock(&pool.mu);
}

static void drop(slot *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
	memset(s->prepared, 0, sizeof s->prepared);
}

static void set_error(db_error *e, db_status st, const char *sqlstate, const char *msg, const char *detail)
{
	e->status = st;
	snprintf(e->sqlstate, sizeof e->sqlstate, "%s", sqlstate ? sqlstate : "");
	snprintf(e->message, sizeof e->message, "%s", msg ? msg : "");
	snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
}

/* Session settings of every pooled connection (pool.session_sql, set by db_init): generic
 * plans for the list queries (DESIGN §3); no transaction may sit idle holding locks; and the
 * request's statement_timeout as the default, so that auth.begin() itself, which sets the
 * timeout of the statements after it, cannot wait on a lock for ever. */
static int ensure_connected(slot *s, db_error *err)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	drop(s);
	if (s->failed_at.tv_sec && ms_since(&s->failed_at) < RECONNECT_MS) {
		set_error(err, DB_E_UNAVAILABLE, NULL, "the database is unavailable", NULL);
		return -1;
	}
	PGconn *c = PQconnectdb(pool.url);
	__atomic_add_fetch(&pool.connects, 1, __ATOMIC_RELAXED);
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, pool.session_sql);
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (ok) {
			s->conn = c;
			s->failed_at.tv_sec = 0;
			return 0;
		}
	}
	fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"database connect failed\",\"error\":\"%.*s\"}\n",
		(int)strcspn(PQerrorMessage(c), "\"\n\\"), PQerrorMessage(c));
	PQfinish(c);
	__atomic_add_fetch(&pool.connect_failures, 1, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_MONOTONIC, &s->failed_at);
	set_error(err, DB_E_UNAVAILABLE, NULL, "the database is unavailable", NULL);
	return -1;
}

/* Takes the next result of the pipeline, or NULL when the connection broke. */
static PGresult *next_result(PGconn *c)
{
	PGresult *r = PQgetResult(c);
	if (!r && PQstatus(c) != CONNECTION_OK)
		return NULL;
	return r;
}

static void keep_first_error(db_error *err, PGresult *r, int from_begin)
{
	if (err->status != DB_OK)
		return;
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	set_error(err, state ? DB_E_SQL : DB_E_UNAVAILABLE, state, PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
		  PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL));
	err->auth_failed = from_begin;
}

/* Sends the pipeline and collects its results. Returns the statement's result (tuples) or
 * NULL with *err set. On a broken connection the slot is dropped. */
static PGresult *run_pipeline(slot *s, const char *claims, int timeout_ms, db_stmt *st, const char *const *params,
			      db_error *err)
{
	PGconn *c = s->conn;
	int sid = stmt_id(st), bid = stmt_id(&st_begin);
	if (sid >= DB_MAX_STMTS || bid >= DB_MAX_STMTS) {
		set_error(err, DB_E_SQL, "XX000", "too many distinct statements", NULL);
		return NULL;
	}
	enum { PREP_BEGIN, PREP_STMT, EXEC_BEGIN, EXEC_STMT };
	int sent[4], nsent = 0;
	char timeout[16];
	snprintf(timeout, sizeof timeout, "%d", timeout_ms);
	const char *bparams[2] = {claims, timeout};
	PGresult *out = NULL;

	if (!PQenterPipelineMode(c))
		goto broken;
	if (claims && !s->prepared[bid]) {
		if (!PQsendPrepare(c, st_begin.name, st_begin.sql, st_begin.nparams, NULL))
			goto broken;
		sent[nsent++] = PREP_BEGIN;
	}
	if (!s->prepared[sid]) {
		if (!PQsendPrepare(c, st->name, st->sql, st->nparams, NULL))
			goto broken;
		sent[nsent++] = PREP_STMT;
	}
	if (claims) {
		if (!PQsendQueryPrepared(c, st_begin.name, 2, bparams, NULL, NULL, 0))
			goto broken;
		sent[nsent++] = EXEC_BEGIN;
	}
	if (!PQsendQueryPrepared(c, st->name, st->nparams, params, NULL, NULL, 0))
		goto broken;
	sent[nsent++] = EXEC_STMT;
	if (!PQpipelineSync(c))
		goto broken;

	err->status = DB_OK;
	for (int i = 0; i < nsent; i++) {
		PGresult *r = next_result(c);
		if (!r)
			goto broken_out;
		ExecStatusType rs = PQresultStatus(r);
		if (rs == PGRES_FATAL_ERROR) {
			keep_first_error(err, r, sent[i] == EXEC_BEGIN || sent[i] == PREP_BEGIN);
		} else if (sent[i] == PREP_BEGIN && rs == PGRES_COMMAND_OK) {
			s->prepared[bid] = 1;
		} else if (sent[i] == PREP_STMT && rs == PGRES_COMMAND_OK) {
			s->prepared[sid] = 1;
		}
		if (sent[i] == EXEC_STMT && rs == PGRES_TUPLES_OK)
			out = r;
		else
			PQclear(r);
		/* Each command's results end with a NULL. */
		while ((r = PQgetResult(c)) != NULL)
			PQclear(r);
		if (PQstatus(c) != CONNECTION_OK)
			goto broken_out;
	}
	PGresult *sync = next_result(c);
	if (!sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
		PQclear(sync);
		goto broken_out;
	}
	PQclear(sync);
	if (!PQexitPipelineMode(c))
		goto broken_out;
	if (err->status != DB_OK || !out) {
		if (err->status == DB_OK)
			set_error(err, DB_E_SQL, "XX000", "the statement returned no rows description", NULL);
		PQclear(out);
		if (err->status == DB_E_UNAVAILABLE)
			drop(s);
		return NULL;
	}
	return out;

broken_out:
	PQclear(out);
broken:
	set_error(err, DB_E_UNAVAILABLE, NULL, "the database connection was lost", NULL);
	drop(s);
	return NULL;
}

db_result *db_run(const char *claims_json, int timeout_ms, db_stmt *st, const char *const *params, db_error *err)
{
	memset(err, 0, sizeof *err);
	slot *s = acquire();
	if (!s) {
		set_error(err, DB_E_BUSY, NULL, "all database connections are busy", NULL);
		return NULL;
	}
	PGresult *r = NULL;
	if (ensure_connected(s, err) == 0) {
		r = run_pipeline(s, claims_json, timeout_ms, st, params, err);
		/* A statement this connection believed prepared is gone (DISCARD, a pooler in
		 * between): forget them all and try once more, which prepares again. */
		if (!r && s->conn && strcmp(err->sqlstate, "26000") == 0) {
			memset(s->prepared, 0, sizeof s->prepared);
			memset(err, 0, sizeof *err);
			r = run_pipeline(s, claims_json, timeout_ms, st, params, err);
		}
		/* A connection must go back clean: never in a transaction or pipeline. */
		if (s->conn &&
		    (PQtransactionStatus(s->conn) != PQTRANS_IDLE || PQpipelineStatus(s->conn) != PQ_PIPELINE_OFF))
			drop(s);
	}
	release(s);
	return (db_result *)r;
}

struct db_session {
	slot *slot;
	int failed;
};

/* Runs a simple command (BEGIN, COMMIT, ROLLBACK) on the session's connection. */
static int session_command(db_session *s, const char *sql, db_error *err)
{
	PGresult *r = PQexec(s->slot->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK;
	if (!ok) {
		keep_first_error(err, r, 0);
		if (err->status == DB_OK)
			set_error(err, DB_E_UNAVAILABLE, NULL, "the database connection was lost", NULL);
	}
	PQclear(r);
	return ok ? 0 : -1;
}

static db_result *session_prepared(db_session *s, db_stmt *st, const char *const *params, db_error *err)
{
	PGconn *c = s->slot->conn;
	int id = stmt_id(st);
	if (id >= DB_MAX_STMTS) {
		set_error(err, DB_E_SQL, "XX000", "too many distinct statements", NULL);
		return NULL;
	}
	if (!s->slot->prepared[id]) {
		PGresult *p = PQprepare(c, st->name, st->sql, st->nparams, NULL);
		int ok = PQresultStatus(p) == PGRES_COMMAND_OK;
		if (!ok)
			keep_first_error(err, p, 0);
		PQclear(p);
		if (!ok) {
			s->failed = 1;
			return NULL;
		}
		s->slot->prepared[id] = 1;
	}
	PGresult *r = PQexecPrepared(c, st->name, st->nparams, params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		return (db_result *)r;
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		/* a statement without rows: callers want a result all the same */
		return (db_result *)r;
	}
	keep_first_error(err, r, st == &st_begin);
	if (err->status == DB_OK)
		set_error(err, DB_E_UNAVAILABLE, NULL, "the database connection was lost", NULL);
	PQclear(r);
	s->failed = 1;
	return NULL;
}

db_session *db_session_begin(const char *claims_json, int timeout_ms, db_error *err)
{
	memset(err, 0, sizeof *err);
	db_session *s = calloc(1, sizeof *s);
	if (!s) {
		set_error(err, DB_E_UNAVAILABLE, NULL, "out of memory", NULL);
		return NULL;
	}
	s->slot = acquire();
	if (!s->slot) {
		free(s);
		set_error(err, DB_E_BUSY, NULL, "all database connections are busy", NULL);
		return NULL;
	}
	char timeout[16];
	snprintf(timeout, sizeof timeout, "%d", timeout_ms);
	const char *params[] = {claims_json, timeout};
	db_result *r = NULL;
	if (ensure_connected(s->slot, err) == 0 && session_command(s, "begin", err) == 0)
		r = session_prepared(s, &st_begin, params, err);
	if (!r) {
		db_error ignored;
		memset(&ignored, 0, sizeof ignored);
		db_session_end(s, 0, &ignored);
		return NULL;
	}
	PQclear(PGR(r));
	return s;
}

db_result *db_session_exec(db_session *s, db_stmt *st, const char *const *params, db_error *err)
{
	memset(err, 0, sizeof *err);
	if (s->failed) {
		set_error(err, DB_E_SQL, "25P02", "the transaction was aborted earlier", NULL);
		return NULL;
	}
	return session_prepared(s, st, params, err);
}

int db_session_copy_begin(db_session *s, const char *copy_sql, db_error *err)
{
	memset(err, 0, sizeof *err);
	PGresult *r = PQexec(s->slot->conn, copy_sql);
	int ok = PQresultStatus(r) == PGRES_COPY_IN;
	if (!ok) {
		keep_first_error(err, r, 0);
		s->failed = 1;
	}
	PQclear(r);
	return ok ? 0 : -1;
}

int db_session_copy_put(db_session *s, const char *data, size_t len, db_error *err)
{
	if (PQputCopyData(s->slot->conn, data, (int)len) == 1)
		return 0;
	set_error(err, DB_E_UNAVAILABLE, NULL, "the database connection was lost", NULL);
	s->failed = 1;
	return -1;
}

int db_session_copy_end(db_session *s, const char *abort_reason, db_error *err)
{
	memset(err, 0, sizeof *err);
	if (PQputCopyEnd(s->slot->conn, abort_reason) != 1) {
		set_error(err, DB_E_UNAVAILABLE, NULL, "the database connection was lost", NULL);
		s->failed = 1;
		return -1;
	}
	PGresult *r;
	int ok = 1;
	while ((r = PQgetResult(s->slot->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			keep_first_error(err, r, 0);
			ok = 0;
		}
		PQclear(r);
	}
	if (!ok || abort_reason)
		s->failed = 1;
	return ok ? 0 : -1;
}

int db_session_end(db_session *s, int commit, db_error *err)
{
	int rc = 0;
	slot *sl = s->slot;
	if (sl->conn && PQstatus(sl->conn) == CONNECTION_OK) {
		if (commit && !s->failed) {
			rc = session_command(s, "commit", err);
		} else {
			db_error ignored;
			memset(&ignored, 0, sizeof ignored);
			session_command(s, "rollback", &ignored);
		}
		if (PQtransactionStatus(sl->conn) != PQTRANS_IDLE)
			drop(sl);
	} else {
		drop(sl);
		if (commit) {
			set_error(err, DB_E_UNAVAILABLE, NULL, "the database connection was lost", NULL);
			rc = -1;
		}
	}
	release(sl);
	free(s);
	return rc;
}

int db_rows(const db_result *r)
{
	return PQntuples((const PGresult *)r);
}

int db_cols(const db_result *r)
{
	return PQnfields((const PGresult *)r);
}

const char *db_value(const db_result *r, int row, int col, int *len)
{
	const PGresult *p = (const PGresult *)r;
	if (row >= PQntuples(p) || col >= PQnfields(p) || PQgetisnull(p, row, col)) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = PQgetlength(p, row, col);
	return PQgetvalue(p, row, col);
}

void db_result_free(db_result *r)
{
	PQclear(PGR(r));
}

void db_get_stats(db_stats *st)
{
	pthread_mutex_lock(&pool.mu);
	st->size = pool.size;
	st->in_use = pool.in_use;
	st->waiting = pool.waiting;
	st->open = 0;
	for (int i = 0; i < pool.size; i++)
		st->open += pool.slots[i].conn != NULL;
	st->checkouts = pool.checkouts;
	st->wait_timeouts = pool.wait_timeouts;
	pthread_mutex_unlock(&pool.mu);
	st->connects = __atomic_load_n(&pool.connects, __ATOMIC_RELAXED);
	st->connect_failures = __atomic_load_n(&pool.connect_failures, __ATOMIC_RELAXED);
}

struct db_direct {
	PGconn *conn;
};

/* The tools print their own outcome; PostgreSQL's NOTICEs ("already exists, skipping") are noise. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

db_direct *db_direct_open(const char *url, char *err, size_t errlen)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "%s", PQerrorMessage(c));
		err[strcspn(err, "\n")] = '\0';
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	db_direct *d = malloc(sizeof *d);
	if (!d) {
		PQfinish(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->conn = c;
	return d;
}

db_result *db_direct_exec(db_direct *c, const char *sql, int nparams, const char *const *params, db_error *err)
{
	memset(err, 0, sizeof *err);
	PGresult *r = nparams ? PQexecParams(c->conn, sql, nparams, NULL, params, NULL, NULL, 0) : PQexec(c->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return (db_result *)r;
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	set_error(err, state ? DB_E_SQL : DB_E_UNAVAILABLE, state,
		  r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(c->conn),
		  r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL);
	if (!err->message[0])
		snprintf(err->message, sizeof err->message, "%s", PQerrorMessage(c->conn));
	PQclear(r);
	return NULL;
}

void db_direct_close(db_direct *c)
{
	if (!c)
		return;
	PQfinish(c->conn);
	free(c);
}
