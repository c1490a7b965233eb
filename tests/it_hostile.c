/*
 * tests/it_hostile.c - hostile HTTP against the real server, over a raw socket because curl
 * would refuse or repair most of it: malformed request lines, huge headers, bodies longer and
 * shorter than their Content-Length, broken chunked and multipart bodies, invalid UTF-8, JSON
 * nested 10,000 deep, 1e999 and NaN, SQL metacharacters in every text field, parameter and path
 * segment, and ../, %2e%2e and %00 in paths. Every reply must be a 4xx (or the connection
 * closed, for what libmicrohttpd cannot parse), never a 5xx, a crash or a wait past WAIT_MS;
 * reporta's 4xx carry {"error":{"code","message"}}. Afterwards /healthz answers and no table
 * has changed. SQL metacharacters in an otherwise good report are stored as sent, byte for
 * byte: those 201s come first and are the only writes. A line per group: requests, statuses.
 * usage: it_hostile PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "it.h"

#define WAIT_MS     6000         /* a reply or a close by then: --timeout=2, MHD's 1 s timer */
#define REPLY_MAX   (256 * 1024) /* what is kept of a reply */
#define CREATED_MAX 32

static struct it_server srv;
static char build[32];                /* the web app's build, for /static/{build}/... */
static char admin[128];               /* an admin key: reporter fields, admin routes */
static char created[CREATED_MAX][24]; /* case numbers of the reports stored verbatim */
static int ncreated;

/* What a reply may be. Anything else, every 5xx and every hang fails the test. */
enum want {
    W_4XX = 1,      /* 400..499 */
    W_CLOSE = 2,    /* closed without a reply: libmicrohttpd on a request it cannot parse */
    W_505 = 4,      /* libmicrohttpd on HTTP/2.0 and up, as RFC 9110 says */
    W_EMPTY = 8,    /* 200 from a list that shows none of the cases in created[] */
    W_MHD_500 = 16, /* libmicrohttpd 0.9.75's own 500 for a chunk line past its 32 KiB buffer
                       (it blames the application); no hook in reporta can answer instead */
};
#define W_REFUSED (W_4XX | W_CLOSE)

struct group {
    const char *name;
    int n, closed, hung, status[600];
};

