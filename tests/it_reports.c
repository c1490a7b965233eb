/*
 * tests/it_reports.c - cases over HTTP on the real server and the real Panama areas: every
 * seed routing rule from a point inside its area, creation (201 + Location, token,
 * possible duplicates), idempotent retries, the reporter's privacy, the GeoJSON list and its
 * filters and cursor, the workflow (history, invalid transitions, other entities' staff),
 * transfers, "me too", the routing preview, admin edits of the catalogue, and Open311 in JSON
 * and XML (parsed with libxml2).
 * usage: it_reports PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "it.h"

static struct it_server srv;
static char admin[128], idaan[128], aaud[128];

/* POST a report; returns the parsed reply (caller frees) and its status in *status. */
static json_t *report(const char *service, double lat, double lon, const char *extra,
                      const char *key, const char *idem, long *status)
{
    char body[1024], hdr[1024];
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct it_reply r;
    json_t *j;

    snprintf(body, sizeof body, "{\"service_code\":\"%s\",\"lat\":%.6f,\"lon\":%.6f%s%s}", service,
             lat, lon, extra ? "," : "", extra ? extra : "");
    if (key) {
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", key);
        h = curl_slist_append(h, hdr);
    }
    if (idem) {
        snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", idem);
        h = curl_slist_append(h, hdr);
    }
    it_request(&srv, "POST", "/api/v1/reports", body, strlen(body), h, &r);
    curl_slist_free_all(h);
    *status = r.status;
    j = it_json(&r);
    if (!j)
        fprintf(stderr, "   not JSON (%ld): %s\n", r.status, r.body);
    free(r.body);
    return j;
}

static const char *jstr(json_t *j, const char *path)
{
    /* "a.b.c" */
    char buf[128], *p, *save = NULL;

    snprintf(buf, sizeof buf, "%s", path);
    for (p = strtok_r(buf, ".", &save); p && j; p = strtok_r(NULL, ".", &save))
        j = json_object_get(j, p);
    return json_string_value(j);
}

static void test_each_seed_rule_routes_from_inside_its_area(void)
{
    static const struct {
        const char *service;
        double lat, lon;
        const char *entity, *why;
    } cases[] = {
        {"basura", 8.9870, -79.5270, "AAUD", "distrito Panamá"},
        {"basura", 9.0420, -79.5080, "AAUD", "distrito San Miguelito"},
        {"basura", 8.4277, -82.4309, "MUN-0406", "elsewhere: David's municipality"},
        {"basura", 8.8800, -79.7830, "MUN-1307", "elsewhere: La Chorrera's municipality"},
        /* distritos created since 2010 (INEC 2023): Volcán's town centre is in Tierras Altas,
           no longer Bugaba; Almirante is no longer part of Changuinola */
        {"basura", 8.7710, -82.6380, "MUN-0414", "Volcán: Tierras Altas's municipality"},
        {"basura", 9.3200, -82.4010, "MUN-0104", "Almirante's municipality"},
        {"ruido", 8.7710, -82.6380, "MUN-0414", "Volcán: Tierras Altas's municipality"},
        {"alumbrado", 8.4277, -82.4309, "EDECHI", "provincia Chiriquí"},
        {"alumbrado", 9.3400, -82.2420, "EDECHI", "provincia Bocas del Toro"},
        {"alumbrado", 9.3590, -79.9010, "ENSA", "provincia Colón"},
        {"alumbrado", 8.4060, -78.1470, "ENSA", "provincia Darién"},
        {"alumbrado", 9.5580, -78.9480, "ENSA", "comarca Guna Yala"},
        {"alumbrado", 8.4272, -77.5860, "ENSA", "comarca Emberá-Wounaan"},
        {"alumbrado", 9.0420, -79.5080, "ENSA", "distrito San Miguelito"},
        {"alumbrado", 8.1000, -80.9833, "EDEMET", "elsewhere (Santiago)"},
        {"alumbrado", 8.9870, -79.5270, "EDEMET", "elsewhere (Panamá city)"},
        {"arbol_caido", 9.0160, -79.5920, "ACP", "corregimiento Ancón"},
        {"arbol_caido", 8.9870, -79.5270, "MUN-0808", "elsewhere: Panamá's municipality"},
        {"fuga_agua", 7.7650, -80.2750, "IDAAN", "national"},
        {"sin_agua", 8.5180, -80.3570, "IDAAN", "national"},
        {"alcantarillado", 7.9610, -80.4290, "IDAAN", "national"},
        {"hueco", 8.2430, -80.5450, "MOP", "national"},
        {"semaforo", 8.9660, -79.5370, "ATTT", "national"},
        {"vehiculo_obstruccion", 8.9525, -79.5350, "ATTT", "national"},
        {"criadero_mosquitos", 8.1560, -77.6920, "MINSA", "national"},
        {"ruido", 8.7800, -82.4410, "MUN-0404", "the distrito's municipality (Boquete)"},
        {"contaminacion", 9.4300, -82.5170, "MIAMBIENTE", "national"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char q[256];
        struct it_reply r;
        json_t *j;
        long st;

        /* the preview and the real thing agree */
        snprintf(q, sizeof q, "/api/v1/route?service_code=%s&lat=%.4f&lon=%.4f", cases[i].service,
                 cases[i].lat, cases[i].lon);
        CHECK(it_get(&srv, q, &r) == 0);
        j = it_json(&r);
        if (r.status != 200 || !jstr(j, "routing.entity.code") ||
            strcmp(jstr(j, "routing.entity.code"), cases[i].entity) != 0)
            CHECK_REPORT("preview %s at %s: %ld %s", cases[i].service, cases[i].why, r.status,
                         r.body);
        json_decref(j);
        free(r.body);
        j = report(cases[i].service, cases[i].lat, cases[i].lon, NULL, NULL, NULL, &st);
        if (st != 201 || !jstr(j, "routing.entity.code") ||
            strcmp(jstr(j, "routing.entity.code"), cases[i].entity) != 0)
            CHECK_REPORT("%s at %s: %ld, entity %s, want %s", cases[i].service, cases[i].why, st,
                         jstr(j, "routing.entity.code"), cases[i].entity);
        CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(j, "routing"),
                                                                 "rule"),
                                                 "id")) > 0);
        json_decref(j);
    }
}

