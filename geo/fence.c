/*
 * geo/fence.c - polygon and circle geofences (see fence.h). Polygons are tested with a GEOS
 * prepared geometry, built at creation and forced once with a probe so its index is ready
 * before the first real test. Workload: a test per truck position, a few hundred a second.
 */
#include "geo/fence.h"

#include <stdlib.h>

struct geo_fence {
    GEOSGeometry *g; /* NULL for a circle */
    const GEOSPreparedGeometry *prep;
    double lon, lat, radius_m;
};

static int lonlat_ok(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    double x0, y0, x1, y1;

    if (!GEOSGeom_getXMin_r(h, g, &x0) || !GEOSGeom_getYMin_r(h, g, &y0) ||
        !GEOSGeom_getXMax_r(h, g, &x1) || !GEOSGeom_getYMax_r(h, g, &y1))
        return 0;
    return x0 >= -180 && x1 <= 180 && y0 >= -90 && y1 <= 90;
}

int geo_fence_polygon(struct geo_ctx *gc, const char *geojson, struct geo_fence **out,
                      struct rp_err *err)
{
    GEOSContextHandle_t h = gc->geos;
    GEOSGeoJSONReader *r = GEOSGeoJSONReader_create_r(h);
    GEOSGeometry *g = r ? GEOSGeoJSONReader_readGeometry_r(h, r, geojson) : NULL;
    struct geo_fence *f = NULL;
    int type, npts, rc = RP_OK;

    if (r)
        GEOSGeoJSONReader_destroy_r(h, r);
    if (!g)
        return rp_err_set(err, RP_INVALID_DATA, "geofence is not GeoJSON geometry");
    type = GEOSGeomTypeId_r(h, g);
    npts = GEOSGetNumCoordinates_r(h, g);
    if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON)
        rc = rp_err_set(err, RP_INVALID_DATA, "geofence must be a Polygon or MultiPolygon");
    else if (GEOSisEmpty_r(h, g) != 0)
        rc = rp_err_set(err, RP_INVALID_DATA, "geofence is empty");
    else if (npts < 0 || npts > GEO_FENCE_VERTICES_MAX)
        rc = rp_err_set(err, RP_INVALID_DATA, "geofence has over %d vertices",
                        GEO_FENCE_VERTICES_MAX);
    else if (!lonlat_ok(h, g))
        rc = rp_err_set(err, RP_INVALID_DATA, "geofence coordinates are lon, lat in degrees");
    else if (GEOSisValid_r(h, g) != 1)
        rc = rp_err_set(err, RP_INVALID_DATA, "geofence is not a valid polygon (%s)",
                        "self-intersecting or badly nested rings");
    if (rc == RP_OK && !(f = calloc(1, sizeof *f)))
        rc = rp_err_set(err, RP_NO_MEMORY, "geofence");
    if (rc == RP_OK) {
        f->g = g;
        f->prep = GEOSPrepare_r(h, g);
        if (!f->prep)
            rc = rp_err_set(err, RP_INTERNAL, "geofence: %s", gc->err.msg);
    }
    if (rc == RP_OK) { /* build the prepared index now, not on a truck's first position */
        int inside;
        rc = geo_fence_contains(gc, f, -79.5, 9.0, &inside, err);
    }
    if (rc != RP_OK) {
        if (f)
            geo_fence_destroy(gc, f);
        else
            GEOSGeom_destroy_r(h, g);
        return rc;
    }
    *out = f;
    return RP_OK;
}

int geo_fence_circle(double lon, double lat, double radius_m, struct geo_fence **out,
                     struct rp_err *err)
{
    struct geo_fence *f;

    if (!(radius_m >= GEO_FENCE_RADIUS_MIN_M && radius_m <= GEO_FENCE_RADIUS_MAX_M))
        return rp_err_set(err, RP_INVALID_DATA, "radius_m must be %.0f to %.0f",
                          GEO_FENCE_RADIUS_MIN_M, GEO_FENCE_RADIUS_MAX_M);
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90))
        return rp_err_set(err, RP_INVALID_COORDINATES, "the fence's centre is not lon, lat");
    if (!(f = calloc(1, sizeof *f)))
        return rp_err_set(err, RP_NO_MEMORY, "geofence");
    f->lon = lon;
    f->lat = lat;
    f->radius_m = radius_m;
    *out = f;
    return RP_OK;
}

int geo_fence_contains(struct geo_ctx *gc, const struct geo_fence *f, double lon, double lat,
                       int *inside, struct rp_err *err)
{
    GEOSContextHandle_t h = gc->geos;
    GEOSGeometry *pt;
    double m;
    int r;

    *inside = 0;
    if (!f->g) {
        int rc = geo_ctx_metres(gc, f->lon, f->lat, lon, lat, &m, err);
        *inside = rc == RP_OK && m <= f->radius_m;
        return rc;
    }
    if (!(pt = GEOSGeom_createPointFromXY_r(h, lon, lat)))
        return rp_err_set(err, RP_NO_MEMORY, "geofence point");
    r = GEOSPreparedIntersects_r(h, f->prep, pt);
    GEOSGeom_destroy_r(h, pt);
    if (r == 2)
        return rp_err_set(err, RP_INTERNAL, "geofence: %s", gc->err.msg);
    *inside = r == 1;
    return RP_OK;
}

void geo_fence_destroy(struct geo_ctx *gc, struct geo_fence *f)
{
    if (!f)
        return;
    if (f->prep)
        GEOSPreparedGeom_destroy_r(gc->geos, f->prep);
    if (f->g)
        GEOSGeom_destroy_r(gc->geos, f->g);
    free(f);
}
