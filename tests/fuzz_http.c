/*
 * tests/fuzz_http.c - the in-process request runner of fuzz_http.h. One daemon with no thread
 * and no listening socket lives for the whole process; each request is a socketpair whose one
 * end MHD_add_connection hands to it, and the loop writes the request, runs MHD_run_wait(0)
 * and reads the reply until MHD closes the connection ("Connection: close"). About 10 system
 * calls a request, so the fuzzers still make thousands of requests a second. The request in
 * flight is a static: libFuzzer calls one input at a time, on one thread.
 */
#include "tests/fuzz_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/app.h"

#define SPINS_IDLE_MAX 256     /* MHD_run_wait(0) rounds without progress once all is sent */
#define SPINS_MAX      1000000 /* a request that never ends is a hang: abort, keep the input */

struct run {
    fuzz_http_fn fn;
    void *ctx;
    char *body;
    size_t len;
    int too_large, ran;
};

static struct run *current; /* the request being made; NULL between requests */

static enum http_method method_of(const char *m)
{
    static const struct {
        const char *name;
        enum http_method method;
    } methods[] = {{"GET", HTTP_GET},        {"HEAD", HTTP_HEAD},   {"POST", HTTP_POST},
                   {"PUT", HTTP_PUT},        {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE},
                   {"OPTIONS", HTTP_OPTIONS}};

    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, m) == 0)
            return methods[i].method;
    return HTTP_OTHER;
}

/* Gathers the body as server/http.c's on_request does, then runs the target's fn. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct run *run = current;
    struct http_req req;
    struct MHD_Response *r;
    enum MHD_Result ok;

    (void)cls, (void)version;
    if (!run)
        return MHD_NO;
    if (!*con_cls) { /* headers only, so far */
        *con_cls = run;
        return MHD_YES;
    }
    if (*con_cls != run) /* an earlier request's connection, hung up on: nothing more for it */
        return MHD_NO;
    if (*upload_size) {
        if (!run->too_large && run->len + *upload_size > FUZZ_HTTP_BODY_MAX_BYTES) {
            run->too_large = 1;
        } else if (!run->too_large) {
            char *b = realloc(run->body, run->len + *upload_size + 1);
            if (!b)
                abort();
            memcpy(b + run->len, upload, *upload_size);
            run->body = b;
            run->len += *upload_size;
            b[run->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    memset(&req, 0, sizeof req);
    req.conn = conn;
    req.method = method_of(method);
    req.method_name = method;
    req.path = url;
    req.ip = "-";
    req.who.role = AUTH_ANONYMOUS;
    req.body = run->too_large ? NULL : run->body;
    req.body_len = run->too_large ? 0 : run->len;
    req.body_max = FUZZ_HTTP_BODY_MAX_BYTES;
    req.body_too_large = run->too_large;
    if (!run->ran) {
        run->ran = 1;
        run->fn(&req, run->ctx);
    }
    free(req.path_copy); /* routes_match's copy, when the target matched a route */
    r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r)
        abort();
    ok = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
    MHD_destroy_response(r);
    return ok;
}

static struct MHD_Daemon *daemon_get(void)
{
    static struct MHD_Daemon *d;

    if (!d)
        d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, NULL,
                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)APP_HEADER_MAX_BYTES,
                             MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fuzz_http: libmicrohttpd did not start\n");
        abort();
    }
    return d;
}

/* CR, LF or NUL in a request line or header value would make another request. */
static int clean(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return 0;
    return 1;
}

/* "METHOD target HTTP/1.1\r\n" + headers + body, malloc'd. */
static char *request_text(const char *method, const char *target, size_t target_len, const char *ct,
                          size_t ct_len, const void *body, size_t len, size_t *out_len)
{
    size_t cap = strlen(method) + target_len + ct_len + len + 160;
    char *t = malloc(cap);
    int n;

    if (!t)
        abort();
    n = snprintf(t, cap, "%s %.*s HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n", method,
                 (int)target_len, target);
    if (ct)
        n += snprintf(t + n, cap - (size_t)n, "Content-Type: %.*s\r\n", (int)ct_len, ct);
    if (body)
        n += snprintf(t + n, cap - (size_t)n, "Content-Length: %zu\r\n", len);
    n += snprintf(t + n, cap - (size_t)n, "\r\n");
    if (body && len)
        memcpy(t + n, body, len);
    *out_len = (size_t)n + (body ? len : 0);
    return t;
}

int fuzz_http_run(const char *method, const char *target, size_t target_len,
                  const char *content_type, size_t ct_len, const void *body, size_t len,
                  fuzz_http_fn fn, void *ctx)
{
    struct MHD_Daemon *d = daemon_get();
    struct run run = {fn, ctx, NULL, 0, 0, 0};
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    size_t text_len, sent = 0;
    char *text, sink[4096];
    int sv[2], idle = 0, closed = 0;

    if (!clean(target, target_len) || (content_type && !clean(content_type, ct_len)))
        return 0;
    text = request_text(method, target, target_len, content_type, ct_len, body, len, &text_len);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        perror("fuzz_http: socketpair");
        abort();
    }
    current = &run;
    if (MHD_add_connection(d, sv[0], (struct sockaddr *)&peer, sizeof peer) != MHD_YES) {
        perror("fuzz_http: MHD_add_connection");
        abort();
    }
    for (long spins = 0; !closed; spins++) {
        int progress = 0;
        ssize_t k;
        if (spins == SPINS_MAX) {
            fprintf(stderr, "fuzz_http: the request never finished\n");
            abort();
        }
        if (sent < text_len) {
            k = send(sv[1], text + sent, text_len - sent, MSG_NOSIGNAL);
            if (k > 0)
                sent += (size_t)k, progress = 1;
            else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                sent = text_len; /* MHD has closed the connection already */
        }
        MHD_run_wait(d, 0);
        while ((k = read(sv[1], sink, sizeof sink)) > 0)
            progress = 1;
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closed = 1;
        idle = progress || sent < text_len ? 0 : idle + 1;
        /* MHD waits for more than it was sent (a body shorter than its framing): hang up, as
         * a client that gives up would, and let MHD see the connection go */
        if (idle == SPINS_IDLE_MAX)
            shutdown(sv[1], SHUT_RDWR);
    }
    MHD_run_wait(d, 0); /* MHD closes its end and calls nothing more */
    close(sv[1]);
    current = NULL;
    free(run.body);
    free(text);
    return run.ran;
}

void fuzz_http_split(const unsigned char *data, size_t size, const char **line, size_t *line_len,
                     const unsigned char **rest, size_t *rest_len)
{
    const unsigned char *nl = size ? memchr(data, '\n', size) : NULL;

    *line = (const char *)data;
    *line_len = nl ? (size_t)(nl - data) : size;
    *rest = nl ? nl + 1 : data + size;
    *rest_len = nl ? size - *line_len - 1 : 0;
}

int fuzz_http_get_after(const char *prefix, const unsigned char *data, size_t size,
                        fuzz_http_fn fn, void *ctx)
{
    size_t n = strlen(prefix);
    char *target = malloc(n + size + 1);
    int ran;

    if (!target)
        return 0;
    memcpy(target, prefix, n);
    memcpy(target + n, data, size);
    ran = fuzz_http_run("GET", target, n + size, NULL, 0, NULL, 0, fn, ctx);
    free(target);
    return ran;
}
