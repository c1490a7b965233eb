/*
 * server/h_reports.c - the native reports API: create (JSON, or multipart with a `report`
 * part), read one, list as GeoJSON with keyset pagination, status changes, transfers,
 * history, "me too", and the routing preview. Reporter contact and device id appear only for
 * staff of the case's entity and admins (auth_may_act_for).
 */
#include "server/h_reports.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/photo.h"
#include "server/cases.h"
#include "server/routes.h"

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX     1000

/* ---- rendering ---- */

static int photo_add(void *ctx, const struct store_photo *p, struct rp_err *err)
{
    char url[100], thumb[100];

    snprintf(url, sizeof url, "/media/%s.jpg", p->sha256);
    snprintf(thumb, sizeof thumb, "/media/%s_t.jpg", p->sha256);
    if (json_array_append_new(ctx, json_pack("{s:s, s:s, s:i, s:i, s:s}", "url", url,
                                             "thumbnail_url", thumb, "width", p->width,
                                             "height", p->height, "kind", p->kind)) != 0)
        return rp_err_set(err, RP_NO_MEMORY, "photos");
    return RP_OK;
}

json_t *h_photos_json(struct store *s, int64_t report_id)
{
    struct rp_err err = {0};
    json_t *l = json_array();

    if (l && store_photos_each(s, report_id, photo_add, l, &err) != RP_OK) {
        json_decref(l);
        return json_array();
    }
    return l;
}

static json_t *area_ref(const struct app *app, const char *code)
{
    const struct geo_area *a = code[0] ? geo_index_find(app->areas, code) : NULL;

    if (!code[0])
        return json_null();
    return json_pack("{s:s, s:s?}", "code", code, "name", a ? a->name : NULL);
}

json_t *h_location_json(const struct app *app, const struct store_report *r)
{
    json_t *o = json_pack("{s:f, s:f, s:o, s:o, s:o, s:s}", "lat", r->lat, "lon", r->lon,
                          "provincia", area_ref(app, r->area[2]), "distrito",
                          area_ref(app, r->area[1]), "corregimiento", area_ref(app, r->area[0]),
                          "source", r->location_source);
    if (o && r->snapped_m > 0)
        json_object_set_new(o, "snapped_m", json_real(r->snapped_m));
    return o;
}

json_t *h_routing_json(const struct store_entity *e, const struct store_rule *rule)
{
    json_t *rj = rule && rule->id
                     ? json_pack("{s:I, s:s?, s:s, s:b, s:i, s:s?}", "id", (json_int_t)rule->id,
                                 "area", rule->area_code[0] ? rule->area_code : NULL, "scope",
                                 rule->area_code[0] ? "area" : "national", "to_municipality",
                                 rule->to_municipality, "priority", rule->priority, "note",
                                 rule->note[0] ? rule->note : NULL)
                     : json_null();
    return json_pack("{s:{s:s, s:s}, s:o}", "entity", "code", e->code, "name", e->name, "rule",
                     rj);
}

/* The case as the caller may see it; e and rule when the caller has them (else looked up);
 * no_photos when the caller knows there are none (a case it has just created without any). */
