/*
 * data/store_stats.c - statistics read from the aggregates (migration 0008): three grouped
 * sums - counts per day, overdue open cases, hours to close - over the same filter and ordered
 * by the same keys, merged in one pass. The statements are built from fixed fragments chosen
 * by the group keys (never from input text) and every value is bound. A year of national
 * statistics reads thousands of aggregate rows, not millions of cases.
 */
#include "data/store_int.h"
#include "data/store_sql_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const key_sql[STORE_STAT_KEYS] = {
    [STORE_STAT_ENTITY] = "entity_code",
    [STORE_STAT_SERVICE] = "service_code",
    [STORE_STAT_PROVINCIA] = "provincia_code",
    [STORE_STAT_DISTRITO] = "distrito_code",
    [STORE_STAT_CORREGIMIENTO] = "corregimiento_code",
    [STORE_STAT_MONTH] = "substr(day, 1, 7)",
};

/* tows have no service or entity columns: ?3 and ?4 are unbound for them (tows_apply) */
#define TOWS_FILTER                                                                        \
    " WHERE (?1 IS NULL OR day >= ?1) AND (?2 IS NULL OR day <= ?2)"                       \
    " AND (?5 IS NULL OR provincia_code = ?5 OR distrito_code = ?5"                        \
    " OR corregimiento_code = ?5)"
#define STATS_FILTER                                                                       \
    " WHERE (?1 IS NULL OR day >= ?1) AND (?2 IS NULL OR day <= ?2)"                       \
    " AND (?3 IS NULL OR service_code = ?3) AND (?4 IS NULL OR entity_code = ?4)"          \
    " AND (?5 IS NULL OR provincia_code = ?5 OR distrito_code = ?5"                        \
    " OR corregimiento_code = ?5)"

/* "SELECT k1, k2, <what> FROM <table> <filter> [AND <extra>] GROUP BY k1, k2[, tail]
 * [HAVING ...] ORDER BY ..." for the query's keys ('' stands in for missing keys). A case
 * that moved leaves its old rows at zero: groups without a case are not groups. */
static int build(const struct store_stats_query *q, int pg, const char *what, const char *table,
                 const char *extra, const char *tail, const char *having, char *out, size_t n)
{
    char keys[256] = "";
    size_t k = 0;
    int w;
    const char *filter = strcmp(table, "stats_tows_daily")
                             ? (pg ? store_stats_pg_filter : STATS_FILTER)
                             : (pg ? store_stats_pg_tows_filter : TOWS_FILTER);

    for (int i = 0; i < STORE_STAT_GROUPS_MAX; i++) {
        const char *col = i < q->nkeys ? (pg ? store_stats_pg_key : key_sql)[q->keys[i]]
                                       : (pg ? store_stats_pg_key_none : "''");
        w = snprintf(keys + k, sizeof keys - k, "%s%s", i ? ", " : "", col);
        if (w < 0 || (size_t)w >= sizeof keys - k)
            return -1;
        k += (size_t)w;
    }
    w = snprintf(out, n, "SELECT %s, %s FROM %s%s%s GROUP BY %s%s%s%s ORDER BY %s%s%s", keys,
                 what, table, filter, extra, keys, tail ? ", " : "", tail ? tail : "", having,
                 keys, tail ? ", " : "", tail ? tail : "");
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int prepare(struct store *s, const struct store_stats_query *q, const char *sql,
                   struct store_q **st, struct rp_err *err)
{
    const char *v[5] = {q->from, q->to, q->service, q->entity, q->area};

    if (!(*st = store_prepare(s, sql, err)))
        return RP_STORAGE;
    for (int i = 0; i < 5; i++)
        if (v[i] && v[i][0])
            store_bind_text(*st, i + 1, v[i]);
    return RP_OK;
}

/* The group a row of a later query belongs to: groups are in key order, so it is at or after
 * *at. NULL when none (which the triggers make impossible; tolerated). */
static struct store_stat_group *seek(struct store_stat_group *v, size_t n, size_t *at,
                                     struct store_q *st)
{
    while (*at < n) {
        int c = 0;
        for (int i = 0; i < STORE_STAT_GROUPS_MAX && c == 0; i++) {
            const char *k = store_col_text(st, i);
            c = strcmp(v[*at].key[i], k ? k : "");
        }
        if (c == 0)
            return &v[*at];
        if (c > 0)
            return NULL;
        (*at)++;
    }
    return NULL;
}

/* Tows have a place and a day but no service or entity of the cases' kind. */
static int tows_apply(const struct store_stats_query *q)
{
    if ((q->service && q->service[0]) || (q->entity && q->entity[0]))
        return 0;
    for (int i = 0; i < q->nkeys; i++)
        if (q->keys[i] == STORE_STAT_ENTITY || q->keys[i] == STORE_STAT_SERVICE)
            return 0;
    return 1;
}

void store_stats_free(struct store_stat_group *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].hours);
    free(v);
}

