/*
 * server/h_catalogue.c - services, entities and routing rules: public reads of services and
 * entities, admin writes (each audited with before/after), admin reads of the rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/routes.h"
#include "server/worker.h"

static json_t *service_json(const struct store_service *sv)
{
    json_t *attrs = sv->attributes[0] ? json_loads(sv->attributes, 0, NULL) : NULL;

    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:o, s:b}", "code", sv->code, "name_es",
                     sv->name_es, "name_en", sv->name_en, "group", sv->group, "sla_hours",
                     sv->sla_hours, "duplicate_radius_m", sv->dup_radius_m, "attributes",
                     attrs ? attrs : json_array(), "active", sv->active);
}

static json_t *entity_json(const struct store_entity *e)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:b}", "code", e->code, "name", e->name, "kind",
                     e->kind, "area", e->area_code[0] ? e->area_code : NULL, "active", e->active);
}

static json_t *rule_json(const struct store_rule *r)
{
    return json_pack("{s:I, s:s, s:s?, s:s?, s:b, s:i, s:o, s:s?}", "id", (json_int_t)r->id,
                     "service_code", r->service_code, "area",
                     r->area_code[0] ? r->area_code : NULL, "entity",
                     r->entity_code[0] ? r->entity_code : NULL, "to_municipality",
                     r->to_municipality, "priority", r->priority, "sla_hours",
                     r->sla_hours ? json_integer(r->sla_hours) : json_null(), "note",
                     r->note[0] ? r->note : NULL);
}

static int append(json_t *list, json_t *item, struct rp_err *err)
{
    if (!item || json_array_append_new(list, item) != 0)
        return rp_err_set(err, RP_NO_MEMORY, "list");
    return RP_OK;
}

static int service_add(void *ctx, const struct store_service *sv, struct rp_err *err)
{
    return append(ctx, service_json(sv), err);
}

static int entity_add(void *ctx, const struct store_entity *e, struct rp_err *err)
{
    return append(ctx, entity_json(e), err);
}

static int rule_add(void *ctx, const struct store_rule *r, struct rp_err *err)
{
    return append(ctx, rule_json(r), err);
}

static int reply_list(struct http_res *res, const char *key, json_t *list, int rc)
{
    if (rc != RP_OK) {
        json_decref(list);
        return rc;
    }
    return http_reply_json_new(res, 200, json_pack("{s:o}", key, list));
}

int h_services_list(struct http_req *req, struct http_res *res)
{
    json_t *l = json_array();
    return reply_list(res, "services", l,
                      l ? store_services_each(req->w->store, service_add, l, &res->err)
                        : RP_NO_MEMORY);
}

int h_entities_list(struct http_req *req, struct http_res *res)
{
    json_t *l = json_array();
    return reply_list(res, "entities", l,
                      l ? store_entities_each(req->w->store, entity_add, l, &res->err)
                        : RP_NO_MEMORY);
}

int h_rules_list(struct http_req *req, struct http_res *res)
{
    json_t *l = json_array();
    return reply_list(res, "rules", l,
                      l ? store_rules_each(req->w->store, rule_add, l, &res->err)
                        : RP_NO_MEMORY);
}

int h_service_get(struct http_req *req, struct http_res *res)
{
    struct store_service sv;
    int found = 0, rc = store_service_get(req->w->store, http_param(req, "code"), &sv, &found,
                                          &res->err);
    if (rc == RP_OK && !found)
        rc = rp_err_set(&res->err, RP_NOT_FOUND, "no service %.40s", http_param(req, "code"));
    return rc == RP_OK ? http_reply_json_new(res, 200, service_json(&sv)) : rc;
}

int h_entity_get(struct http_req *req, struct http_res *res)
{
    struct store_entity e;
    int found = 0, rc = store_entity_get(req->w->store, http_param(req, "code"), &e, &found,
                                         &res->err);
    if (rc == RP_OK && !found)
        rc = rp_err_set(&res->err, RP_NOT_FOUND, "no entity %.40s", http_param(req, "code"));
    return rc == RP_OK ? http_reply_json_new(res, 200, entity_json(&e)) : rc;
}

/* ---- writes ---- */

/* A string member copied into out (n bytes); absent leaves out as it was. */
static int integer(json_t *o, const char *key, int min, int max, int *out, struct rp_err *err)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))
        return RP_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s must be a whole number from %d to %d",
                          key, min, max);
    *out = (int)json_integer_value(v);
    return RP_OK;
}

