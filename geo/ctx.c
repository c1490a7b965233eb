/*
 * geo/ctx.c - per-thread GEOS and PROJ handles (see ctx.h).
 */
#include "geo/ctx.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void geos_message(const char *fmt, ...)
{
    (void)fmt; /* notices are informational; only errors matter to us */
}

static void geos_error(const char *message, void *userdata)
{
    struct geo_ctx *gc = userdata;
    /* The latest error, not the first: each GEOS call is checked right after it returns. */
    rp_err_clear(&gc->err);
    rp_err_set(&gc->err, RP_INTERNAL, "GEOS: %s", message);
}

PJ *geo_ctx_to_wgs84(struct geo_ctx *gc, const char *src_crs, struct rp_err *err)
{
    PJ *raw, *norm;

    raw = proj_create_crs_to_crs(gc->proj, src_crs, "EPSG:4326", NULL);
    if (!raw) {
        rp_err_set(err, RP_INVALID_DATA, "unknown coordinate system: %.80s (%s)", src_crs,
                   proj_context_errno_string(gc->proj, proj_context_errno(gc->proj)));
        return NULL;
    }
    /* EPSG:4326 is lat/lon by the book; GeoJSON, GEOS and we use lon/lat. */
    norm = proj_normalize_for_visualization(gc->proj, raw);
    proj_destroy(raw);
    if (!norm)
        rp_err_set(err, RP_INTERNAL, "PROJ: cannot normalise axis order for %.80s", src_crs);
    return norm;
}

int geo_ctx_init(struct geo_ctx *gc, struct rp_err *err)
{
    PJ *raw;

    memset(gc, 0, sizeof *gc);
    gc->geos = GEOS_init_r();
    if (!gc->geos)
        return rp_err_set(err, RP_NO_MEMORY, "GEOS context");
    GEOSContext_setNoticeHandler_r(gc->geos, geos_message);
    GEOSContext_setErrorMessageHandler_r(gc->geos, geos_error, gc);
    gc->proj = proj_context_create();
    if (!gc->proj)
        return rp_err_set(err, RP_NO_MEMORY, "PROJ context");
    raw = proj_create_crs_to_crs(gc->proj, "EPSG:4326", GEO_UTM_CRS, NULL);
    if (raw) {
        gc->to_utm = proj_normalize_for_visualization(gc->proj, raw);
        proj_destroy(raw);
    }
    if (!gc->to_utm)
        return rp_err_set(err, RP_INTERNAL, "PROJ: no EPSG:4326 -> %s transform (proj-data?)",
                          GEO_UTM_CRS);
    return RP_OK;
}

void geo_ctx_fini(struct geo_ctx *gc)
{
    if (gc->to_utm)
        proj_destroy(gc->to_utm);
    if (gc->proj)
        proj_context_destroy(gc->proj);
    if (gc->geos)
        GEOS_finish_r(gc->geos);
    memset(gc, 0, sizeof *gc);
}

int geo_ctx_utm(struct geo_ctx *gc, double *xy, size_t n, struct rp_err *err)
{
    size_t done;

    if (n == 0)
        return RP_OK;
    done = proj_trans_generic(gc->to_utm, PJ_FWD, xy, 2 * sizeof *xy, n, xy + 1, 2 * sizeof *xy,
                              n, NULL, 0, 0, NULL, 0, 0);
    if (done != n)
        return rp_err_set(err, RP_INTERNAL, "UTM transform of %zu points", n);
    for (size_t i = 0; i < 2 * n; i++)
        if (!isfinite(xy[i]))
            return rp_err_set(err, RP_INVALID_COORDINATES, "a point cannot be projected");
    return RP_OK;
}

int geo_ctx_metres(struct geo_ctx *gc, double lon1, double lat1, double lon2, double lat2,
                   double *m, struct rp_err *err)
{
    PJ_COORD a = proj_coord(lon1, lat1, 0, 0), b = proj_coord(lon2, lat2, 0, 0);

    a = proj_trans(gc->to_utm, PJ_FWD, a);
    b = proj_trans(gc->to_utm, PJ_FWD, b);
    if (!isfinite(a.xy.x) || !isfinite(b.xy.x))
        return rp_err_set(err, RP_INVALID_COORDINATES, "cannot project (%g, %g)", lon1, lat1);
    *m = hypot(a.xy.x - b.xy.x, a.xy.y - b.xy.y);
    return RP_OK;
}
