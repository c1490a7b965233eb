/*
 * geo/ctx.h - one thread's geometry handles: a GEOS reentrant context, a PROJ context and the
 * WGS84 -> UTM 17N transform (metres, for snapping distances). Never shared: each server worker
 * owns one, so nothing here locks. GEOS errors land in gc->err instead of a global buffer.
 */
#ifndef GEO_CTX_H
#define GEO_CTX_H

#include <geos_c.h>
#include <proj.h>
#include <stddef.h>

#include "base/err.h"

#define GEO_UTM_CRS "EPSG:32617" /* UTM zone 17N covers Panama; ~0.04% scale error at worst */

struct geo_ctx {
    GEOSContextHandle_t geos;
    PJ_CONTEXT *proj;
    PJ *to_utm; /* EPSG:4326 -> EPSG:32617, lon/lat order in */
    struct rp_err err; /* the last GEOS error, copied into callers' errors */
};

int geo_ctx_init(struct geo_ctx *gc, struct rp_err *err);
void geo_ctx_fini(struct geo_ctx *gc); /* safe on a zeroed or half-initialised ctx */

/* Distance in metres between two lon/lat points, through UTM 17N. */
int geo_ctx_metres(struct geo_ctx *gc, double lon1, double lat1, double lon2, double lat2,
                   double *m, struct rp_err *err);

/* n lon/lat pairs in xy to UTM 17N metres, in place (one PROJ call for all). */
int geo_ctx_utm(struct geo_ctx *gc, double *xy, size_t n, struct rp_err *err);

/* A transform from src_crs (anything PROJ reads: "EPSG:n", a URN, WKT from a .prj) to
 * EPSG:4326 in lon/lat order, on this ctx's PROJ context. Caller frees with proj_destroy. */
PJ *geo_ctx_to_wgs84(struct geo_ctx *gc, const char *src_crs, struct rp_err *err);

#endif
