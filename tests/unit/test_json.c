/* Unit tests for server/json.c (strict JSON input) and buf_json_str (server/buf.c).
 *
 * Each cJSON trap listed in DEPENDENCIES.md has a test here: duplicate keys, \u0000,
 * invalid UTF-8, trailing garbage, nesting depth, case-insensitive lookup and lossy numbers.
 * json_parse() reads s[n] (it hands cJSON the terminating NUL), so every input below is a
 * NUL-terminated string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

/* ---- helpers ------------------------------------------------------------------------- */

/* Parses a NUL-terminated string; NULL when json_parse refused it (err must then be set). */
static json_doc *parse(const char *s)
{
	char err[160];
	json_doc *d = json_parse(s, strlen(s), err, sizeof err);
	if (!d)
		assert_true(err[0] != '\0');
	return d;
}

static void assert_accepted(const char *s)
{
	json_doc *d = parse(s);
	if (!d)
		fail_msg("refused but should be accepted: %s", s);
	json_free(d);
}

static void assert_refused(const char *s)
{
	json_doc *d = parse(s);
	if (d) {
		json_free(d);
		fail_msg("accepted but should be refused: %s", s);
	}
}

/* Parses s[0..n) where s may hold NUL bytes; the buffer is copied and NUL-terminated the way
 * http.c terminates bodies. */
static json_doc *parse_bytes(const char *s, size_t n)
{
	char err[160];
	char *copy = malloc(n + 1);
	assert_non_null(copy);
	memcpy(copy, s, n);
	copy[n] = '\0';
	json_doc *d = json_parse(copy, n, err, sizeof err);
	free(copy);
	return d;
}

/* n opening brackets followed by n closing ones: nesting depth n. */
static char *nested_arrays(int n)
{
	char *s = malloc((size_t)n * 2 + 1);
	assert_non_null(s);
	memset(s, '[', (size_t)n);
	memset(s + n, ']', (size_t)n);
	s[2 * n] = '\0';
	return s;
}

/* {"a":{"a":...{"a":1}...}}: nesting depth n. */
static char *nested_objects(int n)
{
	buf b = {0};
	for (int i = 0; i < n - 1; i++)
		buf_puts(&b, "{\"a\":");
	buf_puts(&b, "{\"a\":1}");
	for (int i = 0; i < n - 1; i++)
		buf_putc(&b, '}');
	assert_false(b.oom);
	return b.p;
}

/* ---- parsing ------------------------------------------------------------------------- */

static void test_valid_object_parses(void **state)
{
	(void)state;
	json_doc *d = parse("{\"code\":\"U1\",\"n\":3,\"ok\":true,\"x\":null,\"l\":[1,2],\"o\":{}}");
	assert_non_null(d);
	assert_int_equal(json_root_type(d), JT_OBJECT);
	assert_int_equal(json_member_type(d, "code"), JT_STRING);
	assert_int_equal(json_member_type(d, "n"), JT_NUMBER);
	assert_int_equal(json_member_type(d, "ok"), JT_BOOL);
	assert_int_equal(json_member_type(d, "x"), JT_NULL);
	assert_int_equal(json_member_type(d, "l"), JT_ARRAY);
	assert_int_equal(json_member_type(d, "o"), JT_OBJECT);
	assert_int_equal(json_member_type(d, "absent"), JT_MISSING);
	const char *s = NULL;
	assert_int_equal(json_member_str(d, "code", &s), 0);
	assert_string_equal(s, "U1");
	assert_int_equal(json_member_str(d, "n", &s), -1);
	json_free(d);
}

static void test_scalar_and_array_roots_parse(void **state)
{
	(void)state;
	json_doc *d = parse("[1,\"a\"]");
	assert_non_null(d);
	assert_int_equal(json_root_type(d), JT_ARRAY);
	assert_int_equal(json_member_type(d, "a"), JT_MISSING); /* members only of an object root */
	json_free(d);
	d = parse("\"s\"");
	assert_non_null(d);
	assert_int_equal(json_root_type(d), JT_STRING);
	json_free(d);
}

static void test_empty_and_malformed_bodies_are_rejected(void **state)
{
	(void)state;
	assert_refused("");
	assert_refused("   ");
	assert_refused("{");
	assert_refused("{\"a\":}");
	assert_refused("{\"a\":1,}");
	assert_refused("{'a':1}");
}

static void test_json_free_accepts_null(void **state)
{
	(void)state;
	json_free(NULL);
}

