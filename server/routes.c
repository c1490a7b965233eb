/*
 * server/routes.c - the route table and the matcher. Adding a route: a row here, its handler
 * in server/h_<resource>.c, an entry in docs/api.md and in the tests that walk this table.
 */
#include "server/routes.h"

#include <stdio.h>
#include <string.h>

#define ANYONE AUTH_ANYONE
#define ADMIN  AUTH_ADMIN
#define STAFF  (AUTH_STAFF | AUTH_ADMIN) /* and, per case, only its own entity's */
#define TOWS   (AUTH_TOW | AUTH_ADMIN)   /* and, per truck or tow, only its own entity's */
/* up to five 12 MB photos and the report */
#define PHOTOS_BODY (5 * 12 * 1024 * 1024 + 256 * 1024)

/* clang-format off */
static const struct route routes[] = {
    /* methods      pattern                   handler          roles   body cap  offload */
    { HTTP_GET,     "/healthz",               h_health_get,    ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/locate",         h_locate,        ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/areas",          h_areas_list,    ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/areas/{code}",   h_area_get,      ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/me",             h_me_get,        ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/keys",           h_keys_list,     ADMIN,  0, 0 },
    { HTTP_POST,    "/api/v1/keys",           h_keys_create,   ADMIN,  4096, 0 },
    { HTTP_DELETE,  "/api/v1/keys/{id}",      h_keys_revoke,   ADMIN,  0, 0 },
    { HTTP_GET,     "/api/v1/audit",          h_audit_list,    ADMIN,  0, 0 },
    { HTTP_POST,    "/api/v1/reports",        h_reports_create, ANYONE, PHOTOS_BODY, 1 },
    { HTTP_GET,     "/api/v1/reports",        h_reports_list,  ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/reports/{id}",   h_report_get,    ANYONE, 0, 0 },
    { HTTP_POST,    "/api/v1/reports/{id}/status",   h_report_status,   STAFF,  4096, 0 },
    { HTTP_POST,    "/api/v1/reports/{id}/transfer", h_report_transfer, STAFF,  4096, 0 },
    { HTTP_POST,    "/api/v1/reports/{id}/rating",   h_report_rating,   ANYONE, 8192, 0 },
    { HTTP_GET,     "/api/v1/followups",             h_followups_list,  STAFF,  0, 0 },
    { HTTP_POST,    "/api/v1/followups/{id}/done",   h_followup_done,   STAFF,  8192, 0 },
    { HTTP_POST,    "/api/v1/reports/{id}/confirm",  h_report_confirm,  ANYONE, 1024, 0 },
    { HTTP_GET,     "/api/v1/reports/{id}/history",  h_report_history,  ANYONE, 0, 0 },
    { HTTP_POST,    "/api/v1/reports/{id}/photos",   h_report_photos_add, ANYONE, PHOTOS_BODY, 1 },
    { HTTP_GET,     "/media/{file}",          h_media_get,     ANYONE, 0, 0 },
    { HTTP_GET,     "/tiles/{layer}/{z}/{x}/{file}", h_tile_get, ANYONE, 0, 0 },
    { HTTP_GET,     "/tiles/{file}",          h_tilejson_get,  ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/hotspots",       h_hotspots,      ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/route",          h_route_preview, ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/services",       h_services_list, ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/services/{code}", h_service_get,  ANYONE, 0, 0 },
    { HTTP_PUT,     "/api/v1/services/{code}", h_service_put,  ADMIN,  16384, 0 },
    { HTTP_GET,     "/api/v1/entities",       h_entities_list, ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/entities/{code}", h_entity_get,   ANYONE, 0, 0 },
    { HTTP_PUT,     "/api/v1/entities/{code}", h_entity_put,   ADMIN,  4096, 0 },
    { HTTP_GET,     "/api/v1/routing-rules",  h_rules_list,    ADMIN,  0, 0 },
    { HTTP_POST,    "/api/v1/routing-rules",  h_rule_create,   ADMIN,  4096, 0 },
    { HTTP_PUT,     "/api/v1/routing-rules/{id}", h_rule_update, ADMIN, 4096, 0 },
    { HTTP_DELETE,  "/api/v1/routing-rules/{id}", h_rule_delete, ADMIN, 0, 0 },
    /* towed vehicles */
    { HTTP_GET,     "/api/v1/yards",          h_yards_list,    ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/yards/{code}",   h_yard_get,      ANYONE, 0, 0 },
    { HTTP_PUT,     "/api/v1/yards/{code}",   h_yard_put,      ADMIN,  STORE_GEOFENCE_MAX + 16384, 0 },
    { HTTP_DELETE,  "/api/v1/yards/{code}",   h_yard_delete,   ADMIN,  0, 0 },
    { HTTP_GET,     "/api/v1/trucks",         h_trucks_list,   TOWS,   0, 0 },
    { HTTP_PUT,     "/api/v1/trucks/{code}",  h_truck_put,     ADMIN,  4096, 0 },
    { HTTP_DELETE,  "/api/v1/trucks/{code}",  h_truck_delete,  ADMIN,  0, 0 },
    { HTTP_POST,    "/api/v1/trucks/{code}/positions", h_truck_positions, AUTH_TOW, 128 * 1024, 1 },
    { HTTP_GET,     "/api/v1/trucks/{code}/track", h_truck_track, TOWS, 0, 0 },
    { HTTP_GET,     "/api/v1/tows/lookup",    h_tows_lookup,   ANYONE, 0, 0 },
    { HTTP_POST,    "/api/v1/tows",           h_tows_create,   AUTH_TOW, 8192, 0 },
    { HTTP_GET,     "/api/v1/tows",           h_tows_list,     TOWS,   0, 0 },
    { HTTP_GET,     "/api/v1/tows/{id}",      h_tow_get,       TOWS,   0, 0 },
    { HTTP_POST,    "/api/v1/tows/{id}/status", h_tow_status,  TOWS,   4096, 0 },
    { HTTP_GET,     "/metrics",               h_metrics_get,   ANYONE, 0, 0 }, /* admin, or loopback */
    { HTTP_GET,     "/api/v1/stats",          h_stats_get,     ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/stats.csv",      h_stats_csv,     ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/export.csv",     h_export_csv,    ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/export.geojson", h_export_geojson, ANYONE, 0, 0 },
    { HTTP_GET,     "/api/v1/export/months",  h_export_months, ANYONE, 0, 0 },
    /* Open311 GeoReport v2: {file} is NAME.json or NAME.xml */
    { HTTP_GET,     "/open311/v2/{file}",          h_open311_get,     ANYONE, 0, 0 },
    { HTTP_POST,    "/open311/v2/{file}",          h_open311_post,    ANYONE, PHOTOS_BODY, 1 },
    { HTTP_GET,     "/open311/v2/services/{file}", h_open311_service, ANYONE, 0, 0 },
    { HTTP_GET,     "/open311/v2/requests/{file}", h_open311_request, ANYONE, 0, 0 },
    { HTTP_GET,     "/open311/v2/tokens/{file}",   h_open311_token,   ANYONE, 0, 0 },
    /* the browser app (web/): pages, assets of one build ({*path}: the rest of the path) */
    { HTTP_GET,     "/",                      h_web_page,      ANYONE, 0, 0 },
    { HTTP_GET,     "/caso",                  h_web_page,      ANYONE, 0, 0 },
    { HTTP_GET,     "/caso/{id}",             h_web_page,      ANYONE, 0, 0 },
    { HTTP_GET,     "/cuadrilla",             h_web_page,      ANYONE, 0, 0 },
    { HTTP_GET,     "/grua",                  h_web_page,      ANYONE, 0, 0 },
    { HTTP_GET,     "/estadisticas",          h_web_page,      ANYONE, 0, 0 },
    { HTTP_GET,     "/static/{build}/{*path}", h_web_static,   ANYONE, 0, 0 },
    { HTTP_GET,     "/sw.js",                 h_web_root,      ANYONE, 0, 0 },
    { HTTP_GET,     "/manifest.webmanifest",  h_web_root,      ANYONE, 0, 0 },
    { HTTP_GET,     "/favicon.svg",           h_web_root,      ANYONE, 0, 0 },
};
/* clang-format on */

const struct route *routes_table(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}

/* Matches path against pattern; captures point into path until routes_match copies it. */
static int match(const char *pattern, const char *path, struct http_req *req)
{
    const char *p = pattern, *s = path;
    int n = 0;

    req->rest_param = 0;
    while (*p && *s) {
        if (p[0] == '{' && p[1] == '*') { /* the rest of the path, slashes and all */
            if (!*s || n >= HTTP_PARAMS_MAX || !strchr(p, '}') || strchr(p, '}')[1])
                return 0;
            req->params[n] = (char *)s;
            req->param_names[n++] = p + 1; /* "*path}" */
            req->rest_param = n;
            req->nparams = n;
            return 1;
        }
        if (*p == '{') {
            const char *pend = strchr(p, '}'), *send = strchr(s, '/');
            size_t slen = send ? (size_t)(send - s) : strlen(s);
            if (!pend || slen == 0 || n >= HTTP_PARAMS_MAX)
                return 0;
            req->params[n] = (char *)s;
            req->param_names[n++] = p; /* "{code}..." - http_param compares up to '}' */
            p = pend + 1;
            s += slen;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    if (*p || *s)
        return 0;
    req->nparams = n;
    return 1;
}

const struct route *routes_match(struct http_req *req, unsigned *allowed)
{
    unsigned want = req->method == HTTP_HEAD ? HTTP_GET : req->method;

    *allowed = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!match(routes[i].pattern, req->path, req))
            continue;
        if (routes[i].methods & want) {
            /* Captures move into a copy of the path, each ended where its segment ends (no
             * copy: out of memory, which the caller sees as captures without path_copy). */
            if (req->nparams > 0 && (req->path_copy = strdup(req->path)) != NULL)
                for (int k = 0; k < req->nparams; k++) {
                    char *slash;
                    req->params[k] = req->path_copy + (req->params[k] - req->path);
                    slash = strchr(req->params[k], '/');
                    if (slash && k + 1 != req->rest_param)
                        *slash = '\0';
                }
            return &routes[i];
        }
        *allowed |= routes[i].methods;
    }
    req->nparams = 0;
    return NULL;
}

void routes_allow_header(unsigned methods, char *buf, size_t len)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{HTTP_GET, "GET"},     {HTTP_GET, "HEAD"},     {HTTP_POST, "POST"},
                 {HTTP_PUT, "PUT"},     {HTTP_PATCH, "PATCH"},  {HTTP_DELETE, "DELETE"},
                 {HTTP_OPTIONS, "OPTIONS"}};
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (methods & names[i].bit) {
            int k = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", names[i].name);
            if (k < 0 || (size_t)k >= len - n)
                return;
            n += (size_t)k;
        }
}
