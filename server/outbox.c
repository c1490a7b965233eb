/*
 * server/outbox.c - the webhook delivery threads (see outbox.h). Each thread owns its store
 * connection and curl handle; they share only the stop flag and its condition variable.
 */
#include "server/outbox.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "data/store.h"

struct pending {
    int64_t event_id, report_id, tow_id;
    char uid[40], type[40], stream[48];
    char *payload;
    int attempts;
};

struct hook {
    struct outbox *o;
    pthread_t thread;
    int started;
    int64_t id;
    char url[STORE_URL_MAX], secret[STORE_SECRET_MAX];
    int trusted;
    struct store *s;
    CURL *curl;
    int64_t hold_until_ms; /* the endpoint could not be reached: nothing before this */
    atomic_uint_fast64_t delivered, failures;
    unsigned seed;
};

struct outbox {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stopping;
    unsigned backoff_ms;
    struct hook hooks[OUTBOX_HOOKS_MAX];
    int n;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps up to ms, or until outbox_stop. */
static void nap(struct outbox *o, int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&o->lock);
    if (!atomic_load(&o->stopping))
        pthread_cond_timedwait(&o->wake, &o->lock, &ts);
    pthread_mutex_unlock(&o->lock);
}

void outbox_sign(const char *secret, int64_t ts, const char *body, size_t len, char out[80])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char prefix[32];
    size_t plen = (size_t)snprintf(prefix, sizeof prefix, "%lld.", (long long)ts);
    unsigned char *msg = malloc(plen + len + 1);

    if (msg) {
        memcpy(msg, prefix, plen);
        memcpy(msg + plen, body, len);
        if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, plen + len, mac, &maclen))
            maclen = 0;
        free(msg);
    }
    memcpy(out, "sha256=", 8);
    for (unsigned i = 0; i < maclen && i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
}

/* The body a webhook receives: the stored payload with the event's id, and for a trusted
 * webhook what only it may know. NULL on failure. */
static char *body_of(struct hook *h, const struct pending *p)
{
    json_t *j = json_loads(p->payload, 0, NULL);
    struct rp_err err = {0};
    char name[STORE_NAME_MAX], email[STORE_NAME_MAX], phone[64], plate[STORE_CODE_MAX];
    char *out;

    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    json_object_set_new(j, "id", json_string(p->uid));
    if (h->trusted && store_event_contact(h->s, p->report_id, p->tow_id, name, email, phone,
                                          plate, &err) == RP_OK) {
        if (p->report_id && (name[0] || email[0] || phone[0]))
            json_object_set_new(j, "contact",
                                json_pack("{s:s?, s:s?, s:s?}", "name", name[0] ? name : NULL,
                                          "email", email[0] ? email : NULL, "phone",
                                          phone[0] ? phone : NULL));
        if (plate[0] && json_is_object(json_object_get(j, "tow")))
            json_object_set_new(json_object_get(j, "tow"), "plate", json_string(plate));
    }
    out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return out;
}

static size_t discard(char *ptr, size_t size, size_t n, void *ctx)
{
    size_t *seen = ctx;
    (void)ptr;
    *seen += size * n;
    return *seen > OUTBOX_BODY_MAX ? 0 : size * n; /* a flood of an answer: stop reading */
}

static int abort_on_stop(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    struct hook *h = ctx;
    (void)a, (void)b, (void)c, (void)d;
    return atomic_load(&h->o->stopping) ? 1 : 0;
}

/* 0: acknowledged (2xx); 1: the endpoint answered otherwise; 2: it could not be reached.
 * why receives what went wrong. */
