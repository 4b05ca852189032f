/* Unit tests for server/webhook_http.c: one delivery attempt against listeners that run in
 * this process, on 127.0.0.1 only. No test names a target outside 127.0.0.0/8 or ::1
 * (::ffff:127.0.0.1 and the decimal 2130706433 below are spellings of 127.0.0.1), and the
 * proxy variables point at a loopback listener too, which must see nothing.
 *
 * A listener counts the connections it accepts. When a test says "the listener sees no
 * connection", the kernel would have completed any TCP handshake into the listen queue
 * before accept(2), so a connection that libcurl made, even one closed at once, would be
 * counted: the listener is polled once more after the attempt before it is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netguard.h"
#include "sign.h"
#include "webhook_http.h"

/* ---- a scripted HTTP listener on 127.0.0.1 ------------------------------------------ */

typedef enum mode {
	ANSWER,   /* answer `status` with body "ok" (and `location` when set) */
	HANG,     /* read the request, answer nothing, keep the connection open */
	BIG_BODY, /* answer 200 with a 1 MiB body */
} mode;

typedef struct listener {
	int fd;
	int port;
	mode mode;
	int status;
	char location[128];
	pthread_t thread;
	atomic_int connections;
	atomic_int stop;
	int held[8]; /* connections kept open by HANG */
	int n_held;
	pthread_mutex_t mu;
	char req[70000]; /* the last request, head and body */
	size_t req_len;
	size_t head_len; /* bytes of req up to and including the blank line */
} listener;

/* Reads one request from fd into l->req (head, then Content-Length bytes of body). */
static void read_request(listener *l, int fd)
{
	char buf[70000];
	size_t len = 0, head = 0, want = SIZE_MAX;
	while (len < sizeof buf && len < want) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 2000) <= 0)
			break;
		ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (!head) {
			char *end = memmem(buf, len, "\r\n\r\n", 4);
			if (!end)
				continue;
			head = (size_t)(end + 4 - buf);
			size_t cl = 0;
			for (char *p2 = buf; p2 < end; p2 = strstr(p2, "\r\n") + 2)
				if (strncasecmp(p2, "Content-Length:", 15) == 0)
					cl = strtoul(p2 + 15, NULL, 10);
			want = head + cl;
		}
	}
	pthread_mutex_lock(&l->mu);
	memcpy(l->req, buf, len);
	l->req_len = len;
	l->head_len = head;
	pthread_mutex_unlock(&l->mu);
}

static void answer(listener *l, int fd)
{
	char out[512];
	if (l->mode == BIG_BODY) {
		int n = snprintf(out, sizeof out,
				 "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n");
		send(fd, out, (size_t)n, MSG_NOSIGNAL);
		static char chunk[16384];
		memset(chunk, 'x', sizeof chunk);
		for (int i = 0; i < 64; i++)
			if (send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) < 0)
				break; /* the client hung up, as it should */
		return;
	}
	char loc[200] = "";
	if (l->location[0])
		snprintf(loc, sizeof loc, "Location: %s\r\n", l->location);
	int n = snprintf(out, sizeof out, "HTTP/1.1 %d Whatever\r\n%sContent-Length: 2\r\nConnection: close\r\n\r\nok",
			 l->status, loc);
	send(fd, out, (size_t)n, MSG_NOSIGNAL);
}

static void *listener_main(void *arg)
{
	listener *l = arg;
	while (!atomic_load(&l->stop)) {
		struct pollfd p = {.fd = l->fd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		int c = accept(l->fd, NULL, NULL);
		if (c < 0)
			continue;
		atomic_fetch_add(&l->connections, 1);
		read_request(l, c);
		if (l->mode == HANG && l->n_held < 8) {
			l->held[l->n_held++] = c;
			continue;
		}
		answer(l, c);
		shutdown(c, SHUT_WR);
		close(c);
	}
	return NULL;
}

static void listener_start(listener *l, mode m, int status)
{
	memset(l, 0, sizeof *l);
	l->mode = m;
	l->status = status;
	pthread_mutex_init(&l->mu, NULL);
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l->fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(l->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(l->fd, 16), 0);
	socklen_t len = sizeof a;
	assert_int_equal(getsockname(l->fd, (struct sockaddr *)&a, &len), 0);
	l->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&l->thread, NULL, listener_main, l), 0);
}

