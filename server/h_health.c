/*
 * server/h_health.c - GET /healthz: is the database usable from this worker, and how many
 * areas per level the frozen index holds. 200 when both hold, 503 otherwise (load balancers
 * and the run script poll it).
 */
#include "base/level.h"
#include "server/routes.h"
#include "server/worker.h"

int h_health_get(struct http_req *req, struct http_res *res)
{
    struct rp_err dberr = {0};
    int db_ok = store_ping(req->w->store, &dberr) == RP_OK;
    size_t total = 0;
    json_t *areas = json_object();

    for (int l = 0; areas && l < RP_LEVEL_COUNT; l++) {
        size_t n = geo_index_count(req->app->areas, (enum rp_level)l);
        total += n;
        json_object_set_new(areas, rp_level_name((enum rp_level)l), json_integer((json_int_t)n));
    }
    return http_reply_json_new(res, db_ok && total ? 200 : 503,
                               json_pack("{s:s, s:s, s:o}", "status",
                                         db_ok && total ? "ok" : "unavailable", "database",
                                         db_ok ? "ok" : dberr.msg, "areas", areas));
}
