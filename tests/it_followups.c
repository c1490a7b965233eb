/*
 * tests/it_followups.c - satisfaction and the follow-up queue through the real server (its
 * sweep every second): a reporter rates their resolved case with its token (once; a wrong or
 * missing token, an open case, a second rating and a bad score are refused), another reopens
 * theirs with a reason; the comment reaches no public read and no event. A case left open 31
 * days (by SQL) raises followup_due, a resolved unrated case satisfaction_requested; both show
 * in the work list of their entity's staff only, with the reporter's phone, and leave it once
 * done; the scorecard counts the ratings and the average exactly.
 * usage: it_followups PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <sqlite3.h>

#include "it.h"

#define COMMENT "comentario-privado-del-vecino"

static struct it_server srv;
static char admin[128], aaud[128], idaan[128];

struct made {
    char case_no[32], token[96];
};

static void make(struct made *m, const char *service)
{
    struct it_reply r;
    json_t *j;
    char body[256];

    snprintf(body, sizeof body,
             "{\"service_code\":\"%s\",\"lat\":8.9833,\"lon\":-79.5197,"
             "\"reporter\":{\"phone\":\"+507 6555-0101\"}}",
             service);
    CHECK(it_send(&srv, "POST", "/api/v1/reports", NULL, body, &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    j = it_json(&r);
    snprintf(m->case_no, sizeof m->case_no, "%s", json_string_value(json_object_get(j, "id")));
    snprintf(m->token, sizeof m->token, "%s", json_string_value(json_object_get(j, "token")));
    json_decref(j);
    free(r.body);
}

static long status_to(const struct made *m, const char *status)
{
    struct it_reply r;
    char path[96], body[64];
    long st;

    snprintf(path, sizeof path, "/api/v1/reports/%s/status", m->case_no);
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    CHECK(it_send(&srv, "POST", path, admin, body, &r) == 0);
    st = r.status;
    free(r.body);
    return st;
}

static long rate(const struct made *m, const char *token, const char *body, char *out, size_t n)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct it_reply r;
    char path[96], hdr[160];
    long st;

    if (token) {
        snprintf(hdr, sizeof hdr, "X-Report-Token: %s", token);
        h = curl_slist_append(h, hdr);
    }
    snprintf(path, sizeof path, "/api/v1/reports/%s/rating", m->case_no);
    CHECK(it_request(&srv, "POST", path, body, strlen(body), h, &r) == 0);
    curl_slist_free_all(h);
    st = r.status;
    if (out)
        snprintf(out, n, "%s", r.body);
    free(r.body);
    return st;
}

static struct made a, b, c, d;

static void test_ratings(void)
{
    char out[1024];
    struct it_reply r;
    char path[96];

    make(&a, "basura");
    make(&b, "basura");
    make(&c, "basura");
    CHECK_INT_EQ(status_to(&a, "resolved"), 200);
    CHECK_INT_EQ(status_to(&b, "resolved"), 200);
    /* refused: no token, another case's token, an open case, a bad score */
    CHECK_INT_EQ(rate(&a, NULL, "{\"score\":5}", NULL, 0), 401);
    CHECK_INT_EQ(rate(&a, b.token, "{\"score\":5}", NULL, 0), 403);
    CHECK_INT_EQ(rate(&c, c.token, "{\"score\":5}", NULL, 0), 409);
    CHECK_INT_EQ(rate(&a, a.token, "{\"score\":6}", NULL, 0), 400);
    CHECK_INT_EQ(rate(&a, a.token, "{\"score\":\"4\"}", NULL, 0), 400);
    CHECK_INT_EQ(rate(&a, a.token, "{\"score\":2,\"reopen\":true}", NULL, 0), 400); /* no reason */
    /* once */
    CHECK_INT_EQ(rate(&a, a.token, "{\"score\":4,\"comment\":\"" COMMENT "\"}", out, sizeof out), 201);
    CHECK(strstr(out, "\"score\":4") != NULL);
    CHECK_INT_EQ(rate(&a, a.token, "{\"score\":1}", NULL, 0), 409);
    /* reopened with a reason */
    CHECK_INT_EQ(rate(&b, b.token,
                      "{\"score\":1,\"reopen\":true,\"reason\":\"la basura sigue en la esquina\"}",
                      out, sizeof out),
                 201);
    CHECK(strstr(out, "\"status\":\"in_progress\"") != NULL);
    snprintf(path, sizeof path, "/api/v1/reports/%s/history", b.case_no);
    CHECK(it_get(&srv, path, &r) == 0);
    CHECK(strstr(r.body, "la basura sigue en la esquina") != NULL);
    free(r.body);
    /* the comment is stored, and nowhere public */
    CHECK_INT_EQ(it_sql_count(&srv, "SELECT count(*) FROM ratings WHERE comment = '" COMMENT "'"), 1);
    CHECK_INT_EQ(it_sql_count(&srv, "SELECT count(*) FROM events WHERE payload LIKE '%" COMMENT "%'"), 0);
    snprintf(path, sizeof path, "/api/v1/reports/%s/history", a.case_no);
    CHECK(it_get(&srv, path, &r) == 0);
    CHECK(strstr(r.body, COMMENT) == NULL);
    free(r.body);
    CHECK(it_get(&srv, "/api/v1/export.csv", &r) == 0);
    CHECK(strstr(r.body, COMMENT) == NULL);
    free(r.body);
    /* the scorecard: 2 ratings, 4 and 1 */
    CHECK(it_get(&srv, "/api/v1/stats?group=entity&service=basura", &r) == 0);
    {
        json_t *j = it_json(&r), *g = json_array_get(json_object_get(j, "groups"), 0);
        CHECK_INT_EQ(json_integer_value(json_object_get(g, "ratings")), 2);
        CHECK_NEAR(json_real_value(json_object_get(g, "satisfaction")), 2.5, 1e-9);
        json_decref(j);
    }
    free(r.body);
}

