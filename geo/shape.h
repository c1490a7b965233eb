/*
 * geo/shape.h - an area's geometry for clients: GeoJSON text, optionally simplified to a
 * tolerance in metres (topology preserved, so neighbours still meet). Thread-safe with one
 * geo_ctx per thread; reads the frozen area only.
 */
#ifndef GEO_SHAPE_H
#define GEO_SHAPE_H

#include "base/err.h"
#include "geo/ctx.h"
#include "geo/index.h"

#define GEO_SIMPLIFY_MAX_M 100000.0

/* GeoJSON geometry text, malloc'd (free with GEOSFree_r); NULL with err set on failure. */
char *geo_shape_geojson(struct geo_ctx *gc, const struct geo_area *a, double simplify_m,
                        struct rp_err *err);

#endif
