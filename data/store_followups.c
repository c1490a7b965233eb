/*
 * data/store_followups.c - ratings and the contact centre's follow-ups (migration 0012). The
 * history rows and events they make come from the triggers; the statistics follow the case's
 * rating and followed_up_at through the triggers of the statistics.
 */
#include "data/store_int.h"

#include <string.h>

int store_rating_add(struct store *s, int64_t report_id, int score, const char *comment,
                     int reopened, int *again, struct rp_err *err)
{
    struct store_q *add = store_stmt(s, SQL_RATING_ADD, err), *set;
    char text[4];
    int rc;

    *again = 0;
    if (!add || !(set = store_stmt(s, SQL_REPORT_SET_RATING, err)))
        return err->code;
    store_bind_int64(add, 1, report_id);
    store_bind_int(add, 2, score);
    store_bind_text(add, 3, comment ? comment : "");
    store_bind_int(add, 4, reopened != 0);
    if ((rc = store_run(s, add, "rating", err)) != RP_OK)
        return rc;
    if (store_changes(s) == 0) {
        *again = 1;
        return RP_OK;
    }
    store_bind_int64(set, 1, report_id);
    store_bind_int(set, 2, score);
    if ((rc = store_run(s, set, "rating", err)) != RP_OK)
        return rc;
    text[0] = (char)('0' + score);
    text[1] = '\0';
    return store_history_add(s, report_id,
                             &(struct store_history){0, NULL, "rating", "reporter", "reporter",
                                                     NULL, NULL, text, NULL},
                             err);
}

int store_followups_raise(struct store *s, const char *now, const char *quiet_since,
                          const char *closed_since, int limit, int *due, int *satisfaction,
                          struct rp_err *err)
{
    struct store_q *a, *b;
    int rc = store_begin(s, err);

    *due = *satisfaction = 0;
    if (rc != RP_OK)
        return rc;
    if (!(a = store_stmt(s, SQL_FOLLOWUPS_DUE, err)) ||
        !(b = store_stmt(s, SQL_FOLLOWUPS_SATISFACTION, err)))
        return store_end(s, err->code, err);
    store_bind_text(a, 1, now);
    store_bind_text(a, 2, quiet_since);
    store_bind_int(a, 3, limit);
    rc = store_run(s, a, "follow-ups", err);
    if (rc == RP_OK) {
        *due = store_changes(s);
        store_bind_text(b, 1, now);
        store_bind_text(b, 2, closed_since);
        store_bind_int(b, 3, limit);
        rc = store_run(s, b, "follow-ups", err);
        if (rc == RP_OK)
            *satisfaction = store_changes(s);
    }
    return store_end(s, rc, err);
}

int store_followups_open(struct store *s, const char *entity, const char *kind, int64_t after,
                         int limit, store_followup_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_FOLLOWUPS_OPEN, err);
    struct store_followup f;
    int rc = RP_OK, step = STORE_DONE;

    if (!st)
        return err->code;
    store_bind_null(st, 1);
    store_bind_null(st, 2);
    if (entity)
        store_bind_text(st, 1, entity);
    if (kind)
        store_bind_text(st, 2, kind);
    store_bind_int64(st, 3, after);
    store_bind_int(st, 4, limit);
    while (rc == RP_OK && (step = store_step(st)) == STORE_ROW) {
        f.id = store_col_int64(st, 0);
        f.kind = store_col_text(st, 1);
        f.raised_at = store_col_text(st, 2);
        f.case_no = store_col_text(st, 3);
        f.service_code = store_col_text(st, 4);
        f.status = store_col_text(st, 5);
        f.entity_code = store_col_text(st, 6);
        f.created_at = store_col_text(st, 7);
        f.closed_at = store_col_text(st, 8);
        f.reporter_name = store_col_text(st, 9);
        f.reporter_email = store_col_text(st, 10);
        f.reporter_phone = store_col_text(st, 11);
        rc = fn(ctx, &f, err);
    }
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "follow-ups", err);
    store_reset(st);
    return rc;
}

int store_followup_done(struct store *s, int64_t id, const char *check_entity, const char *actor,
                        const char *role, const char *note, int *found, struct rp_err *err)
{
    struct store_q *get, *done;
    int64_t report_id = 0;
    char entity[STORE_CODE_MAX] = "", done_at[STORE_TIME_MAX] = "";
    int rc = store_begin(s, err), step;

    *found = 0;
    if (rc != RP_OK)
        return rc;
    if (!(get = store_stmt(s, SQL_FOLLOWUP_GET, err)) || !(done = store_stmt(s, SQL_FOLLOWUP_DONE, err)))
        return store_end(s, err->code, err);
    store_bind_int64(get, 1, id);
    if ((step = store_step(get)) == STORE_ROW) {
        *found = 1;
        report_id = store_col_int64(get, 0);
        store_col_copy(entity, sizeof entity, get, 1);
        store_col_copy(done_at, sizeof done_at, get, 3);
    }
    store_reset(get);
    if (step != STORE_ROW && step != STORE_DONE)
        return store_end(s, store_sql_error(s, "follow-up", err), err);
    if (!*found)
        return store_end(s, RP_OK, err);
    if (check_entity && strcmp(check_entity, entity) != 0)
        return store_end(s, rp_err_set(err, RP_FORBIDDEN, "follow-up %lld is %s's", (long long)id,
                                       entity), err);
    if (done_at[0])
        return store_end(s, rp_err_set(err, RP_CONFLICT, "follow-up %lld was done at %s",
                                       (long long)id, done_at), err);
    store_bind_int64(done, 1, id);
    store_bind_text(done, 2, actor);
    store_bind_text(done, 3, note ? note : "");
    rc = store_run(s, done, "follow-up", err);
    if (rc == RP_OK)
        rc = store_history_add(s, report_id,
                               &(struct store_history){0, NULL, "followup", actor, role, NULL,
                                                       NULL, "done", note},
                               err);
    return store_end(s, rc, err);
}
