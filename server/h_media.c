/*
 * server/h_media.c - GET/HEAD /media/{file}: a stored photo or thumbnail. Names are checked
 * against the only shape the store writes (64 hex digits, ".jpg" or "_t.jpg"), so no path
 * reaches the disk unchecked. The content never changes under a name: strong ETag, cached for
 * a year, 304 for If-None-Match.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/store.h"
#include "server/routes.h"

int h_media_get(struct http_req *req, struct http_res *res)
{
    const char *name = http_param(req, "file"), *inm = http_header(req, "If-None-Match");
    char path[1400], etag[80];
    struct stat st;
    int fd;

    if (!name || !media_store_path(req->app->cfg.media, name, path, sizeof path))
        return rp_err_set(&res->err, RP_NOT_FOUND, "no such photo");
    snprintf(etag, sizeof etag, "\"%.*s\"", (int)(strlen(name) - 4), name);
    if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
        http_header_add(res, "ETag", etag);
        http_header_add(res, "Cache-Control", "public, max-age=31536000, immutable");
        res->status = 304;
        return RP_OK;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rp_err_set(&res->err, errno == ENOENT ? RP_NOT_FOUND : RP_IO, "no such photo");
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rp_err_set(&res->err, RP_NOT_FOUND, "no such photo");
    }
    http_header_add(res, "ETag", etag);
    http_header_add(res, "Cache-Control", "public, max-age=31536000, immutable");
    return http_reply_file(res, 200, fd, (size_t)st.st_size, "image/jpeg");
}
