/*
 * server/http.c - libmicrohttpd glue (see http.h).
 * MHD runs a pool of epoll threads; each request is parsed by MHD, its body collected here up
 * to cfg.body_max_bytes (413 as soon as Content-Length says it is larger), then routed through
 * server/routes.c to a handler on the same thread. Every reply is built here: JSON serialised
 * by jansson, errors as {"error":{"code","message"}} with the status from base/err.h, a 5xx
 * message logged but never shown (507's aside). One access log line per request at completion.
 * A target whose %-decoding holds a NUL or bytes that are not UTF-8 is refused (400) before
 * routing: see unescape().
 */
#include "server/http.h"
#include "server/metrics.h"
#include "server/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "server/ratelimit.h"
#include "server/routes.h"
#include "server/worker.h"

#define LISTEN_BACKLOG   1024
#define HTTP_REAL_DIGITS 12 /* 1e-7 degree coordinates need 10 significant digits */

/* Routes marked `offload` (photos to decode, a group commit to wait for) run on this pool:
 * the HTTP thread suspends the connection and goes back to its other connections, a pool thread
 * runs the handler on its own worker (database connection, GEOS context), then resumes the
 * connection, and MHD calls on_request once more to send the reply. */
struct pool {
    pthread_t *threads;
    unsigned n;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct http_req *head, **tail;
    int stop;
};

struct http_server {
    struct app *app;
    struct MHD_Daemon *d;
    int fd;
    struct pool pool;
};

