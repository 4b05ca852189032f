#include "json.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_doc {
	cJSON *root;
};

int json_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	while (p < e) {
		unsigned c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t need;
		unsigned cp;
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if ((size_t)(e - p) <= need)
			return 0;
		for (size_t i = 1; i <= need; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		p += need + 1;
	}
	return 1;
}

/* Finds \u0000 inside string literals of raw JSON text: cJSON would silently cut the
 * string there. Returns the byte offset or -1. */
static long find_nul_escape(const char *s, size_t n)
{
	int in_str = 0;
	for (size_t i = 0; i < n; i++) {
		if (!in_str) {
			if (s[i] == '"')
				in_str = 1;
			continue;
		}
		if (s[i] == '"') {
			in_str = 0;
		} else if (s[i] == '\\' && i + 1 < n) {
			if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
				return (long)i;
			i++; /* skip the escaped character */
		}
	}
	return -1;
}

/* Depth and duplicate keys, recursively. Returns 0 or -1 with err set. */
static int check_tree(const cJSON *node, int depth, char *err, size_t errlen)
{
	if (depth > JSON_MAX_DEPTH) {
		snprintf(err, errlen, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
		return -1;
	}
	int keys = 0;
	for (const cJSON *c = node->child; c; c = c->next) {
		if (cJSON_IsObject(node)) {
			if (++keys > JSON_MAX_KEYS) {
				snprintf(err, errlen, "an object has more than %d members", JSON_MAX_KEYS);
				return -1;
			}
			for (const cJSON *o = node->child; o != c; o = o->next) {
				if (strcmp(o->string, c->string) == 0) {
					snprintf(err, errlen, "duplicate key \"%.64s\"", c->string);
					return -1;
				}
			}
		}
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && check_tree(c, depth + 1, err, errlen) < 0)
			return -1;
	}
	return 0;
}

json_doc *json_parse(const char *s, size_t n, char *err, size_t errlen)
{
	err[0] = '\0';
	if (!json_utf8_valid(s, n)) {
		snprintf(err, errlen, "the body is not valid UTF-8");
		return NULL;
	}
	long nul = find_nul_escape(s, n);
	if (nul >= 0) {
		snprintf(err, errlen, "\\u0000 is not allowed in strings (byte %ld)", nul);
		return NULL;
	}
	/* Refuse early what is nested too deep, before cJSON recurses into it. */
	int depth = 0, in_str = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if ((unsigned char)c < 0x20) {
				/* JSON forbids raw control characters in strings; cJSON lets them
				 * through (a raw NUL would even cut the string short). */
				snprintf(err, errlen, "raw control character in a string (byte %zu): escape it", i);
				return NULL;
			}
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > JSON_MAX_DEPTH + 1) {
				snprintf(err, errlen, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
				return NULL;
			}
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	/* cJSON wants the terminating NUL counted when it must reach the end; the body
	 * buffers handed to us are NUL-terminated (http.c guarantees it). */
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(s, n + 1, &end, 1);
	if (!root) {
		long at = end ? (long)(end - s) : -1;
		if (at >= 0 && (size_t)at > n)
			at = (long)n;
		snprintf(err, errlen, "malformed JSON near byte %ld", at);
		return NULL;
	}
	if (check_tree(root, 1, err, errlen) < 0) {
		cJSON_Delete(root);
		return NULL;
	}
	json_doc *d = malloc(sizeof *d);
	if (!d) {
		cJSON_Delete(root);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->root = root;
	return d;
}

void json_free(json_doc *d)
{
	if (!d)
		return;
	cJSON_Delete(d->root);
	free(d);
}

static json_type type_of(const cJSON *c)
{
	if (!c)
		return JT_MISSING;
	if (cJSON_IsNull(c))
		return JT_NULL;
	if (cJSON_IsBool(c))
		return JT_BOOL;
	if (cJSON_IsNumber(c))
		return JT_NUMBER;
	if (cJSON_IsString(c))
		return JT_STRING;
	if (cJSON_IsArray(c))
		return JT_ARRAY;
	return JT_OBJECT;
}

static const cJSON *member(const json_doc *d, const char *key)
{
	if (!d || !cJSON_IsObject(d->root))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(d->root, key);
}

json_type json_root_type(const json_doc *d)
{
	return type_of(d->root);
}

json_type json_member_type(const json_doc *d, const char *key)
{
	return type_of(member(d, key));
}

int json_member_str(const json_doc *d, const char *key, const char **s)
{
	const cJSON *c = member(d, key);
	if (!cJSON_IsString(c))
		return -1;
	*s = c->valuestring;
	return 0;
}

#define MAX_SAFE                                                                                                       \
	9007199254740991.0 /* 2^53 - 1: from 2^53 on, doubles skip integers, so
                                     * 2^53 + 1 would arrive as 2^53: refuse both */

static int exact_int(const cJSON *c, int64_t *v)
{
	if (!cJSON_IsNumber(c))
		return -1;
	double x = c->valuedouble;
	if (!isfinite(x) || x > MAX_SAFE || x < -MAX_SAFE || x != floor(x))
		return -1;
	*v = (int64_t)x;
	return 0;
}

int json_member_int(const json_doc *d, const char *key, int64_t *v)
{
	return exact_int(member(d, key), v);
}

int json_scalar_array_len(const json_doc *d)
{
	if (!cJSON_IsArray(d->root))
		return -1;
	int n = 0;
	for (const cJSON *c = d->root->child; c; c = c->next, n++) {
		int64_t v;
		if (!cJSON_IsString(c) && exact_int(c, &v) < 0)
			return -1;
	}
	return n;
}

int json_member_each_str(const json_doc *d, const char *key, int (*fn)(const char *s, void *arg), void *arg)
{
	const cJSON *a = member(d, key);
	if (!cJSON_IsArray(a))
		return -1;
	for (const cJSON *c = a->child; c; c = c->next) {
		if (!cJSON_IsString(c))
			return -1;
		if (fn(c->valuestring, arg) != 0)
			return 1;
	}
	return 0;
}

int json_member_each_error(const json_doc *d, const char *key,
			   void (*fn)(const char *field, const char *message, void *arg), void *arg)
{
	const cJSON *a = member(d, key);
	if (!cJSON_IsArray(a))
		return -1;
	int n = 0;
	for (const cJSON *c = a->child; c; c = c->next) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "field");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "message");
		if (cJSON_IsString(f) && cJSON_IsString(m)) {
			fn(f->valuestring, m->valuestring, arg);
			n++;
		}
	}
	return n;
}

