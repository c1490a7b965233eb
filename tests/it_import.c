/*
 * tests/it_import.c - `reporta import-areas` as an operator runs it: an official-style ESRI
 * Shapefile in UTM 17N (EPSG:32617), made by ogr2ogr from the shipped distritos, imports with
 * parents found by containment and resolves every checkpoint as before; an invalid polygon is
 * repaired and reported; a file with an error changes nothing.
 * usage: it_import PANAMA_DB DISTRITOS.geojson.xz CHECKPOINTS.csv   (REPORTA_BIN names the binary)
 */
#include <jansson.h>

#include "geo/locate.h"
#include "it.h"
#include "server/areas.h"

static char dir[] = "/tmp/reporta-it-import-XXXXXX";
static char db[256];
static const char *panama_db, *distritos_xz, *checkpoints;

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    return system(cmd);
}

/* distrito and provincia codes of every inland checkpoint, located on the database at path */
static int locate_checkpoints(const char *path, char out[][2][32], int max)
{
    struct geo_ctx gc;
    struct rp_err err = {0};
    struct store *s = NULL;
    struct geo_index *ix = NULL;
    char line[512];
    FILE *fp = fopen(checkpoints, "r");
    int n = 0;

    if (!fp || geo_ctx_init(&gc, &err) || store_open(path, &s, &err) ||
        areas_index_load(s, &gc, &ix, &err)) {
        fprintf(stderr, "locate_checkpoints: %s\n", err.msg);
        return -1;
    }
    if (!fgets(line, sizeof line, fp))
        line[0] = '\0';
    while (n < max && fgets(line, sizeof line, fp)) {
        char *lat = strchr(line, ','), *lon = lat ? strchr(lat + 1, ',') : NULL;
        struct geo_place p;
        if (!lon)
            continue;
        if (geo_locate(ix, &gc, atof(lon + 1), atof(lat + 1), 0, &p, &err) != RP_OK) {
            rp_err_clear(&err);
            strcpy(out[n][0], "-");
            strcpy(out[n++][1], "-");
            continue;
        }
        snprintf(out[n][0], 32, "%s", p.area[RP_LEVEL_DISTRITO] ? p.area[1]->code : "");
        snprintf(out[n++][1], 32, "%s", p.area[RP_LEVEL_PROVINCIA] ? p.area[0]->code : "");
    }
    fclose(fp);
    geo_index_destroy(ix, &gc);
    store_close(s);
    geo_ctx_fini(&gc);
    return n;
}

static void test_utm_shapefile_imports_and_resolves_the_same_points(void)
{
    char shp[300], out[8192], before[64][2][32], after[64][2][32];
    char *argv[] = {(char *)it_bin(), "import-areas", shp, "--db", db, "--level", "distrito",
                    "--code", "code", "--name", "name", NULL};
    int n1, n2;

    snprintf(shp, sizeof shp, "%s/distritos_utm17n.shp", dir);
    CHECK(sh("xz -dc '%s' > '%s/distritos.geojson'", distritos_xz, dir) == 0);
    CHECK(sh("ogr2ogr -f 'ESRI Shapefile' -t_srs EPSG:32617 -lco ENCODING=UTF-8 '%s' "
             "'%s/distritos.geojson' 2>/dev/null",
             shp, dir) == 0);
    CHECK(sh("grep -q 'UTM_Zone_17N' '%s/distritos_utm17n.prj'", dir, "") == 0);
    n1 = locate_checkpoints(db, before, 64);
    CHECK_INT_EQ(it_run(argv, out, sizeof out), 0);
    n2 = locate_checkpoints(db, after, 64);
    CHECK(n1 >= 30);
    CHECK_INT_EQ(n1, n2);
    for (int i = 0; i < n1 && i < n2; i++)
        if (strcmp(before[i][0], after[i][0]) || strcmp(before[i][1], after[i][1]))
            CHECK_REPORT("checkpoint %d: %s/%s before, %s/%s after the shapefile import", i + 1,
                         before[i][1], before[i][0], after[i][1], after[i][0]);
}

