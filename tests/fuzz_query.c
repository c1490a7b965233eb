/*
 * tests/fuzz_query.c - libFuzzer target for query strings: "GET /api/v1/reports?" + the input,
 * a real request (tests/fuzz_http.h), so libmicrohttpd splits and decodes the arguments as it
 * does for the server; then every query reader that needs no store: the case list's filters
 * (h_reports_query: bbox, status lists, dates, limit, cursor), the export's range
 * (export_range), the statistics' group= keys (http_query_all, stats_key_parse), the tile
 * filter (tiles_filter_parse), Open311 start_date/end_date (open311_parse_time), lat/lon and
 * the numbers (http_query_lonlat, http_query_double). Each reader's promise is checked too.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/export.h"
#include "server/h_reports.h"
#include "server/open311.h"
#include "server/routes.h"
#include "server/stats.h"
#include "server/tiles.h"
#include "tests/fuzz_http.h"

#define GROUPS_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the failure always says why, success never */
static void said(int rc, const struct rp_err *err)
{
    if ((rc == RP_OK) != (err->code == RP_OK))
        abort();
}

static void reports(struct http_req *req)
{
    struct store_report_query q;
    struct rp_err err = {0};
    char statuses[160]; /* as h_reports_list */
    int rc = h_reports_query(req, &q, statuses, sizeof statuses, &err);

    said(rc, &err);
    if (rc == RP_OK && (q.limit < 1 || q.limit > 1000 || q.before_id < 0 ||
                        (q.statuses && strlen(q.statuses) >= sizeof statuses)))
        abort();
}

static void export(struct http_req *req)
{
    char since[STORE_TIME_MAX], until[STORE_TIME_MAX];
    struct rp_err err = {0};
    int rc = export_range(http_query(req, "from"), http_query(req, "to"), http_query(req, "month"),
                          since, until, &err);

    said(rc, &err);
    if (rc == RP_OK && strcmp(since, until) >= 0) /* [since, until) is never empty */
        abort();
}

static void stats_groups(struct http_req *req)
{
    const char *groups[GROUPS_MAX];
    int n = http_query_all(req, "group", groups, GROUPS_MAX);

    for (int i = 0; i < n && i < GROUPS_MAX; i++)
        if (!groups[i][0]) /* empty values count as absent */
            abort();
        else
            (void)stats_key_parse(groups[i]); /* -1 or a key: either is an answer */
}

static void tile_filter(struct http_req *req)
{
    static struct tiles_request r; /* 1.3 KB: off the fuzzer's stack */
    struct tiles_params p;
    struct rp_err err = {0};

    h_tiles_params(req, &p);
    said(tiles_filter_parse(&p, &r, &err), &err);
}

static void open311_dates(struct http_req *req)
{
    const char *keys[] = {"start_date", "end_date"};
    char utc[32];

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = http_query(req, keys[i]);
        if (v && open311_parse_time(v, utc, sizeof utc) &&
            (strlen(utc) != 20 || utc[10] != 'T' || utc[19] != 'Z'))
            abort();
    }
}

static void numbers(struct http_req *req)
{
    struct rp_err err = {0}, err2 = {0};
    double lon, lat, v;
    int rc = http_query_lonlat(req, &lon, &lat, &err);

    said(rc, &err);
    if (rc == RP_OK && !(fabs(lon) <= 180 && fabs(lat) <= 90))
        abort();
    rc = http_query_double(req, "snap_m", 500, 0, 5000, &v, &err2);
    said(rc, &err2);
    if (rc == RP_OK && !(v >= 0 && v <= 5000))
        abort();
}

static void check(struct http_req *req, void *ctx)
{
    (void)ctx;
    reports(req);
    export(req);
    stats_groups(req);
    tile_filter(req);
    open311_dates(req);
    numbers(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_http_get_after("/api/v1/reports?", data, size, check, NULL);
    return 0;
}
