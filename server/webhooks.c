/* webhooks: the district office's subscriptions and their delivery logs (DESIGN §5
 * "Integration and bulk work"; schema/0009_integration.sql). The deliverer threads
 * (deliverer.c) send what the outbox holds. A subscription's URL is checked here against the
 * SSRF rules as far as its text allows (scheme, user info, a host that is an address in a
 * refused range, localhost); the address a name resolves to is checked at each connection
 * (webhook_http.c), since a name may resolve elsewhere later. The secret is write-only. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deliverer.h"
#include "handlers.h"
#include "netguard.h"

static db_stmt st_create = DB_STMT("webhooks_create", "select * from api.webhook_create($1::jsonb, $2)", 2);
static db_stmt st_get = DB_STMT("webhooks_get",
				"select api.webhook_json(w)::text from huying.webhooks w"
				" where w.id = $1::bigint and w.district_id = (select auth.district()) and w.status <> 'deleted'",
				1);
static db_stmt st_list = DB_STMT(
	"webhooks_list",
	"select json_build_object('data', coalesce(json_agg(j order by id desc) filter (where rn <= $1::int), '[]'),"
	" 'next_cursor', case when count(*) > $1::int"
	"   then api.cursor(jsonb_build_array((array_agg(id order by id desc))[$1::int])) end)::text"
	" from (select w.id, api.webhook_json(w) as j, row_number() over (order by w.id desc) as rn"
	"   from huying.webhooks w where w.district_id = (select auth.district()) and w.status <> 'deleted'"
	"   and w.id < coalesce(($2::jsonb ->> 0)::bigint, 9223372036854775807)"
	"   order by w.id desc limit $1::int + 1) p",
	2);
static db_stmt st_delete = DB_STMT("webhooks_delete", "select * from api.webhook_delete($1::bigint)", 1);
/* The log of one subscription, newest first; 404 (no row) when the subscription is not there. */
static db_stmt st_deliveries = DB_STMT(
	"webhooks_deliveries",
	"select json_build_object('data', coalesce(json_agg(p.j order by p.id desc) filter (where p.rn <= $2::int), '[]'),"
	" 'next_cursor', case when count(p.j) > $2::int"
	"   then api.cursor(jsonb_build_array((array_agg(p.id order by p.id desc) filter (where p.j is not null))[$2::int]))"
	"   end)::text"
	" from huying.webhooks w left join lateral (select d.id, api.webhook_delivery_json(d, true) as j,"
	"     row_number() over (order by d.id desc) as rn"
	"   from huying.webhook_deliveries d where d.webhook_id = w.id"
	"   and d.id < coalesce(($3::jsonb ->> 0)::bigint, 9223372036854775807)"
	"   and ($4::text is null or d.status = $4::text)"
	"   order by d.id desc limit $2::int + 1) p on true"
	" where w.id = $1::bigint and w.district_id = (select auth.district()) and w.status <> 'deleted'"
	" group by w.id",
	4);
static db_stmt st_redeliver =
	DB_STMT("webhooks_redeliver", "select * from api.webhook_redeliver($1::bigint, $2::bigint)", 2);

