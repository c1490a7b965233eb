/*
 * server/h_open311.c - Open311 GeoReport v2 under /open311/v2/: discovery, services, service
 * definitions, requests (list, one, create from a form), tokens; each as .json or .xml.
 * Our workflow maps to open (received, assigned, in_progress) and closed (the rest), with
 * the latest history note as status_notes; agency_responsible is the routed entity and
 * expected_datetime the SLA due time. Reporter contact never appears here.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/photo.h"
#include "server/cases.h"
#include "server/citizen.h"
#include "server/h_reports.h"
#include "server/open311.h"
#include "server/routes.h"

#define REQUESTS_WINDOW_DAYS 90
#define REQUESTS_MAX         1000
#define SPEC_URL             "http://wiki.open311.org/GeoReport_v2"

/* Format from the file name, and jurisdiction_id checked when given. 0: answered (error). */
static int prologue(struct http_req *req, struct http_res *res, const char *file, char *base,
                    size_t n, enum open311_format *fmt, int *rc)
{
    const char *j = http_query(req, "jurisdiction_id");

    if (!open311_split(file, base, n, fmt)) {
        rp_err_set(&res->err, RP_NOT_FOUND, "Open311 resources end in .json or .xml");
        *rc = open311_error(res, OPEN311_XML, RP_NOT_FOUND);
        return 0;
    }
    if (j && strcmp(j, OPEN311_JURISDICTION) != 0) {
        rp_err_set(&res->err, RP_NOT_FOUND, "unknown jurisdiction_id %.60s (this is %s)", j,
                   OPEN311_JURISDICTION);
        *rc = open311_error(res, *fmt, RP_NOT_FOUND);
        return 0;
    }
    return 1;
}

/* start_date and end_date (ISO 8601) as UTC bounds; without start_date, back_s before now;
 * without end_date, now (*has_end 0). */
static int dates(struct http_req *req, long back_s, char since[32], char until[32], int *has_end,
                 struct rp_err *err)
{
    const char *start = http_query(req, "start_date"), *end = http_query(req, "end_date");
    time_t t = time(NULL);
    struct tm tm;

    *has_end = end != NULL;
    if (start && !open311_parse_time(start, since, 32))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "start_date is not ISO 8601");
    if (end && !open311_parse_time(end, until, 32))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "end_date is not ISO 8601");
    if (!end) {
        gmtime_r(&t, &tm);
        strftime(until, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if (!start) {
        t -= back_s;
        gmtime_r(&t, &tm);
        strftime(since, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    return RP_OK;
}

static json_t *service_doc(const struct store_service *sv)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "service_code", sv->code,
                     "service_name", sv->name_es, "description", sv->name_en, "metadata",
                     sv->attributes[0] != 0, "type", "realtime", "keywords", sv->group, "group",
                     sv->group);
}

static int service_add(void *ctx, const struct store_service *sv, struct rp_err *err)
{
    if (sv->active && json_array_append_new(ctx, service_doc(sv)) != 0)
        return rp_err_set(err, RP_NO_MEMORY, "services");
    return RP_OK;
}

/* ---- requests as Open311 sees them ---- */

struct notes {
    const char *last;
    char buf[1024];
};

static int note_keep(void *ctx, const struct store_history *h, struct rp_err *err)
{
    struct notes *n = ctx;

    (void)err;
    if (h->note && h->note[0] && (strcmp(h->kind, "status") == 0 ||
                                  strcmp(h->kind, "transfer") == 0)) {
        snprintf(n->buf, sizeof n->buf, "%s", h->note);
        n->last = n->buf;
    }
    return RP_OK;
}

static json_t *request_doc(struct http_req *req, const struct store_report *r)
{
    struct store_service sv;
    struct store_entity e;
    struct notes notes = {NULL, ""};
    struct rp_err err = {0};
    char requested[40], updated[40], expected[40];
    int found = 0;

    if (cases_service(req->app, req->w, r->service_code, &sv, &found, &err) != RP_OK || !found)
        snprintf(sv.name_es, sizeof sv.name_es, "%s", r->service_code);
    if (store_entity_get(req->w->store, r->entity_code, &e, &found, &err) != RP_OK || !found)
        snprintf(e.name, sizeof e.name, "%s", r->entity_code);
    store_history_each(req->w->store, r->id, note_keep, &notes, &err);
    open311_time(r->created_at, requested, sizeof requested);
    open311_time(r->updated_at, updated, sizeof updated);
    open311_time(r->due_at, expected, sizeof expected);
    json_t *photos = h_photos_json(req->w->store, r->id);
    const char *media = json_string_value(json_object_get(json_array_get(photos, 0), "url"));
    json_t *doc = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s?, s:s, s:s?, s:s, s:s, s:s, s:s?, s:f, "
                     "s:f, s:s?}",
                     "service_request_id", r->case_no, "status",
                     cases_is_open(r->status) ? "open" : "closed", "status_notes", notes.last,
                     "service_name", sv.name_es, "service_code", r->service_code, "description",
                     h_description(r, auth_may_act_for(&req->who, r->entity_code)), "agency_responsible", e.name,
                     "service_notice", NULL, "requested_datetime", requested,
                     "updated_datetime", updated, "expected_datetime", expected, "address",
                     r->address[0] ? r->address : NULL, "lat", r->lat, "long", r->lon,
                     "media_url", media);
    json_decref(photos);
    return doc;
}

