/*
 * server/cases.c - routing, SLA, creation, workflow and transfers of cases (see cases.h).
 */
#include "server/cases.h"
#include "server/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "media/store.h"
#include "server/tiles.h"

/* ---- the catalogue cache ----
 *
 * Every case needs its service and its routing decision; both change only when an admin edits
 * the catalogue. One table for the process keeps the rows read, keyed by service code and by
 * (service, corregimiento, distrito, provincia). A slot is good while store_catalogue_version()
 * still reads what it read before the rows were fetched (it moves after every committed edit
 * through this process) and for CASES_CACHE_TTL_S at most (an edit by another process, e.g. the
 * CLI). Direct-mapped: a collision only costs a read. Slots are guarded by CACHE_LOCKS mutexes,
 * held only to copy a slot in or out. */

#define CACHE_SERVICES    64
#define CACHE_ROUTES      4096
#define CACHE_LOCKS       64
#define CASES_CACHE_TTL_S 10

struct stamp {
    int used;
    uint64_t version; /* store_catalogue_version() before the rows were read */
    time_t since;
};

struct cases_cache {
    pthread_mutex_t lock[CACHE_LOCKS]; /* slot i of either table: lock[i % CACHE_LOCKS] */
    struct {
        struct stamp at;
        struct store_service sv;
    } service[CACHE_SERVICES];
    struct {
        struct stamp at;
        char key[4 * STORE_CODE_MAX + 4];
        struct store_rule rule;
        struct store_entity entity;
    } route[CACHE_ROUTES];
};

struct cases_cache *cases_cache_create(void)
{
    struct cases_cache *c = calloc(1, sizeof *c);

    for (int i = 0; c && i < CACHE_LOCKS; i++)
        pthread_mutex_init(&c->lock[i], NULL);
    return c;
}

void cases_cache_destroy(struct cases_cache *c)
{
    for (int i = 0; c && i < CACHE_LOCKS; i++)
        pthread_mutex_destroy(&c->lock[i]);
    free(c);
}

static uint32_t fnv1a(const char *k)
{
    uint32_t h = 2166136261u;

    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 16777619u;
    return h;
}

static struct stamp stamp_now(void)
{
    return (struct stamp){1, store_catalogue_version(), time(NULL)};
}

static int stamp_good(const struct stamp *at, const struct stamp *now)
{
    return at->used && at->version == now->version && now->since >= at->since &&
           now->since - at->since < CASES_CACHE_TTL_S;
}

int cases_service(struct app *app, struct worker *w, const char *code, struct store_service *out,
                  int *found, struct rp_err *err)
{
    struct cases_cache *c = app->catalogue;
    struct stamp now = stamp_now();
    unsigned slot = fnv1a(code) % CACHE_SERVICES;
    pthread_mutex_t *lock = &c->lock[slot % CACHE_LOCKS];
    int rc;

    pthread_mutex_lock(lock);
    *found = stamp_good(&c->service[slot].at, &now) && strcmp(c->service[slot].sv.code, code) == 0;
    if (*found)
        *out = c->service[slot].sv;
    pthread_mutex_unlock(lock);
    if (*found)
        return RP_OK;
    rc = store_service_get(w->store, code, out, found, err);
    if (rc == RP_OK && *found) {
        pthread_mutex_lock(lock);
        c->service[slot].sv = *out;
        c->service[slot].at = now;
        pthread_mutex_unlock(lock);
    }
    return rc;
}

/* ---- routing ---- */

struct route_pick {
    struct store *s;
    const char *distrito;
    struct cases_route *out;
    int found;
};

static int route_try(void *ctx, const struct store_rule *r, struct rp_err *err)
{
    struct route_pick *p = ctx;
    char code[STORE_CODE_MAX + 8];
    int found = 0, rc;

    if (p->found)
        return RP_OK;
    if (r->to_municipality) {
        if (!p->distrito || !p->distrito[0])
            return RP_OK; /* no distrito here: the next rule decides */
        snprintf(code, sizeof code, "MUN-%s", p->distrito);
    } else {
        snprintf(code, sizeof code, "%s", r->entity_code);
    }
    rc = store_entity_get(p->s, code, &p->out->entity, &found, err);
    if (rc != RP_OK || !found || !p->out->entity.active)
        return rc;
    p->out->rule = *r;
    p->found = 1;
    return RP_OK;
}

