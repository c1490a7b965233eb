/*
 * tests/it_pg.c - reporta on PostgreSQL + PostGIS: `reporta init --db postgresql://...` makes
 * the schema and imports the default areas (and changes nothing the second time), and
 * `reporta serve` on it answers like on the SpatiaLite file: locate from the areas it loaded
 * from PostgreSQL, a report created (routed, located, idempotent), read, listed by bbox, moved
 * by its entity's staff, in the history, the tiles, the statistics, the export and Open311.
 * Then two servers on one database under load, one of them killed with SIGKILL: no case
 * number twice, none skipped, no acknowledged case lost, an Idempotency-Key replayed across the
 * two; and what one process changes shows in the other's tiles, catalogue, tow lookup and live
 * truck map within a second (LISTEN/NOTIFY). The same Idempotency-Key sent to both at the same
 * moment, twenty times: one case each time, one 201 and one replay. Two processes with the
 * same webhook deliver every event once between them (a slow receiver here counts them).
 * Needs REPORTA_PG, the URI of a database on a cluster where it may create databases
 * (scripts/pg start prints one); without it the test is skipped (exit 77).
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/check.h"
#include "tests/it.h"

static struct it_server srv;
static char uri[512], dbname[64];
static char staff[128], case_id[32];

static json_t *call(const char *method, const char *path, const char *key, const char *body,
                    long *status, const char *extra_header)
{
    struct it_reply r;
    struct curl_slist *h = NULL;
    char auth[256];
    json_t *j;

    if (key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        h = curl_slist_append(h, auth);
    }
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (extra_header)
        h = curl_slist_append(h, extra_header);
    CHECK(it_request(&srv, method, path, body, body ? strlen(body) : 0, h, &r) == 0);
    curl_slist_free_all(h);
    *status = r.status;
    j = it_json(&r);
    if (!j && r.status < 300 && r.len && r.body[0] == '{')
        CHECK_REPORT("%s %s: not JSON: %.200s", method, path, r.body);
    free(r.body);
    return j;
}

static long count_on(const char *sql)
{
    long n = -1;

    return it_pg_exec(uri, sql, &n) == 0 ? n : -1;
}

static void test_init_makes_the_schema_and_the_areas(void)
{
    char out[8192];
    char *argv[] = {(char *)it_bin(), "init", "--db", uri, NULL};

    CHECK_INT_EQ(it_run_out(argv, out, sizeof out), 0);
    CHECK(strstr(out, "13 provincias, 82 distritos, 698 corregimientos") != NULL);
    CHECK_INT_EQ(count_on("SELECT count(*) FROM areas"), 13 + 82 + 698);
    CHECK_INT_EQ(count_on("SELECT count(*) FROM areas WHERE NOT ST_IsValid(geom)"), 0);
    CHECK_INT_EQ(count_on("SELECT max(version) FROM schema_migrations"), 13);
    /* the second time: nothing to do */
    CHECK_INT_EQ(it_run_out(argv, out, sizeof out), 0);
    CHECK(strstr(out, "(0 migrations applied)") != NULL);
    CHECK_INT_EQ(count_on("SELECT count(*) FROM areas"), 13 + 82 + 698);
}

