/*
 * bench/tiles.c - cold tile renders, in process, and the same vector tiles from PostGIS.
 *   bench_tiles render DB TILES_OUT      loads the case map from DB, picks tiles where cases
 *                                        are (at z6, z8, z12, z15, z17: a random case's tile,
 *                                        so dense places come up as often as crews look at
 *                                        them), renders each as heat PNG and cases MVT with no
 *                                        cache, prints p50/p99 per zoom, writes the tiles
 *   bench_tiles postgis CONNINFO TILES   times ST_AsMVT(ST_AsMVTGeom(...)) per tile on table
 *                                        cases (geometry(Point, 3857), GiST), as Martin and
 *                                        pg_tileserv query, and prints p50/p99 per zoom
 *                                        and the tile over central Panamá at each zoom
 * Tiles files: one "z x y" per line. Fixed seed; each tile is rendered TIMED_PASSES times and
 * every render counts.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/casemap.h"

#define SEED         42
#define ZOOMS        5
#define TILES_PER_Z  60
#define TIMED_PASSES 3
#define DENSE_LAT    9.000 /* the heart of the Panamá blob of bench/cases.c */
#define DENSE_LON    (-79.510)
#define DENSE_PASSES 9

static const int zooms[ZOOMS] = {6, 8, 12, 15, 17};
/* PostGIS returns every point at low zoom (no clustering): fewer tiles there keep it short */
static const int pg_tiles[ZOOMS] = {3, 6, 40, 60, 60};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void pct(double *v, int n, double *p50, double *p99)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    *p50 = n ? v[n / 2] : 0;
    *p99 = n ? v[(int)(n * 0.99) < n ? (int)(n * 0.99) : n - 1] : 0;
}

struct pts {
    double (*v)[2];
    size_t n, cap;
};

static int keep_point(void *ctx, const struct store_point *p, struct rp_err *err)
{
    struct pts *a = ctx;
    (void)err;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 65536;
        double(*v)[2] = realloc(a->v, cap * sizeof *v);
        if (!v)
            return RP_NO_MEMORY;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n][0] = p->lon;
    a->v[a->n++][1] = p->lat;
    return RP_OK;
}

/* One cold heat PNG and one cases MVT of tile t: their times, features and PNG bytes. */
static int render_one(struct casemap *cm, const struct geo_tile *t, double *heat_ms,
                      double *mvt_ms, size_t *features, size_t *png_bytes)
{
    struct rp_err err = {0};
    struct casemap_filter f = {0};
    struct geo_heat h;
    struct geo_mvt *m = geo_mvt_create();
    unsigned char *png = NULL, *mv = NULL;
    size_t len = 0, ml = 0;
    int empty, layer;
    double a = now_ms();

    if (!m || geo_heat_init(&h, 256, &err) || casemap_heat(cm, &f, t, &h, NULL, &err) ||
        geo_heat_png(&h, casemap_heat_scale(cm, &f, t->z, 256), &png, &len, &empty, &err))
        return fprintf(stderr, "heat: %s\n", err.msg), 1;
    double b = now_ms();
    layer = geo_mvt_layer(m, "cases");
    if (casemap_mvt(cm, &f, t, m, layer, (int64_t)time(NULL), &err) ||
        geo_mvt_encode(m, &mv, &ml, &err))
        return fprintf(stderr, "mvt: %s\n", err.msg), 1;
    double c = now_ms();
    *heat_ms = b - a;
    *mvt_ms = c - b;
    *features = geo_mvt_features(m);
    *png_bytes = len;
    geo_heat_fini(&h);
    geo_mvt_destroy(m);
    free(png);
    free(mv);
    return 0;
}