static struct pool *the_pool; /* set before the daemon starts; one server a process */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static enum http_method method_of(const char *m)
{
    static const struct {
        const char *name;
        enum http_method m;
    } t[] = {{"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
             {"PUT", HTTP_PUT},     {"PATCH", HTTP_PATCH},   {"DELETE", HTTP_DELETE},
             {"OPTIONS", HTTP_OPTIONS}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(m, t[i].name) == 0)
            return t[i].m;
    return HTTP_OTHER;
}

/* ---- replies ---- */

/* A reply has one body; whichever setter runs last gives it. */
static void body_drop(struct http_res *res)
{
    json_decref(res->json);
    res->json = NULL;
    free(res->raw);
    res->raw = NULL;
    res->raw_len = 0;
    if (res->fd > 0)
        close(res->fd);
    res->fd = 0;
    res->fixed = NULL;
    res->fixed_len = 0;
    if (res->shared_release)
        res->shared_release(res->shared_ctx);
    res->shared = NULL;
    res->shared_len = 0;
    res->shared_release = NULL;
    res->shared_ctx = NULL;
    if (res->reader_free)
        res->reader_free(res->reader_ctx);
    res->reader = NULL;
    res->reader_free = NULL;
    res->reader_ctx = NULL;
}

int http_reply_json_new(struct http_res *res, int status, json_t *json)
{
    if (!json)
        return rp_err_set(&res->err, RP_NO_MEMORY, "reply body");
    body_drop(res);
    res->json = json;
    res->status = status;
    return RP_OK;
}

int http_reply_raw(struct http_res *res, int status, char *body, size_t len)
{
    body_drop(res);
    res->raw = body;
    res->raw_len = len;
    res->status = status;
    return RP_OK;
}

int http_reply_fixed(struct http_res *res, int status, const char *body, size_t len)
{
    body_drop(res);
    res->fixed = body;
    res->fixed_len = len;
    res->status = status;
    return RP_OK;
}

int http_reply_shared(struct http_res *res, int status, const void *body, size_t len,
                      void (*release)(void *ctx), void *ctx)
{
    body_drop(res);
    res->shared = body;
    res->shared_len = len;
    res->shared_release = release;
    res->shared_ctx = ctx;
    res->status = status;
    return RP_OK;
}

int http_reply_reader(struct http_res *res, int status, const char *type, http_reader_fn fn,
                      void (*free_fn)(void *ctx), void *ctx)
{
    body_drop(res);
    res->reader = fn;
    res->reader_free = free_fn;
    res->reader_ctx = ctx;
    res->content_type = type;
    res->status = status;
    return RP_OK;
}

/* MHD's side of a reader: its end and its failure have their own codes. */
struct reader_call {
    http_reader_fn fn;
    void (*free_fn)(void *ctx);
    void *ctx;
};

static ssize_t reader_call(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct reader_call *c = cls;
    long n = c->fn(c->ctx, buf, max);

    (void)pos;
    return n > 0 ? (ssize_t)n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM
                                        : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void reader_done(void *cls)
{
    struct reader_call *c = cls;

    if (c->free_fn)
        c->free_fn(c->ctx);
    free(c);
}

int http_reply_file(struct http_res *res, int status, int fd, size_t len, const char *type)
{
    body_drop(res);
    res->fd = fd;
    res->fd_len = len;
    res->content_type = type;
    res->status = status;
    return RP_OK;
}

static int stream_put(const char *text, size_t n, void *ctx)
{
    struct http_stream *st = ctx;

    if (st->failed)
        return -1;
    if (n > st->cap - st->len) {
        size_t cap = st->cap ? st->cap : 1024;
        char *b;
        while (cap - st->len < n)
            cap *= 2;
        b = realloc(st->buf, cap);
        if (!b) {
            st->failed = 1;
            return -1;
        }
        st->buf = b;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, text, n);
    st->len += n;
    return 0;
}

void http_stream_text(struct http_stream *st, const char *text)
{
    (void)stream_put(text, strlen(text), st); /* a failure is kept in st->failed */
}

void http_stream_bytes(struct http_stream *st, const char *text, size_t len)
{
    (void)stream_put(text, len, st); /* a failure is kept in st->failed */
}

void http_stream_json(struct http_stream *st, json_t *value)
{
    if (!value ||
        json_dump_callback(value, stream_put, st,
                           JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(HTTP_REAL_DIGITS)))
        st->failed = 1;
    json_decref(value);
}

int http_reply_stream(struct http_res *res, int status, struct http_stream *st)
{
    char *body = st->buf;
    size_t len = st->len;
    int failed = st->failed || !body;

    memset(st, 0, sizeof *st);
    if (failed) {
        free(body);
        return rp_err_set(&res->err, RP_NO_MEMORY, "reply body");
    }
    return http_reply_raw(res, status, body, len);
}



int http_header_add(struct http_res *res, const char *name, const char *value)
{
    if (res->nheaders >= HTTP_HEADERS_MAX)
        return rp_err_set(&res->err, RP_INTERNAL, "too many reply headers");
    res->hvalues[res->nheaders] = strdup(value);
    if (!res->hvalues[res->nheaders])
        return rp_err_set(&res->err, RP_NO_MEMORY, "header");
    res->hnames[res->nheaders++] = name;
    return RP_OK;
}

static void res_fini(struct http_res *res)
{
    body_drop(res);
    for (int i = 0; i < res->nheaders; i++)
        free(res->hvalues[i]);
}

/* Turns a failed handler's error into the reply; 5xx details go to the log only. */
static void error_reply(struct http_req *req, struct http_res *res, int rc)
{
    enum rp_code code = res->err.code != RP_OK ? res->err.code : (enum rp_code)rc;
    int status = rp_err_status(code);
    const char *msg = res->err.msg[0] ? res->err.msg : rp_err_slug(code);

    if (status >= 500) {
        rp_error("%s %s: %s: %s", req->method_name, req->path, rp_err_slug(code), msg);
        if (code != RP_INSUFFICIENT_STORAGE) /* its words are for the client (base/err.h) */
            msg = "the server could not complete the request";
    }
    if (status == 401) { /* RFC 6750: a 401 says how to authenticate */
        int has = 0;
        for (int i = 0; i < res->nheaders; i++)
            has |= strcmp(res->hnames[i], MHD_HTTP_HEADER_WWW_AUTHENTICATE) == 0;
        if (!has)
            http_header_add(res, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"reporta\"");
    }
    json_decref(res->json);
    res->json = json_pack("{s:{s:s, s:s}}", "error", "code", rp_err_slug(code), "message", msg);
    if (!res->json) { /* msg quotes bytes of the request that are not UTF-8: say it in ASCII */
        char ascii[RP_ERR_MSG_MAX];
        snprintf(ascii, sizeof ascii, "%s", msg);
        for (char *p = ascii; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        res->json =
            json_pack("{s:{s:s, s:s}}", "error", "code", rp_err_slug(code), "message", ascii);
    }
    res->status = status;
}

static const char *cors_origin(struct http_req *req);

static enum MHD_Result queue(struct MHD_Connection *conn, struct http_req *req,
                             struct http_res *res)
{
    struct MHD_Response *r;
    enum MHD_Result ok;
    char *body = NULL;
    size_t len = 0;

    if (res->json) {
        body = json_dumps(res->json, JSON_COMPACT | JSON_REAL_PRECISION(HTTP_REAL_DIGITS));
        if (!body) {
            res->status = 500;
            body = strdup("{\"error\":{\"code\":\"out_of_memory\",\"message\":\"reply\"}}");
        }
        len = body ? strlen(body) : 0;
    } else if (res->raw) {
        body = res->raw;
        len = res->raw_len;
        res->raw = NULL;
    }
    if (!body && res->fd > 0) {
        /* MHD closes the descriptor with the response */
        r = MHD_create_response_from_fd(len = res->fd_len, res->fd);
        if (r)
            res->fd = 0;
    } else if (body)
        r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    else if (res->shared) {
        r = MHD_create_response_from_buffer_with_free_callback_cls(
            len = res->shared_len, (void *)res->shared, res->shared_release, res->shared_ctx);
        if (r) /* the response releases it now */
            res->shared_release = NULL, res->shared = NULL;
    } else if (res->reader) {
        struct reader_call *c = malloc(sizeof *c);
        r = NULL;
        if (c) {
            *c = (struct reader_call){res->reader, res->reader_free, res->reader_ctx};
            r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, reader_call, c,
                                                  reader_done);
            if (r) /* the response frees the reader's state now */
                res->reader = NULL, res->reader_free = NULL, res->reader_ctx = NULL;
            else
                free(c);
        }
    } else if (res->fixed)
        r = MHD_create_response_from_buffer(len = res->fixed_len, (void *)res->fixed,
                                            MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type ? res->content_type
                                              : "application/json; charset=utf-8");
    for (int i = 0; i < res->nheaders; i++)
        MHD_add_response_header(r, res->hnames[i], res->hvalues[i]);
    if (req->app->cfg.cors_origins) {
        const char *origin = cors_origin(req);
        MHD_add_response_header(r, "Vary", "Origin");
        if (origin) {
            MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
            MHD_add_response_header(r, "Access-Control-Expose-Headers",
                                    "Location, Retry-After, ETag, WWW-Authenticate");
        }
    }
    req->status = res->status;
    req->bytes = len;
    ok = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---- CORS ---- */

/* The Origin header when the configured list allows it ("*" allows any), else NULL. */
static const char *cors_origin(struct http_req *req)
{
    const char *list = req->app->cfg.cors_origins, *o = http_header(req, "Origin");
    size_t n;

    if (!list || !o || !o[0])
        return NULL;
    n = strlen(o);
    while (*list) {
        size_t k = strcspn(list, ",");
        const char *item = list;
        size_t ilen = k;
        while (ilen && *item == ' ')
            item++, ilen--;
        while (ilen && item[ilen - 1] == ' ')
            ilen--;
        if ((ilen == 1 && *item == '*') || (ilen == n && strncmp(item, o, n) == 0))
            return o;
        list += k + (list[k] == ',');
    }
    return NULL;
}

/* OPTIONS on a known path: a CORS preflight when it carries an Origin, else the Allow list. */
static int preflight(struct http_req *req, struct http_res *res)
{
    char allow[96];
    const char *origin = http_header(req, "Origin");

    routes_allow_header(req->allowed | HTTP_OPTIONS, allow, sizeof allow);
    res->status = 204;
    if (!origin)
        return http_header_add(res, MHD_HTTP_HEADER_ALLOW, allow);
    if (!cors_origin(req))
        return rp_err_set(&res->err, RP_FORBIDDEN, "origin %.200s may not call this API", origin);
    http_header_add(res, "Access-Control-Allow-Methods", allow);
    http_header_add(res, "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, Idempotency-Key, If-None-Match");
    return http_header_add(res, "Access-Control-Max-Age", "600");
}

/* ---- admission: before the body is read ---- */

/* Bucket keys: one byte of class (read/write, address/key), then the address or the key id. */
enum { RL_IP_READ, RL_IP_WRITE, RL_KEY_READ, RL_KEY_WRITE, RL_CLASS_OWN };

/* What is the same for every request of one connection, worked out once when MHD accepts it:
 * the client's address as text (for the log) and as a bucket key (IPv6: its /64, what one
 * subscriber usually gets). Keep-alive clients send many requests per connection. */
struct http_conn {
    char ip[48];
    unsigned char addr[16];
    size_t addr_len;
    unsigned char full6[16]; /* an IPv6 peer's whole address (addr keeps its /64) */
    int bad_target; /* set by unescape() while MHD parses a request line, taken by admit() */
};

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_conn *c;
    const union MHD_ConnectionInfo *ci;

    (void)cls;
    if (code != MHD_CONNECTION_NOTIFY_STARTED) {
        free(*socket_context);
        *socket_context = NULL;
        return;
    }
    c = calloc(1, sizeof *c);
    *socket_context = c; /* NULL: req_new refuses the connection's requests */
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!c)
        return;
    strcpy(c->ip, "-");
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ci->client_addr;
        memcpy(c->addr, &a->sin_addr, c->addr_len = 4);
        inet_ntop(AF_INET, &a->sin_addr, c->ip, sizeof c->ip);
    } else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ci->client_addr;
        memcpy(c->addr, &a->sin6_addr, c->addr_len = 8);
        memcpy(c->full6, &a->sin6_addr, 16);
        inet_ntop(AF_INET6, &a->sin6_addr, c->ip, sizeof c->ip);
    }
}

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* A %-decoded path segment, query key or value that C strings and the database can carry as it
 * is: no NUL (MHD's decoding would end the string there, "/static/B/js/api.js%00.png" naming
 * api.js) and valid UTF-8 (PostgreSQL refuses other text, JSON cannot hold it). */
