/*
 * tests/it_diskfull.c - issue #20, a full or read-only disk. The database and the photo
 * directory of a real server sit on a small tmpfs this test mounts (root only: 77, skipped,
 * otherwise, and on the PostgreSQL suite, whose database is not on it). Filled to its last page,
 * POST /api/v1/reports is 507 insufficient_storage, JSON or with a photo, whichever write meets
 * the full disk first (the photo files, or the commit after them), and leaves no case, history,
 * photo or event row and no file; reads still answer; the filler deleted, the next report is 201
 * from the same server. The photo directory remounted read-only is 507 too, until it is writable
 * again. A read-only database: what the kernel allows with the server running, then SQLite's
 * answer on a read-only mount through the store itself. The mounts are in this process's own
 * mount namespace (gone with it whatever happens) and unmounted on the way out as well.
 * usage: it_diskfull PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "data/store.h"
#include "images.h"
#include "it.h"
#include "media/photo.h"

#define FS_BYTES      (24L * 1024 * 1024) /* the fixture is ~13 MB: room for it, its WAL, photos */
#define FS_PAGE_BYTES 4096L               /* tmpfs hands out whole pages */

static struct it_server srv;
static char root[64], mnt[96], media[128], db[128], filler[128];
static int mounted, bound;

static void cleanup(void)
{
    char cmd[128];

    if (srv.pid > 0) { /* a failed CHECK never leaves it holding the mount */
        kill(srv.pid, SIGKILL);
        waitpid(srv.pid, NULL, 0);
        srv.pid = 0;
    }
    if (bound && umount2(media, MNT_DETACH) == 0)
        bound = 0;
    if (mounted && umount2(mnt, MNT_DETACH) == 0)
        mounted = 0;
    if (root[0] && !mounted) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", root);
        root[0] = '\0';
    }
}

static void on_signal(int sig)
{
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The tmpfs at mnt, with media/ on it bind-mounted onto itself so that it alone can turn
 * read-only. 0, or -1 with the reason said (then the test is skipped). */
static int mount_fs(void)
{
    char opts[64];

    /* a private namespace: nothing here is seen outside, and it all goes when we do */
    if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
        fprintf(stderr, "   mounts in a private mount namespace\n");
    else
        fprintf(stderr, "   no private mount namespace (%s): mounts in the current one\n",
                strerror(errno));
    strcpy(root, "/tmp/reporta-diskfull-XXXXXX");
    if (!mkdtemp(root))
        return -1;
    snprintf(mnt, sizeof mnt, "%s/fs", root);
    snprintf(media, sizeof media, "%s/media", mnt);
    snprintf(db, sizeof db, "%s/r.db", mnt);
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    snprintf(opts, sizeof opts, "size=%ld,mode=0755", FS_BYTES);
    if (mkdir(mnt, 0755) != 0 || mount("tmpfs", mnt, "tmpfs", 0, opts) != 0) {
        fprintf(stderr, "skipped: mount -t tmpfs -o %s %s: %s\n", opts, mnt, strerror(errno));
        return -1;
    }
    mounted = 1;
    if (mkdir(media, 0750) != 0 || mount(media, media, NULL, MS_BIND, NULL) != 0) {
        fprintf(stderr, "skipped: bind mount %s: %s\n", media, strerror(errno));
        return -1;
    }
    bound = 1;
    return 0;
}

static long long free_bytes(void)
{
    struct statvfs v;
    return statvfs(mnt, &v) == 0 ? (long long)v.f_bavail * (long long)v.f_frsize : -1;
}

/* Writes the filler until the disk says ENOSPC; its size (whole pages), or -1. */
static long long fill(void)
{
    static char block[1 << 16]; /* zeros take pages on tmpfs like anything else */
    long long n = 0;
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = 0;

    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t k = write(fd, block, sizeof block);
        if (k <= 0) {
            e = k < 0 ? errno : ENOSPC;
            break;
        }
        n += k;
    }
    close(fd);
    fprintf(stderr, "   filled: %lld MB of filler, %lld bytes free\n", n >> 20, free_bytes());
    return e == ENOSPC ? n : -1;
}

/* The filler shortened by pages pages: exactly that much room again. */
static void leave_room(long long filled, long pages)
{
    CHECK(truncate(filler, filled - pages * FS_PAGE_BYTES) == 0);
}

static void start(const char *panama_db)
{
    char dbflag[160], mediaflag[160], from[300], to[160];
    /* after it_start's own --db and --media, so these win */
    char *extra[] = {dbflag, mediaflag, NULL};

    snprintf(dbflag, sizeof dbflag, "--db=%s", db);
    snprintf(mediaflag, sizeof mediaflag, "--media=%s", media);
    CHECK(it_copy(panama_db, db) == 0);
    snprintf(from, sizeof from, "%s-wal", panama_db);
    snprintf(to, sizeof to, "%s-wal", db);
    if (access(from, F_OK) == 0)
        CHECK(it_copy(from, to) == 0);
    CHECK(it_start(&srv, NULL, extra) == 0);
    snprintf(srv.db, sizeof srv.db, "%s", db); /* it_sql_count reads the tmpfs copy */
}

