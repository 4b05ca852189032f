#include "auth.h"

#include <errno.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "json.h"

static const char *const role_names[] = {"township", "department", "district", "integration"};

const char *auth_role_name(auth_role r)
{
	for (int i = 0; i < 4; i++)
		if (r == (auth_role)(1 << i))
			return role_names[i];
	return "?";
}

auth_role auth_role_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, role_names[i]) == 0)
			return (auth_role)(1 << i);
	return 0;
}

static jwt_alg_t pinned_alg(void)
{
	switch (cfg.jwt_alg) {
	case ALG_RS256: return JWT_ALG_RS256;
	case ALG_ES256: return JWT_ALG_ES256;
	default: return JWT_ALG_HS256;
	}
}

static int aud_matches(const char *s, void *arg)
{
	return strcmp(s, (const char *)arg) == 0;
}

/* Optional integer claim: absent is fine, anything but an exact integer is not. */
static int opt_int(const json_doc *d, const char *key, int64_t *v, int *present)
{
	*present = json_member_type(d, key) != JT_MISSING;
	return *present ? json_member_int(d, key, v) : 0;
}

static int check_claims(const json_doc *d, time_t now, auth_claims *c, const char **why)
{
	int64_t exp, nbf, iat;
	int has;
	if (json_member_type(d, "exp") == JT_MISSING)
		return *why = "the token has no exp claim", -1;
	if (json_member_int(d, "exp", &exp) < 0)
		return *why = "the token's exp claim is not an integer", -1;
	if (exp + cfg.jwt_skew <= (int64_t)now) /* RFC 7519: now must be before exp */
		return *why = "the token has expired", -1;
	if (opt_int(d, "nbf", &nbf, &has) < 0)
		return *why = "the token's nbf claim is not an integer", -1;
	if (has && nbf - cfg.jwt_skew > (int64_t)now)
		return *why = "the token is not valid yet (nbf)", -1;
	if (opt_int(d, "iat", &iat, &has) < 0)
		return *why = "the token's iat claim is not an integer", -1;
	if (cfg.jwt_iss) {
		const char *iss;
		if (json_member_str(d, "iss", &iss) < 0 || strcmp(iss, cfg.jwt_iss) != 0)
			return *why = "the token's issuer (iss) is not accepted", -1;
	}
	if (cfg.jwt_aud) {
		const char *aud;
		int ok = json_member_str(d, "aud", &aud) == 0
				 ? strcmp(aud, cfg.jwt_aud) == 0
				 : json_member_each_str(d, "aud", aud_matches, (void *)cfg.jwt_aud) == 1;
		if (!ok)
			return *why = "the token's audience (aud) is not accepted", -1;
	}

	const char *sub, *role, *system = NULL, *scope = NULL, *name = NULL;
	if (json_member_str(d, "sub", &sub) < 0 || !*sub || strlen(sub) >= sizeof c->sub)
		return *why = "the token's sub claim is missing or not a string of 1 to 255 bytes", -1;
	if (json_member_str(d, "role", &role) < 0)
		return *why = "the token's role claim is missing or not a string", -1;
	c->role = auth_role_parse(role);
	if (!c->role)
		return *why = "the token's role is not one of township, department, district, integration", -1;
	if (json_member_int(d, "unit_id", &c->unit_id) < 0 || c->unit_id < 1)
		return *why = "the token's unit_id claim is missing or not a positive integer", -1;
	if (json_member_int(d, "district", &c->district) < 0 || c->district < 1)
		return *why = "the token's district claim is missing or not a positive integer", -1;
	if (json_member_type(d, "system") != JT_MISSING &&
	    (json_member_str(d, "system", &system) < 0 || !*system || strlen(system) > 64))
		return *why = "the token's system claim is not a string of 1 to 64 bytes", -1;
	if (c->role == ROLE_INTEGRATION && !system)
		return *why = "an integration token needs a system claim", -1;
	if (json_member_type(d, "scope") != JT_MISSING &&
	    (json_member_str(d, "scope", &scope) < 0 || strlen(scope) >= sizeof c->scope))
		return *why = "the token's scope claim is not a string", -1;
	if (json_member_type(d, "name") != JT_MISSING && (json_member_str(d, "name", &name) < 0 || strlen(name) > 200))
		return *why = "the token's name claim is not a string", -1;

	memcpy(c->sub, sub, strlen(sub) + 1);
	snprintf(c->scope, sizeof c->scope, "%s", scope ? scope : "");
	buf b = {0};
	buf_puts(&b, "{\"sub\":");
	buf_json_str(&b, sub, strlen(sub));
	buf_printf(&b, ",\"role\":\"%s\",\"unit_id\":%lld,\"district\":%lld", role, (long long)c->unit_id,
		   (long long)c->district);
	if (system) {
		buf_puts(&b, ",\"system\":");
		buf_json_str(&b, system, strlen(system));
	}
	if (scope) {
		buf_puts(&b, ",\"scope\":");
		buf_json_str(&b, scope, strlen(scope));
	}
	if (name) {
		buf_puts(&b, ",\"name\":");
		buf_json_str(&b, name, strlen(name));
	}
	buf_putc(&b, '}');
	if (b.oom) {
		buf_free(&b);
		return *why = "out of memory", -1;
	}
	c->json = b.p;
	return 0;
}

