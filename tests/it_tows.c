/*
 * tests/it_tows.c - towed vehicles on the real server: a tow's whole life from request to
 * release with truck positions (a batch with out-of-order, repeated and future points),
 * arrival by geofence, the linked 311 case resolved by the tow, the driver's lookup (plate;
 * plate and ticket; a wrong ticket answered byte for byte like none; a plate typed another
 * way), a truck's position on no anonymous route, operators of another entity refused, the
 * lookup's own rate limit, and the metrics that count lookups without logging plates.
 * usage: it_tows PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <sqlite3.h>
#include <time.h>

#include "it.h"
#include "server/routes.h"

static struct it_server srv;
static char admin[128], attt[128], other[128], staff[128];

/* A distinctive position no fixture has: if it shows up somewhere, it leaked. */
#define SECRET_LAT "8.987654"
#define SECRET_LON "-79.512345"

static json_t *call(const char *method, const char *path, const char *key, const char *body,
                    long *status)
{
    struct it_reply r = {0};
    json_t *j;

    CHECK(it_send(&srv, method, path, key, body, &r) == 0);
    *status = r.status;
    j = it_json(&r);
    if (!j)
        fprintf(stderr, "   %s %s: not JSON (%ld): %s\n", method, path, r.status, r.body);
    free(r.body);
    return j;
}

