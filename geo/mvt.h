/*
 * geo/mvt.h - building one Mapbox Vector Tile 2.1 (vector-tile-spec 2.1): layers of point and
 * polygon features with typed attributes, in tile coordinates (0..GEO_MVT_EXTENT, y down).
 * This module owns the spec's rules (keys and values stored once per layer, zigzag-encoded
 * command streams, exterior rings clockwise in tile coordinates and holes anticlockwise, rings
 * that collapse dropped); protobuf-c writes the bytes (geo/vector_tile.proto). One builder per
 * tile, one thread.
 */
#ifndef GEO_MVT_H
#define GEO_MVT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GEO_MVT_EXTENT 4096

enum geo_mvt_kind { GEO_MVT_STRING = 1, GEO_MVT_INT, GEO_MVT_DOUBLE, GEO_MVT_BOOL };

struct geo_mvt_attr {
    const char *key; /* looked up by address first: its text must not change while the
                      * builder lives (pass literals or stable strings) */
    enum geo_mvt_kind kind;
    const char *s; /* GEO_MVT_STRING; copied */
    int64_t i;     /* GEO_MVT_INT, and GEO_MVT_BOOL (0 or 1) */
    double d;      /* GEO_MVT_DOUBLE */
};

struct geo_mvt; /* opaque */

struct geo_mvt *geo_mvt_create(void);    /* NULL on out of memory */
void geo_mvt_destroy(struct geo_mvt *m); /* NULL-safe */

/* A new layer; its index, or -1 on out of memory. Empty layers are left out of the tile. */
int geo_mvt_layer(struct geo_mvt *m, const char *name);

/* A point feature at (x, y). id 0: none. */
int geo_mvt_point(struct geo_mvt *m, int layer, uint64_t id, int32_t x, int32_t y,
                  const struct geo_mvt_attr *attrs, size_t nattrs);

/* A polygon feature, ring by ring: begin, then rings (an exterior, then its holes; another
 * exterior starts another polygon of the same feature), then end with the attributes. A ring
 * is n points, closed or not; it is re-oriented as the spec wants; a ring with no area is
 * dropped, and so are the holes of a dropped exterior. A feature left with no ring is dropped. */
int geo_mvt_polygon_begin(struct geo_mvt *m, int layer, uint64_t id);
int geo_mvt_ring(struct geo_mvt *m, const int32_t *xy, size_t n, int exterior);
int geo_mvt_polygon_end(struct geo_mvt *m, const struct geo_mvt_attr *attrs, size_t nattrs);

/* Features so far in all layers. */
size_t geo_mvt_features(const struct geo_mvt *m);

/* The encoded tile (malloc'd; an empty tile is 0 bytes). */
int geo_mvt_encode(struct geo_mvt *m, unsigned char **out, size_t *len, struct rp_err *err);

#endif
