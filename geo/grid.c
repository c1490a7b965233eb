/*
 * geo/grid.c - the lookup grid (see grid.h).
 *
 * Building. Every ring edge marks the fine cells it touches, with a small margin so an edge on
 * a cell line marks both sides: records (cell, level, area; edge), radix-sorted by cell. Then
 * one sweep along each row of fine cells, left to right, keeps per level the set FC of areas
 * covering the current cell whole, and for each area with edges in the cell whether it covers
 * the cell's centre. Both follow from the left neighbour W without any spatial search:
 * - an area covering W whole covers their shared side, so it covers X whole unless one of its
 *   edges touches X; an area whose edges touch W but not X covers X whole or misses it;
 * - whether an area covers X's centre is whether it covers W's centre, flipped once per edge
 *   of it crossed by the horizontal segment between the two centres; every such edge touches
 *   W or X, so the records of the two cells hold them all.
 * The first column, left of every area, starts with nothing. Only when that crossing test
 * cannot certify its answer (a vertex on the segment, a nearly collinear edge) does the sweep
 * ask the caller (covers()).
 *
 * A cell without edges holds, per level, the smallest code of FC: a "tuple" of three answers,
 * shared by every cell with the same three. A cell with edges of a level lists those areas
 * whose code is below the smallest of FC, then that one (it covers the whole cell: no test).
 * When every edge of the level in the cell has a twin (the same edge reversed, a neighbour's),
 * the listed areas cover the cell together, so the last needs no test either. The smallest
 * code covering a point of the cell is always in the list, which is the rule the STRtree
 * reference and the SQL path follow too.
 *
 * Layout: coarse[] holds a tuple id, or HI | block. A block is GEO_GRID_SPLIT^2 16-bit cells:
 * a tuple id below 0x8000, 0x8000 | offset of the cell's lists from the block's base in
 * cand[], or 0xFFFF (unknown). A cell's lists are one segment per level: a word
 * RESOLVED | (area + 1, 0 for none); or a word n | LAST_COVERS? followed by n candidates, each
 * a word (area | covers-centre | unknown | number of runs) and its runs of consecutive ring
 * edges inside the cell (a word each: first vertex << 8 | count). 16-bit cells and 2 MB pages keep
 * the part that random lookups touch small enough for the L3 cache and the TLB (measured: 3-level
 * locate on random points 4.3 M/s with 4 KB pages, 8.0 M/s with huge pages).
 */
#include "geo/grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HI              0x80000000u /* coarse: a block number follows */
#define RESOLVED        0x80000000u /* list segment: the answer itself follows */
#define LAST_COVERS     0x40000000u /* list segment: the last candidate needs no test */
#define COUNT_MASK      0x3FFFFFFFu
#define CAND_COVERS     (1u << 20) /* candidate: covers the cell's centre */
#define CAND_UNKNOWN    (1u << 21) /* candidate: no certified test here */
#define CAND_RUNS_SHIFT 22
#define CAND_RUNS_MAX   1023u
#define RUN_SHIFT       8 /* a run: first edge << 8 | edges (1..255) */
#define RUN_EDGES_MAX   255u
#define SPLIT2          (GEO_GRID_SPLIT * GEO_GRID_SPLIT)
#define EDGE_EPS        1e-6 /* in fine cells (~0.07 mm): margin for edges on cell lines */
#define TAG_BITS        22   /* level (2 bits) and area (20) below the cell in a record key */
#define OPEN            0x80000000u /* record aux: the edge has no twin */
#define CELL_LIST       0x8000u
#define CELL_UNKNOWN    0xFFFFu
#define CELL_OFFSET_MAX 0x7FFEu
#define TMP_LIST        0x80000000u /* row buffer: the cell's lists are at rowlists[low bits] */
#define NONE            UINT32_MAX
#define HUGE_PAGE       (2u << 20)
/* Shewchuk's ccwerrboundA, (3 + 16 eps) eps with eps = 2^-53: an orientation determinant
 * computed in doubles whose magnitude exceeds this times its two products has the exact sign. */
#define ORIENT_EPS 3.3306690738754716e-16

struct u32v {
    uint32_t *v;
    size_t n, cap;
};

struct ring {
    uint32_t start, n, area;
    int level;
};

struct rec {
    uint64_t key; /* cell << TAG_BITS | level << 20 | area */
    uint32_t aux; /* edge: its first vertex in xy; OPEN when it has no twin */
};

struct geo_grid {
    double minx, miny, inv_fine; /* fine cells per degree */
    uint32_t ncx, ncy, nfx, nfy; /* coarse and fine cells per row / column */
    uint32_t *coarse;
    uint16_t *cells; /* SPLIT2 per block */
    size_t cells_bytes;
    uint32_t *base; /* per block: where its lists start in cand */
    size_t nblocks;
    struct u32v cand;
    struct u32v tuples;    /* RP_LEVEL_COUNT words per tuple: area + 1 per level, 0 none */
    uint32_t *tuple_slots; /* building: open addressing of tuple id + 1, 0 empty */
    size_t tuple_mask;
    double *xy; /* every ring's vertices, lon/lat pairs */
    size_t nv, cap_v;
    struct ring *rings; /* building only, with recs */
    size_t nrings, cap_rings;
    struct rec *recs;
    size_t nrecs, cap_recs;
    size_t edge_cells, unknown_cells, covers_calls;
    int frozen;
};