static json_t *report_json(struct http_req *req, const struct store_report *r,
                           const struct store_entity *known_e, const struct store_rule *known_rule,
                           int no_photos)
{
    struct store_entity e;
    struct store_rule rule;
    struct rp_err err = {0};
    int found = 0, mine = auth_may_act_for(&req->who, r->entity_code);
    json_t *o, *attrs;

    if (known_e) {
        e = *known_e;
    } else if (store_entity_get(req->w->store, r->entity_code, &e, &found, &err) != RP_OK ||
               !found) {
        memset(&e, 0, sizeof e);
        snprintf(e.code, sizeof e.code, "%s", r->entity_code);
    }
    memset(&rule, 0, sizeof rule);
    if (known_rule)
        rule = *known_rule;
    else if (r->rule_id)
        store_rule_get(req->w->store, r->rule_id, &rule, &found, &err);
    attrs = r->attributes[0] ? json_loads(r->attributes, 0, NULL) : NULL;
    o = json_pack("{s:s, s:s, s:s, s:s?, s:b, s:s?, s:o, s:o, s:o, s:s, s:b, s:s, s:s, s:s?, s:i}",
                  "id", r->case_no, "service_code", r->service_code, "status", r->status,
                  "description", h_description(r, mine), "private", r->is_private, "address",
                  r->address[0] ? r->address : NULL, "attributes", attrs ? attrs : json_object(),
                  "location", h_location_json(req->app, r), "routing",
                  h_routing_json(&e, r->rule_id ? &rule : NULL), "due_at", r->due_at, "overdue",
                  r->overdue, "created_at", r->created_at, "updated_at", r->updated_at,
                  "closed_at", r->closed_at[0] ? r->closed_at : NULL, "confirmations",
                  r->confirmations);
    if (o && r->duplicate_of) {
        struct store_report *d = malloc(sizeof *d);
        if (d && store_report_by_id(req->w->store, r->duplicate_of, d, &found, &err) == RP_OK &&
            found)
            json_object_set_new(o, "duplicate_of", json_string(d->case_no));
        free(d);
    }
    if (o)
        json_object_set_new(o, "photos",
                            no_photos ? json_array() : h_photos_json(req->w->store, r->id));
    if (o && mine)
        json_object_set_new(o, "reporter",
                            json_pack("{s:s?, s:s?, s:s?, s:s?}", "name",
                                      r->reporter_name[0] ? r->reporter_name : NULL, "email",
                                      r->reporter_email[0] ? r->reporter_email : NULL, "phone",
                                      r->reporter_phone[0] ? r->reporter_phone : NULL,
                                      "device_id", r->device_id[0] ? r->device_id : NULL));
    return o;
}

const char *h_description(const struct store_report *r, int staff)
{
    return r->description[0] && (!r->is_private || staff) ? r->description : NULL;
}

json_t *h_report_json(struct http_req *req, const struct store_report *r)
{
    return report_json(req, r, NULL, NULL, 0);
}

/* ---- input ---- */

static int coord_field(json_t *o, const char *key, double min, double max, double *out,
                       struct rp_err *err)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_number(v))
        return rp_err_set(err, RP_INVALID_COORDINATES, "%s is required and must be a number",
                          key);
    *out = json_number_value(v);
    if (!isfinite(*out) || *out < min || *out > max)
        return rp_err_set(err, RP_INVALID_COORDINATES, "%s must be from %g to %g", key, min, max);
    return RP_OK;
}

/* Fills in from a report object. Strings point into body. Without lat and lon, a photo's
 * EXIF position may stand in (photos > 0). */
