/*
 * server/auth.c - API keys (generation, hashing, lookup, revocation) and the audit log
 * (see auth.h). Randomness from getrandom(2); SHA-256 and base64 from OpenSSL's libcrypto.
 */
#include "server/auth.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

const struct principal auth_cli = {AUTH_ADMIN, 0, "", "cli"};

static const struct {
    enum auth_role role;
    const char *name;
} role_names[] = {{AUTH_ANONYMOUS, "anonymous"},
                  {AUTH_STAFF, "staff"},
                  {AUTH_TOW, "tow_operator"},
                  {AUTH_ADMIN, "admin"}};

const char *auth_role_name(enum auth_role role)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (role_names[i].role == role)
            return role_names[i].name;
    return "?";
}

int auth_role_parse(const char *name)
{
    for (size_t i = 1; name && i < sizeof role_names / sizeof role_names[0]; i++)
        if (strcmp(role_names[i].name, name) == 0)
            return (int)role_names[i].role;
    return -1;
}

int auth_sha256(const char *data, size_t len, unsigned char out[STORE_HASH_LEN])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == STORE_HASH_LEN;
}

/* A well-formed key: the prefix, then exactly 43 base64url characters. */
static int key_shape_ok(const char *key)
{
    size_t p = sizeof AUTH_KEY_PREFIX - 1;

    if (strlen(key) != AUTH_KEY_LEN || strncmp(key, AUTH_KEY_PREFIX, p) != 0)
        return 0;
    return strspn(key + p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
           AUTH_KEY_LEN - p;
}

int auth_identify_key(struct store *s, const char *key, struct principal *out,
                      struct rp_err *err)
{
    unsigned char hash[STORE_HASH_LEN];
    struct store_key k;
    int found = 0, rc;

    memset(out, 0, sizeof *out);
    out->role = AUTH_ANONYMOUS;
    if (!key_shape_ok(key))
        return rp_err_set(err, RP_UNAUTHORIZED, "the API key is not valid");
    if (!auth_sha256(key, strlen(key), hash))
        return rp_err_set(err, RP_INTERNAL, "sha256");
    rc = store_key_by_hash(s, hash, &k, &found, err);
    if (rc != RP_OK)
        return rc;
    if (!found)
        return rp_err_set(err, RP_UNAUTHORIZED, "the API key is not valid");
    if (k.revoked_at[0])
        return rp_err_set(err, RP_UNAUTHORIZED, "the API key was revoked");
    out->role = (enum auth_role)auth_role_parse(k.role);
    out->key_id = k.id;
    snprintf(out->entity, sizeof out->entity, "%s", k.entity);
    snprintf(out->name, sizeof out->name, "%s", k.name);
    return RP_OK;
}

int auth_identify(struct store *s, const char *authorization, struct principal *out,
                  struct rp_err *err)
{
    memset(out, 0, sizeof *out);
    out->role = AUTH_ANONYMOUS;
    if (!authorization)
        return RP_OK;
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return rp_err_set(err, RP_UNAUTHORIZED, "use Authorization: Bearer <API key>");
    authorization += 7;
    while (*authorization == ' ')
        authorization++;
    return auth_identify_key(s, authorization, out, err);
}

int auth_may_act_for(const struct principal *p, const char *entity)
{
    if (p->role == AUTH_ADMIN)
        return 1;
    return p->role == AUTH_STAFF && entity && p->entity[0] && strcmp(p->entity, entity) == 0;
}

json_t *auth_key_json(const struct store_key *k)
{
    return json_pack("{s:I, s:s, s:s, s:s?, s:s, s:s, s:s?}", "id", (json_int_t)k->id, "name",
                     k->name, "role", k->role, "entity", k->entity[0] ? k->entity : NULL,
                     "prefix", k->prefix, "created_at", k->created_at, "revoked_at",
                     k->revoked_at[0] ? k->revoked_at : NULL);
}

int auth_audit(struct store *s, const struct principal *actor, const char *action,
               const char *target, json_t *before, json_t *after, struct rp_err *err)
{
    char who[STORE_NAME_MAX + 8];
    char *b = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *a = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc;

    if (actor->key_id)
        snprintf(who, sizeof who, "key:%lld", (long long)actor->key_id);
    else
        snprintf(who, sizeof who, "%s", actor->name[0] ? actor->name : "anonymous");
    if ((before && !b) || (after && !a))
        rc = rp_err_set(err, RP_NO_MEMORY, "audit summary");
    else
        rc = store_audit_add(s,
                             &(struct store_audit){0, NULL, who, auth_role_name(actor->role),
                                                   actor->entity[0] ? actor->entity : NULL,
                                                   action, target, b, a},
                             err);
    free(b);
    free(a);
    return rc;
}

int auth_secret_new(const char *prefix, char out[AUTH_SECRET_MAX],
                    unsigned char hash[STORE_HASH_LEN], struct rp_err *err)
{
    unsigned char raw[AUTH_KEY_BYTES];
    unsigned char b64[4 * ((AUTH_KEY_BYTES + 2) / 3) + 1];
    size_t p = strlen(prefix);
    int n;

    if (p > 8)
        return rp_err_set(err, RP_INTERNAL, "secret prefix too long");
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return rp_err_set(err, RP_INTERNAL, "getrandom failed");
    n = EVP_EncodeBlock(b64, raw, (int)sizeof raw); /* standard alphabet, padded */
    memset(raw, 0, sizeof raw);
    while (n > 0 && b64[n - 1] == '=')
        n--;
    memcpy(out, prefix, p);
    for (int i = 0; i < n; i++) /* to the URL-safe alphabet (RFC 4648 section 5) */
        out[p + (size_t)i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    out[p + (size_t)n] = '\0';
    if (!auth_sha256(out, p + (size_t)n, hash))
        return rp_err_set(err, RP_INTERNAL, "sha256");
    return RP_OK;
}

static int key_generate(char key[AUTH_KEY_LEN + 1], unsigned char hash[STORE_HASH_LEN],
                        struct rp_err *err)
{
    char secret[AUTH_SECRET_MAX];
    int rc = auth_secret_new(AUTH_KEY_PREFIX, secret, hash, err);

    if (rc == RP_OK && strlen(secret) != AUTH_KEY_LEN)
        rc = rp_err_set(err, RP_INTERNAL, "key encoding");
    if (rc == RP_OK)
        memcpy(key, secret, AUTH_KEY_LEN + 1);
    memset(secret, 0, sizeof secret);
    return rc;
}

int auth_key_create(struct store *s, const struct principal *actor, const char *role,
                    const char *entity, const char *name, char key[AUTH_KEY_LEN + 1],
                    int64_t *id, struct rp_err *err)
{
    unsigned char hash[STORE_HASH_LEN];
    char prefix[16], target[32];
    struct store_key k;
    int r = auth_role_parse(role), exists = 0, found = 0, rc;
    json_t *after;

    if (entity && !entity[0])
        entity = NULL;
    if (r < 0)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "role must be admin, staff or tow_operator");
    if (r == AUTH_STAFF && !entity)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "a staff key needs an entity");
    if (r == AUTH_ADMIN && entity)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "an admin key acts for every entity; "
                                                    "give no entity");
    if (!name || !name[0] || strlen(name) >= STORE_NAME_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "name must have 1 to %d characters",
                          STORE_NAME_MAX - 1);
    rc = key_generate(key, hash, err);
    if (rc != RP_OK)
        return rc;
    snprintf(prefix, sizeof prefix, "%.12s", key);
    rc = store_begin(s, err);
    if (rc == RP_OK && entity)
        rc = store_entity_exists(s, entity, &exists, err);
    if (rc == RP_OK && entity && !exists)
        rc = rp_err_set(err, RP_INVALID_ARGUMENT, "no entity with code %s", entity);
    if (rc == RP_OK)
        rc = store_key_insert(s, name, role, entity, prefix, hash, id, err);
    if (rc == RP_OK)
        rc = store_key_get(s, *id, &k, &found, err);
    if (rc == RP_OK) {
        snprintf(target, sizeof target, "key:%lld", (long long)*id);
        after = auth_key_json(&k);
        rc = after ? auth_audit(s, actor, "key.create", target, NULL, after, err)
                   : rp_err_set(err, RP_NO_MEMORY, "audit");
        json_decref(after);
    }
    rc = store_end(s, rc, err);
    if (rc != RP_OK)
        memset(key, 0, AUTH_KEY_LEN + 1);
    return rc;
}

