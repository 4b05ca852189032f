#include "http.h"

#include <assert.h>
#include <civetweb.h>
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dates.h"
#include "metrics.h"
#include "ratelimit.h"

#define MAX_ORIGINS 32
#define MAX_CURSOR  512

static struct mg_context *ctx, *metrics_ctx;
static char *origins[MAX_ORIGINS];
static int norigins;
static atomic_int inflight;
static atomic_int draining;

/* ---- answering ----------------------------------------------------------------------- */

void http_header(http_req *r, const char *name, const char *value)
{
	if (r->nhdr == HTTP_MAX_HEADERS)
		return;
	r->hdr_name[r->nhdr] = name;
	r->hdr_value[r->nhdr] = strdup(value);
	if (r->hdr_value[r->nhdr])
		r->nhdr++;
}

/* Whether the connection stays open after this answer, as HTTP/1.1 says (and civetweb
 * agrees: when we say close, we tell it so too). */
static int keep_alive(http_req *r)
{
	if (atomic_load(&draining) || r->close)
		return 0;
	/* The same rule as civetweb's should_keep_alive(): an explicit Connection header
	 * decides; otherwise HTTP/1.1 keeps the connection and HTTP/1.0 does not. */
	const char *c = mg_get_header(r->conn, "Connection");
	if (c)
		return strcasestr(c, "keep-alive") != NULL;
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	return ri->http_version && strcmp(ri->http_version, "1.1") == 0;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return status < 500 ? "Client Error" : "Server Error";
	}
}

/* The status line and every header, into out. The whole answer then goes out in one write:
 * civetweb's header API sends each line on its own, which costs a syscall (and with
 * TCP_NODELAY a packet) per header (bench/README.md). */
static void head(http_req *r, int status, const char *ctype, buf *out)
{
	r->status = status;
	r->answered = 1;
	int ka = keep_alive(r);
	if (!ka)
		mg_disable_connection_keep_alive(r->conn);
	/* RFC 9110 wants Date from a server with a clock; format it once a second per thread. */
	static __thread time_t date_at;
	static __thread char date[40];
	time_t now = time(NULL);
	if (now != date_at) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		date_at = now;
	}
	buf_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, reason(status), date);
	if (ctype)
		buf_printf(out, "Content-Type: %s\r\n", ctype);
	buf_printf(out, "X-Request-Id: %s\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
		   r->request_id);
	if (r->origin)
		buf_printf(out,
			   "Access-Control-Allow-Origin: %s\r\nAccess-Control-Expose-Headers: ETag, Location, "
			   "Link, Retry-After, X-Request-Id, Idempotency-Replayed\r\n",
			   r->origin);
	if (norigins)
		buf_puts(out, "Vary: Origin\r\n");
	for (int i = 0; i < r->nhdr; i++)
		buf_printf(out, "%s: %s\r\n", r->hdr_name[i], r->hdr_value[i]);
	buf_printf(out, "Connection: %s\r\n", ka ? "keep-alive" : "close");
}

void http_reply(http_req *r, int status, const char *ctype, const char *body, size_t len)
{
	if (r->answered)
		return;
	buf out = {0};
	head(r, status, ctype, &out);
	buf_printf(&out, "Content-Length: %zu\r\n\r\n", len);
	if (len && strcmp(r->method, "HEAD") != 0)
		buf_put(&out, body, len);
	if (!out.oom)
		mg_write(r->conn, out.p, out.len);
	buf_free(&out);
}

void http_reply_json(http_req *r, int status, const char *body, size_t len)
{
	http_reply(r, status, "application/json; charset=utf-8", body, len);
}

static const struct {
	int status;
	const char *slug, *title;
} problems[] = {
	{400, "bad-request", "Bad request"},
	{401, "unauthorized", "Unauthorized"},
	{403, "forbidden", "Forbidden"},
	{404, "not-found", "Not found"},
	{405, "method-not-allowed", "Method not allowed"},
	{406, "not-acceptable", "Not acceptable"},
	{408, "request-timeout", "Request timeout"},
	{409, "conflict", "Conflict"},
	{412, "precondition-failed", "Precondition failed"},
	{413, "payload-too-large", "Payload too large"},
	{415, "unsupported-media-type", "Unsupported media type"},
	{422, "validation-failed", "Validation failed"},
	{429, "too-many-requests", "Too many requests"},
	{500, "internal-error", "Internal server error"},
	{503, "service-unavailable", "Service unavailable"},
};

static db_stmt st_confirm = DB_STMT("confirm_token", "select 1", 0);

/* A token that verified by signature may still name a unit of the wrong kind, which only
 * the database knows. Before answering a client error that was found without SQL, confirm
 * the token so that such a token gets its 401 (DESIGN §5 check order). Returns 0 when the
 * token is fine (or the database cannot tell right now). */
static int token_refused(http_req *r)
{
	if (!r->authed || r->token_confirmed)
		return 0;
	db_error err;
	db_result *res = db_run(r->claims.json, cfg.statement_timeout_ms, &st_confirm, NULL, &err);
	if (res) {
		db_result_free(res);
		r->token_confirmed = 1;
		return 0;
	}
	if (err.auth_failed && strcmp(err.sqlstate, "HY401") == 0) {
		http_header(r, "WWW-Authenticate", "Bearer realm=\"huying\", error=\"invalid_token\"");
		http_problem_ex(r, 401, err.message, NULL, NULL);
		return 1;
	}
	return 0;
}

/* Open311 GeoReport v2 (/open311/...) answers its errors in its own format, never as
 * problem+json: a JSON array of {code, description}, one per field problem ("field:
 * message"), else one with the detail; code is the HTTP status. A validation failure (422)
 * is 400 there, as GeoReport has 400 for "any other error"; every other status stays what
 * the check order of DESIGN §5 gives (401, 403, 404, 405, 413, 415, 429, 503). */
static int open311_path(const char *path)
{
	return strncmp(path, "/open311/", 9) == 0;
}

struct open311_errors {
	buf *b;
	int status;
	int n;
};

static void open311_error_add(const char *field, const char *message, void *arg)
{
	struct open311_errors *o = arg;
	buf d = {0};
	buf_printf(&d, "%s: %s", field, message);
	buf_printf(o->b, "%s{\"code\":%d,\"description\":", o->n++ ? "," : "", o->status);
	buf_json_str(o->b, buf_str(&d), d.len);
	buf_putc(o->b, '}');
	buf_free(&d);
}

