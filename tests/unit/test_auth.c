/* Unit tests for server/auth.c (JWT verification).
 *
 * Each libjwt 1.10 trap of DEPENDENCIES.md has a test: alg none, the case-insensitive alg
 * name, algorithm confusion, claims of the wrong JSON type (jwt_get_grant_int would read them
 * as 0), missing exp, and the length cap. Most tokens are built by hand (header and payload
 * exactly as written here, HMAC-SHA256 computed below) so that a test can say precisely what
 * the token contains; the RS256 ones are signed with libjwt and the throwaway key below.
 * The test does not link OpenSSL itself, so SHA-256 is implemented here (FIPS 180-4) and
 * checked against auth_sign()'s own signature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jwt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "buf.h"
#include "config.h"

#define NOW ((time_t)1700000000)

static const char secret[] = "0123456789abcdef0123456789abcdef01234567"; /* 40 bytes */

/* A throwaway 2048-bit RSA key made for this test only. */
static const char rsa_private_pem[] = "-----BEGIN PRIVATE KEY-----\n"
				      "MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDvd9A1pqaru5cN\n"
				      "uCdYg3qeCsFbBP3fpLIRSa95zHGjYcjn7IbHsvGzkgy/W4sQmuKs1Wd1OSn7Xxpr\n"
				      "hzyLtdsTEeFrZCo8Ug8cLGe2iJWLWIu9t0OHFUr/Ivw5F4PefSVKy7bzwRDVy/v5\n"
				      "tbBhxpP7AV75pFKJ2K7m7pL7Ganfr6VNJ90B4V9hC2c4SQwGZBQ0bph2hsjBS0Ud\n"
				      "2kPTSrLMZJ2XaCX5OXfKRF+v06Mngj/ha/bxvgWFEYT7METe+KR1ljkyP5K86P2D\n"
				      "SLcFAOqEXSLxaHoRTLbjpqnvdNtJC3cEc98KnLBmi+fWiBmB2r0ivm2xArtUwo9N\n"
				      "99OWf7+NAgMBAAECggEATXW1HNWmTiCk8OQjngcRj7Os7dNEh6YPj3YFU+Gk1JOZ\n"
				      "2CNzSX+BnXNdujxTVHC1Z/CzwYBXKx+NPUEGfa66iYWcJA/HdbGZf6SBe9LchLGE\n"
				      "qj5wkm55zuOzMIiBuGNEv9f7ewd1eaK9A/4YathAH85GuXvE0yALG1oKozye7WKU\n"
				      "YgTpWOlExJ5zUURLaDGeme1IyHoiHeeTDHk7uKXVOQ4vjd3rQtqfqi5KXJ1OIbh/\n"
				      "5NRp5rqgPCz5++RqeJx2DjHvTFWtBXVepDpFNpQbOTC874PCdAJcKJmAoovL/lfs\n"
				      "zQX1GR6zEic5ZzW4RmyJs92DU9gh5bdE+CXZ8ffUhQKBgQD8FSOFMKxo6vBj3Aqh\n"
				      "0wG0ewMa9/YVJY0pYDA9llPD6PzCR9RpSC3DIecUbkbflg+XPEdxonTBMgQ+b3I0\n"
				      "qnkGCD7n8it0zTWLFFZi8fnO0dikNFnou2QyFk2SG5CbE/w1tgxg/6osIdSRdawV\n"
				      "ulamDOIzzzblN/La20Tnrcf7JwKBgQDzMH1zAKVuR/wG2o1DZP4JXKcymgb0gSq+\n"
				      "t/Lji4x8AqEgQJjbE+CfyuoeQwoLOiFnW6f+8BiyjpJ11lTQ81AXcf2P8iPfMx3l\n"
				      "ZvQMypFSJQXmgT953+dI9CodTC0Dt3hBKXdxfqyqosLERvRwUSxLu2h5lC2PDxdI\n"
				      "iyeyGmzwKwKBgQC2RiK1AAjqpFbGHimh8Y1eD0Sjj4Bksg5sSJ0ZK0XOdv2tDXtN\n"
				      "1V8hpbYNU9/zc/I6DOAsDqgVujDPZI5T/qAb+IJj/PvnLSr2MfJ1ATr8jUf1E9Wf\n"
				      "L0C35uCYMU5SlBTeUZCJ4tQNrTijJU8VNvPIhbBafg7Xl6kHD123mDTuKQKBgQDA\n"
				      "UMF0V7d7nduVw/HgsRYgazAh2SLU6uzVw/yFq87eJuoq6kq3PWHum/ZHFjb0J/VQ\n"
				      "mnAhMNgnJI54N5X9Y90bnV6rHg72LKNgzekD0JHZh0PCRMXg6Isr60L+xkX24Xls\n"
				      "9pDppQaBLpOdyor144uHHF6DfwYEUyfTi5BJzZIG3wKBgQCiLYqKfRlNyG+76nO0\n"
				      "98C/HpwAHnVDs3uyY7Gi4StsgHyz9HR5vEtgben10kwlgsDePjcPqtdYVoN69LfB\n"
				      "gEpZTxVbpbo1iC3ji3T67zjjZN2XFLe2OCU/p/TAngBswz1d8Hbw9dLjsMf4VgEd\n"
				      "hYfZ7Mz6CNSNAyAApasJ0nOLnQ==\n"
				      "-----END PRIVATE KEY-----\n";

