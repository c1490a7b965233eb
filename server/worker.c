/*
 * server/worker.c - per-thread resources (see worker.h). The only thread-local variable in
 * reporta is `self`; the list of workers exists so shutdown can free them.
 */
#include "server/worker.h"

#include <stdlib.h>

#include "base/log.h"

static _Thread_local struct worker *self;

struct worker *worker_self(struct app *app, struct rp_err *err)
{
    struct worker *w;

    if (self)
        return self;
    w = calloc(1, sizeof *w);
    if (!w) {
        rp_err_set(err, RP_NO_MEMORY, "worker");
        return NULL;
    }
    if (geo_ctx_init(&w->geo, err) != RP_OK || store_open(app->cfg.db, &w->store, err) != RP_OK) {
        geo_ctx_fini(&w->geo);
        free(w);
        return NULL;
    }
    pthread_mutex_lock(&app->workers_lock);
    w->next = app->workers;
    app->workers = w;
    pthread_mutex_unlock(&app->workers_lock);
    self = w;
    return w;
}

void worker_destroy_all(struct app *app)
{
    struct worker *w = app->workers, *next;

    for (; w; w = next) {
        next = w->next;
        store_close(w->store);
        geo_ctx_fini(&w->geo);
        free(w);
    }
    app->workers = NULL;
}