int auth_key_revoke(struct store *s, const struct principal *actor, int64_t id,
                    struct rp_err *err)
{
    struct store_key k;
    char target[32];
    int found = 0, changed = 0, rc = store_begin(s, err);
    json_t *before = NULL, *after = NULL;

    if (rc == RP_OK)
        rc = store_key_get(s, id, &k, &found, err);
    if (rc == RP_OK && !found)
        rc = rp_err_set(err, RP_NOT_FOUND, "no key with id %lld", (long long)id);
    if (rc == RP_OK && k.revoked_at[0])
        rc = rp_err_set(err, RP_CONFLICT, "key %lld was already revoked at %s", (long long)id,
                        k.revoked_at);
    if (rc == RP_OK) {
        before = auth_key_json(&k);
        rc = store_key_revoke(s, id, &changed, err);
    }
    if (rc == RP_OK)
        rc = store_key_get(s, id, &k, &found, err);
    if (rc == RP_OK) {
        snprintf(target, sizeof target, "key:%lld", (long long)id);
        after = auth_key_json(&k);
        rc = before && after ? auth_audit(s, actor, "key.revoke", target, before, after, err)
                             : rp_err_set(err, RP_NO_MEMORY, "audit");
    }
    json_decref(before);
    json_decref(after);
    return store_end(s, rc, err);
}
