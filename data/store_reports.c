/*
 * data/store_reports.c - cases: numbering and insert (with the idempotency key), reads by case
 * number, token and filters (the R*Tree of reports.geom for bounding boxes), status and entity
 * changes, history and confirmations. Multi-statement changes run inside the caller's
 * transaction (store_begin/store_end, or the group-commit writer).
 */
#include "data/store_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define PANAMA_UTC_OFFSET_S (-5 * 3600) /* America/Panama: UTC-5 all year */

static void report_row(struct store_q *st, struct store_report *r)
{
    r->id = store_col_int64(st, 0);
    STORE_COPY(r->case_no, st, 1);
    STORE_COPY(r->service_code, st, 2);
    STORE_COPY(r->status, st, 3);
    r->lat = store_col_double(st, 4);
    r->lon = store_col_double(st, 5);
    for (int i = 0; i < 3; i++)
        STORE_COPY(r->area[i], st, 6 + i);
    r->snapped_m = store_col_double(st, 9);
    STORE_COPY(r->location_source, st, 10);
    STORE_COPY(r->address, st, 11);
    STORE_COPY(r->description, st, 12);
    STORE_COPY(r->attributes, st, 13);
    STORE_COPY(r->reporter_name, st, 14);
    STORE_COPY(r->reporter_email, st, 15);
    STORE_COPY(r->reporter_phone, st, 16);
    STORE_COPY(r->device_id, st, 17);
    STORE_COPY(r->entity_code, st, 18);
    r->rule_id = store_col_int64(st, 19);
    r->duplicate_of = store_col_int64(st, 20);
    r->confirmations = store_col_int(st, 21);
    r->overdue = store_col_int(st, 22);
    STORE_COPY(r->created_at, st, 23);
    STORE_COPY(r->updated_at, st, 24);
    STORE_COPY(r->due_at, st, 25);
    STORE_COPY(r->closed_at, st, 26);
    r->is_private = store_col_int(st, 27);
}

static int report_one(struct store *s, struct store_q *st, struct store_report *out, int *found,
                      struct rp_err *err)
{
    int rc = store_step(st);

    *found = rc == STORE_ROW;
    if (*found)
        report_row(st, out);
    store_reset(st);
    return rc == STORE_ROW || rc == STORE_DONE ? RP_OK : store_sql_error(s, "report", err);
}

static int report_each(struct store *s, struct store_q *st, store_report_fn fn, void *ctx,
                       struct rp_err *err)
{
    static _Thread_local struct store_report r; /* ~8 KB: kept off the stack */
    int rc, out = RP_OK;

    while (out == RP_OK && (rc = store_step(st)) == STORE_ROW) {
        report_row(st, &r);
        out = fn(ctx, &r, err);
    }
    if (out == RP_OK && rc != STORE_DONE)
        out = store_sql_error(s, "reports", err);
    store_reset(st);
    return out;
}

static void bind_opt(struct store_q *st, int i, const char *v)
{
    if (v && v[0])
        store_bind_text(st, i, v);
}

static int case_number(struct store *s, char out[STORE_CASE_MAX], struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_CASE_NEXT, err);
    time_t now = time(NULL) + PANAMA_UTC_OFFSET_S;
    struct tm tm;
    int year, rc;
    long long n = 0;

    if (!st)
        return RP_STORAGE;
    gmtime_r(&now, &tm);
    year = tm.tm_year + 1900;
    store_bind_int(st, 1, year);
    rc = store_step(st);
    if (rc == STORE_ROW)
        n = store_col_int64(st, 0);
    store_reset(st);
    if (rc != STORE_ROW)
        return store_sql_error(s, "case number", err);
    /* six digits, growing to seven past 999,999 cases in a year (311 takes ~1.7 M contacts) */
    if (n > 9999999)
        return rp_err_set(err, RP_STORAGE, "case numbers for %d are exhausted", year);
    snprintf(out, STORE_CASE_MAX, "%04d-%06d", year % 10000, (int)(n % 10000000));
    return RP_OK;
}

/* A previous request with this Idempotency-Key: *seen, and its report and token when the body
 * matches. */
static int idem_lookup(struct store *s, const struct store_report_new *n, int *seen,
                       int64_t *id, char token[64], struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_IDEM_GET, err);
    int rc, same = 0;

    *seen = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, n->idempotency_key);
    rc = store_step(st);
    if (rc == STORE_ROW) {
        size_t hlen;
        const void *h = store_col_blob(st, 0, &hlen);
        *seen = 1;
        same = h && hlen == STORE_HASH_LEN &&
               memcmp(h, n->body_hash, STORE_HASH_LEN) == 0;
        *id = store_col_int64(st, 1);
        store_col_copy(token, 64, st, 2);
    }
    store_reset(st);
    if (rc != STORE_ROW && rc != STORE_DONE)
        return store_sql_error(s, "idempotency key", err);
    if (*seen && !same)
        return rp_err_set(err, RP_INVALID_DATA,
                          "this Idempotency-Key was used with a different request");
    return RP_OK;
}

