/*
 * tests/test_grid.c - the lookup grid (geo/grid.c) through geo_index_lookup, against the GEOS
 * STRtree reference, on shapes the shipped data does not have: overlapping areas (the smallest
 * code must win), an area inside another, holes, areas smaller than a grid cell, a partition
 * whose shared edges are twins, and nested levels. Points are random, on vertices, on edge
 * midpoints and a hair (1e-9 and 1e-13 degrees) to either side of edges, where the grid's own
 * crossing test is weakest.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "geo/index.h"

static struct geo_ctx gc;

struct shape {
    enum rp_level level;
    const char *code, *parent, *wkt;
};

static struct geo_index *build(const struct shape *v, size_t n, struct rp_err *err)
{
    struct geo_index *ix = geo_index_create();
    GEOSWKTReader *r = GEOSWKTReader_create_r(gc.geos);
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(gc.geos);
    int rc = RP_OK;

    for (size_t i = 0; rc == RP_OK && i < n; i++) {
        GEOSGeometry *g = GEOSWKTReader_read_r(gc.geos, r, v[i].wkt);
        size_t len = 0;
        unsigned char *wkb = g ? GEOSWKBWriter_write_r(gc.geos, w, g, &len) : NULL;
        CHECK(wkb != NULL);
        if (wkb)
            rc = geo_index_add(ix, &gc, v[i].level, v[i].code, v[i].code, v[i].parent, wkb, len,
                               err);
        GEOSFree_r(gc.geos, wkb);
        GEOSGeom_destroy_r(gc.geos, g);
    }
    GEOSWKTReader_destroy_r(gc.geos, r);
    GEOSWKBWriter_destroy_r(gc.geos, w);
    if (rc == RP_OK)
        rc = geo_index_freeze(ix, &gc, err);
    if (rc != RP_OK) {
        geo_index_destroy(ix, &gc);
        return NULL;
    }
    return ix;
}

static const char *code_of(const struct geo_area *a) { return a ? a->code : "-"; }

static int disagree;

static void same(const struct geo_index *ix, enum rp_level l, double x, double y)
{
    const struct geo_area *a = geo_index_lookup(ix, &gc, l, x, y);
    const struct geo_area *b = geo_index_lookup_strtree(ix, &gc, l, x, y);
    if (a != b && disagree++ < 10)
        CHECK_REPORT("(%.15g, %.15g) level %d: grid %s, GEOS %s", x, y, l, code_of(a), code_of(b));
}

/* Random points over the box, then every vertex, edge midpoint and points just off edges. */
static void compare(const struct geo_index *ix, const double box[4], int nrandom)
{
    static const double offs[] = {0, 1e-9, -1e-9, 1e-13, -1e-13};

    disagree = 0;
    srand(11);
    for (int i = 0; i < nrandom; i++) {
        double x = box[0] + (box[2] - box[0]) * rand() / RAND_MAX;
        double y = box[1] + (box[3] - box[1]) * rand() / RAND_MAX;
        for (int l = 0; l < RP_LEVEL_COUNT; l++)
            same(ix, (enum rp_level)l, x, y);
    }
    for (int l = 0; l < RP_LEVEL_COUNT; l++)
        for (size_t i = 0; i < geo_index_count(ix, (enum rp_level)l); i++) {
            const struct geo_area *a = geo_index_at(ix, (enum rp_level)l, i);
            for (int p = 0; p < GEOSGetNumGeometries_r(gc.geos, a->geom); p++) {
                const GEOSGeometry *poly = GEOSGetGeometryN_r(gc.geos, a->geom, p);
                const GEOSCoordSequence *s =
                    GEOSGeom_getCoordSeq_r(gc.geos, GEOSGetExteriorRing_r(gc.geos, poly));
                unsigned n = 0;
                GEOSCoordSeq_getSize_r(gc.geos, s, &n);
                for (unsigned k = 0; k + 1 < n; k++) {
                    double x0, y0, x1, y1, dx, dy, len;
                    GEOSCoordSeq_getXY_r(gc.geos, s, k, &x0, &y0);
                    GEOSCoordSeq_getXY_r(gc.geos, s, k + 1, &x1, &y1);
                    dx = x1 - x0, dy = y1 - y0, len = hypot(dx, dy);
                    for (int lv = 0; lv < RP_LEVEL_COUNT; lv++) {
                        same(ix, (enum rp_level)lv, x0, y0);
                        for (size_t o = 0; o < sizeof offs / sizeof offs[0]; o++)
                            for (double t = 0.1; t < 1; t += 0.2) /* across the edge */
                                same(ix, (enum rp_level)lv, x0 + t * dx - offs[o] * dy / len,
                                     y0 + t * dy + offs[o] * dx / len);
                    }
                }
            }
        }
    CHECK_INT_EQ(disagree, 0);
}