static void test_duplicate_keys_are_rejected(void **state)
{
	(void)state;
	assert_refused("{\"a\":1,\"a\":2}");
	assert_refused("{\"a\":1,\"b\":2,\"a\":1}");
	/* PostgreSQL would keep the last one, cJSON the first: either way it is refused. */
	assert_refused("{\"role\":\"township\",\"role\":\"district\"}");
}

static void test_nested_duplicate_keys_are_rejected(void **state)
{
	(void)state;
	assert_refused("{\"o\":{\"k\":1,\"k\":2}}");
	assert_refused("[{\"k\":1},{\"k\":1,\"k\":2}]");
	assert_refused("{\"a\":[[{\"x\":{\"y\":1,\"y\":1}}]]}");
}

static void test_same_key_in_different_objects_is_accepted(void **state)
{
	(void)state;
	assert_accepted("{\"a\":{\"a\":1},\"b\":{\"a\":2}}");
	assert_accepted("[{\"k\":1},{\"k\":2}]");
	/* Keys differing only in case are different keys. */
	assert_accepted("{\"role\":1,\"Role\":2}");
}

static void test_nul_escape_is_rejected(void **state)
{
	(void)state;
	assert_refused("{\"a\":\"\\u0000\"}");
	assert_refused("{\"a\":\"ab\\u0000cd\"}");
	assert_refused("{\"a\\u0000b\":1}"); /* in a key */
	assert_refused("[\"x\",\"\\u0000\"]");
	assert_refused("{\"a\":\"\\\\\\u0000\"}"); /* escaped backslash, then \u0000 */
}

static void test_escaped_backslash_before_u0000_is_accepted(void **state)
{
	(void)state;
	/* JSON text "\\u0000" is a backslash followed by the six characters u0000. */
	json_doc *d = parse("{\"a\":\"\\\\u0000\"}");
	assert_non_null(d);
	const char *s = NULL;
	assert_int_equal(json_member_str(d, "a", &s), 0);
	assert_string_equal(s, "\\u0000");
	json_free(d);
	assert_accepted("{\"a\":\"\\u0001\\u00e9\"}");
}

/* A raw NUL is not JSON; accepting it lets the bytes after it go unchecked (libpq would also
 * cut the text parameter there, so the database would see another document). */
static void test_raw_nul_byte_inside_a_string_is_rejected(void **state)
{
	(void)state;
	static const char body[] = "{\"a\":\"x\0y\"}";
	json_doc *d = parse_bytes(body, sizeof body - 1);
	if (d) {
		json_free(d);
		fail_msg("a raw NUL byte inside a string was accepted");
	}
}

static void test_bytes_after_a_raw_nul_byte_are_rejected(void **state)
{
	(void)state;
	static const char body[] = "{\"a\":1}\0garbage";
	json_doc *d = parse_bytes(body, sizeof body - 1);
	if (d) {
		json_free(d);
		fail_msg("bytes after a raw NUL byte were accepted");
	}
}

static void test_unescaped_control_character_in_string_is_rejected(void **state)
{
	(void)state;
	/* RFC 8259 section 7; PostgreSQL's jsonb refuses these too (22P02). */
	assert_refused("{\"a\":\"line\nbreak\"}");
	assert_refused("{\"a\":\"tab\there\"}");
	assert_accepted("{\"a\":\"line\\nbreak\"}");
}

static void test_invalid_utf8_is_rejected(void **state)
{
	(void)state;
	assert_refused("{\"a\":\"\x80\"}"); /* lone continuation byte */
	assert_refused("{\"a\":\"\xBF\"}");
	assert_refused("{\"a\":\"\xC0\x80\"}");         /* overlong NUL */
	assert_refused("{\"a\":\"\xC1\xBF\"}");         /* overlong 0x7F */
	assert_refused("{\"a\":\"\xE0\x80\xAF\"}");     /* overlong '/' in 3 bytes */
	assert_refused("{\"a\":\"\xF0\x80\x80\xAF\"}"); /* overlong '/' in 4 bytes */
	assert_refused("{\"a\":\"\xED\xA0\x80\"}");     /* UTF-16 surrogate U+D800 */
	assert_refused("{\"a\":\"\xED\xBF\xBF\"}");     /* UTF-16 surrogate U+DFFF */
	assert_refused("{\"a\":\"\xF4\x90\x80\x80\"}"); /* U+110000, above U+10FFFF */
	assert_refused("{\"a\":\"\xF5\x80\x80\x80\"}");
	assert_refused("{\"a\":\"\xFF\"}");
	assert_refused("{\"a\":\"\xE4\xB8\"}"); /* truncated 3-byte sequence */
	assert_refused("{\"a\":\"\xE4\"}");
	assert_refused("{\"a\":\"\xE4\x41\x41\"}"); /* lead byte followed by ASCII */
	assert_refused("{\"\xC3\":1}");             /* in a key */
}