struct list_ctx {
    struct http_req *req;
    json_t *list;
};

static int request_add(void *ctx, const struct store_report *r, struct rp_err *err)
{
    struct list_ctx *l = ctx;

    if (json_array_append_new(l->list, request_doc(l->req, r)) != 0)
        return rp_err_set(err, RP_NO_MEMORY, "requests");
    return RP_OK;
}

/* GET requests.fmt: service_request_id (comma list, which overrides the rest), service_code,
 * start_date, end_date (default: the last 90 days), status open|closed; at most 1000. */
static int requests_list(struct http_req *req, struct http_res *res, enum open311_format fmt)
{
    struct store_report_query q = {0};
    const char *ids = http_query(req, "service_request_id"), *status = http_query(req, "status");
    char since[32], until[32], idlist[2048];
    struct list_ctx l = {req, json_array()};
    int rc = RP_OK, has_end = 0;

    q.limit = REQUESTS_MAX;
    if (ids) {
        if (strlen(ids) + 3 > sizeof idlist)
            rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "too many service_request_id");
        snprintf(idlist, sizeof idlist, ",%s,", ids);
        q.case_nos = idlist;
    } else {
        q.service = http_query(req, "service_code");
        rc = dates(req, REQUESTS_WINDOW_DAYS * 86400L, since, until, &has_end, &res->err);
        q.since = since;
        q.until = has_end ? until : NULL;
        if (status && strcmp(status, "open") == 0)
            q.statuses = ",received,assigned,in_progress,";
        else if (status && strcmp(status, "closed") == 0)
            q.statuses = ",resolved,closed,rejected,duplicate,";
        else if (status)
            rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "status is open or closed");
    }
    if (rc == RP_OK)
        rc = l.list ? store_reports_query(req->w->store, &q, request_add, &l, &res->err)
                    : rp_err_set(&res->err, RP_NO_MEMORY, "requests");
    if (rc != RP_OK) {
        json_decref(l.list);
        return open311_error(res, fmt, rc);
    }
    return open311_reply(res, fmt, 200, "service_requests", l.list);
}

/* ---- POST requests.fmt ---- */

struct form {
    json_t *fields;   /* name -> string */
    json_t *attrs;    /* attribute[code] -> string */
    unsigned char *media; /* the `media` file part, one photo */
    size_t media_len;
    struct rp_err *err;
};

