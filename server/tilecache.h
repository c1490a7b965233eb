/*
 * server/tilecache.h - rendered tiles kept in memory, bounded in bytes. A key is the layer,
 * z/x/y, the pixel size, the format and the normalised query; a body is refcounted, so a
 * reply keeps serving it while the cache drops it. Case changes invalidate by position: every
 * tile (z, x, y) has a version counter (hashed into a fixed table, so two tiles may share one:
 * that only costs an extra render), captured before a tile is rendered and compared when it is
 * read; bumping the counters of the tiles around a changed case makes exactly those stale,
 * whatever query drew them. Tiles of static layers (areas) ignore the counters; a body may
 * also carry an age limit (case tiles show ages and overdue flags). Thread-safe: 64 shards, a
 * mutex each (a read locks one shard, never the whole cache); the counters are atomics.
 */
#ifndef TILECACHE_H
#define TILECACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define TILECACHE_SHARDS    64
#define TILECACHE_VERSIONS  (1u << 20) /* counters: 4 MB */
#define TILECACHE_QUERY_MAX 384

struct tilecache;

struct tile_key {
    uint8_t layer, z, size_2x, format; /* format: the caller's number for png, mvt... */
    uint32_t x, y;
    double heat_scale; /* part of a heat tile's identity: tiles of one scale join up */
    char query[TILECACHE_QUERY_MAX]; /* normalised filter, "" for none */
};

struct tile_body {
    atomic_int refs;
    int is_static;     /* areas: never invalidated by case changes */
    uint32_t version;  /* of its z/x/y when rendering began */
    double expires_at; /* monotonic seconds; 0: no age limit */
    const char *type;  /* Content-Type (a literal) */
    char etag[24];     /* strong: "<hash of the bytes>" */
    size_t len;
    unsigned char data[]; /* len bytes */
};

struct tilecache *tilecache_create(size_t max_bytes); /* NULL on out of memory */
void tilecache_destroy(struct tilecache *c);

/* A new body holding a copy of data (refs = 1, for the caller); NULL on out of memory. */
struct tile_body *tile_body_new(const void *data, size_t len, const char *type, int is_static,
                                uint32_t version, double ttl_s);
void tile_body_release(struct tile_body *b); /* NULL-safe; frees at the last reference */

/* The cached body for k with a reference for the caller, or NULL: absent, or stale (its
 * tile's counter moved, or its age limit passed), in which case it is dropped. */
struct tile_body *tilecache_get(struct tilecache *c, const struct tile_key *k);
/* Keeps b under k (the cache takes its own reference); evicts the least recently used tiles
 * of the shard past its share of max_bytes. */
void tilecache_put(struct tilecache *c, const struct tile_key *k, struct tile_body *b);

/* The counter of tile (z, x, y), to capture before rendering it. */
uint32_t tilecache_version(struct tilecache *c, int z, uint32_t x, uint32_t y);
/* Every cached tile at (z, x, y) is stale from now on. */
void tilecache_touch(struct tilecache *c, int z, uint32_t x, uint32_t y);

struct tilecache_stats {
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses, stale, evictions;
};
void tilecache_stats(struct tilecache *c, struct tilecache_stats *st);

#endif