static void test_json_utf8_valid_checks_sequence_ends(void **state)
{
	(void)state;
	assert_int_equal(json_utf8_valid("", 0), 1);
	assert_int_equal(json_utf8_valid("abc", 3), 1);
	assert_int_equal(json_utf8_valid("\xE4\xB8\xAD", 3), 1);
	assert_int_equal(json_utf8_valid("\xE4\xB8\xAD", 2), 0); /* truncated by the length */
	assert_int_equal(json_utf8_valid("\xF0\x9F\x98\x80", 4), 1);
	assert_int_equal(json_utf8_valid("\xF0\x9F\x98\x80", 3), 0);
	assert_int_equal(json_utf8_valid("\xC2\x80", 2), 1);         /* U+0080, smallest 2-byte */
	assert_int_equal(json_utf8_valid("\xDF\xBF", 2), 1);         /* U+07FF */
	assert_int_equal(json_utf8_valid("\xE0\xA0\x80", 3), 1);     /* U+0800, smallest 3-byte */
	assert_int_equal(json_utf8_valid("\xED\x9F\xBF", 3), 1);     /* U+D7FF, just below surrogates */
	assert_int_equal(json_utf8_valid("\xEE\x80\x80", 3), 1);     /* U+E000, just above */
	assert_int_equal(json_utf8_valid("\xF0\x90\x80\x80", 4), 1); /* U+10000 */
	assert_int_equal(json_utf8_valid("\xF4\x8F\xBF\xBF", 4), 1); /* U+10FFFF */
	assert_int_equal(json_utf8_valid("\xF4\x90\x80\x80", 4), 0);
	assert_int_equal(json_utf8_valid("\xC0\x80", 2), 0);
	assert_int_equal(json_utf8_valid("\xED\xA0\x80", 3), 0);
	assert_int_equal(json_utf8_valid("\x80", 1), 0);
}

static void test_valid_chinese_is_accepted(void **state)
{
	(void)state;
	json_doc *d = parse("{\"name\":\"呼应区城关街道办事处\",\"名称\":\"网格😀\"}");
	assert_non_null(d);
	const char *s = NULL;
	assert_int_equal(json_member_str(d, "name", &s), 0);
	assert_string_equal(s, "呼应区城关街道办事处");
	assert_int_equal(json_member_str(d, "名称", &s), 0);
	assert_string_equal(s, "网格😀");
	json_free(d);
	assert_accepted("{\"a\":\"\xF4\x8F\xBF\xBF\"}"); /* U+10FFFF */
}

static void test_escaped_lone_surrogate_is_rejected(void **state)
{
	(void)state;
	assert_refused("{\"a\":\"\\ud800\"}");
	assert_accepted("{\"a\":\"\\ud83d\\ude00\"}"); /* a proper pair */
}

static void test_trailing_garbage_is_rejected(void **state)
{
	(void)state;
	assert_refused("{\"a\":1}x");
	assert_refused("{\"a\":1} x");
	assert_refused("{\"a\":1}{\"b\":2}");
	assert_refused("{\"a\":1}]");
	assert_refused("[1]]");
}

static void test_trailing_whitespace_is_accepted(void **state)
{
	(void)state;
	assert_accepted("{\"a\":1} \t\r\n");
	assert_accepted(" \n{\"a\":1}");
}

static void test_depth_32_is_accepted(void **state)
{
	(void)state;
	char *s = nested_arrays(JSON_MAX_DEPTH);
	assert_accepted(s);
	free(s);
	s = nested_objects(JSON_MAX_DEPTH);
	assert_accepted(s);
	free(s);
}

static void test_depth_33_is_rejected(void **state)
{
	(void)state;
	char *s = nested_arrays(JSON_MAX_DEPTH + 1);
	assert_refused(s);
	free(s);
	s = nested_objects(JSON_MAX_DEPTH + 1);
	assert_refused(s);
	free(s);
	s = nested_arrays(JSON_MAX_DEPTH + 2);
	assert_refused(s);
	free(s);
}