static void open311_error(http_req *r, int status, const char *detail, const char *errors_json, const char *extra_json)
{
	if (status == 422)
		status = 400;
	/* the field problems, from the daemon's checks or from SQL's DETAIL, as {"errors":[...]} */
	buf all = {0}, b = {0};
	buf_putc(&all, '{');
	if (errors_json && *errors_json)
		buf_printf(&all, "\"errors\":[%s]", errors_json);
	else if (extra_json && *extra_json)
		buf_puts(&all, extra_json);
	buf_putc(&all, '}');
	char err[64];
	json_doc *d = all.oom ? NULL : json_parse(all.p, all.len, err, sizeof err);
	struct open311_errors o = {&b, status, 0};
	buf_putc(&b, '[');
	if (d)
		json_member_each_error(d, "errors", open311_error_add, &o);
	if (!o.n) {
		buf_printf(&b, "{\"code\":%d,\"description\":", status);
		buf_json_str(&b, detail, strlen(detail));
		buf_putc(&b, '}');
	}
	buf_putc(&b, ']');
	json_free(d);
	if (status == 503)
		http_header(r, "Retry-After", "1");
	http_reply_json(r, status, buf_str(&b), b.len);
	buf_free(&b);
	buf_free(&all);
}

void http_problem_ex(http_req *r, int status, const char *detail, const char *errors_json, const char *extra_json)
{
	if (r->answered)
		return;
	if ((status == 400 || status == 403 || status == 415 || status == 422) && token_refused(r))
		return;
	if (open311_path(r->path)) {
		open311_error(r, status, detail, errors_json, extra_json);
		return;
	}
	int i = 0, n = (int)(sizeof problems / sizeof problems[0]);
	while (i < n - 1 && problems[i].status != status)
		i++;
	const char *slug = problems[i].status == status ? problems[i].slug : "internal-error";
	const char *title = problems[i].status == status ? problems[i].title : "Error";
	buf b = {0};
	buf_printf(&b, "{\"type\":\"https://huying.dev/problems/%s\",\"title\":\"%s\",\"status\":%d,\"detail\":", slug,
		   title, status);
	buf_json_str(&b, detail, strlen(detail));
	buf_puts(&b, ",\"instance\":");
	buf_json_str(&b, r->path, strlen(r->path));
	buf_puts(&b, ",\"request_id\":");
	buf_json_str(&b, r->request_id, strlen(r->request_id));
	if (errors_json && *errors_json)
		buf_printf(&b, ",\"errors\":[%s]", errors_json);
	if (extra_json && *extra_json)
		buf_printf(&b, ",%s", extra_json);
	buf_putc(&b, '}');
	if (status == 503)
		http_header(r, "Retry-After", "1");
	http_reply(r, status, "application/problem+json", buf_str(&b), b.len);
	buf_free(&b);
}

void http_problem(http_req *r, int status, const char *detail, const char *errors_json)
{
	http_problem_ex(r, status, detail, errors_json, NULL);
}

/* ---- the database, and SQLSTATE -> HTTP ------------------------------------------------- */

/* One table for every SQLSTATE the API can meet. Our own business errors are 'HY' followed
 * by the HTTP status, raised by api.* functions with a JSON object in DETAIL. */
static const struct {
	const char *prefix;
	int status;
	const char *detail; /* NULL: use the database's message */
	int retry;          /* worth retrying: add Retry-After */
} sqlstates[] = {
	{"23505", 409, "the resource already exists", 0},
	{"23503", 422, "a referenced resource does not exist", 0},
	{"23514", 422, "a value is out of its allowed range", 0},
	{"23502", 422, "a required value is missing", 0},
	{"22001", 422, "a value is too long", 0},
	{"22P02", 400, "a value is malformed", 0},
	{"22003", 400, "a number is out of range", 0},
	{"22007", 400, "a date or time is malformed", 0},
	{"22008", 400, "a date or time is out of range", 0},
	{"22023", 400, "a parameter value is invalid", 0},
	{"22021", 400, "text is not valid UTF-8", 0},
	{"55P03", 409, "another request with this Idempotency-Key or on this resource is in progress; retry", 1},
	{"57014", 503, "the request took too long and was cancelled", 0},
	{"40001", 503, "the request conflicted with another; retry", 0},
	{"40P01", 503, "the request conflicted with another; retry", 0},
	{"53", 503, "the database is out of resources; retry", 0},
	{"08", 503, "the database is unavailable", 0},
	{"57P", 503, "the database is restarting", 0},
	{"25006", 503, "the database is read-only right now", 0},
};

void http_reply_db_error(http_req *r, const db_error *e)
{
	if (e->status == DB_E_BUSY || e->status == DB_E_UNAVAILABLE) {
		http_problem(r, 503, e->message, NULL);
		return;
	}
	if (e->sqlstate[0] == 'H' && e->sqlstate[1] == 'Y' && isdigit((unsigned char)e->sqlstate[2])) {
		int status = atoi(e->sqlstate + 2);
		if (status == 401) {
			http_header(r, "WWW-Authenticate", "Bearer realm=\"huying\", error=\"invalid_token\"");
			r->token_confirmed = 1; /* nothing more to confirm: it is refused */
		}
		/* DETAIL is a JSON object written by our own SQL: its members join the problem. */
		const char *d = e->detail;
		buf extra = {0};
		if (d[0] == '{') {
			size_t n = strlen(d);
			if (n > 2 && d[n - 1] == '}')
				buf_put(&extra, d + 1, n - 2);
		}
		http_problem_ex(r, status, e->message, NULL, buf_str(&extra));
		buf_free(&extra);
		return;
	}
	for (size_t i = 0; i < sizeof sqlstates / sizeof sqlstates[0]; i++) {
		if (strncmp(e->sqlstate, sqlstates[i].prefix, strlen(sqlstates[i].prefix)) == 0) {
			if (sqlstates[i].retry)
				http_header(r, "Retry-After", "1");
			http_problem(r, sqlstates[i].status, sqlstates[i].detail ? sqlstates[i].detail : e->message,
				     NULL);
			return;
		}
	}
	buf b = {0};
	buf_printf(
		&b,
		"{\"level\":\"error\",\"request_id\":\"%s\",\"sqlstate\":\"%s\",\"msg\":\"unmapped database error\",\"error\":",
		r->request_id, e->sqlstate);
	buf_json_str(&b, e->message, strlen(e->message));
	buf_puts(&b, "}\n");
	if (write(STDERR_FILENO, b.p, b.len) < 0) {
	}
	buf_free(&b);
	http_problem(r, 500, "the server failed to process the request", NULL);
}

