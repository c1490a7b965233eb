/*
 * data/store.c - the connection, the statement cache, transactions and migrations.
 * Every SQL statement reporta runs is in sql_text[] below (the shapefile loader's scratch
 * database aside) and is prepared once per connection, then reset and rebound per use.
 * A connection is used by one thread at a time; SQLite's own locking (WAL, busy timeout)
 * arbitrates between the connections of different threads and processes.
 */
#include "data/store_int.h"

#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define KEY_COLUMNS \
    "id, name, role, coalesce(entity_code, ''), prefix, created_at, coalesce(revoked_at, '')"

/* clang-format off */
static const char *const sql_text[SQL__COUNT] = {
    [SQL_PING]               = "SELECT 1",
    [SQL_VERSION_GET]        = "SELECT coalesce(max(version), 0) FROM schema_migrations",
    [SQL_AREAS_COUNT]        = "SELECT level, count(*) FROM areas GROUP BY level",
    [SQL_AREAS_DELETE_LEVEL] = "DELETE FROM areas WHERE level = ?1",
    [SQL_AREAS_INSERT]       = "INSERT INTO areas (code, level, name, parent_code, source, geom)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, CastToMultiPolygon(GeomFromWKB(?6, 4326)))",
    [SQL_AREAS_EACH]         = "SELECT level, code, name, parent_code, AsBinary(geom) FROM areas"
                               " ORDER BY level, code",
    [SQL_AREAS_LOCATE]       = "SELECT code FROM areas WHERE level = ?1"
                               " AND ST_Covers(geom, MakePoint(?2, ?3, 4326))"
                               " AND ROWID IN (SELECT ROWID FROM SpatialIndex"
                               "   WHERE f_table_name = 'areas' AND search_frame = MakePoint(?2, ?3, 4326))"
                               " ORDER BY code LIMIT 1",
    [SQL_ENTITY_EXISTS]      = "SELECT 1 FROM entities WHERE code = ?1",
    [SQL_KEY_INSERT]         = "INSERT INTO api_keys (name, role, entity_code, prefix, hash)"
                               " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQL_KEY_BY_HASH]        = "SELECT " KEY_COLUMNS " FROM api_keys WHERE hash = ?1",
    [SQL_KEY_GET]            = "SELECT " KEY_COLUMNS " FROM api_keys WHERE id = ?1",
    [SQL_KEY_REVOKE]         = "UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                               " WHERE id = ?1 AND revoked_at IS NULL",
    [SQL_KEYS_EACH]          = "SELECT " KEY_COLUMNS " FROM api_keys ORDER BY id",
    [SQL_AUDIT_ADD]          = "INSERT INTO audit_log (actor, actor_role, actor_entity, action, target,"
                               " before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQL_AUDIT_EACH]         = "SELECT id, at, actor, actor_role, actor_entity, action, target, before,"
                               " after FROM audit_log WHERE (?1 = 0 OR id < ?1)"
                               " AND (?2 IS NULL OR target = ?2) ORDER BY id DESC LIMIT ?3",
};
/* clang-format on */

/* Pragmas every connection runs once. synchronous=FULL in WAL mode fsyncs the log on every
 * commit: a 201 means the row is on disk. */
static const char *const pragmas = "PRAGMA journal_mode=WAL;"
                                   "PRAGMA synchronous=FULL;"
                                   "PRAGMA foreign_keys=ON;";

int store_sql_error(struct store *s, const char *what, struct rp_err *err)
{
    return rp_err_set(err, RP_STORAGE, "%s: %s", what, s && s->db ? sqlite3_errmsg(s->db) : "?");
}

int store_global_init(void)
{
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
        return RP_STORAGE;
    return sqlite3_initialize() == SQLITE_OK ? RP_OK : RP_STORAGE;
}

