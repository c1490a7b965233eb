/*
 * geo/locate.c - the locate rule on top of geo/index.c.
 * Lookup order, deepest level first: the first level that covers the point fixes the answer,
 * and the levels above it come from its parent chain (so a corregimiento and its distrito can
 * never disagree), falling back to a direct lookup where a parent is unknown. A point that no
 * level covers is snapped to the nearest area within snap_m; the deepest level within
 * GEO_SNAP_TIE_M of the nearest distance wins, so a pin 200 m off the Cinta Costera gets its
 * corregimiento, not only its distrito.
 */
#include "geo/locate.h"

#include <math.h>
#include <string.h>

int geo_lonlat_valid(double lon, double lat)
{
    return isfinite(lon) && isfinite(lat) && lon >= -180.0 && lon <= 180.0 && lat >= -90.0 &&
           lat <= 90.0;
}

/* Fills the levels above `deepest` from parents, or by lookup where a parent is missing. */
static void fill_up(const struct geo_index *ix, struct geo_ctx *gc, double lon, double lat,
                    int deepest, struct geo_place *out)
{
    for (int l = deepest - 1; l >= 0; l--) {
        const struct geo_area *child = out->area[l + 1];
        if (child && child->parent && child->parent->level == (enum rp_level)l)
            out->area[l] = child->parent;
        else if (!out->area[l])
            out->area[l] = geo_index_lookup(ix, gc, (enum rp_level)l, lon, lat);
    }
}

static int snap(const struct geo_index *ix, struct geo_ctx *gc, double lon, double lat,
                double snap_m, struct geo_place *out, struct rp_err *err)
{
    const struct geo_area *best[RP_LEVEL_COUNT];
    double dist[RP_LEVEL_COUNT], min = INFINITY;
    int rc;

    for (int l = 0; l < RP_LEVEL_COUNT; l++) {
        rc = geo_index_nearest(ix, gc, (enum rp_level)l, lon, lat, snap_m, &best[l], &dist[l], err);
        if (rc != RP_OK)
            return rc;
        if (best[l])
            min = fmin(min, dist[l]);
    }
    for (int l = RP_LEVEL_COUNT - 1; l >= 0; l--) {
        if (!best[l] || dist[l] > min + GEO_SNAP_TIE_M)
            continue;
        out->area[l] = best[l];
        out->snapped_m = dist[l];
        /* Above the snapped level: parents, else the nearest of that level. */
        for (int k = l - 1; k >= 0; k--) {
            const struct geo_area *child = out->area[k + 1];
            out->area[k] = child && child->parent ? child->parent : best[k];
        }
        return RP_OK;
    }
    return rp_err_set(err, RP_OUTSIDE_AREA,
                      "(%.6f, %.6f) is farther than %.0f m from every area served", lat, lon,
                      snap_m);
}

int geo_locate(const struct geo_index *ix, struct geo_ctx *gc, double lon, double lat,
               double snap_m, struct geo_place *out, struct rp_err *err)
{
    memset(out, 0, sizeof *out);
    if (!geo_lonlat_valid(lon, lat))
        return rp_err_set(err, RP_INVALID_COORDINATES,
                          "lat must be in [-90, 90] and lon in [-180, 180]");
    for (int l = RP_LEVEL_COUNT - 1; l >= 0; l--) {
        out->area[l] = geo_index_lookup(ix, gc, (enum rp_level)l, lon, lat);
        if (out->area[l]) {
            fill_up(ix, gc, lon, lat, l, out);
            return RP_OK;
        }
    }
    return snap(ix, gc, lon, lat, snap_m, out, err);
}