db_result *http_db_or_reply(http_req *r, db_stmt *st, const char *const *params)
{
	db_error err;
	db_result *res = db_run(r->authed ? r->claims.json : NULL, cfg.statement_timeout_ms, st, params, &err);
	if (res) {
		r->token_confirmed = 1;
		return res;
	}
	if (err.status == DB_E_SQL && !err.auth_failed)
		r->token_confirmed = 1;
	http_reply_db_error(r, &err);
	return NULL;
}

void http_answer(http_req *r, db_stmt *st, const char *const *params)
{
	db_result *res = http_db_or_reply(r, st, params);
	if (res)
		http_reply_row(r, res);
}

void http_field_problem(http_req *r, const char *field, const char *message, const char *detail)
{
	buf e = {0};
	json_error_add(&e, field, message);
	http_problem(r, 422, detail, buf_str(&e));
	buf_free(&e);
}

void http_reply_row(http_req *r, db_result *res)
{
	int cols = db_cols(res);
	if (db_rows(res) == 0) {
		http_problem(r, 404, "no such resource, or not visible to this token", NULL);
		db_result_free(res);
		return;
	}
	int len = 0, status = 200;
	const char *body;
	if (cols >= 5) {
		const char *s = db_value(res, 0, 0, NULL);
		const char *replayed = db_value(res, 0, 4, NULL);
		if (replayed && replayed[0] == 't')
			http_header(r, "Idempotency-Replayed", "true");
		status = s ? atoi(s) : 200;
		if (db_value(res, 0, 1, NULL))
			http_header(r, "ETag", db_value(res, 0, 1, NULL));
		if (db_value(res, 0, 2, NULL))
			http_header(r, "Location", db_value(res, 0, 2, NULL));
		body = db_value(res, 0, 3, &len);
	} else if (cols == 2) {
		if (db_value(res, 0, 0, NULL))
			http_header(r, "ETag", db_value(res, 0, 0, NULL));
		body = db_value(res, 0, 1, &len);
	} else {
		body = db_value(res, 0, 0, &len);
	}
	if (!body)
		http_reply(r, status == 200 ? 204 : status, NULL, "", 0);
	else
		http_reply_json(r, status, body, (size_t)len);
	db_result_free(res);
}

const char *http_get_header(http_req *r, const char *name)
{
	return mg_get_header(r->conn, name);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

long http_read(http_req *r, char *dst, size_t n, long limit, int deadline_ms)
{
	/* civetweb's request_timeout_ms bounds each read, not the whole body: a client that
	 * sends a byte a second would hold its worker for ever. */
	if (elapsed_ms(&r->t0) > deadline_ms) {
		r->close = 1;
		return -3;
	}
	int got = mg_read(r->conn, dst, n);
	if (got < 0)
		return -1;
	r->body_read += got;
	if (r->body_read > limit) {
		r->close = 1; /* the rest stays unread */
		return -2;
	}
	return got;
}

/* ---- query strings, lists, cursors ------------------------------------------------------ */

static const char *scratch_dup(http_req *r, const char *s, size_t n)
{
	/* Each value is its own allocation (kept on a list in scratch) so pointers stay valid. */
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	buf_put(&r->scratch, &p, sizeof p);
	return p;
}

int http_query_or_reply(http_req *r, const char *const *names, const char **values)
{
	int n = 0;
	while (names[n])
		values[n++] = NULL;
	const char *q = r->query;
	if (!q)
		return 0;
	while (*q) {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;
		if (len == 0) {
			q++;
			continue;
		}
		char key[64];
		if (klen >= sizeof key || mg_url_decode(q, (int)klen, key, (int)sizeof key, 1) < 0) {
			http_problem(r, 422, "a query parameter name is too long", NULL);
			return -1;
		}
		int i = 0;
		while (names[i] && strcmp(names[i], key) != 0)
			i++;
		buf e = {0};
		if (!names[i]) {
			json_error_add(&e, key, "is not a known query parameter");
			http_problem(r, 422, "unknown query parameter", buf_str(&e));
			buf_free(&e);
			return -1;
		}
		if (values[i]) {
			json_error_add(&e, key, "is given more than once");
			http_problem(r, 422, "repeated query parameter", buf_str(&e));
			buf_free(&e);
			return -1;
		}
		size_t vlen = eq ? len - klen - 1 : 0;
		char *dec = malloc(vlen + 1);
		int dn = dec ? mg_url_decode(eq ? eq + 1 : "", (int)vlen, dec, (int)vlen + 1, 1) : -1;
		if (dn < 0 || !json_utf8_valid(dec, (size_t)dn) || memchr(dec, '\0', (size_t)dn)) {
			free(dec);
			json_error_add(&e, key, "is not valid UTF-8 text");
			http_problem(r, strcmp(key, "cursor") == 0 ? 400 : 422, "malformed query parameter",
				     buf_str(&e));
			buf_free(&e);
			return -1;
		}
		values[i] = scratch_dup(r, dec, (size_t)dn);
		free(dec);
		q += len;
		if (*q == '&')
			q++;
	}
	return 0;
}

int http_form_json_or_reply(http_req *r, buf *json)
{
	/* Each name once (checked among those before it: at most HTTP_FORM_MAX_FIELDS). */
	char names[HTTP_FORM_MAX_FIELDS][HTTP_FORM_MAX_NAME + 1];
	int n = 0;
	const char *p = r->body, *end = r->body + r->body_len;
	buf_putc(json, '{');
	while (p < end) {
		size_t len = (size_t)(end - p);
		const char *amp = memchr(p, '&', len);
		if (amp)
			len = (size_t)(amp - p);
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len, vlen = eq ? len - klen - 1 : 0;
		if (len == 0) {
			p++;
			continue;
		}
		if (n == HTTP_FORM_MAX_FIELDS) {
			http_problem(r, 400, "the form has too many fields", NULL);
			return -1;
		}
		char *key = names[n];
		int kn = klen <= 3 * HTTP_FORM_MAX_NAME ? mg_url_decode(p, (int)klen, key, HTTP_FORM_MAX_NAME + 1, 1)
							: -1;
		if (kn <= 0 || kn > HTTP_FORM_MAX_NAME || !json_utf8_valid(key, (size_t)kn) ||
		    memchr(key, '\0', (size_t)kn)) {
			http_problem(r, 400, "a form field name is empty, too long or not UTF-8 text", NULL);
			return -1;
		}
		buf e = {0};
		for (int i = 0; i < n; i++) {
			if (strcmp(names[i], key) == 0) {
				json_error_add(&e, key, "is given more than once");
				http_problem(r, 400, "repeated form field", buf_str(&e));
				buf_free(&e);
				return -1;
			}
		}
		char *val = malloc(vlen + 1);
		int vn = val ? mg_url_decode(eq ? eq + 1 : "", (int)vlen, val, (int)vlen + 1, 1) : -1;
		if (vn < 0 || !json_utf8_valid(val, (size_t)vn) || memchr(val, '\0', (size_t)vn)) {
			free(val);
			json_error_add(&e, key, "is not valid UTF-8 text");
			http_problem(r, 400, "malformed form field", buf_str(&e));
			buf_free(&e);
			return -1;
		}
		if (n)
			buf_putc(json, ',');
		buf_json_str(json, key, (size_t)kn);
		buf_putc(json, ':');
		buf_json_str(json, val, (size_t)vn);
		free(val);
		n++;
		p += len;
		if (p < end)
			p++; /* the & */
	}
	buf_putc(json, '}');
	if (json->oom) {
		http_problem(r, 503, "out of memory", NULL);
		return -1;
	}
	return 0;
}

static int b64url_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes unpadded base64url into out (at least 3/4 of n + 3 bytes). Returns the length or -1. */
static int b64url_decode(const char *s, size_t n, char *out)
{
	unsigned acc = 0;
	int bits = 0, o = 0;
	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xFF);
		}
	}
	/* Leftover bits must be zero, or the same cursor would have two spellings. */
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	out[o] = '\0';
	return o;
}

