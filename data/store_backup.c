/*
 * data/store_backup.c - an online copy of the SpatiaLite file (reporta backup), and the checks
 * a copy must pass before anyone relies on it. With data/store.c and the shapefile reader, the
 * only code that speaks SQLite: the backup API copies pages, not SQL.
 *
 * The copy is one snapshot: the source connection holds a read transaction from the first
 * page to the last, so the server's commits meanwhile (WAL: a reader never blocks the writer)
 * are simply not in it, and the backup never restarts however busy the server is. Pages go
 * into FILE.partial-PID, which is switched to a single-file journal, fsynced and renamed over
 * FILE (then the directory fsynced): a crash mid-backup leaves the previous backup whole.
 */
#include "data/store.h"
#include "base/progress.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKUP_STEP_PAGES 4096 /* 16 MB of 4 KB pages per step: the progress line moves */

static int fsync_path(const char *path, int dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int store_backup(const char *db, const char *to, struct progress *p, struct store_backup_info *info,
                 struct rp_err *err)
{
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *b = NULL;
    char tmp[4096], dirbuf[4096];
    int rc = RP_OK, step = SQLITE_OK;

    memset(info, 0, sizeof *info);
    if (store_is_uri(db))
        return rp_err_set(err, RP_INVALID_ARGUMENT,
                          "%s is PostgreSQL: back it up with pg_dump or pg_basebackup "
                          "(docs/operations.md)", "--db");
    if (access(db, R_OK) != 0)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s: %s", db, strerror(errno));
    if (same_file(db, to))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "--to names the database itself");
    if (snprintf(tmp, sizeof tmp, "%s.partial-%d", to, (int)getpid()) >= (int)sizeof tmp)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "--to: path too long");
    if (sqlite3_open_v2(db, &src, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = rp_err_set(err, RP_STORAGE, "open %s: %s", db, src ? sqlite3_errmsg(src) : "failed");
        goto out;
    }
    sqlite3_busy_timeout(src, 10000);
    /* the snapshot: held until the last page is copied */
    if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema;", NULL, NULL, NULL) !=
        SQLITE_OK) {
        rc = rp_err_set(err, RP_STORAGE, "%s: %s", db, sqlite3_errmsg(src));
        goto out;
    }
    unlink(tmp);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = rp_err_set(err, RP_IO, "create %s: %s", tmp, dst ? sqlite3_errmsg(dst) : "failed");
        goto out;
    }
    if (!(b = sqlite3_backup_init(dst, "main", src, "main"))) {
        rc = rp_err_set(err, RP_STORAGE, "backup: %s", sqlite3_errmsg(dst));
        goto out;
    }
    while ((step = sqlite3_backup_step(b, BACKUP_STEP_PAGES)) == SQLITE_OK ||
           step == SQLITE_BUSY || step == SQLITE_LOCKED) {
        int total = sqlite3_backup_pagecount(b);
        if (p) {
            p->total = (uint64_t)total;
            progress_set(p, (uint64_t)(total - sqlite3_backup_remaining(b)));
        }
        if (step != SQLITE_OK)
            usleep(10 * 1000);
    }
    info->pages = sqlite3_backup_pagecount(b);
    if (p)
        progress_set(p, (uint64_t)info->pages);
    sqlite3_backup_finish(b);
    b = NULL;
    if (step != SQLITE_DONE) {
        rc = rp_err_set(err, RP_IO, "backup to %s: %s", tmp, sqlite3_errstr(step));
        goto out;
    }
    info->bytes = (int64_t)info->pages * 4096;
    {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(dst, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                info->bytes = (int64_t)info->pages * sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    /* one self-contained file: no -wal beside it */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = rp_err_set(err, RP_IO, "%s: %s", tmp, sqlite3_errmsg(dst));
        goto out;
    }
out:
    if (b)
        sqlite3_backup_finish(b);
    if (dst && sqlite3_close(dst) != SQLITE_OK && rc == RP_OK)
        rc = rp_err_set(err, RP_IO, "close %s", tmp);
    if (src) {
        sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(src);
    }
    if (rc == RP_OK && fsync_path(tmp, 0) != 0)
        rc = rp_err_set(err, RP_IO, "fsync %s: %s", tmp, strerror(errno));
    if (rc == RP_OK && rename(tmp, to) != 0)
        rc = rp_err_set(err, RP_IO, "rename to %s: %s", to, strerror(errno));
    if (rc == RP_OK) {
        snprintf(dirbuf, sizeof dirbuf, "%s", to);
        (void)fsync_path(dirname(dirbuf), 1);
    } else {
        unlink(tmp);
    }
    return rc;
}

/* The first column of sql's single row, as text, into out. */
static int one_text(sqlite3 *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    out[0] = '\0';
    if (rc != SQLITE_OK)
        return rc;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(out, n, "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_verify(const char *path, struct store_verify_info *v, struct rp_err *err)
{
    static const char *const rtrees[] = {"idx_reports_geom", "idx_areas_geom"};
    sqlite3 *db = NULL;
    char text[256], sql[128];
    int rc = RP_OK;

    memset(v, 0, sizeof *v);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = rp_err_set(err, RP_STORAGE, "open %s: %s", path, db ? sqlite3_errmsg(db) : "failed");
        goto out;
    }
    if (one_text(db, "PRAGMA integrity_check", text, sizeof text) != SQLITE_OK ||
        strcmp(text, "ok") != 0) {
        rc = rp_err_set(err, RP_STORAGE, "%s: integrity_check: %s", path,
                        text[0] ? text : sqlite3_errmsg(db));
        goto out;
    }
    v->integrity_ok = 1;
    for (size_t i = 0; i < sizeof rtrees / sizeof rtrees[0]; i++) {
        snprintf(sql, sizeof sql, "SELECT rtreecheck('%s')", rtrees[i]);
        if (one_text(db, sql, text, sizeof text) != SQLITE_OK || strcmp(text, "ok") != 0) {
            rc = rp_err_set(err, RP_STORAGE, "%s: rtreecheck(%s): %s", path, rtrees[i],
                            text[0] ? text : sqlite3_errmsg(db));
            goto out;
        }
        v->rtrees_ok++;
    }
    {
        sqlite3_stmt *st;
        int bad = 0;
        if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK) {
            rc = rp_err_set(err, RP_STORAGE, "%s: foreign_key_check: %s", path, sqlite3_errmsg(db));
            goto out;
        }
        while (sqlite3_step(st) == SQLITE_ROW)
            bad++;
        sqlite3_finalize(st);
        if (bad) {
            rc = rp_err_set(err, RP_STORAGE, "%s: %d rows point at rows that are not there", path,
                            bad);
            goto out;
        }
        v->foreign_keys_ok = 1;
    }
    if (one_text(db, "SELECT count(*) FROM reports", text, sizeof text) == SQLITE_OK)
        v->reports = atoll(text);
    if (one_text(db, "SELECT count(*) FROM photos", text, sizeof text) == SQLITE_OK)
        v->photos = atoll(text);
    if (one_text(db, "SELECT max(version) FROM schema_migrations", text, sizeof text) == SQLITE_OK)
        v->schema = atoi(text);
out:
    sqlite3_close(db);
    return rc;
}