int cases_route(struct app *app, struct worker *w, const struct store_service *sv,
                const char *const areas[3], struct cases_route *out, struct rp_err *err)
{
    struct route_pick p = {w->store, areas[1], out, 0};
    struct cases_cache *c = app->catalogue;
    struct stamp now = stamp_now();
    char key[sizeof c->route[0].key];
    unsigned slot;
    pthread_mutex_t *lock;
    int hit, rc;

    memset(out, 0, sizeof *out);
    snprintf(key, sizeof key, "%s|%s|%s|%s", sv->code, areas[0], areas[1], areas[2]);
    slot = fnv1a(key) % CACHE_ROUTES;
    lock = &c->lock[slot % CACHE_LOCKS];
    pthread_mutex_lock(lock);
    hit = stamp_good(&c->route[slot].at, &now) && strcmp(c->route[slot].key, key) == 0;
    if (hit) {
        out->rule = c->route[slot].rule;
        out->entity = c->route[slot].entity;
    }
    pthread_mutex_unlock(lock);
    if (!hit) {
        rc = store_rules_for(w->store, sv->code, areas, route_try, &p, err);
        if (rc != RP_OK)
            return rc;
        if (!p.found) {
            rp_error("routing: no rule resolves service %s at %s/%s/%s", sv->code, areas[2],
                     areas[1], areas[0]);
            return rp_err_set(err, RP_INTERNAL, "service %s has no rule for this place",
                              sv->code);
        }
        pthread_mutex_lock(lock);
        memcpy(c->route[slot].key, key, sizeof key);
        c->route[slot].rule = out->rule;
        c->route[slot].entity = out->entity;
        c->route[slot].at = now;
        pthread_mutex_unlock(lock);
    }
    out->sla_hours = out->rule.sla_hours > 0 ? out->rule.sla_hours : sv->sla_hours;
    if (out->sla_hours > CASES_SLA_MAX_HOURS)
        out->sla_hours = CASES_SLA_MAX_HOURS;
    return RP_OK;
}

void cases_place_codes(const struct geo_place *p, struct store_report *r)
{
    static const enum rp_level order[3] = {RP_LEVEL_CORREGIMIENTO, RP_LEVEL_DISTRITO,
                                           RP_LEVEL_PROVINCIA};
    for (int i = 0; i < 3; i++)
        snprintf(r->area[i], sizeof r->area[i], "%s",
                 p->area[order[i]] ? p->area[order[i]]->code : "");
    r->snapped_m = round(p->snapped_m * 10) / 10;
}

int cases_token_hash(const char *token, unsigned char hash[STORE_HASH_LEN])
{
    return auth_sha256(token, strlen(token), hash);
}

/* ---- creation ---- */

/* The definition of attribute `code` in an Open311 definitions array, or NULL. */
static json_t *attr_def(json_t *defs, const char *code)
{
    json_t *d;
    size_t i;

    json_array_foreach(defs, i, d)
    {
        const char *c = json_string_value(json_object_get(d, "code"));
        if (c && strcmp(c, code) == 0)
            return d;
    }
    return NULL;
}

/* One given value against its definition: list values from the list, numbers as numbers,
 * anything else a plain string, number or boolean. */
