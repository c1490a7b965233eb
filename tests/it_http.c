/*
 * tests/it_http.c - the real server over HTTP on 127.0.0.1: health, routing errors (404, 405
 * with Allow), body caps (413 by Content-Length and by chunked stream), the error body shape,
 * locate and areas, flag errors (exit 2 naming the flag), and shutdown on SIGTERM that
 * finishes a request still in flight and exits 0.
 * usage: it_http PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "it.h"

static struct it_server srv;
static const char *panama_db;

static int starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_healthz_reports_database_and_areas(void)
{
    struct it_reply r;
    json_t *j;

    CHECK(it_get(&srv, "/healthz", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.headers, "application/json") != NULL);
    j = it_json(&r);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "status")), "ok");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "database")), "ok");
    CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(j, "areas"), "distrito")), 82);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(j, "areas"), "corregimiento")),
                 698);
    json_decref(j);
    free(r.body);
    CHECK(it_request(&srv, "HEAD", "/healthz", NULL, 0, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK_INT_EQ(r.len, 0);
    free(r.body);
}

static void test_unknown_path_is_404_with_error_body(void)
{
    struct it_reply r;
    json_t *j;

    CHECK(it_get(&srv, "/api/v1/nothing-here", &r) == 0);
    CHECK_INT_EQ(r.status, 404);
    j = it_json(&r);
    CHECK_STR_EQ(it_error_code(j), "not_found");
    CHECK(json_is_string(json_object_get(json_object_get(j, "error"), "message")));
    json_decref(j);
    free(r.body);
}

static void test_wrong_method_is_405_with_allow(void)
{
    struct it_reply r;
    json_t *j;

    CHECK(it_request(&srv, "DELETE", "/api/v1/areas/08", NULL, 0, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 405);
    CHECK(strstr(r.headers, "Allow: GET, HEAD") != NULL);
    j = it_json(&r);
    CHECK_STR_EQ(it_error_code(j), "method_not_allowed");
    json_decref(j);
    free(r.body);
}

static void test_oversize_bodies_are_413(void)
{
    size_t n = 200 * 1024;
    char *big = malloc(n);
    struct curl_slist *chunked = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    struct it_reply r;
    json_t *j;

    memset(big, 'a', n);
    CHECK(it_request(&srv, "POST", "/healthz", big, n, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 413);
    j = it_json(&r);
    CHECK_STR_EQ(it_error_code(j), "payload_too_large");
    json_decref(j);
    free(r.body);
    /* no Content-Length: the cap must hold while the stream arrives */
    CHECK(it_request(&srv, "POST", "/healthz", big, n, chunked, &r) == 0);
    CHECK_INT_EQ(r.status, 413);
    free(r.body);
    curl_slist_free_all(chunked);
    free(big);
}

static void test_locate_answers_and_refuses_bad_coordinates(void)
{
    static const char *const bad[] = {"/api/v1/locate?lat=abc&lon=-79.5",
                                      "/api/v1/locate?lat=nan&lon=-79.5",
                                      "/api/v1/locate?lat=inf&lon=-79.5",
                                      "/api/v1/locate?lat=91&lon=-79.5",
                                      "/api/v1/locate?lat=8.9",
                                      "/api/v1/locate?lat=&lon=-79.5",
                                      "/api/v1/locate?lat=8.9&lon=-79.5x"};
    struct it_reply r;
    json_t *j;

    CHECK(it_get(&srv, "/api/v1/locate?lat=8.9870&lon=-79.5270", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    j = it_json(&r);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(j, "corregimiento"), "code")),
                 "080807");
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(j, "provincia"), "name")),
                 "Panamá");
    CHECK(json_object_get(j, "snapped_m") == NULL);
    json_decref(j);
    /* plain decimals come back as sent; other spellings as jansson writes the number */
    CHECK(starts_with(r.body, "{\"lat\":8.9870,\"lon\":-79.5270,\"provincia\""));
    free(r.body);
    CHECK(it_get(&srv, "/api/v1/locate?lat=%2B8.987e0&lon=-079.527", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(starts_with(r.body, "{\"lat\":8.987,\"lon\":-79.527,\"provincia\""));
    free(r.body);

    CHECK(it_get(&srv, "/api/v1/locate?lat=8.4277&lon=-82.4309", &r) == 0); /* David */
    j = it_json(&r);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(j, "distrito"), "code")),
                 "0406");
    /* nationwide corregimientos (INEC 2023): David has one, nested in its distrito */
    CHECK(strncmp(json_string_value(json_object_get(json_object_get(j, "corregimiento"), "code")),
                  "0406", 4) == 0);
    json_decref(j);
    free(r.body);

    /* Walk south from Bella Vista with snapping off until the sea (422), then ask 200 m out. */
    {
        double lat = 8.9870, coast = 0;
        char path[128];
        for (int i = 0; i < 400 && coast == 0; i++, lat -= 0.00005) {
            snprintf(path, sizeof path, "/api/v1/locate?lat=%.6f&lon=-79.5270&snap_m=0", lat);
            CHECK(it_get(&srv, path, &r) == 0);
            if (r.status == 422)
                coast = lat;
            free(r.body);
        }
        CHECK(coast != 0);
        snprintf(path, sizeof path, "/api/v1/locate?lat=%.6f&lon=-79.5270", coast - 200 / 110574.0);
        CHECK(it_get(&srv, path, &r) == 0);
        CHECK_INT_EQ(r.status, 200);
        j = it_json(&r);
        CHECK(json_real_value(json_object_get(j, "snapped_m")) > 150);
        CHECK(json_real_value(json_object_get(j, "snapped_m")) <= 201);
        CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(j, "distrito"), "code")),
                     "0808");
        json_decref(j);
        free(r.body);
    }

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(it_get(&srv, bad[i], &r) == 0);
        if (r.status != 400)
            CHECK_REPORT("%s: status %ld", bad[i], r.status);
        j = it_json(&r);
        CHECK_STR_EQ(it_error_code(j), "invalid_coordinates");
        json_decref(j);
        free(r.body);
    }
    CHECK(it_get(&srv, "/api/v1/locate?lat=9.93&lon=-84.08", &r) == 0);
    CHECK_INT_EQ(r.status, 422);
    j = it_json(&r);
    CHECK_STR_EQ(it_error_code(j), "outside_service_area");
    json_decref(j);
    free(r.body);
}