static void test_create_answers_with_case_token_and_deadline(void)
{
    long st;
    json_t *j = report("fuga_agua", 8.9960, -79.5100,
                       "\"description\":\"Tubo roto\",\"attributes\":{\"severidad\":\"grave\"},"
                       "\"reporter\":{\"name\":\"Ana Pérez\",\"email\":\"ana@example.pa\","
                       "\"phone\":\"+507 6000-0000\"},\"device_id\":\"dev-42\"",
                       NULL, NULL, &st);
    const char *id = jstr(j, "id");

    CHECK_INT_EQ(st, 201);
    CHECK(id && strlen(id) == 11 && id[4] == '-');
    CHECK(jstr(j, "token") && strncmp(jstr(j, "token"), "rpt_", 4) == 0);
    CHECK_STR_EQ(jstr(j, "status"), "received");
    CHECK_STR_EQ(jstr(j, "location.corregimiento.code"), "080809");
    CHECK_STR_EQ(jstr(j, "routing.entity.code"), "IDAAN");
    CHECK(jstr(j, "due_at") != NULL);
    CHECK_STR_EQ(jstr(j, "attributes.severidad"), "grave");
    /* anonymous creator: nothing about the reporter comes back */
    CHECK(json_object_get(j, "reporter") == NULL);
    {
        char *all = json_dumps(j, 0);
        CHECK(all && !strstr(all, "ana@example.pa"));
        free(all);
    }
    json_decref(j);

    /* bad input: 400s with the error body, and 422 for a point abroad */
    static const struct {
        const char *body;
        int status;
        const char *code;
    } bad[] = {
        {"{\"service_code\":\"nope\",\"lat\":8.98,\"lon\":-79.52}", 400, "invalid_argument"},
        {"{\"service_code\":\"basura\",\"lat\":\"8.98\",\"lon\":-79.52}", 400,
         "invalid_coordinates"},
        {"{\"service_code\":\"basura\",\"lat\":8.98}", 400, "invalid_coordinates"},
        {"{\"service_code\":\"basura\",\"lat\":9.93,\"lon\":-84.08}", 422, "outside_service_area"},
        {"{\"service_code\":\"fuga_agua\",\"lat\":8.98,\"lon\":-79.52,"
         "\"attributes\":{\"severidad\":\"enorme\"}}",
         400, "invalid_argument"},
        {"{\"service_code\":\"fuga_agua\",\"lat\":8.98,\"lon\":-79.52,"
         "\"attributes\":{\"color\":\"azul\"}}",
         400, "invalid_argument"},
        {"{\"service_code\":\"basura\",\"lat\":8.98,\"lon\":-79.52,"
         "\"reporter\":{\"email\":\"not-an-address\"}}",
         400, "invalid_argument"},
        {"{\"service_code\":\"basura\"", 400, "invalid_json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct it_reply r;
        CHECK(it_send(&srv, "POST", "/api/v1/reports", NULL, bad[i].body, &r) == 0);
        j = it_json(&r);
        if (r.status != bad[i].status || !it_error_code(j) ||
            strcmp(it_error_code(j), bad[i].code) != 0)
            CHECK_REPORT("%s: %ld %s", bad[i].body, r.status, r.body);
        json_decref(j);
        free(r.body);
    }
    /* a photo part is refused until the photo pipeline lands */
    {
        const char *mp = "--XyZ\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n"
                         "{\"service_code\":\"basura\",\"lat\":8.98,\"lon\":-79.52}\r\n"
                         "--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; "
                         "filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJPEGDATA\r\n"
                         "--XyZ--\r\n";
        struct curl_slist *h =
            curl_slist_append(NULL, "Content-Type: multipart/form-data; boundary=XyZ");
        struct it_reply r;
        CHECK(it_request(&srv, "POST", "/api/v1/reports", mp, strlen(mp), h, &r) == 0);
        CHECK_INT_EQ(r.status, 415);
        free(r.body);
        /* the same form without the photo is a case */
        const char *mp2 = "--XyZ\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n"
                          "{\"service_code\":\"basura\",\"lat\":8.98,\"lon\":-79.52}\r\n"
                          "--XyZ--\r\n";
        CHECK(it_request(&srv, "POST", "/api/v1/reports", mp2, strlen(mp2), h, &r) == 0);
        CHECK_INT_EQ(r.status, 201);
        free(r.body);
        curl_slist_free_all(h);
    }
}

static void test_idempotent_retry_returns_the_same_case(void)
{
    long st1, st2, st3;
    json_t *a = report("hueco", 8.9660, -79.5370, "\"description\":\"Hueco profundo\"", NULL,
                       "retry-7f3a", &st1);
    /* the same request, keys in another order and spaced differently */
    char body[] = "{ \"description\" : \"Hueco profundo\", \"lon\": -79.537, \"lat\": 8.966,"
                  " \"service_code\": \"hueco\" }";
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct it_reply r;
    json_t *b, *c;

    h = curl_slist_append(h, "Idempotency-Key: retry-7f3a");
    CHECK(it_request(&srv, "POST", "/api/v1/reports", body, strlen(body), h, &r) == 0);
    st2 = r.status;
    b = it_json(&r);
    free(r.body);
    curl_slist_free_all(h);
    CHECK_INT_EQ(st1, 201);
    CHECK_INT_EQ(st2, 200);
    CHECK_STR_EQ(jstr(a, "id"), jstr(b, "id"));
    CHECK_STR_EQ(jstr(a, "token"), jstr(b, "token")); /* a lost first answer loses nothing */
    /* the same key with another body: 422, and no new case */
    c = report("hueco", 8.9660, -79.5370, "\"description\":\"Otro\"", NULL, "retry-7f3a", &st3);
    CHECK_INT_EQ(st3, 422);
    CHECK_STR_EQ(it_error_code(c), "invalid_data");
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_duplicates_and_me_too(void)
{
    long st;
    json_t *a = report("semaforo", 9.0300, -79.4500, NULL, NULL, NULL, &st);
    json_t *b = report("semaforo", 9.03002, -79.45002, NULL, NULL, NULL, &st); /* ~3 m away */
    json_t *d = json_object_get(b, "possible_duplicates"), *far;
    char path[128], body[64];
    struct it_reply r;

    CHECK_INT_EQ(json_array_size(d), 1);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(d, 0), "id")), jstr(a, "id"));
    CHECK(json_real_value(json_object_get(json_array_get(d, 0), "distance_m")) < 10);
    far = report("semaforo", 9.0310, -79.4500, NULL, NULL, NULL, &st); /* ~110 m: not one */
    CHECK_INT_EQ(json_array_size(json_object_get(far, "possible_duplicates")), 0);
    /* me too, once per device */
    snprintf(path, sizeof path, "/api/v1/reports/%s/confirm", jstr(a, "id"));
    snprintf(body, sizeof body, "{\"device_id\":\"phone-1\"}");
    CHECK(it_send(&srv, "POST", path, NULL, body, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.body, "\"confirmations\":1") != NULL);
    free(r.body);
    CHECK(it_send(&srv, "POST", path, NULL, body, &r) == 0);
    CHECK(strstr(r.body, "\"confirmations\":1") != NULL);
    CHECK(strstr(r.body, "\"confirmation_added\":false") != NULL);
    free(r.body);
    json_decref(a);
    json_decref(b);
    json_decref(far);
}

