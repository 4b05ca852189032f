/* flow: flowcharts (流程图) drawn with Graphviz. The only module that includes gvc.h.
 * A revision's SVG is rendered once, when the revision is created, and stored with it. */
#ifndef HUYING_FLOW_H
#define HUYING_FLOW_H

#include "buf.h"
#include "db.h"

/* Renders and stores the SVG of every revision of the session's district that has a flow
 * and no picture yet (the ones this transaction created). Returns 0 or -1 with *err. */
int flow_render_pending(db_session *s, db_error *err);

/* Lays out one flow given as rows (kind 'n': id, label, actor; kind 'e': from, to, label)
 * starting at row first of res, for as long as column 0 equals that row's; appends the SVG
 * to out. Returns the index of the first row after this flow, or -1 when Graphviz failed. */
int flow_svg(const db_result *res, int first, buf *out);

#endif