static int target_text_ok(const char *s, size_t n)
{
    json_t *t = memchr(s, '\0', n) ? NULL : json_stringn(s, n); /* jansson checks the UTF-8 */
    int ok = t != NULL;

    json_decref(t);
    return ok;
}

/* MHD's own %-decoding, called for the path and each query key and value before on_request
 * sees the request; what target_text_ok refuses marks the connection, and admit() answers 400
 * (MHD parses one request of a connection at a time). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    struct http_conn *c = conn_of(conn);
    size_t n = MHD_http_unescape(s);

    (void)cls;
    if (c && !target_text_ok(s, n))
        c->bad_target = 1;
    return n;
}

static unsigned limit_ip(struct http_req *req, int write)
{
    const struct config *cfg = &req->app->cfg;
    unsigned char key[1 + sizeof req->addr];
    double rate = write ? cfg->ip_write_rate : cfg->ip_read_rate;

    key[0] = write ? RL_IP_WRITE : RL_IP_READ;
    memcpy(key + 1, req->addr, req->addr_len);
    return rl_take(req->app->limits, key, 1 + req->addr_len, rate, rate * APP_BURST_SECONDS,
                   req->t0_us);
}

static unsigned limit_key(struct http_req *req, int write)
{
    const struct config *c = &req->app->cfg;
    unsigned char key[1 + sizeof req->who.key_id];
    double rate = write ? c->key_write_rate : c->key_read_rate;

    key[0] = write ? RL_KEY_WRITE : RL_KEY_READ;
    memcpy(key + 1, &req->who.key_id, sizeof req->who.key_id);
    return rl_take(req->app->limits, key, sizeof key, rate, rate * APP_BURST_SECONDS, req->t0_us);
}

static int too_many(struct http_res *res, unsigned wait, const char *who)
{
    char v[16];

    snprintf(v, sizeof v, "%u", wait);
    http_header_add(res, "Retry-After", v);
    return rp_err_set(&res->err, RP_RATE_LIMITED, "too many requests from this %s; retry in %u s",
                      who, wait);
}

int http_limit_address(struct http_req *req, struct http_res *res, unsigned cls,
                       double per_minute, double burst)
{
    unsigned char key[1 + sizeof req->addr];
    unsigned wait;

    if (per_minute <= 0 || !req->client)
        return RP_OK;
    key[0] = (unsigned char)(RL_CLASS_OWN + cls);
    memcpy(key + 1, req->addr, req->addr_len);
    wait = rl_take(req->app->limits, key, 1 + req->addr_len, per_minute / 60.0, burst, req->t0_us);
    return wait ? too_many(res, wait, "address") : RP_OK;
}

static enum MHD_Result add_arg_len(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    *(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 2;
    return MHD_YES;
}

/* The path plus its decoded query arguments: about the length of the request target. */
static size_t target_len(struct http_req *req)
{
    size_t n = strlen(req->path);

    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_arg_len, &n);
    return n;
}

