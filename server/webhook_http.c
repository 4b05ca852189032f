#include "webhook_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>

/* What one attempt carries through libcurl's callbacks. */
typedef struct attempt {
	webhook_result *res;
	int allow_listed;       /* skip the address check */
	int opened;             /* sockets opened: some address passed */
	int n_refused;          /* addresses refused */
	netguard_class refused; /* the class of the last address refused */
	char refused_addr[INET6_ADDRSTRLEN];
	size_t read; /* response body bytes seen */
	int capped;  /* the write callback stopped the transfer at WEBHOOK_BODY_READ_MAX */
} attempt;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = -1; /* written once under init_once, read-only afterwards */

static void init_curl(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	if (!v || v->version_num < 0x075500) /* 7.85.0: CURLOPT_PROTOCOLS_STR */
		return;
	init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int webhook_http_init(void)
{
	pthread_once(&init_once, init_curl);
	return init_rc;
}

void webhook_http_cleanup(void)
{
	if (init_rc == 0)
		curl_global_cleanup();
}

const char *webhook_outcome_name(webhook_outcome o)
{
	switch (o) {
	case WEBHOOK_DELIVERED: return "delivered";
	case WEBHOOK_HTTP_STATUS: return "http-status";
	case WEBHOOK_REDIRECT: return "redirect";
	case WEBHOOK_REFUSED: return "refused";
	case WEBHOOK_BAD_REQUEST: return "bad-request";
	case WEBHOOK_TIMEOUT: return "timeout";
	case WEBHOOK_CONNECT_ERROR: return "connect-error";
	case WEBHOOK_TLS_ERROR: return "tls-error";
	case WEBHOOK_ERROR: return "error";
	}
	return "unknown";
}

/* Sets res's outcome and a printf-formatted error, made printable ASCII (libcurl's texts
 * can quote parts of the URL). Returns -1 for the caller to return. */
__attribute__((format(printf, 3, 4))) static int fail(webhook_result *res, webhook_outcome o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap);
	va_end(ap);
	for (char *p = res->error; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	res->outcome = o;
	return -1;
}

/* ---- callbacks --------------------------------------------------------------------- */

/* libcurl calls this instead of socket(2) for every address it tries, before connecting. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	attempt *at = clientp;
	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (!at->allow_listed) {
		netguard_class c = netguard_check(&a->addr, a->addrlen);
		if (c != NETGUARD_ALLOWED) {
			at->refused = c;
			at->n_refused++;
			const void *ip = a->family == AF_INET6
						 ? (const void *)&((struct sockaddr_in6 *)&a->addr)->sin6_addr
						 : (const void *)&((struct sockaddr_in *)&a->addr)->sin_addr;
			if ((a->family != AF_INET && a->family != AF_INET6) ||
			    !inet_ntop(a->family, ip, at->refused_addr, sizeof at->refused_addr))
				snprintf(at->refused_addr, sizeof at->refused_addr, "family %d", a->family);
			return CURL_SOCKET_BAD;
		}
	}
	curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (s != CURL_SOCKET_BAD)
		at->opened++;
	return s;
}

/* Keeps the first WEBHOOK_BODY_KEEP bytes; stops the transfer past WEBHOOK_BODY_READ_MAX. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
	attempt *at = userdata;
	webhook_result *res = at->res;
	size_t n = size * nmemb;
	size_t room = WEBHOOK_BODY_KEEP - res->body_len;
	size_t take = n < room ? n : room;
	memcpy(res->body + res->body_len, p, take);
	res->body_len += take;
	if (take < n)
		res->body_truncated = 1;
	at->read += n;
	if (at->read > WEBHOOK_BODY_READ_MAX) {
		at->capped = 1;
		return 0; /* CURLE_WRITE_ERROR */
	}
	return n;
}

/* ---- the request ------------------------------------------------------------------- */

/* An HTTP token character (RFC 9110 tchar). */
static int tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* 0 when line is "Name: value" with a token name and a value without control characters
 * other than tab (no CR or LF: no header injection from an event type). */