static char rsa_public_pem[] = "-----BEGIN PUBLIC KEY-----\n"
			       "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA73fQNaamq7uXDbgnWIN6\n"
			       "ngrBWwT936SyEUmvecxxo2HI5+yGx7Lxs5IMv1uLEJrirNVndTkp+18aa4c8i7Xb\n"
			       "ExHha2QqPFIPHCxntoiVi1iLvbdDhxVK/yL8OReD3n0lSsu288EQ1cv7+bWwYcaT\n"
			       "+wFe+aRSidiu5u6S+xmp36+lTSfdAeFfYQtnOEkMBmQUNG6YdobIwUtFHdpD00qy\n"
			       "zGSdl2gl+Tl3ykRfr9OjJ4I/4Wv28b4FhRGE+zBE3vikdZY5Mj+SvOj9g0i3BQDq\n"
			       "hF0i8Wh6EUy246ap73TbSQt3BHPfCpywZovn1ogZgdq9Ir5tsQK7VMKPTffTln+/\n"
			       "jQIDAQAB\n"
			       "-----END PUBLIC KEY-----\n";

/* ---- SHA-256 and HMAC (FIPS 180-4, RFC 2104) ------------------------------------------ */

typedef struct {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t used;
} sha256_ctx;

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(sha256_ctx *c, const unsigned char *p)
{
	uint32_t w[64], s[8];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(s, c->h, sizeof s);
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = s[7] + (ror(s[4], 6) ^ ror(s[4], 11) ^ ror(s[4], 25)) + ((s[4] & s[5]) ^ (~s[4] & s[6])) +
			      K[i] + w[i];
		uint32_t t2 = (ror(s[0], 2) ^ ror(s[0], 13) ^ ror(s[0], 22)) +
			      ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));
		memmove(s + 1, s, 7 * sizeof s[0]);
		s[4] += t1;
		s[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		c->h[i] += s[i];
}

static void sha256_init(sha256_ctx *c)
{
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(c->h, h0, sizeof h0);
	c->bytes = 0;
	c->used = 0;
}

static void sha256_update(sha256_ctx *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	c->bytes += n;
	while (n) {
		size_t take = 64 - c->used < n ? 64 - c->used : n;
		memcpy(c->block + c->used, p, take);
		c->used += take;
		p += take;
		n -= take;
		if (c->used == 64) {
			sha256_block(c, c->block);
			c->used = 0;
		}
	}
}

static void sha256_final(sha256_ctx *c, unsigned char out[32])
{
	uint64_t bits = c->bytes * 8;
	unsigned char pad = 0x80, zero = 0, len[8];
	sha256_update(c, &pad, 1);
	while (c->used != 56)
		sha256_update(c, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(c, len, 8);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(c->h[i] >> (24 - 8 * j));
}

static void hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n, unsigned char out[32])
{
	unsigned char k[64] = {0}, ipad[64], opad[64], inner[32];
	sha256_ctx c;
	if (keylen > 64) {
		sha256_init(&c);
		sha256_update(&c, key, keylen);
		sha256_final(&c, k);
	} else {
		memcpy(k, key, keylen);
	}
	for (int i = 0; i < 64; i++) {
		ipad[i] = k[i] ^ 0x36;
		opad[i] = k[i] ^ 0x5c;
	}
	sha256_init(&c);
	sha256_update(&c, ipad, 64);
	sha256_update(&c, msg, n);
	sha256_final(&c, inner);
	sha256_init(&c);
	sha256_update(&c, opad, 64);
	sha256_update(&c, inner, 32);
	sha256_final(&c, out);
}

/* ---- token building ------------------------------------------------------------------ */

static void b64url(buf *b, const void *data, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = data;
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		char o[4] = {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
		buf_put(b, o, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		char o[2] = {a[v >> 18], a[(v >> 12) & 63]};
		buf_put(b, o, 2);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		char o[3] = {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63]};
		buf_put(b, o, 3);
	}
}

/* header.payload.HMAC-SHA256(key); the caller frees. */
static char *hs_token_with_key(const char *header, const char *payload, const void *key, size_t keylen)
{
	buf b = {0};
	unsigned char mac[32];
	b64url(&b, header, strlen(header));
	buf_putc(&b, '.');
	b64url(&b, payload, strlen(payload));
	hmac_sha256(key, keylen, b.p, b.len, mac);
	buf_putc(&b, '.');
	b64url(&b, mac, sizeof mac);
	assert_false(b.oom);
	return b.p;
}

#define HS256_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static char *hs_token(const char *payload)
{
	return hs_token_with_key(HS256_HEADER, payload, secret, sizeof secret - 1);
}

