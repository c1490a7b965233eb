/*
 * bench/stats.c - the in-process sides of bench/run stats: the scorecard as the server answers
 * it (server/scorecard.h: the cases' counted numbers in memory, caught up with the change log)
 * next to the plain SQL aggregate computing the same numbers from the reports table, in the
 * same run; and, for the record, the aggregate tables of migration 0008 alone.
 *   bench_stats age DB [SEED]   gives the open cases of bench_cases gen a year of history:
 *       creation spread evenly over the last 365 days (due time moved with it, so each keeps
 *       its service's SLA), and each case closed (resolved 85 %, rejected 10 %, closed 5 %)
 *       with probability CLOSE_EVER after a log-normal time to close around its SLA, if that
 *       time has passed by now: ~70 % closed, the rest the open backlog. One plain UPDATE per
 *       case in one transaction, so the triggers keep the aggregates as any change does.
 *   bench_stats run DB ROUNDS [SQL_ROUNDS]   for group=distrito and group=entity&group=month,
 *       ROUNDS calls of the scorecard (refresh + query) and SQL_ROUNDS (default 5) of
 *       the plain aggregate, interleaved so both see the same machine; p50/p99 of each and the
 *       ratio of the p50s. Every number of every group is compared once (received, open,
 *       closed, closed within SLA, confirmations, overdue now, median and p90 hours to
 *       close); exits 1 on any difference. Fixed seed: the same database, the same answers.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data/store.h"
#include "server/scorecard.h"
#include "server/stats.h"

#define SEED             42
#define SPAN_S           (365 * 86400) /* a year of cases */
#define CLOSE_EVER       0.72      /* cases ever closed; with the recent ones still open: ~70 % */
#define CLOSE_MEDIAN     0.6       /* median time to close, as a share of the SLA */
#define CLOSE_SIGMA      1.1       /* log-normal spread: ~2/3 of the closed ones within SLA */
#define CLOSE_MIN_S      600       /* nobody closes a case in under ten minutes */
#define AGE_CACHE_KB     "2000000" /* 2 GB: all of a million cases' database, nothing spilled */
#define SQL_ROUNDS       5
#define OURS_BUDGET_MS   30000 /* per grouping: a slow build takes fewer samples, not all night */
#define MISMATCHES_SHOWN 5

/* clang-format off */
static const struct grouping {
    const char *name;            /* as the API is asked */
    int nkeys;
    enum store_stat_key keys[2];
    const char *sql_k1, *sql_k2; /* the same keys over the reports table */
} groupings[] = {
    {"group=distrito", 1, {STORE_STAT_DISTRITO}, "coalesce(distrito_code, '')", "''"},
    {"group=entity&group=month", 2, {STORE_STAT_ENTITY, STORE_STAT_MONTH}, "entity_code",
     "substr(date(created_at, '-5 hours'), 1, 7)"},
};
/* clang-format on */
#define NGROUPINGS (sizeof groupings / sizeof groupings[0])

/* What migration 0008 counts as a case's hours to close (its stats_close_hours.hours). */
#define SQL_HOURS "(unixepoch(closed_at) - unixepoch(created_at)) / 3600"

/* One group's numbers, whichever side computed them. */
struct row {
    char key[2][STORE_CODE_MAX];
    int64_t received, open, closed, in_sla, confirmations, overdue, median, p90;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double unif(void) { return (rand() + 0.5) / ((double)RAND_MAX + 1.0); }

static double gauss(void) { return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif()); }

static void iso(time_t t, char out[STORE_TIME_MAX])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, STORE_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static time_t parse_iso(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return (time_t)-1;
    return timegm(&tm);
}

static int sql_fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "bench_stats: %s: %s\n", what, sqlite3_errmsg(db));
    return 1;
}

/* ---- age ---- */

struct aged {
    int64_t id;
    time_t created, due;
};

