/*
 * server/h_export.c - GET /api/v1/export.csv, /api/v1/export.geojson (?from=&to= Panama days,
 * or ?month=YYYY-MM) and /api/v1/export/months, the index of monthly files an open-data portal
 * harvests. Public: the rows are what server/export.h lets out, nothing more.
 */
#include <stdio.h>
#include <string.h>

#include "server/export.h"
#include "server/routes.h"
#include "server/worker.h"

static int export(struct http_req *req, struct http_res *res, enum export_format f)
{
    const char *from = http_query(req, "from"), *to = http_query(req, "to");
    const char *month = http_query(req, "month");
    char since[STORE_TIME_MAX], until[STORE_TIME_MAX], disp[96];
    struct export *e = NULL;
    int rc = export_range(from, to, month, since, until, &res->err);

    if (rc == RP_OK)
        rc = export_open(req->app->cfg.db, f, since, until, &e, &res->err);
    if (rc == RP_UNAVAILABLE)
        http_header_add(res, "Retry-After", "5");
    if (rc != RP_OK)
        return rc;
    snprintf(disp, sizeof disp, "attachment; filename=\"reporta-casos%s%s.%s\"", month ? "-" : "",
             month ? month : "", f == EXPORT_CSV ? "csv" : "geojson");
    http_header_add(res, "Content-Disposition", disp);
    return http_reply_reader(res, 200,
                             f == EXPORT_CSV ? "text/csv; charset=utf-8; header=present"
                                             : "application/geo+json",
                             export_read, export_free, e);
}

int h_export_csv(struct http_req *req, struct http_res *res)
{
    return export(req, res, EXPORT_CSV);
}

int h_export_geojson(struct http_req *req, struct http_res *res)
{
    return export(req, res, EXPORT_GEOJSON);
}

static int month_add(void *ctx, const char *month, int64_t cases, struct rp_err *err)
{
    char csv[64], geojson[64];

    snprintf(csv, sizeof csv, "/api/v1/export.csv?month=%s", month);
    snprintf(geojson, sizeof geojson, "/api/v1/export.geojson?month=%s", month);
    if (json_array_append_new(ctx, json_pack("{s:s, s:I, s:s, s:s}", "month", month, "cases",
                                             (json_int_t)cases, "csv", csv, "geojson", geojson)))
        return rp_err_set(err, RP_NO_MEMORY, "months");
    return RP_OK;
}

int h_export_months(struct http_req *req, struct http_res *res)
{
    json_t *months = json_array();
    int rc = months ? store_export_months(req->w->store, month_add, months, &res->err)
                    : rp_err_set(&res->err, RP_NO_MEMORY, "months");

    if (rc != RP_OK) {
        json_decref(months);
        return rc;
    }
    return http_reply_json_new(res, 200,
                               json_pack("{s:s, s:s, s:o}", "licence", EXPORT_LICENCE, "timezone",
                                         "America/Panama", "months", months));
}