static void test_ten_thousand_open_brackets_are_rejected_without_crashing(void **state)
{
	(void)state;
	char *s = malloc(10001);
	assert_non_null(s);
	memset(s, '[', 10000);
	s[10000] = '\0';
	assert_refused(s);
	free(s);
	s = nested_arrays(10000);
	assert_refused(s);
	free(s);
	s = nested_objects(5000);
	assert_refused(s);
	free(s);
}

static void test_brackets_inside_strings_do_not_count_as_depth(void **state)
{
	(void)state;
	buf b = {0};
	buf_puts(&b, "{\"a\":\"");
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "[{");
	buf_puts(&b, "\\\"[[[[\"}");
	assert_false(b.oom);
	assert_accepted(buf_str(&b));
	buf_free(&b);
}

static void test_too_many_members_are_rejected(void **state)
{
	(void)state;
	buf b = {0};
	buf_putc(&b, '{');
	for (int i = 0; i <= JSON_MAX_KEYS; i++)
		buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	buf_putc(&b, '}');
	assert_false(b.oom);
	assert_refused(buf_str(&b));
	buf_free(&b);
}

/* ---- member access ------------------------------------------------------------------- */

static void test_member_lookup_is_case_sensitive(void **state)
{
	(void)state;
	json_doc *d = parse("{\"Role\":\"district\"}");
	assert_non_null(d);
	const char *s = NULL;
	assert_int_equal(json_member_type(d, "role"), JT_MISSING);
	assert_int_equal(json_member_str(d, "role", &s), -1);
	assert_int_equal(json_member_str(d, "Role", &s), 0);
	assert_string_equal(s, "district");
	json_free(d);

	d = parse("{\"Role\":\"district\",\"role\":\"township\"}");
	assert_non_null(d);
	assert_int_equal(json_member_str(d, "role", &s), 0);
	assert_string_equal(s, "township");
	json_free(d);
}

/* json_member_int on {"v": text}: 0 and *out, or -1. */
static int member_int(const char *text, int64_t *out)
{
	buf b = {0};
	buf_printf(&b, "{\"v\":%s}", text);
	json_doc *d = parse(buf_str(&b));
	buf_free(&b);
	assert_non_null(d);
	int rc = json_member_int(d, "v", out);
	json_free(d);
	return rc;
}

static void test_member_int_rejects_fractions(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(member_int("1.5", &v), -1);
	assert_int_equal(member_int("-0.5", &v), -1);
	assert_int_equal(member_int("1e-1", &v), -1);
}

static void test_member_int_rejects_infinity(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(member_int("1e400", &v), -1);
	assert_int_equal(member_int("-1e400", &v), -1);
	assert_int_equal(member_int("1e300", &v), -1);
}

static void test_member_int_rejects_non_numbers(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(member_int("\"1\"", &v), -1);
	assert_int_equal(member_int("true", &v), -1);
	assert_int_equal(member_int("false", &v), -1);
	assert_int_equal(member_int("null", &v), -1);
	assert_int_equal(member_int("[1]", &v), -1);
	assert_int_equal(member_int("{}", &v), -1);
	json_doc *d = parse("{}");
	assert_non_null(d);
	assert_int_equal(json_member_int(d, "v", &v), -1); /* absent */
	json_free(d);
}

static void test_member_int_rejects_integers_doubles_cannot_hold(void **state)
{
	(void)state;
	int64_t v = 0;
	/* 2^53 + 1 reads as 2^53 in a double: accepting it would validate another number than
	 * the one PostgreSQL stores. */
	assert_int_equal(member_int("9007199254740993", &v), -1);
	assert_int_equal(member_int("-9007199254740993", &v), -1);
	assert_int_equal(member_int("9007199254740994", &v), -1);
	assert_int_equal(member_int("18446744073709551616", &v), -1);
}

static void test_member_int_accepts_up_to_two_to_the_53_minus_one(void **state)
{
	(void)state;
	int64_t v = 0;
	assert_int_equal(member_int("9007199254740991", &v), 0);
	assert_true(v == INT64_C(9007199254740991));
	/* 2^53 itself is refused: 2^53 + 1 reads as the same double */
	assert_int_equal(member_int("9007199254740992", &v), -1);
}

