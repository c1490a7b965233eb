/*
 * tests/it_authz.c - the authorization matrix: every route of the route table (read from
 * routes_table() itself) called as each kind of caller, and the status each must get. A
 * route in the table without a row here fails the test, and so does a row whose route is
 * gone: adding a route means deciding, here, who may call it.
 * Also: keys are shown once and the database holds none in clear; writes are audited.
 * usage: it_authz PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <openssl/evp.h>

#include "it.h"
#include "server/routes.h"

enum caller { ANON, STAFF_OWN, STAFF_OTHER, TOW, ADMIN, REVOKED, CALLERS };
static const char *const caller_names[CALLERS] = {"anonymous",   "staff (own entity)",
                                                  "staff (other entity)", "tow_operator",
                                                  "admin",       "revoked key"};

struct row {
    unsigned method;
    const char *pattern; /* as in server/routes.c */
    const char *method_name, *path, *body;
    int status[CALLERS];
    const char *form; /* the body's Content-Type when not JSON (forms) */
};

/* Paths name fixtures made before the walk: {case} a case routed to IDAAN (the "own" staff's
 * entity), {own} a separate IDAAN case per caller (so each caller's write meets a fresh case),
 * {victim} a throwaway key and {rule} a throwaway routing rule (both removed by admin, the
 * only caller allowed to), {token} a reporter token. */
#define YARD_BODY                                                                           \
    "{\"name\":\"Patio\",\"address\":\"Calle 1\",\"lat\":8.97,\"lon\":-79.53,\"radius_m\":100,"       \
    "\"hours\":{\"es\":\"24 h\",\"en\":\"24 h\"},\"fees\":{\"tow_cents\":3500,\"daily_cents\":1000},"   \
    "\"documents\":{\"es\":\"Cédula\",\"en\":\"ID\"}}"

