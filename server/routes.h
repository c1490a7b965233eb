/*
 * server/routes.h - the one table that maps (method, path pattern) to a handler. Patterns are
 * literal segments and {name} captures, one segment each. The router answers 404 for a path
 * no row matches and 405 with Allow (built from the table) for a known path and wrong method.
 * Each row also says which roles may call it (the one place authorization by role is decided;
 * tests/it_authz.c walks this table) and how large a body it takes.
 * Read-only data; safe from every thread.
 */
#ifndef ROUTES_H
#define ROUTES_H

#include <stddef.h>

#include "server/http.h"

typedef int (*route_fn)(struct http_req *req, struct http_res *res);

struct route {
    unsigned methods; /* HTTP_GET | ...; HEAD is served wherever GET is */
    const char *pattern;
    route_fn handler;
    unsigned roles;  /* enum auth_role bits that may call it; checked before the handler runs */
    size_t body_max; /* request body cap, bytes; 0: --body-max */
    int offload;     /* 1: runs on the worker pool (photos, commits), not on an HTTP thread */
};

/* The matching row, with captures stored in req; NULL when none. On NULL, *allowed holds
 * the methods of rows whose pattern matched the path (0: the path is unknown). */
const struct route *routes_match(struct http_req *req, unsigned *allowed);
/* "GET, HEAD, POST" for a method set, into buf. */
void routes_allow_header(unsigned methods, char *buf, size_t len);
const struct route *routes_table(size_t *n);

/* Handlers, one file per resource (server/h_<resource>.c). */
int h_health_prepare(struct app *app); /* before the daemon starts; freed by the caller */
int h_health_get(struct http_req *req, struct http_res *res);
int h_areas_prepare(struct app *app); /* before the daemon starts */
void h_areas_release(struct app *app);
int h_locate(struct http_req *req, struct http_res *res);
int h_areas_list(struct http_req *req, struct http_res *res);
int h_area_get(struct http_req *req, struct http_res *res);
int h_me_get(struct http_req *req, struct http_res *res);
int h_keys_list(struct http_req *req, struct http_res *res);
int h_keys_create(struct http_req *req, struct http_res *res);
int h_keys_revoke(struct http_req *req, struct http_res *res);
int h_audit_list(struct http_req *req, struct http_res *res);
int h_reports_create(struct http_req *req, struct http_res *res);
int h_reports_list(struct http_req *req, struct http_res *res);
int h_report_get(struct http_req *req, struct http_res *res);
int h_report_status(struct http_req *req, struct http_res *res);
int h_report_transfer(struct http_req *req, struct http_res *res);
int h_report_confirm(struct http_req *req, struct http_res *res);
int h_report_history(struct http_req *req, struct http_res *res);
int h_route_preview(struct http_req *req, struct http_res *res);
int h_services_list(struct http_req *req, struct http_res *res);
int h_service_get(struct http_req *req, struct http_res *res);
int h_service_put(struct http_req *req, struct http_res *res);
int h_entities_list(struct http_req *req, struct http_res *res);
int h_entity_get(struct http_req *req, struct http_res *res);
int h_entity_put(struct http_req *req, struct http_res *res);
int h_rules_list(struct http_req *req, struct http_res *res);
int h_rule_create(struct http_req *req, struct http_res *res);
int h_rule_update(struct http_req *req, struct http_res *res);
int h_rule_delete(struct http_req *req, struct http_res *res);
int h_report_photos_add(struct http_req *req, struct http_res *res);
int h_media_get(struct http_req *req, struct http_res *res);
int h_web_page(struct http_req *req, struct http_res *res);
int h_web_static(struct http_req *req, struct http_res *res);
int h_web_root(struct http_req *req, struct http_res *res);
int h_tile_get(struct http_req *req, struct http_res *res);
int h_tilejson_get(struct http_req *req, struct http_res *res);
struct tiles_params;
/* The tile filter's query parameters of req, as given (what both handlers above read). */
void h_tiles_params(struct http_req *req, struct tiles_params *p);
int h_hotspots(struct http_req *req, struct http_res *res);
int h_open311_get(struct http_req *req, struct http_res *res);
int h_open311_post(struct http_req *req, struct http_res *res);
int h_open311_service(struct http_req *req, struct http_res *res);
int h_open311_request(struct http_req *req, struct http_res *res);
int h_open311_token(struct http_req *req, struct http_res *res);

int h_yards_list(struct http_req *req, struct http_res *res);
int h_yard_get(struct http_req *req, struct http_res *res);
int h_yard_put(struct http_req *req, struct http_res *res);
int h_yard_delete(struct http_req *req, struct http_res *res);
int h_trucks_list(struct http_req *req, struct http_res *res);
int h_truck_put(struct http_req *req, struct http_res *res);
int h_truck_delete(struct http_req *req, struct http_res *res);
int h_truck_positions(struct http_req *req, struct http_res *res);
int h_truck_track(struct http_req *req, struct http_res *res);
int h_tows_lookup(struct http_req *req, struct http_res *res);
int h_tows_create(struct http_req *req, struct http_res *res);
int h_tows_list(struct http_req *req, struct http_res *res);
int h_tow_get(struct http_req *req, struct http_res *res);
int h_tow_status(struct http_req *req, struct http_res *res);
int h_metrics_get(struct http_req *req, struct http_res *res);
int h_stats_get(struct http_req *req, struct http_res *res);
int h_stats_csv(struct http_req *req, struct http_res *res);
int h_report_rating(struct http_req *req, struct http_res *res);
int h_followups_list(struct http_req *req, struct http_res *res);
int h_followup_done(struct http_req *req, struct http_res *res);
int h_export_csv(struct http_req *req, struct http_res *res);
int h_export_geojson(struct http_req *req, struct http_res *res);
int h_export_months(struct http_req *req, struct http_res *res);

#endif