static void utc(int offset_s, char *out, size_t n)
{
    time_t t = time(NULL) + offset_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *jstr(json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

static long jint(json_t *j, const char *k)
{
    return (long)json_integer_value(json_object_get(j, k));
}

/* Curundú yard: a square fence of ~440 m around (8.970, -79.535). */
static const char yard_body[] =
    "{\"name\":\"Patio de Curundú\",\"address\":\"Av. Ascanio Villalaz, Curundú\","
    "\"lat\":8.970,\"lon\":-79.535,\"geofence\":{\"type\":\"Polygon\",\"coordinates\":"
    "[[[-79.537,8.968],[-79.533,8.968],[-79.533,8.972],[-79.537,8.972],[-79.537,8.968]]]},"
    "\"hours\":{\"es\":\"Lun-Sáb 7:00-19:00\",\"en\":\"Mon-Sat 7am-7pm\"},"
    "\"phone\":\"+507 511-9000\",\"fees\":{\"tow_cents\":3500,\"daily_cents\":1000},"
    "\"documents\":{\"es\":\"Cédula, registro vehicular, boleta\","
    "\"en\":\"ID, vehicle registration, ticket\"}}";

static void setup_fleet(void)
{
    long st = 0;
    json_t *j;

    j = call("PUT", "/api/v1/yards/PATIO-CUR", admin, yard_body, &st);
    CHECK_INT_EQ(st, 201);
    CHECK_STR_EQ(jstr(j, "name"), "Patio de Curundú");
    json_decref(j);
    j = call("PUT", "/api/v1/yards/PATIO-CUR", admin, yard_body, &st);
    CHECK_INT_EQ(st, 200); /* the same code again replaces it */
    json_decref(j);
    j = call("PUT", "/api/v1/yards/PATIO-ARR", admin,
             "{\"name\":\"Patio de Arraiján\",\"address\":\"Vista Alegre\",\"lat\":8.93,"
             "\"lon\":-79.65,\"radius_m\":150,\"hours\":{\"es\":\"24 horas\",\"en\":\"24 h\"},"
             "\"fees\":{\"tow_cents\":2500,\"daily_cents\":500},\"documents\":{\"es\":\"Cédula\","
             "\"en\":\"ID\"}}",
             &st);
    CHECK_INT_EQ(st, 201);
    json_decref(j);
    j = call("PUT", "/api/v1/trucks/ATTT-G01", admin, "{\"entity\":\"ATTT\",\"plate\":\"g-0101\"}",
             &st);
    CHECK_INT_EQ(st, 201);
    CHECK_STR_EQ(jstr(j, "plate"), "G0101");
    json_decref(j);
    j = call("PUT", "/api/v1/trucks/GX-01", admin,
             "{\"entity\":\"GRUAS-ISTMO\",\"plate\":\"GX 1\"}", &st);
    CHECK_INT_EQ(st, 201);
    json_decref(j);
}

static json_t *positions(const char *truck, const char *key, const char *points, long *st)
{
    char path[128], body[4096];

    snprintf(path, sizeof path, "/api/v1/trucks/%s/positions", truck);
    snprintf(body, sizeof body, "{\"positions\":%s}", points);
    return call("POST", path, key, body, st);
}

static char case_no[32];
static long tow;

static void test_tow_life_from_request_to_release(void)
{
    char body[2048], path[128], t[5][32], pts[2048];
    long st = 0;
    json_t *j, *h;

    /* a citizen reports a car blocking the street; the ATTT answers it with a tow */
    j = call("POST", "/api/v1/reports", NULL,
             "{\"service_code\":\"vehiculo_obstruccion\",\"lat\":8.9952,\"lon\":-79.5201,"
             "\"description\":\"Carro bloqueando la entrada\"}",
             &st);
    CHECK_INT_EQ(st, 201);
    snprintf(case_no, sizeof case_no, "%s", jstr(j, "id"));
    json_decref(j);
    snprintf(body, sizeof body,
             "{\"plate\":\"ab-4521\",\"vehicle\":{\"make\":\"Toyota\",\"colour\":\"rojo\","
             "\"type\":\"sedán\"},\"lat\":8.9952,\"lon\":-79.5201,\"reason\":\"obstruye "
             "entrada\",\"ticket\":\"B-2026-778812\",\"truck\":\"ATTT-G01\",\"yard\":"
             "\"PATIO-CUR\",\"report_id\":\"%s\"}",
             case_no);
    j = call("POST", "/api/v1/tows", attt, body, &st);
    CHECK_INT_EQ(st, 201);
    tow = jint(j, "id");
    CHECK(tow > 0);
    CHECK_STR_EQ(jstr(j, "plate"), "AB4521");
    CHECK_STR_EQ(jstr(j, "status"), "requested");
    CHECK_STR_EQ(jstr(j, "report_id"), case_no);
    CHECK_STR_EQ(jstr(json_object_get(j, "pickup"), "distrito"), "0808");
    CHECK(jstr(json_object_get(j, "pickup"), "corregimiento") != NULL);
    json_decref(j);

    snprintf(path, sizeof path, "/api/v1/tows/%ld/status", tow);
    j = call("POST", path, attt, "{\"status\":\"at_yard\"}", &st);
    CHECK_INT_EQ(st, 409); /* requested cannot skip towing */
    json_decref(j);
    j = call("POST", path, attt, "{\"status\":\"towing\",\"note\":\"enganchado\"}", &st);
    CHECK_INT_EQ(st, 200);
    CHECK_STR_EQ(jstr(j, "status"), "towing");
    CHECK(json_string_value(json_object_get(json_object_get(j, "times"), "towing")) != NULL);
    json_decref(j);

    /* the device sends late: out of order, a repeat, and one from a clock 20 min ahead */
    utc(0, t[0], sizeof t[0]);
    utc(1, t[1], sizeof t[1]);
    utc(2, t[2], sizeof t[2]);
    utc(1200, t[3], sizeof t[3]);
    snprintf(pts, sizeof pts,
             "[{\"lat\":8.9910,\"lon\":-79.5230,\"at\":\"%s\",\"speed_kmh\":30},"
             "{\"lat\":" SECRET_LAT ",\"lon\":" SECRET_LON ",\"at\":\"%s\",\"heading\":200},"
             "{\"lat\":8.9930,\"lon\":-79.5220,\"at\":\"%s\"},"
             "{\"lat\":8.9910,\"lon\":-79.5230,\"at\":\"%s\",\"speed_kmh\":30},"
             "{\"lat\":8.9,\"lon\":-79.5,\"at\":\"%s\"},"
             "{\"lat\":95,\"lon\":-79.5,\"at\":\"%s\"}]",
             t[1], t[2], t[0], t[1], t[3], t[0]);
    j = positions("ATTT-G01", attt, pts, &st);
    CHECK_INT_EQ(st, 200);
    CHECK_INT_EQ(jint(j, "accepted"), 3);
    CHECK_INT_EQ(jint(j, "duplicates"), 1);
    CHECK_INT_EQ(jint(j, "rejected"), 2);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "errors")), 2);
    CHECK_INT_EQ(jint(json_array_get(json_object_get(j, "errors"), 0), "index"), 4);
    CHECK_STR_EQ(jstr(json_array_get(json_object_get(j, "errors"), 0), "code"), "invalid_data");
    CHECK(json_is_null(json_object_get(j, "arrived_tow")));
    json_decref(j);
    /* the same batch again: nothing new */
    j = positions("ATTT-G01", attt, pts, &st);
    CHECK_INT_EQ(st, 200);
    CHECK_INT_EQ(jint(j, "accepted"), 0);
    CHECK_INT_EQ(jint(j, "duplicates"), 4);
    json_decref(j);
    /* the stored path is in time order, each point once */
    j = call("GET", "/api/v1/trucks/ATTT-G01/track", attt, NULL, &st);
    CHECK_INT_EQ(st, 200);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "features")), 3);
    {
        char ms[40];
        snprintf(ms, sizeof ms, "%.19s.000Z", t[0]); /* kept to the millisecond */
        CHECK_STR_EQ(jstr(json_object_get(json_array_get(json_object_get(j, "features"), 0),
                                          "properties"),
                          "at"),
                     ms);
    }
    json_decref(j);
    /* a device that reports twice a second keeps both points */
    {
        char sub[512];
        snprintf(sub, sizeof sub,
                 "[{\"lat\":8.9911,\"lon\":-79.5231,\"at\":\"%.19s.250Z\"},"
                 "{\"lat\":8.9912,\"lon\":-79.5232,\"at\":\"%.19s.750-00:00\"}]",
                 t[0], t[0]);
        j = positions("ATTT-G01", attt, sub, &st);
        CHECK_INT_EQ(st, 200);
        CHECK_INT_EQ(jint(j, "accepted"), 2);
        json_decref(j);
    }
    /* the live map: the truck at its newest point (by device time), with its tow */
    j = call("GET", "/api/v1/trucks", attt, NULL, &st);
    CHECK_INT_EQ(st, 200);
    h = json_array_get(json_object_get(j, "trucks"), 0);
    CHECK_STR_EQ(jstr(h, "code"), "ATTT-G01");
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(h, "position"), "lat")), 8.987654,
               1e-9);
    CHECK_INT_EQ(jint(json_object_get(h, "tow"), "id"), tow);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "trucks")), 1); /* not GRUAS-ISTMO's */
    json_decref(j);

    /* inside the yard's fence: at_yard by itself, and the 311 case resolved with it */
    utc(3, t[4], sizeof t[4]);
    snprintf(pts, sizeof pts, "[{\"lat\":8.9701,\"lon\":-79.5349,\"at\":\"%s\"}]", t[4]);
    j = positions("ATTT-G01", attt, pts, &st);
    CHECK_INT_EQ(st, 200);
    CHECK_INT_EQ(jint(j, "arrived_tow"), tow);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/tows/%ld", tow);
    j = call("GET", path, attt, NULL, &st);
    CHECK_INT_EQ(st, 200);
    CHECK_STR_EQ(jstr(j, "status"), "at_yard");
    CHECK_STR_EQ(jstr(json_object_get(j, "times"), "at_yard"), t[4]);
    h = json_object_get(j, "history");
    CHECK_INT_EQ(json_array_size(h), 3);
    CHECK_STR_EQ(jstr(json_array_get(h, 2), "to"), "at_yard");
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/reports/%s", case_no);
    j = call("GET", path, NULL, NULL, &st);
    CHECK_INT_EQ(st, 200);
    CHECK_STR_EQ(jstr(j, "status"), "resolved");
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/reports/%s/history", case_no);
    j = call("GET", path, NULL, NULL, &st);
    {
        int tows_seen = 0, resolved = 0;
        for (size_t i = 0; i < json_array_size(json_object_get(j, "history")); i++) {
            json_t *e = json_array_get(json_object_get(j, "history"), i);
            tows_seen += strcmp(jstr(e, "kind"), "tow") == 0;
            resolved += strcmp(jstr(e, "kind"), "status") == 0 &&
                        strcmp(jstr(e, "to"), "resolved") == 0;
        }
        CHECK_INT_EQ(tows_seen, 3); /* requested, towing, at_yard */
        CHECK_INT_EQ(resolved, 1);
    }
    json_decref(j);
    /* audited: the arrival as the system */
    j = call("GET", "/api/v1/audit?limit=50", admin, NULL, &st);
    {
        int by_system = 0;
        json_t *rows = json_object_get(j, "entries");
        for (size_t i = 0; i < json_array_size(rows); i++) {
            json_t *e = json_array_get(rows, i);
            by_system += strcmp(jstr(e, "actor"), "system") == 0 &&
                         strcmp(jstr(e, "actor_role"), "system") == 0;
        }
        CHECK(by_system >= 2); /* the tow's status and the case's */
    }
    json_decref(j);
}

