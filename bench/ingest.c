/*
 * bench/ingest.c - the stored side of bench/run ingest.
 *   bench_ingest fill DB N POINTS   adds synthetic cases until DB holds N, through the same
 *                                   store_report_insert the server uses, 10,000 per transaction
 *   bench_ingest boxes DB K FILE    writes K bounding boxes that each hold about 1,000 cases
 *                                   (grown around random stored cases) and prints the
 *                                   in-process query time of each: p50, p90, p99
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/progress.h"
#include "data/store.h"

#define FILL_BATCH 10000
#define BOX_TARGET 1000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int count_one(void *ctx, const struct store_report *r, struct rp_err *err)
{
    (void)r, (void)err;
    ++*(int *)ctx;
    return RP_OK;
}

static int newest(void *ctx, const struct store_report *r, struct rp_err *err)
{
    (void)err;
    *(long long *)ctx = r->id;
    return RP_OK;
}

/* How many cases there are: ids are dense in a bench database, so the newest id. */
static int total(struct store *s, long long *n)
{
    struct store_report_query q = {0};
    struct rp_err err = {0};

    *n = 0;
    q.limit = 1;
    return store_reports_query(s, &q, newest, n, &err);
}

static int fill(const char *db, long long want, const char *points_file)
{
    static double pts[20000][2];
    static struct store_report r;
    struct store *s = NULL;
    struct rp_err err = {0};
    struct store_report_new n;
    long long have = 0, from;
    struct progress pr;
    int np = 0, rc, replayed;
    char line[128], token[64];
    FILE *fp = fopen(points_file, "r");
    double t0 = now_ms();

    while (fp && np < 20000 && fgets(line, sizeof line, fp))
        if (sscanf(line, "lat=%lf&lon=%lf", &pts[np][0], &pts[np][1]) == 2)
            np++;
    if (fp)
        fclose(fp);
    if (!np) {
        fprintf(stderr, "bench_ingest: no points in %s\n", points_file);
        return 1;
    }
    rc = store_open(db, &s, &err);
    if (rc == RP_OK)
        rc = total(s, &have);
    memset(&r, 0, sizeof r);
    memset(&n, 0, sizeof n);
    snprintf(r.service_code, sizeof r.service_code, "basura");
    snprintf(r.location_source, sizeof r.location_source, "device");
    snprintf(r.entity_code, sizeof r.entity_code, "AAUD");
    snprintf(r.description, sizeof r.description, "synthetic case for bench/ingest");
    n.r = &r;
    snprintf(r.created_at, sizeof r.created_at, "2026-11-01T12:00:00Z");
    snprintf(r.due_at, sizeof r.due_at, "2026-11-03T12:00:00Z");
    n.actor = "bench";
    n.actor_role = "admin";
    srand(7);
    progress_start(&pr, "bench_ingest fill", "cases", want > have ? (uint64_t)(want - have) : 0);
    from = have;
    while (rc == RP_OK && have < want) {
        progress_set(&pr, (uint64_t)(have - from));
        rc = store_begin(s, &err);
        for (int i = 0; rc == RP_OK && i < FILL_BATCH && have < want; i++, have++) {
            int64_t id;
            const double *p = pts[rand() % np];
            /* spread each stored point by up to ~1 km so the boxes are not all duplicates */
            r.lat = p[0] + ((double)rand() / RAND_MAX - 0.5) * 0.02;
            r.lon = p[1] + ((double)rand() / RAND_MAX - 0.5) * 0.02;
            for (int k = 0; k < STORE_HASH_LEN; k++)
                n.token_hash[k] = (unsigned char)rand();
            memcpy(n.token_hash, &have, sizeof have); /* unique */
            rc = store_report_insert(s, &n, &id, &replayed, token, &err);
        }
        rc = store_end(s, rc, &err);
    }
    if (rc == RP_OK) {
        progress_set(&pr, (uint64_t)(have - from));
        progress_end(&pr);
    }
    store_close(s);
    if (rc != RP_OK) {
        fprintf(stderr, "bench_ingest fill: %s\n", err.msg);
        return 1;
    }
    printf("bench_ingest fill: %lld cases stored (%.1f s)\n", have, (now_ms() - t0) / 1e3);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int boxes(const char *db, int k, const char *out_file)
{
    static struct store_report r;
    struct store *s = NULL;
    struct rp_err err = {0};
    long long have = 0;
    double *ms = calloc((size_t)k, sizeof *ms);
    FILE *out = fopen(out_file, "w");
    int rc = store_open(db, &s, &err), made = 0;
    long long counted = 0;

    if (rc == RP_OK)
        rc = total(s, &have);
    if (rc != RP_OK || have < BOX_TARGET || !out || !ms) {
        fprintf(stderr, "bench_ingest boxes: need a database with cases (%s)\n", err.msg);
        return 1;
    }
    srand(11);
    while (made < k) {
        int found = 0, c = 0;
        double h = 0.005, lo = 0, hi = 0;
        struct store_report_query q = {0};

        if (store_report_by_id(s, 1 + rand() % have, &r, &found, &err) != RP_OK || !found)
            continue;
        q.has_bbox = 1;
        q.limit = 1 << 30;
        /* grow, then bisect, the half-size until the box holds 900..1100 cases */
        for (int it = 0; it < 40; it++) {
            q.bbox[0] = r.lon - h, q.bbox[1] = r.lat - h, q.bbox[2] = r.lon + h,
            q.bbox[3] = r.lat + h;
            c = 0;
            store_reports_query(s, &q, count_one, &c, &err);
            if (c >= BOX_TARGET - 100 && c <= BOX_TARGET + 100)
                break;
            if (c < BOX_TARGET)
                lo = h, h = hi ? (h + hi) / 2 : h * 2;
            else
                hi = h, h = (lo + h) / 2;
        }
        if (c < BOX_TARGET - 100 || c > BOX_TARGET + 100 || h > 1.0)
            continue;
        q.limit = 1000;
        {
            int got = 0;
            double t0 = now_ms();
            store_reports_query(s, &q, count_one, &got, &err);
            ms[made] = now_ms() - t0;
            counted += got;
        }
        fprintf(out, "%.6f,%.6f,%.6f,%.6f\n", q.bbox[0], q.bbox[1], q.bbox[2], q.bbox[3]);
        made++;
    }
    fclose(out);
    store_close(s);
    qsort(ms, (size_t)k, sizeof *ms, cmp_double);
    printf("bench_ingest boxes: %d boxes of ~%d cases among %lld; in-process query "
           "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms (avg %lld rows)\n",
           k, BOX_TARGET, have, ms[k / 2], ms[k * 9 / 10], ms[k * 99 / 100], counted / k);
    free(ms);
    return 0;
}

int main(int argc, char **argv)
{
    if (store_global_init() != RP_OK)
        return 1;
    if (argc == 5 && strcmp(argv[1], "fill") == 0)
        return fill(argv[2], atoll(argv[3]), argv[4]);
    if (argc == 5 && strcmp(argv[1], "boxes") == 0)
        return boxes(argv[2], atoi(argv[3]), argv[4]);
    fprintf(stderr, "usage: bench_ingest fill DB N POINTS | boxes DB K FILE\n");
    return 2;
}
