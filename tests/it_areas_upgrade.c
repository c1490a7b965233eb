/*
 * tests/it_areas_upgrade.c - `reporta init` makes an existing database follow the shipped
 * default areas. A database initialised with the previous default (tests/fixtures/areas-2025:
 * 76 distritos, Panamá Oeste under the old codes) gets cases, routing rules, staff keys and a
 * transfer in Panamá Oeste through the real server; `reporta init` with the shipped INEC 2023
 * data then gives it 13/82/698 areas, every row keyed by a changed code re-keyed by name and
 * parent (1302 Capira -> 1303 while 1303 Chame -> 1304) and nothing else changed; run again,
 * it changes nothing. Also: a database from before versions were recorded is upgraded, an
 * operator's import is never overwritten, and a conflicting municipality code changes nothing.
 * usage: it_areas_upgrade OLD_AREAS_DIR SHIPPED_AREAS_DIR   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <sqlite3.h>

#include "it.h"

static const char *old_dir, *new_dir;
static char work[] = "/tmp/reporta-it-upgrade-XXXXXX";

/* ---- snapshots: rows as text, one line each ---- */

struct rows {
    char **v;
    size_t n;
};

static void rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

/* Every row of sql on db, fields joined by '|'; codes in map (pairs old, new, NULL-ended) are
 * replaced field by field when map is given. */
static int rows_read(const char *db, const char *sql, const char *const *map, struct rows *out)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;

    out->v = NULL;
    out->n = 0;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "rows_read %s: %s\n", sql, h ? sqlite3_errmsg(h) : "open");
        goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        char line[4096] = "";
        size_t at = 0;
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *f = (const char *)sqlite3_column_text(st, c);
            f = f ? f : "";
            for (int k = 0; map && map[k]; k += 2)
                if (strcmp(f, map[k]) == 0) {
                    f = map[k + 1];
                    break;
                }
            at += (size_t)snprintf(line + at, sizeof line - at, "%s%s", c ? "|" : "", f);
            if (at >= sizeof line)
                at = sizeof line - 1;
        }
        out->v = realloc(out->v, (out->n + 1) * sizeof *out->v);
        out->v[out->n++] = strdup(line);
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(h);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The rows of a and b agree as sets (each sorted first); differences are reported. */
static void rows_check_same(const char *what, struct rows *a, struct rows *b)
{
    size_t i = 0, j = 0;
    int shown = 0;

    if (a->n)
        qsort(a->v, a->n, sizeof *a->v, cmp_str);
    if (b->n)
        qsort(b->v, b->n, sizeof *b->v, cmp_str);
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i], b->v[j]);
        if (c && shown++ < 8)
            CHECK_REPORT("%s: %s %s", what,
                         c < 0 ? "expected, missing:" : "unexpected:", c < 0 ? a->v[i] : b->v[j]);
        i += c <= 0;
        j += c >= 0;
    }
}

static int run_init(const char *db, const char *areas, char *out, size_t len)
{
    char *argv[] = {(char *)it_bin(), "init", "--db", (char *)db, "--areas", (char *)areas, NULL};
    return it_run_out(argv, out, len);
}

static int sql_exec(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    int rc =
        sqlite3_open(db, &h) == SQLITE_OK && sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK;
    if (!rc)
        fprintf(stderr, "sql_exec %s: %s\n", sql, h ? sqlite3_errmsg(h) : "open");
    sqlite3_close(h);
    return rc ? 0 : -1;
}

static long count_of(const char *db, const char *sql)
{
    struct rows r;
    long n = -1;

    if (rows_read(db, sql, NULL, &r) == 0 && r.n == 1)
        n = atol(r.v[0]);
    rows_free(&r);
    return n;
}

/* A fresh database with the previous default areas, at path. */
static int old_db(const char *path)
{
    char out[1 << 15];
    int rc = run_init(path, old_dir, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "init with %s: exit %d\n%s\n", old_dir, rc, out);
    return rc;
}

static const char *jstr(json_t *j, const char *path)
{
    char key[64];
    const char *dot;
    while (j && (dot = strchr(path, '.')) != NULL) {
        snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
        j = json_object_get(j, key);
        path = dot + 1;
    }
    return json_string_value(json_object_get(j, path));
}

