/*
 * server/tows.h - towed vehicles: yards (patios), trucks, their positions, tows and the
 * driver's "where is my car?". The database holds everything (data/store_tows.c); this module
 * keeps in memory what every read needs (yards with their geofences, trucks with their latest
 * position, the tows still active, sorted by plate), filled at startup and changed only after
 * a commit, under one rwlock. Positions commit through the group-commit writer; a position
 * inside the destination yard's fence moves a tow in `towing` to `at_yard` in the same commit
 * (audited as the system). Tow changes reach a linked 311 case in the same transaction.
 * Privacy: a truck's position leaves this module only for its operators, admins, and the
 * driver who shows the tow's ticket; the lookup answers a wrong ticket exactly like none.
 */
#ifndef TOWS_H
#define TOWS_H

#include <jansson.h>
#include <stdint.h>

#include "server/app.h"
#include "server/auth.h"
#include "server/worker.h"

#define TOWS_POSITIONS_MAX     500  /* points in one POST */
#define TOWS_FUTURE_SKEW_S     300  /* a point more than 5 min ahead of our clock is refused */
#define TOWS_TRACK_MAX         5000 /* points in one track answer */
#define TOWS_TRACK_DEFAULT_S   (6 * 3600)
#define TOWS_LIST_MAX          500

struct tows; /* app->tows; thread-safe */

int tows_create(struct tows **out, struct rp_err *err);
void tows_destroy(struct tows *t); /* NULL-safe */
/* Yards, trucks, their latest positions and the active tows, from the database. */
int tows_load(struct tows *t, struct store *s, struct rp_err *err);
/* Another process committed a change of tow id, or new positions of trucks: the committed
 * state read from s into memory (server/listen). */
void tows_reload_tow(struct tows *t, struct store *s, int64_t id);
void tows_reload_positions(struct tows *t, struct store *s);

/* ---- yards and trucks (admin) ---- */

/* Validates y (geofence polygon or radius, fees, texts), writes it with an audit row in one
 * transaction, then serves it. *created 1 for a new code. */
int tows_yard_put(struct app *app, struct worker *w, const struct principal *who,
                  struct store_yard *y, int *created, struct rp_err *err);
int tows_yard_delete(struct app *app, struct worker *w, const struct principal *who,
                     const char *code, struct rp_err *err);
/* Every active yard (inactive ones too for admins), or one by code (NULL: all). */
int tows_yards_json(struct tows *t, const struct principal *who, const char *code,
                    json_t **out, struct rp_err *err);

/* RP_INVALID_ARGUMENT for an unknown entity or a bad plate. */
int tows_truck_put(struct app *app, struct worker *w, const struct principal *who,
                   struct store_truck *k, int *created, struct rp_err *err);
int tows_truck_delete(struct app *app, struct worker *w, const struct principal *who,
                      const char *code, struct rp_err *err);
/* The operators' live map: every active truck of who's entity (admins: all) with its last
 * position and current tow. */
int tows_trucks_json(struct tows *t, const struct principal *who, json_t **out,
                     struct rp_err *err);

/* ---- positions ---- */

struct tows_posted {
    size_t accepted, duplicates, rejected;
    json_t *errors; /* [{"index", "code", "message"}] for refused points, owned */
    int64_t arrived_tow; /* a tow that reached its yard with this batch, 0: none */
};
/* points: a JSON array of {lat, lon, at, speed_kmh?, heading?}. Points are checked one by
 * one: a bad one (or one over TOWS_FUTURE_SKEW_S ahead) is refused with its reason and the
 * rest are kept; repeats (within the batch or already stored) count as duplicates. RP_OK
 * means durable. 403 unless who is a tow_operator of the truck's entity. */
int tows_positions_add(struct app *app, struct worker *w, const struct principal *who,
                       const char *truck, json_t *points, struct tows_posted *out,
                       struct rp_err *err);
/* One of those points checked and read into out (its time as UTC with milliseconds), as
 * tows_positions_add reads each; now_s is the server's clock. Pure; for the fuzzers too. */
int tows_point_parse(json_t *p, int64_t now_s, struct store_position *out, struct rp_err *err);
/* A truck's path since `since` (UTC; NULL: the last TOWS_TRACK_DEFAULT_S) as a GeoJSON
 * FeatureCollection of points, oldest first. Operators of its entity and admins. */
int tows_track_json(struct tows *t, struct worker *w, const struct principal *who,
                    const char *truck, const char *since, json_t **out, struct rp_err *err);

/* ---- tows ---- */

struct tows_input {
    const char *plate, *make, *colour, *vehicle_type;
    double lat, lon;
    const char *address, *reason, *ticket, *truck, *yard;
    const char *report; /* case number of the linked 311 case, or NULL */
};
/* Validates (plate, truck of who's entity, active yard, pickup located like a report, linked
 * case open and of service vehiculo_obstruccion), inserts the tow as `requested` with its
 * history and audit rows (and a row in the linked case's history) in one transaction. */
int tows_create_tow(struct app *app, struct worker *w, const struct principal *who,
                    const struct tows_input *in, int64_t *id, struct rp_err *err);
/* requested -> towing -> at_yard -> released; requested or towing -> cancelled. Reaching the
 * yard or release resolves the linked case (with a note) in the same transaction. */
int tows_set_status(struct app *app, struct worker *w, const struct principal *who, int64_t id,
                    const char *status, const char *note, struct rp_err *err);
/* One tow with its history, for its entity's operators and admins (403/404 otherwise). */
int tows_tow_json(struct app *app, struct worker *w, const struct principal *who, int64_t id,
                  json_t **out, struct rp_err *err);
/* Tows of who's entity (admins: all), newest first, by plate and status; a page of limit with
 * next_cursor (an id for before_id) when there are more. */
int tows_list_json(struct tows *t, struct worker *w, const struct principal *who,
                   const char *plate, const char *status, int64_t before_id, int limit,
                   json_t **out, struct rp_err *err);

/* The driver's lookup (anonymous). plate only, or a wrong ticket: whether a tow is active,
 * since when, the yard and the fees so far. The right ticket adds the status, the truck's
 * last position while towing, and the history. Counted in the metrics by outcome. *body is
 * JSON text (malloc'd, the caller's). */
int tows_lookup(struct tows *t, struct worker *w, const char *plate, const char *ticket,
                char **body, size_t *len, struct rp_err *err);

/* Counters for GET /metrics: lookups by outcome, positions by outcome, arrivals. */
struct tows_metrics {
    uint64_t lookups_found, lookups_none, lookups_ticket, lookups_invalid, lookups_limited;
    uint64_t positions_accepted, positions_duplicate, positions_rejected, arrivals;
};
void tows_metrics(struct tows *t, struct tows_metrics *out);
void tows_count_limited(struct tows *t); /* a lookup refused by its rate limit */

/* The ticket as compared: upper-cased, separators removed, SHA-256. */
int tows_ticket_key(const char *ticket, unsigned char key[STORE_HASH_LEN], struct rp_err *err);
/* Fees of a tow at a yard: tow fee, plus the daily fee for every day begun since arrival
 * (none before it arrives). */
int64_t tows_fees_cents(int64_t tow_fee, int64_t daily_fee, int64_t at_yard_s, int64_t now_s,
                        int64_t *days);

#endif
