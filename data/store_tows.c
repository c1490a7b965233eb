/*
 * data/store_tows.c - towed vehicles (see store.h): yards and trucks (insert or replace by
 * code), truck positions (one row per truck and device time, so a repeated point is kept
 * once), tows and their history. Multi-statement changes run inside the caller's transaction:
 * positions through the group-commit writer, tow changes in the handler's own transaction.
 */
#include "data/store_int.h"

#include <math.h>
#include <string.h>

static void bind_text(struct store_q *st, int i, const char *v)
{
    store_bind_text(st, i, v ? v : "");
}

static void bind_opt_text(struct store_q *st, int i, const char *v)
{
    if (v && v[0])
        store_bind_text(st, i, v);
}

/* Runs an "exists" statement with code bound as ?1. */
static int code_exists(struct store *s, enum store_sql id, const char *code, int *exists,
                       struct rp_err *err)
{
    struct store_q *st = store_stmt(s, id, err);

    *exists = 0;
    if (!st)
        return RP_STORAGE;
    bind_text(st, 1, code);
    return store_exists(s, st, exists, "exists", err);
}

/* Steps an upsert ... RETURNING id, updated_at. */
static int upsert_returning(struct store *s, struct store_q *st, int64_t *id, char *updated,
                            size_t updated_len, const char *what, struct rp_err *err)
{
    int rc = store_step(st);

    if (rc == STORE_ROW) {
        *id = store_col_int64(st, 0);
        store_col_copy(updated, updated_len, st, 1);
        rc = store_step(st);
    }
    store_reset(st);
    return rc == STORE_DONE ? RP_OK : store_sql_error(s, what, err);
}

/* ---- yards ---- */

int store_yard_put(struct store *s, struct store_yard *y, int *created, struct rp_err *err)
{
    struct store_q *st;
    int exists = 0, rc = code_exists(s, SQL_YARD_EXISTS, y->code, &exists, err);

    if (rc != RP_OK)
        return rc;
    *created = !exists;
    if (!(st = store_stmt(s, SQL_YARD_PUT, err)))
        return RP_STORAGE;
    bind_text(st, 1, y->code);
    bind_text(st, 2, y->name);
    bind_text(st, 3, y->address);
    store_bind_double(st, 4, y->lat);
    store_bind_double(st, 5, y->lon);
    bind_opt_text(st, 6, y->geofence);
    store_bind_double(st, 7, y->geofence ? 0 : y->radius_m);
    bind_text(st, 8, y->hours_es);
    bind_text(st, 9, y->hours_en);
    bind_text(st, 10, y->phone);
    store_bind_int64(st, 11, y->tow_fee_cents);
    store_bind_int64(st, 12, y->daily_fee_cents);
    bind_text(st, 13, y->documents_es);
    bind_text(st, 14, y->documents_en);
    store_bind_int(st, 15, y->active);
    return upsert_returning(s, st, &y->id, y->updated_at, sizeof y->updated_at, "yard", err);
}

int store_yards_each(struct store *s, store_yard_fn fn, void *ctx, struct rp_err *err)
{
    static _Thread_local struct store_yard y;
    struct store_q *st = store_stmt(s, SQL_YARDS_EACH, err);
    int rc, out = RP_OK;

    if (!st)
        return RP_STORAGE;
    while (out == RP_OK && (rc = store_step(st)) == STORE_ROW) {
        memset(&y, 0, sizeof y);
        y.id = store_col_int64(st, 0);
        STORE_COPY(y.code, st, 1);
        STORE_COPY(y.name, st, 2);
        STORE_COPY(y.address, st, 3);
        y.lat = store_col_double(st, 4);
        y.lon = store_col_double(st, 5);
        y.geofence = store_col_text(st, 6);
        y.radius_m = store_col_double(st, 7);
        STORE_COPY(y.hours_es, st, 8);
        STORE_COPY(y.hours_en, st, 9);
        STORE_COPY(y.phone, st, 10);
        y.tow_fee_cents = store_col_int64(st, 11);
        y.daily_fee_cents = store_col_int64(st, 12);
        STORE_COPY(y.documents_es, st, 13);
        STORE_COPY(y.documents_en, st, 14);
        y.active = store_col_int(st, 15);
        STORE_COPY(y.updated_at, st, 16);
        out = fn(ctx, &y, err);
    }
    if (out == RP_OK && rc != STORE_DONE)
        out = store_sql_error(s, "yards", err);
    store_reset(st);
    return out;
}

