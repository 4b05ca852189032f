/* Unit tests for server/sign.c: the Huying-Signature header.
 *
 * The expected MACs were computed apart from this code, with OpenSSL's command line:
 *   printf '%s' '1700000000.{"id":"evt_1","type":"call.dispatched"}' \
 *     | openssl dgst -sha256 -hmac 'whsec_test_secret'
 *   printf '%s' '0.' | openssl dgst -sha256 -hmac 'k'
 *   printf '1712345678.\x00\xff\n' | openssl dgst -sha256 -hmac 'another secret'
 * (and the first checked again with Python's hmac module). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sign.h"

static const char secret[] = "whsec_test_secret";
static const char body[] = "{\"id\":\"evt_1\",\"type\":\"call.dispatched\"}";
#define T0   INT64_C(1700000000)
#define MAC0 "dce837f6dd759ccea0f60b879c2e7968927bc8f9cc4a38932b98923a1b1a4420"

static sign_verdict verify(const char *sec, const char *hdr, const char *b, int64_t now)
{
	return sign_verify(sec, strlen(sec), hdr, strlen(hdr), b, strlen(b), now, 300);
}

static void test_known_vectors(void **state)
{
	(void)state;
	char h[SIGN_HEADER_MAX];
	assert_int_equal(sign_header(secret, strlen(secret), T0, body, strlen(body), h, sizeof h), 0);
	assert_string_equal(h, "t=1700000000,v1=" MAC0);

	assert_int_equal(sign_header("k", 1, 0, "", 0, h, sizeof h), 0);
	assert_string_equal(h, "t=0,v1=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7");

	/* a body with a NUL, a byte that is not UTF-8 and a newline: bytes, not a C string */
	static const char bin[] = {0x00, (char)0xff, '\n'};
	const char *s2 = "another secret";
	assert_int_equal(sign_header(s2, strlen(s2), INT64_C(1712345678), bin, sizeof bin, h, sizeof h), 0);
	assert_string_equal(h, "t=1712345678,v1=8f1ea2d032177694495bb98a92896ffd416f9b0a2631a9f0d3431230f590b316");
	assert_int_equal(sign_verify(s2, strlen(s2), h, strlen(h), bin, sizeof bin, INT64_C(1712345678), 300), SIGN_OK);
}

static void test_sign_refuses_empty_secret_negative_time_and_small_buffer(void **state)
{
	(void)state;
	char h[SIGN_HEADER_MAX] = "x";
	assert_int_equal(sign_header("", 0, T0, body, strlen(body), h, sizeof h), -1);
	assert_string_equal(h, "");
	assert_int_equal(sign_header(secret, strlen(secret), -1, body, strlen(body), h, sizeof h), -1);
	char small[40];
	assert_int_equal(sign_header(secret, strlen(secret), T0, body, strlen(body), small, sizeof small), -1);
	assert_string_equal(small, "");
	/* the largest t fits in SIGN_HEADER_MAX */
	assert_int_equal(sign_header(secret, strlen(secret), INT64_MAX, body, strlen(body), h, sizeof h), 0);
}

static void test_valid_signature_verifies_within_the_window(void **state)
{
	(void)state;
	const char *h = "t=1700000000,v1=" MAC0;
	assert_int_equal(verify(secret, h, body, T0), SIGN_OK);
	assert_int_equal(verify(secret, h, body, T0 + 300), SIGN_OK);
	assert_int_equal(verify(secret, h, body, T0 - 300), SIGN_OK); /* the receiver's clock behind */
	/* hex case and spaces around items do not matter */
	assert_int_equal(verify(secret,
				"t=1700000000, v1=DCE837F6DD759CCEA0F60B879C2E7968927BC8F9CC4A38932B98923A1B1A4420",
				body, T0),
			 SIGN_OK);
}

static void test_tampered_body_fails(void **state)
{
	(void)state;
	const char *h = "t=1700000000,v1=" MAC0;
	assert_int_equal(verify(secret, h, "{\"id\":\"evt_1\",\"type\":\"call.dispatcheD\"}", T0), SIGN_MISMATCH);
	assert_int_equal(verify(secret, h, "{\"id\":\"evt_1\",\"type\":\"call.dispatched\"} ", T0), SIGN_MISMATCH);
	assert_int_equal(verify(secret, h, "", T0), SIGN_MISMATCH);
	/* a body cut short by one byte */
	assert_int_equal(sign_verify(secret, strlen(secret), h, strlen(h), body, strlen(body) - 1, T0, 300),
			 SIGN_MISMATCH);
}

static void test_tampered_timestamp_fails(void **state)
{
	(void)state;
	/* moving t to make an old delivery look fresh breaks the MAC */
	assert_int_equal(verify(secret, "t=1700000001,v1=" MAC0, body, T0 + 1), SIGN_MISMATCH);
}

