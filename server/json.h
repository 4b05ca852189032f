/* json: strict JSON input for huying. The only module that includes cJSON.h.
 *
 * cJSON alone accepts too much (DEPENDENCIES.md): it keeps the first of duplicate keys while
 * PostgreSQL keeps the last, truncates strings at \u0000, accepts invalid UTF-8, matches keys
 * case-insensitively with its default lookup, and turns big integers into lossy doubles.
 * json_parse() refuses all of that up front, so that what the daemon validates is exactly
 * what PostgreSQL stores: a body that passed is forwarded to SQL as the client's own bytes. */
#ifndef HUYING_JSON_H
#define HUYING_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JSON_MAX_DEPTH 32
#define JSON_MAX_KEYS  1000 /* members per object; bounds the duplicate-key check */

typedef struct json_doc json_doc;

typedef enum { JT_MISSING, JT_NULL, JT_BOOL, JT_NUMBER, JT_STRING, JT_ARRAY, JT_OBJECT } json_type;

/* Parses s[0..n) strictly (see above). Returns a document to free with json_free(), or NULL
 * with a one-line reason in err (always NUL-terminated). */
json_doc *json_parse(const char *s, size_t n, char *err, size_t errlen);
void json_free(json_doc *d);

/* Returns 1 when s[0..n) is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
int json_utf8_valid(const char *s, size_t n);

json_type json_root_type(const json_doc *d);
/* Type of a member of the root object (JT_MISSING when absent or the root is no object). */
json_type json_member_type(const json_doc *d, const char *key);
/* 0 and *s (NUL-terminated, owned by d) when the member is a string, else -1. */
int json_member_str(const json_doc *d, const char *key, const char **s);
/* 0 when the member is a number that is an exact integer within +-2^53, else -1. */
int json_member_int(const json_doc *d, const char *key, int64_t *v);
/* For a root array: its length when every element is a string or an integer, else -1. */
int json_scalar_array_len(const json_doc *d);
/* 0 when member key is an array of strings, each of which is handed to fn; else -1. */
int json_member_each_str(const json_doc *d, const char *key, int (*fn)(const char *s, void *arg), void *arg);
/* For member key, an array of {"field": string, "message": string} objects (the errors of a
 * problem): hands each such object's two strings to fn, skipping any other element. Returns
 * how many it handed, or -1 when the member is not an array. */
int json_member_each_error(const json_doc *d, const char *key,
			   void (*fn)(const char *field, const char *message, void *arg), void *arg);

/* Declarative checks of a request body (an object). */
typedef enum { JF_STRING, JF_INT, JF_BOOL, JF_ENUM, JF_OBJECT, JF_ARRAY, JF_DECIMAL } json_ftype;

typedef struct json_field {
	const char *name;
	json_ftype type;
	int required;
	int64_t min, max;            /* JF_STRING: length in characters; JF_INT: value;
	                              * JF_DECIMAL: value in units of 0.0001 (at most 4 decimal places) */
	const char *const *values;   /* JF_ENUM: NULL-terminated allowed strings */
	int (*check)(const char *s); /* JF_STRING: extra check, returns 0 when fine */
	const char *check_msg;       /* message when check() fails */
} json_field;

/* Checks that the root is an object whose members are all in fields (NULL-name terminated),
 * with the right types and ranges, and that required members are there. Appends one
 * {"field","message"} JSON object per problem to errs (comma-separated, no brackets).
 * Returns the number of problems. */
int json_validate(const json_doc *d, const json_field *fields, buf *errs);

/* The largest id a JSON number carries exactly (2^53 - 1). */
#define JSON_MAX_ID 9007199254740991LL
/* 0 when s is a code (units, items, grids, domains): A-Z a-z 0-9 _ . - only; else -1. */
int json_code_ok(const char *s);
/* Field rows for a reference by id or by code (1 to 64 code characters). */
#define JF_ID(name, required) {name, JF_INT, required, 1, JSON_MAX_ID, NULL, NULL, NULL}
#define JF_CODE(name, required) {name, JF_STRING, required, 1, 64, NULL, json_code_ok, "may contain only A-Z a-z 0-9 _ . -"}

/* Appends {"field":...,"message":...} to errs, with a separating comma when needed. */
void json_error_add(buf *errs, const char *field, const char *message);

#endif
