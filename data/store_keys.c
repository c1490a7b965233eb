/*
 * data/store_keys.c - entities (existence only, for now), API keys and the append-only audit
 * log. Keys are stored as SHA-256 hashes; the clear key never reaches this module.
 */
#include "data/store_int.h"

#include <stdio.h>
#include <string.h>

int store_entity_exists(struct store *s, const char *code, int *exists, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_ENTITY_EXISTS, err);

    *exists = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, code);
    return store_exists(s, st, exists, "entity", err);
}

int store_key_insert(struct store *s, const char *name, const char *role, const char *entity,
                     const char *prefix, const unsigned char hash[STORE_HASH_LEN], int64_t *id,
                     struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_KEY_INSERT, err);
    int rc;

    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, role);
    if (entity)
        store_bind_text(st, 3, entity);
    store_bind_text(st, 4, prefix);
    store_bind_blob(st, 5, hash, STORE_HASH_LEN);
    rc = store_step(st);
    store_reset(st);
    if (rc == STORE_E_FOREIGN)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "no entity with code %s", entity);
    if (rc == STORE_E_CHECK)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "role %s is not valid here", role);
    if (rc != STORE_DONE)
        return store_sql_error(s, "insert key", err);
    *id = store_last_id(s);
    return RP_OK;
}

static void key_row(struct store_q *st, struct store_key *k)
{
    k->id = store_col_int64(st, 0);
    STORE_COPY(k->name, st, 1);
    STORE_COPY(k->role, st, 2);
    STORE_COPY(k->entity, st, 3);
    STORE_COPY(k->prefix, st, 4);
    STORE_COPY(k->created_at, st, 5);
    STORE_COPY(k->revoked_at, st, 6);
}

static int key_one(struct store *s, struct store_q *st, struct store_key *out, int *found,
                   struct rp_err *err)
{
    int rc = store_step(st);

    *found = rc == STORE_ROW;
    if (*found)
        key_row(st, out);
    store_reset(st);
    return rc == STORE_ROW || rc == STORE_DONE ? RP_OK : store_sql_error(s, "key", err);
}

int store_key_by_hash(struct store *s, const unsigned char hash[STORE_HASH_LEN],
                      struct store_key *out, int *found, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_KEY_BY_HASH, err);

    *found = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_blob(st, 1, hash, STORE_HASH_LEN);
    return key_one(s, st, out, found, err);
}

int store_key_get(struct store *s, int64_t id, struct store_key *out, int *found,
                  struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_KEY_GET, err);

    *found = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, id);
    return key_one(s, st, out, found, err);
}

int store_key_revoke(struct store *s, int64_t id, int *changed, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_KEY_REVOKE, err);
    int rc;

    *changed = 0;
    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, id);
    rc = store_run(s, st, "revoke key", err);
    if (rc != RP_OK)
        return rc;
    *changed = store_changes(s) == 1;
    return RP_OK;
}

int store_keys_each(struct store *s, store_key_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_KEYS_EACH, err);
    struct store_key k;
    int rc, out = RP_OK;

    if (!st)
        return RP_STORAGE;
    while (out == RP_OK && (rc = store_step(st)) == STORE_ROW) {
        key_row(st, &k);
        out = fn(ctx, &k, err);
    }
    if (out == RP_OK && rc != STORE_DONE)
        out = store_sql_error(s, "list keys", err);
    store_reset(st);
    return out;
}

static void bind_opt(struct store_q *st, int i, const char *v)
{
    if (v)
        store_bind_text(st, i, v);
}

int store_audit_add(struct store *s, const struct store_audit *a, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_AUDIT_ADD, err);

    if (!st)
        return RP_STORAGE;
    bind_opt(st, 1, a->actor);
    bind_opt(st, 2, a->actor_role);
    bind_opt(st, 3, a->actor_entity);
    bind_opt(st, 4, a->action);
    bind_opt(st, 5, a->target);
    bind_opt(st, 6, a->before);
    bind_opt(st, 7, a->after);
    return store_run(s, st, "audit", err);
}

int store_audit_each(struct store *s, const char *target, int64_t before_id, int limit,
                     store_audit_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_AUDIT_EACH, err);
    int rc, out = RP_OK;

    if (!st)
        return RP_STORAGE;
    store_bind_int64(st, 1, before_id);
    bind_opt(st, 2, target);
    store_bind_int(st, 3, limit);
    while (out == RP_OK && (rc = store_step(st)) == STORE_ROW) {
        struct store_audit a = {
            store_col_int64(st, 0), store_col_text(st, 1), store_col_text(st, 2),
            store_col_text(st, 3),       store_col_text(st, 4), store_col_text(st, 5),
            store_col_text(st, 6),       store_col_text(st, 7), store_col_text(st, 8)};
        out = fn(ctx, &a, err);
    }
    if (out == RP_OK && rc != STORE_DONE)
        out = store_sql_error(s, "audit log", err);
    store_reset(st);
    return out;
}
