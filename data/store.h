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
#define STORE_TEXT_MAX        256
#define STORE_TIME_MAX        32 /* "2026-11-23T15:04:05.123Z" */

struct store; /* opaque: one connection and its prepared statements */

/* Process-wide SQLite settings; call once, before any other store_ function and any thread.
 * Turns off SQLite's memory statistics, whose global mutex every connection's allocations would
 * otherwise contend on. */
int store_global_init(void);

/* Opens (creating if absent) the database file. Does not migrate: see store_migrate(). */
/* 1 for a PostgreSQL URI (postgresql://... or postgres://...), which store_open connects
 * to; anything else is a SpatiaLite file. */
int store_is_uri(const char *path);
/* path as it may be shown: a URI's password replaced by ***. */
void store_uri_redact(const char *path, char *out, size_t n);
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
 * or the new one, never a mix. Codes must be unique across all levels (RP_CONFLICT). Records
 * the level as an operator's import from source (area_layers): the shipped default never
 * overwrites it. */
int store_areas_replace_level(struct store *s, enum rp_level level, const char *source,
                              const struct store_area *v, size_t n, struct rp_err *err);

/* Where a level's areas came from (the area_layers table). */
#define STORE_VERSION_MAX 65 /* a SHA-256 in hex */
struct store_area_layer {
    int present;                       /* 0: the level has no record (and no areas) */
    char origin[16];                   /* "default" or "import" */
    char version[STORE_VERSION_MAX];   /* default: the shipped files' SHA-256; "" unrecorded */
    char source[STORE_TEXT_MAX];
    char imported_at[STORE_TIME_MAX];
};
int store_area_layers_get(struct store *s, struct store_area_layer out[RP_LEVEL_COUNT],
                          struct rp_err *err);

/* An area whose code or name changed between two versions of the default (from == to when
 * only the name did). */
struct store_area_recode {
    enum rp_level level;
    const char *from, *to, *old_name, *new_name;
};

struct store_rekeyed {
    int64_t municipalities;                          /* entity codes 'MUN-' || distrito */
    int64_t entities, rules, reports, keys, history; /* rows changed */
    int64_t seeded;                                  /* rows the seed scripts added */
};

struct store_area_upgrade {
    const struct store_area *areas[RP_LEVEL_COUNT]; /* every level's new areas */
    size_t n[RP_LEVEL_COUNT];
    const struct store_area_recode *recode;
    size_t nrecode;
    const char *version;                 /* recorded per level as origin 'default' */
    const char *source[RP_LEVEL_COUNT];  /* each level's file */
    const char *actor, *actor_role; /* for the audit rows of re-keyed entities */
    /* Called inside the transaction once everything else is written, with what was
     * re-keyed: the caller adds its audit row there. NULL: none. */
    int (*audit)(void *ctx, struct store *s, const struct store_rekeyed *r, struct rp_err *err);
    void *audit_ctx;
};

/* The shipped default replaces every level, in one transaction with everything keyed by an
 * area code that changed: reports' stored areas (a case keeps where it was located, under the
 * new code), routing rules, entities' areas, and each distrito's municipality entity
 * ('MUN-' || code) with every reference to it (reports, API keys, rules, transfer history),
 * each re-keyed entity audited. The audit log itself is never rewritten. Then the seed scripts
 * run (municipalities of new distritos). Codes that swap are safe: every change is computed
 * from the old values. RP_CONFLICT when a new municipality code is already taken. */
int store_areas_upgrade(struct store *s, const struct store_area_upgrade *u,
                        struct store_rekeyed *out, struct rp_err *err);

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

/* ---- group commit (store_writer.c) ----
 * One thread owns a write connection. Callers hand it a job and wait; it runs every job queued
 * meanwhile in one transaction (each job in a savepoint, so a failing job is undone alone) and
 * commits once: one fsync for the whole batch, instead of one per request. */

struct store_writer;
typedef int (*store_job_fn)(struct store *s, void *arg, struct rp_err *err);

int store_writer_start(const char *path, struct store_writer **out, struct rp_err *err);
/* Runs the jobs still queued, then stops the thread and closes its connection. NULL-safe. */
void store_writer_stop(struct store_writer *w);
/* Runs fn(writer's store, arg) inside the shared transaction and returns after the commit:
 * RP_OK means durable. The job's own error, or the commit's, otherwise. Thread-safe. A job
 * that met another process's commit of the same Idempotency-Key is rolled back and run once
 * more (it then replays): fn must start from scratch each time. */
