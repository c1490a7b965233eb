/*
 * server/tow_life.c - the moving parts of towing (see tows.h): truck positions through the
 * group-commit writer with arrival by geofence, tows created and moved through their states,
 * and what those changes do to a linked 311 case, each in the transaction of the change.
 * Memory (server/tows_int.h) follows only after a commit, so a reader never sees a change the
 * database might still undo.
 */
#include "server/tows_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/store.h"
#include "geo/locate.h"
#include "server/cases.h"
#include "server/open311.h"
#include "server/plate.h"
#include "server/tiles.h"

static const struct principal system_actor = {AUTH_ADMIN, 0, "", "system"};

static void actor_of(const struct principal *who, char *out, size_t n)
{
    if (who->key_id)
        snprintf(out, n, "key:%lld", (long long)who->key_id);
    else
        snprintf(out, n, "%s", who->name[0] ? who->name : "anonymous");
}

static const char *role_of(const struct principal *who)
{
    return who == &system_actor ? "system" : auth_role_name(who->role);
}

/* ---- a tow's change, in the caller's transaction ---- */

static const char *const tow_note_es[] = {
    [0] = "Solicitud de grúa registrada",
    [1] = "Vehículo en la grúa",
    [2] = "Vehículo en el patio",
    [3] = "Vehículo entregado a su dueño",
    [4] = "Remolque cancelado",
};

