/*
 * server/export.c - the open-data export, a page at a time. The reader keeps one page of rows
 * rendered in a buffer; when the connection has taken it all, the next page is read after the
 * last row's (created_at, id). Nothing else grows with the number of rows.
 */
#include "server/export.h"

#include <jansson.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/utc.h"

#define PANAMA_OFFSET_S (5 * 3600) /* a Panama day starts at 05:00 UTC */

static atomic_int exports_open;

struct export {
    struct store *s;
    enum export_format f;
    char until[STORE_TIME_MAX];
    char cur[STORE_TIME_MAX]; /* the keyset: the last row's created_at and id */
    int64_t cur_id;
    char *buf;
    size_t len, cap, pos;
    size_t rows;
    int started, done, failed;
};

static const char *const csv_header =
    "id,service_code,service_name,entity_code,entity_name,status,created_at,closed_at,due_at,"
    "within_sla,provincia_code,provincia_name,distrito_code,distrito_name,corregimiento_code,"
    "corregimiento_name,lat,lon,description\r\n";

/* ---- ranges ---- */

static int day_parse(const char *d, time_t *out)
{
    struct tm tm = {0};
    int y, m, dd;
    char tail;

    if (!d || strlen(d) != 10 || sscanf(d, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) != 3 || m < 1 ||
        m > 12 || dd < 1 || dd > 31 || y < 1970 || y > 9998) /* the day after stays 4 digits */
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = dd;
    *out = timegm(&tm);
    gmtime_r(out, &tm);
    return tm.tm_mday == dd ? 0 : -1; /* 2026-02-30 is not a day */
}

int export_range(const char *from, const char *to, const char *month, char since[STORE_TIME_MAX],
                 char until[STORE_TIME_MAX], struct rp_err *err)
{
    time_t a, b;
    char day[32];

    snprintf(since, STORE_TIME_MAX, "%s", "0000");
    snprintf(until, STORE_TIME_MAX, "%s", "9999");
    if (month) {
        int y, m, ok;
        char tail;
        ok = !(from || to) && strlen(month) == 7 &&
             sscanf(month, "%4d-%2d%c", &y, &m, &tail) == 2 && m >= 1 && m <= 12 && y >= 1970;
        if (ok) {
            snprintf(day, sizeof day, "%04d-%02d-01", y, m);
            ok = day_parse(day, &a) == 0;
            snprintf(day, sizeof day, "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
            ok = ok && day_parse(day, &b) == 0; /* the month after, in day_parse's years too */
        }
        if (!ok)
            return rp_err_set(err, RP_INVALID_ARGUMENT,
                              "month is YYYY-MM (2026-11), and comes without from and to");
        rp_utc_format(a + PANAMA_OFFSET_S, since);
        rp_utc_format(b + PANAMA_OFFSET_S, until);
        return RP_OK;
    }
    if ((from && day_parse(from, &a) != 0) || (to && day_parse(to, &b) != 0))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "from and to are days (2026-11-01), Panama time");
    if (from && to && b < a)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "to is before from");
    if (from)
        rp_utc_format(a + PANAMA_OFFSET_S, since);
    if (to)
        rp_utc_format(b + 86400 + PANAMA_OFFSET_S, until);
    return RP_OK;
}

/* ---- the buffer ---- */

static char *room(struct export *e, size_t n)
{
    if (e->failed)
        return NULL;
    if (n > e->cap - e->len) {
        size_t cap = e->cap ? e->cap : 64 * 1024;
        char *b;
        while (cap - e->len < n)
            cap *= 2;
        if (!(b = realloc(e->buf, cap))) {
            e->failed = 1;
            return NULL;
        }
        e->buf = b;
        e->cap = cap;
    }
    return e->buf + e->len;
}

static int put(const char *text, size_t n, void *ctx)
{
    struct export *e = ctx;
    char *at = room(e, n);

    if (!at)
        return -1;
    memcpy(at, text, n);
    e->len += n;
    return 0;
}

static void puts_(struct export *e, const char *text) { (void)put(text, strlen(text), e); }

size_t export_csv_field(const char *v, char *out, size_t n)
{
    size_t k = 0;
    int quote = v[strcspn(v, ",\"\r\n")] != '\0', formula = strchr("=+-@", v[0]) && v[0];

#define OUT(c)                                                                             \
    do {                                                                                   \
        if (k + 1 < n)                                                                     \
            out[k] = (c);                                                                  \
        k++;                                                                               \
    } while (0)
    if (quote)
        OUT('"');
    if (formula)
        OUT('\'');
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            OUT('"');
        OUT(*p);
    }
    if (quote)
        OUT('"');
#undef OUT
    if (n)
        out[k < n ? k : n - 1] = '\0';
    return k;
}

static void put_field(struct export *e, const char *v, int last)
{
    size_t need = 2 * strlen(v) + 4;
    char *at = room(e, need);

    if (!at)
        return;
    e->len += export_csv_field(v, at, need);
    e->buf[e->len++] = last ? '\r' : ',';
    if (last)
        e->buf[e->len++] = '\n';
}

/* ---- rows ---- */

static double round3(double v) { return round(v * 1000.0) / 1000.0; }

