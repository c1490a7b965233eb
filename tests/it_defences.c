/*
 * tests/it_defences.c - the server's defences, each on a real server over loopback: per-address
 * and per-key rate limits (429 + Retry-After, another address still served, reads budgeted
 * apart from writes), idle and half-sent connections cut off, a per-address connection cap,
 * 500 idle connections not stopping a normal client, CORS, URL, header and per-route body caps.
 * Clients at different addresses are played from 127.0.0.x (all of 127/8 is local on Linux).
 * usage: it_defences PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "it.h"

static const char *panama_db;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A TCP connection to the server from address `from`; -1 on failure. */
static int tcp_from(const struct it_server *s, const char *from)
{
    struct sockaddr_in a = {0}, b = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    b.sin_family = AF_INET;
    inet_pton(AF_INET, from, &b.sin_addr);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&b, sizeof b) != 0 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1 when the server has closed fd (EOF or reset) within wait_ms. */
static int closed_by_server(int fd, int wait_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    char c;

    if (poll(&p, 1, wait_ms) <= 0)
        return 0;
    return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

static int admin_key(const struct it_server *s, char *key)
{
    return it_key_create(s, "admin", NULL, "defences admin", key, 128);
}

/* 200 writes/s from one address against a 20/s write limit: most get 429 with Retry-After,
 * while a second address, writing slowly meanwhile, is served every time; reads from the
 * first address still pass (their own budget). */
static void test_write_rate_limit_per_address(void)
{
    char *extra[] = {"--ip-write-rate=20", "--ip-read-rate=1000", "--key-write-rate=0", NULL};
    struct it_server s;
    char key[128];
    int ok = 0, limited = 0, other_ok = 0, other_n = 0, missing_retry = 0;
    double t0;
    struct it_reply r;

    CHECK(it_start(&s, panama_db, extra) == 0);
    CHECK(admin_key(&s, key) == 0);
    t0 = now_s();
    for (int i = 0; i < 200; i++) {
        double due = t0 + i * 0.005; /* 200 per second */
        while (now_s() < due)
            usleep(200);
        it_from = "127.0.0.1";
        CHECK(it_send(&s, "POST", "/api/v1/keys", key, "{\"role\":\"tow_operator\",\"name\":\"f\"}",
                      &r) == 0);
        if (r.status == 201)
            ok++;
        else if (r.status == 429) {
            json_t *j = it_json(&r);
            limited++;
            if (!strstr(r.headers, "Retry-After: ") || !it_error_code(j) ||
                strcmp(it_error_code(j), "rate_limited") != 0)
                missing_retry++;
            json_decref(j);
        }
        free(r.body);
        if (i % 20 == 10) { /* another client: 10 writes over the second */
            it_from = "127.0.0.2";
            CHECK(it_send(&s, "POST", "/api/v1/keys", key,
                          "{\"role\":\"tow_operator\",\"name\":\"g\"}", &r) == 0);
            other_n++;
            other_ok += r.status == 201;
            free(r.body);
        }
    }
    it_from = "127.0.0.1";
    CHECK(it_get(&s, "/api/v1/areas?level=provincia", &r) == 0);
    CHECK_INT_EQ(r.status, 200); /* reads are budgeted apart */
    free(r.body);
    it_from = NULL;
    fprintf(stderr, "   one address: %d created, %d limited in %.2f s; other: %d/%d created\n",
            ok, limited, now_s() - t0, other_ok, other_n);
    CHECK(limited >= 100);
    CHECK(ok >= 20 && ok <= 100); /* burst (2 s of rate) + what refills */
    CHECK_INT_EQ(missing_retry, 0);
    CHECK_INT_EQ(other_ok, other_n);
    CHECK(it_log_contains(&s, " 429 "));
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);
}