int store_writer_run(struct store_writer *w, store_job_fn fn, void *arg, struct rp_err *err);
/* Batches committed and jobs run so far (for logs and benchmarks). */
void store_writer_stats(struct store_writer *w, uint64_t *commits, uint64_t *jobs);
/* Histograms of the writer's commits: jobs per commit (bucket i counts batches of at most
 * STORE_WRITER_BATCH_LE[i] jobs, the last bucket the rest) and seconds per commit (bounds
 * STORE_WRITER_SECONDS_LE), per bucket, not cumulative. */
#define STORE_WRITER_BUCKETS 10
extern const double STORE_WRITER_BATCH_LE[STORE_WRITER_BUCKETS - 1];
extern const double STORE_WRITER_SECONDS_LE[STORE_WRITER_BUCKETS - 1];
struct store_writer_hist {
    uint64_t commits, jobs;
    uint64_t batch[STORE_WRITER_BUCKETS], seconds[STORE_WRITER_BUCKETS];
    double seconds_sum;
};
void store_writer_hist(struct store_writer *w, struct store_writer_hist *out);

/* ---- catalogue: services, entities, routing rules (store_catalogue.c) ---- */

/* Goes up after each committed change of services, entities or routing rules made through any
 * connection of this process: a cache of catalogue rows filled while it read v stays good while
 * it still reads v. Changes by another process move it through store_catalogue_changed (on
 * PostgreSQL, from its notifications); on SpatiaLite, changes by the CLI do not. */
uint64_t store_catalogue_version(void);
void store_catalogue_changed(void);

/* ---- other processes' changes (PostgreSQL's LISTEN/NOTIFY; nothing on SpatiaLite) ----
 * The schema's triggers notify every committed change of a case (its id) and of the
 * catalogue. store_listen subscribes this connection; store_notice_wait waits up to
 * timeout_ms for the next: 1 with *kind and *id set, 0 when none came, or an error code. */
enum store_notice { STORE_NOTICE_CASE, STORE_NOTICE_CATALOGUE, STORE_NOTICE_TOW,
                    STORE_NOTICE_TRUCK, STORE_NOTICE_TOWING /* yards or trucks */ };
int store_is_pg(const struct store *s);
int store_listen(struct store *s, struct rp_err *err);
int store_notice_wait(struct store *s, int timeout_ms, enum store_notice *kind, int64_t *id,
                      struct rp_err *err);

struct store_service {
    char code[STORE_CODE_MAX];
    char name_es[STORE_NAME_MAX], name_en[STORE_NAME_MAX], group[STORE_CODE_MAX];
    int sla_hours;
    double dup_radius_m;
    char attributes[4096]; /* Open311 attribute definitions, JSON array text; "" when none */
    int active;
};
int store_service_get(struct store *s, const char *code, struct store_service *out, int *found,
                      struct rp_err *err);
typedef int (*store_service_fn)(void *ctx, const struct store_service *sv, struct rp_err *err);
int store_services_each(struct store *s, store_service_fn fn, void *ctx, struct rp_err *err);
/* Insert or replace by code. */
int store_service_put(struct store *s, const struct store_service *sv, struct rp_err *err);

struct store_entity {
    char code[STORE_CODE_MAX];
    char name[STORE_NAME_MAX];
    char kind[16];                  /* national, utility, municipality */
    char area_code[STORE_CODE_MAX]; /* "" when none */
    int active;
};
int store_entity_get(struct store *s, const char *code, struct store_entity *out, int *found,
                     struct rp_err *err);
typedef int (*store_entity_fn)(void *ctx, const struct store_entity *e, struct rp_err *err);
int store_entities_each(struct store *s, store_entity_fn fn, void *ctx, struct rp_err *err);
int store_entity_put(struct store *s, const struct store_entity *e, struct rp_err *err);

struct store_rule {
    int64_t id;
    char service_code[STORE_CODE_MAX];
    char area_code[STORE_CODE_MAX];   /* "" = national */
    char entity_code[STORE_CODE_MAX]; /* "" when to_municipality */
    int to_municipality;
    int priority;
    int sla_hours; /* 0: the service's */
    char note[STORE_TEXT_MAX];
};
typedef int (*store_rule_fn)(void *ctx, const struct store_rule *r, struct rp_err *err);
/* The rules of service that apply at a point covered by areas[] (corregimiento, distrito,
 * provincia codes; NULL where a level does not cover it), most specific first, then by
 * priority (higher first), then id. National rules come last. */
