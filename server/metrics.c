/*
 * server/metrics.c - the counters and their exposition. Histogram buckets are kept per
 * bucket and summed into Prometheus' cumulative form when rendered.
 */
#include "server/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/store.h"
#include "server/http.h"
#include "server/outbox.h"
#include "server/routes.h"
#include "server/tiles.h"
#include "server/tows.h"
#include "server/worker.h"

static const int statuses[] = {200, 201, 204, 206, 301, 304, 400, 401, 403, 404, 405, 409,
                               413, 414, 415, 422, 429, 431, 500, 503, 507};
#define NSTATUS   (sizeof statuses / sizeof statuses[0] + 1) /* the last: any other */
static const double lat_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NLAT      (sizeof lat_le / sizeof lat_le[0] + 1)
#define ROW_NONE  METRICS_ROUTES_MAX

static atomic_uint_fast64_t by_status[METRICS_ROUTES_MAX + 1][NSTATUS];
static atomic_uint_fast64_t by_latency[METRICS_ROUTES_MAX + 1][NLAT];
static atomic_uint_fast64_t micros_sum[METRICS_ROUTES_MAX + 1];
static atomic_uint_fast64_t counters[METRICS__COUNTERS];

void metrics_request(int route_index, int status, uint64_t micros)
{
    int row = route_index >= 0 && route_index < METRICS_ROUTES_MAX ? route_index : ROW_NONE;
    size_t s = 0, b = 0;
    double secs = (double)micros / 1e6;

    while (s < NSTATUS - 1 && statuses[s] != status)
        s++;
    while (b < NLAT - 1 && secs > lat_le[b])
        b++;
    atomic_fetch_add_explicit(&by_status[row][s], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&by_latency[row][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&micros_sum[row], micros, memory_order_relaxed);
}

void metrics_count(enum metrics_counter c)
{
    atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed);
}

/* ---- text ---- */

struct text {
    char *s;
    size_t len, cap;
    int failed;
};

__attribute__((format(printf, 2, 3))) static void out(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        char *b = realloc(t->s, t->cap * 2 + (size_t)n);
        if (!b) {
            t->failed = 1;
            return;
        }
        t->s = b;
        t->cap = t->cap * 2 + (size_t)n;
    }
}

static void head(struct text *t, const char *name, const char *type, const char *help)
{
    out(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *method_of(unsigned m)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (m & (1u << i))
            return names[i];
    return "OTHER";
}

/* One histogram series from per-bucket counts. labels: `k="v",` or "". */
static void histogram(struct text *t, const char *name, const char *labels, const uint64_t *per,
                      const double *le, size_t n, double sum)
{
    uint64_t cum = 0;

    for (size_t i = 0; i < n; i++) {
        cum += per[i];
        if (i + 1 < n)
            out(t, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, le[i], (unsigned long long)cum);
        else
            out(t, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, (unsigned long long)cum);
    }
    out(t, "%s_sum{%.*s} %.6f\n", name, labels[0] ? (int)strlen(labels) - 1 : 0, labels, sum);
    out(t, "%s_count{%.*s} %llu\n", name, labels[0] ? (int)strlen(labels) - 1 : 0, labels,
        (unsigned long long)cum);
}

static void http_families(struct text *t)
{
    size_t nroutes = 0;
    const struct route *routes = routes_table(&nroutes);
    char labels[256];

    if (nroutes > METRICS_ROUTES_MAX)
        nroutes = METRICS_ROUTES_MAX;
    head(t, "reporta_http_requests_total", "counter", "HTTP requests by route, method and status.");
    for (size_t r = 0; r <= nroutes; r++) {
        int row = r == nroutes ? ROW_NONE : (int)r;
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t v = atomic_load_explicit(&by_status[row][s], memory_order_relaxed);
            if (!v)
                continue;
            out(t, "reporta_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s%d\"} %llu\n",
                r == nroutes ? "unmatched" : routes[r].pattern,
                r == nroutes ? "any" : method_of(routes[r].methods),
                s == NSTATUS - 1 ? "other" : "", s == NSTATUS - 1 ? 0 : statuses[s],
                (unsigned long long)v);
        }
    }
    head(t, "reporta_http_request_duration_seconds", "histogram",
         "Time from a request's first byte to its reply being queued, by route and method.");
    for (size_t r = 0; r <= nroutes; r++) {
        int row = r == nroutes ? ROW_NONE : (int)r;
        uint64_t per[NLAT], any = 0;
        for (size_t b = 0; b < NLAT; b++)
            any += per[b] = atomic_load_explicit(&by_latency[row][b], memory_order_relaxed);
        if (!any)
            continue;
        snprintf(labels, sizeof labels, "route=\"%s\",method=\"%s\",",
                 r == nroutes ? "unmatched" : routes[r].pattern,
                 r == nroutes ? "any" : method_of(routes[r].methods));
        histogram(t, "reporta_http_request_duration_seconds", labels, per, lat_le, NLAT,
                  (double)atomic_load_explicit(&micros_sum[row], memory_order_relaxed) / 1e6);
    }
}

