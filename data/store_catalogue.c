/*
 * data/store_catalogue.c - services, entities and routing rules: the data that decides where a
 * case goes. Rows are copied into fixed-size structs (lengths are capped where they are
 * written), so callers own nothing.
 */
#include "data/store_int.h"

#include <stdio.h>
#include <string.h>

/* Steps st to the end: row(st, &item), then fn(ctx, &item, err) per row, with fn typed. */
#define EACH_ROW(s, st, row, item, fn, ctx, what, err)                                        \
    do {                                                                                      \
        int step_, out_ = RP_OK;                                                              \
        while (out_ == RP_OK && (step_ = store_step(st)) == STORE_ROW) {                   \
            row((st), &(item));                                                               \
            out_ = (fn)((ctx), &(item), (err));                                               \
        }                                                                                     \
        if (out_ == RP_OK && step_ != STORE_DONE)                                            \
            out_ = store_sql_error((s), (what), (err));                                       \
        store_reset(st);                                                                    \
        return out_;                                                                          \
    } while (0)

static int one_row(struct store *s, struct store_q *st, void (*row)(struct store_q *, void *),
                   void *item, int *found, const char *what, struct rp_err *err)
{
    int rc = store_step(st);

    *found = rc == STORE_ROW;
    if (*found)
        row(st, item);
    store_reset(st);
    return rc == STORE_ROW || rc == STORE_DONE ? RP_OK : store_sql_error(s, what, err);
}

static int done(struct store *s, struct store_q *st, const char *what, struct rp_err *err)
{
    int rc = store_step(st);

    store_reset(st);
    if (rc == STORE_E_FOREIGN)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s: a referenced code does not exist", what);
    if (STORE_IS_CONSTRAINT(rc))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s: %s", what, store_errmsg(s));
    return rc == STORE_DONE ? RP_OK : store_sql_error(s, what, err);
}

/* A catalogue write: readers' caches must drop what they hold once it is committed. */
static int changed(struct store *s, int rc)
{
    if (rc == RP_OK)
        store_catalogue_touch(s);
    return rc;
}

/* ---- services ---- */

static void service_row(struct store_q *st, void *item)
{
    struct store_service *sv = item;

    STORE_COPY(sv->code, st, 0);
    STORE_COPY(sv->name_es, st, 1);
    STORE_COPY(sv->name_en, st, 2);
    STORE_COPY(sv->group, st, 3);
    sv->sla_hours = store_col_int(st, 4);
    sv->dup_radius_m = store_col_double(st, 5);
    STORE_COPY(sv->attributes, st, 6);
    sv->active = store_col_int(st, 7);
}

int store_service_get(struct store *s, const char *code, struct store_service *out, int *found,
                      struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_SERVICE_GET, err);

    *found = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, code);
    return one_row(s, st, service_row, out, found, "service", err);
}

int store_services_each(struct store *s, store_service_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_SERVICES_EACH, err);
    struct store_service sv;

    if (!st)
        return RP_STORAGE;
    EACH_ROW(s, st, service_row, sv, fn, ctx, "services", err);
}

int store_service_put(struct store *s, const struct store_service *sv, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_SERVICE_PUT, err);

    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, sv->code);
    store_bind_text(st, 2, sv->name_es);
    store_bind_text(st, 3, sv->name_en);
    store_bind_text(st, 4, sv->group);
    store_bind_int(st, 5, sv->sla_hours);
    store_bind_double(st, 6, sv->dup_radius_m);
    store_bind_text(st, 7, sv->attributes);
    store_bind_int(st, 8, sv->active);
    return changed(s, done(s, st, "service", err));
}

/* ---- entities ---- */

static void entity_row(struct store_q *st, void *item)
{
    struct store_entity *e = item;

    STORE_COPY(e->code, st, 0);
    STORE_COPY(e->name, st, 1);
    STORE_COPY(e->kind, st, 2);
    STORE_COPY(e->area_code, st, 3);
    e->active = store_col_int(st, 4);
}

int store_entity_get(struct store *s, const char *code, struct store_entity *out, int *found,
                     struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_ENTITY_GET, err);

    *found = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, code);
    return one_row(s, st, entity_row, out, found, "entity", err);
}

int store_entities_each(struct store *s, store_entity_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_ENTITIES_EACH, err);
    struct store_entity e;

    if (!st)
        return RP_STORAGE;
    EACH_ROW(s, st, entity_row, e, fn, ctx, "entities", err);
}

int store_entity_put(struct store *s, const struct store_entity *e, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_ENTITY_PUT, err);

    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, e->code);
    store_bind_text(st, 2, e->name);
    store_bind_text(st, 3, e->kind);
    store_bind_text(st, 4, e->area_code);
    store_bind_int(st, 5, e->active);
    return changed(s, done(s, st, "entity", err));
}

/* ---- routing rules ---- */

static void rule_row(struct store_q *st, void *item)
{
    struct store_rule *r = item;

    r->id = store_col_int64(st, 0);
    STORE_COPY(r->service_code, st, 1);
    STORE_COPY(r->area_code, st, 2);
    STORE_COPY(r->entity_code, st, 3);
    r->to_municipality = store_col_int(st, 4);
    r->priority = store_col_int(st, 5);
    r->sla_hours = store_col_int(st, 6);
    STORE_COPY(r->note, st, 7);
}

int store_rules_for(struct store *s, const char *service, const char *const areas[3],
                    store_rule_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_RULES_FOR, err);
    struct store_rule r;

    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, service);
    for (int i = 0; i < 3; i++)
        if (areas[i] && areas[i][0])
            store_bind_text(st, 2 + i, areas[i]);
    EACH_ROW(s, st, rule_row, r, fn, ctx, "routing rules", err);
}

int store_rules_each(struct store *s, store_rule_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_RULES_EACH, err);
    struct store_rule r;

    if (!st)
        return RP_STORAGE;
    EACH_ROW(s, st, rule_row, r, fn, ctx, "routing rules", err);
}

int store_rule_get(struct store *s, int64_t id, struct store_rule *out, int *found,
                   struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_RULE_GET, err);

    *found = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, id);
    return one_row(s, st, rule_row, out, found, "routing rule", err);
}

int store_rule_put(struct store *s, struct store_rule *r, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, r->id ? SQL_RULE_UPDATE : SQL_RULE_INSERT, err);
    int rc;

    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, r->service_code);
    store_bind_text(st, 2, r->area_code);
    store_bind_text(st, 3, r->entity_code);
    store_bind_int(st, 4, r->to_municipality);
    store_bind_int(st, 5, r->priority);
    store_bind_int(st, 6, r->sla_hours);
    store_bind_text(st, 7, r->note);
    if (r->id)
        store_bind_int64(st, 8, r->id);
    rc = done(s, st, "routing rule", err);
    if (rc == RP_OK && !r->id)
        r->id = store_last_id(s);
    return changed(s, rc);
}

int store_rule_delete(struct store *s, int64_t id, int *deleted, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_RULE_DELETE, err);
    int rc;

    *deleted = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, id);
    rc = done(s, st, "routing rule", err);
    *deleted = rc == RP_OK && store_changes(s) == 1;
    return changed(s, rc);
}

int store_rules_national(struct store *s, const char *service, int *n, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_RULES_NATIONAL, err);
    int rc;

    *n = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, service);
    rc = store_step(st);
    if (rc == STORE_ROW)
        *n = store_col_int(st, 0);
    store_reset(st);
    return rc == STORE_ROW ? RP_OK : store_sql_error(s, "national rules", err);
}