struct raw {
    int fd;
    double t0_ms;
    int status; /* 0: closed without a reply; -1: nothing complete within WAIT_MS */
    char *text; /* the reply as received, NUL-terminated */
    size_t len;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Connects and sends req, as much of it as the server takes before it answers or closes; then
 * half-closes when asked. */
static void raw_send(struct raw *r, const char *req, size_t len, int half_close)
{
    struct sockaddr_in a = {0};
    size_t off = 0;

    memset(r, 0, sizeof *r);
    r->t0_ms = now_ms();
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)srv.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (r->fd < 0 || connect(r->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        CHECK_REPORT("connect to port %u: %s", srv.port, strerror(errno));
        return;
    }
    while (off < len) {
        struct pollfd p = {r->fd, POLLOUT | POLLIN, 0};
        int left = (int)(r->t0_ms + WAIT_MS - now_ms());
        ssize_t n;
        if (left <= 0 || poll(&p, 1, left) <= 0 || (p.revents & (POLLIN | POLLERR | POLLHUP)))
            break; /* an answer (or a close) before the request's end */
        n = send(r->fd, req + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (half_close)
        shutdown(r->fd, SHUT_WR);
}

/* 1 when text holds a whole reply: headers, then Content-Length bytes or a chunked end. */
static int reply_complete(const char *text, size_t len)
{
    const char *end = strstr(text, "\r\n\r\n"), *h;
    size_t head;

    if (!end)
        return 0;
    head = (size_t)(end - text) + 4;
    if ((h = strcasestr(text, "\r\nContent-Length:")) != NULL && h < end)
        return len - head >= strtoull(h + 17, NULL, 10);
    if ((h = strcasestr(text, "\r\nTransfer-Encoding: chunked")) != NULL && h < end)
        return len >= head + 5 && memcmp(text + len - 5, "0\r\n\r\n", 5) == 0;
    return 0; /* it ends with the connection */
}

/* Reads the reply until it is whole, the server closes, or WAIT_MS after raw_send began. */
static void raw_finish(struct raw *r)
{
    int st;

    r->text = malloc(REPLY_MAX + 1);
    r->len = 0;
    while (r->fd >= 0 && r->len < REPLY_MAX) {
        struct pollfd p = {r->fd, POLLIN, 0};
        int left = (int)(r->t0_ms + WAIT_MS - now_ms());
        ssize_t n;
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            r->status = -1;
            break;
        }
        n = recv(r->fd, r->text + r->len, REPLY_MAX - r->len, 0);
        if (n <= 0)
            break; /* closed, or reset */
        r->len += (size_t)n;
        r->text[r->len] = '\0';
        if (reply_complete(r->text, r->len))
            break;
    }
    r->text[r->len] = '\0';
    if (r->status == 0 && sscanf(r->text, "HTTP/1.%*d %d", &st) == 1)
        r->status = st;
    if (r->fd >= 0)
        close(r->fd);
}

/* The request line, printable, for messages. */
static const char *label(const char *req, size_t len)
{
    static char out[100];
    size_t k = 0;

    for (size_t i = 0; i < len && k + 5 < sizeof out && req[i] != '\r' && req[i] != '\n'; i++) {
        unsigned char c = (unsigned char)req[i];
        k += (size_t)snprintf(out + k, sizeof out - k, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
    }
    out[k] = '\0';
    return out;
}

/* {"error":{"code":S,"message":S}}; on Open311's paths its own [{"code":N,"description":S}],
 * or that in XML, its default format. */
static int error_shape(const char *type, const char *body, int open311)
{
    json_t *j, *e;
    int ok;

    if (open311 && strncmp(type, "text/xml", 8) == 0)
        return strstr(body, "<errors>") && strstr(body, "<code>") && strstr(body, "<description>");
    if (strncmp(type, "application/json", 16) != 0)
        return 0;
    j = json_loads(body, JSON_DISABLE_EOF_CHECK, NULL);
    e = json_object_get(j, "error");
    ok =
        json_is_string(json_object_get(e, "code")) && json_is_string(json_object_get(e, "message"));
    if (!ok && open311 && json_is_array(j)) {
        e = json_array_get(j, 0);
        ok = json_is_integer(json_object_get(e, "code")) &&
             json_is_string(json_object_get(e, "description"));
    }
    json_decref(j);
    return ok;
}

/* Counts r in g; a test failure unless want allows it. */
static void judge(struct group *g, const char *req, size_t len, const struct raw *r, unsigned want)
{
    const char *what = label(req, len), *body = strstr(r->text, "\r\n\r\n");
    const char *type = strcasestr(r->text, "\r\nContent-Type: ");

    body = body ? body + 4 : "";
    g->n++;
    if (r->status == -1) {
        g->hung++;
        CHECK_REPORT("%s: no reply and no close within %d ms", what, WAIT_MS);
        return;
    }
    if (r->status == 0) {
        g->closed++;
        if (!(want & W_CLOSE))
            CHECK_REPORT("%s: closed without a reply", what);
        return;
    }
    if (r->status < 600)
        g->status[r->status]++;
    if (strstr(body, "root:x:0:0") || strstr(body, "SQLite format 3") || strstr(body, "#include"))
        CHECK_REPORT("%s: %d shows a file: %.80s", what, r->status, body);
    if (r->status >= 400 && r->status < 500 && (want & W_4XX)) {
        /* libmicrohttpd's own refusals have no Content-Type; reporta's must have its shape */
        if (type && !error_shape(type + 16, body, strstr(what, " /open311/") != NULL))
            CHECK_REPORT("%s: %d without the error body: %.300s", what, r->status, r->text);
        return;
    }
    if (r->status == 505 && (want & W_505))
        return;
    if (r->status == 500 && (want & W_MHD_500) && !type && strstr(body, "Internal server error"))
        return;
    if (r->status == 200 && (want & W_EMPTY)) {
        for (int i = 0; i < ncreated; i++)
            if (strstr(body, created[i]))
                CHECK_REPORT("%s: lists %s", what, created[i]);
        return;
    }
    CHECK_REPORT("%s: %d: %.300s", what, r->status, r->text);
}

static void send_raw(struct group *g, const char *req, size_t len, unsigned want)
{
    struct raw r;

    raw_send(&r, req, len, 0);
    raw_finish(&r);
    judge(g, req, len, &r, want);
    free(r.text);
}

static void send_str(struct group *g, const char *req, unsigned want)
{
    send_raw(g, req, strlen(req), want);
}

/* path with "{build}" replaced by the web app's build */
static void expand(const char *path, char *out, size_t n)
{
    const char *p = strstr(path, "{build}");

    if (p)
        snprintf(out, n, "%.*s%s%s", (int)(p - path), path, build, p + 7);
    else
        snprintf(out, n, "%s", path);
}

static void get(struct group *g, const char *path, unsigned want)
{
    char req[16384], p[8192];

    expand(path, p, sizeof p);
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", p);
    send_str(g, req, want);
}

/* body (len bytes) with its Content-Length; extra: more header lines, or "" */
static void send_body(struct group *g, const char *method, const char *path, const char *type,
                      const char *extra, const char *body, size_t len, unsigned want)
{
    size_t cap = len + strlen(path) + strlen(extra) + 256, n;
    char *req = malloc(cap);

    n = (size_t)snprintf(req, cap,
                         "%s %s HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\nContent-Length: "
                         "%zu\r\n%s\r\n",
                         method, path, type, len, extra);
    memcpy(req + n, body, len);
    send_raw(g, req, n + len, want);
    free(req);
}

static void post_json(struct group *g, const char *path, const char *json, unsigned want)
{
    send_body(g, "POST", path, "application/json", "", json, strlen(json), want);
}

static void post_form(struct group *g, const char *form, unsigned want)
{
    send_body(g, "POST", "/open311/v2/requests.json", "application/x-www-form-urlencoded", "", form,
              strlen(form), want);
}

static void group_print(const struct group *g)
{
    char line[512];
    size_t k = (size_t)snprintf(line, sizeof line, "   %-26s %4d requests:", g->name, g->n);

    for (int s = 0; s < 600; s++)
        if (g->status[s])
            k += (size_t)snprintf(line + k, sizeof line - k, " %d x%d,", s, g->status[s]);
    snprintf(line + k, sizeof line - k, " closed x%d, hung x%d", g->closed, g->hung);
    fprintf(stderr, "%s\n", line);
}

/* Every byte but the unreserved ones as %XX. */
static void pct(const char *s, char *out, size_t n)
{
    size_t k = 0;

    for (; *s && k + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c))
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, n - k, "%%%02X", c);
    }
    out[k] = '\0';
}

/* head, n times open, mid, n times close, tail: deep JSON, long lines. Caller frees. */
static char *nest(const char *head, const char *open, const char *mid, const char *close, size_t n,
                  const char *tail)
{
    size_t lo = strlen(open), lc = strlen(close);
    char *s = malloc(strlen(head) + n * (lo + lc) + strlen(mid) + strlen(tail) + 1);
    char *p = s + sprintf(s, "%s", head);

    for (size_t i = 0; i < n; i++, p += lo)
        memcpy(p, open, lo);
    p += sprintf(p, "%s", mid);
    for (size_t i = 0; i < n; i++, p += lc)
        memcpy(p, close, lc);
    strcpy(p, tail);
    return s;
}

/* ---- the groups ---- */

