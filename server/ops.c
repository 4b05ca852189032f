/* ops: liveness, readiness, metrics and the served OpenAPI document. None needs a token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "embed.h"
#include "handlers.h"
#include "metrics.h"
#include "migrate.h"

static db_stmt st_ready = DB_STMT("ready", "select coalesce(max(version), 0) from public.huying_migrations", 0);

void ops_healthz(http_req *r)
{
	static const char body[] = "{\"status\":\"ok\"}";
	http_reply_json(r, 200, body, sizeof body - 1);
}

void ops_readyz(http_req *r)
{
	if (http_is_draining()) {
		http_problem(r, 503, "the daemon is shutting down", NULL);
		return;
	}
	db_result *res = http_db_or_reply(r, &st_ready, NULL);
	if (!res)
		return;
	const char *v = db_value(res, 0, 0, NULL);
	int have = v ? atoi(v) : 0, want = migrate_latest_version();
	db_result_free(res);
	if (have != want) {
		char detail[128];
		snprintf(detail, sizeof detail,
			 "the schema is at version %d, this daemon needs %d (run huyingd migrate)", have, want);
		http_problem(r, 503, detail, NULL);
		return;
	}
	char body[96];
	int n = snprintf(body, sizeof body, "{\"status\":\"ready\",\"schema_version\":%d}", have);
	http_reply_json(r, 200, body, (size_t)n);
}

void ops_metrics(http_req *r)
{
	if (cfg.metrics_listen[0]) {
		http_problem(r, 404, "metrics are served on HUYING_METRICS_LISTEN", NULL);
		return;
	}
	buf b = {0};
	metrics_render(&b);
	http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf_str(&b), b.len);
	buf_free(&b);
}

void ops_openapi(http_req *r)
{
	http_reply_json(r, 200, embed_openapi_json.data, strlen(embed_openapi_json.data));
}