/* Everything decided from the request line and headers: route, body cap, rate limits, who is
 * calling and whether they may. RP_OK, or the error to answer with at once. */
static int admit(struct http_req *req, struct http_res *res)
{
    const char *cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int write = !(req->method & (HTTP_GET | HTTP_HEAD | HTTP_OPTIONS));
    struct http_conn *c = conn_of(req->conn);
    int bad_target = c && c->bad_target;
    unsigned wait;
    int rc;

    if (c)
        c->bad_target = 0; /* the next request on this connection starts clean */
    if (bad_target)
        return rp_err_set(&res->err, RP_INVALID_ARGUMENT,
                          "the path or query holds %%00 or bytes that are not UTF-8");
    if (target_len(req) > APP_URL_MAX_BYTES)
        return rp_err_set(&res->err, RP_URI_TOO_LONG, "the path is over %d bytes",
                          APP_URL_MAX_BYTES);
    req->route = routes_match(req, &req->allowed);
    if (req->nparams > 0 && !req->path_copy)
        return rp_err_set(&res->err, RP_NO_MEMORY, "request path");
    req->body_max = req->route && req->route->body_max ? req->route->body_max
                                                       : req->app->cfg.body_max_bytes;
    if (cl && strtoull(cl, NULL, 10) > req->body_max) {
        req->body_too_large = 1;
        return rp_err_set(&res->err, RP_TOO_LARGE, "request body over %zu bytes", req->body_max);
    }
    if ((wait = limit_ip(req, write)) != 0)
        return too_many(res, wait, "address");
    req->w = worker_self(req->app, &res->err);
    if (!req->w)
        return RP_UNAVAILABLE;
    rc = auth_identify(req->w->store, http_header(req, MHD_HTTP_HEADER_AUTHORIZATION), &req->who,
                       &res->err);
    if (rc == RP_UNAUTHORIZED)
        http_header_add(res, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                        "Bearer realm=\"reporta\", error=\"invalid_token\"");
    if (rc != RP_OK)
        return rc;
    if (req->route && !(req->route->roles & req->who.role)) {
        if (req->who.role == AUTH_ANONYMOUS) /* error_reply adds WWW-Authenticate */
            return rp_err_set(&res->err, RP_UNAUTHORIZED, "this needs an API key");
        return rp_err_set(&res->err, RP_FORBIDDEN, "a %s key may not %s %s",
                          auth_role_name(req->who.role), req->method_name, req->path);
    }
    if (req->who.key_id && (wait = limit_key(req, write)) != 0)
        return too_many(res, wait, "API key");
    return RP_OK;
}