/* Signs payload with libjwt as RS256 with the throwaway key. */
static char *rs_token(const char *payload)
{
	jwt_t *j = NULL;
	assert_int_equal(jwt_new(&j), 0);
	assert_int_equal(jwt_add_grants_json(j, payload), 0);
	assert_int_equal(
		jwt_set_alg(j, JWT_ALG_RS256, (const unsigned char *)rsa_private_pem, (int)strlen(rsa_private_pem)), 0);
	char *t = jwt_encode_str(j);
	jwt_free(j);
	assert_non_null(t);
	return t;
}

/* A payload with the standard claims and extra members (a JSON fragment, may be ""). */
static char *payload_with(const char *extra)
{
	buf b = {0};
	buf_printf(&b, "{\"sub\":\"u1\",\"role\":\"district\",\"unit_id\":7,\"district\":3,\"exp\":%lld%s%s}",
		   (long long)NOW + 600, *extra ? "," : "", extra);
	return b.p;
}

/* auth_verify at NOW: returns its result; *json gets a copy of the normalised claims. */
static int verify(const char *token, const char **why, char **json)
{
	auth_claims c;
	*why = NULL;
	int rc = auth_verify(token, strlen(token), NOW, &c, why);
	if (rc == 0) {
		assert_non_null(c.json);
		if (json)
			*json = strdup(c.json);
		auth_claims_free(&c);
		assert_null(c.json);
	} else {
		assert_non_null(*why);
		assert_null(c.json);
	}
	return rc;
}

static void assert_token_accepted(const char *token)
{
	const char *why;
	if (verify(token, &why, NULL) != 0)
		fail_msg("token refused (%s) but should be accepted", why);
}

static void assert_token_refused(const char *token)
{
	const char *why;
	if (verify(token, &why, NULL) == 0)
		fail_msg("token accepted but should be refused: %s", token);
}

static void assert_payload_accepted(const char *payload)
{
	char *t = hs_token(payload);
	const char *why;
	if (verify(t, &why, NULL) != 0)
		fail_msg("payload refused (%s) but should be accepted: %s", why, payload);
	free(t);
}

static void assert_payload_refused(const char *payload)
{
	char *t = hs_token(payload);
	const char *why;
	if (verify(t, &why, NULL) == 0)
		fail_msg("payload accepted but should be refused: %s", payload);
	free(t);
}

/* With the standard claims plus extra. */
static void assert_extra_accepted(const char *extra)
{
	char *p = payload_with(extra);
	assert_payload_accepted(p);
	free(p);
}

static void assert_extra_refused(const char *extra)
{
	char *p = payload_with(extra);
	assert_payload_refused(p);
	free(p);
}

static int setup_hs256(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof cfg);
	cfg.jwt_alg = ALG_HS256;
	cfg.jwt_alg_name = "HS256";
	cfg.jwt_key = (char *)secret;
	cfg.jwt_key_len = sizeof secret - 1;
	cfg.jwt_skew = 30;
	return 0;
}

static int setup_rs256(void **state)
{
	setup_hs256(state);
	cfg.jwt_alg = ALG_RS256;
	cfg.jwt_alg_name = "RS256";
	cfg.jwt_key = rsa_public_pem;
	cfg.jwt_key_len = strlen(rsa_public_pem);
	return 0;
}

/* ---- signatures and algorithms ------------------------------------------------------- */

