/*
 * tests/it_backup.c - `reporta backup` while the server takes reports: four client processes
 * post as fast as they can, each writing down every case number it got a 201 for; halfway,
 * `reporta backup --db <the live file> --to <copy>` runs. The copy must pass its own checks
 * (the command says so and exits 0), and the checks again here; then the restore: the copy put
 * in place of a database and served by a new `reporta serve`, which must answer every case
 * acknowledged before the backup began (and may hold some acknowledged during it; none after
 * it ended). Also: a backup over an existing copy replaces it whole, --to naming the database
 * itself is refused, and a PostgreSQL URI is refused with what to use instead.
 * usage: it_backup PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <sys/mman.h>

#include "it.h"

#define CLIENTS 4

static void first_value(void *ctx, int ncols, const char *const *vals)
{
    char *out = ctx;
    if (ncols > 0 && !out[0])
        snprintf(out, 64, "%s", vals[0] ? vals[0] : "NULL");
}

/* The rows sql gives on the file db. */
static long count_file(const char *db, const char *sql)
{
    char first[64] = "";
    return it_query(db, sql, first_value, first);
}

/* PRAGMA integrity_check says "ok", alone. */
static int intact(const char *db)
{
    char first[64] = "";
    return it_query(db, "PRAGMA integrity_check", first_value, first) == 1 &&
           strcmp(first, "ok") == 0;
}

static void test_backup_under_load_then_restore(const char *panama_db)
{
    struct it_server s, restored;
    struct it_acks *a = mmap(NULL, sizeof *a, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                          -1, 0);
    int before[CLIENTS], after[CLIENTS], total_before = 0, total_after = 0, missing = 0, rc;
    long in_copy;
    pid_t pids[CLIENTS];
    char copy[192], out[2048];

    CHECK(a != MAP_FAILED);
    memset(a, 0, sizeof *a);
    CHECK(it_start(&s, panama_db, NULL) == 0);
    snprintf(copy, sizeof copy, "%s/backup.db", s.dir);
    for (int c = 0; c < CLIENTS; c++)
        if ((pids[c] = fork()) == 0)
            it_ack_client(&s, c, a);
    usleep(1500 * 1000);
    for (int c = 0; c < CLIENTS; c++)
        total_before += before[c] = __atomic_load_n(&a->n[c], __ATOMIC_ACQUIRE);
    {
        char *argv[] = {"reporta", "backup", "--db", s.db, "--to", copy, NULL};
        rc = it_run_out(argv, out, sizeof out);
    }
    for (int c = 0; c < CLIENTS; c++)
        total_after += after[c] = __atomic_load_n(&a->n[c], __ATOMIC_ACQUIRE);
    usleep(500 * 1000);
    for (int c = 0; c < CLIENTS; c++)
        kill(pids[c], SIGTERM);
    for (int c = 0; c < CLIENTS; c++)
        waitpid(pids[c], NULL, 0);
    fprintf(stderr, "   %d cases acknowledged when the backup began, %d when it ended: %s",
            total_before, total_after, out);
    CHECK_INT_EQ(rc, 0);
    CHECK(strstr(out, "integrity ok") != NULL && strstr(out, "foreign keys ok") != NULL);
    CHECK(total_before > 50);
    CHECK(total_after > total_before); /* the server kept committing while the copy was made */

    /* the copy on its own: one file, checks pass, and between the two counts */
    {
        char wal[256];
        snprintf(wal, sizeof wal, "%s-wal", copy);
        CHECK(access(wal, F_OK) != 0);
    }
    CHECK(intact(copy));
    in_copy = count_file(copy, "SELECT 1 FROM reports");
    fprintf(stderr, "   the copy holds %ld cases\n", in_copy);
    CHECK(in_copy >= total_before);

    /* restore: the copy served by a new server */
    CHECK(it_start(&restored, copy, NULL) == 0);
    for (int c = 0; c < CLIENTS; c++)
        for (int i = 0; i < before[c]; i++) {
            char path[64];
            struct it_reply r;
            snprintf(path, sizeof path, "/api/v1/reports/%s", a->id[c][i]);
            CHECK(it_get(&restored, path, &r) == 0);
            if (r.status != 200 && missing++ < 5)
                CHECK_REPORT("case %s, acknowledged before the backup, is not in it (%ld)",
                             a->id[c][i], r.status);
            free(r.body);
        }
    CHECK_INT_EQ(missing, 0);
    fprintf(stderr, "   restored: all %d cases acknowledged before the backup answer 200\n",
            total_before);
    {
        struct it_reply r;
        CHECK(it_send(&restored, "POST", "/api/v1/reports", NULL,
                      "{\"service_code\":\"basura\",\"lat\":8.98,\"lon\":-79.52}", &r) == 0);
        CHECK_INT_EQ(r.status, 201); /* and it takes new ones, numbered after the restored */
        free(r.body);
    }
    CHECK_INT_EQ(it_stop(&restored, SIGTERM), 0);

    /* again over the same copy: replaced whole, and still passing */
    {
        char *argv[] = {"reporta", "backup", "--db", s.db, "--to", copy, NULL};
        CHECK_INT_EQ(it_run_out(argv, out, sizeof out), 0);
        CHECK(count_file(copy, "SELECT 1 FROM reports") >= total_after);
    }
    /* refused: the database itself, a PostgreSQL URI, no --to */
    {
        char *self[] = {"reporta", "backup", "--db", s.db, "--to", s.db, NULL};
        char *pg[] = {"reporta", "backup", "--db", "postgresql:///x?host=/nonexistent", "--to",
                      copy, NULL};
        char *none[] = {"reporta", "backup", "--db", s.db, NULL};
        CHECK(it_run_out(self, out, sizeof out) != 0);
        CHECK(it_run_out(pg, out, sizeof out) != 0);
        CHECK(it_run_out(none, out, sizeof out) != 0);
        CHECK(intact(s.db)); /* untouched */
    }
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);
    munmap(a, sizeof *a);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: it_backup PANAMA_DB\n");
        return 2;
    }
    if (getenv("REPORTA_PG_SUITE")) { /* PostgreSQL has pg_dump and pg_basebackup */
        fprintf(stderr, "it_backup: the SpatiaLite file's backup; nothing to run on PostgreSQL\n");
        return 77;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN_ARG(test_backup_under_load_then_restore, argv[1]);
    curl_global_cleanup();
    return check_exit();
}
