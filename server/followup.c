/*
 * server/followup.c - the follow-up sweep and its thread.
 */
#include "server/followup.h"

#include <pthread.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/utc.h"
#include "server/citizen.h"

struct followup {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    unsigned interval_s;
    struct store *s;
};

int followup_sweep(struct store *s, time_t now, int *due, int *satisfaction, struct rp_err *err)
{
    char at[STORE_TIME_MAX], quiet[STORE_TIME_MAX], closed[STORE_TIME_MAX];
    int d, sat, rc;

    rp_utc_format(now, at);
    rp_utc_format(now - FOLLOWUP_QUIET_S, quiet);
    rp_utc_format(now - CITIZEN_RATING_WINDOW_S, closed); /* no point asking once it cannot be rated */
    *due = *satisfaction = 0;
    do { /* in batches: a first sweep of a big database raises tens of thousands */
        rc = store_followups_raise(s, at, quiet, closed, FOLLOWUP_BATCH, &d, &sat, err);
        *due += d;
        *satisfaction += sat;
        if (rc == RP_OK && (d == FOLLOWUP_BATCH || sat == FOLLOWUP_BATCH)) {
            struct timespec pause = {0, 20 * 1000 * 1000}; /* the writer's turn */
            nanosleep(&pause, NULL);
        }
    } while (rc == RP_OK && (d == FOLLOWUP_BATCH || sat == FOLLOWUP_BATCH));
    return rc;
}

static void *run(void *arg)
{
    struct followup *f = arg;

    pthread_mutex_lock(&f->lock);
    while (!f->stopping) {
        struct rp_err err = {0};
        struct timespec ts;
        int due = 0, sat = 0;
        pthread_mutex_unlock(&f->lock);
        if (followup_sweep(f->s, time(NULL), &due, &sat, &err) != RP_OK)
            rp_warn("followup: %s", err.msg);
        else if (due || sat)
            rp_info("followup: %d cases due a follow-up call, %d asked for their satisfaction",
                    due, sat);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += f->interval_s;
        pthread_mutex_lock(&f->lock);
        if (!f->stopping)
            pthread_cond_timedwait(&f->wake, &f->lock, &ts);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

int followup_start(const char *db_path, unsigned interval_s, struct followup **out,
                   struct rp_err *err)
{
    struct followup *f = calloc(1, sizeof *f);
    pthread_condattr_t ca;
    int rc;

    *out = NULL;
    if (!f)
        return rp_err_set(err, RP_NO_MEMORY, "followup");
    f->interval_s = interval_s ? interval_s : FOLLOWUP_INTERVAL_S;
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->wake, &ca);
    pthread_condattr_destroy(&ca);
    if ((rc = store_open(db_path, &f->s, err)) != RP_OK ||
        (pthread_create(&f->thread, NULL, run, f) != 0 &&
         (rc = rp_err_set(err, RP_UNAVAILABLE, "followup thread")) != RP_OK)) {
        store_close(f->s);
        pthread_cond_destroy(&f->wake);
        pthread_mutex_destroy(&f->lock);
        free(f);
        return rc;
    }
    *out = f;
    return RP_OK;
}

void followup_stop(struct followup *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->stopping = 1;
    pthread_cond_broadcast(&f->wake);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    store_close(f->s);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
