/*
 * tests/fuzz_json.c - libFuzzer target for the JSON bodies the API takes. Input: a shape name
 * (the first line: "report", "status", "yard", ...), '\n', then the body, sent as a real
 * application/json request (tests/fuzz_http.h) and read by http_body_json, the one gate of
 * every JSON body (jansson, duplicate keys refused, objects only).
 * Three shapes go on into the server's own readers: report (h_reports_body_check, the whole
 * of POST /api/v1/reports' parse), attributes (cases_attributes_check: {"definitions": an
 * Open311 definitions array as a service holds it, "given": a report's attributes}) and
 * positions (tows_point_parse on each of {"positions": [...]}). The other handlers read their
 * members inline before they call the store; for those the table below names the members
 * each handler reads, with the same reader (http_json_str, or http_json_copy into a buffer of
 * the handler's size), so keys, limits and buffers are fuzzed as they are used. The table
 * copies the handlers: keep it in step when a handler changes its members.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geo/locate.h"
#include "server/cases.h"
#include "server/citizen.h"
#include "server/h_reports.h"
#include "server/tows.h"
#include "tests/fuzz_http.h"

#define POINTS_MAX 64         /* positions read per input; the handler's cap is higher */
#define NOW_S      1795000000 /* a fixed clock (2026-11), so a run repeats */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SIZE_OF(type, field) sizeof(((struct type *)0)->field)

enum member_read { STR, COPY };

struct member {
    const char *parent; /* an object member holding key, or NULL for the body itself */
    const char *key;
    enum member_read read;
    size_t n; /* STR: the handler's max bytes; COPY: its buffer's size */
    int required;
};

#define MEMBERS_MAX 12

/* clang-format off */
static const struct shape {
    const char *name; /* the handler it mirrors, in the comment */
    struct member m[MEMBERS_MAX];
} shapes[] = {
    /* h_report_status */
    { "status", {{NULL, "status", STR, 16, 1}, {NULL, "note", STR, 1000, 0},
                 {NULL, "duplicate_of", STR, STORE_CASE_MAX - 1, 0}} },
    /* h_report_transfer */
    { "transfer", {{NULL, "entity", STR, STORE_CODE_MAX - 1, 1}, {NULL, "reason", STR, 1000, 1}} },
    /* h_report_confirm */
    { "confirm", {{NULL, "device_id", STR, STORE_NAME_MAX - 1, 0}} },
    /* h_report_rating (score and reopen are typed checks) */
    { "rating", {{NULL, "comment", STR, CITIZEN_COMMENT_MAX, 0},
                 {NULL, "reason", STR, CITIZEN_COMMENT_MAX, 0}} },
    /* h_followup_done */
    { "followup", {{NULL, "note", STR, CITIZEN_COMMENT_MAX, 0}} },
    /* h_keys_create */
    { "key", {{NULL, "role", STR, STORE_ROLE_MAX - 1, 1},
              {NULL, "entity", STR, STORE_CODE_MAX - 1, 0},
              {NULL, "name", STR, STORE_NAME_MAX - 1, 1}} },
    /* h_service_put */
    { "service", {{NULL, "name_es", COPY, SIZE_OF(store_service, name_es), 1},
                  {NULL, "name_en", COPY, SIZE_OF(store_service, name_en), 1},
                  {NULL, "group", COPY, SIZE_OF(store_service, group), 1},
                  {NULL, "national_entity", COPY, STORE_CODE_MAX, 1}} },
    /* h_entity_put */
    { "entity", {{NULL, "name", COPY, SIZE_OF(store_entity, name), 1},
                 {NULL, "kind", COPY, SIZE_OF(store_entity, kind), 1},
                 {NULL, "area", COPY, SIZE_OF(store_entity, area_code), 0}} },
    /* h_catalogue.c parse_rule */
    { "rule", {{NULL, "service_code", COPY, SIZE_OF(store_rule, service_code), 1},
               {NULL, "area", COPY, SIZE_OF(store_rule, area_code), 0},
               {NULL, "entity", COPY, SIZE_OF(store_rule, entity_code), 0},
               {NULL, "note", COPY, SIZE_OF(store_rule, note), 0}} },
    /* h_yard_put (lat, lon, radius_m, fees and active are typed checks) */
    { "yard", {{NULL, "name", COPY, SIZE_OF(store_yard, name), 1},
               {NULL, "address", COPY, SIZE_OF(store_yard, address), 1},
               {"hours", "es", COPY, SIZE_OF(store_yard, hours_es), 1},
               {"hours", "en", COPY, SIZE_OF(store_yard, hours_es), 1},
               {"documents", "es", COPY, SIZE_OF(store_yard, documents_es), 1},
               {"documents", "en", COPY, SIZE_OF(store_yard, documents_es), 1},
               {NULL, "phone", COPY, SIZE_OF(store_yard, phone), 0}} },
    /* h_truck_put */
    { "truck", {{NULL, "entity", COPY, SIZE_OF(store_truck, entity_code), 1},
                {NULL, "plate", COPY, SIZE_OF(store_truck, plate), 1}} },
    /* h_tows_create */
    { "tow", {{NULL, "plate", STR, 64, 1}, {"vehicle", "make", STR, 63, 0},
              {"vehicle", "colour", STR, 31, 0}, {"vehicle", "type", STR, 31, 0},
              {NULL, "address", STR, STORE_TEXT_MAX - 1, 0},
              {NULL, "reason", STR, STORE_TEXT_MAX - 1, 1},
              {NULL, "ticket", STR, STORE_TICKET_MAX - 1, 1},
              {NULL, "truck", STR, STORE_CODE_MAX - 1, 1},
              {NULL, "yard", STR, STORE_CODE_MAX - 1, 1},
              {NULL, "report_id", STR, STORE_CASE_MAX - 1, 0}} },
    /* h_tow_status */
    { "tow_status", {{NULL, "status", STR, 15, 1}, {NULL, "note", STR, 1000, 0}} },
};
/* clang-format on */

