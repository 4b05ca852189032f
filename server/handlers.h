/* handlers: one function per route, one file per resource family. Each handler answers the
 * request itself (success or problem) through http.h. */
#ifndef HUYING_HANDLERS_H
#define HUYING_HANDLERS_H

#include "http.h"

/* ops.c */
void ops_healthz(http_req *r);
void ops_readyz(http_req *r);
void ops_metrics(http_req *r);
void ops_openapi(http_req *r);

/* ref.c: reference data */
void ref_domains_list(http_req *r);
void ref_units_list(http_req *r);
void ref_units_get(http_req *r);
void ref_units_create(http_req *r);
void ref_grids_list(http_req *r);

/* items.c: the responsibility list */
void items_list(http_req *r);
void items_get(http_req *r);
void items_versions(http_req *r);
void items_flow(http_req *r);

/* list_changes.c */
void list_changes_submit(http_req *r);
void list_changes_list(http_req *r);
void list_changes_get(http_req *r);
void list_changes_approve(http_req *r);
void list_changes_reject(http_req *r);
void list_changes_enact(http_req *r);

/* imports.c */
void imports_units(http_req *r);
void imports_grids(http_req *r);
void imports_items(http_req *r);
void imports_calendar(http_req *r);

/* calls.c */
void calls_create(http_req *r);
void calls_list(http_req *r);
void calls_get(http_req *r);
void calls_dispatch(http_req *r);
void calls_confirm(http_req *r);
void calls_events(http_req *r);
void calls_comment(http_req *r);
void calls_urgency(http_req *r);
void calls_reopen(http_req *r);
void calls_cancel(http_req *r);

/* orders.c */
void orders_list(http_req *r);
void orders_get(http_req *r);
void orders_accept(http_req *r);
void orders_resolve(http_req *r);
void orders_plan(http_req *r);
void orders_cancel(http_req *r);
void orders_return(http_req *r);

/* returns.c */
void returns_list(http_req *r);
void returns_get(http_req *r);
void returns_withdraw(http_req *r);
void returns_uphold(http_req *r);
void returns_overrule(http_req *r);

/* calendar.c: working time (calendar, SLA policies, settings) */
void calendar_get(http_req *r);
void calendar_put(http_req *r);
void sla_policies_list(http_req *r);
void sla_policies_put(http_req *r);
void settings_get(http_req *r);
void settings_put(http_req *r);

/* timers.c */
void timers_list(http_req *r);
void timers_of_order(http_req *r);

/* events.c: the change feed */
void events_feed(http_req *r);

/* webhooks.c: subscriptions and their delivery logs */
void webhooks_create(http_req *r);
void webhooks_list(http_req *r);
void webhooks_get(http_req *r);
void webhooks_delete(http_req *r);
void webhooks_deliveries(http_req *r);
void webhooks_redeliver(http_req *r);

/* scores.c: ratings (满意度评价) and the departments' scores */
void ratings_create(http_req *r);
void ratings_of_order(http_req *r);
void ratings_list(http_req *r);
void scores_list(http_req *r);
void scores_department(http_req *r);

/* supervisions.c: supervision cases (督办) and their notices */
void supervisions_list(http_req *r);
void supervisions_get(http_req *r);
void supervisions_open(http_req *r);
void supervisions_notice(http_req *r);
void supervisions_close(http_req *r);
void notices_list(http_req *r);

/* extensions.c: extension requests (延期) and their decisions */
void extensions_request(http_req *r);
void extensions_list(http_req *r);
void extensions_get(http_req *r);
void extensions_approve(http_req *r);
void extensions_reject(http_req *r);

/* open311.c: the Open311 GeoReport v2 facade (JSON only) */
void open311_services(http_req *r);
void open311_requests(http_req *r);
void open311_request(http_req *r);
void open311_request_create(http_req *r);

#endif