static int parse_report(json_t *body, int photos, struct cases_input *in, struct rp_err *err)
{
    json_t *rep = json_object_get(body, "reporter"), *attrs = json_object_get(body, "attributes");
    json_t *priv;
    int rc;

    memset(in, 0, sizeof *in);
    rc = http_json_str(body, "service_code", STORE_CODE_MAX - 1, 1, &in->service_code, err);
    in->has_point = !photos || json_object_get(body, "lat") || json_object_get(body, "lon");
    if (rc == RP_OK && in->has_point)
        rc = coord_field(body, "lat", -90, 90, &in->lat, err);
    if (rc == RP_OK && in->has_point)
        rc = coord_field(body, "lon", -180, 180, &in->lon, err);
    if (rc == RP_OK)
        rc = http_json_str(body, "description", CASES_DESC_MAX, 0, &in->description, err);
    if (rc == RP_OK)
        rc = http_json_str(body, "address", STORE_TEXT_MAX - 1, 0, &in->address, err);
    if (rc == RP_OK)
        rc = http_json_str(body, "device_id", STORE_NAME_MAX - 1, 0, &in->device_id, err);
    if (rc == RP_OK && rep && !json_is_null(rep) && !json_is_object(rep))
        rc = rp_err_set(err, RP_INVALID_ARGUMENT, "reporter must be an object");
    if (rc == RP_OK && json_is_object(rep)) {
        rc = http_json_str(rep, "name", STORE_NAME_MAX - 1, 0, &in->reporter_name, err);
        if (rc == RP_OK)
            rc = http_json_str(rep, "email", STORE_NAME_MAX - 1, 0, &in->reporter_email, err);
        if (rc == RP_OK)
            rc = http_json_str(rep, "phone", 63, 0, &in->reporter_phone, err);
        if (rc == RP_OK && in->reporter_email && !strchr(in->reporter_email, '@'))
            rc = rp_err_set(err, RP_INVALID_ARGUMENT, "reporter.email is not an address");
    }
    if (rc == RP_OK && (priv = json_object_get(body, "private")) && !json_is_null(priv)) {
        if (!json_is_boolean(priv))
            rc = rp_err_set(err, RP_INVALID_ARGUMENT, "private is true or false");
        else
            in->is_private = json_is_true(priv);
    }
    if (rc == RP_OK && attrs && !json_is_null(attrs)) {
        if (!json_is_object(attrs))
            rc = rp_err_set(err, RP_INVALID_ARGUMENT, "attributes must be an object");
        else
            in->attributes = attrs;
    }
    return rc;
}

struct upload {
    unsigned char *data;
    size_t len;
};

struct multipart {
    char *report; /* the `report` part, accumulated */
    size_t len;
    struct upload photo[CASES_PHOTOS_MAX];
    int nphotos;
    const char *photo_name; /* the form field photos come in: "photo" (Open311: "media") */
    struct rp_err *err;
};

static int append(unsigned char **buf, size_t *len, const char *data, size_t size,
                  size_t max, struct rp_err *err)
{
    unsigned char *p;

    if (*len + size > max)
        return rp_err_set(err, RP_TOO_LARGE, "a form part is over %zu bytes", max);
    p = realloc(*buf, *len + size + 1);
    if (!p)
        return rp_err_set(err, RP_NO_MEMORY, "form part");
    memcpy(p + *len, data, size);
    *buf = p;
    *len += size;
    p[*len] = '\0';
    return RP_OK;
}

static int multipart_part(void *ctx, const char *name, const char *filename,
                          const char *content_type, const char *data, size_t size,
                          uint64_t offset)
{
    struct multipart *m = ctx;

    (void)filename, (void)content_type;
    if (!name) /* libmicrohttpd's name for a part without Content-Disposition's name= */
        return rp_err_set(m->err, RP_INVALID_ARGUMENT, "a form part has no name");
    if (strcmp(name, m->photo_name) == 0) {
        if (offset == 0 && ++m->nphotos > CASES_PHOTOS_MAX)
            return rp_err_set(m->err, RP_INVALID_ARGUMENT, "at most %d photos",
                              CASES_PHOTOS_MAX);
        struct upload *u = &m->photo[m->nphotos - 1];
        return append(&u->data, &u->len, data, size, MEDIA_MAX_BYTES, m->err);
    }
    if (strcmp(name, "report") != 0)
        return rp_err_set(m->err, RP_INVALID_ARGUMENT, "unexpected form part %.40s", name);
    return append((unsigned char **)&m->report, &m->len, data, size, APP_BODY_MAX_BYTES, m->err);
}

static void multipart_free(struct multipart *m)
{
    free(m->report);
    for (int i = 0; i < m->nphotos && i < CASES_PHOTOS_MAX; i++)
        free(m->photo[i].data);
}

