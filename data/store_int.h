/*
 * data/store_int.h - what the store_*.c files share and nothing else sees: the connection
 * struct, the statement table and the migration list. SQL text lives in the .c files.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>

#include "data/store.h"

enum store_sql {
    SQL_PING,
    SQL_VERSION_GET,
    SQL_AREAS_COUNT,
    SQL_AREAS_DELETE_LEVEL,
    SQL_AREAS_INSERT,
    SQL_AREAS_EACH,
    SQL_AREAS_LOCATE,
    SQL_LAYERS_GET,
    SQL_LAYER_PUT,
    SQL_REMAP_ADD,
    SQL_ENTITY_REMAP_FILL,
    SQL_REKEY_REPORT_AREAS,
    SQL_REKEY_RULE_AREAS,
    SQL_REKEY_ENTITY_AREAS,
    SQL_REKEY_ENTITY_NAMES,
    SQL_REKEY_ENTITY_MARK,
    SQL_REKEY_ENTITY_CODES,
    SQL_REKEY_REPORT_ENTITY,
    SQL_REKEY_KEY_ENTITY,
    SQL_REKEY_RULE_ENTITY,
    SQL_REKEY_HISTORY,
    SQL_REKEY_AUDIT,
    SQL_ENTITY_EXISTS,
    SQL_KEY_INSERT,
    SQL_KEY_BY_HASH,
    SQL_KEY_GET,
    SQL_KEY_REVOKE,
    SQL_KEYS_EACH,
    SQL_AUDIT_ADD,
    SQL_AUDIT_EACH,
    SQL_SERVICE_GET,
    SQL_SERVICES_EACH,
    SQL_SERVICE_PUT,
    SQL_ENTITY_GET,
    SQL_ENTITIES_EACH,
    SQL_ENTITY_PUT,
    SQL_RULES_FOR,
    SQL_RULES_EACH,
    SQL_RULE_GET,
    SQL_RULE_INSERT,
    SQL_RULE_UPDATE,
    SQL_RULE_DELETE,
    SQL_RULES_NATIONAL,
    SQL_IDEM_GET,
    SQL_IDEM_PUT,
    SQL_CASE_NEXT,
    SQL_REPORT_INSERT,
    SQL_REPORT_GET,
    SQL_REPORT_BY_TOKEN,
    SQL_REPORT_BY_ID,
    SQL_REPORTS_QUERY,
    SQL_REPORTS_QUERY_BBOX,
    SQL_REPORTS_NEAR,
    SQL_REPORT_SET_STATUS,
    SQL_REPORT_SET_ENTITY,
    SQL_HISTORY_ADD,
    SQL_HISTORY_EACH,
    SQL_CONFIRM_ADD,
    SQL_CONFIRM_COUNT,
    SQL_PHOTO_ADD,
    SQL_PHOTOS_EACH,
    SQL_PHOTO_KNOWN,
    SQL_POINTS_OPEN,
    SQL_POINT_GET,
    SQL_POINTS_QUERY,
    SQL_POINTS_QUERY_BBOX,
    SQL_YARD_PUT,
    SQL_YARD_EXISTS,
    SQL_YARDS_EACH,
    SQL_YARD_USED,
    SQL_YARD_DELETE,
    SQL_TRUCK_PUT,
    SQL_TRUCK_EXISTS,
    SQL_TRUCKS_EACH,
    SQL_TRUCK_USED,
    SQL_TRUCK_DELETE,
    SQL_POSITION_ADD,
    SQL_POSITIONS_EACH,
    SQL_POSITIONS_LATEST,
    SQL_TOW_INSERT,
    SQL_TOW_GET,
    SQL_TOW_SET_STATUS,
    SQL_TOWS_ACTIVE,
    SQL_TOWS_QUERY,
    SQL_TOW_HISTORY_ADD,
    SQL_TOW_HISTORY_EACH,
    SQL_EXPORT_PAGE,
    SQL_EXPORT_MONTHS,
    SQL_HOOKS_FLAG_OFF,
    SQL_HOOK_FLAG_PUT,
    SQL_HOOKS_EACH,
    SQL_DELIVERIES_DUE,
    SQL_DELIVERY_DELETE,
    SQL_HOOK_DELIVERED,
    SQL_DELIVERY_RETRY,
    SQL_STREAM_HOLD,
    SQL_HOOK_FAILED,
    SQL_CONTACT_REPORT,
    SQL_CONTACT_TOW,
    SQL_UPDATES_EACH,
    SQL_UPDATE_FIND,
    SQL_EVENT_OF_HISTORY,
    SQL_RATING_ADD,
    SQL_REPORT_SET_RATING,
    SQL_FOLLOWUPS_DUE,
    SQL_FOLLOWUPS_SATISFACTION,
    SQL_FOLLOWUPS_OPEN,
    SQL_FOLLOWUP_GET,
    SQL_FOLLOWUP_DONE,
    SQL_SCORE_ALL,
    SQL_SCORE_ONE,
    SQL_SCORE_LOG,
    SQL_SCORE_LOG_TOP,
    SQL_SCORE_LOG_AT,
    SQL_SCORE_LOG_MIN,
    SQL_SCORE_LOG_PRUNE,
    SQL__COUNT
};

struct store_pgc; /* data/store_pg.c: the libpq connection and what it prepared */
struct store_pgq; /* data/store_pg.c */
struct store_q {
    sqlite3_stmt *st;     /* SQLite */
    struct store_pgq *pg; /* or PostgreSQL */
};