/* The connections the listener accepted, after giving a late one time to arrive. */
static int listener_connections(listener *l)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	return atomic_load(&l->connections);
}

static void listener_stop(listener *l)
{
	atomic_store(&l->stop, 1);
	pthread_join(l->thread, NULL);
	for (int i = 0; i < l->n_held; i++)
		close(l->held[i]);
	close(l->fd);
	pthread_mutex_destroy(&l->mu);
}

/* A port on 127.0.0.1 with nothing listening. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- helpers ------------------------------------------------------------------------- */

static const char body[] = "{\"id\":\"0b6a3f8e-8d7c-4b8e-9a51-2b7f1c9d0e42\",\"type\":\"call.dispatched\","
			   "\"call\":{\"title\":\"路灯不亮\"}}";

typedef struct fixture {
	netguard_allow allow;
	char url[256];
	webhook_request rq;
	webhook_result res;
} fixture;

static void allow(fixture *f, const char *fmt, ...)
{
	char list[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(list, sizeof list, fmt, ap);
	va_end(ap);
	netguard_allow_free(&f->allow);
	assert_int_equal(netguard_allow_parse(&f->allow, list, NULL, 0), 0);
}

static void target(fixture *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->url, sizeof f->url, fmt, ap);
	va_end(ap);
	f->rq = (webhook_request){
		.url = f->url,
		.body = body,
		.body_len = sizeof body - 1,
		.timeout_ms = 3000,
		.connect_timeout_ms = 1000,
		.allow = &f->allow,
	};
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	*state = f;
	return f ? 0 : -1;
}

static int teardown(void **state)
{
	fixture *f = *state;
	netguard_allow_free(&f->allow);
	free(f);
	return 0;
}

static void expect(const fixture *f, webhook_outcome o)
{
	if (f->res.outcome != o)
		fail_msg("%s: outcome %s (status %d, \"%s\"), want %s", f->url, webhook_outcome_name(f->res.outcome),
			 f->res.status, f->res.error, webhook_outcome_name(o));
}

/* ---- refusals: nothing reaches the listener ------------------------------------------ */

static void test_loopback_not_allow_listed_is_refused_at_connect_time(void **state)
{
	fixture *f = *state;
	listener l;
	listener_start(&l, ANSWER, 200);
	/* https, so the scheme rule lets it through to the resolver and the address check */
	static const char
		*const spellings[] =
			{
				"https://127.0.0.1:%d/hook",  "https://127.1:%d/hook",
				"https://2130706433:%d/hook", "https://[::ffff:127.0.0.1]:%d/hook",
				"https://localhost:%d/hook", /* a name: refused on the address it resolves to */
			};
	for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
		target(f, spellings[i], l.port);
		assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
		expect(f, WEBHOOK_REFUSED);
		assert_int_equal(f->res.status, 0);
		if (!strstr(f->res.error, "(loopback)"))
			fail_msg("%s: error \"%s\"", f->url, f->res.error);
	}
	assert_int_equal(listener_connections(&l), 0);
	listener_stop(&l);
}

static void test_allow_list_of_another_port_does_not_cover_this_one(void **state)
{
	fixture *f = *state;
	listener l;
	listener_start(&l, ANSWER, 200);
	allow(f, "127.0.0.1:%d", l.port + 1 > 65535 ? 1 : l.port + 1);
	target(f, "https://127.0.0.1:%d/hook", l.port);
	assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
	expect(f, WEBHOOK_REFUSED);
	assert_non_null(strstr(f->res.error, "address 127.0.0.1 refused (loopback)"));
	assert_int_equal(listener_connections(&l), 0);
	listener_stop(&l);
}

static void test_http_to_a_host_not_allow_listed_is_refused_before_connecting(void **state)
{
	fixture *f = *state;
	listener l;
	listener_start(&l, ANSWER, 200);
	allow(f, "127.0.0.1:%d", l.port);
	static const char *const urls[] = {
		"http://localhost:%d/hook",          /* allow-listed as 127.0.0.1, not as localhost */
		"http://127.0.0.1:%d@localhost:%d/", /* the allow-listed host:port as userinfo only */
		"http://127.0.0.2:%d/hook",
	};
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		target(f, urls[i], l.port, l.port);
		assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
		expect(f, WEBHOOK_REFUSED);
		assert_non_null(strstr(f->res.error, "http refused"));
		assert_int_equal(f->res.status, 0);
	}
	assert_int_equal(listener_connections(&l), 0);
	listener_stop(&l);
}

