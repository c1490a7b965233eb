/*
 * server/h_tows.c - the towing routes: yards and trucks (admin CRUD), truck positions and the
 * operators' live map, tows and their changes, and the driver's lookup. Each handler parses,
 * calls server/tows.h and renders.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/routes.h"
#include "server/tows.h"

/* A finite JSON number member within [min, max]; def when absent (required: an error). */
static int number(json_t *o, const char *key, int required, double def, double min, double max,
                  double *out, struct rp_err *err)
{
    json_t *v = json_object_get(o, key);

    *out = def;
    if (!v || json_is_null(v))
        return required ? rp_err_set(err, RP_INVALID_ARGUMENT, "%s is required", key) : RP_OK;
    if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < min ||
        json_number_value(v) > max)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s is a number from %g to %g", key, min,
                          max);
    *out = json_number_value(v);
    return RP_OK;
}

/* {"es": ..., "en": ...} */
static int bilingual(json_t *o, const char *key, char *es, char *en, size_t n,
                     struct rp_err *err)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_object(v))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s is {\"es\": text, \"en\": text}", key);
    int rc = http_json_copy(v, "es", es, n, 1, err);
    return rc == RP_OK ? http_json_copy(v, "en", en, n, 1, err) : rc;
}

static int active_flag(json_t *o, int *active, struct rp_err *err)
{
    json_t *v = json_object_get(o, "active");

    *active = 1;
    if (!v || json_is_null(v))
        return RP_OK;
    if (!json_is_boolean(v))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "active is true or false");
    *active = json_is_true(v);
    return RP_OK;
}

static int code_ok(const char *code, struct rp_err *err)
{
    size_t n = code ? strlen(code) : 0;

    if (n == 0 || n >= STORE_CODE_MAX || strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != n)
        return rp_err_set(err, RP_INVALID_ARGUMENT,
                          "a code is 1 to %d letters, digits, '-' or '_'", STORE_CODE_MAX - 1);
    return RP_OK;
}

/* ---- yards ---- */

int h_yards_list(struct http_req *req, struct http_res *res)
{
    json_t *out;
    int rc = tows_yards_json(req->app->tows, &req->who, NULL, &out, &res->err);
    return rc == RP_OK ? http_reply_json_new(res, 200, out) : rc;
}

int h_yard_get(struct http_req *req, struct http_res *res)
{
    json_t *out;
    int rc = tows_yards_json(req->app->tows, &req->who, http_param(req, "code"), &out, &res->err);
    return rc == RP_OK ? http_reply_json_new(res, 200, out) : rc;
}

/* PUT /api/v1/yards/{code} {name, address, lat, lon, geofence | radius_m, hours, phone?,
 * fees: {tow_cents, daily_cents}, documents, active?} */