static int delete_unused(struct store *s, enum store_sql used, enum store_sql del,
                         const char *code, const char *what, int *deleted, struct rp_err *err)
{
    struct store_q *st;
    int in_use = 0, rc = code_exists(s, used, code, &in_use, err);

    *deleted = 0;
    if (rc != RP_OK)
        return rc;
    if (in_use)
        return rp_err_set(err, RP_CONFLICT, "%s %.32s has tows%s: set active to false instead",
                          what, code, del == SQL_TRUCK_DELETE ? " or positions" : "");
    if (!(st = store_stmt(s, del, err)))
        return RP_STORAGE;
    bind_text(st, 1, code);
    rc = store_run(s, st, what, err);
    *deleted = rc == RP_OK && store_changes(s) == 1;
    return rc;
}

int store_yard_delete(struct store *s, const char *code, int *deleted, struct rp_err *err)
{
    return delete_unused(s, SQL_YARD_USED, SQL_YARD_DELETE, code, "yard", deleted, err);
}

/* ---- trucks ---- */

int store_truck_put(struct store *s, struct store_truck *t, int *created, struct rp_err *err)
{
    struct store_q *st;
    int exists = 0, rc = code_exists(s, SQL_TRUCK_EXISTS, t->code, &exists, err);

    if (rc != RP_OK)
        return rc;
    *created = !exists;
    if (!(st = store_stmt(s, SQL_TRUCK_PUT, err)))
        return RP_STORAGE;
    bind_text(st, 1, t->code);
    bind_text(st, 2, t->entity_code);
    bind_text(st, 3, t->plate);
    store_bind_int(st, 4, t->active);
    return upsert_returning(s, st, &t->id, t->updated_at, sizeof t->updated_at, "truck", err);
}

int store_trucks_each(struct store *s, store_truck_fn fn, void *ctx, struct rp_err *err)
{
    struct store_truck t;
    struct store_q *st = store_stmt(s, SQL_TRUCKS_EACH, err);
    int rc, out = RP_OK;

    if (!st)
        return RP_STORAGE;
    while (out == RP_OK && (rc = store_step(st)) == STORE_ROW) {
        memset(&t, 0, sizeof t);
        t.id = store_col_int64(st, 0);
        STORE_COPY(t.code, st, 1);
        STORE_COPY(t.entity_code, st, 2);
        STORE_COPY(t.plate, st, 3);
        t.active = store_col_int(st, 4);
        STORE_COPY(t.updated_at, st, 5);
        out = fn(ctx, &t, err);
    }
    if (out == RP_OK && rc != STORE_DONE)
        out = store_sql_error(s, "trucks", err);
    store_reset(st);
    return out;
}

int store_truck_delete(struct store *s, const char *code, int *deleted, struct rp_err *err)
{
    return delete_unused(s, SQL_TRUCK_USED, SQL_TRUCK_DELETE, code, "truck", deleted, err);
}

/* ---- positions ---- */

int store_positions_add(struct store *s, int64_t truck_id, const struct store_position *v,
                        size_t n, size_t *added, struct rp_err *err)
{
    *added = 0;
    for (size_t i = 0; i < n; i++) {
        struct store_q *st = store_stmt(s, SQL_POSITION_ADD, err);
        int rc;

        if (!st)
            return RP_STORAGE;
        store_bind_int64(st, 1, truck_id);
        bind_text(st, 2, v[i].at);
        store_bind_double(st, 3, v[i].lat);
        store_bind_double(st, 4, v[i].lon);
        if (!isnan(v[i].speed_kmh))
            store_bind_double(st, 5, v[i].speed_kmh);
        if (!isnan(v[i].heading))
            store_bind_double(st, 6, v[i].heading);
        if ((rc = store_run(s, st, "position", err)) != RP_OK)
            return rc;
        *added += (size_t)store_changes(s);
    }
    return RP_OK;
}