/* ---- dispatch: once the body is in ---- */

static void dispatch(struct http_req *req, struct http_res *res)
{
    int rc;

    res->status = 200;
    if (req->body_too_large) {
        rc = rp_err_set(&res->err, RP_TOO_LARGE, "request body over %zu bytes", req->body_max);
        error_reply(req, res, rc);
        return;
    }
    if (!req->route) {
        if (req->allowed && req->method == HTTP_OPTIONS) {
            rc = preflight(req, res);
        } else if (req->allowed) {
            char allow[96];
            routes_allow_header(req->allowed | HTTP_OPTIONS, allow, sizeof allow);
            http_header_add(res, MHD_HTTP_HEADER_ALLOW, allow);
            rc = rp_err_set(&res->err, RP_METHOD_NOT_ALLOWED, "%s is not allowed on %s; use %s",
                            req->method_name, req->path, allow);
        } else {
            rc = rp_err_set(&res->err, RP_NOT_FOUND, "no such resource: %s", req->path);
        }
        if (rc != RP_OK)
            error_reply(req, res, rc);
        return;
    }
    rc = req->route->handler(req, res);
    if (rc != RP_OK)
        error_reply(req, res, rc);
}

static void dispatch(struct http_req *req, struct http_res *res);

static void *pool_loop(void *arg)
{
    struct pool *p = arg;

    pthread_setname_np(pthread_self(), "pool"); /* as top -H and ps -L show it */
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct http_req *req;
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->wake, &p->lock);
        if (!p->head)
            break;
        req = p->head;
        p->head = req->offload_next;
        if (!p->head)
            p->tail = &p->head;
        pthread_mutex_unlock(&p->lock);

        req->w = worker_self(req->app, &req->offload_res->err);
        if (req->w)
            dispatch(req, req->offload_res);
        else
            error_reply(req, req->offload_res, RP_UNAVAILABLE);
        req->offload_done = 1;
        MHD_resume_connection(req->conn);

        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static int pool_start(struct pool *p, unsigned n)
{
    p->threads = calloc(n, sizeof *p->threads);
    if (!p->threads)
        return -1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->tail = &p->head;
    for (p->n = 0; p->n < n; p->n++)
        if (pthread_create(&p->threads[p->n], NULL, pool_loop, p) != 0)
            break;
    return p->n ? 0 : -1;
}

/* After every offloaded request has completed: nothing is queued any more. */
static void pool_stop(struct pool *p)
{
    if (!p->threads)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p->threads);
    p->threads = NULL;
}

/* Hands req to the pool and suspends its connection; 0 on success. */
static int offload(struct http_req *req)
{
    struct pool *p = the_pool;

    req->offload_res = calloc(1, sizeof *req->offload_res);
    if (!req->offload_res || !p)
        return -1;
    MHD_suspend_connection(req->conn);
    pthread_mutex_lock(&p->lock);
    req->offload_next = NULL;
    *p->tail = req;
    p->tail = &req->offload_next;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

#define XFF_MAX 8 /* X-Forwarded-For headers read; a proxy sends one */

struct xff {
    const char *v[XFF_MAX];
    int n;
};

static enum MHD_Result add_xff(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    struct xff *x = cls;
    (void)kind;
    if (value && strcasecmp(key, "X-Forwarded-For") == 0 && x->n < XFF_MAX)
        x->v[x->n++] = value;
    return MHD_YES;
}

/* From a trusted proxy: the client X-Forwarded-For names (see server/proxy.h). */
static void client_behind_proxy(struct http_req *req, const struct http_conn *c)
{
    struct proxy_addr peer = {0}, client;
    struct xff x = {{0}, 0};

    if (c->addr_len == 4) {
        peer.family = AF_INET;
        memcpy(peer.bytes, c->addr, 4);
    } else if (c->addr_len) {
        peer.family = AF_INET6;
        memcpy(peer.bytes, c->full6, 16);
    }
    snprintf(peer.text, sizeof peer.text, "%s", c->ip);
    if (!proxy_trusted(req->app->cfg.proxies, &peer))
        return;
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, add_xff, &x);
    proxy_client(req->app->cfg.proxies, &peer, x.v, x.n, &client);
    snprintf(req->ip_buf, sizeof req->ip_buf, "%s", client.text);
    req->ip = req->ip_buf;
    req->addr_len = client.family == AF_INET ? 4 : 8; /* an IPv6 client is keyed by its /64 */
    memcpy(req->addr, client.bytes, req->addr_len);
}