static void test_member_int_accepts_exact_integers(void **state)
{
	(void)state;
	int64_t v = 0;
	assert_int_equal(member_int("-5", &v), 0);
	assert_true(v == -5);
	assert_int_equal(member_int("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(member_int("9007199254740991", &v), 0);
	assert_true(v == INT64_C(9007199254740991));
	assert_int_equal(member_int("-9007199254740991", &v), 0);
	assert_true(v == -INT64_C(9007199254740991));
	/* Beyond INT_MAX: cJSON's valueint saturates, the double does not. */
	assert_int_equal(member_int("3000000000", &v), 0);
	assert_true(v == INT64_C(3000000000));
}

static void test_scalar_array_len(void **state)
{
	(void)state;
	struct {
		const char *text;
		int want;
	} cases[] = {
		{"[]", 0},
		{"[\"CD-ZJ\"]", 1},
		{"[\"CD-ZJ\",42]", 2},
		{"[1,2,3,4]", 4},
		{"[1.5]", -1},
		{"[9007199254740993]", -1},
		{"[null]", -1},
		{"[true]", -1},
		{"[[1]]", -1},
		{"[{}]", -1},
		{"[\"a\",{\"b\":1}]", -1},
		{"{\"a\":1}", -1},
		{"\"a\"", -1},
		{"7", -1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_doc *d = parse(cases[i].text);
		assert_non_null(d);
		int got = json_scalar_array_len(d);
		if (got != cases[i].want)
			fail_msg("json_scalar_array_len(%s) = %d, want %d", cases[i].text, got, cases[i].want);
		json_free(d);
	}
}

static int collect(const char *s, void *arg)
{
	buf *b = arg;
	buf_printf(b, "%s|", s);
	return strcmp(s, "stop") == 0;
}

static void test_member_each_str(void **state)
{
	(void)state;
	json_doc *d = parse("{\"a\":[\"x\",\"y\"],\"b\":[\"x\",1],\"c\":\"x\",\"d\":[\"x\",\"stop\",\"z\"]}");
	assert_non_null(d);
	buf b = {0};
	assert_int_equal(json_member_each_str(d, "a", collect, &b), 0);
	assert_string_equal(buf_str(&b), "x|y|");
	buf_reset(&b);
	assert_int_equal(json_member_each_str(d, "b", collect, &b), -1);
	assert_int_equal(json_member_each_str(d, "c", collect, &b), -1);
	assert_int_equal(json_member_each_str(d, "missing", collect, &b), -1);
	buf_reset(&b);
	assert_int_equal(json_member_each_str(d, "d", collect, &b), 1); /* stopped by fn */
	assert_string_equal(buf_str(&b), "x|stop|");
	buf_free(&b);
	json_free(d);
}

/* ---- json_validate ------------------------------------------------------------------- */

static const char *const kinds[] = {"township", "department", NULL};

static int no_spaces(const char *s)
{
	return strchr(s, ' ') != NULL;
}

static const json_field unit_fields[] = {
	{"code", JF_STRING, 1, 1, 8, NULL, no_spaces, "must not contain spaces"},
	{"name", JF_STRING, 1, 1, 100, NULL, NULL, NULL},
	{"kind", JF_ENUM, 1, 0, 0, kinds, NULL, NULL},
	{"parent_id", JF_INT, 0, 1, 9007199254740991LL, NULL, NULL, NULL},
	{"level", JF_INT, 0, -2, 5, NULL, NULL, NULL},
	{"active", JF_BOOL, 0, 0, 0, NULL, NULL, NULL},
	{"phone", JF_STRING, 0, 1, 32, NULL, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* Validates text against unit_fields; returns the count and leaves the errors in *errs. */
static int validate(const char *text, buf *errs)
{
	json_doc *d = parse(text);
	assert_non_null(d);
	buf_reset(errs);
	int n = json_validate(d, unit_fields, errs);
	json_free(d);
	return n;
}

#define VALID_BASE "\"code\":\"U1\",\"name\":\"n\",\"kind\":\"township\""

static void test_validate_accepts_a_valid_body(void **state)
{
	(void)state;
	buf e = {0};
	assert_int_equal(validate("{" VALID_BASE "}", &e), 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(validate("{" VALID_BASE ",\"parent_id\":7,\"level\":-2,\"active\":false,\"phone\":\"1\"}", &e),
			 0);
	assert_int_equal(e.len, 0);
	buf_free(&e);
}

static void test_validate_rejects_unknown_field(void **state)
{
	(void)state;
	buf e = {0};
	assert_int_equal(validate("{" VALID_BASE ",\"colour\":\"red\"}", &e), 1);
	assert_string_equal(buf_str(&e), "{\"field\":\"colour\",\"message\":\"is not a known field\"}");
	/* Field names are case-sensitive: "Code" is unknown and "code" is still missing. */
	assert_int_equal(validate("{\"Code\":\"U1\",\"name\":\"n\",\"kind\":\"township\"}", &e), 2);
	assert_string_equal(buf_str(&e), "{\"field\":\"Code\",\"message\":\"is not a known field\"},"
					 "{\"field\":\"code\",\"message\":\"is required\"}");
	buf_free(&e);
}

static void test_validate_reports_missing_required_fields(void **state)
{
	(void)state;
	buf e = {0};
	assert_int_equal(validate("{}", &e), 3);
	assert_string_equal(buf_str(&e), "{\"field\":\"code\",\"message\":\"is required\"},"
					 "{\"field\":\"name\",\"message\":\"is required\"},"
					 "{\"field\":\"kind\",\"message\":\"is required\"}");
	buf_free(&e);
}

static void test_validate_rejects_wrong_types(void **state)
{
	(void)state;
	buf e = {0};
	assert_int_equal(validate("{\"code\":1,\"name\":[],\"kind\":7,\"parent_id\":\"7\",\"active\":1}", &e), 5);
	assert_string_equal(buf_str(&e), "{\"field\":\"code\",\"message\":\"must be a string\"},"
					 "{\"field\":\"name\",\"message\":\"must be a string\"},"
					 "{\"field\":\"kind\",\"message\":\"must be one of: township department\"},"
					 "{\"field\":\"parent_id\",\"message\":\"must be an integer\"},"
					 "{\"field\":\"active\",\"message\":\"must be true or false\"}");
	assert_int_equal(validate("{" VALID_BASE ",\"parent_id\":1.5}", &e), 1);
	assert_string_equal(buf_str(&e), "{\"field\":\"parent_id\",\"message\":\"must be an integer\"}");
	assert_int_equal(validate("{" VALID_BASE ",\"parent_id\":true}", &e), 1);
	buf_free(&e);
}

static void test_validate_rejects_a_root_that_is_not_an_object(void **state)
{
	(void)state;
	buf e = {0};
	assert_int_equal(validate("[]", &e), 1);
	assert_string_equal(buf_str(&e), "{\"field\":\"(body)\",\"message\":\"must be a JSON object\"}");
	assert_int_equal(validate("null", &e), 1);
	buf_free(&e);
}

/* {"code":"U1","kind":"township","name":"<n copies of s>"} */
static int validate_name_of(const char *s, int n, buf *errs)
{
	buf b = {0};
	buf_puts(&b, "{\"code\":\"U1\",\"kind\":\"township\",\"name\":\"");
	for (int i = 0; i < n; i++)
		buf_puts(&b, s);
	buf_puts(&b, "\"}");
	int rc = validate(buf_str(&b), errs);
	buf_free(&b);
	return rc;
}

static void test_string_length_counts_characters_not_bytes(void **state)
{
	(void)state;
	buf e = {0};
	assert_int_equal(validate_name_of("区", 100, &e), 0); /* 300 bytes, 100 characters */
	assert_int_equal(validate_name_of("区", 101, &e), 1);
	assert_string_equal(buf_str(&e), "{\"field\":\"name\",\"message\":\"must be 1 to 100 characters long\"}");
	assert_int_equal(validate_name_of("😀", 100, &e), 0); /* 4-byte characters */
	assert_int_equal(validate_name_of("a", 100, &e), 0);
	assert_int_equal(validate_name_of("a", 101, &e), 1);
	assert_int_equal(validate_name_of("a", 0, &e), 1); /* below the minimum */
	buf_free(&e);
}

static void test_string_check_function_is_applied(void **state)
{
	(void)state;
	buf e = {0};
	assert_int_equal(validate("{\"code\":\"U 1\",\"name\":\"n\",\"kind\":\"township\"}", &e), 1);
	assert_string_equal(buf_str(&e), "{\"field\":\"code\",\"message\":\"must not contain spaces\"}");
	buf_free(&e);
}

static void test_enum_accepts_only_listed_values(void **state)
{
	(void)state;
	buf e = {0};
	assert_int_equal(validate("{\"code\":\"U1\",\"name\":\"n\",\"kind\":\"department\"}", &e), 0);
	assert_int_equal(validate("{\"code\":\"U1\",\"name\":\"n\",\"kind\":\"Township\"}", &e), 1);
	assert_string_equal(buf_str(&e), "{\"field\":\"kind\",\"message\":\"must be one of: township department\"}");
	assert_int_equal(validate("{\"code\":\"U1\",\"name\":\"n\",\"kind\":\"district_office\"}", &e), 1);
	buf_free(&e);
}

static void test_int_range_is_checked(void **state)
{
	(void)state;
	buf e = {0};
	assert_int_equal(validate("{" VALID_BASE ",\"level\":5}", &e), 0);
	assert_int_equal(validate("{" VALID_BASE ",\"level\":-2}", &e), 0);
	assert_int_equal(validate("{" VALID_BASE ",\"level\":6}", &e), 1);
	assert_string_equal(buf_str(&e), "{\"field\":\"level\",\"message\":\"must be between -2 and 5\"}");
	assert_int_equal(validate("{" VALID_BASE ",\"level\":-3}", &e), 1);
	assert_int_equal(validate("{" VALID_BASE ",\"parent_id\":0}", &e), 1);
	assert_int_equal(validate("{" VALID_BASE ",\"parent_id\":9007199254740992}", &e), 1);
	buf_free(&e);
}

static void test_optional_null_is_allowed_but_required_null_is_not(void **state)
{
	(void)state;
	buf e = {0};
	assert_int_equal(validate("{" VALID_BASE ",\"parent_id\":null,\"phone\":null,\"active\":null}", &e), 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(validate("{\"code\":null,\"name\":\"n\",\"kind\":\"township\"}", &e), 1);
	assert_string_equal(buf_str(&e), "{\"field\":\"code\",\"message\":\"must be a string\"}");
	buf_free(&e);
}

static void test_error_add_escapes_and_joins_with_commas(void **state)
{
	(void)state;
	buf e = {0};
	json_error_add(&e, "a\"b", "line\nbreak");
	json_error_add(&e, "名", "太长");
	assert_string_equal(buf_str(&e), "{\"field\":\"a\\\"b\",\"message\":\"line\\nbreak\"},"
					 "{\"field\":\"名\",\"message\":\"太长\"}");
	/* The list is valid JSON once bracketed. */
	buf arr = {0};
	buf_printf(&arr, "[%s]", buf_str(&e));
	json_doc *d = parse(buf_str(&arr));
	assert_non_null(d);
	json_free(d);
	buf_free(&arr);
	buf_free(&e);
}

/* ---- buf_json_str -------------------------------------------------------------------- */

static const char *json_str(buf *b, const char *s, size_t n)
{
	buf_reset(b);
	buf_json_str(b, s, n);
	return buf_str(b);
}

static void test_buf_json_str_escapes_quotes_and_backslashes(void **state)
{
	(void)state;
	buf b = {0};
	assert_string_equal(json_str(&b, "", 0), "\"\"");
	assert_string_equal(json_str(&b, "plain", 5), "\"plain\"");
	assert_string_equal(json_str(&b, "say \"hi\"", 8), "\"say \\\"hi\\\"\"");
	assert_string_equal(json_str(&b, "a\\b", 3), "\"a\\\\b\"");
	assert_string_equal(json_str(&b, "/", 1), "\"/\"");
	buf_free(&b);
}

static void test_buf_json_str_escapes_control_characters(void **state)
{
	(void)state;
	buf b = {0};
	assert_string_equal(json_str(&b, "\n\r\t", 3), "\"\\n\\r\\t\"");
	assert_string_equal(json_str(&b, "\x01\x1f\b\f", 4), "\"\\u0001\\u001f\\u0008\\u000c\"");
	assert_string_equal(json_str(&b, "a\0b", 3), "\"a\\u0000b\""); /* length, not strlen */
	assert_string_equal(json_str(&b, "\x7f", 1), "\"\x7f\"");      /* DEL needs no escape */
	buf_free(&b);
}

static void test_buf_json_str_passes_utf8_through(void **state)
{
	(void)state;
	buf b = {0};
	assert_string_equal(json_str(&b, "呼应😀", strlen("呼应😀")), "\"呼应😀\"");
	/* Round trip through the parser gives the same bytes. */
	static const char orig[] = "名\"\\\n\x01 end";
	buf doc = {0};
	buf_puts(&doc, "{\"v\":");
	buf_json_str(&doc, orig, sizeof orig - 1);
	buf_putc(&doc, '}');
	json_doc *d = parse(buf_str(&doc));
	assert_non_null(d);
	const char *s = NULL;
	assert_int_equal(json_member_str(d, "v", &s), 0);
	assert_string_equal(s, orig);
	json_free(d);
	buf_free(&doc);
	buf_free(&b);
}

static void test_buf_grows_and_stays_terminated(void **state)
{
	(void)state;
	buf b = {0};
	assert_string_equal(buf_str(&b), "");
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, 'x');
	assert_int_equal(b.len, 10000);
	assert_int_equal(strlen(buf_str(&b)), 10000);
	buf_printf(&b, "%d-%s", 42, "y");
	assert_int_equal(b.len, 10004);
	assert_string_equal(buf_str(&b) + 10000, "42-y");
	buf_reset(&b);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(b.len, 0);
	buf_free(&b);
	assert_null(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_object_parses),
		cmocka_unit_test(test_scalar_and_array_roots_parse),
		cmocka_unit_test(test_empty_and_malformed_bodies_are_rejected),
		cmocka_unit_test(test_json_free_accepts_null),
		cmocka_unit_test(test_duplicate_keys_are_rejected),
		cmocka_unit_test(test_nested_duplicate_keys_are_rejected),
		cmocka_unit_test(test_same_key_in_different_objects_is_accepted),
		cmocka_unit_test(test_nul_escape_is_rejected),
		cmocka_unit_test(test_escaped_backslash_before_u0000_is_accepted),
		cmocka_unit_test(test_raw_nul_byte_inside_a_string_is_rejected),
		cmocka_unit_test(test_bytes_after_a_raw_nul_byte_are_rejected),
		cmocka_unit_test(test_unescaped_control_character_in_string_is_rejected),
		cmocka_unit_test(test_invalid_utf8_is_rejected),
		cmocka_unit_test(test_json_utf8_valid_checks_sequence_ends),
		cmocka_unit_test(test_valid_chinese_is_accepted),
		cmocka_unit_test(test_escaped_lone_surrogate_is_rejected),
		cmocka_unit_test(test_trailing_garbage_is_rejected),
		cmocka_unit_test(test_trailing_whitespace_is_accepted),
		cmocka_unit_test(test_depth_32_is_accepted),
		cmocka_unit_test(test_depth_33_is_rejected),
		cmocka_unit_test(test_ten_thousand_open_brackets_are_rejected_without_crashing),
		cmocka_unit_test(test_brackets_inside_strings_do_not_count_as_depth),
		cmocka_unit_test(test_too_many_members_are_rejected),
		cmocka_unit_test(test_member_lookup_is_case_sensitive),
		cmocka_unit_test(test_member_int_rejects_fractions),
		cmocka_unit_test(test_member_int_rejects_infinity),
		cmocka_unit_test(test_member_int_rejects_non_numbers),
		cmocka_unit_test(test_member_int_rejects_integers_doubles_cannot_hold),
		cmocka_unit_test(test_member_int_accepts_up_to_two_to_the_53_minus_one),
		cmocka_unit_test(test_member_int_accepts_exact_integers),
		cmocka_unit_test(test_scalar_array_len),
		cmocka_unit_test(test_member_each_str),
		cmocka_unit_test(test_validate_accepts_a_valid_body),
		cmocka_unit_test(test_validate_rejects_unknown_field),
		cmocka_unit_test(test_validate_reports_missing_required_fields),
		cmocka_unit_test(test_validate_rejects_wrong_types),
		cmocka_unit_test(test_validate_rejects_a_root_that_is_not_an_object),
		cmocka_unit_test(test_string_length_counts_characters_not_bytes),
		cmocka_unit_test(test_string_check_function_is_applied),
		cmocka_unit_test(test_enum_accepts_only_listed_values),
		cmocka_unit_test(test_int_range_is_checked),
		cmocka_unit_test(test_optional_null_is_allowed_but_required_null_is_not),
		cmocka_unit_test(test_error_add_escapes_and_joins_with_commas),
		cmocka_unit_test(test_buf_json_str_escapes_quotes_and_backslashes),
		cmocka_unit_test(test_buf_json_str_escapes_control_characters),
		cmocka_unit_test(test_buf_json_str_passes_utf8_through),
		cmocka_unit_test(test_buf_grows_and_stays_terminated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
