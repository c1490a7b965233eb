/*
 * media/store.c - content-addressed photo files (see store.h).
 */
#include "media/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int hex64(const char *s)
{
    return strspn(s, "0123456789abcdef") >= 64;
}

int media_store_path(const char *dir, const char *name, char *out, size_t n)
{
    size_t len = strlen(name);

    if (!hex64(name) ||
        !(strcmp(name + 64, ".jpg") == 0 || strcmp(name + 64, "_t.jpg") == 0) || len > 70)
        return 0;
    return snprintf(out, n, "%s/%.2s/%.2s/%s", dir, name, name + 2, name) < (int)n;
}

static int mkdir_p(const char *path)
{
    return mkdir(path, 0750) == 0 || errno == EEXIST;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_file(const char *dirpath, const char *name, const unsigned char *data,
                      size_t len, struct rp_err *err)
{
    char path[1024], tmp[1100];
    struct stat st;
    int fd;
    size_t off = 0;

    snprintf(path, sizeof path, "%s/%s", dirpath, name);
    if (stat(path, &st) == 0 && (size_t)st.st_size == len)
        return RP_OK; /* the same content is already there */
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%ld", dirpath, name, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return rp_err_set(err, RP_IO, "photo %s: %s", tmp, strerror(errno));
    while (off < len) {
        ssize_t k = write(fd, data + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            close(fd);
            unlink(tmp);
            return rp_err_set(err, RP_IO, "photo %s: %s", tmp, strerror(errno));
        }
        off += (size_t)k;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return rp_err_set(err, RP_IO, "photo %s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return rp_err_set(err, RP_IO, "photo %s: %s", path, strerror(errno));
    }
    if (fsync_dir(dirpath) != 0)
        return rp_err_set(err, RP_IO, "photo directory %s: %s", dirpath, strerror(errno));
    return RP_OK;
}

int media_store_put(const char *dir, const struct media_photo *p, struct rp_err *err)
{
    char d1[1024], d2[1100], name[80];
    int rc;

    snprintf(d1, sizeof d1, "%s/%.2s", dir, p->sha256);
    snprintf(d2, sizeof d2, "%s/%.2s", d1, p->sha256 + 2);
    if (!mkdir_p(dir) || !mkdir_p(d1) || !mkdir_p(d2))
        return rp_err_set(err, RP_IO, "photo directory %s: %s", d2, strerror(errno));
    snprintf(name, sizeof name, "%s_t.jpg", p->sha256);
    rc = write_file(d2, name, p->thumb.data, p->thumb.len, err);
    snprintf(name, sizeof name, "%s.jpg", p->sha256);
    if (rc == RP_OK)
        rc = write_file(d2, name, p->display.data, p->display.len, err);
    if (rc == RP_OK && (fsync_dir(d1) != 0 || fsync_dir(dir) != 0))
        rc = rp_err_set(err, RP_IO, "photo directory %s: %s", d1, strerror(errno));
    return rc;
}

static long sweep_leaf(const char *path, media_referenced_fn referenced, void *ctx)
{
    DIR *d = opendir(path);
    struct dirent *e;
    long removed = 0;
    char file[1700], sha[65];

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && strncmp(e->d_name, ".tmp-", 5) != 0)
            continue;
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        if (strncmp(e->d_name, ".tmp-", 5) == 0) { /* a write that never finished */
            removed += unlink(file) == 0;
            continue;
        }
        if (!hex64(e->d_name))
            continue;
        memcpy(sha, e->d_name, 64);
        sha[64] = '\0';
        if (!referenced(ctx, sha))
            removed += unlink(file) == 0;
    }
    closedir(d);
    return removed;
}

long media_store_sweep(const char *dir, media_referenced_fn referenced, void *ctx)
{
    DIR *top = opendir(dir);
    struct dirent *a;
    long removed = 0;

    if (!top)
        return 0;
    while ((a = readdir(top)) != NULL) {
        char p1[1100];
        DIR *mid;
        struct dirent *b;
        if (strlen(a->d_name) != 2 || a->d_name[0] == '.')
            continue;
        snprintf(p1, sizeof p1, "%s/%s", dir, a->d_name);
        if (!(mid = opendir(p1)))
            continue;
        while ((b = readdir(mid)) != NULL) {
            char p2[1400];
            if (strlen(b->d_name) != 2 || b->d_name[0] == '.')
                continue;
            snprintf(p2, sizeof p2, "%s/%s", p1, b->d_name);
            removed += sweep_leaf(p2, referenced, ctx);
        }
        closedir(mid);
    }
    closedir(top);
    return removed;
}
