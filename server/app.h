/*
 * server/app.h - the process-wide state of a running server: configuration, the frozen area
 * index and the list of workers. Built in main before the HTTP daemon starts, then read only
 * through const pointers; the exceptions (the in-flight counter, the worker list) are named
 * here and in docs/architecture.md.
 */
#ifndef APP_H
#define APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "base/level.h"
#include "geo/index.h"

#define APP_BODY_MAX_BYTES      (64 * 1024) /* JSON bodies; photo uploads get their own cap */
#define APP_TIMEOUT_S           30          /* idle connection timeout */
#define APP_CONNECTIONS_MAX     4096
#define APP_SHUTDOWN_GRACE_S    10  /* in-flight requests get this long after SIGTERM */
#define APP_HEADER_MAX_BYTES    (32 * 1024) /* request line + headers per connection */
#define APP_URL_MAX_BYTES       8192        /* longer request targets: 414 */
#define APP_IP_CONNECTIONS      512         /* per client address; carrier NAT puts many behind one */
#define APP_IP_READ_RATE        100         /* requests/s per client address, GET and HEAD */
#define APP_IP_WRITE_RATE       10          /* requests/s per client address, other methods */
#define APP_KEY_READ_RATE       500         /* requests/s per API key */
#define APP_KEY_WRITE_RATE      100
#define APP_BURST_SECONDS       2           /* a bucket holds this many seconds of its rate */
#define APP_LOOKUP_RATE         20          /* tow lookups a minute per client address */
#define APP_LOOKUP_BURST        5           /* of them at once */

struct config {
    const char *db, *media, *listen, *areas_dir;
    unsigned port, threads;
    unsigned workers; /* the pool for routes that decode photos or wait on a commit */
    unsigned body_max_bytes;
    unsigned timeout_s;
    double snap_m;
    unsigned conns_max, ip_conns;             /* 0: no per-address limit */
    unsigned ip_read_rate, ip_write_rate;     /* requests/s; 0: unlimited */
    unsigned key_read_rate, key_write_rate;
    const char *cors_origins;                 /* "https://a,https://b", "*", or NULL: no CORS */
    unsigned tile_cache_mb;                   /* rendered tiles kept in memory */
    unsigned lookup_rate;                     /* tow lookups/min per address; 0: unlimited */
    unsigned metrics_loopback;                /* 1: GET /metrics from 127.0.0.1/::1 without a key */
    const struct proxy_set *proxies;          /* --trusted-proxy; NULL or empty: none */
    const char *tls_cert_pem, *tls_key_pem;   /* --tls-cert, --tls-key contents; NULL: HTTP */
};

struct worker;
struct proxy_set;
struct rl_table;
struct cases_cache;
struct tiles;
struct tows;
struct outbox;
struct scorecard;
struct web;

/* JSON serialised once by jansson and served many times. */
struct rendered {
    char *s;
    size_t len;
};

struct app {
    struct config cfg;
    const struct geo_index *areas; /* frozen before the daemon starts */
    atomic_long inflight;          /* requests begun and not yet completed */
    struct rl_table *limits;       /* rate-limit buckets; thread-safe */
    struct store_writer *writer;   /* group commit of new reports; thread-safe */
    struct cases_cache *catalogue; /* services and routing decisions read; thread-safe */
    struct tiles *tiles;           /* the case map, the tile cache; thread-safe */
    struct tows *tows;             /* yards, trucks, active tows; thread-safe */
    struct outbox *outbox;         /* webhook delivery threads; their counters are atomic */
    struct scorecard *scorecard;   /* the statistics' cases in memory; thread-safe */
    struct web *web;               /* the browser app's files, read only; NULL: not installed */
    pthread_mutex_t workers_lock;  /* guards the list below, touched once per thread */
    struct worker *workers;
    char *health_ok; /* GET /healthz's body while all is well, built once by h_health_prepare */
    size_t health_ok_len;
    /* `"<level>":{"code":..,"name":..}` per area, in geo_index_at order, and `"<level>":null`:
     * the members of a locate answer, serialised at startup by h_areas_prepare */
    struct rendered *area_refs[RP_LEVEL_COUNT];
    struct rendered no_area[RP_LEVEL_COUNT];
};

#endif