static void test_sha256_matches_known_answers(void **state)
{
	(void)state;
	/* RFC 4231 test case 2. */
	static const unsigned char want[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
					       0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
					       0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
	unsigned char mac[32];
	hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	assert_memory_equal(mac, want, 32);
}

static void test_token_signed_by_auth_sign_verifies(void **state)
{
	(void)state;
	char *t = auth_sign(ROLE_TOWNSHIP, 12, 3, "alice", NULL, "calls:read", 3600);
	assert_non_null(t);
	auth_claims c;
	const char *why = NULL;
	assert_int_equal(auth_verify(t, strlen(t), time(NULL), &c, &why), 0);
	assert_int_equal(c.role, ROLE_TOWNSHIP);
	assert_true(c.unit_id == 12);
	assert_true(c.district == 3);
	assert_string_equal(c.sub, "alice");
	assert_string_equal(c.scope, "calls:read");
	assert_string_equal(
		c.json,
		"{\"sub\":\"alice\",\"role\":\"township\",\"unit_id\":12,\"district\":3,\"scope\":\"calls:read\"}");
	auth_claims_free(&c);

	/* The hand-made HMAC agrees with libjwt's over the same two segments. */
	const char *dot = strrchr(t, '.');
	assert_non_null(dot);
	unsigned char mac[32];
	hmac_sha256(secret, sizeof secret - 1, t, (size_t)(dot - t), mac);
	buf sig = {0};
	b64url(&sig, mac, sizeof mac);
	assert_string_equal(buf_str(&sig), dot + 1);
	buf_free(&sig);
	free(t);
}

static void test_hand_built_token_verifies(void **state)
{
	(void)state;
	char *p = payload_with("");
	char *t = hs_token(p);
	const char *why;
	char *json = NULL;
	assert_int_equal(verify(t, &why, &json), 0);
	assert_string_equal(json, "{\"sub\":\"u1\",\"role\":\"district\",\"unit_id\":7,\"district\":3}");
	free(json);
	free(t);
	free(p);
}

static void test_wrong_secret_is_rejected(void **state)
{
	(void)state;
	char *p = payload_with("");
	static const char other[] = "0123456789abcdef0123456789abcdef01234568";
	char *t = hs_token_with_key(HS256_HEADER, p, other, sizeof other - 1);
	assert_token_refused(t);
	free(t);
	free(p);
}

static void test_tampered_payload_is_rejected(void **state)
{
	(void)state;
	char *p = payload_with("");
	char *t = hs_token(p);
	char *q = payload_with(""); /* same claims, but role district -> township */
	memcpy(strstr(q, "district\","), "township\",", 10);
	char *t2 = hs_token(q);
	/* Graft the second payload onto the first signature. */
	char *d1 = strchr(t, '.'), *s1 = strrchr(t, '.');
	char *d2 = strchr(t2, '.'), *s2 = strrchr(t2, '.');
	buf b = {0};
	buf_put(&b, t, (size_t)(d1 - t));
	buf_put(&b, d2, (size_t)(s2 - d2));
	buf_puts(&b, s1);
	assert_token_refused(buf_str(&b));
	buf_free(&b);
	free(t2);
	free(q);
	free(t);
	free(p);
}

static void test_alg_none_is_rejected(void **state)
{
	(void)state;
	char *p = payload_with("");
	buf b = {0};
	static const char h[] = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
	b64url(&b, h, strlen(h));
	buf_putc(&b, '.');
	b64url(&b, p, strlen(p));
	buf_putc(&b, '.');
	assert_token_refused(buf_str(&b));
	/* ... also with a signature that is a valid HMAC of the two segments. */
	unsigned char mac[32];
	hmac_sha256(secret, sizeof secret - 1, b.p, b.len - 1, mac);
	b64url(&b, mac, sizeof mac);
	assert_token_refused(buf_str(&b));
	buf_free(&b);
	free(p);
}

static void test_lowercase_hs256_header_is_rejected(void **state)
{
	(void)state;
	/* libjwt matches the name case-insensitively; RFC 7515 names are case-sensitive, and
	 * the accepted algorithm is the configured one, spelt the configured way. */
	char *p = payload_with("");
	char *t = hs_token_with_key("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", p, secret, sizeof secret - 1);
	assert_token_refused(t);
	free(t);
	t = hs_token_with_key("{\"alg\":\"Hs256\",\"typ\":\"JWT\"}", p, secret, sizeof secret - 1);
	assert_token_refused(t);
	free(t);
	free(p);
}

static void test_hs384_token_is_rejected_when_hs256_is_pinned(void **state)
{
	(void)state;
	char *p = payload_with("");
	jwt_t *j = NULL;
	assert_int_equal(jwt_new(&j), 0);
	assert_int_equal(jwt_add_grants_json(j, p), 0);
	assert_int_equal(jwt_set_alg(j, JWT_ALG_HS384, (const unsigned char *)secret, (int)sizeof secret - 1), 0);
	char *t = jwt_encode_str(j);
	jwt_free(j);
	assert_non_null(t);
	assert_token_refused(t);
	free(t);
	free(p);
}

static void test_rs256_token_is_rejected_when_hs256_is_pinned(void **state)
{
	(void)state;
	char *p = payload_with("");
	char *t = rs_token(p);
	assert_token_refused(t);
	free(t);
	free(p);
}

static void test_rs256_token_verifies_when_rs256_is_configured(void **state)
{
	(void)state;
	char *p = payload_with("");
	char *t = rs_token(p);
	assert_token_accepted(t);
	free(t);
	free(p);
}

static void test_hs256_token_signed_with_the_public_key_is_rejected_when_rs256_is_pinned(void **state)
{
	(void)state;
	/* The classic confusion: libjwt itself accepts this token (DEPENDENCIES.md). */
	char *p = payload_with("");
	char *t = hs_token_with_key(HS256_HEADER, p, rsa_public_pem, strlen(rsa_public_pem));
	assert_token_refused(t);
	free(t);
	free(p);
}

static void test_other_typ_is_rejected(void **state)
{
	(void)state;
	char *p = payload_with("");
	char *t = hs_token_with_key("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", p, secret, sizeof secret - 1);
	assert_token_refused(t);
	free(t);
	free(p);
}

/* ---- time claims --------------------------------------------------------------------- */

/* {"sub":..,"role":..,"unit_id":..,"district":..} followed by the time claims given. */
static char *payload_times(const char *times)
{
	buf b = {0};
	buf_printf(&b, "{\"sub\":\"u1\",\"role\":\"district\",\"unit_id\":7,\"district\":3%s%s}", *times ? "," : "",
		   times);
	return b.p;
}

static void assert_times_accepted(const char *times)
{
	char *p = payload_times(times);
	assert_payload_accepted(p);
	free(p);
}

static void assert_times_refused(const char *times)
{
	char *p = payload_times(times);
	assert_payload_refused(p);
	free(p);
}

/* Formats the time claims into a scratch buffer (literal formats keep -Wformat=2 happy). */
static char tbuf[256];
#define TIMES(...) (snprintf(tbuf, sizeof tbuf, __VA_ARGS__), tbuf)

static void test_expired_token_is_rejected(void **state)
{
	(void)state;
	assert_times_refused(TIMES("\"exp\":%lld", (long long)NOW - 31));
	assert_times_refused(TIMES("\"exp\":%lld", (long long)NOW - 86400));
	assert_times_refused("\"exp\":0");
	assert_times_refused("\"exp\":-1");
}

static void test_expiry_within_skew_is_accepted(void **state)
{
	(void)state;
	assert_times_accepted(TIMES("\"exp\":%lld", (long long)NOW - 29));
	assert_times_accepted(TIMES("\"exp\":%lld", (long long)NOW + 1));
	cfg.jwt_skew = 0;
	assert_times_refused(TIMES("\"exp\":%lld", (long long)NOW - 1));
	assert_times_accepted(TIMES("\"exp\":%lld", (long long)NOW + 1));
}

static void test_token_expiring_now_is_rejected_without_skew(void **state)
{
	(void)state;
	/* RFC 7519 4.1.4: the current time must be before exp. */
	cfg.jwt_skew = 0;
	assert_times_refused(TIMES("\"exp\":%lld", (long long)NOW));
}

static void test_nbf_in_the_future_is_rejected(void **state)
{
	(void)state;
	assert_times_refused(TIMES("\"exp\":%lld,\"nbf\":%lld", (long long)NOW + 600, (long long)NOW + 31));
	assert_times_refused(TIMES("\"exp\":%lld,\"nbf\":%lld", (long long)NOW + 6000, (long long)NOW + 3600));
}

static void test_nbf_within_skew_is_accepted(void **state)
{
	(void)state;
	assert_times_accepted(TIMES("\"exp\":%lld,\"nbf\":%lld", (long long)NOW + 600, (long long)NOW + 30));
	assert_times_accepted(TIMES("\"exp\":%lld,\"nbf\":%lld", (long long)NOW + 600, (long long)NOW - 100));
	cfg.jwt_skew = 0;
	assert_times_refused(TIMES("\"exp\":%lld,\"nbf\":%lld", (long long)NOW + 600, (long long)NOW + 1));
	assert_times_accepted(TIMES("\"exp\":%lld,\"nbf\":%lld", (long long)NOW + 600, (long long)NOW));
}

static void test_exp_as_string_is_rejected(void **state)
{
	(void)state;
	/* jwt_get_grant_int would read this as 0 and errno 0. */
	assert_times_refused("\"exp\":\"9999999999\"");
}

static void test_exp_as_float_is_rejected(void **state)
{
	(void)state;
	assert_times_refused(TIMES("\"exp\":%lld.5", (long long)NOW + 600));
	assert_times_refused("\"exp\":1e400");
}

static void test_missing_exp_is_rejected(void **state)
{
	(void)state;
	assert_times_refused("");
	assert_times_refused(TIMES("\"nbf\":%lld", (long long)NOW));
	assert_times_refused("\"exp\":null");
	assert_times_refused("\"exp\":true");
}

static void test_nbf_and_iat_of_the_wrong_type_are_rejected(void **state)
{
	(void)state;
	assert_extra_refused("\"nbf\":\"0\"");
	assert_extra_refused("\"nbf\":1.5");
	assert_extra_refused("\"iat\":\"1700000000\"");
	assert_extra_refused("\"iat\":1700000000.5");
	assert_extra_refused("\"iat\":null");
	assert_extra_accepted("\"iat\":1700000000");
}

/* ---- identity claims ----------------------------------------------------------------- */

/* {"sub":"u1","exp":..} plus claims. */
static void assert_claims(int accepted, const char *claims)
{
	buf b = {0};
	buf_printf(&b, "{\"sub\":\"u1\",\"exp\":%lld,%s}", (long long)NOW + 600, claims);
	if (accepted)
		assert_payload_accepted(buf_str(&b));
	else
		assert_payload_refused(buf_str(&b));
	buf_free(&b);
}

static void test_unknown_role_is_rejected(void **state)
{
	(void)state;
	assert_claims(0, "\"role\":\"admin\",\"unit_id\":7,\"district\":3");
	assert_claims(0, "\"role\":\"District\",\"unit_id\":7,\"district\":3");
	assert_claims(0, "\"role\":\"\",\"unit_id\":7,\"district\":3");
	assert_claims(0, "\"role\":4,\"unit_id\":7,\"district\":3");
	assert_claims(0, "\"role\":[\"district\"],\"unit_id\":7,\"district\":3");
	assert_claims(0, "\"unit_id\":7,\"district\":3");
	/* A differently cased member does not stand in for role. */
	assert_claims(0, "\"Role\":\"district\",\"unit_id\":7,\"district\":3");
	assert_claims(1, "\"role\":\"department\",\"unit_id\":7,\"district\":3");
}

static void test_bad_unit_id_is_rejected(void **state)
{
	(void)state;
	assert_claims(0, "\"role\":\"township\",\"unit_id\":\"7\",\"district\":3");
	assert_claims(0, "\"role\":\"township\",\"unit_id\":-7,\"district\":3");
	assert_claims(0, "\"role\":\"township\",\"unit_id\":0,\"district\":3");
	assert_claims(0, "\"role\":\"township\",\"unit_id\":7.5,\"district\":3");
	assert_claims(0, "\"role\":\"township\",\"unit_id\":null,\"district\":3");
	assert_claims(0, "\"role\":\"township\",\"district\":3");
	assert_claims(1, "\"role\":\"township\",\"unit_id\":9007199254740991,\"district\":3");
}

static void test_unit_id_beyond_two_to_the_53_is_rejected(void **state)
{
	(void)state;
	/* It would be read as 9007199254740992, another unit than the token names. */
	assert_claims(0, "\"role\":\"township\",\"unit_id\":9007199254740993,\"district\":3");
	assert_claims(0, "\"role\":\"township\",\"unit_id\":7,\"district\":9007199254740993");
}

static void test_missing_or_bad_district_is_rejected(void **state)
{
	(void)state;
	assert_claims(0, "\"role\":\"township\",\"unit_id\":7");
	assert_claims(0, "\"role\":\"township\",\"unit_id\":7,\"district\":\"3\"");
	assert_claims(0, "\"role\":\"township\",\"unit_id\":7,\"district\":0");
	assert_claims(0, "\"role\":\"township\",\"unit_id\":7,\"district\":-3");
	assert_claims(0, "\"role\":\"township\",\"unit_id\":7,\"district\":3.25");
}

static void test_missing_or_empty_sub_is_rejected(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof p, "{\"role\":\"district\",\"unit_id\":7,\"district\":3,\"exp\":%lld}",
		 (long long)NOW + 600);
	assert_payload_refused(p);
	snprintf(p, sizeof p, "{\"sub\":\"\",\"role\":\"district\",\"unit_id\":7,\"district\":3,\"exp\":%lld}",
		 (long long)NOW + 600);
	assert_payload_refused(p);
	snprintf(p, sizeof p, "{\"sub\":42,\"role\":\"district\",\"unit_id\":7,\"district\":3,\"exp\":%lld}",
		 (long long)NOW + 600);
	assert_payload_refused(p);
}

