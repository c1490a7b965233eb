/*
 * tests/it_config.c - `reporta serve --config FILE`: the file's values apply, a flag wins over
 * the file, the file over the environment (REPORTA_*), REPORTA_CONFIG names the file when no
 * --config is given, a list flag in the file (webhook) is replaced by the command line's; an
 * unknown key, a line without "=", and a missing file stop the server before it listens, with
 * the file, the line and the key named. The allowed CORS origin is what shows which source won.
 * And --trusted-proxy: X-Forwarded-For's client gets its own rate-limit bucket and log lines
 * when the connection comes from a trusted proxy, and is ignored from anywhere else. And native
 * TLS (--tls-cert, --tls-key).
 * usage: it_config PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>

#include "it.h"

static const char *panama_db;
static char dir[64];

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* The origin s allows among the candidates (NULL: none). */
static const char *allowed(const struct it_server *s)
{
    static const char *const origins[] = {"https://file.example", "https://env.example",
                                          "https://flag.example"};
    for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++) {
        char line[96];
        struct curl_slist *h;
        struct it_reply r;
        int ok;
        snprintf(line, sizeof line, "Origin: %s", origins[i]);
        h = curl_slist_append(NULL, line);
        ok = it_request(s, "GET", "/healthz", NULL, 0, h, &r) == 0 &&
             strstr(r.headers, "Access-Control-Allow-Origin: https://") != NULL;
        curl_slist_free_all(h);
        free(r.body);
        if (ok)
            return origins[i];
    }
    return NULL;
}

static void test_precedence(void)
{
    char conf[128];
    char *with_file[] = {"--config", conf, NULL};
    char *file_and_flag[] = {"--config", conf, "--cors-origins", "https://flag.example", NULL};
    struct it_server s;
    const char *got;

    snprintf(conf, sizeof conf, "%s/reporta.conf", dir);
    write_file(conf, "# reporta serve's settings\n"
                     "\n"
                     "cors-origins = \"https://file.example\"\n"
                     "  tile-cache-mb=16   \n"
                     "followup-interval = 3600\n");
    setenv("REPORTA_CORS_ORIGINS", "https://env.example", 1);

    CHECK(it_start(&s, panama_db, NULL) == 0); /* no file: the environment */
    got = allowed(&s);
    CHECK_STR_EQ(got ? got : "none", "https://env.example");
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);

    CHECK(it_start(&s, panama_db, with_file) == 0); /* the file over the environment */
    got = allowed(&s);
    CHECK_STR_EQ(got ? got : "none", "https://file.example");
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);

    CHECK(it_start(&s, panama_db, file_and_flag) == 0); /* a flag over the file */
    got = allowed(&s);
    CHECK_STR_EQ(got ? got : "none", "https://flag.example");
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);

    setenv("REPORTA_CONFIG", conf, 1); /* the file named by the environment */
    CHECK(it_start(&s, panama_db, NULL) == 0);
    got = allowed(&s);
    CHECK_STR_EQ(got ? got : "none", "https://file.example");
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);
    unsetenv("REPORTA_CONFIG");
    unsetenv("REPORTA_CORS_ORIGINS");
    fprintf(stderr, "   environment < file < flags, and REPORTA_CONFIG: as documented\n");
}

/* `reporta serve` with these arguments must exit 2 before listening, saying want. */
static void refused(const char *conf_text, const char *want)
{
    char conf[128], err[2048];
    char *argv[] = {"reporta", "serve", "--db", (char *)panama_db, "--port", "0", "--config",
                    conf, NULL};
    int rc;

    snprintf(conf, sizeof conf, "%s/bad.conf", dir);
    if (conf_text)
        write_file(conf, conf_text);
    else
        unlink(conf);
    rc = it_run(argv, err, sizeof err);
    CHECK_INT_EQ(rc, 2);
    if (!strstr(err, want))
        CHECK_REPORT("serve --config: wanted \"%s\" in: %s", want, err);
}

