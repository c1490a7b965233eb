/*
 * geo/grid.h - the lookup grid behind geo_index_lookup(): for every level at once, which area
 * of that level covers a point. One grid serves all levels, since nested levels share most of
 * their lines: coarse cells of GEO_GRID_CELL_DEG; a coarse cell that any edge touches is split
 * into GEO_GRID_SPLIT^2 fine cells. A cell no edge touches holds its answer for every level (a
 * "tuple" of areas), so most lookups are two array reads. A fine cell an edge touches keeps,
 * per level, its answer or a few candidate areas, each with whether it covers the cell's
 * centre and its own edges inside the cell: a point is in a candidate when that answer, flipped
 * once per candidate edge crossed on the way from the centre to the point, says so. That
 * local crossing test is the one geometry predicate reporta writes itself (the hot path: a
 * point in such a cell costs tens of nanoseconds instead of a GEOS point-in-polygon test over
 * the whole polygon, ~2 us for the shipped coastal corregimientos); it uses a floating-point
 * orientation whose sign is certified (Shewchuk's error bound), and any case it cannot certify
 * (a point on an edge, a vertex on the path) answers GEO_GRID_UNKNOWN, for the caller's exact
 * slow path. tests/test_geo.c compares it with GEOS on random points, on vertices and on points
 * a hair from edges.
 * The grid copies the rings it is given and knows no geometry library. Build: one thread
 * (create, ring, finish); afterwards it is read-only and any number of threads may call
 * geo_grid_find at once.
 */
#ifndef GEO_GRID_H
#define GEO_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/level.h"

#define GEO_GRID_CELL_DEG     0.01 /* coarse cell, ~1.1 km; edge cells split 16 x 16 (~70 m) */
#define GEO_GRID_SPLIT        16
#define GEO_GRID_AREAS_MAX    ((1u << 20) - 1)    /* areas per level */
#define GEO_GRID_COARSE_MAX   (16u * 1024 * 1024) /* cells: a box of about 40 x 40 degrees */
#define GEO_GRID_VERTICES_MAX (1u << 24)          /* of every ring; the shipped data: 750,000 */

/* geo_grid_find answers an area index + 1, 0 for none, or: */
#define GEO_GRID_UNKNOWN 0xFFFFFFFFu /* the grid cannot certify the answer here: ask GEOS */

struct geo_grid; /* opaque */

/* Returns 1 when area `area` of `level` covers (lon, lat) (closed polygon), 0 when it does
 * not, -1 on failure. Called only during geo_grid_finish, and only where the grid's own test
 * cannot certify an answer. */
typedef int (*geo_grid_covers_fn)(void *ctx, enum rp_level level, uint32_t area, double lon,
                                  double lat);

/* A grid over bbox (min lon, min lat, max lon, max lat) of every area. RP_INVALID_DATA when
 * the box is too large for the grid. Caller destroys it. */
int geo_grid_create(const double bbox[4], struct geo_grid **out, struct rp_err *err);
void geo_grid_destroy(struct geo_grid *g); /* NULL-safe */

/* One closed ring of area `area` (its index in the level): n lon/lat pairs in xy, first equal
 * to last, ordered with the area's interior on the left (exterior rings counter-clockwise,
 * holes clockwise). The order only matters for telling shared borders (the same edge reversed
 * in a neighbour) from a level's outer edges. Every ring of every area comes before finish. */
int geo_grid_ring(struct geo_grid *g, enum rp_level level, uint32_t area, const double *xy,
                  size_t n, struct rp_err *err);

/* Decides every cell; the grid is read-only afterwards. */
int geo_grid_finish(struct geo_grid *g, geo_grid_covers_fn covers, void *ctx, struct rp_err *err);

/* The hot path: area index + 1, 0 for none, or GEO_GRID_UNKNOWN. Among several areas of the
 * level covering the point, the smallest index (code) wins. */
uint32_t geo_grid_find(const struct geo_grid *g, enum rp_level level, double lon, double lat);

struct geo_grid_stats {
    size_t coarse_cells, blocks, edge_cells, tuples, unknown_cells, vertices;
    size_t covers_calls; /* building: tests the grid could not certify itself */
    size_t bytes;        /* what the frozen grid holds, its copy of the rings included */
};
void geo_grid_stats(const struct geo_grid *g, struct geo_grid_stats *st);

#endif