static int status_index(const char *s)
{
    static const char *const names[] = {"requested", "towing", "at_yard", "released",
                                        "cancelled"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int tow_transition_ok(const char *from, const char *to)
{
    static const char *const next[] = {"towing cancelled", "at_yard cancelled", "released", "",
                                       ""};
    int f = status_index(from);
    const char *list;
    size_t n = strlen(to);

    if (f < 0 || status_index(to) < 0)
        return 0;
    for (list = next[f]; *list;) {
        size_t k = strcspn(list, " ");
        if (k == n && strncmp(list, to, n) == 0)
            return 1;
        list += k + (list[k] == ' ');
    }
    return 0;
}

/* The history, audit and linked-case rows of one committed-to-be change. resolved_case gets the
 * linked case's id when this change resolved it. */
static int tow_changed(struct store *s, const struct principal *who, const struct store_tow *tw,
                       const char *from, const char *to, const char *at, const char *note,
                       int64_t *resolved_case, struct rp_err *err)
{
    char actor[STORE_NAME_MAX + 8], target[32], text[STORE_TEXT_MAX + 128];
    const char *role = role_of(who);
    int rc;

    actor_of(who, actor, sizeof actor);
    snprintf(target, sizeof target, "tow:%lld", (long long)tw->id);
    snprintf(text, sizeof text, "%s%s%s", tow_note_es[status_index(to)], note ? ": " : "",
             note ? note : "");
    rc = store_tow_history_add(s, tw->id,
                               &(struct store_tow_change){0, at, from, to, actor, role, note}, err);
    if (rc == RP_OK) {
        json_t *a = json_pack("{s:s, s:s?, s:s, s:s}", "status", to, "from", from, "plate",
                              tw->plate, "at", at);
        char *after = a ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        rc = after ? store_audit_add(s,
                                     &(struct store_audit){0, NULL, actor, role,
                                                           who->entity[0] ? who->entity : NULL,
                                                           from ? "tow.status" : "tow.create",
                                                           target, NULL, after},
                                     err)
                   : rp_err_set(err, RP_NO_MEMORY, "audit");
        free(after);
        json_decref(a);
    }
    if (rc != RP_OK || !tw->report_id)
        return rc;
    /* the linked 311 case: the tow's change in its timeline, resolved on arrival or release */
    rc = store_history_add(s, tw->report_id,
                           &(struct store_history){0, NULL, "tow", actor, role,
                                                   who->entity[0] ? who->entity : NULL, from, to,
                                                   text},
                           err);
    if (rc == RP_OK && (strcmp(to, "at_yard") == 0 || strcmp(to, "released") == 0)) {
        static _Thread_local struct store_report r;
        int found = 0, changed = 0;
        rc = store_report_by_id(s, tw->report_id, &r, &found, err);
        if (rc == RP_OK && found && cases_transition_ok(r.status, "resolved")) {
            rc = store_report_set_status(s, r.id, r.status, "resolved", 1, 0, &changed, err);
            if (rc == RP_OK && changed)
                rc = store_history_add(s, r.id,
                                       &(struct store_history){0, NULL, "status", actor, role,
                                                               who->entity[0] ? who->entity
                                                                              : NULL,
                                                               r.status, "resolved", text},
                                       err);
            if (rc == RP_OK && changed) {
                char rt[32];
                snprintf(rt, sizeof rt, "report:%s", r.case_no);
                rc = store_audit_add(s,
                                     &(struct store_audit){0, NULL, actor, role,
                                                           who->entity[0] ? who->entity : NULL,
                                                           "report.status", rt, NULL,
                                                           "{\"status\":\"resolved\"}"},
                                     err);
                *resolved_case = r.id;
            }
        }
    }
    return rc;
}

/* After a commit: memory and the tiles of a case the change resolved. */
static void tow_committed(struct app *app, struct worker *w, const struct store_tow *tw,
                          int64_t resolved_case)
{
    struct tows *t = app->tows;

    pthread_rwlock_wrlock(&t->lock);
    tows_active_apply(t, tw);
    pthread_rwlock_unlock(&t->lock);
    if (resolved_case && app->tiles)
        tiles_case_reload(app->tiles, w->store, resolved_case);
}

/* A copy of the truck with this code; 0 when there is none. */
static int truck_copy(struct tows *t, const char *code, struct store_truck *out)
{
    const struct tows_truck *k;

    pthread_rwlock_rdlock(&t->lock);
    k = tows_truck_by_code(t, code);
    if (k)
        *out = k->k;
    pthread_rwlock_unlock(&t->lock);
    return k != NULL;
}

/* The codes of a tow's truck and yard ("" for one since deleted). */
static void codes_of(struct tows *t, const struct store_tow *tw, char truck[STORE_CODE_MAX],
                     char yard[STORE_CODE_MAX])
{
    pthread_rwlock_rdlock(&t->lock);
    const struct tows_truck *k = tows_truck_by_id(t, tw->truck_id);
    const struct tows_yard *y = tows_yard_by_id(t, tw->yard_id);
    snprintf(truck, STORE_CODE_MAX, "%s", k ? k->k.code : "");
    snprintf(yard, STORE_CODE_MAX, "%s", y ? y->y.code : "");
    pthread_rwlock_unlock(&t->lock);
}

/* ---- positions ---- */

/* A device's time (ISO 8601 with Z or an offset, fractions of a second kept to the
 * millisecond) as UTC "YYYY-MM-DDTHH:MM:SS.mmmZ": devices that report more often than once a
 * second keep every point, and the text sorts as the time does. 0 when unreadable. */
static int device_time(const char *in, char out[STORE_TIME_MAX])
{
    char secs[STORE_TIME_MAX], ms[4] = "000";
    const char *t = strchr(in, 'T'), *frac;

    if (!open311_parse_time(in, secs, sizeof secs) || !t || strlen(secs) != 20)
        return 0;
    frac = t + 9; /* "THH:MM:SS" */
    if (strlen(t) > 9 && *frac == '.')
        for (int i = 0; i < 3 && frac[1 + i] >= '0' && frac[1 + i] <= '9'; i++)
            ms[i] = frac[1 + i];
    snprintf(out, STORE_TIME_MAX, "%.19s.%sZ", secs, ms);
    return 1;
}

int tows_point_parse(json_t *p, int64_t now_s, struct store_position *out, struct rp_err *err)
{
    json_t *lat = json_object_get(p, "lat"), *lon = json_object_get(p, "lon");
    json_t *at = json_object_get(p, "at"), *sp = json_object_get(p, "speed_kmh");
    json_t *hd = json_object_get(p, "heading");

    if (!json_is_object(p))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "a point is an object {lat, lon, at}");
    if (!json_is_number(lat) || !json_is_number(lon) ||
        !geo_lonlat_valid(json_number_value(lon), json_number_value(lat)))
        return rp_err_set(err, RP_INVALID_COORDINATES, "lat and lon are degrees");
    if (!json_is_string(at) || !device_time(json_string_value(at), out->at))
        return rp_err_set(err, RP_INVALID_ARGUMENT,
                          "at is an ISO 8601 time with Z or an offset (2026-12-01T10:00:00Z)");
    if (tows_epoch(out->at) > now_s + TOWS_FUTURE_SKEW_S)
        return rp_err_set(err, RP_INVALID_DATA,
                          "at is more than %d s ahead of the server's clock: check the device's "
                          "time",
                          TOWS_FUTURE_SKEW_S);
    if (sp && !json_is_null(sp) &&
        (!json_is_number(sp) || !(json_number_value(sp) >= 0 && json_number_value(sp) <= 400)))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "speed_kmh is 0 to 400");
    if (hd && !json_is_null(hd) &&
        (!json_is_number(hd) || !(json_number_value(hd) >= 0 && json_number_value(hd) <= 360)))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "heading is 0 to 360 degrees");
    out->lat = json_number_value(lat);
    out->lon = json_number_value(lon);
    out->speed_kmh = sp && json_is_number(sp) ? json_number_value(sp) : NAN;
    out->heading = hd && json_is_number(hd) ? json_number_value(hd) : NAN;
    return RP_OK;
}