static int form_field(void *ctx, const char *name, const char *filename,
                      const char *content_type, const char *data, size_t size, uint64_t offset)
{
    struct form *f = ctx;
    json_t *dst = f->fields, *old;
    char key[64];
    const char *k = name;
    size_t n;

    (void)content_type;
    if (!name) /* libmicrohttpd's name for a part without Content-Disposition's name= */
        return rp_err_set(f->err, RP_INVALID_ARGUMENT, "a form part has no name");
    n = strlen(name);
    if (strcmp(name, "media") == 0) {
        unsigned char *p;
        if (f->media_len + size > MEDIA_MAX_BYTES)
            return rp_err_set(f->err, RP_TOO_LARGE, "media is over %ld bytes", MEDIA_MAX_BYTES);
        p = realloc(f->media, f->media_len + size + 1);
        if (!p)
            return rp_err_set(f->err, RP_NO_MEMORY, "media");
        memcpy(p + f->media_len, data, size);
        f->media = p;
        f->media_len += size;
        return RP_OK;
    }
    if (filename)
        return rp_err_set(f->err, RP_INVALID_ARGUMENT, "only `media` may be a file");
    if (strncmp(name, "attribute[", 10) == 0 && n > 11 && name[n - 1] == ']') {
        if (n - 11 >= sizeof key)
            return rp_err_set(f->err, RP_INVALID_ARGUMENT, "attribute name too long");
        memcpy(key, name + 10, n - 11);
        key[n - 11] = '\0';
        k = key;
        dst = f->attrs;
    }
    old = json_object_get(dst, k);
    if (offset && old) { /* a value in several chunks */
        size_t have = json_string_length(old);
        char *joined = malloc(have + size + 1);
        if (!joined)
            return rp_err_set(f->err, RP_NO_MEMORY, "form");
        memcpy(joined, json_string_value(old), have);
        memcpy(joined + have, data, size);
        joined[have + size] = '\0';
        json_object_set_new(dst, k, json_string(joined));
        free(joined);
    } else {
        json_t *v = json_stringn(data, size);
        if (!v)
            return rp_err_set(f->err, RP_INVALID_ARGUMENT, "%.60s is not UTF-8 text", k);
        json_object_set_new(dst, k, v);
    }
    return RP_OK;
}

static const char *field(struct form *f, const char *name)
{
    const char *v = json_string_value(json_object_get(f->fields, name));
    return v && v[0] ? v : NULL;
}

/* A POSTed form, with its api_key (identifying an anonymous caller) and jurisdiction_id
 * checked. */
static int form_read(struct http_req *req, struct form *f, struct rp_err *err)
{
    const char *key, *j;
    int rc = f->fields && f->attrs ? http_body_form(req, form_field, f, err) : RP_NO_MEMORY;

    if (rc == RP_OK && (key = field(f, "api_key")) != NULL && req->who.role == AUTH_ANONYMOUS)
        rc = auth_identify_key(req->w->store, key, &req->who, err);
    if (rc == RP_OK && (j = field(f, "jurisdiction_id")) && strcmp(j, OPEN311_JURISDICTION) != 0)
        rc = rp_err_set(err, RP_NOT_FOUND, "unknown jurisdiction_id %.60s", j);
    return rc;
}

static int field_number(struct form *f, const char *name, double min, double max, double *out,
                        struct rp_err *err)
{
    const char *v = field(f, name);
    char *end;

    if (!v)
        return rp_err_set(err, RP_INVALID_COORDINATES,
                          "lat and long are required (this server does not geocode addresses)");
    *out = strtod(v, &end);
    if (end == v || *end || !(*out >= min && *out <= max))
        return rp_err_set(err, RP_INVALID_COORDINATES, "%s must be a number from %g to %g", name,
                          min, max);
    return RP_OK;
}

/* The rest of the case from the form, once service_code is there and in->nphotos is known:
 * strings point into f, the reporter's name into name. */
static int form_case(struct form *f, struct cases_input *in, char name[STORE_NAME_MAX],
                     struct rp_err *err)
{
    const char *first = field(f, "first_name"), *last = field(f, "last_name");
    int rc = RP_OK;

    /* without lat/long, the photo's EXIF position stands in (and only then) */
    in->has_point = !in->nphotos || field(f, "lat") || field(f, "long");
    if (in->has_point)
        rc = field_number(f, "lat", -90, 90, &in->lat, err);
    if (rc == RP_OK && in->has_point)
        rc = field_number(f, "long", -180, 180, &in->lon, err);
    in->description = field(f, "description");
    in->address = field(f, "address_string");
    in->device_id = field(f, "device_id");
    in->reporter_email = field(f, "email");
    in->reporter_phone = field(f, "phone");
    snprintf(name, STORE_NAME_MAX, "%s%s%s", first ? first : "", first && last ? " " : "",
             last ? last : "");
    in->reporter_name = name[0] ? name : NULL;
    in->attributes = json_object_size(f->attrs) ? f->attrs : NULL;
    if (rc == RP_OK && ((in->description && strlen(in->description) > CASES_DESC_MAX) ||
                        (in->address && strlen(in->address) >= STORE_TEXT_MAX) ||
                        (in->reporter_email && strlen(in->reporter_email) >= STORE_NAME_MAX) ||
                        (in->reporter_phone && strlen(in->reporter_phone) >= 64) ||
                        (in->device_id && strlen(in->device_id) >= STORE_NAME_MAX) ||
                        strlen(in->service_code) >= STORE_CODE_MAX))
        rc = rp_err_set(err, RP_INVALID_ARGUMENT, "a field is too long");
    return rc;
}