struct store {
    sqlite3 *db;            /* SQLite; NULL on PostgreSQL */
    void *spatialite;       /* spatialite_alloc_connection() cache */
    struct store_pgc *pg;   /* PostgreSQL (a postgresql:// or postgres:// URI); NULL on SQLite */
    struct store_q stmt[SQL__COUNT];
    int in_tx;
    int catalogue_dirty; /* this transaction changed services, entities or rules */
    /* the job failed on what another process committed meanwhile (an Idempotency-Key's
     * first use): the writer rolls the job back and runs it once more, when it finds that */
    int job_again;
};

/* ---- the PostgreSQL backend (data/store_pg.c) ---- */
int store_pg_open(struct store *s, const char *uri, struct rp_err *err);
void store_pg_close(struct store *s);
struct store_q *store_pg_prepare(struct store *s, int id, const char *sql, struct rp_err *err);
void store_pg_finalize(struct store_q *q);
int store_pg_exec(struct store *s, const char *sql, const char *what, struct rp_err *err);
int64_t store_pg_changes(struct store *s);
int64_t store_pg_last_id(struct store *s);
int64_t store_pg_total_changes(struct store *s);
const char *store_pg_errmsg(struct store *s);
int store_pg_errclass(struct store *s); /* the STORE_E_ class of that failure */
/* Runs every seed script inside the caller's transaction. */
int store_seed_run(struct store *s, struct rp_err *err);
/* A committed catalogue change (now, or when the open transaction commits). */
void store_catalogue_touch(struct store *s);

struct store_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct store_migration store_migrations[]; /* ends with a zero version */
extern const struct store_migration store_seeds[];      /* ends with a NULL name */
extern const struct store_migration store_migrations_pg[]; /* data/migrations/pg */
extern const struct store_migration store_seeds_pg[];      /* data/seed/pg, else data/seed */

/* ---- statements: what every store_*.c uses, whatever the backend ----
 * A struct store_q is one of the connection's cached prepared statements. Parameters are
 * numbered from 1 and columns from 0; text and blobs bound are read when the statement is
 * first stepped, so they must live until then (store_bind_text_copy copies). store_step gives
 * STORE_ROW, STORE_DONE, or a failure class below (negative); store_reset ends its use. On
 * SQLite each call is the sqlite3_ call; on PostgreSQL (data/store_pg.c, s->pg set) the
 * statement is prepared on the server once per connection and its rows come one at a time. */
