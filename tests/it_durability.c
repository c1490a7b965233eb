/*
 * tests/it_durability.c - "a 201 means committed to disk; a crash loses nothing acknowledged":
 * eight client processes post reports as fast as they can, each writing down every case number
 * it got a 201 for; the server is killed with SIGKILL in the middle; a new server on the same
 * database file must have every one of those cases. Also: the group-commit writer really
 * shares commits under concurrency (from the server's own count).
 * usage: it_durability PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <sys/mman.h>

#include "it.h"

#define CLIENTS IT_ACK_CLIENTS

static void test_sigkill_loses_no_acknowledged_case(const char *panama_db)
{
    struct it_server s, again;
    struct it_acks *a = mmap(NULL, sizeof *a, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                          -1, 0);
    pid_t pids[CLIENTS];
    int total = 0, missing = 0;
    char db[160], keep[160], cmd[1024];

    CHECK(a != MAP_FAILED);
    memset(a, 0, sizeof *a);
    CHECK(it_start(&s, panama_db, NULL) == 0);
    for (int c = 0; c < CLIENTS; c++) {
        pids[c] = fork();
        if (pids[c] == 0)
            it_ack_client(&s, c, a);
    }
    usleep(2500 * 1000); /* a few thousand reports in flight and behind */
    kill(s.pid, SIGKILL);
    waitpid(s.pid, NULL, 0);
    s.pid = 0;
    for (int c = 0; c < CLIENTS; c++)
        waitpid(pids[c], NULL, 0);
    for (int c = 0; c < CLIENTS; c++)
        total += a->n[c];
    fprintf(stderr, "   %d cases acknowledged before SIGKILL\n", total);
    CHECK(total > 100);

    /* keep the killed server's files (database, WAL) and start a new server on them */
    snprintf(db, sizeof db, "%s", s.db);
    snprintf(keep, sizeof keep, "/tmp/reporta-durability-%d.db", (int)getpid());
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && (cp '%s-wal' '%s-wal' 2>/dev/null; true)", db, keep,
             db, keep);
    if (strncmp(db, "postgresql://", 13) == 0) /* the same database, as the killed server left it */
        snprintf(keep, sizeof keep, "%s", db);
    else
        CHECK(system(cmd) == 0);
    it_stop(&s, SIGTERM); /* removes the old directory */
    CHECK(it_start(&again, keep, NULL) == 0);
    for (int c = 0; c < CLIENTS; c++)
        for (int i = 0; i < a->n[c]; i++) {
            char path[64];
            struct it_reply r;
            snprintf(path, sizeof path, "/api/v1/reports/%s", a->id[c][i]);
            CHECK(it_get(&again, path, &r) == 0);
            if (r.status != 200 && missing++ < 5)
                CHECK_REPORT("acknowledged case %s is gone: %ld", a->id[c][i], r.status);
            free(r.body);
        }
    CHECK_INT_EQ(missing, 0);
    CHECK_INT_EQ(it_stop(&again, SIGTERM), 0);
    snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm'", keep, keep, keep);
    CHECK(system(cmd) == 0);
    munmap(a, sizeof *a);
}

/* Eight concurrent writers for a moment: the server's log says how many commits carried them;
 * fewer commits than reports means commits were shared. */
static void test_concurrent_reports_share_commits(const char *panama_db)
{
    char *extra[] = {"--threads=16", NULL};
    struct it_server s;
    struct it_acks *a = mmap(NULL, sizeof *a, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                          -1, 0);
    pid_t pids[CLIENTS];
    long reports = 0, commits = 0;
    char line[4096];
    FILE *fp;

    memset(a, 0, sizeof *a);
    CHECK(it_start(&s, panama_db, extra) == 0);
    for (int c = 0; c < CLIENTS; c++) {
        pids[c] = fork();
        if (pids[c] == 0)
            it_ack_client(&s, c, a);
    }
    usleep(1500 * 1000);
    for (int c = 0; c < CLIENTS; c++) {
        kill(pids[c], SIGKILL);
        waitpid(pids[c], NULL, 0);
    }
    {
        int status = 0;
        kill(s.pid, SIGTERM);
        waitpid(s.pid, &status, 0);
        s.pid = 0;
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    fp = fopen(s.log, "r");
    while (fp && fgets(line, sizeof line, fp)) {
        const char *p = strstr(line, "serve: ");
        if (p)
            sscanf(p + 7, "%ld writes (reports, photos, position batches) in %ld commits", &reports,
                   &commits);
    }
    if (fp)
        fclose(fp);
    fprintf(stderr, "   %ld reports in %ld commits\n", reports, commits);
    CHECK(reports > 50);
    CHECK(commits > 0 && commits < reports);
    it_stop(&s, SIGTERM);
    munmap(a, sizeof *a);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    RUN_ARG(test_sigkill_loses_no_acknowledged_case, argv[1]);
    RUN_ARG(test_concurrent_reports_share_commits, argv[1]);
    return check_exit();
}