/* POSTs a report of service at (lat, lon); its case number, routed entity and distrito into
 * case_no, entity, distrito (each optional). */
static int report(const struct it_server *s, const char *service, double lat, double lon,
                  char case_no[32], char entity[32], char distrito[16])
{
    char body[256];
    struct it_reply r;
    json_t *j;
    int ok;

    snprintf(body, sizeof body, "{\"service_code\":\"%s\",\"lat\":%.4f,\"lon\":%.4f}", service, lat,
             lon);
    if (it_send(s, "POST", "/api/v1/reports", NULL, body, &r) != 0)
        return -1;
    j = it_json(&r);
    ok = r.status == 201 && jstr(j, "id");
    if (!ok)
        fprintf(stderr, "report %s at %.4f,%.4f: %ld %s\n", service, lat, lon, r.status, r.body);
    if (ok && case_no)
        snprintf(case_no, 32, "%s", jstr(j, "id"));
    if (ok && entity)
        snprintf(entity, 32, "%s",
                 jstr(j, "routing.entity.code") ? jstr(j, "routing.entity.code") : "");
    if (ok && distrito)
        snprintf(distrito, 16, "%s",
                 jstr(j, "location.distrito.code") ? jstr(j, "location.distrito.code") : "");
    json_decref(j);
    free(r.body);
    return ok ? 0 : -1;
}

static long post(const struct it_server *s, const char *path, const char *key, const char *body)
{
    struct it_reply r;
    long st;

    if (it_send(s, "POST", path, key, body, &r) != 0)
        return -1;
    st = r.status;
    if (st >= 300)
        fprintf(stderr, "POST %s: %ld %s\n", path, st, r.body);
    free(r.body);
    return st;
}

/* Everything a re-key may touch, and the areas. */
static const char *const snap_sql[] = {
    "SELECT id, case_no, coalesce(provincia_code, ''), coalesce(distrito_code, ''),"
    " coalesce(corregimiento_code, ''), entity_code, coalesce(rule_id, ''), status, lat, lon,"
    " created_at, updated_at, due_at FROM reports",
    "SELECT id, service_code, coalesce(area_code, ''), coalesce(entity_code, ''),"
    " to_municipality, priority, coalesce(note, '') FROM routing_rules",
    "SELECT code, name, kind, coalesce(area_code, ''), active FROM entities",
    "SELECT id, name, role, coalesce(entity_code, ''), coalesce(revoked_at, '') FROM api_keys",
    "SELECT id, report_id, kind, actor, coalesce(actor_entity, ''), coalesce(from_value, ''),"
    " coalesce(to_value, ''), coalesce(note, '') FROM report_history",
    "SELECT id, actor, action, target, coalesce(before, ''), coalesce(after, '') FROM audit_log",
};
#define SNAPS (sizeof snap_sql / sizeof snap_sql[0])

/* INEC 2023's Panamá Oeste codes, and the municipalities that follow them. */
static const char *const recodes[] = {
    "1302",     "1303",     "1303",     "1304",     "1304",     "1307",
    "1305",     "1309",     "MUN-1302", "MUN-1303", "MUN-1303", "MUN-1304",
    "MUN-1304", "MUN-1307", "MUN-1305", "MUN-1309", NULL,
};