static int status_to(const char *id, const char *key, const char *body, struct it_reply *r)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/reports/%s/status", id);
    return it_send(&srv, "POST", path, key, body, r);
}

static void test_workflow_history_and_transfer(void)
{
    long st;
    json_t *a = report("fuga_agua", 9.0714, -79.3835,
                       "\"reporter\":{\"name\":\"Luis\",\"phone\":\"6111-1111\"}", NULL, NULL,
                       &st);
    const char *id = jstr(a, "id");
    char path[128];
    struct it_reply r;
    json_t *j, *h;

    /* staff of another entity: 403; anonymous: 401 */
    CHECK(status_to(id, aaud, "{\"status\":\"assigned\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 403);
    free(r.body);
    CHECK(status_to(id, NULL, "{\"status\":\"assigned\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 401);
    free(r.body);
    /* IDAAN staff move it along */
    CHECK(status_to(id, idaan, "{\"status\":\"assigned\",\"note\":\"cuadrilla 3\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    CHECK(status_to(id, idaan, "{\"status\":\"closed\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 409);
    j = it_json(&r);
    CHECK_STR_EQ(it_error_code(j), "invalid_transition");
    json_decref(j);
    free(r.body);
    CHECK(status_to(id, idaan, "{\"status\":\"flying\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    free(r.body);
    CHECK(status_to(id, idaan, "{\"status\":\"in_progress\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    /* the entity's staff see the reporter; the public does not */
    j = it_json(&r);
    CHECK_STR_EQ(jstr(j, "reporter.name"), "Luis");
    json_decref(j);
    free(r.body);
    snprintf(path, sizeof path, "/api/v1/reports/%s", id);
    CHECK(it_get(&srv, path, &r) == 0);
    CHECK(strstr(r.body, "Luis") == NULL && strstr(r.body, "6111") == NULL);
    free(r.body);
    CHECK(it_send(&srv, "GET", path, aaud, NULL, &r) == 0);
    CHECK(strstr(r.body, "Luis") == NULL);
    free(r.body);
    CHECK(it_send(&srv, "GET", path, admin, NULL, &r) == 0);
    CHECK(strstr(r.body, "Luis") != NULL);
    free(r.body);

    /* misrouted: IDAAN hands it to MOP; it is received again, MOP's now */
    snprintf(path, sizeof path, "/api/v1/reports/%s/transfer", id);
    CHECK(it_send(&srv, "POST", path, idaan, "{\"entity\":\"MOP\",\"reason\":\"es un hueco\"}",
                  &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    j = it_json(&r);
    CHECK_STR_EQ(jstr(j, "routing.entity.code"), "MOP");
    CHECK_STR_EQ(jstr(j, "status"), "received");
    json_decref(j);
    free(r.body);
    /* and IDAAN may no longer touch it */
    CHECK(status_to(id, idaan, "{\"status\":\"assigned\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 403);
    free(r.body);
    CHECK(it_send(&srv, "POST", path, admin, "{\"entity\":\"NOPE\",\"reason\":\"x\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    free(r.body);
    /* admin resolves; then closed; closed is final */
    CHECK(status_to(id, admin, "{\"status\":\"resolved\",\"note\":\"reparado\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    j = it_json(&r);
    CHECK(jstr(j, "closed_at") != NULL);
    json_decref(j);
    free(r.body);
    CHECK(status_to(id, admin, "{\"status\":\"closed\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    CHECK(status_to(id, admin, "{\"status\":\"in_progress\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 409);
    free(r.body);

    /* history: every change, who (role, entity), from, to, note */
    snprintf(path, sizeof path, "/api/v1/reports/%s/history", id);
    CHECK(it_get(&srv, path, &r) == 0);
    j = it_json(&r);
    h = json_object_get(j, "history");
    CHECK_INT_EQ(json_array_size(h), 6); /* created, assigned, in_progress, transfer, resolved, closed */
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(h, 0), "kind")), "created");
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(h, 1), "note")), "cuadrilla 3");
    CHECK_STR_EQ(jstr(json_array_get(h, 1), "actor.entity"), "IDAAN");
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(h, 3), "kind")), "transfer");
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(h, 3), "from")), "IDAAN");
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(h, 3), "to")), "MOP");
    CHECK(jstr(json_array_get(h, 1), "actor.id") == NULL); /* key ids: staff/admin only */
    json_decref(j);
    free(r.body);
    /* the writes are in the audit log */
    CHECK(it_send(&srv, "GET", "/api/v1/audit?limit=1000", admin, NULL, &r) == 0);
    CHECK(strstr(r.body, "report.transfer") != NULL);
    CHECK(strstr(r.body, "report.status") != NULL);
    free(r.body);
    /* duplicate needs another case */
    {
        json_t *b = report("fuga_agua", 9.0714, -79.3836, NULL, NULL, NULL, &st);
        json_t *c = report("fuga_agua", 9.0714, -79.3837, NULL, NULL, NULL, &st);
        char body[128];
        snprintf(body, sizeof body, "{\"status\":\"duplicate\",\"duplicate_of\":\"%s\"}",
                 jstr(b, "id"));
        CHECK(status_to(jstr(c, "id"), idaan, body, &r) == 0);
        CHECK_INT_EQ(r.status, 200);
        j = it_json(&r);
        CHECK_STR_EQ(jstr(j, "duplicate_of"), jstr(b, "id"));
        json_decref(j);
        free(r.body);
        CHECK(status_to(jstr(b, "id"), idaan, "{\"status\":\"duplicate\"}", &r) == 0);
        CHECK_INT_EQ(r.status, 400);
        free(r.body);
        json_decref(b);
        json_decref(c);
    }
    json_decref(a);
}

static void test_list_filters_and_cursor(void)
{
    struct it_reply r;
    json_t *j, *f;
    char path[256], next[32] = "";
    int pages = 0, seen = 0;

    /* all IDAAN cases in the Panamá distrito, three at a time */
    do {
        snprintf(path, sizeof path, "/api/v1/reports?entity=IDAAN&area=0808&limit=3%s%s",
                 next[0] ? "&cursor=" : "", next);
        CHECK(it_get(&srv, path, &r) == 0);
        CHECK_INT_EQ(r.status, 200);
        j = it_json(&r);
        CHECK_STR_EQ(jstr(j, "type"), "FeatureCollection");
        f = json_object_get(j, "features");
        seen += (int)json_array_size(f);
        for (size_t i = 0; i < json_array_size(f); i++) {
            json_t *p = json_object_get(json_array_get(f, i), "properties");
            CHECK_STR_EQ(jstr(p, "entity"), "IDAAN");
            CHECK_STR_EQ(jstr(p, "distrito"), "0808");
            CHECK(json_object_get(p, "reporter") == NULL);
        }
        snprintf(next, sizeof next, "%s",
                 json_string_value(json_object_get(j, "next")) ? json_string_value(
                                                                     json_object_get(j, "next"))
                                                               : "");
        json_decref(j);
        free(r.body);
    } while (next[0] && ++pages < 20);
    CHECK(seen >= 3);
    /* a bbox around Tocumen catches the cases there and nothing from David */
    CHECK(it_get(&srv, "/api/v1/reports?bbox=-79.40,9.06,-79.37,9.08", &r) == 0);
    j = it_json(&r);
    f = json_object_get(j, "features");
    CHECK(json_array_size(f) >= 3);
    for (size_t i = 0; i < json_array_size(f); i++) {
        json_t *c = json_object_get(json_object_get(json_array_get(f, i), "geometry"),
                                    "coordinates");
        CHECK(json_real_value(json_array_get(c, 0)) >= -79.40);
        CHECK(json_real_value(json_array_get(c, 1)) <= 9.08);
    }
    json_decref(j);
    free(r.body);
    CHECK(it_get(&srv, "/api/v1/reports?status=closed,duplicate&service=fuga_agua", &r) == 0);
    j = it_json(&r);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "features")), 2);
    json_decref(j);
    free(r.body);
    CHECK(it_get(&srv, "/api/v1/reports?overdue=true", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    static const char *const bad[] = {"/api/v1/reports?bbox=1,2,3",
                                      "/api/v1/reports?bbox=-79,9,-80,8",
                                      "/api/v1/reports?status=lost",
                                      "/api/v1/reports?limit=5000",
                                      "/api/v1/reports?since=yesterday",
                                      "/api/v1/reports?overdue=maybe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(it_get(&srv, bad[i], &r) == 0);
        if (r.status != 400)
            CHECK_REPORT("%s: %ld", bad[i], r.status);
        free(r.body);
    }
}

/* PUT /api/v1/services/grafiti with these members after its names and group. */
static void put_grafiti(const char *members, int want_status)
{
    char body[256];
    struct it_reply r;

    snprintf(body, sizeof body,
             "{\"name_es\":\"Grafiti\",\"name_en\":\"Graffiti\",\"group\":\"aseo\",%s}",
             members);
    CHECK(it_send(&srv, "PUT", "/api/v1/services/grafiti", admin, body, &r) == 0);
    CHECK_INT_EQ(r.status, want_status);
    free(r.body);
}

/* The routing preview of graffiti at a point in David. */
static void check_grafiti_route(const char *entity, int sla_hours)
{
    struct it_reply r;
    json_t *j;

    CHECK(it_get(&srv, "/api/v1/route?service_code=grafiti&lat=8.4277&lon=-82.4309", &r) == 0);
    j = it_json(&r);
    CHECK_STR_EQ(jstr(j, "routing.entity.code"), entity);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "sla_hours")), sla_hours);
    json_decref(j);
    free(r.body);
}

static void test_catalogue_admin(void)
{
    struct it_reply r;
    json_t *j;
    char path[64];

    CHECK(it_get(&srv, "/api/v1/services", &r) == 0);
    j = it_json(&r);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "services")), 12);
    json_decref(j);
    free(r.body);
    CHECK(it_get(&srv, "/api/v1/entities/MUN-0406", &r) == 0);
    CHECK(strstr(r.body, "Municipio de David") != NULL);
    free(r.body);
    /* a new service needs its national entity; then it routes there */
    put_grafiti("\"sla_hours\":240", 400);
    put_grafiti("\"sla_hours\":2400,\"national_entity\":\"AAUD\"", 400); /* over 30 days */
    put_grafiti("\"sla_hours\":240,\"national_entity\":\"AAUD\"", 201);
    /* the catalogue cache holds the national routing before the edits below: each edit must
     * show in the very next request, whichever thread answers it */
    for (int i = 0; i < 8; i++)
        check_grafiti_route("AAUD", 240);
    /* a more specific rule: David's graffiti to its municipality */
    CHECK(it_send(&srv, "POST", "/api/v1/routing-rules", admin,
                  "{\"service_code\":\"grafiti\",\"area\":\"0406\",\"entity\":\"MUN-0406\","
                  "\"sla_hours\":72}",
                  &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    j = it_json(&r);
    snprintf(path, sizeof path, "/api/v1/routing-rules/%lld",
             (long long)json_integer_value(json_object_get(j, "id")));
    json_decref(j);
    free(r.body);
    for (int i = 0; i < 8; i++)
        check_grafiti_route("MUN-0406", 72);
    CHECK(it_get(&srv, "/api/v1/route?service_code=grafiti&lat=8.9870&lon=-79.5270", &r) == 0);
    CHECK(strstr(r.body, "\"AAUD\"") != NULL);
    free(r.body);
    /* removing the rule is fine; removing the national fallback is not */
    CHECK(it_send(&srv, "DELETE", path, admin, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    for (int i = 0; i < 8; i++)
        check_grafiti_route("AAUD", 240);
    /* a service's new SLA shows at once too */
    put_grafiti("\"sla_hours\":120,\"national_entity\":\"AAUD\"", 200);
    for (int i = 0; i < 8; i++)
        check_grafiti_route("AAUD", 120);
    CHECK(it_send(&srv, "GET", "/api/v1/routing-rules", admin, NULL, &r) == 0);
    j = it_json(&r);
    {
        json_t *rule;
        size_t i;
        long long national = 0;
        json_array_foreach(json_object_get(j, "rules"), i, rule) if (
            strcmp(json_string_value(json_object_get(rule, "service_code")), "grafiti") == 0)
            national = json_integer_value(json_object_get(rule, "id"));
        CHECK(national > 0);
        snprintf(path, sizeof path, "/api/v1/routing-rules/%lld", national);
    }
    json_decref(j);
    free(r.body);
    CHECK(it_send(&srv, "DELETE", path, admin, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 409);
    free(r.body);
    CHECK(it_send(&srv, "PUT", "/api/v1/entities/AMP", admin,
                  "{\"name\":\"Autoridad Marítima de Panamá\",\"kind\":\"national\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    free(r.body);
    CHECK(it_send(&srv, "PUT", "/api/v1/entities/AMP", admin,
                  "{\"name\":\"AMP\",\"kind\":\"planet\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    free(r.body);
}

/* ---- Open311 ---- */

static xmlDocPtr xml_of(const struct it_reply *r)
{
    return xmlReadMemory(r->body, (int)r->len, "reply.xml", "UTF-8", XML_PARSE_NONET);
}

/* The text of the first element called name under node (depth-first), or NULL. */
static const char *xml_find(xmlNodePtr node, const char *name)
{
    for (xmlNodePtr n = node; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
            return n->children && n->children->content ? (const char *)n->children->content : "";
        if (n->children) {
            const char *v = xml_find(n->children, name);
            if (v)
                return v;
        }
    }
    return NULL;
}

static void test_open311_json_and_xml(void)
{
    struct it_reply r;
    json_t *j;
    xmlDocPtr x;
    char id[32] = "", token[80] = "", path[160];
    const char *form = "service_code=fuga_agua&lat=9.0420&long=-79.5080&description=Fuga%20en%20"
                       "la%20acera&email=privado%40example.pa&first_name=Rosa&last_name=Diaz&"
                       "phone=6222-2222&attribute%5Bseveridad%5D=moderada&jurisdiction_id=311.gob.pa";
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");

    CHECK(it_get(&srv, "/open311/v2/discovery.json", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.body, "GeoReport_v2") != NULL);
    free(r.body);
    CHECK(it_get(&srv, "/open311/v2/services.xml", &r) == 0);
    CHECK(strstr(r.headers, "text/xml") != NULL);
    x = xml_of(&r);
    CHECK(x && strcmp((const char *)xmlDocGetRootElement(x)->name, "services") == 0);
    CHECK(x && xml_find(xmlDocGetRootElement(x), "service_code") != NULL);
    xmlFreeDoc(x);
    free(r.body);
    CHECK(it_get(&srv, "/open311/v2/services/fuga_agua.json", &r) == 0);
    j = it_json(&r);
    CHECK_STR_EQ(json_string_value(json_object_get(
                     json_array_get(json_object_get(j, "attributes"), 0), "code")),
                 "severidad");
    json_decref(j);
    free(r.body);

    /* create, form-encoded, JSON answer */
    CHECK(it_request(&srv, "POST", "/open311/v2/requests.json", form, strlen(form), h, &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    j = it_json(&r);
    snprintf(id, sizeof id, "%s",
             json_string_value(json_object_get(json_array_get(j, 0), "service_request_id")));
    snprintf(token, sizeof token, "%s",
             json_string_value(json_object_get(json_array_get(j, 0), "token")));
    CHECK(strlen(id) == 11);
    json_decref(j);
    free(r.body);
    /* and the same as XML */
    CHECK(it_request(&srv, "POST", "/open311/v2/requests.xml", form, strlen(form), h, &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    x = xml_of(&r);
    CHECK(x && strcmp((const char *)xmlDocGetRootElement(x)->name, "service_requests") == 0);
    CHECK(x && xml_find(xmlDocGetRootElement(x), "service_request_id") != NULL);
    xmlFreeDoc(x);
    free(r.body);
    /* bad input: the spec's error list */
    CHECK(it_request(&srv, "POST", "/open311/v2/requests.xml", "service_code=fuga_agua", 22, h,
                     &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    x = xml_of(&r);
    CHECK(x && strcmp((const char *)xmlDocGetRootElement(x)->name, "errors") == 0);
    CHECK_STR_EQ(x ? xml_find(xmlDocGetRootElement(x), "code") : NULL, "400");
    xmlFreeDoc(x);
    free(r.body);
    CHECK(it_request(&srv, "POST", "/open311/v2/requests.json",
                     "service_code=basura&lat=8.98&long=-79.52&jurisdiction_id=other", 62, h,
                     &r) == 0);
    CHECK_INT_EQ(r.status, 404);
    j = it_json(&r);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(j, 0), "code")), 404);
    json_decref(j);
    free(r.body);
    curl_slist_free_all(h);

    /* read it back: open, routed to IDAAN, due time with -05:00, no reporter anywhere */
    snprintf(path, sizeof path, "/open311/v2/requests/%s.json", id);
    CHECK(it_get(&srv, path, &r) == 0);
    json_t *arr = it_json(&r);
    j = json_array_get(arr, 0);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "status")), "open");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "agency_responsible")),
                 "Instituto de Acueductos y Alcantarillados Nacionales");
    CHECK(strstr(json_string_value(json_object_get(j, "expected_datetime")), "-05:00") != NULL);
    CHECK(strstr(r.body, "privado") == NULL && strstr(r.body, "Rosa") == NULL &&
          strstr(r.body, "6222") == NULL);
    json_decref(arr);
    free(r.body);
    snprintf(path, sizeof path, "/open311/v2/requests/%s.xml", id);
    CHECK(it_get(&srv, path, &r) == 0);
    x = xml_of(&r);
    CHECK_STR_EQ(x ? xml_find(xmlDocGetRootElement(x), "service_request_id") : NULL, id);
    CHECK_STR_EQ(x ? xml_find(xmlDocGetRootElement(x), "status") : NULL, "open");
    xmlFreeDoc(x);
    free(r.body);
    snprintf(path, sizeof path, "/open311/v2/tokens/%s.json", token);
    CHECK(it_get(&srv, path, &r) == 0);
    CHECK(strstr(r.body, id) != NULL);
    free(r.body);
    /* lists: by id, by status, by date window, and all without a reporter */
    snprintf(path, sizeof path, "/open311/v2/requests.json?service_request_id=%s", id);
    CHECK(it_get(&srv, path, &r) == 0);
    j = it_json(&r);
    CHECK_INT_EQ(json_array_size(j), 1);
    json_decref(j);
    free(r.body);
    CHECK(it_get(&srv, "/open311/v2/requests.json?status=closed&service_code=fuga_agua", &r) == 0);
    j = it_json(&r);
    CHECK_INT_EQ(json_array_size(j), 2);
    json_decref(j);
    free(r.body);
    CHECK(it_get(&srv, "/open311/v2/requests.xml?start_date=2001-01-01T00:00:00-05:00", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.body, "privado") == NULL && strstr(r.body, "Ana P") == NULL &&
          strstr(r.body, "Luis") == NULL);
    free(r.body);
    CHECK(it_get(&srv, "/open311/v2/requests.json?end_date=2001-01-01", &r) == 0);
    CHECK(strcmp(r.body, "[]") == 0);
    free(r.body);
    CHECK(it_get(&srv, "/open311/v2/requests.json?start_date=ayer", &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    free(r.body);
    CHECK(it_get(&srv, "/open311/v2/requests.yaml", &r) == 0);
    CHECK_INT_EQ(r.status, 404);
    free(r.body);
}

/* Every anonymous read of every case: no reporter contact, no device id. */
static void test_nothing_about_reporters_reaches_anonymous_callers(void)
{
    static const char *const reads[] = {"/api/v1/reports?limit=1000",
                                        "/open311/v2/requests.json",
                                        "/open311/v2/requests.xml"};
    static const char *const secrets[] = {"ana@example.pa", "Ana P", "6000-0000", "dev-42",
                                          "Luis", "6111-1111", "privado@", "Rosa", "6222",
                                          "reporter"};
    struct it_reply r;

    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        CHECK(it_get(&srv, reads[i], &r) == 0);
        CHECK_INT_EQ(r.status, 200);
        for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++)
            if (strstr(r.body, secrets[k]))
                CHECK_REPORT("%s shows %s", reads[i], secrets[k]);
        free(r.body);
    }
}

int main(int argc, char **argv)
{
    if (it_suite_start(argc, argv, &srv) != 0)
        return 1;
    if (it_key_create(&srv, "admin", NULL, "311", admin, sizeof admin) != 0 ||
        it_key_create(&srv, "staff", "IDAAN", "IDAAN", idaan, sizeof idaan) != 0 ||
        it_key_create(&srv, "staff", "AAUD", "AAUD", aaud, sizeof aaud) != 0) {
        fprintf(stderr, "keys were not created\n");
        return 1;
    }
    RUN(test_each_seed_rule_routes_from_inside_its_area);
    RUN(test_create_answers_with_case_token_and_deadline);
    RUN(test_idempotent_retry_returns_the_same_case);
    RUN(test_duplicates_and_me_too);
    RUN(test_workflow_history_and_transfer);
    RUN(test_list_filters_and_cursor);
    RUN(test_catalogue_admin);
    RUN(test_open311_json_and_xml);
    RUN(test_nothing_about_reporters_reaches_anonymous_callers);
    return it_suite_end(&srv);
}
