/*
 * server/hotspots.c - clusters of cases (see hotspots.h): read the matching cases' points
 * from the store, project them to UTM 17N metres, chain them (geo/cluster.c), then summarise
 * each cluster of at least min_cases in one pass over the points.
 */
#include "server/hotspots.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geo/cluster.h"

struct pt {
    double lon, lat;
    char case_no[STORE_CASE_MAX];
    char created_at[STORE_TIME_MAX];
    char corregimiento[STORE_CODE_MAX];
    int open;
};

struct pts {
    struct pt *v;
    size_t n, cap;
};

static int take(void *ctx, const struct store_point *p, struct rp_err *err)
{
    struct pts *a = ctx;
    struct pt *t;

    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        struct pt *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return rp_err_set(err, RP_NO_MEMORY, "hotspot points");
        a->v = v;
        a->cap = cap;
    }
    t = &a->v[a->n++];
    t->lon = p->lon;
    t->lat = p->lat;
    snprintf(t->case_no, sizeof t->case_no, "%s", p->case_no);
    snprintf(t->created_at, sizeof t->created_at, "%s", p->created_at);
    snprintf(t->corregimiento, sizeof t->corregimiento, "%s", p->area[0] ? p->area[0] : "");
    t->open = !strcmp(p->status, "received") || !strcmp(p->status, "assigned") ||
              !strcmp(p->status, "in_progress");
    return RP_OK;
}

struct summary {
    size_t n, open;
    double slon, slat;
    const char *first, *last;
    uint32_t cluster;
};

static int by_count(const void *a, const void *b)
{
    const struct summary *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return x->cluster > y->cluster ? 1 : (x->cluster < y->cluster ? -1 : 0);
}

static int by_code(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The corregimiento most of the members lie in (codes sorted, the longest run; ties: the
 * smaller code). codes has room for n. */
static const char *main_area(const struct pts *a, const uint32_t *members, size_t n,
                             const char **codes)
{
    const char *best = "";
    size_t m = 0, best_n = 0;

    for (size_t i = 0; i < n; i++)
        if (a->v[members[i]].corregimiento[0])
            codes[m++] = a->v[members[i]].corregimiento;
    qsort(codes, m, sizeof *codes, by_code);
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && strcmp(codes[j], codes[i]) == 0)
            j++;
        if (j - i > best_n) {
            best_n = j - i;
            best = codes[i];
        }
        i = j;
    }
    return best;
}

static json_t *feature(struct app *app, const struct pts *a, const uint32_t *members,
                       const struct summary *s, double radius_m, const char **codes)
{
    const char *code = main_area(a, members, s->n, codes);
    const struct geo_area *area = code[0] ? geo_index_find(app->areas, code) : NULL;
    json_t *corr =
        area ? json_pack("{s:s, s:s}", "code", area->code, "name", area->name) : json_null();
    json_t *ids = json_array();

    for (size_t i = 0; ids && i < s->n && i < HOTSPOTS_IDS_MAX; i++) /* newest first */
        json_array_append_new(ids, json_string(a->v[members[i]].case_no));
    return json_pack("{s:s, s:{s:s, s:[f, f]}, s:{s:I, s:I, s:s, s:s, s:o, s:f, s:o, s:b}}", "type",
                     "Feature", "geometry", "type", "Point", "coordinates", s->slon / s->n,
                     s->slat / s->n, "properties", "count", (json_int_t)s->n, "open",
                     (json_int_t)s->open, "first_reported_at", s->first, "last_reported_at",
                     s->last, "corregimiento", corr, "radius_m", radius_m, "case_ids", ids,
                     "case_ids_complete", s->n <= HOTSPOTS_IDS_MAX);
}

int hotspots_find(struct app *app, struct worker *w, const struct hotspots_query *q, json_t **out,
                  struct rp_err *err)
{
    struct store_report_query rq = {0};
    struct pts a = {0};
    struct summary *s = NULL;
    double *xy = NULL;
    uint32_t *label = NULL, *slot = NULL, *members = NULL;
    size_t *start = NULL;
    const char **codes = NULL;
    size_t k = 0, kept = 0;
    char since[STORE_TIME_MAX];
    json_t *features = NULL;
    int rc;

