/*
 * server/tows_int.h - what server/tows.c (state, yards, trucks, lookup) and server/tow_life.c
 * (positions, tows and their changes) share; nothing else includes it.
 */
#ifndef TOWS_INT_H
#define TOWS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "geo/fence.h"
#include "server/tows.h"

struct tows_yard {
    struct store_yard y; /* y.geofence points at fence_text */
    char *fence_text;
    struct geo_fence *fence; /* of tows.gc, used under geo_lock */
    char *public_json;       /* what a driver sees of it (tows_yard_public), rendered once */
    size_t public_len;
};

struct tows_truck {
    struct store_truck k;
    int has_pos;
    struct store_position pos; /* the newest point by device time */
};

/* A tow not yet released or cancelled: what the lookup and the arrival test need. */
struct tows_active {
    int64_t id, truck_id, yard_id, report_id;
    char plate[STORE_PLATE_MAX], status[16], entity[STORE_CODE_MAX];
    char created_at[STORE_TIME_MAX], towing_at[STORE_TIME_MAX], at_yard_at[STORE_TIME_MAX];
    unsigned char key[STORE_HASH_LEN]; /* SHA-256 of the normalised ticket */
};

struct tows {
    pthread_rwlock_t lock; /* yards, trucks, active */
    struct tows_yard *yards;
    size_t nyards;
    struct tows_truck *trucks;
    size_t ntrucks;
    struct tows_active *active; /* sorted by (plate, id) */
    size_t nactive, cap;
    int failed; /* an insert into active found no memory */
    pthread_mutex_t geo_lock; /* gc and every fence */
    struct geo_ctx gc;
    atomic_uint_fast64_t lookups_found, lookups_none, lookups_ticket, lookups_invalid,
        lookups_limited, positions_accepted, positions_duplicate, positions_rejected, arrivals;
};

/* Lookups; the lock held by the caller (shared is enough). */
struct tows_yard *tows_yard_by_id(struct tows *t, int64_t id);
struct tows_truck *tows_truck_by_id(struct tows *t, int64_t id);
struct tows_truck *tows_truck_by_code(struct tows *t, const char *code);
struct tows_active *tows_active_by_id(struct tows *t, int64_t id);
struct tows_active *tows_active_of_truck(struct tows *t, int64_t truck_id); /* requested/towing */
/* The committed state of a tow into the active table (removed once released or cancelled);
 * write lock held. */
void tows_active_apply(struct tows *t, const struct store_tow *tw);

/* Admins, and tow operators of entity. */
int tows_may_operate(const struct principal *who, const char *entity);
json_t *tows_yard_public(const struct store_yard *y);
json_t *tows_position_json(const struct store_position *p);
int tows_set_real(json_t *o, const char *key, double x); /* NaN: left out; 0 on success */
int tows_history_json(struct store *s, int64_t tow_id, json_t **out, struct rp_err *err);
void tows_now(char out[STORE_TIME_MAX]);
int64_t tows_epoch(const char *utc); /* "YYYY-MM-DDTHH:MM:SSZ" -> seconds; 0 unreadable */

#endif