/* clang-format off */
#define RAW(s, w) {s, sizeof s - 1, w}
/* clang-format on */
#define HOST      " HTTP/1.1\r\nHost: t\r\n\r\n"
#define JSON_POST "POST /api/v1/reports HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
#define CHUNKED   JSON_POST "Transfer-Encoding: chunked\r\n\r\n"
#define GOOD      "\"service_code\":\"basura\",\"lat\":8.98,\"lon\":-79.52"

struct raw_case {
    const char *req;
    size_t len;
    unsigned want;
};

static void send_cases(struct group *g, const struct raw_case *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        send_raw(g, t[i].req, t[i].len, t[i].want);
}

static void test_malformed_request_lines(void)
{
    /* clang-format off */
    static const struct raw_case t[] = {
        RAW("GARBAGE\r\n\r\n", W_REFUSED),           RAW("GET /healthz\r\n\r\n", W_REFUSED),
        RAW("GET /healthz HTTP/9.9\r\n\r\n", W_REFUSED | W_505),
        RAW("GET /healthz HTTP/2.0\r\n\r\n", W_REFUSED | W_505),
        RAW("GET /healthz HTTPS/1.1\r\n\r\n", W_REFUSED | W_505),
        RAW("GET /healthz HTTP/1.1.1\r\n\r\n", W_REFUSED | W_505),
        RAW("GET /healthz FOO\r\n\r\n", W_REFUSED | W_505),
        RAW("GET " HOST, W_REFUSED),                 RAW(" GET /nope" HOST, W_REFUSED),
        RAW("GET\t/nope\tHTTP/1.1\r\n\r\n", W_REFUSED), RAW("GET nope" HOST, W_REFUSED),
        RAW("GET *" HOST, W_REFUSED),              RAW("GET http://evil.example/x" HOST, W_REFUSED),
        RAW("GET /nope HTTP/1.1\n\n", W_REFUSED),    RAW("GET /x HTTP/1.1\rHost: t\r\r", W_REFUSED),
        RAW("FOOBAR /api/v1/reports" HOST, W_REFUSED),
        RAW("DELETE /api/v1/reports" HOST, W_REFUSED),
        RAW("PATCH /api/v1/areas/08" HOST, W_REFUSED), RAW("get /healthz" HOST, W_REFUSED),
        RAW("G\x01T /healthz" HOST, W_REFUSED),
        RAW("G\xffT /healthz" HOST, W_REFUSED),      /* echoed in the 405's message */
        RAW("GET /api/v1/locate?lat=%zz&lon=%%%" HOST, W_REFUSED),
        RAW("GET /api/v1/locate?lat&lon&&&=" HOST, W_REFUSED),
    };
    /* clang-format on */
    static const size_t uri_len[] = {9000, 40000, 1000000}; /* ours (8 KiB), MHD's (32 KiB) */
    struct group g = {.name = "request lines"};
    char *s;

    send_cases(&g, t, sizeof t / sizeof t[0]);
    s = nest("", "F", "", "", 20000, " /healthz" HOST); /* a 20 KB method */
    send_str(&g, s, W_REFUSED);
    free(s);
    for (size_t i = 0; i < sizeof uri_len / sizeof uri_len[0]; i++) {
        s = nest("GET /", "a", "", "", uri_len[i], HOST);
        send_str(&g, s, W_REFUSED);
        free(s);
    }
    group_print(&g);
}

static void test_huge_headers(void)
{
    /* GET /api/v1/keys is admin-only: whatever parses gets 401 */
#define KEYS "GET /api/v1/keys HTTP/1.1\r\nHost: t\r\n"
    /* clang-format off */
    static const struct raw_case t[] = {
        RAW(KEYS "Authorization: Bearer ' OR '1'='1\r\n\r\n", W_REFUSED),
        RAW(KEYS "Authorization: Basic YWRtaW46YWRtaW4=\r\n\r\n", W_REFUSED),
        RAW(KEYS "Authorization: Bearer rpk_\xff\xfe\xfd\r\n\r\n", W_REFUSED),
        RAW(KEYS "Authorization:\r\n\r\n", W_REFUSED),
        RAW(KEYS "Authorization: Bearer\r\n\r\n", W_REFUSED),
        RAW(KEYS "X-Folded: a\r\n b\r\n\r\n", W_REFUSED),
        RAW(KEYS "Host: \xff\xfe\r\n\r\n", W_REFUSED),
        RAW(KEYS "Origin: \xff\r\n\r\n", W_REFUSED),   RAW(KEYS "X-Nul: a\0b\r\n\r\n", W_REFUSED),
        RAW(KEYS "X-Forwarded-For: ' OR 1=1 --\r\n\r\n", W_REFUSED),
        RAW(KEYS "X-Forwarded-For: 127.0.0.1, ::1, 300.300.300.300\r\n\r\n", W_REFUSED),
        RAW(KEYS "No colon here\r\n\r\n", W_REFUSED),  RAW(KEYS ": no name\r\n\r\n", W_REFUSED),
    };
    /* clang-format on */
    struct group g = {.name = "headers"};
    char *s;

    send_cases(&g, t, sizeof t / sizeof t[0]);
    s = nest(KEYS "Authorization: Bearer rpk_", "k", "", "", 10000, "\r\n\r\n");
    send_str(&g, s, W_REFUSED);
    free(s);
    s = nest(KEYS "X-Big: ", "b", "", "", 40000, "\r\n\r\n"); /* over the 32 KiB of a request */
    send_str(&g, s, W_REFUSED);
    free(s);
    s = nest(KEYS "X-", "b", "", "", 40000, ": v\r\n\r\n");
    send_str(&g, s, W_REFUSED);
    free(s);
    for (size_t count = 1000; count <= 5000; count += 4000) { /* thousands of headers */
        s = nest(KEYS, "X-A: v\r\n", "", "", count, "\r\n");
        send_str(&g, s, W_REFUSED);
        free(s);
    }
#undef KEYS
    group_print(&g);
}

