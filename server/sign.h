/* sign: the webhook signature (DESIGN §5 "Integration and bulk work"), for the deliverer that
 * signs and for anyone who verifies. OpenSSL is confined to this file.
 *
 * The scheme, as an integrator reads it
 * -------------------------------------
 * Every delivery carries
 *     Huying-Signature: t=<unix seconds>,v1=<64 lowercase hex digits>
 * where v1 = HMAC-SHA256(key = the subscription's secret, as its bytes,
 *                        message = <t as decimal digits> "." <the raw request body>).
 * To verify a delivery:
 *   1. Split the header value at ',' (spaces around items do not matter) and each item at
 *      its first '='. Take the one `t` (decimal digits) and every `v1`; ignore other keys
 *      (a later scheme, v2, may be sent beside v1 and must not break a v1 verifier). No `t`,
 *      two `t`s or no `v1`: reject.
 *   2. Compute the HMAC over t, '.', and the body exactly as received: the bytes, before any
 *      JSON parsing or re-encoding.
 *   3. Compare with each v1 in constant time (CRYPTO_memcmp, crypto.timingSafeEqual,
 *      hmac.compare_digest); accept when one matches. Several v1 values let a secret be
 *      rotated: during the change the sender signs with the old and the new secret.
 *   4. Reject when |now - t| exceeds your tolerance (300 s is usual). The timestamp is
 *      inside the MAC, so this bounds how long a captured delivery can be replayed; to
 *      refuse replays inside the window too, remember the Huying-Event-Id values you
 *      processed in it (retries reuse the event id, so that is also how duplicates are
 *      recognised). Unlike some schemes, a timestamp too far in the future fails as well.
 * tests/webhook_receiver.mjs does exactly this in Node.
 *
 * Each retry is signed afresh with the time of the attempt, so a delivery retried for hours
 * still verifies with a 300 s window; the body and the event id stay the same. */
#ifndef HUYING_SIGN_H
#define HUYING_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define SIGN_HEX_LEN 64 /* hex digits of an HMAC-SHA256 */
/* "t=" + 20 digits + ",v1=" + 64 hex + NUL, rounded up */
#define SIGN_HEADER_MAX 96

/* Writes the 32-byte HMAC-SHA256(secret, "<t>.<body>") into mac. Returns 0, or -1 when the
 * secret is empty, t is negative, or OpenSSL fails (mac is then unspecified). */
int sign_mac(const void *secret, size_t secret_len, int64_t t, const void *body, size_t body_len,
	     unsigned char mac[32]);

/* Writes the Huying-Signature header value "t=<t>,v1=<hex>" for body into out (out_size
 * bytes, at least SIGN_HEADER_MAX), NUL-terminated. Returns 0, or -1 (out is then "") when
 * sign_mac fails or out is too small. */
int sign_header(const void *secret, size_t secret_len, int64_t t, const void *body, size_t body_len, char *out,
		size_t out_size);

typedef enum sign_verdict {
	SIGN_OK = 0,
	SIGN_MALFORMED, /* no t, t not decimal digits, two t's, no v1, or an empty secret */
	SIGN_MISMATCH,  /* no v1 value equals the HMAC: wrong secret, or body or t altered */
	SIGN_STALE,     /* the signature is right but |now - t| > tolerance */
} sign_verdict;

/* Verifies the header value hdr (hdr_len bytes, untrusted) for body at time now (unix
 * seconds), accepting a clock difference of tolerance seconds either way. The MAC is checked
 * before the time, so a forged header is always SIGN_MISMATCH (or MALFORMED), never STALE;
 * comparisons run in constant time. Allocates nothing. */
sign_verdict sign_verify(const void *secret, size_t secret_len, const char *hdr, size_t hdr_len, const void *body,
			 size_t body_len, int64_t now, int64_t tolerance);

/* "ok", "malformed", "mismatch" or "stale". */
const char *sign_verdict_name(sign_verdict v);

#endif