int http_cursor_or_reply(http_req *r, const char *name, const char *cursor_s, const char **cursor_json)
{
	*cursor_json = NULL;
	if (!cursor_s)
		return 0;
	size_t n = strlen(cursor_s);
	char dec[MAX_CURSOR];
	int dn = n > 0 && n < MAX_CURSOR ? b64url_decode(cursor_s, n, dec) : -1;
	char err[128];
	json_doc *d = dn > 0 ? json_parse(dec, (size_t)dn, err, sizeof err) : NULL;
	int items = d ? json_scalar_array_len(d) : -1;
	json_free(d);
	if (items < 1 || items > 4) {
		buf e = {0};
		json_error_add(&e, name, "is not a cursor this API returned");
		http_problem(r, 400, "malformed cursor", buf_str(&e));
		buf_free(&e);
		return -1;
	}
	*cursor_json = scratch_dup(r, dec, (size_t)dn);
	return 0;
}

int http_list_params_or_reply(http_req *r, const char *limit_s, const char *cursor_s, char *limit_out, size_t limit_len,
			      const char **cursor_json)
{
	long max = r->want_csv ? HTTP_CSV_MAX_ROWS : 200, def = r->want_csv ? HTTP_CSV_MAX_ROWS : 50;
	if (http_cursor_or_reply(r, "cursor", cursor_s, cursor_json) < 0)
		return -1;
	long limit = def;
	if (limit_s) {
		char *end;
		limit = strtol(limit_s, &end, 10);
		if (!*limit_s || *end || limit < 1 || limit > max || !isdigit((unsigned char)limit_s[0])) {
			buf e = {0};
			char msg[64];
			snprintf(msg, sizeof msg, "must be an integer from 1 to %ld", max);
			json_error_add(&e, "limit", msg);
			http_problem(r, 422, "invalid limit", buf_str(&e));
			buf_free(&e);
			return -1;
		}
	}
	snprintf(limit_out, limit_len, "%ld", limit);
	return 0;
}

int http_list_query_or_reply(http_req *r, const char *const *names, const char **values, char *limit_out,
			     size_t limit_len, const char **cursor_json)
{
	assert(strcmp(names[0], "limit") == 0 && strcmp(names[1], "cursor") == 0);
	if (http_query_or_reply(r, names, values) < 0)
		return -1;
	return http_list_params_or_reply(r, values[0], values[1], limit_out, limit_len, cursor_json);
}

static int one_of(const char *v, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(v, *allowed) == 0)
			return 1;
	return 0;
}

int http_enum_filter_or_reply(http_req *r, const char *name, const char *v, const char *const *allowed)
{
	if (!v || one_of(v, allowed))
		return 0;
	buf e = {0}, m = {0};
	buf_puts(&m, "must be one of:");
	for (; *allowed; allowed++)
		buf_printf(&m, " %s", *allowed);
	json_error_add(&e, name, buf_str(&m));
	http_problem(r, 422, "invalid filter", buf_str(&e));
	buf_free(&e);
	buf_free(&m);
	return -1;
}

int http_id_filter_or_reply(http_req *r, const char *name, const char *v)
{
	if (!v)
		return 0;
	size_t n = strlen(v);
	int ok = n >= 1 && n <= 15 && v[0] != '0' && strspn(v, "0123456789") == n;
	if (ok)
		return 0;
	http_field_problem(r, name, "must be a positive integer", "invalid filter");
	return -1;
}

