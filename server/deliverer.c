/* deliverer: sends the webhook outbox (DESIGN §5 "Integration and bulk work";
 * schema/0009_integration.sql). HUYING_WEBHOOK_THREADS threads in every replica each claim up
 * to HUYING_WEBHOOK_BATCH due deliveries (api.webhook_claim: FOR UPDATE SKIP LOCKED, in order
 * per call, leased for the attempt's timeout plus a margin, so another replica takes one
 * again only when its lease has run out), post each signed (sign.h) under the SSRF policy
 * (webhook_http.h, netguard.h), and record the attempt (api.webhook_done: delivered, retried
 * with backoff, or the subscription disabled on 410). A thread that found less than a full
 * batch sleeps HUYING_WEBHOOK_INTERVAL_MS. The statements run with no claims: the functions
 * are SECURITY DEFINER and serve every district. On SIGTERM the threads finish the attempt
 * in hand (bounded by its timeout) and stop; what they had claimed and not sent waits for
 * its lease and goes out from another replica, or from this one when it is back. */
#include "deliverer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "netguard.h"
#include "sign.h"
#include "webhook_http.h"

#define MAX_THREADS 16
#define LEASE_MARGIN_MS 5000

static db_stmt st_claim = DB_STMT(
	"webhook_claim",
	"select delivery_id, attempt, url, secret, event_uuid, event_type, payload from api.webhook_claim($1::int, $2::int)",
	2);
static db_stmt st_done = DB_STMT("webhook_done",
				 "select api.webhook_done($1::bigint, $2::int, to_timestamp($3::double precision / 1000),"
				 " $4::int, $5::int, $6, $7::int)",
				 7);

static pthread_t threads[MAX_THREADS];
static int nthreads;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int stopping;
static netguard_allow allow;

static atomic_ullong attempts, delivered, failed_attempts, claim_failures;

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One attempt of one claimed delivery (row i of res), and its record. */
static void attempt(const db_result *res, int i)
{
	const char *id = db_value(res, i, 0, NULL), *n = db_value(res, i, 1, NULL);
	const char *url = db_value(res, i, 2, NULL);
	int secret_len = 0, body_len = 0;
	const char *secret = db_value(res, i, 3, &secret_len);
	const char *uuid = db_value(res, i, 4, NULL), *type = db_value(res, i, 5, NULL);
	const char *body = db_value(res, i, 6, &body_len);

	long long started = now_ms();
	long long t = started / 1000;
	char sig[SIGN_HEADER_MAX];
	char h_id[96], h_type[128], h_ts[48], h_sig[SIGN_HEADER_MAX + 32];
	webhook_result out;
	if (sign_header(secret, (size_t)secret_len, t, body, (size_t)body_len, sig, sizeof sig) < 0) {
		memset(&out, 0, sizeof out);
		out.outcome = WEBHOOK_ERROR;
		snprintf(out.error, sizeof out.error, "could not sign the delivery");
	} else {
		snprintf(h_id, sizeof h_id, "Huying-Event-Id: %s", uuid);
		snprintf(h_type, sizeof h_type, "Huying-Event-Type: %s", type);
		snprintf(h_ts, sizeof h_ts, "Huying-Timestamp: %lld", t);
		snprintf(h_sig, sizeof h_sig, "Huying-Signature: %s", sig);
		const char *const headers[] = {h_id, h_type, h_ts, h_sig};
		webhook_request rq = {
			.url = url,
			.body = body,
			.body_len = (size_t)body_len,
			.headers = headers,
			.n_headers = 4,
			.timeout_ms = cfg.webhook_timeout_ms,
			.connect_timeout_ms = cfg.webhook_timeout_ms < 3000 ? cfg.webhook_timeout_ms : 3000,
			.allow = &allow,
		};
		webhook_http_post(&rq, &out);
	}
	atomic_fetch_add(&attempts, 1);
	if (out.outcome == WEBHOOK_DELIVERED)
		atomic_fetch_add(&delivered, 1);
	else
		atomic_fetch_add(&failed_attempts, 1);

	char started_s[32], dur[24], status[16], backoff[16];
	snprintf(started_s, sizeof started_s, "%lld", started);
	snprintf(dur, sizeof dur, "%ld", out.duration_ms);
	snprintf(status, sizeof status, "%d", out.status);
	snprintf(backoff, sizeof backoff, "%d", cfg.webhook_backoff_ms);
	char err[WEBHOOK_ERROR_MAX + 32];
	if (out.outcome == WEBHOOK_DELIVERED)
		err[0] = '\0';
	else if (out.error[0])
		snprintf(err, sizeof err, "%s: %s", webhook_outcome_name(out.outcome), out.error);
	else
		snprintf(err, sizeof err, "%s", webhook_outcome_name(out.outcome));
	const char *params[] = {id, n, started_s, dur, status, err[0] ? err : NULL, backoff};
	db_error e;
	db_result *r = db_run(NULL, cfg.statement_timeout_ms, &st_done, params, &e);
	if (!r)
		fprintf(stderr,
			"{\"level\":\"warn\",\"msg\":\"webhook attempt not recorded\",\"delivery\":%s,\"sqlstate\":\"%s\"}\n",
			id, e.sqlstate);
	db_result_free(r);
}