static int by_time(const void *a, const void *b)
{
    return strcmp(((const struct store_position *)a)->at, ((const struct store_position *)b)->at);
}

struct positions_job {
    int64_t truck_id;
    const struct store_position *v;
    size_t n, added;
    struct store_tow tow; /* arrival: the tow (status towing) and when it arrived */
    char arrived_at[STORE_TIME_MAX];
    int arrived;          /* in: a point is inside the fence; out: the tow moved */
    int64_t resolved_case;
};

static int positions_run(struct store *s, void *arg, struct rp_err *err)
{
    struct positions_job *j = arg;
    int rc = store_positions_add(s, j->truck_id, j->v, j->n, &j->added, err), found = 0;

    if (rc != RP_OK || !j->arrived)
        return rc;
    j->arrived = 0;
    rc = store_tow_get(s, j->tow.id, &j->tow, &found, err);
    if (rc == RP_OK && found && strcmp(j->tow.status, "towing") == 0)
        rc = store_tow_set_status(s, j->tow.id, "towing", "at_yard", j->arrived_at, &j->arrived,
                                  err);
    if (rc == RP_OK && j->arrived) {
        snprintf(j->tow.status, sizeof j->tow.status, "at_yard");
        memcpy(j->tow.at_yard_at, j->arrived_at, sizeof j->tow.at_yard_at);
        rc = tow_changed(s, &system_actor, &j->tow, "towing", "at_yard", j->arrived_at,
                         "llegada detectada por geocerca", &j->resolved_case, err);
    }
    return rc;
}