int store_rules_for(struct store *s, const char *service, const char *const areas[3],
                    store_rule_fn fn, void *ctx, struct rp_err *err);
int store_rules_each(struct store *s, store_rule_fn fn, void *ctx, struct rp_err *err);
int store_rule_get(struct store *s, int64_t id, struct store_rule *out, int *found,
                   struct rp_err *err);
/* id 0: insert (*id receives the new one); else update. */
int store_rule_put(struct store *s, struct store_rule *r, struct rp_err *err);
/* Rules of service that are national with a fixed entity: the fallback every service needs. */
int store_rules_national(struct store *s, const char *service, int *n, struct rp_err *err);
int store_rule_delete(struct store *s, int64_t id, int *deleted, struct rp_err *err);

/* ---- reports (store_reports.c) ---- */

#define STORE_CASE_MAX 16 /* "2026-000123" */
#define STORE_DESC_MAX 4001

struct store_report {
    int64_t id;
    char case_no[STORE_CASE_MAX];
    char service_code[STORE_CODE_MAX];
    char status[16];
    double lat, lon;
    char area[3][STORE_CODE_MAX]; /* corregimiento, distrito, provincia; "" = not covered */
    double snapped_m;             /* 0: inside */
    char location_source[16];
    char address[STORE_TEXT_MAX];
    char description[STORE_DESC_MAX];
    char attributes[2048]; /* JSON object text; "" when none */
    char reporter_name[STORE_NAME_MAX], reporter_email[STORE_NAME_MAX];
    char reporter_phone[64], device_id[STORE_NAME_MAX];
    char entity_code[STORE_CODE_MAX];
    int64_t rule_id, duplicate_of; /* 0: none */
    int confirmations;
    int overdue;
    char created_at[STORE_TIME_MAX], updated_at[STORE_TIME_MAX], due_at[STORE_TIME_MAX];
    char closed_at[STORE_TIME_MAX];
    int is_private; /* the description is for the entity's staff and admins only */
};

struct store_photo {
    char sha256[65];
    int width, height, thumb_width, thumb_height;
    const char *kind;     /* "report" or "after" */
    const char *added_by; /* "reporter", "key:<id>" */
};

struct store_report_new {
    struct store_report *r;       /* service_code, lat/lon, area, snapped_m, location_source,
                                     address, description, attributes, reporter_*, device_id,
                                     is_private, entity_code, rule_id, created_at, due_at; the insert sets
                                     id, case_no, status and updated_at */
    unsigned char token_hash[STORE_HASH_LEN];
    const char *token;            /* kept with the idempotency key only, for a replay */
    const char *idempotency_key;  /* NULL: none */
    unsigned char body_hash[STORE_HASH_LEN];
    const char *actor, *actor_role, *actor_entity;
    const struct store_photo *photos; /* inserted with the case */
    int nphotos;
};

/* Inside the caller's transaction: numbers the case (YYYY-NNNNNN, Panama's year), inserts it
 * and its 'created' history row, and records the idempotency key. With a key seen before:
 * the same body -> *replayed = 1, out_id and token (the one first issued, up to 64 bytes) of
 * that case; a different body -> RP_INVALID_DATA. */
int store_report_insert(struct store *s, const struct store_report_new *n, int64_t *out_id,
                        int *replayed, char token[64], struct rp_err *err);

/* By case number ("2026-000123") or by the reporter's token hash. */
int store_report_get(struct store *s, const char *case_no, struct store_report *out,
                     int *found, struct rp_err *err);
int store_report_by_id(struct store *s, int64_t id, struct store_report *out, int *found,
                       struct rp_err *err);
int store_report_by_token(struct store *s, const unsigned char hash[STORE_HASH_LEN],
                          struct store_report *out, int *found, struct rp_err *err);