static void test_bodies_against_content_length(void)
{
#define CL(n) JSON_POST "Content-Length: " n "\r\n\r\n{" GOOD "}"
    /* clang-format off */
    static const struct raw_case t[] = {
        RAW(CL("10"), W_REFUSED),       /* longer than declared: cut, the rest a next request */
        RAW(CL("0"), W_REFUSED),        RAW(CL("-1"), W_REFUSED),     RAW(CL("abc"), W_REFUSED),
        RAW(CL("99999999999999999999999"), W_REFUSED), RAW(CL("18446744073709551615"), W_REFUSED),
        RAW(CL("0x10"), W_REFUSED),     RAW(CL("+7"), W_REFUSED),     RAW(CL("7, 7"), W_REFUSED),
        RAW(CL(""), W_REFUSED),
        RAW(CL("7\r\nContent-Length: 48"), W_REFUSED), /* twice; 48 is one short, so either way */
        /* over the route's cap: refused from the header, then sent anyway */
        RAW("POST /api/v1/keys HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", W_REFUSED),
    };
    /* clang-format on */
#undef CL
    struct group g = {.name = "Content-Length"};
    char *s;

    send_cases(&g, t, sizeof t / sizeof t[0]);
    s = nest("POST /api/v1/reports/2026-000001/confirm HTTP/1.1\r\nContent-Type: "
             "application/json\r\nContent-Length: 5000\r\n\r\n",
             "x", "", "", 5000, "");
    send_str(&g, s, W_REFUSED);
    free(s);
    group_print(&g);
}

static void test_chunked_bodies(void)
{
    /* clang-format off */
    static const struct raw_case t[] = {
        /* valid, in three chunks: the handler sees the whole JSON (an unknown service) */
        RAW(CHUNKED "10\r\n{\"service_code\":\r\n1b\r\n\"no-such-service\",\"lat\":8.9\r\n"
            "c\r\n8,\"lon\":-79.5}\r\n0\r\n\r\n", W_4XX),
        RAW(CHUNKED "zz\r\n{\"a\":1}\r\n0\r\n\r\n", W_REFUSED),
        RAW(CHUNKED "-5\r\n{\"a\":1}\r\n0\r\n\r\n", W_REFUSED),
        RAW(CHUNKED "0x7\r\n{\"a\":1}\r\n0\r\n\r\n", W_REFUSED),
        RAW(CHUNKED " 7\r\n{\"a\":1}\r\n0\r\n\r\n", W_REFUSED),
        RAW(CHUNKED "FFFFFFFFFFFFFFFFFFFF\r\n{\"a\":1}\r\n0\r\n\r\n", W_REFUSED),
        RAW(CHUNKED "3\r\n{\"a\":1}\r\n0\r\n\r\n", W_REFUSED),  /* more than the chunk says */
        RAW(CHUNKED "7\r\n{\"a\":1}0\r\n\r\n", W_REFUSED),      /* no CRLF after the data */
        RAW(CHUNKED "7;ext=\"x\r\n{\"a\":1}\r\n0\r\nX-T: y\r\n\r\n", W_REFUSED),
        RAW(CHUNKED "7\r\n{\"a\":1}\r\n0\r\n\r\nGARBAGE\r\n\r\n", W_REFUSED),
        /* chunked and Content-Length together, request smuggling's favourite */
        RAW(JSON_POST "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}\r\n"
            "0\r\n\r\n", W_REFUSED),
        RAW(JSON_POST "Transfer-Encoding: chunked\r\nContent-Length: 300\r\n\r\n7\r\n{\"a\":1}\r\n"
            "0\r\n\r\n", W_REFUSED),
    };
    /* clang-format on */
    struct group g = {.name = "chunked"};
    char *s, *x;

    send_cases(&g, t, sizeof t / sizeof t[0]);
    /* chunk lines of 40 KB: an extension, leading zeros; a 40 KB trailer */
    s = nest(CHUNKED "7;", "e", "", "", 40000, "\r\n{\"a\":1}\r\n0\r\n\r\n");
    send_str(&g, s, W_REFUSED | W_MHD_500);
    free(s);
    s = nest(CHUNKED, "0", "", "", 40000, "7\r\n{\"a\":1}\r\n0\r\n\r\n");
    send_str(&g, s, W_REFUSED | W_MHD_500);
    free(s);
    s = nest(CHUNKED "7\r\n{\"a\":1}\r\n0\r\nX-T: ", "e", "", "", 40000, "\r\n\r\n");
    send_str(&g, s, W_REFUSED);
    free(s);
    /* 200,000 one-byte chunks, over the 64 KB of a JSON body: 17 s under ASan while each chunk
     * copied the whole body before it */
    s = nest(CHUNKED, "1\r\n \r\n", "0\r\n\r\n", "", 200000, "");
    send_str(&g, s, W_4XX);
    free(s);
    /* 5 MB in 64 KB chunks to a route that takes 4 KB */
    x = nest("10000\r\n", "x", "\r\n", "", 0x10000, "");
    s = nest("POST /api/v1/keys HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", x, "0\r\n\r\n", "",
             80, "");
    send_str(&g, s, W_REFUSED);
    free(s);
    free(x);
    group_print(&g);
}

/* A multipart/form-data POST /api/v1/reports: n parts of (name, filename or NULL, bytes). */
static void multipart(struct group *g, const char *boundary, const char *const *parts, int n,
                      int closed)
{
    char body[8192], type[256];
    size_t k = 0;

    for (int i = 0; i < n; i++) {
        const char *const *p = parts + 3 * i;
        k += (size_t)snprintf(body + k, sizeof body - k,
                              "--%s\r\nContent-Disposition: form-data; name=\"%s\"%s%s%s\r\n\r\n"
                              "%s\r\n",
                              boundary, p[0], p[1] ? "; filename=\"" : "", p[1] ? p[1] : "",
                              p[1] ? "\"" : "", p[2]);
    }
    if (closed)
        k += (size_t)snprintf(body + k, sizeof body - k, "--%s--\r\n", boundary);
    snprintf(type, sizeof type, "multipart/form-data%s%s", *boundary ? "; boundary=" : "",
             boundary);
    send_body(g, "POST", "/api/v1/reports", type, "", body, k, W_4XX);
}

