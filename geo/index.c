/*
 * geo/index.c - the admin-area index (see index.h): the areas of each level sorted by code,
 * their prepared polygons, one GEOS STRtree per level (the reference lookup, and the nearest
 * area for snapping), and the lookup grid of geo/grid.c that answers most points with two
 * array reads and the rest with a local crossing test. This file feeds the grid every ring
 * and answers its few uncertain "does this area cover that point" while it is built; where
 * the grid cannot certify an answer the lookup asks GEOS through the STRtree, so every answer
 * is the smallest code covering the point.
 */
#include "geo/index.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define STRTREE_NODE_CAPACITY 10
#define METRES_PER_DEG_LAT    110574.0 /* WGS84 at the equator, a lower bound near Panama */
#define METRES_PER_DEG_LON_EQ 111320.0

struct level_set {
    struct geo_area *v;
    size_t n, cap;
    GEOSSTRtree *tree;
};

struct geo_index {
    struct level_set lv[RP_LEVEL_COUNT];
    struct geo_grid *grid;
    /* GEOS builds a prepared polygon's indexes on its first use, which is not safe from two
     * threads. Every use after freeze takes this lock: the exact path (about one lookup in
     * 10^5), snapping (pins off the coast) and the STRtree reference. Warming every polygon
     * instead would hold 30 MB for the shipped areas. */
    pthread_mutex_t prepared_lock;
    int frozen;
};

struct geo_index *geo_index_create(void)
{
    struct geo_index *ix = calloc(1, sizeof *ix);

    if (ix && pthread_mutex_init(&ix->prepared_lock, NULL) != 0) {
        free(ix);
        return NULL;
    }
    return ix;
}

void geo_index_destroy(struct geo_index *ix, struct geo_ctx *gc)
{
    if (!ix)
        return;
    for (int l = 0; l < RP_LEVEL_COUNT; l++) {
        struct level_set *ls = &ix->lv[l];
        if (ls->tree)
            GEOSSTRtree_destroy_r(gc->geos, ls->tree);
        for (size_t i = 0; i < ls->n; i++) {
            if (ls->v[i].prep)
                GEOSPreparedGeom_destroy_r(gc->geos, ls->v[i].prep);
            GEOSGeom_destroy_r(gc->geos, ls->v[i].geom);
            free(ls->v[i].name);
            free(ls->v[i].parent_code);
        }
        free(ls->v);
    }
    geo_grid_destroy(ix->grid);
    pthread_mutex_destroy(&ix->prepared_lock);
    free(ix);
}

int geo_index_add(struct geo_index *ix, struct geo_ctx *gc, enum rp_level level, const char *code,
                  const char *name, const char *parent_code, const unsigned char *wkb, size_t len,
                  struct rp_err *err)
{
    struct level_set *ls;
    struct geo_area *a;
    GEOSWKBReader *reader;
    GEOSGeometry *g;
    int type;

    if (ix->frozen || (unsigned)level >= RP_LEVEL_COUNT)
        return rp_err_set(err, RP_INTERNAL, "geo_index_add after freeze or bad level");
    if (strlen(code) >= GEO_CODE_MAX)
        return rp_err_set(err, RP_INVALID_DATA, "area code too long: %.40s", code);
    ls = &ix->lv[level];
    if (ls->n >= GEO_GRID_AREAS_MAX)
        return rp_err_set(err, RP_INVALID_DATA, "too many areas at level %s", rp_level_name(level));
    reader = GEOSWKBReader_create_r(gc->geos);
    g = reader ? GEOSWKBReader_read_r(gc->geos, reader, wkb, len) : NULL;
    if (reader)
        GEOSWKBReader_destroy_r(gc->geos, reader);
    if (!g)
        return rp_err_set(err, RP_INVALID_DATA, "area %s: unreadable geometry", code);
    type = GEOSGeomTypeId_r(gc->geos, g);
    if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) {
        GEOSGeom_destroy_r(gc->geos, g);
        return rp_err_set(err, RP_INVALID_DATA, "area %s: not a polygon", code);
    }
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 64;
        struct geo_area *v = realloc(ls->v, cap * sizeof *v);
        if (!v) {
            GEOSGeom_destroy_r(gc->geos, g);
            return rp_err_set(err, RP_NO_MEMORY, "areas");
        }
        ls->v = v;
        ls->cap = cap;
    }
    a = &ls->v[ls->n];
    memset(a, 0, sizeof *a);
    a->level = level;
    strcpy(a->code, code);
    a->name = strdup(name ? name : "");
    a->parent_code = parent_code && parent_code[0] ? strdup(parent_code) : NULL;
    a->geom = g;
    a->vertices = (size_t)GEOSGetNumCoordinates_r(gc->geos, g);
    ls->n++;
    if (!a->name || (parent_code && parent_code[0] && !a->parent_code))
        return rp_err_set(err, RP_NO_MEMORY, "area names");
    return RP_OK;
}

