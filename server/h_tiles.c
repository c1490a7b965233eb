/*
 * server/h_tiles.c - GET /tiles/{layer}/{z}/{x}/{y}.{png,mvt} and GET /tiles/{layer}.json
 * (TileJSON 3.0). Parse, ask server/tiles.c, reply: a cached body is served as it is (its
 * reference released when the reply is done), with a strong ETag and 304 for a matching
 * If-None-Match.
 */
#include <string.h>

#include "server/routes.h"
#include "server/tiles.h"

static void release_tile(void *ctx) { tile_body_release(ctx); }

void h_tiles_params(struct http_req *req, struct tiles_params *p)
{
    p->service = http_query(req, "service");
    p->entity = http_query(req, "entity");
    p->status = http_query(req, "status");
    p->area = http_query(req, "area");
    p->since = http_query(req, "since");
    p->overdue = http_query(req, "overdue");
}

static int etag_matches(const char *inm, const char *etag)
{
    return inm && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
}

int h_tile_get(struct http_req *req, struct http_res *res)
{
    int layer = tiles_layer_find(http_param(req, "layer"));
    struct tiles_params p;
    struct tiles_request r;
    struct tile_body *b = NULL;
    char cache[48];
    int rc, hit = 0;

    if (layer < 0)
        return rp_err_set(&res->err, RP_NOT_FOUND, "no tile layer '%.40s' (heat, cases, areas)",
                          http_param(req, "layer"));
    h_tiles_params(req, &p);
    rc = tiles_parse((enum tiles_layer)layer, http_param(req, "z"), http_param(req, "x"),
                     http_param(req, "file"), &p, &r, &res->err);
    if (rc == RP_OK)
        rc = tiles_get(req->app->tiles, req->w, &r, &b, &hit, &res->err);
    if (rc != RP_OK)
        return rc;
    snprintf(cache, sizeof cache, "public, max-age=%d", tiles_max_age((enum tiles_layer)layer));
    http_header_add(res, "ETag", b->etag);
    http_header_add(res, "Cache-Control", cache);
    http_header_add(res, "X-Cache", hit ? "HIT" : "MISS"); /* this server's tile cache */
    res->content_type = b->type;
    if (etag_matches(http_header(req, "If-None-Match"), b->etag)) {
        tile_body_release(b);
        res->status = 304;
        return RP_OK;
    }
    return http_reply_shared(res, 200, b->data, b->len, release_tile, b);
}

/* "http://Host" of this request (X-Forwarded-Proto https behind a TLS proxy), for URLs. */
static void base_url(struct http_req *req, char *out, size_t len)
{
    const char *host = http_header(req, "Host"), *proto = http_header(req, "X-Forwarded-Proto");
    int ok = host && *host && strlen(host) < 256;

    for (const char *c = host; ok && *c; c++) /* a host name, an address, [v6]:port */
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             strchr(".-:[]", *c);
    snprintf(out, len, "%s://%s", proto && strcmp(proto, "https") == 0 ? "https" : "http",
             ok ? host : "127.0.0.1");
}

int h_tilejson_get(struct http_req *req, struct http_res *res)
{
    const char *file = http_param(req, "file"), *format = http_query(req, "format");
    char name[16], base[320];
    struct tiles_params p;
    struct tiles_request r;
    size_t n = file ? strlen(file) : 0;
    int layer, rc;

    if (n < 6 || n - 5 >= sizeof name || strcmp(file + n - 5, ".json") != 0)
        return rp_err_set(&res->err, RP_NOT_FOUND, "no such file under /tiles");
    memcpy(name, file, n - 5);
    name[n - 5] = '\0';
    layer = tiles_layer_find(name);
    if (layer < 0)
        return rp_err_set(&res->err, RP_NOT_FOUND, "no tile layer '%s' (heat, cases, areas)", name);
    h_tiles_params(req, &p);
    memset(&r, 0, sizeof r);
    rc = layer == TILES_AREAS ? RP_OK : tiles_filter_parse(&p, &r, &res->err);
    if (rc != RP_OK)
        return rc;
    r.format = layer == TILES_HEAT ? TILES_PNG : TILES_MVT;
    if (layer == TILES_AREAS && format && strcmp(format, "png") == 0)
        r.format = TILES_PNG;
    else if (format && strcmp(format, layer == TILES_HEAT ? "png" : "mvt") != 0)
        return rp_err_set(&res->err, RP_INVALID_ARGUMENT, "format: the %s layer has %s", name,
                          layer == TILES_AREAS  ? "mvt and png"
                          : layer == TILES_HEAT ? "png"
                                                : "mvt");
    base_url(req, base, sizeof base);
    http_header_add(res, "Cache-Control", "public, max-age=300");
    return http_reply_json_new(res, 200,
                               tiles_tilejson(req->app->tiles, (enum tiles_layer)layer, base, &r));
}