static void test_multipart_bodies(void)
{
    /* clang-format off */
    static const char *const good[] = {"report", NULL, "{" GOOD "}"};
    static const char *const cut[] = {"report", NULL, "{\"service_code\":"};
    static const char *const odd_name[] = {"report\xff", NULL, "{}"}; /* echoed in the 400 */
    static const char *const twice[] = {"report", NULL, "{}", "report", NULL, "{}"};
    static const char *const not_jpeg[] = {"report", NULL, "{" GOOD "}",
                                           "photo", "a.jpg", "\xff\xd8\xff not a JPEG"};
    static const char *const six[] = {"report", NULL, "{}",     "photo", "1.jpg", "x",
        "photo", "2.jpg", "x", "photo", "3.jpg", "x", "photo", "4.jpg", "x",
        "photo", "5.jpg", "x", "photo", "6.jpg", "x"};
    /* clang-format on */
    struct group g = {.name = "multipart"};

    multipart(&g, "", good, 1, 1);    /* no boundary */
    multipart(&g, "XyZ", good, 1, 0); /* never closed */
    multipart(&g, "XyZ", cut, 1, 1);
    multipart(&g, "XyZ", odd_name, 1, 1);
    multipart(&g, "XyZ", twice, 2, 1);
    multipart(&g, "XyZ", not_jpeg, 2, 1);
    multipart(&g, "XyZ", six, 7, 1);
    multipart(&g, "'; DROP TABLE reports; --", cut, 1, 1);
    group_print(&g);
}

static void test_invalid_utf8(void)
{
    /* clang-format off */
    static const char *const strings[] = {
        "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf8\x88\x80\x80\x80",
        "\xf4\x90\x80\x80", "\\ud800", "\\udc00\\ud800", "a\\u0000b",
    };
    static const char *const paths[] = {
        "/api/v1/reports/%FF",            "/api/v1/reports/%C3%28/history",
        "/api/v1/services/%C0%AF",        "/api/v1/entities/%ED%A0%80",
        "/api/v1/areas/%FF",              "/api/v1/yards/%E2%82",
        "/api/v1/reports?entity=%FF",     "/api/v1/reports?area=%F8%88%80%80%80",
        "/api/v1/reports?%FF=1",          "/api/v1/stats?service=%FF",
        "/api/v1/export.csv?from=%FF",    "/api/v1/tows/lookup?plate=%FF1234",
        "/api/v1/locate?lat=8.98&lon=-79.52&x=%C3",
        "/open311/v2/requests/%FF.json",  "/open311/v2/services/%FF.json",
        "/open311/v2/requests.json?service_request_id=%FF",
        "/open311/v2/requests.json?service_code=%FF",
        "/api/v1/reports/\xff\xfe", /* raw bytes, not %-encoded */
    };
    /* clang-format on */
    struct group g = {.name = "invalid UTF-8"};
    char body[512];

    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        snprintf(body, sizeof body, "{" GOOD ",\"description\":\"%s\"}", strings[i]);
        post_json(&g, "/api/v1/reports", body, W_4XX);
        snprintf(body, sizeof body, "{" GOOD ",\"reporter\":{\"%s\":1}}", strings[i]);
        post_json(&g, "/api/v1/reports", body, W_4XX);
    }
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        get(&g, paths[i], W_4XX);
    /* Open311 forms: a byte that is not UTF-8, and a NUL (it cut the description short) */
    post_form(&g, "service_code=basura&lat=8.98&long=-79.52&description=%FF", W_4XX);
    post_form(&g, "service_code=basura&lat=8.98&long=-79.52&description=a%00b", W_4XX);
    group_print(&g);
}

static void test_deep_json(void)
{
    struct group g = {.name = "deep JSON"};
    char auth[200], *s;

    s = nest("", "[", "", "]", 10000, "");
    post_json(&g, "/api/v1/reports", s, W_4XX);
    s[10000] = '\0'; /* never closed */
    post_json(&g, "/api/v1/reports", s, W_4XX);
    free(s);
    s = nest("", "{\"a\":", "1", "}", 10000, "");
    post_json(&g, "/api/v1/reports", s, W_4XX);
    free(s);
    /* admin routes, under their body caps (16 KB, 4 KB): past jansson's 2048 levels, and not */
    snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", admin);
    s = nest("", "[", "", "]", 5000, "");
    send_body(&g, "PUT", "/api/v1/services/basura", "application/json", auth, s, 10000, W_4XX);
    s[4000] = '\0';
    memset(s + 2000, ']', 2000);
    send_body(&g, "POST", "/api/v1/routing-rules", "application/json", auth, s, 4000, W_4XX);
    free(s);
    /* 1000 deep where a string or an object of attributes belongs */
    s = nest("{" GOOD ",\"attributes\":", "{\"a\":", "1", "}", 1000, "}");
    post_json(&g, "/api/v1/reports", s, W_4XX);
    free(s);
    s = nest("{" GOOD ",\"description\":", "[", "1", "]", 1000, "}");
    post_json(&g, "/api/v1/reports", s, W_4XX);
    free(s);
    group_print(&g);
}