static int area_cmp(const void *a, const void *b)
{
    return strcmp(((const struct geo_area *)a)->code, ((const struct geo_area *)b)->code);
}

/* ---- the STRtree reference ---- */

struct probe {
    struct geo_ctx *gc;
    const GEOSGeometry *pt;
    const struct geo_area *best; /* smallest code so far: areas are sorted, so lowest address */
};

static void probe_cb(void *item, void *userdata)
{
    struct probe *p = userdata;
    const struct geo_area *a = item;

    if (p->best && a > p->best)
        return;
    if (GEOSPreparedIntersects_r(p->gc->geos, a->prep, p->pt) == 1)
        p->best = a;
}

/* The STRtree query with prepared tests, under the lock (see struct geo_index). */
static const struct geo_area *strtree_lookup(const struct geo_index *ix, struct geo_ctx *gc,
                                             enum rp_level level, double lon, double lat)
{
    const struct level_set *ls = &ix->lv[level];
    struct probe p = {gc, NULL, NULL};
    GEOSGeometry *pt;

    if ((unsigned)level >= RP_LEVEL_COUNT || !ls->tree)
        return NULL;
    pt = GEOSGeom_createPointFromXY_r(gc->geos, lon, lat);
    if (!pt)
        return NULL;
    p.pt = pt;
    pthread_mutex_lock((pthread_mutex_t *)&ix->prepared_lock);
    /* The tree is built and never modified after freeze; queries only read it. */
    GEOSSTRtree_query_r(gc->geos, (GEOSSTRtree *)ls->tree, pt, probe_cb, &p);
    pthread_mutex_unlock((pthread_mutex_t *)&ix->prepared_lock);
    GEOSGeom_destroy_r(gc->geos, pt);
    return p.best;
}

const struct geo_area *geo_index_lookup_strtree(const struct geo_index *ix, struct geo_ctx *gc,
                                                enum rp_level level, double lon, double lat)
{
    return strtree_lookup(ix, gc, level, lon, lat);
}

/* ---- the grid ---- */

/* Every ring of the level into the grid, with the area's interior on its left. */
static int grid_level(struct geo_ctx *gc, struct geo_grid *g, const struct level_set *ls,
                      enum rp_level level, struct rp_err *err)
{
    double *xy = NULL;
    size_t cap = 0;
    int rc = RP_OK;