static void test_bad_files(void)
{
    refused("cors-origins = https://a.example\nlisten-adress = 0.0.0.0\n",
            "bad.conf:2: unknown key 'listen-adress'");
    refused("port 8311\n", "bad.conf:1: not a \"name = value\" line");
    refused("threads = lots\n", "'lots' is not a whole number");
    refused("config = /etc/other.conf\n", "unknown key 'config'");
    refused("webhook = http://127.0.0.1:9/x\n", "--webhook needs --webhook-secret");
    refused(NULL, "No such file or directory");
    fprintf(stderr, "   unknown keys, bad lines, bad values, a missing file: refused, named\n");
}

/* A list in the file (two webhooks) and the same flag on the command line: only the flag's
 * runs (the webhooks /metrics counts). */
static void test_lists_replace(void)
{
    char conf[128], out[4096], key[128];
    char *extra[] = {"--config", conf, "--webhook", "http://127.0.0.1:9/flag", NULL};
    struct it_server s;
    struct it_reply r;

    snprintf(conf, sizeof conf, "%s/hooks.conf", dir);
    write_file(conf, "webhook = http://127.0.0.1:9/file-1\n"
                     "webhook = http://127.0.0.1:9/file-2\n"
                     "webhook-secret = it-config-secret-0123456789\n");
    CHECK(it_start(&s, panama_db, extra) == 0);
    CHECK(it_key_create(&s, "admin", NULL, "it-config", key, sizeof key) == 0);
    CHECK(it_send(&s, "GET", "/metrics", key, NULL, &r) == 0); /* the running webhooks */
    CHECK_INT_EQ(r.status, 200);
    snprintf(out, sizeof out, "%s", r.body);
    free(r.body);
    {
        int running = 0;
        for (const char *p = out; (p = strstr(p, "reporta_outbox_delivered_total{")); p++)
            running++;
        CHECK_INT_EQ(running, 1);
    }
    CHECK_INT_EQ(it_sql_count(&s, "SELECT count(*) FROM webhooks WHERE active = 1"
                                  " AND url = 'http://127.0.0.1:9/flag'"), 1);
    CHECK_INT_EQ(it_sql_count(&s, "SELECT count(*) FROM webhooks WHERE active = 1"
                                  " AND url LIKE '%file-%'"), 0);
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);
}


/* GETs of /healthz from it_from with X-Forwarded-For xff (NULL: none) until the first 429;
 * how many were answered 200 (stops at max). */
static int gets_until_429(const struct it_server *s, const char *xff, int max)
{
    char line[128];
    int ok = 0;

    for (int i = 0; i < max; i++) {
        struct curl_slist *h = NULL;
        struct it_reply r;
        if (xff) {
            snprintf(line, sizeof line, "X-Forwarded-For: %s", xff);
            h = curl_slist_append(h, line);
        }
        CHECK(it_request(s, "GET", "/api/v1/services", NULL, 0, h, &r) == 0);
        curl_slist_free_all(h);
        free(r.body);
        if (r.status == 429)
            break;
        ok += r.status == 200;
    }
    return ok;
}

/* --trusted-proxy: rate limits and log lines under X-Forwarded-For's client only when the
 * connection comes from a trusted address (127.0.0.2 here; 127.0.0.1 is "the internet"). */