static void test_init_follows_the_new_default_and_rekeys_only_what_changed(void)
{
    struct it_server srv;
    char db[300], out[1 << 16], admin[128], chame[128], chorrera[128], path[128];
    char capira_case[32], chame_case[32], chorrera_case[32], carlos_case[32], entity[32];
    char distrito[16], body[256];
    struct rows before[SNAPS], after[SNAPS], again[SNAPS];
    long rule_capira = 0;

    snprintf(db, sizeof db, "%s/upgrade.db", work);
    CHECK(old_db(db) == 0);
    CHECK(it_start(&srv, db, NULL) == 0);
    CHECK(it_key_create(&srv, "admin", NULL, "it admin", admin, sizeof admin) == 0);
    CHECK(it_key_create(&srv, "staff", "MUN-1303", "Chame crew", chame, sizeof chame) == 0);
    CHECK(it_key_create(&srv, "staff", "MUN-1304", "La Chorrera crew", chorrera, sizeof chorrera) ==
          0);
    /* cases in each Panamá Oeste distrito under the old codes, and controls elsewhere */
    CHECK(report(&srv, "basura", 8.7570, -79.8790, capira_case, entity, distrito) == 0);
    CHECK_STR_EQ(entity, "MUN-1302");
    CHECK_STR_EQ(distrito, "1302");
    CHECK(report(&srv, "basura", 8.5770, -79.8840, chame_case, entity, distrito) == 0);
    CHECK_STR_EQ(entity, "MUN-1303");
    CHECK(report(&srv, "basura", 8.8800, -79.7830, chorrera_case, entity, distrito) == 0);
    CHECK_STR_EQ(entity, "MUN-1304");
    CHECK(report(&srv, "basura", 8.4850, -79.9500, carlos_case, entity, distrito) == 0);
    CHECK_STR_EQ(entity, "MUN-1305");
    CHECK(report(&srv, "basura", 8.9500, -79.6500, NULL, entity, distrito) == 0);
    CHECK_STR_EQ(entity, "MUN-1301");
    CHECK(report(&srv, "basura", 8.9870, -79.5270, NULL, entity, distrito) == 0);
    CHECK_STR_EQ(entity, "AAUD");
    CHECK(report(&srv, "basura", 8.7710, -82.6380, NULL, entity, distrito) == 0);
    CHECK_STR_EQ(entity, "MUN-0405"); /* Volcán, in Bugaba before the 2023 division */
    /* rules keyed by the old codes: Capira's noise to Chame's municipality, San Carlos's
     * potholes to MOP; and one in Panamá that must not change */
    CHECK_INT_EQ(post(&srv, "/api/v1/routing-rules", admin,
                      "{\"service_code\":\"ruido\",\"area\":\"1302\",\"entity\":"
                      "\"MUN-1303\",\"priority\":50,\"note\":\"test: Capira to Chame\"}"),
                 201);
    CHECK_INT_EQ(post(&srv, "/api/v1/routing-rules", admin,
                      "{\"service_code\":\"hueco\",\"area\":\"1305\",\"entity\":"
                      "\"MOP\",\"note\":\"test: San Carlos\"}"),
                 201);
    CHECK_INT_EQ(post(&srv, "/api/v1/routing-rules", admin,
                      "{\"service_code\":\"hueco\",\"area\":\"0808\",\"entity\":"
                      "\"MOP\",\"note\":\"test: Panamá\"}"),
                 201);
    /* Chame's crew hands its case to Capira's municipality: the history names both */
    snprintf(path, sizeof path, "/api/v1/reports/%s/transfer", chame_case);
    snprintf(body, sizeof body, "{\"entity\":\"MUN-1302\",\"reason\":\"es de Capira\"}");
    CHECK_INT_EQ(post(&srv, path, chame, body), 200);
    CHECK_INT_EQ(it_stop_keep(&srv, SIGTERM), 0);

    for (size_t i = 0; i < SNAPS; i++)
        CHECK(rows_read(srv.db, snap_sql[i], i == SNAPS - 1 ? NULL : recodes, &before[i]) == 0);
    rule_capira =
        count_of(srv.db, "SELECT id FROM routing_rules WHERE note = 'test: Capira to Chame'");

    CHECK_INT_EQ(run_init(srv.db, new_dir, out, sizeof out), 0);
    CHECK(strstr(out, "re-coded distrito 1302 Capira -> 1303") != NULL);
    CHECK(strstr(out, "re-coded distrito 1303 Chame -> 1304") != NULL);
    CHECK(strstr(out, "re-coded distrito 1304 La Chorrera -> 1307") != NULL);
    CHECK(strstr(out, "re-coded distrito 1305 San Carlos -> 1309") != NULL);
    CHECK(strstr(out, "added distrito 0414 Tierras Altas in 04") != NULL);
    CHECK(strstr(out, "distrito: 76 before, 82 now: 72 kept, 4 re-coded, 0 renamed, 6 added, "
                      "0 removed") != NULL);
    CHECK(strstr(out, "corregimiento: 37 before, 698 now: 37 kept") != NULL);
    CHECK(strstr(out, "re-keyed 4 municipalities") != NULL);
    CHECK(strstr(out, "areas: 13 provincias, 82 distritos, 698 corregimientos") != NULL);

    /* the counts and hierarchy of the new data */
    CHECK_INT_EQ(count_of(srv.db, "SELECT count(*) FROM areas WHERE level = 1"), 82);
    CHECK_INT_EQ(count_of(srv.db, "SELECT count(*) FROM areas WHERE level = 2"), 698);
    CHECK_INT_EQ(count_of(srv.db, "SELECT count(*) FROM areas c LEFT JOIN areas p ON"
                                  " p.code = c.parent_code AND p.level = c.level - 1"
                                  " WHERE c.level > 0 AND p.code IS NULL"),
                 0);
    /* every row: the old one under the new codes, nothing else changed */
    for (size_t i = 0; i < SNAPS; i++)
        CHECK(rows_read(srv.db, snap_sql[i], NULL, &after[i]) == 0);
    {
        static const char *const added[] = {
            "MUN-0104|Municipio de Almirante|municipality|0104|1",
            "MUN-0306|Municipio de Omar Torrijos Herrera|municipality|0306|1",
            "MUN-0414|Municipio de Tierras Altas|municipality|0414|1",
            "MUN-0503|Municipio de Santa Fe|municipality|0503|1",
            "MUN-1208|Municipio de Jirondai|municipality|1208|1",
            "MUN-1209|Municipio de Santa Catalina o Calovébora|municipality|1209|1",
        };
        for (size_t k = 0; k < 6; k++) { /* the seed's municipalities of the new distritos */
            before[2].v = realloc(before[2].v, (before[2].n + 1) * sizeof *before[2].v);
            before[2].v[before[2].n++] = strdup(added[k]);
        }
    }
    for (size_t i = 0; i + 1 < SNAPS; i++)
        rows_check_same(snap_sql[i], &before[i], &after[i]);
    /* the audit log only grew: one row for the areas, one per re-keyed municipality */
    CHECK_INT_EQ(after[SNAPS - 1].n, before[SNAPS - 1].n + 5);
    for (size_t i = 0; i < before[SNAPS - 1].n && i < after[SNAPS - 1].n; i++)
        CHECK_STR_EQ(after[SNAPS - 1].v[i], before[SNAPS - 1].v[i]);
    CHECK_INT_EQ(count_of(srv.db, "SELECT count(*) FROM audit_log WHERE action = 'entity.rekey'"
                                  " AND target IN ('entity:MUN-1303', 'entity:MUN-1304',"
                                  " 'entity:MUN-1307', 'entity:MUN-1309')"),
                 4);
    CHECK_INT_EQ(count_of(srv.db,
                          "SELECT count(*) FROM audit_log WHERE action = 'areas.default'"
                          " AND json_extract(after, '$.levels.distrito.recoded.1302') = '1303'"),
                 1);

    /* init again: nothing changes, the areas and their records included */
    {
        static const char *const areas_sql[] = {
            /* rowids too: a level written again would get new ones */
            "SELECT rowid, code, level, name, coalesce(parent_code, ''), source, imported_at,"
            " length(geom) FROM areas",
            "SELECT level, origin, coalesce(version, ''), source, imported_at FROM area_layers",
        };
        struct rows a0[2], a1[2];
        for (int k = 0; k < 2; k++)
            CHECK(rows_read(srv.db, areas_sql[k], NULL, &a0[k]) == 0);
        CHECK_INT_EQ(run_init(srv.db, new_dir, out, sizeof out), 0);
        CHECK(strstr(out, "is in place") != NULL);
        for (int k = 0; k < 2; k++) {
            CHECK(rows_read(srv.db, areas_sql[k], NULL, &a1[k]) == 0);
            CHECK_INT_EQ(a1[k].n, a0[k].n);
            rows_check_same(areas_sql[k], &a0[k], &a1[k]);
            rows_free(&a0[k]);
            rows_free(&a1[k]);
        }
    }
    for (size_t i = 0; i < SNAPS; i++) {
        CHECK(rows_read(srv.db, snap_sql[i], NULL, &again[i]) == 0);
        rows_check_same(snap_sql[i], &after[i], &again[i]);
    }

    /* the server on the upgraded database */
    {
        struct it_server up;
        char *extra[] = {NULL};
        struct it_reply r;
        json_t *j;
        CHECK(it_start(&up, srv.db, extra) == 0);
        /* the Chame crew's key now acts for MUN-1304: La Chorrera's case (MUN-1307) is not
           theirs; La Chorrera's crew (now MUN-1307) may move it */
        snprintf(path, sizeof path, "/api/v1/reports/%s/status", chorrera_case);
        CHECK_INT_EQ(post(&up, path, chame, "{\"status\":\"assigned\"}"), 403);
        CHECK_INT_EQ(post(&up, path, chorrera, "{\"status\":\"assigned\"}"), 200);
        /* a case keeps where it was located, under the new codes */
        snprintf(path, sizeof path, "/api/v1/reports/%s", capira_case);
        CHECK(it_get(&up, path, &r) == 0);
        j = it_json(&r);
        CHECK_STR_EQ(jstr(j, "location.distrito.code"), "1303");
        CHECK_STR_EQ(jstr(j, "routing.entity.code"), "MUN-1303");
        json_decref(j);
        free(r.body);
        /* new cases: the rule follows Capira to 1303 and Chame's municipality to MUN-1304 */
        snprintf(path, sizeof path, "/api/v1/route?service_code=ruido&lat=8.7570&lon=-79.8790");
        CHECK(it_get(&up, path, &r) == 0);
        j = it_json(&r);
        CHECK_STR_EQ(jstr(j, "routing.entity.code"), "MUN-1304");
        CHECK_INT_EQ(json_integer_value(json_object_get(
                         json_object_get(json_object_get(j, "routing"), "rule"), "id")),
                     rule_capira);
        json_decref(j);
        free(r.body);
        CHECK(report(&up, "basura", 8.7710, -82.6380, NULL, entity, distrito) == 0);
        CHECK_STR_EQ(entity, "MUN-0414"); /* Volcán: Tierras Altas */
        CHECK(report(&up, "basura", 9.3200, -82.4010, NULL, entity, distrito) == 0);
        CHECK_STR_EQ(entity, "MUN-0104"); /* Almirante */
        CHECK(report(&up, "basura", 8.7570, -79.8790, NULL, entity, distrito) == 0);
        CHECK_STR_EQ(entity, "MUN-1303"); /* Capira */
        CHECK(report(&up, "basura", 8.4850, -79.9500, NULL, entity, distrito) == 0);
        CHECK_STR_EQ(entity, "MUN-1309"); /* San Carlos */
        CHECK_INT_EQ(it_stop(&up, SIGTERM), 0);
    }
    for (size_t i = 0; i < SNAPS; i++) {
        rows_free(&before[i]);
        rows_free(&after[i]);
        rows_free(&again[i]);
    }
    snprintf(out, sizeof out, "rm -rf '%s'", srv.dir);
    CHECK(system(out) == 0);
}