static void test_driver_lookup(void)
{
    struct it_reply a = {0}, b = {0}, c = {0};
    char path[256];
    long st = 0;
    json_t *j;

    /* plate only: active, since, yard and fees; nothing about the truck or the history */
    CHECK(it_get(&srv, "/api/v1/tows/lookup?plate=AB4521", &a) == 0);
    CHECK_INT_EQ(a.status, 200);
    j = it_json(&a);
    CHECK(json_is_true(json_object_get(j, "active")));
    CHECK_STR_EQ(jstr(json_object_get(j, "yard"), "code"), "PATIO-CUR");
    CHECK_STR_EQ(jstr(json_object_get(json_object_get(j, "yard"), "hours"), "es"),
                 "Lun-Sáb 7:00-19:00");
    CHECK_INT_EQ(jint(json_object_get(j, "fees"), "total_cents"), 4500); /* tow + first day */
    CHECK(json_object_get(j, "truck") == NULL && json_object_get(j, "history") == NULL &&
          json_object_get(j, "status") == NULL && json_object_get(j, "geofence") == NULL);
    CHECK(strstr(a.body, "778812") == NULL);
    json_decref(j);
    /* a wrong ticket: the very same bytes */
    CHECK(it_get(&srv, "/api/v1/tows/lookup?plate=AB4521&ticket=B-2026-778813", &b) == 0);
    CHECK_INT_EQ(b.status, 200);
    CHECK(a.len == b.len && memcmp(a.body, b.body, a.len) == 0);
    free(b.body);
    b = (struct it_reply){0};
    /* a NUL in the query is refused before any lookup (400, as every %00 in a target is) */
    CHECK(it_get(&srv, "/api/v1/tows/lookup?plate=AB4521&ticket=%25%00x", &b) == 0);
    CHECK_INT_EQ(b.status, 400);
    CHECK(strstr(b.body, "AB4521") == NULL && strstr(b.body, "yard") == NULL);
    /* typed another way, with the right ticket typed another way: status and history too */
    CHECK(it_get(&srv, "/api/v1/tows/lookup?plate=ab%204521&ticket=b%202026%20778812", &c) == 0);
    CHECK_INT_EQ(c.status, 200);
    j = it_json(&c);
    CHECK_STR_EQ(jstr(j, "status"), "at_yard");
    CHECK_INT_EQ(json_array_size(json_object_get(j, "history")), 3);
    CHECK(json_object_get(j, "truck") == NULL); /* at the yard: the truck is none of its business */
    json_decref(j);
    free(a.body);
    free(b.body);
    free(c.body);
    /* a bad plate is 400; an unknown one is simply not active */
    j = call("GET", "/api/v1/tows/lookup?plate=%24%24", NULL, NULL, &st);
    CHECK_INT_EQ(st, 400);
    CHECK_STR_EQ(it_error_code(j), "invalid_plate");
    json_decref(j);
    j = call("GET", "/api/v1/tows/lookup?plate=ZZ9999", NULL, NULL, &st);
    CHECK_INT_EQ(st, 200);
    CHECK(json_is_false(json_object_get(j, "active")));
    json_decref(j);

    /* released: no longer active, with or without the ticket */
    snprintf(path, sizeof path, "/api/v1/tows/%ld/status", tow);
    j = call("POST", path, attt, "{\"status\":\"released\",\"note\":\"entregado\"}", &st);
    CHECK_INT_EQ(st, 200);
    CHECK_STR_EQ(jstr(j, "status"), "released");
    json_decref(j);
    j = call("GET", "/api/v1/tows/lookup?plate=AB4521&ticket=B-2026-778812", NULL, NULL, &st);
    CHECK_INT_EQ(st, 200);
    CHECK(json_is_false(json_object_get(j, "active")));
    CHECK(json_object_get(j, "yard") == NULL);
    json_decref(j);
    j = call("POST", path, attt, "{\"status\":\"towing\"}", &st);
    CHECK_INT_EQ(st, 409);
    json_decref(j);
}

