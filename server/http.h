/* http: the request pipeline on civetweb. The only module that includes civetweb.h.
 *
 * Every request runs the checks of DESIGN §5 in order (route 404, method 405, size 413,
 * token 401, role/scope 403, content type 415, malformed 400), then its handler, which does
 * the rest (validation 422, then one SQL call) and answers through the helpers below. Every
 * answer, success or problem, carries X-Request-Id and CORS headers and is logged as one
 * JSON line. */
#ifndef HUYING_HTTP_H
#define HUYING_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth.h"
#include "buf.h"
#include "db.h"
#include "json.h"
#include "routes.h"

#define HTTP_MAX_PATH_IDS 4
#define HTTP_MAX_HEADERS  8
#define HTTP_CSV_MAX_ROWS 10000

struct http_req {
	void *conn; /* struct mg_connection */
	const route *route;
	int route_index;
	const char *method;
	const char *path;
	const char *query; /* raw, may be NULL */
	char request_id[65];
	int64_t ids[HTTP_MAX_PATH_IDS];      /* the {id} segments, in order */
	char id_text[HTTP_MAX_PATH_IDS][24]; /* the same as decimal text, for SQL parameters */
	auth_claims claims;
	int authed;          /* claims verified by signature */
	int token_confirmed; /* auth.begin() accepted the token's unit in this request */
	char *body;          /* NUL-terminated, body_len bytes; NULL when none */
	size_t body_len;
	json_doc *json;       /* parsed body (ROUTE_BODY routes) */
	const char *idem_key; /* Idempotency-Key (checked), or NULL */
	long body_read;       /* bytes read so far by http_read */
	struct timespec t0;   /* when the request began (body deadlines, the log) */
	int on_metrics;       /* arrived on the HUYING_METRICS_LISTEN listener */
	int want_csv;
	const char *origin; /* allowed Origin to echo, or NULL */
	int status;         /* answered status, for the log */
	int answered;
	int close; /* close the connection after the answer (e.g. a body left unread) */
	const char *hdr_name[HTTP_MAX_HEADERS];
	char *hdr_value[HTTP_MAX_HEADERS];
	int nhdr;
	buf scratch; /* request-lifetime strings (decoded query values) */
};

/* Starts the listeners. Returns 0 or -1 (already reported on stderr). */
int http_start(void);
/* Stops accepting, waits (up to HUYING_DRAIN_TIMEOUT_MS) for in-flight requests, stops. */
void http_stop(void);

/* 1 once SIGTERM asked the daemon to stop (readyz answers 503 then). */
int http_is_draining(void);

/* A request header (case-insensitive name), or NULL. */
const char *http_get_header(http_req *r, const char *name);

/* Reads up to n bytes of the body (ROUTE_STREAM routes read it themselves). Returns the
 * count, 0 at the end, -1 on error, -2 once more than limit bytes came in all, or -3 when
 * the body is still arriving deadline_ms after the request began (a slow client). */
long http_read(http_req *r, char *dst, size_t n, long limit, int deadline_ms);

/* Answers the problem for a failed database call (SQLSTATE mapped in one table). */
void http_reply_db_error(http_req *r, const db_error *e);

/* Adds a response header for the answer to come (the value is copied). */
void http_header(http_req *r, const char *name, const char *value);

/* Answers with a body of the given content type. */
void http_reply(http_req *r, int status, const char *ctype, const char *body, size_t len);
void http_reply_json(http_req *r, int status, const char *body, size_t len);

/* Answers with a problem+json. errors_json: comma-separated {"field","message"} objects, or
 * NULL. extra_json: extra members ("\"a\":1,...") or NULL. For 400/403/415/422 found before
 * any SQL ran, the token's unit is checked first, so that a bad token is still a 401. */
void http_problem(http_req *r, int status, const char *detail, const char *errors_json);
void http_problem_ex(http_req *r, int status, const char *detail, const char *errors_json, const char *extra_json);

/* Query parameters. names: NULL-terminated list of accepted names. Fills values[i] with the
 * decoded value of names[i] (NULL when absent). An unknown, repeated or undecodable
 * parameter is answered 422 (400 for a malformed cursor); returns -1 then. */
int http_query_or_reply(http_req *r, const char *const *names, const char **values);