int h_yard_put(struct http_req *req, struct http_res *res)
{
    static _Thread_local struct store_yard y;
    json_t *body, *fees, *fence;
    char *fence_text = NULL;
    double f;
    int created = 0, rc = http_body_json(req, &body, &res->err);

    if (rc != RP_OK)
        return rc;
    memset(&y, 0, sizeof y);
    rc = code_ok(http_param(req, "code"), &res->err);
    if (rc == RP_OK)
        snprintf(y.code, sizeof y.code, "%s", http_param(req, "code"));
    if (rc == RP_OK)
        rc = http_json_copy(body, "name", y.name, sizeof y.name, 1, &res->err);
    if (rc == RP_OK)
        rc = http_json_copy(body, "address", y.address, sizeof y.address, 1, &res->err);
    if (rc == RP_OK)
        rc = number(body, "lat", 1, 0, -90, 90, &y.lat, &res->err);
    if (rc == RP_OK)
        rc = number(body, "lon", 1, 0, -180, 180, &y.lon, &res->err);
    fence = json_object_get(body, "geofence");
    if (rc == RP_OK && fence && !json_is_null(fence)) {
        if (!json_is_object(fence))
            rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT,
                            "geofence is a GeoJSON Polygon or MultiPolygon object");
        else if (!(fence_text = json_dumps(fence, JSON_COMPACT)))
            rc = rp_err_set(&res->err, RP_NO_MEMORY, "geofence");
        else if (strlen(fence_text) >= STORE_GEOFENCE_MAX)
            rc = rp_err_set(&res->err, RP_TOO_LARGE, "geofence over %d bytes",
                            STORE_GEOFENCE_MAX);
        y.geofence = fence_text;
    }
    if (rc == RP_OK)
        rc = number(body, "radius_m", !fence_text, 0, 10, 5000, &y.radius_m, &res->err);
    if (rc == RP_OK && fence_text && y.radius_m > 0)
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "give geofence or radius_m, not both");
    if (rc == RP_OK)
        rc = bilingual(body, "hours", y.hours_es, y.hours_en, sizeof y.hours_es, &res->err);
    if (rc == RP_OK)
        rc = bilingual(body, "documents", y.documents_es, y.documents_en, sizeof y.documents_es,
                       &res->err);
    if (rc == RP_OK)
        rc = http_json_copy(body, "phone", y.phone, sizeof y.phone, 0, &res->err);
    fees = json_object_get(body, "fees");
    if (rc == RP_OK && !json_is_object(fees))
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT,
                        "fees is {\"tow_cents\": n, \"daily_cents\": n}");
    if (rc == RP_OK && (rc = number(fees, "tow_cents", 1, 0, 0, 1e8, &f, &res->err)) == RP_OK)
        y.tow_fee_cents = (int64_t)f;
    if (rc == RP_OK && (rc = number(fees, "daily_cents", 1, 0, 0, 1e8, &f, &res->err)) == RP_OK)
        y.daily_fee_cents = (int64_t)f;
    if (rc == RP_OK)
        rc = active_flag(body, &y.active, &res->err);
    if (rc == RP_OK)
        rc = tows_yard_put(req->app, req->w, &req->who, &y, &created, &res->err);
    free(fence_text);
    json_decref(body);
    if (rc != RP_OK)
        return rc;
    rc = h_yard_get(req, res);
    res->status = created ? 201 : 200;
    return rc;
}

int h_yard_delete(struct http_req *req, struct http_res *res)
{
    int rc = tows_yard_delete(req->app, req->w, &req->who, http_param(req, "code"), &res->err);
    return rc == RP_OK ? http_reply_json_new(res, 200, json_pack("{s:s}", "deleted",
                                                                 http_param(req, "code")))
                       : rc;
}

/* ---- trucks ---- */

int h_trucks_list(struct http_req *req, struct http_res *res)
{
    json_t *out;
    int rc = tows_trucks_json(req->app->tows, &req->who, &out, &res->err);
    return rc == RP_OK ? http_reply_json_new(res, 200, out) : rc;
}

/* PUT /api/v1/trucks/{code} {entity, plate, active?} */
int h_truck_put(struct http_req *req, struct http_res *res)
{
    struct store_truck k;
    json_t *body;
    int created = 0, rc = http_body_json(req, &body, &res->err);

    if (rc != RP_OK)
        return rc;
    memset(&k, 0, sizeof k);
    rc = code_ok(http_param(req, "code"), &res->err);
    if (rc == RP_OK)
        snprintf(k.code, sizeof k.code, "%s", http_param(req, "code"));
    if (rc == RP_OK)
        rc = http_json_copy(body, "entity", k.entity_code, sizeof k.entity_code, 1, &res->err);
    if (rc == RP_OK)
        rc = http_json_copy(body, "plate", k.plate, sizeof k.plate, 1, &res->err);
    if (rc == RP_OK)
        rc = active_flag(body, &k.active, &res->err);
    if (rc == RP_OK)
        rc = tows_truck_put(req->app, req->w, &req->who, &k, &created, &res->err);
    json_decref(body);
    if (rc != RP_OK)
        return rc;
    return http_reply_json_new(res, created ? 201 : 200,
                               json_pack("{s:s, s:s, s:s, s:b, s:s}", "code", k.code, "entity",
                                         k.entity_code, "plate", k.plate, "active", k.active,
                                         "updated_at", k.updated_at));
}