static void test_a_report_lives_its_life(void)
{
    long st;
    json_t *j, *again;
    char path[160];

    j = call("GET", "/api/v1/locate?lat=8.9870&lon=-79.5270", NULL, NULL, &st, NULL);
    CHECK_INT_EQ(st, 200);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(j, "corregimiento"), "name")),
                 "Bella Vista");
    json_decref(j);

    j = call("POST", "/api/v1/reports", NULL,
             "{\"service_code\":\"fuga_agua\",\"lat\":8.9870,\"lon\":-79.5270,"
             "\"description\":\"Tubo roto en PostgreSQL\",\"reporter\":{\"phone\":\"+507 6000-0000\"}}",
             &st, "Idempotency-Key: pg-1");
    CHECK_INT_EQ(st, 201);
    snprintf(case_id, sizeof case_id, "%s", json_string_value(json_object_get(j, "id")));
    CHECK(strlen(case_id) >= 11);
    CHECK_STR_EQ(json_string_value(json_object_get(
                     json_object_get(json_object_get(j, "routing"), "entity"), "code")),
                 "IDAAN");
    CHECK_STR_EQ(json_string_value(json_object_get(
                     json_object_get(json_object_get(j, "location"), "corregimiento"), "code")),
                 "080807");
    /* the same key and body: the same case, nothing new */
    again = call("POST", "/api/v1/reports", NULL,
                 "{\"service_code\":\"fuga_agua\",\"lat\":8.9870,\"lon\":-79.5270,"
                 "\"description\":\"Tubo roto en PostgreSQL\",\"reporter\":{\"phone\":\"+507 6000-0000\"}}",
                 &st, "Idempotency-Key: pg-1");
    CHECK_INT_EQ(st, 200);
    CHECK_STR_EQ(json_string_value(json_object_get(again, "id")), case_id);
    json_decref(again);
    json_decref(j);
    CHECK_INT_EQ(count_on("SELECT count(*) FROM reports"), 1);

    snprintf(path, sizeof path, "/api/v1/reports/%s", case_id);
    j = call("GET", path, NULL, NULL, &st, NULL);
    CHECK_INT_EQ(st, 200);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "status")), "received");
    CHECK(json_object_get(j, "reporter") == NULL); /* not for the public */
    json_decref(j);

    j = call("GET", "/api/v1/reports?bbox=-79.53,8.98,-79.52,8.99", NULL, NULL, &st, NULL);
    CHECK_INT_EQ(st, 200);
    CHECK_INT_EQ((long)json_array_size(json_object_get(j, "features")), 1);
    json_decref(j);
    j = call("GET", "/api/v1/reports?bbox=-80.0,9.3,-79.9,9.4", NULL, NULL, &st, NULL);
    CHECK_INT_EQ((long)json_array_size(json_object_get(j, "features")), 0);
    json_decref(j);

    CHECK(it_key_create(&srv, "staff", "IDAAN", "cuadrilla", staff, sizeof staff) == 0);
    snprintf(path, sizeof path, "/api/v1/reports/%s/status", case_id);
    j = call("POST", path, staff, "{\"status\":\"in_progress\",\"note\":\"en sitio\"}", &st, NULL);
    CHECK_INT_EQ(st, 200);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "status")), "in_progress");
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/reports/%s/history", case_id);
    j = call("GET", path, NULL, NULL, &st, NULL);
    CHECK_INT_EQ((long)json_array_size(json_object_get(j, "history")), 2);
    json_decref(j);
}

