#include "flow.h"

#include <gvc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Graphviz keeps global state (its context, the cgraph string pool): one layout at a time. */
static pthread_mutex_t gv_mu = PTHREAD_MUTEX_INITIALIZER;
static GVC_t *gvc;

static const char *actor_color(const char *actor)
{
	if (!actor)
		return "white";
	if (strcmp(actor, "township") == 0)
		return "#dbeafe";
	if (strcmp(actor, "department") == 0)
		return "#fef3c7";
	if (strcmp(actor, "district_office") == 0)
		return "#fee2e2";
	return "#e5e7eb"; /* platform */
}

/* Graphviz reads \N, \G, \n, \l ... inside labels: double every backslash so that a label
 * is shown as written. (XML escaping of <, >, & and quotes is the SVG renderer's job.) */
static char *label_text(const char *s)
{
	size_t n = strlen(s), extra = 0;
	for (size_t i = 0; i < n; i++)
		extra += s[i] == '\\';
	char *out = malloc(n + extra + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\')
			*o++ = '\\';
		*o++ = s[i];
	}
	*o = '\0';
	return out;
}

static void set_label(void *obj, const char *text)
{
	char *l = label_text(text ? text : "");
	if (l)
		agsafeset(obj, "label", l, "");
	free(l);
}

int flow_svg(const db_result *res, int first, buf *out)
{
	int rows = db_rows(res), i = first;
	const char *rev = db_value(res, first, 0, NULL);
	pthread_mutex_lock(&gv_mu);
	if (!gvc)
		gvc = gvContext();
	Agraph_t *g = agopen("flow", Agdirected, NULL);
	agsafeset(g, "rankdir", "TB", "");
	agattr(g, AGNODE, "shape", "box");
	agattr(g, AGNODE, "style", "rounded,filled");
	agattr(g, AGNODE, "fontname", "WenQuanYi Micro Hei,Noto Sans CJK SC,sans-serif");
	agattr(g, AGNODE, "fontsize", "12");
	agattr(g, AGEDGE, "fontname", "WenQuanYi Micro Hei,Noto Sans CJK SC,sans-serif");
	agattr(g, AGEDGE, "fontsize", "10");
	for (; i < rows && strcmp(db_value(res, i, 0, NULL), rev) == 0; i++) {
		const char *kind = db_value(res, i, 1, NULL);
		const char *a = db_value(res, i, 2, NULL), *b = db_value(res, i, 3, NULL),
			   *c = db_value(res, i, 4, NULL);
		if (!a)
			continue;
		if (kind[0] == 'n') {
			Agnode_t *n = agnode(g, (char *)a, 1);
			set_label(n, b);
			agsafeset(n, "fillcolor", (char *)actor_color(c), "");
		} else if (b) {
			Agnode_t *from = agnode(g, (char *)a, 0), *to = agnode(g, (char *)b, 0);
			if (from && to) {
				Agedge_t *e = agedge(g, from, to, NULL, 1);
				if (c)
					set_label(e, c);
			}
		}
	}
	char *svg = NULL;
	unsigned int len = 0;
	int ok = gvLayout(gvc, g, "dot") == 0;
	if (ok) {
		ok = gvRenderData(gvc, g, "svg", &svg, &len) == 0;
		if (ok)
			buf_put(out, svg, len);
		gvFreeRenderData(svg);
		gvFreeLayout(gvc, g);
	}
	agclose(g);
	pthread_mutex_unlock(&gv_mu);
	return ok ? i : -1;
}

static db_stmt st_pending = DB_STMT(
	"flow_pending",
	"select r.id, 'n', n.v ->> 'id', n.v ->> 'label', n.v ->> 'actor', n.o"
	" from huying.item_revisions r cross join lateral jsonb_array_elements(r.flow -> 'nodes') with ordinality as n(v, o)"
	" where r.district_id = (select auth.district()) and r.flow is not null and r.flow_svg is null"
	" union all"
	" select r.id, 'e', e.v ->> 'from', e.v ->> 'to', e.v ->> 'label', 1000 + e.o"
	" from huying.item_revisions r cross join lateral jsonb_array_elements(r.flow -> 'edges') with ordinality as e(v, o)"
	" where r.district_id = (select auth.district()) and r.flow is not null and r.flow_svg is null"
	" order by 1, 6",
	0);
static db_stmt st_store =
	DB_STMT("flow_store", "update huying.item_revisions set flow_svg = $2 where id = $1::bigint", 2);

int flow_render_pending(db_session *s, db_error *err)
{
	db_result *res = db_session_exec(s, &st_pending, NULL, err);
	if (!res)
		return -1;
	int rc = 0, rows = db_rows(res);
	for (int i = 0; i < rows && rc == 0;) {
		buf svg = {0};
		const char *rev = db_value(res, i, 0, NULL);
		int next = flow_svg(res, i, &svg);
		if (next < 0 || svg.oom) {
			buf_free(&svg);
			i++;
			while (i < rows && strcmp(db_value(res, i, 0, NULL), rev) == 0)
				i++;
			continue; /* no picture for this one; the JSON and Mermaid forms still work */
		}
		const char *params[] = {rev, buf_str(&svg)};
		db_result *u = db_session_exec(s, &st_store, params, err);
		if (!u)
			rc = -1;
		db_result_free(u);
		buf_free(&svg);
		i = next;
	}
	db_result_free(res);
	return rc;
}