static int boolean(json_t *o, const char *key, int *out, struct rp_err *err)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))
        return RP_OK;
    if (!json_is_boolean(v))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s must be true or false", key);
    *out = json_is_true(v);
    return RP_OK;
}

static int code_ok(const char *c)
{
    return c[0] && strspn(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                       strlen(c);
}

/* One audited write in one transaction: write(ctx) then the audit row. */
static int audited(struct http_req *req, const char *action, const char *target, json_t *before,
                   json_t *after, int (*write)(struct store *, void *, struct rp_err *),
                   void *ctx, struct rp_err *err)
{
    int rc = store_begin(req->w->store, err);

    if (rc == RP_OK)
        rc = write(req->w->store, ctx, err);
    if (rc == RP_OK)
        rc = auth_audit(req->w->store, &req->who, action, target, before, after, err);
    return store_end(req->w->store, rc, err);
}

struct service_write_ctx {
    struct store_service *sv;
    const char *national_entity; /* a new service's fallback rule; NULL when updating */
};

static int service_write(struct store *s, void *ctx, struct rp_err *err)
{
    struct service_write_ctx *c = ctx;
    int rc = store_service_put(s, c->sv, err);

    if (rc == RP_OK && c->national_entity) {
        struct store_rule r;
        memset(&r, 0, sizeof r);
        memcpy(r.service_code, c->sv->code, sizeof r.service_code); /* same size */
        r.service_code[sizeof r.service_code - 1] = '\0';
        snprintf(r.entity_code, sizeof r.entity_code, "%s", c->national_entity);
        snprintf(r.note, sizeof r.note, "national");
        rc = store_rule_put(s, &r, err);
    }
    return rc;
}

/* PUT /api/v1/services/{code}: create or replace. */
int h_service_put(struct http_req *req, struct http_res *res)
{
    const char *code = http_param(req, "code");
    struct store_service sv, old;
    struct service_write_ctx wctx;
    char national[STORE_CODE_MAX] = "";
    int found = 0, rc;
    json_t *body, *attrs, *before, *after;
    char target[64];

    if (!code_ok(code) || strlen(code) >= sizeof sv.code)
        return rp_err_set(&res->err, RP_INVALID_ARGUMENT, "service codes are letters, digits, "
                                                          "_ and -");
    rc = http_body_json(req, &body, &res->err);
    if (rc != RP_OK)
        return rc;
    memset(&sv, 0, sizeof sv);
    snprintf(sv.code, sizeof sv.code, "%s", code);
    sv.dup_radius_m = 50;
    sv.active = 1;
    rc = http_json_copy(body, "name_es", sv.name_es, sizeof sv.name_es, 1, &res->err);
    if (rc == RP_OK)
        rc = http_json_copy(body, "name_en", sv.name_en, sizeof sv.name_en, 1, &res->err);
    if (rc == RP_OK)
        rc = http_json_copy(body, "group", sv.group, sizeof sv.group, 1, &res->err);
    sv.sla_hours = 0;
    if (rc == RP_OK)
        rc = integer(body, "sla_hours", 1, 720, &sv.sla_hours, &res->err);
    if (rc == RP_OK && !sv.sla_hours)
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT,
                        "sla_hours is required (1 to 720: the legal limit is 30 days)");
    if (rc == RP_OK) {
        int r = 50;
        rc = integer(body, "duplicate_radius_m", 0, 1000, &r, &res->err);
        sv.dup_radius_m = r;
    }
    if (rc == RP_OK)
        rc = boolean(body, "active", &sv.active, &res->err);
    attrs = json_object_get(body, "attributes");
    if (rc == RP_OK && attrs && !json_is_null(attrs)) {
        char *t = json_is_array(attrs) ? json_dumps(attrs, JSON_COMPACT) : NULL;
        if (!t || strlen(t) >= sizeof sv.attributes)
            rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT,
                            "attributes must be an array of Open311 attribute definitions "
                            "under %zu bytes",
                            sizeof sv.attributes);
        else
            snprintf(sv.attributes, sizeof sv.attributes, "%s", t);
        free(t);
    }
    if (rc == RP_OK)
        rc = store_service_get(req->w->store, code, &old, &found, &res->err);
    if (rc == RP_OK && !found)
        rc = http_json_copy(body, "national_entity", national, sizeof national, 1, &res->err);
    json_decref(body);
    if (rc != RP_OK)
        return rc;
    wctx.sv = &sv;
    wctx.national_entity = found ? NULL : national;
    before = found ? service_json(&old) : NULL;
    after = service_json(&sv);
    snprintf(target, sizeof target, "service:%s", code);
    rc = audited(req, found ? "service.update" : "service.create", target, before, after,
                 service_write, &wctx, &res->err);
    json_decref(before);
    if (rc != RP_OK) {
        json_decref(after);
        return rc;
    }
    return http_reply_json_new(res, found ? 200 : 201, after);
}