/* the failure always says why, success never */
static void said(int rc, const struct rp_err *err)
{
    if ((rc == RP_OK) != (err->code == RP_OK))
        abort();
}

static void member_read(json_t *body, const struct member *m)
{
    json_t *o = m->parent ? json_object_get(body, m->parent) : body;
    struct rp_err err = {0};
    const char *v = NULL;
    char *buf;
    int rc;

    if (!json_is_object(o)) /* the handlers refuse a non-object parent before its members */
        return;
    if (m->read == STR) {
        rc = http_json_str(o, m->key, m->n, m->required, &v, &err);
        said(rc, &err);
        if (rc == RP_OK && v && (strlen(v) > m->n || !v[0]))
            abort();
        return;
    }
    buf = malloc(m->n); /* exactly the handler's size: ASan sees a write past it */
    if (!buf)
        return;
    buf[0] = '\0';
    rc = http_json_copy(o, m->key, buf, m->n, m->required, &err);
    said(rc, &err);
    if (memchr(buf, '\0', m->n) == NULL)
        abort();
    free(buf);
}

/* {"definitions": [...], "given": {...}}, the definitions as h_service_put stores them */
static void attributes(json_t *body)
{
    static struct store_service sv; /* 4 KB of definitions: off the fuzzer's stack */
    json_t *defs = json_object_get(body, "definitions"), *given = json_object_get(body, "given");
    struct rp_err err = {0};
    char *t;

    if (!json_is_object(given))
        return;
    memset(&sv, 0, sizeof sv);
    memcpy(sv.code, "fuzz", 5);
    t = json_is_array(defs) ? json_dumps(defs, JSON_COMPACT) : NULL;
    if (t && strlen(t) < sizeof sv.attributes)
        memcpy(sv.attributes, t, strlen(t) + 1);
    free(t);
    said(cases_attributes_check(&sv, given, &err), &err);
}

static void positions(json_t *body)
{
    json_t *points = json_object_get(body, "positions"), *p;
    size_t i;

    json_array_foreach(points, i, p)
    {
        struct store_position pos;
        struct rp_err err = {0};
        int rc;
        if (i == POINTS_MAX)
            break;
        memset(&pos, 0, sizeof pos);
        rc = tows_point_parse(p, NOW_S, &pos, &err);
        said(rc, &err);
        /* a kept point has a place and a time the store sorts by: 2026-12-01T10:00:00.000Z */
        if (rc == RP_OK && (!geo_lonlat_valid(pos.lon, pos.lat) || strlen(pos.at) != 24 ||
                            pos.at[10] != 'T' || pos.at[19] != '.' || pos.at[23] != 'Z'))
            abort();
    }
}

struct job {
    const char *shape;
    size_t shape_len;
};

static int is(const struct job *j, const char *name)
{
    return strlen(name) == j->shape_len && memcmp(j->shape, name, j->shape_len) == 0;
}

static void check(struct http_req *req, void *ctx)
{
    const struct job *j = ctx;
    struct rp_err err = {0};
    json_t *body = NULL;
    int rc;

    if (is(j, "report")) {
        said(h_reports_body_check(req, &err), &err);
        return;
    }
    rc = http_body_json(req, &body, &err);
    said(rc, &err);
    if (rc != RP_OK)
        return;
    if (!json_is_object(body)) /* http_body_json's promise */
        abort();
    if (is(j, "attributes"))
        attributes(body);
    else if (is(j, "positions"))
        positions(body);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        if (is(j, shapes[s].name))
            for (int k = 0; k < MEMBERS_MAX && shapes[s].m[k].key; k++)
                member_read(body, &shapes[s].m[k]);
    json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char target[] = "/api/v1/reports", ct[] = "application/json";
    struct job j;
    const unsigned char *body;
    size_t len;

    fuzz_http_split(data, size, &j.shape, &j.shape_len, &body, &len);
    fuzz_http_run("POST", target, sizeof target - 1, ct, sizeof ct - 1, body, len, check, &j);
    return 0;
}
