/*
 * tests/it_export.c - the open-data export through the real server: cases made through the
 * API with a reporter's name, e-mail and phone planted, one private case with a secret
 * description, one description that a naive CSV writer breaks (comma, quote, line break, a
 * leading '='); then every row of export.csv (parsed as RFC 4180) and export.geojson compared
 * with the reports table, the reporter's fields searched for and not found, pages of rows that
 * share one created_at crossed without a row lost or repeated, month and day ranges, the
 * monthly index, and malformed ranges refused.
 * usage: it_export PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>

#include "it.h"

#define PLANTED_NAME   "Zoila Quintero Planted"
#define PLANTED_EMAIL  "zoila.planted@example.com"
#define PLANTED_PHONE  "+507 6123-9876"
#define SECRET_DESC    "secreto: mi vecino Rogelio bota basura"
#define TRICKY_DESC    "=SUM(A1) \"charco\", grande\nsegunda línea"
#define COPIES         600 /* > two pages of EXPORT_PAGE_ROWS, all created in one second */

static struct it_server srv;
static char admin[128];

static void post(const char *body)
{
    struct it_reply r;

    CHECK(it_send(&srv, "POST", "/api/v1/reports", NULL, body, &r) == 0);
    if (r.status != 201)
        CHECK_REPORT("%ld %s", r.status, r.body);
    free(r.body);
}

