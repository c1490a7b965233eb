/*
 * tests/it_stats.c - the scorecard against the cases themselves: a fixture of cases made
 * through the real server (several services and places, status changes, a transfer,
 * confirmations), then given a past by plain SQL updates of their times (the triggers keep the
 * aggregates as any change does), and every number of GET /api/v1/stats - per group, with two
 * keys, with filters, as CSV - compared with a plain SQL aggregate over the reports table,
 * quantiles recomputed here from the cases' own hours to close.
 * usage: it_stats PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <sqlite3.h>
#include <time.h>

#include "it.h"

static struct it_server srv;
static char admin[128], idaan[128];

static const char *jstr(json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

static void make_fixture(void)
{
    static const struct {
        const char *service;
        double lat, lon;
    } at[] = {
        {"fuga_agua", 8.9800, -79.5200},  {"fuga_agua", 8.9810, -79.5210},
        {"fuga_agua", 9.0400, -79.4600},  {"basura", 8.9700, -79.5300},
        {"basura", 9.3500, -79.9000},     {"basura", 8.4300, -82.4300},
        {"hueco", 8.9900, -79.5100},      {"hueco", 7.9650, -80.4300},
        {"fuga_agua", 8.0900, -80.9800},  {"vehiculo_obstruccion", 8.9952, -79.5201},
        {"basura", 9.0600, -79.4500},     {"fuga_agua", 8.9820, -79.5190},
    };
    char body[256], path[160], cases[12][32];
    struct it_reply r;

    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        json_t *j;
        snprintf(body, sizeof body, "{\"service_code\":\"%s\",\"lat\":%.4f,\"lon\":%.4f}",
                 at[i].service, at[i].lat, at[i].lon);
        CHECK(it_send(&srv, "POST", "/api/v1/reports", NULL, body, &r) == 0);
        CHECK_INT_EQ(r.status, 201);
        j = it_json(&r);
        snprintf(cases[i], sizeof cases[i], "%s", jstr(j, "id"));
        json_decref(j);
        free(r.body);
    }
    /* resolve some (as admin: any entity), reject one, transfer one, confirm a few */
    for (size_t i = 0; i < 12; i += 2) {
        snprintf(path, sizeof path, "/api/v1/reports/%.31s/status", cases[i]);
        CHECK(it_send(&srv, "POST", path, admin, "{\"status\":\"resolved\"}", &r) == 0);
        if (r.status != 200)
            CHECK_REPORT("%s: %ld %s", path, r.status, r.body);
        free(r.body);
    }
    snprintf(path, sizeof path, "/api/v1/reports/%.31s/status", cases[3]);
    CHECK(it_send(&srv, "POST", path, admin, "{\"status\":\"rejected\"}", &r) == 0);
    free(r.body);
    snprintf(path, sizeof path, "/api/v1/reports/%.31s/transfer", cases[5]);
    CHECK(it_send(&srv, "POST", path, admin, "{\"entity\":\"MOP\",\"reason\":\"vía nacional\"}",
                  &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "/api/v1/reports/%.31s/confirm", cases[1 + 4 * k]);
        snprintf(body, sizeof body, "{\"device_id\":\"dev-%d\"}", k);
        CHECK(it_send(&srv, "POST", path, NULL, body, &r) == 0);
        free(r.body);
    }
    /* a past: cases spread over three months, closed after 1..90 hours, some late; the
     * triggers move their contributions as these updates land */
    it_sql(&srv, "UPDATE reports SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', '2026-08-01',"
            " '+' || (id * 9) || ' days', '+' || (id * 5) || ' hours'),"
            " due_at = strftime('%Y-%m-%dT%H:%M:%SZ', '2026-08-01', '+' || (id * 9) || ' days',"
            " '+' || (id * 5 + 48) || ' hours')");
    it_sql(&srv, "UPDATE reports SET closed_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at,"
            " '+' || ((id * 37) % 90 + 1) || ' hours', '+' || (id * 7 % 60) || ' minutes')"
            " WHERE closed_at IS NOT NULL");
    /* closed exactly 3 and 7 hours after creation: whole hours must not come out one short */
    it_sql(&srv, "UPDATE reports SET closed_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at,"
            " '+' || (3 + 4 * (id % 2)) || ' hours') WHERE closed_at IS NOT NULL AND id % 3 = 0");
    /* ratings of some closed cases, and first news within 30 days for some, after for others */
    it_sql(&srv, "UPDATE reports SET rating = id % 5 + 1 WHERE closed_at IS NOT NULL AND id % 4 <> 1");
    it_sql(&srv, "UPDATE reports SET followed_up_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at,"
            " '+' || (id * 7 % 45) || ' days')");
}

/* The plain-SQL truth for a grouping: expr1, expr2 and a WHERE clause over reports r. */
struct truth {
    char key[2][40];
    long received, open, closed, in_sla, confirmations, overdue, median, p90;
    long ratings, rating_sum, followed_up;
};