static void test_integration_token_needs_a_system(void **state)
{
	(void)state;
	assert_claims(0, "\"role\":\"integration\",\"unit_id\":7,\"district\":3");
	assert_claims(0, "\"role\":\"integration\",\"unit_id\":7,\"district\":3,\"system\":\"\"");
	assert_claims(0, "\"role\":\"integration\",\"unit_id\":7,\"district\":3,\"system\":12");
	assert_claims(1, "\"role\":\"integration\",\"unit_id\":7,\"district\":3,\"system\":\"hotline-12345\"");
}

static void test_iss_mismatch_is_rejected_when_configured(void **state)
{
	(void)state;
	assert_extra_accepted("\"iss\":\"anyone\""); /* not configured: not checked */
	cfg.jwt_iss = "https://idp.example";
	assert_extra_accepted("\"iss\":\"https://idp.example\"");
	assert_extra_refused("\"iss\":\"https://evil.example\"");
	assert_extra_refused("\"iss\":\"https://IDP.example\"");
	assert_extra_refused("\"iss\":[\"https://idp.example\"]");
	assert_extra_refused("\"iss\":null");
	char *p = payload_with("");
	assert_payload_refused(p); /* absent */
	free(p);
}

static void test_aud_mismatch_is_rejected_when_configured(void **state)
{
	(void)state;
	cfg.jwt_aud = "huying";
	assert_extra_accepted("\"aud\":\"huying\"");
	assert_extra_refused("\"aud\":\"other\"");
	assert_extra_refused("\"aud\":\"huying2\"");
	assert_extra_refused("\"aud\":[]");
	assert_extra_refused("\"aud\":[\"other\"]");
	assert_extra_refused("\"aud\":7");
	char *p = payload_with("");
	assert_payload_refused(p); /* absent */
	free(p);
}