static void test_maps_stats_export_open311(void)
{
    struct it_reply r;
    long st;
    json_t *j, *g;

    CHECK(it_get(&srv, "/tiles/cases/12/1143/1945.mvt", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(r.len > 10);
    free(r.body);
    j = call("GET", "/api/v1/stats?group=entity", NULL, NULL, &st, NULL);
    CHECK_INT_EQ(st, 200);
    g = json_array_get(json_object_get(j, "groups"), 0);
    CHECK_STR_EQ(json_string_value(json_object_get(g, "entity")), "IDAAN");
    CHECK_INT_EQ(json_integer_value(json_object_get(g, "received")), 1);
    CHECK_INT_EQ(json_integer_value(json_object_get(g, "open")), 1);
    json_decref(j);
    CHECK(it_get(&srv, "/api/v1/export.csv", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.body, case_id) != NULL && strstr(r.body, "6000-0000") == NULL);
    free(r.body);
    CHECK(it_get(&srv, "/open311/v2/requests.json", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.body, case_id) != NULL);
    free(r.body);
}

/* GET path on server s; its body (malloc'd, *len) or NULL. */
static char *get_on(const struct it_server *s, const char *path, size_t *len, long *status)
{
    struct it_reply r;

    CHECK(it_get(s, path, &r) == 0);
    *len = r.len;
    *status = r.status;
    return r.body;
}

static int tile_has(const struct it_server *s, const char *path, const char *a, const char *b)
{
    size_t len;
    long st;
    char *body = get_on(s, path, &len, &st);
    int yes = st == 200 && memmem(body, len, a, strlen(a)) && (!b || memmem(body, len, b, strlen(b)));

    free(body);
    return yes;
}

/* What A commits, B's caches show within a second. */
static void test_changes_reach_the_other_process(void)
{
    struct it_server b, keep = srv;
    char tile[96], body[512], path[96], id[32], admin[128];
    const double lat = 8.9931, lon = -79.5012;
    int z = 16, x = (int)floor((lon + 180.0) / 360.0 * (1 << z));
    double r = lat * M_PI / 180.0;
    int y = (int)floor((1.0 - log(tan(r) + 1.0 / cos(r)) / M_PI) / 2.0 * (1 << z));
    json_t *j;
    long st;
    int seen = 0;

    CHECK(it_start(&b, uri, NULL) == 0);
    snprintf(tile, sizeof tile, "/tiles/cases/%d/%d/%d.mvt?service=alumbrado", z, x, y);
    CHECK(!tile_has(&b, tile, "alumbrado", NULL)); /* B has the empty tile cached now */
    snprintf(body, sizeof body, "{\"service_code\":\"alumbrado\",\"lat\":%.4f,\"lon\":%.4f}", lat, lon);
    j = call("POST", "/api/v1/reports", NULL, body, &st, NULL); /* through A */
    CHECK_INT_EQ(st, 201);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    for (int t = 0; t < 10 && !(seen = tile_has(&b, tile, id, "received")); t++)
        usleep(100 * 1000);
    if (!seen)
        CHECK_REPORT("case %s made through A is not in B's tile after 1 s", id);
    snprintf(path, sizeof path, "/api/v1/reports/%s/status", id);
    CHECK(it_key_create(&srv, "admin", NULL, "ops", admin, sizeof admin) == 0);
    j = call("POST", path, admin, "{\"status\":\"in_progress\"}", &st, NULL);
    CHECK_INT_EQ(st, 200);
    json_decref(j);
    seen = 0;
    for (int t = 0; t < 10 && !(seen = tile_has(&b, tile, id, "in_progress")); t++)
        usleep(100 * 1000);
    if (!seen)
        CHECK_REPORT("case %s moved through A is not in_progress in B's tile after 1 s", id);

    /* the catalogue: B's cached routing follows a service changed through A */
    srv = b;
    j = call("GET", "/api/v1/route?service_code=fuga_agua&lat=8.9870&lon=-79.5270", NULL, NULL, &st, NULL);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "sla_hours")), 72);
    json_decref(j);
    srv = keep;
    j = call("PUT", "/api/v1/services/fuga_agua", admin,
             "{\"name_es\":\"Fuga de agua\",\"name_en\":\"Water leak\",\"group\":\"agua\","
             "\"sla_hours\":96}", &st, NULL);
    CHECK_INT_EQ(st, 200);
    json_decref(j);
    seen = 0;
    srv = b;
    for (int t = 0; t < 10 && !seen; t++) {
        j = call("GET", "/api/v1/route?service_code=fuga_agua&lat=8.9870&lon=-79.5270", NULL, NULL, &st, NULL);
        seen = json_integer_value(json_object_get(j, "sla_hours")) == 96;
        json_decref(j);
        if (!seen)
            usleep(100 * 1000);
    }
    srv = keep;
    if (!seen)
        CHECK_REPORT("B still routes %s with the old SLA 1 s after A changed it", "fuga_agua");

    /* towing: a tow made through A is found by B's lookup, positions posted to A are on B's map */
    {
        char tow_key[128], now[32], pos[160];
        time_t tnow = time(NULL);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));
        CHECK(it_key_create(&srv, "tow_operator", "ATTT", "gruas", tow_key, sizeof tow_key) == 0);
        j = call("PUT", "/api/v1/yards/PATIO-PG", admin,
                 "{\"name\":\"Patio PG\",\"address\":\"Calle 1\",\"lat\":8.99,\"lon\":-79.52,"
                 "\"radius_m\":150,\"hours\":{\"es\":\"24 h\",\"en\":\"24 h\"},\"fees\":{\"tow_cents\":3500,"
                 "\"daily_cents\":1000},\"documents\":{\"es\":\"Cédula\",\"en\":\"ID\"}}", &st, NULL);
        CHECK_INT_EQ(st, 201);
        json_decref(j);
        j = call("PUT", "/api/v1/trucks/G-PG", admin, "{\"entity\":\"ATTT\",\"plate\":\"G-77\"}", &st, NULL);
        CHECK_INT_EQ(st, 201);
        json_decref(j);
        srv = b;
        j = call("GET", "/api/v1/tows/lookup?plate=PG4242", NULL, NULL, &st, NULL);
        CHECK(json_is_false(json_object_get(j, "active")));
        json_decref(j);
        srv = keep;
        j = call("POST", "/api/v1/tows", tow_key,
                 "{\"plate\":\"PG-4242\",\"lat\":8.99,\"lon\":-79.53,\"reason\":\"doble fila\","
                 "\"ticket\":\"T-9\",\"truck\":\"G-PG\",\"yard\":\"PATIO-PG\"}", &st, NULL);
        CHECK_INT_EQ(st, 201);
        json_decref(j);
        snprintf(pos, sizeof pos, "{\"positions\":[{\"lat\":8.9951,\"lon\":-79.5252,\"at\":\"%s\"}]}", now);
        j = call("POST", "/api/v1/trucks/G-PG/positions", tow_key, pos, &st, NULL);
        CHECK_INT_EQ(st, 200);
        json_decref(j);
        srv = b;
        seen = 0;
        for (int t = 0; t < 10 && !seen; t++) {
            j = call("GET", "/api/v1/tows/lookup?plate=PG4242", NULL, NULL, &st, NULL);
            seen = json_is_true(json_object_get(j, "active"));
            json_decref(j);
            if (!seen)
                usleep(100 * 1000);
        }
        if (!seen)
            CHECK_REPORT("B's lookup does not find %s 1 s after A towed it", "PG4242");
        seen = 0;
        for (int t = 0; t < 10 && !seen; t++) {
            json_t *k;
            size_t i;
            j = call("GET", "/api/v1/trucks", admin, NULL, &st, NULL);
            json_array_foreach(json_object_get(j, "trucks"), i, k)
                if (strcmp(json_string_value(json_object_get(k, "code")), "G-PG") == 0)
                    seen = fabs(json_real_value(json_object_get(json_object_get(k, "position"), "lat")) -
                                8.9951) < 1e-9;
            json_decref(j);
            if (!seen)
                usleep(100 * 1000);
        }
        srv = keep;
        if (!seen)
            CHECK_REPORT("B's live map lacks truck %s's position 1 s after A stored it", "G-PG");
    }
    CHECK_INT_EQ(it_stop(&b, SIGTERM), 0);
}


