/*
 * tests/it_updates.c - reporta as the Open311 endpoint of a FixMyStreet: this program plays the
 * client. It posts a request (form, XML), a staff member moves the case, the client polls
 * servicerequestupdates.xml for the window and finds the change (parsed with libxml2's XPath,
 * as FixMyStreet reads it: element names exactly, a time with its offset), then posts a
 * citizen's update with its own update_id, which lands in the case's history, answers with our
 * update_id, is not posted twice when retried, and is not echoed back in the feed.
 * usage: it_updates PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <time.h>

#include "it.h"

static struct it_server srv;
static char staff[128];
static char case_no[32];

static int form_post(const char *path, const char *body, struct it_reply *r)
{
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    int rc = it_request(&srv, "POST", path, body, strlen(body), h, r);
    curl_slist_free_all(h);
    return rc;
}

/* The text of the first node of xpath in xml, into out ("" when none). */
static void xpath_text(const char *xml, const char *xpath, char *out, size_t n)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "r.xml", NULL, XML_PARSE_NONET);
    xmlXPathContextPtr ctx = doc ? xmlXPathNewContext(doc) : NULL;
    xmlXPathObjectPtr o = ctx ? xmlXPathEvalExpression((const xmlChar *)xpath, ctx) : NULL;

    out[0] = '\0';
    if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
        xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        snprintf(out, n, "%s", t ? (const char *)t : "");
        xmlFree(t);
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
}