static int push(struct u32v *a, uint32_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024;
        uint32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

/* Memory the lookups hit at random: on 2 MB pages where the kernel allows (madvise mode). */
static void *alloc_huge(size_t bytes, size_t *rounded)
{
    void *p;

    if (bytes < HUGE_PAGE) { /* not worth a page of its own */
        *rounded = bytes ? bytes : 1;
        return malloc(*rounded);
    }
    *rounded = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    p = aligned_alloc(HUGE_PAGE, *rounded);
    if (p)
        (void)madvise(p, *rounded, MADV_HUGEPAGE); /* advice only: 4 KB pages still work */
    return p;
}

int geo_grid_create(const double bbox[4], struct geo_grid **out, struct rp_err *err)
{
    const double cell = GEO_GRID_CELL_DEG;
    struct geo_grid *g;
    double minx, miny, ncx, ncy;
    size_t bytes;

    *out = NULL;
    if (!(isfinite(bbox[0]) && isfinite(bbox[1]) && isfinite(bbox[2]) && isfinite(bbox[3]) &&
          bbox[0] <= bbox[2] && bbox[1] <= bbox[3]))
        return rp_err_set(err, RP_INVALID_DATA, "areas have no valid bounding box");
    /* one empty coarse cell of margin on every side: the sweep starts outside every area */
    minx = floor(bbox[0] / cell) * cell - cell;
    miny = floor(bbox[1] / cell) * cell - cell;
    ncx = ceil((bbox[2] - minx) / cell) + 1;
    ncy = ceil((bbox[3] - miny) / cell) + 1;
    if (ncx * ncy > GEO_GRID_COARSE_MAX)
        return rp_err_set(err, RP_INVALID_DATA,
                          "areas span %.1f x %.1f degrees; the lookup grid covers at most %u "
                          "cells of %.2f degrees",
                          bbox[2] - bbox[0], bbox[3] - bbox[1], GEO_GRID_COARSE_MAX, cell);
    g = calloc(1, sizeof *g);
    if (!g)
        return rp_err_set(err, RP_NO_MEMORY, "grid");
    g->minx = minx;
    g->miny = miny;
    g->ncx = (uint32_t)ncx;
    g->ncy = (uint32_t)ncy;
    g->nfx = g->ncx * GEO_GRID_SPLIT;
    g->nfy = g->ncy * GEO_GRID_SPLIT;
    g->inv_fine = GEO_GRID_SPLIT / cell;
    g->coarse = alloc_huge((size_t)g->ncx * g->ncy * sizeof *g->coarse, &bytes);
    if (!g->coarse) {
        free(g);
        return rp_err_set(err, RP_NO_MEMORY, "grid of %u x %u cells", (unsigned)ncx, (unsigned)ncy);
    }
    memset(g->coarse, 0, bytes);
    *out = g;
    return RP_OK;
}

void geo_grid_destroy(struct geo_grid *g)
{
    if (!g)
        return;
    free(g->coarse);
    free(g->cells);
    free(g->base);
    free(g->cand.v);
    free(g->tuples.v);
    free(g->tuple_slots);
    free(g->xy);
    free(g->rings);
    free(g->recs);
    free(g);
}

int geo_grid_ring(struct geo_grid *g, enum rp_level level, uint32_t area, const double *xy,
                  size_t n, struct rp_err *err)
{
    if (g->frozen || (unsigned)level >= RP_LEVEL_COUNT || area > GEO_GRID_AREAS_MAX)
        return rp_err_set(err, RP_INTERNAL, "grid ring after finish, or bad level or area");
    if (n < 2)
        return RP_OK;
    for (size_t i = 0; i < 2 * n; i++)
        if (!isfinite(xy[i]))
            return rp_err_set(err, RP_INVALID_DATA, "a ring vertex is not a number");
    if (g->nv + n >= GEO_GRID_VERTICES_MAX)
        return rp_err_set(err, RP_INVALID_DATA, "more than %u vertices for the grid",
                          GEO_GRID_VERTICES_MAX);
    if (g->nv + n > g->cap_v) {
        size_t cap = g->cap_v ? g->cap_v : 65536;
        double *v;
        while (cap < g->nv + n)
            cap *= 2;
        v = realloc(g->xy, cap * 2 * sizeof *v);
        if (!v)
            return rp_err_set(err, RP_NO_MEMORY, "grid vertices");
        g->xy = v;
        g->cap_v = cap;
    }
    if (g->nrings == g->cap_rings) {
        size_t cap = g->cap_rings ? g->cap_rings * 2 : 1024;
        struct ring *v = realloc(g->rings, cap * sizeof *v);
        if (!v)
            return rp_err_set(err, RP_NO_MEMORY, "grid rings");
        g->rings = v;
        g->cap_rings = cap;
    }
    memcpy(g->xy + 2 * g->nv, xy, 2 * n * sizeof *xy);
    g->rings[g->nrings++] = (struct ring){(uint32_t)g->nv, (uint32_t)n, area, (int)level};
    g->nv += n;
    return RP_OK;
}

/* ---- the local test ---- */

/* Sign of the orientation of c relative to a->b (1 left, -1 right), or 0 when it is zero or
 * too close to zero for doubles to certify. */
static int orient(double ax, double ay, double bx, double by, double cx, double cy)
{
    double l = (ax - cx) * (by - cy), r = (ay - cy) * (bx - cx), det = l - r;
    double bound = ORIENT_EPS * (fabs(l) + fabs(r));

    if (det > bound)
        return 1;
    if (-det > bound)
        return -1;
    return 0;
}

/* Does edge k (vertices k, k+1) cross the horizontal segment (xa, y)-(xb, y), xa < xb?
 * 1 or 0; -1 when it cannot be certified (a vertex on the segment, a line through an end). */
static int cross_h(const double *xy, uint32_t k, double xa, double xb, double y)
{
    const double *q = xy + 2 * (size_t)k;
    double x0 = q[0], y0 = q[1], x1 = q[2], y1 = q[3];
    int sa, sb;

    if ((y0 == y && x0 >= xa && x0 <= xb) || (y1 == y && x1 >= xa && x1 <= xb) ||
        (y0 == y && y1 == y && fmin(x0, x1) <= xb && fmax(x0, x1) >= xa))
        return -1;
    if ((y0 > y) == (y1 > y))
        return 0;
    if (y0 > y) { /* upward: a point left of it is left of where it crosses the line */
        double t = x0;
        x0 = x1, x1 = t, t = y0, y0 = y1, y1 = t;
    }
    sa = orient(x0, y0, x1, y1, xa, y);
    sb = orient(x0, y0, x1, y1, xb, y);
    if (sa == 0 || sb == 0)
        return -1;
    return sa != sb;
}

/* Does edge k cross the segment c-p? 1 or 0; -1 when it cannot be certified (p or c on the
 * edge's line, an end of the edge on the segment's line). */
static int cross(const double *xy, uint32_t k, double cx, double cy, double px, double py)
{
    const double *q = xy + 2 * (size_t)k;
    int d3 = orient(q[0], q[1], q[2], q[3], cx, cy), d4 = orient(q[0], q[1], q[2], q[3], px, py);
    int d1, d2;

    if (d3 == 0 || d4 == 0)
        return -1;
    if (d3 == d4)
        return 0;
    d1 = orient(cx, cy, px, py, q[0], q[1]);
    d2 = orient(cx, cy, px, py, q[2], q[3]);
    if (d1 == 0 || d2 == 0)
        return -1;
    return d1 != d2;
}

/* ---- records ---- */

static int rec_push(struct geo_grid *g, uint64_t key, uint32_t aux)
{
    if (g->nrecs == g->cap_recs) {
        size_t cap = g->cap_recs ? g->cap_recs * 2 : 65536;
        struct rec *v = realloc(g->recs, cap * sizeof *v);
        if (!v)
            return -1;
        g->recs = v;
        g->cap_recs = cap;
    }
    g->recs[g->nrecs++] = (struct rec){key, aux};
    return 0;
}

static long clampl(double x, long hi)
{
    long i = (long)floor(x);
    return i < 0 ? 0 : (i > hi ? hi : i);
}

/* Records every fine cell edge k touches, widened by the margin. */
static int mark_edge(struct geo_grid *g, uint64_t tag, uint32_t k, uint32_t aux)
{
    const double *q = g->xy + 2 * (size_t)k;
    double u0 = (q[0] - g->minx) * g->inv_fine, v0 = (q[1] - g->miny) * g->inv_fine;
    double u1 = (q[2] - g->minx) * g->inv_fine, v1 = (q[3] - g->miny) * g->inv_fine;
    double ulo = fmin(u0, u1) - EDGE_EPS, uhi = fmax(u0, u1) + EDGE_EPS;
    long i0 = clampl(ulo, g->nfx - 1), i1 = clampl(uhi, g->nfx - 1);

    for (long i = i0; i <= i1; i++) {
        double vlo, vhi;
        long j0, j1;
        if (fabs(u1 - u0) < 1e-12) {
            vlo = fmin(v0, v1);
            vhi = fmax(v0, v1);
        } else { /* the part of the edge over column i, widened by the margin */
            double ta = (fmax(ulo, (double)i) - u0) / (u1 - u0);
            double tb = (fmin(uhi, (double)(i + 1)) - u0) / (u1 - u0);
            ta = fmin(1, fmax(0, ta));
            tb = fmin(1, fmax(0, tb));
            vlo = fmin(v0 + ta * (v1 - v0), v0 + tb * (v1 - v0));
            vhi = fmax(v0 + ta * (v1 - v0), v0 + tb * (v1 - v0));
        }
        j0 = clampl(vlo - EDGE_EPS, g->nfy - 1);
        j1 = clampl(vhi + EDGE_EPS, g->nfy - 1);
        for (long j = j0; j <= j1; j++)
            if (rec_push(g, ((uint64_t)j * g->nfx + (uint64_t)i) << TAG_BITS | tag, aux))
                return -1;
    }
    return 0;
}

static uint64_t edge_hash(const double *a, const double *b)
{
    double c[4] = {a[0], a[1], b[0], b[1]};
    uint64_t h = 1469598103934665603ull, w;

    for (int i = 0; i < 4; i++) {
        memcpy(&w, &c[i], sizeof w); /* exact coordinates: twins share identical vertices */
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 32;
    }
    return h;
}

/* Marks open[k] for every edge k of level l whose reverse the level does not have. Neighbours
 * in a partition share their border vertex for vertex, so their common edges are twins; an
 * open edge is where the level's areas together may end (a coast, a lake, a gap). */
static int mark_open(struct geo_grid *g, int l, uint8_t *open)
{
    size_t edges = 0, size = 1024, mask;
    uint32_t *slots;

    for (size_t r = 0; r < g->nrings; r++)
        if (g->rings[r].level == l)
            edges += g->rings[r].n - 1;
    while (size < edges * 2)
        size *= 2;
    mask = size - 1;
    slots = calloc(size, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t r = 0; r < g->nrings; r++) {
        const struct ring *rg = &g->rings[r];
        for (uint32_t k = rg->start; rg->level == l && k + 1 < rg->start + rg->n; k++) {
            size_t h = edge_hash(g->xy + 2 * (size_t)k, g->xy + 2 * (size_t)k + 2) & mask;
            while (slots[h])
                h = (h + 1) & mask;
            slots[h] = k + 1;
            open[k] = 1;
        }
    }
    for (size_t r = 0; r < g->nrings; r++) {
        const struct ring *rg = &g->rings[r];
        for (uint32_t k = rg->start; rg->level == l && k + 1 < rg->start + rg->n; k++) {
            const double *a = g->xy + 2 * (size_t)k, *b = a + 2;
            if (a[0] == b[0] && a[1] == b[1])
                continue; /* a repeated vertex bounds nothing: stays open */
            for (size_t h = edge_hash(b, a) & mask; slots[h] && open[k]; h = (h + 1) & mask) {
                const double *o = g->xy + 2 * (size_t)(slots[h] - 1);
                if (o[0] == b[0] && o[1] == b[1] && o[2] == a[0] && o[3] == a[1])
                    open[k] = 0;
            }
        }
    }
    free(slots);
    return 0;
}

/* Stable LSD radix sort by key, 16 bits per pass, as many passes as the largest key needs:
 * records of one (cell, level, area) keep the order they were made in, edges ascending. */
static int radix_sort(struct rec *v, size_t n)
{
    struct rec *tmp, *src = v, *dst;
    uint64_t max = 0;
    size_t *count;

    for (size_t i = 0; i < n; i++)
        max = v[i].key > max ? v[i].key : max;
    tmp = malloc(n * sizeof *tmp);
    count = malloc(65536 * sizeof *count);
    if (!tmp || !count) {
        free(tmp);
        free(count);
        return -1;
    }
    dst = tmp;
    for (int shift = 0; shift < 64 && (max >> shift); shift += 16) {
        size_t sum = 0;
        struct rec *t;
        memset(count, 0, 65536 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(src[i].key >> shift) & 0xFFFF]++;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].key >> shift) & 0xFFFF]++] = src[i];
        t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
    free(tmp);
    free(count);
    return 0;
}

