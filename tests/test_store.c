/*
 * tests/test_store.c - the store on a real database file: migrations (fresh and repeated,
 * rows kept), WAL on disk, atomic replacement of a level, iteration order, the SQL locate.
 */
#include <geos_c.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "data/store.h"

static char path[256];
static GEOSContextHandle_t geos;

static unsigned char *square_wkb(double x, double y, double size, size_t *len)
{
    char wkt[256];
    GEOSWKTReader *r = GEOSWKTReader_create_r(geos);
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(geos);
    GEOSGeometry *g;
    unsigned char *out;

    snprintf(wkt, sizeof wkt, "MULTIPOLYGON(((%g %g, %g %g, %g %g, %g %g, %g %g)))", x, y,
             x + size, y, x + size, y + size, x, y + size, x, y);
    g = GEOSWKTReader_read_r(geos, r, wkt);
    out = GEOSWKBWriter_write_r(geos, w, g, len);
    GEOSGeom_destroy_r(geos, g);
    GEOSWKTReader_destroy_r(geos, r);
    GEOSWKBWriter_destroy_r(geos, w);
    return out;
}

static void test_migrations_apply_once_and_keep_rows(void)
{
    struct rp_err err = {0};
    struct store *s = NULL;
    int applied = -1, version = -1;
    int64_t counts[RP_LEVEL_COUNT];
    size_t len;
    unsigned char *wkb = square_wkb(-80, 8, 1, &len);
    struct store_area a = {RP_LEVEL_PROVINCIA, "01", "Uno", NULL, wkb, len};

    CHECK_OK(store_open(path, &s, &err), &err);
    CHECK_OK(store_migrate(s, &applied, &err), &err);
    CHECK_INT_EQ(applied, store_schema_latest());
    CHECK_OK(store_areas_replace_level(s, RP_LEVEL_PROVINCIA, "test", &a, 1, &err), &err);
    store_close(s);

    CHECK_OK(store_open(path, &s, &err), &err);
    CHECK_OK(store_migrate(s, &applied, &err), &err);
    CHECK_INT_EQ(applied, 0);
    CHECK_OK(store_schema_version(s, &version, &err), &err);
    CHECK_INT_EQ(version, store_schema_latest());
    CHECK_OK(store_areas_count(s, counts, &err), &err);
    CHECK_INT_EQ(counts[RP_LEVEL_PROVINCIA], 1);
    CHECK_OK(store_ping(s, &err), &err);
    store_close(s);
    GEOSFree_r(geos, wkb);
}

static void test_database_file_is_in_wal_mode(void)
{
    sqlite3 *db;
    sqlite3_stmt *st;

    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR_EQ((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static int collect(void *ctx, const struct store_area *a, struct rp_err *err)
{
    char *seen = ctx;
    (void)err;
    strcat(seen, a->code);
    strcat(seen, ",");
    return RP_OK;
}

static void test_replacing_a_level_is_atomic(void)
{
    struct rp_err err = {0};
    struct store *s = NULL;
    int64_t counts[RP_LEVEL_COUNT];
    size_t l1, l2, l3;
    unsigned char *w1 = square_wkb(-80, 8, 0.5, &l1), *w2 = square_wkb(-79.5, 8, 0.5, &l2),
                  *w3 = square_wkb(-79, 8, 0.5, &l3);
    struct store_area good[] = {{RP_LEVEL_DISTRITO, "0102", "Dos", "01", w2, l2},
                                {RP_LEVEL_DISTRITO, "0101", "Uno", "01", w1, l1}};
    /* "01" is already a provincia: the whole replacement must roll back */
    struct store_area bad[] = {{RP_LEVEL_DISTRITO, "0103", "Tres", "01", w3, l3},
                               {RP_LEVEL_DISTRITO, "01", "Clash", "01", w1, l1}};
    char seen[256] = "";

    CHECK_OK(store_open(path, &s, &err), &err);
    CHECK_OK(store_areas_replace_level(s, RP_LEVEL_DISTRITO, "test", good, 2, &err), &err);
    CHECK_INT_EQ(store_areas_replace_level(s, RP_LEVEL_DISTRITO, "test", bad, 2, &err),
                 RP_CONFLICT);
    CHECK_OK(store_areas_count(s, counts, &err), &err);
    CHECK_INT_EQ(counts[RP_LEVEL_DISTRITO], 2);
    rp_err_clear(&err);
    CHECK_OK(store_areas_each(s, collect, seen, &err), &err);
    CHECK_STR_EQ(seen, "01,0101,0102,");
    store_close(s);
    GEOSFree_r(geos, w1);
    GEOSFree_r(geos, w2);
    GEOSFree_r(geos, w3);
}

static void test_sql_locate_finds_the_covering_area(void)
{
    struct rp_err err = {0};
    struct store *s = NULL;
    char code[STORE_CODE_MAX];

    CHECK_OK(store_open(path, &s, &err), &err);
    CHECK_OK(store_areas_locate_sql(s, RP_LEVEL_DISTRITO, -79.25, 8.25, code, &err), &err);
    CHECK_STR_EQ(code, "0102");
    /* on the shared edge x = -79.5 both cover the point: the smaller code wins */
    CHECK_OK(store_areas_locate_sql(s, RP_LEVEL_DISTRITO, -79.5, 8.25, code, &err), &err);
    CHECK_STR_EQ(code, "0101");
    CHECK_OK(store_areas_locate_sql(s, RP_LEVEL_DISTRITO, -70, 8.25, code, &err), &err);
    CHECK_STR_EQ(code, "");
    store_close(s);
}

static void test_open_fails_cleanly_on_a_directory(void)
{
    struct rp_err err = {0};
    struct store *s = (struct store *)1;

    CHECK_INT_EQ(store_open("/", &s, &err), RP_STORAGE);
    CHECK(s == NULL);
    CHECK(err.msg[0] != '\0');
}

int main(void)
{
    char dir[] = "/tmp/reporta-test-store-XXXXXX";
    int rc;

    if (!mkdtemp(dir))
        return 2;
    snprintf(path, sizeof path, "%s/t.db", dir);
    geos = GEOS_init_r();
    RUN(test_migrations_apply_once_and_keep_rows);
    RUN(test_database_file_is_in_wal_mode);
    RUN(test_replacing_a_level_is_atomic);
    RUN(test_sql_locate_finds_the_covering_area);
    RUN(test_open_fails_cleanly_on_a_directory);
    GEOS_finish_r(geos);
    rc = check_exit();
    {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return rc;
}