/* Every photo through the pipeline before anything is stored: one bad photo, no case. */
static int process_photos(struct multipart *m, struct media_photo *out, int *n,
                          struct rp_err *err)
{
    *n = 0;
    for (int i = 0; i < m->nphotos; i++) {
        int rc = media_photo_process(m->photo[i].data, m->photo[i].len, &out[i], err);
        if (rc != RP_OK) {
            char what[32];
            snprintf(what, sizeof what, "photo %d: ", i + 1);
            memmove(err->msg + strlen(what), err->msg, sizeof err->msg - strlen(what) - 1);
            memcpy(err->msg, what, strlen(what));
            err->msg[sizeof err->msg - 1] = '\0';
            return rc;
        }
        (*n)++;
    }
    return RP_OK;
}

static int read_body(struct http_req *req, struct multipart *m, json_t **out, struct rp_err *err)
{
    json_error_t je;
    int rc;

    if (!http_content_type_is(req, "multipart/form-data")) {
        if (req->body_len > APP_BODY_MAX_BYTES)
            return rp_err_set(err, RP_TOO_LARGE, "a JSON report is at most %d bytes",
                              APP_BODY_MAX_BYTES);
        return http_body_json(req, out, err);
    }
    rc = http_body_form(req, multipart_part, m, err);
    if (rc == RP_OK && !m->report)
        rc = rp_err_set(err, RP_INVALID_ARGUMENT, "the form has no `report` part");
    if (rc == RP_OK) {
        *out = json_loadb(m->report, m->len, JSON_REJECT_DUPLICATES, &je);
        if (!*out || !json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            rc = rp_err_set(err, RP_INVALID_JSON, "the report part: %s",
                            *je.text ? je.text : "not an object");
        }
    }
    return rc;
}

int h_reports_body_check(struct http_req *req, struct rp_err *err)
{
    struct multipart m = {.photo_name = "photo", .err = err};
    struct cases_input in;
    json_t *body = NULL;
    int rc = read_body(req, &m, &body, err);

    if (rc == RP_OK)
        rc = parse_report(body, m.nphotos, &in, err);
    multipart_free(&m);
    json_decref(body);
    return rc;
}