/* ---- tuples ---- */

static size_t tuple_hash(const uint32_t t[RP_LEVEL_COUNT])
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the three words */
    for (int l = 0; l < RP_LEVEL_COUNT; l++)
        h = (h ^ t[l]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static int tuple_grow(struct geo_grid *g)
{
    size_t size = g->tuple_mask ? (g->tuple_mask + 1) * 2 : 1024;
    uint32_t *slots = calloc(size, sizeof *slots);

    if (!slots)
        return -1;
    for (size_t id = 0; id < g->tuples.n / RP_LEVEL_COUNT; id++) {
        size_t k = tuple_hash(&g->tuples.v[id * RP_LEVEL_COUNT]) & (size - 1);
        while (slots[k])
            k = (k + 1) & (size - 1);
        slots[k] = (uint32_t)id + 1;
    }
    free(g->tuple_slots);
    g->tuple_slots = slots;
    g->tuple_mask = size - 1;
    return 0;
}

/* The id of the tuple t (area + 1 per level), added when new; -1 on out of memory. */
static long tuple_id(struct geo_grid *g, const uint32_t t[RP_LEVEL_COUNT])
{
    size_t n = g->tuples.n / RP_LEVEL_COUNT, k;

    if ((n + 1) * 2 > g->tuple_mask + 1 && tuple_grow(g))
        return -1;
    for (k = tuple_hash(t) & g->tuple_mask; g->tuple_slots[k]; k = (k + 1) & g->tuple_mask) {
        const uint32_t *o = &g->tuples.v[(size_t)(g->tuple_slots[k] - 1) * RP_LEVEL_COUNT];
        if (memcmp(o, t, RP_LEVEL_COUNT * sizeof *t) == 0)
            return (long)g->tuple_slots[k] - 1;
    }
    if (n >= HI - 1)
        return -1;
    for (int l = 0; l < RP_LEVEL_COUNT; l++)
        if (push(&g->tuples, t[l]))
            return -1;
    g->tuple_slots[k] = (uint32_t)n + 1;
    return (long)n;
}

/* ---- the sweep ---- */

/* The records of one area in one cell and level: its edges there, ascending. */
struct group {
    const struct rec *r;
    size_t n;
    uint32_t area;
    unsigned st; /* CAND_COVERS and CAND_UNKNOWN for the cell's centre */
};

#define GROUPS_MAX 64 /* areas of one level with edges in one cell; more: unknown cell */

struct level_state {
    struct u32v fc; /* areas covering the current cell whole, ascending */
    struct group prev[GROUPS_MAX], cur[GROUPS_MAX];
    size_t nprev, ncur;
    int open; /* the current cell has an open edge of the level */
};

struct sweep {
    struct geo_grid *g;
    geo_grid_covers_fn covers;
    void *ctx;
    struct level_state ls[RP_LEVEL_COUNT];
    uint32_t *row;        /* the blocks of one coarse row: tuple id, or TMP_LIST | offset */
    struct u32v rowlists; /* the lists of that row's edge cells */
    int overflow;         /* the current cell has more groups than GROUPS_MAX */
    double overflow_x, overflow_y;
};

static uint32_t area_of(uint64_t key) { return (uint32_t)(key & GEO_GRID_AREAS_MAX); }

static int level_of(uint64_t key) { return (int)((key >> 20) & 3); }

static int fc_has(const struct u32v *fc, uint32_t a)
{
    for (size_t i = 0; i < fc->n; i++) /* ascending and short */
        if (fc->v[i] >= a)
            return fc->v[i] == a;
    return 0;
}

static int fc_add(struct u32v *fc, uint32_t a)
{
    size_t k;

    if (push(fc, a))
        return -1;
    for (k = fc->n - 1; k > 0 && fc->v[k - 1] > a; k--)
        fc->v[k] = fc->v[k - 1];
    fc->v[k] = a;
    return 0;
}

/* Parity of the edges of a and b (the same area's records in two cells; either may be NULL)
 * crossing the horizontal segment from xa to xb at y, each edge counted once: 0 or 1, -1 when
 * uncertain. */
static int parity_h(const struct geo_grid *g, const struct group *a, const struct group *b,
                    double xa, double xb, double y)
{
    size_t i = 0, j = 0, na = a ? a->n : 0, nb = b ? b->n : 0;
    int odd = 0;

    while (i < na || j < nb) {
        uint32_t ka = i < na ? a->r[i].aux & ~OPEN : NONE, kb = j < nb ? b->r[j].aux & ~OPEN : NONE;
        uint32_t k = ka < kb ? ka : kb;
        int c;
        i += ka == k;
        j += kb == k;
        c = cross_h(g->xy, k, xa, xb, y);
        if (c < 0)
            return -1;
        odd ^= c;
    }
    return odd;
}

/* Whether the point is certainly off every edge of the group: then a status found there by
 * covers() can start the crossing test. */
static int off_edges(const struct geo_grid *g, const struct group *c, double x, double y)
{
    for (size_t i = 0; i < c->n; i++) {
        const double *q = g->xy + 2 * (size_t)(c->r[i].aux & ~OPEN);
        if (orient(q[0], q[1], q[2], q[3], x, y) == 0)
            return 0;
    }
    return 1;
}

/* Status (CAND_COVERS, CAND_UNKNOWN) of area a at (x, y) by covers(); unknown when the point
 * may be on one of the area's edges of the group here. */
static int ask(struct sweep *s, int l, uint32_t a, const struct group *here, double x, double y,
               unsigned *st)
{
    int c;

    s->g->covers_calls++;
    c = s->covers(s->ctx, (enum rp_level)l, a, x, y);
    if (c < 0)
        return -1;
    *st = (c ? CAND_COVERS : 0) | (here && !off_edges(s->g, here, x, y) ? CAND_UNKNOWN : 0);
    return 0;
}

/* Splits the records e[0..n-1] (one cell and level) into the level's current groups. */
static void groups_of(struct sweep *s, struct level_state *ls, const struct rec *e, size_t n)
{
    ls->ncur = 0;
    ls->open = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && e[j].key == e[i].key) {
            ls->open |= (e[j].aux & OPEN) != 0;
            j++;
        }
        if (ls->ncur == GROUPS_MAX) {
            s->overflow = 1;
            return;
        }
        ls->cur[ls->ncur++] = (struct group){e + i, j - i, area_of(e[i].key), 0};
        i = j;
    }
}