static void test_other_schemes_and_malformed_input_are_refused(void **state)
{
	fixture *f = *state;
	listener l;
	listener_start(&l, ANSWER, 200);
	allow(f, "127.0.0.1");
	static const struct {
		const char *url;
		webhook_outcome want;
	} cases[] = {
		{"ftp://127.0.0.1:%d/x", WEBHOOK_REFUSED},       {"gopher://127.0.0.1:%d/x", WEBHOOK_REFUSED},
		{"dict://127.0.0.1:%d/x", WEBHOOK_REFUSED},      {"file:///etc/passwd#%d", WEBHOOK_REFUSED},
		{"127.0.0.1:%d/no-scheme", WEBHOOK_BAD_REQUEST}, {"https://:%d/", WEBHOOK_BAD_REQUEST},
		{"not a url %d", WEBHOOK_BAD_REQUEST},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		target(f, cases[i].url, l.port);
		assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
		expect(f, cases[i].want);
	}
	/* an over-long URL, a NULL one */
	char *longurl = malloc(WEBHOOK_URL_MAX + 100);
	int n = snprintf(longurl, WEBHOOK_URL_MAX + 100, "http://127.0.0.1:%d/", l.port);
	memset(longurl + n, 'a', WEBHOOK_URL_MAX + 50 - (size_t)n);
	longurl[WEBHOOK_URL_MAX + 50] = 0;
	target(f, "x");
	f->rq.url = longurl;
	webhook_http_post(&f->rq, &f->res);
	expect(f, WEBHOOK_BAD_REQUEST);
	free(longurl);
	f->rq.url = NULL;
	webhook_http_post(&f->rq, &f->res);
	expect(f, WEBHOOK_BAD_REQUEST);

	/* headers that would inject a line, or are not "Name: value" */
	static const char *const bad_headers[] = {
		"Huying-Event-Type: call.dispatched\r\nX-Injected: 1",
		"Huying-Event-Type: a\nb",
		"Huying Event: x",
		": x",
		"NoColon",
	};
	for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
		target(f, "http://127.0.0.1:%d/hook", l.port);
		f->rq.headers = &bad_headers[i];
		f->rq.n_headers = 1;
		assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
		expect(f, WEBHOOK_BAD_REQUEST);
	}
	const char *many[WEBHOOK_HEADERS_MAX + 1];
	for (int i = 0; i <= WEBHOOK_HEADERS_MAX; i++)
		many[i] = "X-A: b";
	f->rq.headers = many;
	f->rq.n_headers = WEBHOOK_HEADERS_MAX + 1;
	webhook_http_post(&f->rq, &f->res);
	expect(f, WEBHOOK_BAD_REQUEST);
	assert_int_equal(listener_connections(&l), 0);
	listener_stop(&l);
}

/* ---- deliveries ----------------------------------------------------------------------- */

/* 1 when the request head of l holds the line exactly. */
static int has_line(listener *l, const char *line)
{
	char want[600];
	snprintf(want, sizeof want, "\r\n%s\r\n", line);
	return memmem(l->req, l->head_len, want, strlen(want)) != NULL;
}

