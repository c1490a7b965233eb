/*
 * tests/test_tile.c - geo/tile against PROJ (EPSG:4326 -> EPSG:3857) on random points over
 * Panama and the world, tile bounds at known tiles, the valid range of z/x/y, and pixel
 * positions at a tile's corners and just outside.
 */
#include <math.h>
#include <proj.h>
#include <stdlib.h>

#include "check.h"
#include "geo/tile.h"

static void test_mercator_agrees_with_proj(void)
{
    PJ_CONTEXT *ctx = proj_context_create();
    PJ *p = proj_create_crs_to_crs(ctx, "EPSG:4326", "EPSG:3857", NULL);
    PJ *n = p ? proj_normalize_for_visualization(ctx, p) : NULL; /* lon, lat order */
    double worst = 0;

    CHECK(n != NULL);
    srand(3);
    for (int i = 0; n && i < 20000; i++) {
        double lon = i < 10000 ? -83.1 + 6.0 * rand() / RAND_MAX : -180 + 360.0 * rand() / RAND_MAX;
        double lat = i < 10000 ? 7.1 + 2.7 * rand() / RAND_MAX : -85 + 170.0 * rand() / RAND_MAX;
        PJ_COORD c = proj_trans(n, PJ_FWD, proj_coord(lon, lat, 0, 0));
        double mx, my, lon2, lat2;
        geo_merc_from_lonlat(lon, lat, &mx, &my);
        worst = fmax(worst, fmax(fabs(mx - c.xy.x), fabs(my - c.xy.y)));
        geo_lonlat_from_merc(mx, my, &lon2, &lat2);
        if (fabs(lon2 - lon) > 1e-9 || fabs(lat2 - lat) > 1e-9)
            CHECK_REPORT("round trip (%f, %f) -> (%f, %f)", lon, lat, lon2, lat2);
    }
    CHECK(worst < 1e-3); /* a millimetre */
    proj_destroy(n);
    proj_destroy(p);
    proj_context_destroy(ctx);
}

static void test_tile_bounds(void)
{
    struct geo_tile t0 = {0, 0, 0}, t1 = {1, 1, 0}, t;
    double b[4];

    geo_tile_bounds_merc(&t0, b);
    CHECK_NEAR(b[0], -GEO_MERC_HALF_M, 1e-6);
    CHECK_NEAR(b[3], GEO_MERC_HALF_M, 1e-6);
    geo_tile_bounds_lonlat(&t1, b); /* north-east quarter */
    CHECK_NEAR(b[0], 0, 1e-9);
    CHECK_NEAR(b[1], 0, 1e-9);
    CHECK_NEAR(b[2], 180, 1e-9);
    CHECK_NEAR(b[3], GEO_MERC_LAT_MAX, 1e-9);
    geo_tile_at(12, -79.52, 9.0, &t); /* Panama City */
    CHECK_INT_EQ(t.x, 1143);
    CHECK_INT_EQ(t.y, 1945);
    geo_tile_bounds_lonlat(&t, b);
    CHECK(b[0] <= -79.52 && -79.52 < b[2] && b[1] <= 9.0 && 9.0 < b[3]);
}

static void test_valid_range(void)
{
    CHECK(geo_tile_valid(0, 0, 0));
    CHECK(!geo_tile_valid(0, 1, 0));
    CHECK(geo_tile_valid(22, (1LL << 22) - 1, (1LL << 22) - 1));
    CHECK(!geo_tile_valid(22, 1LL << 22, 0));
    CHECK(!geo_tile_valid(23, 0, 0));
    CHECK(!geo_tile_valid(-1, 0, 0));
    CHECK(!geo_tile_valid(5, -1, 3));
}

static void test_pixels_at_corners(void)
{
    struct geo_tile t = {14, 4572, 7781};
    double b[4], px, py;

    geo_tile_bounds_lonlat(&t, b);
    geo_tile_pixel(&t, 256, b[0], b[3], &px, &py); /* north-west corner */
    CHECK_NEAR(px, 0, 1e-6);
    CHECK_NEAR(py, 0, 1e-6);
    geo_tile_pixel(&t, 256, b[2], b[1], &px, &py); /* south-east */
    CHECK_NEAR(px, 256, 1e-6);
    CHECK_NEAR(py, 256, 1e-6);
    geo_tile_pixel(&t, 4096, b[0] - 1e-6, (b[1] + b[3]) / 2, &px, &py);
    CHECK(px < 0); /* just west: outside */
    CHECK_NEAR(geo_tile_m_per_px(0, 256, 0), 156543.03, 0.01);
}

int main(void)
{
    RUN(test_mercator_agrees_with_proj);
    RUN(test_tile_bounds);
    RUN(test_valid_range);
    RUN(test_pixels_at_corners);
    return check_exit();
}
