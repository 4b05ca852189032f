/* webhook_http: one delivery attempt of a webhook (DESIGN §5 "Integration and bulk work"), as
 * the deliverer thread makes it: a POST of a JSON body with the caller's headers, under the
 * SSRF policy of netguard.h. libcurl is confined to this file.
 *
 * What an attempt does and refuses
 *   - The URL is parsed once, by libcurl's URL API, and that same parse is what libcurl
 *     connects with (CURLOPT_CURLU): the host checked is the host contacted, whatever tricks
 *     the URL spelling holds (userinfo, odd IPv4 forms, brackets).
 *   - Scheme https, or http when host:port is on the allow-list; nothing else (no file:,
 *     ftp:, gopher:, ...). A refused URL never reaches the resolver.
 *   - Every address libcurl is about to connect to (each one it tries, IPv6 and IPv4) goes
 *     through netguard_check first, unless the host is allow-listed. The check sits in
 *     CURLOPT_OPENSOCKETFUNCTION, which libcurl calls instead of socket(2) with the resolved
 *     address, before any packet leaves; returning CURL_SOCKET_BAD refuses that address. It is
 *     the only hook of libcurl 7.88 that sees the address in time: CURLOPT_SOCKOPTFUNCTION
 *     runs before connect(2) but is not told the address, and CURLOPT_PREREQFUNCTION (7.80)
 *     runs once the connection (and the TLS handshake) is already made. Checking the name at
 *     subscription time instead would be undone by DNS rebinding: the name is resolved
 *     again here, and only what this resolution gives is checked.
 *   - Redirects are never followed: a 3xx is a failed attempt (WEBHOOK_REDIRECT), so a
 *     receiver cannot bounce the request to an internal address.
 *   - No proxy, whatever the environment says (http_proxy, HTTPS_PROXY, ALL_PROXY): with a
 *     proxy the address checked would be the proxy's, not the receiver's.
 *   - A total timeout and a connect timeout; a response body kept up to WEBHOOK_BODY_KEEP
 *     bytes for the delivery log and read up to WEBHOOK_BODY_READ_MAX, after which the
 *     connection is dropped and the status decides.
 *   - No compression asked for, no cookies, no HTTP/2, no connection reuse between attempts:
 *     each call has its own easy handle and its own connection, so calls from several
 *     threads share nothing.
 *
 * Every request carries Content-Type: application/json and User-Agent: huying-webhooks/1 (set
 * here). The deliverer adds, through rq->headers:
 *     Huying-Event-Id: <uuid>          Huying-Event-Type: <type>
 *     Huying-Timestamp: <unix seconds> Huying-Signature: t=<t>,v1=<hex>   (sign.h)
 * The same t goes into Huying-Timestamp and the signature, and each attempt is signed anew. */
#ifndef HUYING_WEBHOOK_HTTP_H
#define HUYING_WEBHOOK_HTTP_H

#include <stddef.h>

#include "netguard.h"

#define WEBHOOK_USER_AGENT         "huying-webhooks/1"
#define WEBHOOK_DEFAULT_TIMEOUT_MS 10000
#define WEBHOOK_DEFAULT_CONNECT_MS 3000
#define WEBHOOK_URL_MAX            2048  /* longer URLs are refused unparsed */
#define WEBHOOK_HEADERS_MAX        16    /* caller's headers per request */
#define WEBHOOK_HEADER_LINE_MAX    1024  /* one "Name: value" line */
#define WEBHOOK_BODY_KEEP          512   /* response bytes kept for the delivery log */
#define WEBHOOK_BODY_READ_MAX      65536 /* response bytes read at most */
#define WEBHOOK_ERROR_MAX          160

typedef enum webhook_outcome {
	WEBHOOK_DELIVERED = 0, /* a 2xx answer */
	WEBHOOK_HTTP_STATUS,   /* an answer outside 2xx and 3xx; status says which */
	WEBHOOK_REDIRECT,      /* a 3xx answer, not followed */
	WEBHOOK_REFUSED,       /* the policy refused the scheme, the host or every address: nothing was sent */
	WEBHOOK_BAD_REQUEST,   /* a malformed URL or header: nothing was sent */
	WEBHOOK_TIMEOUT,       /* the connect or the total timeout ran out */
	WEBHOOK_CONNECT_ERROR, /* the name did not resolve, or no address accepted the connection */
	WEBHOOK_TLS_ERROR,     /* handshake or certificate verification failed */
	WEBHOOK_ERROR,         /* anything else: the connection broke, out of memory, ... */
} webhook_outcome;

typedef struct webhook_request {
	const char *url;  /* NUL-terminated */
	const char *body; /* the JSON to POST, body_len bytes (may hold any bytes) */
	size_t body_len;
	const char *const *headers; /* n_headers "Name: value" lines, NUL-terminated each */
	size_t n_headers;
	long timeout_ms;             /* whole attempt; 0: WEBHOOK_DEFAULT_TIMEOUT_MS */
	long connect_timeout_ms;     /* 0: WEBHOOK_DEFAULT_CONNECT_MS */
	const netguard_allow *allow; /* the parsed HUYING_WEBHOOK_ALLOW; NULL: empty */
} webhook_request;

typedef struct webhook_result {
	webhook_outcome outcome;
	int status;                       /* the HTTP status received, 0 when none */
	long duration_ms;                 /* wall time of the whole attempt */
	char error[WEBHOOK_ERROR_MAX];    /* "" when delivered; else a short printable reason */
	char body[WEBHOOK_BODY_KEEP + 1]; /* the first response bytes, as valid UTF-8 without NUL
					   * (other bytes become '?'), NUL-terminated */
	size_t body_len;
	int body_truncated; /* 1 when the response body was longer than body[] */
} webhook_result;

/* Initialises libcurl (curl_global_init) once per process; later calls return at once.
 * Call it from main before starting threads. Returns 0, or -1 when libcurl cannot start
 * (or lacks what this file relies on: CURLOPT_PROTOCOLS_STR needs 7.85). */
int webhook_http_init(void);

/* Releases libcurl's global state at exit, after every thread using webhook_http is gone. */
void webhook_http_cleanup(void);

/* Makes one attempt to POST rq->body to rq->url and fills *res (always, on every path).
 * Returns 0 when the receiver answered 2xx (res->outcome == WEBHOOK_DELIVERED), else -1
 * with res->outcome and res->error saying why. Thread-safe: it allocates its own handle and
 * frees it before returning; webhook_http_init is called if it was not. Blocks for at most
 * about rq->timeout_ms. */
int webhook_http_post(const webhook_request *rq, webhook_result *res);

/* "delivered", "http-status", "redirect", "refused", "bad-request", "timeout",
 * "connect-error", "tls-error" or "error". */
const char *webhook_outcome_name(webhook_outcome o);

#endif
