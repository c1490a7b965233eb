/*
 * geo/index.h - the in-memory admin-area index behind every locate.
 * Built once (geo_index_add ... geo_index_freeze) from the areas table, then frozen: after
 * geo_index_freeze returns, every function taking a const struct geo_index * is safe to call
 * from any number of threads at once, each with its own struct geo_ctx. Freezing builds the
 * STRtrees and the lookup grid; GEOS's prepared polygons build their indexes lazily, on first
 * use, under one lock (the rare exact path, snapping and the STRtree reference), since warming
 * them all would hold 30 MB for the shipped areas.
 * Semantics: a point belongs to every area whose closed polygon covers it; when several do
 * (a shared border, a sliver overlap) the smallest code wins, so the same pin always gets the
 * same answer. Workload: millions of lookups per build; memory is spent to save lookup time.
 */
#ifndef GEO_INDEX_H
#define GEO_INDEX_H

#include <stddef.h>

#include "base/err.h"
#include "base/level.h"
#include "geo/ctx.h"
#include "geo/grid.h"

#define GEO_CODE_MAX 32

struct geo_area {
    enum rp_level level;
    char code[GEO_CODE_MAX];
    char *name;
    char *parent_code;             /* as stored; NULL for provincias or when unknown */
    const struct geo_area *parent; /* resolved at freeze; NULL when absent from the index */
    GEOSGeometry *geom;            /* EPSG:4326 MULTIPOLYGON */
    const GEOSPreparedGeometry *prep;
    size_t vertices;
};

struct geo_index; /* opaque */

struct geo_index *geo_index_create(void); /* NULL on out of memory */
void geo_index_destroy(struct geo_index *ix, struct geo_ctx *gc); /* NULL-safe */

/* Adds one area from ISO/OGC WKB (a Polygon or MultiPolygon in EPSG:4326). Only before freeze. */
int geo_index_add(struct geo_index *ix, struct geo_ctx *gc, enum rp_level level, const char *code,
                  const char *name, const char *parent_code, const unsigned char *wkb, size_t len,
                  struct rp_err *err);
/* Sorts, resolves parents, builds the grids and STRtrees and warms GEOS. */
int geo_index_freeze(struct geo_index *ix, struct geo_ctx *gc, struct rp_err *err);

/* Areas of a level, sorted by code; pointers live as long as the index. */
size_t geo_index_count(const struct geo_index *ix, enum rp_level level);
const struct geo_area *geo_index_at(const struct geo_index *ix, enum rp_level level, size_t i);
/* The i for which geo_index_at(ix, a->level, i) == a (a must belong to ix). */
size_t geo_index_pos(const struct geo_index *ix, const struct geo_area *a);
const struct geo_area *geo_index_find(const struct geo_index *ix, const char *code);

/* The area of `level` covering (lon, lat), or NULL: the grid (geo/grid.h) answers every point
 * but about one in 10^5 random ones (on an edge, say), which GEOS decides. */
const struct geo_area *geo_index_lookup(const struct geo_index *ix, struct geo_ctx *gc,
                                        enum rp_level level, double lon, double lat);

/* The same answer the straightforward way: GEOS STRtree candidates, each tested with its
 * prepared polygon (under the index's lock). The reference for tests and the anchor in
 * bench/locate. */
const struct geo_area *geo_index_lookup_strtree(const struct geo_index *ix, struct geo_ctx *gc,
                                                enum rp_level level, double lon, double lat);

/* Calls fn for each area of `level` whose bounding box meets bbox (min lon, min lat, max lon,
 * max lat), through the level's STRtree (read-only: any thread). */
typedef void (*geo_index_area_fn)(void *ctx, const struct geo_area *a);
void geo_index_query(const struct geo_index *ix, struct geo_ctx *gc, enum rp_level level,
                     const double bbox[4], geo_index_area_fn fn, void *ctx);

/* The nearest area of `level` within max_m metres of (lon, lat), and the distance; *out is
 * NULL when none is that close. */
int geo_index_nearest(const struct geo_index *ix, struct geo_ctx *gc, enum rp_level level,
                      double lon, double lat, double max_m, const struct geo_area **out,
                      double *dist_m, struct rp_err *err);

/* For logs and the bench: vertices of every area, and the lookup grid's statistics. */
struct geo_index_stats {
    size_t vertices;
    struct geo_grid_stats grid;
};
void geo_index_stats(const struct geo_index *ix, struct geo_index_stats *st);

#endif