static int row_csv(struct export *e, const struct store_export_row *r)
{
    char num[64];
    const char *cols[] = {r->case_no,      r->service_code, r->service_name, r->entity_code,
                          r->entity_name,  r->status,       r->created_at,   r->closed_at,
                          r->due_at,       r->within_sla < 0 ? "" : r->within_sla ? "true" : "false",
                          r->area_code[2], r->area_name[2], r->area_code[1], r->area_name[1],
                          r->area_code[0], r->area_name[0]};

    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        put_field(e, cols[i] ? cols[i] : "", 0);
    snprintf(num, sizeof num, "%.3f,%.3f,", round3(r->lat), round3(r->lon));
    puts_(e, num);
    put_field(e, r->description ? r->description : "", 1);
    return e->failed ? -1 : 0;
}

static const char *nz(const char *v) { return v && v[0] ? v : NULL; }

static int row_geojson(struct export *e, const struct store_export_row *r)
{
    json_t *f = json_pack(
        "{s:s, s:{s:s, s:[f, f]}, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:o, s:s?, "
        "s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}}",
        "type", "Feature", "geometry", "type", "Point", "coordinates", round3(r->lon),
        round3(r->lat), "properties", "id", r->case_no, "service_code", r->service_code,
        "service_name", r->service_name, "entity_code", r->entity_code, "entity_name",
        r->entity_name, "status", r->status, "created_at", r->created_at, "closed_at",
        nz(r->closed_at), "due_at", r->due_at, "within_sla",
        r->within_sla < 0 ? json_null() : json_boolean(r->within_sla), "provincia_code",
        nz(r->area_code[2]), "provincia_name", nz(r->area_name[2]), "distrito_code",
        nz(r->area_code[1]), "distrito_name", nz(r->area_name[1]), "corregimiento_code",
        nz(r->area_code[0]), "corregimiento_name", nz(r->area_name[0]), "description",
        nz(r->description));

    if (!f)
        return -1;
    if (e->rows > 0)
        puts_(e, ",\n");
    if (json_dump_callback(f, put, e, JSON_COMPACT | JSON_REAL_PRECISION(10)) != 0)
        e->failed = 1;
    json_decref(f);
    return e->failed ? -1 : 0;
}

static int on_row(void *ctx, const struct store_export_row *r, struct rp_err *err)
{
    struct export *e = ctx;
    int bad = e->f == EXPORT_CSV ? row_csv(e, r) : row_geojson(e, r);

    if (bad)
        return rp_err_set(err, RP_NO_MEMORY, "export row");
    snprintf(e->cur, sizeof e->cur, "%s", r->created_at);
    e->cur_id = r->id;
    e->rows++;
    return RP_OK;
}

/* The next page into the (drained) buffer; the trailer after the last. */
static int fill(struct export *e)
{
    struct rp_err err = {0};
    size_t n = 0;

    e->len = e->pos = 0;
    if (!e->started) {
        e->started = 1;
        puts_(e, e->f == EXPORT_CSV ? csv_header
                                    : "{\"type\":\"FeatureCollection\",\"license\":\"" EXPORT_LICENCE
                                      "\",\"features\":[\n");
    }
    if (store_export_page(e->s, e->cur, e->cur_id, e->until, EXPORT_PAGE_ROWS, on_row, e, &n,
                          &err) != RP_OK) {
        rp_warn("export: stopped after %zu rows: %s", e->rows, err.msg);
        return -1;
    }
    if (n < EXPORT_PAGE_ROWS) {
        e->done = 1;
        if (e->f == EXPORT_GEOJSON)
            puts_(e, "\n]}\n");
    }
    return e->failed ? -1 : 0;
}

long export_read(void *ctx, char *buf, size_t max)
{
    struct export *e = ctx;
    size_t n;

    while (e->pos == e->len) {
        if (e->done)
            return 0;
        if (fill(e) != 0)
            return -1;
    }
    n = e->len - e->pos < max ? e->len - e->pos : max;
    memcpy(buf, e->buf + e->pos, n);
    e->pos += n;
    return (long)n;
}

void export_free(void *ctx)
{
    struct export *e = ctx;

    if (!e)
        return;
    store_close(e->s);
    free(e->buf);
    free(e);
    atomic_fetch_sub(&exports_open, 1);
}

int export_open(const char *db_path, enum export_format f, const char *since, const char *until,
                struct export **out, struct rp_err *err)
{
    struct export *e;

    *out = NULL;
    if (atomic_fetch_add(&exports_open, 1) >= EXPORT_OPEN_MAX) {
        atomic_fetch_sub(&exports_open, 1);
        return rp_err_set(err, RP_UNAVAILABLE, "%d exports are running; try again shortly",
                          EXPORT_OPEN_MAX);
    }
    if (!(e = calloc(1, sizeof *e))) {
        atomic_fetch_sub(&exports_open, 1);
        return rp_err_set(err, RP_NO_MEMORY, "export");
    }
    if (store_open(db_path, &e->s, err) != RP_OK) {
        free(e);
        atomic_fetch_sub(&exports_open, 1);
        return err->code;
    }
    e->f = f;
    snprintf(e->cur, sizeof e->cur, "%s", since);
    snprintf(e->until, sizeof e->until, "%s", until);
    *out = e;
    return RP_OK;
}