static void test_overlapping_areas_give_the_smallest_code(void)
{
    static const struct shape v[] = {
        {RP_LEVEL_PROVINCIA, "01", NULL, "POLYGON((0 0,1 0,1 1,0 1,0 0))"},
        {RP_LEVEL_PROVINCIA, "02", NULL,
         "POLYGON((0.503 0.001,1.5 0.001,1.5 1.2,0.503 1.2,0.503 0.001))"},
        /* inside 01 and smaller than it: a cell can be covered whole by 01 and hit by 03 */
        {RP_LEVEL_PROVINCIA, "03", NULL,
         "POLYGON((0.2013 0.2013,0.3 0.2013,0.3 0.31,0.2013 0.2013))"},
        /* a hole, and an island in the hole */
        {RP_LEVEL_PROVINCIA, "04", NULL,
         "MULTIPOLYGON(((2 0,3 0,3 1,2 1,2 0),(2.2 0.2,2.8 0.2,2.8 0.8,2.2 0.8,2.2 0.2)),"
         "((2.4 0.4,2.6 0.4,2.6 0.6,2.4 0.6,2.4 0.4)))"},
        /* areas far below a fine cell (~70 m): many in one cell */
        {RP_LEVEL_PROVINCIA, "05", NULL,
         "POLYGON((0.70001 0.70001,0.70003 0.70001,0.70002 0.70004,0.70001 0.70001))"},
        {RP_LEVEL_PROVINCIA, "06", NULL,
         "POLYGON((0.70002 0.70001,0.70005 0.70002,0.70002 0.70003,0.70002 0.70001))"},
        /* a thin sliver overlapping 01 along its edge */
        {RP_LEVEL_PROVINCIA, "07", NULL,
         "POLYGON((0.999999 0.3,1.000001 0.3,1.000001 0.6,0.999999 0.6,0.999999 0.3))"},
        /* the same square as 01: wholly covered by it, so never the answer */
        {RP_LEVEL_PROVINCIA, "08", NULL, "POLYGON((0 0,1 0,1 1,0 1,0 0))"},
    };
    static const double box[4] = {-0.1, -0.1, 3.1, 1.3};
    struct rp_err err = {0};
    struct geo_index *ix = build(v, sizeof v / sizeof v[0], &err);

    CHECK(ix != NULL);
    if (!ix) {
        fprintf(stderr, "build: %s\n", err.msg);
        return;
    }
    compare(ix, box, 200000);
    CHECK_STR_EQ(code_of(geo_index_lookup(ix, &gc, RP_LEVEL_PROVINCIA, 0.7, 0.5)), "01");
    CHECK_STR_EQ(code_of(geo_index_lookup(ix, &gc, RP_LEVEL_PROVINCIA, 1.2, 0.5)), "02");
    CHECK_STR_EQ(code_of(geo_index_lookup(ix, &gc, RP_LEVEL_PROVINCIA, 2.5, 0.5)), "04");
    CHECK_STR_EQ(code_of(geo_index_lookup(ix, &gc, RP_LEVEL_PROVINCIA, 2.3, 0.5)), "-");
    CHECK_STR_EQ(code_of(geo_index_lookup(ix, &gc, RP_LEVEL_PROVINCIA, 1.0000005, 0.4)), "02");
    geo_index_destroy(ix, &gc);
}

/* Three levels nested exactly, as the shipped data is: squares split in halves and quarters,
 * borders shared vertex for vertex (twins), with an uneven outline (open edges). */
