/*
 * server/h_web.c - the browser app's routes: the pages (/, /caso/{id}, /cuadrilla, /grua,
 * /estadisticas), its assets under /static/<build>/..., and the files a browser asks for at the
 * root (the service worker, which must sit there to control every page, the manifest, the
 * icon). Everything comes from server/web's table in memory, gzip when the client takes it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/routes.h"
#include "server/web.h"

/* 1 when Accept-Encoding takes gzip: the token, not refused by its own ";q=0". */
static int takes_gzip(const char *ae)
{
    for (const char *p = ae; p && (p = strcasestr(p, "gzip")) != NULL; p += 4) {
        const char *q = p + 4, *end;
        if ((p != ae && p[-1] != ' ' && p[-1] != ',') || (*q && *q != ',' && *q != ';' && *q != ' '))
            continue;
        end = strchr(q, ',');
        while (*q == ' ')
            q++;
        if (*q == ';') {
            const char *v = strstr(q, "q=");
            if (v && (!end || v < end) && strtod(v + 2, NULL) <= 0.0)
                return 0;
        }
        return 1;
    }
    return 0;
}

static int serve(struct http_req *req, struct http_res *res, const struct web_file *f,
                 const char *cache)
{
    const char *inm = http_header(req, "If-None-Match");
    int gz = f->gz && takes_gzip(http_header(req, "Accept-Encoding"));

    /* each body its own strong ETag: a cache must not serve one for the other */
    http_header_add(res, "ETag", gz ? f->etag_gz : f->etag);
    http_header_add(res, "Cache-Control", cache);
    http_header_add(res, "X-Content-Type-Options", "nosniff");
    if (f->gz)
        http_header_add(res, "Vary", "Accept-Encoding");
    if (f->csp) {
        http_header_add(res, "Content-Security-Policy", f->csp);
        http_header_add(res, "Referrer-Policy", "same-origin");
    }
    res->content_type = f->type;
    if (inm && (strstr(inm, gz ? f->etag_gz : f->etag) || strcmp(inm, "*") == 0)) {
        res->status = 304;
        return RP_OK;
    }
    if (gz)
        http_header_add(res, "Content-Encoding", "gzip");
    return http_reply_fixed(res, 200, gz ? f->gz : f->body, gz ? f->gz_len : f->len);
}

static int missing(struct http_res *res)
{
    return rp_err_set(&res->err, RP_NOT_FOUND,
                      "the web app is not installed on this server (see scripts/setup)");
}

int h_web_page(struct http_req *req, struct http_res *res)
{
    static const struct {
        const char *pattern, *file;
    } pages[] = {
        {"/", "report.html"},           {"/caso", "case.html"}, {"/caso/{id}", "case.html"},
        {"/cuadrilla", "crew.html"},    {"/grua", "tow.html"},
        {"/estadisticas", "stats.html"},
    };
    const struct web_file *f = NULL;

    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        if (strcmp(req->route->pattern, pages[i].pattern) == 0)
            f = web_find(req->app->web, pages[i].file);
    if (!f)
        return missing(res);
    return serve(req, res, f, "no-cache");
}

int h_web_static(struct http_req *req, struct http_res *res)
{
    const char *build = http_param(req, "build");
    const struct web_file *f = web_find(req->app->web, http_param(req, "path"));

    if (!req->app->web)
        return missing(res);
    if (!f || f->csp) /* pages have their own URLs */
        return rp_err_set(&res->err, RP_NOT_FOUND, "no such file: %s", req->path);
    /* An old page asking for an old build gets today's file, not cached for a year under the
     * old name. */
    if (!build || strcmp(build, web_build(req->app->web)) != 0)
        return serve(req, res, f, "no-cache");
    return serve(req, res, f, "public, max-age=31536000, immutable");
}

int h_web_root(struct http_req *req, struct http_res *res)
{
    const struct web_file *f = web_find(req->app->web, req->path + 1);

    if (!req->app->web)
        return missing(res);
    if (!f)
        return rp_err_set(&res->err, RP_NOT_FOUND, "no such file: %s", req->path);
    return serve(req, res, f, strcmp(req->path, "/favicon.svg") == 0 ? "public, max-age=86400"
                                                                      : "no-cache");
}
