/* routes: the one route table. The router (http.c), the authorisation check (http.c), the
 * OpenAPI inventory test (`huyingd routes` -> tests/api) and /metrics all read it. */
#ifndef HUYING_ROUTES_H
#define HUYING_ROUTES_H

typedef struct http_req http_req;
typedef void (*route_fn)(http_req *r);

enum {
	ROUTE_BODY = 1,      /* takes a JSON body: content type, size and syntax are checked before the handler */
	ROUTE_CSV = 2,       /* a list that also answers Accept: text/csv */
	ROUTE_STREAM = 4,    /* a bulk import: text/csv or application/x-ndjson, up to HUYING_IMPORT_LIMIT,
	                   * read by the handler as it goes (http_read) */
	ROUTE_IF_MATCH = 8,  /* a write that honours If-Match (handlers pass it to SQL) */
	ROUTE_EMPTY_OK = 16, /* ROUTE_BODY, but no body at all counts as {} */
	ROUTE_QUERY = 32,    /* the handler reads query parameters; without it any query is a 422 */
	ROUTE_FORM = 64,     /* takes an application/x-www-form-urlencoded body (Open311): content type and size
	                   * are checked and the body read (r->body) before the handler */
};

typedef struct route {
	const char *method;
	const char *path; /* literal segments and {name} segments ({id}, {year}: a positive integer) */
	route_fn fn;
	unsigned roles;    /* auth_role bits allowed; 0: no token needed */
	const char *scope; /* token scope the route needs, or NULL */
	int flags;
} route;

extern const route route_table[];
extern const int route_count;

#endif
