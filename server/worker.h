/*
 * server/worker.h - what one HTTP thread owns: its geometry context and its database
 * connection. Created on the thread's first request, reused for every later one, destroyed
 * after the daemon has stopped. Nothing in a worker is shared, so nothing in it locks.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdint.h>

#include "data/store.h"
#include "geo/ctx.h"
#include "server/app.h"

struct worker {
    struct geo_ctx geo;
    struct store *store;
    uint64_t db_ok_until_us; /* /healthz: the last good ping stands until then (monotonic) */
    struct worker *next;     /* in app->workers */
};

/* This thread's worker, created on first use; NULL with err set when it cannot be. */
struct worker *worker_self(struct app *app, struct rp_err *err);
/* Destroys every worker; only after all threads that used them have stopped. */
void worker_destroy_all(struct app *app);

#endif