static int queue_has(const char *key, const char *case_no, const char *kind, char *body, size_t n)
{
    struct it_reply r;
    int has;
    char needle[128];

    CHECK(it_send(&srv, "GET", "/api/v1/followups", key, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    snprintf(needle, sizeof needle, "\"case\":\"%s\"", case_no);
    has = strstr(r.body, needle) && strstr(r.body, kind);
    if (body)
        snprintf(body, n, "%s", r.body);
    free(r.body);
    return has;
}

static void test_followups(void)
{
    char sql[256], list[8192];
    struct it_reply r;
    json_t *j, *f;
    size_t i;
    long id = 0;
    int t;

    make(&d, "fuga_agua"); /* IDAAN's */
    snprintf(sql, sizeof sql,
             "UPDATE reports SET updated_at = strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now', '-31 days')"
             " WHERE case_no = '%s'", d.case_no);
    it_sql(&srv, sql);
    CHECK_INT_EQ(status_to(&c, "resolved"), 200); /* unrated: asked for its satisfaction */
    for (t = 0; t < 50 && !(queue_has(admin, d.case_no, "followup_due", NULL, 0) &&
                            queue_has(admin, c.case_no, "satisfaction_requested", NULL, 0));
         t++)
        usleep(100 * 1000);
    CHECK(queue_has(admin, d.case_no, "followup_due", list, sizeof list));
    CHECK(strstr(list, "+507 6555-0101") != NULL);
    CHECK(queue_has(admin, c.case_no, "satisfaction_requested", NULL, 0));
    CHECK(!queue_has(admin, a.case_no, "satisfaction_requested", NULL, 0)); /* rated */
    /* each entity's staff see their own */
    CHECK(queue_has(idaan, d.case_no, "followup_due", NULL, 0));
    CHECK(!queue_has(idaan, c.case_no, "satisfaction_requested", NULL, 0));
    CHECK(!queue_has(aaud, d.case_no, "followup_due", NULL, 0));
    CHECK_INT_EQ(it_sql_count(&srv, "SELECT count(*) FROM events WHERE type = 'case.followup_due'"), 1);
    /* raised once, however often the sweep runs */
    usleep(1500 * 1000);
    CHECK_INT_EQ(it_sql_count(&srv, "SELECT count(*) FROM followups WHERE kind = 'followup_due'"), 1);
    /* done: off the list, into the history; not twice; not by another entity */
    CHECK(it_send(&srv, "GET", "/api/v1/followups?kind=followup_due", idaan, NULL, &r) == 0);
    j = it_json(&r);
    json_array_foreach(json_object_get(j, "followups"), i, f) if (strcmp(
        json_string_value(json_object_get(f, "case")), d.case_no) == 0) id =
        (long)json_integer_value(json_object_get(f, "id"));
    json_decref(j);
    free(r.body);
    CHECK(id > 0);
    snprintf(sql, sizeof sql, "/api/v1/followups/%ld/done", id);
    CHECK(it_send(&srv, "POST", sql, aaud, "{\"note\":\"x\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 403);
    free(r.body);
    CHECK(it_send(&srv, "POST", sql, idaan, "{\"note\":\"llamamos: la cuadrilla va el lunes\"}",
                  &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    CHECK(it_send(&srv, "POST", sql, idaan, "{}", &r) == 0);
    CHECK_INT_EQ(r.status, 409);
    free(r.body);
    CHECK(!queue_has(idaan, d.case_no, "followup_due", NULL, 0));
    CHECK_INT_EQ(it_sql_count(&srv, "SELECT count(*) FROM events WHERE type = 'case.followup_done'"), 1);
    CHECK(it_send(&srv, "GET", "/api/v1/followups?kind=planet", admin, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    free(r.body);
    CHECK(it_send(&srv, "POST", "/api/v1/followups/999999/done", admin, "{}", &r) == 0);
    CHECK_INT_EQ(r.status, 404);
    free(r.body);
}

int main(int argc, char **argv)
{
    char *extra[] = {"--followup-interval", "1", NULL};
    int rc;

    if (argc < 2)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (it_start(&srv, argv[1], extra) != 0 ||
        it_key_create(&srv, "admin", NULL, "311", admin, sizeof admin) != 0 ||
        it_key_create(&srv, "staff", "AAUD", "AAUD", aaud, sizeof aaud) != 0 ||
        it_key_create(&srv, "staff", "IDAAN", "IDAAN", idaan, sizeof idaan) != 0) {
        fprintf(stderr, "server or keys did not start\n");
        return 1;
    }
    RUN(test_ratings);
    RUN(test_followups);
    CHECK_INT_EQ(it_stop(&srv, SIGTERM), 0);
    rc = check_exit();
    curl_global_cleanup();
    return rc;
}