static int age(const char *path, unsigned seed)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct aged *v = NULL;
    size_t n = 0, cap = 0, closed = 0, in_sla = 0;
    time_t now = time(NULL);
    double t0 = now_s();
    int rc = 1;

    if (sqlite3_open(path, &db) != SQLITE_OK)
        return sql_fail(db, path);
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
    /* one transaction for the whole change, in a cache that holds it: nothing is spilled to
     * the log before the commit (half the time of the default cache) */
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA temp_store=MEMORY;"
                     " PRAGMA cache_size=-" AGE_CACHE_KB ";",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT id, created_at, due_at FROM reports ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = sql_fail(db, "read cases");
        goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            size_t c = cap ? 2 * cap : 65536;
            struct aged *w = realloc(v, c * sizeof *w);
            if (!w) {
                fprintf(stderr, "bench_stats age: out of memory\n");
                goto out;
            }
            v = w;
            cap = c;
        }
        v[n].id = sqlite3_column_int64(st, 0);
        v[n].created = parse_iso((const char *)sqlite3_column_text(st, 1));
        v[n].due = parse_iso((const char *)sqlite3_column_text(st, 2));
        if (v[n].created == (time_t)-1 || v[n].due == (time_t)-1) {
            fprintf(stderr, "bench_stats age: case %lld: unreadable times\n", (long long)v[n].id);
            goto out;
        }
        n++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "UPDATE reports SET created_at = ?2, due_at = ?3, updated_at = ?4,"
                           " closed_at = ?5, status = coalesce(?6, status) WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sql_fail(db, "age");
        goto out;
    }
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        time_t sla = v[i].due - v[i].created;
        time_t created = now - (time_t)(unif() * SPAN_S);
        double take = CLOSE_MEDIAN * (double)sla * exp(CLOSE_SIGMA * gauss());
        int ever = unif() < CLOSE_EVER;
        double kind = unif();
        time_t at = created + (take < CLOSE_MIN_S ? CLOSE_MIN_S : (time_t)take);
        char c[STORE_TIME_MAX], d[STORE_TIME_MAX], a[STORE_TIME_MAX];
        int closes = ever && at < now;

        iso(created, c);
        iso(created + sla, d);
        iso(closes ? at : created, a);
        sqlite3_bind_int64(st, 1, v[i].id);
        sqlite3_bind_text(st, 2, c, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, d, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, a, -1, SQLITE_TRANSIENT);
        if (closes) {
            sqlite3_bind_text(st, 5, a, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 6,
                              kind < 0.85   ? "resolved"
                              : kind < 0.95 ? "rejected"
                                            : "closed",
                              -1, SQLITE_STATIC);
            closed++;
            in_sla += at <= created + sla;
        } else {
            sqlite3_bind_null(st, 5);
            sqlite3_bind_null(st, 6);
        }
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = sql_fail(db, "age");
            goto out;
        }
        sqlite3_reset(st);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sql_fail(db, "commit");
        goto out;
    }
    printf("bench_stats age: %zu cases over %d days, %zu closed (%.1f %%, %.1f %% of those "
           "within SLA) in %.1f s\n",
           n, SPAN_S / 86400, closed, n ? 100.0 * (double)closed / (double)n : 0,
           closed ? 100.0 * (double)in_sla / (double)closed : 0, now_s() - t0);
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(v);
    return rc;
}

/* ---- the two sides ---- */

struct rows {
    struct row *v;
    size_t n, cap;
};

static struct row *rows_add(struct rows *r)
{
    if (r->n == r->cap) {
        size_t c = r->cap ? 2 * r->cap : 256;
        struct row *w = realloc(r->v, c * sizeof *w);
        if (!w)
            return NULL;
        r->v = w;
        r->cap = c;
    }
    memset(&r->v[r->n], 0, sizeof r->v[0]);
    return &r->v[r->n++];
}

static struct scorecard *card; /* loaded once, as the server does at startup */
static int use_aggregates;     /* 1: store_stats_query over the aggregate tables instead */

/* reporta: as GET /api/v1/stats does - the scorecard caught up with the change log, then its
 * pass (or, for the record, the aggregate tables of migration 0008). */
static int ours(struct store *s, const struct grouping *g, const char *now, struct rows *out)
{
    struct store_stats_query q;
    struct store_stat_group *v = NULL;
    struct rp_err err = {0};
    size_t n = 0;
    int64_t prune = 0;
    int rc;

    memset(&q, 0, sizeof q);
    q.nkeys = g->nkeys;
    memcpy(q.keys, g->keys, sizeof q.keys);
    q.now = now;
    if (use_aggregates)
        rc = store_stats_query(s, &q, &v, &n, &err);
    else if ((rc = scorecard_refresh(card, s, &prune, &err)) == RP_OK)
        rc = scorecard_query(card, s, &q, &v, &n, &err);
    if (rc != RP_OK) {
        fprintf(stderr, "bench_stats: stats: %s\n", err.msg);
        return 1;
    }
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        struct row *r = rows_add(out);
        if (!r) {
            store_stats_free(v, n);
            return 1;
        }
        memcpy(r->key, v[i].key, sizeof r->key);
        r->received = v[i].received;
        r->open = v[i].open;
        r->closed = v[i].closed;
        r->in_sla = v[i].closed_in_sla;
        r->confirmations = v[i].confirmations;
        r->overdue = v[i].overdue;
        r->median = stats_quantile(&v[i], 0.5);
        r->p90 = stats_quantile(&v[i], 0.9);
    }
    store_stats_free(v, n);
    return 0;
}