static const struct group *group_find(const struct group *v, size_t n, uint32_t a)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].area == a)
            return &v[i];
    return NULL;
}

/* Moves level l from the previous cell (centre xw) to the current one (centre x; its groups
 * in ls->cur): FC and the statuses of the current groups (see the file comment). */
static int advance(struct sweep *s, int l, double xw, double x, double y)
{
    struct level_state *ls = &s->ls[l];
    struct u32v *fc = &ls->fc;
    size_t w = 0;

    for (size_t i = 0; i < ls->ncur; i++) { /* the centre of the current cell, per edge area */
        struct group *c = &ls->cur[i];
        const struct group *p = group_find(ls->prev, ls->nprev, c->area);
        int odd = -1;
        if (p && !(p->st & CAND_UNKNOWN))
            odd = parity_h(s->g, p, c, xw, x, y);
        else if (!p)
            odd = parity_h(s->g, NULL, c, xw, x, y);
        if (odd >= 0) {
            unsigned before = p ? p->st & CAND_COVERS : (fc_has(fc, c->area) ? CAND_COVERS : 0);
            c->st = before ^ (odd ? CAND_COVERS : 0);
        } else if (ask(s, l, c->area, c, x, y, &c->st)) {
            return -1;
        }
    }
    for (size_t i = 0; i < fc->n; i++) /* FC loses the areas with edges here */
        if (!group_find(ls->cur, ls->ncur, fc->v[i]))
            fc->v[w++] = fc->v[i];
    fc->n = w;
    for (size_t i = 0; i < ls->nprev; i++) { /* and gains leaving edge areas that cover it */
        const struct group *p = &ls->prev[i];
        unsigned st = 0;
        int odd = -1;
        if (group_find(ls->cur, ls->ncur, p->area))
            continue;
        if (!(p->st & CAND_UNKNOWN))
            odd = parity_h(s->g, p, NULL, xw, x, y);
        if (odd >= 0)
            st = (p->st & CAND_COVERS) ^ (odd ? CAND_COVERS : 0);
        else if (ask(s, l, p->area, NULL, x, y, &st))
            return -1;
        if ((st & CAND_COVERS) && fc_add(fc, p->area))
            return -1;
    }
    memcpy(ls->prev, ls->cur, ls->ncur * sizeof *ls->cur);
    ls->nprev = ls->ncur;
    return 0;
}