int h_open311_form_check(struct http_req *req, struct rp_err *err)
{
    struct form f = {json_object(), json_object(), NULL, 0, err};
    struct cases_input in = {0};
    char name[STORE_NAME_MAX];
    int rc = f.fields && f.attrs ? http_body_form(req, form_field, &f, err) : RP_NO_MEMORY;

    in.service_code = field(&f, "service_code");
    if (rc == RP_OK && !in.service_code)
        rc = rp_err_set(err, RP_INVALID_ARGUMENT, "service_code is required");
    in.nphotos = f.media != NULL; /* as if the photo had decoded */
    if (rc == RP_OK)
        rc = form_case(&f, &in, name, err);
    json_decref(f.fields);
    json_decref(f.attrs);
    free(f.media);
    return rc;
}

static int requests_create(struct http_req *req, struct http_res *res, enum open311_format fmt)
{
    static _Thread_local struct cases_created c;
    struct form f = {json_object(), json_object(), NULL, 0, &res->err};
    static _Thread_local struct media_photo photo;
    int nphotos = 0;
    const char *idem = http_header(req, "Idempotency-Key");
    struct cases_input in = {0};
    unsigned char hash[STORE_HASH_LEN];
    char name[STORE_NAME_MAX];
    json_t *doc;
    int rc;

    rc = form_read(req, &f, &res->err);
    in.service_code = field(&f, "service_code");
    if (rc == RP_OK && !in.service_code)
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "service_code is required");
    if (rc == RP_OK && f.media) {
        rc = media_photo_process(f.media, f.media_len, &photo, &res->err);
        nphotos = rc == RP_OK;
    }
    in.photos = &photo;
    in.nphotos = nphotos;
    if (rc == RP_OK)
        rc = form_case(&f, &in, name, &res->err);
    if (rc == RP_OK && idem) {
        json_t *all = json_pack("{s:O, s:O, s:s}", "fields", f.fields, "attributes", f.attrs,
                                "media", nphotos ? photo.sha256 : "");
        char *canon = all ? json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!canon || !auth_sha256(canon, strlen(canon), hash))
            rc = rp_err_set(&res->err, RP_NO_MEMORY, "request hash");
        free(canon);
        json_decref(all);
        in.idempotency_key = idem;
        in.body_hash = hash;
    }
    if (rc == RP_OK)
        rc = cases_create(req->app, req->w, &req->who, &in, &c, &res->err);
    json_decref(f.fields);
    json_decref(f.attrs);
    free(f.media);
    if (nphotos)
        media_photo_free(&photo);
    json_decref(c.duplicates);
    c.duplicates = NULL;
    if (rc != RP_OK)
        return open311_error(res, fmt, rc);
    doc = json_pack("[{s:s, s:s, s:s, s:n}]", "service_request_id", c.report.case_no, "token",
                    c.token, "service_notice", "", "account_id");
    return open311_reply(res, fmt, c.replayed ? 200 : 201, "service_requests", doc);
}

/* ---- service request updates (the extension FixMyStreet polls and posts to) ---- */

#define UPDATES_MAX         1000
#define UPDATES_WINDOW_S    86400 /* without start_date: the last day */

/* Our status as the extension's lowercase words (FixMyStreet maps them to its states). */
static const char *update_status(const char *s)
{
    static const char *const map[][2] = {
        {"received", "open"},       {"assigned", "open"},   {"in_progress", "in_progress"},
        {"resolved", "fixed"},      {"closed", "closed"},   {"rejected", "no_further_action"},
        {"duplicate", "duplicate"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], s) == 0)
            return map[i][1];
    return "open";
}