static void test_nested_levels_with_shared_borders(void)
{
    static const struct shape v[] = {
        {RP_LEVEL_PROVINCIA, "01", NULL, "POLYGON((0 0,0.4 0.03,0.8 0,0.8 0.5,0 0.5,0 0))"},
        {RP_LEVEL_PROVINCIA, "02", NULL, "POLYGON((0.8 0,1.2 0.2,1.2 0.5,0.8 0.5,0.8 0))"},
        {RP_LEVEL_DISTRITO, "0101", "01", "POLYGON((0 0,0.4 0.03,0.4 0.5,0 0.5,0 0))"},
        {RP_LEVEL_DISTRITO, "0102", "01", "POLYGON((0.4 0.03,0.8 0,0.8 0.5,0.4 0.5,0.4 0.03))"},
        {RP_LEVEL_DISTRITO, "0201", "02", "POLYGON((0.8 0,1.2 0.2,1.2 0.5,0.8 0.5,0.8 0))"},
        {RP_LEVEL_CORREGIMIENTO, "010101", "0101", "POLYGON((0 0,0.4 0.03,0.4 0.25,0 0.25,0 0))"},
        {RP_LEVEL_CORREGIMIENTO, "010102", "0101",
         "POLYGON((0 0.25,0.4 0.25,0.4 0.5,0 0.5,0 0.25))"},
        {RP_LEVEL_CORREGIMIENTO, "010201", "0102",
         "POLYGON((0.4 0.03,0.8 0,0.8 0.5,0.4 0.5,0.4 0.03))"},
        {RP_LEVEL_CORREGIMIENTO, "020101", "0201",
         "POLYGON((0.8 0,1.2 0.2,1.0 0.3,0.8 0.5,0.8 0))"},
        {RP_LEVEL_CORREGIMIENTO, "020102", "0201",
         "POLYGON((1.0 0.3,1.2 0.2,1.2 0.5,0.8 0.5,1.0 0.3))"},
    };
    static const double box[4] = {-0.05, -0.05, 1.25, 0.55};
    struct rp_err err = {0};
    struct geo_index *ix = build(v, sizeof v / sizeof v[0], &err);

    CHECK(ix != NULL);
    if (!ix)
        return;
    compare(ix, box, 100000);
    /* a point on a shared border belongs to both: the smaller code */
    CHECK_STR_EQ(code_of(geo_index_lookup(ix, &gc, RP_LEVEL_CORREGIMIENTO, 0.2, 0.25)), "010101");
    CHECK_STR_EQ(code_of(geo_index_lookup(ix, &gc, RP_LEVEL_DISTRITO, 0.4, 0.3)), "0101");
    geo_index_destroy(ix, &gc);
}

/* More areas meeting in one cell than the grid follows: a clear error, not a wrong answer. */
static void test_too_many_areas_in_one_cell_is_an_error(void)
{
    struct shape v[80];
    char wkt[80][160], code[80][8];
    struct rp_err err = {0};
    struct geo_index *ix;

    for (int i = 0; i < 80; i++) {
        double x = 0.5 + i * 1e-6;
        snprintf(code[i], sizeof code[i], "%02d", i);
        snprintf(wkt[i], sizeof wkt[i], "POLYGON((%.7f 0.5,%.7f 0.5,%.7f 0.500001,%.7f 0.5))", x,
                 x + 5e-7, x, x);
        v[i] = (struct shape){RP_LEVEL_PROVINCIA, code[i], NULL, wkt[i]};
    }
    ix = build(v, 80, &err);
    CHECK(ix == NULL);
    CHECK_STR_EQ(rp_err_slug(err.code), "invalid_data");
    CHECK(strstr(err.msg, "meet within one grid cell") != NULL);
    geo_index_destroy(ix, &gc);
}

int main(void)
{
    struct rp_err err = {0};
    int rc;

    if (geo_ctx_init(&gc, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    RUN(test_overlapping_areas_give_the_smallest_code);
    RUN(test_nested_levels_with_shared_borders);
    RUN(test_too_many_areas_in_one_cell_is_an_error);
    rc = check_exit();
    geo_ctx_fini(&gc);
    return rc;
}
