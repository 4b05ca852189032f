#include "routes.h"

#include "auth.h"
#include "handlers.h"

/* Order does not matter for matching (paths are unambiguous), but it is the order of the
 * OpenAPI document and of /metrics. To add an endpoint: a row here, a handler in its
 * resource file, its operation in openapi/openapi.yaml (the inventory test insists). */
const route route_table[] = {
	{"GET", "/healthz", ops_healthz, 0, NULL, 0},
	{"GET", "/readyz", ops_readyz, 0, NULL, 0},
	{"GET", "/metrics", ops_metrics, 0, NULL, 0},
	{"GET", "/v1/openapi.json", ops_openapi, 0, NULL, 0},

	{"GET", "/v1/domains", ref_domains_list, ROLES_ALL, NULL, ROUTE_CSV | ROUTE_QUERY},
	{"GET", "/v1/units", ref_units_list, ROLES_ALL, NULL, ROUTE_CSV | ROUTE_QUERY},
	{"POST", "/v1/units", ref_units_create, ROLE_DISTRICT, NULL, ROUTE_BODY},
	{"GET", "/v1/units/{id}", ref_units_get, ROLES_ALL, NULL, 0},
	{"GET", "/v1/grids", ref_grids_list, ROLES_ALL, NULL, ROUTE_CSV | ROUTE_QUERY},

	{"GET", "/v1/items", items_list, ROLES_ALL, NULL, ROUTE_CSV | ROUTE_QUERY},
	{"GET", "/v1/items/{id}", items_get, ROLES_ALL, NULL, ROUTE_QUERY},
	{"GET", "/v1/items/{id}/versions", items_versions, ROLES_ALL, NULL, ROUTE_QUERY},
	{"GET", "/v1/items/{id}/flow", items_flow, ROLES_ALL, NULL, ROUTE_QUERY},

	{"POST", "/v1/list-changes", list_changes_submit, ROLE_TOWNSHIP | ROLE_DEPARTMENT | ROLE_DISTRICT, NULL,
	 ROUTE_BODY},
	{"GET", "/v1/list-changes", list_changes_list, ROLE_TOWNSHIP | ROLE_DEPARTMENT | ROLE_DISTRICT, NULL,
	 ROUTE_QUERY},
	{"GET", "/v1/list-changes/{id}", list_changes_get, ROLE_TOWNSHIP | ROLE_DEPARTMENT | ROLE_DISTRICT, NULL, 0},
	{"POST", "/v1/list-changes/{id}/approve", list_changes_approve, ROLE_DISTRICT, NULL,
	 ROUTE_BODY | ROUTE_EMPTY_OK | ROUTE_IF_MATCH},
	{"POST", "/v1/list-changes/{id}/reject", list_changes_reject, ROLE_DISTRICT, NULL, ROUTE_BODY | ROUTE_IF_MATCH},
	{"POST", "/v1/list-changes/{id}/enact", list_changes_enact, ROLE_DISTRICT, NULL, ROUTE_BODY | ROUTE_IF_MATCH},

	{"POST", "/v1/calls", calls_create, ROLE_TOWNSHIP | ROLE_DISTRICT | ROLE_INTEGRATION, "calls:write",
	 ROUTE_BODY},
	{"GET", "/v1/calls", calls_list, ROLES_ALL, "calls:read", ROUTE_CSV | ROUTE_QUERY},
	{"GET", "/v1/calls/{id}", calls_get, ROLES_ALL, "calls:read", ROUTE_QUERY},
	{"GET", "/v1/calls/{id}/events", calls_events, ROLES_ALL, "calls:read", ROUTE_QUERY},
	{"POST", "/v1/calls/{id}/dispatch", calls_dispatch, ROLE_DISTRICT, "calls:write", ROUTE_BODY | ROUTE_IF_MATCH},
	{"POST", "/v1/calls/{id}/confirm", calls_confirm, ROLE_TOWNSHIP, "calls:write",
	 ROUTE_BODY | ROUTE_EMPTY_OK | ROUTE_IF_MATCH},
	{"POST", "/v1/calls/{id}/comments", calls_comment, ROLES_ALL, "calls:write", ROUTE_BODY},
	{"POST", "/v1/calls/{id}/urgency", calls_urgency, ROLE_DISTRICT, "calls:write", ROUTE_BODY | ROUTE_IF_MATCH},
	{"POST", "/v1/calls/{id}/reopen", calls_reopen, ROLE_TOWNSHIP, "calls:write", ROUTE_BODY | ROUTE_IF_MATCH},
	{"POST", "/v1/calls/{id}/cancel", calls_cancel, ROLE_TOWNSHIP | ROLE_DISTRICT, "calls:write",
	 ROUTE_BODY | ROUTE_IF_MATCH},
	{"GET", "/v1/orders", orders_list, ROLES_ALL, "calls:read", ROUTE_CSV | ROUTE_QUERY},
	{"GET", "/v1/orders/{id}", orders_get, ROLES_ALL, "calls:read", 0},
	{"POST", "/v1/orders/{id}/accept", orders_accept, ROLE_DEPARTMENT, "calls:write",
	 ROUTE_BODY | ROUTE_EMPTY_OK | ROUTE_IF_MATCH},
	{"POST", "/v1/orders/{id}/plan", orders_plan, ROLE_DEPARTMENT, "calls:write", ROUTE_BODY | ROUTE_IF_MATCH},
	{"POST", "/v1/orders/{id}/cancel", orders_cancel, ROLE_DISTRICT, "calls:write", ROUTE_BODY | ROUTE_IF_MATCH},
	{"POST", "/v1/orders/{id}/resolve", orders_resolve, ROLE_DEPARTMENT, "calls:write",
	 ROUTE_BODY | ROUTE_IF_MATCH},
	{"POST", "/v1/orders/{id}/returns", orders_return, ROLE_DEPARTMENT, "calls:write", ROUTE_BODY | ROUTE_IF_MATCH},
	{"GET", "/v1/returns", returns_list, ROLES_ALL, "calls:read", ROUTE_QUERY},
	{"GET", "/v1/returns/{id}", returns_get, ROLES_ALL, "calls:read", 0},
	{"POST", "/v1/returns/{id}/withdraw", returns_withdraw, ROLE_DEPARTMENT, "calls:write",
	 ROUTE_BODY | ROUTE_EMPTY_OK | ROUTE_IF_MATCH},
	{"POST", "/v1/returns/{id}/uphold", returns_uphold, ROLE_DISTRICT, "calls:write",
	 ROUTE_BODY | ROUTE_EMPTY_OK | ROUTE_IF_MATCH},
	{"POST", "/v1/returns/{id}/overrule", returns_overrule, ROLE_DISTRICT, "calls:write", ROUTE_BODY | ROUTE_IF_MATCH},

	{"GET", "/v1/timers", timers_list, ROLES_ALL, "calls:read", ROUTE_QUERY},
	{"GET", "/v1/orders/{id}/timers", timers_of_order, ROLES_ALL, "calls:read", ROUTE_QUERY},
	{"GET", "/v1/calendar/{year}", calendar_get, ROLES_ALL, NULL, 0},
	{"PUT", "/v1/calendar/{year}", calendar_put, ROLE_DISTRICT, NULL, ROUTE_BODY | ROUTE_IF_MATCH},
	{"GET", "/v1/sla-policies", sla_policies_list, ROLES_ALL, NULL, 0},
	/* one row per urgency: path segments are literals or integers */
	{"PUT", "/v1/sla-policies/normal", sla_policies_put, ROLE_DISTRICT, NULL, ROUTE_BODY | ROUTE_IF_MATCH},
	{"PUT", "/v1/sla-policies/urgent", sla_policies_put, ROLE_DISTRICT, NULL, ROUTE_BODY | ROUTE_IF_MATCH},
	{"PUT", "/v1/sla-policies/emergency", sla_policies_put, ROLE_DISTRICT, NULL, ROUTE_BODY | ROUTE_IF_MATCH},
	{"GET", "/v1/settings", settings_get, ROLE_TOWNSHIP | ROLE_DEPARTMENT | ROLE_DISTRICT, NULL, 0},
	{"PUT", "/v1/settings", settings_put, ROLE_DISTRICT, NULL, ROUTE_BODY | ROUTE_IF_MATCH},

	{"GET", "/v1/supervisions", supervisions_list, ROLE_DEPARTMENT | ROLE_DISTRICT, "calls:read", ROUTE_QUERY},
	{"POST", "/v1/supervisions", supervisions_open, ROLE_DISTRICT, "calls:write", ROUTE_BODY},
	{"GET", "/v1/supervisions/{id}", supervisions_get, ROLE_DEPARTMENT | ROLE_DISTRICT, "calls:read", 0},
	{"POST", "/v1/supervisions/{id}/notices", supervisions_notice, ROLE_DISTRICT, "calls:write",
	 ROUTE_BODY | ROUTE_IF_MATCH},
	{"POST", "/v1/supervisions/{id}/close", supervisions_close, ROLE_DISTRICT, "calls:write",
	 ROUTE_BODY | ROUTE_EMPTY_OK | ROUTE_IF_MATCH},
	{"GET", "/v1/notices", notices_list, ROLE_DEPARTMENT | ROLE_DISTRICT, "calls:read", ROUTE_QUERY},
	{"POST", "/v1/orders/{id}/extensions", extensions_request, ROLE_DEPARTMENT, "calls:write",
	 ROUTE_BODY | ROUTE_IF_MATCH},
	{"GET", "/v1/extensions", extensions_list, ROLES_ALL, "calls:read", ROUTE_QUERY},
	{"GET", "/v1/extensions/{id}", extensions_get, ROLES_ALL, "calls:read", 0},
	{"POST", "/v1/extensions/{id}/approve", extensions_approve, ROLE_DISTRICT, "calls:write",
	 ROUTE_BODY | ROUTE_EMPTY_OK | ROUTE_IF_MATCH},
	{"POST", "/v1/extensions/{id}/reject", extensions_reject, ROLE_DISTRICT, "calls:write",
	 ROUTE_BODY | ROUTE_IF_MATCH},

	{"GET", "/v1/events", events_feed, ROLES_ALL, "calls:read", ROUTE_QUERY},
	{"POST", "/v1/webhooks", webhooks_create, ROLE_DISTRICT, "webhooks:manage", ROUTE_BODY},
	{"GET", "/v1/webhooks", webhooks_list, ROLE_DISTRICT, "webhooks:manage", ROUTE_QUERY},
	{"GET", "/v1/webhooks/{id}", webhooks_get, ROLE_DISTRICT, "webhooks:manage", 0},
	{"DELETE", "/v1/webhooks/{id}", webhooks_delete, ROLE_DISTRICT, "webhooks:manage", 0},
	{"GET", "/v1/webhooks/{id}/deliveries", webhooks_deliveries, ROLE_DISTRICT, "webhooks:manage", ROUTE_QUERY},
	{"POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", webhooks_redeliver, ROLE_DISTRICT,
	 "webhooks:manage", ROUTE_BODY | ROUTE_EMPTY_OK},

	{"POST", "/v1/orders/{id}/rating", ratings_create, ROLE_TOWNSHIP, "calls:write", ROUTE_BODY},
	{"GET", "/v1/orders/{id}/rating", ratings_of_order, ROLE_TOWNSHIP | ROLE_DEPARTMENT | ROLE_DISTRICT, "calls:read", 0},
	{"GET", "/v1/ratings", ratings_list, ROLE_TOWNSHIP | ROLE_DEPARTMENT | ROLE_DISTRICT, "calls:read", ROUTE_QUERY},
	{"GET", "/v1/scores", scores_list, ROLE_DISTRICT, "calls:read", ROUTE_QUERY | ROUTE_CSV},
	{"GET", "/v1/scores/departments/{id}", scores_department, ROLE_DEPARTMENT | ROLE_DISTRICT, "calls:read",
	 ROUTE_QUERY | ROUTE_CSV},

	{"POST", "/v1/imports/units", imports_units, ROLE_DISTRICT, "imports:write", ROUTE_STREAM | ROUTE_QUERY},
	{"POST", "/v1/imports/grids", imports_grids, ROLE_DISTRICT, "imports:write", ROUTE_STREAM | ROUTE_QUERY},
	{"POST", "/v1/imports/items", imports_items, ROLE_DISTRICT, "imports:write", ROUTE_STREAM | ROUTE_QUERY},
	{"POST", "/v1/imports/calendar", imports_calendar, ROLE_DISTRICT, "imports:write", ROUTE_STREAM | ROUTE_QUERY},

	/* Open311 GeoReport v2 (JSON only; errors in Open311's format, see http.c) */
	{"GET", "/open311/v2/services.json", open311_services, ROLES_ALL, NULL, ROUTE_QUERY},
	{"GET", "/open311/v2/requests.json", open311_requests, ROLES_ALL, "calls:read", ROUTE_QUERY},
	{"POST", "/open311/v2/requests.json", open311_request_create, ROLE_INTEGRATION, "calls:write", ROUTE_FORM},
	{"GET", "/open311/v2/requests/{id}.json", open311_request, ROLES_ALL, "calls:read", ROUTE_QUERY},
};

const int route_count = (int)(sizeof route_table / sizeof route_table[0]);
