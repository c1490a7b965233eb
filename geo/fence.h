/*
 * geo/fence.h - geofences: the area around a tow yard inside which a truck counts as arrived.
 * A fence is a polygon (GeoJSON Polygon or MultiPolygon, EPSG:4326 lon/lat, read by GEOS's
 * GeoJSON reader and prepared once) or a circle of radius_m metres around a point (distance
 * through geo_ctx_metres). A fence belongs to the geo_ctx that made it: use it with that ctx,
 * from one thread at a time (the tows module holds one ctx and a lock for its fences).
 */
#ifndef GEO_FENCE_H
#define GEO_FENCE_H

#include "base/err.h"
#include "geo/ctx.h"

#define GEO_FENCE_VERTICES_MAX 10000 /* a yard's outline, not a country's */
#define GEO_FENCE_RADIUS_MIN_M 10.0
#define GEO_FENCE_RADIUS_MAX_M 5000.0

struct geo_fence; /* opaque */

/* From GeoJSON geometry text. RP_INVALID_DATA (saying why) unless it is a valid, non-empty
 * Polygon or MultiPolygon with lon/lat in range and at most GEO_FENCE_VERTICES_MAX vertices. */
int geo_fence_polygon(struct geo_ctx *gc, const char *geojson, struct geo_fence **out,
                      struct rp_err *err);
/* A circle; RP_INVALID_DATA when the radius is outside GEO_FENCE_RADIUS_{MIN,MAX}_M. */
int geo_fence_circle(double lon, double lat, double radius_m, struct geo_fence **out,
                     struct rp_err *err);
/* *inside = 1 when (lon, lat) is inside the fence or on its edge. */
int geo_fence_contains(struct geo_ctx *gc, const struct geo_fence *f, double lon, double lat,
                       int *inside, struct rp_err *err);
void geo_fence_destroy(struct geo_ctx *gc, struct geo_fence *f); /* NULL-safe */

#endif