static struct http_req *req_new(struct app *app, struct MHD_Connection *conn, const char *url,
                                const char *method)
{
    struct http_conn *c = conn_of(conn);
    struct http_req *req = c ? calloc(1, sizeof *req) : NULL;

    if (!req)
        return NULL;
    req->app = app;
    req->conn = conn;
    req->client = c;
    req->t0_us = now_us();
    req->method = method_of(method);
    req->method_name = method;
    req->path = url;
    req->ip = c->ip;
    memcpy(req->addr, c->addr, req->addr_len = c->addr_len);
    if (app->cfg.proxies && app->cfg.proxies->n)
        client_behind_proxy(req, c);
    req->who.role = AUTH_ANONYMOUS;
    atomic_fetch_add(&app->inflight, 1);
    return req;
}

/* What req->body has allocated for len bytes and a NUL: a power of two, so that appending
 * reallocates only when the length crosses one (len is at most the route's body cap). */
static size_t body_room(size_t len)
{
    size_t room = 4096;

    while (room < len + 1)
        room *= 2;
    return room;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct app *app = cls;
    struct http_req *req = *con_cls;
    struct http_res res = {0};
    enum MHD_Result ok;
    int rc;

    (void)version;
    if (!req) {
        req = req_new(app, conn, url, method);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        rc = admit(req, &res);
        if (rc == RP_OK)
            return MHD_YES;
        /* Refused before reading a byte of any body; MHD closes the connection after. */
        error_reply(req, &res, rc);
        ok = queue(conn, req, &res);
        res_fini(&res);
        return ok;
    }
    if (*upload_size) {
        if (!req->body_too_large && !req->status) {
            if (req->body_len + *upload_size > req->body_max) {
                req->body_too_large = 1;
                free(req->body);
                req->body = NULL;
                req->body_len = 0;
            } else {
                size_t len = req->body_len + *upload_size;
                char *b = req->body;
                /* Room doubles: a chunked body comes one chunk a call, and 1-byte chunks must
                 * not each copy all the bytes before them. */
                if (!b || body_room(len) != body_room(req->body_len))
                    b = realloc(req->body, body_room(len));
                if (!b)
                    return MHD_NO;
                memcpy(b + req->body_len, upload, *upload_size);
                req->body = b;
                req->body_len = len;
                b[len] = '\0';
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (req->status) /* already answered by admit() */
        return MHD_YES;
    if (req->offload_res) { /* called again after the pool resumed us */
        if (!req->offload_done)
            return MHD_YES;
        ok = queue(conn, req, req->offload_res);
        res_fini(req->offload_res);
        free(req->offload_res);
        req->offload_res = NULL;
        return ok;
    }
    if (req->route && req->route->offload && !req->body_too_large && offload(req) == 0)
        return MHD_YES;
    dispatch(req, &res);
    ok = queue(conn, req, &res);
    res_fini(&res);
    return ok;
}

/* The access line is built by hand, not by printf: it is written for every request. (The log
 * itself turns control bytes of the decoded path into '?'.) */
struct line {
    char s[RP_LOG_LINE_MAX - 64];
    size_t n;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (n > sizeof l->s - l->n)
        n = sizeof l->s - l->n;
    memcpy(l->s + l->n, s, n);
    l->n += n;
}

static void put_str(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_num(struct line *l, unsigned long long v)
{
    char d[24];
    size_t i = sizeof d;

    do
        d[--i] = (char)('0' + v % 10);
    while (v /= 10);
    put(l, d + i, sizeof d - i);
}

/* "access GET /path 200 1234 56us 127.0.0.1 key:0[ (aborted)]" */
static void log_access(const struct http_req *req, int aborted)
{
    struct line l;

    l.n = 0;
    put_str(&l, "access ");
    put_str(&l, req->method_name);
    put(&l, " ", 1);
    put_str(&l, req->path);
    put(&l, " ", 1);
    put_num(&l, (unsigned)req->status);
    put(&l, " ", 1);
    put_num(&l, req->bytes);
    put(&l, " ", 1);
    put_num(&l, now_us() - req->t0_us);
    put_str(&l, "us ");
    put_str(&l, req->ip);
    put_str(&l, " key:");
    put_num(&l, (unsigned long long)req->who.key_id);
    if (aborted)
        put_str(&l, " (aborted)");
    rp_log_text(RP_LOG_INFO, l.s, l.n);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct app *app = cls;
    struct http_req *req = *con_cls;

    (void)conn;
    if (!req)
        return;
    log_access(req, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
    {
        size_t nroutes = 0;
        const struct route *table = routes_table(&nroutes);
        metrics_request(req->route ? (int)(req->route - table) : -1, req->status,
                        now_us() - req->t0_us);
    }
    if (req->offload_res) {
        res_fini(req->offload_res);
        free(req->offload_res);
    }
    free(req->body);
    free(req->path_copy);
    free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&app->inflight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];

    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    rp_warn("http: %s", line);
}

/* ---- queries ---- */

const char *http_query(struct http_req *req, const char *key)
{
    const char *v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
    return v && v[0] ? v : NULL;
}

struct query_all {
    const char *key;
    const char **out;
    int max, n;
};

static enum MHD_Result query_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct query_all *q = cls;

    (void)kind;
    if (strcmp(key, q->key) == 0 && value && value[0]) {
        if (q->n < q->max)
            q->out[q->n] = value;
        q->n++;
    }
    return MHD_YES;
}

int http_query_all(struct http_req *req, const char *key, const char **out, int max)
{
    struct query_all q = {key, out, max, 0};

    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_one, &q);
    return q.n;
}

const char *http_header(struct http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_param(struct http_req *req, const char *name)
{
    size_t n = strlen(name);

    for (int i = 0; i < req->nparams; i++)
        if (strncmp(req->param_names[i] + 1, name, n) == 0 && req->param_names[i][n + 1] == '}')
            return req->params[i];
    return NULL;
}

int http_body_json(struct http_req *req, json_t **out, struct rp_err *err)
{
    json_error_t je;
    json_t *j;

    *out = NULL;
    if (!http_content_type_is(req, "application/json"))
        return rp_err_set(err, RP_UNSUPPORTED_MEDIA_TYPE, "send the body as application/json");
    j = json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return rp_err_set(err, RP_INVALID_JSON, "invalid JSON at line %d, column %d: %s", je.line,
                          je.column, je.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return rp_err_set(err, RP_INVALID_JSON, "the body must be a JSON object");
    }
    *out = j;
    return RP_OK;
}

int http_json_copy(json_t *o, const char *key, char *out, size_t n, int required,
                   struct rp_err *err)
{
    const char *v = NULL;
    int rc = http_json_str(o, key, n - 1, required, &v, err);

    if (rc == RP_OK && v)
        snprintf(out, n, "%s", v);
    return rc;
}

int http_json_str(json_t *o, const char *key, size_t max, int required, const char **out,
                  struct rp_err *err)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        if (required)
            return rp_err_set(err, RP_INVALID_ARGUMENT, "%s is required", key);
        return RP_OK;
    }
    if (!json_is_string(v))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s must be a string", key);
    if (json_string_length(v) > max)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s is over %zu bytes", key, max);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s contains a NUL character", key);
    *out = json_string_value(v);
    return RP_OK;
}