    for (size_t i = 0; rc == RP_OK && i < ls->n; i++) {
        const GEOSGeometry *geom = ls->v[i].geom;
        int np = GEOSGetNumGeometries_r(gc->geos, geom);
        for (int k = 0; rc == RP_OK && k < np; k++) {
            const GEOSGeometry *poly = GEOSGetGeometryN_r(gc->geos, geom, k);
            int nh = GEOSGetNumInteriorRings_r(gc->geos, poly);
            for (int h = -1; rc == RP_OK && h < nh; h++) {
                const GEOSGeometry *ring = h < 0 ? GEOSGetExteriorRing_r(gc->geos, poly)
                                                 : GEOSGetInteriorRingN_r(gc->geos, poly, h);
                const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(gc->geos, ring);
                unsigned int n = 0;
                char ccw = 0;
                if (!seq || !GEOSCoordSeq_getSize_r(gc->geos, seq, &n) ||
                    !GEOSCoordSeq_isCCW_r(gc->geos, seq, &ccw)) {
                    rc = rp_err_set(err, RP_INVALID_DATA, "area %s: unreadable ring",
                                    ls->v[i].code);
                    break;
                }
                if (2 * (size_t)n > cap) {
                    double *v = realloc(xy, 2 * (size_t)n * sizeof *v);
                    if (!v) {
                        rc = rp_err_set(err, RP_NO_MEMORY, "ring of %s", ls->v[i].code);
                        break;
                    }
                    xy = v;
                    cap = 2 * (size_t)n;
                }
                if (!GEOSCoordSeq_copyToBuffer_r(gc->geos, seq, xy, 0, 0)) {
                    rc = rp_err_set(err, RP_INTERNAL, "area %s: ring copy", ls->v[i].code);
                    break;
                }
                if ((h < 0) != (ccw != 0)) /* exterior clockwise or hole counter-clockwise */
                    for (unsigned a = 0, b = n - 1; a < b; a++, b--) {
                        double tx = xy[2 * a], ty = xy[2 * a + 1];
                        xy[2 * a] = xy[2 * b], xy[2 * a + 1] = xy[2 * b + 1];
                        xy[2 * b] = tx, xy[2 * b + 1] = ty;
                    }
                rc = geo_grid_ring(g, level, (uint32_t)i, xy, n, err);
            }
        }
    }
    free(xy);
    return rc;
}

struct covers_ctx {
    const struct geo_index *ix;
    struct geo_ctx *gc;
};

static int covers(void *ctx, enum rp_level level, uint32_t area, double lon, double lat)
{
    struct covers_ctx *c = ctx;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(c->gc->geos, lon, lat);
    int r;

    if (!pt)
        return -1;
    r = GEOSPreparedIntersects_r(c->gc->geos, c->ix->lv[level].v[area].prep, pt);
    GEOSGeom_destroy_r(c->gc->geos, pt);
    return r == 2 ? -1 : r;
}

static int grid_build(struct geo_index *ix, struct geo_ctx *gc, struct rp_err *err)
{
    double bbox[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    struct covers_ctx c = {ix, gc};
    size_t total = 0;
    int rc;

    for (int l = 0; l < RP_LEVEL_COUNT; l++)
        for (size_t i = 0; i < ix->lv[l].n; i++) {
            const GEOSGeometry *g = ix->lv[l].v[i].geom;
            double x0, y0, x1, y1;
            GEOSGeom_getXMin_r(gc->geos, g, &x0);
            GEOSGeom_getYMin_r(gc->geos, g, &y0);
            GEOSGeom_getXMax_r(gc->geos, g, &x1);
            GEOSGeom_getYMax_r(gc->geos, g, &y1);
            bbox[0] = fmin(bbox[0], x0), bbox[1] = fmin(bbox[1], y0);
            bbox[2] = fmax(bbox[2], x1), bbox[3] = fmax(bbox[3], y1);
            total++;
        }
    if (total == 0)
        return RP_OK; /* no areas: every lookup answers none */
    rc = geo_grid_create(bbox, &ix->grid, err);
    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++)
        rc = grid_level(gc, ix->grid, &ix->lv[l], (enum rp_level)l, err);
    if (rc == RP_OK)
        rc = geo_grid_finish(ix->grid, covers, &c, err);
    return rc;
}

/* ---- freeze ---- */