static void test_absurd_numbers(void)
{
    /* clang-format off */
    static const char *const numbers[] = {
        "1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1e308", "-1e308", "91", "\"8.98\"",
        "true", "null", "[]", "{}", "8.98e", ".5", "08.98", "1e-999", "-0", "0x8",
        "123456789012345678901234567890",
    };
    static const char *const queries[] = {
        "/api/v1/locate?lat=1e999&lon=-79.52",        "/api/v1/locate?lat=-1e999&lon=-79.52",
        "/api/v1/locate?lat=NaN&lon=-79.52",          "/api/v1/locate?lat=nan(0x1)&lon=-79.52",
        "/api/v1/locate?lat=-inf&lon=-79.52",         "/api/v1/locate?lat=8.98&lon=1e999",
        "/api/v1/locate?lat=8.98&lon=-79.52&snap_m=1e999",
        "/api/v1/locate?lat=8.98&lon=-79.52&snap_m=NaN",
        "/api/v1/locate?lat=8.98&lon=-79.52&snap_m=-1",
        "/api/v1/reports?limit=1e999",                "/api/v1/reports?limit=-1",
        "/api/v1/reports?limit=NaN",                  "/api/v1/reports?limit=99999999999999999999",
        "/api/v1/reports?cursor=1e999",               "/api/v1/reports?bbox=1e999,1,2,3",
        "/api/v1/reports?bbox=NaN,NaN,NaN,NaN",       "/api/v1/reports?bbox=-79.6,8.9",
        "/api/v1/reports?since=1e999",                "/api/v1/areas/08?simplify=1e999",
        "/api/v1/areas/08?simplify=NaN",              "/api/v1/areas/08?simplify=-1",
        "/api/v1/audit?limit=1e999",                  "/tiles/areas/99999999999999999999/0/0.png",
        "/tiles/areas/1e999/0/0.png",                 "/tiles/areas/-1/0/0.png",
        "/tiles/areas/0/99999999999/0.png",           "/tiles/areas/0/0/NaN.png",
        "/tiles/areas/3/0/9.png",                     "/tiles/heat/2/1e999/1.png",
        "/open311/v2/requests.json?start_date=1e999",
    };
    /* clang-format on */
    struct group g = {.name = "1e999, NaN and friends"};
    char body[512];

    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        const char *v = numbers[i];
        snprintf(body, sizeof body, "{\"service_code\":\"basura\",\"lat\":%s,\"lon\":-79.52}", v);
        post_json(&g, "/api/v1/reports", body, W_4XX);
        snprintf(body, sizeof body, "{\"service_code\":\"basura\",\"lat\":8.98,\"lon\":%s}", v);
        post_json(&g, "/api/v1/reports", body, W_4XX);
        snprintf(body, sizeof body, "{\"stars\":%s,\"comment\":\"x\"}", v);
        post_json(&g, "/api/v1/reports/2026-000001/rating", body, W_4XX);
    }
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++)
        get(&g, queries[i], W_4XX);
    post_form(&g, "service_code=basura&lat=1e999&long=-79.52", W_4XX);
    post_form(&g, "service_code=basura&lat=8.98&long=NaN", W_4XX);
    post_form(&g, "service_code=basura&lat=8.98&long=-1e999", W_4XX);
    group_print(&g);
}

/* What SQL would choke on, were it ever part of a statement's text. */
/* clang-format off */
static const char *const sql_payloads[] = {
    "'", "''", "' OR '1'='1", "'; DROP TABLE reports; --", "\"; DROP TABLE reports; --",
    "1; DELETE FROM reports", "') OR ('a'='a", "\\' OR 1=1 #", "%_*?[]", "$1 $$ $tag$ :name @p ?",
    "/* */ -- ", "'||(SELECT sqlite_version())||'", "'; SELECT pg_sleep(10); --",
    "E'\\\\x27' \\x00 \\0",
};
/* clang-format on */
enum { NPAYLOADS = sizeof sql_payloads / sizeof sql_payloads[0] };

/* Each payload in every text field of an otherwise good report, and in its Idempotency-Key:
 * 201, and an admin reads every field back as it was sent. */
static void test_sql_metacharacters_are_stored_as_text(void)
{
    struct group g = {.name = "SQL text, stored as sent"};
    long before = it_sql_count(&srv, "SELECT count(*) FROM reports");

    for (int i = 0; i < NPAYLOADS; i++) {
        const char *p = sql_payloads[i], *id;
        char email[200], idem[200], path[80];
        struct curl_slist *h = NULL;
        json_t *in, *out, *rep;
        struct it_reply r;
        char *body;

        snprintf(email, sizeof email, "%s@example.org", p);
        in =
            json_pack("{s:s, s:f, s:f, s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "service_code", "basura",
                      "lat", 8.98 + 0.001 * i, "lon", -79.52, "description", p, "address", p,
                      "device_id", p, "reporter", "name", p, "email", email, "phone", p);
        body = json_dumps(in, JSON_COMPACT);
        snprintf(idem, sizeof idem, "Idempotency-Key: k%d", i); /* visible ASCII: no spaces */
        for (const char *c = p; *c && strlen(idem) + 2 < sizeof idem; c++)
            if (*c > ' ' && *c < 0x7f)
                strncat(idem, c, 1);
        h = curl_slist_append(h, "Content-Type: application/json");
        h = curl_slist_append(h, idem);
        CHECK(it_request(&srv, "POST", "/api/v1/reports", body, strlen(body), h, &r) == 0);
        g.n++;
        g.status[r.status > 0 && r.status < 600 ? r.status : 0]++;
        CHECK_INT_EQ(r.status, 201);
        out = it_json(&r);
        id = json_string_value(json_object_get(out, "id"));
        if (id && ncreated < CREATED_MAX)
            snprintf(created[ncreated++], sizeof created[0], "%s", id);
        snprintf(path, sizeof path, "/api/v1/reports/%s", id ? id : "none");
        json_decref(out);
        free(r.body);
        curl_slist_free_all(h);
        free(body);
        CHECK(it_send(&srv, "GET", path, admin, NULL, &r) == 0); /* an admin sees the reporter */
        CHECK_INT_EQ(r.status, 200);
        out = it_json(&r);
        rep = json_object_get(out, "reporter");
        CHECK_STR_EQ(json_string_value(json_object_get(out, "description")), p);
        CHECK_STR_EQ(json_string_value(json_object_get(out, "address")), p);
        CHECK_STR_EQ(json_string_value(json_object_get(rep, "name")), p);
        CHECK_STR_EQ(json_string_value(json_object_get(rep, "email")), email);
        CHECK_STR_EQ(json_string_value(json_object_get(rep, "phone")), p);
        CHECK_STR_EQ(json_string_value(json_object_get(rep, "device_id")), p);
        json_decref(out);
        json_decref(in);
        free(r.body);
    }
    CHECK_INT_EQ(ncreated, NPAYLOADS);
    CHECK_INT_EQ(it_sql_count(&srv, "SELECT count(*) FROM reports"), before + ncreated);
    group_print(&g);
}