static int post(struct hook *h, const struct pending *p, char *why, size_t n)
{
    char *body = body_of(h, p);
    struct curl_slist *hdr = NULL;
    char line[160], sig[80];
    int64_t ts = (int64_t)time(NULL);
    long status = 0;
    size_t seen = 0;
    CURLcode cc;
    int rc;

    if (!body) {
        snprintf(why, n, "the event's payload is not JSON");
        return 1;
    }
    outbox_sign(h->secret, ts, body, strlen(body), sig);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    snprintf(line, sizeof line, "X-Reporta-Event-Id: %s", p->uid);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof line, "X-Reporta-Event: %s", p->type);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof line, "X-Reporta-Attempt: %d", p->attempts + 1);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof line, "X-Reporta-Timestamp: %lld", (long long)ts);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof line, "X-Reporta-Signature: %s", sig);
    hdr = curl_slist_append(hdr, line);
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_URL, h->url);
    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, (long)OUTBOX_TIMEOUT_S);
    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, (long)OUTBOX_CONNECT_S);
    curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "reporta-webhook/1");
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &seen);
    curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
    curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
    cc = curl_easy_perform(h->curl);
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_WRITE_ERROR && status >= 200 && status < 300)
        cc = CURLE_OK; /* answered 2xx, then talked too long: acknowledged all the same */
    if (cc != CURLE_OK && status == 0) {
        snprintf(why, n, "%s", curl_easy_strerror(cc));
        rc = 2;
    } else if (status >= 200 && status < 300) {
        rc = 0;
    } else {
        snprintf(why, n, "HTTP %ld", status);
        rc = 1;
    }
    curl_slist_free_all(hdr);
    free(body);
    return rc;
}

static int64_t backoff(struct hook *h, int attempts)
{
    int64_t d = (int64_t)h->o->backoff_ms;
    for (int i = 1; i < attempts && d < OUTBOX_BACKOFF_MAX_MS; i++)
        d *= 2;
    if (d > OUTBOX_BACKOFF_MAX_MS)
        d = OUTBOX_BACKOFF_MAX_MS;
    return d / 2 + (int64_t)(rand_r(&h->seed) % (unsigned)(d / 2 + 1));
}

struct batch {
    struct pending v[OUTBOX_BATCH];
    int n;
};

static int keep(void *ctx, const struct store_delivery *d, struct rp_err *err)
{
    struct batch *b = ctx;
    struct pending *p = &b->v[b->n];

    if (b->n >= OUTBOX_BATCH)
        return RP_OK;
    memset(p, 0, sizeof *p);
    p->event_id = d->event_id;
    p->report_id = d->report_id;
    p->tow_id = d->tow_id;
    p->attempts = d->attempts;
    snprintf(p->uid, sizeof p->uid, "%s", d->uid ? d->uid : "");
    snprintf(p->type, sizeof p->type, "%s", d->type ? d->type : "");
    snprintf(p->stream, sizeof p->stream, "%s", d->stream ? d->stream : "");
    if (!(p->payload = strdup(d->payload ? d->payload : "{}")))
        return rp_err_set(err, RP_NO_MEMORY, "delivery");
    b->n++;
    return RP_OK;
}

/* Frees the events from i on, not tried, and lets go of what the store holds for them. */
static void release_rest(struct hook *h, struct batch *b, int from)
{
    for (int i = from; i < b->n; i++)
        free(b->v[i].payload);
    store_delivery_release(h->s);
}

/* One round: the due heads, in event order. Returns how many were acknowledged, -1 when
 * nothing was due or the round stopped early. */
static int round_once(struct hook *h)
{
    static _Thread_local struct batch b;
    struct rp_err err = {0};
    int64_t now = wall_ms();
    int done = 0, stop = 0;
    char why[256];

    b.n = 0;
    if (store_deliveries_due(h->s, h->id, now, OUTBOX_BATCH, keep, &b, &err) != RP_OK) {
        rp_warn("outbox: webhook %lld: %s", (long long)h->id, err.msg);
        for (int i = 0; i < b.n; i++)
            free(b.v[i].payload);
        return -1;
    }
    for (int i = 0; i < b.n; i++) {
        struct pending *p = &b.v[i];
        int rc;
        if (stop || atomic_load(&h->o->stopping)) { /* still due: for later, or another process */
            release_rest(h, &b, i);
            return -1;
        }
        rc = post(h, p, why, sizeof why);
        if (rc == 0) {
            if (store_delivery_done(h->s, h->id, p->event_id, &err) != RP_OK)
                rp_warn("outbox: webhook %lld: event %s delivered, not recorded: %s",
                        (long long)h->id, p->uid, err.msg);
            atomic_fetch_add(&h->delivered, 1);
            done++;
        } else {
            int64_t wait = backoff(h, p->attempts + 1);
            atomic_fetch_add(&h->failures, 1);
            if (store_delivery_failed(h->s, h->id, p->event_id, p->stream, wall_ms() + wait, why,
                                      &err) != RP_OK)
                rp_warn("outbox: webhook %lld: failure not recorded: %s", (long long)h->id,
                        err.msg);
            rp_log(RP_LOG_DEBUG, "outbox: webhook %lld: event %s attempt %d: %s; again in %lld ms",
                     (long long)h->id, p->uid, p->attempts + 1, why, (long long)wait);
            if (rc == 2) { /* unreachable: the whole webhook waits, not one event after another */
                h->hold_until_ms = wall_ms() + wait;
                stop = 1;
            }
        }
        free(p->payload);
    }
    return b.n == 0 || stop ? -1 : done;
}

