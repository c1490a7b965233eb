/*
 * server/web.h - the browser app, held in memory: every file under web/app and the libraries
 * web/vendor.map names (from web/node_modules, installed by scripts/setup from the lockfile).
 * Read once at startup, each with a gzip copy (text types) and a strong ETag. Assets are served
 * under /static/<build>/..., where <build> is a hash over every file: a new release changes
 * every asset URL, so they can be cached for a year. Pages (*.html at the top of web/app) and
 * the service worker get the build and the configuration filled in where they say
 * {{static}}, {{build}} and {{config}}, and are revalidated on every load.
 */
#ifndef WEB_H
#define WEB_H

#include <stddef.h>

#include "base/err.h"

struct web_file {
    char *name;          /* "js/report.js", "vendor/leaflet.js", "report.html" */
    const char *type;    /* Content-Type */
    char *body;
    size_t len;
    char *gz;            /* gzip of body, NULL when it is not worth it (images) */
    size_t gz_len;
    char etag[24];       /* "\"" + 16 hex of SHA-256 + "\"" */
    char etag_gz[28];    /* the gzip body's: the same with "-gz" */
    char *csp;           /* pages only: their Content-Security-Policy */
};

struct web;

struct web_options {
    const char *basemap_url;         /* XYZ template; NULL: /tiles/areas PNG */
    const char *basemap_attribution; /* shown under the map */
};

/* Loads dir/app/ and dir/vendor.map. A missing dir is RP_NOT_FOUND (the caller serves the
 * API without the app); a vendor file that is missing is an error naming it and the fix. */
int web_load(const char *dir, const struct web_options *opt, struct web **out,
             struct rp_err *err);
void web_destroy(struct web *w);

/* The file of that name, NULL when there is none. */
const struct web_file *web_find(const struct web *w, const char *name);
/* The build hash (16 hex digits). */
const char *web_build(const struct web *w);
size_t web_count(const struct web *w);
size_t web_bytes(const struct web *w); /* uncompressed, for the startup log */

#endif