static void test_import_reports_counts_and_parents_found(void)
{
    char shp[300], outp[300];
    char *argv[] = {(char *)it_bin(), "import-areas", shp, "--db", db, "--level", "distrito",
                    "--code", "code", "--name", "name", NULL};
    FILE *fp;
    char buf[4096] = "";
    size_t n;
    pid_t pid;
    int status = -1, fd;

    snprintf(shp, sizeof shp, "%s/distritos_utm17n.shp", dir);
    snprintf(outp, sizeof outp, "%s/import.out", dir);
    fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid = fork();
    if (pid == 0) {
        dup2(fd, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fp = fopen(outp, "r");
    n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    buf[n] = '\0';
    if (fp)
        fclose(fp);
    CHECK(strstr(buf, "imported 82 distrito areas") != NULL);
    CHECK(strstr(buf, "82 parents found by containment") != NULL);
}

static int write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    int ok = fp && fputs(text, fp) >= 0;
    if (fp)
        fclose(fp);
    return ok ? 0 : -1;
}

static void test_invalid_polygon_is_repaired_and_reported(void)
{
    char path[300];
    /* a bow-tie: self-intersecting, inside distrito 0406 (David) */
    const char *gj = "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                     "\"properties\":{\"c\":\"040601\",\"n\":\"David\"},\"geometry\":{\"type\":"
                     "\"Polygon\",\"coordinates\":[[[-82.44,8.42],[-82.42,8.44],[-82.42,8.42],"
                     "[-82.44,8.44],[-82.44,8.42]]]}}]}";

    snprintf(path, sizeof path, "%s/bowtie.geojson", dir);
    CHECK(write_file(path, gj) == 0);
    /* the report is on stdout: run through sh to keep it */
    {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "'%s' import-areas '%s' --db '%s' --level corregimiento --code c --name n "
                 "> '%s/bowtie.out' 2>&1",
                 it_bin(), path, db, dir);
        CHECK(system(cmd) == 0);
        snprintf(cmd, sizeof cmd, "grep -q 'invalid geometry.*repaired' '%s/bowtie.out'", dir);
        CHECK(system(cmd) == 0);
        snprintf(cmd, sizeof cmd, "grep -q 'imported 1 corregimiento areas (1 repaired' '%s/bowtie.out'", dir);
        CHECK(system(cmd) == 0);
    }
}

static void test_a_file_with_an_error_changes_nothing(void)
{
    char path[300], err[8192];
    char *argv[] = {(char *)it_bin(), "import-areas", path, "--db", db, "--level", "provincia",
                    "--code", "code", "--name", "name", NULL};
    const char *gj = "{\"type\":\"FeatureCollection\",\"features\":["
                     "{\"type\":\"Feature\",\"properties\":{\"code\":\"99\",\"name\":\"A\"},"
                     "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}},"
                     "{\"type\":\"Feature\",\"properties\":{\"name\":\"no code\"},"
                     "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}]}";
    struct store *s = NULL;
    struct rp_err e = {0};
    int64_t counts[RP_LEVEL_COUNT];

    snprintf(path, sizeof path, "%s/bad.geojson", dir);
    CHECK(write_file(path, gj) == 0);
    CHECK_INT_EQ(it_run(argv, err, sizeof err), 1);
    CHECK(strstr(err, "nothing imported") != NULL);
    CHECK_OK(store_open(db, &s, &e), &e);
    CHECK_OK(store_areas_count(s, counts, &e), &e);
    CHECK_INT_EQ(counts[RP_LEVEL_PROVINCIA], 13);
    store_close(s);
    /* and a misspelt field is named, not read as "every feature lacks a code" */
    argv[8] = "kode";
    CHECK_INT_EQ(it_run(argv, err, sizeof err), 1);
}

int main(int argc, char **argv)
{
    int rc;

    if (argc < 4 || !mkdtemp(dir))
        return 2;
    panama_db = argv[1];
    distritos_xz = argv[2];
    checkpoints = argv[3];
    snprintf(db, sizeof db, "%s/r.db", dir);
    if (it_copy(panama_db, db) != 0)
        return 1;
    RUN(test_utm_shapefile_imports_and_resolves_the_same_points);
    RUN(test_import_reports_counts_and_parents_found);
    RUN(test_invalid_polygon_is_repaired_and_reported);
    RUN(test_a_file_with_an_error_changes_nothing);
    rc = check_exit();
    sh("rm -rf '%s'%s", dir, "");
    return rc;
}
