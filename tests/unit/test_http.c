/* Unit tests for the pure helpers of server/http.c (path matching, cursor decoding, content
 * negotiation). They are static, so the file under test is included, h2o style.
 *
 * Linking: this object then defines every symbol of http.c itself, so the linker never pulls
 * http.o out of libhuying_core.a (an archive member is only taken for a symbol that is still
 * undefined) and nothing is defined twice. Whatever needs civetweb or a database is left to
 * the API suite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/http.c"

/* ---- path_matches -------------------------------------------------------------------- */

static void test_literal_paths_match_exactly(void **state)
{
	(void)state;
	int64_t ids[HTTP_MAX_PATH_IDS] = {0};
	assert_int_equal(path_matches("/v1/units", "/v1/units", ids), 1);
	assert_int_equal(path_matches("/v1/units", "/v1/units/", ids), 0);
	assert_int_equal(path_matches("/v1/units", "/v1/unit", ids), 0);
	assert_int_equal(path_matches("/v1/units", "/v1/unitsx", ids), 0);
	assert_int_equal(path_matches("/v1/units", "/v1/Units", ids), 0);
	assert_int_equal(path_matches("/v1/units", "/v1", ids), 0);
	assert_int_equal(path_matches("/v1/units", "v1/units", ids), 0);
	assert_int_equal(path_matches("/v1/units", "//v1/units", ids), 0);
	assert_int_equal(path_matches("/v1/units", "", ids), 0);
}

static void test_id_segments_are_captured(void **state)
{
	(void)state;
	int64_t ids[HTTP_MAX_PATH_IDS] = {0};
	assert_int_equal(path_matches("/v1/units/{id}", "/v1/units/42", ids), 1);
	assert_true(ids[0] == 42);
	assert_int_equal(path_matches("/v1/a/{id}/b/{id}", "/v1/a/7/b/900719925474099", ids), 1);
	assert_true(ids[0] == 7);
	assert_true(ids[1] == INT64_C(900719925474099));
}

