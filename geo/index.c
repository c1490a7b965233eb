/*
 * geo/index.c - the admin-area index (see index.h).
 *
 * Per level, a two-level grid over the level's bounding box. A coarse cell (GEO_GRID_CELL_DEG)
 * that no polygon edge crosses holds its answer directly: one area, or none. A coarse cell
 * that an edge crosses points to a block of GEO_GRID_SPLIT^2 fine cells, and again every fine
 * cell no edge crosses holds its answer; only fine cells an edge crosses (~2% of the country)
 * keep a short candidate list, tested with GEOS prepared polygons in code order.
 *
 * Building: walk every polygon edge and record each fine cell it touches (conservatively, with
 * a small margin, so an edge lying on a cell line marks both sides). Cells not touched by any
 * edge are uniform, and two such cells that are neighbours in a row hold the same answer (no
 * edge separates them), so GEOS decides one cell per run, not one per cell. A boundary cell's
 * candidates are the areas whose edges touch it plus the smallest area covering its centre
 * (an area that covers the whole cell touches it with no edge). That set holds every area
 * that can cover a point of the cell, so "first candidate that covers the point" equals "the
 * smallest code covering the point", which is what the STRtree reference answers too.
 */
#include "geo/index.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define HI        0x80000000u /* cell value flag: a block (coarse) or a candidate list (fine) */
#define UNSET     0xFFFFFFFFu
#define EDGE_EPS  1e-6      /* in fine cells (~0.07 mm): margin for edges on cell lines */
#define AREA_BITS 20        /* area index bits in an (cell, area) pair */
#define STRTREE_NODE_CAPACITY 10
#define METRES_PER_DEG_LAT    110574.0 /* WGS84 at the equator, a lower bound near Panama */
#define METRES_PER_DEG_LON_EQ 111320.0

struct grid {
    double minx, miny, inv_fine; /* fine cells per degree */
    uint32_t ncx, ncy, nfx, nfy; /* coarse and fine cells per row / column */
    uint32_t *coarse;            /* area index + 1, 0 for none, or HI | block number */
    uint32_t *blocks;            /* GEO_GRID_SPLIT^2 per block: as coarse, or HI | cand offset */
    size_t nblocks;
    uint32_t *cand; /* lists: count, then area indices ascending */
    size_t ncand, cand_cap;
    size_t boundary_cells;
};

struct level_set {
    struct geo_area *v;
    size_t n, cap;
    GEOSSTRtree *tree;
    struct grid grid;
};

struct geo_index {
    struct level_set lv[RP_LEVEL_COUNT];
    int frozen;
};

struct pairs {
    uint64_t *v;
    size_t n, cap;
};

struct geo_index *geo_index_create(void)
{
    return calloc(1, sizeof(struct geo_index));
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
        free(ls->grid.coarse);
        free(ls->grid.blocks);
        free(ls->grid.cand);
    }
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
    if (ls->n >= (1u << AREA_BITS) - 1)
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

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
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

const struct geo_area *geo_index_lookup_strtree(const struct geo_index *ix, struct geo_ctx *gc,
                                                enum rp_level level, double lon, double lat)
{
    const struct level_set *ls = &ix->lv[level];
    struct probe p = {gc, NULL, NULL};
    GEOSGeometry *pt;

    if (!ls->tree)
        return NULL;
    pt = GEOSGeom_createPointFromXY_r(gc->geos, lon, lat);
    if (!pt)
        return NULL;
    p.pt = pt;
    /* The tree is built and never modified after freeze; queries only read it. */
    GEOSSTRtree_query_r(gc->geos, (GEOSSTRtree *)ls->tree, pt, probe_cb, &p);
    GEOSGeom_destroy_r(gc->geos, pt);
    return p.best;
}

/* ---- building the grid ---- */

static int pairs_push(struct pairs *p, uint64_t x)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4096;
        uint64_t *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = x;
    return 0;
}

static long clampl(double x, long hi)
{
    long i = (long)floor(x);
    return i < 0 ? 0 : (i > hi ? hi : i);
}