/* Back to schema 5: what migration 0006 and the later ones made is gone. */
#define SCHEMA_5                                                                               \
    "DROP TRIGGER reports_stats_insert; DROP TRIGGER reports_stats_update;"                     \
    " DROP TRIGGER reports_stats_delete; DROP TRIGGER reports_log_insert;"                      \
    " DROP TRIGGER reports_log_update; DROP TRIGGER reports_log_delete; DROP TABLE stats_log;"  \
    " DROP TRIGGER report_history_followed_up; DROP TABLE followups; DROP TABLE ratings;"       \
    " DROP INDEX reports_closed; DROP INDEX reports_open_updated;"                              \
    " ALTER TABLE reports DROP COLUMN rating; ALTER TABLE reports DROP COLUMN followed_up_at;"   \
    " DROP TRIGGER report_history_event; DROP TRIGGER photos_event; DROP TABLE deliveries;"     \
    " DROP TABLE webhooks; DROP TABLE events; DROP TABLE area_layers; DROP TABLE tow_history;"  \
    " DROP TABLE tows;"                                                                         \
    " DROP TABLE truck_positions; DROP TABLE trucks; DROP TABLE yards;"                         \
    " DROP TABLE stats_daily; DROP TABLE stats_close_hours;"                                    \
    " DROP TABLE stats_open_due; DROP TABLE stats_tows_daily;"                                  \
    " ALTER TABLE reports DROP COLUMN is_private;"                                              \
    " DELETE FROM schema_migrations WHERE version >= 6"