static int64_t rank_of(int64_t n, double p)
{
    int64_t k = (int64_t)ceil(p * (double)n);
    return k < 1 ? 1 : k;
}

/* Plain SQL: the counts by GROUP BY over every case, then every closed case's hours ordered by
 * group and hours, read once, each group's nearest ranks picked as they pass. */
static int plain(sqlite3 *db, const struct grouping *g, const char *now, struct rows *out)
{
    char sql[1024];
    sqlite3_stmt *st = NULL;
    size_t at = 0;
    int64_t seen = 0;
    int step;

    snprintf(sql, sizeof sql,
             "SELECT %s, %s, count(*), sum(closed_at IS NULL), sum(closed_at IS NOT NULL),"
             " sum(closed_at IS NOT NULL AND closed_at <= due_at), sum(confirmations),"
             " sum(closed_at IS NULL AND due_at < ?1) FROM reports GROUP BY 1, 2 ORDER BY 1, 2",
             g->sql_k1, g->sql_k2);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, "plain counts");
    sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
    out->n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct row *r = rows_add(out);
        if (!r) {
            sqlite3_finalize(st);
            return 1;
        }
        for (int k = 0; k < 2; k++)
            snprintf(r->key[k], sizeof r->key[k], "%s", (const char *)sqlite3_column_text(st, k));
        r->received = sqlite3_column_int64(st, 2);
        r->open = sqlite3_column_int64(st, 3);
        r->closed = sqlite3_column_int64(st, 4);
        r->in_sla = sqlite3_column_int64(st, 5);
        r->confirmations = sqlite3_column_int64(st, 6);
        r->overdue = sqlite3_column_int64(st, 7);
        r->median = r->p90 = -1;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return sql_fail(db, "plain counts");
    snprintf(sql, sizeof sql,
             "SELECT %s, %s, " SQL_HOURS " FROM reports WHERE closed_at IS NOT NULL"
             " ORDER BY 1, 2, 3",
             g->sql_k1, g->sql_k2);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, "plain hours");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k1 = (const char *)sqlite3_column_text(st, 0),
                   *k2 = (const char *)sqlite3_column_text(st, 1);
        struct row *r;
        while (at < out->n &&
               (strcmp(out->v[at].key[0], k1) != 0 || strcmp(out->v[at].key[1], k2) != 0)) {
            at++;
            seen = 0;
        }
        if (at == out->n)
            break; /* a group the counts did not see: the comparison reports it */
        r = &out->v[at];
        seen++;
        if (seen == rank_of(r->closed, 0.5))
            r->median = sqlite3_column_int64(st, 2);
        if (seen == rank_of(r->closed, 0.9))
            r->p90 = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        return sql_fail(db, "plain hours");
    return 0;
}

/* Every number of every group; prints the first differences. */
static int same(const struct grouping *g, const struct rows *a, const struct rows *b)
{
    size_t bad = 0;

    if (a->n != b->n) {
        printf("MISMATCH %s: reporta has %zu groups, plain SQL %zu\n", g->name, a->n, b->n);
        bad++;
    }
    for (size_t i = 0; i < a->n && i < b->n && bad < MISMATCHES_SHOWN; i++) {
        const struct row *x = &a->v[i], *y = &b->v[i];
        if (strcmp(x->key[0], y->key[0]) || strcmp(x->key[1], y->key[1]) ||
            x->received != y->received || x->open != y->open || x->closed != y->closed ||
            x->in_sla != y->in_sla || x->confirmations != y->confirmations ||
            x->overdue != y->overdue || x->median != y->median || x->p90 != y->p90) {
            printf("MISMATCH %s group %zu: reporta [%s,%s] received %lld open %lld closed %lld "
                   "in_sla %lld confirmations %lld overdue %lld median %lld p90 %lld; plain SQL "
                   "[%s,%s] %lld %lld %lld %lld %lld %lld %lld %lld\n",
                   g->name, i, x->key[0], x->key[1], (long long)x->received, (long long)x->open,
                   (long long)x->closed, (long long)x->in_sla, (long long)x->confirmations,
                   (long long)x->overdue, (long long)x->median, (long long)x->p90, y->key[0],
                   y->key[1], (long long)y->received, (long long)y->open, (long long)y->closed,
                   (long long)y->in_sla, (long long)y->confirmations, (long long)y->overdue,
                   (long long)y->median, (long long)y->p90);
            bad++;
        }
    }
    return bad == 0;
}

