/*
 * tests/it_web.c - the browser app as HTTP serves it: pages revalidated (no-cache, ETag, 304)
 * under a Content-Security-Policy that admits their one inline import map; assets under
 * /static/<build>/ cached for a year only under today's build; gzip exactly when the client
 * takes it, decompressing to the very bytes npm installed; nothing outside the table reachable;
 * the base map setting reaching the page and its policy; a server without the app still
 * serving the API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <zlib.h>

#include <curl/curl.h>

#include "tests/check.h"
#include "tests/it.h"

static struct it_server srv;
static const char *panama_db;
static char build[32];

static struct it_reply get_with(const struct it_server *s, const char *path, const char *header)
{
    struct it_reply r;
    struct curl_slist *h = header ? curl_slist_append(NULL, header) : NULL;

    CHECK(it_request(s, "GET", path, NULL, 0, h, &r) == 0);
    curl_slist_free_all(h);
    return r;
}

static int has_header(const struct it_reply *r, const char *line)
{
    return strstr(r->headers, line) != NULL;
}

/* The value of a header (up to the line's end) into out. */
static void header_value(const struct it_reply *r, const char *name, char *out, size_t n)
{
    const char *p = strstr(r->headers, name);
    size_t k = 0;

    out[0] = '\0';
    if (!p)
        return;
    p += strlen(name);
    while (*p == ' ')
        p++;
    while (p[k] && p[k] != '\r' && p[k] != '\n' && k + 1 < n) {
        out[k] = p[k];
        k++;
    }
    out[k] = '\0';
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void test_pages_are_revalidated_under_a_policy(void)
{
    struct it_reply r = get_with(&srv, "/", NULL), r2;
    char etag[64], inm[96];
    const char *p;

    CHECK_INT_EQ(r.status, 200);
    CHECK(has_header(&r, "Content-Type: text/html; charset=utf-8"));
    CHECK(has_header(&r, "Cache-Control: no-cache"));
    CHECK(has_header(&r, "Content-Security-Policy: default-src 'self'; script-src 'self' 'sha256-"));
    CHECK(has_header(&r, "X-Content-Type-Options: nosniff"));
    CHECK(strstr(r.body, "{{") == NULL); /* every placeholder filled in */
    p = strstr(r.body, "/static/");
    CHECK(p != NULL);
    if (p)
        sscanf(p, "/static/%16[0-9a-f]", build);
    CHECK_INT_EQ((long)strlen(build), 16);
    CHECK(strstr(r.body, "\"basemap\":{\"url\":\"\\/tiles\\/areas\\/{z}\\/{x}\\/{y}.png\"") != NULL);
    header_value(&r, "ETag:", etag, sizeof etag);
    CHECK(etag[0] == '"');
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    r2 = get_with(&srv, "/", inm);
    CHECK_INT_EQ(r2.status, 304);
    CHECK_INT_EQ((long)r2.len, 0);
    free(r2.body);
    /* every page has its URL; a case number in the path gets the case page */
    r2 = get_with(&srv, "/caso/2026-000123", NULL);
    CHECK_INT_EQ(r2.status, 200);
    CHECK(strstr(r2.body, "/js/case.js") != NULL);
    free(r2.body);
    {
        const char *pages[][2] = {{"/cuadrilla", "/js/crew.js"}, {"/grua", "/js/tow.js"},
                                  {"/estadisticas", "/js/stats.js"}, {"/caso", "/js/case.js"}};
        for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
            r2 = get_with(&srv, pages[i][0], NULL);
            CHECK_INT_EQ(r2.status, 200);
            if (!strstr(r2.body, pages[i][1]))
                CHECK_REPORT("%s does not load %s", pages[i][0], pages[i][1]);
            free(r2.body);
        }
    }
    free(r.body);
    /* a write to a page: 405 with Allow */
    CHECK(it_request(&srv, "POST", "/", "x", 1, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 405);
    CHECK(has_header(&r, "Allow: GET, HEAD"));
    free(r.body);
}

static void test_assets_are_immutable_and_gzip_only_when_asked(void)
{
    char path[160], etag[64], inm[96];
    size_t len = 0;
    char *want = slurp(REPORTA_WEB_DIR "/node_modules/leaflet/dist/leaflet.js", &len);
    struct it_reply r;

    CHECK(want != NULL);
    snprintf(path, sizeof path, "/static/%s/vendor/leaflet.js", build);
    /* identity without Accept-Encoding: npm's bytes */
    r = get_with(&srv, path, NULL);
    CHECK_INT_EQ(r.status, 200);
    CHECK(has_header(&r, "Cache-Control: public, max-age=31536000, immutable"));
    CHECK(has_header(&r, "Content-Type: text/javascript; charset=utf-8"));
    CHECK(has_header(&r, "Vary: Accept-Encoding"));
    CHECK(!has_header(&r, "Content-Encoding"));
    CHECK(want && r.len == len && memcmp(r.body, want, len) == 0);
    header_value(&r, "ETag:", etag, sizeof etag);
    free(r.body);
    /* gzip when taken: smaller, and it inflates to the same bytes, under an ETag of its own */
    r = get_with(&srv, path, "Accept-Encoding: br, gzip, deflate");
    CHECK(has_header(&r, "Content-Encoding: gzip"));
    {
        char gz_etag[64], want_gz[80];
        header_value(&r, "ETag:", gz_etag, sizeof gz_etag);
        snprintf(want_gz, sizeof want_gz, "%.*s-gz\"", (int)strlen(etag) - 1, etag);
        CHECK_STR_EQ(gz_etag, want_gz);
    }
    CHECK(r.len < len / 2);
    {
        z_stream z = {0};
        char *out = malloc(len + 16);
        CHECK(inflateInit2(&z, 15 + 16) == Z_OK);
        z.next_in = (unsigned char *)r.body;
        z.avail_in = (uInt)r.len;
        z.next_out = (unsigned char *)out;
        z.avail_out = (uInt)(len + 16);
        CHECK_INT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
        CHECK(z.total_out == len && want && memcmp(out, want, len) == 0);
        inflateEnd(&z);
        free(out);
    }
    free(r.body);
    /* refused with q=0: identity */
    r = get_with(&srv, path, "Accept-Encoding: gzip;q=0");
    CHECK(!has_header(&r, "Content-Encoding"));
    CHECK(r.len == len);
    free(r.body);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    r = get_with(&srv, path, inm);
    CHECK_INT_EQ(r.status, 304);
    CHECK(has_header(&r, "Content-Type: text/javascript")); /* a 304 keeps the type */
    free(r.body);
    /* a later coding's q=0 does not refuse gzip */
    r = get_with(&srv, path, "Accept-Encoding: gzip, br;q=0");
    CHECK(has_header(&r, "Content-Encoding: gzip"));
    free(r.body);
    /* an older build's URL gets today's file, but not for a year */
    r = get_with(&srv, "/static/0123456789abcdef/vendor/leaflet.js", NULL);
    CHECK_INT_EQ(r.status, 200);
    CHECK(has_header(&r, "Cache-Control: no-cache"));
    free(r.body);
    /* images are sent as they are */
    snprintf(path, sizeof path, "/static/%s/vendor/images/marker-icon.png", build);
    r = get_with(&srv, path, "Accept-Encoding: gzip");
    CHECK_INT_EQ(r.status, 200);
    CHECK(has_header(&r, "Content-Type: image/png"));
    CHECK(!has_header(&r, "Content-Encoding"));
    free(r.body);
    free(want);
}

static void test_nothing_outside_the_table(void)
{
    const char *paths[] = {
        "/static/%s/nope.js",       "/static/%s/report.html", "/static/%s/..%%2f..%%2fCMakeLists.txt",
        "/static/%s/%%2e%%2e/package.json",
        "/static/%s/",              "/sw.js/x",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char p[200];
        struct it_reply r;
        json_t *j;
        snprintf(p, sizeof p, paths[i], build);
        r = get_with(&srv, p, NULL);
        if (r.status != 404)
            CHECK_REPORT("%s: %ld, want 404", p, r.status);
        j = it_json(&r);
        CHECK_STR_EQ(it_error_code(j), "not_found");
        json_decref(j);
        free(r.body);
    }
}

static void test_service_worker_and_manifest(void)
{
    struct it_reply r = get_with(&srv, "/sw.js", NULL);
    char want[120];

    CHECK_INT_EQ(r.status, 200);
    CHECK(has_header(&r, "Content-Type: text/javascript"));
    CHECK(has_header(&r, "Cache-Control: no-cache"));
    snprintf(want, sizeof want, "'reporta-%s'", build);
    CHECK(strstr(r.body, want) != NULL);
    snprintf(want, sizeof want, "\"\\/static\\/%s\\/js\\/report.js\"", build);
    CHECK(strstr(r.body, want) != NULL); /* the shell it keeps offline */
    free(r.body);
    r = get_with(&srv, "/manifest.webmanifest", NULL);
    CHECK(has_header(&r, "Content-Type: application/manifest+json"));
    {
        json_t *j = it_json(&r);
        CHECK_STR_EQ(json_string_value(json_object_get(j, "start_url")), "/");
        CHECK_STR_EQ(json_string_value(json_object_get(j, "lang")), "es-PA");
        json_decref(j);
    }
    free(r.body);
}

/* A web directory of the test's own: dot-files stay out, the base map reaches the page. */
static void test_own_directory_and_base_map(void)
{
    char dir[] = "/tmp/reporta-web-XXXXXX", path[200];
    struct it_server s2;
    struct it_reply r;
    FILE *f;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/app", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/app/report.html", dir);
    f = fopen(path, "w");
    fputs("<html><script type=\"importmap\">{}</script><script type=\"application/json\">"
          "{{config}}</script>{{static}}</html>", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/app/.secret.js", dir);
    f = fopen(path, "w");
    fputs("secret", f);
    fclose(f);
    {
        char *extra[] = {"--web", dir, "--basemap-url",
                         "https://{s}.tile.example.org/{z}/{x}/{y}.png", "--basemap-attribution",
                         "© OpenStreetMap", NULL};
        CHECK(it_start(&s2, panama_db, extra) == 0);
    }
    r = get_with(&s2, "/", NULL);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.body, "https:\\/\\/{s}.tile.example.org\\/{z}\\/{x}\\/{y}.png") != NULL);
    CHECK(strstr(r.body, "\"own\":false") != NULL);
    CHECK(has_header(&r, "img-src 'self' data: blob: https://*.tile.example.org;"));
    /* the import map's hash: sha256 of "{}" */
    CHECK(has_header(&r, "'sha256-RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o='"));
    free(r.body);
    r = get_with(&s2, "/static/x/.secret.js", NULL);
    CHECK_INT_EQ(r.status, 404);
    free(r.body);
    r = get_with(&s2, "/grua", NULL); /* no such page in this directory */
    CHECK_INT_EQ(r.status, 404);
    free(r.body);
    CHECK_INT_EQ(it_stop(&s2, SIGTERM), 0);

    /* a vendor file npm has not installed: the API runs, the log says what to do */
    snprintf(path, sizeof path, "%s/vendor.map", dir);
    f = fopen(path, "w");
    fputs("vendor/x.js node_modules/x/x.js\n", f);
    fclose(f);
    {
        char *extra[] = {"--web", dir, NULL};
        CHECK(it_start(&s2, panama_db, extra) == 0);
    }
    r = get_with(&s2, "/", NULL);
    CHECK_INT_EQ(r.status, 404);
    free(r.body);
    r = get_with(&s2, "/healthz", NULL);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    CHECK(it_log_contains(&s2, "run scripts/setup"));
    CHECK_INT_EQ(it_stop(&s2, SIGTERM), 0);
    {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK_INT_EQ(system(cmd), 0);
    }
    /* a base map that is not an XYZ template is a usage error */
    {
        char err[512];
        char *argv[] = {(char *)it_bin(), "serve", "--db", (char *)panama_db, "--basemap-url",
                        "https://tiles.example.org/\"><script>", NULL};
        CHECK_INT_EQ(it_run(argv, err, sizeof err), 2);
        CHECK(strstr(err, "--basemap-url") != NULL);
    }
}

int main(int argc, char **argv)
{
    if (it_suite_start(argc, argv, &srv) != 0)
        return 1;
    panama_db = argv[1];
    RUN(test_pages_are_revalidated_under_a_policy);
    RUN(test_assets_are_immutable_and_gzip_only_when_asked);
    RUN(test_nothing_outside_the_table);
    RUN(test_service_worker_and_manifest);
    RUN(test_own_directory_and_base_map);
    return it_suite_end(&srv);
}
