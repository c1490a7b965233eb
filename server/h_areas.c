/*
 * server/h_areas.c - the admin-area endpoints: locate a point, list areas of a level, one
 * area as a GeoJSON Feature. All answered from the frozen in-memory index; no SQL.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo/locate.h"
#include "geo/shape.h"
#include "server/routes.h"
#include "server/worker.h"

static json_t *area_ref_json(const struct geo_area *a)
{
    return a ? json_pack("{s:s, s:s}", "code", a->code, "name", a->name) : json_null();
}

static json_t *area_json(const struct geo_area *a)
{
    return json_pack("{s:s, s:s, s:s, s:s?}", "code", a->code, "name", a->name, "level",
                     rp_level_name(a->level), "parent", a->parent_code);
}

static json_t *place_json(double lon, double lat, const struct geo_place *p)
{
    json_t *o = json_pack("{s:f, s:f, s:o, s:o, s:o}", "lat", lat, "lon", lon, "provincia",
                          area_ref_json(p->area[RP_LEVEL_PROVINCIA]), "distrito",
                          area_ref_json(p->area[RP_LEVEL_DISTRITO]), "corregimiento",
                          area_ref_json(p->area[RP_LEVEL_CORREGIMIENTO]));
    if (o && p->snapped_m > 0)
        json_object_set_new(o, "snapped_m", json_real(round(p->snapped_m * 10) / 10));
    return o;
}

/* GET /api/v1/locate?lat=..&lon=..[&snap_m=..] */
int h_locate(struct http_req *req, struct http_res *res)
{
    struct geo_place place;
    double lon, lat, snap_m;
    int rc;

    rc = http_query_lonlat(req, &lon, &lat, &res->err);
    if (rc == RP_OK)
        rc = http_query_double(req, "snap_m", req->app->cfg.snap_m, 0, GEO_SNAP_MAX_M, &snap_m,
                               &res->err);
    if (rc == RP_OK)
        rc = geo_locate(req->app->areas, &req->w->geo, lon, lat, snap_m, &place, &res->err);
    if (rc != RP_OK)
        return rc;
    return http_reply_json_new(res, 200, place_json(lon, lat, &place));
}

/* GET /api/v1/areas?level=provincia|distrito|corregimiento[&parent=CODE] */
int h_areas_list(struct http_req *req, struct http_res *res)
{
    const char *lv = http_query(req, "level"), *parent = http_query(req, "parent");
    int level = lv ? rp_level_parse(lv) : RP_LEVEL_PROVINCIA;
    json_t *list;

    if (level < 0)
        return rp_err_set(&res->err, RP_INVALID_ARGUMENT,
                          "level must be provincia, distrito or corregimiento");
    list = json_array();
    for (size_t i = 0; list && i < geo_index_count(req->app->areas, (enum rp_level)level); i++) {
        const struct geo_area *a = geo_index_at(req->app->areas, (enum rp_level)level, i);
        if (parent && (!a->parent_code || strcmp(a->parent_code, parent) != 0))
            continue;
        if (json_array_append_new(list, area_json(a)) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return http_reply_json_new(res, 200,
                               list ? json_pack("{s:s, s:o}", "level", rp_level_name(level),
                                                "areas", list)
                                    : NULL);
}

/* GET /api/v1/areas/{code}[?simplify=METRES] */
int h_area_get(struct http_req *req, struct http_res *res)
{
    const struct geo_area *a = geo_index_find(req->app->areas, http_param(req, "code"));
    json_t *geometry;
    double simplify_m;
    char *text;
    int rc;

    if (!a)
        return rp_err_set(&res->err, RP_NOT_FOUND, "no area with code %s",
                          http_param(req, "code"));
    rc = http_query_double(req, "simplify", 0, 0, GEO_SIMPLIFY_MAX_M, &simplify_m, &res->err);
    if (rc != RP_OK)
        return rc;
    text = geo_shape_geojson(&req->w->geo, a, simplify_m, &res->err);
    if (!text)
        return res->err.code;
    geometry = json_loads(text, 0, NULL);
    GEOSFree_r(req->w->geo.geos, text);
    return http_reply_json_new(res, 200,
                               json_pack("{s:s, s:s, s:o, s:o}", "type", "Feature", "id", a->code,
                                         "properties", area_json(a), "geometry", geometry));
}
