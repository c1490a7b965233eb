/*
 * bench/tiles.c - cold tile renders, in process, and the same vector tiles from PostGIS.
 *   bench_tiles render SMALL_DB BIG_DB TILES_OUT
 *       loads the case maps of both databases, picks tiles where the big one's cases are (at
 *       z6, z8, z12, z15, z17: a random case's tile, so dense places come up as often as crews
 *       look at them), renders each as heat PNG and cases MVT with no cache on both maps in
 *       turn (so both are measured under the same machine load), prints p50/p99 per zoom and
 *       the big/small ratio, then the same for the tile over central Panamá; writes the
 *       tiles for the PostGIS run
 *   bench_tiles postgis CONNINFO BIG_DB TILES
 *       times ST_AsMVT(ST_AsMVTGeom(...)) per tile on table cases (geometry(Point, 3857),
 *       GiST), as Martin and pg_tileserv query, and reporta's case tile of the same tile from
 *       BIG_DB's case map, in turn; prints both p50/p99 per zoom and their ratio
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

struct map {
    const char *db;
    struct store *s;
    struct casemap *cm;
    struct pts pts;
    size_t cases, bytes;
    double load_s;
};

static int map_load(struct map *m, const char *db)
{
    struct rp_err err = {0};
    double t0 = now_ms();

    m->db = db;
    m->cm = casemap_create();
    if (!m->cm || store_open(db, &m->s, &err) || casemap_load(m->cm, m->s, &err) ||
        store_points_open(m->s, keep_point, &m->pts, &err) || m->pts.n == 0) {
        fprintf(stderr, "bench_tiles: %s: %s\n", db, err.msg[0] ? err.msg : "no cases");
        return 1;
    }
    m->load_s = (now_ms() - t0) / 1e3;
    casemap_stats(m->cm, &m->cases, &m->bytes);
    return 0;
}

static void map_free(struct map *m)
{
    casemap_destroy(m->cm);
    store_close(m->s);
    free(m->pts.v);
}

struct series {
    double heat[TILES_PER_Z * TIMED_PASSES], mvt[TILES_PER_Z * TIMED_PASSES];
    size_t features, png_bytes;
    int n;
};

/* Tile t on both maps, in turn, TIMED_PASSES times: the two are measured under the same load. */
static int render_pair(struct map m[2], const struct geo_tile *t, struct series out[2])
{
    for (int pass = 0; pass < TIMED_PASSES; pass++)
        for (int i = 0; i < 2; i++) {
            struct series *sr = &out[i];
            size_t fe = 0, hl = 0;
            if (render_one(m[i].cm, t, &sr->heat[sr->n], &sr->mvt[sr->n], &fe, &hl))
                return 1;
            sr->features += fe;
            sr->png_bytes += hl;
            sr->n++;
        }
    return 0;
}

/* Tiles where the big map's cases are (at each zoom, the tile of a random case of it, so dense
 * places come up as often as crews look at them), each rendered on both maps; then the tile
 * over central Panamá. The first pg_tiles[z] tiles of each zoom go to tiles_out. */