int http_content_type_is(struct http_req *req, const char *type)
{
    const char *ct = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t n = strlen(type);

    return ct && strncasecmp(ct, type, n) == 0 && (!ct[n] || ct[n] == ';' || ct[n] == ' ');
}

struct form_ctx {
    http_form_fn fn;
    void *ctx;
    int rc;
    int urlencoded;     /* values %-decoded by MHD, where a %00 would cut one short */
    struct rp_err *err;
};

static enum MHD_Result form_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *filename, const char *content_type,
                                 const char *transfer_encoding, const char *data, uint64_t off,
                                 size_t size)
{
    struct form_ctx *f = cls;

    (void)kind, (void)transfer_encoding;
    if (f->urlencoded && memchr(data, '\0', size)) {
        f->rc = rp_err_set(f->err, RP_INVALID_ARGUMENT, "form field %.60s holds %%00", key);
        return MHD_NO;
    }
    f->rc = f->fn(f->ctx, key, filename, content_type, data, size, off);
    return f->rc == RP_OK ? MHD_YES : MHD_NO;
}

int http_body_form(struct http_req *req, http_form_fn fn, void *ctx, struct rp_err *err)
{
    struct form_ctx f = {fn, ctx, RP_OK, 0, err};
    struct MHD_PostProcessor *pp;
    enum MHD_Result ok;

    f.urlencoded = http_content_type_is(req, "application/x-www-form-urlencoded");
    if (!f.urlencoded && !http_content_type_is(req, "multipart/form-data"))
        return rp_err_set(err, RP_UNSUPPORTED_MEDIA_TYPE,
                          "send the body as application/x-www-form-urlencoded or "
                          "multipart/form-data");
    pp = MHD_create_post_processor(req->conn, 16 * 1024, form_iter, &f);
    if (!pp)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "the form's Content-Type has no boundary");
    ok = req->body_len ? MHD_post_process(pp, req->body, req->body_len) : MHD_YES;
    if (MHD_destroy_post_processor(pp) != MHD_YES && ok == MHD_YES && f.rc == RP_OK)
        ok = MHD_NO;
    if (f.rc != RP_OK)
        return f.rc;
    if (ok != MHD_YES)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "the form body could not be parsed");
    return RP_OK;
}