int store_stats_tows(struct store *s, const struct store_stats_query *q,
                     struct store_stat_group *v, size_t n, struct rp_err *err)
{
    char sql[1024];
    struct store_q *st = NULL;
    size_t at = 0;
    int rc = RP_OK, step;

    for (size_t i = 0; i < n; i++)
        v[i].tows = -1;
    if (!tows_apply(q))
        return RP_OK;
    struct store_stats_query tq = *q;
    tq.service = tq.entity = NULL;
    for (size_t i = 0; i < n; i++)
        v[i].tows = 0;
    if (build(&tq, s->pg != NULL, s->pg ? store_stats_pg_tows : "sum(tows)", "stats_tows_daily",
              "", NULL, "", sql, sizeof sql) != 0)
        return rp_err_set(err, RP_INTERNAL, "stats statement");
    if ((rc = prepare(s, &tq, sql, &st, err)) != RP_OK)
        return rc;
    while ((step = store_step(st)) == STORE_ROW) {
        struct store_stat_group *g = seek(v, n, &at, st);
        if (g)
            g->tows = store_col_int64(st, 2);
    }
    if (step != STORE_DONE)
        rc = store_sql_error(s, "stats", err);
    if (st)
        store_finalize(st);
    return rc;
}

/* ---- the scorecard's reads (server/scorecard.c) ---- */

static int score_rows(struct store *s, struct store_q *st, store_score_fn fn, void *ctx,
                      int *found, struct rp_err *err)
{
    struct store_score_case c;
    int rc = RP_OK, step = STORE_DONE;

    if (found)
        *found = 0;
    while (rc == RP_OK && (step = store_step(st)) == STORE_ROW) {
        c.id = store_col_int64(st, 0);
        c.day = store_col_text(st, 1);
        c.entity = store_col_text(st, 2);
        c.service = store_col_text(st, 3);
        c.area[2] = store_col_text(st, 4);
        c.area[1] = store_col_text(st, 5);
        c.area[0] = store_col_text(st, 6);
        c.closed = store_col_int(st, 7);
        c.hours = store_col_int64(st, 8);
        c.in_sla = store_col_int(st, 9);
        c.due = store_col_int64(st, 10);
        c.confirmations = store_col_int(st, 11);
        c.rating = store_col_int(st, 12);
        c.followed_up = store_col_int(st, 13);
        if (found)
            *found = 1;
        rc = fn(ctx, &c, err);
    }
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "scorecard", err);
    store_reset(st);
    return rc;
}

int store_score_all(struct store *s, store_score_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_SCORE_ALL, err);

    if (!st)
        return err->code;
    return score_rows(s, st, fn, ctx, NULL, err);
}