/* While towing, the truck's position reaches the driver with the ticket, and no one else. */
static void test_truck_position_only_with_the_ticket(void)
{
    char body[1024], path[128], pts[256], now[32];
    long st = 0, id;
    json_t *j;
    size_t n;
    const struct route *rt = routes_table(&n);
    static const struct {
        const char *pattern, *path;
    } anon[] = {
        {"/healthz", "/healthz"},
        {"/api/v1/locate", "/api/v1/locate?lat=8.98&lon=-79.52"},
        {"/api/v1/areas", "/api/v1/areas?level=distrito"},
        {"/api/v1/areas/{code}", "/api/v1/areas/0808"},
        {"/api/v1/me", "/api/v1/me"},
        {"/api/v1/reports", "/api/v1/reports?limit=100"},
        {"/api/v1/reports/{id}", "/api/v1/reports/{case}"},
        {"/api/v1/reports/{id}/history", "/api/v1/reports/{case}/history"},
        {"/media/{file}", "/media/none.jpg"},
        {"/tiles/{layer}/{z}/{x}/{file}", "/tiles/cases/12/1189/1936.mvt"},
        {"/tiles/{file}", "/tiles/cases.json"},
        {"/api/v1/hotspots", "/api/v1/hotspots"},
        {"/api/v1/route", "/api/v1/route?service_code=vehiculo_obstruccion&lat=8.98&lon=-79.52"},
        {"/api/v1/services", "/api/v1/services"},
        {"/api/v1/services/{code}", "/api/v1/services/vehiculo_obstruccion"},
        {"/api/v1/entities", "/api/v1/entities"},
        {"/api/v1/entities/{code}", "/api/v1/entities/ATTT"},
        {"/api/v1/yards", "/api/v1/yards"},
        {"/api/v1/yards/{code}", "/api/v1/yards/PATIO-CUR"},
        {"/api/v1/tows/lookup", "/api/v1/tows/lookup?plate=CX7070"},
        {"/api/v1/stats", "/api/v1/stats?group=distrito"},
        {"/api/v1/stats.csv", "/api/v1/stats.csv?group=entity&group=month"},
        {"/api/v1/export.csv", "/api/v1/export.csv"},
        {"/api/v1/export.geojson", "/api/v1/export.geojson"},
        {"/api/v1/export/months", "/api/v1/export/months"},
        {"/metrics", "/metrics"},
        {"/open311/v2/{file}", "/open311/v2/requests.json"},
        {"/open311/v2/services/{file}", "/open311/v2/services/vehiculo_obstruccion.json"},
        {"/open311/v2/requests/{file}", "/open311/v2/requests/{case}.json"},
        {"/open311/v2/tokens/{file}", "/open311/v2/tokens/x.json"},
        {"/", "/"},
        {"/caso", "/caso"},
        {"/caso/{id}", "/caso/{case}"},
        {"/cuadrilla", "/cuadrilla"},
        {"/grua", "/grua"},
        {"/estadisticas", "/estadisticas"},
        {"/static/{build}/{*path}", "/static/0000000000000000/js/api.js"},
        {"/sw.js", "/sw.js"},
        {"/manifest.webmanifest", "/manifest.webmanifest"},
        {"/favicon.svg", "/favicon.svg"},
    };

    j = call("POST", "/api/v1/reports", NULL,
             "{\"service_code\":\"vehiculo_obstruccion\",\"lat\":8.9877,\"lon\":-79.5124}", &st);
    CHECK_INT_EQ(st, 201);
    snprintf(case_no, sizeof case_no, "%s", jstr(j, "id"));
    json_decref(j);
    snprintf(body, sizeof body,
             "{\"plate\":\"CX-7070\",\"lat\":8.9877,\"lon\":-79.5124,\"reason\":\"doble fila\","
             "\"ticket\":\"T-55\",\"truck\":\"ATTT-G01\",\"yard\":\"PATIO-CUR\",\"report_id\":\"%s\"}",
             case_no);
    j = call("POST", "/api/v1/tows", attt, body, &st);
    CHECK_INT_EQ(st, 201);
    id = jint(j, "id");
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/tows/%ld/status", id);
    json_decref(call("POST", path, attt, "{\"status\":\"towing\"}", &st));
    CHECK_INT_EQ(st, 200);
    utc(10, now, sizeof now);
    snprintf(pts, sizeof pts, "[{\"lat\":" SECRET_LAT ",\"lon\":" SECRET_LON ",\"at\":\"%s\"}]",
             now);
    json_decref(positions("ATTT-G01", attt, pts, &st));
    CHECK_INT_EQ(st, 200);

    j = call("GET", "/api/v1/tows/lookup?plate=CX7070&ticket=t55", NULL, NULL, &st);
    CHECK_NEAR(json_real_value(json_object_get(
                   json_object_get(json_object_get(j, "truck"), "position"), "lon")),
               -79.512345, 1e-9);
    json_decref(j);
    /* every anonymous GET route of the table, walked: none shows the truck's position */
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        if (!(rt[i].methods & HTTP_GET) || !(rt[i].roles & AUTH_ANONYMOUS))
            continue;
        while (k < sizeof anon / sizeof anon[0] && strcmp(anon[k].pattern, rt[i].pattern) != 0)
            k++;
        if (k == sizeof anon / sizeof anon[0]) {
            CHECK_REPORT("anonymous route %s has no row here: add one", rt[i].pattern);
            continue;
        }
        char p[256], *at;
        struct it_reply r = {0};
        snprintf(p, sizeof p, "%s", anon[k].path);
        if ((at = strstr(p, "{case}")) != NULL) {
            char rest[128];
            snprintf(rest, sizeof rest, "%s", at + 6);
            snprintf(at, sizeof p - (size_t)(at - p), "%s%s", case_no, rest);
        }
        CHECK(it_get(&srv, p, &r) == 0);
        if (r.body && (strstr(r.body, "987654") || strstr(r.body, "512345")))
            CHECK_REPORT("%s shows the truck's position", p);
        if (r.body && strstr(r.body, "T-55"))
            CHECK_REPORT("%s shows the ticket", p);
        free(r.body);
    }
    /* and the ticket-less lookup of the same plate */
    {
        struct it_reply r = {0};
        CHECK(it_get(&srv, "/api/v1/tows/lookup?plate=CX7070&ticket=wrong", &r) == 0);
        CHECK(r.body && !strstr(r.body, "512345") && !strstr(r.body, "\"truck\""));
        free(r.body);
    }
    snprintf(path, sizeof path, "/api/v1/tows/%ld/status", id);
    json_decref(call("POST", path, attt, "{\"status\":\"cancelled\",\"note\":\"error\"}", &st));
    CHECK_INT_EQ(st, 200);
}