/* clang-format off */
static const struct row matrix[] = {
    /* method       pattern                 verb      path                         body
     *              anon staff_own staff_other tow admin revoked */
    {HTTP_GET,    "/healthz",             "GET",    "/healthz",                 NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/locate",       "GET",    "/api/v1/locate?lat=8.98&lon=-79.52", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/areas",        "GET",    "/api/v1/areas?level=distrito", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/areas/{code}", "GET",    "/api/v1/areas/0808",       NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/me",           "GET",    "/api/v1/me",               NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/keys",         "GET",    "/api/v1/keys",             NULL,
                  {401, 403, 403, 403, 200, 401}, NULL},
    {HTTP_POST,   "/api/v1/keys",         "POST",   "/api/v1/keys",
                  "{\"role\":\"tow_operator\",\"name\":\"matrix\"}",
                  {401, 403, 403, 403, 201, 401}, NULL},
    {HTTP_DELETE, "/api/v1/keys/{id}",    "DELETE", "/api/v1/keys/{victim}",     NULL,
                  {401, 403, 403, 403, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/audit",        "GET",    "/api/v1/audit",            NULL,
                  {401, 403, 403, 403, 200, 401}, NULL},
    {HTTP_POST,   "/api/v1/reports",      "POST",   "/api/v1/reports",
                  "{\"service_code\":\"fuga_agua\",\"lat\":8.98,\"lon\":-79.52}",
                  {201, 201, 201, 201, 201, 401}, NULL},
    {HTTP_GET,    "/api/v1/reports",      "GET",    "/api/v1/reports?limit=5",  NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/reports/{id}", "GET",    "/api/v1/reports/{case}",   NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_POST,   "/api/v1/reports/{id}/status", "POST", "/api/v1/reports/{own}/status",
                  "{\"status\":\"assigned\"}",
                  {401, 200, 403, 403, 200, 401}, NULL},
    {HTTP_POST,   "/api/v1/reports/{id}/photos", "POST", "/api/v1/reports/{own}/photos",
                  "--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n--B--\r\n",
                  {401, 400, 403, 403, 400, 401}, "multipart/form-data; boundary=B"},
    {HTTP_POST,   "/api/v1/reports/{id}/transfer", "POST", "/api/v1/reports/{own}/transfer",
                  "{\"entity\":\"MOP\",\"reason\":\"matrix\"}",
                  {401, 200, 403, 403, 200, 401}, NULL},
    /* a rating takes the reporter's token (X-Report-Token), never a key */
    {HTTP_POST,   "/api/v1/reports/{id}/rating", "POST", "/api/v1/reports/{case}/rating",
                  "{\"score\":5}",
                  {401, 401, 401, 401, 401, 401}, NULL},
    {HTTP_GET,    "/api/v1/followups",    "GET",    "/api/v1/followups",        NULL,
                  {401, 200, 200, 403, 200, 401}, NULL},
    {HTTP_POST,   "/api/v1/followups/{id}/done", "POST", "/api/v1/followups/999999/done", "{}",
                  {401, 404, 404, 403, 404, 401}, NULL},
    {HTTP_POST,   "/api/v1/reports/{id}/confirm", "POST", "/api/v1/reports/{case}/confirm", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/reports/{id}/history", "GET", "/api/v1/reports/{case}/history", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/media/{file}",        "GET",
                  "/media/0000000000000000000000000000000000000000000000000000000000000000.jpg",
                  NULL, {404, 404, 404, 404, 404, 401}, NULL},
    {HTTP_GET,    "/tiles/{layer}/{z}/{x}/{file}", "GET", "/tiles/heat/12/1143/1945.png", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/tiles/{file}",        "GET",    "/tiles/cases.json",        NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/hotspots",     "GET",    "/api/v1/hotspots?service=fuga_agua", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/route",        "GET",    "/api/v1/route?service_code=basura&lat=8.98&lon=-79.52",
                  NULL, {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/services",     "GET",    "/api/v1/services",         NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/services/{code}", "GET", "/api/v1/services/basura",  NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_PUT,    "/api/v1/services/{code}", "PUT", "/api/v1/services/basura",
                  "{\"name_es\":\"Basura no recogida\",\"name_en\":\"Uncollected garbage\","
                  "\"group\":\"aseo\",\"sla_hours\":48}",
                  {401, 403, 403, 403, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/entities",     "GET",    "/api/v1/entities",         NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/entities/{code}", "GET", "/api/v1/entities/IDAAN",   NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_PUT,    "/api/v1/entities/{code}", "PUT", "/api/v1/entities/AMP",
                  "{\"name\":\"Autoridad Marítima de Panamá\",\"kind\":\"national\"}",
                  {401, 403, 403, 403, 201, 401}, NULL},
    {HTTP_GET,    "/api/v1/routing-rules", "GET",   "/api/v1/routing-rules",    NULL,
                  {401, 403, 403, 403, 200, 401}, NULL},
    {HTTP_POST,   "/api/v1/routing-rules", "POST",  "/api/v1/routing-rules",
                  "{\"service_code\":\"hueco\",\"area\":\"0406\",\"entity\":\"MUN-0406\"}",
                  {401, 403, 403, 403, 201, 401}, NULL},
    {HTTP_PUT,    "/api/v1/routing-rules/{id}", "PUT", "/api/v1/routing-rules/{rule}",
                  "{\"service_code\":\"hueco\",\"area\":\"0404\",\"entity\":\"MUN-0404\"}",
                  {401, 403, 403, 403, 200, 401}, NULL},
    {HTTP_DELETE, "/api/v1/routing-rules/{id}", "DELETE", "/api/v1/routing-rules/{rule}", NULL,
                  {401, 403, 403, 403, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/yards",        "GET",    "/api/v1/yards",            NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/yards/{code}", "GET",    "/api/v1/yards/PATIO-M",    NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_PUT,    "/api/v1/yards/{code}", "PUT",    "/api/v1/yards/PATIO-MX",   YARD_BODY,
                  {401, 403, 403, 403, 201, 401}, NULL},
    {HTTP_DELETE, "/api/v1/yards/{code}", "DELETE", "/api/v1/yards/PATIO-DEL",  NULL,
                  {401, 403, 403, 403, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/trucks",       "GET",    "/api/v1/trucks",           NULL,
                  {401, 403, 403, 200, 200, 401}, NULL},
    {HTTP_PUT,    "/api/v1/trucks/{code}", "PUT",   "/api/v1/trucks/M-02",
                  "{\"entity\":\"ATTT\",\"plate\":\"M02\"}",
                  {401, 403, 403, 403, 201, 401}, NULL},
    {HTTP_DELETE, "/api/v1/trucks/{code}", "DELETE", "/api/v1/trucks/M-DEL",   NULL,
                  {401, 403, 403, 403, 200, 401}, NULL},
    /* a device posts as its operator: not even an admin posts a truck's positions */
    {HTTP_POST,   "/api/v1/trucks/{code}/positions", "POST", "/api/v1/trucks/M-01/positions",
                  "{\"positions\":[{\"lat\":8.99,\"lon\":-79.52,\"at\":\"2026-01-01T00:00:00Z\"}]}",
                  {401, 403, 403, 200, 403, 401}, NULL},
    {HTTP_GET,    "/api/v1/trucks/{code}/track", "GET", "/api/v1/trucks/M-01/track", NULL,
                  {401, 403, 403, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/tows/lookup",  "GET",    "/api/v1/tows/lookup?plate=AB1234", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_POST,   "/api/v1/tows",         "POST",   "/api/v1/tows",
                  "{\"plate\":\"AB1234\",\"lat\":8.99,\"lon\":-79.52,\"reason\":\"m\",\"ticket\":\"1\","
                  "\"truck\":\"M-01\",\"yard\":\"PATIO-M\"}",
                  {401, 403, 403, 201, 403, 401}, NULL},
    {HTTP_GET,    "/api/v1/tows",         "GET",    "/api/v1/tows",             NULL,
                  {401, 403, 403, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/tows/{id}",    "GET",    "/api/v1/tows/{tow}",       NULL,
                  {401, 403, 403, 200, 200, 401}, NULL},
    {HTTP_POST,   "/api/v1/tows/{id}/status", "POST", "/api/v1/tows/{owntow}/status",
                  "{\"status\":\"towing\"}",
                  {401, 403, 403, 200, 200, 401}, NULL},
    {HTTP_GET,    "/metrics",             "GET",    "/metrics",                 NULL,
                  {401, 403, 403, 403, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/stats",        "GET",    "/api/v1/stats?group=distrito", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/stats.csv",    "GET",    "/api/v1/stats.csv?group=entity", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/export.csv",   "GET",    "/api/v1/export.csv?month=2026-01", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/export.geojson", "GET",  "/api/v1/export.geojson?month=2026-01", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/api/v1/export/months", "GET",   "/api/v1/export/months",    NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/open311/v2/{file}",   "GET",    "/open311/v2/services.json", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_POST,   "/open311/v2/{file}",   "POST",   "/open311/v2/requests.json",
                  "service_code=basura&lat=8.98&long=-79.52",
                  {201, 201, 201, 201, 201, 401}, "application/x-www-form-urlencoded"},
    {HTTP_GET,    "/open311/v2/services/{file}", "GET", "/open311/v2/services/basura.xml", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/open311/v2/requests/{file}", "GET", "/open311/v2/requests/{case}.json", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/open311/v2/tokens/{file}", "GET", "/open311/v2/tokens/{token}.json", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    /* the browser app: public files, but a bad key is still refused */
    {HTTP_GET,    "/", "GET", "/", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/caso", "GET", "/caso", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/caso/{id}", "GET", "/caso/{case}", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/cuadrilla", "GET", "/cuadrilla", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/grua", "GET", "/grua", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/estadisticas", "GET", "/estadisticas", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/static/{build}/{*path}", "GET", "/static/0000000000000000/js/api.js", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/sw.js", "GET", "/sw.js", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/manifest.webmanifest", "GET", "/manifest.webmanifest", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
    {HTTP_GET,    "/favicon.svg", "GET", "/favicon.svg", NULL,
                  {200, 200, 200, 200, 200, 401}, NULL},
};
/* clang-format on */

static struct it_server srv;
static const char *panama_db;
static char keys[CALLERS][128];
static char victim_id[32];         /* a key for the DELETE row to revoke */
static char a_case[32], a_token[80], own_case[CALLERS][32], rule_id[32];
static char a_tow[32], own_tow[CALLERS][32]; /* tows of truck M-01 (ATTT) */

/* path with {victim}, {case}, {own}, {rule} and {token} filled in for caller c */
static void fill(const char *path, int c, char *out, size_t n)
{
    static const struct {
        const char *name;
        int which;
    } slots[] = {{"{victim}", 0}, {"{case}", 1}, {"{owntow}", 6}, {"{own}", 2}, {"{rule}", 3},
                 {"{token}", 4}, {"{tow}", 5}};
    size_t k = 0;

    while (*path && k + 1 < n) {
        size_t i;
        for (i = 0; i < sizeof slots / sizeof slots[0]; i++)
            if (strncmp(path, slots[i].name, strlen(slots[i].name)) == 0)
                break;
        if (i == sizeof slots / sizeof slots[0]) {
            out[k++] = *path++;
            continue;
        }
        const char *v = slots[i].which == 0   ? victim_id
                        : slots[i].which == 1 ? a_case
                        : slots[i].which == 2 ? own_case[c]
                        : slots[i].which == 3 ? rule_id
                        : slots[i].which == 4 ? a_token
                        : slots[i].which == 5 ? a_tow
                                              : own_tow[c];
        k += (size_t)snprintf(out + k, n - k, "%s", v);
        path += strlen(slots[i].name);
    }
    out[k < n ? k : n - 1] = '\0';
}

static void test_every_route_has_a_matrix_row(void)
{
    size_t n;
    const struct route *rt = routes_table(&n);
    int seen[sizeof matrix / sizeof matrix[0]] = {0};

    for (size_t i = 0; i < n; i++)
        for (unsigned bit = 1; bit <= HTTP_OTHER; bit <<= 1) {
            size_t k;
            if (!(rt[i].methods & bit))
                continue;
            for (k = 0; k < sizeof matrix / sizeof matrix[0]; k++)
                if (matrix[k].method == bit && strcmp(matrix[k].pattern, rt[i].pattern) == 0)
                    break;
            if (k == sizeof matrix / sizeof matrix[0])
                CHECK_REPORT("route %s (method bit %u) has no row in the authorization matrix",
                             rt[i].pattern, bit);
            else
                seen[k] = 1;
        }
    for (size_t k = 0; k < sizeof matrix / sizeof matrix[0]; k++)
        if (!seen[k])
            CHECK_REPORT("matrix row %s %s matches no route", matrix[k].method_name,
                         matrix[k].pattern);
}

static void test_matrix(void)
{
    for (size_t k = 0; k < sizeof matrix / sizeof matrix[0]; k++) {
        const struct row *m = &matrix[k];

        for (int c = 0; c < CALLERS; c++) {
            struct it_reply r;
            char path[256];
            fill(m->path, c, path, sizeof path);
            if (m->form) {
                char auth[1024];
                char ct[200];
                struct curl_slist *h;
                snprintf(ct, sizeof ct, "Content-Type: %s", m->form);
                h = curl_slist_append(NULL, ct);
                if (c != ANON) {
                    snprintf(auth, sizeof auth, "Authorization: Bearer %s", keys[c]);
                    h = curl_slist_append(h, auth);
                }
                CHECK(it_request(&srv, m->method_name, path, m->body, strlen(m->body), h, &r) ==
                      0);
                curl_slist_free_all(h);
            } else {
                CHECK(it_send(&srv, m->method_name, path, c == ANON ? NULL : keys[c], m->body,
                              &r) == 0);
            }
            if (r.status != m->status[c])
                CHECK_REPORT("%s %s as %s: %ld, want %d (%.300s)", m->method_name, path,
                             caller_names[c], r.status, m->status[c], r.body);
            if (r.status == 401 && !strstr(r.headers, "WWW-Authenticate: Bearer"))
                CHECK_REPORT("%s %s as %s: 401 without WWW-Authenticate", m->method_name, path,
                             caller_names[c]);
            free(r.body);
        }
    }
}

static void test_me_says_who_is_calling(void)
{
    struct it_reply r;
    json_t *j;

    CHECK(it_send(&srv, "GET", "/api/v1/me", keys[STAFF_OWN], NULL, &r) == 0);
    j = it_json(&r);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "role")), "staff");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "entity")), "IDAAN");
    json_decref(j);
    free(r.body);
    CHECK(it_send(&srv, "GET", "/api/v1/me", NULL, NULL, &r) == 0);
    j = it_json(&r);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "role")), "anonymous");
    json_decref(j);
    free(r.body);
    /* malformed and unknown keys are refused, not taken for anonymous */
    CHECK(it_send(&srv, "GET", "/api/v1/me", "rpk_short", NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 401);
    free(r.body);
    CHECK(it_send(&srv, "GET", "/api/v1/me", "rpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                  NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 401);
    free(r.body);
}

/* Reads a whole file (the database and its WAL) to look for the clear key. */
static int file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    size_t n = strlen(needle), len = 0, cap = 0;
    char *buf = NULL, chunk[65536];
    size_t got;
    int found = 0;

    if (!fp)
        return 0;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        if (len + got > cap) {
            cap = (len + got) * 2;
            buf = realloc(buf, cap);
        }
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(fp);
    for (size_t i = 0; buf && i + n <= len && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

static void test_keys_are_shown_once_and_stored_hashed(void)
{
    char key[128], path[256], out[8192];
    char *list_argv[] = {(char *)it_bin(), "keys", "list", "--db", srv.db, NULL};
    unsigned char hash[32];
    unsigned hlen = 0;
    char hex[65];
    struct it_reply r;
    json_t *j;

    CHECK(it_key_create(&srv, "tow_operator", NULL, "grúas norte", key, sizeof key) == 0);
    CHECK(strncmp(key, "rpk_", 4) == 0 && strlen(key) == 47); /* 256 bits, base64url */
    /* an API-created key too: its body is the only place it ever appears */
    CHECK(it_send(&srv, "POST", "/api/v1/keys", keys[ADMIN],
                  "{\"role\":\"staff\",\"entity\":\"AAUD\",\"name\":\"supervisora\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    j = it_json(&r);
    CHECK(strstr(r.headers, "Cache-Control: no-store") != NULL);
    CHECK(json_string_length(json_object_get(j, "key")) == 47);
    for (int pass = 0; pass < 2; pass++) {
        const char *k = pass ? json_string_value(json_object_get(j, "key")) : key;
        if (!k)
            continue;
        for (const char *suffix = ""; suffix; suffix = suffix[0] ? NULL : "-wal") {
            snprintf(path, sizeof path, "%s%s", srv.db, suffix);
            if (file_contains(path, k))
                CHECK_REPORT("%s holds a key in clear", path);
        }
        /* what is stored is the SHA-256 of the key */
        EVP_Digest(k, strlen(k), hash, &hlen, EVP_sha256(), NULL);
        for (unsigned i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", hash[i]);
        {
            char sql[256];
            snprintf(sql, sizeof sql, "SELECT count(*) FROM api_keys WHERE hex(hash) = upper('%s')",
                     hex);
            CHECK_INT_EQ(it_sql_count(&srv, sql), 1);
        }
    }
    /* lists show a prefix, never the key */
    CHECK(it_run_out(list_argv, out, sizeof out) == 0);
    CHECK(strstr(out, "grúas norte") != NULL);
    CHECK(strstr(out, key) == NULL);
    CHECK(strstr(out, key + 4) == NULL);
    free(r.body);
    CHECK(it_send(&srv, "GET", "/api/v1/keys", keys[ADMIN], NULL, &r) == 0);
    CHECK(strstr(r.body, key + 4) == NULL);
    CHECK(strstr(r.body, "\"key\"") == NULL);
    CHECK(strstr(r.body, "supervisora") != NULL);
    free(r.body);
    json_decref(j);
}

static void test_key_requests_are_checked(void)
{
    struct it_reply r;
    json_t *j;
    static const struct {
        const char *body;
        int status;
        const char *code;
    } bad[] = {
        {"{\"role\":\"staff\",\"name\":\"x\"}", 400, "invalid_argument"},          /* no entity */
        {"{\"role\":\"staff\",\"entity\":\"NOPE\",\"name\":\"x\"}", 400, "invalid_argument"},
        {"{\"role\":\"root\",\"name\":\"x\"}", 400, "invalid_argument"},
        {"{\"role\":\"admin\",\"entity\":\"IDAAN\",\"name\":\"x\"}", 400, "invalid_argument"},
        {"{\"role\":\"admin\"}", 400, "invalid_argument"},
        {"{\"role\":5,\"name\":\"x\"}", 400, "invalid_argument"},
        {"{\"role\":\"admin\",\"name\":\"x\",\"name\":\"y\"}", 400, "invalid_json"},
        {"[1,2]", 400, "invalid_json"},
        {"{\"role\":", 400, "invalid_json"},
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(it_send(&srv, "POST", "/api/v1/keys", keys[ADMIN], bad[i].body, &r) == 0);
        j = it_json(&r);
        if (r.status != bad[i].status || !it_error_code(j) ||
            strcmp(it_error_code(j), bad[i].code) != 0)
            CHECK_REPORT("%s: %ld %s", bad[i].body, r.status, r.body);
        json_decref(j);
        free(r.body);
    }
    /* not JSON at all */
    {
        char auth[1024];
        struct curl_slist *h;
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", keys[ADMIN]);
        h = curl_slist_append(NULL, auth);
        h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
        CHECK(it_request(&srv, "POST", "/api/v1/keys", "role=admin", 10, h, &r) == 0);
        CHECK_INT_EQ(r.status, 415);
        curl_slist_free_all(h);
        free(r.body);
    }
    /* revoking twice: 409; unknown id: 404 */
    CHECK(it_send(&srv, "DELETE", "/api/v1/keys/999999", keys[ADMIN], NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 404);
    free(r.body);
    CHECK(it_send(&srv, "DELETE", "/api/v1/keys/abc", keys[ADMIN], NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 404);
    free(r.body);
    {
        char path[64];
        snprintf(path, sizeof path, "/api/v1/keys/%s", victim_id);
        CHECK(it_send(&srv, "DELETE", path, keys[ADMIN], NULL, &r) == 0);
        CHECK_INT_EQ(r.status, 409);
        free(r.body);
    }
}

/* Key writes, from the API and from the command line, are in the audit log with who did them
 * and the before/after of the key. */
static void test_writes_are_audited(void)
{
    struct it_reply r;
    json_t *j, *e;
    size_t i;
    int saw_cli = 0, saw_api_create = 0, saw_revoke = 0;

    CHECK(it_send(&srv, "GET", "/api/v1/audit?limit=1000", keys[ADMIN], NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    j = it_json(&r);
    json_array_foreach(json_object_get(j, "entries"), i, e)
    {
        const char *action = json_string_value(json_object_get(e, "action"));
        const char *actor = json_string_value(json_object_get(e, "actor"));
        if (!action || !actor)
            continue;
        if (strcmp(action, "key.create") == 0 && strcmp(actor, "cli") == 0)
            saw_cli = 1;
        if (strcmp(action, "key.create") == 0 && strncmp(actor, "key:", 4) == 0 &&
            strcmp(json_string_value(json_object_get(e, "actor_role")), "admin") == 0)
            saw_api_create = 1;
        if (strcmp(action, "key.revoke") == 0 &&
            json_string_value(json_object_get(json_object_get(e, "after"), "revoked_at")) &&
            json_is_null(json_object_get(json_object_get(e, "before"), "revoked_at")))
            saw_revoke = 1;
    }
    CHECK(saw_cli);
    CHECK(saw_api_create);
    CHECK(saw_revoke);
    json_decref(j);
    free(r.body);
    /* paging: limit 2 gives a next cursor that continues below it */
    CHECK(it_send(&srv, "GET", "/api/v1/audit?limit=2", keys[ADMIN], NULL, &r) == 0);
    j = it_json(&r);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "entries")), 2);
    CHECK(json_integer_value(json_object_get(j, "next")) > 0);
    json_decref(j);
    free(r.body);
}

static void make_keys(void)
{
    char key[128], out[4096];
    char *list_argv[] = {(char *)it_bin(), "keys", "list", "--db", srv.db, NULL};
    char *revoke_argv[] = {(char *)it_bin(), "keys", "revoke", "--db", srv.db, NULL, NULL};
    char *line;

    CHECK(it_key_create(&srv, "staff", "IDAAN", "cuadrilla IDAAN", keys[STAFF_OWN], 128) == 0);
    CHECK(it_key_create(&srv, "staff", "AAUD", "cuadrilla AAUD", keys[STAFF_OTHER], 128) == 0);
    CHECK(it_key_create(&srv, "tow_operator", "ATTT", "grúas", keys[TOW], 128) == 0);
    CHECK(it_key_create(&srv, "admin", NULL, "311 admin", keys[ADMIN], 128) == 0);
    CHECK(it_key_create(&srv, "staff", "IDAAN", "ex-empleado", keys[REVOKED], 128) == 0);
    CHECK(it_key_create(&srv, "tow_operator", NULL, "victim", key, sizeof key) == 0);
    /* ids in creation order: 1..6; revoke the 5th from the command line */
    CHECK(it_run_out(list_argv, out, sizeof out) == 0);
    line = strstr(out, "ex-empleado");
    CHECK(line != NULL);
    revoke_argv[5] = "5";
    CHECK(it_run_out(revoke_argv, out, sizeof out) == 0);
    snprintf(victim_id, sizeof victim_id, "6");
    /* cases routed to IDAAN: one to read, one per caller to change; a rule to edit, delete */
    for (int c = -1; c < CALLERS; c++) {
        struct it_reply r;
        json_t *j;
        CHECK(it_send(&srv, "POST", "/api/v1/reports", NULL,
                      "{\"service_code\":\"fuga_agua\",\"lat\":8.98,\"lon\":-79.52}", &r) == 0);
        j = it_json(&r);
        snprintf(c < 0 ? a_case : own_case[c], 32, "%s",
                 json_string_value(json_object_get(j, "id")));
        if (c < 0)
            snprintf(a_token, sizeof a_token, "%s",
                     json_string_value(json_object_get(j, "token")));
        json_decref(j);
        free(r.body);
    }
    {
        struct it_reply r;
        json_t *j;
        CHECK(it_send(&srv, "POST", "/api/v1/routing-rules", keys[ADMIN],
                      "{\"service_code\":\"hueco\",\"area\":\"0101\",\"entity\":\"MOP\"}",
                      &r) == 0);
        j = it_json(&r);
        snprintf(rule_id, sizeof rule_id, "%lld",
                 (long long)json_integer_value(json_object_get(j, "id")));
        json_decref(j);
        free(r.body);
    }
    /* a yard and a truck of the ATTT, a throwaway of each, and tows: one to read, one per
     * caller to move */
    {
        static const char *const puts[][2] = {
            {"/api/v1/yards/PATIO-M", YARD_BODY},
            {"/api/v1/yards/PATIO-DEL", YARD_BODY},
            {"/api/v1/trucks/M-01", "{\"entity\":\"ATTT\",\"plate\":\"M01\"}"},
            {"/api/v1/trucks/M-DEL", "{\"entity\":\"ATTT\",\"plate\":\"M99\"}"},
        };
        for (size_t i = 0; i < sizeof puts / sizeof puts[0]; i++) {
            struct it_reply r;
            CHECK(it_send(&srv, "PUT", puts[i][0], keys[ADMIN], puts[i][1], &r) == 0);
            CHECK_INT_EQ(r.status, 201);
            free(r.body);
        }
        for (int c = -1; c < CALLERS; c++) {
            struct it_reply r;
            json_t *j;
            CHECK(it_send(&srv, "POST", "/api/v1/tows", keys[TOW],
                          "{\"plate\":\"MX1000\",\"lat\":8.99,\"lon\":-79.52,\"reason\":\"m\","
                          "\"ticket\":\"1\",\"truck\":\"M-01\",\"yard\":\"PATIO-M\"}",
                          &r) == 0);
            CHECK_INT_EQ(r.status, 201);
            j = it_json(&r);
            snprintf(c < 0 ? a_tow : own_tow[c], 32, "%lld",
                     (long long)json_integer_value(json_object_get(j, "id")));
            json_decref(j);
            free(r.body);
        }
    }
    /* bad subcommands and roles exit 2 */
    {
        char *bad_role[] = {(char *)it_bin(), "keys", "create", "--db", srv.db, "--role", "root",
                            "--name", "x", NULL};
        char *no_name[] = {(char *)it_bin(), "keys", "create", "--db", srv.db, "--role", "admin",
                           NULL};
        char *again[] = {(char *)it_bin(), "keys", "revoke", "--db", srv.db, "5", NULL};
        CHECK_INT_EQ(it_run_out(bad_role, out, sizeof out), 2);
        CHECK_INT_EQ(it_run_out(no_name, out, sizeof out), 2);
        CHECK_INT_EQ(it_run_out(again, out, sizeof out), 1); /* already revoked */
    }
}

int main(int argc, char **argv)
{
    if (it_suite_start(argc, argv, &srv) != 0)
        return 1;
    panama_db = argv[1];
    RUN(make_keys);
    RUN(test_every_route_has_a_matrix_row);
    RUN(test_matrix);
    RUN(test_me_says_who_is_calling);
    RUN(test_keys_are_shown_once_and_stored_hashed);
    RUN(test_key_requests_are_checked);
    RUN(test_writes_are_audited);
    return it_suite_end(&srv);
}
