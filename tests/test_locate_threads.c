/*
 * tests/test_locate_threads.c - geo_locate from several threads at once on one frozen index,
 * each thread with its own geo_ctx, must give exactly the single-threaded answers. Built a
 * second time with ThreadSanitizer by scripts/test. (TSan sees our code; GEOS is not
 * instrumented, so the lazily-built GEOS indexes are covered by the warm-up in
 * geo_index_freeze and by the answers being compared here.)
 * usage: test_locate_threads DB
 */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "geo/locate.h"
#include "server/areas.h"

#define NPOINTS  10000
#define NTHREADS 4

static struct geo_index *ix;
static double pts[NPOINTS][2];
static const struct geo_area *expect[NPOINTS][RP_LEVEL_COUNT];
static int expect_rc[NPOINTS];

struct job {
    int offset, mismatches, rc;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    struct geo_ctx gc;
    struct rp_err err = {0};

    j->rc = geo_ctx_init(&gc, &err);
    for (int k = 0; j->rc == RP_OK && k < NPOINTS; k++) {
        int i = (k + j->offset) % NPOINTS; /* threads walk different points at the same time */
        struct geo_place p;
        int rc = geo_locate(ix, &gc, pts[i][0], pts[i][1], GEO_SNAP_DEFAULT_M, &p, &err);
        rp_err_clear(&err);
        if (rc != expect_rc[i] || memcmp(p.area, expect[i], sizeof p.area) != 0)
            j->mismatches++;
    }
    geo_ctx_fini(&gc);
    return NULL;
}

static void test_threads_get_the_single_threaded_answers(void)
{
    pthread_t t[NTHREADS];
    struct job jobs[NTHREADS];

    for (int i = 0; i < NTHREADS; i++) {
        jobs[i] = (struct job){i * (NPOINTS / NTHREADS), 0, 0};
        CHECK(pthread_create(&t[i], NULL, worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT_EQ(jobs[i].rc, RP_OK);
        CHECK_INT_EQ(jobs[i].mismatches, 0);
    }
}

int main(int argc, char **argv)
{
    struct geo_ctx gc;
    struct rp_err err = {0};
    struct store *s = NULL;
    int inside = 0, rc;

    if (argc < 2 || geo_ctx_init(&gc, &err) || store_open(argv[1], &s, &err) ||
        areas_index_load(s, &gc, &ix, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    srand(11);
    for (int i = 0; i < NPOINTS; i++) {
        struct geo_place p;
        /* half in the metro area, where all three levels and many borders are */
        pts[i][0] = i % 2 ? -83.1 + 6.0 * rand() / RAND_MAX : -79.7 + 0.7 * rand() / RAND_MAX;
        pts[i][1] = i % 2 ? 7.15 + 2.55 * rand() / RAND_MAX : 8.9 + 0.4 * rand() / RAND_MAX;
        expect_rc[i] = geo_locate(ix, &gc, pts[i][0], pts[i][1], GEO_SNAP_DEFAULT_M, &p, &err);
        rp_err_clear(&err);
        memcpy(expect[i], p.area, sizeof p.area);
        inside += expect_rc[i] == RP_OK;
    }
    CHECK(inside > NPOINTS / 2);
    RUN(test_threads_get_the_single_threaded_answers);
    rc = check_exit();
    geo_index_destroy(ix, &gc);
    store_close(s);
    geo_ctx_fini(&gc);
    return rc;
}
