/*
 * server/tows.c - the tows module's state and its yards, trucks and driver lookup (see
 * tows.h). The lifecycle of positions and tows is in server/tow_life.c, through the few
 * functions of server/tows_int.h. Readers take the rwlock shared; a committed change takes it
 * exclusively for the few microseconds it needs to copy rows in. Active tows are an array
 * sorted by (plate, id): a lookup is a binary search, and there are thousands of them at most
 * (everything released or cancelled lives only in the database). Fences are GEOS objects of
 * this module's own geo_ctx and are used under geo_lock.
 */
#include "server/tows_int.h"

#include <math.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/utc.h"
#include "geo/locate.h"
#include "server/plate.h"

/* ---- time ---- */

void tows_now(char out[STORE_TIME_MAX])
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, STORE_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t tows_epoch(const char *utc)
{
    return rp_utc_parse(utc);
}

int64_t tows_fees_cents(int64_t tow_fee, int64_t daily_fee, int64_t at_yard_s, int64_t now_s,
                        int64_t *days)
{
    *days = 0;
    if (at_yard_s > 0) /* the first day is due on arrival */
        *days = now_s > at_yard_s ? (now_s - at_yard_s + 86399) / 86400 : 1;
    return tow_fee + *days * daily_fee;
}

int tows_ticket_key(const char *ticket, unsigned char key[STORE_HASH_LEN], struct rp_err *err)
{
    char norm[STORE_TICKET_MAX];
    size_t n = 0;

    if (!ticket || !ticket[0])
        return rp_err_set(err, RP_INVALID_ARGUMENT, "ticket is required");
    for (const unsigned char *s = (const unsigned char *)ticket; *s; s++) {
        if (strchr(" \t-._/", *s))
            continue;
        if (n + 1 >= sizeof norm)
            return rp_err_set(err, RP_INVALID_ARGUMENT, "ticket is over %d characters",
                              STORE_TICKET_MAX - 1);
        norm[n++] = (char)(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
    }
    norm[n] = '\0';
    if (n == 0)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "ticket is required");
    return auth_sha256(norm, n, key) ? RP_OK : rp_err_set(err, RP_INTERNAL, "SHA-256");
}

/* ---- lifecycle ---- */

int tows_create(struct tows **out, struct rp_err *err)
{
    struct tows *t = calloc(1, sizeof *t);
    int rc;

    if (!t)
        return rp_err_set(err, RP_NO_MEMORY, "tows");
    pthread_rwlock_init(&t->lock, NULL);
    pthread_mutex_init(&t->geo_lock, NULL);
    rc = geo_ctx_init(&t->gc, err);
    if (rc != RP_OK) {
        tows_destroy(t);
        return rc;
    }
    *out = t;
    return RP_OK;
}

static void yard_free(struct tows *t, struct tows_yard *y)
{
    free(y->fence_text);
    free(y->public_json);
    geo_fence_destroy(&t->gc, y->fence);
    memset(y, 0, sizeof *y);
}

void tows_destroy(struct tows *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nyards; i++)
        yard_free(t, &t->yards[i]);
    free(t->yards);
    free(t->trucks);
    free(t->active);
    geo_ctx_fini(&t->gc);
    pthread_mutex_destroy(&t->geo_lock);
    pthread_rwlock_destroy(&t->lock);
    free(t);
}

/* A fence for y, built in this module's geo_ctx. */
static int fence_make(struct tows *t, const struct store_yard *y, struct geo_fence **out,
                      struct rp_err *err)
{
    int rc;

    pthread_mutex_lock(&t->geo_lock);
    rc = y->geofence ? geo_fence_polygon(&t->gc, y->geofence, out, err)
                     : geo_fence_circle(y->lon, y->lat, y->radius_m, out, err);
    pthread_mutex_unlock(&t->geo_lock);
    return rc;
}

/* Puts y (and its fence, taken over) into the table, replacing the yard of the same code.
 * Write lock held. */
static int yard_install(struct tows *t, const struct store_yard *y, struct geo_fence *fence,
                        struct rp_err *err)
{
    struct tows_yard *slot = NULL;
    char *text = y->geofence ? strdup(y->geofence) : NULL;

