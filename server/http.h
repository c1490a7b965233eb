/*
 * server/http.h - reporta's libmicrohttpd glue: the daemon's lifecycle, the request and
 * response a handler sees, query parsing helpers and the one place that writes error bodies
 * {"error":{"code","message"}}. A request's struct lives from its first header callback to
 * MHD's completion callback, on one worker thread at a time.
 */
#ifndef HTTP_H
#define HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "server/app.h"
#include "server/auth.h"

enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4,
    HTTP_DELETE = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
    HTTP_OTHER = 1 << 7,
};

#define HTTP_PARAMS_MAX  4
#define HTTP_HEADERS_MAX 10

struct route;

struct http_conn; /* private to http.c */

struct http_req {
    struct app *app;
    struct worker *w;
    void *conn; /* struct MHD_Connection */
    const struct http_conn *client; /* the connection's address, worked out once */
    enum http_method method;
    const char *method_name, *path;
    const struct route *route; /* NULL: 404, or 405 when allowed != 0 */
    unsigned allowed;          /* methods the path has */
    struct principal who;      /* the caller, from Authorization */
    const char *ip;            /* client address as text, for the log ("-" unknown): the
                                  connection's, or X-Forwarded-For's from a trusted proxy */
    unsigned char addr[16];    /* the same address, as rate limits key it */
    size_t addr_len;
    char ip_buf[48];
    char *body;
    size_t body_len, body_max;
    int body_too_large;
    const char *param_names[HTTP_PARAMS_MAX];
    char *params[HTTP_PARAMS_MAX]; /* {name} captures of the matched route, decoded */
    int nparams;
    int rest_param;            /* 1 + the index of a {*rest} capture (it keeps its slashes) */
    char *path_copy;           /* only for routes with {captures}: they point into it */
    struct http_res *offload_res; /* the reply being made on the worker pool */
    int offload_done;             /* set by the pool before it resumes the connection */
    struct http_req *offload_next;
    uint64_t t0_us;
    int status;
    size_t bytes;
};

/* Fills buf with up to max bytes of the body: returns how many (> 0), 0 at its end, -1 on a
 * failure (the client sees a truncated chunked body, never a complete-looking one). */
typedef long (*http_reader_fn)(void *ctx, char *buf, size_t max);

struct http_res {
    int status;
    json_t *json;              /* owned; serialised compactly */
    char *raw;                 /* or an owned raw body (malloc'd) */
    size_t raw_len;
    const char *fixed;         /* or a body that outlives the request (built at startup) */
    size_t fixed_len;
    int fd;                    /* or an open file (fd_len bytes), closed by the reply; 0: none */
    const void *shared;        /* or a body someone else owns: shared_release(shared_ctx) is
                                  called once the reply is done with it */
    size_t shared_len;
    void (*shared_release)(void *ctx);
    void *shared_ctx;
    size_t fd_len;
    http_reader_fn reader;     /* or a body made as it is sent (chunked): see http_reply_reader */
    void (*reader_free)(void *ctx);
    void *reader_ctx;
    const char *content_type;  /* default application/json */
    const char *hnames[HTTP_HEADERS_MAX];
    char *hvalues[HTTP_HEADERS_MAX];
    int nheaders;
    struct rp_err err;
};

struct http_server;

/* Binds addr:port (port 0 picks a free one) and starts `threads` epoll workers.
 * *bound_port receives the port actually bound. */
int http_server_start(struct app *app, struct http_server **out, unsigned *bound_port,
                      struct rp_err *err);
/* Stops accepting, waits up to grace_s for in-flight requests, then stops the daemon. */
void http_server_stop(struct http_server *srv, unsigned grace_s);

/* Handlers: set the reply. json is stolen, also on failure (NULL json -> RP_NO_MEMORY). */
int http_reply_json_new(struct http_res *res, int status, json_t *json);
/* A serialised body (malloc'd), owned by the reply from here on, also on failure. */
int http_reply_raw(struct http_res *res, int status, char *body, size_t len);
/* A body built once (e.g. at startup) and never freed by the reply. */
int http_reply_fixed(struct http_res *res, int status, const char *body, size_t len);
/* A body owned elsewhere (a cached tile); release(ctx) runs when the reply no longer needs it,
 * also when it is never sent. */