static void test_allow_listed_receiver_gets_the_exact_body_and_headers(void **state)
{
	fixture *f = *state;
	listener l, proxy;
	listener_start(&l, ANSWER, 200);
	listener_start(&proxy, ANSWER, 200);
	/* the environment asks for a proxy: it must be ignored */
	char purl[64];
	snprintf(purl, sizeof purl, "http://127.0.0.1:%d", proxy.port);
	static const char *const proxy_vars[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
						 "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
	for (size_t i = 0; i < 6; i++)
		setenv(proxy_vars[i], purl, 1);

	allow(f, "localhost:1, 127.0.0.1:%d", l.port);
	target(f, "http://127.0.0.1:%d/hooks/in?x=1", l.port);
	const char *secret = "whsec_0123456789abcdef0123456789abcdef";
	char sig[SIGN_HEADER_MAX], sig_line[SIGN_HEADER_MAX + 32], ts_line[64];
	assert_int_equal(sign_header(secret, strlen(secret), 1700000000, body, sizeof body - 1, sig, sizeof sig), 0);
	snprintf(sig_line, sizeof sig_line, "Huying-Signature: %s", sig);
	snprintf(ts_line, sizeof ts_line, "Huying-Timestamp: %d", 1700000000);
	const char *headers[] = {
		"Huying-Event-Id: 0b6a3f8e-8d7c-4b8e-9a51-2b7f1c9d0e42",
		"Huying-Event-Type: call.dispatched",
		ts_line,
		sig_line,
	};
	f->rq.headers = headers;
	f->rq.n_headers = 4;
	assert_int_equal(webhook_http_post(&f->rq, &f->res), 0);
	expect(f, WEBHOOK_DELIVERED);
	assert_int_equal(f->res.status, 200);
	assert_string_equal(f->res.error, "");
	assert_string_equal(f->res.body, "ok");
	assert_int_equal(f->res.body_len, 2);
	assert_int_equal(f->res.body_truncated, 0);
	assert_true(f->res.duration_ms >= 0 && f->res.duration_ms < 3000);

	assert_int_equal(listener_connections(&l), 1);
	pthread_mutex_lock(&l.mu);
	assert_true(l.head_len > 0);
	assert_memory_equal(l.req, "POST /hooks/in?x=1 HTTP/1.1\r\n", 29);
	for (size_t i = 0; i < 4; i++)
		if (!has_line(&l, headers[i]))
			fail_msg("header missing: %s", headers[i]);
	assert_true(has_line(&l, "Content-Type: application/json"));
	assert_true(has_line(&l, "User-Agent: huying-webhooks/1"));
	char cl[64];
	snprintf(cl, sizeof cl, "Content-Length: %zu", sizeof body - 1);
	assert_true(has_line(&l, cl));
	assert_null(memmem(l.req, l.head_len, "Expect:", 7));
	assert_null(memmem(l.req, l.head_len, "Accept-Encoding", 15));
	assert_int_equal(l.req_len - l.head_len, sizeof body - 1);
	assert_memory_equal(l.req + l.head_len, body, sizeof body - 1);
	/* what arrived verifies with the secret */
	assert_int_equal(sign_verify(secret, strlen(secret), sig, strlen(sig), l.req + l.head_len,
				     l.req_len - l.head_len, 1700000000, 300),
			 SIGN_OK);
	pthread_mutex_unlock(&l.mu);

	assert_int_equal(listener_connections(&proxy), 0);
	for (size_t i = 0; i < 6; i++)
		unsetenv(proxy_vars[i]);
	listener_stop(&proxy);
	listener_stop(&l);
}

static void test_redirect_is_not_followed(void **state)
{
	fixture *f = *state;
	listener a, b;
	listener_start(&b, ANSWER, 200);
	listener_start(&a, ANSWER, 302);
	snprintf(a.location, sizeof a.location, "http://127.0.0.1:%d/elsewhere", b.port);
	allow(f, "127.0.0.1:%d", a.port); /* only the first receiver */
	target(f, "http://127.0.0.1:%d/hook", a.port);
	assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
	expect(f, WEBHOOK_REDIRECT);
	assert_int_equal(f->res.status, 302);
	assert_string_equal(f->res.error, "redirect not followed (HTTP 302)");
	assert_int_equal(listener_connections(&a), 1);
	assert_int_equal(listener_connections(&b), 0);

	/* not even when the second port is allow-listed too, nor for 307/308 */
	allow(f, "127.0.0.1");
	a.status = 307;
	assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
	expect(f, WEBHOOK_REDIRECT);
	assert_int_equal(f->res.status, 307);
	a.status = 308;
	assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
	assert_int_equal(f->res.status, 308);
	assert_int_equal(listener_connections(&a), 3);
	assert_int_equal(listener_connections(&b), 0);
	listener_stop(&a);
	listener_stop(&b);
}

static void test_error_statuses_are_failed_attempts(void **state)
{
	fixture *f = *state;
	static const int statuses[] = {500, 503, 410, 404, 401, 429};
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		listener l;
		listener_start(&l, ANSWER, statuses[i]);
		allow(f, "127.0.0.1:%d", l.port);
		target(f, "http://127.0.0.1:%d/hook", l.port);
		assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
		expect(f, WEBHOOK_HTTP_STATUS);
		assert_int_equal(f->res.status, statuses[i]);
		char want[32];
		snprintf(want, sizeof want, "HTTP %d", statuses[i]);
		assert_string_equal(f->res.error, want);
		assert_string_equal(f->res.body, "ok"); /* the receiver's answer, for the log */
		listener_stop(&l);
	}
}