    if (y->geofence && !text)
        return rp_err_set(err, RP_NO_MEMORY, "yard");
    for (size_t i = 0; i < t->nyards && !slot; i++)
        if (strcmp(t->yards[i].y.code, y->code) == 0)
            slot = &t->yards[i];
    if (!slot) {
        struct tows_yard *v = realloc(t->yards, (t->nyards + 1) * sizeof *v);
        if (!v) {
            free(text);
            return rp_err_set(err, RP_NO_MEMORY, "yard");
        }
        t->yards = v;
        slot = &t->yards[t->nyards++];
        memset(slot, 0, sizeof *slot);
    }
    pthread_mutex_lock(&t->geo_lock);
    yard_free(t, slot);
    pthread_mutex_unlock(&t->geo_lock);
    slot->y = *y;
    slot->fence_text = text;
    slot->y.geofence = text;
    slot->fence = fence;
    {
        json_t *pub = tows_yard_public(y);
        slot->public_json = pub ? json_dumps(pub, JSON_COMPACT) : NULL;
        slot->public_len = slot->public_json ? strlen(slot->public_json) : 0;
        json_decref(pub);
    }
    return slot->public_json ? RP_OK : rp_err_set(err, RP_NO_MEMORY, "yard");
}

struct tows_yard *tows_yard_by_id(struct tows *t, int64_t id)
{
    for (size_t i = 0; i < t->nyards; i++)
        if (t->yards[i].y.id == id)
            return &t->yards[i];
    return NULL;
}

static struct tows_yard *yard_by_code(struct tows *t, const char *code)
{
    for (size_t i = 0; i < t->nyards; i++)
        if (strcmp(t->yards[i].y.code, code) == 0)
            return &t->yards[i];
    return NULL;
}

struct tows_truck *tows_truck_by_id(struct tows *t, int64_t id)
{
    for (size_t i = 0; i < t->ntrucks; i++)
        if (t->trucks[i].k.id == id)
            return &t->trucks[i];
    return NULL;
}

struct tows_truck *tows_truck_by_code(struct tows *t, const char *code)
{
    for (size_t i = 0; i < t->ntrucks; i++)
        if (strcmp(t->trucks[i].k.code, code) == 0)
            return &t->trucks[i];
    return NULL;
}

static int truck_install(struct tows *t, const struct store_truck *k, struct rp_err *err)
{
    struct tows_truck *slot = tows_truck_by_code(t, k->code);

    if (!slot) {
        struct tows_truck *v = realloc(t->trucks, (t->ntrucks + 1) * sizeof *v);
        if (!v)
            return rp_err_set(err, RP_NO_MEMORY, "truck");
        t->trucks = v;
        slot = &t->trucks[t->ntrucks++];
        memset(slot, 0, sizeof *slot);
    }
    slot->k = *k;
    return RP_OK;
}

/* ---- active tows: sorted by (plate, id) ---- */

static int tow_cmp(const char *plate, int64_t id, const struct tows_active *b)
{
    int c = strcmp(plate, b->plate);
    return c ? c : (id > b->id) - (id < b->id);
}