/* Records (cell, area) for every fine cell the segment's margin-widened path touches. */
static int mark_segment(const struct grid *g, struct pairs *p, uint32_t area, double x0,
                        double y0, double x1, double y1)
{
    double u0 = (x0 - g->minx) * g->inv_fine, v0 = (y0 - g->miny) * g->inv_fine;
    double u1 = (x1 - g->minx) * g->inv_fine, v1 = (y1 - g->miny) * g->inv_fine;
    double ulo = fmin(u0, u1) - EDGE_EPS, uhi = fmax(u0, u1) + EDGE_EPS;
    long i0 = clampl(ulo, g->nfx - 1), i1 = clampl(uhi, g->nfx - 1);

    for (long i = i0; i <= i1; i++) {
        double vlo, vhi;
        if (fabs(u1 - u0) < 1e-12) {
            vlo = fmin(v0, v1);
            vhi = fmax(v0, v1);
        } else {
            double ta = (fmax(ulo, (double)i) - u0) / (u1 - u0);
            double tb = (fmin(uhi, (double)(i + 1)) - u0) / (u1 - u0);
            ta = fmin(1, fmax(0, ta));
            tb = fmin(1, fmax(0, tb));
            vlo = fmin(v0 + ta * (v1 - v0), v0 + tb * (v1 - v0));
            vhi = fmax(v0 + ta * (v1 - v0), v0 + tb * (v1 - v0));
        }
        long j0 = clampl(vlo - EDGE_EPS, g->nfy - 1), j1 = clampl(vhi + EDGE_EPS, g->nfy - 1);
        for (long j = j0; j <= j1; j++)
            if (pairs_push(p, ((uint64_t)j * g->nfx + (uint64_t)i) << AREA_BITS | area))
                return -1;
    }
    return 0;
}

static int mark_ring(struct geo_ctx *gc, const struct grid *g, struct pairs *p, uint32_t area,
                     const GEOSGeometry *ring)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(gc->geos, ring);
    unsigned int n = 0;
    double px, py, x, y;

    if (!seq || !GEOSCoordSeq_getSize_r(gc->geos, seq, &n) || n < 2)
        return 0;
    GEOSCoordSeq_getXY_r(gc->geos, seq, 0, &px, &py);
    for (unsigned int k = 1; k < n; k++) {
        GEOSCoordSeq_getXY_r(gc->geos, seq, k, &x, &y);
        if (mark_segment(g, p, area, px, py, x, y))
            return -1;
        px = x;
        py = y;
    }
    return 0;
}

static int mark_area(struct geo_ctx *gc, const struct grid *g, struct pairs *p, uint32_t area,
                     const GEOSGeometry *geom)
{
    int np = GEOSGetNumGeometries_r(gc->geos, geom);

    for (int k = 0; k < np; k++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(gc->geos, geom, k);
        int nh = GEOSGetNumInteriorRings_r(gc->geos, poly);
        if (mark_ring(gc, g, p, area, GEOSGetExteriorRing_r(gc->geos, poly)))
            return -1;
        for (int h = 0; h < nh; h++)
            if (mark_ring(gc, g, p, area, GEOSGetInteriorRingN_r(gc->geos, poly, h)))
                return -1;
    }
    return 0;
}

/* The value a uniform cell centred at (x, y) holds: area index + 1, or 0 for none. */
static uint32_t center_value(const struct geo_index *ix, struct geo_ctx *gc, enum rp_level level,
                             double x, double y)
{
    const struct geo_area *a = geo_index_lookup_strtree(ix, gc, level, x, y);
    return a ? (uint32_t)(a - ix->lv[level].v) + 1 : 0;
}

static int cand_push(struct grid *g, uint32_t x)
{
    if (g->ncand == g->cand_cap) {
        size_t cap = g->cand_cap ? g->cand_cap * 2 : 4096;
        uint32_t *v = realloc(g->cand, cap * sizeof *v);
        if (!v)
            return -1;
        g->cand = v;
        g->cand_cap = cap;
    }
    g->cand[g->ncand++] = x;
    return 0;
}

#define SPLIT2 (GEO_GRID_SPLIT * GEO_GRID_SPLIT)

static uint32_t *fine_slot(struct grid *g, uint32_t fi, uint32_t fj)
{
    uint32_t c = g->coarse[(fj / GEO_GRID_SPLIT) * g->ncx + fi / GEO_GRID_SPLIT];
    return &g->blocks[(size_t)(c & ~HI) * SPLIT2 + (fj % GEO_GRID_SPLIT) * GEO_GRID_SPLIT +
                      fi % GEO_GRID_SPLIT];
}

/* Boundary cells: blocks for their coarse cells, and candidate lists. pairs is sorted. */
static int grid_boundaries(struct geo_index *ix, struct geo_ctx *gc, enum rp_level level,
                           struct grid *g, const struct pairs *p)
{
    const double fine = 1.0 / g->inv_fine;