static int render(const char *small_db, const char *big_db, const char *tiles_out)
{
    struct map m[2] = {{0}};
    FILE *out = fopen(tiles_out, "w");

    if (!out || map_load(&m[0], small_db) || map_load(&m[1], big_db))
        return 1;
    for (int i = 0; i < 2; i++)
        printf("bench/tiles  %s: cases=%zu map=%.0f MB loaded in %.1f s\n", m[i].db, m[i].cases,
               m[i].bytes / 1e6, m[i].load_s);
    printf("cold renders (no cache), seed=%d, %d tiles per zoom at random cases of the big map, "
           "each %d times on each map in turn; cpus=%ld\n",
           SEED, TILES_PER_Z, TIMED_PASSES, sysconf(_SC_NPROCESSORS_ONLN));
    printf("%-5s | %-38s | %-38s | %-11s\n", "", "heat PNG p50 / p99", "cases MVT p50 / p99",
           "big / small");
    printf("%-5s | %8s %8s %9s %9s | %8s %8s %9s %9s | %5s %5s\n", "zoom", "small", "big",
           "small", "big", "small", "big", "small", "big", "heat", "mvt");
    srand(SEED);
    for (int zi = 0; zi < ZOOMS; zi++) {
        static struct series sr[2];
        double h[2][2], v[2][2];
        memset(sr, 0, sizeof sr);
        for (int k = 0; k < TILES_PER_Z; k++) {
            const double *p = m[1].pts.v[(size_t)rand() % m[1].pts.n];
            struct geo_tile t;
            geo_tile_at(zooms[zi], p[0], p[1], &t);
            if (k < pg_tiles[zi])
                fprintf(out, "%d %u %u\n", t.z, t.x, t.y);
            if (render_pair(m, &t, sr))
                return 1;
        }
        for (int i = 0; i < 2; i++) {
            pct(sr[i].heat, sr[i].n, &h[i][0], &h[i][1]);
            pct(sr[i].mvt, sr[i].n, &v[i][0], &v[i][1]);
        }
        printf("z%-4d | %6.2fms %6.2fms %7.2fms %7.2fms | %6.2fms %6.2fms %7.2fms %7.2fms | "
               "%4.2fx %4.2fx\n",
               zooms[zi], h[0][0], h[1][0], h[0][1], h[1][1], v[0][0], v[1][0], v[0][1], v[1][1],
               h[1][0] / h[0][0], v[1][0] / v[0][0]);
        printf("  (features per case tile: %zu small, %zu big; heat PNG bytes: %zu, %zu)\n",
               sr[0].features / (size_t)sr[0].n, sr[1].features / (size_t)sr[1].n,
               sr[0].png_bytes / (size_t)sr[0].n, sr[1].png_bytes / (size_t)sr[1].n);
    }
    /* The tile over central Panamá at each zoom: the most cases under one tile. */
    printf("the tile over central Panamá (%.3f, %.3f), median of %d renders on each map in turn\n",
           DENSE_LAT, DENSE_LON, DENSE_PASSES);
    printf("%-5s | %-21s | %-19s | %-19s | %-13s | %s\n", "", "cases under it", "heat", "mvt",
           "mvt features", "big / small");
    for (int zi = 0; zi < ZOOMS; zi++) {
        struct geo_tile t;
        double heat[2][DENSE_PASSES], mvt[2][DENSE_PASSES], h50[2], m50[2], dummy;
        size_t fe[2] = {0}, hl = 0, under[2] = {0};
        geo_tile_at(zooms[zi], DENSE_LON, DENSE_LAT, &t);
        for (int i = 0; i < 2; i++)
            for (size_t k = 0; k < m[i].pts.n; k++) {
                double px, py;
                geo_tile_pixel(&t, 1.0, m[i].pts.v[k][0], m[i].pts.v[k][1], &px, &py);
                under[i] += px >= 0 && px < 1 && py >= 0 && py < 1;
            }
        for (int k = 0; k < DENSE_PASSES; k++)
            for (int i = 0; i < 2; i++)
                if (render_one(m[i].cm, &t, &heat[i][k], &mvt[i][k], &fe[i], &hl))
                    return 1;
        for (int i = 0; i < 2; i++) {
            pct(heat[i], DENSE_PASSES, &h50[i], &dummy);
            pct(mvt[i], DENSE_PASSES, &m50[i], &dummy);
        }
        printf("z%-4d | %9zu %11zu | %7.2fms %7.2fms | %7.2fms %7.2fms | %5zu %7zu | %4.2fx %4.2fx\n",
               zooms[zi], under[0], under[1], h50[0], h50[1], m50[0], m50[1], fe[0], fe[1],
               h50[1] / h50[0], m50[1] / m50[0]);
    }
    fclose(out);
    map_free(&m[0]);
    map_free(&m[1]);
    return 0;
}

/* Cases MVT of tile t, cold: its time and bytes. */
static int mvt_one(struct casemap *cm, const struct geo_tile *t, double *ms, size_t *bytes)
{
    struct rp_err err = {0};
    struct casemap_filter f = {0};
    struct geo_mvt *m = geo_mvt_create();
    unsigned char *mv = NULL;
    size_t ml = 0;
    double a = now_ms();
    int layer = m ? geo_mvt_layer(m, "cases") : -1;

    if (layer < 0 || casemap_mvt(cm, &f, t, m, layer, (int64_t)time(NULL), &err) ||
        geo_mvt_encode(m, &mv, &ml, &err))
        return fprintf(stderr, "mvt: %s\n", err.msg), 1;
    *ms = now_ms() - a;
    *bytes = ml;
    geo_mvt_destroy(m);
    free(mv);
    return 0;
}

