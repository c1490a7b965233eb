/*
 * data/store_writer.c - group commit (see store.h). Jobs live on their callers' stacks; the
 * queue, the running flag and every job's done/rc fields are guarded by `lock`. The writer
 * takes the whole queue at once, so a batch is whatever arrived while the previous one was
 * being committed: under load, batches grow by themselves and fsyncs are shared.
 */
#include "data/store_int.h"
#include "data/store_sql_pg.h"

#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define WRITER_BATCH_MAX 512
#define WRITER_CHECKPOINT_PAGES 8000
#define STR_(x) #x
#define STR(x) STR_(x)

struct job {
    store_job_fn fn;
    void *arg;
    int rc, done;
    struct rp_err err;
    pthread_cond_t finished; /* its caller waits on this one alone: no herd wakes per commit */
    struct job *next;
};

struct store_writer {
    struct store *s;
    struct store_q *savepoint, *release, *rollback_to; /* prepared once: they run per job */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct job *head, **tail;
    int running;
    uint64_t commits, jobs;
    struct store_writer_hist hist;
};

const double STORE_WRITER_BATCH_LE[STORE_WRITER_BUCKETS - 1] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
const double STORE_WRITER_SECONDS_LE[STORE_WRITER_BUCKETS - 1] = {0.0005, 0.001, 0.002, 0.005,
                                                                   0.01,   0.02,  0.05,  0.1,
                                                                   0.5};