static void test_aud_array_containing_the_audience_is_accepted(void **state)
{
	(void)state;
	cfg.jwt_aud = "huying";
	assert_extra_accepted("\"aud\":[\"huying\"]");
	assert_extra_accepted("\"aud\":[\"other\",\"huying\"]");
}

/* ---- the token as bytes -------------------------------------------------------------- */

static void test_empty_token_is_rejected(void **state)
{
	(void)state;
	auth_claims c;
	const char *why = NULL;
	assert_int_equal(auth_verify("", 0, NOW, &c, &why), -1);
	assert_non_null(why);
	assert_null(c.json);
}

static void test_token_longer_than_the_cap_is_rejected(void **state)
{
	(void)state;
	/* A genuine, correctly signed token that is too long because of one large claim. */
	buf b = {0};
	buf_puts(&b, "\"pad\":\"");
	for (int i = 0; i < AUTH_MAX_TOKEN; i++)
		buf_putc(&b, 'x');
	buf_putc(&b, '"');
	char *p = payload_with(buf_str(&b));
	char *t = hs_token(p);
	assert_true(strlen(t) > AUTH_MAX_TOKEN);
	auth_claims c;
	const char *why = NULL;
	assert_int_equal(auth_verify(t, strlen(t), NOW, &c, &why), -1);
	assert_string_equal(why, "the bearer token is too long");
	/* The length given is what counts, not where a NUL is. */
	char big[AUTH_MAX_TOKEN + 2];
	memset(big, 'a', sizeof big);
	assert_int_equal(auth_verify(big, AUTH_MAX_TOKEN + 1, NOW, &c, &why), -1);
	assert_string_equal(why, "the bearer token is too long");
	free(t);
	free(p);
	buf_free(&b);
}

