/*
 * server/h_areas.c - the admin-area endpoints: locate a point, list areas of a level, one
 * area as a GeoJSON Feature. All answered from the frozen in-memory index; no SQL.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo/locate.h"
#include "geo/shape.h"
#include "server/metrics.h"
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

#define LOCATE_JSON_FLAGS (JSON_COMPACT | JSON_EMBED | JSON_REAL_PRECISION(12))

/* One member `"<name>":value` serialised by jansson (JSON_EMBED drops the outer braces). */
static int render_member(struct rendered *out, const char *name, json_t *value)
{
    json_t *o = value ? json_pack("{s:o}", name, value) : NULL;

    out->s = o ? json_dumps(o, LOCATE_JSON_FLAGS) : NULL;
    out->len = out->s ? strlen(out->s) : 0;
    json_decref(o);
    return out->s ? RP_OK : RP_NO_MEMORY;
}

void h_areas_release(struct app *app)
{
    for (int l = 0; l < RP_LEVEL_COUNT; l++) {
        size_t n = app->area_refs[l] ? geo_index_count(app->areas, (enum rp_level)l) : 0;
        for (size_t i = 0; i < n; i++)
            free(app->area_refs[l][i].s);
        free(app->area_refs[l]);
        free(app->no_area[l].s);
        app->area_refs[l] = NULL;
        app->no_area[l].s = NULL;
    }
}

/* A locate answer is the same few area members over and over: serialise each once, here,
 * and let h_locate join them (jansson's object building and encoding cost more than the
 * lookup itself). */
int h_areas_prepare(struct app *app)
{
    int rc = RP_OK;

    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++) {
        enum rp_level lv = (enum rp_level)l;
        size_t n = geo_index_count(app->areas, lv);

        app->area_refs[l] = calloc(n ? n : 1, sizeof *app->area_refs[l]);
        rc = app->area_refs[l] ? render_member(&app->no_area[l], rp_level_name(lv), json_null())
                               : RP_NO_MEMORY;
        for (size_t i = 0; rc == RP_OK && i < n; i++)
            rc = render_member(&app->area_refs[l][i], rp_level_name(lv),
                               area_ref_json(geo_index_at(app->areas, lv, i)));
    }
    if (rc != RP_OK)
        h_areas_release(app);
    return rc;
}

#define ECHO_MAX 24 /* longest coordinate text sent back as it came */

/* Whether s, as sent by the client, is a plain JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?, short.
 * Such a coordinate goes back exactly as sent (it already parsed to the number used); anything
 * else (exponents, '+', leading zeros, long digit runs) is encoded again by jansson. */
static int plain_decimal(const char *s)
{
    const char *p = s + (*s == '-');

    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0' && p - s <= ECHO_MAX;
}

/* `<member>` then the number: the client's own text when it is a plain decimal, else jansson's
 * (one real at a time: dumping an object makes jansson print its address into a loop-check
 * table, which costs more than the numbers). */
static void put_number(struct http_stream *st, const char *member, const char *text, double v)
{
    http_stream_text(st, member);
    if (text && plain_decimal(text))
        http_stream_text(st, text);
    else
        http_stream_json(st, json_real(v));
}

/* {"lat","lon"[,"snapped_m"],"provincia","distrito","corregimiento"}: the point's members
 * written now, the area members taken from h_areas_prepare. */
static int reply_place(struct http_req *req, struct http_res *res, double lon, double lat,
                       const struct geo_place *p)
{
    struct http_stream st = {0};

    put_number(&st, "{\"lat\":", http_query(req, "lat"), lat);
    put_number(&st, ",\"lon\":", http_query(req, "lon"), lon);
    if (p->snapped_m > 0)
        put_number(&st, ",\"snapped_m\":", NULL, round(p->snapped_m * 10) / 10);
    for (int l = 0; l < RP_LEVEL_COUNT; l++) {
        const struct geo_area *a = p->area[l];
        const struct rendered *m =
            a ? &req->app->area_refs[l][geo_index_pos(req->app->areas, a)] : &req->app->no_area[l];
        http_stream_bytes(&st, ",", 1);
        http_stream_bytes(&st, m->s, m->len); /* lengths measured once, at startup */
    }
    http_stream_text(&st, "}");
    return http_reply_stream(res, 200, &st);
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
    if (rc == RP_OK) {
        metrics_count(METRICS_LOCATES);
        rc = geo_locate(req->app->areas, &req->w->geo, lon, lat, snap_m, &place, &res->err);
    }
    if (rc != RP_OK)
        return rc;
    return reply_place(req, res, lon, lat, &place);
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