static int positions_step(struct store *s, struct store_q *st, store_position_fn fn, void *ctx,
                          struct rp_err *err)
{
    struct store_position p;
    int rc, out = RP_OK;

    while (out == RP_OK && (rc = store_step(st)) == STORE_ROW) {
        STORE_COPY(p.at, st, 1);
        p.lat = store_col_double(st, 2);
        p.lon = store_col_double(st, 3);
        p.speed_kmh = store_col_null(st, 4) ? NAN
                                                                : store_col_double(st, 4);
        p.heading = store_col_null(st, 5) ? NAN : store_col_double(st, 5);
        out = fn(ctx, store_col_int64(st, 0), &p, err);
    }
    if (out == RP_OK && rc != STORE_DONE)
        out = store_sql_error(s, "positions", err);
    store_reset(st);
    return out;
}

int store_positions_each(struct store *s, int64_t truck_id, const char *since, int limit,
                         store_position_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_POSITIONS_EACH, err);

    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, truck_id);
    bind_opt_text(st, 2, since);
    store_bind_int(st, 3, limit);
    return positions_step(s, st, fn, ctx, err);
}

int store_positions_latest(struct store *s, store_position_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_POSITIONS_LATEST, err);

    return st ? positions_step(s, st, fn, ctx, err) : RP_STORAGE;
}

/* ---- tows ---- */

static void tow_row(struct store_q *st, struct store_tow *t)
{
    size_t keylen;
    const void *key = store_col_blob(st, 13, &keylen);

    memset(t, 0, sizeof *t);
    t->id = store_col_int64(st, 0);
    STORE_COPY(t->plate, st, 1);
    STORE_COPY(t->make, st, 2);
    STORE_COPY(t->colour, st, 3);
    STORE_COPY(t->vehicle_type, st, 4);
    t->lat = store_col_double(st, 5);
    t->lon = store_col_double(st, 6);
    for (int i = 0; i < 3; i++)
        STORE_COPY(t->area[i], st, 7 + i);
    STORE_COPY(t->address, st, 10);
    STORE_COPY(t->reason, st, 11);
    STORE_COPY(t->ticket, st, 12);
    if (key && keylen == STORE_HASH_LEN)
        memcpy(t->ticket_key, key, STORE_HASH_LEN);
    STORE_COPY(t->entity_code, st, 14);
    t->truck_id = store_col_int64(st, 15);
    t->yard_id = store_col_int64(st, 16);
    t->report_id = store_col_int64(st, 17);
    STORE_COPY(t->status, st, 18);
    STORE_COPY(t->created_at, st, 19);
    STORE_COPY(t->towing_at, st, 20);
    STORE_COPY(t->at_yard_at, st, 21);
    STORE_COPY(t->released_at, st, 22);
    STORE_COPY(t->cancelled_at, st, 23);
    STORE_COPY(t->updated_at, st, 24);
}

int store_tow_insert(struct store *s, struct store_tow *t, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_TOW_INSERT, err);
    int rc;

    if (!st)
        return RP_STORAGE;
    bind_text(st, 1, t->plate);
    bind_text(st, 2, t->make);
    bind_text(st, 3, t->colour);
    bind_text(st, 4, t->vehicle_type);
    store_bind_double(st, 5, t->lat);
    store_bind_double(st, 6, t->lon);
    for (int i = 0; i < 3; i++)
        bind_text(st, 7 + i, t->area[i]);
    bind_text(st, 10, t->address);
    bind_text(st, 11, t->reason);
    bind_text(st, 12, t->ticket);
    store_bind_blob(st, 13, t->ticket_key, STORE_HASH_LEN);
    bind_text(st, 14, t->entity_code);
    store_bind_int64(st, 15, t->truck_id);
    store_bind_int64(st, 16, t->yard_id);
    store_bind_int64(st, 17, t->report_id);
    bind_text(st, 18, t->status);
    bind_text(st, 19, t->created_at);
    bind_text(st, 20, t->towing_at);
    rc = store_run(s, st, "tow", err);
    if (rc == RP_OK) {
        t->id = store_last_id(s);
        memcpy(t->updated_at, t->created_at, sizeof t->updated_at);
    }
    return rc;
}