static void test_other_entities_and_roles_are_refused(void)
{
    char pts[256], now[32];
    long st = 0;
    json_t *j;

    utc(20, now, sizeof now);
    snprintf(pts, sizeof pts, "[{\"lat\":8.99,\"lon\":-79.52,\"at\":\"%s\"}]", now);
    j = positions("ATTT-G01", other, pts, &st);
    CHECK_INT_EQ(st, 403);
    CHECK_STR_EQ(it_error_code(j), "forbidden");
    json_decref(j);
    json_decref(positions("ATTT-G01", staff, pts, &st));
    CHECK_INT_EQ(st, 403);
    json_decref(positions("ATTT-G01", admin, pts, &st)); /* a device posts as its operator */
    CHECK_INT_EQ(st, 403);
    json_decref(positions("ATTT-G01", NULL, pts, &st));
    CHECK_INT_EQ(st, 401);
    json_decref(positions("NO-SUCH", attt, pts, &st));
    CHECK_INT_EQ(st, 404);
    json_decref(positions("GX-01", other, pts, &st)); /* its own truck is fine */
    CHECK_INT_EQ(st, 200);
    json_decref(call("GET", "/api/v1/trucks/ATTT-G01/track", other, NULL, &st));
    CHECK_INT_EQ(st, 403);
    j = call("GET", "/api/v1/trucks", other, NULL, &st);
    CHECK_INT_EQ(st, 200);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "trucks")), 1);
    CHECK_STR_EQ(jstr(json_array_get(json_object_get(j, "trucks"), 0), "code"), "GX-01");
    json_decref(j);
    j = call("GET", "/api/v1/trucks", admin, NULL, &st);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "trucks")), 2);
    json_decref(j);
    /* another entity's tow: neither read nor moved; nor a tow on its truck */
    {
        char path[64];
        snprintf(path, sizeof path, "/api/v1/tows/%ld", tow);
        json_decref(call("GET", path, other, NULL, &st));
        CHECK_INT_EQ(st, 403);
        snprintf(path, sizeof path, "/api/v1/tows/%ld/status", tow);
        json_decref(call("POST", path, other, "{\"status\":\"cancelled\"}", &st));
        CHECK_INT_EQ(st, 403);
        j = call("POST", "/api/v1/tows", other,
                 "{\"plate\":\"AA1111\",\"lat\":8.99,\"lon\":-79.52,\"reason\":\"x\","
                 "\"ticket\":\"1\",\"truck\":\"ATTT-G01\",\"yard\":\"PATIO-CUR\"}",
                 &st);
        CHECK_INT_EQ(st, 403);
        json_decref(j);
        j = call("GET", "/api/v1/tows", other, NULL, &st);
        CHECK_INT_EQ(st, 200);
        CHECK_INT_EQ(json_array_size(json_object_get(j, "tows")), 0);
        json_decref(j);
        j = call("GET", "/api/v1/tows?plate=ab-4521", attt, NULL, &st);
        CHECK_INT_EQ(json_array_size(json_object_get(j, "tows")), 1);
        json_decref(j);
    }
}

