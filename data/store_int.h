/*
 * data/store_int.h - what the store_*.c files share and nothing else sees: the connection
 * struct, the statement table and the migration list. SQL text lives in the .c files.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <sqlite3.h>

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
    SQL_SCORE_LOG_PRUNE,
    SQL__COUNT
};

struct store {
    sqlite3 *db;
    void *spatialite; /* spatialite_alloc_connection() cache */
    sqlite3_stmt *stmt[SQL__COUNT];
    int in_tx;
    int catalogue_dirty; /* this transaction changed services, entities or rules */
};
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

/* The cached prepared statement for id, reset and unbound; NULL with err set on failure. */
sqlite3_stmt *store_stmt(struct store *s, enum store_sql id, struct rp_err *err);
int store_sql_error(struct store *s, const char *what, struct rp_err *err); /* RP_STORAGE */
/* Steps st once, expecting no row (a write), and resets it: RP_OK, or RP_STORAGE with err set.
 * sqlite3_changes() and sqlite3_last_insert_rowid() still tell about it afterwards. */
int store_run(struct store *s, sqlite3_stmt *st, const char *what, struct rp_err *err);
/* Steps st once and resets it: *exists tells whether it gave a row. */
int store_exists(struct store *s, sqlite3_stmt *st, int *exists, const char *what,
                 struct rp_err *err);
/* Column col of the current row as text into dst (n bytes, cut to fit; "" for NULL). */
void store_col_copy(char *dst, size_t n, sqlite3_stmt *st, int col);
#define STORE_COPY(dst, st, col) store_col_copy((dst), sizeof(dst), (st), (col))
/* Column col of the current row as text, valid until the next step or reset; NULL for NULL. */
static inline const char *store_col_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

#endif