static uint32_t fc_min(const struct level_state *ls) { return ls->fc.n ? ls->fc.v[0] : NONE; }

/* A candidate with its runs of consecutive edges. */
static int push_candidate(struct u32v *out, const struct group *c)
{
    size_t at = out->n;
    uint32_t runs = 0;
    int fail = push(out, 0);

    for (size_t i = 0; i < c->n && !fail;) {
        uint32_t k = c->r[i].aux & ~OPEN, n = 1;
        while (n < RUN_EDGES_MAX && i + n < c->n && (c->r[i + n].aux & ~OPEN) == k + n)
            n++;
        fail |= push(out, k << RUN_SHIFT | n);
        runs++;
        i += n;
    }
    if (fail)
        return -1;
    if (runs > CAND_RUNS_MAX || (c->st & CAND_UNKNOWN)) {
        out->n = at + 1;
        out->v[at] = c->area | CAND_UNKNOWN;
    } else {
        out->v[at] = c->area | (c->st & CAND_COVERS) | runs << CAND_RUNS_SHIFT;
    }
    return 0;
}

/* The lists of an edge cell, appended to rowlists; its TMP_LIST value, or NONE on failure. */
static uint32_t cell_lists(struct sweep *s)
{
    size_t at = s->rowlists.n;
    int fail = 0;

    if (at >= TMP_LIST)
        return NONE;
    for (int l = 0; l < RP_LEVEL_COUNT; l++) {
        const struct level_state *ls = &s->ls[l];
        uint32_t m = fc_min(ls), below = 0;
        for (size_t i = 0; i < ls->ncur; i++)
            below += ls->cur[i].area < m;
        if (below == 1 && m == NONE && !ls->open) /* all twins: it covers the cell alone */
            m = ls->cur[0].area, below = 0;
        if (below == 0) { /* no edge area beats the one covering the whole cell */
            fail |= push(&s->rowlists, RESOLVED | (m == NONE ? 0 : m + 1));
            continue;
        }
        if (m == NONE) { /* the edge areas alone: together they cover the cell when none of
                            its edges is open, and then the last needs no test */
            fail |= push(&s->rowlists, below | (ls->open ? 0 : LAST_COVERS));
            for (uint32_t i = 0; i < below && !fail; i++) {
                if (i + 1 == below && !ls->open)
                    fail |= push(&s->rowlists, ls->cur[i].area);
                else
                    fail |= push_candidate(&s->rowlists, &ls->cur[i]);
            }
            continue;
        }
        fail |= push(&s->rowlists, (below + 1) | LAST_COVERS);
        for (uint32_t i = 0; i < below && !fail; i++)
            fail |= push_candidate(&s->rowlists, &ls->cur[i]);
        fail |= push(&s->rowlists, m);
    }
    return fail ? NONE : TMP_LIST | (uint32_t)at;
}

