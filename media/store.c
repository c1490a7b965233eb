/*
 * media/store.c - content-addressed photo files (see store.h). A failed write leaves nothing of
 * itself behind: its temporary file goes, and so does a thumbnail it wrote for a display image
 * that did not fit. Errors of the disk rather than ours (ENOSPC, EDQUOT, EROFS) are
 * RP_INSUFFICIENT_STORAGE, said to the client; the path and errno go to the log only.
 */
#include "media/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

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

/* errno of a failed step on path: a full or read-only disk passes by itself (507, and the
 * client is told so); anything else is ours (RP_IO, the detail logged only). */
static int io_error(const char *what, const char *path, struct rp_err *err)
{
    int e = errno;

    if (e != ENOSPC && e != EDQUOT && e != EROFS)
        return rp_err_set(err, RP_IO, "%s %s: %s", what, path, strerror(e));
    if (err && err->code == RP_OK)
        rp_error("media: %s %s: %s", what, path, strerror(e));
    return rp_err_set(err, RP_INSUFFICIENT_STORAGE, "%s: nothing was saved; try again later",
                      e == EROFS ? "the photo store is read-only"
                                 : "the photo store's disk is full");
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

static atomic_ulong tmp_seq; /* see write_file */

/* *wrote: 1 when this call put the file there (0 when the same content already was). */
static int write_file(const char *dirpath, const char *name, const unsigned char *data,
                      size_t len, int *wrote, struct rp_err *err)
{
    char path[1024], tmp[1100];
    struct stat st;
    int fd, rc;
    size_t off = 0;

    *wrote = 0;
    snprintf(path, sizeof path, "%s/%s", dirpath, name);
    if (stat(path, &st) == 0 && (size_t)st.st_size == len)
        return RP_OK; /* the same content is already there */
    /* a name of its own per writer: two threads or two processes (a shared media directory)
     * writing the same photo at once each fill their own file, and the renames put the same
     * bytes in place one after the other */
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%ld-%lu", dirpath, name, (long)getpid(),
             (unsigned long)atomic_fetch_add(&tmp_seq, 1));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return io_error("photo", tmp, err);
    while (off < len) {
        ssize_t k = write(fd, data + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = ENOSPC; /* a write that takes nothing: the disk had no room */
            rc = io_error("photo", tmp, err);
            close(fd);
            unlink(tmp);
            return rc;
        }
        off += (size_t)k;
    }
    if (fsync(fd) != 0) {
        rc = io_error("photo", tmp, err);
        close(fd);
        unlink(tmp);
        return rc;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        rc = io_error("photo", path, err);
        unlink(tmp);
        return rc;
    }
    *wrote = 1;
    if (fsync_dir(dirpath) != 0)
        return io_error("photo directory", dirpath, err);
    return RP_OK;
}

int media_store_put(const char *dir, const struct media_photo *p, struct rp_err *err)
{
    char d1[1024], d2[1100], name[80];
    int rc, thumb = 0, display = 0;

    snprintf(d1, sizeof d1, "%s/%.2s", dir, p->sha256);
    snprintf(d2, sizeof d2, "%s/%.2s", d1, p->sha256 + 2);
    if (!mkdir_p(dir) || !mkdir_p(d1) || !mkdir_p(d2))
        return io_error("photo directory", d2, err);
    snprintf(name, sizeof name, "%s_t.jpg", p->sha256);
    rc = write_file(d2, name, p->thumb.data, p->thumb.len, &thumb, err);
    snprintf(name, sizeof name, "%s.jpg", p->sha256);
    if (rc == RP_OK)
        rc = write_file(d2, name, p->display.data, p->display.len, &display, err);
    if (rc == RP_OK && (fsync_dir(d1) != 0 || fsync_dir(dir) != 0))
        rc = io_error("photo directory", d1, err);
    if (rc != RP_OK && (display || thumb)) { /* what this call wrote goes; the rest stays */
        char path[1300];
        snprintf(path, sizeof path, "%s/%s.jpg", d2, p->sha256);
        if (display)
            (void)unlink(path); /* a failed unlink leaves a file the startup sweep removes */
        snprintf(path, sizeof path, "%s/%s_t.jpg", d2, p->sha256);
        if (thumb)
            (void)unlink(path);
    }
    return rc;
}

int media_store_has(const char *dir, const char *sha256)
{
    char path[1200];
    struct stat st;

    snprintf(path, sizeof path, "%s/%.2s/%.2s/%.64s_t.jpg", dir, sha256, sha256 + 2, sha256);
    if (stat(path, &st) != 0)
        return 0;
    snprintf(path, sizeof path, "%s/%.2s/%.2s/%.64s.jpg", dir, sha256, sha256 + 2, sha256);
    return stat(path, &st) == 0;
}

void media_store_remove(const char *dir, const char *sha256)
{
    char path[1200];

    /* the display image first: a thumbnail alone is never served as a photo of a case */
    snprintf(path, sizeof path, "%s/%.2s/%.2s/%.64s.jpg", dir, sha256, sha256 + 2, sha256);
    (void)unlink(path); /* gone already is as good; the startup sweep catches the rest */
    snprintf(path, sizeof path, "%s/%.2s/%.2s/%.64s_t.jpg", dir, sha256, sha256 + 2, sha256);
    (void)unlink(path);
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