static void *run(void *arg)
{
    struct hook *h = arg;
    struct outbox *o = h->o;

    while (!atomic_load(&o->stopping)) {
        int64_t now = wall_ms();
        if (h->hold_until_ms > now) {
            nap(o, h->hold_until_ms - now < OUTBOX_POLL_MS * 5 ? h->hold_until_ms - now
                                                                : OUTBOX_POLL_MS * 5);
            continue;
        }
        if (round_once(h) < 0)
            nap(o, OUTBOX_POLL_MS);
    }
    return NULL;
}

struct collect {
    struct outbox *o;
};

static int hook_add(void *ctx, const struct store_webhook *w, struct rp_err *err)
{
    struct outbox *o = ((struct collect *)ctx)->o;
    struct hook *h;

    if (o->n >= OUTBOX_HOOKS_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "at most %d webhooks", OUTBOX_HOOKS_MAX);
    h = &o->hooks[o->n++];
    h->o = o;
    h->id = w->id;
    h->trusted = w->trusted;
    snprintf(h->url, sizeof h->url, "%s", w->url);
    snprintf(h->secret, sizeof h->secret, "%s", w->secret);
    h->seed = (unsigned)(time(NULL) ^ (w->id * 2654435761u));
    return RP_OK;
}

int outbox_start(const char *db_path, const char *const *urls, const int *trusted, int n,
                 const char *secret, unsigned backoff_ms, struct outbox **out, struct rp_err *err)
{
    struct outbox *o = calloc(1, sizeof *o);
    struct store *s = NULL;
    struct collect c = {o};
    pthread_condattr_t ca;
    int rc;

    *out = NULL;
    if (!o)
        return rp_err_set(err, RP_NO_MEMORY, "outbox");
    pthread_mutex_init(&o->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&o->wake, &ca);
    pthread_condattr_destroy(&ca);
    o->backoff_ms = backoff_ms ? backoff_ms : OUTBOX_BACKOFF_MS;
    rc = store_open(db_path, &s, err);
    if (rc == RP_OK)
        rc = store_webhooks_sync(s, urls, trusted, n, secret ? secret : "", err);
    if (rc == RP_OK)
        rc = store_webhooks_each(s, 1, hook_add, &c, err);
    store_close(s);
    for (int i = 0; rc == RP_OK && i < o->n; i++) {
        struct hook *h = &o->hooks[i];
        if (!(h->curl = curl_easy_init()))
            rc = rp_err_set(err, RP_NO_MEMORY, "curl");
        else if ((rc = store_open(db_path, &h->s, err)) == RP_OK) {
            if (pthread_create(&h->thread, NULL, run, h) != 0)
                rc = rp_err_set(err, RP_UNAVAILABLE, "outbox thread");
            else
                h->started = 1;
        }
    }
    if (rc != RP_OK) {
        outbox_stop(o);
        return rc;
    }
    *out = o;
    return RP_OK;
}

void outbox_stop(struct outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    atomic_store(&o->stopping, 1);
    pthread_cond_broadcast(&o->wake);
    pthread_mutex_unlock(&o->lock);
    for (int i = 0; i < o->n; i++) {
        struct hook *h = &o->hooks[i];
        if (h->started)
            pthread_join(h->thread, NULL);
        if (h->curl)
            curl_easy_cleanup(h->curl);
        store_close(h->s);
        OPENSSL_cleanse(h->secret, sizeof h->secret);
    }
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

int outbox_stats(struct outbox *o, struct outbox_hook_stats *out, int max)
{
    int n = 0;

    for (int i = 0; o && i < o->n && n < max; i++, n++) {
        struct hook *h = &o->hooks[i];
        out[n].id = h->id;
        out[n].trusted = h->trusted;
        snprintf(out[n].url, sizeof out[n].url, "%.255s", h->url);
        out[n].delivered = atomic_load(&h->delivered);
        out[n].failures = atomic_load(&h->failures);
    }
    return n;
}
