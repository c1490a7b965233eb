/*
 * server/h_health.c - GET /healthz: is the database usable from this worker, and how many
 * areas per level the frozen index holds. 200 when both hold, 503 otherwise (load balancers
 * and the run script poll it). The area counts cannot change while serving, so the healthy
 * body is serialised once at startup. Each worker pings its database connection; a good answer
 * stands for HEALTH_PING_US (a probe polls every few seconds, a load test many times a
 * millisecond), a failure is never remembered, so the next request pings again.
 */
#include <string.h>

#include "base/level.h"
#include "server/metrics.h"
#include "server/routes.h"
#include "server/worker.h"

#define HEALTH_PING_US 1000000u

static json_t *health_json(const struct app *app, int db_ok, const char *db_msg)
{
    size_t total = 0;
    json_t *areas = json_object();

    for (int l = 0; areas && l < RP_LEVEL_COUNT; l++) {
        size_t n = geo_index_count(app->areas, (enum rp_level)l);
        total += n;
        json_object_set_new(areas, rp_level_name((enum rp_level)l), json_integer((json_int_t)n));
    }
    return json_pack("{s:s, s:s, s:o}", "status", db_ok && total ? "ok" : "unavailable",
                     "database", db_ok ? "ok" : db_msg, "areas", areas);
}

/* The healthy body, when the index has areas at all; without any, health stays 503. */
int h_health_prepare(struct app *app)
{
    json_t *j = health_json(app, 1, NULL);
    int healthy = j && strcmp(json_string_value(json_object_get(j, "status")), "ok") == 0;

    app->health_ok = healthy ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (healthy && !app->health_ok)
        return RP_NO_MEMORY;
    app->health_ok_len = app->health_ok ? strlen(app->health_ok) : 0;
    return j ? RP_OK : RP_NO_MEMORY;
}

int h_health_get(struct http_req *req, struct http_res *res)
{
    struct rp_err dberr = {0};
    int db_ok = req->t0_us < req->w->db_ok_until_us;

    if (!db_ok && (db_ok = store_ping(req->w->store, &dberr) == RP_OK))
        req->w->db_ok_until_us = req->t0_us + HEALTH_PING_US;

    if (db_ok && req->app->health_ok)
        return http_reply_fixed(res, 200, req->app->health_ok, req->app->health_ok_len);
    return http_reply_json_new(res, 503, health_json(req->app, db_ok, dberr.msg));
}

/* GET /metrics: for admins, and for anyone on the loopback interface with --metrics-loopback
 * (a Prometheus beside the server, without a key on disk). */
int h_metrics_get(struct http_req *req, struct http_res *res)
{
    int loopback = strcmp(req->ip, "127.0.0.1") == 0 || strcmp(req->ip, "::1") == 0;
    size_t len = 0;
    char *text;

    if (req->who.role != AUTH_ADMIN && !(req->app->cfg.metrics_loopback && loopback))
        return req->who.role == AUTH_ANONYMOUS
                   ? rp_err_set(&res->err, RP_UNAUTHORIZED, "metrics take an admin key")
                   : rp_err_set(&res->err, RP_FORBIDDEN, "metrics are for admins");
    if (!(text = metrics_render(req->app, &len)))
        return rp_err_set(&res->err, RP_NO_MEMORY, "metrics");
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return http_reply_raw(res, 200, text, len);
}
