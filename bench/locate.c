/*
 * bench/locate.c - in-process lookups per second on one thread, reporta's grid index next to
 * two anchors measured in the same run on the same points: the straightforward design (GEOS
 * STRtree over prepared polygons, geo_index_lookup_strtree) and the SpatiaLite SQL path
 * (ST_Covers with the R*Tree index, store_areas_locate_sql; on a prefix of the points since it
 * is slow). Median of 5 timed passes after a warm-up. Exits 1 if any answer differs.
 * usage: locate DB [POINTS] [--emit N FILE]   (--emit writes N inside points as URL queries)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "geo/locate.h"
#include "server/areas.h"

#define SEED    42
#define PASSES  5
#define SQL_MAX 2000

static struct geo_index *ix;
static struct geo_ctx gc;
static struct store *store;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum impl { GRID, STRTREE, LOCATE_GRID, LOCATE_STRTREE };

/* The three-level locate rule with the lookup of one implementation. */
static void locate3(enum impl how, double lon, double lat, const struct geo_area *out[3])
{
    memset(out, 0, 3 * sizeof *out);
    for (int l = RP_LEVEL_COUNT - 1; l >= 0; l--) {
        out[l] = how == LOCATE_GRID ? geo_index_lookup(ix, &gc, (enum rp_level)l, lon, lat)
                                    : geo_index_lookup_strtree(ix, &gc, (enum rp_level)l, lon, lat);
        if (out[l]) {
            for (int k = l - 1; k >= 0; k--)
                out[k] = out[k + 1]->parent
                             ? out[k + 1]->parent
                             : (how == LOCATE_GRID
                                    ? geo_index_lookup(ix, &gc, (enum rp_level)k, lon, lat)
                                    : geo_index_lookup_strtree(ix, &gc, (enum rp_level)k, lon, lat));
            return;
        }
    }
}

/* Runs one implementation over all points; answers[] gets a per-point fingerprint. */
static double pass(enum impl how, const double (*pts)[2], size_t n, const void **answers)
{
    double t0 = now_s();

    for (size_t i = 0; i < n; i++) {
        const struct geo_area *a3[3];
        switch (how) {
        case GRID:
            answers[i] = geo_index_lookup(ix, &gc, RP_LEVEL_DISTRITO, pts[i][0], pts[i][1]);
            break;
        case STRTREE:
            answers[i] = geo_index_lookup_strtree(ix, &gc, RP_LEVEL_DISTRITO, pts[i][0], pts[i][1]);
            break;
        default:
            locate3(how, pts[i][0], pts[i][1], a3);
            answers[i] = (const char *)a3[2] + (uintptr_t)a3[1] * 3 + (uintptr_t)a3[0] * 7;
        }
    }
    return (double)n / (now_s() - t0);
}

static double median_rate(enum impl how, const double (*pts)[2], size_t n, const void **answers)
{
    double r[PASSES];

    pass(how, pts, n < 100000 ? n : 100000, answers); /* warm-up */
    for (int i = 0; i < PASSES; i++)
        r[i] = pass(how, pts, n, answers);
    qsort(r, PASSES, sizeof r[0], cmp_double);
    return r[PASSES / 2];
}

static double sql_rate(const double (*pts)[2], size_t n, const void **grid, size_t *bad)
{
    double t0 = now_s();
    struct rp_err err = {0};

    *bad = 0;
    for (size_t i = 0; i < n; i++) {
        char code[STORE_CODE_MAX];
        const struct geo_area *g = grid[i];
        if (store_areas_locate_sql(store, RP_LEVEL_DISTRITO, pts[i][0], pts[i][1], code, &err)) {
            fprintf(stderr, "sql: %s\n", err.msg);
            exit(1);
        }
        if (strcmp(code, g ? g->code : ""))
            (*bad)++;
    }
    return (double)n / (now_s() - t0);
}

static const char *fmt(double x, char *buf)
{
    long v = (long)(x + 0.5);
    if (v >= 1000000)
        sprintf(buf, "%ld,%03ld,%03ld", v / 1000000, v / 1000 % 1000, v % 1000);
    else if (v >= 1000)
        sprintf(buf, "%ld,%03ld", v / 1000, v % 1000);
    else
        sprintf(buf, "%ld", v);
    return buf;
}