static void test_malformed_ids_do_not_match(void **state)
{
	(void)state;
	int64_t ids[HTTP_MAX_PATH_IDS] = {0};
	static const char *const bad[] = {
		"/v1/units/",    /* empty */
		"/v1/units/0",   /* ids start at 1 */
		"/v1/units/007", /* leading zero: one id, one spelling */
		"/v1/units/-1",
		"/v1/units/+1",
		"/v1/units/1a",
		"/v1/units/abc",
		"/v1/units/1.0",
		"/v1/units/%31",
		"/v1/units/1234567890123456", /* 16 digits */
		"/v1/units/42/",
		"/v1/units/42/x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (path_matches("/v1/units/{id}", bad[i], ids))
			fail_msg("%s matched /v1/units/{id}", bad[i]);
	assert_int_equal(path_matches("/v1/units/{id}", "/v1/units/123456789012345", ids), 1); /* 15 digits */
}

static void test_id_segments_with_a_suffix(void **state)
{
	(void)state;
	int64_t ids[HTTP_MAX_PATH_IDS] = {0};
	static const char *const pattern = "/open311/v2/requests/{id}.json";
	assert_int_equal(path_matches(pattern, "/open311/v2/requests/42.json", ids), 1);
	assert_true(ids[0] == 42);
	assert_int_equal(path_matches(pattern, "/open311/v2/requests/123456789012345.json", ids), 1);
	static const char *const bad[] = {
		"/open311/v2/requests/.json",    /* no id */
		"/open311/v2/requests/42",       /* no suffix */
		"/open311/v2/requests/42.xml",   /* another suffix */
		"/open311/v2/requests/42.JSON",  /* literal, case and all */
		"/open311/v2/requests/42.jsonx", /* more after it */
		"/open311/v2/requests/42x.json", /* not an integer */
		"/open311/v2/requests/042.json", /* a leading zero */
		"/open311/v2/requests/0.json",   /* ids start at 1 */
		"/open311/v2/requests/-1.json",
		"/open311/v2/requests/json",                  /* shorter than the suffix */
		"/open311/v2/requests/4.json/",               /* a further segment */
		"/open311/v2/requests/1234567890123456.json", /* 16 digits */
		"/open311/v2/requests.json",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (path_matches(pattern, bad[i], ids))
			fail_msg("%s matched %s", bad[i], pattern);
	/* a suffix is a literal after the name's brace, never a wildcard for a plain {id} */
	assert_int_equal(path_matches("/v1/units/{id}", "/v1/units/42.json", ids), 0);
	/* "{}" is no {name} segment: a literal */
	assert_int_equal(path_matches("/v1/{}", "/v1/{}", ids), 1);
	assert_int_equal(path_matches("/v1/{}", "/v1/1", ids), 0);
}

/* ---- b64url_decode ------------------------------------------------------------------- */

static int decode(const char *s, char *out)
{
	return b64url_decode(s, strlen(s), out);
}

static void test_b64url_decodes_unpadded_input(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(decode("WyJDRC1aSiJd", out), 9); /* what api.cursor('["CD-ZJ"]') gives */
	assert_string_equal(out, "[\"CD-ZJ\"]");
	assert_int_equal(decode("", out), 0);
	assert_string_equal(out, "");
	assert_int_equal(decode("YQ", out), 1);
	assert_string_equal(out, "a");
	assert_int_equal(decode("YWI", out), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(decode("YWJj", out), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(decode("-_8", out), 2); /* the url-safe alphabet */
	assert_memory_equal(out, "\xfb\xff", 2);
}

static void test_b64url_rejects_padding_and_other_alphabets(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(decode("YQ==", out), -1);
	assert_int_equal(decode("+/8", out), -1);
	assert_int_equal(decode("YW J", out), -1);
	assert_int_equal(decode("Y", out), -1); /* a length of 4n+1 is never valid */
	assert_int_equal(decode("YWJjZ", out), -1);
}

static void test_b64url_rejects_non_canonical_spellings(void **state)
{
	(void)state;
	char out[64];
	/* "YR" and "YQ" both carry 'a' in their first 8 bits; only "YQ" has zero leftovers. */
	assert_int_equal(decode("YR", out), -1);
	assert_int_equal(decode("YWK", out), -1);
}

/* ---- json_content_type --------------------------------------------------------------- */

static void test_json_content_type(void **state)
{
	(void)state;
	assert_int_equal(json_content_type("application/json"), 1);
	assert_int_equal(json_content_type("Application/JSON"), 1);
	assert_int_equal(json_content_type("application/json; charset=utf-8"), 1);
	assert_int_equal(json_content_type("application/json;charset=UTF-8"), 1);
	assert_int_equal(json_content_type("application/json; charset=\"utf-8\""), 1);
	assert_int_equal(json_content_type("application/json ; charset=utf-8"), 1);
	assert_int_equal(json_content_type(NULL), 0);
	assert_int_equal(json_content_type(""), 0);
	assert_int_equal(json_content_type("text/plain"), 0);
	assert_int_equal(json_content_type("application/jsonx"), 0);
	assert_int_equal(json_content_type("application/json-patch+json"), 0);
	assert_int_equal(json_content_type("application/x-www-form-urlencoded"), 0);
	assert_int_equal(json_content_type("application/json; charset=latin1"), 0);
	assert_int_equal(json_content_type("application/json; charset=utf-16"), 0);
	assert_int_equal(json_content_type("application/json; charset=utf-88"), 0);
}

/* ---- http_form_json_or_reply (the answers that need no connection) ------------------- */

/* The JSON object the form body s becomes; every case here is one that passes. */
static void form_becomes(const char *s, const char *want)
{
	http_req r;
	memset(&r, 0, sizeof r);
	r.body = (char *)s;
	r.body_len = strlen(s);
	buf j = {0};
	assert_int_equal(http_form_json_or_reply(&r, &j), 0);
	assert_string_equal(buf_str(&j), want);
	assert_int_equal(r.answered, 0);
	buf_free(&j);
}

static void test_form_fields_become_a_json_object(void **state)
{
	(void)state;
	form_becomes("", "{}");
	form_becomes("a=1", "{\"a\":\"1\"}");
	form_becomes("a=x+y&b=%2B%26%3D&c=", "{\"a\":\"x y\",\"b\":\"+&=\",\"c\":\"\"}");
	form_becomes("&&a=1&", "{\"a\":\"1\"}"); /* empty pairs are skipped */
	form_becomes("flag", "{\"flag\":\"\"}"); /* a name without = has an empty value */
	form_becomes("attribute%5Btownship_code%5D=TS-NCS", "{\"attribute[township_code]\":\"TS-NCS\"}");
	form_becomes("d=%E4%B8%AD%22%5C%0A", "{\"d\":\"\xe4\xb8\xad\\\"\\\\\\n\"}"); /* 中"\\ and a line feed */
}

/* ---- accepts_csv --------------------------------------------------------------------- */

static void test_accepts_csv_only_when_asked_first(void **state)
{
	(void)state;
	assert_int_equal(accepts_csv(NULL), 0);
	assert_int_equal(accepts_csv("*/*"), 0);
	assert_int_equal(accepts_csv("application/json"), 0);
	assert_int_equal(accepts_csv("text/csv"), 1);
	assert_int_equal(accepts_csv("Text/CSV"), 1);
	assert_int_equal(accepts_csv("text/csv, application/json"), 1);
	assert_int_equal(accepts_csv("application/json, text/csv"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_paths_match_exactly),
		cmocka_unit_test(test_id_segments_are_captured),
		cmocka_unit_test(test_malformed_ids_do_not_match),
		cmocka_unit_test(test_id_segments_with_a_suffix),
		cmocka_unit_test(test_b64url_decodes_unpadded_input),
		cmocka_unit_test(test_b64url_rejects_padding_and_other_alphabets),
		cmocka_unit_test(test_b64url_rejects_non_canonical_spellings),
		cmocka_unit_test(test_json_content_type),
		cmocka_unit_test(test_form_fields_become_a_json_object),
		cmocka_unit_test(test_accepts_csv_only_when_asked_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