static int idem_key_ok(const char *k)
{
    size_t n = strlen(k);

    if (n == 0 || n > CASES_IDEM_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return 0;
    return 1;
}

/* POST /api/v1/reports */
int h_reports_create(struct http_req *req, struct http_res *res)
{
    static _Thread_local struct cases_created c;
    static _Thread_local struct multipart m;
    static _Thread_local struct media_photo photos[CASES_PHOTOS_MAX];
    const char *idem = http_header(req, "Idempotency-Key");
    unsigned char hash[STORE_HASH_LEN];
    struct cases_input in;
    char loc[64], *canon;
    json_t *body = NULL, *out;
    int rc, nphotos = 0;

    if (idem && !idem_key_ok(idem))
        return rp_err_set(&res->err, RP_INVALID_ARGUMENT,
                          "Idempotency-Key must be 1 to %d visible ASCII characters",
                          CASES_IDEM_KEY_MAX);
    memset(&m, 0, sizeof m);
    m.photo_name = "photo";
    m.err = &res->err;
    rc = read_body(req, &m, &body, &res->err);
    if (rc == RP_OK)
        rc = parse_report(body, m.nphotos, &in, &res->err);
    if (rc == RP_OK)
        rc = process_photos(&m, photos, &nphotos, &res->err);
    in.photos = photos;
    in.nphotos = nphotos;
    if (rc == RP_OK && idem) {
        /* the same request, however its JSON is spaced or ordered, with the same photos */
        json_t *shas = json_array();
        for (int i = 0; i < nphotos; i++)
            json_array_append_new(shas, json_string(photos[i].sha256));
        json_object_set_new(body, "\x01photos", shas);
        canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
        json_object_del(body, "\x01photos");
        rc = canon && auth_sha256(canon, strlen(canon), hash)
                 ? RP_OK
                 : rp_err_set(&res->err, RP_NO_MEMORY, "request hash");
        free(canon);
        in.idempotency_key = idem;
        in.body_hash = hash;
    }
    if (rc == RP_OK)
        rc = cases_create(req->app, req->w, &req->who, &in, &c, &res->err);
    for (int i = 0; i < nphotos; i++)
        media_photo_free(&photos[i]);
    multipart_free(&m);
    json_decref(body);
    if (rc != RP_OK) {
        json_decref(c.duplicates);
        c.duplicates = NULL;
        return rc;
    }
    out = report_json(req, &c.report, &c.route.entity, &c.route.rule, !c.replayed && !nphotos);
    if (out) {
        json_object_set_new(out, "token", json_string(c.token));
        json_object_set_new(out, "possible_duplicates", c.duplicates);
    } else {
        json_decref(c.duplicates);
    }
    c.duplicates = NULL;
    snprintf(loc, sizeof loc, "/api/v1/reports/%s", c.report.case_no);
    http_header_add(res, "Location", loc);
    http_header_add(res, "Cache-Control", "no-store");
    return http_reply_json_new(res, c.replayed ? 200 : 201, out);
}

/* GET /api/v1/reports/{id} */
int h_report_get(struct http_req *req, struct http_res *res)
{
    static _Thread_local struct store_report r;
    const char *id = http_param(req, "id");
    int found = 0, rc = store_report_get(req->w->store, id, &r, &found, &res->err);

    if (rc != RP_OK)
        return rc;
    if (!found)
        return rp_err_set(&res->err, RP_NOT_FOUND, "no case %.20s", id);
    return http_reply_json_new(res, 200, h_report_json(req, &r));
}

/* ---- list ---- */

struct list_ctx {
    struct http_req *req;
    struct http_stream body; /* the features so far, each encoded as it came */
    size_t n;
    int64_t last_id;
};

/* A list entry is flat, for maps and tables: codes, not names; the whole case (names, routing
 * rule, reporter for its entity's staff) is one GET /api/v1/reports/{id} away. */
static json_t *list_props(const struct store_report *r, int staff)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:s, s:s, s:b, s:i}",
                     "id", r->case_no, "service_code", r->service_code, "status", r->status,
                     "entity", r->entity_code, "provincia", r->area[2][0] ? r->area[2] : NULL,
                     "distrito", r->area[1][0] ? r->area[1] : NULL, "corregimiento",
                     r->area[0][0] ? r->area[0] : NULL, "description",
                     h_description(r, staff), "created_at", r->created_at,
                     "updated_at", r->updated_at, "due_at", r->due_at, "overdue", r->overdue,
                     "confirmations", r->confirmations);
}

static int list_add(void *ctx, const struct store_report *r, struct rp_err *err)
{
    struct list_ctx *l = ctx;
    json_t *props = list_props(r, auth_may_act_for(&l->req->who, r->entity_code));
    json_t *f = props ? json_pack("{s:s, s:s, s:{s:s, s:[f, f]}, s:o}", "type", "Feature", "id",
                                  r->case_no, "geometry", "type", "Point", "coordinates", r->lon,
                                  r->lat, "properties", props)
                      : NULL;

    if (l->n++ > 0)
        http_stream_text(&l->body, ",");
    http_stream_json(&l->body, f);
    if (l->body.failed)
        return rp_err_set(err, RP_NO_MEMORY, "feature");
    l->last_id = r->id;
    return RP_OK;
}

static int parse_bbox(const char *v, double b[4], struct rp_err *err)
{
    char *end;
    const char *p = v;

    for (int i = 0; i < 4; i++) {
        errno = 0;
        b[i] = strtod(p, &end);
        if (end == p || errno || !isfinite(b[i]) || (i < 3 ? *end != ',' : *end != '\0'))
            return rp_err_set(err, RP_INVALID_ARGUMENT,
                              "bbox must be min_lon,min_lat,max_lon,max_lat");
        p = end + 1;
    }
    if (b[0] > b[2] || b[1] > b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "bbox corners are out of order or range");
    return RP_OK;
}