static int attr_ok(json_t *def, json_t *v)
{
    const char *type = json_string_value(json_object_get(def, "datatype"));
    json_t *opt;
    size_t i;

    if (type && strcmp(type, "singlevaluelist") == 0) {
        json_array_foreach(json_object_get(def, "values"), i, opt)
        {
            if (json_is_string(v) && json_equal(json_object_get(opt, "key"), v))
                return 1;
        }
        return 0;
    }
    if (type && strcmp(type, "number") == 0)
        return json_is_number(v);
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/* Attributes against the service's Open311 definitions: known codes only, valid values,
 * required ones present. */
int cases_attributes_check(const struct store_service *sv, json_t *given, struct rp_err *err)
{
    json_t *defs = sv->attributes[0] ? json_loads(sv->attributes, 0, NULL) : json_array();
    const char *key;
    json_t *v, *d;
    size_t i;
    int rc = RP_OK;

    if (!defs)
        return rp_err_set(err, RP_INTERNAL, "service %s: unreadable attribute definitions",
                          sv->code);
    json_object_foreach(given, key, v)
    {
        json_t *def = attr_def(defs, key);
        if (!def)
            rc = rp_err_set(err, RP_INVALID_ARGUMENT, "attribute %.60s is not defined for %s",
                            key, sv->code);
        else if (!attr_ok(def, v))
            rc = rp_err_set(err, RP_INVALID_ARGUMENT, "attribute %.60s: not a valid value",
                            key);
        if (rc != RP_OK)
            break;
    }
    json_array_foreach(defs, i, d)
    {
        const char *code = json_string_value(json_object_get(d, "code"));
        if (rc == RP_OK && code && json_is_true(json_object_get(d, "required")) &&
            !json_object_get(given, code))
            rc = rp_err_set(err, RP_INVALID_ARGUMENT, "attribute %s is required", code);
    }
    json_decref(defs);
    return rc;
}

/* The possible-duplicate search of one new case. It runs in the writer, inside the job that
 * inserts the case: the writer's page cache stays warm (a reader's is dropped whenever any
 * commit lands, i.e. all the time under load), and the search sees every committed case. */
struct dup_ctx {
    struct geo_ctx *gc; /* the caller's: it waits while the writer uses it */
    const char *service;
    double lon, lat, radius, box[4];
    char since[STORE_TIME_MAX];
    struct store_near hit[CASES_DUP_MAX]; /* the writer only keeps rows: JSON is made after */
    double metres[CASES_DUP_MAX];
    int n;
};

/* One candidate: kept when within the radius; 0 (stop) once CASES_DUP_MAX are kept. */
static int dup_measure(void *ctx, const struct store_near *n)
{
    struct dup_ctx *d = ctx;
    struct rp_err err = {0};
    double m = 0;

    if (geo_ctx_metres(d->gc, d->lon, d->lat, n->lon, n->lat, &m, &err) == RP_OK &&
        m <= d->radius) {
        d->hit[d->n] = *n;
        d->metres[d->n++] = m;
    }
    return d->n < CASES_DUP_MAX;
}

/* The kept candidates as the API shows them. */
static json_t *dup_json(const struct dup_ctx *d)
{
    json_t *list = json_array();

    for (int i = 0; list && i < d->n; i++)
        json_array_append_new(list,
                              json_pack("{s:s, s:f, s:s, s:s, s:i}", "id", d->hit[i].case_no,
                                        "distance_m", round(d->metres[i] * 10) / 10, "status",
                                        d->hit[i].status, "created_at", d->hit[i].created_at,
                                        "confirmations", d->hit[i].confirmations));
    return list;
}

static void dup_prepare(struct worker *w, const struct store_service *sv, double lon, double lat,
                        struct dup_ctx *d)
{
    double dlat = sv->dup_radius_m / 110574.0 * 1.01;
    double dlon = sv->dup_radius_m / (111320.0 * cos(lat * M_PI / 180.0)) * 1.01;
    time_t t = time(NULL) - CASES_DUP_DAYS * 86400;
    struct tm tm;

    memset(d, 0, sizeof *d);
    d->gc = &w->geo;
    d->service = sv->code;
    d->lon = lon, d->lat = lat, d->radius = sv->dup_radius_m;
    d->box[0] = lon - dlon, d->box[1] = lat - dlat, d->box[2] = lon + dlon, d->box[3] = lat + dlat;
    gmtime_r(&t, &tm);
    strftime(d->since, sizeof d->since, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int dup_search(struct store *s, struct dup_ctx *d, struct rp_err *err)
{
    d->n = 0; /* the writer may run a job twice (see store_writer_run) */
    if (d->radius <= 0)
        return RP_OK;
    return store_reports_near(s, d->service, d->box, d->since, dup_measure, d, err);
}

struct insert_job {
    struct store_report_new n;
    struct dup_ctx *dups;
    int64_t id;
    int replayed;
    char token[64];
};

static int insert_run(struct store *s, void *arg, struct rp_err *err)
{
    struct insert_job *j = arg;
    int rc = dup_search(s, j->dups, err); /* before the insert: not the case itself */

    return rc != RP_OK ? rc : store_report_insert(s, &j->n, &j->id, &j->replayed, j->token, err);
}

static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* A case that did not commit: the photo files its request wrote itself (fresh[i]) and no case
 * names go now rather than at the next start's sweep, so they do not keep a full disk full. A
 * request storing the same photo at the same instant could lose its files (its case committed
 * between the check and the unlink): the same bytes from two senders within milliseconds. */
static void photos_undo(struct app *app, struct store *s, const struct media_photo *p,
                        const int *fresh, int n)
{
    for (int i = 0; i < n; i++) {
        struct rp_err ignored = {0}; /* unreadable: the files stay for the sweep */
        int known = 1;
        if (fresh[i] && store_photo_known(s, p[i].sha256, &known, &ignored) == RP_OK && !known)
            media_store_remove(app->cfg.media, p[i].sha256);
    }
}

int cases_create(struct app *app, struct worker *w, const struct principal *who,
                 const struct cases_input *in, struct cases_created *out, struct rp_err *err)
{
    static _Thread_local struct store_report r;
    struct dup_ctx dups;
    struct insert_job job;
    struct geo_place place;
    const char *areas[3];
    char actor[STORE_NAME_MAX + 8];
    char *attrs = NULL;
    int found = 0, rc;

    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    rc = cases_service(app, w, in->service_code, &out->service, &found, err);
    if (rc != RP_OK)
        return rc;
    if (!found || !out->service.active)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "unknown service_code %.40s",
                          in->service_code);
    if (in->attributes &&
        (rc = cases_attributes_check(&out->service, in->attributes, err)) != RP_OK)
        return rc;
    double lat = in->lat, lon = in->lon;
    const char *source = in->location_source ? in->location_source : "device";
    if (!in->has_point) { /* a position only from the photo: never used otherwise */
        for (int i = 0; i < in->nphotos && source != NULL; i++)
            if (in->photos[i].has_gps) {
                lat = in->photos[i].gps_lat;
                lon = in->photos[i].gps_lon;
                source = NULL;
            }
        if (source != NULL)
            return rp_err_set(err, RP_INVALID_COORDINATES,
                              "lat and lon are required (no photo carries a GPS position)");
        source = "photo_exif";
    }
    metrics_count(METRICS_LOCATES);
    rc = geo_locate(app->areas, &w->geo, lon, lat, app->cfg.snap_m, &place, err);
    if (rc != RP_OK)
        return rc;
    cases_place_codes(&place, &r);
    for (int i = 0; i < 3; i++)
        areas[i] = r.area[i];
    rc = cases_route(app, w, &out->service, areas, &out->route, err);
    if (rc != RP_OK)
        return rc;
    dup_prepare(w, &out->service, lon, lat, &dups);

    copy_str(r.service_code, sizeof r.service_code, out->service.code);
    r.lat = lat;
    r.lon = lon;
    copy_str(r.location_source, sizeof r.location_source, source);
    copy_str(r.address, sizeof r.address, in->address);
    copy_str(r.description, sizeof r.description, in->description);
    r.is_private = in->is_private;
    attrs = in->attributes && json_object_size(in->attributes)
                ? json_dumps(in->attributes, JSON_COMPACT | JSON_SORT_KEYS)
                : NULL;
    if (attrs && strlen(attrs) >= sizeof r.attributes) {
        free(attrs);
        return rp_err_set(err, RP_INVALID_ARGUMENT, "attributes are over %zu bytes",
                          sizeof r.attributes - 1);
    }
    copy_str(r.attributes, sizeof r.attributes, attrs);
    free(attrs);
    copy_str(r.reporter_name, sizeof r.reporter_name, in->reporter_name);
    copy_str(r.reporter_email, sizeof r.reporter_email, in->reporter_email);
    copy_str(r.reporter_phone, sizeof r.reporter_phone, in->reporter_phone);
    copy_str(r.device_id, sizeof r.device_id, in->device_id);
    copy_str(r.entity_code, sizeof r.entity_code, out->route.entity.code);
    r.rule_id = out->route.rule.id;

    memset(&job, 0, sizeof job);
    rc = auth_secret_new(CASES_TOKEN_PREFIX, out->token, job.n.token_hash, err);
    if (rc != RP_OK)
        return rc;
    if (who->key_id)
        snprintf(actor, sizeof actor, "key:%lld", (long long)who->key_id);
    else
        snprintf(actor, sizeof actor, "citizen");
    {
        time_t now = time(NULL), due = now + (time_t)out->route.sla_hours * 3600;
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(r.created_at, sizeof r.created_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
        gmtime_r(&due, &tm);
        strftime(r.due_at, sizeof r.due_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    job.n.r = &r;
    job.dups = &dups;
    job.n.token = out->token;
    job.n.idempotency_key = in->idempotency_key;
    if (in->body_hash)
        memcpy(job.n.body_hash, in->body_hash, STORE_HASH_LEN);
    job.n.actor = actor;
    job.n.actor_role = auth_role_name(who->role);
    job.n.actor_entity = who->entity[0] ? who->entity : NULL;
    /* the files first, durably; the case that names them commits after. A crash in between
     * leaves files no row names, which the startup sweep removes. */
    struct store_photo rows[CASES_PHOTOS_MAX];
    int fresh[CASES_PHOTOS_MAX] = {0};
    for (int i = 0; i < in->nphotos && i < CASES_PHOTOS_MAX; i++) {
        fresh[i] = !media_store_has(app->cfg.media, in->photos[i].sha256);
        rc = media_store_put(app->cfg.media, &in->photos[i], err);
        if (rc != RP_OK) {
            photos_undo(app, w->store, in->photos, fresh, i);
            return rc;
        }
        memcpy(rows[i].sha256, in->photos[i].sha256, sizeof rows[i].sha256);
        rows[i].width = in->photos[i].display.width;
        rows[i].height = in->photos[i].display.height;
        rows[i].thumb_width = in->photos[i].thumb.width;
        rows[i].thumb_height = in->photos[i].thumb.height;
        rows[i].kind = "report";
        rows[i].added_by = who->key_id ? actor : "reporter";
    }
    job.n.photos = rows;
    job.n.nphotos = in->nphotos < CASES_PHOTOS_MAX ? in->nphotos : CASES_PHOTOS_MAX;
    rc = store_writer_run(app->writer, insert_run, &job, err);
    if (rc != RP_OK) {
        photos_undo(app, w->store, in->photos, fresh, job.n.nphotos);
        return rc;
    }
    out->duplicates = dup_json(&dups);
    if (!out->duplicates)
        return rp_err_set(err, RP_NO_MEMORY, "duplicates");
    out->replayed = job.replayed;
    if (job.replayed)
        copy_str(out->token, sizeof out->token, job.token);
    if (!job.replayed) {
        metrics_count(METRICS_CASES_CREATED);
        out->report = r; /* as stored: the insert filled in id, number and status */
        if (app->tiles)
            tiles_case_changed(app->tiles,
                               &(struct store_point){r.id, r.case_no, r.service_code, r.status,
                                                     r.entity_code,
                                                     {r.area[0], r.area[1], r.area[2]},
                                                     r.lat, r.lon, r.created_at, r.due_at,
                                                     r.confirmations});
        return RP_OK;
    }
    /* a replay: the first request's case and routing, read back */
    rc = store_report_by_id(w->store, job.id, &out->report, &found, err);
    if (rc == RP_OK && !found)
        rc = rp_err_set(err, RP_STORAGE, "case %lld vanished", (long long)job.id);
    if (rc == RP_OK) {
        rc = store_entity_get(w->store, out->report.entity_code, &out->route.entity, &found, err);
        if (rc == RP_OK && out->report.rule_id)
            rc = store_rule_get(w->store, out->report.rule_id, &out->route.rule, &found, err);
    }
    return rc;
}

/* ---- workflow ---- */

static const struct {
    const char *from, *to; /* to: space-separated */
} transitions[] = {
    {"received", "assigned in_progress resolved rejected duplicate"},
    {"assigned", "in_progress resolved rejected duplicate"},
    {"in_progress", "assigned resolved"},
    {"resolved", "closed in_progress"},
    {"closed", ""},
    {"rejected", ""},
    {"duplicate", ""},
};

static int word_in(const char *w, const char *list)
{
    size_t n = strlen(w);

    for (const char *p = list; *p;) {
        size_t k = strcspn(p, " ");
        if (k == n && strncmp(p, w, n) == 0)
            return 1;
        p += k + (p[k] == ' ');
    }
    return 0;
}

int cases_transition_ok(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++)
        if (strcmp(transitions[i].from, from) == 0)
            return word_in(to, transitions[i].to);
    return 0;
}

static int status_known(const char *s)
{
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++)
        if (strcmp(transitions[i].from, s) == 0)
            return 1;
    return 0;
}

int cases_is_open(const char *status)
{
    return word_in(status, "received assigned in_progress");
}

static void actor_of(const struct principal *who, char *out, size_t n)
{
    if (who->key_id)
        snprintf(out, n, "key:%lld", (long long)who->key_id);
    else
        snprintf(out, n, "%s", who->name[0] ? who->name : "citizen");
}

/* Loads the case and checks the caller acts for its entity: 404 unknown, 403 not theirs. */
static int load_for(struct worker *w, const struct principal *who, const char *case_no,
                    struct store_report *r, struct rp_err *err)
{
    int found = 0, rc = store_report_get(w->store, case_no, r, &found, err);

    if (rc != RP_OK)
        return rc;
    if (!found)
        return rp_err_set(err, RP_NOT_FOUND, "no case %.20s", case_no);
    if (!auth_may_act_for(who, r->entity_code))
        return rp_err_set(err, RP_FORBIDDEN, "case %s is routed to %s, not to %s", case_no,
                          r->entity_code, who->entity[0] ? who->entity : "this key");
    return RP_OK;
}

static int audit_case(struct worker *w, const struct principal *who, const char *action,
                      const struct store_report *before, const char *field, const char *after,
                      struct rp_err *err)
{
    char target[32];
    json_t *b = json_pack("{s:s, s:s}", "status", before->status, "entity", before->entity_code);
    json_t *a = json_pack("{s:s}", field, after);
    int rc;

    snprintf(target, sizeof target, "report:%s", before->case_no);
    rc = b && a ? auth_audit(w->store, who, action, target, b, a, err)
                : rp_err_set(err, RP_NO_MEMORY, "audit");
    json_decref(b);
    json_decref(a);
    return rc;
}

/* A committed change of case id reaches the map and its tiles. */
static void committed(struct app *app, struct worker *w, int64_t id)
{
    if (app && app->tiles)
        tiles_case_reload(app->tiles, w->store, id);
}

int cases_set_status(struct app *app, struct worker *w, const struct principal *who,
                     const char *case_no, const char *status, const char *note,
                     const char *duplicate_of, struct rp_err *err)
{
    static _Thread_local struct store_report r, dup;
    char actor[STORE_NAME_MAX + 8];
    int64_t dup_id = 0;
    int changed = 0, found = 0, closes, rc;

    if (!status_known(status))
        return rp_err_set(err, RP_INVALID_ARGUMENT,
                          "status must be one of received, assigned, in_progress, resolved, "
                          "closed, rejected, duplicate");
    rc = store_begin(w->store, err);
    if (rc == RP_OK)
        rc = load_for(w, who, case_no, &r, err);
    if (rc == RP_OK && !cases_transition_ok(r.status, status))
        rc = rp_err_set(err, RP_INVALID_TRANSITION, "case %s cannot go from %s to %s", case_no,
                        r.status, status);
    if (rc == RP_OK && strcmp(status, "duplicate") == 0) {
        if (!duplicate_of || strcmp(duplicate_of, case_no) == 0)
            rc = rp_err_set(err, RP_INVALID_ARGUMENT,
                            "duplicate_of must name another case");
        else if ((rc = store_report_get(w->store, duplicate_of, &dup, &found, err)) == RP_OK &&
                 !found)
            rc = rp_err_set(err, RP_INVALID_ARGUMENT, "no case %.20s to be a duplicate of",
                            duplicate_of);
        dup_id = dup.id;
    }
    closes = word_in(status, "resolved closed rejected duplicate");
    if (rc == RP_OK)
        rc = store_report_set_status(w->store, r.id, r.status, status, closes, dup_id, &changed,
                                     err);
    if (rc == RP_OK && !changed)
        rc = rp_err_set(err, RP_CONFLICT, "case %s changed meanwhile; reload it", case_no);
    actor_of(who, actor, sizeof actor);
    if (rc == RP_OK)
        rc = store_history_add(w->store, r.id,
                               &(struct store_history){0, NULL, "status", actor,
                                                       auth_role_name(who->role),
                                                       who->entity[0] ? who->entity : NULL,
                                                       r.status, status, note},
                               err);
    if (rc == RP_OK)
        rc = audit_case(w, who, "report.status", &r, "status", status, err);
    rc = store_end(w->store, rc, err);
    if (rc == RP_OK)
        committed(app, w, r.id);
    return rc;
}

int cases_transfer(struct app *app, struct worker *w, const struct principal *who,
                   const char *case_no, const char *entity, const char *reason,
                   struct rp_err *err)
{
    static _Thread_local struct store_report r;
    struct store_entity e;
    char actor[STORE_NAME_MAX + 8];
    int found = 0, rc;

    rc = store_begin(w->store, err);
    if (rc == RP_OK)
        rc = load_for(w, who, case_no, &r, err);
    if (rc == RP_OK && !cases_is_open(r.status))
        rc = rp_err_set(err, RP_INVALID_TRANSITION, "case %s is %s: only open cases move",
                        case_no, r.status);
    if (rc == RP_OK && (rc = store_entity_get(w->store, entity, &e, &found, err)) == RP_OK &&
        (!found || !e.active))
        rc = rp_err_set(err, RP_INVALID_ARGUMENT, "no active entity %.40s", entity);
    if (rc == RP_OK && strcmp(entity, r.entity_code) == 0)
        rc = rp_err_set(err, RP_INVALID_ARGUMENT, "case %s is already with %s", case_no, entity);
    if (rc == RP_OK)
        rc = store_report_set_entity(w->store, r.id, entity, "received", err);
    actor_of(who, actor, sizeof actor);
    if (rc == RP_OK)
        rc = store_history_add(w->store, r.id,
                               &(struct store_history){0, NULL, "transfer", actor,
                                                       auth_role_name(who->role),
                                                       who->entity[0] ? who->entity : NULL,
                                                       r.entity_code, entity, reason},
                               err);
    if (rc == RP_OK)
        rc = audit_case(w, who, "report.transfer", &r, "entity", entity, err);
    rc = store_end(w->store, rc, err);
    if (rc == RP_OK)
        committed(app, w, r.id);
    return rc;
}

int cases_confirm(struct app *app, struct worker *w, const char *case_no, const char *device_id,
                  int *added, struct rp_err *err)
{
    static _Thread_local struct store_report r;
    int found = 0, rc;

    *added = 0;
    rc = store_begin(w->store, err);
    if (rc == RP_OK)
        rc = store_report_get(w->store, case_no, &r, &found, err);
    if (rc == RP_OK && !found)
        rc = rp_err_set(err, RP_NOT_FOUND, "no case %.20s", case_no);
    if (rc == RP_OK && !cases_is_open(r.status))
        rc = rp_err_set(err, RP_INVALID_TRANSITION, "case %s is %s: nothing to confirm",
                        case_no, r.status);
    if (rc == RP_OK)
        rc = store_report_confirm(w->store, r.id, device_id, added, err);
    if (rc == RP_OK && *added)
        rc = store_history_add(w->store, r.id,
                               &(struct store_history){0, NULL, "confirmed", "citizen",
                                                       "anonymous", NULL, NULL, NULL, NULL},
                               err);
    rc = store_end(w->store, rc, err);
    if (rc == RP_OK && *added)
        committed(app, w, r.id);
    return rc;
}

int cases_photo_access(struct worker *w, const struct principal *who, const char *case_no,
                       const char *token, int *reporter, struct rp_err *err)
{
    static _Thread_local struct store_report r, t;
    unsigned char hash[STORE_HASH_LEN];
    int found = 0, rc;

    *reporter = 0;
    rc = store_report_get(w->store, case_no, &r, &found, err);
    if (rc != RP_OK)
        return rc;
    if (!found)
        return rp_err_set(err, RP_NOT_FOUND, "no case %.20s", case_no);
    if (token && cases_token_hash(token, hash)) {
        rc = store_report_by_token(w->store, hash, &t, &found, err);
        if (rc != RP_OK)
            return rc;
        *reporter = found && t.id == r.id;
    }
    if (!*reporter && !auth_may_act_for(who, r.entity_code))
        return rp_err_set(err, who->role == AUTH_ANONYMOUS ? RP_UNAUTHORIZED : RP_FORBIDDEN,
                          "photos are added by the reporter (X-Report-Token) or by staff of "
                          "the case's entity");
    return RP_OK;
}

int cases_add_photos(struct app *app, struct worker *w, const struct principal *who,
                     const char *case_no, int reporter, const struct media_photo *photos, int n,
                     struct rp_err *err)
{
    static _Thread_local struct store_report r;
    char actor[STORE_NAME_MAX + 8];
    int found = 0, rc, fresh[CASES_PHOTOS_MAX] = {0};

    if (n < 1 || n > CASES_PHOTOS_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "send 1 to %d photo parts", CASES_PHOTOS_MAX);
    for (int i = 0; i < n; i++) {
        fresh[i] = !media_store_has(app->cfg.media, photos[i].sha256);
        rc = media_store_put(app->cfg.media, &photos[i], err);
        if (rc != RP_OK) {
            photos_undo(app, w->store, photos, fresh, i);
            return rc;
        }
    }
    actor_of(who, actor, sizeof actor);
    rc = store_begin(w->store, err);
    if (rc == RP_OK && ((rc = store_report_get(w->store, case_no, &r, &found, err)) == RP_OK) &&
        !found)
        rc = rp_err_set(err, RP_NOT_FOUND, "no case %.20s", case_no);
    for (int i = 0; rc == RP_OK && i < n; i++) {
        struct store_photo p;
        memcpy(p.sha256, photos[i].sha256, sizeof p.sha256);
        p.width = photos[i].display.width;
        p.height = photos[i].display.height;
        p.thumb_width = photos[i].thumb.width;
        p.thumb_height = photos[i].thumb.height;
        p.kind = reporter ? "report" : "after";
        p.added_by = reporter ? "reporter" : actor;
        rc = store_photo_add(w->store, r.id, &p, err);
    }
    if (rc == RP_OK && !reporter) {
        char target[32];
        json_t *a = json_pack("{s:i}", "photos_added", n);
        snprintf(target, sizeof target, "report:%s", r.case_no);
        rc = a ? auth_audit(w->store, who, "report.photos", target, NULL, a, err)
               : rp_err_set(err, RP_NO_MEMORY, "audit");
        json_decref(a);
    }
    rc = store_end(w->store, rc, err);
    if (rc != RP_OK)
        photos_undo(app, w->store, photos, fresh, n);
    return rc;
}