static int update_add(void *ctx, const struct store_update *u, struct rp_err *err)
{
    char when[40], at[24], text[STORE_DESC_MAX + 160];
    const char *desc = u->note;

    snprintf(at, sizeof at, "%.19sZ", u->at);
    open311_time(at, when, sizeof when);
    if (!desc[0] || strcmp(u->type, "case.transfer") == 0) {
        if (strcmp(u->type, "case.transfer") == 0)
            snprintf(text, sizeof text, "Transferido a %s%s%s", u->to, desc[0] ? ": " : "", desc);
        else if (strcmp(u->type, "case.photo") == 0)
            snprintf(text, sizeof text, "Foto añadida");
        else if (strcmp(u->type, "case.tow") == 0)
            snprintf(text, sizeof text, "Grúa: %s", u->to);
        else
            snprintf(text, sizeof text, "Estado: %s", u->status);
        desc = text;
    }
    if (json_array_append_new(
            ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "update_id", u->uid,
                           "service_request_id", u->case_no, "status", update_status(u->status),
                           "updated_datetime", when, "description", desc, "media_url",
                           u->photo_url, "external_status_code", u->status)))
        return rp_err_set(err, RP_NO_MEMORY, "updates");
    return RP_OK;
}

/* GET servicerequestupdates.fmt?start_date=&end_date=: at most UPDATES_MAX, oldest first. */
static int updates_list(struct http_req *req, struct http_res *res, enum open311_format fmt)
{
    char since[32], until[32];
    json_t *list = json_array();
    int has_end, rc = list ? RP_OK : rp_err_set(&res->err, RP_NO_MEMORY, "updates");

    if (rc == RP_OK)
        rc = dates(req, UPDATES_WINDOW_S, since, until, &has_end, &res->err);
    if (rc == RP_OK && strcmp(since, until) > 0)
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "start_date is after end_date");
    if (rc == RP_OK)
        rc = store_updates_each(req->w->store, since, until, UPDATES_MAX, update_add, list,
                                &res->err);
    if (rc != RP_OK) {
        json_decref(list);
        return open311_error(res, fmt, rc);
    }
    return open311_reply(res, fmt, 200, "service_request_updates", list);
}

/* POST servicerequestupdates.fmt: a citizen's update, as FixMyStreet sends it (form fields
 * service_request_id, description, status, update_id, updated_datetime; the updater's name
 * and contact are not kept). */
static int updates_create(struct http_req *req, struct http_res *res, enum open311_format fmt)
{
    struct form f = {json_object(), json_object(), NULL, 0, &res->err};
    const char *id, *ext, *when;
    char actor[CITIZEN_ACTOR_MAX + 16], uid[40], utc[32];
    int rc, replayed = 0;

    rc = form_read(req, &f, &res->err);
    id = field(&f, "service_request_id");
    ext = field(&f, "update_id");
    when = field(&f, "updated_datetime");
    if (rc == RP_OK && f.media)
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "an update carries no file");
    if (rc == RP_OK && (!id || strlen(id) >= STORE_CASE_MAX))
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "service_request_id is required");
    if (rc == RP_OK && when && !open311_parse_time(when, utc, sizeof utc))
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "updated_datetime is not ISO 8601");
    if (rc == RP_OK && ext && strlen(ext) > CITIZEN_ACTOR_MAX - 9)
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "update_id is too long");
    snprintf(actor, sizeof actor, "%s%s", ext ? "open311:" : "citizen", ext ? ext : "");
    if (rc == RP_OK)
        rc = citizen_update(req->w, id, actor, field(&f, "status"), field(&f, "description"), uid,
                            &replayed, &res->err);
    json_decref(f.fields);
    json_decref(f.attrs);
    free(f.media);
    if (rc != RP_OK)
        return open311_error(res, fmt, rc);
    return open311_reply(res, fmt, replayed ? 200 : 201, "service_request_updates",
                         json_pack("[{s:s}]", "update_id", uid));
}

/* ---- handlers ---- */

/* GET /open311/v2/{file}: discovery, services, requests, servicerequestupdates */
int h_open311_get(struct http_req *req, struct http_res *res)
{
    enum open311_format fmt;
    char base[32];
    int rc = RP_OK;

    if (!prologue(req, res, http_param(req, "file"), base, sizeof base, &fmt, &rc))
        return rc;
    if (strcmp(base, "discovery") == 0)
        return open311_reply(
            res, fmt, 200, "discovery",
            json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:[s, s]}]}", "changeset",
                      "2026-11-23T00:00:00-05:00", "contact", "Línea 311, Panamá",
                      "key_service", "API keys: ask the 311 administrators", "endpoints",
                      "specification", SPEC_URL, "url", "/open311/v2", "changeset",
                      "2026-11-23T00:00:00-05:00", "type", "production", "formats", "text/xml",
                      "application/json"));
    if (strcmp(base, "services") == 0) {
        json_t *l = json_array();
        rc = l ? store_services_each(req->w->store, service_add, l, &res->err) : RP_NO_MEMORY;
        if (rc != RP_OK) {
            json_decref(l);
            return open311_error(res, fmt, rc);
        }
        return open311_reply(res, fmt, 200, "services", l);
    }
    if (strcmp(base, "requests") == 0)
        return requests_list(req, res, fmt);
    if (strcmp(base, "servicerequestupdates") == 0)
        return updates_list(req, res, fmt);
    rp_err_set(&res->err, RP_NOT_FOUND, "no Open311 resource %.40s", base);
    return open311_error(res, fmt, RP_NOT_FOUND);
}

