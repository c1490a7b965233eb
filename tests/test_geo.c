/*
 * tests/test_geo.c - the area index and locate on the real Panama areas, loaded from a
 * database that `reporta init` built (the ctest fixture). Checks the data's README counts,
 * the hierarchy, every checkpoint, the provincial capitals, foreign points, snapping off a
 * coast, and that the grid agrees with the STRtree reference (random points, vertices, points
 * a hair beside edges) and with SpatiaLite's ST_Covers.
 * usage: test_geo DB CHECKPOINTS.csv [MORE_CHECKPOINTS.csv]
 */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "geo/locate.h"
#include "server/areas.h"

static struct geo_index *ix;
static struct geo_ctx gc;
static struct store *store;
static const char *checkpoint_files[2];

#define PANAMA_MINX -83.1
#define PANAMA_MAXX -77.1
#define PANAMA_MINY 7.15
#define PANAMA_MAXY 9.7

static double rnd(double lo, double hi)
{
    return lo + (hi - lo) * ((double)rand() / RAND_MAX);
}

static const char *code_of(const struct geo_area *a)
{
    return a ? a->code : "";
}

static void test_counts_match_the_data_readme(void)
{
    CHECK_INT_EQ(geo_index_count(ix, RP_LEVEL_PROVINCIA), 13);
    CHECK_INT_EQ(geo_index_count(ix, RP_LEVEL_DISTRITO), 82);
    CHECK_INT_EQ(geo_index_count(ix, RP_LEVEL_CORREGIMIENTO), 698);
    /* comarcas are provincia-level areas */
    CHECK_STR_EQ(geo_index_find(ix, "10")->name, "Guna Yala");
    CHECK_INT_EQ(geo_index_find(ix, "12")->level, RP_LEVEL_PROVINCIA);
    /* the six distritos created since 2010, and the Panamá Oeste codes of INEC 2023 */
    CHECK_STR_EQ(geo_index_find(ix, "0104")->name, "Almirante");
    CHECK_STR_EQ(geo_index_find(ix, "0306")->name, "Omar Torrijos Herrera");
    CHECK_STR_EQ(geo_index_find(ix, "0414")->name, "Tierras Altas");
    CHECK_STR_EQ(geo_index_find(ix, "0503")->name, "Santa Fe");
    CHECK_STR_EQ(geo_index_find(ix, "1208")->name, "Jirondai");
    CHECK_STR_EQ(geo_index_find(ix, "1209")->name, "Santa Catalina o Calovébora");
    CHECK_STR_EQ(geo_index_find(ix, "1303")->name, "Capira");
    CHECK_STR_EQ(geo_index_find(ix, "1304")->name, "Chame");
    CHECK_STR_EQ(geo_index_find(ix, "1307")->name, "La Chorrera");
    CHECK_STR_EQ(geo_index_find(ix, "1309")->name, "San Carlos");
    CHECK(geo_index_find(ix, "1302") == NULL);
    CHECK(geo_index_find(ix, "1305") == NULL);
    /* the one INEC corregimiento without a polygon (the data README) */
    CHECK(geo_index_find(ix, "010403") == NULL);
}

static void test_every_parent_exists_and_contains_its_child(void)
{
    for (int l = RP_LEVEL_DISTRITO; l < RP_LEVEL_COUNT; l++)
        for (size_t i = 0; i < geo_index_count(ix, (enum rp_level)l); i++) {
            const struct geo_area *a = geo_index_at(ix, (enum rp_level)l, i);
            GEOSGeometry *outside;
            double child = 0, out = 0;

            CHECK(a->parent != NULL);
            if (!a->parent)
                continue;
            CHECK_INT_EQ(a->parent->level, l - 1);
            CHECK(strncmp(a->code, a->parent->code, strlen(a->parent->code)) == 0);
            outside = GEOSDifference_r(gc.geos, a->geom, a->parent->geom);
            GEOSArea_r(gc.geos, a->geom, &child);
            GEOSArea_r(gc.geos, outside, &out);
            /* the README's worst case is 4e-9 deg^2 (about 50 m^2) from coordinate rounding */
            if (out > 1e-8)
                CHECK_REPORT("%s sticks out of %s by %g deg^2", a->code, a->parent->code, out);
            GEOSGeom_destroy_r(gc.geos, outside);
        }
}