/* Every row a report could leave, summed: reports, history, photos, events, idempotency keys */
static long rows(void)
{
    return it_sql_count(&srv, "SELECT (SELECT count(*) FROM reports)"
                              " + (SELECT count(*) FROM report_history)"
                              " + (SELECT count(*) FROM photos) + (SELECT count(*) FROM events)"
                              " + (SELECT count(*) FROM idempotency_keys)");
}

/* Files under the photo directory: which kind, by find's -name pattern. */
static int files(const char *pattern)
{
    char cmd[256];
    int n = -1;
    FILE *p;

    snprintf(cmd, sizeof cmd, "find '%s' -name '%s' | wc -l", media, pattern);
    p = popen(cmd, "r");
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

static const char *report_json = "{\"service_code\":\"basura\",\"lat\":8.98,\"lon\":-79.52,"
                                 "\"description\":\"disco lleno\"}";

/* POST /api/v1/reports, JSON (photo NULL) or multipart with one photo; the status, and the
 * error's message into msg (empty when none). */
static long post(const unsigned char *photo, size_t len, char *id, char *msg, size_t n)
{
    struct curl_slist *h = NULL;
    struct it_reply r;
    char *body;
    size_t blen;
    json_t *j;

    if (photo) {
        size_t cap = len + 1024;
        body = malloc(cap);
        blen = (size_t)snprintf(body, cap,
                                "--BOUNDARY\r\nContent-Disposition: form-data; name=\"report\"\r\n"
                                "Content-Type: application/json\r\n\r\n%s\r\n"
                                "--BOUNDARY\r\nContent-Disposition: form-data; name=\"photo\"; "
                                "filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
                                report_json);
        memcpy(body + blen, photo, len);
        blen += len;
        blen += (size_t)snprintf(body + blen, cap - blen, "\r\n--BOUNDARY--\r\n");
        h = curl_slist_append(h, "Content-Type: multipart/form-data; boundary=BOUNDARY");
    } else {
        body = strdup(report_json);
        blen = strlen(body);
        h = curl_slist_append(h, "Content-Type: application/json");
    }
    CHECK(it_request(&srv, "POST", "/api/v1/reports", body, blen, h, &r) == 0);
    j = it_json(&r);
    {
        const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        snprintf(msg, n, "%s", m ? m : "");
    }
    if (id) {
        const char *v = r.status == 201 ? json_string_value(json_object_get(j, "id")) : NULL;
        snprintf(id, 16, "%s", v ? v : "");
    }
    if (r.status == 507)
        CHECK_STR_EQ(it_error_code(j), "insufficient_storage");
    json_decref(j);
    curl_slist_free_all(h);
    free(r.body);
    free(body);
    return r.status;
}

static long get(const char *path)
{
    struct it_reply r;
    CHECK(it_get(&srv, path, &r) == 0);
    free(r.body);
    return r.status;
}

static void test_full_disk_refuses_a_report_then_resumes(void)
{
    char id[16], msg[300], path[64];
    long before = rows(), per_case, filled;

    CHECK_INT_EQ(post(NULL, 0, id, msg, sizeof msg), 201);
    snprintf(path, sizeof path, "/api/v1/reports/%s", id);
    per_case = rows() - before; /* the case, its first history row, its event */
    before += per_case;
    CHECK((filled = fill()) > 0);
    for (int i = 0; i < 3; i++) { /* again and again: the writer is not left broken */
        CHECK_INT_EQ(post(NULL, 0, NULL, msg, sizeof msg), 507);
        if (i == 0)
            fprintf(stderr, "   POST on a full disk, 3 times: \"%s\"\n", msg);
    }
    CHECK(strstr(msg, "database") && strstr(msg, "full") && strstr(msg, "nothing was saved"));
    CHECK_INT_EQ(rows(), before);
    CHECK_INT_EQ(get(path), 200); /* reads need no space */
    CHECK_INT_EQ(get("/healthz"), 200);
    CHECK(it_log_contains(&srv, "database or disk is full")); /* SQLite's words: the log's */
    CHECK(unlink(filler) == 0);
    CHECK_INT_EQ(post(NULL, 0, id, msg, sizeof msg), 201);
    fprintf(stderr, "   filler deleted: POST 201 (%s), same server\n", id);
    snprintf(path, sizeof path, "/api/v1/reports/%s", id);
    CHECK_INT_EQ(get(path), 200);
    CHECK_INT_EQ(rows(), before + per_case);
    CHECK_INT_EQ(files(".tmp-*"), 0);
}

static void test_full_disk_refuses_a_photo_and_keeps_no_file(void)
{
    unsigned char *px = halves(800, 600), *jpg;
    char id[16], msg[300];
    size_t len;
    long before, filled;
    int jpgs;

    jpg = jpeg_of(px, 800, 600, &len);
    before = rows();
    jpgs = files("*.jpg");
    CHECK((filled = fill()) > 0);
    CHECK_INT_EQ(post(jpg, len, NULL, msg, sizeof msg), 507);
    fprintf(stderr, "   POST with a photo on a full disk: \"%s\"\n", msg);
    CHECK(strstr(msg, "photo store") && strstr(msg, "full"));
    CHECK_INT_EQ(rows(), before);
    CHECK_INT_EQ(files("*.jpg"), jpgs);
    CHECK_INT_EQ(files(".tmp-*"), 0);
    CHECK(unlink(filler) == 0);
    CHECK_INT_EQ(post(jpg, len, id, msg, sizeof msg), 201);
    CHECK_INT_EQ(files("*.jpg"), jpgs + 2); /* the display image and its thumbnail */
    fprintf(stderr, "   filler deleted: POST with the photo 201 (%s)\n", id);
    free(jpg);
    free(px);
}

/* The photo fits, the commit after it does not: the files it wrote go too. Another case's
 * photo sent again (nothing to write) stays whatever the commit does. */
static void test_photo_files_go_when_the_commit_does_not_fit(void)
{
    unsigned char *px = halves(1000, 700), *jpg, *old_px = halves(800, 600), *old;
    struct media_photo p;
    struct rp_err err = {0};
    char msg[300], path[300];
    size_t len, old_len;
    long before, filled, pages;
    int jpgs, tries = 0;
    long st = -1;

    jpg = jpeg_of(px, 1000, 700, &len);
    CHECK_OK(media_photo_process(jpg, len, &p, &err), &err); /* what the server will store */
    pages = (long)((p.display.len + FS_PAGE_BYTES - 1) / FS_PAGE_BYTES +
                   (p.thumb.len + FS_PAGE_BYTES - 1) / FS_PAGE_BYTES);
    before = rows();
    jpgs = files("*.jpg");
    CHECK((filled = fill()) > 0);
    /* room for the two files and a page or two more, until the files fit and the database's
     * frames do not (the directories take no pages on tmpfs) */
    for (long extra = 0; extra < 4; extra++) {
        leave_room(filled, pages + extra);
        tries++;
        st = post(jpg, len, NULL, msg, sizeof msg);
        if (st != 507 || strstr(msg, "database"))
            break;
    }
    fprintf(stderr, "   room for %ld pages (the photo's %zu + %zu bytes), %d tries: %ld \"%s\"\n",
            pages, p.display.len, p.thumb.len, tries, st, msg);
    CHECK_INT_EQ(st, 507);
    CHECK(strstr(msg, "database") && strstr(msg, "full"));
    CHECK_INT_EQ(rows(), before);
    CHECK_INT_EQ(files("*.jpg"), jpgs);
    CHECK_INT_EQ(files(".tmp-*"), 0);
    snprintf(path, sizeof path, "%s/%.2s/%.2s/%s.jpg", media, p.sha256, p.sha256 + 2, p.sha256);
    CHECK(access(path, F_OK) != 0);

    /* the previous test's photo again: its files are there, only the commit needs room */
    old = jpeg_of(old_px, 800, 600, &old_len);
    CHECK(unlink(filler) == 0);
    CHECK(fill() > 0);
    CHECK_INT_EQ(post(old, old_len, NULL, msg, sizeof msg), 507);
    CHECK(strstr(msg, "database") != NULL);
    CHECK_INT_EQ(files("*.jpg"), jpgs); /* the other case's photo stays */
    CHECK(unlink(filler) == 0);
    CHECK_INT_EQ(post(jpg, len, NULL, msg, sizeof msg), 201);
    CHECK_INT_EQ(files("*.jpg"), jpgs + 2);
    media_photo_free(&p);
    free(old);
    free(old_px);
    free(jpg);
    free(px);
}

static void test_read_only_photo_directory_is_507_until_writable(void)
{
    unsigned char *px = halves(640, 400), *jpg;
    char id[16], msg[300];
    size_t len;
    long before;

    jpg = jpeg_of(px, 640, 400, &len);
    CHECK(mount(NULL, media, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0);
    before = rows();
    CHECK_INT_EQ(post(jpg, len, NULL, msg, sizeof msg), 507);
    fprintf(stderr, "   photo directory read-only: \"%s\"\n", msg);
    CHECK(strstr(msg, "photo store") && strstr(msg, "read-only"));
    CHECK_INT_EQ(rows(), before);
    CHECK_INT_EQ(post(NULL, 0, id, msg, sizeof msg), 201); /* a report without photos is fine */
    CHECK(mount(NULL, media, NULL, MS_REMOUNT | MS_BIND, NULL) == 0);
    CHECK_INT_EQ(post(jpg, len, id, msg, sizeof msg), 201);
    fprintf(stderr, "   writable again: POST with the photo 201 (%s)\n", id);
    CHECK_INT_EQ(files(".tmp-*"), 0);
    free(jpg);
    free(px);
}

/* With the server running the kernel will not remount the database's filesystem read-only
 * (EBUSY: the database, its WAL and -shm are open for writing), and chattr +i stops only new
 * opens: a running server meets a read-only database only as EROFS from a filesystem the
 * kernel forced read-only, which the store maps like SQLITE_READONLY. What that mapping gives
 * is checked on a read-only mount through the store itself, after the server is gone. */
static void test_read_only_database(void)
{
    struct store *s = NULL;
    struct rp_err err = {0};
    char msg[300], wal[160], shm[160], keep[2][160], out[1024];
    sqlite3 *h = NULL;
    int rc;

    rc = mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL);
    fprintf(stderr, "   remount,ro with the server running: %s\n",
            rc == 0 ? "done" : strerror(errno));
    if (rc == 0)
        CHECK(mount(NULL, mnt, NULL, MS_REMOUNT, NULL) == 0);
    CHECK_INT_EQ(post(NULL, 0, NULL, msg, sizeof msg), 201); /* either way: nothing broke */
    CHECK_INT_EQ(it_stop_keep(&srv, SIGTERM), 0); /* after every 507 above, a clean stop */

    /* SQLite reads a WAL database on a read-only filesystem only while its -wal and -shm are
     * there (after a clean close they are not, and even a read is SQLITE_CANTOPEN): keep
     * copies of a live pair and put them back */
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(shm, sizeof shm, "%s-shm", db);
    snprintf(keep[0], sizeof keep[0], "%s/keep-wal", mnt);
    snprintf(keep[1], sizeof keep[1], "%s/keep-shm", mnt);
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "SELECT count(*) FROM reports", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(it_copy(wal, keep[0]) == 0 && it_copy(shm, keep[1]) == 0);
    sqlite3_close(h);
    CHECK(rename(keep[0], wal) == 0 && rename(keep[1], shm) == 0);
    CHECK(mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0);

    {
        char cmd[512];
        FILE *p;
        snprintf(cmd, sizeof cmd, "timeout 30 '%s' serve --db '%s' --media '%s' --port 0 2>&1",
                 it_bin(), db, media);
        p = popen(cmd, "r");
        if (!p || !fgets(out, sizeof out, p))
            out[0] = '\0';
        rc = p ? pclose(p) : -1;
        out[strcspn(out, "\n")] = '\0';
        fprintf(stderr, "   serve on the read-only database: exit %d: %s\n",
                WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out);
        CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) != 0 && WEXITSTATUS(rc) != 124);
    }
    CHECK_OK(store_open(db, &s, &err), &err);
    if (s) {
        CHECK_OK(store_ping(s, &err), &err); /* reads still work */
        rc = store_begin(s, &err);
        if (rc == RP_OK) /* a write that changes nothing even where it may write */
            rc = store_score_log_prune(s, 0, &err);
        rc = store_end(s, rc, &err);
        fprintf(stderr, "   a write on it: %s: \"%s\"\n", rp_err_slug(err.code), err.msg);
        CHECK_INT_EQ(rc, RP_INSUFFICIENT_STORAGE);
        CHECK_INT_EQ(rp_err_status(err.code), 507);
        CHECK(strstr(err.msg, "read-only") != NULL);
        store_close(s);
    }
    CHECK(mount(NULL, mnt, NULL, MS_REMOUNT, NULL) == 0);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (it_pg_base()) {
        fprintf(stderr, "skipped: on the PostgreSQL suite the database is not on a disk this "
                        "test fills\n");
        return 77;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "skipped: mounting a small tmpfs needs root\n");
        return 77;
    }
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (mount_fs() != 0) {
        cleanup();
        return 77;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    store_global_init();
    start(argv[1]);
    fprintf(stderr, "   %s: %ld MB tmpfs, %lld bytes free with the database\n", mnt, FS_BYTES >> 20,
            free_bytes());
    RUN(test_full_disk_refuses_a_report_then_resumes);
    RUN(test_full_disk_refuses_a_photo_and_keeps_no_file);
    RUN(test_photo_files_go_when_the_commit_does_not_fit);
    RUN(test_read_only_photo_directory_is_507_until_writable);
    RUN(test_read_only_database);
    it_stop(&srv, SIGKILL); /* already stopped: removes it_start's directory (the log) */
    cleanup();
    curl_global_cleanup();
    return check_exit();
}