/* Cells [a, b) of fine row fj hold tuple t. */
static void fill(struct sweep *s, uint32_t fj, uint32_t a, uint32_t b, uint32_t t)
{
    struct geo_grid *g = s->g;
    uint32_t r = fj % GEO_GRID_SPLIT, cy = fj / GEO_GRID_SPLIT;

    while (a < b) {
        uint32_t cx = a / GEO_GRID_SPLIT, end = (cx + 1) * GEO_GRID_SPLIT;
        uint32_t *c = &g->coarse[(size_t)cy * g->ncx + cx];
        if (end > b)
            end = b;
        if (*c & HI) {
            for (; a < end; a++)
                s->row[(size_t)cx * SPLIT2 + r * GEO_GRID_SPLIT + a % GEO_GRID_SPLIT] = t;
        } else {
            if (r == 0) /* a coarse cell without edges: every row of it holds the same tuple */
                *c = t;
            a = end;
        }
    }
}

static double centre_x(const struct geo_grid *g, uint32_t fi)
{
    return g->minx + (fi + 0.5) / g->inv_fine; /* geo_grid_find computes it the same way */
}

static int sweep_row(struct sweep *s, uint32_t fj, const struct rec *p, const struct rec *end)
{
    struct geo_grid *g = s->g;
    const double y = g->miny + (fj + 0.5) / g->inv_fine;
    uint32_t fi = 0, r = fj % GEO_GRID_SPLIT;

    for (int l = 0; l < RP_LEVEL_COUNT; l++) {
        s->ls[l].fc.n = 0;
        s->ls[l].nprev = s->ls[l].ncur = 0;
    }
    while (fi < g->nfx) {
        uint32_t ev = p < end ? (uint32_t)((p->key >> TAG_BITS) % g->nfx) : g->nfx, v;
        double x = centre_x(g, fi), xw = centre_x(g, fi - 1); /* fi >= 1 whenever xw is used */
        const struct rec *q = p;

        if (fi < ev) { /* a run of cells without edges: one tuple */
            uint32_t t[RP_LEVEL_COUNT];
            long id;
            for (int l = 0; l < RP_LEVEL_COUNT; l++) {
                s->ls[l].ncur = 0;
                if (s->ls[l].nprev && advance(s, l, xw, x, y))
                    return -1;
                s->ls[l].nprev = 0;
                t[l] = fc_min(&s->ls[l]) == NONE ? 0 : fc_min(&s->ls[l]) + 1;
            }
            id = tuple_id(g, t);
            if (id < 0)
                return -1;
            fill(s, fj, fi, ev, (uint32_t)id);
            fi = ev;
            continue;
        }
        s->overflow = 0;
        for (int l = 0; l < RP_LEVEL_COUNT; l++) { /* records: by level, then area, then edge */
            const struct rec *e = q;
            while (q < end && q->key >> TAG_BITS == p->key >> TAG_BITS && level_of(q->key) == l)
                q++;
            groups_of(s, &s->ls[l], e, (size_t)(q - e));
        }
        if (s->overflow) {
            s->overflow_x = x;
            s->overflow_y = y;
            return -2;
        }
        for (int l = 0; l < RP_LEVEL_COUNT; l++)
            if (advance(s, l, xw, x, y))
                return -1;
        v = cell_lists(s);
        if (v == NONE)
            return -1;
        s->row[(size_t)(fi / GEO_GRID_SPLIT) * SPLIT2 + r * GEO_GRID_SPLIT + fi % GEO_GRID_SPLIT] =
            v;
        g->edge_cells++;
        p = q;
        fi++;
    }
    return 0;
}