static void check_file(const char *file)
{
    char line[512];
    int rows = 0;
    FILE *fp = fopen(file, "r");

    CHECK(fp != NULL);
    if (!fp)
        return;
    if (!fgets(line, sizeof line, fp)) /* header */
        line[0] = '\0';
    while (fgets(line, sizeof line, fp)) {
        char *f[7] = {0}, *p = line;
        struct geo_place place;
        struct rp_err err = {0};
        int n = 0, rc;

        line[strcspn(line, "\r\n")] = '\0';
        while (n < 7 && p) { /* label,lat,lon,provincia,distrito,corregimiento,name */
            f[n++] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        if (n < 6)
            continue;
        rows++;
        rc = geo_locate(ix, &gc, atof(f[2]), atof(f[1]), GEO_SNAP_DEFAULT_M, &place, &err);
        if (!f[3][0]) {
            if (rc != RP_OUTSIDE_AREA)
                CHECK_REPORT("%s: expected outside_service_area, got %d (%s)", f[0], rc,
                             code_of(place.area[RP_LEVEL_DISTRITO]));
            continue;
        }
        if (rc != RP_OK || strcmp(code_of(place.area[0]), f[3]) ||
            strcmp(code_of(place.area[1]), f[4]) || strcmp(code_of(place.area[2]), f[5]))
            CHECK_REPORT("%s: expected %s/%s/%s, got rc %d %s/%s/%s", f[0], f[3], f[4], f[5], rc,
                         code_of(place.area[0]), code_of(place.area[1]), code_of(place.area[2]));
    }
    fclose(fp);
    CHECK(rows >= 30);
}

static void test_every_checkpoint_resolves_as_listed(void)
{
    for (int i = 0; i < 2; i++)
        if (checkpoint_files[i])
            check_file(checkpoint_files[i]);
}

static void test_provincial_capitals_resolve_to_their_province_and_district(void)
{
    static const struct {
        const char *city;
        double lat, lon;
        const char *provincia, *distrito;
    } capitals[] = {
        {"Panamá", 8.9824, -79.5199, "Panamá", "Panamá"},
        {"La Chorrera", 8.8803, -79.7833, "Panamá Oeste", "La Chorrera"},
        {"Colón", 9.3592, -79.9014, "Colón", "Colón"},
        {"David", 8.4273, -82.4308, "Chiriquí", "David"},
        {"Santiago", 8.1000, -80.9833, "Veraguas", "Santiago"},
        {"Penonomé", 8.5183, -80.3573, "Coclé", "Penonomé"},
        {"Chitré", 7.9614, -80.4290, "Herrera", "Chitré"},
        {"Las Tablas", 7.7640, -80.2750, "Los Santos", "Las Tablas"},
        {"Bocas del Toro", 9.3403, -82.2420, "Bocas del Toro", "Bocas del Toro"},
        {"La Palma", 8.4050, -78.1450, "Darién", "Chepigana"},
    };
    for (size_t i = 0; i < sizeof capitals / sizeof capitals[0]; i++) {
        struct geo_place p;
        struct rp_err err = {0};
        CHECK_OK(geo_locate(ix, &gc, capitals[i].lon, capitals[i].lat, GEO_SNAP_DEFAULT_M, &p,
                            &err),
                 &err);
        CHECK(p.snapped_m == 0);
        CHECK_STR_EQ(p.area[0] ? p.area[0]->name : NULL, capitals[i].provincia);
        CHECK_STR_EQ(p.area[1] ? p.area[1]->name : NULL, capitals[i].distrito);
    }
}

static void test_foreign_points_are_outside_the_service_area(void)
{
    struct geo_place p;
    struct rp_err err = {0};

    CHECK_INT_EQ(geo_locate(ix, &gc, -84.08, 9.93, GEO_SNAP_DEFAULT_M, &p, &err), RP_OUTSIDE_AREA);
    rp_err_clear(&err);
    CHECK_INT_EQ(geo_locate(ix, &gc, -74.07, 4.71, GEO_SNAP_DEFAULT_M, &p, &err), RP_OUTSIDE_AREA);
    CHECK_STR_EQ(rp_err_slug(err.code), "outside_service_area");
}

static void test_invalid_coordinates_are_refused(void)
{
    struct geo_place p;
    struct rp_err err = {0};

    CHECK_INT_EQ(geo_locate(ix, &gc, NAN, 9, 500, &p, &err), RP_INVALID_COORDINATES);
    CHECK_INT_EQ(geo_locate(ix, &gc, -79, INFINITY, 500, &p, &err), RP_INVALID_COORDINATES);
    CHECK_INT_EQ(geo_locate(ix, &gc, -181, 9, 500, &p, &err), RP_INVALID_COORDINATES);
    CHECK_INT_EQ(geo_locate(ix, &gc, -79, 90.5, 500, &p, &err), RP_INVALID_COORDINATES);
}

/* Walks south from Bella Vista to the Cinta Costera seawall, then 200 m further out to sea. */
static void test_point_200m_off_the_coast_snaps_and_says_how_far(void)
{
    const double deg_per_m = 1.0 / 110574.0; /* of latitude */
    double lon = -79.5270, lat = 8.9870, coast = 0;
    struct geo_place p;
    struct rp_err err = {0};

    for (int i = 0; i < 1000; i++, lat -= 5 * deg_per_m)
        if (!geo_index_lookup(ix, &gc, RP_LEVEL_PROVINCIA, lon, lat)) {
            coast = lat;
            break;
        }
    CHECK(coast != 0);
    CHECK_OK(geo_locate(ix, &gc, lon, coast - 200 * deg_per_m, GEO_SNAP_DEFAULT_M, &p, &err),
             &err);
    /* the shore is not exactly east-west, so the nearest point is a little closer than 200 m */
    CHECK(p.snapped_m > 150 && p.snapped_m <= 201);
    CHECK_STR_EQ(code_of(p.area[RP_LEVEL_PROVINCIA]), "08");
    CHECK_STR_EQ(code_of(p.area[RP_LEVEL_DISTRITO]), "0808");
    CHECK(p.area[RP_LEVEL_CORREGIMIENTO] != NULL);
    /* a tolerance under the distance refuses it, and snap 0 never snaps */
    CHECK_INT_EQ(geo_locate(ix, &gc, lon, coast - 200 * deg_per_m, 140, &p, &err), RP_OUTSIDE_AREA);
    CHECK_INT_EQ(geo_locate(ix, &gc, lon, coast - 200 * deg_per_m, 0, &p, &err), RP_OUTSIDE_AREA);
}

/* Where corregimientos are the generalised STRI layer, a pin on a beach or a pier beyond the
 * coastline (the data README: a pier or an islet can fall just outside the generalised coast)
 * still gets all three levels: walk east from Pedasí (Los Santos) to the Pacific, then 300 m
 * out, where nothing covers the pin (snap 0 refuses it) but the default snap distance does. */
static void test_a_pier_off_a_generalised_coast_gets_its_corregimiento(void)
{
    const double lat = 7.5290, deg_per_m = 1.0 / (111320.0 * cos(lat * M_PI / 180)); /* lon */
    double lon = -80.0260, coast = 0;
    struct geo_place p;
    struct rp_err err = {0};

    for (int i = 0; i < 2000; i++, lon += 5 * deg_per_m)
        if (!geo_index_lookup(ix, &gc, RP_LEVEL_PROVINCIA, lon, lat)) {
            coast = lon;
            break;
        }
    CHECK(coast != 0);
    CHECK_INT_EQ(geo_locate(ix, &gc, coast + 300 * deg_per_m, lat, 0, &p, &err), RP_OUTSIDE_AREA);
    rp_err_clear(&err);
    CHECK_OK(geo_locate(ix, &gc, coast + 300 * deg_per_m, lat, GEO_SNAP_DEFAULT_M, &p, &err),
             &err);
    CHECK(p.snapped_m > 0 && p.snapped_m <= 301);
    CHECK_STR_EQ(code_of(p.area[RP_LEVEL_PROVINCIA]), "07");
    CHECK_STR_EQ(code_of(p.area[RP_LEVEL_DISTRITO]), "0705"); /* Pedasí */
    CHECK(strncmp(code_of(p.area[RP_LEVEL_CORREGIMIENTO]), "0705", 4) == 0);
}

static void test_grid_agrees_with_the_strtree_reference_everywhere(void)
{
    int disagree = 0, inside = 0;

    srand(42);
    for (int i = 0; i < 50000; i++) {
        double lon = rnd(PANAMA_MINX, PANAMA_MAXX), lat = rnd(PANAMA_MINY, PANAMA_MAXY);
        for (int l = 0; l < RP_LEVEL_COUNT; l++) {
            const struct geo_area *a = geo_index_lookup(ix, &gc, (enum rp_level)l, lon, lat);
            const struct geo_area *b = geo_index_lookup_strtree(ix, &gc, (enum rp_level)l, lon, lat);
            inside += l == 0 && a;
            if (a != b && disagree++ < 5)
                CHECK_REPORT("(%.7f, %.7f) level %d: grid %s, strtree %s", lon, lat, l,
                             code_of(a), code_of(b));
        }
    }
    CHECK_INT_EQ(disagree, 0);
    CHECK(inside > 15000); /* Panama fills about half its bounding box */
}

/* Vertices of borders lie on two areas at once, and points a hair beside an edge are where the
 * grid's own crossing test could go wrong: at every level, the grid must still agree. */
static void test_points_on_and_beside_borders_agree_with_geos(void)
{
    static const double offs[] = {1e-9, -1e-9, 1e-12, -1e-12};
    int checked = 0, disagree = 0;

    for (int l = 0; l < RP_LEVEL_COUNT; l++)
        for (size_t i = 0; i < geo_index_count(ix, (enum rp_level)l); i++) {
            const struct geo_area *a = geo_index_at(ix, (enum rp_level)l, i);
            const GEOSGeometry *ring =
                GEOSGetExteriorRing_r(gc.geos, GEOSGetGeometryN_r(gc.geos, a->geom, 0));
            const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(gc.geos, ring);
            unsigned n = 0;
            GEOSCoordSeq_getSize_r(gc.geos, seq, &n);
            for (unsigned k = 0; k + 1 < n; k += 23) {
                double x, y, x1, y1, dx, dy, len;
                GEOSCoordSeq_getXY_r(gc.geos, seq, k, &x, &y);
                GEOSCoordSeq_getXY_r(gc.geos, seq, k + 1, &x1, &y1);
                const struct geo_area *g = geo_index_lookup(ix, &gc, (enum rp_level)l, x, y);
                const struct geo_area *r =
                    geo_index_lookup_strtree(ix, &gc, (enum rp_level)l, x, y);
                checked++;
                CHECK(g != NULL); /* a vertex is on its own polygon's boundary: covered */
                if (g && strcmp(g->code, a->code) > 0)
                    CHECK_REPORT("vertex of %s went to larger code %s", a->code, g->code);
                if (g != r && disagree++ < 5)
                    CHECK_REPORT("vertex (%.7f, %.7f): grid %s, strtree %s", x, y, code_of(g),
                                 code_of(r));
                dx = x1 - x, dy = y1 - y, len = hypot(dx, dy);
                for (size_t o = 0; len > 0 && o < sizeof offs / sizeof offs[0]; o++) {
                    double px = x + dx / 2 - offs[o] * dy / len, py = y + dy / 2 + offs[o] * dx / len;
                    g = geo_index_lookup(ix, &gc, (enum rp_level)l, px, py);
                    r = geo_index_lookup_strtree(ix, &gc, (enum rp_level)l, px, py);
                    if (g != r && disagree++ < 5)
                        CHECK_REPORT("beside an edge of %s (%.12f, %.12f): grid %s, strtree %s",
                                     a->code, px, py, code_of(g), code_of(r));
                }
            }
        }
    CHECK_INT_EQ(disagree, 0);
    CHECK(checked > 5000);
}

static void test_grid_agrees_with_spatialite_st_covers(void)
{
    int disagree = 0;

    srand(7);
    for (int i = 0; i < 900; i++) {
        double lon = rnd(PANAMA_MINX, PANAMA_MAXX), lat = rnd(PANAMA_MINY, PANAMA_MAXY);
        enum rp_level l = (enum rp_level)(i % RP_LEVEL_COUNT);
        char code[STORE_CODE_MAX];
        struct rp_err err = {0};
        CHECK_OK(store_areas_locate_sql(store, l, lon, lat, code, &err), &err);
        if (strcmp(code, code_of(geo_index_lookup(ix, &gc, l, lon, lat))) && disagree++ < 5)
            CHECK_REPORT("(%.7f, %.7f) level %d: grid %s, SQL %s", lon, lat, l,
                         code_of(geo_index_lookup(ix, &gc, l, lon, lat)), code);
    }
    CHECK_INT_EQ(disagree, 0);
}

int main(int argc, char **argv)
{
    struct rp_err err = {0};
    int rc;

    if (argc < 3) {
        fprintf(stderr, "usage: test_geo DB CHECKPOINTS [CHECKPOINTS]\n");
        return 2;
    }
    checkpoint_files[0] = argv[2];
    checkpoint_files[1] = argc > 3 && access(argv[3], R_OK) == 0 ? argv[3] : NULL;
    if (geo_ctx_init(&gc, &err) || store_open(argv[1], &store, &err) ||
        areas_index_load(store, &gc, &ix, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    RUN(test_counts_match_the_data_readme);
    RUN(test_every_parent_exists_and_contains_its_child);
    RUN(test_every_checkpoint_resolves_as_listed);
    RUN(test_provincial_capitals_resolve_to_their_province_and_district);
    RUN(test_foreign_points_are_outside_the_service_area);
    RUN(test_invalid_coordinates_are_refused);
    RUN(test_point_200m_off_the_coast_snaps_and_says_how_far);
    RUN(test_a_pier_off_a_generalised_coast_gets_its_corregimiento);
    RUN(test_grid_agrees_with_the_strtree_reference_everywhere);
    RUN(test_points_on_and_beside_borders_agree_with_geos);
    RUN(test_grid_agrees_with_spatialite_st_covers);
    rc = check_exit();
    geo_index_destroy(ix, &gc);
    store_close(store);
    geo_ctx_fini(&gc);
    return rc;
}