/* Where SQL metacharacters can only be refused, or match nothing (while the cases stored with
 * them are there to be matched). */
static void test_sql_metacharacters_are_refused(void)
{
    /* clang-format off */
    static const char *const paths[] = {
        "/api/v1/reports/%s", "/api/v1/reports/%s/history", "/api/v1/areas/%s",
        "/api/v1/services/%s", "/api/v1/entities/%s", "/api/v1/yards/%s", "/media/%s",
        "/open311/v2/requests/%s.json", "/open311/v2/services/%s.json", "/tiles/%s.json",
        "/tiles/%s/1/1/1.png", "/api/v1/tows/lookup?plate=%s", "/api/v1/reports?status=%s",
        "/api/v1/reports?since=%s", "/api/v1/areas?level=%s", "/api/v1/reports?limit=%s",
        "/api/v1/route?service_code=%s&lat=8.98&lon=-79.52",
    };
    static const char *const lists[] = {
        "/api/v1/reports?entity=%s", "/api/v1/reports?area=%s", "/api/v1/reports?service=%s",
        "/open311/v2/requests.json?service_code=%s",
        "/open311/v2/requests.json?service_request_id=%s", "/api/v1/export.csv?from=%s",
        "/api/v1/export.geojson?to=%s", "/api/v1/export/months?month=%s",
    };
    /* clang-format on */
    struct group g = {.name = "SQL, refused or no match"};

    for (int i = 0; i < NPAYLOADS; i++) {
        char enc[300], path[512], body[512];
        json_t *j;
        char *s;

        pct(sql_payloads[i], enc, sizeof enc);
        for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
            snprintf(path, sizeof path, paths[k], enc);
            get(&g, path, W_4XX);
        }
        for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
            snprintf(path, sizeof path, lists[k], enc);
            get(&g, path, W_4XX | W_EMPTY);
        }
        /* as a service code, an attribute's value, after a NUL, and as a case number */
        for (int k = 0; k < 2; k++) {
            j = k ? json_pack("{s:s, s:f, s:f, s:{s:s}}", "service_code", "fuga_agua", "lat", 8.98,
                              "lon", -79.52, "attributes", "severidad", sql_payloads[i])
                  : json_pack("{s:s, s:f, s:f}", "service_code", sql_payloads[i], "lat", 8.98,
                              "lon", -79.52);
            s = json_dumps(j, JSON_COMPACT);
            post_json(&g, "/api/v1/reports", s, W_4XX);
            free(s);
            json_decref(j);
        }
        snprintf(body, sizeof body, "{" GOOD ",\"description\":\"\\u0000%s\"}", enc);
        post_json(&g, "/api/v1/reports", body, W_4XX);
        snprintf(path, sizeof path, "/api/v1/reports/%s/confirm", enc);
        post_json(&g, path, "{}", W_4XX);
    }
    /* and not %-encoded, as far as a request line allows */
    send_str(&g, "GET /api/v1/reports/';DROP/**/TABLE/**/reports;--" HOST, W_4XX);
    send_str(&g, "GET /api/v1/areas/08'OR'1'='1" HOST, W_4XX);
    send_str(&g, "GET /api/v1/reports?entity='OR'1'='1'--" HOST, W_4XX | W_EMPTY);
    group_print(&g);
}