/* Which accepted point (sorted by time) first puts the truck inside its tow's yard. */
static void arrival_test(struct tows *t, int64_t truck_id, const struct store_position *v,
                         size_t n, struct positions_job *j)
{
    const struct tows_active *a;
    const struct tows_yard *y;

    pthread_rwlock_rdlock(&t->lock);
    a = tows_active_of_truck(t, truck_id);
    y = a && strcmp(a->status, "towing") == 0 ? tows_yard_by_id(t, a->yard_id) : NULL;
    if (y && y->fence) {
        pthread_mutex_lock(&t->geo_lock);
        for (size_t i = 0; i < n && !j->arrived; i++) {
            int inside = 0;
            if (tows_epoch(v[i].at) < tows_epoch(a->towing_at))
                continue; /* before it was hooked: the truck passing by its own yard */
            if (geo_fence_contains(&t->gc, y->fence, v[i].lon, v[i].lat, &inside,
                                   &(struct rp_err){0}) == RP_OK &&
                inside) {
                j->arrived = 1;
                j->tow.id = a->id;
                /* tows are timed to the second, as every other record */
                snprintf(j->arrived_at, sizeof j->arrived_at, "%.19sZ", v[i].at);
            }
        }
        pthread_mutex_unlock(&t->geo_lock);
    }
    pthread_rwlock_unlock(&t->lock);
}

static int point_error(json_t *errors, size_t i, const struct rp_err *e)
{
    return json_array_append_new(errors, json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i,
                                                   "code", rp_err_slug(e->code), "message",
                                                   e->msg));
}

int tows_positions_add(struct app *app, struct worker *w, const struct principal *who,
                       const char *truck, json_t *points, struct tows_posted *out,
                       struct rp_err *err)
{
    struct tows *t = app->tows;
    struct store_truck k;
    struct store_position *v = NULL;
    struct positions_job j;
    char now[STORE_TIME_MAX];
    int64_t now_s;
    size_t n = 0, m = 0, total = json_array_size(points);
    int found = 0, rc = RP_OK;

    memset(out, 0, sizeof *out);
    found = truck_copy(t, truck, &k);
    if (!found)
        return rp_err_set(err, RP_NOT_FOUND, "no truck %.40s", truck);
    if (who->role != AUTH_TOW || !who->entity[0] || strcmp(who->entity, k.entity_code) != 0)
        return rp_err_set(err, RP_FORBIDDEN, "truck %s is operated by %s, not by %s", k.code,
                          k.entity_code, who->entity[0] ? who->entity : "this key");
    if (!k.active)
        return rp_err_set(err, RP_CONFLICT, "truck %s is not active", k.code);
    if (!json_is_array(points) || total == 0)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "positions is a non-empty array");
    if (total > TOWS_POSITIONS_MAX)
        return rp_err_set(err, RP_TOO_LARGE, "at most %d positions a request",
                          TOWS_POSITIONS_MAX);
    if (!(v = malloc(total * sizeof *v)) || !(out->errors = json_array()))
        rc = rp_err_set(err, RP_NO_MEMORY, "positions");
    tows_now(now);
    now_s = tows_epoch(now);
    for (size_t i = 0; rc == RP_OK && i < total; i++) {
        struct rp_err e = {0};
        if (tows_point_parse(json_array_get(points, i), now_s, &v[n], &e) == RP_OK)
            n++;
        else if (point_error(out->errors, i, &e) != 0)
            rc = rp_err_set(err, RP_NO_MEMORY, "positions");
    }
    out->rejected = total - n;
    if (rc == RP_OK && n) { /* oldest first, each device time once */
        qsort(v, n, sizeof *v, by_time);
        for (size_t i = 0; i < n; i++)
            if (m == 0 || strcmp(v[i].at, v[m - 1].at) != 0)
                v[m++] = v[i];
    }
    memset(&j, 0, sizeof j);
    j.truck_id = k.id;
    j.v = v;
    j.n = m;
    if (rc == RP_OK && m) {
        arrival_test(t, k.id, v, m, &j);
        rc = store_writer_run(app->writer, positions_run, &j, err);
    }
    if (rc == RP_OK) {
        out->accepted = j.added;
        out->duplicates = n - j.added;
        pthread_rwlock_wrlock(&t->lock);
        struct tows_truck *mk = tows_truck_by_id(t, k.id);
        if (mk && m && (!mk->has_pos || strcmp(v[m - 1].at, mk->pos.at) > 0)) {
            mk->has_pos = 1;
            mk->pos = v[m - 1];
        }
        pthread_rwlock_unlock(&t->lock);
        if (j.arrived) {
            out->arrived_tow = j.tow.id;
            atomic_fetch_add(&t->arrivals, 1);
            tow_committed(app, w, &j.tow, j.resolved_case);
        }
        atomic_fetch_add(&t->positions_accepted, out->accepted);
        atomic_fetch_add(&t->positions_duplicate, out->duplicates);
        atomic_fetch_add(&t->positions_rejected, out->rejected);
    }
    free(v);
    if (rc != RP_OK) {
        json_decref(out->errors);
        out->errors = NULL;
    }
    return rc;
}

