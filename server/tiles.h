/*
 * server/tiles.h - the map layers as XYZ tiles: heat (PNG, 256 px or @2x 512 px), cases
 * (Mapbox Vector Tile) and areas (MVT, and PNG as a base map), their TileJSON, the tile cache,
 * and the hook that keeps the case map and the cache in step with committed case changes.
 * A layer is a row of one table (name, formats, zooms, cache policy, renderer). Heat and case
 * tiles show open cases (the filter's statuses must be open ones). Thread-safe: the case map
 * and the cache lock themselves; renderers use the caller's worker.
 */
#ifndef TILES_H
#define TILES_H

#include <jansson.h>

#include "server/app.h"
#include "server/casemap.h"
#include "server/tilecache.h"
#include "server/worker.h"

#define TILES_CACHE_MB_DEFAULT 256
#define TILES_HEAT_MAX_AGE_S   30    /* Cache-Control of heat and case tiles */
#define TILES_CASES_TTL_S      60    /* a cached case tile shows ages and overdue flags */
#define TILES_AREAS_MAX_AGE_S  86400 /* areas change only with a new default and a restart */

enum tiles_layer { TILES_HEAT, TILES_CASES, TILES_AREAS, TILES__COUNT };
enum tiles_format { TILES_PNG, TILES_MVT };

struct tiles;

/* The requested tile, parsed and checked (tiles_parse). */
struct tiles_request {
    enum tiles_layer layer;
    enum tiles_format format;
    int z, size_2x;
    uint32_t x, y;
    struct casemap_filter filter;
    char service[STORE_CODE_MAX], entity[STORE_CODE_MAX], area[STORE_CODE_MAX];
    char query[TILECACHE_QUERY_MAX]; /* the filter, normalised: the cache key's part */
};

/* The filter's query parameters, as given (NULL when absent). */
struct tiles_params {
    const char *service, *entity, *status, *area, *since, *overdue;
};

int tiles_create(struct app *app, size_t cache_bytes, struct tiles **out, struct rp_err *err);
void tiles_destroy(struct tiles *t);
/* Every open case into the case map (at startup). */
int tiles_load(struct tiles *t, struct store *s, struct rp_err *err);
struct casemap *tiles_casemap(struct tiles *t);
/* The tile cache's counters (for /metrics). */
void tiles_cache_stats(struct tiles *t, struct tilecache_stats *out);

/* The layer's number for its name ("heat", "cases", "areas"), -1 for none. */
int tiles_layer_find(const char *name);
const char *tiles_layer_name(enum tiles_layer l);

/* z, x and the last path segment ("Y.png", "Y@2x.png", "Y.mvt"), checked against the layer
 * (400 invalid_tile: z outside 0..22 or the layer's zooms, x or y outside 0..2^z-1, a format
 * the layer does not have), and the filter (400 invalid_argument: a malformed code or date,
 * a closed status). */
int tiles_parse(enum tiles_layer layer, const char *z, const char *x, const char *file,
                const struct tiles_params *p, struct tiles_request *out, struct rp_err *err);
/* Only the filter (TileJSON). */
int tiles_filter_parse(const struct tiles_params *p, struct tiles_request *out, struct rp_err *err);

/* The tile, from the cache (*hit = 1) or rendered (and cached); a reference for the caller. */
int tiles_get(struct tiles *t, struct worker *w, const struct tiles_request *r,
              struct tile_body **out, int *hit, struct rp_err *err);
/* Cache-Control max-age of a layer's tiles. */
int tiles_max_age(enum tiles_layer l);

/* TileJSON 3.0 of a layer: its tile URL under base (e.g. "http://host:8311") with the
 * normalised query, zooms, bounds of the areas, attribution, and vector layers. */
json_t *tiles_tilejson(struct tiles *t, enum tiles_layer l, const char *base,
                       const struct tiles_request *filter);

/* A case changed and committed (created, status, transfer, confirmation): its new state into
 * the case map, and every cached tile that could show it, before or after, made stale: at
 * each zoom, the tiles within one heat kernel of its old and new place. */
void tiles_case_changed(struct tiles *t, const struct store_point *p);
/* The same after re-reading the case from the store (id). */
void tiles_case_reload(struct tiles *t, struct store *s, int64_t id);

#endif