static void test_a_receiver_that_never_answers_times_out_within_the_bound(void **state)
{
	fixture *f = *state;
	listener l;
	listener_start(&l, HANG, 0);
	allow(f, "127.0.0.1:%d", l.port);
	target(f, "http://127.0.0.1:%d/hook", l.port);
	f->rq.timeout_ms = 500;
	assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
	expect(f, WEBHOOK_TIMEOUT);
	assert_int_equal(f->res.status, 0);
	if (f->res.duration_ms < 450 || f->res.duration_ms > 1500)
		fail_msg("timed out after %ld ms, want about 500", f->res.duration_ms);
	assert_non_null(strstr(f->res.error, "timeout"));
	assert_int_equal(listener_connections(&l), 1);
	pthread_mutex_lock(&l.mu);
	assert_int_equal(l.req_len - l.head_len, sizeof body - 1); /* it was sent, just not answered */
	pthread_mutex_unlock(&l.mu);
	listener_stop(&l);
}

static void test_nothing_listening_is_a_connect_error(void **state)
{
	fixture *f = *state;
	allow(f, "127.0.0.1");
	target(f, "http://127.0.0.1:%d/hook", closed_port());
	assert_int_equal(webhook_http_post(&f->rq, &f->res), -1);
	expect(f, WEBHOOK_CONNECT_ERROR);
	assert_int_equal(f->res.status, 0);
	assert_non_null(strstr(f->res.error, "connect error"));
}

static void test_a_long_response_body_is_cut(void **state)
{
	fixture *f = *state;
	listener l;
	listener_start(&l, BIG_BODY, 200);
	allow(f, "127.0.0.1:%d", l.port);
	target(f, "http://127.0.0.1:%d/hook", l.port);
	assert_int_equal(webhook_http_post(&f->rq, &f->res), 0);
	expect(f, WEBHOOK_DELIVERED);
	assert_int_equal(f->res.status, 200);
	assert_int_equal(f->res.body_len, WEBHOOK_BODY_KEEP);
	assert_int_equal(f->res.body_truncated, 1);
	assert_int_equal(strlen(f->res.body), WEBHOOK_BODY_KEEP);
	assert_true(f->res.duration_ms < 2000); /* it hung up after WEBHOOK_BODY_READ_MAX, not at the end */
	listener_stop(&l);
}

/* The attempt is used from several deliverer threads at once: nothing shared. */
typedef struct worker {
	const webhook_request *rq;
	int rc;
} worker;

static void *post_once(void *arg)
{
	worker *w = arg;
	webhook_result res;
	w->rc = webhook_http_post(w->rq, &res);
	return NULL;
}

static void test_concurrent_attempts_from_threads(void **state)
{
	fixture *f = *state;
	listener l;
	listener_start(&l, ANSWER, 204);
	allow(f, "127.0.0.1:%d", l.port);
	target(f, "http://127.0.0.1:%d/hook", l.port);
	pthread_t th[8];
	worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (worker){.rq = &f->rq, .rc = 99};
		assert_int_equal(pthread_create(&th[i], NULL, post_once, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
	assert_int_equal(listener_connections(&l), 8);
	listener_stop(&l);
}

static void test_outcome_names(void **state)
{
	(void)state;
	for (int o = WEBHOOK_DELIVERED; o <= WEBHOOK_ERROR; o++)
		assert_string_not_equal(webhook_outcome_name((webhook_outcome)o), "unknown");
}

int main(void)
{
	if (webhook_http_init() != 0) {
		fprintf(stderr, "libcurl did not start\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_loopback_not_allow_listed_is_refused_at_connect_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_allow_list_of_another_port_does_not_cover_this_one, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_to_a_host_not_allow_listed_is_refused_before_connecting,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_schemes_and_malformed_input_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_listed_receiver_gets_the_exact_body_and_headers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_redirect_is_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_statuses_are_failed_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_receiver_that_never_answers_times_out_within_the_bound, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nothing_listening_is_a_connect_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_long_response_body_is_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_attempts_from_threads, setup, teardown),
		cmocka_unit_test(test_outcome_names),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	webhook_http_cleanup();
	return rc;
}