struct track {
    json_t *features;
    int failed;
};

static int track_point(void *ctx, int64_t truck_id, const struct store_position *p,
                       struct rp_err *err)
{
    struct track *tr = ctx;
    json_t *props = json_pack("{s:s}", "at", p->at);
    json_t *f = NULL;

    (void)truck_id;
    if (tows_set_real(props, "speed_kmh", p->speed_kmh) == 0 &&
        tows_set_real(props, "heading", p->heading) == 0)
        f = json_pack("{s:s, s:{s:s, s:[f, f]}, s:O}", "type", "Feature", "geometry", "type",
                      "Point", "coordinates", p->lon, p->lat, "properties", props);
    json_decref(props);
    if (!f || json_array_append_new(tr->features, f) != 0)
        return rp_err_set(err, RP_NO_MEMORY, "track");
    return RP_OK;
}

int tows_track_json(struct tows *t, struct worker *w, const struct principal *who,
                    const char *truck, const char *since, json_t **out, struct rp_err *err)
{
    struct store_truck k;
    struct track tr = {json_array(), 0};
    char from[STORE_TIME_MAX];
    int found = 0, rc;

    *out = NULL;
    found = truck_copy(t, truck, &k);
    if (!tr.features)
        return rp_err_set(err, RP_NO_MEMORY, "track");
    if (!found)
        rc = rp_err_set(err, RP_NOT_FOUND, "no truck %.40s", truck);
    else if (!tows_may_operate(who, k.entity_code))
        rc = rp_err_set(err, RP_FORBIDDEN, "truck %s is operated by %s", k.code, k.entity_code);
    else if (since && !open311_parse_time(since, from, sizeof from))
        rc = rp_err_set(err, RP_INVALID_ARGUMENT,
                        "since is a date (2026-12-01) or a UTC time (2026-12-01T10:00:00Z)");
    else {
        char now[STORE_TIME_MAX];
        time_t s;
        struct tm tm;
        tows_now(now);
        s = since ? (time_t)tows_epoch(from) : (time_t)(tows_epoch(now) - TOWS_TRACK_DEFAULT_S);
        gmtime_r(&s, &tm);
        strftime(from, sizeof from, "%Y-%m-%dT%H:%M:%S.000Z", &tm); /* as positions are kept */
        rc = store_positions_each(w->store, k.id, from, TOWS_TRACK_MAX, track_point, &tr, err);
    }
    if (rc == RP_OK)
        *out = json_pack("{s:s, s:o, s:{s:s, s:s}}", "type", "FeatureCollection", "features",
                         tr.features, "properties", "truck", k.code, "since", from);
    else
        json_decref(tr.features);
    return rc == RP_OK && !*out ? rp_err_set(err, RP_NO_MEMORY, "track") : rc;
}

/* ---- tows ---- */

