/*
 * server/outbox.h - webhook delivery. One thread per active webhook, each with its own
 * database connection and libcurl handle, so an endpoint that is down or never answers holds
 * up nobody but itself, and the request path never waits on any of them (events are rows the
 * triggers of migration 0011 write in each change's transaction).
 *
 * A thread takes the oldest due event of each stream (case or tow), POSTs it as JSON with
 *   X-Reporta-Event-Id: <uid>          (the same on every retry: receivers drop duplicates)
 *   X-Reporta-Event: <type>, X-Reporta-Attempt: <n>
 *   X-Reporta-Timestamp: <unix seconds>
 *   X-Reporta-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
 * and deletes the delivery on a 2xx. Otherwise the stream waits base * 2^(attempts-1) ms (at
 * most OUTBOX_BACKOFF_MAX_MS), with jitter in the upper half, and tries again, for ever; when
 * the endpoint cannot be reached at all the whole webhook waits the same. Deliveries are rows,
 * so they survive restarts and SIGKILL (at least once: an event acknowledged just before a
 * kill may come again, with the same id). Processes sharing a PostgreSQL database deliver each
 * event once between them: a thread tries one event at a time inside the transaction that
 * locked its row (FOR UPDATE SKIP LOCKED), and a killed process's lock goes with its
 * connection. Only webhooks marked trusted receive the reporter's
 * contact ("contact": name, email, phone) and a tow's plate.
 */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stdint.h>

#include "base/err.h"

#define OUTBOX_HOOKS_MAX       16
#define OUTBOX_BATCH           32      /* due events read at once per webhook */
#define OUTBOX_POLL_MS         200     /* an idle thread looks for new events this often */
#define OUTBOX_BACKOFF_MS      1000    /* the first retry's wait (--webhook-backoff-ms) */
#define OUTBOX_BACKOFF_MAX_MS  600000  /* ten minutes at most between attempts */
#define OUTBOX_TIMEOUT_S       10      /* a POST that takes longer failed */
#define OUTBOX_CONNECT_S       5
#define OUTBOX_BODY_MAX        (64 * 1024) /* of a receiver's answer: the rest is dropped */

struct outbox;

struct outbox_hook_stats {
    int64_t id;
    char url[256]; /* cut at 255 bytes */
    int trusted;
    uint64_t delivered, failures; /* since this process started */
};

/* Records the --webhook set (urls[i], trusted[i], one secret) in the database, then starts a
 * thread for every active webhook there. n may be 0 (webhooks added earlier still run). */
int outbox_start(const char *db_path, const char *const *urls, const int *trusted, int n,
                 const char *secret, unsigned backoff_ms, struct outbox **out, struct rp_err *err);
/* Stops every thread (a POST in flight is abandoned; it stays due). NULL-safe. */
void outbox_stop(struct outbox *o);
/* The running webhooks' counters, up to max; returns how many. */
int outbox_stats(struct outbox *o, struct outbox_hook_stats *out, int max);

/* The signature header's value for body at timestamp ts ("sha256=<64 hex>"). */
void outbox_sign(const char *secret, int64_t ts, const char *body, size_t len, char out[80]);

#endif
