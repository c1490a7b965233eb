/*
 * server/h_keys.c - who am I, API key administration and the audit log. Keys are created and
 * revoked through server/auth.c, which writes the audit row in the same transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/routes.h"
#include "server/worker.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX     1000

/* GET /api/v1/me: the caller's role and entity (anonymous without a key). */
int h_me_get(struct http_req *req, struct http_res *res)
{
    const struct principal *p = &req->who;

    return http_reply_json_new(
        res, 200,
        json_pack("{s:s, s:s?, s:s?, s:o}", "role", auth_role_name(p->role), "entity",
                  p->entity[0] ? p->entity : NULL, "name", p->key_id ? p->name : NULL, "key_id",
                  p->key_id ? json_integer((json_int_t)p->key_id) : json_null()));
}

static int key_append(void *ctx, const struct store_key *k, struct rp_err *err)
{
    if (json_array_append_new(ctx, auth_key_json(k)) != 0)
        return rp_err_set(err, RP_NO_MEMORY, "key list");
    return RP_OK;
}

/* GET /api/v1/keys */
int h_keys_list(struct http_req *req, struct http_res *res)
{
    json_t *list = json_array();
    int rc = list ? store_keys_each(req->w->store, key_append, list, &res->err)
                  : rp_err_set(&res->err, RP_NO_MEMORY, "key list");

    if (rc != RP_OK) {
        json_decref(list);
        return rc;
    }
    return http_reply_json_new(res, 200, json_pack("{s:o}", "keys", list));
}

/* POST /api/v1/keys {role, entity?, name} -> 201 with the key, shown this once. */
int h_keys_create(struct http_req *req, struct http_res *res)
{
    char key[AUTH_KEY_LEN + 1], loc[64];
    const char *role, *entity, *name;
    struct store_key k;
    int64_t id = 0;
    int found = 0, rc;
    json_t *body, *out;

    rc = http_body_json(req, &body, &res->err);
    if (rc != RP_OK)
        return rc;
    rc = http_json_str(body, "role", STORE_ROLE_MAX - 1, 1, &role, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "entity", STORE_CODE_MAX - 1, 0, &entity, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "name", STORE_NAME_MAX - 1, 1, &name, &res->err);
    if (rc == RP_OK)
        rc = auth_key_create(req->w->store, &req->who, role, entity, name, key, &id, &res->err);
    json_decref(body);
    if (rc == RP_OK)
        rc = store_key_get(req->w->store, id, &k, &found, &res->err);
    if (rc != RP_OK)
        return rc;
    out = auth_key_json(&k);
    if (out)
        json_object_set_new(out, "key", json_string(key));
    memset(key, 0, sizeof key);
    snprintf(loc, sizeof loc, "/api/v1/keys/%lld", (long long)id);
    http_header_add(res, "Location", loc);
    http_header_add(res, "Cache-Control", "no-store");
    return http_reply_json_new(res, 201, out);
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;

    errno = 0;
    *id = s ? strtoll(s, &end, 10) : 0;
    return s && end != s && *end == '\0' && errno == 0 && *id > 0;
}

/* DELETE /api/v1/keys/{id}: revokes (the row stays, for the audit log). */
int h_keys_revoke(struct http_req *req, struct http_res *res)
{
    struct store_key k;
    int64_t id;
    int found = 0, rc;

    if (!parse_id(http_param(req, "id"), &id))
        return rp_err_set(&res->err, RP_NOT_FOUND, "no key with id %.40s", http_param(req, "id"));
    rc = auth_key_revoke(req->w->store, &req->who, id, &res->err);
    if (rc == RP_OK)
        rc = store_key_get(req->w->store, id, &k, &found, &res->err);
    if (rc != RP_OK)
        return rc;
    return http_reply_json_new(res, 200, auth_key_json(&k));
}

static json_t *json_or_null(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_null();
}

static int audit_append(void *ctx, const struct store_audit *a, struct rp_err *err)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s, s:s, s:o, s:o}", "id",
                          (json_int_t)a->id, "at", a->at, "actor", a->actor, "actor_role",
                          a->actor_role, "actor_entity", a->actor_entity, "action", a->action,
                          "target", a->target, "before", json_or_null(a->before), "after",
                          json_or_null(a->after));
    if (json_array_append_new(ctx, o) != 0)
        return rp_err_set(err, RP_NO_MEMORY, "audit list");
    return RP_OK;
}

/* GET /api/v1/audit[?target=..][&before=ID][&limit=N]: newest first; `next` pages back. */
int h_audit_list(struct http_req *req, struct http_res *res)
{
    double limit, before;
    json_t *list, *last;
    int rc;

    rc = http_query_double(req, "limit", AUDIT_LIMIT_DEFAULT, 1, AUDIT_LIMIT_MAX, &limit,
                           &res->err);
    if (rc == RP_OK)
        rc = http_query_double(req, "before", 0, 0, 9e15, &before, &res->err);
    if (rc != RP_OK)
        return rc;
    list = json_array();
    rc = list ? store_audit_each(req->w->store, http_query(req, "target"), (int64_t)before,
                                 (int)limit, audit_append, list, &res->err)
              : rp_err_set(&res->err, RP_NO_MEMORY, "audit list");
    if (rc != RP_OK) {
        json_decref(list);
        return rc;
    }
    last = json_array_size(list) == (size_t)limit ? json_array_get(list, json_array_size(list) - 1)
                                                   : NULL;
    return http_reply_json_new(res, 200,
                               json_pack("{s:o, s:o}", "entries", list, "next",
                                         last ? json_incref(json_object_get(last, "id"))
                                              : json_null()));
}