/* Each tile of the file from PostGIS, then from reporta's case map of db, TIMED_PASSES times
 * in turn: both measured under the same machine load. */
static int postgis(const char *conninfo, const char *db, const char *tiles)
{
    static const char *sql =
        "SELECT ST_AsMVT(q, 'cases', 4096, 'geom') FROM (SELECT id, service, status, entity,"
        " (extract(epoch FROM now() - created_at) / 3600)::int AS age_hours,"
        " due_at < now() AS overdue, confirmations,"
        " ST_AsMVTGeom(geom, ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom"
        " FROM cases WHERE geom && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)) q";
    PGconn *c = PQconnectdb(conninfo);
    FILE *fp = fopen(tiles, "r");
    static double pg[ZOOMS][256], ours[ZOOMS][256];
    long pg_bytes[ZOOMS] = {0}, our_bytes[ZOOMS] = {0};
    int n[ZOOMS] = {0}, z, x, y;
    struct map m = {0};

    if (PQstatus(c) != CONNECTION_OK || !fp) {
        fprintf(stderr, "bench_tiles postgis: %s\n", PQerrorMessage(c));
        return 1;
    }
    if (map_load(&m, db))
        return 1;
    PQclear(PQprepare(c, "tile", sql, 3, NULL));
    while (fscanf(fp, "%d %d %d", &z, &x, &y) == 3) {
        char zs[8], xs[16], ys[16];
        const char *v[3] = {zs, xs, ys};
        struct geo_tile t = {.z = z, .x = (uint32_t)x, .y = (uint32_t)y};
        int zi = 0;
        while (zi < ZOOMS && zooms[zi] != z)
            zi++;
        snprintf(zs, sizeof zs, "%d", z);
        snprintf(xs, sizeof xs, "%d", x);
        snprintf(ys, sizeof ys, "%d", y);
        for (int pass = 0; zi < ZOOMS && pass < TIMED_PASSES && n[zi] < 256; pass++) {
            size_t ob = 0;
            double a = now_ms();
            PGresult *r = PQexecPrepared(c, "tile", 3, v, NULL, NULL, 1);
            if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "bench_tiles postgis: %s\n", PQerrorMessage(c));
                return 1;
            }
            pg[zi][n[zi]] = now_ms() - a;
            pg_bytes[zi] += PQgetlength(r, 0, 0);
            PQclear(r);
            if (mvt_one(m.cm, &t, &ours[zi][n[zi]], &ob))
                return 1;
            our_bytes[zi] += (long)ob;
            n[zi]++;
        }
    }
    printf("cases MVT, %zu cases: reporta (cold, in process) and PostGIS %s ST_AsMVT (through libpq "
           "on a Unix socket), the same tiles in turn, %d times each\n",
           m.cases, PQparameterStatus(c, "server_version"), TIMED_PASSES);
    printf("%-5s %6s | %10s %10s %10s | %10s %10s %10s | %9s\n", "zoom", "tiles", "reporta",
           "p99", "bytes", "postgis", "p99", "bytes", "p50 ratio");
    for (int zi = 0; zi < ZOOMS; zi++) {
        double p50, p99, o50, o99;
        pct(pg[zi], n[zi], &p50, &p99);
        pct(ours[zi], n[zi], &o50, &o99);
        printf("z%-4d %6d | %8.2fms %8.2fms %10ld | %8.2fms %8.2fms %10ld | %8.1fx\n", zooms[zi],
               n[zi] / TIMED_PASSES, o50, o99, n[zi] ? our_bytes[zi] / n[zi] : 0, p50, p99,
               n[zi] ? pg_bytes[zi] / n[zi] : 0, o50 > 0 ? p50 / o50 : 0);
    }
    printf("(PostGIS returns every point of the tile: no clustering; reporta at most 1,024 "
           "features)\n");
    fclose(fp);
    PQfinish(c);
    map_free(&m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "render") == 0)
        return render(argv[2], argv[3], argv[4]);
    if (argc == 5 && strcmp(argv[1], "postgis") == 0)
        return postgis(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: bench_tiles render SMALL_DB BIG_DB TILES_OUT | postgis CONNINFO BIG_DB "
                    "TILES\n");
    return 2;
}