int h_truck_delete(struct http_req *req, struct http_res *res)
{
    int rc = tows_truck_delete(req->app, req->w, &req->who, http_param(req, "code"), &res->err);
    return rc == RP_OK ? http_reply_json_new(res, 200, json_pack("{s:s}", "deleted",
                                                                 http_param(req, "code")))
                       : rc;
}

/* POST /api/v1/trucks/{code}/positions {"positions": [{lat, lon, at, speed_kmh?, heading?}]} */
int h_truck_positions(struct http_req *req, struct http_res *res)
{
    struct tows_posted p;
    json_t *body;
    int rc = http_body_json(req, &body, &res->err);

    if (rc != RP_OK)
        return rc;
    rc = tows_positions_add(req->app, req->w, &req->who, http_param(req, "code"),
                            json_object_get(body, "positions"), &p, &res->err);
    json_decref(body);
    if (rc != RP_OK)
        return rc;
    if (p.accepted + p.duplicates == 0) {
        json_t *first = json_array_get(p.errors, 0);
        rc = rp_err_set(&res->err, RP_INVALID_DATA, "no point was kept; the first: %s",
                        json_string_value(json_object_get(first, "message")));
        json_decref(p.errors);
        return rc;
    }
    return http_reply_json_new(res, 200,
                               json_pack("{s:I, s:I, s:I, s:o, s:o?}", "accepted",
                                         (json_int_t)p.accepted, "duplicates",
                                         (json_int_t)p.duplicates, "rejected",
                                         (json_int_t)p.rejected, "errors", p.errors,
                                         "arrived_tow",
                                         p.arrived_tow ? json_integer(p.arrived_tow) : NULL));
}

int h_truck_track(struct http_req *req, struct http_res *res)
{
    json_t *out;
    int rc = tows_track_json(req->app->tows, req->w, &req->who, http_param(req, "code"),
                             http_query(req, "since"), &out, &res->err);
    if (rc != RP_OK)
        return rc;
    rc = http_reply_json_new(res, 200, out);
    res->content_type = "application/geo+json";
    return rc;
}

/* ---- tows ---- */

static int tow_id(struct http_req *req, int64_t *id, struct rp_err *err)
{
    const char *s = http_param(req, "id");
    char *end;
    long long v = s ? strtoll(s, &end, 10) : 0;

    if (!s || !*s || *end || v <= 0)
        return rp_err_set(err, RP_NOT_FOUND, "no tow %.20s", s ? s : "");
    *id = v;
    return RP_OK;
}

static int reply_tow(struct http_req *req, struct http_res *res, int64_t id, int status)
{
    json_t *out;
    int rc = tows_tow_json(req->app, req->w, &req->who, id, &out, &res->err);
    return rc == RP_OK ? http_reply_json_new(res, status, out) : rc;
}

/* POST /api/v1/tows {plate, vehicle: {make, colour, type}, lat, lon, address?, reason, ticket,
 * truck, yard, report_id?} */