static int hook_backlog(void *ctx, const struct store_webhook *w, struct rp_err *err)
{
    (void)err;
    out(ctx, "reporta_outbox_backlog{webhook=\"%lld\"} %lld\n", (long long)w->id,
        (long long)w->pending);
    return RP_OK;
}

char *metrics_render(struct app *app, size_t *len)
{
    struct text t = {malloc(16384), 0, 16384, 0};
    struct tilecache_stats tc = {0};
    struct store_writer_hist wh = {0};
    struct outbox_hook_stats hooks[OUTBOX_HOOKS_MAX];
    struct tows_metrics m = {0};
    struct worker *w;
    struct rp_err err = {0};
    int nh;

    if (!t.s)
        return NULL;
    http_families(&t);
    head(&t, "reporta_http_requests_in_flight", "gauge", "Requests begun and not yet completed.");
    out(&t, "reporta_http_requests_in_flight %ld\n", atomic_load(&app->inflight));
    head(&t, "reporta_cases_created_total", "counter", "Cases created (replays not counted).");
    out(&t, "reporta_cases_created_total %llu\n",
        (unsigned long long)atomic_load(&counters[METRICS_CASES_CREATED]));
    head(&t, "reporta_locate_total", "counter",
         "Points resolved to areas (GET /api/v1/locate and every new case).");
    out(&t, "reporta_locate_total %llu\n", (unsigned long long)atomic_load(&counters[METRICS_LOCATES]));

    if (app->tiles)
        tiles_cache_stats(app->tiles, &tc);
    head(&t, "reporta_tile_cache_hits_total", "counter", "Tiles served from the cache.");
    out(&t, "reporta_tile_cache_hits_total %llu\n", (unsigned long long)tc.hits);
    head(&t, "reporta_tile_cache_misses_total", "counter", "Tiles rendered because not cached.");
    out(&t, "reporta_tile_cache_misses_total %llu\n", (unsigned long long)tc.misses);
    head(&t, "reporta_tile_cache_stale_total", "counter", "Cached tiles found stale (re-rendered).");
    out(&t, "reporta_tile_cache_stale_total %llu\n", (unsigned long long)tc.stale);
    head(&t, "reporta_tile_cache_evictions_total", "counter", "Tiles dropped to stay in budget.");
    out(&t, "reporta_tile_cache_evictions_total %llu\n", (unsigned long long)tc.evictions);
    head(&t, "reporta_tile_cache_entries", "gauge", "Tiles held.");
    out(&t, "reporta_tile_cache_entries %zu\n", tc.entries);
    head(&t, "reporta_tile_cache_bytes", "gauge", "Bytes of tiles held.");
    out(&t, "reporta_tile_cache_bytes %zu\n", tc.bytes);
    head(&t, "reporta_tile_cache_max_bytes", "gauge", "The cache's budget (--tile-cache-mb).");
    out(&t, "reporta_tile_cache_max_bytes %zu\n", tc.max_bytes);

    if (app->writer)
        store_writer_hist(app->writer, &wh);
    head(&t, "reporta_writer_commits_total", "counter", "Commits of the group-commit writer.");
    out(&t, "reporta_writer_commits_total %llu\n", (unsigned long long)wh.commits);
    head(&t, "reporta_writer_jobs_total", "counter",
         "Writes (reports, photos, position batches) the commits carried.");
    out(&t, "reporta_writer_jobs_total %llu\n", (unsigned long long)wh.jobs);
    head(&t, "reporta_writer_batch_size", "histogram", "Writes per commit.");
    histogram(&t, "reporta_writer_batch_size", "", wh.batch, STORE_WRITER_BATCH_LE,
              STORE_WRITER_BUCKETS, (double)wh.jobs);
    head(&t, "reporta_writer_commit_seconds", "histogram", "Time per commit, fsync included.");
    histogram(&t, "reporta_writer_commit_seconds", "", wh.seconds, STORE_WRITER_SECONDS_LE,
              STORE_WRITER_BUCKETS, wh.seconds_sum);

    nh = outbox_stats(app->outbox, hooks, OUTBOX_HOOKS_MAX);
    head(&t, "reporta_outbox_delivered_total", "counter",
         "Events a webhook acknowledged (2xx), since this process started.");
    for (int i = 0; i < nh; i++)
        out(&t, "reporta_outbox_delivered_total{webhook=\"%lld\"} %llu\n", (long long)hooks[i].id,
            (unsigned long long)hooks[i].delivered);
    head(&t, "reporta_outbox_failures_total", "counter",
         "Delivery attempts that failed, since this process started.");
    for (int i = 0; i < nh; i++)
        out(&t, "reporta_outbox_failures_total{webhook=\"%lld\"} %llu\n", (long long)hooks[i].id,
            (unsigned long long)hooks[i].failures);
    head(&t, "reporta_outbox_backlog", "gauge", "Events waiting for delivery, per webhook.");
    w = worker_self(app, &err);
    if (w)
        (void)store_webhooks_each(w->store, 1, hook_backlog, &t, &err);

    if (app->tows)
        tows_metrics(app->tows, &m);
    head(&t, "reporta_tow_lookups_total", "counter", "Driver lookups by outcome.");
    out(&t,
        "reporta_tow_lookups_total{result=\"active\"} %llu\n"
        "reporta_tow_lookups_total{result=\"not_active\"} %llu\n"
        "reporta_tow_lookups_total{result=\"ticket\"} %llu\n"
        "reporta_tow_lookups_total{result=\"invalid\"} %llu\n"
        "reporta_tow_lookups_total{result=\"rate_limited\"} %llu\n",
        (unsigned long long)m.lookups_found, (unsigned long long)m.lookups_none,
        (unsigned long long)m.lookups_ticket, (unsigned long long)m.lookups_invalid,
        (unsigned long long)m.lookups_limited);
    head(&t, "reporta_truck_positions_total", "counter", "Truck positions received by outcome.");
    out(&t,
        "reporta_truck_positions_total{result=\"accepted\"} %llu\n"
        "reporta_truck_positions_total{result=\"duplicate\"} %llu\n"
        "reporta_truck_positions_total{result=\"rejected\"} %llu\n",
        (unsigned long long)m.positions_accepted, (unsigned long long)m.positions_duplicate,
        (unsigned long long)m.positions_rejected);
    head(&t, "reporta_tow_arrivals_total", "counter", "Tows moved to at_yard by their geofence.");
    out(&t, "reporta_tow_arrivals_total %llu\n", (unsigned long long)m.arrivals);
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    *len = t.len;
    return t.s;
}