struct store_report_query {
    int has_bbox;
    double bbox[4];          /* min lon, min lat, max lon, max lat */
    const char *statuses;    /* ",received,assigned," or NULL */
    const char *service, *entity, *area, *since, *until; /* NULL: any */
    int overdue;             /* 1: open and past due only */
    int64_t before_id;       /* keyset cursor: ids below it; 0 from the newest */
    const char *case_nos;    /* ",2026-000001,2026-000002," or NULL */
    int limit;
};
typedef int (*store_report_fn)(void *ctx, const struct store_report *r, struct rp_err *err);
/* Newest first (by id). With a bbox the R*Tree of reports.geom answers. */
int store_reports_query(struct store *s, const struct store_report_query *q,
                        store_report_fn fn, void *ctx, struct rp_err *err);
/* What a possible duplicate shows: the few columns read for it. */
struct store_near {
    int64_t id;
    char case_no[STORE_CASE_MAX];
    char status[16];
    char created_at[STORE_TIME_MAX];
    double lat, lon;
    int confirmations;
};
/* Returns 1 for the next candidate, 0 when it has enough. */
typedef int (*store_near_fn)(void *ctx, const struct store_near *n);
/* Open cases of service created since `since`, inside the box around a point, newest first
 * (candidates for possible duplicates; the caller measures the exact distance). */
int store_reports_near(struct store *s, const char *service, const double bbox[4],
                       const char *since, store_near_fn fn, void *ctx, struct rp_err *err);

/* Sets status (and closed_at when it closes, duplicate_of for duplicates) if the case is still
 * in status `from`; *changed = 0 otherwise (someone else moved it). */
int store_report_set_status(struct store *s, int64_t id, const char *from, const char *to,
                            int closes, int64_t duplicate_of, int *changed, struct rp_err *err);
int store_report_set_entity(struct store *s, int64_t id, const char *entity, const char *status,
                            struct rp_err *err);

struct store_history {
    int64_t id;
    const char *at, *kind, *actor, *actor_role, *actor_entity, *from, *to, *note;
};
int store_history_add(struct store *s, int64_t report_id, const struct store_history *h,
                      struct rp_err *err);
typedef int (*store_history_fn)(void *ctx, const struct store_history *h, struct rp_err *err);
int store_history_each(struct store *s, int64_t report_id, store_history_fn fn, void *ctx,
                       struct rp_err *err);

/* One confirmation per device (device_id NULL: always counted). *added = 0 for a repeat. */
int store_report_confirm(struct store *s, int64_t report_id, const char *device_id, int *added,
                         struct rp_err *err);

/* ---- case points for maps and hotspots (store_points.c) ---- */

/* The few columns a map needs of a case. Strings are valid only during the callback. */
struct store_point {
    int64_t id;
    const char *case_no, *service_code, *status, *entity_code;
    const char *area[3]; /* corregimiento, distrito, provincia; "" = not covered */
    double lat, lon;
    const char *created_at, *due_at;
    int confirmations;
};
typedef int (*store_point_fn)(void *ctx, const struct store_point *p, struct rp_err *err);
/* Every open case, by id (for the in-memory map at startup). */
int store_points_open(struct store *s, store_point_fn fn, void *ctx, struct rp_err *err);
/* One case by id; *found 0 when none. */
int store_point_get(struct store *s, int64_t id, store_point_fn fn, void *ctx, int *found,
                    struct rp_err *err);
/* The cases a store_report_query selects (its filters, bbox through the R*Tree, limit), newest
 * first, with the map's columns only. */
int store_points_query(struct store *s, const struct store_report_query *q, store_point_fn fn,
                       void *ctx, struct rp_err *err);

/* ---- photos (store_reports.c) ---- */

/* Inside the caller's transaction; a photo already on the case is not added twice. */
int store_photo_add(struct store *s, int64_t report_id, const struct store_photo *p,
                    struct rp_err *err);
typedef int (*store_photo_fn)(void *ctx, const struct store_photo *p, struct rp_err *err);
int store_photos_each(struct store *s, int64_t report_id, store_photo_fn fn, void *ctx,
                      struct rp_err *err);
int store_photo_known(struct store *s, const char *sha256, int *known, struct rp_err *err);

/* ---- towed vehicles: yards, trucks, positions, tows (store_tows.c) ---- */

#define STORE_PLATE_MAX    16
#define STORE_TICKET_MAX   64
#define STORE_DOCS_MAX     2048
#define STORE_GEOFENCE_MAX 262144 /* GeoJSON text of a yard's fence */