static int entity_write(struct store *s, void *ctx, struct rp_err *err)
{
    return store_entity_put(s, ctx, err);
}

/* PUT /api/v1/entities/{code}: create or replace. */
int h_entity_put(struct http_req *req, struct http_res *res)
{
    const char *code = http_param(req, "code");
    struct store_entity e, old;
    int found = 0, rc;
    json_t *body, *before, *after;
    char target[64];

    if (!code_ok(code) || strlen(code) >= sizeof e.code)
        return rp_err_set(&res->err, RP_INVALID_ARGUMENT, "entity codes are letters, digits, _ "
                                                          "and -");
    rc = http_body_json(req, &body, &res->err);
    if (rc != RP_OK)
        return rc;
    memset(&e, 0, sizeof e);
    snprintf(e.code, sizeof e.code, "%s", code);
    e.active = 1;
    rc = http_json_copy(body, "name", e.name, sizeof e.name, 1, &res->err);
    if (rc == RP_OK)
        rc = http_json_copy(body, "kind", e.kind, sizeof e.kind, 1, &res->err);
    if (rc == RP_OK && strcmp(e.kind, "national") != 0 && strcmp(e.kind, "utility") != 0 &&
        strcmp(e.kind, "municipality") != 0 && strcmp(e.kind, "contractor") != 0)
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT,
                        "kind is national, utility, municipality or contractor");
    if (rc == RP_OK)
        rc = http_json_copy(body, "area", e.area_code, sizeof e.area_code, 0, &res->err);
    if (rc == RP_OK)
        rc = boolean(body, "active", &e.active, &res->err);
    json_decref(body);
    if (rc == RP_OK)
        rc = store_entity_get(req->w->store, code, &old, &found, &res->err);
    if (rc != RP_OK)
        return rc;
    before = found ? entity_json(&old) : NULL;
    after = entity_json(&e);
    snprintf(target, sizeof target, "entity:%s", code);
    rc = audited(req, found ? "entity.update" : "entity.create", target, before, after,
                 entity_write, &e, &res->err);
    json_decref(before);
    if (rc != RP_OK) {
        json_decref(after);
        return rc;
    }
    return http_reply_json_new(res, found ? 200 : 201, after);
}

/* Every service keeps a national rule with a fixed entity, so no case is ever unroutable. */
static int keeps_fallback(struct store *s, const char *service, struct rp_err *err)
{
    int n = 0, rc = store_rules_national(s, service, &n, err);

    if (rc == RP_OK && n == 0)
        rc = rp_err_set(err, RP_CONFLICT,
                        "service %s would be left without a national rule naming an entity",
                        service);
    return rc;
}

static int rule_write(struct store *s, void *ctx, struct rp_err *err)
{
    return store_rule_put(s, ctx, err);
}

static int parse_rule(json_t *body, struct store_rule *r, struct rp_err *err)
{
    int rc = http_json_copy(body, "service_code", r->service_code, sizeof r->service_code, 1, err);

    if (rc == RP_OK)
        rc = http_json_copy(body, "area", r->area_code, sizeof r->area_code, 0, err);
    if (rc == RP_OK)
        rc = http_json_copy(body, "entity", r->entity_code, sizeof r->entity_code, 0, err);
    if (rc == RP_OK)
        rc = boolean(body, "to_municipality", &r->to_municipality, err);
    if (rc == RP_OK)
        rc = integer(body, "priority", -1000, 1000, &r->priority, err);
    if (rc == RP_OK)
        rc = integer(body, "sla_hours", 1, 720, &r->sla_hours, err);
    if (rc == RP_OK)
        rc = http_json_copy(body, "note", r->note, sizeof r->note, 0, err);
    if (rc == RP_OK && (r->entity_code[0] != 0) == (r->to_municipality != 0))
        rc = rp_err_set(err, RP_INVALID_ARGUMENT,
                        "a rule names an entity or sets to_municipality, one of the two");
    return rc;
}