void json_error_add(buf *errs, const char *field, const char *message)
{
	if (errs->len)
		buf_putc(errs, ',');
	buf_puts(errs, "{\"field\":");
	buf_json_str(errs, field, strlen(field));
	buf_puts(errs, ",\"message\":");
	buf_json_str(errs, message, strlen(message));
	buf_putc(errs, '}');
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int check_field(const cJSON *c, const json_field *f, buf *errs)
{
	char msg[160];
	int64_t v;
	switch (f->type) {
	case JF_STRING:
		if (!cJSON_IsString(c)) {
			json_error_add(errs, f->name, "must be a string");
			return 1;
		}
		size_t len = utf8_chars(c->valuestring);
		if ((int64_t)len < f->min || (int64_t)len > f->max) {
			snprintf(msg, sizeof msg, "must be %lld to %lld characters long", (long long)f->min,
				 (long long)f->max);
			json_error_add(errs, f->name, msg);
			return 1;
		}
		if (f->check && f->check(c->valuestring) != 0) {
			json_error_add(errs, f->name, f->check_msg ? f->check_msg : "is not valid");
			return 1;
		}
		return 0;
	case JF_INT:
		if (exact_int(c, &v) < 0) {
			json_error_add(errs, f->name, "must be an integer");
			return 1;
		}
		if (v < f->min || v > f->max) {
			snprintf(msg, sizeof msg, "must be between %lld and %lld", (long long)f->min,
				 (long long)f->max);
			json_error_add(errs, f->name, msg);
			return 1;
		}
		return 0;
	case JF_DECIMAL: {
		/* a number with at most 4 decimal places, within [min, max] × 0.0001 */
		double x = cJSON_IsNumber(c) ? c->valuedouble * 10000 : NAN;
		if (!isfinite(x) || fabs(x - round(x)) > 1e-6 || round(x) < (double)f->min || round(x) > (double)f->max) {
			snprintf(msg, sizeof msg, "must be a number between %g and %g with at most 4 decimal places",
				 (double)f->min / 10000, (double)f->max / 10000);
			json_error_add(errs, f->name, msg);
			return 1;
		}
		return 0;
	}
	case JF_ARRAY:
		if (!cJSON_IsArray(c)) {
			json_error_add(errs, f->name, "must be an array");
			return 1;
		}
		return 0;
	case JF_OBJECT:
		if (!cJSON_IsObject(c)) {
			json_error_add(errs, f->name, "must be an object");
			return 1;
		}
		return 0;
	case JF_BOOL:
		if (!cJSON_IsBool(c)) {
			json_error_add(errs, f->name, "must be true or false");
			return 1;
		}
		return 0;
	case JF_ENUM:
		if (cJSON_IsString(c))
			for (const char *const *e = f->values; *e; e++)
				if (strcmp(*e, c->valuestring) == 0)
					return 0;
		buf b = {0};
		buf_puts(&b, "must be one of:");
		for (const char *const *e = f->values; *e; e++)
			buf_printf(&b, " %s", *e);
		json_error_add(errs, f->name, buf_str(&b));
		buf_free(&b);
		return 1;
	}
	return 0;
}

int json_validate(const json_doc *d, const json_field *fields, buf *errs)
{
	if (!cJSON_IsObject(d->root)) {
		json_error_add(errs, "(body)", "must be a JSON object");
		return 1;
	}
	int bad = 0;
	for (const cJSON *c = d->root->child; c; c = c->next) {
		const json_field *f = fields;
		while (f->name && strcmp(f->name, c->string) != 0)
			f++;
		if (!f->name) {
			json_error_add(errs, c->string, "is not a known field");
			bad++;
		} else if (!(cJSON_IsNull(c) && !f->required)) {
			bad += check_field(c, f, errs);
		}
	}
	for (const json_field *f = fields; f->name; f++) {
		if (f->required && !cJSON_GetObjectItemCaseSensitive(d->root, f->name)) {
			json_error_add(errs, f->name, "is required");
			bad++;
		}
	}
	return bad;
}

int json_code_ok(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(s) ? 0 : -1;
}
