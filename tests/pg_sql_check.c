/*
 * tests/pg_sql_check.c - prepares every PostgreSQL statement of the store against a migrated
 * database: each entry of store_sql_pg[], the inline pieces of data/store_sql_pg.h, and every
 * statement data/store_stats.c can build from its PostgreSQL fragments (all key choices). It
 * executes nothing but what the C code runs before some of them: schema_migrations if missing
 * (store_schema_version) and the session's re-keying tables (store_areas.c remap_fill). Prints
 * each failure with its enum index and PostgreSQL's message, and exits 1 if any failed (2 when
 * it cannot connect). With -v, every statement's number of parameters and columns as well.
 *
 *   pg_sql_check [-v] postgresql:///reporta?host=/tmp/reporta-pg-XXXX
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "data/store_sql_pg.h"

static int verbose;

/* Prepares sql as the unnamed statement: 0, or 1 after printing why not. */
static int check(PGconn *c, const char *label, int index, const char *sql)
{
    PGresult *r;
    int failed = 0;

    if (!sql) {
        printf("FAIL %s %d: no text\n", label, index);
        return 1;
    }
    r = PQprepare(c, "", sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        printf("FAIL %s %d: %s       %.100s\n", label, index, PQresultErrorMessage(r), sql);
        failed = 1;
    }
    PQclear(r);
    if (!failed && verbose) {
        r = PQdescribePrepared(c, "");
        printf("ok   %s %d: %d parameters, %d columns\n", label, index, PQnparams(r), PQnfields(r));
        PQclear(r);
    }
    return failed;
}

/* data/store_stats.c build(), with the PostgreSQL fragments. */
static int build(const int *keys, int nkeys, const char *what, const char *table, const char *extra,
                 const char *tail, const char *having, char *out, size_t n)
{
    char k[256] = "";
    size_t at = 0;
    int w;

    for (int i = 0; i < STORE_STAT_GROUPS_MAX; i++) {
        const char *col = i < nkeys ? store_stats_pg_key[keys[i]] : store_stats_pg_key_none;
        w = snprintf(k + at, sizeof k - at, "%s%s", i ? ", " : "", col);
        if (w < 0 || (size_t)w >= sizeof k - at)
            return -1;
        at += (size_t)w;
    }
    w = snprintf(
        out, n, "SELECT %s, %s FROM %s%s%s GROUP BY %s%s%s%s ORDER BY %s%s%s", k, what, table,
        strcmp(table, "stats_tows_daily") ? store_stats_pg_filter : store_stats_pg_tows_filter,
        extra, k, tail ? ", " : "", tail ? tail : "", having, k, tail ? ", " : "",
        tail ? tail : "");
    return w < 0 || (size_t)w >= n ? -1 : w;
}

struct stats_query {
    const char *what, *table, *extra, *tail, *having;
};

static int check_stats(PGconn *c)
{
    const struct stats_query q[] = {
        {store_stats_pg_counts, "stats_daily", "", NULL, store_stats_pg_having},
        {store_stats_pg_overdue, "stats_open_due", store_stats_pg_overdue_extra, NULL, ""},
        {store_stats_pg_hours, "stats_close_hours", "", store_stats_pg_hours_tail, ""},
        {store_stats_pg_tows, "stats_tows_daily", "", NULL, ""},
    };
    char sql[1024]; /* as store_stats.c sizes it */
    int failed = 0, n = 0, longest = 0;

    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        for (int a = -1; a < STORE_STAT_KEYS; a++)
            for (int b = -1; b < STORE_STAT_KEYS; b++) {
                int keys[2] = {a, b}, nkeys = a < 0 ? 0 : b < 0 ? 1 : 2, w;
                if ((a < 0 && b >= 0) || (a >= 0 && a == b))
                    continue;
                /* tows_apply(): tows are never grouped by entity or service */
                if (strcmp(q[i].table, "stats_tows_daily") == 0 &&
                    (a == STORE_STAT_ENTITY || a == STORE_STAT_SERVICE || b == STORE_STAT_ENTITY ||
                     b == STORE_STAT_SERVICE))
                    continue;
                w = build(keys, nkeys, q[i].what, q[i].table, q[i].extra, q[i].tail, q[i].having,
                          sql, sizeof sql);
                if (w < 0) {
                    printf("FAIL stats %zu/%d/%d: longer than %zu bytes\n", i, a, b, sizeof sql);
                    failed++;
                    continue;
                }
                longest = w > longest ? w : longest;
                failed += check(c, "stats", (int)(i * 100 + n), sql);
                n++;
            }
    printf("stats: %d statements built, the longest %d bytes of %zu\n", n, longest, sizeof sql);
    return failed;
}

int main(int argc, char **argv)
{
    const char *pieces[] = {store_pg_begin,
                            store_pg_defer_foreign_keys,
                            store_pg_schema_migrations,
                            store_pg_migration_record,
                            store_pg_savepoint,
                            store_pg_release,
                            store_pg_rollback_to};
    PGconn *c;
    PGresult *r;
    int failed = 0, i = 1;

    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = 1;
        i++;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: pg_sql_check [-v] URI\n");
        return 2;
    }
    c = PQconnectdb(argv[i]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg_sql_check: %s", PQerrorMessage(c));
        PQfinish(c);
        return 2;
    }
    /* what store_schema_version() runs before SQL_VERSION_GET, and store_areas.c
     * remap_fill() before the re-keying statements */
    for (int k = 0; k < 2; k++) {
        r = PQexec(c, k ? store_areas_pg_remap_tables : store_pg_schema_migrations);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            printf("FAIL %s: %s", k ? "remap tables" : "schema_migrations",
                   PQresultErrorMessage(r));
            failed++;
        }
        PQclear(r);
    }
    for (int id = 0; id < SQL__COUNT; id++)
        failed += check(c, "sql", id, store_sql_pg[id]);
    printf("store_sql_pg: %d of %d statements prepare\n", SQL__COUNT - failed, SQL__COUNT);
    for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++)
        failed += check(c, "piece", (int)p, pieces[p]);
    failed += check_stats(c);
    PQfinish(c);
    printf("%s: %d failed\n", failed ? "FAIL" : "ok", failed);
    return failed ? 1 : 0;
}
