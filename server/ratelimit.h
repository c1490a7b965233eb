/*
 * server/ratelimit.h - token buckets keyed by client (an IP address, an API key), shared by
 * all worker threads. A bucket holds up to `burst` tokens and refills at `rate` per second; a
 * request takes one. The table has a fixed size: when its slots for a key are all taken, the
 * bucket idle the longest is reused (a forgotten client starts again with a full bucket), so
 * memory never grows with the number of clients. Thread-safe (sharded locks).
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RL_KEY_MAX 24 /* bytes of a bucket key: class + address or key id */

struct rl_table;

struct rl_table *rl_create(void); /* NULL on out of memory */
void rl_destroy(struct rl_table *t);

/* Takes a token from key's bucket. 0: allowed. Otherwise the whole seconds (>= 1) until a
 * token will be there, for Retry-After. rate <= 0 means unlimited. */
unsigned rl_take(struct rl_table *t, const void *key, size_t len, double rate, double burst,
                 uint64_t now_us);

#endif