static void test_bad_input_is_refused_with_reasons(void)
{
    long st = 0;
    json_t *j;
    static const struct {
        const char *body;
        long status;
        const char *code;
    } tows[] = {
        {"{\"plate\":\"$$\",\"lat\":8.99,\"lon\":-79.52,\"reason\":\"x\",\"ticket\":\"1\","
         "\"truck\":\"ATTT-G01\",\"yard\":\"PATIO-CUR\"}", 400, "invalid_plate"},
        {"{\"plate\":\"AA1111\",\"lat\":8.99,\"lon\":-79.52,\"reason\":\"x\",\"ticket\":\"1\","
         "\"truck\":\"ATTT-G01\",\"yard\":\"NOPE\"}", 400, "invalid_argument"},
        {"{\"plate\":\"AA1111\",\"lat\":40.4,\"lon\":-3.7,\"reason\":\"x\",\"ticket\":\"1\","
         "\"truck\":\"ATTT-G01\",\"yard\":\"PATIO-CUR\"}", 422, "outside_service_area"},
        {"{\"plate\":\"AA1111\",\"lat\":8.99,\"lon\":-79.52,\"reason\":\"x\","
         "\"truck\":\"ATTT-G01\",\"yard\":\"PATIO-CUR\"}", 400, "invalid_argument"},
        {"{\"plate\":\"AA1111\",\"lat\":8.99,\"lon\":-79.52,\"reason\":\"x\",\"ticket\":\"1\","
         "\"truck\":\"ATTT-G01\",\"yard\":\"PATIO-CUR\",\"report_id\":\"2026-999999\"}",
         400, "invalid_argument"},
    };

    for (size_t i = 0; i < sizeof tows / sizeof tows[0]; i++) {
        j = call("POST", "/api/v1/tows", attt, tows[i].body, &st);
        CHECK_INT_EQ(st, tows[i].status);
        CHECK_STR_EQ(it_error_code(j), tows[i].code);
        json_decref(j);
    }
    /* a leak report is not a tow's to close */
    j = call("POST", "/api/v1/reports", NULL,
             "{\"service_code\":\"fuga_agua\",\"lat\":8.99,\"lon\":-79.52}", &st);
    {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"plate\":\"AA1111\",\"lat\":8.99,\"lon\":-79.52,\"reason\":\"x\","
                 "\"ticket\":\"1\",\"truck\":\"ATTT-G01\",\"yard\":\"PATIO-CUR\","
                 "\"report_id\":\"%s\"}",
                 jstr(j, "id"));
        json_decref(j);
        j = call("POST", "/api/v1/tows", attt, body, &st);
        CHECK_INT_EQ(st, 422);
        json_decref(j);
    }
    /* yards: a fence that crosses itself, both a fence and a radius, neither */
    j = call("PUT", "/api/v1/yards/BAD", admin,
             "{\"name\":\"x\",\"address\":\"x\",\"lat\":8.9,\"lon\":-79.5,\"geofence\":"
             "{\"type\":\"Polygon\",\"coordinates\":[[[-79.5,8.9],[-79.4,9.0],[-79.4,8.9],"
             "[-79.5,9.0],[-79.5,8.9]]]},\"hours\":{\"es\":\"x\",\"en\":\"x\"},\"fees\":"
             "{\"tow_cents\":1,\"daily_cents\":1},\"documents\":{\"es\":\"x\",\"en\":\"x\"}}",
             &st);
    CHECK_INT_EQ(st, 422);
    json_decref(j);
    j = call("PUT", "/api/v1/yards/BAD", admin,
             "{\"name\":\"x\",\"address\":\"x\",\"lat\":8.9,\"lon\":-79.5,\"hours\":{\"es\":"
             "\"x\",\"en\":\"x\"},\"fees\":{\"tow_cents\":1,\"daily_cents\":1},\"documents\":"
             "{\"es\":\"x\",\"en\":\"x\"}}",
             &st);
    CHECK_INT_EQ(st, 400);
    json_decref(j);
    json_decref(call("GET", "/api/v1/yards/BAD", NULL, NULL, &st));
    CHECK_INT_EQ(st, 404); /* nothing half-written */
    /* a yard or truck with tows is deactivated, not deleted */
    json_decref(call("DELETE", "/api/v1/yards/PATIO-CUR", admin, NULL, &st));
    CHECK_INT_EQ(st, 409);
    json_decref(call("DELETE", "/api/v1/trucks/ATTT-G01", admin, NULL, &st));
    CHECK_INT_EQ(st, 409);
    json_decref(call("DELETE", "/api/v1/yards/PATIO-ARR", admin, NULL, &st));
    CHECK_INT_EQ(st, 200);
    json_decref(call("GET", "/api/v1/yards/PATIO-ARR", NULL, NULL, &st));
    CHECK_INT_EQ(st, 404);
    /* positions: not an array, too many */
    json_decref(call("POST", "/api/v1/trucks/ATTT-G01/positions", attt, "{\"positions\":{}}", &st));
    CHECK_INT_EQ(st, 400);
    {
        char *big = malloc(600 * 64 + 64);
        size_t n = (size_t)sprintf(big, "{\"positions\":[");
        for (int i = 0; i < 501; i++)
            n += (size_t)sprintf(big + n, "%s{\"lat\":8.9,\"lon\":-79.5,\"at\":\"2026-01-01T00:00:%02dZ\"}",
                                 i ? "," : "", i % 60);
        sprintf(big + n, "]}");
        json_decref(call("POST", "/api/v1/trucks/ATTT-G01/positions", attt, big, &st));
        CHECK_INT_EQ(st, 413);
        free(big);
    }
}