static void make_fixture(void)
{
    char body[1024];

    snprintf(body, sizeof body,
             "{\"service_code\":\"fuga_agua\",\"lat\":8.98349,\"lon\":-79.51951,"
             "\"description\":\"tubo roto\",\"reporter\":{\"name\":\"" PLANTED_NAME
             "\",\"email\":\"" PLANTED_EMAIL "\",\"phone\":\"" PLANTED_PHONE "\"}}");
    post(body);
    post("{\"service_code\":\"basura\",\"lat\":9.0401,\"lon\":-79.4601,\"private\":true,"
         "\"description\":\"" SECRET_DESC "\",\"reporter\":{\"email\":\"" PLANTED_EMAIL "\"}}");
    post("{\"service_code\":\"hueco\",\"lat\":8.4300,\"lon\":-82.4300,"
         "\"description\":\"=SUM(A1) \\\"charco\\\", grande\\nsegunda línea\","
         "\"reporter\":{\"phone\":\"" PLANTED_PHONE "\"}}");
    post("{\"service_code\":\"alumbrado\",\"lat\":7.9650,\"lon\":-80.4300}");
    /* one resolved within its SLA, one a month back */
    it_sql(&srv, "UPDATE reports SET status = 'resolved', closed_at = strftime('%Y-%m-%dT%H:%M:%SZ',"
            " created_at, '+3 hours') WHERE id = 1");
    it_sql(&srv, "UPDATE reports SET created_at = '2026-01-15T12:00:00Z', updated_at ="
            " '2026-01-15T12:00:00Z', due_at = '2026-02-14T12:00:00Z' WHERE id = 4");
    /* many cases in one second: pages end between rows of the same created_at */
    snprintf(body, sizeof body,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " INSERT INTO reports (case_no, token_hash, service_code, status, lat, lon,"
             " provincia_code, distrito_code, corregimiento_code, location_source, description,"
             " reporter_email, entity_code, created_at, updated_at, due_at, geom)"
             " SELECT printf('2025-%%06d', i), randomblob(32), 'basura', 'received', 8.99, -79.52,"
             " '08', '0808', '080807', 'device', 'copia ' || i, '" PLANTED_EMAIL "', 'AAUD',"
             " '2025-06-01T15:00:00Z', '2025-06-01T15:00:00Z', '2025-06-03T15:00:00Z',"
             " MakePoint(-79.52, 8.99, 4326) FROM n",
             COPIES);
    if (strncmp(srv.db, "postgresql://", 13) == 0) { /* the same rows in PostgreSQL's words */
        snprintf(body, sizeof body,
                 "INSERT INTO reports (case_no, token_hash, service_code, status, lat, lon,"
                 " provincia_code, distrito_code, corregimiento_code, location_source, description,"
                 " reporter_email, entity_code, created_at, updated_at, due_at, geom)"
                 " SELECT '2025-' || lpad(i::text, 6, '0'), decode(md5(i::text) || md5('x' || i), 'hex'),"
                 " 'basura', 'received', 8.99, -79.52, '08', '0808', '080807', 'device', 'copia ' || i,"
                 " '" PLANTED_EMAIL "', 'AAUD', '2025-06-01T15:00:00Z', '2025-06-01T15:00:00Z',"
                 " '2025-06-03T15:00:00Z', ST_SetSRID(ST_MakePoint(-79.52, 8.99), 4326)"
                 " FROM generate_series(1, %d) i",
                 COPIES);
        it_sql(&srv, body);
    } else { /* MakePoint (and the R*Tree triggers on geom) need SpatiaLite in this connection */
        sqlite3 *db = NULL;
        char *msg = NULL;
        CHECK(sqlite3_open(srv.db, &db) == SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        sqlite3_enable_load_extension(db, 1);
        if (sqlite3_load_extension(db, "mod_spatialite", NULL, &msg) != SQLITE_OK)
            CHECK_REPORT("mod_spatialite: %s", msg ? msg : "?");
        sqlite3_free(msg);
        msg = NULL;
        if (sqlite3_exec(db, body, NULL, NULL, &msg) != SQLITE_OK)
            CHECK_REPORT("copies: %s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
    }
}

/* ---- CSV, RFC 4180 ---- */

#define FIELDS_MAX 32

/* Splits the record at *p into fields (decoded in place into buf); returns how many, -1 at the
 * end of the text. */
static int csv_record(const char **p, char *buf, size_t n, char *fields[FIELDS_MAX])
{
    const char *s = *p;
    size_t k = 0;
    int nf = 0;

    if (!*s)
        return -1;
    for (;;) {
        fields[nf++] = buf + k;
        if (*s == '"') {
            s++;
            for (;;) {
                if (!*s)
                    return -1; /* unterminated */
                if (*s == '"' && s[1] == '"')
                    buf[k++] = '"', s += 2;
                else if (*s == '"') {
                    s++;
                    break;
                } else
                    buf[k++] = *s++;
                if (k + 1 >= n)
                    return -1;
            }
        } else {
            while (*s && *s != ',' && *s != '\r' && *s != '\n' && k + 1 < n)
                buf[k++] = *s++;
        }
        buf[k++] = '\0';
        if (*s == ',' && nf < FIELDS_MAX) {
            s++;
            continue;
        }
        if (*s == '\r')
            s++;
        if (*s == '\n')
            s++;
        break;
    }
    *p = s;
    return nf;
}

struct expect {
    char case_no[32], service[32], entity[32], status[16], created[32], closed[32];
    char prov[8], dist[8], corr[8], desc[256];
    double lat, lon;
    int within, is_private;
};

struct expect_rows {
    struct expect *e;
    int n, max;
};

static void expect_row(void *ctx, int nc, const char *const *v)
{
    struct expect_rows *x = ctx;
    struct expect *e;

    if (x->n >= x->max || nc < 14)
        return;
    e = &x->e[x->n++];
    {
        char *dst[] = {e->case_no, e->service, e->entity, e->status, e->created,
                       e->closed,  e->prov,    e->dist,   e->corr,   e->desc};
        size_t len[] = {sizeof e->case_no, sizeof e->service, sizeof e->entity,
                        sizeof e->status,  sizeof e->created, sizeof e->closed,
                        sizeof e->prov,    sizeof e->dist,    sizeof e->corr,
                        sizeof e->desc};
        for (int i = 0; i < 10; i++)
            snprintf(dst[i], len[i], "%s", v[i] ? v[i] : "");
    }
    e->lat = v[10] ? strtod(v[10], NULL) : 0;
    e->lon = v[11] ? strtod(v[11], NULL) : 0;
    e->within = v[12] ? atoi(v[12]) : 0;
    e->is_private = v[13] ? atoi(v[13]) : 0;
}

static int load_expected(struct expect *e, int max, const char *where)
{
    struct expect_rows x = {e, 0, max};
    char sql[1024];

    snprintf(sql, sizeof sql,
             "SELECT case_no, service_code, entity_code, status, created_at,"
             " coalesce(closed_at, ''), coalesce(provincia_code, ''), coalesce(distrito_code, ''),"
             " coalesce(corregimiento_code, ''), coalesce(description, ''), lat, lon,"
             " CASE WHEN closed_at IS NULL THEN -1 WHEN closed_at <= due_at THEN 1 ELSE 0 END, is_private"
             " FROM reports WHERE %s ORDER BY created_at, id",
             where);
    CHECK(it_query(srv.db, sql, expect_row, &x) >= 0);
    return x.n;
}

static void no_reporter_data(const char *body)
{
    CHECK(strstr(body, PLANTED_NAME) == NULL);
    CHECK(strstr(body, PLANTED_EMAIL) == NULL);
    CHECK(strstr(body, PLANTED_PHONE) == NULL);
    CHECK(strstr(body, "6123-9876") == NULL);
    CHECK(strstr(body, SECRET_DESC) == NULL);
    CHECK(strstr(body, "Rogelio") == NULL);
}

static void check_csv(const char *path, const char *where)
{
    static struct expect e[COPIES + 16];
    static char buf[8192];
    int n = load_expected(e, COPIES + 16, where), rows = 0;
    char *f[FIELDS_MAX], rounded[32];
    struct it_reply r;
    const char *p;

    CHECK(n > 0);
    CHECK(it_get(&srv, path, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    no_reporter_data(r.body);
    p = r.body;
    CHECK_INT_EQ(csv_record(&p, buf, sizeof buf, f), 19);
    CHECK_STR_EQ(f[0], "id");
    CHECK_STR_EQ(f[18], "description");
    for (int nf; (nf = csv_record(&p, buf, sizeof buf, f)) >= 0; rows++) {
        const struct expect *x = &e[rows < n ? rows : n - 1];
        CHECK_INT_EQ(nf, 19);
        if (nf != 19 || rows >= n)
            break;
        CHECK_STR_EQ(f[0], x->case_no);
        CHECK_STR_EQ(f[1], x->service);
        CHECK_STR_EQ(f[3], x->entity);
        CHECK(f[4][0] != '\0'); /* entity name */
        CHECK_STR_EQ(f[5], x->status);
        CHECK_STR_EQ(f[6], x->created);
        CHECK_STR_EQ(f[7], x->closed);
        CHECK_STR_EQ(f[9], x->within < 0 ? "" : x->within ? "true" : "false");
        CHECK_STR_EQ(f[10], x->prov);
        CHECK_STR_EQ(f[12], x->dist);
        CHECK_STR_EQ(f[14], x->corr);
        CHECK(!x->corr[0] || f[15][0]); /* a code has its name */
        snprintf(rounded, sizeof rounded, "%.3f", round(x->lat * 1000) / 1000);
        CHECK_STR_EQ(f[16], rounded);
        snprintf(rounded, sizeof rounded, "%.3f", round(x->lon * 1000) / 1000);
        CHECK_STR_EQ(f[17], rounded);
        if (x->is_private)
            CHECK_STR_EQ(f[18], "");
        else if (x->desc[0] == '=')
            CHECK(f[18][0] == '\'' && strcmp(f[18] + 1, x->desc) == 0);
        else
            CHECK_STR_EQ(f[18], x->desc);
    }
    CHECK_INT_EQ(rows, n);
    free(r.body);
}

static void test_csv_rows_equal_the_cases(void)
{
    check_csv("/api/v1/export.csv", "1 = 1");
    check_csv("/api/v1/export.csv?month=2026-01", "created_at >= '2026-01-01T05:00:00Z'"
                                                  " AND created_at < '2026-02-01T05:00:00Z'");
    check_csv("/api/v1/export.csv?from=2025-06-01&to=2025-06-01",
              "created_at >= '2025-06-01T05:00:00Z' AND created_at < '2025-06-02T05:00:00Z'");
    CHECK_INT_EQ(it_sql_count(&srv, "SELECT count(*) FROM reports WHERE created_at LIKE '2025-06-01%'"),
                 COPIES);
}

static void test_geojson_features_equal_the_cases(void)
{
    static struct expect e[COPIES + 16];
    int n = load_expected(e, COPIES + 16, "1 = 1");
    struct it_reply r;
    json_t *j, *feats;
    size_t i;
    json_t *f;

    CHECK(it_get(&srv, "/api/v1/export.geojson", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    no_reporter_data(r.body);
    j = it_json(&r);
    CHECK(j != NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "type")), "FeatureCollection");
    feats = json_object_get(j, "features");
    CHECK_INT_EQ((long)json_array_size(feats), n);
    json_array_foreach(feats, i, f)
    {
        json_t *pr = json_object_get(f, "properties"), *c;
        if ((int)i >= n)
            break;
        c = json_object_get(json_object_get(f, "geometry"), "coordinates");
        CHECK_STR_EQ(json_string_value(json_object_get(pr, "id")), e[i].case_no);
        CHECK_NEAR(json_number_value(json_array_get(c, 0)), round(e[i].lon * 1000) / 1000, 1e-9);
        CHECK_NEAR(json_number_value(json_array_get(c, 1)), round(e[i].lat * 1000) / 1000, 1e-9);
        CHECK(json_object_get(pr, "reporter") == NULL && json_object_get(pr, "email") == NULL);
        if (e[i].within < 0)
            CHECK(json_is_null(json_object_get(pr, "within_sla")));
        else
            CHECK(json_is_true(json_object_get(pr, "within_sla")) == (e[i].within == 1));
        if (e[i].is_private)
            CHECK(json_is_null(json_object_get(pr, "description")));
        else if (strcmp(e[i].desc, TRICKY_DESC) == 0)
            CHECK_STR_EQ(json_string_value(json_object_get(pr, "description")), TRICKY_DESC);
    }
    json_decref(j);
    free(r.body);
}

static void test_months_index(void)
{
    struct it_reply r;
    json_t *j, *m;
    size_t i;
    long total = 0;

    CHECK(it_get(&srv, "/api/v1/export/months", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    j = it_json(&r);
    CHECK(strstr(json_string_value(json_object_get(j, "licence")), "CC BY 4.0") != NULL);
    json_array_foreach(json_object_get(j, "months"), i, m)
    {
        const char *month = json_string_value(json_object_get(m, "month"));
        char sql[256], url[64];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM reports WHERE substr(date(created_at, '-5 hours'), 1, 7) = '%.7s'",
                 month);
        CHECK_INT_EQ(json_integer_value(json_object_get(m, "cases")), it_sql_count(&srv, sql));
        snprintf(url, sizeof url, "/api/v1/export.csv?month=%.7s", month);
        CHECK_STR_EQ(json_string_value(json_object_get(m, "csv")), url);
        total += (long)json_integer_value(json_object_get(m, "cases"));
    }
    CHECK_INT_EQ(json_array_size(json_object_get(j, "months")), 3); /* 2025-06, 2026-01, now */
    CHECK_INT_EQ(total, it_sql_count(&srv, "SELECT count(*) FROM reports"));
    json_decref(j);
    free(r.body);
}

static void test_bad_ranges_are_refused(void)
{
    static const char *const bad[] = {
        "/api/v1/export.csv?month=2026-13",     "/api/v1/export.csv?month=26-01",
        "/api/v1/export.geojson?from=ayer",     "/api/v1/export.csv?from=2026-02-30",
        "/api/v1/export.csv?from=2026-03-01&to=2026-02-01",
        "/api/v1/export.csv?month=2026-01&from=2026-01-01",
    };
    struct it_reply r;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j;
        CHECK(it_get(&srv, bad[i], &r) == 0);
        CHECK_INT_EQ(r.status, 400);
        j = it_json(&r);
        CHECK_STR_EQ(it_error_code(j), "invalid_argument");
        json_decref(j);
        free(r.body);
    }
}

/* The private description stays with the entity's staff. */
static void test_private_description_only_for_staff(void)
{
    struct it_reply r;
    json_t *j;

    CHECK(it_get(&srv, "/api/v1/reports/2026-000002", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.body, "Rogelio") == NULL);
    j = it_json(&r);
    CHECK(json_is_true(json_object_get(j, "private")));
    json_decref(j);
    free(r.body);
    CHECK(it_get(&srv, "/api/v1/reports?limit=100", &r) == 0);
    CHECK(strstr(r.body, "Rogelio") == NULL);
    free(r.body);
    CHECK(it_get(&srv, "/open311/v2/requests.json", &r) == 0);
    CHECK(strstr(r.body, "Rogelio") == NULL);
    free(r.body);
    CHECK(it_send(&srv, "GET", "/api/v1/reports/2026-000002", admin, NULL, &r) == 0);
    CHECK(strstr(r.body, "Rogelio") != NULL);
    free(r.body);
    CHECK(it_send(&srv, "POST", "/api/v1/reports", NULL,
                  "{\"service_code\":\"basura\",\"lat\":8.98,\"lon\":-79.52,\"private\":\"si\"}",
                  &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    free(r.body);
}

int main(int argc, char **argv)
{
    if (it_suite_start(argc, argv, &srv) != 0)
        return 1;
    if (it_key_create(&srv, "admin", NULL, "311", admin, sizeof admin) != 0) {
        fprintf(stderr, "keys were not created\n");
        return 1;
    }
    RUN(make_fixture);
    RUN(test_csv_rows_equal_the_cases);
    RUN(test_geojson_features_equal_the_cases);
    RUN(test_months_index);
    RUN(test_bad_ranges_are_refused);
    RUN(test_private_description_only_for_staff);
    return it_suite_end(&srv);
}