int store_report_insert(struct store *s, const struct store_report_new *n, int64_t *out_id,
                        int *replayed, char token[64], struct rp_err *err)
{
    struct store_report *r = n->r;
    char case_no[STORE_CASE_MAX];
    struct store_q *st;
    int rc, seen = 0;

    *replayed = 0;
    if (n->idempotency_key) {
        rc = idem_lookup(s, n, &seen, out_id, token, err);
        if (rc != RP_OK || seen) {
            *replayed = seen;
            return rc;
        }
    }
    rc = case_number(s, case_no, err);
    if (rc != RP_OK)
        return rc;
    st = store_stmt(s, SQL_REPORT_INSERT, err);
    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, case_no);
    store_bind_blob(st, 2, n->token_hash, STORE_HASH_LEN);
    store_bind_text(st, 3, r->service_code);
    store_bind_double(st, 4, r->lat);
    store_bind_double(st, 5, r->lon);
    for (int i = 0; i < 3; i++)
        store_bind_text(st, 6 + i, r->area[i]);
    store_bind_double(st, 9, r->snapped_m);
    store_bind_text(st, 10, r->location_source);
    store_bind_text(st, 11, r->address);
    store_bind_text(st, 12, r->description);
    store_bind_text(st, 13, r->attributes);
    store_bind_text(st, 14, r->reporter_name);
    store_bind_text(st, 15, r->reporter_email);
    store_bind_text(st, 16, r->reporter_phone);
    store_bind_text(st, 17, r->device_id);
    store_bind_text(st, 18, r->entity_code);
    store_bind_int64(st, 19, r->rule_id);
    store_bind_text(st, 20, r->created_at);
    store_bind_text(st, 21, r->due_at);
    store_bind_int(st, 22, r->is_private != 0);
    rc = store_run(s, st, "insert report", err);
    if (rc != RP_OK)
        return rc;
    *out_id = store_last_id(s);
    r->id = *out_id;
    memcpy(r->case_no, case_no, sizeof r->case_no);
    memcpy(r->updated_at, r->created_at, sizeof r->updated_at);
    snprintf(r->status, sizeof r->status, "received");
    rc = store_history_add(s, *out_id,
                           &(struct store_history){0, NULL, "created", n->actor, n->actor_role,
                                                   n->actor_entity, NULL, "received", NULL},
                           err);
    for (int i = 0; rc == RP_OK && i < n->nphotos; i++)
        rc = store_photo_add(s, *out_id, &n->photos[i], err);
    if (rc != RP_OK || !n->idempotency_key)
        return rc;
    st = store_stmt(s, SQL_IDEM_PUT, err);
    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, n->idempotency_key);
    store_bind_blob(st, 2, n->body_hash, STORE_HASH_LEN);
    store_bind_int64(st, 3, *out_id);
    store_bind_text(st, 4, n->token);
    rc = store_step(st);
    store_reset(st);
    if (rc == STORE_E_UNIQUE) {
        /* the same key's first use committed by another process after our lookup (READ
         * COMMITTED: a second lookup sees it): not an error, a replay once run again */
        s->job_again = 1;
        return rp_err_set(err, RP_CONFLICT, "Idempotency-Key committed meanwhile");
    }
    return rc == STORE_DONE ? RP_OK : store_sql_error(s, "idempotency key", err);
}

int store_report_get(struct store *s, const char *case_no, struct store_report *out,
                     int *found, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_REPORT_GET, err);

    *found = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, case_no);
    return report_one(s, st, out, found, err);
}

int store_report_by_id(struct store *s, int64_t id, struct store_report *out, int *found,
                       struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_REPORT_BY_ID, err);

    *found = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, id);
    return report_one(s, st, out, found, err);
}

int store_report_by_token(struct store *s, const unsigned char hash[STORE_HASH_LEN],
                          struct store_report *out, int *found, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_REPORT_BY_TOKEN, err);

    *found = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_blob(st, 1, hash, STORE_HASH_LEN);
    return report_one(s, st, out, found, err);
}

int store_reports_query(struct store *s, const struct store_report_query *q,
                        store_report_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, q->has_bbox ? SQL_REPORTS_QUERY_BBOX : SQL_REPORTS_QUERY, err);

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
    return report_each(s, st, fn, ctx, err);
}

int store_reports_near(struct store *s, const char *service, const double bbox[4],
                       const char *since, store_near_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_REPORTS_NEAR, err);
    struct store_near n;
    int rc;

    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, service);
    for (int i = 0; i < 4; i++)
        store_bind_double(st, 2 + i, bbox[i]);
    store_bind_text(st, 6, since);
    while ((rc = store_step(st)) == STORE_ROW) {
        n.id = store_col_int64(st, 0);
        STORE_COPY(n.case_no, st, 1);
        STORE_COPY(n.status, st, 2);
        STORE_COPY(n.created_at, st, 3);
        n.lat = store_col_double(st, 4);
        n.lon = store_col_double(st, 5);
        n.confirmations = store_col_int(st, 6);
        if (!fn(ctx, &n))
            break;
    }
    store_reset(st);
    return rc == STORE_ROW || rc == STORE_DONE ? RP_OK : store_sql_error(s, "near", err);
}