static int rule_id(struct http_req *req, int64_t *id, struct rp_err *err)
{
    const char *v = http_param(req, "id");
    char *end;

    errno = 0;
    *id = v ? strtoll(v, &end, 10) : 0;
    if (!v || end == v || *end || errno || *id <= 0)
        return rp_err_set(err, RP_NOT_FOUND, "no routing rule %.20s", v ? v : "");
    return RP_OK;
}

/* POST /api/v1/routing-rules and PUT /api/v1/routing-rules/{id} */
static int rule_save(struct http_req *req, struct http_res *res, int64_t id)
{
    struct store_rule r, old;
    json_t *body, *before = NULL, *after;
    char target[64];
    int found = 0, rc = http_body_json(req, &body, &res->err);

    if (rc != RP_OK)
        return rc;
    memset(&r, 0, sizeof r);
    rc = parse_rule(body, &r, &res->err);
    json_decref(body);
    if (rc == RP_OK && id) {
        rc = store_rule_get(req->w->store, id, &old, &found, &res->err);
        if (rc == RP_OK && !found)
            rc = rp_err_set(&res->err, RP_NOT_FOUND, "no routing rule %lld", (long long)id);
        before = rc == RP_OK ? rule_json(&old) : NULL;
    }
    if (rc != RP_OK)
        return rc;
    r.id = id;
    rc = store_begin(req->w->store, &res->err);
    if (rc == RP_OK)
        rc = rule_write(req->w->store, &r, &res->err);
    if (rc == RP_OK && id)
        rc = keeps_fallback(req->w->store, old.service_code, &res->err);
    after = rc == RP_OK ? rule_json(&r) : NULL;
    snprintf(target, sizeof target, "routing_rule:%lld", (long long)r.id);
    if (rc == RP_OK)
        rc = auth_audit(req->w->store, &req->who, id ? "rule.update" : "rule.create", target,
                        before, after, &res->err);
    rc = store_end(req->w->store, rc, &res->err);
    json_decref(before);
    if (rc != RP_OK) {
        json_decref(after);
        return rc;
    }
    if (!id) {
        char loc[64];
        snprintf(loc, sizeof loc, "/api/v1/routing-rules/%lld", (long long)r.id);
        http_header_add(res, "Location", loc);
    }
    return http_reply_json_new(res, id ? 200 : 201, after);
}

int h_rule_create(struct http_req *req, struct http_res *res)
{
    return rule_save(req, res, 0);
}

int h_rule_update(struct http_req *req, struct http_res *res)
{
    int64_t id;
    int rc = rule_id(req, &id, &res->err);
    return rc == RP_OK ? rule_save(req, res, id) : rc;
}

struct rule_del {
    int64_t id;
    int deleted;
    const char *service;
};

static int rule_delete_write(struct store *s, void *ctx, struct rp_err *err)
{
    struct rule_del *d = ctx;
    int rc = store_rule_delete(s, d->id, &d->deleted, err);
    if (rc == RP_OK && !d->deleted)
        rc = rp_err_set(err, RP_NOT_FOUND, "no routing rule %lld", (long long)d->id);
    if (rc == RP_OK)
        rc = keeps_fallback(s, d->service, err);
    return rc;
}

/* DELETE /api/v1/routing-rules/{id}: cases keep their history (their rule_id becomes null). */
int h_rule_delete(struct http_req *req, struct http_res *res)
{
    struct rule_del d = {0, 0, NULL};
    struct store_rule old;
    char target[64];
    int found = 0, rc = rule_id(req, &d.id, &res->err);
    json_t *before;

    if (rc == RP_OK)
        rc = store_rule_get(req->w->store, d.id, &old, &found, &res->err);
    if (rc == RP_OK && !found)
        rc = rp_err_set(&res->err, RP_NOT_FOUND, "no routing rule %lld", (long long)d.id);
    if (rc != RP_OK)
        return rc;
    before = rule_json(&old);
    d.service = old.service_code;
    snprintf(target, sizeof target, "routing_rule:%lld", (long long)d.id);
    rc = audited(req, "rule.delete", target, before, NULL, rule_delete_write, &d, &res->err);
    if (rc != RP_OK) {
        json_decref(before);
        return rc;
    }
    return http_reply_json_new(res, 200, json_pack("{s:o, s:b}", "rule", before, "deleted", 1));
}