int store_tow_get(struct store *s, int64_t id, struct store_tow *out, int *found,
                  struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_TOW_GET, err);
    int rc;

    *found = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, id);
    rc = store_step(st);
    if (rc == STORE_ROW) {
        *found = 1;
        tow_row(st, out);
    }
    store_reset(st);
    return rc == STORE_ROW || rc == STORE_DONE ? RP_OK : store_sql_error(s, "tow", err);
}

int store_tow_set_status(struct store *s, int64_t id, const char *from, const char *to,
                         const char *at, int *changed, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_TOW_SET_STATUS, err);
    int rc;

    *changed = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, id);
    bind_text(st, 2, from);
    bind_text(st, 3, to);
    bind_text(st, 4, at);
    rc = store_run(s, st, "tow status", err);
    *changed = rc == RP_OK && store_changes(s) == 1;
    return rc;
}

static int tows_step(struct store *s, struct store_q *st, store_tow_fn fn, void *ctx,
                     struct rp_err *err)
{
    static _Thread_local struct store_tow t;
    int rc, out = RP_OK;

    while (out == RP_OK && (rc = store_step(st)) == STORE_ROW) {
        tow_row(st, &t);
        out = fn(ctx, &t, err);
    }
    if (out == RP_OK && rc != STORE_DONE)
        out = store_sql_error(s, "tows", err);
    store_reset(st);
    return out;
}

int store_tows_active_each(struct store *s, store_tow_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_TOWS_ACTIVE, err);

    return st ? tows_step(s, st, fn, ctx, err) : RP_STORAGE;
}

int store_tows_query(struct store *s, const char *entity, const char *plate, const char *status,
                     int64_t before_id, int limit, store_tow_fn fn, void *ctx,
                     struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_TOWS_QUERY, err);

    if (!st)
        return RP_STORAGE;
    bind_opt_text(st, 1, entity);
    bind_opt_text(st, 2, plate);
    bind_opt_text(st, 3, status);
    store_bind_int64(st, 4, before_id);
    store_bind_int(st, 5, limit);
    return tows_step(s, st, fn, ctx, err);
}

int store_tow_history_add(struct store *s, int64_t tow_id, const struct store_tow_change *c,
                          struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_TOW_HISTORY_ADD, err);

    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, tow_id);
    bind_text(st, 2, c->at);
    bind_opt_text(st, 3, c->from);
    bind_text(st, 4, c->to);
    bind_text(st, 5, c->actor);
    bind_text(st, 6, c->actor_role);
    bind_opt_text(st, 7, c->note);
    return store_run(s, st, "tow history", err);
}

int store_tow_history_each(struct store *s, int64_t tow_id, store_tow_change_fn fn, void *ctx,
                           struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_TOW_HISTORY_EACH, err);
    int rc, out = RP_OK;

    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, tow_id);
    while (out == RP_OK && (rc = store_step(st)) == STORE_ROW) {
        struct store_tow_change c = {store_col_int64(st, 0), store_col_text(st, 1),
                                     store_col_text(st, 2),        store_col_text(st, 3),
                                     store_col_text(st, 4),        store_col_text(st, 5),
                                     store_col_text(st, 6)};
        out = fn(ctx, &c, err);
    }
    if (out == RP_OK && rc != STORE_DONE)
        out = store_sql_error(s, "tow history", err);
    store_reset(st);
    return out;
}
