/*
 * server/cases.h - the life of a case: where it goes (routing rules over the located point),
 * when it is due (SLA), how it is created (validated, located, routed, numbered and committed
 * through the group-commit writer, idempotently), how its status may move, and transfers.
 * Handlers parse HTTP and render; everything a case must obey is here.
 */
#ifndef CASES_H
#define CASES_H

#include <jansson.h>

#include "geo/locate.h"
#include "media/photo.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/worker.h"

#define CASES_DUP_DAYS       7
#define CASES_DUP_MAX        10
#define CASES_TOKEN_PREFIX   "rpt_"
#define CASES_SLA_MAX_HOURS  720 /* the legal limit: 30 days */
#define CASES_DESC_MAX       4000
#define CASES_IDEM_KEY_MAX   128
#define CASES_PHOTOS_MAX     5

struct cases_route {
    struct store_rule rule;
    struct store_entity entity;
    int sla_hours;
};

/* The process's cache of catalogue rows (app->catalogue; thread-safe). NULL without memory. */
struct cases_cache *cases_cache_create(void);
void cases_cache_destroy(struct cases_cache *c);

/* The service with this code (*found 0 when none), through app->catalogue: the database is read
 * once per service until an admin edits the catalogue. */
int cases_service(struct app *app, struct worker *w, const char *code, struct store_service *out,
                  int *found, struct rp_err *err);

/* The entity for a service at a point covered by areas[] (corregimiento, distrito, provincia;
 * "" where not covered): the most specific rule whose entity exists and is active; cached like
 * cases_service. RP_INTERNAL (logged) when none resolves: every service must have a national
 * rule. */
int cases_route(struct app *app, struct worker *w, const struct store_service *sv,
                const char *const areas[3], struct cases_route *out, struct rp_err *err);

/* Fills areas[] (and snapped_m) of r from a geo_place. */
void cases_place_codes(const struct geo_place *p, struct store_report *r);

struct cases_input {
    const char *service_code;
    double lat, lon;
    const char *description, *address, *device_id;
    const char *reporter_name, *reporter_email, *reporter_phone;
    json_t *attributes;           /* object or NULL; borrowed */
    const char *location_source;  /* "device" */
    const char *idempotency_key;  /* NULL: none */
    const unsigned char *body_hash; /* of the canonical request, with an idempotency key */
    int has_point;                /* 0: take the position from a photo's EXIF GPS */
    int is_private;               /* the description only for the entity's staff */
    const struct media_photo *photos; /* processed already; written with the case */
    int nphotos;
};

struct cases_created {
    struct store_report report;
    struct store_service service;
    struct cases_route route;
    char token[64];
    int replayed;                 /* an earlier request with the same Idempotency-Key */
    json_t *duplicates;           /* [{"id", "distance_m", "status", "created_at"}], owned */
};

/* given (a report's attributes object) against sv's Open311 attribute definitions: known
 * codes only, values of their datatype (list values from the list), the required ones there.
 * RP_INVALID_ARGUMENT naming the attribute; RP_INTERNAL for unreadable definitions. Pure. */
int cases_attributes_check(const struct store_service *sv, json_t *given, struct rp_err *err);

/* Validates against the catalogue (service active, attributes), locates, routes, finds
 * possible duplicates, then commits through app->writer. RP_OK means durable. */
int cases_create(struct app *app, struct worker *w, const struct principal *who,
                 const struct cases_input *in, struct cases_created *out, struct rp_err *err);

/* May who (or the holder of token) add photos to the case? The reporter (token) adds more of
 * the report, staff of its entity "after" pictures; *reporter says which. 401/403/404. */
int cases_photo_access(struct worker *w, const struct principal *who, const char *case_no,
                       const char *token, int *reporter, struct rp_err *err);
/* Stores processed photos and adds them to the case (after cases_photo_access). */
int cases_add_photos(struct app *app, struct worker *w, const struct principal *who,
                     const char *case_no, int reporter, const struct media_photo *photos, int n,
                     struct rp_err *err);

/* Workflow. */
int cases_transition_ok(const char *from, const char *to);
int cases_is_open(const char *status);
/* Staff of the case's entity and admins only (403 otherwise). duplicate_of is a case number
 * (for status "duplicate"). Writes history and audit in one transaction. */
int cases_set_status(struct app *app, struct worker *w, const struct principal *who,
                     const char *case_no, const char *status, const char *note,
                     const char *duplicate_of, struct rp_err *err);
int cases_transfer(struct app *app, struct worker *w, const struct principal *who,
                   const char *case_no, const char *entity, const char *reason,
                   struct rp_err *err);
/* "Me too" on an open case. *added = 0 when this device already confirmed. */
int cases_confirm(struct app *app, struct worker *w, const char *case_no, const char *device_id,
                  int *added, struct rp_err *err);
/* Every committed change (creation included) also reaches app->tiles: the case map and the
 * tiles that show the case (server/tiles.h). */

/* A reporter token: random, shown once; its SHA-256 identifies the case. */
int cases_token_hash(const char *token, unsigned char hash[STORE_HASH_LEN]);

#endif