static void test_stale_timestamp_fails(void **state)
{
	(void)state;
	const char *h = "t=1700000000,v1=" MAC0;
	assert_int_equal(verify(secret, h, body, T0 + 301), SIGN_STALE);
	assert_int_equal(verify(secret, h, body, T0 + 86400), SIGN_STALE);
	assert_int_equal(verify(secret, h, body, T0 - 301), SIGN_STALE); /* from the future */
	assert_int_equal(sign_verify(secret, strlen(secret), h, strlen(h), body, strlen(body), T0, -1), SIGN_STALE);
	assert_int_equal(sign_verify(secret, strlen(secret), h, strlen(h), body, strlen(body), -5, 300), SIGN_STALE);
}

static void test_wrong_secret_fails(void **state)
{
	(void)state;
	const char *h = "t=1700000000,v1=" MAC0;
	assert_int_equal(verify("whsec_test_secreT", h, body, T0), SIGN_MISMATCH);
	assert_int_equal(verify("whsec_test_secret ", h, body, T0), SIGN_MISMATCH);
	assert_int_equal(verify("whsec_test_secre", h, body, T0), SIGN_MISMATCH);
	assert_int_equal(sign_verify("", 0, h, strlen(h), body, strlen(body), T0, 300), SIGN_MALFORMED);
	/* a forged header is a mismatch even when also stale: the MAC is checked first */
	assert_int_equal(verify("other", h, body, T0 + 9999), SIGN_MISMATCH);
}

static void test_several_v1_any_may_match(void **state)
{
	(void)state;
	const char *zero = "0000000000000000000000000000000000000000000000000000000000000000";
	char h[300];
	snprintf(h, sizeof h, "t=1700000000,v1=%s,v1=%s", zero, MAC0);
	assert_int_equal(verify(secret, h, body, T0), SIGN_OK);
	snprintf(h, sizeof h, "t=1700000000,v1=%s,v2=abc,v0=%s", MAC0, zero);
	assert_int_equal(verify(secret, h, body, T0), SIGN_OK); /* unknown schemes ignored */
	snprintf(h, sizeof h, "v1=%s,t=1700000000", MAC0);
	assert_int_equal(verify(secret, h, body, T0), SIGN_OK); /* order of items is free */
	snprintf(h, sizeof h, "t=1700000000,v1=%s,v1=%s", zero, zero);
	assert_int_equal(verify(secret, h, body, T0), SIGN_MISMATCH);
}

static void test_malformed_headers(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"v1=" MAC0,                           /* no t */
		"t=1700000000",                       /* no v1 */
		"t=1700000000,v2=" MAC0,              /* no v1 */
		"t=,v1=" MAC0,                        /* empty t */
		"t=-1700000000,v1=" MAC0,             /* signed t */
		"t=1.7e9,v1=" MAC0,                   /* not digits */
		"t=01700000000,v1=" MAC0,             /* a leading zero: one spelling per time */
		"t=1700000000 1,v1=" MAC0,            /* space inside t */
		"t=1700000000,t=1700000000,v1=" MAC0, /* two t's */
		"t=9999999999999999999999,v1=" MAC0,  /* t too long */
		"T=1700000000,v1=" MAC0,              /* keys are lowercase */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (verify(secret, bad[i], body, T0) != SIGN_MALFORMED)
			fail_msg("not malformed: \"%s\" -> %s", bad[i],
				 sign_verdict_name(verify(secret, bad[i], body, T0)));
	/* v1 values that are not 64 hex digits never match */
	static const char *const mismatch[] = {
		"t=1700000000,v1=",
		"t=1700000000,v1=" MAC0 "00",
		"t=1700000000,v1=dce837f6dd759ccea0f60b879c2e7968927bc8f9cc4a38932b98923a1b1a442",
		"t=1700000000,v1=gce837f6dd759ccea0f60b879c2e7968927bc8f9cc4a38932b98923a1b1a4420",
		"t=1700000000,v1 =" MAC0,
	};
	for (size_t i = 0; i < sizeof mismatch / sizeof mismatch[0]; i++) {
		sign_verdict v = verify(secret, mismatch[i], body, T0);
		if (v == SIGN_OK)
			fail_msg("accepted: \"%s\"", mismatch[i]);
	}
	/* a header given by length is not read past its end */
	const char *h = "t=1700000000,v1=" MAC0 "trailing";
	assert_int_equal(sign_verify(secret, strlen(secret), h, strlen(h) - 8, body, strlen(body), T0, 300), SIGN_OK);
	assert_int_equal(sign_verify(secret, strlen(secret), NULL, 0, body, strlen(body), T0, 300), SIGN_MALFORMED);
	assert_string_equal(sign_verdict_name(SIGN_STALE), "stale");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_sign_refuses_empty_secret_negative_time_and_small_buffer),
		cmocka_unit_test(test_valid_signature_verifies_within_the_window),
		cmocka_unit_test(test_tampered_body_fails),
		cmocka_unit_test(test_tampered_timestamp_fails),
		cmocka_unit_test(test_stale_timestamp_fails),
		cmocka_unit_test(test_wrong_secret_fails),
		cmocka_unit_test(test_several_v1_any_may_match),
		cmocka_unit_test(test_malformed_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