/* Words of one level's segment of a cell's lists. */
static size_t segment_len(const uint32_t *w)
{
    uint32_t h = w[0], count = h & COUNT_MASK;
    size_t n = 1;

    if (h & RESOLVED)
        return 1;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t c = w[n++];
        if (i + 1 == count && (h & LAST_COVERS))
            continue; /* a bare area index */
        n += c >> CAND_RUNS_SHIFT;
    }
    return n;
}

static size_t lists_len(const uint32_t *w)
{
    size_t n = 0;

    for (int l = 0; l < RP_LEVEL_COUNT; l++)
        n += segment_len(w + n);
    return n;
}

/* The blocks of coarse row cy, from the row buffer into cells[] and cand[]. */
static int emit_row(struct sweep *s, uint32_t cy)
{
    struct geo_grid *g = s->g;

    for (uint32_t cx = 0; cx < g->ncx; cx++) {
        uint32_t c = g->coarse[(size_t)cy * g->ncx + cx], b;
        const uint32_t *row = &s->row[(size_t)cx * SPLIT2];
        size_t base = g->cand.n;

        if (!(c & HI))
            continue;
        b = c & ~HI;
        if (base > UINT32_MAX)
            return -1;
        g->base[b] = (uint32_t)base;
        for (int k = 0; k < SPLIT2; k++) {
            uint16_t cell = CELL_UNKNOWN;
            if (!(row[k] & TMP_LIST)) {
                if (row[k] < CELL_LIST)
                    cell = (uint16_t)row[k];
            } else if (g->cand.n - base <= CELL_OFFSET_MAX) {
                const uint32_t *w = &s->rowlists.v[row[k] & ~TMP_LIST];
                size_t len = lists_len(w);
                cell = (uint16_t)(CELL_LIST | (g->cand.n - base));
                for (size_t i = 0; i < len; i++)
                    if (push(&g->cand, w[i]))
                        return -1;
            }
            g->unknown_cells += cell == CELL_UNKNOWN;
            g->cells[(size_t)b * SPLIT2 + k] = cell;
        }
    }
    s->rowlists.n = 0;
    return 0;
}

static int make_records(struct geo_grid *g)
{
    uint8_t *open = calloc(g->nv ? g->nv : 1, 1);
    int rc = 0;

    if (!open)
        return -1;
    for (int l = 0; rc == 0 && l < RP_LEVEL_COUNT; l++)
        rc = mark_open(g, l, open);
    for (size_t r = 0; rc == 0 && r < g->nrings; r++) {
        const struct ring *rg = &g->rings[r];
        uint64_t tag = (uint64_t)rg->level << 20 | rg->area;
        for (uint32_t k = rg->start; rc == 0 && k + 1 < rg->start + rg->n; k++)
            rc = mark_edge(g, tag, k, k | (open[k] ? OPEN : 0));
    }
    free(open);
    return rc;
}