struct store_yard {
    int64_t id;
    char code[STORE_CODE_MAX], name[STORE_NAME_MAX], address[STORE_TEXT_MAX];
    double lat, lon;
    const char *geofence; /* GeoJSON text, or NULL with radius_m; in callbacks: during the call */
    double radius_m;      /* 0 with a geofence */
    char hours_es[STORE_TEXT_MAX], hours_en[STORE_TEXT_MAX], phone[64];
    int64_t tow_fee_cents, daily_fee_cents;
    char documents_es[STORE_DOCS_MAX], documents_en[STORE_DOCS_MAX];
    int active;
    char updated_at[STORE_TIME_MAX]; /* set by the store */
};
/* Insert or replace by code; *created 1 for a new code. */
int store_yard_put(struct store *s, struct store_yard *y, int *created, struct rp_err *err);
typedef int (*store_yard_fn)(void *ctx, const struct store_yard *y, struct rp_err *err);
int store_yards_each(struct store *s, store_yard_fn fn, void *ctx, struct rp_err *err);
/* RP_CONFLICT when a tow names the yard (deactivate it instead); *deleted 0 when unknown. */
int store_yard_delete(struct store *s, const char *code, int *deleted, struct rp_err *err);

struct store_truck {
    int64_t id;
    char code[STORE_CODE_MAX], entity_code[STORE_CODE_MAX], plate[STORE_PLATE_MAX];
    int active;
    char updated_at[STORE_TIME_MAX];
};
int store_truck_put(struct store *s, struct store_truck *t, int *created, struct rp_err *err);
typedef int (*store_truck_fn)(void *ctx, const struct store_truck *t, struct rp_err *err);
int store_trucks_each(struct store *s, store_truck_fn fn, void *ctx, struct rp_err *err);
/* RP_CONFLICT when the truck has tows or positions. */
int store_truck_delete(struct store *s, const char *code, int *deleted, struct rp_err *err);

struct store_position {
    char at[STORE_TIME_MAX]; /* the device's time, UTC, "YYYY-MM-DDTHH:MM:SS.sssZ" */
    double lat, lon;
    double speed_kmh, heading; /* NaN: not sent */
};
/* Inside the caller's transaction; a point the truck already sent for the same time is kept
 * once. *added counts the new rows. */
int store_positions_add(struct store *s, int64_t truck_id, const struct store_position *v,
                        size_t n, size_t *added, struct rp_err *err);
typedef int (*store_position_fn)(void *ctx, int64_t truck_id, const struct store_position *p,
                                 struct rp_err *err);
/* A truck's points since `since` (NULL: all), oldest first, at most limit. */
int store_positions_each(struct store *s, int64_t truck_id, const char *since, int limit,
                         store_position_fn fn, void *ctx, struct rp_err *err);
/* Every truck's newest point (for the in-memory latest positions at startup). */
int store_positions_latest(struct store *s, store_position_fn fn, void *ctx,
                           struct rp_err *err);

struct store_tow {
    int64_t id;
    char plate[STORE_PLATE_MAX], make[64], colour[32], vehicle_type[32];
    double lat, lon;
    char area[3][STORE_CODE_MAX]; /* corregimiento, distrito, provincia; "" = not covered */
    char address[STORE_TEXT_MAX], reason[STORE_TEXT_MAX], ticket[STORE_TICKET_MAX];
    unsigned char ticket_key[STORE_HASH_LEN];
    char entity_code[STORE_CODE_MAX];
    int64_t truck_id, yard_id, report_id; /* report_id 0: none */
    char status[16];
    char created_at[STORE_TIME_MAX], towing_at[STORE_TIME_MAX], at_yard_at[STORE_TIME_MAX];
    char released_at[STORE_TIME_MAX], cancelled_at[STORE_TIME_MAX], updated_at[STORE_TIME_MAX];
};
/* Inside the caller's transaction: inserts t (status, created_at as given) and sets t->id. */
int store_tow_insert(struct store *s, struct store_tow *t, struct rp_err *err);
int store_tow_get(struct store *s, int64_t id, struct store_tow *out, int *found,
                  struct rp_err *err);
/* Moves the tow from `from` to `to` at time `at` (its <to>_at column), if still in `from`. */
int store_tow_set_status(struct store *s, int64_t id, const char *from, const char *to,
                         const char *at, int *changed, struct rp_err *err);