/* The same key posted to both processes at one instant, ROUNDS times: each time one 201 and
 * one replay of the same case, never an error (the loser's insert meets the winner's key:
 * the writer runs the job again and it replays). */
#define RACE_ROUNDS 20

struct race_slot {
    long status;
    char id[32];
};

static void race_post(const struct it_server *s, const char *key, const struct timespec *at,
                      struct race_slot *out)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char line[96];
    struct it_reply r;
    json_t *j;
    const char *body = "{\"service_code\":\"basura\",\"lat\":8.9712,\"lon\":-79.5318}";

    snprintf(line, sizeof line, "Idempotency-Key: %s", key);
    h = curl_slist_append(h, line);
    clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, at, NULL);
    out->status = it_request(s, "POST", "/api/v1/reports", body, strlen(body), h, &r) == 0
                      ? r.status : -1;
    j = it_json(&r);
    snprintf(out->id, sizeof out->id, "%s",
             json_string_value(json_object_get(j, "id")) ? json_string_value(json_object_get(j, "id")) : "");
    json_decref(j);
    free(r.body);
    curl_slist_free_all(h);
}

static int log_count(const struct it_server *s, const char *needle)
{
    char line[1024];
    FILE *fp = fopen(s->log, "r");
    int n = 0;

    while (fp && fgets(line, sizeof line, fp))
        n += strstr(line, needle) != NULL;
    if (fp)
        fclose(fp);
    return n;
}