static int render(const char *db, const char *tiles_out)
{
    struct rp_err err = {0};
    struct store *s = NULL;
    struct casemap *cm = casemap_create();
    struct pts pts = {0};
    size_t ncases = 0, bytes = 0;
    double t0 = now_ms();
    FILE *out = fopen(tiles_out, "w");

    if (!cm || !out || store_open(db, &s, &err) || casemap_load(cm, s, &err) ||
        store_points_open(s, keep_point, &pts, &err) || pts.n == 0) {
        fprintf(stderr, "bench_tiles: %s\n", err.msg[0] ? err.msg : "setup failed");
        return 1;
    }
    casemap_stats(cm, &ncases, &bytes);
    printf("bench/tiles  cases=%zu map=%.0f MB loaded in %.1f s  seed=%d tiles/zoom=%d passes=%d "
           "cpus=%ld (cold: no cache)\n",
           ncases, bytes / 1e6, (now_ms() - t0) / 1e3, SEED, TILES_PER_Z, TIMED_PASSES,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("%-6s %10s %10s %10s %10s %12s %12s\n", "zoom", "heat p50", "heat p99", "mvt p50",
           "mvt p99", "mvt features", "heat bytes");
    srand(SEED);
    for (int zi = 0; zi < ZOOMS; zi++) {
        double heat[TILES_PER_Z * TIMED_PASSES], mvt[TILES_PER_Z * TIMED_PASSES];
        double h50, h99, m50, m99;
        size_t feats = 0, hb = 0;
        int n = 0;
        for (int k = 0; k < TILES_PER_Z; k++) {
            const double *p = pts.v[(size_t)rand() % pts.n];
            struct geo_tile t;
            geo_tile_at(zooms[zi], p[0], p[1], &t);
            if (k < pg_tiles[zi])
                fprintf(out, "%d %u %u\n", t.z, t.x, t.y);
            for (int pass = 0; pass < TIMED_PASSES; pass++, n++) {
                size_t fe = 0, hl = 0;
                if (render_one(cm, &t, &heat[n], &mvt[n], &fe, &hl))
                    return 1;
                feats += fe;
                hb += hl;
            }
        }
        pct(heat, n, &h50, &h99);
        pct(mvt, n, &m50, &m99);
        printf("z%-5d %8.2fms %8.2fms %8.2fms %8.2fms %12zu %12zu\n", zooms[zi], h50, h99, m50,
               m99, feats / (size_t)n, hb / (size_t)n);
        printf("bench_tiles z=%d heat_p50_ms=%.3f mvt_p50_ms=%.3f\n", zooms[zi], h50, m50);
    }
    /* The tile over central Panamá at each zoom: the most cases under one tile. */
    printf("the tile over central Panamá (%.3f, %.3f), median of %d renders\n", DENSE_LAT,
           DENSE_LON, DENSE_PASSES);
    printf("%-6s %14s %10s %10s %12s\n", "zoom", "cases under it", "heat", "mvt", "mvt features");
    for (int zi = 0; zi < ZOOMS; zi++) {
        struct geo_tile t;
        double heat[DENSE_PASSES], mvt[DENSE_PASSES], h50, m50, dummy;
        size_t fe = 0, hl = 0, under = 0;
        geo_tile_at(zooms[zi], DENSE_LON, DENSE_LAT, &t);
        for (size_t i = 0; i < pts.n; i++) {
            double px, py;
            geo_tile_pixel(&t, 1.0, pts.v[i][0], pts.v[i][1], &px, &py);
            under += px >= 0 && px < 1 && py >= 0 && py < 1;
        }
        for (int k = 0; k < DENSE_PASSES; k++)
            if (render_one(cm, &t, &heat[k], &mvt[k], &fe, &hl))
                return 1;
        pct(heat, DENSE_PASSES, &h50, &dummy);
        pct(mvt, DENSE_PASSES, &m50, &dummy);
        printf("z%-5d %14zu %8.2fms %8.2fms %12zu\n", zooms[zi], under, h50, m50, fe);
        printf("bench_tiles_dense z=%d heat_ms=%.3f mvt_ms=%.3f\n", zooms[zi], h50, m50);
    }
    fclose(out);
    casemap_destroy(cm);
    store_close(s);
    free(pts.v);
    return 0;
}

static int postgis(const char *conninfo, const char *tiles)
{
    static const char *sql =
        "SELECT ST_AsMVT(q, 'cases', 4096, 'geom') FROM (SELECT id, service, status, entity,"
        " (extract(epoch FROM now() - created_at) / 3600)::int AS age_hours,"
        " due_at < now() AS overdue, confirmations,"
        " ST_AsMVTGeom(geom, ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom"
        " FROM cases WHERE geom && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)) q";
    PGconn *c = PQconnectdb(conninfo);
    FILE *fp = fopen(tiles, "r");
    double ms[ZOOMS][256];
    long bytes[ZOOMS] = {0};
    int n[ZOOMS] = {0}, z, x, y;

    if (PQstatus(c) != CONNECTION_OK || !fp) {
        fprintf(stderr, "bench_tiles postgis: %s\n", PQerrorMessage(c));
        return 1;
    }
    PQclear(PQprepare(c, "tile", sql, 3, NULL));
    while (fscanf(fp, "%d %d %d", &z, &x, &y) == 3) {
        char zs[8], xs[16], ys[16];
        const char *v[3] = {zs, xs, ys};
        int zi = 0;
        while (zi < ZOOMS && zooms[zi] != z)
            zi++;
        snprintf(zs, sizeof zs, "%d", z);
        snprintf(xs, sizeof xs, "%d", x);
        snprintf(ys, sizeof ys, "%d", y);
        for (int pass = 0; zi < ZOOMS && pass < TIMED_PASSES && n[zi] < 256; pass++) {
            double a = now_ms();
            PGresult *r = PQexecPrepared(c, "tile", 3, v, NULL, NULL, 1);
            if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "bench_tiles postgis: %s\n", PQerrorMessage(c));
                return 1;
            }
            ms[zi][n[zi]++] = now_ms() - a;
            bytes[zi] += PQgetlength(r, 0, 0);
            PQclear(r);
        }
    }
    printf("postgis ST_AsMVT  %s\n", PQparameterStatus(c, "server_version"));
    printf("%-6s %10s %10s %12s\n", "zoom", "mvt p50", "mvt p99", "bytes");
    for (int zi = 0; zi < ZOOMS; zi++) {
        double p50, p99;
        pct(ms[zi], n[zi], &p50, &p99);
        printf("z%-5d %8.2fms %8.2fms %12ld\n", zooms[zi], p50, p99, n[zi] ? bytes[zi] / n[zi] : 0);
        printf("postgis z=%d mvt_p50_ms=%.3f\n", zooms[zi], p50);
    }
    fclose(fp);
    PQfinish(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "render") == 0)
        return render(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "postgis") == 0)
        return postgis(argv[2], argv[3]);
    fprintf(stderr, "usage: bench_tiles render DB TILES_OUT | postgis CONNINFO TILES\n");
    return 2;
}
