/*
 * server/listen.c - the notifications thread (see listen.h). It wakes at least every
 * LISTEN_TICK_MS to see whether it must stop; a lost connection is opened again after a pause,
 * and everything is then re-read as if it had changed (the case map is rebuilt by no one else:
 * until then the other processes' changes show late, never wrongly for this process's own).
 */
#include "server/listen.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "data/store.h"
#include "server/app.h"
#include "server/tiles.h"
#include "server/tows.h"

#define LISTEN_TICK_MS  500
#define LISTEN_RETRY_S  2

struct listener {
    struct app *app;
    pthread_t thread;
    atomic_int stop;
};

static void *loop(void *arg)
{
    struct listener *l = arg;
    struct store *s = NULL;

    pthread_setname_np(pthread_self(), "listen");
    while (!atomic_load(&l->stop)) {
        struct rp_err err = {0};
        enum store_notice kind;
        int64_t id;
        int rc;
        if (!s) {
            if (store_open(l->app->cfg.db, &s, &err) != RP_OK || store_listen(s, &err) != RP_OK) {
                rp_warn("listen: %s; trying again in %d s", err.msg, LISTEN_RETRY_S);
                store_close(s);
                s = NULL;
                sleep(LISTEN_RETRY_S);
                continue;
            }
            store_catalogue_changed(); /* whatever happened while nobody listened */
        }
        rc = store_notice_wait(s, LISTEN_TICK_MS, &kind, &id, &err);
        if (rc < 0 || rc > 1) {
            rp_warn("listen: %s", err.msg);
            store_close(s);
            s = NULL;
            continue;
        }
        if (rc == 0)
            continue;
        if (kind == STORE_NOTICE_CATALOGUE)
            store_catalogue_changed();
        else if (kind == STORE_NOTICE_CASE && l->app->tiles)
            tiles_case_reload(l->app->tiles, s, id);
        else if (kind == STORE_NOTICE_TOW && l->app->tows)
            tows_reload_tow(l->app->tows, s, id);
        else if (kind == STORE_NOTICE_TRUCK && l->app->tows)
            tows_reload_positions(l->app->tows, s);
        else if (kind == STORE_NOTICE_TOWING && l->app->tows && tows_load(l->app->tows, s, &err) != RP_OK)
            rp_warn("listen: yards and trucks not re-read: %s", err.msg);
    }
    store_close(s);
    return NULL;
}

int listen_start(struct app *app, struct listener **out, struct rp_err *err)
{
    struct listener *l;

    *out = NULL;
    if (!store_is_uri(app->cfg.db))
        return RP_OK;
    if (!(l = calloc(1, sizeof *l)))
        return rp_err_set(err, RP_NO_MEMORY, "listener");
    l->app = app;
    if (pthread_create(&l->thread, NULL, loop, l) != 0) {
        free(l);
        return rp_err_set(err, RP_INTERNAL, "listener thread");
    }
    *out = l;
    return RP_OK;
}

void listen_stop(struct listener *l)
{
    if (!l)
        return;
    atomic_store(&l->stop, 1);
    pthread_join(l->thread, NULL);
    free(l);
}
