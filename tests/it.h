/*
 * tests/it.h - helpers for integration tests: run the real `reporta` binary (path in
 * $REPORTA_BIN) on a copy of a database in a temporary directory, read the bound port from its
 * first stdout line, send requests with libcurl, stop it with a signal and read its exit code.
 * Static functions: each it_*.c includes this once.
 */
#ifndef IT_H
#define IT_H

#include <curl/curl.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Each it_*.c uses a different subset of these helpers. */
#define IT_FN static __attribute__((unused))

struct it_server {
    pid_t pid;
    unsigned port;
    char dir[64], db[128], log[128];
    char pgname[48]; /* the suite on PostgreSQL: this server's own database */
};

/* Requests leave from this loopback address when set (the whole of 127/8 is local on Linux):
 * how tests play two different clients. */
static const char *it_from;

struct it_reply {
    long status;
    char *body;
    size_t len;
    char headers[4096];
};

static const char *it_bin(void)
{
    const char *b = getenv("REPORTA_BIN");
    return b ? b : "reporta";
}

IT_FN int it_copy(const char *from, const char *to)
{
    char buf[65536];
    size_t n;
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int ok = in && out;

    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* Runs `reporta ARGS...` to completion; returns its exit code, stderr into err_out. */
IT_FN int it_run(char *const argv[], char *err_out, size_t err_len)
{
    char path[] = "/tmp/reporta-it-run-XXXXXX";
    int fd = mkstemp(path), status = -1;
    pid_t pid;

    if (fd < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(fd, 2);
        dup2(open("/dev/null", O_WRONLY), 1);
        execv(it_bin(), argv);
        _exit(127);
    }
    waitpid(pid, &status, 0);
    if (err_out) {
        ssize_t n = pread(fd, err_out, err_len - 1, 0);
        err_out[n > 0 ? n : 0] = '\0';
    }
    close(fd);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs `reporta ARGS...`; its stdout into out. Returns the exit code. */
IT_FN int it_run_out(char *const argv[], char *out, size_t out_len)
{
    char path[] = "/tmp/reporta-it-out-XXXXXX";
    int fd = mkstemp(path), status = -1;
    pid_t pid;
    ssize_t n;

    if (fd < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(fd, 1);
        execv(it_bin(), argv);
        _exit(127);
    }
    waitpid(pid, &status, 0);
    n = pread(fd, out, out_len - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `reporta keys create` on s's database; the key (the last word of the last line) into key.
 * entity may be NULL. Returns 0 on success. */
IT_FN int it_key_create(const struct it_server *s, const char *role, const char *entity,
                        const char *name, char *key, size_t key_len)
{
    char out[4096], *last;
    char *argv[] = {(char *)it_bin(), "keys", "create", "--db", (char *)s->db, "--role",
                    (char *)role, "--name", (char *)name, entity ? "--entity" : NULL,
                    (char *)entity, NULL};
    size_t n;

    if (it_run_out(argv, out, sizeof out) != 0)
        return -1;
    n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    last = strrchr(out, ' ');
    if (!last || strlen(last + 1) >= key_len)
        return -1;
    strcpy(key, last + 1);
    return 0;
}

/* ---- the suite on PostgreSQL ----
 * With REPORTA_PG (a URI of the cluster, e.g. from scripts/pg) and REPORTA_PG_SUITE=1, every
 * server a test starts on the Panama fixture gets its own database instead of a copy of the
 * file: CREATE DATABASE ... TEMPLATE reporta_fixture, which tests/pg_fixture.sh made with
 * `reporta init`. it_sql and it_sql_count then run on it through libpq. */
IT_FN const char *it_pg_base(void)
{
    const char *u = getenv("REPORTA_PG"), *on = getenv("REPORTA_PG_SUITE");
    return u && *u && on && strcmp(on, "1") == 0 ? u : NULL;
}

/* uri of database name on the cluster of base (postgresql:///NAME?host=...). */
IT_FN void it_pg_uri(const char *base, const char *name, char *out, size_t n)
{
    const char *q = strchr(base + strlen("postgresql://"), '?');
    snprintf(out, n, "postgresql:///%s%s", name, q ? q : "");
}

IT_FN int it_pg_exec(const char *uri, const char *sql, long *first)
{
    PGconn *c = PQconnectdb(uri);
    PGresult *r;
    int ok;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s: %s", uri, PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PQclear(PQexec(c, "SET TIME ZONE 'UTC'"));
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
    if (ok && first)
        *first = PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0)
                     ? strtol(PQgetvalue(r, 0, 0), NULL, 10)
                     : -1;
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

/* Starts `reporta serve` on a copy of src_db (NULL: an empty, never-initialised path). */
IT_FN int it_start(struct it_server *s, const char *src_db, char *const extra[])
{
    char *argv[32], portline[256];
    int out[2], logfd, n = 0;
    FILE *fp;

    memset(s, 0, sizeof *s);
    strcpy(s->dir, "/tmp/reporta-it-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->db, sizeof s->db, "%s/r.db", s->dir);
    snprintf(s->log, sizeof s->log, "%s/serve.log", s->dir);
    if (src_db && strncmp(src_db, "postgresql://", 13) == 0) { /* a database the test made */
        /* shared, not copied as a file is (a copy needs the database idle); the server that
         * made it drops it, and the cluster goes at the end of the run */
        if (strlen(src_db) >= sizeof s->db)
            return -1;
        snprintf(s->db, sizeof s->db, "%s", src_db);
    } else if (src_db && it_pg_base() && strstr(src_db, "panama.db")) {
        static int nth;
        char sql[160];
        snprintf(s->pgname, sizeof s->pgname, "it_%d_%d", (int)getpid(), ++nth);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE reporta_fixture", s->pgname);
        if (it_pg_exec(it_pg_base(), sql, NULL) != 0)
            return -1;
        it_pg_uri(it_pg_base(), s->pgname, s->db, sizeof s->db);
    }
    else if (src_db && it_copy(src_db, s->db) != 0)
        return -1;
    if (src_db && !s->pgname[0] && strncmp(src_db, "postgresql://", 13) != 0) {
        /* committed pages may still be in the write-ahead log */
        char wal_from[300], wal_to[160];
        snprintf(wal_from, sizeof wal_from, "%s-wal", src_db);
        snprintf(wal_to, sizeof wal_to, "%s-wal", s->db);
        if (access(wal_from, F_OK) == 0 && it_copy(wal_from, wal_to) != 0)
            return -1;
    }
    if (pipe(out) != 0)
        return -1;
    argv[n++] = (char *)it_bin();
    argv[n++] = "serve";
    argv[n++] = "--db";
    argv[n++] = s->db;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--media";
    argv[n++] = s->dir;
    /* Tests send bursts from one address: no rate limits unless a test sets them (a later
     * flag wins). */
    argv[n++] = "--ip-read-rate=0";
    argv[n++] = "--ip-write-rate=0";
    argv[n++] = "--lookup-rate=0";
    for (int i = 0; extra && extra[i] && n < 30; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    logfd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    s->pid = fork();
    if (s->pid == 0) {
        dup2(out[1], 1);
        dup2(logfd, 2);
        close(out[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    close(logfd);
    fp = fdopen(out[0], "r");
    if (!fp || !fgets(portline, sizeof portline, fp)) {
        if (fp)
            fclose(fp);
        return -1;
    }
    fclose(fp);
    s->port = (unsigned)atoi(strrchr(portline, ':') ? strrchr(portline, ':') + 1 : "0");
    return s->port ? 0 : -1;
}

IT_FN int it_log_contains(const struct it_server *s, const char *needle)
{
    char buf[1 << 16];
    FILE *fp = fopen(s->log, "r");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;

    if (fp)
        fclose(fp);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* Sends sig and returns the exit code (or -1 when it died of a signal); the server's
 * directory (database, log) stays for the caller. */
IT_FN int it_stop_keep(struct it_server *s, int sig)
{
    int status = 0;
    char cmd[512];

    if (s->pid <= 0)
        return -1;
    kill(s->pid, sig);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    /* a sanitizer build of the server reports into its log: that is a failure too */
    snprintf(cmd, sizeof cmd,
             "grep -q -E 'WARNING: ThreadSanitizer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' '%s'",
             s->log);
    if (system(cmd) == 0) {
        snprintf(cmd, sizeof cmd,
                 "grep -A20 -m3 -E 'ThreadSanitizer|AddressSanitizer|LeakSanitizer|runtime error' '%s' >&2",
                 s->log);
        fprintf(stderr, "sanitizer report in %s:\n", s->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(could not show it)\n");
        status = 0xff00; /* as if it exited 255 */
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* it_stop_keep, then the server's directory removed. */
IT_FN int it_stop(struct it_server *s, int sig)
{
    int running = s->pid > 0; /* a server already stopped may hand its database on */
    int rc = it_stop_keep(s, sig);
    char cmd[512];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (getenv("IT_KEEP")) /* debugging: keep the server's directory and log */
        fprintf(stderr, "kept %s\n", s->dir);
    else if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
    if (s->pgname[0] && running) {
        snprintf(cmd, sizeof cmd, "DROP DATABASE IF EXISTS %s WITH (FORCE)", s->pgname);
        (void)it_pg_exec(it_pg_base(), cmd, NULL);
        s->pgname[0] = '\0';
    }
    return rc;
}

/* The start of a test program that shares one server: argv[1] is the Panama database; curl
 * is set up and `reporta serve` started on a copy. 0, or -1 said on stderr (exit with 2 or 1). */
IT_FN int it_suite_start(int argc, char **argv, struct it_server *s)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PANAMA_DB\n", argv[0]);
        return -1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (it_start(s, argv[1], NULL) != 0) {
        fprintf(stderr, "server did not start\n");
        return -1;
    }
    return 0;
}

/* The end: the shared server must stop cleanly on SIGTERM; the program's exit code. */
IT_FN int it_suite_end(struct it_server *s)
{
    int rc;

    CHECK_INT_EQ(it_stop(s, SIGTERM), 0);
    rc = check_exit();
    curl_global_cleanup();
    return rc;
}

/* Runs sql on the server's database (another connection; WAL lets both work); a failure is
 * a test failure. */
IT_FN void it_sql(const struct it_server *s, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;

    if (strncmp(s->db, "postgresql://", 13) == 0) {
        if (it_pg_exec(s->db, sql, NULL) != 0)
            CHECK_REPORT("%s: failed on PostgreSQL", sql);
        return;
    }
    CHECK(sqlite3_open(s->db, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        CHECK_REPORT("%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
}

/* Every row of sql on the database db (a file or a postgresql:// URI), as text: fn(ctx,
 * ncols, values) per row, a value NULL for NULL, booleans as "1"/"0" on both backends. The
 * number of rows, or -1 (a test failure) when sql fails. */
typedef void (*it_row_fn)(void *ctx, int ncols, const char *const *vals);
IT_FN long it_query(const char *db, const char *sql, it_row_fn fn, void *ctx)
{
    const char *vals[64];
    long rows = 0;

    if (strncmp(db, "postgresql://", 13) == 0) {
        PGconn *c = PQconnectdb(db);
        PGresult *r;
        PQclear(PQexec(c, "SET TIME ZONE 'UTC'"));
        r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            CHECK_REPORT("%s: %s", sql, PQresultErrorMessage(r));
            rows = -1;
        }
        for (int i = 0; rows >= 0 && i < PQntuples(r); i++, rows++) {
            int nc = PQnfields(r) < 64 ? PQnfields(r) : 64;
            for (int k = 0; k < nc; k++) {
                const char *v = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
                if (v && PQftype(r, k) == 16 /* boolean */)
                    v = v[0] == 't' ? "1" : "0";
                vals[k] = v;
            }
            fn(ctx, nc, vals);
        }
        PQclear(r);
        PQfinish(c);
        return rows;
    }
    {
        sqlite3 *h = NULL;
        sqlite3_stmt *st = NULL;
        int step;
        CHECK(sqlite3_open(db, &h) == SQLITE_OK);
        sqlite3_busy_timeout(h, 5000);
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
            CHECK_REPORT("%s: %s", sql, sqlite3_errmsg(h));
            sqlite3_close(h);
            return -1;
        }
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            int nc = sqlite3_column_count(st) < 64 ? sqlite3_column_count(st) : 64;
            for (int k = 0; k < nc; k++)
                vals[k] = (const char *)sqlite3_column_text(st, k);
            fn(ctx, nc, vals);
            rows++;
        }
        if (step != SQLITE_DONE) {
            CHECK_REPORT("%s: %s", sql, sqlite3_errmsg(h));
            rows = -1;
        }
        sqlite3_finalize(st);
        sqlite3_close(h);
    }
    return rows;
}

/* The first column of the first row of sql on the server's database; -1 when none. */
IT_FN long it_sql_count(const struct it_server *s, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long n = -1;

    if (strncmp(s->db, "postgresql://", 13) == 0) {
        if (it_pg_exec(s->db, sql, &n) != 0)
            CHECK_REPORT("%s: failed on PostgreSQL", sql);
        return n;
    }
    CHECK(sqlite3_open(s->db, &db) == SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    else
        CHECK_REPORT("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

IT_FN size_t it_body_cb(char *p, size_t size, size_t n, void *ud)
{
    struct it_reply *r = ud;
    char *b = realloc(r->body, r->len + size * n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, p, size * n);
    r->body = b;
    r->len += size * n;
    b[r->len] = '\0';
    return size * n;
}

IT_FN size_t it_header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct it_reply *r = ud;
    size_t have = strlen(r->headers);
    if (have + size * n < sizeof r->headers) {
        memcpy(r->headers + have, p, size * n);
        r->headers[have + size * n] = '\0';
    }
    return size * n;
}

/* One request; body NULL for none. Returns 0 when an HTTP reply arrived. */
IT_FN int it_request(const struct it_server *s, const char *method, const char *path,
                      const char *body, size_t body_len, struct curl_slist *headers,
                      struct it_reply *r)
{
    size_t ulen = strlen(path) + 64;
    char *url = malloc(ulen);
    CURL *c = curl_easy_init();
    CURLcode cc;

    memset(r, 0, sizeof *r);
    snprintf(url, ulen, "http://127.0.0.1:%u%s", s->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    if (headers)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, it_body_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, it_header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (it_from)
        curl_easy_setopt(c, CURLOPT_INTERFACE, it_from);
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(c);
    free(url);
    if (!r->body)
        r->body = calloc(1, 1);
    return cc == CURLE_OK ? 0 : -1;
}

IT_FN int it_get(const struct it_server *s, const char *path, struct it_reply *r)
{
    return it_request(s, "GET", path, NULL, 0, NULL, r);
}

/* A request with a JSON body and optionally a key (Authorization: Bearer key). */
IT_FN int it_send(const struct it_server *s, const char *method, const char *path,
                  const char *key, const char *json, struct it_reply *r)
{
    struct curl_slist *h = NULL;
    char auth[1024];
    int rc;

    if (key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        h = curl_slist_append(h, auth);
    }
    if (json)
        h = curl_slist_append(h, "Content-Type: application/json");
    rc = it_request(s, method, path, json, json ? strlen(json) : 0, h, r);
    curl_slist_free_all(h);
    return rc;
}

IT_FN json_t *it_json(const struct it_reply *r)
{
    return json_loadb(r->body, r->len, 0, NULL);
}

/* The error body's "code", or NULL when the body is not our error shape. */
IT_FN const char *it_error_code(json_t *j)
{
    return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

/* ---- load for the crash tests: clients posting reports, writing down every 201 ---- */
#define IT_ACK_CLIENTS 8
#define IT_ACK_MAX     2500 /* per client */

struct it_acks { /* in shared memory (mmap), one slot per client process */
    int n[IT_ACK_CLIENTS];
    char id[IT_ACK_CLIENTS][IT_ACK_MAX][16];
};

/* A client process: posts reports to s as fast as it can until it has IT_ACK_MAX 201s or the
 * server is gone, each case number it got a 201 for into a->id[who]; then exits. */
IT_FN void it_ack_client(const struct it_server *s, int who, struct it_acks *a)
{
    char body[160];

    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; a->n[who] < IT_ACK_MAX; i++) {
        struct it_reply r;
        json_t *j;
        snprintf(body, sizeof body,
                 "{\"service_code\":\"basura\",\"lat\":%.5f,\"lon\":%.5f,\"description\":\"c%d-%d\"}",
                 8.98 + 0.0001 * who, -79.52 - 0.00001 * (i % 500), who, i);
        if (it_send(s, "POST", "/api/v1/reports", NULL, body, &r) != 0) {
            free(r.body);
            break; /* the server is gone */
        }
        if (r.status == 201 && (j = it_json(&r)) != NULL) {
            const char *id = json_string_value(json_object_get(j, "id"));
            if (id) {
                snprintf(a->id[who][a->n[who]], 16, "%s", id);
                __atomic_store_n(&a->n[who], a->n[who] + 1, __ATOMIC_RELEASE);
            }
            json_decref(j);
        }
        free(r.body);
    }
    _exit(0);
}

#endif