static int parse_double(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 && isfinite(*out);
}

int http_query_double(struct http_req *req, const char *key, double def, double min, double max,
                      double *out, struct rp_err *err)
{
    const char *v = http_query(req, key);

    *out = def;
    if (!v)
        return RP_OK;
    if (!parse_double(v, out) || *out < min || *out > max)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s must be a number from %g to %g", key, min,
                          max);
    return RP_OK;
}

int http_query_lonlat(struct http_req *req, double *lon, double *lat, struct rp_err *err)
{
    const char *slat = http_query(req, "lat"), *slon = http_query(req, "lon");

    if (!slat || !slon)
        return rp_err_set(err, RP_INVALID_COORDINATES, "lat and lon are both required");
    if (!parse_double(slat, lat) || *lat < -90.0 || *lat > 90.0)
        return rp_err_set(err, RP_INVALID_COORDINATES, "lat must be a number from -90 to 90");
    if (!parse_double(slon, lon) || *lon < -180.0 || *lon > 180.0)
        return rp_err_set(err, RP_INVALID_COORDINATES, "lon must be a number from -180 to 180");
    return RP_OK;
}

/* ---- lifecycle ---- */

static int listen_socket(const char *addr, unsigned port, unsigned *bound, struct rp_err *err)
{
    struct addrinfo hints = {0}, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char service[16];
    int fd = -1, one = 1, gai;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(service, sizeof service, "%u", port);
    gai = getaddrinfo(addr, service, &hints, &ai);
    if (gai != 0) {
        rp_err_set(err, RP_INVALID_ARGUMENT, "--listen %s: %s", addr, gai_strerror(gai));
        return -1;
    }
    /* Non-blocking: pool threads all watch it, and one that loses the race to accept() must not
     * block there while its own connections wait. */
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        rp_err_set(err, RP_UNAVAILABLE, "listen on %s:%u: %s", addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

int http_server_start(struct app *app, struct http_server **out, unsigned *bound_port,
                      struct rp_err *err)
{
    struct http_server *srv = calloc(1, sizeof *srv);

    *out = NULL;
    if (!srv)
        return rp_err_set(err, RP_NO_MEMORY, "server");
    srv->app = app;
    srv->fd = listen_socket(app->cfg.listen, app->cfg.port, bound_port, err);
    if (srv->fd < 0) {
        free(srv);
        return err->code;
    }
    if (pool_start(&srv->pool, app->cfg.workers ? app->cfg.workers : 1) != 0) {
        close(srv->fd);
        free(srv);
        return rp_err_set(err, RP_UNAVAILABLE, "worker pool did not start");
    }
    the_pool = &srv->pool;
    /* native TLS (GnuTLS under libmicrohttpd) when --tls-cert and --tls-key are given */
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)app->cfg.tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)app->cfg.tls_cert_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    int use_tls = app->cfg.tls_cert_pem && app->cfg.tls_key_pem;
    srv->d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME | (use_tls ? MHD_USE_TLS : 0),
        0, NULL, NULL, on_request,
        app, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, app, MHD_OPTION_LISTEN_SOCKET, srv->fd, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)app->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)app->cfg.timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, app->cfg.conns_max, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        app->cfg.ip_conns,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)APP_HEADER_MAX_BYTES,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, app, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, NULL, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_ARRAY,
        use_tls ? tls : tls + 2, MHD_OPTION_END);
    if (!srv->d) {
        pool_stop(&srv->pool);
        the_pool = NULL;
        close(srv->fd);
        free(srv);
        return rp_err_set(err, RP_UNAVAILABLE, "libmicrohttpd did not start%s",
                          use_tls ? " (is --tls-key the key of --tls-cert?)" : "");
    }
    *out = srv;
    return RP_OK;
}

void http_server_stop(struct http_server *srv, unsigned grace_s)
{
    uint64_t deadline;
    int fd;

    if (!srv)
        return;
    /* No new connections from here on. The pool threads drop the socket from their epoll sets
     * on their own time, so it is closed only once they have stopped. */
    fd = MHD_quiesce_daemon(srv->d);
    deadline = now_us() + (uint64_t)grace_s * 1000000u;
    while (atomic_load(&srv->app->inflight) > 0 && now_us() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&srv->app->inflight) > 0)
        rp_warn("shutdown: %ld requests still in flight after %us", atomic_load(&srv->app->inflight),
                grace_s);
    pool_stop(&srv->pool); /* finishes what is queued; each job resumes its connection */
    MHD_stop_daemon(srv->d);
    if (fd >= 0)
        close(fd);
    the_pool = NULL;
    free(srv);
}
