#include "sign.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* EVP_MAC (OpenSSL 3) rather than the one-shot HMAC(): it takes the message in pieces, so
 * "<t>." and the body are fed in turn without copying the body into a joined buffer. */
int sign_mac(const void *secret, size_t secret_len, int64_t t, const void *body, size_t body_len, unsigned char mac[32])
{
	if (!secret || secret_len == 0 || t < 0 || (!body && body_len))
		return -1;
	char prefix[24];
	int plen = snprintf(prefix, sizeof prefix, "%" PRId64 ".", t);
	int rc = -1;
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;
	if (!ctx)
		goto out;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	size_t outl = 0;
	if (EVP_MAC_init(ctx, secret, secret_len, params) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)prefix, (size_t)plen) != 1 ||
	    (body_len && EVP_MAC_update(ctx, body, body_len) != 1) || EVP_MAC_final(ctx, mac, &outl, 32) != 1 ||
	    outl != 32)
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
	return rc;
}

int sign_header(const void *secret, size_t secret_len, int64_t t, const void *body, size_t body_len, char *out,
		size_t out_size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[32];
	if (!out || out_size == 0)
		return -1;
	out[0] = 0;
	if (sign_mac(secret, secret_len, t, body, body_len, mac) != 0)
		return -1;
	char h[SIGN_HEX_LEN + 1];
	for (int i = 0; i < 32; i++) {
		h[2 * i] = hex[mac[i] >> 4];
		h[2 * i + 1] = hex[mac[i] & 15];
	}
	h[SIGN_HEX_LEN] = 0;
	int n = snprintf(out, out_size, "t=%" PRId64 ",v1=%s", t, h);
	if (n < 0 || (size_t)n >= out_size) {
		out[0] = 0;
		return -1;
	}
	return 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly 64 hex digits into 32 bytes. Returns 0, or -1 when s is anything else.
 * Data-dependent branches here only reveal whether the *received* value is hex, which the
 * sender already knows. */
static int unhex32(const char *s, size_t n, unsigned char out[32])
{
	if (n != SIGN_HEX_LEN)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Parses t's digits (1..18 of them, so no overflow; no leading zero, so one spelling per
 * time, the one the MAC is recomputed over) into *t. Returns 0 or -1. */
static int parse_t(const char *s, size_t n, int64_t *t)
{
	if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*t = v;
	return 0;
}

/* Finds the item of hdr that starts at or after *pos (items are separated by ',', spaces and
 * tabs around them ignored), sets *item and *len to it and moves *pos past it. Returns 0
 * when there is no item left. */
static int next_item(const char *hdr, size_t hdr_len, size_t *pos, const char **item, size_t *len)
{
	if (*pos > hdr_len)
		return 0;
	size_t i = *pos, j = i;
	while (j < hdr_len && hdr[j] != ',')
		j++;
	*pos = j + 1;
	while (i < j && (hdr[i] == ' ' || hdr[i] == '\t'))
		i++;
	while (j > i && (hdr[j - 1] == ' ' || hdr[j - 1] == '\t'))
		j--;
	*item = hdr + i;
	*len = j - i;
	return 1;
}

sign_verdict sign_verify(const void *secret, size_t secret_len, const char *hdr, size_t hdr_len, const void *body,
			 size_t body_len, int64_t now, int64_t tolerance)
{
	if (!secret || secret_len == 0 || !hdr)
		return SIGN_MALFORMED;
	int64_t t = -1;
	int n_v1 = 0;
	const char *item;
	size_t len, pos = 0;
	/* First pass: the one t, and that there is a v1 at all. */
	while (next_item(hdr, hdr_len, &pos, &item, &len)) {
		if (len >= 2 && item[0] == 't' && item[1] == '=') {
			if (t >= 0 || parse_t(item + 2, len - 2, &t) != 0)
				return SIGN_MALFORMED;
		} else if (len >= 3 && item[0] == 'v' && item[1] == '1' && item[2] == '=') {
			n_v1++;
		}
	}
	if (t < 0 || n_v1 == 0)
		return SIGN_MALFORMED;
	unsigned char want[32], got[32];
	if (sign_mac(secret, secret_len, t, body, body_len, want) != 0)
		return SIGN_MALFORMED;
	/* Second pass: any v1 that equals the MAC. Every v1 is compared, match or not. */
	int match = 0;
	pos = 0;
	while (next_item(hdr, hdr_len, &pos, &item, &len))
		if (len >= 3 && item[0] == 'v' && item[1] == '1' && item[2] == '=' &&
		    unhex32(item + 3, len - 3, got) == 0)
			match |= CRYPTO_memcmp(want, got, 32) == 0;
	OPENSSL_cleanse(want, sizeof want);
	if (!match)
		return SIGN_MISMATCH;
	/* now < 0 only with a broken clock; refusing keeps the subtraction below in range. */
	if (now < 0 || tolerance < 0)
		return SIGN_STALE;
	int64_t skew = now > t ? now - t : t - now;
	if (skew > tolerance)
		return SIGN_STALE;
	return SIGN_OK;
}

const char *sign_verdict_name(sign_verdict v)
{
	switch (v) {
	case SIGN_OK: return "ok";
	case SIGN_MALFORMED: return "malformed";
	case SIGN_MISMATCH: return "mismatch";
	case SIGN_STALE: return "stale";
	}
	return "unknown";
}