static int header_ok(const char *line)
{
	size_t i = 0;
	while (tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || line[i] != ':')
		return -1;
	for (i++; line[i]; i++) {
		if (i >= WEBHOOK_HEADER_LINE_MAX)
			return -1;
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	return 0;
}

/* Builds the header list into *out. Returns 0, or -1 after fail() (nothing to free). */
static int build_headers(const webhook_request *rq, webhook_result *res, struct curl_slist **out)
{
	*out = NULL;
	if (rq->n_headers > WEBHOOK_HEADERS_MAX)
		return fail(res, WEBHOOK_BAD_REQUEST, "more than %d headers", WEBHOOK_HEADERS_MAX);
	for (size_t i = 0; i < rq->n_headers; i++)
		if (!rq->headers[i] || header_ok(rq->headers[i]) != 0)
			return fail(res, WEBHOOK_BAD_REQUEST, "malformed header #%zu", i + 1);
	static const char *const fixed[] = {
		"Content-Type: application/json", "User-Agent: " WEBHOOK_USER_AGENT,
		"Expect:", /* no 100-continue round trip for larger bodies */
	};
	struct curl_slist *h = NULL, *t;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] + rq->n_headers; i++) {
		const char *line =
			i < sizeof fixed / sizeof fixed[0] ? fixed[i] : rq->headers[i - sizeof fixed / sizeof fixed[0]];
		if (!(t = curl_slist_append(h, line))) {
			curl_slist_free_all(h);
			return fail(res, WEBHOOK_ERROR, "out of memory");
		}
		h = t;
	}
	*out = h;
	return 0;
}

/* Parses rq->url into u and applies the scheme and allow-list rules. Sets at->allow_listed.
 * Returns 0 when the attempt may go on, else -1 after fail(). */
static int check_target(const webhook_request *rq, CURLU *u, attempt *at)
{
	webhook_result *res = at->res;
	if (!rq->url || strnlen(rq->url, WEBHOOK_URL_MAX + 1) > WEBHOOK_URL_MAX)
		return fail(res, WEBHOOK_BAD_REQUEST, "missing or over-long url");
	if (curl_url_set(u, CURLUPART_URL, rq->url, 0) != CURLUE_OK)
		return fail(res, WEBHOOK_BAD_REQUEST, "malformed url");
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		fail(res, WEBHOOK_BAD_REQUEST, "url without scheme");
		goto out;
	}
	int https = strcmp(scheme, "https") == 0;
	if (!https && strcmp(scheme, "http") != 0) {
		fail(res, WEBHOOK_REFUSED, "scheme %.16s refused: https only", scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		fail(res, WEBHOOK_BAD_REQUEST, "url without host or port");
		goto out;
	}
	at->allow_listed = netguard_allow_matches(rq->allow, host, strlen(host), atoi(port));
	if (!https && !at->allow_listed) {
		fail(res, WEBHOOK_REFUSED, "http refused: https only unless the host is allow-listed");
		goto out;
	}
	rc = 0;
out:
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	return rc;
}

#define SET(opt, val)                                                                                                  \
	do {                                                                                                           \
		if (curl_easy_setopt(c, opt, val) != CURLE_OK)                                                         \
			return -1;                                                                                     \
	} while (0)

/* Sets every option of the attempt on c. Returns 0, or -1 when libcurl refuses one: the
 * attempt must then not run, since a missing option may be a missing safeguard. */
static int set_options(CURL *c, const webhook_request *rq, CURLU *u, struct curl_slist *h, attempt *at, char *errbuf)
{
	SET(CURLOPT_CURLU, u);
	SET(CURLOPT_PROTOCOLS_STR, at->allow_listed ? "http,https" : "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, ""); /* "" overrides the proxy environment variables */
	SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
	SET(CURLOPT_OPENSOCKETDATA, at);
	SET(CURLOPT_NOSIGNAL, 1L); /* timeouts without SIGALRM: required with threads */
	SET(CURLOPT_TIMEOUT_MS, rq->timeout_ms > 0 ? rq->timeout_ms : (long)WEBHOOK_DEFAULT_TIMEOUT_MS);
	SET(CURLOPT_CONNECTTIMEOUT_MS,
	    rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : (long)WEBHOOK_DEFAULT_CONNECT_MS);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->body_len : 0));
	SET(CURLOPT_HTTPHEADER, h);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, at);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	return 0;
}

