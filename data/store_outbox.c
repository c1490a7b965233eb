/*
 * data/store_outbox.c - webhooks and their deliveries (migration 0011). Events are written by
 * triggers in the transaction of each change; here the delivery threads read the head of each
 * stream that is due, and record an acknowledgement (the row goes) or a failure (the stream
 * waits). Each call is its own short transaction on the caller's connection, except on
 * PostgreSQL, where a delivery is tried inside the transaction that locked it (see
 * store_deliveries_due in store.h).
 */
#include "data/store_int.h"

#include <stdio.h>
#include <string.h>

int store_webhooks_sync(struct store *s, const char *const *urls, const int *trusted, int n,
                        const char *secret, struct rp_err *err)
{
    struct store_q *off, *put;
    int rc = store_begin(s, err);

    if (rc != RP_OK)
        return rc;
    if (!(off = store_stmt(s, SQL_HOOKS_FLAG_OFF, err)) || !(put = store_stmt(s, SQL_HOOK_FLAG_PUT, err)))
        return store_end(s, err->code, err);
    rc = store_run(s, off, "webhooks", err);
    for (int i = 0; rc == RP_OK && i < n; i++) {
        store_bind_text(put, 1, urls[i]);
        store_bind_text(put, 2, secret);
        store_bind_int(put, 3, trusted[i] != 0);
        rc = store_run(s, put, "webhook", err);
    }
    return store_end(s, rc, err);
}

int store_webhooks_each(struct store *s, int active_only, store_webhook_fn fn, void *ctx,
                        struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_HOOKS_EACH, err);
    struct store_webhook w;
    int rc = RP_OK, step = STORE_DONE;

    if (!st)
        return err->code;
    store_bind_int(st, 1, active_only != 0);
    while (rc == RP_OK && (step = store_step(st)) == STORE_ROW) {
        w.id = store_col_int64(st, 0);
        w.url = store_col_text(st, 1);
        w.secret = store_col_text(st, 2);
        w.trusted = store_col_int(st, 3);
        w.active = store_col_int(st, 4);
        w.source = store_col_text(st, 5);
        w.delivered = store_col_int64(st, 6);
        w.failures = store_col_int64(st, 7);
        w.last_error = store_col_text(st, 8);
        w.pending = store_col_int64(st, 9);
        rc = fn(ctx, &w, err);
    }
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "webhooks", err);
    store_reset(st);
    return rc;
}

int store_deliveries_due(struct store *s, int64_t webhook, int64_t now_ms, int limit,
                         store_delivery_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st;
    struct store_delivery d;
    int rc = RP_OK, step = STORE_DONE, n = 0;

    /* PostgreSQL: one at a time, its row locked until the caller says how it went */
    if (s->pg) {
        limit = 1;
        if ((rc = store_begin(s, err)) != RP_OK)
            return rc;
    }
    if (!(st = store_stmt(s, SQL_DELIVERIES_DUE, err)))
        return store_end(s, err->code, err);
    store_bind_int64(st, 1, webhook);
    store_bind_int64(st, 2, now_ms);
    store_bind_int(st, 3, limit);
    while (rc == RP_OK && (step = store_step(st)) == STORE_ROW) {
        d.event_id = store_col_int64(st, 0);
        d.uid = store_col_text(st, 1);
        d.type = store_col_text(st, 2);
        d.stream = store_col_text(st, 3);
        d.report_id = store_col_int64(st, 4);
        d.tow_id = store_col_int64(st, 5);
        d.payload = store_col_text(st, 6);
        d.attempts = store_col_int(st, 7);
        n++;
        rc = fn(ctx, &d, err);
    }
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "deliveries", err);
    store_reset(st);
    if (rc != RP_OK || n == 0) /* nothing held: the transaction (if any) ends here */
        return store_end(s, rc, err);
    return RP_OK;
}

void store_delivery_release(struct store *s)
{
    struct rp_err ignored = {0};

    (void)store_end(s, RP_INVALID_ARGUMENT, &ignored); /* rolls back: nothing was written */
}

int store_delivery_done(struct store *s, int64_t webhook, int64_t event_id, struct rp_err *err)
{
    struct store_q *del, *count;
    int rc = s->in_tx ? RP_OK : store_begin(s, err); /* PostgreSQL: the claim's transaction */

    if (rc != RP_OK)
        return rc;
    if (!(del = store_stmt(s, SQL_DELIVERY_DELETE, err)) ||
        !(count = store_stmt(s, SQL_HOOK_DELIVERED, err)))
        return store_end(s, err->code, err);
    store_bind_int64(del, 1, webhook);
    store_bind_int64(del, 2, event_id);
    store_bind_int64(count, 1, webhook);
    rc = store_run(s, del, "delivery", err);
    if (rc == RP_OK)
        rc = store_run(s, count, "webhook", err);
    return store_end(s, rc, err);
}