int store_score_one(struct store *s, int64_t id, store_score_fn fn, void *ctx, int *found,
                    struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_SCORE_ONE, err);

    if (!st)
        return err->code;
    store_bind_int64(st, 1, id);
    return score_rows(s, st, fn, ctx, found, err);
}

/* The one value of statement id (max or min seq of the log). */
static int log_bound(struct store *s, int id, int64_t *seq, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, id, err);
    int step;

    *seq = 0;
    if (!st)
        return err->code;
    if ((step = store_step(st)) == STORE_ROW)
        *seq = store_col_int64(st, 0);
    store_reset(st);
    return step == STORE_ROW ? RP_OK : store_sql_error(s, "stats log", err);
}

int store_score_log_top(struct store *s, int64_t *seq, struct rp_err *err)
{
    return log_bound(s, SQL_SCORE_LOG_TOP, seq, err);
}

int store_score_log_min(struct store *s, int64_t *seq, struct rp_err *err)
{
    return log_bound(s, SQL_SCORE_LOG_MIN, seq, err);
}

int store_score_log_at(struct store *s, int64_t seq, int64_t *report_id, int *found,
                       struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_SCORE_LOG_AT, err);
    int step;

    *found = 0;
    *report_id = 0;
    if (!st)
        return err->code;
    store_bind_int64(st, 1, seq);
    if ((step = store_step(st)) == STORE_ROW) {
        *report_id = store_col_int64(st, 0);
        *found = 1;
    }
    store_reset(st);
    return step == STORE_ROW || step == STORE_DONE ? RP_OK : store_sql_error(s, "stats log", err);
}

int store_score_log(struct store *s, int64_t after, int limit, store_score_log_fn fn, void *ctx,
                    struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_SCORE_LOG, err);
    int step, rc = RP_OK;

    if (!st)
        return err->code;
    store_bind_int64(st, 1, after);
    store_bind_int(st, 2, limit);
    while (rc == RP_OK && (step = store_step(st)) == STORE_ROW)
        rc = fn(ctx, store_col_int64(st, 0), store_col_int64(st, 1));
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "stats log", err);
    store_reset(st);
    return rc;
}

/* The newest row always stays: SQLite numbers a new row max(seq) + 1, and 1 in an empty
 * table, so an emptied log would start again below the scorecard's cursor and every change
 * would be skipped until the numbers caught up (seen after a restart that pruned 10,000 rows:
 * it_crash). PostgreSQL's identity never goes back; one row kept there costs nothing. */
int store_score_log_prune(struct store *s, int64_t upto, struct rp_err *err)
{
    struct store_q *st;
    int64_t top = 0;
    int rc = store_score_log_top(s, &top, err);

    if (rc != RP_OK)
        return rc;
    if (upto >= top)
        upto = top - 1; /* 0 or less: the DELETE still runs, and removes nothing */
    st = store_stmt(s, SQL_SCORE_LOG_PRUNE, err);
    if (!st)
        return err->code;
    store_bind_int64(st, 1, upto);
    return store_run(s, st, "stats log", err);
}

int store_stats_query(struct store *s, const struct store_stats_query *q,
                      struct store_stat_group **out, size_t *nout, struct rp_err *err)
{
    char sql[1024];
    struct store_q *st = NULL;
    struct store_stat_group *v = NULL;
    size_t n = 0, cap = 0, at = 0;
    int rc = RP_OK, step;

