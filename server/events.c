/* events: the change feed (DESIGN §5 "Integration and bulk work"). GET /v1/events returns
 * every event the token may see (RLS events_read), in commit order, from an opaque cursor
 * (api.event_feed, schema/0009_integration.sql, explains how commit order is kept), for
 * front ends and the hotline to catch up after downtime. Poll it with the next_cursor of the
 * last page; it is always given. */
#include <string.h>

#include "handlers.h"

#define FEED_MAX_TYPES 20

static db_stmt st_feed =
	DB_STMT("event_feed", "select api.event_feed($1::jsonb, $2::text[], $3::int)::text", 3);

/* "a.b" with a..z and _ on both sides: an event type as the events table allows it. */
static int type_ok(const char *s, size_t n)
{
	size_t dot = 0, dots = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			dots++;
			dot = i;
		} else if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')) {
			return 0;
		}
	}
	return n <= 64 && dots == 1 && dot > 0 && dot < n - 1;
}

void events_feed(http_req *r)
{
	static const char *const names[] = {"limit", "after", "types", NULL};
	const char *v[3];
	char limit[16];
	const char *after;
	if (http_query_or_reply(r, names, v) < 0 || http_cursor_or_reply(r, "after", v[1], &after) < 0 ||
	    http_list_params_or_reply(r, v[0], NULL, limit, sizeof limit, &(const char *){NULL}) < 0)
		return;
	/* types: a comma-separated list of event types, as a PostgreSQL array literal */
	buf arr = {0};
	const char *types = NULL;
	if (v[2]) {
		int n = 0, bad = 0;
		buf_printf(&arr, "{");
		for (const char *p = v[2];; n++) {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			if (!type_ok(p, len) || n >= FEED_MAX_TYPES) {
				bad = 1;
				break;
			}
			buf_printf(&arr, "%s%.*s", n ? "," : "", (int)len, p);
			if (!end)
				break;
			p = end + 1;
		}
		buf_printf(&arr, "}");
		if (bad) {
			buf_free(&arr);
			http_field_problem(r, "types",
					   "must be a comma-separated list of up to 20 event types such as order.resolved",
					   "invalid filter");
			return;
		}
		types = buf_str(&arr);
	}
	const char *params[] = {after, types, limit};
	http_answer(r, &st_feed, params);
	buf_free(&arr);
}