static void test_token_just_under_the_cap_is_accepted(void **state)
{
	(void)state;
	/* Grow a padding claim until the token would pass the cap; keep the last one that fits. */
	char *fits = NULL;
	for (int pad = AUTH_MAX_TOKEN / 2; pad < AUTH_MAX_TOKEN; pad++) {
		buf b = {0};
		buf_puts(&b, "\"pad\":\"");
		for (int i = 0; i < pad; i++)
			buf_putc(&b, 'x');
		buf_putc(&b, '"');
		char *p = payload_with(buf_str(&b));
		char *t = hs_token(p);
		free(p);
		buf_free(&b);
		if (strlen(t) > AUTH_MAX_TOKEN) {
			free(t);
			break;
		}
		free(fits);
		fits = t;
	}
	assert_non_null(fits);
	assert_true(strlen(fits) > AUTH_MAX_TOKEN - 4);
	assert_token_accepted(fits);
	free(fits);
}

static void test_token_with_a_nul_byte_is_rejected(void **state)
{
	(void)state;
	char *p = payload_with("");
	char *t = hs_token(p);
	size_t n = strlen(t);
	char *withnul = malloc(n + 4);
	assert_non_null(withnul);
	memcpy(withnul, t, n);
	memcpy(withnul + n, "\0xx", 3);
	auth_claims c;
	const char *why = NULL;
	assert_int_equal(auth_verify(withnul, n + 3, NOW, &c, &why), -1);
	assert_non_null(why);
	free(withnul);
	free(t);
	free(p);
}

static void test_garbage_tokens_are_rejected(void **state)
{
	(void)state;
	assert_token_refused("x");
	assert_token_refused("a.b.c");
	assert_token_refused("..");
	assert_token_refused("Bearer x.y.z");
	char *p = payload_with("");
	char *t = hs_token(p);
	t[strlen(t) - 1] ^= 1; /* flip one bit of the signature */
	assert_token_refused(t);
	free(t);
	/* Claims that are not an object. */
	t = hs_token("[1,2,3]");
	assert_token_refused(t);
	free(t);
	free(p);
}

/* ---- normalised claims --------------------------------------------------------------- */

static void test_normalised_claims_json_is_exact(void **state)
{
	(void)state;
	char p[512];
	snprintf(p, sizeof p,
		 "{\"iss\":\"x\",\"name\":\"张三\",\"scope\":\"calls:read calls:write\",\"system\":\"hotline\","
		 "\"district\":3,\"unit_id\":12,\"role\":\"integration\",\"sub\":\"svc \\\"1\\\"\",\"exp\":%lld,"
		 "\"iat\":%lld,\"extra\":{\"a\":[1]}}",
		 (long long)NOW + 600, (long long)NOW);
	char *t = hs_token(p);
	auth_claims c;
	const char *why = NULL;
	assert_int_equal(auth_verify(t, strlen(t), NOW, &c, &why), 0);
	assert_string_equal(c.json, "{\"sub\":\"svc \\\"1\\\"\",\"role\":\"integration\",\"unit_id\":12,\"district\":3,"
				    "\"system\":\"hotline\",\"scope\":\"calls:read calls:write\",\"name\":\"张三\"}");
	assert_int_equal(c.role, ROLE_INTEGRATION);
	assert_string_equal(c.sub, "svc \"1\"");
	assert_string_equal(c.scope, "calls:read calls:write");
	auth_claims_free(&c);
	auth_claims_free(&c); /* a second free is harmless */
	free(t);
}

/* ---- scopes and roles ---------------------------------------------------------------- */

static void test_empty_scope_allows_everything(void **state)
{
	(void)state;
	auth_claims c = {0};
	assert_int_equal(auth_has_scope(&c, "calls:write"), 1);
	assert_int_equal(auth_has_scope(&c, NULL), 1);
}