    *out = NULL;
    if (!q->since) {
        time_t t = time(NULL) - (time_t)HOTSPOTS_SINCE_DAYS * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    rq.service = q->service;
    rq.entity = q->entity;
    rq.area = q->area;
    rq.since = q->since ? q->since : since;
    rq.limit = HOTSPOTS_POINTS_MAX + 1;
    rc = store_points_query(w->store, &rq, take, &a, err);
    if (rc == RP_OK && a.n > HOTSPOTS_POINTS_MAX)
        rc = rp_err_set(err, RP_INVALID_DATA,
                        "more than %d cases match: narrow it with service, entity, area or since",
                        HOTSPOTS_POINTS_MAX);
    if (rc == RP_OK) {
        xy = malloc((a.n ? a.n : 1) * 2 * sizeof *xy);
        label = malloc((a.n ? a.n : 1) * sizeof *label);
        if (!xy || !label)
            rc = rp_err_set(err, RP_NO_MEMORY, "hotspots");
    }
    for (size_t i = 0; rc == RP_OK && i < a.n; i++) {
        xy[2 * i] = a.v[i].lon;
        xy[2 * i + 1] = a.v[i].lat;
    }
    if (rc == RP_OK)
        rc = geo_ctx_utm(&w->geo, xy, a.n, err);
    if (rc == RP_OK)
        rc = geo_cluster(xy, a.n, q->radius_m, label, &k, err);
    if (rc == RP_OK && !(s = calloc(k ? k : 1, sizeof *s)))
        rc = rp_err_set(err, RP_NO_MEMORY, "hotspots");
    for (size_t i = 0; rc == RP_OK && i < a.n; i++) { /* a pass: counts, times, ids */
        struct summary *c = &s[label[i]];
        const struct pt *p = &a.v[i];
        c->cluster = label[i];
        c->n++;
        c->open += (size_t)p->open;
        c->slon += p->lon;
        c->slat += p->lat;
        if (!c->first || strcmp(p->created_at, c->first) < 0)
            c->first = p->created_at;
        if (!c->last || strcmp(p->created_at, c->last) > 0)
            c->last = p->created_at;
    }
    for (size_t c = 0; rc == RP_OK && c < k; c++)
        kept += s[c].n >= (size_t)q->min_cases;
    if (rc == RP_OK)
        qsort(s, k, sizeof *s, by_count);
    if (rc == RP_OK && kept > (size_t)q->limit)
        kept = (size_t)q->limit;
    if (rc == RP_OK) { /* the kept clusters' members, in store order (newest first) */
        size_t total = 0;
        slot = malloc((k ? k : 1) * sizeof *slot);
        start = calloc(kept + 1, sizeof *start);
        for (size_t c = 0; c < kept; c++)
            total += s[c].n;
        members = malloc((total ? total : 1) * sizeof *members);
        codes = malloc((total ? total : 1) * sizeof *codes);
        if (!slot || !start || !members || !codes)
            rc = rp_err_set(err, RP_NO_MEMORY, "hotspots");
        for (size_t c = 0; rc == RP_OK && c < k; c++)
            slot[c] = UINT32_MAX;
        for (size_t c = 0; rc == RP_OK && c < kept; c++) {
            slot[s[c].cluster] = (uint32_t)c;
            start[c + 1] = start[c] + s[c].n;
        }
        for (size_t c = 0; rc == RP_OK && c < kept; c++)
            s[c].n = 0; /* refilled below as a cursor, back to the count at the end */
        for (size_t i = 0; rc == RP_OK && i < a.n; i++)
            if (slot[label[i]] != UINT32_MAX) {
                size_t c = slot[label[i]];
                members[start[c] + s[c].n++] = (uint32_t)i;
            }
    }
    features = rc == RP_OK ? json_array() : NULL;
    for (size_t c = 0; rc == RP_OK && c < kept; c++) {
        json_t *f = feature(app, &a, members + start[c], &s[c], q->radius_m, codes);
        if (!f || json_array_append_new(features, f))
            rc = rp_err_set(err, RP_NO_MEMORY, "hotspots");
    }
    if (rc == RP_OK)
        *out = json_pack("{s:s, s:o, s:{s:I, s:I, s:s}}", "type", "FeatureCollection", "features",
                         features, "query", "cases", (json_int_t)a.n, "clusters", (json_int_t)kept,
                         "since", rq.since);
    else
        json_decref(features);
    free(s);
    free(slot);
    free(start);
    free(members);
    free(codes);
    free(label);
    free(xy);
    free(a.v);
    if (rc == RP_OK && !*out)
        rc = rp_err_set(err, RP_NO_MEMORY, "hotspots");
    return rc;
}