static void test_areas_list_and_feature(void)
{
    struct it_reply r;
    json_t *j, *a;
    size_t i;
    int found = 0;

    CHECK(it_get(&srv, "/api/v1/areas?level=distrito&parent=08", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    j = it_json(&r);
    json_array_foreach(json_object_get(j, "areas"), i, a)
    {
        CHECK_STR_EQ(json_string_value(json_object_get(a, "parent")), "08");
        found += strcmp(json_string_value(json_object_get(a, "code")), "0808") == 0;
    }
    CHECK_INT_EQ(found, 1);
    json_decref(j);
    free(r.body);

    CHECK(it_get(&srv, "/api/v1/areas/0810?simplify=100", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    j = it_json(&r);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "type")), "Feature");
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(j, "properties"), "name")),
                 "San Miguelito");
    CHECK(json_is_array(json_object_get(json_object_get(j, "geometry"), "coordinates")));
    json_decref(j);
    free(r.body);

    CHECK(it_get(&srv, "/api/v1/areas/9999", &r) == 0);
    CHECK_INT_EQ(r.status, 404);
    free(r.body);
    CHECK(it_get(&srv, "/api/v1/areas?level=barrio", &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    free(r.body);
    CHECK(it_get(&srv, "/api/v1/areas/08?simplify=-5", &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    free(r.body);
}

static void test_bad_flags_exit_2_naming_the_flag(void)
{
    char err[4096];
    char *port[] = {(char *)it_bin(), "serve", "--port", "notanumber", NULL};
    char *threads[] = {(char *)it_bin(), "serve", "--threads", "0", NULL};
    char *unknown[] = {(char *)it_bin(), "serve", "--prot", "80", NULL};

    CHECK_INT_EQ(it_run(port, err, sizeof err), 2);
    CHECK(strstr(err, "--port") != NULL);
    CHECK_INT_EQ(it_run(threads, err, sizeof err), 2);
    CHECK(strstr(err, "--threads") != NULL);
    CHECK_INT_EQ(it_run(unknown, err, sizeof err), 2);
    CHECK(strstr(err, "--prot") != NULL);
    setenv("REPORTA_PORT", "eighty", 1);
    CHECK_INT_EQ(it_run(threads + 0, err, sizeof err), 2); /* env is read first */
    CHECK(strstr(err, "REPORTA_PORT") != NULL);
    unsetenv("REPORTA_PORT");
}

static void test_serve_refuses_an_uninitialised_database(void)
{
    char err[4096];
    char *argv[] = {(char *)it_bin(), "serve", "--db", "/tmp/reporta-it-no-such.db", "--port",
                    "0", NULL};

    CHECK_INT_EQ(it_run(argv, err, sizeof err), 1);
    CHECK(strstr(err, "reporta init") != NULL);
}

/* A request whose body is still arriving when SIGTERM lands is answered, then the server
 * exits 0; new connections are refused meanwhile. */
static void test_sigterm_finishes_in_flight_requests_and_exits_0(void)
{
    struct it_server s;
    struct sockaddr_in a = {0};
    const char *head = "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc";
    char buf[512] = "";
    ssize_t n;
    int fd;

    CHECK(it_start(&s, panama_db, NULL) == 0);
    {
        /* a path decoded to a newline must not forge a line of the access log */
        struct it_reply r;
        CHECK(it_get(&s, "/no%0A2026-01-01T00:00:00.000Z%20INFO%20access%20GET%20/forged", &r) == 0);
        CHECK_INT_EQ(r.status, 404);
        free(r.body);
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
    usleep(300 * 1000);
    kill(s.pid, SIGTERM);
    usleep(300 * 1000);
    CHECK(write(fd, "defghij", 7) == 7);
    n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    CHECK(strncmp(buf, "HTTP/1.1 405", 12) == 0);
    close(fd);
    CHECK(it_log_contains(&s, "SIGTERM received"));
    {
        int status = 0;
        waitpid(s.pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        s.pid = 0;
    }
    CHECK(it_log_contains(&s, "stopped cleanly"));
    CHECK(it_log_contains(&s, "access POST /healthz 405"));
    CHECK(it_log_contains(&s, "access GET /no?2026-01-01T00:00:00.000Z INFO access GET /forged 404"));
    CHECK(!it_log_contains(&s, "\n2026-01-01T00:00:00.000Z"));
    it_stop(&s, SIGTERM); /* only removes the directory now */
}

int main(int argc, char **argv)
{
    if (it_suite_start(argc, argv, &srv) != 0)
        return 1;
    panama_db = argv[1];
    RUN(test_healthz_reports_database_and_areas);
    RUN(test_unknown_path_is_404_with_error_body);
    RUN(test_wrong_method_is_405_with_allow);
    RUN(test_oversize_bodies_are_413);
    RUN(test_locate_answers_and_refuses_bad_coordinates);
    RUN(test_areas_list_and_feature);
    RUN(test_bad_flags_exit_2_naming_the_flag);
    RUN(test_serve_refuses_an_uninitialised_database);
    RUN(test_sigterm_finishes_in_flight_requests_and_exits_0);
    return it_suite_end(&srv);
}