typedef int (*store_tow_fn)(void *ctx, const struct store_tow *t, struct rp_err *err);
/* Tows not yet released or cancelled (for the in-memory lookup table at startup), by id. */
int store_tows_active_each(struct store *s, store_tow_fn fn, void *ctx, struct rp_err *err);
/* Newest first: of entity (NULL: all), of plate (NULL: any), in status (NULL: any), ids below
 * before_id (0: from the newest), at most limit. */
int store_tows_query(struct store *s, const char *entity, const char *plate, const char *status,
                     int64_t before_id, int limit, store_tow_fn fn, void *ctx,
                     struct rp_err *err);

struct store_tow_change {
    int64_t id;
    const char *at, *from, *to, *actor, *actor_role, *note; /* from NULL: created */
};
int store_tow_history_add(struct store *s, int64_t tow_id, const struct store_tow_change *c,
                          struct rp_err *err);
typedef int (*store_tow_change_fn)(void *ctx, const struct store_tow_change *c,
                                   struct rp_err *err);
int store_tow_history_each(struct store *s, int64_t tow_id, store_tow_change_fn fn, void *ctx,
                           struct rp_err *err);

/* ---- statistics (store_stats.c): sums of the stats_* tables the triggers of migration 0008
 * keep as cases change ---- */

enum store_stat_key {
    STORE_STAT_ENTITY,
    STORE_STAT_SERVICE,
    STORE_STAT_PROVINCIA,
    STORE_STAT_DISTRITO,
    STORE_STAT_CORREGIMIENTO,
    STORE_STAT_MONTH, /* of creation, Panama time: "2026-11" */
    STORE_STAT_KEYS
};
#define STORE_STAT_GROUPS_MAX 2

struct store_stats_query {
    enum store_stat_key keys[STORE_STAT_GROUPS_MAX];
    int nkeys;                       /* 0: one group, everything */
    const char *from, *to;           /* Panama days "YYYY-MM-DD", inclusive; NULL: open-ended */
    const char *service, *entity;    /* NULL: any */
    const char *area;                /* a provincia, distrito or corregimiento code; NULL: any */
    const char *now;                 /* UTC time for "overdue now" */
};

struct store_stat_hours {
    int64_t hours, n; /* n closed cases took [hours, hours + 1) hours */
};

struct store_stat_group {
    char key[STORE_STAT_GROUPS_MAX][STORE_CODE_MAX]; /* "" where a level did not cover a case */
    int64_t received, open, closed, closed_in_sla, confirmations, overdue;
    int64_t ratings, rating_sum; /* ratings given, and the sum of their scores (1-5) */
    int64_t followed_up;         /* cases whose reporter heard of progress within 30 days */
    int64_t tows; /* tows requested in the group; -1 where the grouping or filter names a
                     service or entity (tows have neither); only groups that have cases */
    struct store_stat_hours *hours; /* ascending; nhours entries */
    size_t nhours;
    int has_quantiles;              /* 1: median and p90 below, computed already (hours unused) */
    int64_t median, p90;
};

/* A case as the scorecard counts it (strings valid during the callback). */
struct store_score_case {
    int64_t id;
    const char *day;                     /* of creation, Panama time, "2026-11-23" */
    const char *entity, *service, *area[3]; /* area: corregimiento, distrito, provincia; "" */
    int closed, in_sla, followed_up;     /* followed_up: within 30 days of creation */
    int64_t hours;                       /* to close, whole hours; -1 while open */
    int64_t due;                         /* Unix seconds */
    int confirmations, rating;           /* rating 0: none */
};
typedef int (*store_score_fn)(void *ctx, const struct store_score_case *c, struct rp_err *err);
/* Every case, by id; or one (*found 0 when it is gone). */
int store_score_all(struct store *s, store_score_fn fn, void *ctx, struct rp_err *err);
int store_score_one(struct store *s, int64_t id, store_score_fn fn, void *ctx, int *found,
                    struct rp_err *err);
/* The change log (migration 0013): the newest seq; up to limit (seq, report id) after seq;
 * and, inside the caller's transaction, the rows up to seq deleted, but never the newest (so
 * SQLite never numbers a later row below it). */
int store_score_log_top(struct store *s, int64_t *seq, struct rp_err *err);
/* The oldest seq still in the log (0: empty). */
int store_score_log_min(struct store *s, int64_t *seq, struct rp_err *err);
/* The case of log row seq, if that row is there (now: a transaction may commit it late). */
int store_score_log_at(struct store *s, int64_t seq, int64_t *report_id, int *found,
                       struct rp_err *err);