enum store_step_rc {
    STORE_DONE = 0,
    STORE_ROW = 1,
    STORE_E_OTHER = -1,      /* see store_sql_error */
    STORE_E_UNIQUE = -2,     /* a primary key or unique constraint */
    STORE_E_FOREIGN = -3,    /* a foreign key */
    STORE_E_CHECK = -4,      /* a CHECK constraint */
    STORE_E_CONSTRAINT = -5, /* another constraint: NOT NULL, a trigger's refusal */
    STORE_E_FULL = -6,       /* the disk (or the database's quota) is full */
    STORE_E_READONLY = -7,   /* the database cannot be written */
};
#define STORE_IS_CONSTRAINT(rc) ((rc) <= STORE_E_UNIQUE && (rc) >= STORE_E_CONSTRAINT)


int store_pg_step(struct store_q *q);
void store_pg_reset(struct store_q *q);
void store_pg_bind(struct store_q *q, int i, int type, int64_t n, double d, const void *v,
                   size_t len);
const char *store_pg_text(struct store_q *q, int c);
const void *store_pg_blob(struct store_q *q, int c, size_t *n);
enum { STORE_PG_NULL, STORE_PG_INT, STORE_PG_DOUBLE, STORE_PG_TEXT, STORE_PG_TEXT_COPY,
       STORE_PG_BLOB };

static inline int store_step_class(int rc)
{
    switch (rc) {
    case SQLITE_ROW: return STORE_ROW;
    case SQLITE_DONE: return STORE_DONE;
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE: return STORE_E_UNIQUE;
    case SQLITE_CONSTRAINT_FOREIGNKEY: return STORE_E_FOREIGN;
    case SQLITE_CONSTRAINT_CHECK: return STORE_E_CHECK;
    case SQLITE_FULL: return STORE_E_FULL;
    default:
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
            return STORE_E_CONSTRAINT;
        if ((rc & 0xff) == SQLITE_READONLY)
            return STORE_E_READONLY;
        return STORE_E_OTHER;
    }
}
static inline int store_step(struct store_q *q)
{
    return q->pg ? store_pg_step(q) : store_step_class(sqlite3_step(q->st));
}
static inline void store_reset(struct store_q *q)
{
    if (q->pg)
        store_pg_reset(q);
    else
        sqlite3_reset(q->st);
}
static inline void store_bind_int64(struct store_q *q, int i, int64_t v)
{
    if (q->pg)
        store_pg_bind(q, i, STORE_PG_INT, v, 0, NULL, 0);
    else
        sqlite3_bind_int64(q->st, i, v);
}
static inline void store_bind_int(struct store_q *q, int i, int v) { store_bind_int64(q, i, v); }
static inline void store_bind_double(struct store_q *q, int i, double v)
{
    if (q->pg)
        store_pg_bind(q, i, STORE_PG_DOUBLE, 0, v, NULL, 0);
    else
        sqlite3_bind_double(q->st, i, v);
}
static inline void store_bind_null(struct store_q *q, int i)
{
    if (q->pg)
        store_pg_bind(q, i, STORE_PG_NULL, 0, 0, NULL, 0);
    else
        sqlite3_bind_null(q->st, i);
}
/* NULL binds NULL. */
static inline void store_bind_text(struct store_q *q, int i, const char *v)
{
    if (q->pg)
        store_pg_bind(q, i, v ? STORE_PG_TEXT : STORE_PG_NULL, 0, 0, v, 0);
    else
        sqlite3_bind_text(q->st, i, v, -1, SQLITE_STATIC);
}
static inline void store_bind_text_copy(struct store_q *q, int i, const char *v)
{
    if (q->pg)
        store_pg_bind(q, i, v ? STORE_PG_TEXT_COPY : STORE_PG_NULL, 0, 0, v, 0);
    else
        sqlite3_bind_text(q->st, i, v, -1, SQLITE_TRANSIENT);
}
static inline void store_bind_blob(struct store_q *q, int i, const void *v, size_t n)
{
    if (q->pg)
        store_pg_bind(q, i, STORE_PG_BLOB, 0, 0, v, n);
    else
        sqlite3_bind_blob(q->st, i, v, (int)n, SQLITE_STATIC);
}
/* Column c of the current row as text, valid until the next step or reset; NULL for NULL. */
static inline const char *store_col_text(struct store_q *q, int c)
{
    return q->pg ? store_pg_text(q, c) : (const char *)sqlite3_column_text(q->st, c);
}
static inline int64_t store_col_int64(struct store_q *q, int c)
{
    const char *v;
    if (!q->pg)
        return sqlite3_column_int64(q->st, c);
    v = store_pg_text(q, c);
    return !v ? 0 : v[0] == 't' ? 1 : v[0] == 'f' ? 0 : strtoll(v, NULL, 10);
}
static inline int store_col_int(struct store_q *q, int c) { return (int)store_col_int64(q, c); }
static inline double store_col_double(struct store_q *q, int c)
{
    const char *v;
    if (!q->pg)
        return sqlite3_column_double(q->st, c);
    v = store_pg_text(q, c);
    return v ? strtod(v, NULL) : 0.0;
}
static inline int store_col_null(struct store_q *q, int c)
{
    return q->pg ? store_pg_text(q, c) == NULL : sqlite3_column_type(q->st, c) == SQLITE_NULL;
}
/* A blob column and its length (NULL, 0 for NULL), valid like store_col_text. */
static inline const void *store_col_blob(struct store_q *q, int c, size_t *n)
{
    const void *b;
    if (q->pg)
        return store_pg_blob(q, c, n);
    b = sqlite3_column_blob(q->st, c);
    *n = b ? (size_t)sqlite3_column_bytes(q->st, c) : 0;
    return b;
}
/* Rows the last write statement of this connection changed; the id it inserted. */
int64_t store_changes(struct store *s);
int64_t store_last_id(struct store *s);