    for (size_t k = 0; k < p->n; k++) {
        uint64_t cell = p->v[k] >> AREA_BITS;
        uint32_t ci = (uint32_t)(cell / g->nfx / GEO_GRID_SPLIT) * g->ncx +
                      (uint32_t)(cell % g->nfx) / GEO_GRID_SPLIT;
        if (g->coarse[ci] == 0)
            g->coarse[ci] = HI | (uint32_t)g->nblocks++;
    }
    g->blocks = malloc(g->nblocks * SPLIT2 * sizeof *g->blocks);
    if (g->nblocks && !g->blocks)
        return -1;
    memset(g->blocks, 0xff, g->nblocks * SPLIT2 * sizeof *g->blocks); /* UNSET */
    for (size_t k = 0; k < p->n;) {
        uint64_t cell = p->v[k] >> AREA_BITS;
        uint32_t fi = (uint32_t)(cell % g->nfx), fj = (uint32_t)(cell / g->nfx);
        uint32_t center = center_value(ix, gc, level, g->minx + (fi + 0.5) * fine,
                                       g->miny + (fj + 0.5) * fine);
        size_t at = g->ncand, count = 0;
        int center_done = center == 0;

        if (cand_push(g, 0))
            return -1;
        for (; k < p->n && p->v[k] >> AREA_BITS == cell; k++) {
            uint32_t a = (uint32_t)(p->v[k] & ((1u << AREA_BITS) - 1));
            if (count && g->cand[g->ncand - 1] == a)
                continue;
            if (!center_done && center - 1 <= a) { /* merge keeps the list ascending */
                if (center - 1 < a && (cand_push(g, center - 1) || (count++, 0)))
                    return -1;
                center_done = 1;
            }
            if (cand_push(g, a))
                return -1;
            count++;
        }
        if (!center_done) {
            if (cand_push(g, center - 1))
                return -1;
            count++;
        }
        g->cand[at] = (uint32_t)count;
        *fine_slot(g, fi, fj) = HI | (uint32_t)at;
        g->boundary_cells++;
    }
    return 0;
}

/* Uniform cells: one GEOS decision per run of neighbouring uniform cells in a row. */
static void grid_uniform(struct geo_index *ix, struct geo_ctx *gc, enum rp_level level,
                         struct grid *g)
{
    const double cell = GEO_GRID_CELL_DEG, fine = 1.0 / g->inv_fine;

    for (uint32_t cy = 0; cy < g->ncy; cy++) {
        uint32_t prev = 0;
        int have = 0;
        for (uint32_t cx = 0; cx < g->ncx; cx++) {
            uint32_t *c = &g->coarse[cy * g->ncx + cx];
            if (*c & HI) {
                have = 0;
                continue;
            }
            if (!have)
                prev = center_value(ix, gc, level, g->minx + (cx + 0.5) * cell,
                                    g->miny + (cy + 0.5) * cell);
            *c = prev;
            have = 1;
        }
    }
    for (uint32_t fj = 0; fj < g->nfy; fj++) {
        uint32_t prev = 0;
        int have = 0;
        for (uint32_t fi = 0; fi < g->nfx; fi++) {
            uint32_t c = g->coarse[(fj / GEO_GRID_SPLIT) * g->ncx + fi / GEO_GRID_SPLIT];
            if (!(c & HI)) {
                prev = c;
                have = 1;
                fi += GEO_GRID_SPLIT - 1 - fi % GEO_GRID_SPLIT;
                continue;
            }
            uint32_t *f = fine_slot(g, fi, fj);
            if (*f != UNSET) {
                have = 0;
                continue;
            }
            if (!have)
                prev = center_value(ix, gc, level, g->minx + (fi + 0.5) * fine,
                                    g->miny + (fj + 0.5) * fine);
            *f = prev;
            have = 1;
        }
    }
}

static int grid_build(struct geo_index *ix, struct geo_ctx *gc, enum rp_level level,
                      struct rp_err *err)
{
    struct level_set *ls = &ix->lv[level];
    struct grid *g = &ls->grid;
    struct pairs p = {0};
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    int rc = RP_OK;