int http_bool_filter_or_reply(http_req *r, const char *name, const char *v)
{
	if (!v || strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
		return 0;
	http_field_problem(r, name, "must be true or false", "invalid filter");
	return -1;
}

int http_text_filter_or_reply(http_req *r, const char *name, const char *v, size_t min, size_t max)
{
	if (!v)
		return 0;
	size_t n = 0; /* characters: the query decoder let only valid UTF-8 through */
	for (const char *p = v; *p; p++)
		n += ((unsigned char)*p & 0xC0) != 0x80;
	if (n >= min && n <= max)
		return 0;
	char msg[64];
	snprintf(msg, sizeof msg, "must be %zu to %zu characters", min, max);
	http_field_problem(r, name, msg, "invalid filter");
	return -1;
}

int http_date_filter_or_reply(http_req *r, const char *name, const char *v)
{
	if (!v || dates_check(v) == 0)
		return 0;
	http_field_problem(r, name, "must be a date YYYY-MM-DD", "invalid filter");
	return -1;
}

int http_timestamp_filter_or_reply(http_req *r, const char *name, const char **v)
{
	if (!*v)
		return 0;
	size_t n = strlen(*v);
	/* "...T08:00:00+08:00" sent without percent-encoding arrives with the + decoded to a
	 * space (form encoding); a space exactly where the offset's sign goes can mean nothing
	 * else, so it is read as the + it was. */
	if (n >= 6 && (*v)[n - 6] == ' ') {
		const char *fixed = scratch_dup(r, *v, n);
		if (fixed) {
			((char *)fixed)[n - 6] = '+';
			*v = fixed;
		}
	}
	if (dates_check_timestamp(*v) == 0)
		return 0;
	http_field_problem(r, name, "must be an RFC 3339 timestamp with an offset, e.g. 2026-02-10T08:00:00+08:00",
			   "invalid filter");
	return -1;
}

int http_validate_or_reply(http_req *r, const json_field *fields)
{
	buf e = {0};
	int bad = json_validate(r->json, fields, &e);
	if (bad)
		http_problem(r, 422, "the body has invalid fields", buf_str(&e));
	buf_free(&e);
	return bad ? -1 : 0;
}

int http_refs_or_reply(http_req *r, const char *const (*pairs)[2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (json_member_type(r->json, pairs[i][0]) != JT_MISSING &&
		    json_member_type(r->json, pairs[i][1]) != JT_MISSING) {
			http_field_problem(r, pairs[i][1], "give the id or the code, not both",
					   "the body has invalid fields");
			return -1;
		}
	}
	return 0;
}

/* ---- CSV ---------------------------------------------------------------------------------- */

static void send_chunked(http_req *r, const char *s, size_t n, buf *pending)
{
	buf_put(pending, s, n);
	if (pending->len >= 65536) {
		mg_send_chunk(r->conn, pending->p, (unsigned)pending->len);
		buf_reset(pending);
	}
}

void http_reply_csv(http_req *r, db_result *res, const char *header, int limit)
{
	int rows = db_rows(res);
	if (rows > limit) {
		const char *cursor = db_value(res, limit - 1, 1, NULL);
		buf link = {0}, q = {0};
		/* Keep the request's own filters; replace the cursor. */
		const char *p = r->query ? r->query : "";
		while (*p) {
			size_t len = strcspn(p, "&");
			if (len && strncmp(p, "cursor=", 7) != 0) {
				if (q.len)
					buf_putc(&q, '&');
				buf_put(&q, p, len);
			}
			p += len;
			if (*p)
				p++;
		}
		buf_printf(&link, "<%s?%s%scursor=%s>; rel=\"next\"", r->path, buf_str(&q), q.len ? "&" : "",
			   cursor ? cursor : "");
		http_header(r, "Link", buf_str(&link));
		buf_free(&link);
		buf_free(&q);
		rows = limit;
	}
	buf out = {0};
	head(r, 200, "text/csv; charset=utf-8", &out);
	buf_puts(&out, "Content-Disposition: attachment\r\nTransfer-Encoding: chunked\r\n\r\n");
	mg_write(r->conn, out.p, out.len);
	buf_reset(&out);
	if (strcmp(r->method, "HEAD") != 0) {
		send_chunked(r, "\xEF\xBB\xBF", 3, &out);
		send_chunked(r, header, strlen(header), &out);
		send_chunked(r, "\r\n", 2, &out);
		for (int i = 0; i < rows; i++) {
			int len;
			const char *line = db_value(res, i, 0, &len);
			send_chunked(r, line ? line : "", (size_t)len, &out);
			send_chunked(r, "\r\n", 2, &out);
		}
		if (out.len)
			mg_send_chunk(r->conn, out.p, (unsigned)out.len);
		mg_send_chunk(r->conn, "", 0);
	}
	buf_free(&out);
	db_result_free(res);
}

/* ---- routing and the check sequence ---------------------------------------------------- */

/* Matches path against a route pattern; fills ids for its {name} segments ({id}, {year}),
 * each a positive integer. A {name} segment may end in a literal suffix ({id}.json, for
 * Open311's /requests/{id}.json): the path segment is then the integer and that suffix. */
static int path_matches(const char *pattern, const char *path, int64_t *ids)
{
	int nid = 0;
	while (*pattern && *path) {
		if (*pattern != '/' || *path != '/')
			return 0;
		pattern++;
		path++;
		size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
		const char *close = pattern[0] == '{' ? memchr(pattern, '}', pl) : NULL;
		if (close && close - pattern >= 2) {
			size_t suffix = pl - (size_t)(close + 1 - pattern);
			if (sl <= suffix || memcmp(path + sl - suffix, close + 1, suffix) != 0)
				return 0;
			size_t dl = sl - suffix; /* the digits */
			if (dl > 15 || path[0] == '0')
				return 0;
			int64_t v = 0;
			for (size_t i = 0; i < dl; i++) {
				if (!isdigit((unsigned char)path[i]))
					return 0;
				v = v * 10 + (path[i] - '0');
			}
			if (nid < HTTP_MAX_PATH_IDS)
				ids[nid++] = v;
		} else if (pl != sl || strncmp(pattern, path, pl) != 0) {
			return 0;
		}
		pattern += pl;
		path += sl;
	}
	return *pattern == '\0' && *path == '\0';
}

/* 24 hex digits from a per-thread splitmix64 stream seeded by getrandom(): unique enough to
 * find a request in the logs, without a system call per request. */
static void new_request_id(char *out)
{
	static __thread uint64_t state;
	static __thread int seeded;
	if (!seeded) {
		if (getrandom(&state, sizeof state, 0) != (ssize_t)sizeof state) {
			struct timespec t;
			clock_gettime(CLOCK_REALTIME, &t);
			state = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 32) ^ (uint64_t)(uintptr_t)&state;
		}
		seeded = 1;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		z ^= z >> 31;
		if (i == 0)
			sprintf(out, "%016llx", (unsigned long long)z);
		else
			sprintf(out + 16, "%08llx", (unsigned long long)(z & 0xFFFFFFFFULL));
	}
}

static void set_request_id(http_req *r)
{
	const char *h = mg_get_header(r->conn, "X-Request-Id");
	size_t n = h ? strlen(h) : 0;
	int ok = n >= 1 && n <= 64;
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)h[i]) || h[i] == '.' || h[i] == '_' || h[i] == '-';
	if (ok)
		memcpy(r->request_id, h, n + 1);
	else
		new_request_id(r->request_id);
}

static void set_origin(http_req *r)
{
	const char *o = mg_get_header(r->conn, "Origin");
	if (!o)
		return;
	for (int i = 0; i < norigins; i++)
		if (strcmp(origins[i], o) == 0)
			r->origin = origins[i];
}