int tows_create_tow(struct app *app, struct worker *w, const struct principal *who,
                    const struct tows_input *in, int64_t *id, struct rp_err *err)
{
    static _Thread_local struct store_tow tw;
    static _Thread_local struct store_report r;
    static const enum rp_level order[3] = {RP_LEVEL_CORREGIMIENTO, RP_LEVEL_DISTRITO,
                                           RP_LEVEL_PROVINCIA};
    struct tows *t = app->tows;
    struct geo_place place;
    int truck_ok = 0, yard_ok = 0, found = 0, rc;
    int64_t resolved = 0;

    memset(&tw, 0, sizeof tw);
    rc = plate_normalize(in->plate, tw.plate, err);
    if (rc == RP_OK)
        rc = tows_ticket_key(in->ticket, tw.ticket_key, err);
    if (rc != RP_OK)
        return rc;
    pthread_rwlock_rdlock(&t->lock);
    const struct tows_truck *k = tows_truck_by_code(t, in->truck);
    if (k && k->k.active) {
        truck_ok = tows_may_operate(who, k->k.entity_code) ? 1 : -1;
        tw.truck_id = k->k.id;
        snprintf(tw.entity_code, sizeof tw.entity_code, "%s", k->k.entity_code);
    }
    for (size_t i = 0; i < t->nyards; i++)
        if (strcmp(t->yards[i].y.code, in->yard) == 0 && t->yards[i].y.active) {
            yard_ok = 1;
            tw.yard_id = t->yards[i].y.id;
        }
    pthread_rwlock_unlock(&t->lock);
    if (truck_ok == 0)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "no active truck %.40s", in->truck);
    if (truck_ok < 0 || who->role != AUTH_TOW)
        return rp_err_set(err, RP_FORBIDDEN, "truck %s is operated by %s, not by %s", in->truck,
                          tw.entity_code, who->entity[0] ? who->entity : "this key");
    if (!yard_ok)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "no active yard %.40s", in->yard);
    rc = geo_locate(app->areas, &w->geo, in->lon, in->lat, app->cfg.snap_m, &place, err);
    if (rc != RP_OK)
        return rc;
    for (int i = 0; i < 3; i++)
        snprintf(tw.area[i], sizeof tw.area[i], "%s",
                 place.area[order[i]] ? place.area[order[i]]->code : "");
    tw.lat = in->lat;
    tw.lon = in->lon;
    snprintf(tw.make, sizeof tw.make, "%s", in->make ? in->make : "");
    snprintf(tw.colour, sizeof tw.colour, "%s", in->colour ? in->colour : "");
    snprintf(tw.vehicle_type, sizeof tw.vehicle_type, "%s", in->vehicle_type ? in->vehicle_type : "");
    snprintf(tw.address, sizeof tw.address, "%s", in->address ? in->address : "");
    snprintf(tw.reason, sizeof tw.reason, "%s", in->reason);
    snprintf(tw.ticket, sizeof tw.ticket, "%s", in->ticket);
    snprintf(tw.status, sizeof tw.status, "requested");
    tows_now(tw.created_at);
    rc = store_begin(w->store, err);
    if (rc == RP_OK && in->report) {
        rc = store_report_get(w->store, in->report, &r, &found, err);
        if (rc == RP_OK && !found)
            rc = rp_err_set(err, RP_INVALID_ARGUMENT, "no case %.20s", in->report);
        else if (rc == RP_OK && strcmp(r.service_code, "vehiculo_obstruccion") != 0)
            rc = rp_err_set(err, RP_INVALID_DATA,
                            "case %s is %s, not vehiculo_obstruccion: a tow answers only those",
                            r.case_no, r.service_code);
        else if (rc == RP_OK && !cases_is_open(r.status))
            rc = rp_err_set(err, RP_INVALID_TRANSITION, "case %s is %s already", r.case_no,
                            r.status);
        tw.report_id = r.id;
    }
    if (rc == RP_OK)
        rc = store_tow_insert(w->store, &tw, err);
    if (rc == RP_OK)
        rc = tow_changed(w->store, who, &tw, NULL, "requested", tw.created_at, NULL, &resolved,
                         err);
    rc = store_end(w->store, rc, err);
    if (rc == RP_OK) {
        *id = tw.id;
        tow_committed(app, w, &tw, resolved);
    }
    return rc;
}