    *out = NULL;
    *nout = 0;
    if (q->nkeys < 0 || q->nkeys > STORE_STAT_GROUPS_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "at most %d group keys",
                          STORE_STAT_GROUPS_MAX);
    /* 1. the counts */
    if (build(q, s->pg != NULL,
              s->pg ? store_stats_pg_counts
                    : "sum(received), sum(open), sum(closed), sum(closed_in_sla),"
                      " sum(confirmations), sum(ratings), sum(rating_sum), sum(followed_up)",
              "stats_daily", "", NULL, s->pg ? store_stats_pg_having : " HAVING sum(received) > 0",
              sql, sizeof sql) != 0)
        return rp_err_set(err, RP_INTERNAL, "stats statement");
    if ((rc = prepare(s, q, sql, &st, err)) != RP_OK)
        return rc;
    while ((step = store_step(st)) == STORE_ROW) {
        struct store_stat_group *g;
        if (n == cap) {
            size_t c = cap ? 2 * cap : 64;
            struct store_stat_group *w = realloc(v, c * sizeof *w);
            if (!w) {
                rc = rp_err_set(err, RP_NO_MEMORY, "stats");
                break;
            }
            v = w;
            cap = c;
        }
        g = &v[n++];
        memset(g, 0, sizeof *g);
        for (int i = 0; i < STORE_STAT_GROUPS_MAX; i++)
            store_col_copy(g->key[i], sizeof g->key[i], st, i);
        g->received = store_col_int64(st, 2);
        g->open = store_col_int64(st, 3);
        g->closed = store_col_int64(st, 4);
        g->closed_in_sla = store_col_int64(st, 5);
        g->confirmations = store_col_int64(st, 6);
        g->ratings = store_col_int64(st, 7);
        g->rating_sum = store_col_int64(st, 8);
        g->followed_up = store_col_int64(st, 9);
    }
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "stats", err);
    if (st)
        store_finalize(st);
    st = NULL;
    /* 2. overdue now: open cases due before now */
    if (rc == RP_OK &&
        build(q, s->pg != NULL, s->pg ? store_stats_pg_overdue : "sum(n)", "stats_open_due",
              s->pg ? store_stats_pg_overdue_extra : " AND due_at < ?6", NULL, "", sql,
              sizeof sql) != 0)
        rc = rp_err_set(err, RP_INTERNAL, "stats statement");
    if (rc == RP_OK && (rc = prepare(s, q, sql, &st, err)) == RP_OK) {
        store_bind_text(st, 6, q->now);
        at = 0;
        while ((step = store_step(st)) == STORE_ROW) {
            struct store_stat_group *g = seek(v, n, &at, st);
            if (g)
                g->overdue = store_col_int64(st, 2);
        }
        if (step != STORE_DONE)
            rc = store_sql_error(s, "stats", err);
    }
    if (st)
        store_finalize(st);
    st = NULL;
    /* 3. hours to close */
    if (rc == RP_OK &&
        build(q, s->pg != NULL, s->pg ? store_stats_pg_hours : "hours, sum(n)",
              "stats_close_hours", "", s->pg ? store_stats_pg_hours_tail : "hours", "", sql,
              sizeof sql) != 0)
        rc = rp_err_set(err, RP_INTERNAL, "stats statement");
    if (rc == RP_OK && (rc = prepare(s, q, sql, &st, err)) == RP_OK) {
        at = 0;
        while (rc == RP_OK && (step = store_step(st)) == STORE_ROW) {
            struct store_stat_group *g = seek(v, n, &at, st);
            int64_t c = store_col_int64(st, 3);
            struct store_stat_hours *h;
            if (!g || c <= 0)
                continue;
            if (!(h = realloc(g->hours, (g->nhours + 1) * sizeof *h))) {
                rc = rp_err_set(err, RP_NO_MEMORY, "stats");
                break;
            }
            g->hours = h;
            h[g->nhours++] = (struct store_stat_hours){store_col_int64(st, 2), c};
        }
        if (rc == RP_OK && step != STORE_DONE)
            rc = store_sql_error(s, "stats", err);
    }
    if (st)
        store_finalize(st);
    st = NULL;
    /* 4. tows, where the grouping and the filter are about places and time only */
    if (rc == RP_OK)
        rc = store_stats_tows(s, q, v, n, err);
    if (rc != RP_OK) {
        store_stats_free(v, n);
        return rc;
    }
    *out = v;
    *nout = n;
    return RP_OK;
}
