/*
 * server/tilecache.c - the tile cache (see tilecache.h). A shard is a chained hash table of
 * entries plus a least-recently-used list; a hit moves the entry to the front. Keys hash with
 * FNV-1a over their fixed fields and the query text; an entry keeps its whole key, so equal
 * hashes never serve the wrong tile.
 */
#include "server/tilecache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKETS_PER_SHARD 4096

struct entry {
    struct tile_key key;
    uint64_t hash;
    struct tile_body *body;
    struct entry *chain;         /* same bucket */
    struct entry *newer, *older; /* LRU */
};

struct shard {
    pthread_mutex_t lock;
    struct entry *bucket[BUCKETS_PER_SHARD];
    struct entry *newest, *oldest;
    size_t bytes, entries;
    uint64_t hits, misses, stale, evictions;
};

struct tilecache {
    size_t max_bytes;
    struct shard shard[TILECACHE_SHARDS];
    atomic_uint versions[TILECACHE_VERSIONS];
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t key_hash(const struct tile_key *k)
{
    uint64_t h = 1469598103934665603ull;
    h = fnv(h, &k->layer, 4);
    h = fnv(h, &k->x, sizeof k->x);
    h = fnv(h, &k->y, sizeof k->y);
    h = fnv(h, &k->heat_scale, sizeof k->heat_scale);
    return fnv(h, k->query, strlen(k->query));
}

static int key_eq(const struct tile_key *a, const struct tile_key *b)
{
    return a->layer == b->layer && a->z == b->z && a->size_2x == b->size_2x &&
           a->format == b->format && a->x == b->x && a->y == b->y &&
           a->heat_scale == b->heat_scale && strcmp(a->query, b->query) == 0;
}

static size_t entry_bytes(const struct entry *e)
{
    return sizeof *e + sizeof *e->body + e->body->len;
}

struct tilecache *tilecache_create(size_t max_bytes)
{
    struct tilecache *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->max_bytes = max_bytes;
    for (int i = 0; i < TILECACHE_SHARDS; i++)
        pthread_mutex_init(&c->shard[i].lock, NULL);
    return c;
}

struct tile_body *tile_body_new(const void *data, size_t len, const char *type, int is_static,
                                uint32_t version, double ttl_s)
{
    struct tile_body *b = malloc(sizeof *b + (len ? len : 1));
    uint64_t h;

    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->is_static = is_static;
    b->version = version;
    b->expires_at = ttl_s > 0 ? mono_s() + ttl_s : 0;
    b->type = type;
    b->len = len;
    if (len)
        memcpy(b->data, data, len);
    h = fnv(1469598103934665603ull, b->data, len); /* strong: the bytes themselves */
    for (int i = 0; i < 16; i++)
        b->etag[1 + i] = "0123456789abcdef"[(h >> (60 - 4 * i)) & 15];
    b->etag[0] = '"';
    b->etag[17] = '"';
    b->etag[18] = '\0';
    return b;
}

void tile_body_release(struct tile_body *b)
{
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        free(b);
}

static void lru_unlink(struct shard *s, struct entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_front(struct shard *s, struct entry *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest)
        s->newest->newer = e;
    s->newest = e;
    if (!s->oldest)
        s->oldest = e;
}

static void entry_drop(struct shard *s, struct entry *e)
{
    struct entry **p = &s->bucket[e->hash % BUCKETS_PER_SHARD];

    while (*p && *p != e)
        p = &(*p)->chain;
    if (*p)
        *p = e->chain;
    lru_unlink(s, e);
    s->bytes -= entry_bytes(e);
    s->entries--;
    tile_body_release(e->body);
    free(e);
}

void tilecache_destroy(struct tilecache *c)
{
    if (!c)
        return;
    for (int i = 0; i < TILECACHE_SHARDS; i++) {
        struct shard *s = &c->shard[i];
        while (s->oldest)
            entry_drop(s, s->oldest);
        pthread_mutex_destroy(&s->lock);
    }
    free(c);
}

static size_t version_slot(int z, uint32_t x, uint32_t y)
{
    uint64_t h = fnv(1469598103934665603ull, &z, sizeof z);
    h = fnv(h, &x, sizeof x);
    h = fnv(h, &y, sizeof y);
    return (size_t)(h % TILECACHE_VERSIONS);
}

uint32_t tilecache_version(struct tilecache *c, int z, uint32_t x, uint32_t y)
{
    return atomic_load_explicit(&c->versions[version_slot(z, x, y)], memory_order_acquire);
}

void tilecache_touch(struct tilecache *c, int z, uint32_t x, uint32_t y)
{
    atomic_fetch_add_explicit(&c->versions[version_slot(z, x, y)], 1, memory_order_acq_rel);
}

static int fresh(struct tilecache *c, const struct entry *e)
{
    const struct tile_body *b = e->body;
    if (b->expires_at && mono_s() >= b->expires_at)
        return 0;
    return b->is_static || b->version == tilecache_version(c, e->key.z, e->key.x, e->key.y);
}

struct tile_body *tilecache_get(struct tilecache *c, const struct tile_key *k)
{
    uint64_t h = key_hash(k);
    struct shard *s = &c->shard[h % TILECACHE_SHARDS];
    struct tile_body *b = NULL;
    struct entry *e;

    pthread_mutex_lock(&s->lock);
    for (e = s->bucket[h % BUCKETS_PER_SHARD]; e; e = e->chain)
        if (e->hash == h && key_eq(&e->key, k))
            break;
    if (e && !fresh(c, e)) {
        entry_drop(s, e);
        s->stale++;
        e = NULL;
    }
    if (e) {
        lru_unlink(s, e);
        lru_front(s, e);
        b = e->body;
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
        s->hits++;
    } else {
        s->misses++;
    }
    pthread_mutex_unlock(&s->lock);
    return b;
}

void tilecache_put(struct tilecache *c, const struct tile_key *k, struct tile_body *b)
{
    uint64_t h = key_hash(k);
    struct shard *s = &c->shard[h % TILECACHE_SHARDS];
    size_t share = c->max_bytes / TILECACHE_SHARDS;
    struct entry *e = calloc(1, sizeof *e), *old;

    if (!e)
        return; /* not cached: rendered again next time */
    e->key = *k;
    e->hash = h;
    e->body = b;
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    pthread_mutex_lock(&s->lock);
    for (old = s->bucket[h % BUCKETS_PER_SHARD]; old; old = old->chain)
        if (old->hash == h && key_eq(&old->key, k))
            break;
    if (old)
        entry_drop(s, old);
    e->chain = s->bucket[h % BUCKETS_PER_SHARD];
    s->bucket[h % BUCKETS_PER_SHARD] = e;
    lru_front(s, e);
    s->bytes += entry_bytes(e);
    s->entries++;
    while (s->bytes > share && s->oldest && s->oldest != e) {
        entry_drop(s, s->oldest);
        s->evictions++;
    }
    pthread_mutex_unlock(&s->lock);
}

void tilecache_stats(struct tilecache *c, struct tilecache_stats *st)
{
    memset(st, 0, sizeof *st);
    st->max_bytes = c->max_bytes;
    for (int i = 0; i < TILECACHE_SHARDS; i++) {
        struct shard *s = &c->shard[i];
        pthread_mutex_lock(&s->lock);
        st->entries += s->entries;
        st->bytes += s->bytes;
        st->hits += s->hits;
        st->misses += s->misses;
        st->stale += s->stale;
        st->evictions += s->evictions;
        pthread_mutex_unlock(&s->lock);
    }
}