int http_reply_shared(struct http_res *res, int status, const void *body, size_t len,
                      void (*release)(void *ctx), void *ctx);
int http_header_add(struct http_res *res, const char *name, const char *value);
/* A file as the body: fd is owned by the reply from here on. */
int http_reply_file(struct http_res *res, int status, int fd, size_t len, const char *type);

/* A body written piece by piece, for long collections: each value is encoded by jansson as it
 * comes (and freed at once), the structure between values is literal text from the handler.
 * Nothing grows a tree of a thousand features; the first failure sticks in `failed`. */
struct http_stream {
    char *buf;
    size_t len, cap;
    int failed;
};
void http_stream_text(struct http_stream *st, const char *text);
void http_stream_bytes(struct http_stream *st, const char *text, size_t len); /* known length */
void http_stream_json(struct http_stream *st, json_t *value); /* value is stolen */
/* The body as the reply (also on failure, which gives RP_NO_MEMORY); st is empty after. */
int http_reply_stream(struct http_res *res, int status, struct http_stream *st);

/* A body of unknown length produced while it is sent, in chunks of up to 64 KB, so that a
 * million rows take the memory of one chunk. The reader runs on the connection's network
 * thread, once the handler has returned; free_fn(ctx) runs once when the reply is done (or
 * was never sent). */
int http_reply_reader(struct http_res *res, int status, const char *type, http_reader_fn fn,
                      void (*free_fn)(void *ctx), void *ctx);

/* A route's own, tighter limit per client address (cls: HTTP_LIMIT_*), per_minute with burst
 * tokens at once; 429 with Retry-After when spent. per_minute 0: unlimited. */
#define HTTP_LIMIT_LOOKUP 0
int http_limit_address(struct http_req *req, struct http_res *res, unsigned cls,
                       double per_minute, double burst);
/* Query string: the value of key, NULL when absent; an empty value counts as absent. */
const char *http_query(struct http_req *req, const char *key);
/* Every non-empty value of a repeated key (?group=a&group=b), in order, up to max into out;
 * returns how many there are (may exceed max). */
int http_query_all(struct http_req *req, const char *key, const char **out, int max);
const char *http_header(struct http_req *req, const char *name);
const char *http_param(struct http_req *req, const char *name);

/* The body as a JSON object: 415 unless Content-Type is application/json, 400 invalid_json
 * (with line and column) for bad JSON, a non-object, or duplicate keys. *out is owned by the
 * caller. */
int http_body_json(struct http_req *req, json_t **out, struct rp_err *err);

/* A string member of a JSON body: absent, null or "" -> *out NULL (RP_INVALID_ARGUMENT
 * "KEY is required" when required); not a string, over max bytes or with a NUL inside ->
 * RP_INVALID_ARGUMENT naming the key. *out points into o. */
int http_json_str(json_t *o, const char *key, size_t max, int required, const char **out,
                  struct rp_err *err);

/* http_json_str copied into out (n bytes, so at most n - 1 of text); out is left as it was
 * when the member is absent, null or "". */
int http_json_copy(json_t *o, const char *key, char *out, size_t n, int required,
                   struct rp_err *err);
/* The body as form fields (application/x-www-form-urlencoded or multipart/form-data), parsed
 * by libmicrohttpd's post processor: fn(ctx, name, filename (NULL for plain fields),
 * content_type, data, size, offset) per chunk of each field. RP_UNSUPPORTED_MEDIA_TYPE for any
 * other Content-Type. */
typedef int (*http_form_fn)(void *ctx, const char *name, const char *filename,
                            const char *content_type, const char *data, size_t size,
                            uint64_t offset);
int http_body_form(struct http_req *req, http_form_fn fn, void *ctx, struct rp_err *err);
/* 1 when the request's Content-Type starts with type (case-insensitive). */
int http_content_type_is(struct http_req *req, const char *type);

/* lat= and lon= from the query (lat first only in URLs): finite, in range, else
 * RP_INVALID_COORDINATES naming the problem. */
int http_query_lonlat(struct http_req *req, double *lon, double *lat, struct rp_err *err);
/* A finite number from the query within [min, max]; def when absent. */
int http_query_double(struct http_req *req, const char *key, double def, double min, double max,
                      double *out, struct rp_err *err);

#endif