/* Index of the first active tow >= (plate, id). */
static size_t active_lower(const struct tows *t, const char *plate, int64_t id)
{
    size_t lo = 0, hi = t->nactive;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tow_cmp(plate, id, &t->active[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct tows_active *tows_active_by_id(struct tows *t, int64_t id)
{
    for (size_t i = 0; i < t->nactive; i++)
        if (t->active[i].id == id)
            return &t->active[i];
    return NULL;
}

struct tows_active *tows_active_of_truck(struct tows *t, int64_t truck_id)
{
    struct tows_active *best = NULL;

    for (size_t i = 0; i < t->nactive; i++)
        if (t->active[i].truck_id == truck_id &&
            (strcmp(t->active[i].status, "towing") == 0 ||
             strcmp(t->active[i].status, "requested") == 0) &&
            (!best || t->active[i].id > best->id))
            best = &t->active[i];
    return best;
}

/* The newest active tow of a plate. */
static struct tows_active *active_of_plate(struct tows *t, const char *plate)
{
    size_t i = active_lower(t, plate, INT64_MAX);
    return i > 0 && strcmp(t->active[i - 1].plate, plate) == 0 ? &t->active[i - 1] : NULL;
}

void tows_active_apply(struct tows *t, const struct store_tow *tw)
{
    int active = strcmp(tw->status, "released") != 0 && strcmp(tw->status, "cancelled") != 0;
    size_t i = active_lower(t, tw->plate, tw->id);
    int present = i < t->nactive && t->active[i].id == tw->id;
    struct tows_active a;

    if (!active) {
        if (present) {
            memmove(&t->active[i], &t->active[i + 1], (t->nactive - i - 1) * sizeof a);
            t->nactive--;
        }
        return;
    }
    memset(&a, 0, sizeof a);
    a.id = tw->id;
    a.truck_id = tw->truck_id;
    a.yard_id = tw->yard_id;
    a.report_id = tw->report_id;
    snprintf(a.plate, sizeof a.plate, "%s", tw->plate);
    snprintf(a.status, sizeof a.status, "%s", tw->status);
    snprintf(a.entity, sizeof a.entity, "%s", tw->entity_code);
    memcpy(a.created_at, tw->created_at, sizeof a.created_at);
    memcpy(a.towing_at, tw->towing_at, sizeof a.towing_at);
    memcpy(a.at_yard_at, tw->at_yard_at, sizeof a.at_yard_at);
    memcpy(a.key, tw->ticket_key, sizeof a.key);
    if (present) {
        t->active[i] = a;
        return;
    }
    if (t->nactive == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct tows_active *v = realloc(t->active, cap * sizeof *v);
        if (!v) { /* the lookup falls back to "not active" for this one; logged by the caller */
            t->failed = 1;
            return;
        }
        t->active = v;
        t->cap = cap;
    }
    memmove(&t->active[i + 1], &t->active[i], (t->nactive - i) * sizeof a);
    t->active[i] = a;
    t->nactive++;
}

/* ---- loading ---- */

static int load_yard(void *ctx, const struct store_yard *y, struct rp_err *err)
{
    struct tows *t = ctx;
    struct geo_fence *f = NULL;
    int rc = fence_make(t, y, &f, err);

    if (rc == RP_OK)
        rc = yard_install(t, y, f, err);
    else
        rp_err_set(err, rc, "yard %s: its geofence no longer reads", y->code);
    return rc;
}

static int load_truck(void *ctx, const struct store_truck *k, struct rp_err *err)
{
    return truck_install(ctx, k, err);
}

static int load_position(void *ctx, int64_t truck_id, const struct store_position *p,
                         struct rp_err *err)
{
    struct tows_truck *k = tows_truck_by_id(ctx, truck_id);

    (void)err;
    if (k) {
        k->has_pos = 1;
        k->pos = *p;
    }
    return RP_OK;
}

static int load_tow(void *ctx, const struct store_tow *tw, struct rp_err *err)
{
    struct tows *t = ctx;

    tows_active_apply(t, tw);
    return t->failed ? rp_err_set(err, RP_NO_MEMORY, "active tows") : RP_OK;
}

int tows_load(struct tows *t, struct store *s, struct rp_err *err)
{
    int rc;

    pthread_rwlock_wrlock(&t->lock);
    rc = store_yards_each(s, load_yard, t, err);
    if (rc == RP_OK)
        rc = store_trucks_each(s, load_truck, t, err);
    if (rc == RP_OK)
        rc = store_positions_latest(s, load_position, t, err);
    if (rc == RP_OK)
        rc = store_tows_active_each(s, load_tow, t, err);
    pthread_rwlock_unlock(&t->lock);
    return rc;
}

void tows_reload_tow(struct tows *t, struct store *s, int64_t id)
{
    struct store_tow tw;
    struct rp_err err = {0};
    int found = 0;

    if (store_tow_get(s, id, &tw, &found, &err) != RP_OK) {
        rp_warn("tows: tow %lld not re-read after its change: %s", (long long)id, err.msg);
        return;
    }
    if (!found)
        return;
    pthread_rwlock_wrlock(&t->lock);
    tows_active_apply(t, &tw);
    pthread_rwlock_unlock(&t->lock);
}

void tows_reload_positions(struct tows *t, struct store *s)
{
    struct rp_err err = {0};

    pthread_rwlock_wrlock(&t->lock);
    if (store_positions_latest(s, load_position, t, &err) != RP_OK)
        rp_warn("tows: positions not re-read: %s", err.msg);
    pthread_rwlock_unlock(&t->lock);
}

/* ---- yards ---- */

static int audit_row(struct store *s, const struct principal *who, const char *action,
                     const char *target, json_t *after, struct rp_err *err)
{
    int rc = after ? auth_audit(s, who, action, target, NULL, after, err)
                   : rp_err_set(err, RP_NO_MEMORY, "audit");
    json_decref(after);
    return rc;
}

int tows_yard_put(struct app *app, struct worker *w, const struct principal *who,
                  struct store_yard *y, int *created, struct rp_err *err)
{
    struct tows *t = app->tows;
    struct geo_fence *fence = NULL;
    char target[64];
    int rc;

    if (!geo_lonlat_valid(y->lon, y->lat))
        return rp_err_set(err, RP_INVALID_COORDINATES, "lat and lon of the yard are degrees");
    if ((rc = fence_make(t, y, &fence, err)) != RP_OK)
        return rc;
    snprintf(target, sizeof target, "yard:%s", y->code);
    rc = store_begin(w->store, err);
    if (rc == RP_OK)
        rc = store_yard_put(w->store, y, created, err);
    if (rc == RP_OK)
        rc = audit_row(w->store, who, *created ? "yard.create" : "yard.update", target,
                       json_pack("{s:s, s:s, s:I, s:I, s:b}", "name", y->name, "address",
                                 y->address, "tow_fee_cents", (json_int_t)y->tow_fee_cents,
                                 "daily_fee_cents", (json_int_t)y->daily_fee_cents, "active",
                                 y->active),
                       err);
    rc = store_end(w->store, rc, err);
    if (rc == RP_OK) {
        pthread_rwlock_wrlock(&t->lock);
        rc = yard_install(t, y, fence, err);
        pthread_rwlock_unlock(&t->lock);
        fence = NULL;
    }
    if (fence) {
        pthread_mutex_lock(&t->geo_lock);
        geo_fence_destroy(&t->gc, fence);
        pthread_mutex_unlock(&t->geo_lock);
    }
    return rc;
}

int tows_yard_delete(struct app *app, struct worker *w, const struct principal *who,
                     const char *code, struct rp_err *err)
{
    struct tows *t = app->tows;
    char target[64];
    int deleted = 0, rc = store_begin(w->store, err);

    snprintf(target, sizeof target, "yard:%.40s", code);
    if (rc == RP_OK)
        rc = store_yard_delete(w->store, code, &deleted, err);
    if (rc == RP_OK && !deleted)
        rc = rp_err_set(err, RP_NOT_FOUND, "no yard %.40s", code);
    if (rc == RP_OK)
        rc = audit_row(w->store, who, "yard.delete", target, json_object(), err);
    rc = store_end(w->store, rc, err);
    if (rc == RP_OK) {
        pthread_rwlock_wrlock(&t->lock);
        struct tows_yard *y = yard_by_code(t, code);
        if (y) {
            pthread_mutex_lock(&t->geo_lock);
            yard_free(t, y);
            pthread_mutex_unlock(&t->geo_lock);
            *y = t->yards[--t->nyards];
        }
        pthread_rwlock_unlock(&t->lock);
    }
    return rc;
}

/* What a driver sees of a yard (no fence: that is the operators' business). */
json_t *tows_yard_public(const struct store_yard *y)
{
    return json_pack("{s:s, s:s, s:s, s:f, s:f, s:{s:s, s:s}, s:s?, s:{s:s, s:s}}", "code",
                     y->code, "name", y->name, "address", y->address, "lat", y->lat, "lon",
                     y->lon, "hours", "es", y->hours_es, "en", y->hours_en, "phone",
                     y->phone[0] ? y->phone : NULL, "documents", "es", y->documents_es, "en",
                     y->documents_en);
}

static json_t *yard_json(const struct tows_yard *ty)
{
    const struct store_yard *y = &ty->y;
    json_t *o = tows_yard_public(y), *fence = NULL;

    if (o && y->geofence)
        fence = json_loads(y->geofence, 0, NULL);
    if (o && (json_object_update_new(o, json_pack("{s:{s:I, s:I, s:s}, s:o?, s:b, s:s}", "fees",
                                                  "tow_cents", (json_int_t)y->tow_fee_cents,
                                                  "daily_cents", (json_int_t)y->daily_fee_cents,
                                                  "currency", "PAB", "geofence", fence, "active",
                                                  y->active, "updated_at", y->updated_at)) != 0 ||
              tows_set_real(o, "radius_m", y->geofence ? NAN : y->radius_m) != 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int tows_yards_json(struct tows *t, const struct principal *who, const char *code,
                    json_t **out, struct rp_err *err)
{
    json_t *list = code ? NULL : json_array(), *one = NULL;
    int rc = RP_OK;

    *out = NULL;
    pthread_rwlock_rdlock(&t->lock);
    for (size_t i = 0; i < t->nyards && rc == RP_OK; i++) {
        const struct tows_yard *y = &t->yards[i];
        if (code ? strcmp(y->y.code, code) != 0 : !y->y.active && who->role != AUTH_ADMIN)
            continue;
        json_t *j = yard_json(y);
        if (!j)
            rc = rp_err_set(err, RP_NO_MEMORY, "yards");
        else if (code)
            one = j;
        else if (json_array_append_new(list, j) != 0)
            rc = rp_err_set(err, RP_NO_MEMORY, "yards");
    }
    pthread_rwlock_unlock(&t->lock);
    if (rc == RP_OK && code && !one)
        rc = rp_err_set(err, RP_NOT_FOUND, "no yard %.40s", code);
    if (rc == RP_OK && !code && !list)
        rc = rp_err_set(err, RP_NO_MEMORY, "yards");
    if (rc == RP_OK)
        *out = code ? one : json_pack("{s:o}", "yards", list);
    else
        json_decref(code ? one : list);
    return rc == RP_OK && !*out ? rp_err_set(err, RP_NO_MEMORY, "yards") : rc;
}

/* ---- trucks ---- */

int tows_truck_put(struct app *app, struct worker *w, const struct principal *who,
                   struct store_truck *k, int *created, struct rp_err *err)
{
    char plate[PLATE_MAX + 1], target[64];
    int exists = 0, rc = plate_normalize(k->plate, plate, err);

    if (rc != RP_OK)
        return rc;
    snprintf(k->plate, sizeof k->plate, "%s", plate);
    snprintf(target, sizeof target, "truck:%s", k->code);
    rc = store_begin(w->store, err);
    if (rc == RP_OK)
        rc = store_entity_exists(w->store, k->entity_code, &exists, err);
    if (rc == RP_OK && !exists)
        rc = rp_err_set(err, RP_INVALID_ARGUMENT, "no entity %.40s", k->entity_code);
    if (rc == RP_OK)
        rc = store_truck_put(w->store, k, created, err);
    if (rc == RP_OK)
        rc = audit_row(w->store, who, *created ? "truck.create" : "truck.update", target,
                       json_pack("{s:s, s:s, s:b}", "entity", k->entity_code, "plate", k->plate,
                                 "active", k->active),
                       err);
    rc = store_end(w->store, rc, err);
    if (rc == RP_OK) {
        pthread_rwlock_wrlock(&app->tows->lock);
        rc = truck_install(app->tows, k, err);
        pthread_rwlock_unlock(&app->tows->lock);
    }
    return rc;
}

int tows_truck_delete(struct app *app, struct worker *w, const struct principal *who,
                      const char *code, struct rp_err *err)
{
    struct tows *t = app->tows;
    char target[64];
    int deleted = 0, rc = store_begin(w->store, err);

    snprintf(target, sizeof target, "truck:%.40s", code);
    if (rc == RP_OK)
        rc = store_truck_delete(w->store, code, &deleted, err);
    if (rc == RP_OK && !deleted)
        rc = rp_err_set(err, RP_NOT_FOUND, "no truck %.40s", code);
    if (rc == RP_OK)
        rc = audit_row(w->store, who, "truck.delete", target, json_object(), err);
    rc = store_end(w->store, rc, err);
    if (rc == RP_OK) {
        pthread_rwlock_wrlock(&t->lock);
        struct tows_truck *k = tows_truck_by_code(t, code);
        if (k)
            *k = t->trucks[--t->ntrucks];
        pthread_rwlock_unlock(&t->lock);
    }
    return rc;
}

/* Sets key to x unless x is NaN (not sent); 0 on success. */
int tows_set_real(json_t *o, const char *key, double x)
{
    return !o ? -1 : isnan(x) ? 0 : json_object_set_new(o, key, json_real(x));
}

json_t *tows_position_json(const struct store_position *p)
{
    json_t *o = json_pack("{s:f, s:f, s:s}", "lat", p->lat, "lon", p->lon, "at", p->at);

    if (tows_set_real(o, "speed_kmh", p->speed_kmh) || tows_set_real(o, "heading", p->heading)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int tows_may_operate(const struct principal *who, const char *entity)
{
    return who->role == AUTH_ADMIN ||
           (who->role == AUTH_TOW && who->entity[0] && strcmp(who->entity, entity) == 0);
}

int tows_trucks_json(struct tows *t, const struct principal *who, json_t **out,
                     struct rp_err *err)
{
    json_t *list = json_array();
    int rc = list ? RP_OK : rp_err_set(err, RP_NO_MEMORY, "trucks");

    pthread_rwlock_rdlock(&t->lock);
    for (size_t i = 0; i < t->ntrucks && rc == RP_OK; i++) {
        const struct tows_truck *k = &t->trucks[i];
        const struct tows_active *a;
        json_t *j;
        if (!k->k.active || !tows_may_operate(who, k->k.entity_code))
            continue;
        a = tows_active_of_truck(t, k->k.id);
        j = json_pack("{s:s, s:s, s:s, s:o?, s:o?}", "code", k->k.code, "entity",
                      k->k.entity_code, "plate", k->k.plate, "position",
                      k->has_pos ? tows_position_json(&k->pos) : NULL, "tow",
                      a ? json_pack("{s:I, s:s, s:s}", "id", (json_int_t)a->id, "status",
                                    a->status, "plate", a->plate)
                        : NULL);
        if (!j || json_array_append_new(list, j) != 0)
            rc = rp_err_set(err, RP_NO_MEMORY, "trucks");
    }
    pthread_rwlock_unlock(&t->lock);
    *out = rc == RP_OK ? json_pack("{s:o}", "trucks", list) : NULL;
    if (rc != RP_OK)
        json_decref(list);
    return rc == RP_OK && !*out ? rp_err_set(err, RP_NO_MEMORY, "trucks") : rc;
}

/* ---- the driver's lookup ---- */

static int history_item(void *ctx, const struct store_tow_change *c, struct rp_err *err)
{
    json_t *j = json_pack("{s:s, s:s?, s:s, s:s?}", "at", c->at, "from", c->from, "to", c->to,
                          "note", c->note);
    return j && json_array_append_new(ctx, j) == 0 ? RP_OK
                                                   : rp_err_set(err, RP_NO_MEMORY, "history");
}

int tows_history_json(struct store *s, int64_t tow_id, json_t **out, struct rp_err *err)
{
    json_t *h = json_array();
    int rc = h ? store_tow_history_each(s, tow_id, history_item, h, err)
               : rp_err_set(err, RP_NO_MEMORY, "history");

    if (rc != RP_OK) {
        json_decref(h);
        h = NULL;
    }
    *out = h;
    return rc;
}

/* Appends text to a growing buffer; the first failure sticks. */
struct buf {
    char *s;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const char *text, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        b->failed = 1;
    else
        put(b, tmp, (size_t)n);
}

/* The driver's answer is built as text: the plate is [A-Z0-9] and the times are ours, so
 * nothing in it needs escaping, and the yard's part was rendered by jansson when the yard was
 * installed. The lookup is the hottest read of towing: no JSON tree is built for it. */
int tows_lookup(struct tows *t, struct worker *w, const char *plate_in, const char *ticket,
                char **body, size_t *len, struct rp_err *err)
{
    static const unsigned char none[STORE_HASH_LEN] = {0};
    unsigned char key[STORE_HASH_LEN];
    char plate[PLATE_MAX + 1], now[STORE_TIME_MAX];
    struct tows_active a;
    struct store_position pos = {0};
    struct buf b = {0};
    int found = 0, have_key, ticket_ok, has_pos = 0, rc = RP_OK;
    int64_t days = 0, total = 0;

    *body = NULL;
    *len = 0;
    if ((rc = plate_normalize(plate_in, plate, err)) != RP_OK) {
        atomic_fetch_add(&t->lookups_invalid, 1);
        return rc;
    }
    /* A ticket that cannot even be normalised is just a wrong ticket: same answer. */
    have_key = ticket && tows_ticket_key(ticket, key, &(struct rp_err){0}) == RP_OK;
    if (!have_key)
        memset(key, 0xff, sizeof key);
    tows_now(now);
    pthread_rwlock_rdlock(&t->lock);
    const struct tows_active *p = active_of_plate(t, plate);
    const struct tows_yard *ty = p ? tows_yard_by_id(t, p->yard_id) : NULL;
    if (p && ty && ty->public_json) {
        const struct tows_truck *k = tows_truck_by_id(t, p->truck_id);
        found = 1;
        a = *p;
        if (k && k->has_pos) {
            has_pos = 1;
            pos = k->pos;
        }
        total = tows_fees_cents(ty->y.tow_fee_cents, ty->y.daily_fee_cents,
                                a.at_yard_at[0] ? tows_epoch(a.at_yard_at) : 0, tows_epoch(now),
                                &days);
        putf(&b, "{\"plate\":\"%s\",\"active\":true,\"since\":\"%s\",\"yard\":", plate,
             a.created_at);
        put(&b, ty->public_json, ty->public_len);
        putf(&b,
             ",\"fees\":{\"currency\":\"PAB\",\"tow_cents\":%lld,\"daily_cents\":%lld,"
             "\"storage_days\":%lld,\"total_cents\":%lld}}",
             (long long)ty->y.tow_fee_cents, (long long)ty->y.daily_fee_cents, (long long)days,
             (long long)total);
    }
    pthread_rwlock_unlock(&t->lock);
    /* Always one constant-time comparison, whether or not there is a tow or a ticket. */
    ticket_ok = CRYPTO_memcmp(found ? a.key : none, key, STORE_HASH_LEN) == 0 && found &&
                have_key;
    if (!found) {
        atomic_fetch_add(&t->lookups_none, 1);
        putf(&b, "{\"plate\":\"%s\",\"active\":false}", plate);
    } else {
        atomic_fetch_add(ticket_ok ? &t->lookups_ticket : &t->lookups_found, 1);
    }
    if (!b.failed && ticket_ok) { /* the ticket's part: status, history, the truck */
        json_t *h = NULL, *extra = NULL;
        char *text = NULL;
        rc = tows_history_json(w->store, a.id, &h, err);
        if (rc == RP_OK)
            extra = json_pack("{s:I, s:s, s:o, s:o*}", "tow", (json_int_t)a.id, "status",
                              a.status, "history", h, "truck",
                              strcmp(a.status, "towing") == 0 && has_pos
                                  ? json_pack("{s:o}", "position", tows_position_json(&pos))
                                  : NULL);
        if (rc == RP_OK && (!extra || !(text = json_dumps(extra, JSON_COMPACT))))
            rc = rp_err_set(err, RP_NO_MEMORY, "lookup");
        if (rc == RP_OK) { /* "{...}" + "{x...}" -> "{...,x...}" */
            b.s[--b.len] = '\0';
            put(&b, ",", 1);
            put(&b, text + 1, strlen(text) - 1);
        }
        free(text);
        json_decref(extra);
    }
    if (rc == RP_OK && b.failed)
        rc = rp_err_set(err, RP_NO_MEMORY, "lookup");
    if (rc != RP_OK) {
        free(b.s);
        return rc;
    }
    *body = b.s;
    *len = b.len;
    return RP_OK;
}

void tows_metrics(struct tows *t, struct tows_metrics *m)
{
    m->lookups_found = atomic_load(&t->lookups_found);
    m->lookups_none = atomic_load(&t->lookups_none);
    m->lookups_ticket = atomic_load(&t->lookups_ticket);
    m->lookups_invalid = atomic_load(&t->lookups_invalid);
    m->lookups_limited = atomic_load(&t->lookups_limited);
    m->positions_accepted = atomic_load(&t->positions_accepted);
    m->positions_duplicate = atomic_load(&t->positions_duplicate);
    m->positions_rejected = atomic_load(&t->positions_rejected);
    m->arrivals = atomic_load(&t->arrivals);
}

void tows_count_limited(struct tows *t)
{
    atomic_fetch_add(&t->lookups_limited, 1);
}