/* Lookups are counted, never logged with the plate; their own limit per address holds. */
static void test_lookups_counted_limited_and_not_logged(void)
{
    struct it_server lim;
    struct it_reply r = {0};
    char *extra[] = {"--lookup-rate=3", NULL};
    int ok = 0, limited = 0;

    {
        struct curl_slist *h = NULL;
        char auth[200];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", admin);
        h = curl_slist_append(h, auth);
        CHECK(it_request(&srv, "GET", "/metrics", NULL, 0, h, &r) == 0);
        curl_slist_free_all(h);
    }
    CHECK_INT_EQ(r.status, 200);
    CHECK(r.body && strstr(r.body, "reporta_tow_lookups_total{result=\"ticket\"} ") != NULL);
    CHECK(r.body && strstr(r.body, "reporta_tow_lookups_total{result=\"active\"} 0\n") == NULL);
    CHECK(r.body && strstr(r.body, "reporta_tow_arrivals_total 1\n") != NULL);
    free(r.body);
    CHECK(!it_log_contains(&srv, "AB4521") && !it_log_contains(&srv, "4521"));
    CHECK(!it_log_contains(&srv, "778812"));

    CHECK(it_start(&lim, srv.db, extra) == 0);
    for (int i = 0; i < 8; i++) {
        r = (struct it_reply){0};
        CHECK(it_get(&lim, "/api/v1/tows/lookup?plate=AB4521", &r) == 0);
        ok += r.status == 200;
        limited += r.status == 429;
        if (r.status == 429)
            CHECK(strstr(r.headers, "Retry-After:") != NULL);
        free(r.body);
    }
    CHECK_INT_EQ(ok, 5); /* the burst */
    CHECK_INT_EQ(limited, 3);
    r = (struct it_reply){0};
    CHECK(it_get(&lim, "/api/v1/yards", &r) == 0); /* other reads are not held back */
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    CHECK_INT_EQ(it_stop(&lim, SIGTERM), 0);
}

