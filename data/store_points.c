/*
 * data/store_points.c - cases as map points: the lean columns the in-memory case map
 * (server/casemap.c) and hotspots need, for all open cases at startup, for one case after a
 * change, and for the cases a report query selects (tiles of closed cases, hotspots).
 */
#include "data/store_int.h"

static int point_rows(struct store *s, struct store_q *st, store_point_fn fn, void *ctx, int *count,
                      struct rp_err *err)
{
    struct store_point p;
    int rc = RP_OK, step;

    while (rc == RP_OK && (step = store_step(st)) == STORE_ROW) {
        p.id = store_col_int64(st, 0);
        p.case_no = store_col_text(st, 1);
        p.service_code = store_col_text(st, 2);
        p.status = store_col_text(st, 3);
        p.lat = store_col_double(st, 4);
        p.lon = store_col_double(st, 5);
        p.entity_code = store_col_text(st, 6);
        for (int i = 0; i < 3; i++)
            p.area[i] = store_col_text(st, 7 + i);
        p.created_at = store_col_text(st, 10);
        p.due_at = store_col_text(st, 11);
        p.confirmations = store_col_int(st, 12);
        if (!p.case_no || !p.service_code || !p.status || !p.entity_code || !p.created_at ||
            !p.due_at)
            rc = rp_err_set(err, RP_STORAGE, "case %lld: a column is missing", (long long)p.id);
        else
            rc = fn(ctx, &p, err);
        if (count)
            (*count)++;
    }
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "case points", err);
    store_reset(st);
    return rc;
}

int store_points_open(struct store *s, store_point_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_POINTS_OPEN, err);
    return st ? point_rows(s, st, fn, ctx, NULL, err) : RP_STORAGE;
}

int store_point_get(struct store *s, int64_t id, store_point_fn fn, void *ctx, int *found,
                    struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_POINT_GET, err);
    int n = 0, rc;

    *found = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, id);
    rc = point_rows(s, st, fn, ctx, &n, err);
    *found = n > 0;
    return rc;
}

static void bind_opt(struct store_q *st, int i, const char *v)
{
    if (v)
        store_bind_text(st, i, v);
}

int store_points_query(struct store *s, const struct store_report_query *q, store_point_fn fn,
                       void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, q->has_bbox ? SQL_POINTS_QUERY_BBOX : SQL_POINTS_QUERY, err);

    if (!st)
        return RP_STORAGE;
    bind_opt(st, 1, q->statuses);
    bind_opt(st, 2, q->service);
    bind_opt(st, 3, q->entity);
    bind_opt(st, 4, q->area);
    bind_opt(st, 5, q->since);
    bind_opt(st, 6, q->until);
    store_bind_int(st, 7, q->overdue);
    store_bind_int64(st, 8, q->before_id);
    bind_opt(st, 9, q->case_nos);
    store_bind_int(st, 10, q->limit);
    if (q->has_bbox)
        for (int i = 0; i < 4; i++)
            store_bind_double(st, 11 + i, q->bbox[i]);
    return point_rows(s, st, fn, ctx, NULL, err);
}