int tows_set_status(struct app *app, struct worker *w, const struct principal *who, int64_t id,
                    const char *status, const char *note, struct rp_err *err)
{
    static _Thread_local struct store_tow tw;
    char at[STORE_TIME_MAX], from[16];
    int found = 0, changed = 0, rc;
    int64_t resolved = 0;

    if (status_index(status) < 0)
        return rp_err_set(err, RP_INVALID_ARGUMENT,
                          "status must be one of towing, at_yard, released, cancelled");
    tows_now(at);
    rc = store_begin(w->store, err);
    if (rc == RP_OK)
        rc = store_tow_get(w->store, id, &tw, &found, err);
    if (rc == RP_OK && !found)
        rc = rp_err_set(err, RP_NOT_FOUND, "no tow %lld", (long long)id);
    if (rc == RP_OK && !tows_may_operate(who, tw.entity_code))
        rc = rp_err_set(err, RP_FORBIDDEN, "tow %lld is %s's", (long long)id, tw.entity_code);
    if (rc == RP_OK && !tow_transition_ok(tw.status, status))
        rc = rp_err_set(err, RP_INVALID_TRANSITION, "tow %lld cannot go from %s to %s",
                        (long long)id, tw.status, status);
    if (rc == RP_OK) {
        snprintf(from, sizeof from, "%s", tw.status);
        rc = store_tow_set_status(w->store, id, from, status, at, &changed, err);
    }
    if (rc == RP_OK && !changed)
        rc = rp_err_set(err, RP_CONFLICT, "tow %lld changed meanwhile; reload it", (long long)id);
    if (rc == RP_OK) {
        found = 0;
        rc = store_tow_get(w->store, id, &tw, &found, err);
    }
    if (rc == RP_OK)
        rc = tow_changed(w->store, who, &tw, from, status, at, note, &resolved, err);
    rc = store_end(w->store, rc, err);
    if (rc == RP_OK)
        tow_committed(app, w, &tw, resolved);
    return rc;
}

static json_t *tow_json(const struct store_tow *tw, const char *truck, const char *yard,
                        const char *case_no)
{
    return json_pack("{s:I, s:s, s:{s:s?, s:s?, s:s?}, s:{s:f, s:f, s:s?, s:s?, s:s?, s:s?},"
                     " s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:{s:s, s:s?, s:s?, s:s?, s:s?},"
                     " s:s}",
                     "id", (json_int_t)tw->id, "plate", tw->plate, "vehicle", "make",
                     tw->make[0] ? tw->make : NULL, "colour", tw->colour[0] ? tw->colour : NULL,
                     "type", tw->vehicle_type[0] ? tw->vehicle_type : NULL, "pickup", "lat",
                     tw->lat, "lon", tw->lon, "corregimiento", tw->area[0][0] ? tw->area[0] : NULL,
                     "distrito", tw->area[1][0] ? tw->area[1] : NULL, "provincia",
                     tw->area[2][0] ? tw->area[2] : NULL, "address",
                     tw->address[0] ? tw->address : NULL, "reason", tw->reason, "ticket",
                     tw->ticket, "entity", tw->entity_code, "truck", truck, "yard", yard,
                     "report_id", case_no, "status", tw->status, "times", "requested",
                     tw->created_at, "towing", tw->towing_at[0] ? tw->towing_at : NULL,
                     "at_yard", tw->at_yard_at[0] ? tw->at_yard_at : NULL, "released",
                     tw->released_at[0] ? tw->released_at : NULL, "cancelled",
                     tw->cancelled_at[0] ? tw->cancelled_at : NULL, "updated_at",
                     tw->updated_at);
}