#undef SET

/* Rewrites body[0..len) in place as valid UTF-8 without NUL: every byte that does not start
 * a complete, well-formed sequence becomes '?'. The log column is text. */
static void make_utf8(char *body, size_t len)
{
	unsigned char *s = (unsigned char *)body;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		int ok = n == 1 ? c != 0 : n > 1 && i + n <= len;
		for (size_t k = 1; ok && k < n; k++)
			ok = (s[i + k] & 0xc0) == 0x80;
		if (ok && n > 1) { /* no overlong forms, surrogates or values past U+10FFFF */
			unsigned cp = n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
			for (size_t k = 1; k < n; k++)
				cp = cp << 6 | (s[i + k] & 0x3f);
			ok = !(cp < (n == 2   ? 0x80u
				     : n == 3 ? 0x800u
					      : 0x10000u) ||
			       (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff);
		}
		if (!ok) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
}

/* Turns libcurl's result code into the outcome. Returns 0 when delivered, else -1. */
static int classify(CURL *c, CURLcode cc, attempt *at, const char *errbuf)
{
	webhook_result *res = at->res;
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	res->status = (int)status;
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
	if (cc == CURLE_WRITE_ERROR && at->capped)
		cc = CURLE_OK; /* we hung up on a long body; the status line decides */
	if (cc == CURLE_OK) {
		if (status >= 200 && status < 300) {
			res->outcome = WEBHOOK_DELIVERED;
			return 0;
		}
		if (status >= 300 && status < 400)
			return fail(res, WEBHOOK_REDIRECT, "redirect not followed (HTTP %ld)", status);
		return fail(res, WEBHOOK_HTTP_STATUS, "HTTP %ld", status);
	}
	if (cc == CURLE_COULDNT_CONNECT && at->n_refused && !at->opened)
		return fail(res, WEBHOOK_REFUSED, "address %s refused (%s)%s", at->refused_addr,
			    netguard_class_name(at->refused),
			    at->n_refused > 1 ? ", and every other it resolved to" : "");
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT: return fail(res, WEBHOOK_TIMEOUT, "timeout: %s", why);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT: return fail(res, WEBHOOK_CONNECT_ERROR, "connect error: %s", why);
	case CURLE_UNSUPPORTED_PROTOCOL: return fail(res, WEBHOOK_REFUSED, "protocol refused: %s", why);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR: return fail(res, WEBHOOK_TLS_ERROR, "tls error: %s", why);
	default: return fail(res, WEBHOOK_ERROR, "%s", why);
	}
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

int webhook_http_post(const webhook_request *rq, webhook_result *res)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(res, 0, sizeof *res);
	attempt at = {.res = res};
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	CURLU *u = NULL;
	CURL *c = NULL;
	int rc = -1;
	if (webhook_http_init() != 0) {
		fail(res, WEBHOOK_ERROR, "libcurl could not start");
		goto out;
	}
	if (!(u = curl_url()) || !(c = curl_easy_init())) {
		fail(res, WEBHOOK_ERROR, "out of memory");
		goto out;
	}
	if (check_target(rq, u, &at) != 0 || build_headers(rq, res, &h) != 0)
		goto out;
	if (set_options(c, rq, u, h, &at, errbuf) != 0) {
		fail(res, WEBHOOK_ERROR, "libcurl refused an option");
		goto out;
	}
	rc = classify(c, curl_easy_perform(c), &at, errbuf);
out:
	curl_easy_cleanup(c);
	curl_url_cleanup(u);
	curl_slist_free_all(h);
	make_utf8(res->body, res->body_len);
	res->body[res->body_len] = 0;
	res->duration_ms = elapsed_ms(&t0);
	return rc;
}
