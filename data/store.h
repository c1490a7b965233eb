/*
 * data/store.h - reporta's storage: one SpatiaLite database file behind the store_ interface.
 * All SQL lives in data/store*.c; callers see operations, never statements, so a second backend
 * (PostGIS) can replace this one without touching handlers. A struct store is one connection:
 * use it from one thread at a time (each server worker opens its own). The file runs in WAL
 * mode with synchronous=FULL, so a committed transaction survives a crash or power loss.
 * Statements are prepared once per connection and reused.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/level.h"

#define STORE_BUSY_TIMEOUT_MS 5000 /* a writer waits this long for another before failing */
#define STORE_CODE_MAX        32   /* area codes: INEC uses 2, 4 and 6 digits */
#define STORE_NAME_MAX        128

struct store; /* opaque: one connection and its prepared statements */

/* Process-wide SQLite settings; call once, before any other store_ function and any thread.
 * Turns off SQLite's memory statistics, whose global mutex every connection's allocations would
 * otherwise contend on. */
int store_global_init(void);

/* Opens (creating if absent) the database file. Does not migrate: see store_migrate(). */
int store_open(const char *path, struct store **out, struct rp_err *err);
void store_close(struct store *s); /* NULL-safe; finalizes statements, closes the file */

/* Applies every migration newer than the file's version, each in its own transaction.
 * *applied (optional) receives how many ran. Existing rows are never dropped. */
int store_migrate(struct store *s, int *applied, struct rp_err *err);
int store_schema_version(struct store *s, int *version, struct rp_err *err);
int store_schema_latest(void); /* the newest migration this program carries */
int store_ping(struct store *s, struct rp_err *err); /* a trivial read: is the file usable */

/* BEGIN IMMEDIATE ... COMMIT on rc == RP_OK, ROLLBACK otherwise; store_end returns rc or the
 * commit's failure. One logical change = one transaction. */
int store_begin(struct store *s, struct rp_err *err);
int store_end(struct store *s, int rc, struct rp_err *err);

/* Runs every seed script (data/seed, idempotent inserts such as the national entities
 * and one municipality per imported distrito) in one transaction. */
int store_seed(struct store *s, struct rp_err *err);

/* ---- areas (store_areas.c) ---- */

struct store_area {
    enum rp_level level;
    const char *code, *name, *parent_code; /* parent_code may be NULL */
    const unsigned char *wkb;              /* MULTIPOLYGON in EPSG:4326, ISO WKB */
    size_t wkb_len;
};

/* Counts per level; counts[] has RP_LEVEL_COUNT entries. */
int store_areas_count(struct store *s, int64_t counts[], struct rp_err *err);

/* Replaces every area of one level by v[0..n-1] in one transaction: readers see the old level
 * or the new one, never a mix. Codes must be unique across all levels (RP_CONFLICT). */
int store_areas_replace_level(struct store *s, enum rp_level level, const char *source,
                              const struct store_area *v, size_t n, struct rp_err *err);

/* Calls fn once per area (all levels, ordered by level then code). The pointers in *a are
 * valid only during the call. fn returns RP_OK to go on, anything else stops and is returned. */
typedef int (*store_area_fn)(void *ctx, const struct store_area *a, struct rp_err *err);
int store_areas_each(struct store *s, store_area_fn fn, void *ctx, struct rp_err *err);

/* The slow reference path: the smallest code of `level` whose polygon covers (lon, lat),
 * through SpatiaLite's ST_Covers and its R*Tree index. code[0] == '\0' when none covers it.
 * Tests and bench/locate compare the in-memory index against this. */
int store_areas_locate_sql(struct store *s, enum rp_level level, double lon, double lat,
                           char code[STORE_CODE_MAX], struct rp_err *err);

/* ---- shapefiles (store_areas.c): read with SpatiaLite's own loader ---- */

struct store_shp_row {
    const unsigned char *wkb; /* geometry as stored in the file's CRS, ISO WKB */
    size_t wkb_len;
    int nfields;
    const char *const *names;  /* DBF field names */
    const char *const *values; /* as text; NULL for a NULL field */
};
typedef int (*store_shp_fn)(void *ctx, const struct store_shp_row *row, struct rp_err *err);

/* Loads PATH (with or without ".shp") into a private in-memory database and calls fn per row.
 * charset is the DBF text encoding ("UTF-8" when NULL). */
int store_shapefile_each(const char *path, const char *charset, store_shp_fn fn, void *ctx,
                         struct rp_err *err);

/* ---- entities, API keys and the audit log (store_keys.c) ---- */

#define STORE_HASH_LEN 32 /* SHA-256 */
#define STORE_ROLE_MAX 16
#define STORE_TIME_MAX 32 /* "2026-11-23T15:04:05.123Z" */

int store_entity_exists(struct store *s, const char *code, int *exists, struct rp_err *err);

struct store_key {
    int64_t id;
    char name[STORE_NAME_MAX];
    char role[STORE_ROLE_MAX];
    char entity[STORE_CODE_MAX]; /* "" when the key has none */
    char prefix[16];             /* the key's first characters: enough to recognise, not to use */
    char created_at[STORE_TIME_MAX];
    char revoked_at[STORE_TIME_MAX]; /* "" while the key is valid */
};

/* entity may be NULL. RP_INVALID_ARGUMENT when the entity does not exist. */
int store_key_insert(struct store *s, const char *name, const char *role, const char *entity,
                     const char *prefix, const unsigned char hash[STORE_HASH_LEN], int64_t *id,
                     struct rp_err *err);
/* *found = 0 when no key has this hash; revoked keys are found (revoked_at set). */
int store_key_by_hash(struct store *s, const unsigned char hash[STORE_HASH_LEN],
                      struct store_key *out, int *found, struct rp_err *err);
int store_key_get(struct store *s, int64_t id, struct store_key *out, int *found,
                  struct rp_err *err);
/* Sets revoked_at; *changed = 0 when the key is unknown or already revoked. */
int store_key_revoke(struct store *s, int64_t id, int *changed, struct rp_err *err);
typedef int (*store_key_fn)(void *ctx, const struct store_key *k, struct rp_err *err);
int store_keys_each(struct store *s, store_key_fn fn, void *ctx, struct rp_err *err);

struct store_audit {
    int64_t id;
    const char *at; /* set by the store on insert */
    const char *actor, *actor_role, *actor_entity, *action, *target;
    const char *before, *after; /* JSON text or NULL */
};
/* Appends one row; call inside the transaction of the change it records. */
int store_audit_add(struct store *s, const struct store_audit *a, struct rp_err *err);
typedef int (*store_audit_fn)(void *ctx, const struct store_audit *a, struct rp_err *err);
/* Newest first: rows with id < before_id (0: from the newest), of target (NULL: all), at most
 * limit of them. */
int store_audit_each(struct store *s, const char *target, int64_t before_id, int limit,
                     store_audit_fn fn, void *ctx, struct rp_err *err);

#endif