/* One claim and its attempts; returns how many were claimed, or -1. */
static int pass(void)
{
	char batch[16], lease[16];
	snprintf(batch, sizeof batch, "%d", cfg.webhook_batch);
	snprintf(lease, sizeof lease, "%d", cfg.webhook_timeout_ms + LEASE_MARGIN_MS);
	const char *params[] = {batch, lease};
	db_error e;
	db_result *res = db_run(NULL, cfg.statement_timeout_ms, &st_claim, params, &e);
	if (!res) {
		atomic_fetch_add(&claim_failures, 1);
		return -1;
	}
	int n = db_rows(res);
	for (int i = 0; i < n; i++)
		attempt(res, i);
	db_result_free(res);
	return n;
}

static void *loop(void *arg)
{
	(void)arg;
	for (;;) {
		int n = pass();
		pthread_mutex_lock(&mu);
		if (!stopping && n < cfg.webhook_batch) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			long long ns = until.tv_nsec + (long long)cfg.webhook_interval_ms * 1000000LL;
			until.tv_sec += ns / 1000000000LL;
			until.tv_nsec = ns % 1000000000LL;
			while (!stopping && pthread_cond_timedwait(&wake, &mu, &until) != ETIMEDOUT)
				;
		}
		int stop = stopping;
		pthread_mutex_unlock(&mu);
		if (stop)
			return NULL;
	}
}

int deliverer_start(void)
{
	char err[200];
	if (netguard_allow_parse(&allow, cfg.webhook_allow, err, sizeof err) < 0) {
		fprintf(stderr, "huyingd: HUYING_WEBHOOK_ALLOW: %s\n", err);
		return -1;
	}
	if (webhook_http_init() < 0) {
		fprintf(stderr, "huyingd: libcurl cannot start\n");
		return -1;
	}
	if (cfg.webhook_interval_ms == 0)
		return 0;
	int want = cfg.webhook_threads < MAX_THREADS ? cfg.webhook_threads : MAX_THREADS;
	for (nthreads = 0; nthreads < want; nthreads++) {
		if (pthread_create(&threads[nthreads], NULL, loop, NULL) != 0) {
			fprintf(stderr, "huyingd: cannot start the webhook deliverer\n");
			return -1;
		}
	}
	return 0;
}

void deliverer_stop(void)
{
	pthread_mutex_lock(&mu);
	stopping = 1;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	nthreads = 0;
	netguard_allow_free(&allow);
}

const netguard_allow *deliverer_allow(void)
{
	return &allow;
}

void deliverer_metrics(buf *out)
{
	buf_printf(out,
		   "# HELP huying_webhook_attempts_total Webhook delivery attempts made by this replica.\n"
		   "# TYPE huying_webhook_attempts_total counter\nhuying_webhook_attempts_total %llu\n"
		   "# HELP huying_webhook_delivered_total Attempts answered 2xx.\n"
		   "# TYPE huying_webhook_delivered_total counter\nhuying_webhook_delivered_total %llu\n"
		   "# HELP huying_webhook_failed_attempts_total Attempts that failed (status, timeout, refused, ...).\n"
		   "# TYPE huying_webhook_failed_attempts_total counter\nhuying_webhook_failed_attempts_total %llu\n"
		   "# HELP huying_webhook_claim_failures_total Claims that could not reach the database.\n"
		   "# TYPE huying_webhook_claim_failures_total counter\nhuying_webhook_claim_failures_total %llu\n",
		   (unsigned long long)atomic_load(&attempts), (unsigned long long)atomic_load(&delivered),
		   (unsigned long long)atomic_load(&failed_attempts), (unsigned long long)atomic_load(&claim_failures));
}