/* An application/x-www-form-urlencoded body (ROUTE_FORM: r->body) as one JSON object of
 * strings, {"name": "value", ...}, appended to json: names and values decoded (+ and %XX),
 * each valid UTF-8 without NUL, names of 1 to HTTP_FORM_MAX_NAME bytes, each name once, at
 * most HTTP_FORM_MAX_FIELDS fields; anything else is answered 400 (naming the field when
 * there is one). Which names are known is the handler's business. Returns -1 after
 * answering. */
#define HTTP_FORM_MAX_FIELDS 64
#define HTTP_FORM_MAX_NAME   64
int http_form_json_or_reply(http_req *r, buf *json);

/* The list parameters among those values: limit (1..200, default 50; CSV: 1..10000, default
 * 10000) and cursor (decoded to its JSON keyset text, or NULL). Returns -1 after answering. */
int http_list_params_or_reply(http_req *r, const char *limit_s, const char *cursor_s, char *limit_out, size_t limit_len,
			      const char **cursor_json);

/* A cursor parameter called name: NULL passes (*cursor_json NULL); else it must be one this
 * API returned (base64url of a JSON array of 1..4 scalars), decoded to its JSON text, or 400
 * naming it. Returns -1 after answering. */
int http_cursor_or_reply(http_req *r, const char *name, const char *cursor_s, const char **cursor_json);

/* Both of the above for a list route: names must begin with "limit", "cursor" (the rest are
 * the route's filters, left in values for the caller to check). */
int http_list_query_or_reply(http_req *r, const char *const *names, const char **values, char *limit_out,
			     size_t limit_len, const char **cursor_json);

/* Optional filters: an enum value (one of allowed, NULL-terminated) or an id (a positive
 * integer). NULL passes; anything else is answered 422 naming the filter (returns -1). */
int http_enum_filter_or_reply(http_req *r, const char *name, const char *v, const char *const *allowed);
int http_id_filter_or_reply(http_req *r, const char *name, const char *v);

/* More optional filters, NULL passing as above, anything else answered 422 naming the
 * filter (returns -1): a boolean (true or false); a text of min..max characters (UTF-8
 * code points); an RFC 3339 timestamp with an offset. The timestamp's *v may be replaced
 * by a request-lifetime copy: an unencoded + before the offset reaches the daemon as a
 * space (form decoding), and is read as the + it was. */
int http_bool_filter_or_reply(http_req *r, const char *name, const char *v);
int http_text_filter_or_reply(http_req *r, const char *name, const char *v, size_t min, size_t max);
int http_timestamp_filter_or_reply(http_req *r, const char *name, const char **v);
/* A date filter: absent, or YYYY-MM-DD (a real date); else 422 naming it. */
int http_date_filter_or_reply(http_req *r, const char *name, const char *v);

/* Validates the parsed JSON body against fields; answers 422 naming each bad field. */
int http_validate_or_reply(http_req *r, const json_field *fields);
/* Refuses (422 naming the code field) a body that names one thing both by id and by code:
 * they could name two different things. pairs: n pairs of {id_name, code_name}. */
int http_refs_or_reply(http_req *r, const char *const (*pairs)[2], size_t n);

/* Runs st with the request's claims. On failure answers the problem (SQLSTATE mapped in one
 * table) and returns NULL. */
db_result *http_db_or_reply(http_req *r, db_stmt *st, const char *const *params);

/* Runs st and answers from its row (http_reply_row), or answers the problem. */
void http_answer(http_req *r, db_stmt *st, const char *const *params);

/* Answers 422 with one {field, message} and the given detail. */
void http_field_problem(http_req *r, const char *field, const char *message, const char *detail);

/* Answers from a statement's single row: 1 column = body (200); 2 = etag, body (200);
 * 5 = an api.answer (status, etag, location, body, replayed). No row: 404. Frees res. */
void http_reply_row(http_req *r, db_result *res);

/* Answers a CSV export: BOM, header line, then the first `limit` rows of res (column 0: the
 * CSV line without its CRLF; column 1: the keyset cursor of that row). When res has more than
 * limit rows, a Link rel="next" header carries the cursor. Frees res. */
void http_reply_csv(http_req *r, db_result *res, const char *header, int limit);

/* Answers a list: params[0] is the limit and params[1] the cursor (as from
 * http_list_params_or_reply), the rest are the route's filters. JSON: json_st returns the
 * whole envelope as one value. CSV (Accept: text/csv): csv_st returns up to limit+1 rows of
 * (line, cursor), see http_reply_csv. */
void http_reply_list(http_req *r, db_stmt *json_st, db_stmt *csv_st, const char *csv_header, const char *const *params);

#endif