/* A database made before reporta recorded the default's version (schema 5): migration 0006
 * recognises the default by where its areas came from, and init upgrades it. */
static void test_a_default_from_before_versions_were_recorded_is_upgraded(void)
{
    char db[300], out[1 << 16];

    snprintf(db, sizeof db, "%s/legacy.db", work);
    CHECK(old_db(db) == 0);
    CHECK(sql_exec(db, SCHEMA_5) == 0);
    CHECK_INT_EQ(run_init(db, new_dir, out, sizeof out), 0);
    CHECK(strstr(out, "8 migrations applied") != NULL);
    CHECK(strstr(out, "replaces a default whose version was not recorded") != NULL);
    CHECK(strstr(out, "re-coded distrito 1303 Chame -> 1304") != NULL);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM areas WHERE level = 1"), 82);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM entities WHERE code = 'MUN-1302'"), 0);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM entities WHERE code = 'MUN-1307'"
                              " AND name = 'Municipio de La Chorrera' AND area_code = '1307'"),
                 1);
}

/* Levels an operator imported are never overwritten by the default: init says so. */
static void test_an_operators_import_is_never_overwritten(void)
{
    char db[300], out[1 << 16], file[300];
    char *imp[] = {(char *)it_bin(), "import-areas", file,     "--db", db,
                   "--level",        "distrito",     "--code", "code", "--name",
                   "name",           "--parent",     "parent", NULL};

    snprintf(db, sizeof db, "%s/operator.db", work);
    snprintf(file, sizeof file, "%s/official_distritos.geojson.xz", work);
    CHECK(old_db(db) == 0);
    snprintf(out, sizeof out, "cp '%s/distritos.geojson.xz' '%s'", old_dir, file);
    CHECK(system(out) == 0);
    CHECK_INT_EQ(it_run_out(imp, out, sizeof out), 0);
    CHECK_INT_EQ(run_init(db, new_dir, out, sizeof out), 0);
    CHECK(strstr(out, "the distrito level was imported by an operator from") != NULL);
    CHECK(strstr(out, "is not applied") != NULL);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM areas WHERE level = 1"), 76);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM areas WHERE level = 2"), 37);
    /* and a database from before versions were recorded tells the import by its file name */
    CHECK(sql_exec(db, SCHEMA_5) == 0);
    CHECK_INT_EQ(run_init(db, new_dir, out, sizeof out), 0);
    CHECK(strstr(out, "the distrito level was imported by an operator from") != NULL);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM areas WHERE level = 1"), 76);
}

