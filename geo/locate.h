/*
 * geo/locate.h - "whose jurisdiction is this pin in?": a point to provincia / distrito /
 * corregimiento on the frozen index. Coverage is per level: a level with no polygon at the
 * point is NULL, never an error. Thread-safe on a frozen index with one geo_ctx per thread.
 */
#ifndef GEO_LOCATE_H
#define GEO_LOCATE_H

#include "base/err.h"
#include "geo/ctx.h"
#include "geo/index.h"

#define GEO_SNAP_DEFAULT_M 500.0 /* pins on beaches, piers and river banks are real */
#define GEO_SNAP_MAX_M     5000.0
#define GEO_SNAP_TIE_M     1.0   /* a deeper level this close to the nearest wins the snap */

struct geo_place {
    const struct geo_area *area[RP_LEVEL_COUNT]; /* borrowed from the index; NULL = no cover */
    double snapped_m;                            /* 0 when the point is inside an area */
};

/* RP_OK; RP_INVALID_COORDINATES for NaN, infinite or out-of-range input; RP_OUTSIDE_AREA when
 * no area of any level is within snap_m metres. Each level gets the deepest answer: the
 * covering area, else the parent of a deeper hit, else none. */
int geo_locate(const struct geo_index *ix, struct geo_ctx *gc, double lon, double lat,
               double snap_m, struct geo_place *out, struct rp_err *err);

/* 1 when lon/lat are finite and within [-180,180] x [-90,90]. */
int geo_lonlat_valid(double lon, double lat);

#endif