static int run_case(const char *name, enum impl fast, enum impl slow, const double (*pts)[2],
                    size_t n, int with_sql, double *fast_rate)
{
    const void **a = malloc(n * sizeof *a), **b = malloc(n * sizeof *b);
    double rf = median_rate(fast, pts, n, a), rs = median_rate(slow, pts, n, b), rq = 0;
    size_t diff = 0, sql_bad = 0, nsql = n < SQL_MAX ? n : SQL_MAX;
    char b1[32], b2[32], b3[32];

    for (size_t i = 0; i < n; i++)
        diff += a[i] != b[i];
    if (with_sql)
        rq = sql_rate(pts, nsql, a, &sql_bad);
    {
        char ratio_sql[32] = "-";
        if (with_sql)
            snprintf(ratio_sql, sizeof ratio_sql, "%.0fx", rf / rq);
        printf("%-28s %12s %12s %7.1fx %13s %8s  %s\n", name, fmt(rf, b1), fmt(rs, b2), rf / rs,
               with_sql ? fmt(rq, b3) : "-", ratio_sql, diff || sql_bad ? "NO" : "yes");
    }
    if (diff || sql_bad)
        fprintf(stderr, "%s: %zu answers differ from the STRtree, %zu of %zu from SQL\n", name,
                diff, sql_bad, nsql);
    *fast_rate = rf;
    free(a);
    free(b);
    return diff || sql_bad;
}

int main(int argc, char **argv)
{
    size_t n = 1000000, ninside = 0;
    struct rp_err err = {0};
    double (*bbox)[2], (*inside)[2], rate;
    int bad = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: locate DB [POINTS] [--emit N FILE]\n");
        return 2;
    }
    if (argc > 2 && argv[2][0] != '-')
        n = (size_t)atol(argv[2]);
    if (geo_ctx_init(&gc, &err) || store_open(argv[1], &store, &err) ||
        areas_index_load(store, &gc, &ix, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    bbox = malloc(n * sizeof *bbox);
    inside = malloc(n * sizeof *inside);
    srand(SEED);
    for (size_t i = 0; i < n; i++) {
        bbox[i][0] = -83.1 + 6.0 * rand() / RAND_MAX;
        bbox[i][1] = 7.15 + 2.55 * rand() / RAND_MAX;
    }
    while (ninside < n) { /* rejection sampling with the reference answer */
        double lon = -83.1 + 6.0 * rand() / RAND_MAX, lat = 7.15 + 2.55 * rand() / RAND_MAX;
        if (geo_index_lookup_strtree(ix, &gc, RP_LEVEL_PROVINCIA, lon, lat)) {
            inside[ninside][0] = lon;
            inside[ninside++][1] = lat;
        }
    }
    for (int i = 2; i + 2 < argc; i++)
        if (strcmp(argv[i], "--emit") == 0) {
            FILE *fp = fopen(argv[i + 2], "w");
            for (long k = 0; fp && k < atol(argv[i + 1]) && (size_t)k < n; k++)
                fprintf(fp, "lat=%.6f&lon=%.6f\n", inside[k][1], inside[k][0]);
            if (fp)
                fclose(fp);
        }
    printf("bench/locate  points=%zu seed=%d threads=1 cpus=%ld cc=gcc-%d.%d areas=%zu/%zu/%zu"
           " passes=%d (median) sql_points=%d\n",
           n, SEED, sysconf(_SC_NPROCESSORS_ONLN), __GNUC__, __GNUC_MINOR__,
           geo_index_count(ix, 0), geo_index_count(ix, 1), geo_index_count(ix, 2), PASSES,
           SQL_MAX);
    printf("%-28s %12s %12s %8s %13s %8s  %s\n", "case", "reporta/s", "strtree/s", "ratio",
           "spatialite/s", "ratio", "same answers");
    bad |= run_case("distrito, random in bbox", GRID, STRTREE, (const double(*)[2])bbox, n, 1,
                    &rate);
    bad |= run_case("distrito, inside country", GRID, STRTREE, (const double(*)[2])inside, n, 1,
                    &rate);
    printf("reporta distrito lookup inside_per_s=%.0f\n", rate);
    bad |= run_case("3-level locate, inside", LOCATE_GRID, LOCATE_STRTREE,
                    (const double(*)[2])inside, n, 0, &rate);
    printf("reporta 3-level locate inside_per_s=%.0f\n", rate);
    free(bbox);
    free(inside);
    geo_index_destroy(ix, &gc);
    store_close(store);
    geo_ctx_fini(&gc);
    return bad;
}