    if (ls->n == 0)
        return RP_OK;
    for (size_t i = 0; i < ls->n; i++) {
        double x0, y0, x1, y1;
        GEOSGeom_getXMin_r(gc->geos, ls->v[i].geom, &x0);
        GEOSGeom_getYMin_r(gc->geos, ls->v[i].geom, &y0);
        GEOSGeom_getXMax_r(gc->geos, ls->v[i].geom, &x1);
        GEOSGeom_getYMax_r(gc->geos, ls->v[i].geom, &y1);
        minx = fmin(minx, x0), miny = fmin(miny, y0), maxx = fmax(maxx, x1), maxy = fmax(maxy, y1);
    }
    if (!(maxx - minx < 360 && maxy - miny < 180))
        return rp_err_set(err, RP_INVALID_DATA, "level %s spans more than the globe",
                          rp_level_name(level));
    g->minx = floor(minx / GEO_GRID_CELL_DEG) * GEO_GRID_CELL_DEG - GEO_GRID_CELL_DEG;
    g->miny = floor(miny / GEO_GRID_CELL_DEG) * GEO_GRID_CELL_DEG - GEO_GRID_CELL_DEG;
    g->ncx = (uint32_t)ceil((maxx - g->minx) / GEO_GRID_CELL_DEG) + 1;
    g->ncy = (uint32_t)ceil((maxy - g->miny) / GEO_GRID_CELL_DEG) + 1;
    g->nfx = g->ncx * GEO_GRID_SPLIT;
    g->nfy = g->ncy * GEO_GRID_SPLIT;
    g->inv_fine = GEO_GRID_SPLIT / GEO_GRID_CELL_DEG;
    g->coarse = calloc((size_t)g->ncx * g->ncy, sizeof *g->coarse);
    if (!g->coarse)
        return rp_err_set(err, RP_NO_MEMORY, "grid of %u x %u cells", g->ncx, g->ncy);
    for (size_t i = 0; i < ls->n; i++)
        if (mark_area(gc, g, &p, (uint32_t)i, ls->v[i].geom)) {
            rc = rp_err_set(err, RP_NO_MEMORY, "grid boundary cells");
            goto out;
        }
    if (p.n > 1)
        qsort(p.v, p.n, sizeof *p.v, u64_cmp);
    if (grid_boundaries(ix, gc, level, g, &p)) {
        rc = rp_err_set(err, RP_NO_MEMORY, "grid blocks");
        goto out;
    }
    grid_uniform(ix, gc, level, g);
out:
    free(p.v);
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
        GEOSCoordSequence *near;
        a->prep = GEOSPrepare_r(gc->geos, a->geom);
        if (!a->prep) {
            GEOSGeom_destroy_r(gc->geos, probe);
            return rp_err_set(err, RP_INTERNAL, "cannot prepare area %s", a->code);
        }
        GEOSSTRtree_insert_r(gc->geos, ls->tree, a->geom, a);
        /* Warm the lazily built point locator and facet-distance index now, while one
         * thread owns the index: after freeze, concurrent readers must find them built. */
        (void)GEOSPreparedIntersects_r(gc->geos, a->prep, probe); /* result irrelevant */
        near = GEOSPreparedNearestPoints_r(gc->geos, a->prep, probe);
        if (near)
            GEOSCoordSeq_destroy_r(gc->geos, near);
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
    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++)
        rc = grid_build(ix, gc, (enum rp_level)l, err);
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
    const struct level_set *ls = &ix->lv[level];
    const struct grid *g = &ls->grid;
    double u = (lon - g->minx) * g->inv_fine, v = (lat - g->miny) * g->inv_fine;
    const struct geo_area *hit = NULL;
    const uint32_t *cand;
    GEOSGeometry *pt;
    uint32_t c, fi, fj;

    if (!(u >= 0 && v >= 0 && u < g->nfx && v < g->nfy)) /* also false for NaN */
        return NULL;
    fi = (uint32_t)u;
    fj = (uint32_t)v;
    c = g->coarse[(fj / GEO_GRID_SPLIT) * g->ncx + fi / GEO_GRID_SPLIT];
    if (c & HI)
        c = g->blocks[(size_t)(c & ~HI) * SPLIT2 + (fj % GEO_GRID_SPLIT) * GEO_GRID_SPLIT +
                      fi % GEO_GRID_SPLIT];
    if (!(c & HI))
        return c ? &ls->v[c - 1] : NULL;
    cand = &g->cand[c & ~HI];
    pt = GEOSGeom_createPointFromXY_r(gc->geos, lon, lat);
    if (!pt)
        return NULL;
    for (uint32_t k = 1; k <= cand[0] && !hit; k++)
        if (GEOSPreparedIntersects_r(gc->geos, ls->v[cand[k]].prep, pt) == 1)
            hit = &ls->v[cand[k]];
    GEOSGeom_destroy_r(gc->geos, pt);
    return hit;
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
        GEOSSTRtree_query_r(gc->geos, (GEOSSTRtree *)ls->tree, box, nearest_cb, &n);
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

void geo_index_stats(const struct geo_index *ix, enum rp_level level, struct geo_index_stats *st)
{
    const struct grid *g = &ix->lv[level].grid;

    st->coarse_cells = (size_t)g->ncx * g->ncy;
    st->blocks = g->nblocks;
    st->boundary_cells = g->boundary_cells;
    st->candidates = g->ncand;
    st->bytes = (st->coarse_cells + g->nblocks * SPLIT2 + g->ncand) * sizeof(uint32_t);
}