static void test_scope_words_must_match_exactly(void **state)
{
	(void)state;
	auth_claims c = {0};
	snprintf(c.scope, sizeof c.scope, "calls:read calls:write");
	assert_int_equal(auth_has_scope(&c, NULL), 1);
	assert_int_equal(auth_has_scope(&c, "calls:read"), 1);
	assert_int_equal(auth_has_scope(&c, "calls:write"), 1);
	assert_int_equal(auth_has_scope(&c, "calls:wri"), 0);
	assert_int_equal(auth_has_scope(&c, "calls"), 0);
	assert_int_equal(auth_has_scope(&c, "calls:read calls:write"), 0);
	assert_int_equal(auth_has_scope(&c, "alls:write"), 0);
	assert_int_equal(auth_has_scope(&c, "calls:writer"), 0);
	assert_int_equal(auth_has_scope(&c, "units:read"), 0);
	snprintf(c.scope, sizeof c.scope, "  a   b  ");
	assert_int_equal(auth_has_scope(&c, "a"), 1);
	assert_int_equal(auth_has_scope(&c, "b"), 1);
	assert_int_equal(auth_has_scope(&c, "c"), 0);
}

static void test_role_names_round_trip(void **state)
{
	(void)state;
	static const auth_role roles[] = {ROLE_TOWNSHIP, ROLE_DEPARTMENT, ROLE_DISTRICT, ROLE_INTEGRATION};
	static const char *const names[] = {"township", "department", "district", "integration"};
	for (int i = 0; i < 4; i++) {
		assert_string_equal(auth_role_name(roles[i]), names[i]);
		assert_int_equal(auth_role_parse(names[i]), roles[i]);
		assert_int_equal(auth_role_parse(auth_role_name(roles[i])), roles[i]);
	}
	assert_int_equal(auth_role_parse("admin"), 0);
	assert_int_equal(auth_role_parse("Township"), 0);
	assert_int_equal(auth_role_parse(""), 0);
	assert_int_equal(auth_role_parse("district_office"), 0);
	assert_string_equal(auth_role_name(0), "?");
	assert_string_equal(auth_role_name(ROLE_TOWNSHIP | ROLE_DISTRICT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sha256_matches_known_answers, setup_hs256),
		cmocka_unit_test_setup(test_token_signed_by_auth_sign_verifies, setup_hs256),
		cmocka_unit_test_setup(test_hand_built_token_verifies, setup_hs256),
		cmocka_unit_test_setup(test_wrong_secret_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_tampered_payload_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_alg_none_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_lowercase_hs256_header_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_hs384_token_is_rejected_when_hs256_is_pinned, setup_hs256),
		cmocka_unit_test_setup(test_rs256_token_is_rejected_when_hs256_is_pinned, setup_hs256),
		cmocka_unit_test_setup(test_rs256_token_verifies_when_rs256_is_configured, setup_rs256),
		cmocka_unit_test_setup(test_hs256_token_signed_with_the_public_key_is_rejected_when_rs256_is_pinned,
				       setup_rs256),
		cmocka_unit_test_setup(test_other_typ_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_expired_token_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_expiry_within_skew_is_accepted, setup_hs256),
		cmocka_unit_test_setup(test_token_expiring_now_is_rejected_without_skew, setup_hs256),
		cmocka_unit_test_setup(test_nbf_in_the_future_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_nbf_within_skew_is_accepted, setup_hs256),
		cmocka_unit_test_setup(test_exp_as_string_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_exp_as_float_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_missing_exp_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_nbf_and_iat_of_the_wrong_type_are_rejected, setup_hs256),
		cmocka_unit_test_setup(test_unknown_role_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_bad_unit_id_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_unit_id_beyond_two_to_the_53_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_missing_or_bad_district_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_missing_or_empty_sub_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_integration_token_needs_a_system, setup_hs256),
		cmocka_unit_test_setup(test_iss_mismatch_is_rejected_when_configured, setup_hs256),
		cmocka_unit_test_setup(test_aud_mismatch_is_rejected_when_configured, setup_hs256),
		cmocka_unit_test_setup(test_aud_array_containing_the_audience_is_accepted, setup_hs256),
		cmocka_unit_test_setup(test_empty_token_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_token_longer_than_the_cap_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_token_just_under_the_cap_is_accepted, setup_hs256),
		cmocka_unit_test_setup(test_token_with_a_nul_byte_is_rejected, setup_hs256),
		cmocka_unit_test_setup(test_garbage_tokens_are_rejected, setup_hs256),
		cmocka_unit_test_setup(test_normalised_claims_json_is_exact, setup_hs256),
		cmocka_unit_test_setup(test_empty_scope_allows_everything, setup_hs256),
		cmocka_unit_test_setup(test_scope_words_must_match_exactly, setup_hs256),
		cmocka_unit_test_setup(test_role_names_round_trip, setup_hs256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