/* NULL when the URL may be subscribed; else why not. */
static const char *url_refused(const char *url)
{
	static const char *const msgs[] = {
		"must be an absolute http(s) URL",
		"must be https (http only for a host on HUYING_WEBHOOK_ALLOW)",
		"must not carry user info",
		"names localhost, which is not on HUYING_WEBHOOK_ALLOW",
		"names an address in a refused range (loopback, private, link-local, ...) that is not on HUYING_WEBHOOK_ALLOW",
	};
	const char *why = NULL;
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		why = msgs[0];
		goto done;
	}
	if (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0) {
		why = msgs[0];
		goto done;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		why = msgs[2];
		goto done;
	}
	size_t hl = strlen(host);
	if (netguard_allow_matches(deliverer_allow(), host, hl, atoi(port)))
		goto done; /* trusted as it is */
	if (strcasecmp(scheme, "https") != 0) {
		why = msgs[1];
		goto done;
	}
	/* the literal host: brackets off an IPv6 address */
	char lit[NETGUARD_HOST_MAX + 1];
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof lit) {
		memcpy(lit, host + 1, hl - 2);
		lit[hl - 2] = '\0';
	} else {
		snprintf(lit, sizeof lit, "%s", host);
	}
	size_t ll = strlen(lit);
	if (ll && lit[ll - 1] == '.')
		lit[--ll] = '\0';
	if (strcasecmp(lit, "localhost") == 0 || (ll > 10 && strcasecmp(lit + ll - 10, ".localhost") == 0)) {
		why = msgs[3];
		goto done;
	}
	unsigned char a4[4], a6[16];
	char *pct = strchr(lit, '%'); /* a zone id: fe80::1%eth0 */
	if (pct)
		*pct = '\0';
	if ((inet_pton(AF_INET, lit, a4) == 1 && netguard_check_ipv4(a4) != NETGUARD_ALLOWED) ||
	    (inet_pton(AF_INET6, lit, a6) == 1 && netguard_check_ipv6(a6, NULL) != NETGUARD_ALLOWED))
		why = msgs[4];
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return why;
}

static int count(const char *s, void *arg)
{
	(void)s;
	++*(int *)arg;
	return 0;
}

/* {url, secret, events[], system?}: 201 with the subscription, Location /v1/webhooks/{id}. */
void webhooks_create(http_req *r)
{
	static const json_field fields[] = {
		{"url", JF_STRING, 1, 8, 2000, NULL, NULL, NULL},
		{"secret", JF_STRING, 1, 16, 256, NULL, NULL, NULL},
		{"events", JF_ARRAY, 1, 0, 0, NULL, NULL, NULL},
		{"system", JF_STRING, 0, 1, 64, NULL, NULL, NULL},
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
	};
	if (http_validate_or_reply(r, fields) < 0)
		return;
	int n = 0;
	if (json_member_each_str(r->json, "events", count, &n) < 0 || n < 1 || n > 50) {
		http_field_problem(r, "events", "must be an array of 1 to 50 event types (strings)",
				   "the subscription has invalid fields");
		return;
	}
	const char *url = NULL;
	json_member_str(r->json, "url", &url);
	const char *why = url_refused(url);
	if (why) {
		http_field_problem(r, "url", why, "the subscription has invalid fields");
		return;
	}
	const char *params[] = {r->body, r->idem_key};
	http_answer(r, &st_create, params);
}

void webhooks_list(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", NULL};
	const char *v[2];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0)
		return;
	const char *params[] = {limit, cursor};
	http_answer(r, &st_list, params);
}

void webhooks_get(http_req *r)
{
	const char *params[] = {r->id_text[0]};
	http_answer(r, &st_get, params);
}

void webhooks_delete(http_req *r)
{
	const char *params[] = {r->id_text[0]};
	http_answer(r, &st_delete, params);
}

void webhooks_deliveries(http_req *r)
{
	static const char *const names[] = {"limit", "cursor", "status", NULL};
	static const char *const statuses[] = {"pending", "delivered", "failed", "cancelled", NULL};
	const char *v[3];
	char limit[16];
	const char *cursor;
	if (http_list_query_or_reply(r, names, v, limit, sizeof limit, &cursor) < 0 ||
	    http_enum_filter_or_reply(r, "status", v[2], statuses) < 0)
		return;
	const char *params[] = {r->id_text[0], limit, cursor, v[2]};
	http_answer(r, &st_deliveries, params);
}

/* No body, or {}. */
void webhooks_redeliver(http_req *r)
{
	static const json_field none[] = {{NULL, 0, 0, 0, 0, NULL, NULL, NULL}};
	if (http_validate_or_reply(r, none) < 0)
		return;
	const char *params[] = {r->id_text[0], r->id_text[1]};
	http_answer(r, &st_redeliver, params);
}