/* Codes of the truck and yard of a tow, and its case's number. */
static int tow_names(struct tows *t, struct worker *w, const struct store_tow *tw, char *truck,
                     char *yard, char *case_no, struct rp_err *err)
{
    static _Thread_local struct store_report r;
    int found = 0, rc = RP_OK;

    codes_of(t, tw, truck, yard);
    case_no[0] = '\0';
    if (tw->report_id && (rc = store_report_by_id(w->store, tw->report_id, &r, &found, err)) ==
                             RP_OK && found)
        snprintf(case_no, STORE_CASE_MAX, "%s", r.case_no);
    return rc;
}

int tows_tow_json(struct app *app, struct worker *w, const struct principal *who, int64_t id,
                  json_t **out, struct rp_err *err)
{
    static _Thread_local struct store_tow tw;
    char truck[STORE_CODE_MAX], yard[STORE_CODE_MAX], case_no[STORE_CASE_MAX];
    json_t *h = NULL;
    int found = 0, rc = store_tow_get(w->store, id, &tw, &found, err);

    *out = NULL;
    if (rc == RP_OK && !found)
        rc = rp_err_set(err, RP_NOT_FOUND, "no tow %lld", (long long)id);
    if (rc == RP_OK && !tows_may_operate(who, tw.entity_code))
        rc = rp_err_set(err, RP_FORBIDDEN, "tow %lld is %s's", (long long)id, tw.entity_code);
    if (rc == RP_OK)
        rc = tow_names(app->tows, w, &tw, truck, yard, case_no, err);
    if (rc == RP_OK)
        rc = tows_history_json(w->store, id, &h, err);
    if (rc == RP_OK) {
        *out = tow_json(&tw, truck, yard, case_no[0] ? case_no : NULL);
        if (!*out || json_object_set_new(*out, "history", h) != 0)
            rc = rp_err_set(err, RP_NO_MEMORY, "tow");
        h = NULL;
    }
    json_decref(h);
    return rc;
}

struct tow_list {
    struct tows *t;
    json_t *list;
};

static int list_item(void *ctx, const struct store_tow *tw, struct rp_err *err)
{
    struct tow_list *l = ctx;
    char truck[STORE_CODE_MAX], yard[STORE_CODE_MAX];
    json_t *j;

    /* the store's statement is still stepping: no second read of reports on it here */
    codes_of(l->t, tw, truck, yard);
    j = tow_json(tw, truck, yard, NULL);
    return j && json_array_append_new(l->list, j) == 0 ? RP_OK
                                                       : rp_err_set(err, RP_NO_MEMORY, "tows");
}

int tows_list_json(struct tows *t, struct worker *w, const struct principal *who,
                   const char *plate_in, const char *status, int64_t before_id, int limit,
                   json_t **out, struct rp_err *err)
{
    char plate[PLATE_MAX + 1];
    struct tow_list l = {t, json_array()};
    int rc = l.list ? RP_OK : rp_err_set(err, RP_NO_MEMORY, "tows");

    *out = NULL;
    if (rc == RP_OK && plate_in)
        rc = plate_normalize(plate_in, plate, err);
    if (rc == RP_OK && status && status_index(status) < 0)
        rc = rp_err_set(err, RP_INVALID_ARGUMENT,
                        "status is requested, towing, at_yard, released or cancelled");
    if (rc == RP_OK)
        rc = store_tows_query(w->store, who->role == AUTH_ADMIN ? NULL : who->entity,
                              plate_in ? plate : NULL, status, before_id, limit + 1, list_item,
                              &l, err);
    if (rc == RP_OK) {
        size_t n = json_array_size(l.list);
        json_t *next = NULL;
        if (n > (size_t)limit) { /* one more than asked: there is a next page */
            json_array_remove(l.list, n - 1);
            next = json_integer(json_integer_value(
                json_object_get(json_array_get(l.list, n - 2), "id")));
        }
        *out = json_pack("{s:o, s:o?}", "tows", l.list, "next_cursor", next);
        l.list = NULL;
        if (!*out)
            rc = rp_err_set(err, RP_NO_MEMORY, "tows");
    }
    json_decref(l.list);
    return rc;
}