/* One key used from two addresses shares one bucket. */
static void test_rate_limit_per_key(void)
{
    char *extra[] = {"--key-read-rate=5", NULL};
    struct it_server s;
    char key[128];
    int limited = 0;
    struct it_reply r;

    CHECK(it_start(&s, panama_db, extra) == 0);
    CHECK(admin_key(&s, key) == 0);
    for (int i = 0; i < 40; i++) {
        it_from = i % 2 ? "127.0.0.4" : "127.0.0.5";
        CHECK(it_send(&s, "GET", "/api/v1/me", key, NULL, &r) == 0);
        if (r.status == 429) {
            limited++;
            CHECK(strstr(r.body, "API key") != NULL);
        }
        free(r.body);
    }
    it_from = NULL;
    CHECK(limited >= 20);
    /* anonymous reads from the same addresses are not that key's business */
    CHECK(it_get(&s, "/api/v1/me", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);
}

/* 500 idle connections from one address; a normal client is answered at once. The idle ones
 * and one that sent half a request are cut off after the idle timeout. */
static void test_idle_connections_do_not_starve_others(void)
{
    char *extra[] = {"--timeout=3", NULL};
    struct it_server s;
    static int fds[500];
    int opened = 0, cut = 0, half;
    double t0;
    struct it_reply r;
    const char *partial = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";

    CHECK(it_start(&s, panama_db, extra) == 0);
    for (int i = 0; i < 500; i++)
        if ((fds[i] = tcp_from(&s, "127.0.0.3")) >= 0)
            opened++;
    CHECK_INT_EQ(opened, 500);
    half = tcp_from(&s, "127.0.0.3");
    CHECK(half >= 0 && write(half, partial, strlen(partial)) == (ssize_t)strlen(partial));
    t0 = now_s();
    CHECK(it_get(&s, "/healthz", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(now_s() - t0 < 1.0);
    free(r.body);
    /* after the 3 s idle timeout (and MHD's one-second timer granularity) all are closed */
    usleep(5 * 1000 * 1000);
    for (int i = 0; i < 500; i++)
        if (fds[i] >= 0) {
            cut += closed_by_server(fds[i], 100);
            close(fds[i]);
        }
    CHECK_INT_EQ(cut, 500);
    CHECK(closed_by_server(half, 1000));
    close(half);
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);
}

/* --ip-conns caps how many connections one address holds; another address is unaffected. */
static void test_connections_per_address_are_capped(void)
{
    char *extra[] = {"--ip-conns=50", NULL};
    struct it_server s;
    static int fds[100];
    int alive = 0;
    struct it_reply r;

    CHECK(it_start(&s, panama_db, extra) == 0);
    for (int i = 0; i < 100; i++)
        fds[i] = tcp_from(&s, "127.0.0.6");
    usleep(300 * 1000);
    for (int i = 0; i < 100; i++)
        if (fds[i] >= 0) {
            alive += !closed_by_server(fds[i], 10);
        }
    fprintf(stderr, "   %d of 100 connections from one address kept\n", alive);
    CHECK(alive <= 50);
    CHECK(alive >= 40);
    CHECK(it_get(&s, "/healthz", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    for (int i = 0; i < 100; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);
}

static void test_cors_allows_only_configured_origins(void)
{
    char *extra[] = {"--cors-origins", "https://app.311.gob.pa, https://admin.311.gob.pa", NULL};
    struct it_server s;
    struct curl_slist *h;
    struct it_reply r;
    json_t *j;

    CHECK(it_start(&s, panama_db, extra) == 0);
    h = curl_slist_append(NULL, "Origin: https://admin.311.gob.pa");
    CHECK(it_request(&s, "GET", "/healthz", NULL, 0, h, &r) == 0);
    CHECK(strstr(r.headers, "Access-Control-Allow-Origin: https://admin.311.gob.pa") != NULL);
    CHECK(strstr(r.headers, "Vary: Origin") != NULL);
    free(r.body);
    h = curl_slist_append(h, "Access-Control-Request-Method: POST");
    CHECK(it_request(&s, "OPTIONS", "/api/v1/keys", NULL, 0, h, &r) == 0);
    CHECK_INT_EQ(r.status, 204);
    CHECK(strstr(r.headers, "Access-Control-Allow-Methods: GET, HEAD, POST") != NULL);
    CHECK(strstr(r.headers, "Access-Control-Allow-Headers: Authorization") != NULL);
    CHECK(strstr(r.headers, "Access-Control-Allow-Origin: https://admin.311.gob.pa") != NULL);
    free(r.body);
    curl_slist_free_all(h);

    h = curl_slist_append(NULL, "Origin: https://evil.example");
    CHECK(it_request(&s, "GET", "/healthz", NULL, 0, h, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.headers, "Access-Control-Allow-Origin") == NULL);
    free(r.body);
    CHECK(it_request(&s, "OPTIONS", "/api/v1/keys", NULL, 0, h, &r) == 0);
    CHECK_INT_EQ(r.status, 403);
    j = it_json(&r);
    CHECK_STR_EQ(it_error_code(j), "forbidden");
    json_decref(j);
    free(r.body);
    curl_slist_free_all(h);

    /* OPTIONS without an Origin: the methods of the path */
    CHECK(it_request(&s, "OPTIONS", "/api/v1/keys/3", NULL, 0, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 204);
    CHECK(strstr(r.headers, "Allow: DELETE, OPTIONS") != NULL);
    free(r.body);
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);
}

static void test_url_header_and_route_body_caps(void)
{
    struct it_server s;
    struct it_reply r;
    char key[128], *big, *path;
    json_t *j;

    CHECK(it_start(&s, panama_db, NULL) == 0);
    CHECK(admin_key(&s, key) == 0);
    path = malloc(9001);
    memcpy(path, "/api/v1/areas?x=", 16);
    memset(path + 16, 'a', 9000 - 16);
    path[9000] = '\0';
    CHECK(it_get(&s, path, &r) == 0);
    CHECK_INT_EQ(r.status, 414);
    j = it_json(&r);
    CHECK_STR_EQ(it_error_code(j), "uri_too_long");
    json_decref(j);
    free(r.body);
    free(path);

    /* a 40 KB header does not fit the connection's 32 KB: refused by libmicrohttpd */
    big = malloc(40 * 1024 + 16);
    strcpy(big, "X-Big: ");
    memset(big + 7, 'b', 40 * 1024);
    big[7 + 40 * 1024] = '\0';
    {
        struct curl_slist *h = curl_slist_append(NULL, big);
        CHECK(it_request(&s, "GET", "/healthz", NULL, 0, h, &r) == 0);
        CHECK(r.status == 431 || r.status == 413);
        curl_slist_free_all(h);
        free(r.body);
    }
    free(big);

    /* POST /api/v1/keys takes 4 KB bodies, less than the 64 KB default */
    big = malloc(6000);
    snprintf(big, 6000, "{\"role\":\"admin\",\"name\":\"%0*d\"}", 5000, 7);
    CHECK(it_send(&s, "POST", "/api/v1/keys", key, big, &r) == 0);
    CHECK_INT_EQ(r.status, 413);
    j = it_json(&r);
    CHECK_STR_EQ(it_error_code(j), "payload_too_large");
    json_decref(j);
    free(r.body);
    free(big);
    /* the server is fine afterwards */
    CHECK(it_get(&s, "/healthz", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);
}

int main(int argc, char **argv)
{
    struct rlimit rl;
    int rc;

    if (argc < 2)
        return 2;
    panama_db = argv[1];
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2048) {
        rl.rlim_cur = rl.rlim_max < 2048 ? rl.rlim_max : 2048;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_write_rate_limit_per_address);
    RUN(test_rate_limit_per_key);
    RUN(test_idle_connections_do_not_starve_others);
    RUN(test_connections_per_address_are_capped);
    RUN(test_cors_allows_only_configured_origins);
    RUN(test_url_header_and_route_body_caps);
    rc = check_exit();
    curl_global_cleanup();
    return rc;
}