int store_delivery_failed(struct store *s, int64_t webhook, int64_t event_id, const char *stream,
                          int64_t next_at_ms, const char *error, struct rp_err *err)
{
    struct store_q *retry, *hold, *failed;
    int rc = s->in_tx ? RP_OK : store_begin(s, err); /* PostgreSQL: the claim's transaction */

    if (rc != RP_OK)
        return rc;
    if (!(retry = store_stmt(s, SQL_DELIVERY_RETRY, err)) ||
        !(hold = store_stmt(s, SQL_STREAM_HOLD, err)) ||
        !(failed = store_stmt(s, SQL_HOOK_FAILED, err)))
        return store_end(s, err->code, err);
    store_bind_int64(retry, 1, webhook);
    store_bind_int64(retry, 2, event_id);
    store_bind_text(retry, 3, error);
    store_bind_int64(hold, 1, webhook);
    store_bind_text(hold, 2, stream);
    store_bind_int64(hold, 3, next_at_ms);
    store_bind_int64(failed, 1, webhook);
    store_bind_text(failed, 2, error);
    rc = store_run(s, retry, "delivery", err);
    if (rc == RP_OK)
        rc = store_run(s, hold, "delivery", err);
    if (rc == RP_OK)
        rc = store_run(s, failed, "webhook", err);
    return store_end(s, rc, err);
}

int store_event_contact(struct store *s, int64_t report_id, int64_t tow_id,
                        char name[STORE_NAME_MAX], char email[STORE_NAME_MAX], char phone[64],
                        char plate[STORE_CODE_MAX], struct rp_err *err)
{
    struct store_q *st;
    int step;

    name[0] = email[0] = phone[0] = plate[0] = '\0';
    if (report_id) {
        if (!(st = store_stmt(s, SQL_CONTACT_REPORT, err)))
            return err->code;
        store_bind_int64(st, 1, report_id);
        if ((step = store_step(st)) == STORE_ROW) {
            store_col_copy(name, STORE_NAME_MAX, st, 0);
            store_col_copy(email, STORE_NAME_MAX, st, 1);
            store_col_copy(phone, 64, st, 2);
        }
        store_reset(st);
        if (step != STORE_ROW && step != STORE_DONE)
            return store_sql_error(s, "contact", err);
    }
    if (tow_id) {
        if (!(st = store_stmt(s, SQL_CONTACT_TOW, err)))
            return err->code;
        store_bind_int64(st, 1, tow_id);
        if ((step = store_step(st)) == STORE_ROW)
            store_col_copy(plate, STORE_CODE_MAX, st, 0);
        store_reset(st);
        if (step != STORE_ROW && step != STORE_DONE)
            return store_sql_error(s, "plate", err);
    }
    return RP_OK;
}

int store_updates_each(struct store *s, const char *since, const char *until, int limit,
                       store_update_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_UPDATES_EACH, err);
    struct store_update u;
    char lo[STORE_TIME_MAX + 8], hi[STORE_TIME_MAX + 8];
    int rc = RP_OK, step = STORE_DONE;

    if (!st)
        return err->code;
    /* the index range holds the bounds' seconds at any precision of the stored times:
     * "...:SS" sorts below "...:SSZ" and "...:SS.mmmZ", "...:SS~" above both */
    snprintf(lo, sizeof lo, "%.19s", since);
    snprintf(hi, sizeof hi, "%.19s~", until);
    store_bind_text(st, 1, since);
    store_bind_text(st, 2, until);
    store_bind_int(st, 3, limit);
    store_bind_text_copy(st, 4, hi);
    store_bind_text_copy(st, 5, lo);
    while (rc == RP_OK && (step = store_step(st)) == STORE_ROW) {
        u.uid = store_col_text(st, 0);
        u.case_no = store_col_text(st, 1);
        u.type = store_col_text(st, 2);
        u.at = store_col_text(st, 3);
        u.status = store_col_text(st, 4);
        u.kind = store_col_text(st, 5);
        u.from = store_col_text(st, 6);
        u.to = store_col_text(st, 7);
        u.note = store_col_text(st, 8);
        u.photo_url = store_col_text(st, 9);
        rc = fn(ctx, &u, err);
    }
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "updates", err);
    store_reset(st);
    return rc;
}

int store_update_add(struct store *s, int64_t report_id, const char *actor, const char *status,
                     const char *note, char uid[40], int *replayed, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_UPDATE_FIND, err);
    int step, rc;

    *replayed = 0;
    uid[0] = '\0';
    if (!st)
        return err->code;
    store_bind_int64(st, 1, report_id);
    store_bind_text(st, 2, actor);
    if ((step = store_step(st)) == STORE_ROW) {
        store_col_copy(uid, 40, st, 0);
        *replayed = 1;
    }
    store_reset(st);
    if (step != STORE_ROW && step != STORE_DONE)
        return store_sql_error(s, "update", err);
    if (*replayed)
        return RP_OK;
    rc = store_history_add(s, report_id,
                           &(struct store_history){0, NULL, "update", actor, "citizen", NULL, NULL,
                                                   status, note},
                           err);
    if (rc != RP_OK)
        return rc;
    if (!(st = store_stmt(s, SQL_EVENT_OF_HISTORY, err)))
        return err->code;
    store_bind_int64(st, 1, store_last_id(s));
    if ((step = store_step(st)) == STORE_ROW)
        store_col_copy(uid, 40, st, 0);
    store_reset(st);
    return step == STORE_ROW ? RP_OK : store_sql_error(s, "update event", err);
}