static void allow_list(const char *path, buf *allow, int *get)
{
	int64_t ids[HTTP_MAX_PATH_IDS];
	for (int i = 0; i < route_count; i++) {
		if (!path_matches(route_table[i].path, path, ids))
			continue;
		if (allow->len)
			buf_puts(allow, ", ");
		buf_puts(allow, route_table[i].method);
		if (strcmp(route_table[i].method, "GET") == 0) {
			*get = 1;
			buf_puts(allow, ", HEAD");
		}
	}
}

/* CORS preflight and plain OPTIONS, answered here for every known path. */
static void answer_options(http_req *r, const char *allow)
{
	const char *acrm = mg_get_header(r->conn, "Access-Control-Request-Method");
	if (!acrm || !mg_get_header(r->conn, "Origin")) {
		http_header(r, "Allow", allow);
		http_reply(r, 204, NULL, "", 0);
		return;
	}
	if (!r->origin) {
		http_problem(r, 403, "this origin is not allowed (HUYING_CORS_ORIGINS)", NULL);
		return;
	}
	http_header(r, "Access-Control-Allow-Methods", allow);
	http_header(r, "Access-Control-Allow-Headers",
		    "Authorization, Content-Type, If-Match, Idempotency-Key, X-Request-Id");
	http_header(r, "Access-Control-Max-Age", "600");
	http_reply(r, 204, NULL, "", 0);
}

static int route_or_reply(http_req *r)
{
	int get = 0;
	int64_t ids[HTTP_MAX_PATH_IDS] = {0};
	const char *m = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	for (int i = 0; i < route_count; i++) {
		if (strcmp(route_table[i].method, m) == 0 && path_matches(route_table[i].path, r->path, ids)) {
			r->route = &route_table[i];
			r->route_index = i;
			memcpy(r->ids, ids, sizeof ids);
			for (int k = 0; k < HTTP_MAX_PATH_IDS; k++)
				snprintf(r->id_text[k], sizeof r->id_text[k], "%lld", (long long)ids[k]);
			return 0;
		}
	}
	buf allow = {0};
	allow_list(r->path, &allow, &get);
	size_t plen = strlen(r->path);
	if (!allow.len && open311_path(r->path) && plen > 4 && strcmp(r->path + plen - 4, ".xml") == 0) {
		http_problem(r, 404, "only JSON is served here: ask for the .json resource", NULL);
	} else if (!allow.len) {
		http_problem(r, 404, "no such route", NULL);
	} else {
		buf_puts(&allow, ", OPTIONS");
		if (strcmp(r->method, "OPTIONS") == 0) {
			answer_options(r, buf_str(&allow));
		} else {
			http_header(r, "Allow", buf_str(&allow));
			http_problem(r, 405, "this method is not allowed on this path", NULL);
		}
	}
	buf_free(&allow);
	return -1;
}

static int authenticate_or_reply(http_req *r)
{
	const char *h = mg_get_header(r->conn, "Authorization");
	if (!h) {
		http_header(r, "WWW-Authenticate", "Bearer realm=\"huying\"");
		http_problem(r, 401, "a bearer token is required", NULL);
		return -1;
	}
	const char *why = "the Authorization header must be: Bearer <token>";
	if (strncasecmp(h, "Bearer ", 7) == 0) {
		const char *t = h + 7;
		while (*t == ' ')
			t++;
		size_t n = strlen(t);
		while (n && t[n - 1] == ' ')
			n--;
		if (auth_verify(t, n, time(NULL), &r->claims, &why) == 0) {
			r->authed = 1;
			return 0;
		}
	}
	http_header(r, "WWW-Authenticate", "Bearer realm=\"huying\", error=\"invalid_token\"");
	http_problem(r, 401, why, NULL);
	return -1;
}

/* 1 when content type ct is type (case-insensitive) with at most a UTF-8 charset. */
static int content_type_is(const char *ct, const char *type)
{
	if (!ct)
		return 0;
	size_t n = strcspn(ct, ";"), tl = strlen(type);
	while (n && ct[n - 1] == ' ')
		n--;
	if (n != tl || strncasecmp(ct, type, tl) != 0)
		return 0;
	const char *p = strchr(ct, ';');
	while (p) {
		p++;
		while (*p == ' ')
			p++;
		if (strncasecmp(p, "charset=", 8) == 0) {
			const char *v = p + 8;
			size_t vl = strcspn(v, "; ");
			if (!((vl == 5 && strncasecmp(v, "utf-8", 5) == 0) ||
			      (vl == 7 && strncasecmp(v, "\"utf-8\"", 7) == 0)))
				return 0;
		}
		p = strchr(p, ';');
	}
	return 1;
}

static int json_content_type(const char *ct)
{
	return content_type_is(ct, "application/json");
}

static int import_content_type(const char *ct)
{
	return content_type_is(ct, "text/csv") || content_type_is(ct, "application/x-ndjson");
}