static int level_prepare(struct geo_ctx *gc, struct level_set *ls, struct rp_err *err)
{
    GEOSGeometry *probe;

    if (ls->n > 1)
        qsort(ls->v, ls->n, sizeof *ls->v, area_cmp);
    for (size_t i = 1; i < ls->n; i++)
        if (strcmp(ls->v[i - 1].code, ls->v[i].code) == 0)
            return rp_err_set(err, RP_CONFLICT, "area code %s appears twice", ls->v[i].code);
    if (ls->n == 0)
        return RP_OK;
    ls->tree = GEOSSTRtree_create_r(gc->geos, STRTREE_NODE_CAPACITY);
    if (!ls->tree)
        return rp_err_set(err, RP_NO_MEMORY, "STRtree");
    probe = GEOSGeom_createPointFromXY_r(gc->geos, 0, 0);
    if (!probe)
        return rp_err_set(err, RP_NO_MEMORY, "probe point");
    for (size_t i = 0; i < ls->n; i++) {
        struct geo_area *a = &ls->v[i];
        a->prep = GEOSPrepare_r(gc->geos, a->geom);
        if (!a->prep) {
            GEOSGeom_destroy_r(gc->geos, probe);
            return rp_err_set(err, RP_INTERNAL, "cannot prepare area %s", a->code);
        }
        GEOSSTRtree_insert_r(gc->geos, ls->tree, a->geom, a);
    }
    /* The first query builds the tree; later queries only read it. */
    GEOSSTRtree_query_r(gc->geos, ls->tree, probe, probe_cb,
                        &(struct probe){gc, probe, NULL});
    GEOSGeom_destroy_r(gc->geos, probe);
    return RP_OK;
}

int geo_index_freeze(struct geo_index *ix, struct geo_ctx *gc, struct rp_err *err)
{
    int rc = RP_OK;

    if (ix->frozen)
        return RP_OK;
    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++)
        rc = level_prepare(gc, &ix->lv[l], err);
    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++)
        for (size_t i = 0; i < ix->lv[l].n; i++) {
            struct geo_area *a = &ix->lv[l].v[i];
            a->parent = a->parent_code ? geo_index_find(ix, a->parent_code) : NULL;
            if (a->parent && a->parent->level >= a->level) {
                rp_warn("area %s: parent %s is not at a higher level; ignored", a->code,
                        a->parent_code);
                a->parent = NULL;
            }
        }
    if (rc == RP_OK)
        rc = grid_build(ix, gc, err);
    if (rc == RP_OK)
        ix->frozen = 1;
    return rc;
}

/* ---- readers ---- */

size_t geo_index_count(const struct geo_index *ix, enum rp_level level)
{
    return (unsigned)level < RP_LEVEL_COUNT ? ix->lv[level].n : 0;
}

const struct geo_area *geo_index_at(const struct geo_index *ix, enum rp_level level, size_t i)
{
    return i < geo_index_count(ix, level) ? &ix->lv[level].v[i] : NULL;
}

size_t geo_index_pos(const struct geo_index *ix, const struct geo_area *a)
{
    return (size_t)(a - ix->lv[a->level].v);
}

const struct geo_area *geo_index_find(const struct geo_index *ix, const char *code)
{
    struct geo_area key;

    if (!code || strlen(code) >= GEO_CODE_MAX)
        return NULL;
    strcpy(key.code, code);
    for (int l = 0; l < RP_LEVEL_COUNT; l++) {
        const struct geo_area *a =
            ix->lv[l].n ? bsearch(&key, ix->lv[l].v, ix->lv[l].n, sizeof key, area_cmp) : NULL;
        if (a)
            return a;
    }
    return NULL;
}

const struct geo_area *geo_index_lookup(const struct geo_index *ix, struct geo_ctx *gc,
                                        enum rp_level level, double lon, double lat)
{
    uint32_t v;

    if (!ix->grid || (unsigned)level >= RP_LEVEL_COUNT)
        return NULL;
    v = geo_grid_find(ix->grid, level, lon, lat);
    if (v != GEO_GRID_UNKNOWN)
        return v ? &ix->lv[level].v[v - 1] : NULL;
    /* a point on an edge, say, where the grid's test cannot certify its answer: GEOS's (rare:
     * five lookups in a million random points of the country) */
    return strtree_lookup(ix, gc, level, lon, lat);
}

struct query {
    geo_index_area_fn fn;
    void *ctx;
};

static void query_cb(void *item, void *userdata)
{
    struct query *q = userdata;
    q->fn(q->ctx, item);
}