/* A list "a,b" -> ",a,b," for the store's instr() filter; every item checked by ok(). */
static int csv_filter(const char *v, int (*ok)(const char *), char *out, size_t n,
                      const char *what, struct rp_err *err)
{
    size_t k = 0;

    out[k++] = ',';
    while (*v) {
        size_t len = strcspn(v, ",");
        char item[32];
        if (len == 0 || len >= sizeof item || k + len + 2 > n)
            return rp_err_set(err, RP_INVALID_ARGUMENT, "%s: bad list", what);
        memcpy(item, v, len);
        item[len] = '\0';
        if (ok && !ok(item))
            return rp_err_set(err, RP_INVALID_ARGUMENT, "%s: unknown value %s", what, item);
        memcpy(out + k, item, len);
        k += len;
        out[k++] = ',';
        v += len + (v[len] == ',');
    }
    out[k] = '\0';
    return RP_OK;
}

static int status_word(const char *s)
{
    return cases_is_open(s) || cases_transition_ok("received", s) || strcmp(s, "closed") == 0 ||
           strcmp(s, "received") == 0;
}

static int time_ok(const char *v)
{
    /* ISO 8601 UTC as stored: 2026-11-23 or 2026-11-23T10:00:00Z */
    size_t n = strlen(v);
    return (n == 10 || n == 20) && v[4] == '-' && v[7] == '-' && (n == 10 || v[10] == 'T');
}