int auth_verify(const char *token, size_t len, time_t now, auth_claims *c, const char **why)
{
	memset(c, 0, sizeof *c);
	if (len == 0)
		return *why = "the bearer token is empty", -1;
	if (len > AUTH_MAX_TOKEN)
		return *why = "the bearer token is too long", -1;
	/* jwt_decode wants a C string; the key is never empty (config refuses to start so). */
	char tok[AUTH_MAX_TOKEN + 1];
	memcpy(tok, token, len);
	tok[len] = '\0';
	if (strlen(tok) != len)
		return *why = "the bearer token is malformed", -1;
	if (cfg.jwt_key_len == 0)
		return *why = "no verification key is configured", -1;

	jwt_t *j = NULL;
	if (jwt_decode(&j, tok, (const unsigned char *)cfg.jwt_key, (int)cfg.jwt_key_len) != 0 || !j)
		return *why = "the token is malformed or its signature does not verify", -1;
	int rc = -1;
	json_doc *d = NULL;
	char *grants = NULL;
	/* libjwt matches the header's alg case-insensitively: compare the exact text too. */
	const char *alg = jwt_get_header(j, "alg");
	if (jwt_get_alg(j) != pinned_alg() || !alg || strcmp(alg, cfg.jwt_alg_name) != 0) {
		*why = "the token is not signed with the accepted algorithm";
		goto out;
	}
	grants = jwt_get_grants_json(j, NULL);
	char err[128];
	d = grants ? json_parse(grants, strlen(grants), err, sizeof err) : NULL;
	if (!d || json_root_type(d) != JT_OBJECT) {
		*why = "the token's claims are not a JSON object";
		goto out;
	}
	rc = check_claims(d, now, c, why);
out:
	json_free(d);
	free(grants);
	jwt_free(j);
	return rc;
}

void auth_claims_free(auth_claims *c)
{
	free(c->json);
	c->json = NULL;
}

int auth_has_scope(const auth_claims *c, const char *scope)
{
	if (!scope || !c->scope[0])
		return 1;
	size_t n = strlen(scope);
	for (const char *p = c->scope; *p;) {
		p += strspn(p, " ");
		size_t w = strcspn(p, " ");
		if (w == n && strncmp(p, scope, n) == 0)
			return 1;
		p += w;
	}
	return 0;
}

char *auth_sign(auth_role role, int64_t unit_id, int64_t district, const char *sub, const char *system,
		const char *scope, long ttl_seconds)
{
	jwt_t *j = NULL;
	char *out = NULL;
	if (jwt_new(&j) != 0)
		return NULL;
	time_t now = time(NULL);
	if (jwt_add_grant(j, "sub", sub) || jwt_add_grant(j, "role", auth_role_name(role)) ||
	    jwt_add_grant_int(j, "unit_id", unit_id) || jwt_add_grant_int(j, "district", district) ||
	    jwt_add_grant_int(j, "iat", now) || jwt_add_grant_int(j, "exp", now + ttl_seconds) ||
	    (system && jwt_add_grant(j, "system", system)) || (scope && jwt_add_grant(j, "scope", scope)) ||
	    (cfg.jwt_iss && jwt_add_grant(j, "iss", cfg.jwt_iss)) ||
	    (cfg.jwt_aud && jwt_add_grant(j, "aud", cfg.jwt_aud)))
		goto out;
	if (jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)cfg.jwt_key, (int)cfg.jwt_key_len) != 0)
		goto out;
	out = jwt_encode_str(j);
out:
	jwt_free(j);
	return out;
}