typedef int (*store_score_log_fn)(void *ctx, int64_t seq, int64_t report_id);
int store_score_log(struct store *s, int64_t after, int limit, store_score_log_fn fn, void *ctx,
                    struct rp_err *err);
int store_score_log_prune(struct store *s, int64_t upto, struct rp_err *err);
/* Only the tows of q's groups (v, n, ordered by their keys), as store_stats_query counts them. */
int store_stats_tows(struct store *s, const struct store_stats_query *q,
                     struct store_stat_group *v, size_t n, struct rp_err *err);

/* Every group of q (ordered by its keys), into *out (malloc'd, with each group's hours; free
 * with store_stats_free). */
int store_stats_query(struct store *s, const struct store_stats_query *q,
                      struct store_stat_group **out, size_t *n, struct rp_err *err);
void store_stats_free(struct store_stat_group *v, size_t n);

/* ---- open data (store_export.c) ---- */

/* One case as the open-data export publishes it: no reporter field, no token, no photo, and
 * the description empty when the case is private. Location as stored (the caller rounds). */
struct store_export_row {
    int64_t id;
    const char *case_no, *service_code, *service_name, *entity_code, *entity_name, *status;
    const char *created_at, *closed_at, *due_at; /* closed_at "" while open */
    int within_sla;                              /* 1, 0; -1 while open */
    const char *area_code[3], *area_name[3];     /* corregimiento, distrito, provincia; "" */
    double lat, lon;
    const char *description;
};
typedef int (*store_export_fn)(void *ctx, const struct store_export_row *r, struct rp_err *err);
/* Up to limit cases created in [after_created, until), in (created_at, id) order, after the
 * cursor (after_created, after_id); *n receives how many. Times are "YYYY-MM-DDTHH:MM:SSZ". */
int store_export_page(struct store *s, const char *after_created, int64_t after_id,
                      const char *until, int limit, store_export_fn fn, void *ctx, size_t *n,
                      struct rp_err *err);
/* Months (Panama time, "2026-11") with at least one case, oldest first, and their counts. */
typedef int (*store_month_fn)(void *ctx, const char *month, int64_t cases, struct rp_err *err);
int store_export_months(struct store *s, store_month_fn fn, void *ctx, struct rp_err *err);

/* ---- backup (store_backup.c): SpatiaLite files only ---- */

struct progress;
struct store_backup_info {
    int pages;
    int64_t bytes;
};
/* An online, consistent copy of the file db at to (replaced whole, atomically), while the
 * server runs; p (NULL: none) counts pages. PostgreSQL: refused, with what to use instead. */
int store_backup(const char *db, const char *to, struct progress *p, struct store_backup_info *info,
                 struct rp_err *err);

struct store_verify_info {
    int integrity_ok, rtrees_ok, foreign_keys_ok, schema;
    int64_t reports, photos;
};
/* Opens the file read-only and runs PRAGMA integrity_check, rtreecheck on the spatial
 * indexes and PRAGMA foreign_key_check; the first failure is the error. */
int store_verify(const char *path, struct store_verify_info *v, struct rp_err *err);

/* ---- outbox (store_outbox.c) ---- */

#define STORE_URL_MAX    1024
#define STORE_SECRET_MAX 128

struct store_webhook {
    int64_t id;
    const char *url, *secret, *source, *last_error;
    int trusted, active;
    int64_t delivered, failures, pending;
};
typedef int (*store_webhook_fn)(void *ctx, const struct store_webhook *w, struct rp_err *err);
/* The --webhook set: each URL active with this secret and trust, every other 'flag' webhook
 * inactive (its pending deliveries kept). One transaction. */
int store_webhooks_sync(struct store *s, const char *const *urls, const int *trusted, int n,
                        const char *secret, struct rp_err *err);
int store_webhooks_each(struct store *s, int active_only, store_webhook_fn fn, void *ctx,
                        struct rp_err *err);

struct store_delivery {
    int64_t event_id, report_id, tow_id; /* 0: none */
    const char *uid, *type, *stream, *payload;
    int attempts;
};
typedef int (*store_delivery_fn)(void *ctx, const struct store_delivery *d, struct rp_err *err);
/* Up to limit deliveries of webhook that are due at now_ms, each the oldest of its stream.
 * Where several processes share the database (PostgreSQL) it is at most one, returned inside
 * a transaction left open that holds its row (FOR UPDATE SKIP LOCKED: the other processes
 * skip it, and the events behind it, while it is tried); done, failed or release end that
 * transaction, and a process killed meanwhile drops the lock with its connection, so the
 * event is due again at once and delivered once between the processes. A single file has a
 * single process: nothing is held there. */
