/*
 * server/auth.h - who is calling and what they may do. Callers are anonymous or hold an API
 * key with one role (admin, staff of an entity, tow_operator). Keys are 256 random bits shown
 * once, at creation; the store keeps their SHA-256 only. Which role may call which route is a
 * column of the route table (server/routes.c), checked in one place by the dispatcher; what
 * staff may do to one case (only their own entity's) is auth_may_act_for(). Every write made
 * with a key is recorded through auth_audit(), inside the transaction of the write.
 */
#ifndef AUTH_H
#define AUTH_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "data/store.h"

enum auth_role {
    AUTH_ANONYMOUS = 1 << 0,
    AUTH_STAFF = 1 << 1,
    AUTH_TOW = 1 << 2,
    AUTH_ADMIN = 1 << 3,
};
#define AUTH_ANYONE (AUTH_ANONYMOUS | AUTH_STAFF | AUTH_TOW | AUTH_ADMIN)

#define AUTH_KEY_PREFIX "rpk_"
#define AUTH_KEY_BYTES  32                               /* of randomness */
#define AUTH_KEY_LEN    (sizeof AUTH_KEY_PREFIX - 1 + 43) /* base64url of 32 bytes, unpadded */

struct principal {
    enum auth_role role;
    int64_t key_id;              /* 0: anonymous, or the command line */
    char entity[STORE_CODE_MAX]; /* "" when none */
    char name[STORE_NAME_MAX];
};

/* A new secret: prefix + base64url of 32 random bytes (prefix up to 8 characters), and its
 * SHA-256. Keys and reporters' case tokens are made this way. */
#define AUTH_SECRET_MAX 56
int auth_secret_new(const char *prefix, char out[AUTH_SECRET_MAX],
                    unsigned char hash[STORE_HASH_LEN], struct rp_err *err);
int auth_sha256(const char *data, size_t len, unsigned char out[STORE_HASH_LEN]);

/* The command line acting as administrator (reporta keys ...). */
extern const struct principal auth_cli;

const char *auth_role_name(enum auth_role role); /* "anonymous", "staff", ... */
int auth_role_parse(const char *name);           /* a key role, or -1 (not "anonymous") */

/* The caller behind an Authorization header value (NULL: anonymous). "Bearer KEY" with an
 * unknown, malformed or revoked key: RP_UNAUTHORIZED. */
int auth_identify(struct store *s, const char *authorization, struct principal *out,
                  struct rp_err *err);
/* The same for a bare key (Open311's api_key parameter). */
int auth_identify_key(struct store *s, const char *key, struct principal *out,
                      struct rp_err *err);

/* Staff act only for their own entity; admins for every entity; nobody else for any. */
int auth_may_act_for(const struct principal *p, const char *entity);

/* Creates a key and its audit row in one transaction. key receives the clear key (shown once);
 * *id its id. RP_INVALID_ARGUMENT for a bad role, a staff key without an entity, an unknown
 * entity or an empty name. */
int auth_key_create(struct store *s, const struct principal *actor, const char *role,
                    const char *entity, const char *name, char key[AUTH_KEY_LEN + 1],
                    int64_t *id, struct rp_err *err);
/* Revokes and audits; RP_NOT_FOUND for an unknown id, RP_CONFLICT when already revoked. */
int auth_key_revoke(struct store *s, const struct principal *actor, int64_t id,
                    struct rp_err *err);

/* A key as JSON (never the key itself: it is not stored). */
json_t *auth_key_json(const struct store_key *k);

/* Appends an audit row for actor; before/after are summaries (borrowed, may be NULL). */
int auth_audit(struct store *s, const struct principal *actor, const char *action,
               const char *target, json_t *before, json_t *after, struct rp_err *err);

#endif