static void race_idempotency_keys(struct it_server *a, struct it_server *b)
{
    struct race_slot *slot = mmap(NULL, sizeof *slot * 2, PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int bad = 0, again;

    CHECK(slot != MAP_FAILED);
    for (int k = 0; k < RACE_ROUNDS; k++) {
        char key[48];
        struct timespec at;
        pid_t pid;

        snprintf(key, sizeof key, "race-%d-%d", (int)getpid(), k);
        clock_gettime(CLOCK_REALTIME, &at);
        at.tv_nsec += 50 * 1000000; /* both leave 50 ms from now */
        if (at.tv_nsec >= 1000000000)
            at.tv_sec++, at.tv_nsec -= 1000000000;
        memset(slot, 0, sizeof *slot * 2);
        if ((pid = fork()) == 0) {
            race_post(b, key, &at, &slot[1]);
            _exit(0);
        }
        race_post(a, key, &at, &slot[0]);
        waitpid(pid, NULL, 0);
        if (!((slot[0].status == 201 && slot[1].status == 200) ||
              (slot[0].status == 200 && slot[1].status == 201)) ||
            !slot[0].id[0] || strcmp(slot[0].id, slot[1].id) != 0) {
            if (bad++ < 5)
                CHECK_REPORT("key %s at once on both: %ld %s and %ld %s", key, slot[0].status,
                             slot[0].id, slot[1].status, slot[1].id);
        }
    }
    again = log_count(a, "ran again after another process") + log_count(b, "ran again after another process");
    fprintf(stderr, "   %d keys sent to both processes at once: %d answered wrong; %d times the"
                    " loser's insert met the winner's key and replayed\n", RACE_ROUNDS, bad, again);
    CHECK_INT_EQ(bad, 0);
    munmap(slot, sizeof *slot * 2);
}

/* received of service in GET /api/v1/stats?group=service (0: no such group) */
static long received_of(const char *service)
{
    long st, n = 0;
    size_t i;
    json_t *j = call("GET", "/api/v1/stats?group=service", NULL, NULL, &st, NULL), *g;

    json_array_foreach(json_object_get(j, "groups"), i, g)
        if (strcmp(json_string_value(json_object_get(g, "service")) ?: "", service) == 0)
            n = (long)json_integer_value(json_object_get(g, "received"));
    json_decref(j);
    return n;
}

/* A change that commits after a later one (another process's transaction, here a psql-like
 * connection held open) still reaches the statistics: the scorecard keeps the number it skipped
 * and looks again. Before, the statistics said the old numbers until a restart. */
static void test_stats_see_a_late_commit(void)
{
    PGconn *c = PQconnectdb(uri);
    long st, basura0, hueco0, basura1 = -1, hueco1 = -1;
    PGresult *r;
    json_t *j;

    CHECK(PQstatus(c) == CONNECTION_OK);
    j = call("POST", "/api/v1/reports", NULL,
             "{\"service_code\":\"basura\",\"lat\":8.9801,\"lon\":-79.5202}", &st, NULL);
    CHECK_INT_EQ(st, 201);
    json_decref(j);
    basura0 = received_of("basura");
    hueco0 = received_of("hueco");
    CHECK(basura0 > 0);
    /* the held transaction: one basura case becomes a hueco (it takes a log number now) */
    r = PQexec(c, "BEGIN; UPDATE reports SET service_code = 'hueco' WHERE id ="
                  " (SELECT max(id) FROM reports WHERE service_code = 'basura')");
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
    /* a later change commits first, and the statistics read past both numbers */
    j = call("POST", "/api/v1/reports", NULL,
             "{\"service_code\":\"alumbrado\",\"lat\":8.9802,\"lon\":-79.5203}", &st, NULL);
    CHECK_INT_EQ(st, 201);
    json_decref(j);
    CHECK_INT_EQ(received_of("basura"), basura0); /* not committed yet */
    PQclear(PQexec(c, "COMMIT"));
    for (int t = 0; t < 20 && (basura1 != basura0 - 1 || hueco1 != hueco0 + 1); t++) {
        usleep(100 * 1000);
        basura1 = received_of("basura");
        hueco1 = received_of("hueco");
    }
    fprintf(stderr, "   a change committed after a later one: basura %ld -> %ld, hueco %ld -> %ld\n",
            basura0, basura1, hueco0, hueco1);
    CHECK_INT_EQ(basura1, basura0 - 1);
    CHECK_INT_EQ(hueco1, hueco0 + 1);
    PQfinish(c);
}

#define CLIENTS 6 /* of IT_ACK_CLIENTS */

static void test_two_processes_one_database(void)
{
    struct it_server second, *servers[2] = {&srv, &second};
    struct it_acks *a = mmap(NULL, sizeof *a, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                          -1, 0);
    pid_t pids[CLIENTS];
    long before = count_on("SELECT count(*) FROM reports"), total = 0, missing = 0;
    char sql[128], ids_first[64] = "";
    json_t *j;
    long st;

    CHECK(a != MAP_FAILED);
    memset(a, 0, sizeof *a);
    CHECK(it_start(&second, uri, NULL) == 0);
    /* an Idempotency-Key sent to one process and retried on the other: one case */
    {
        struct it_server keep = srv;
        const char *body = "{\"service_code\":\"hueco\",\"lat\":8.99,\"lon\":-79.53}";
        j = call("POST", "/api/v1/reports", NULL, body, &st, "Idempotency-Key: across-1");
        CHECK_INT_EQ(st, 201);
        snprintf(ids_first, sizeof ids_first, "%s", json_string_value(json_object_get(j, "id")));
        json_decref(j);
        srv = second; /* call() talks to srv */
        j = call("POST", "/api/v1/reports", NULL, body, &st, "Idempotency-Key: across-1");
        srv = keep;
        CHECK_INT_EQ(st, 200);
        CHECK_STR_EQ(json_string_value(json_object_get(j, "id")), ids_first);
        json_decref(j);
    }
    race_idempotency_keys(&srv, &second);
    for (int c = 0; c < CLIENTS; c++)
        if ((pids[c] = fork()) == 0)
            it_ack_client(servers[c % 2], c, a);
    usleep(2500 * 1000);
    kill(second.pid, SIGKILL); /* the second process dies mid-load; the first carries on */
    waitpid(second.pid, NULL, 0);
    second.pid = 0;
    usleep(1000 * 1000);
    for (int c = 0; c < CLIENTS; c += 2) /* the first server's clients stop at their quota */
        kill(pids[c], SIGTERM);
    for (int c = 0; c < CLIENTS; c++)
        waitpid(pids[c], NULL, 0);
    for (int c = 0; c < CLIENTS; c++)
        total += a->n[c];
    fprintf(stderr, "   %ld cases acknowledged by two processes (one killed)\n", total);
    CHECK(total > 100);
    CHECK(a->n[1] > 0 && a->n[0] > 0); /* both processes took reports */
    /* every acknowledged case is there */
    for (int c = 0; c < CLIENTS; c++)
        for (int i = 0; i < a->n[c]; i++) {
            snprintf(sql, sizeof sql, "SELECT count(*) FROM reports WHERE case_no = '%s'",
                     a->id[c][i]);
            if (count_on(sql) != 1 && missing++ < 5)
                CHECK_REPORT("acknowledged case %s is not in the database", a->id[c][i]);
        }
    CHECK_INT_EQ(missing, 0);
    /* numbers: unique, and none skipped (1..max of the year, whatever was acknowledged) */
    CHECK_INT_EQ(count_on("SELECT count(*) - count(DISTINCT case_no) FROM reports"), 0);
    CHECK_INT_EQ(count_on("SELECT max(substr(case_no, 6)::int) - count(*) FROM reports"
                          " WHERE case_no LIKE to_char(now(), 'YYYY') || '-%'"),
                 0);
    CHECK(count_on("SELECT count(*) FROM reports") >= before + total);
    it_stop(&second, 0);
    munmap(a, sizeof *a);
}


/* ---- two processes, one webhook: each event delivered once between them ---- */

#define HOOK_SECRET  "it-pg-hook-secret-0123456789"
#define HOOK_MAX     512
#define HOOK_REPORTS 30

static struct {
    pthread_mutex_t lock;
    char id[HOOK_MAX][40];
    int n;
} rx = {PTHREAD_MUTEX_INITIALIZER, {{0}}, 0};

static enum MHD_Result on_hook(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **state)
{
    static int first;
    struct MHD_Response *res;
    enum MHD_Result ok;
    const char *id;

    (void)cls, (void)url, (void)method, (void)version, (void)data;
    if (!*state) {
        *state = &first;
        return MHD_YES;
    }
    if (*size) {
        *size = 0;
        return MHD_YES;
    }
    usleep(30 * 1000); /* a slow receiver: both processes have time to want the same event */
    id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Reporta-Event-Id");
    pthread_mutex_lock(&rx.lock);
    if (rx.n < HOOK_MAX)
        snprintf(rx.id[rx.n++], sizeof rx.id[0], "%s", id ? id : "");
    pthread_mutex_unlock(&rx.lock);
    res = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    ok = MHD_queue_response(c, MHD_HTTP_OK, res);
    MHD_destroy_response(res);
    return ok;
}

static void test_outbox_once_across_processes(void)
{
    struct sockaddr_in sa = {0};
    struct MHD_Daemon *d;
    struct it_server w[2];
    char url[96];
    char *extra[] = {"--webhook", url, "--webhook-secret", HOOK_SECRET, "--webhook-backoff-ms",
                     "100", NULL};
    long base, expected = 0, left = -1;
    int dups = 0, n;

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_ERROR_LOG,
                         0, NULL, NULL, on_hook, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    CHECK(d != NULL);
    if (!d)
        return;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hook",
             (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    CHECK(it_start(&w[0], uri, extra) == 0);
    CHECK(it_start(&w[1], uri, extra) == 0);
    base = count_on("SELECT coalesce(max(id), 0) FROM events");
    for (int i = 0; i < HOOK_REPORTS; i++) {
        struct it_reply r;
        char body[128];
        snprintf(body, sizeof body,
                 "{\"service_code\":\"hueco\",\"lat\":%.4f,\"lon\":-79.53}", 8.99 + i * 0.0003);
        CHECK(it_send(&w[i % 2], "POST", "/api/v1/reports", NULL, body, &r) == 0);
        CHECK_INT_EQ(r.status, 201);
        free(r.body);
    }
    snprintf(url, sizeof url, "SELECT count(*) FROM events WHERE id > %ld", base);
    expected = count_on(url);
    for (int t = 0; t < 300 && left != 0; t++) { /* 30 s at most */
        usleep(100 * 1000);
        left = count_on("SELECT count(*) FROM deliveries");
    }
    usleep(300 * 1000); /* a duplicate still on its way arrives */
    pthread_mutex_lock(&rx.lock);
    n = rx.n;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < i; k++)
            if (strcmp(rx.id[i], rx.id[k]) == 0) {
                if (dups++ < 3)
                    CHECK_REPORT("event %s delivered twice", rx.id[i]);
                break;
            }
    pthread_mutex_unlock(&rx.lock);
    fprintf(stderr, "   %ld events, %d deliveries received from two processes, %d twice,"
                    " %ld left undelivered\n", expected, n, dups, left);
    CHECK(expected >= HOOK_REPORTS);
    CHECK_INT_EQ(left, 0);
    CHECK_INT_EQ(dups, 0);
    CHECK_INT_EQ(n, expected);
    CHECK_INT_EQ(it_stop(&w[0], SIGTERM), 0);
    CHECK_INT_EQ(it_stop(&w[1], SIGTERM), 0);
    MHD_stop_daemon(d);
}

int main(void)
{
    const char *base = getenv("REPORTA_PG");
    char create[128];
    const char *q;

    if (!base || !*base) {
        fprintf(stderr, "it_pg: REPORTA_PG is not set (scripts/pg start prints one): skipped\n");
        return 77;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(dbname, sizeof dbname, "it_pg_%d", (int)getpid());
    snprintf(create, sizeof create, "CREATE DATABASE %s", dbname);
    if (it_pg_exec(base, create, NULL) != 0)
        return 1;
    /* the same server and options, another database: postgresql:///NAME?... */
    q = strchr(base + strlen("postgresql://"), '?');
    snprintf(uri, sizeof uri, "postgresql:///%s%s", dbname, q ? q : "");
    RUN(test_init_makes_the_schema_and_the_areas);
    if (it_start(&srv, uri, NULL) != 0) {
        fprintf(stderr, "it_pg: server did not start\n");
        return 1;
    }
    RUN(test_a_report_lives_its_life);
    RUN(test_maps_stats_export_open311);
    RUN(test_changes_reach_the_other_process);
    RUN(test_stats_see_a_late_commit);
    RUN(test_two_processes_one_database);
    RUN(test_outbox_once_across_processes);
    CHECK_INT_EQ(it_stop(&srv, SIGTERM), 0);
    snprintf(create, sizeof create, "DROP DATABASE %s", dbname);
    it_pg_exec(base, create, NULL);
    curl_global_cleanup();
    return check_exit();
}
