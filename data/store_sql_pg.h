/*
 * data/store_sql_pg.h - the PostgreSQL 15 + PostGIS 3.3 text of every statement of the store
 * (issue #19): store_sql_pg[] mirrors sql_text[] of data/store.c entry for entry, and the
 * store_*_pg pieces stand in for the SQL that data/store.c, store_areas.c, store_stats.c and
 * store_writer.c write inline. Same parameters (numbered $1.. as ?1..), same result columns in
 * the same order and types. data/store_sql_pg.md gives the rules and every difference.
 */
#ifndef STORE_SQL_PG_H
#define STORE_SQL_PG_H

#include "data/store_int.h"

extern const char *const store_sql_pg[SQL__COUNT];

/* data/store.c: transactions, the migration bookkeeping, deferred foreign keys */
extern const char store_pg_begin[];              /* for "BEGIN IMMEDIATE" */
extern const char store_pg_defer_foreign_keys[]; /* for "PRAGMA defer_foreign_keys = ON" */
extern const char store_pg_schema_migrations[];  /* the CREATE TABLE IF NOT EXISTS of versions */
extern const char store_pg_migration_record[];   /* INSERT INTO schema_migrations ($1, $2) */

/* data/store_writer.c: a job's savepoint */
extern const char store_pg_savepoint[];
extern const char store_pg_release[];
extern const char store_pg_rollback_to[];

/* data/store_areas.c remap_fill(): the session's re-keying tables, created before the SQL_REMAP_*
 * and SQL_REKEY_* statements are first prepared (they name pg_temp.area_remap/entity_remap) */
extern const char store_areas_pg_remap_tables[];

/* data/store_stats.c build(): the fragments, each replacing its SQLite one */
extern const char *const store_stats_pg_key[STORE_STAT_KEYS]; /* for key_sql[] */
extern const char store_stats_pg_key_none[];                  /* for "''", a missing key */
extern const char store_stats_pg_filter[];                    /* for STATS_FILTER */
extern const char store_stats_pg_tows_filter[];               /* for TOWS_FILTER */
extern const char store_stats_pg_counts[];                    /* what: the sums of stats_daily */
extern const char store_stats_pg_having[];                    /* having of the counts */
extern const char store_stats_pg_overdue[];                   /* what: sum(n) of stats_open_due */
extern const char store_stats_pg_overdue_extra[];             /* extra: " AND due_at < $6" */
extern const char store_stats_pg_hours[];      /* what: hours, sum(n) of stats_close_hours */
extern const char store_stats_pg_hours_tail[]; /* tail: "hours" */
extern const char store_stats_pg_tows[];       /* what: sum(tows) of stats_tows_daily */

#endif