/* Reads the body (NUL-terminated) up to the limit. Returns 0, or -1 after answering. */
static int read_body_or_reply(http_req *r)
{
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	long long declared = ri->content_length;
	size_t cap = declared >= 0 ? (size_t)declared : 16384;
	r->body = malloc(cap + 1);
	if (!r->body) {
		http_problem(r, 503, "out of memory", NULL);
		return -1;
	}
	size_t len = 0;
	for (;;) {
		if (len == cap) {
			if (declared >= 0)
				break;
			size_t ncap = cap * 2 > (size_t)cfg.body_limit + 1 ? (size_t)cfg.body_limit + 1 : cap * 2;
			if (ncap <= cap) {
				r->close = 1;
				http_problem(r, 413, "the body is larger than the limit", NULL);
				return -1;
			}
			char *nb = realloc(r->body, ncap + 1);
			if (!nb) {
				http_problem(r, 503, "out of memory", NULL);
				return -1;
			}
			r->body = nb;
			cap = ncap;
		}
		if (elapsed_ms(&r->t0) > cfg.request_timeout_ms) {
			r->close = 1;
			http_problem(r, 408, "the body did not arrive within the request timeout", NULL);
			return -1;
		}
		int n = mg_read(r->conn, r->body + len, cap - len);
		if (n < 0) {
			http_problem(r, 400, "the body could not be read", NULL);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (declared >= 0 && (long long)len != declared) {
		r->close = 1;
		http_problem(r, 400, "the body is shorter than its Content-Length", NULL);
		return -1;
	}
	r->body[len] = '\0';
	r->body_len = len;
	return 0;
}

/* A client that sent "Expect: 100-continue" waits for this before sending its body (curl
 * does so for bodies over 1 MiB). It is sent only once the headers passed every check, so a
 * refused upload is never sent at all. */
static void continue_if_expected(http_req *r)
{
	const char *e = mg_get_header(r->conn, "Expect");
	if (e && strcasecmp(e, "100-continue") == 0) {
		static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
		mg_write(r->conn, line, sizeof line - 1);
	}
}

/* Idempotency-Key: 1 to 255 printable ASCII characters (DESIGN §5). */
static int idempotency_key_or_reply(http_req *r)
{
	const char *k = mg_get_header(r->conn, "Idempotency-Key");
	if (!k)
		return 0;
	size_t n = strlen(k);
	int ok = n >= 1 && n <= 255;
	for (size_t i = 0; ok && i < n; i++)
		ok = k[i] >= 0x20 && k[i] <= 0x7E;
	if (!ok) {
		http_field_problem(r, "Idempotency-Key", "must be 1 to 255 printable ASCII characters",
				   "invalid Idempotency-Key header");
		return -1;
	}
	r->idem_key = k;
	return 0;
}

static int accepts_csv(const char *accept)
{
	/* CSV only when the client asks for it before (or instead of) JSON. */
	if (!accept)
		return 0;
	const char *csv = strcasestr(accept, "text/csv");
	const char *json = strcasestr(accept, "application/json");
	return csv && (!json || csv < json);
}

static void handle(http_req *r)
{
	if (r->on_metrics) {
		/* The metrics listener serves /metrics and nothing else. */
		if (strcmp(r->path, "/metrics") == 0 &&
		    (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)) {
			buf b = {0};
			metrics_render(&b);
			http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf_str(&b), b.len);
			buf_free(&b);
		} else {
			http_problem(r, 404, "only /metrics is served on this listener", NULL);
		}
		return;
	}
	if (route_or_reply(r) < 0)
		return;
	const route *rt = r->route;
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	long limit = (rt->flags & ROUTE_STREAM) ? cfg.import_limit : cfg.body_limit;
	if ((rt->flags & (ROUTE_BODY | ROUTE_STREAM | ROUTE_FORM)) && ri->content_length > limit) {
		r->close = 1; /* do not read (and discard) the rest of a large body */
		http_problem(r, 413, "the body is larger than the limit", NULL);
		return;
	}
	if (rt->roles) {
		if (authenticate_or_reply(r) < 0)
			return;
		int wait = ratelimit_take(r->claims.district, r->claims.sub);
		if (wait) {
			char ra[16];
			snprintf(ra, sizeof ra, "%d", wait);
			http_header(r, "Retry-After", ra);
			http_problem(r, 429, "too many requests from this token subject; slow down", NULL);
			return;
		}
		if (!(rt->roles & r->claims.role)) {
			http_problem(r, 403, "this role may not use this route", NULL);
			return;
		}
		if (!auth_has_scope(&r->claims, rt->scope)) {
			http_problem(r, 403, "the token's scope does not cover this route", NULL);
			return;
		}
	}
	if (rt->flags & ROUTE_CSV)
		r->want_csv = accepts_csv(mg_get_header(r->conn, "Accept"));
	if (rt->flags & ROUTE_STREAM) {
		if (!import_content_type(mg_get_header(r->conn, "Content-Type"))) {
			http_problem(r, 415, "the body must be text/csv or application/x-ndjson (UTF-8)", NULL);
			return;
		}
		continue_if_expected(r);
	}
	if ((rt->flags & ROUTE_EMPTY_OK) && ri->content_length <= 0 && !mg_get_header(r->conn, "Content-Type") &&
	    !mg_get_header(r->conn, "Transfer-Encoding")) {
		static const char empty[] = "{}";
		r->body = strdup(empty);
		r->body_len = 2;
		char err[16];
		r->json = r->body ? json_parse(r->body, 2, err, sizeof err) : NULL;
		if (!r->json) {
			http_problem(r, 503, "out of memory", NULL);
			return;
		}
	} else if (rt->flags & ROUTE_BODY) {
		if (!json_content_type(mg_get_header(r->conn, "Content-Type"))) {
			http_problem(r, 415, "the body must be application/json (UTF-8)", NULL);
			return;
		}
		continue_if_expected(r);
		if (read_body_or_reply(r) < 0)
			return;
		char err[160];
		r->json = json_parse(r->body, r->body_len, err, sizeof err);
		if (!r->json) {
			http_problem(r, 400, err, NULL);
			return;
		}
	} else if (rt->flags & ROUTE_FORM) {
		if (!content_type_is(mg_get_header(r->conn, "Content-Type"), "application/x-www-form-urlencoded")) {
			http_problem(r, 415, "the body must be application/x-www-form-urlencoded (UTF-8)", NULL);
			return;
		}
		continue_if_expected(r);
		if (read_body_or_reply(r) < 0)
			return;
	}
	if ((rt->flags & (ROUTE_BODY | ROUTE_FORM)) && idempotency_key_or_reply(r) < 0)
		return;
	if (rt->roles && !(rt->flags & ROUTE_QUERY)) {
		/* This route takes no query parameters: any one is unknown (422 naming it). */
		static const char *const none[] = {NULL};
		const char *unused[1];
		if (http_query_or_reply(r, none, unused) < 0)
			return;
	}
	rt->fn(r);
	if (!r->answered)
		http_problem(r, 500, "the handler did not answer", NULL);
}

static void log_request(http_req *r, double seconds)
{
	if (strcmp(cfg.log_level, "info") != 0)
		return;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	buf b = {0};
	buf_printf(
		&b,
		"{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"info\",\"request_id\":\"%s\",\"method\":",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000,
		r->request_id);
	buf_json_str(&b, r->method, strlen(r->method));
	buf_puts(&b, ",\"route\":");
	if (r->route)
		buf_json_str(&b, r->route->path, strlen(r->route->path));
	else
		buf_puts(&b, "null");
	buf_printf(&b, ",\"status\":%d,\"duration_ms\":%.3f", r->status, seconds * 1000);
	if (r->authed) {
		buf_puts(&b, ",\"sub\":");
		buf_json_str(&b, r->claims.sub, strlen(r->claims.sub));
	}
	buf_puts(&b, "}\n");
	/* One write per line, so that lines from many threads never interleave. */
	if (!b.oom && write(STDERR_FILENO, b.p, b.len) < 0) {
		/* nothing sensible to do */
	}
	buf_free(&b);
}

static int begin_request(struct mg_connection *conn)
{
	atomic_fetch_add(&inflight, 1);
	struct timespec t1;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	http_req r;
	memset(&r, 0, sizeof r);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	r.on_metrics = metrics_ctx && mg_get_context(conn) == metrics_ctx;
	r.conn = conn;
	r.route_index = -1;
	r.method = ri->request_method;
	r.path = ri->local_uri ? ri->local_uri : "/";
	r.query = ri->query_string;
	set_request_id(&r);
	set_origin(&r);

	handle(&r);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - r.t0.tv_sec) + (double)(t1.tv_nsec - r.t0.tv_nsec) / 1e9;
	metrics_request(r.route_index, r.status, secs);
	log_request(&r, secs);

	for (int i = 0; i < r.nhdr; i++)
		free(r.hdr_value[i]);
	for (size_t i = 0; i + sizeof(char *) <= r.scratch.len; i += sizeof(char *)) {
		char *p;
		memcpy(&p, r.scratch.p + i, sizeof p);
		free(p);
	}
	buf_free(&r.scratch);
	json_free(r.json);
	free(r.body);
	auth_claims_free(&r.claims);
	int status = r.status ? r.status : 500;
	atomic_fetch_sub(&inflight, 1);
	return status;
}