int64_t store_total_changes(struct store *s);
/* The backend's words for the last failure on this connection. */
const char *store_errmsg(struct store *s);
/* A statement made for one use (SQL built at run time from a fixed set of pieces, never from
 * input); store_finalize frees it. NULL with err set on failure. */
struct store_q *store_prepare(struct store *s, const char *sql, struct rp_err *err);
void store_finalize(struct store_q *q);
/* Foreign keys of the open transaction checked at its COMMIT instead of per statement. */
int store_defer_foreign_keys(struct store *s, struct rp_err *err);
/* Runs SQL without results (statements separated by ';'): RP_OK, or RP_STORAGE naming what
 * (RP_INSUFFICIENT_STORAGE when the disk is full or the database read-only). */
int store_exec(struct store *s, const char *sql, const char *what, struct rp_err *err);

/* The cached prepared statement for id, reset and unbound; NULL with err set on failure. */
struct store_q *store_stmt(struct store *s, enum store_sql id, struct rp_err *err);
/* RP_STORAGE naming what, or RP_INSUFFICIENT_STORAGE for a full or read-only database. */
int store_sql_error(struct store *s, const char *what, struct rp_err *err);
/* Steps st once, expecting no row (a write), and resets it: RP_OK, or RP_STORAGE with err set.
 * store_changes() and store_last_id() still tell about it afterwards. */
int store_run(struct store *s, struct store_q *st, const char *what, struct rp_err *err);
/* Steps st once and resets it: *exists tells whether it gave a row. */
int store_exists(struct store *s, struct store_q *st, int *exists, const char *what,
                 struct rp_err *err);
/* Column col of the current row as text into dst (n bytes, cut to fit; "" for NULL). */
void store_col_copy(char *dst, size_t n, struct store_q *st, int col);
#define STORE_COPY(dst, st, col) store_col_copy((dst), sizeof(dst), (st), (col))

#endif