int store_open(const char *path, struct store **out, struct rp_err *err)
{
    struct store *s;
    char *msg = NULL;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return rp_err_set(err, RP_NO_MEMORY, "store");
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = rp_err_set(err, RP_STORAGE, "open %s: %s", path,
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    s->spatialite = spatialite_alloc_connection();
    if (!s->spatialite) {
        rc = rp_err_set(err, RP_NO_MEMORY, "spatialite connection");
        goto fail;
    }
    spatialite_init_ex(s->db, s->spatialite, 0);
    if (sqlite3_exec(s->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        rc = rp_err_set(err, RP_STORAGE, "open %s: %s", path, msg ? msg : "pragmas failed");
        sqlite3_free(msg);
        goto fail;
    }
    *out = s;
    return RP_OK;
fail:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < SQL__COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->db)
        sqlite3_close(s->db);
    if (s->spatialite)
        spatialite_cleanup_ex(s->spatialite);
    free(s);
}

sqlite3_stmt *store_stmt(struct store *s, enum store_sql id, struct rp_err *err)
{
    sqlite3_stmt *st = s->stmt[id];

    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(s->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
        SQLITE_OK) {
        store_sql_error(s, "prepare", err);
        return NULL;
    }
    s->stmt[id] = st;
    return st;
}

int store_begin(struct store *s, struct rp_err *err)
{
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return store_sql_error(s, "begin", err);
    s->in_tx = 1;
    return RP_OK;
}

int store_end(struct store *s, int rc, struct rp_err *err)
{
    if (!s->in_tx)
        return rc;
    s->in_tx = 0;
    if (rc == RP_OK) {
        if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
            return RP_OK;
        rc = store_sql_error(s, "commit", err);
    }
    /* A failed ROLLBACK means SQLite already rolled back (it does so on some errors). */
    (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int store_ping(struct store *s, struct rp_err *err)
{
    sqlite3_stmt *st = store_stmt(s, SQL_PING, err);

    if (!st)
        return RP_STORAGE;
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_sql_error(s, "ping", err);
    sqlite3_reset(st);
    return RP_OK;
}

int store_schema_version(struct store *s, int *version, struct rp_err *err)
{
    sqlite3_stmt *st;

    *version = 0;
    if (sqlite3_exec(s->db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                     " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))",
                     NULL, NULL, NULL) != SQLITE_OK)
        return store_sql_error(s, "schema_migrations", err);
    st = store_stmt(s, SQL_VERSION_GET, err);
    if (!st)
        return RP_STORAGE;
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_sql_error(s, "schema version", err);
    *version = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return RP_OK;
}

static int migration_apply(struct store *s, const struct store_migration *m, struct rp_err *err)
{
    sqlite3_stmt *st = NULL;
    char *msg = NULL;
    int rc = store_begin(s, err);

    if (rc != RP_OK)
        return rc;
    if (sqlite3_exec(s->db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
        rc = rp_err_set(err, RP_STORAGE, "migration %s: %s", m->name, msg ? msg : "failed");
        sqlite3_free(msg);
        goto out;
    }
    if (sqlite3_prepare_v2(s->db, "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = store_sql_error(s, "migration record", err);
        goto out;
    }
    sqlite3_bind_int(st, 1, m->version);
    sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_sql_error(s, "migration record", err);
out:
    sqlite3_finalize(st);
    return store_end(s, rc, err);
}

int store_seed(struct store *s, struct rp_err *err)
{
    int rc = store_begin(s, err);

    for (const struct store_migration *m = store_seeds; rc == RP_OK && m->name; m++) {
        char *msg = NULL;
        if (sqlite3_exec(s->db, m->sql, NULL, NULL, &msg) != SQLITE_OK)
            rc = rp_err_set(err, RP_STORAGE, "seed %s: %s", m->name, msg ? msg : "failed");
        sqlite3_free(msg);
    }
    return store_end(s, rc, err);
}

int store_schema_latest(void)
{
    int v = 0;
    for (const struct store_migration *m = store_migrations; m->version; m++)
        v = m->version > v ? m->version : v;
    return v;
}

int store_migrate(struct store *s, int *applied, struct rp_err *err)
{
    int version, n = 0, rc;

    rc = store_schema_version(s, &version, err);
    for (const struct store_migration *m = store_migrations; rc == RP_OK && m->version; m++) {
        if (m->version <= version)
            continue;
        rc = migration_apply(s, m, err);
        if (rc == RP_OK) {
            rp_info("store: applied migration %s", m->name);
            n++;
        }
    }
    if (applied)
        *applied = n;
    return rc;
}