/* civetweb's own messages go to our log as JSON, never to a client as HTML. */
static int log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	buf b = {0};
	buf_puts(&b, "{\"level\":\"warn\",\"msg\":");
	buf_json_str(&b, message, strlen(message));
	buf_puts(&b, "}\n");
	if (write(STDERR_FILENO, b.p, b.len) < 0) {
	}
	buf_free(&b);
	return 1;
}

/* Errors civetweb detects itself (a header block that is too large, a malformed request
 * line, a bad Content-Length) still get a problem+json, never civetweb's text page. */
static int http_error(struct mg_connection *conn, int status, const char *msg)
{
	(void)msg;
	int i = 0, n = (int)(sizeof problems / sizeof problems[0]);
	while (i < n - 1 && problems[i].status != status)
		i++;
	const char *slug = problems[i].status == status ? problems[i].slug : "bad-request";
	const char *title = problems[i].status == status ? problems[i].title : "Bad request";
	char rid[32];
	new_request_id(rid);
	char body[512];
	int len = snprintf(
		body, sizeof body,
		"{\"type\":\"https://huying.dev/problems/%s\",\"title\":\"%s\",\"status\":%d,"
		"\"detail\":\"the request could not be parsed (HTTP %d)\",\"instance\":\"/\",\"request_id\":\"%s\"}",
		slug, title, status, status, rid);
	char clen[16];
	snprintf(clen, sizeof clen, "%d", len);
	mg_response_header_start(conn, status);
	mg_response_header_add(conn, "Content-Type", "application/problem+json", -1);
	mg_response_header_add(conn, "Content-Length", clen, -1);
	mg_response_header_add(conn, "X-Request-Id", rid, -1);
	mg_response_header_send(conn);
	mg_write(conn, body, (size_t)len);
	return 0;
}

static void parse_origins(void)
{
	char *list = strdup(cfg.cors_origins);
	for (char *save = NULL, *t = strtok_r(list, " ,", &save); t && norigins < MAX_ORIGINS;
	     t = strtok_r(NULL, " ,", &save))
		origins[norigins++] = strdup(t);
	free(list);
}

static struct mg_context *start_listener(const char *listen, int threads, int (*fn)(struct mg_connection *))
{
	char threads_s[16], req_to[16], ka_to[16];
	snprintf(threads_s, sizeof threads_s, "%d", threads);
	snprintf(req_to, sizeof req_to, "%d", cfg.request_timeout_ms);
	snprintf(ka_to, sizeof ka_to, "%d", cfg.keepalive_timeout_ms);
	/* No document_root: civetweb's file serving, directory listing and CGI cannot run.
	 * Its own CORS answers are off; http.c does CORS from HUYING_CORS_ORIGINS. */
	const char *opts[] = {"listening_ports",
			      listen,
			      "num_threads",
			      threads_s,
			      "enable_keep_alive",
			      "yes",
			      "keep_alive_timeout_ms",
			      ka_to,
			      "request_timeout_ms",
			      req_to,
			      "max_request_size",
			      "131072",
			      "tcp_nodelay",
			      "1",
			      "decode_url",
			      "no",
			      "enable_directory_listing",
			      "no",
			      "access_control_allow_origin",
			      "",
			      "access_control_allow_methods",
			      "",
			      "access_control_allow_headers",
			      "",
			      "listen_backlog",
			      "1024",
			      "connection_queue",
			      "1024",
			      NULL};
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.begin_request = fn;
	cb.log_message = log_message;
	cb.http_error = http_error;
	struct mg_context *c = mg_start(&cb, NULL, opts);
	if (!c)
		fprintf(stderr, "huyingd: cannot listen on %s\n", listen);
	return c;
}

int http_start(void)
{
	mg_init_library(0);
	parse_origins();
	ctx = start_listener(cfg.listen, cfg.threads, begin_request);
	if (!ctx)
		return -1;
	if (cfg.metrics_listen[0]) {
		metrics_ctx = start_listener(cfg.metrics_listen, 4, begin_request);
		if (!metrics_ctx)
			return -1;
	}
	return 0;
}

int http_is_draining(void)
{
	return atomic_load(&draining);
}

void http_stop(void)
{
	atomic_store(&draining, 1);
	/* civetweb's mg_stop aborts reads and writes in progress, so wait for the requests
	 * that are running to finish first. */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (atomic_load(&inflight) == 0 || ms >= cfg.drain_timeout_ms)
			break;
		usleep(10000);
	}
	if (metrics_ctx)
		mg_stop(metrics_ctx);
	if (ctx)
		mg_stop(ctx);
	mg_exit_library();
	for (int i = 0; i < norigins; i++)
		free(origins[i]);
}

void http_reply_list(http_req *r, db_stmt *json_st, db_stmt *csv_st, const char *csv_header, const char *const *params)
{
	db_result *res = http_db_or_reply(r, r->want_csv ? csv_st : json_st, params);
	if (!res)
		return;
	if (r->want_csv)
		http_reply_csv(r, res, csv_header, atoi(params[0]));
	else
		http_reply_row(r, res);
}