static void test_paths_stay_inside(void)
{
    /* clang-format off */
    static const char *const paths[] = {
        "/static/{build}/js/api.js%00.png",        "/static/{build}/js/api.js%00",
        "/static/{build}/js/api.js%2500",          "/static/{build}/../../../../etc/passwd",
        "/static/{build}/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/{build}/js/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/{build}/%2e%2e%2f%2e%2e%2fserver%2fmain.c",
        "/static/{build}/..%2f..%2fCMakeLists.txt", "/static/{build}/..%5c..%5cCMakeLists.txt",
        "/static/{build}//etc/passwd",             "/static/{build}/js/./api.js",
        "/static/{build}/js//api.js",              "/static/{build}/.git/config",
        "/static/{build}/%00",                     "/static/../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",        "/favicon.svg%00.png",
        "/favicon.svg%00",                         "/favicon.svg/../../etc/passwd",
        "/favicon.svg/%2e%2e/%2e%2e/etc/passwd",   "/sw.js%00.html",
        "/%2e%2e/%2e%2e/etc/passwd",               "/..%2f..%2f..%2fetc%2fpasswd",
        "//etc/passwd",                            "/media/..%2f..%2fr.db",
        "/media/%2e%2e%2fr.db",                    "/media/../r.db",
        "/media/r.db%00.jpg",                      "/tiles/../../etc/passwd",
        "/tiles/%2e%2e/%2e%2e/%2e%2e/r.db.json",   "/tiles/areas/1/0/..%2f..%2f..%2fetc%2fpasswd",
        "/tiles/areas/0/0/0.png%00.json",          "/tiles/areas.json%00",
        "/api/v1/areas/08%00",                     "/api/v1/areas/08%00%27%20OR%20%271%27=%271",
        "/api/v1/reports/..%2f..%2f",              "/open311/v2/%2e%2e%2f%2e%2e%2fr.db",
        "/open311/v2/services.json%00.xml",        "/caso/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    };
    /* clang-format on */
    struct group g = {.name = "../, %2e%2e and %00"};
    char path[300];
    struct it_reply r;

    /* the paths are right: the same files answer when asked properly */
    expand("/static/{build}/js/api.js", path, sizeof path);
    CHECK(it_get(&srv, path, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    CHECK(it_get(&srv, "/favicon.svg", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        get(&g, paths[i], W_4XX);
    group_print(&g);
}

/* Requests that stop short must be closed by the server's timeout (2 s here) while others are
 * answered; all are sent at once, so the group costs one timeout. */
static void test_short_requests_time_out(void)
{
    /* clang-format off */
    static const struct {
        const char *req;
        int half_close;
    } t[] = {
        {JSON_POST "Content-Length: 100\r\n\r\n{\"a\":1}", 1},
        {JSON_POST "Content-Length: 100\r\n\r\n{\"a\":1}", 0},
        {"GET /healthz HTTP/1.1\r\nHost: t\r\n", 0},  {"GET /healthz HTTP/1.1\r\nHost: t\r\n", 1},
        {"GET /healthz HT", 0},                       {"\x01\x02\x03\r\n\r\n", 0},
        {CHUNKED "FFFFFFFFFFFFFFFF\r\n{\"a\":1}", 0}, {CHUNKED "7fffffff\r\n{\"a\":1}", 1},
        {CHUNKED "7\r\n{\"a\":1}\r\n", 0},
        {JSON_POST "Transfer-Encoding: gzip, chunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n", 0},
        {JSON_POST "Transfer-Encoding: identity\r\n\r\n{\"a\":1}", 1},
    };
    /* clang-format on */
    enum { N = sizeof t / sizeof t[0] };
    struct group g = {.name = "stopping short"};
    struct raw r[N + 2];
    char *many[2];
    struct it_reply ok;
    double t0 = now_ms();

    /* thousands of query arguments fill libmicrohttpd's memory for the connection: it logs a
     * 431 but sends nothing, and closes at the timeout */
    many[0] = nest("GET /api/v1/areas?", "&", "", "", 8000, HOST);
    many[1] = nest("GET /api/v1/areas?a=1", "&a=1", "", "", 2000, HOST);
    for (int i = 0; i < N; i++)
        raw_send(&r[i], t[i].req, strlen(t[i].req), t[i].half_close);
    for (int i = 0; i < 2; i++)
        raw_send(&r[N + i], many[i], strlen(many[i]), 0);
    CHECK(it_get(&srv, "/healthz", &ok) == 0);
    CHECK_INT_EQ(ok.status, 200);
    CHECK(now_ms() - t0 < 1000); /* not held up by them */
    free(ok.body);
    for (int i = 0; i < N + 2; i++) {
        const char *req = i < N ? t[i].req : many[i - N];
        raw_finish(&r[i]);
        judge(&g, req, strlen(req), &r[i], W_REFUSED);
        free(r[i].text);
    }
    free(many[0]);
    free(many[1]);
    fprintf(stderr, "   all closed or answered within %.1f s\n", (now_ms() - t0) / 1000);
    group_print(&g);
}

/* ---- what must hold afterwards ---- */

/* clang-format off */
static const char *const tables[] = {
    "reports", "report_history", "idempotency_keys", "photos", "confirmations", "ratings",
    "followups", "api_keys", "audit_log", "services", "entities", "routing_rules", "areas",
    "tows", "yards", "trucks", "events",
};
/* clang-format on */
enum { NTABLES = sizeof tables / sizeof tables[0] };

static void count_rows(long *out)
{
    char sql[96];

    for (int i = 0; i < NTABLES; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
        out[i] = it_sql_count(&srv, sql);
    }
}

static void read_build(void)
{
    struct it_reply r;
    const char *p;

    CHECK(it_get(&srv, "/", &r) == 0);
    if ((p = strstr(r.body, "/static/")) != NULL)
        sscanf(p, "/static/%16[0-9a-f]", build);
    CHECK_INT_EQ((long)strlen(build), 16);
    free(r.body);
}

int main(int argc, char **argv)
{
    char *extra[] = {"--timeout=2", NULL};
    const char *hz = "GET /healthz" HOST;
    long before[NTABLES], after[NTABLES];
    double t0 = now_ms();
    struct raw health;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PANAMA_DB\n", argv[0]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (it_start(&srv, argv[1], extra) != 0) {
        fprintf(stderr, "server did not start\n");
        return 1;
    }
    CHECK(it_key_create(&srv, "admin", NULL, "hostile admin", admin, sizeof admin) == 0);
    read_build();
    RUN(test_sql_metacharacters_are_stored_as_text);
    count_rows(before);
    RUN(test_malformed_request_lines);
    RUN(test_huge_headers);
    RUN(test_bodies_against_content_length);
    RUN(test_chunked_bodies);
    RUN(test_multipart_bodies);
    RUN(test_invalid_utf8);
    RUN(test_deep_json);
    RUN(test_absurd_numbers);
    RUN(test_sql_metacharacters_are_refused);
    RUN(test_paths_stay_inside);
    RUN(test_short_requests_time_out);
    /* the server is well, and nothing was written */
    raw_send(&health, hz, strlen(hz), 0);
    raw_finish(&health);
    CHECK_INT_EQ(health.status, 200);
    CHECK(strstr(health.text, "\"database\":\"ok\"") != NULL);
    free(health.text);
    count_rows(after);
    for (int i = 0; i < NTABLES; i++)
        if (before[i] != after[i] || before[i] < 0)
            CHECK_REPORT("%s: %ld rows before, %ld after", tables[i], before[i], after[i]);
    fprintf(stderr, "   /healthz answers; %d tables as they were (%ld reports); %.1f s\n", NTABLES,
            after[0], (now_ms() - t0) / 1000);
    return it_suite_end(&srv);
}
