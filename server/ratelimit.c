/*
 * server/ratelimit.c - sharded fixed-size token-bucket table (see ratelimit.h).
 * A key hashes to a shard and, inside it, to a run of RL_PROBE slots; the key's bucket is the
 * slot holding it, else an empty slot, else the slot used least recently.
 */
#include "server/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RL_SHARDS      64
#define RL_SHARD_SLOTS 1024 /* 64 x 1024 buckets: ~3 MB, far more clients than one box serves */
#define RL_PROBE       8

struct bucket {
    uint64_t last_us; /* 0: empty */
    double tokens;
    uint8_t len;
    uint8_t key[RL_KEY_MAX];
};

/* A spin lock: the critical section is a few arithmetic operations, and every request from one
 * address (a load test, a NAT) hits the same shard, where a sleeping mutex costs syscalls. */
struct shard {
    pthread_spinlock_t lock;
    struct bucket slot[RL_SHARD_SLOTS];
};

struct rl_table {
    struct shard shard[RL_SHARDS];
};

static uint64_t hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

struct rl_table *rl_create(void)
{
    struct rl_table *t = calloc(1, sizeof *t);

    for (int i = 0; t && i < RL_SHARDS; i++)
        pthread_spin_init(&t->shard[i].lock, PTHREAD_PROCESS_PRIVATE);
    return t;
}

void rl_destroy(struct rl_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < RL_SHARDS; i++)
        pthread_spin_destroy(&t->shard[i].lock);
    free(t);
}

static struct bucket *find(struct shard *sh, uint64_t h, const uint8_t *key, size_t len)
{
    struct bucket *victim = NULL;

    for (unsigned i = 0; i < RL_PROBE; i++) {
        struct bucket *b = &sh->slot[(h + i) % RL_SHARD_SLOTS];
        if (b->last_us && b->len == len && memcmp(b->key, key, len) == 0)
            return b;
        if (!victim || b->last_us < victim->last_us)
            victim = b;
    }
    victim->last_us = 0; /* reused: starts full */
    victim->len = (uint8_t)len;
    memcpy(victim->key, key, len);
    return victim;
}

unsigned rl_take(struct rl_table *t, const void *key, size_t len, double rate, double burst,
                 uint64_t now_us)
{
    uint64_t h;
    struct shard *sh;
    struct bucket *b;
    unsigned wait = 0;

    if (rate <= 0 || !t)
        return 0;
    if (len > RL_KEY_MAX)
        len = RL_KEY_MAX;
    if (burst < 1)
        burst = 1;
    if (now_us == 0)
        now_us = 1;
    h = hash(key, len);
    sh = &t->shard[h % RL_SHARDS];
    pthread_spin_lock(&sh->lock);
    b = find(sh, h / RL_SHARDS, key, len);
    if (b->last_us == 0)
        b->tokens = burst;
    else if (now_us > b->last_us)
        b->tokens = fmin(burst, b->tokens + (double)(now_us - b->last_us) * rate / 1e6);
    b->last_us = now_us > b->last_us ? now_us : b->last_us;
    if (b->tokens >= 1)
        b->tokens -= 1;
    else
        wait = (unsigned)ceil((1 - b->tokens) / rate);
    pthread_spin_unlock(&sh->lock);
    return wait;
}