static long long epoch(const char *utc)
{
    struct tm tm = {0};

    if (!utc || sscanf(utc, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                       &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static long nearest_rank(const long *h, size_t n, double p)
{
    size_t rank = (size_t)ceil(p * (double)n);
    return n == 0 ? -1 : h[(rank ? rank : 1) - 1];
}

struct hours_of {
    long v[64];
    size_t n;
};

static void hour_row(void *ctx, int nc, const char *const *v)
{
    struct hours_of *h = ctx;
    if (nc >= 2 && h->n < 64)
        h->v[h->n++] = (long)((epoch(v[1]) - epoch(v[0])) / 3600);
}

struct truths_of {
    struct truth *out;
    size_t n, max;
    const char *k1, *k2, *where;
};

static void truth_row(void *ctx, int nc, const char *const *v)
{
    struct truths_of *x = ctx;
    struct truth *t;
    struct hours_of h = {{0}, 0};
    char hs[2048];

    if (x->n >= x->max || nc < 11)
        return;
    t = &x->out[x->n++];
    snprintf(t->key[0], sizeof t->key[0], "%s", v[0] ? v[0] : "");
    snprintf(t->key[1], sizeof t->key[1], "%s", v[1] ? v[1] : "");
    t->received = atoi(v[2]);
    t->open = atoi(v[3]);
    t->closed = atoi(v[4]);
    t->in_sla = atoi(v[5]);
    t->confirmations = atoi(v[6]);
    t->overdue = atoi(v[7]);
    t->ratings = atoi(v[8]);
    t->rating_sum = atoi(v[9]);
    t->followed_up = atoi(v[10]);
    /* its hours to close, sorted, from the cases: whole hours of whole seconds (the keys are
     * the test's own area and service codes, never input) */
    snprintf(hs, sizeof hs,
             "SELECT created_at, closed_at FROM reports r WHERE %s AND closed_at IS NOT NULL"
             " AND %s = '%s' AND %s = '%s'",
             x->where, x->k1, t->key[0], x->k2, t->key[1]);
    CHECK(it_query(srv.db, hs, hour_row, &h) >= 0);
    qsort(h.v, h.n, sizeof *h.v, cmp_long);
    t->median = nearest_rank(h.v, h.n, 0.5);
    t->p90 = nearest_rank(h.v, h.n, 0.9);
}

static size_t truths(const char *k1, const char *k2, const char *where, struct truth *out,
                     size_t max)
{
    char sql[2048];
    struct truths_of x = {out, 0, max, k1, k2, where};

    snprintf(sql, sizeof sql,
             "SELECT %s, %s, count(*), sum(closed_at IS NULL), sum(closed_at IS NOT NULL),"
             " sum(closed_at IS NOT NULL AND closed_at <= due_at), sum(confirmations),"
             " sum(closed_at IS NULL AND due_at < strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now')),"
             " sum(rating IS NOT NULL), sum(coalesce(rating, 0)), sum(followed_up_at IS NOT NULL"
             " AND unixepoch(followed_up_at) - unixepoch(created_at) <= 30 * 86400)"
             " FROM reports r WHERE %s GROUP BY 1, 2 ORDER BY 1, 2",
             k1, k2, where);
    CHECK(it_query(srv.db, sql, truth_row, &x) >= 0);
    return x.n;
}

static long num(json_t *g, const char *k)
{
    json_t *v = json_object_get(g, k);
    return json_is_null(v) || !v ? -1 : (long)json_integer_value(v);
}

/* GET path and compare each group with the truths (keys named n1, n2; NULL: none). */
static void compare(const char *path, const char *n1, const char *n2, const struct truth *t,
                    size_t nt)
{
    struct it_reply r;
    json_t *j, *groups;

    CHECK(it_get(&srv, path, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    j = it_json(&r);
    groups = json_object_get(j, "groups");
    if (json_array_size(groups) != nt)
        CHECK_REPORT("%s: %zu groups, the cases make %zu", path, json_array_size(groups), nt);
    for (size_t i = 0; i < nt && i < json_array_size(groups); i++) {
        json_t *g = json_array_get(groups, i);
        const char *k1 = n1 ? jstr(g, n1) : "", *k2 = n2 ? jstr(g, n2) : "";
        double pct = t[i].closed ? round(1000.0 * t[i].in_sla / t[i].closed) / 10 : -1;
        CHECK_STR_EQ(k1 ? k1 : "", t[i].key[0]);
        CHECK_STR_EQ(k2 ? k2 : "", t[i].key[1]);
        CHECK_INT_EQ(num(g, "received"), t[i].received);
        CHECK_INT_EQ(num(g, "open"), t[i].open);
        CHECK_INT_EQ(num(g, "closed"), t[i].closed);
        CHECK_INT_EQ(num(g, "closed_within_sla"), t[i].in_sla);
        CHECK_INT_EQ(num(g, "confirmations"), t[i].confirmations);
        CHECK_INT_EQ(num(g, "overdue"), t[i].overdue);
        CHECK_INT_EQ(num(g, "median_hours_to_close"), t[i].median);
        CHECK_INT_EQ(num(g, "p90_hours_to_close"), t[i].p90);
        CHECK_INT_EQ(num(g, "ratings"), t[i].ratings);
        CHECK_INT_EQ(num(g, "followed_up_within_30_days"), t[i].followed_up);
        if (t[i].ratings)
            CHECK_NEAR(json_real_value(json_object_get(g, "satisfaction")),
                       round(100.0 * t[i].rating_sum / t[i].ratings) / 100, 1e-9);
        else
            CHECK(json_is_null(json_object_get(g, "satisfaction")));
        if (pct >= 0)
            CHECK_NEAR(json_real_value(json_object_get(g, "closed_within_sla_pct")), pct, 1e-9);
        else
            CHECK(json_is_null(json_object_get(g, "closed_within_sla_pct")));
    }
    json_decref(j);
    free(r.body);
}

static long expected_cases = 12;

static void test_every_number_equals_the_plain_aggregate(void)
{
    struct truth t[128];
    size_t n;
    long total = 0;

    n = truths("coalesce(r.distrito_code, '')", "''", "1 = 1", t, 128);
    for (size_t i = 0; i < n; i++)
        total += t[i].received;
    CHECK_INT_EQ(total, expected_cases);
    CHECK(n >= 5);
    compare("/api/v1/stats?group=distrito", "distrito", NULL, t, n);
    n = truths("r.entity_code", "substr(date(r.created_at, '-5 hours'), 1, 7)", "1 = 1", t, 128);
    CHECK(n >= 4);
    compare("/api/v1/stats?group=entity&group=month", "entity", "month", t, n);
    n = truths("r.service_code", "''", "1 = 1", t, 128);
    compare("/api/v1/stats?group=service", "service", NULL, t, n);
    n = truths("''", "''", "1 = 1", t, 128);
    CHECK_INT_EQ(n, 1);
    compare("/api/v1/stats", NULL, NULL, t, n);
    n = truths("coalesce(r.corregimiento_code, '')", "r.service_code",
               "r.service_code = 'fuga_agua' AND date(r.created_at, '-5 hours') >= '2026-08-20'"
               " AND date(r.created_at, '-5 hours') <= '2026-10-15'",
               t, 128);
    CHECK(n >= 1);
    compare("/api/v1/stats?group=corregimiento&group=service&service=fuga_agua&from=2026-08-20"
            "&to=2026-10-15",
            "corregimiento", "service", t, n);
    n = truths("r.entity_code", "''", "'08' IN (r.provincia_code, r.distrito_code, r.corregimiento_code)", t, 128);
    compare("/api/v1/stats?group=entity&area=08", "entity", NULL, t, n);
}

static void test_csv_and_bad_queries(void)
{
    struct it_reply r;

    CHECK(it_get(&srv, "/api/v1/stats.csv?group=distrito", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.headers, "text/csv") != NULL);
    CHECK(r.body && strncmp(r.body, "distrito,received,open,closed,closed_within_sla,", 48) == 0);
    {
        int lines = 0;
        for (const char *p = r.body; p && *p; p++)
            lines += *p == '\n';
        struct truth t[128];
        CHECK_INT_EQ(lines, (int)truths("coalesce(r.distrito_code, '')", "''", "1 = 1", t, 128) + 1);
    }
    free(r.body);
    static const char *const bad[] = {
        "/api/v1/stats?group=planet",
        "/api/v1/stats?group=entity&group=entity",
        "/api/v1/stats?group=entity&group=month&group=service",
        "/api/v1/stats?from=yesterday",
        "/api/v1/stats?to=2026-13-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j;
        CHECK(it_get(&srv, bad[i], &r) == 0);
        CHECK_INT_EQ(r.status, 400);
        j = it_json(&r);
        CHECK_STR_EQ(it_error_code(j), "invalid_argument");
        json_decref(j);
        free(r.body);
    }
}

/* The server answers from memory: a case deleted and one moved by plain SQL behind its back
 * (its change log names them) must leave every number equal to a recount. */
static void test_changes_behind_the_servers_back(void)
{
    it_sql(&srv, "DELETE FROM report_history WHERE report_id = 2; DELETE FROM confirmations WHERE"
            " report_id = 2; DELETE FROM photos WHERE report_id = 2; DELETE FROM events WHERE"
            " report_id = 2; DELETE FROM reports WHERE id = 2");
    it_sql(&srv, "UPDATE reports SET distrito_code = '0810', corregimiento_code = NULL, rating = 5"
            " WHERE id = 3");
    expected_cases = 11;
    test_every_number_equals_the_plain_aggregate();
}

int main(int argc, char **argv)
{
    if (it_suite_start(argc, argv, &srv) != 0)
        return 1;
    if (it_key_create(&srv, "admin", NULL, "311", admin, sizeof admin) != 0 ||
        it_key_create(&srv, "staff", "IDAAN", "IDAAN", idaan, sizeof idaan) != 0) {
        fprintf(stderr, "keys were not created\n");
        return 1;
    }
    RUN(make_fixture);
    RUN(test_every_number_equals_the_plain_aggregate);
    RUN(test_changes_behind_the_servers_back);
    RUN(test_csv_and_bad_queries);
    return it_suite_end(&srv);
}