int h_reports_query(struct http_req *req, struct store_report_query *q, char *statuses,
                    size_t n, struct rp_err *err)
{
    const char *v;
    double limit = LIST_LIMIT_DEFAULT, cursor = 0;
    int rc = RP_OK;

    memset(q, 0, sizeof *q);
    if ((v = http_query(req, "bbox")) != NULL) {
        rc = parse_bbox(v, q->bbox, err);
        q->has_bbox = 1;
    }
    if (rc == RP_OK && (v = http_query(req, "status")) != NULL) {
        rc = csv_filter(v, status_word, statuses, n, "status", err);
        q->statuses = statuses;
    }
    q->service = http_query(req, "service");
    q->entity = http_query(req, "entity");
    q->area = http_query(req, "area");
    q->since = http_query(req, "since");
    q->until = http_query(req, "until");
    if (rc == RP_OK && ((q->since && !time_ok(q->since)) || (q->until && !time_ok(q->until))))
        rc = rp_err_set(err, RP_INVALID_ARGUMENT,
                        "since and until are dates (2026-11-23) or UTC times (2026-11-23T10:00:00Z)");
    if (rc == RP_OK && (v = http_query(req, "overdue")) != NULL) {
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            rc = rp_err_set(err, RP_INVALID_ARGUMENT, "overdue is true or false");
        q->overdue = strcmp(v, "true") == 0;
    }
    if (rc == RP_OK)
        rc = http_query_double(req, "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, &limit, err);
    if (rc == RP_OK)
        rc = http_query_double(req, "cursor", 0, 0, 9e15, &cursor, err);
    if (rc == RP_OK) { /* after a refusal limit may hold the number refused, past any int */
        q->limit = (int)limit;
        q->before_id = (int64_t)cursor;
    }
    return rc;
}

/* GET /api/v1/reports?bbox=&status=&service=&entity=&area=&since=&until=&overdue=&limit=&cursor= */
int h_reports_list(struct http_req *req, struct http_res *res)
{
    struct store_report_query q;
    char statuses[160];
    struct list_ctx l = {req, {0}, 0, 0};
    int rc = h_reports_query(req, &q, statuses, sizeof statuses, &res->err);

    if (rc != RP_OK)
        return rc;
    /* {"type":"FeatureCollection","features":[...],"next":"<cursor>"|null}, streamed */
    http_stream_text(&l.body, "{\"type\":\"FeatureCollection\",\"features\":[");
    rc = store_reports_query(req->w->store, &q, list_add, &l, &res->err);
    if (rc != RP_OK) {
        free(l.body.buf);
        return rc;
    }
    http_stream_text(&l.body, "],\"next\":");
    http_stream_json(&l.body, l.n == (size_t)q.limit && l.last_id
                                  ? json_sprintf("%lld", (long long)l.last_id)
                                  : json_null());
    http_stream_text(&l.body, "}");
    return http_reply_stream(res, 200, &l.body);
}

/* ---- workflow ---- */

/* POST /api/v1/reports/{id}/status {status, note?, duplicate_of?} */
int h_report_status(struct http_req *req, struct http_res *res)
{
    const char *status, *note, *dup;
    json_t *body;
    int rc = http_body_json(req, &body, &res->err);

    if (rc != RP_OK)
        return rc;
    rc = http_json_str(body, "status", 16, 1, &status, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "note", 1000, 0, &note, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "duplicate_of", STORE_CASE_MAX - 1, 0, &dup, &res->err);
    if (rc == RP_OK)
        rc = cases_set_status(req->app, req->w, &req->who, http_param(req, "id"), status, note, dup,
                              &res->err);
    json_decref(body);
    return rc == RP_OK ? h_report_get(req, res) : rc;
}

/* POST /api/v1/reports/{id}/transfer {entity, reason} */
int h_report_transfer(struct http_req *req, struct http_res *res)
{
    const char *entity, *reason;
    json_t *body;
    int rc = http_body_json(req, &body, &res->err);

    if (rc != RP_OK)
        return rc;
    rc = http_json_str(body, "entity", STORE_CODE_MAX - 1, 1, &entity, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "reason", 1000, 1, &reason, &res->err);
    if (rc == RP_OK)
        rc = cases_transfer(req->app, req->w, &req->who, http_param(req, "id"), entity, reason, &res->err);
    json_decref(body);
    return rc == RP_OK ? h_report_get(req, res) : rc;
}

/* POST /api/v1/reports/{id}/confirm [{device_id}] */
int h_report_confirm(struct http_req *req, struct http_res *res)
{
    const char *device = NULL;
    json_t *body = NULL;
    int added = 0, rc = RP_OK;

    if (req->body_len) {
        rc = http_body_json(req, &body, &res->err);
        if (rc == RP_OK)
            rc = http_json_str(body, "device_id", STORE_NAME_MAX - 1, 0, &device, &res->err);
    }
    if (rc == RP_OK)
        rc = cases_confirm(req->app, req->w, http_param(req, "id"), device, &added, &res->err);
    json_decref(body);
    if (rc != RP_OK)
        return rc;
    rc = h_report_get(req, res);
    if (rc == RP_OK && res->json)
        json_object_set_new(res->json, "confirmation_added", json_boolean(added));
    return rc;
}

struct history_ctx {
    json_t *list;
    int full; /* staff of the entity / admin: who exactly */
};

static int history_add(void *ctx, const struct store_history *h, struct rp_err *err)
{
    struct history_ctx *c = ctx;
    json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s?}, s:s?, s:s?, s:s?}", "at", h->at, "kind",
                          h->kind, "actor", "role", h->actor_role, "entity", h->actor_entity,
                          "from", h->from, "to", h->to, "note", h->note);

    if (o && c->full)
        json_object_set_new(json_object_get(o, "actor"), "id", json_string(h->actor));
    if (!o || json_array_append_new(c->list, o) != 0)
        return rp_err_set(err, RP_NO_MEMORY, "history");
    return RP_OK;
}

/* GET /api/v1/reports/{id}/history */
int h_report_history(struct http_req *req, struct http_res *res)
{
    static _Thread_local struct store_report r;
    const char *id = http_param(req, "id");
    struct history_ctx c = {NULL, 0};
    int found = 0, rc = store_report_get(req->w->store, id, &r, &found, &res->err);

    if (rc != RP_OK)
        return rc;
    if (!found)
        return rp_err_set(&res->err, RP_NOT_FOUND, "no case %.20s", id);
    c.full = auth_may_act_for(&req->who, r.entity_code);
    c.list = json_array();
    rc = c.list ? store_history_each(req->w->store, r.id, history_add, &c, &res->err)
                : rp_err_set(&res->err, RP_NO_MEMORY, "history");
    if (rc != RP_OK) {
        json_decref(c.list);
        return rc;
    }
    return http_reply_json_new(res, 200, json_pack("{s:s, s:o}", "id", r.case_no, "history",
                                                   c.list));
}