static void test_trusted_proxy(void)
{
    char *extra[] = {"--trusted-proxy", "127.0.0.2/32", "--trusted-proxy", "10.0.0.0/8",
                     "--ip-read-rate", "3", NULL};
    char *bad[] = {"reporta", "serve", "--db", (char *)panama_db, "--port", "0",
                   "--trusted-proxy", "10.0.0.0/33", NULL};
    char err[1024];
    struct it_server s;
    int a, b, c, d;

    CHECK(it_start(&s, panama_db, extra) == 0);
    /* through the proxy: two clients, a bucket each (a burst is 2 s x 3/s = 6) */
    it_from = "127.0.0.2";
    a = gets_until_429(&s, "203.0.113.7", 20);
    b = gets_until_429(&s, "203.0.113.8", 20);
    /* the proxy's own hop chain: the rightmost address not a proxy is the client */
    c = gets_until_429(&s, "198.51.100.1, 203.0.113.9, 10.1.2.3", 20);
    /* from an untrusted address the header is ignored: one bucket, whatever it says */
    it_from = "127.0.0.1";
    d = gets_until_429(&s, "203.0.113.10", 20);
    d += gets_until_429(&s, "203.0.113.11", 20);
    it_from = NULL;
    fprintf(stderr, "   behind the trusted proxy: 203.0.113.7 got %d, .8 got %d, the chain's"
                    " .9 got %d; from an untrusted address, two forged headers got %d in all\n",
            a, b, c, d);
    CHECK_INT_EQ(a, 6);
    CHECK_INT_EQ(b, 6);
    CHECK_INT_EQ(c, 6);
    CHECK_INT_EQ(d, 6);
    CHECK_INT_EQ(it_stop_keep(&s, SIGTERM), 0);
    CHECK(it_log_contains(&s, " 203.0.113.7 ") || it_log_contains(&s, "203.0.113.7 "));
    CHECK(it_log_contains(&s, "203.0.113.9"));
    CHECK(!it_log_contains(&s, "198.51.100.1"));
    CHECK(!it_log_contains(&s, "203.0.113.10") && !it_log_contains(&s, "203.0.113.11"));
    CHECK(!it_log_contains(&s, "10.1.2.3 "));
    it_stop(&s, SIGTERM);
    CHECK_INT_EQ(it_run(bad, err, sizeof err), 2);
    CHECK(strstr(err, "prefix length") != NULL);
}

static size_t sink(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    *(size_t *)ctx += size * n;
    return size * n;
}

/* GET url (https with ca as the trusted CA); the status, or -1 when no HTTP answer came. */
static long tls_get(const char *url, const char *ca)
{
    CURL *c = curl_easy_init();
    long status = -1;
    size_t got = 0;

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

/* --tls-cert and --tls-key: HTTPS on the port (a certificate made here with openssl), plain
 * HTTP refused there; a key that is not the certificate's, or only one of the two, refused. */
static void test_native_tls(void)
{
    char cert[128], key[128], other[128], cmd[1024], url[96], err[1024];
    char *extra[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    char *mismatch[] = {"reporta", "serve", "--db", (char *)panama_db, "--port", "0",
                        "--tls-cert", cert, "--tls-key", other, NULL};
    char *half[] = {"reporta", "serve", "--db", (char *)panama_db, "--port", "0", "--tls-cert",
                    cert, NULL};
    struct it_server s;

    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(other, sizeof other, "%s/other.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 2"
             " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 &&"
             " openssl genrsa -out '%s' 2048 >/dev/null 2>&1",
             key, cert, other);
    CHECK(system(cmd) == 0);
    CHECK(it_start(&s, panama_db, extra) == 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/healthz", s.port);
    CHECK_INT_EQ(tls_get(url, cert), 200); /* verified against the certificate */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/healthz", s.port);
    CHECK_INT_EQ(tls_get(url, NULL), -1); /* plain HTTP on the TLS port: no answer */
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);
    CHECK(it_run(mismatch, err, sizeof err) != 0);
    CHECK_INT_EQ(it_run(half, err, sizeof err), 2);
    CHECK(strstr(err, "--tls-cert and --tls-key go together") != NULL);
    fprintf(stderr, "   HTTPS with the certificate; plain HTTP on that port gets nothing; a foreign"
                    " key and a lone certificate refused\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: it_config PANAMA_DB\n");
        return 2;
    }
    panama_db = argv[1];
    snprintf(dir, sizeof dir, "/tmp/reporta-it-config-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_precedence);
    RUN(test_bad_files);
    RUN(test_lists_replace);
    RUN(test_trusted_proxy);
    RUN(test_native_tls);
    curl_global_cleanup();
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return check_exit();
}