int store_report_set_status(struct store *s, int64_t id, const char *from, const char *to,
                            int closes, int64_t duplicate_of, int *changed, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_REPORT_SET_STATUS, err);
    int rc;

    *changed = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, id);
    store_bind_text(st, 2, from);
    store_bind_text(st, 3, to);
    store_bind_int(st, 4, closes);
    store_bind_int64(st, 5, duplicate_of);
    rc = store_run(s, st, "report status", err);
    if (rc != RP_OK)
        return rc;
    *changed = store_changes(s) == 1;
    return RP_OK;
}

int store_report_set_entity(struct store *s, int64_t id, const char *entity, const char *status,
                            struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_REPORT_SET_ENTITY, err);
    int rc;

    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, id);
    store_bind_text(st, 2, entity);
    store_bind_text(st, 3, status);
    rc = store_step(st);
    store_reset(st);
    if (rc == STORE_E_FOREIGN)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "no entity with code %s", entity);
    return rc == STORE_DONE ? RP_OK : store_sql_error(s, "report entity", err);
}

int store_history_add(struct store *s, int64_t report_id, const struct store_history *h,
                      struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_HISTORY_ADD, err);

    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, report_id);
    bind_opt(st, 2, h->kind);
    bind_opt(st, 3, h->actor);
    bind_opt(st, 4, h->actor_role);
    bind_opt(st, 5, h->actor_entity);
    bind_opt(st, 6, h->from);
    bind_opt(st, 7, h->to);
    bind_opt(st, 8, h->note);
    return store_run(s, st, "history", err);
}

int store_history_each(struct store *s, int64_t report_id, store_history_fn fn, void *ctx,
                       struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_HISTORY_EACH, err);
    int rc, out = RP_OK;

    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, report_id);
    while (out == RP_OK && (rc = store_step(st)) == STORE_ROW) {
        struct store_history h = {
            store_col_int64(st, 0), store_col_text(st, 1), store_col_text(st, 2),
            store_col_text(st, 3),       store_col_text(st, 4), store_col_text(st, 5),
            store_col_text(st, 6),       store_col_text(st, 7), store_col_text(st, 8)};
        out = fn(ctx, &h, err);
    }
    if (out == RP_OK && rc != STORE_DONE)
        out = store_sql_error(s, "history", err);
    store_reset(st);
    return out;
}

int store_report_confirm(struct store *s, int64_t report_id, const char *device_id, int *added,
                         struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_CONFIRM_ADD, err);
    int rc;

    *added = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, report_id);
    bind_opt(st, 2, device_id);
    rc = store_run(s, st, "confirmation", err);
    if (rc != RP_OK)
        return rc;
    if (store_changes(s) != 1)
        return RP_OK;
    st = store_stmt(s, SQL_CONFIRM_COUNT, err);
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, report_id);
    rc = store_run(s, st, "confirmation", err);
    if (rc != RP_OK)
        return rc;
    *added = 1;
    return RP_OK;
}

int store_photo_add(struct store *s, int64_t report_id, const struct store_photo *p,
                    struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_PHOTO_ADD, err);

    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, report_id);
    store_bind_text(st, 2, p->sha256);
    store_bind_int(st, 3, p->width);
    store_bind_int(st, 4, p->height);
    store_bind_int(st, 5, p->thumb_width);
    store_bind_int(st, 6, p->thumb_height);
    store_bind_text(st, 7, p->kind ? p->kind : "report");
    store_bind_text(st, 8, p->added_by ? p->added_by : "reporter");
    return store_run(s, st, "photo", err);
}

int store_photos_each(struct store *s, int64_t report_id, store_photo_fn fn, void *ctx,
                      struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_PHOTOS_EACH, err);
    char kind[16], by[64];
    int rc, out = RP_OK;

    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, report_id);
    while (out == RP_OK && (rc = store_step(st)) == STORE_ROW) {
        struct store_photo p = {"", store_col_int(st, 1), store_col_int(st, 2),
                                store_col_int(st, 3), store_col_int(st, 4), kind, by};
        store_col_copy(p.sha256, sizeof p.sha256, st, 0);
        store_col_copy(kind, sizeof kind, st, 5);
        store_col_copy(by, sizeof by, st, 6);
        out = fn(ctx, &p, err);
    }
    if (out == RP_OK && rc != STORE_DONE)
        out = store_sql_error(s, "photos", err);
    store_reset(st);
    return out;
}

int store_photo_known(struct store *s, const char *sha256, int *known, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_PHOTO_KNOWN, err);

    *known = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, sha256);
    return store_exists(s, st, known, "photo", err);
}