/* GET /api/v1/route?service_code=&lat=&lon= : where a report would go, creating nothing. */
int h_route_preview(struct http_req *req, struct http_res *res)
{
    static _Thread_local struct store_report r;
    const char *code = http_query(req, "service_code");
    struct store_service sv;
    struct cases_route route;
    struct geo_place place;
    const char *areas[3];
    double lon, lat;
    int found = 0, rc;
    json_t *o;

    if (!code)
        return rp_err_set(&res->err, RP_INVALID_ARGUMENT, "service_code is required");
    rc = http_query_lonlat(req, &lon, &lat, &res->err);
    if (rc == RP_OK)
        rc = cases_service(req->app, req->w, code, &sv, &found, &res->err);
    if (rc == RP_OK && (!found || !sv.active))
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "unknown service_code %.40s", code);
    if (rc == RP_OK)
        rc = geo_locate(req->app->areas, &req->w->geo, lon, lat, req->app->cfg.snap_m, &place,
                        &res->err);
    if (rc != RP_OK)
        return rc;
    memset(&r, 0, sizeof r);
    cases_place_codes(&place, &r);
    r.lat = lat;
    r.lon = lon;
    snprintf(r.location_source, sizeof r.location_source, "device");
    for (int i = 0; i < 3; i++)
        areas[i] = r.area[i];
    rc = cases_route(req->app, req->w, &sv, areas, &route, &res->err);
    if (rc != RP_OK)
        return rc;
    o = json_pack("{s:s, s:o, s:o, s:i}", "service_code", sv.code, "location",
                  h_location_json(req->app, &r), "routing",
                  h_routing_json(&route.entity, &route.rule), "sla_hours", route.sla_hours);
    if (o) {
        char due[STORE_TIME_MAX];
        time_t t = time(NULL) + (time_t)route.sla_hours * 3600;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(due, sizeof due, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_object_set_new(o, "due_at", json_string(due));
    }
    return http_reply_json_new(res, 200, o);
}

/* POST /api/v1/reports/{id}/photos (multipart `photo` parts): the reporter, with the token
 * from the 201 in X-Report-Token, or staff of the case's entity ("after" pictures). */
int h_report_photos_add(struct http_req *req, struct http_res *res)
{
    static _Thread_local struct multipart m;
    static _Thread_local struct media_photo photos[CASES_PHOTOS_MAX];
    int n = 0, reporter = 0, rc;

    /* who may, before any photo is decoded */
    rc = cases_photo_access(req->w, &req->who, http_param(req, "id"),
                            http_header(req, "X-Report-Token"), &reporter, &res->err);
    if (rc != RP_OK)
        return rc;
    if (!http_content_type_is(req, "multipart/form-data"))
        return rp_err_set(&res->err, RP_UNSUPPORTED_MEDIA_TYPE,
                          "send photos as multipart/form-data `photo` parts");
    memset(&m, 0, sizeof m);
    m.photo_name = "photo";
    m.err = &res->err;
    rc = http_body_form(req, multipart_part, &m, &res->err);
    if (rc == RP_OK && m.report)
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "only `photo` parts here");
    if (rc == RP_OK)
        rc = process_photos(&m, photos, &n, &res->err);
    if (rc == RP_OK)
        rc = cases_add_photos(req->app, req->w, &req->who, http_param(req, "id"), reporter,
                              photos, n, &res->err);
    for (int i = 0; i < n; i++)
        media_photo_free(&photos[i]);
    multipart_free(&m);
    if (rc != RP_OK)
        return rc;
    rc = h_report_get(req, res);
    if (rc == RP_OK)
        res->status = 201;
    return rc;
}