int store_deliveries_due(struct store *s, int64_t webhook, int64_t now_ms, int limit,
                         store_delivery_fn fn, void *ctx, struct rp_err *err);
/* Acknowledged: the delivery row goes. */
int store_delivery_done(struct store *s, int64_t webhook, int64_t event_id, struct rp_err *err);
/* Returned and not tried (stopping, or the endpoint is held): unchanged, and no longer held. */
void store_delivery_release(struct store *s);
/* Not acknowledged: one more attempt counted, and the stream waits until next_at_ms. */
int store_delivery_failed(struct store *s, int64_t webhook, int64_t event_id, const char *stream,
                          int64_t next_at_ms, const char *error, struct rp_err *err);
/* What only trusted webhooks receive: the reporter's contact of a case ("" when not given),
 * the plate of a tow. */
int store_event_contact(struct store *s, int64_t report_id, int64_t tow_id,
                        char name[STORE_NAME_MAX], char email[STORE_NAME_MAX], char phone[64],
                        char plate[STORE_CODE_MAX], struct rp_err *err);

/* The Open311 service request updates feed: changes of cases (not their creation, not what an
 * Open311 client posted itself) whose time is in [since, until] ("YYYY-MM-DDTHH:MM:SSZ"), in
 * the order they were committed. status: the case's status right after the change. */
struct store_update {
    const char *uid, *case_no, *type, *at, *status, *kind, *from, *to, *note, *photo_url;
};
typedef int (*store_update_fn)(void *ctx, const struct store_update *u, struct rp_err *err);
int store_updates_each(struct store *s, const char *since, const char *until, int limit,
                       store_update_fn fn, void *ctx, struct rp_err *err);
/* Inside the caller's transaction: a citizen's update of a case as a history row of kind
 * 'update' by actor, and the uid of the event it made. An actor that already posted to this
 * case (an Open311 client's update_id, say) gets its first update's uid, *replayed = 1. */
int store_update_add(struct store *s, int64_t report_id, const char *actor, const char *status,
                     const char *note, char uid[40], int *replayed, struct rp_err *err);

/* ---- satisfaction and follow-up (store_followups.c) ---- */

/* Inside the caller's transaction: the reporter's one rating of a case (comment may be NULL);
 * *again = 1 when the case was rated before (nothing changes). The score goes on the case too,
 * for the statistics, and a history row of kind 'rating' (without the comment). */
int store_rating_add(struct store *s, int64_t report_id, int score, const char *comment,
                     int reopened, int *again, struct rp_err *err);

/* One transaction: a followup_due for up to limit cases open with no change since before
 * quiet_since, and a satisfaction_requested for up to limit cases closed since closed_since and
 * not rated; each with its history row and event. Times "YYYY-MM-DDTHH:MM:SSZ". Call again
 * while either count reaches limit (short transactions: the writer is not kept waiting). */
int store_followups_raise(struct store *s, const char *now, const char *quiet_since,
                          const char *closed_since, int limit, int *due, int *satisfaction,
                          struct rp_err *err);

struct store_followup {
    int64_t id;
    const char *kind, *raised_at, *case_no, *service_code, *status, *entity_code, *created_at,
        *closed_at, *reporter_name, *reporter_email, *reporter_phone;
};
typedef int (*store_followup_fn)(void *ctx, const struct store_followup *f, struct rp_err *err);
/* Open follow-ups (entity, kind NULL: any), oldest first, after id `after`, at most limit. */
int store_followups_open(struct store *s, const char *entity, const char *kind, int64_t after,
                         int limit, store_followup_fn fn, void *ctx, struct rp_err *err);
/* Marks follow-up id done by actor (a history row 'followup' -> 'done' on its case). found: 0
 * when there is none; its entity in entity (for the caller's check, made before: pass
 * check_entity NULL to skip). RP_CONFLICT when it was done already. */
int store_followup_done(struct store *s, int64_t id, const char *check_entity, const char *actor,
                        const char *role, const char *note, int *found, struct rp_err *err);

#endif