/* A municipality code the re-key needs is taken (an admin made MUN-1309 by hand): init fails
 * naming it, and the database is as it was. */
static void test_a_conflicting_code_changes_nothing(void)
{
    char db[300], out[1 << 16], err[8192];
    char *argv[] = {(char *)it_bin(), "init", "--db", db, "--areas", (char *)new_dir, NULL};
    long audits;

    snprintf(db, sizeof db, "%s/conflict.db", work);
    CHECK(old_db(db) == 0);
    audits = count_of(db, "SELECT count(*) FROM audit_log");
    CHECK(sql_exec(db, "INSERT INTO entities (code, name, kind) VALUES ('MUN-1309', 'Junta de"
                       " prueba', 'municipality')") == 0);
    CHECK_INT_EQ(it_run(argv, err, sizeof err), 1);
    CHECK(strstr(err, "conflict") != NULL);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM areas WHERE level = 1"), 76);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM entities WHERE code = 'MUN-1305'"), 1);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM audit_log"), audits);
    /* the version still says the old default: once the conflict is gone, init upgrades */
    CHECK(sql_exec(db, "DELETE FROM entities WHERE code = 'MUN-1309'") == 0);
    CHECK_INT_EQ(run_init(db, new_dir, out, sizeof out), 0);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM areas WHERE level = 1"), 82);
}

int main(int argc, char **argv)
{
    int rc;

    if (argc < 3 || !mkdtemp(work))
        return 2;
    old_dir = argv[1];
    new_dir = argv[2];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_init_follows_the_new_default_and_rekeys_only_what_changed);
    RUN(test_a_default_from_before_versions_were_recorded_is_upgraded);
    RUN(test_an_operators_import_is_never_overwritten);
    RUN(test_a_conflicting_code_changes_nothing);
    rc = check_exit();
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", work);
    }
    curl_global_cleanup();
    return rc;
}
