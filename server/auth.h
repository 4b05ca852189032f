/* auth: JWT verification (and development signing). The only module that includes jwt.h.
 *
 * The accepted algorithm is the configured one, never the token's: libjwt 1.10 takes the
 * algorithm from the token header, matches it case-insensitively and checks no claims, so
 * every check below is done here (DEPENDENCIES.md). */
#ifndef HUYING_AUTH_H
#define HUYING_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define AUTH_MAX_TOKEN 4096

typedef enum {
	ROLE_TOWNSHIP = 1,
	ROLE_DEPARTMENT = 2,
	ROLE_DISTRICT = 4,
	ROLE_INTEGRATION = 8,
} auth_role;
#define ROLES_ALL (ROLE_TOWNSHIP | ROLE_DEPARTMENT | ROLE_DISTRICT | ROLE_INTEGRATION)

typedef struct auth_claims {
	auth_role role;
	int64_t unit_id;
	int64_t district;
	char sub[256];
	char scope[512]; /* "" when the token has no scope claim (unrestricted) */
	char *json;      /* the verified claims, normalised, for huying.claims; free with auth_claims_free */
} auth_claims;

/* Verifies token[0..len) at time now. Returns 0 and fills *c, or -1 with *why set to a
 * static, client-safe sentence; nothing to free on error. */
int auth_verify(const char *token, size_t len, time_t now, auth_claims *c, const char **why);
void auth_claims_free(auth_claims *c);

/* 1 when the token may use a route that needs scope (NULL: none needed). */
int auth_has_scope(const auth_claims *c, const char *scope);

/* Role name <-> bit. auth_role_parse returns 0 for an unknown name. */
const char *auth_role_name(auth_role r);
auth_role auth_role_parse(const char *s);

/* Signs a development HS256 token with the configured secret. Returns a malloc'd string or
 * NULL. system and scope may be NULL. */
char *auth_sign(auth_role role, int64_t unit_id, int64_t district, const char *sub, const char *system,
		const char *scope, long ttl_seconds);

#endif