/* POST /open311/v2/{file}: requests, servicerequestupdates */
int h_open311_post(struct http_req *req, struct http_res *res)
{
    enum open311_format fmt;
    char base[32];
    int rc = RP_OK;

    if (!prologue(req, res, http_param(req, "file"), base, sizeof base, &fmt, &rc))
        return rc;
    if (strcmp(base, "requests") == 0)
        return requests_create(req, res, fmt);
    if (strcmp(base, "servicerequestupdates") == 0)
        return updates_create(req, res, fmt);
    rp_err_set(&res->err, RP_NOT_FOUND, "only requests and servicerequestupdates can be posted");
    return open311_error(res, fmt, RP_NOT_FOUND);
}

/* GET /open311/v2/services/{file}: a service definition with its attributes */
int h_open311_service(struct http_req *req, struct http_res *res)
{
    struct store_service sv;
    enum open311_format fmt;
    char code[STORE_CODE_MAX];
    int found = 0, rc = RP_OK;
    json_t *attrs;

    if (!prologue(req, res, http_param(req, "file"), code, sizeof code, &fmt, &rc))
        return rc;
    rc = cases_service(req->app, req->w, code, &sv, &found, &res->err);
    if (rc == RP_OK && (!found || !sv.active))
        rc = rp_err_set(&res->err, RP_NOT_FOUND, "no service %.40s", code);
    if (rc != RP_OK)
        return open311_error(res, fmt, rc);
    attrs = sv.attributes[0] ? json_loads(sv.attributes, 0, NULL) : json_array();
    {
        json_t *a;
        size_t i;
        json_array_foreach(attrs, i, a) if (!json_object_get(a, "variable"))
            json_object_set_new(a, "variable", json_true());
    }
    return open311_reply(res, fmt, 200, "service_definition",
                         json_pack("{s:s, s:o}", "service_code", sv.code, "attributes",
                                   attrs ? attrs : json_array()));
}

/* GET /open311/v2/requests/{file}: one request */
int h_open311_request(struct http_req *req, struct http_res *res)
{
    static _Thread_local struct store_report r;
    enum open311_format fmt;
    char id[STORE_CASE_MAX];
    int found = 0, rc = RP_OK;

    if (!prologue(req, res, http_param(req, "file"), id, sizeof id, &fmt, &rc))
        return rc;
    rc = store_report_get(req->w->store, id, &r, &found, &res->err);
    if (rc == RP_OK && !found)
        rc = rp_err_set(&res->err, RP_NOT_FOUND, "no service request %.20s", id);
    if (rc != RP_OK)
        return open311_error(res, fmt, rc);
    return open311_reply(res, fmt, 200, "service_requests",
                         json_pack("[o]", request_doc(req, &r)));
}

/* GET /open311/v2/tokens/{file}: the request behind a token */
int h_open311_token(struct http_req *req, struct http_res *res)
{
    static _Thread_local struct store_report r;
    unsigned char hash[STORE_HASH_LEN];
    enum open311_format fmt;
    char token[AUTH_SECRET_MAX + 8];
    int found = 0, rc = RP_OK;

    if (!prologue(req, res, http_param(req, "file"), token, sizeof token, &fmt, &rc))
        return rc;
    rc = cases_token_hash(token, hash) ? store_report_by_token(req->w->store, hash, &r, &found,
                                                                &res->err)
                                       : RP_INTERNAL;
    if (rc == RP_OK && !found)
        rc = rp_err_set(&res->err, RP_NOT_FOUND, "no service request for this token");
    if (rc != RP_OK)
        return open311_error(res, fmt, rc);
    return open311_reply(res, fmt, 200, "service_requests",
                         json_pack("[{s:s, s:s}]", "service_request_id", r.case_no, "token",
                                   token));
}