/* ---- run ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p) /* nearest rank; sorts v */
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[rank_of((int64_t)n, p) - 1];
}

static int64_t count_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int run(const char *path, int rounds, int sql_rounds)
{
    struct store *s = NULL;
    sqlite3 *db = NULL;
    struct rp_err err = {0};
    struct rows a[NGROUPINGS], b[NGROUPINGS];
    double *ours_ms[NGROUPINGS] = {0}, *plain_ms[NGROUPINGS] = {0};
    int ok[NGROUPINGS], per[NGROUPINGS], rc = 1, done = 0;
    char now[STORE_TIME_MAX];
    int64_t cases, closed;

    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    iso(time(NULL), now); /* one "now" for both sides' overdue */
    if (store_global_init() != RP_OK || store_open(path, &s, &err) != RP_OK) {
        fprintf(stderr, "bench_stats: %s: %s\n", path, err.msg);
        goto out;
    }
    /* the baseline's own connection, with the store's settings (temp B-trees in memory) */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL) != SQLITE_OK) {
        sql_fail(db, path);
        goto out;
    }
    {
        double t0 = now_s();
        size_t held = 0, bytes = 0;
        if (scorecard_load(s, &card, &err) != RP_OK) {
            fprintf(stderr, "bench_stats: scorecard: %s\n", err.msg);
            goto out;
        }
        scorecard_stats(card, &held, &bytes);
        printf("scorecard: %zu cases in memory (%.1f MB) loaded in %.2f s\n", held,
               (double)bytes / 1e6, now_s() - t0);
    }
    cases = count_of(db, "SELECT count(*) FROM reports");
    closed = count_of(db, "SELECT count(*) FROM reports WHERE closed_at IS NOT NULL");
    printf("bench/stats  cases=%lld closed=%lld (%.1f %%) created over the last %d days, "
           "cpus=%ld cc=gcc-%d -O3 (Release), now=%s\n",
           (long long)cases, (long long)closed,
           cases > 0 ? 100.0 * (double)closed / (double)cases : 0, SPAN_S / 86400,
           sysconf(_SC_NPROCESSORS_ONLN), __GNUC__, now);
    /* what the store reads: rows a case left when it moved stay, at zero */
    printf("aggregate rows: stats_daily %lld (%lld at zero), stats_close_hours %lld (%lld), "
           "stats_open_due %lld (%lld)\n",
           (long long)count_of(db, "SELECT count(*) FROM stats_daily"),
           (long long)count_of(db, "SELECT count(*) FROM stats_daily WHERE received = 0"),
           (long long)count_of(db, "SELECT count(*) FROM stats_close_hours"),
           (long long)count_of(db, "SELECT count(*) FROM stats_close_hours WHERE n = 0"),
           (long long)count_of(db, "SELECT count(*) FROM stats_open_due"),
           (long long)count_of(db, "SELECT count(*) FROM stats_open_due WHERE n = 0"));
    for (size_t g = 0; g < NGROUPINGS; g++) {
        double t0, warm_ms;
        ours_ms[g] = calloc((size_t)rounds, sizeof(double));
        plain_ms[g] = calloc((size_t)sql_rounds, sizeof(double));
        if (!ours_ms[g] || !plain_ms[g])
            goto out;
        /* the warm-up is also the comparison: page cache warm for both sides */
        if (plain(db, &groupings[g], now, &b[g]) || ours(s, &groupings[g], now, &a[g]))
            goto out;
        t0 = now_s();
        if (ours(s, &groupings[g], now, &a[g]))
            goto out;
        warm_ms = (now_s() - t0) * 1e3;
        per[g] = rounds / sql_rounds;
        if (per[g] * sql_rounds * warm_ms > OURS_BUDGET_MS)
            per[g] = (int)(OURS_BUDGET_MS / (sql_rounds * warm_ms));
        if (per[g] < 1)
            per[g] = 1;
        ok[g] = same(&groupings[g], &a[g], &b[g]);
    }
    /* interleaved: per round of the baseline, rounds / sql_rounds of ours, each grouping */
    for (int r = 0; r < sql_rounds; r++)
        for (size_t g = 0; g < NGROUPINGS; g++) {
            for (int i = 0; i < per[g]; i++) {
                double t0 = now_s();
                if (ours(s, &groupings[g], now, &a[g]))
                    goto out;
                ours_ms[g][r * per[g] + i] = (now_s() - t0) * 1e3;
            }
            double t0 = now_s();
            if (plain(db, &groupings[g], now, &b[g]))
                goto out;
            plain_ms[g][r] = (now_s() - t0) * 1e3;
        }
    done = 1;
    printf("the scorecard (refresh from the change log, then its pass) %d times per grouping at most (fewer past %d s),"
           " interleaved with %d plain SQL aggregates; one connection each, warm\n",
           rounds, OURS_BUDGET_MS / 1000, sql_rounds);
    printf("%-26s %7s %6s | %9s %9s | %12s %12s | %8s | %s\n", "case", "groups", "calls", "p50 ms",
           "p99 ms", "plain p50 ms", "plain p99 ms", "ratio", "same answers");
    rc = 0;
    for (size_t g = 0; g < NGROUPINGS; g++) {
        size_t calls = (size_t)(per[g] * sql_rounds);
        double o50 = pct(ours_ms[g], calls, 0.5), o99 = pct(ours_ms[g], calls, 0.99),
               p50 = pct(plain_ms[g], (size_t)sql_rounds, 0.5),
               p99 = pct(plain_ms[g], (size_t)sql_rounds, 0.99);
        int met = o50 <= 10.0 && p50 / o50 >= 50.0;
        printf("%-26s %7zu %6zu | %9.2f %9.2f | %12.1f %12.1f | %7.1fx | %s\n", groupings[g].name,
               a[g].n, calls, o50, o99, p50, p99, p50 / o50, ok[g] ? "yes" : "NO");
        printf("stats %s groups=%zu p50_ms=%.3f plain_p50_ms=%.1f target=%s\n", groupings[g].name,
               a[g].n, o50, p50, met ? "met" : "missed");
        if (!ok[g])
            rc = 1;
    }
    printf("(ratio: plain SQL p50 / reporta p50; target: reporta p50 <= 10 ms and >= 50x)\n");
    /* for the record: the same from the aggregate tables alone (what a query cost before) */
    use_aggregates = 1;
    for (size_t g = 0; g < NGROUPINGS; g++) {
        double t[3];
        for (int i = 0; i < 3; i++) {
            double t0 = now_s();
            if (ours(s, &groupings[g], now, &a[g]))
                break;
            t[i] = (now_s() - t0) * 1e3;
        }
        printf("aggregate tables alone, %s: median of 3 %.1f ms, same answers %s\n",
               groupings[g].name, pct(t, 3, 0.5), same(&groupings[g], &a[g], &b[g]) ? "yes" : "NO");
    }
    use_aggregates = 0;
out:
    if (!done && rc)
        fprintf(stderr, "bench_stats run: failed\n");
    for (size_t g = 0; g < NGROUPINGS; g++) {
        free(ours_ms[g]);
        free(plain_ms[g]);
        free(a[g].v);
        free(b[g].v);
    }
    sqlite3_close(db);
    scorecard_destroy(card);
    store_close(s);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "age") == 0)
        return age(argv[2], argc > 3 ? (unsigned)atoi(argv[3]) : SEED);
    if (argc >= 4 && strcmp(argv[1], "run") == 0) {
        int rounds = atoi(argv[3]), sql_rounds = argc > 4 ? atoi(argv[4]) : SQL_ROUNDS;
        if (rounds >= 1 && sql_rounds >= 1 && rounds >= sql_rounds)
            return run(argv[2], rounds, sql_rounds);
    }
    fprintf(stderr, "usage: bench_stats age DB [SEED] | run DB ROUNDS [SQL_ROUNDS]   "
                    "(ROUNDS >= SQL_ROUNDS >= 1)\n");
    return 2;
}