/* The scorecard counts tows per distrito (and month), as a count over the tows says. */
static void test_stats_count_tows_per_distrito(void)
{
    long st = 0;
    json_t *j = call("GET", "/api/v1/stats?group=distrito&group=month", NULL, NULL, &st);
    long in_0808 = 0, entity_tows;
    char sql[160];

    CHECK_INT_EQ(st, 200);
    for (size_t i = 0; i < json_array_size(json_object_get(j, "groups")); i++) {
        json_t *g = json_array_get(json_object_get(j, "groups"), i);
        if (jstr(g, "distrito") && strcmp(jstr(g, "distrito"), "0808") == 0)
            in_0808 += jint(g, "tows");
    }
    json_decref(j);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tows WHERE distrito_code = '0808'");
    {
        long n = it_sql_count(&srv, sql);
        if (n < 2) /* AB4521 and CX7070 were picked up in Panamá */
            CHECK_REPORT("tows in 0808: %ld", n);
        CHECK_INT_EQ(in_0808, n);
    }
    j = call("GET", "/api/v1/stats?group=entity", NULL, NULL, &st);
    entity_tows = (long)json_is_null(json_object_get(json_array_get(json_object_get(j, "groups"), 0), "tows"));
    CHECK_INT_EQ(entity_tows, 1); /* tows have no entity of the cases' kind */
    json_decref(j);
}

/* A restart finds the same state: yards, trucks, latest positions and active tows. */
static void test_state_survives_a_restart(void)
{
    char body[512], path[64];
    long st = 0, id;
    json_t *j;

    snprintf(body, sizeof body,
             "{\"plate\":\"RS-2020\",\"lat\":8.99,\"lon\":-79.52,\"reason\":\"x\","
             "\"ticket\":\"R1\",\"truck\":\"ATTT-G01\",\"yard\":\"PATIO-CUR\"}");
    j = call("POST", "/api/v1/tows", attt, body, &st);
    CHECK_INT_EQ(st, 201);
    id = jint(j, "id");
    json_decref(j);
    if (it_stop_keep(&srv, SIGTERM) != 0) {
        char cmd[256];
        CHECK_REPORT("the server did not stop cleanly; its log ends with %s", "...");
        snprintf(cmd, sizeof cmd, "tail -40 '%s' >&2", srv.log);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
    }
    {
        char db[128];
        struct it_server old = srv;
        snprintf(db, sizeof db, "%s", old.db);
        CHECK(it_start(&srv, db, NULL) == 0);
        it_stop(&old, 0); /* only removes the old directory */
    }
    j = call("GET", "/api/v1/tows/lookup?plate=RS2020&ticket=r1", NULL, NULL, &st);
    CHECK_INT_EQ(st, 200);
    CHECK(json_is_true(json_object_get(j, "active")));
    CHECK_STR_EQ(jstr(j, "status"), "requested");
    json_decref(j);
    j = call("GET", "/api/v1/trucks", attt, NULL, &st);
    CHECK(json_object_get(json_array_get(json_object_get(j, "trucks"), 0), "position") != NULL);
    CHECK_INT_EQ(jint(json_object_get(json_array_get(json_object_get(j, "trucks"), 0), "tow"),
                      "id"),
                 id);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/tows/%ld/status", id);
    json_decref(call("POST", path, attt, "{\"status\":\"cancelled\"}", &st));
    CHECK_INT_EQ(st, 200);
}

int main(int argc, char **argv)
{
    long st = 0;

    if (it_suite_start(argc, argv, &srv) != 0)
        return 1;
    if (it_key_create(&srv, "admin", NULL, "311", admin, sizeof admin) != 0 ||
        it_key_create(&srv, "tow_operator", "ATTT", "grúa ATTT", attt, sizeof attt) != 0 ||
        it_key_create(&srv, "staff", "IDAAN", "IDAAN", staff, sizeof staff) != 0) {
        fprintf(stderr, "keys were not created\n");
        return 1;
    }
    /* a contracted tow company, and its operator */
    json_decref(call("PUT", "/api/v1/entities/GRUAS-ISTMO", admin,
                     "{\"name\":\"Grúas del Istmo, S.A.\",\"kind\":\"contractor\"}", &st));
    CHECK(st == 201 || st == 200);
    if (it_key_create(&srv, "tow_operator", "GRUAS-ISTMO", "grúas istmo", other, sizeof other)) {
        fprintf(stderr, "contractor key was not created\n");
        return 1;
    }
    setup_fleet();
    RUN(test_tow_life_from_request_to_release);
    RUN(test_driver_lookup);
    RUN(test_truck_position_only_with_the_ticket);
    RUN(test_other_entities_and_roles_are_refused);
    RUN(test_bad_input_is_refused_with_reasons);
    RUN(test_lookups_counted_limited_and_not_logged);
    RUN(test_stats_count_tows_per_distrito);
    RUN(test_state_survives_a_restart);
    return it_suite_end(&srv);
}