int h_tows_create(struct http_req *req, struct http_res *res)
{
    struct tows_input in = {0};
    json_t *body, *vehicle;
    char loc[48];
    int64_t id = 0;
    int rc = http_body_json(req, &body, &res->err);

    if (rc != RP_OK)
        return rc;
    vehicle = json_object_get(body, "vehicle");
    rc = http_json_str(body, "plate", 64, 1, &in.plate, &res->err);
    if (rc == RP_OK && vehicle && !json_is_object(vehicle))
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "vehicle is {make, colour, type}");
    if (rc == RP_OK && vehicle)
        rc = http_json_str(vehicle, "make", 63, 0, &in.make, &res->err);
    if (rc == RP_OK && vehicle)
        rc = http_json_str(vehicle, "colour", 31, 0, &in.colour, &res->err);
    if (rc == RP_OK && vehicle)
        rc = http_json_str(vehicle, "type", 31, 0, &in.vehicle_type, &res->err);
    if (rc == RP_OK)
        rc = number(body, "lat", 1, 0, -90, 90, &in.lat, &res->err);
    if (rc == RP_OK)
        rc = number(body, "lon", 1, 0, -180, 180, &in.lon, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "address", STORE_TEXT_MAX - 1, 0, &in.address, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "reason", STORE_TEXT_MAX - 1, 1, &in.reason, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "ticket", STORE_TICKET_MAX - 1, 1, &in.ticket, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "truck", STORE_CODE_MAX - 1, 1, &in.truck, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "yard", STORE_CODE_MAX - 1, 1, &in.yard, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "report_id", STORE_CASE_MAX - 1, 0, &in.report, &res->err);
    if (rc == RP_OK)
        rc = tows_create_tow(req->app, req->w, &req->who, &in, &id, &res->err);
    json_decref(body);
    if (rc != RP_OK)
        return rc;
    snprintf(loc, sizeof loc, "/api/v1/tows/%lld", (long long)id);
    http_header_add(res, "Location", loc);
    return reply_tow(req, res, id, 201);
}

/* GET /api/v1/tows?plate=&status=&limit=&cursor= */
int h_tows_list(struct http_req *req, struct http_res *res)
{
    double limit, cursor;
    json_t *out;
    int rc = http_query_double(req, "limit", 50, 1, TOWS_LIST_MAX, &limit, &res->err);

    if (rc == RP_OK)
        rc = http_query_double(req, "cursor", 0, 0, 9e15, &cursor, &res->err);
    if (rc == RP_OK)
        rc = tows_list_json(req->app->tows, req->w, &req->who, http_query(req, "plate"),
                            http_query(req, "status"), (int64_t)cursor, (int)limit, &out,
                            &res->err);
    return rc == RP_OK ? http_reply_json_new(res, 200, out) : rc;
}

int h_tow_get(struct http_req *req, struct http_res *res)
{
    int64_t id = 0;
    int rc = tow_id(req, &id, &res->err);
    return rc == RP_OK ? reply_tow(req, res, id, 200) : rc;
}

/* POST /api/v1/tows/{id}/status {status, note?} */
int h_tow_status(struct http_req *req, struct http_res *res)
{
    const char *status, *note;
    json_t *body;
    int64_t id = 0;
    int rc = tow_id(req, &id, &res->err);

    if (rc != RP_OK || (rc = http_body_json(req, &body, &res->err)) != RP_OK)
        return rc;
    rc = http_json_str(body, "status", 15, 1, &status, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "note", 1000, 0, &note, &res->err);
    if (rc == RP_OK)
        rc = tows_set_status(req->app, req->w, &req->who, id, status, note, &res->err);
    json_decref(body);
    return rc == RP_OK ? reply_tow(req, res, id, 200) : rc;
}

/* GET /api/v1/tows/lookup?plate=[&ticket=] - anonymous, rate-limited per address on its own
 * bucket (--lookup-rate); the plate never reaches the log (the access line has no query). */
int h_tows_lookup(struct http_req *req, struct http_res *res)
{
    char *body = NULL;
    size_t len = 0;
    int rc = http_limit_address(req, res, HTTP_LIMIT_LOOKUP, req->app->cfg.lookup_rate,
                                APP_LOOKUP_BURST);

    if (rc != RP_OK) {
        tows_count_limited(req->app->tows);
        return rc;
    }
    rc = tows_lookup(req->app->tows, req->w, http_query(req, "plate"), http_query(req, "ticket"),
                     &body, &len, &res->err);
    if (rc != RP_OK)
        return rc;
    http_header_add(res, "Cache-Control", "no-store");
    return http_reply_raw(res, 200, body, len);
}