static void utc(int offset_s, char *out, size_t n)
{
    time_t t = time(NULL) + offset_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void test_a_client_finds_the_staff_change_in_the_feed(void)
{
    struct it_reply r;
    char path[300], xpath[200], v[200], start[32], end[32];

    utc(-5, start, sizeof start);
    CHECK(form_post("/open311/v2/requests.xml",
                    "service_code=basura&lat=8.9833&long=-79.5197&description=bolsas+en+la+acera"
                    "&email=vecina%40example.com",
                    &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    xpath_text(r.body, "/service_requests/request/service_request_id", case_no, sizeof case_no);
    CHECK(case_no[0] != '\0');
    free(r.body);
    snprintf(path, sizeof path, "/api/v1/reports/%s/status", case_no);
    CHECK(it_send(&srv, "POST", path, staff, "{\"status\":\"in_progress\",\"note\":\"cuadrilla en camino\"}",
                  &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    utc(5, end, sizeof end);
    snprintf(path, sizeof path, "/open311/v2/servicerequestupdates.xml?start_date=%s&end_date=%s",
             start, end);
    CHECK(it_get(&srv, path, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    snprintf(xpath, sizeof xpath,
             "/service_request_updates/request_update[service_request_id='%s']/status", case_no);
    xpath_text(r.body, xpath, v, sizeof v);
    CHECK_STR_EQ(v, "in_progress");
    snprintf(xpath, sizeof xpath,
             "/service_request_updates/request_update[service_request_id='%s']/description", case_no);
    xpath_text(r.body, xpath, v, sizeof v);
    CHECK_STR_EQ(v, "cuadrilla en camino");
    snprintf(xpath, sizeof xpath,
             "/service_request_updates/request_update[service_request_id='%s']/updated_datetime",
             case_no);
    xpath_text(r.body, xpath, v, sizeof v);
    CHECK(strlen(v) == 25 && strcmp(v + 19, "-05:00") == 0);
    snprintf(xpath, sizeof xpath,
             "/service_request_updates/request_update[service_request_id='%s']/update_id", case_no);
    xpath_text(r.body, xpath, v, sizeof v);
    CHECK_INT_EQ((long)strlen(v), 32);
    CHECK(strstr(r.body, "vecina@example.com") == NULL);
    free(r.body);

    /* the same window as JSON; a window before the change has nothing of it */
    snprintf(path, sizeof path, "/open311/v2/servicerequestupdates.json?start_date=%s&end_date=%s",
             start, end);
    CHECK(it_get(&srv, path, &r) == 0);
    {
        json_t *j = it_json(&r), *u;
        size_t i;
        int found = 0;
        json_array_foreach(j, i, u) found += strcmp(json_string_value(json_object_get(u, "service_request_id")), case_no) == 0;
        CHECK_INT_EQ(found, 1);
        json_decref(j);
    }
    free(r.body);
    CHECK(it_get(&srv, "/open311/v2/servicerequestupdates.xml?start_date=2020-01-01T00:00:00Z"
                       "&end_date=2020-01-02T00:00:00Z", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.body, case_no) == NULL);
    free(r.body);
}

static void test_a_citizens_update_lands_in_the_history(void)
{
    struct it_reply r;
    char body[400], path[300], ours[64], again[64], start[32], end[32];

    utc(-5, start, sizeof start);
    snprintf(body, sizeof body,
             "service_request_id=%s&update_id=fms-7781&status=OPEN&updated_datetime=%s"
             "&description=Siguen+ah%%C3%%AD+las+bolsas&first_name=Ana&last_name=Ruiz"
             "&email=ana.ruiz%%40example.com",
             case_no, start);
    CHECK(form_post("/open311/v2/servicerequestupdates.xml", body, &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    xpath_text(r.body, "/service_request_updates/request_update/update_id", ours, sizeof ours);
    CHECK_INT_EQ((long)strlen(ours), 32);
    free(r.body);
    /* FixMyStreet retries when it did not hear back: the same update, not a second one */
    CHECK(form_post("/open311/v2/servicerequestupdates.xml", body, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    xpath_text(r.body, "/service_request_updates/request_update/update_id", again, sizeof again);
    CHECK_STR_EQ(again, ours);
    free(r.body);
    snprintf(path, sizeof path, "/api/v1/reports/%s/history", case_no);
    CHECK(it_send(&srv, "GET", path, staff, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    {
        const char *p = r.body;
        int n = 0;
        while ((p = strstr(p, "Siguen ahí las bolsas")) != NULL)
            n++, p++;
        CHECK_INT_EQ(n, 1);
    }
    CHECK(strstr(r.body, "ana.ruiz@example.com") == NULL);
    free(r.body);
    /* the client's own update is not echoed back to it */
    utc(5, end, sizeof end);
    snprintf(path, sizeof path, "/open311/v2/servicerequestupdates.xml?start_date=%s&end_date=%s",
             start, end);
    CHECK(it_get(&srv, path, &r) == 0);
    CHECK(strstr(r.body, ours) == NULL);
    free(r.body);
}

static void test_bad_updates_are_refused_as_open311_errors(void)
{
    static const struct {
        const char *body;
        long status;
    } bad[] = {
        {"service_request_id=2026-999999&description=hola", 404},
        {"description=sin+caso", 400},
        {"service_request_id=X&status=OPEN", 400},
        {"service_request_id=X&description=a&status=DROP+TABLE", 400},
        {"service_request_id=X&description=a&updated_datetime=ayer", 400},
    };
    struct it_reply r;
    char code[16];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[200];
        snprintf(body, sizeof body, "%s", bad[i].body);
        if (strstr(body, "=X")) { /* a real case for the malformed rest */
            char *x = strstr(body, "=X");
            char tail[160];
            snprintf(tail, sizeof tail, "%s", x + 2);
            snprintf(x, sizeof body - (size_t)(x - body), "=%s%s", case_no, tail);
        }
        CHECK(form_post("/open311/v2/servicerequestupdates.xml", body, &r) == 0);
        CHECK_INT_EQ(r.status, bad[i].status);
        xpath_text(r.body, "/errors/error/code", code, sizeof code);
        CHECK_INT_EQ(atol(code), bad[i].status);
        free(r.body);
    }
    CHECK(it_get(&srv, "/open311/v2/servicerequestupdates.xml?start_date=nunca", &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    free(r.body);
}

int main(int argc, char **argv)
{
    if (it_suite_start(argc, argv, &srv) != 0)
        return 1;
    if (it_key_create(&srv, "staff", "AAUD", "AAUD", staff, sizeof staff) != 0) {
        fprintf(stderr, "keys were not created\n");
        return 1;
    }
    RUN(test_a_client_finds_the_staff_change_in_the_feed);
    RUN(test_a_citizens_update_lands_in_the_history);
    RUN(test_bad_updates_are_refused_as_open311_errors);
    return it_suite_end(&srv);
}