static int bucket(const double *le, double v)
{
    int i = 0;
    while (i < STORE_WRITER_BUCKETS - 1 && v > le[i])
        i++;
    return i;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one batch; sets each job's rc/err (not done: the caller marks them under the lock). */
static void run_batch(struct store_writer *w, struct job *batch)
{
    struct rp_err err = {0};
    int rc = store_begin(w->s, &err), ok = 0;

    for (struct job *j = batch; j; j = j->next) {
        if (rc != RP_OK) {
            j->rc = rc;
            j->err = err;
            continue;
        }
        w->s->job_again = 0;
        j->rc = store_run(w->s, w->savepoint, "savepoint", &j->err);
        if (j->rc == RP_OK)
            j->rc = j->fn(w->s, j->arg, &j->err);
        if (j->rc != RP_OK && w->s->job_again) { /* see struct store: once more, from scratch */
            w->s->job_again = 0;
            (void)store_run(w->s, w->rollback_to, "savepoint", &err);
            memset(&j->err, 0, sizeof j->err);
            j->rc = j->fn(w->s, j->arg, &j->err);
            rp_log(RP_LOG_INFO, "writer: a job ran again after another process's commit: %s",
                   j->rc == RP_OK ? "done" : j->err.msg);
        }
        if (j->rc != RP_OK && !w->s->pg && sqlite3_get_autocommit(w->s->db)) {
            /* SQLite rolled the whole batch back (it may on SQLITE_FULL or an I/O error): the
             * jobs before this one went with it, and the rest must not commit one by one */
            rc = j->rc;
            err = j->err;
            for (struct job *k = batch; k != j; k = k->next)
                if (k->rc == RP_OK) {
                    k->rc = rc;
                    k->err = err;
                }
            rp_error("writer: the batch was rolled back: %s", err.msg);
            continue;
        }
        if (j->rc != RP_OK)
            (void)store_run(w->s, w->rollback_to, "savepoint", &err);
        (void)store_run(w->s, w->release, "savepoint", &err);
        ok += j->rc == RP_OK;
    }
    if (rc != RP_OK) {
        (void)store_end(w->s, rc, &err); /* what is left, if anything, rolled back */
        return;
    }
    rc = store_end(w->s, RP_OK, &err);
    if (rc != RP_OK) {
        rp_error("writer: commit of %d jobs failed: %s", ok, err.msg);
        for (struct job *j = batch; j; j = j->next)
            if (j->rc == RP_OK) {
                j->rc = rc;
                j->err = err;
            }
    }
}

static void *writer_loop(void *arg)
{
    struct store_writer *w = arg;

    pthread_setname_np(pthread_self(), "writer"); /* as top -H and ps -L show it */
    pthread_mutex_lock(&w->lock);
    for (;;) {
        struct job *batch, *j, **cut;
        int n = 0;

        while (!w->head && w->running)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head)
            break;
        batch = w->head;
        for (cut = &w->head; *cut && n < WRITER_BATCH_MAX; cut = &(*cut)->next)
            n++;
        w->head = *cut;
        *cut = NULL;
        if (!w->head)
            w->tail = &w->head;
        pthread_mutex_unlock(&w->lock);

        double t0 = mono_s(), took;
        run_batch(w, batch);
        took = mono_s() - t0;

        pthread_mutex_lock(&w->lock);
        w->commits++;
        w->jobs += (uint64_t)n;
        w->hist.batch[bucket(STORE_WRITER_BATCH_LE, n)]++;
        w->hist.seconds[bucket(STORE_WRITER_SECONDS_LE, took)]++;
        w->hist.seconds_sum += took;
        for (j = batch; j;) {
            struct job *next = j->next; /* j may vanish once done is seen */
            j->done = 1;
            pthread_cond_signal(&j->finished);
            j = next;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void writer_free(struct store_writer *w)
{
    if (w->savepoint)
        store_finalize(w->savepoint);
    if (w->release)
        store_finalize(w->release);
    if (w->rollback_to)
        store_finalize(w->rollback_to);
    store_close(w->s);
    free(w);
}

int store_writer_start(const char *path, struct store_writer **out, struct rp_err *err)
{
    struct store_writer *w = calloc(1, sizeof *w);
    int rc;

    *out = NULL;
    if (!w)
        return rp_err_set(err, RP_NO_MEMORY, "writer");
    rc = store_open(path, &w->s, err);
    if (rc != RP_OK) {
        free(w);
        return rc;
    }
    /* Checkpoints run in the writer's commits (readers never write). One per ~32 MB of WAL
     * rather than SQLite's default 4 MB copies hot index pages back to the file less often
     * (measured: ~10 % more reports/s under load; with none at all readers slow down as the WAL
     * they search grows). */
    if ((!w->s->pg && store_exec(w->s, "PRAGMA wal_autocheckpoint=" STR(WRITER_CHECKPOINT_PAGES),
                                 "writer checkpoints", err) != RP_OK) ||
        !(w->savepoint = store_prepare(w->s, w->s->pg ? store_pg_savepoint : "SAVEPOINT job", err)) ||
        !(w->release = store_prepare(w->s, w->s->pg ? store_pg_release : "RELEASE job", err)) ||
        !(w->rollback_to =
              store_prepare(w->s, w->s->pg ? store_pg_rollback_to : "ROLLBACK TO job", err))) {
        writer_free(w);
        return RP_STORAGE;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    w->tail = &w->head;
    w->running = 1;
    if (pthread_create(&w->thread, NULL, writer_loop, w) != 0) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->wake);
        writer_free(w);
        return rp_err_set(err, RP_INTERNAL, "writer thread");
    }
    *out = w;
    return RP_OK;
}

void store_writer_stop(struct store_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->running = 0;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    writer_free(w);
}

int store_writer_run(struct store_writer *w, store_job_fn fn, void *arg, struct rp_err *err)
{
    struct job j = {fn, arg, RP_OK, 0, {0}, PTHREAD_COND_INITIALIZER, NULL};

    pthread_mutex_lock(&w->lock);
    if (!w->running) {
        pthread_mutex_unlock(&w->lock);
        return rp_err_set(err, RP_UNAVAILABLE, "the writer is stopping");
    }
    *w->tail = &j;
    w->tail = &j.next;
    pthread_cond_signal(&w->wake);
    while (!j.done)
        pthread_cond_wait(&j.finished, &w->lock);
    pthread_mutex_unlock(&w->lock);
    pthread_cond_destroy(&j.finished);
    if (j.rc != RP_OK && err->code == RP_OK)
        *err = j.err;
    return j.rc;
}

void store_writer_stats(struct store_writer *w, uint64_t *commits, uint64_t *jobs)
{
    pthread_mutex_lock(&w->lock);
    *commits = w->commits;
    *jobs = w->jobs;
    pthread_mutex_unlock(&w->lock);
}

void store_writer_hist(struct store_writer *w, struct store_writer_hist *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->hist;
    out->commits = w->commits;
    out->jobs = w->jobs;
    pthread_mutex_unlock(&w->lock);
}