void geo_index_query(const struct geo_index *ix, struct geo_ctx *gc, enum rp_level level,
                     const double bbox[4], geo_index_area_fn fn, void *ctx)
{
    struct query q = {fn, ctx};
    GEOSGeometry *box;

    if ((unsigned)level >= RP_LEVEL_COUNT || !ix->lv[level].tree)
        return;
    box = GEOSGeom_createRectangle_r(gc->geos, bbox[0], bbox[1], bbox[2], bbox[3]);
    if (!box)
        return;
    GEOSSTRtree_query_r(gc->geos, (GEOSSTRtree *)ix->lv[level].tree, box, query_cb, &q);
    GEOSGeom_destroy_r(gc->geos, box);
}

struct nearest {
    struct geo_ctx *gc;
    const GEOSGeometry *pt;
    double lon, lat, best_m;
    const struct geo_area *best;
    int rc;
    struct rp_err *err;
};

static void nearest_cb(void *item, void *userdata)
{
    struct nearest *n = userdata;
    const struct geo_area *a = item;
    GEOSCoordSequence *seq;
    double x, y, m;

    if (n->rc != RP_OK)
        return;
    seq = GEOSPreparedNearestPoints_r(n->gc->geos, a->prep, n->pt);
    if (!seq) {
        n->rc = rp_err_set(n->err, RP_INTERNAL, "nearest point of %s", a->code);
        return;
    }
    GEOSCoordSeq_getXY_r(n->gc->geos, seq, 0, &x, &y);
    GEOSCoordSeq_destroy_r(n->gc->geos, seq);
    n->rc = geo_ctx_metres(n->gc, n->lon, n->lat, x, y, &m, n->err);
    if (n->rc == RP_OK && (m < n->best_m || (m == n->best_m && n->best && a < n->best))) {
        n->best_m = m;
        n->best = a;
    }
}

int geo_index_nearest(const struct geo_index *ix, struct geo_ctx *gc, enum rp_level level,
                      double lon, double lat, double max_m, const struct geo_area **out,
                      double *dist_m, struct rp_err *err)
{
    const struct level_set *ls = &ix->lv[level];
    struct nearest n = {gc, NULL, lon, lat, INFINITY, NULL, RP_OK, err};
    double dlat = max_m / METRES_PER_DEG_LAT, dlon;
    GEOSGeometry *pt, *box;

    *out = NULL;
    *dist_m = INFINITY;
    if (!ls->tree || !(max_m > 0))
        return RP_OK;
    dlon = max_m / (METRES_PER_DEG_LON_EQ * fmax(cos(lat * M_PI / 180.0), 0.01));
    pt = GEOSGeom_createPointFromXY_r(gc->geos, lon, lat);
    box = GEOSGeom_createRectangle_r(gc->geos, lon - dlon, lat - dlat, lon + dlon, lat + dlat);
    if (pt && box) {
        n.pt = pt;
        /* prepared polygons build their indexes on first use: see struct geo_index */
        pthread_mutex_lock((pthread_mutex_t *)&ix->prepared_lock);
        GEOSSTRtree_query_r(gc->geos, (GEOSSTRtree *)ls->tree, box, nearest_cb, &n);
        pthread_mutex_unlock((pthread_mutex_t *)&ix->prepared_lock);
    } else {
        n.rc = rp_err_set(err, RP_NO_MEMORY, "nearest probe");
    }
    GEOSGeom_destroy_r(gc->geos, pt);
    GEOSGeom_destroy_r(gc->geos, box);
    if (n.rc == RP_OK && n.best && n.best_m <= max_m) {
        *out = n.best;
        *dist_m = n.best_m;
    }
    return n.rc;
}

void geo_index_stats(const struct geo_index *ix, struct geo_index_stats *st)
{
    memset(st, 0, sizeof *st);
    for (int l = 0; l < RP_LEVEL_COUNT; l++)
        for (size_t i = 0; i < ix->lv[l].n; i++)
            st->vertices += ix->lv[l].v[i].vertices;
    geo_grid_stats(ix->grid, &st->grid);
}