int geo_grid_finish(struct geo_grid *g, geo_grid_covers_fn covers, void *ctx, struct rp_err *err)
{
    struct sweep s = {.g = g, .covers = covers, .ctx = ctx};
    const struct rec *p, *end;
    int rc = RP_OK;

    if (g->frozen)
        return RP_OK;
    if (make_records(g) || (g->nrecs > 1 && radix_sort(g->recs, g->nrecs)))
        return rp_err_set(err, RP_NO_MEMORY, "grid edge cells");
    free(g->rings);
    g->rings = NULL;
    for (size_t i = 0; i < g->nrecs; i++) {
        uint64_t cell = g->recs[i].key >> TAG_BITS;
        size_t ci = (size_t)(cell / g->nfx / GEO_GRID_SPLIT) * g->ncx +
                    (size_t)(cell % g->nfx) / GEO_GRID_SPLIT;
        if (!(g->coarse[ci] & HI)) {
            if (g->nblocks >= HI - 1)
                return rp_err_set(err, RP_INVALID_DATA, "too many grid blocks");
            g->coarse[ci] = HI | (uint32_t)g->nblocks++;
        }
    }
    g->cells =
        alloc_huge((g->nblocks ? g->nblocks : 1) * SPLIT2 * sizeof *g->cells, &g->cells_bytes);
    g->base = malloc((g->nblocks ? g->nblocks : 1) * sizeof *g->base);
    s.row = malloc((size_t)g->ncx * SPLIT2 * sizeof *s.row);
    if (!g->cells || !g->base || !s.row) {
        rc = rp_err_set(err, RP_NO_MEMORY, "grid of %zu blocks", g->nblocks);
        goto out;
    }
    p = g->recs;
    end = g->recs + g->nrecs;
    for (uint32_t fj = 0; rc == RP_OK && fj < g->nfy; fj++) {
        const struct rec *row_end = p;
        uint64_t limit = (uint64_t)(fj + 1) * g->nfx;
        while (row_end < end && row_end->key >> TAG_BITS < limit)
            row_end++;
        int swept = sweep_row(&s, fj, p, row_end);
        if (swept == -2)
            rc = rp_err_set(err, RP_INVALID_DATA,
                            "more than %d areas of one level meet within one grid cell near "
                            "(%.6f, %.6f)",
                            GROUPS_MAX, s.overflow_y, s.overflow_x);
        else if (swept)
            rc = rp_err_set(err, RP_INTERNAL, "grid row %u: an area test failed or memory ran out",
                            fj);
        else if (fj % GEO_GRID_SPLIT == GEO_GRID_SPLIT - 1 && emit_row(&s, fj / GEO_GRID_SPLIT))
            rc = rp_err_set(err, RP_NO_MEMORY, "grid lists");
        p = row_end;
    }
    if (rc == RP_OK && g->cand.n) { /* give back the growth slack */
        uint32_t *v = realloc(g->cand.v, g->cand.n * sizeof *v);
        if (v) {
            g->cand.v = v;
            g->cand.cap = g->cand.n;
        }
    }
    if (rc == RP_OK && g->nv) {
        double *v = realloc(g->xy, g->nv * 2 * sizeof *v);
        if (v) {
            g->xy = v;
            g->cap_v = g->nv;
        }
    }
out:
    for (int l = 0; l < RP_LEVEL_COUNT; l++)
        free(s.ls[l].fc.v);
    free(s.row);
    free(s.rowlists.v);
    free(g->recs);
    g->recs = NULL;
    g->nrecs = g->cap_recs = 0;
    free(g->tuple_slots); /* lookups go by id */
    g->tuple_slots = NULL;
    g->frozen = rc == RP_OK;
    return rc;
}

/* ---- lookups ---- */

/* The answer of one level's list segment w for (lon, lat) in the cell centred at (cx, cy). */
static uint32_t test_segment(const struct geo_grid *g, const uint32_t *w, double cx, double cy,
                             double lon, double lat)
{
    uint32_t h = w[0], n = h & COUNT_MASK;

    w++;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = *w++, runs;
        int odd = 0;
        if (i + 1 == n && (h & LAST_COVERS))
            return c + 1; /* nothing before it covers the point: it does */
        if (c & CAND_UNKNOWN)
            return GEO_GRID_UNKNOWN;
        runs = c >> CAND_RUNS_SHIFT;
        for (uint32_t r = 0; r < runs; r++, w++)
            for (uint32_t k = w[0] >> RUN_SHIFT; k < (w[0] >> RUN_SHIFT) + (w[0] & RUN_EDGES_MAX);
                 k++) {
                int x = cross(g->xy, k, cx, cy, lon, lat);
                if (x < 0)
                    return GEO_GRID_UNKNOWN;
                odd ^= x;
            }
        if (((c & CAND_COVERS) != 0) != odd)
            return (c & GEO_GRID_AREAS_MAX) + 1;
    }
    return 0;
}

uint32_t geo_grid_find(const struct geo_grid *g, enum rp_level level, double lon, double lat)
{
    double u = (lon - g->minx) * g->inv_fine, v = (lat - g->miny) * g->inv_fine;
    uint32_t fi, fj, c, b, e;
    const uint32_t *w;

    if (!(u >= 0 && v >= 0 && u < g->nfx && v < g->nfy)) /* also false for NaN */
        return 0;
    fi = (uint32_t)u;
    fj = (uint32_t)v;
    c = g->coarse[(size_t)(fj / GEO_GRID_SPLIT) * g->ncx + fi / GEO_GRID_SPLIT];
    if (!(c & HI))
        return g->tuples.v[(size_t)c * RP_LEVEL_COUNT + level];
    b = c & ~HI;
    e = g->cells[(size_t)b * SPLIT2 + (fj % GEO_GRID_SPLIT) * GEO_GRID_SPLIT + fi % GEO_GRID_SPLIT];
    if (e < CELL_LIST)
        return g->tuples.v[(size_t)e * RP_LEVEL_COUNT + level];
    if (e == CELL_UNKNOWN)
        return GEO_GRID_UNKNOWN;
    w = g->cand.v + g->base[b] + (e & ~CELL_LIST);
    for (int l = 0; l < (int)level; l++)
        w += segment_len(w);
    if (w[0] & RESOLVED)
        return w[0] & ~RESOLVED;
    return test_segment(g, w, centre_x(g, fi), g->miny + (fj + 0.5) / g->inv_fine, lon, lat);
}

void geo_grid_stats(const struct geo_grid *g, struct geo_grid_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!g)
        return;
    st->coarse_cells = (size_t)g->ncx * g->ncy;
    st->blocks = g->nblocks;
    st->edge_cells = g->edge_cells;
    st->tuples = g->tuples.n / RP_LEVEL_COUNT;
    st->unknown_cells = g->unknown_cells;
    st->vertices = g->nv;
    st->covers_calls = g->covers_calls;
    st->bytes = st->coarse_cells * sizeof *g->coarse + g->cells_bytes +
                g->nblocks * sizeof *g->base + g->cand.cap * sizeof *g->cand.v +
                g->tuples.cap * sizeof *g->tuples.v + g->cap_v * 2 * sizeof *g->xy;
}
