/*
 * server/casemap.c - the open cases in memory (see casemap.h).
 * Records live in one array of slots (a freed slot is reused), found by case id through an
 * open-addressing table. Service, entity and area codes are interned to small numbers; a tree
 * exists per service and per entity that has open cases. A record's quadtree item id is its
 * slot. Weight of a case: 1 + its confirmations ("me too").
 * Heat: the tree's cells of 4 px (CASEMAP_HEAT_CELL_SHIFT), each drawn at its cases' centroid
 * (so the blur of 16 px hides the binning), or its items in the tile where the filter must look
 * at each case. The scale is the weight of the filter's densest
 * ~2.4 km cell (CASEMAP_SCALE_LEVEL) as the kernel spreads it over the zoom's pixels: the same
 * density gives the same colour at every zoom, and every tile of a zoom and filter shares it.
 * It is measured by a walk of that level (a few thousand cells), again when the tree has
 * changed, at most once a second.
 * Case tiles: the cells of 8 px (CASEMAP_CLUSTER_SHIFT) below the tile: a cell with one case
 * is that case, more are a cluster at their centroid. At most 1,024 features a tile, however
 * many cases lie under it.
 * casemap_load fills the records first and then inserts them in Z-order: tree nodes are then
 * laid out in the order walks visit them.
 */
#include "server/casemap.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geo/qtree.h"

#define NONE16 0xFFFFu

struct rec {
    int64_t id;
    double lon, lat;
    int64_t created_s, due_s;
    uint32_t confirmations;
    uint16_t service, entity, area[3];
    uint8_t cls, used;
    char case_no[STORE_CASE_MAX];
};

struct tree {
    struct geo_qtree *q;
    uint64_t version;
    /* the densest cell's cache, written by readers: atomics so that a reader finding it fresh
     * takes no lock; max and max_at are stored before max_version (release) */
    _Atomic float max_a;
    _Atomic uint64_t max_version; /* version + 1 when it was measured; 0 never */
    _Atomic double max_at;
};

/* Interned codes. */
struct names {
    char (*code)[STORE_CODE_MAX];
    size_t n, cap;
    uint32_t *slots; /* index + 1 */
    size_t mask;
};

struct casemap {
    pthread_rwlock_t lock;
    pthread_mutex_t max_lock; /* the trees' densest-cell cache, written by readers */
    struct rec *r;
    struct geo_qtree_item *it; /* the trees' view of each record: position, weight, class */
    size_t n, cap;             /* slots used so far (high-water mark) */
    uint32_t *free;
    size_t nfree, cap_free;
    uint32_t *ids; /* open addressing: slot + 1 by case id */
    size_t ids_mask, count;
    struct names services, entities, areas;
    struct tree all;
    struct tree *by_service, *by_entity; /* indexed like the names */
    size_t cap_service, cap_entity;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static size_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)hash64(h);
}

/* ---- interned codes ---- */

static long names_find(const struct names *t, const char *code)
{
    if (!t->slots || !code)
        return -1;
    for (size_t k = str_hash(code) & t->mask; t->slots[k]; k = (k + 1) & t->mask)
        if (strcmp(t->code[t->slots[k] - 1], code) == 0)
            return (long)t->slots[k] - 1;
    return -1;
}

static long names_add(struct names *t, const char *code)
{
    long i = names_find(t, code);
    size_t k;

    if (i >= 0)
        return i;
    if (strlen(code) >= STORE_CODE_MAX || t->n >= NONE16)
        return -1;
    if ((t->n + 1) * 2 > t->mask + 1) {
        size_t size = t->mask ? (t->mask + 1) * 2 : 64;
        uint32_t *slots = calloc(size, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t j = 0; j < t->n; j++) {
            for (k = str_hash(t->code[j]) & (size - 1); slots[k]; k = (k + 1) & (size - 1))
                ;
            slots[k] = (uint32_t)j + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->mask = size - 1;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        char(*v)[STORE_CODE_MAX] = realloc(t->code, cap * sizeof *v);
        if (!v)
            return -1;
        t->code = v;
        t->cap = cap;
    }
    snprintf(t->code[t->n], STORE_CODE_MAX, "%s", code);
    for (k = str_hash(code) & t->mask; t->slots[k]; k = (k + 1) & t->mask)
        ;
    t->slots[k] = (uint32_t)t->n + 1;
    return (long)t->n++;
}

static void names_fini(struct names *t)
{
    free(t->code);
    free(t->slots);
}

/* ---- case ids ---- */

static size_t id_probe(const struct casemap *cm, int64_t id, int *found)
{
    size_t k = hash64((uint64_t)id) & cm->ids_mask;

    for (; cm->ids[k]; k = (k + 1) & cm->ids_mask)
        if (cm->r[cm->ids[k] - 1].id == id) {
            *found = 1;
            return k;
        }
    *found = 0;
    return k;
}

static int ids_grow(struct casemap *cm)
{
    size_t size = cm->ids_mask ? (cm->ids_mask + 1) * 2 : 4096;
    uint32_t *old = cm->ids;
    size_t old_size = cm->ids_mask ? cm->ids_mask + 1 : 0;

    cm->ids = calloc(size, sizeof *cm->ids);
    if (!cm->ids) {
        cm->ids = old;
        return -1;
    }
    cm->ids_mask = size - 1;
    for (size_t i = 0; i < old_size; i++)
        if (old[i]) {
            int found;
            cm->ids[id_probe(cm, cm->r[old[i] - 1].id, &found)] = old[i];
        }
    free(old);
    return 0;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void id_remove(struct casemap *cm, size_t k)
{
    size_t j = k;

    cm->ids[k] = 0;
    for (;;) {
        j = (j + 1) & cm->ids_mask;
        if (!cm->ids[j])
            return;
        size_t home = hash64((uint64_t)cm->r[cm->ids[j] - 1].id) & cm->ids_mask;
        /* the entry at j may move to k when k lies on its path from home */
        if ((j > k && (home <= k || home > j)) || (j < k && home <= k && home > j)) {
            cm->ids[k] = cm->ids[j];
            cm->ids[j] = 0;
            k = j;
        }
    }
}

/* ---- create ---- */

struct casemap *casemap_create(void)
{
    struct casemap *cm = calloc(1, sizeof *cm);
    pthread_rwlockattr_t a;

    if (!cm)
        return NULL;
    pthread_rwlockattr_init(&a);
    /* ingestion must not starve behind a stream of tile reads */
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (pthread_rwlock_init(&cm->lock, &a) != 0 || pthread_mutex_init(&cm->max_lock, NULL) != 0 ||
        !(cm->all.q = geo_qtree_create(0)) || ids_grow(cm) != 0) {
        pthread_rwlockattr_destroy(&a);
        geo_qtree_destroy(cm->all.q);
        free(cm->ids);
        free(cm);
        return NULL;
    }
    pthread_rwlockattr_destroy(&a);
    return cm;
}

void casemap_destroy(struct casemap *cm)
{
    if (!cm)
        return;
    geo_qtree_destroy(cm->all.q);
    for (size_t i = 0; i < cm->cap_service; i++)
        geo_qtree_destroy(cm->by_service[i].q);
    for (size_t i = 0; i < cm->cap_entity; i++)
        geo_qtree_destroy(cm->by_entity[i].q);
    free(cm->by_service);
    free(cm->by_entity);
    names_fini(&cm->services);
    names_fini(&cm->entities);
    names_fini(&cm->areas);
    free(cm->r);
    free(cm->it);
    free(cm->free);
    free(cm->ids);
    pthread_rwlock_destroy(&cm->lock);
    pthread_mutex_destroy(&cm->max_lock);
    free(cm);
}

/* The tree of service or entity i (tree role: 1 services, 2 entities), made when first
 * needed. */
static struct tree *tree_of(struct tree **v, size_t *cap, size_t i, int role, int create)
{
    if (i >= *cap) {
        size_t n = *cap ? *cap : 16;
        struct tree *t;
        if (!create)
            return NULL;
        while (n <= i)
            n *= 2;
        t = realloc(*v, n * sizeof *t);
        if (!t)
            return NULL;
        memset(t + *cap, 0, (n - *cap) * sizeof *t);
        *v = t;
        *cap = n;
    }
    if (!(*v)[i].q && create)
        (*v)[i].q = geo_qtree_create(role);
    return (*v)[i].q ? &(*v)[i] : NULL;
}

unsigned casemap_status_bit(const char *status)
{
    if (strcmp(status, "received") == 0)
        return CASEMAP_RECEIVED;
    if (strcmp(status, "assigned") == 0)
        return CASEMAP_ASSIGNED;
    if (strcmp(status, "in_progress") == 0)
        return CASEMAP_IN_PROGRESS;
    return 0;
}

static int bit_class(unsigned bit)
{
    return bit == CASEMAP_RECEIVED ? 0 : bit == CASEMAP_ASSIGNED ? 1 : 2;
}

static int64_t epoch_of(const char *iso)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, s = 0;

    if (!iso || sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) < 3)
        return 0;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm);
}

/* ---- changes (write lock held) ---- */

static int item_insert(struct casemap *cm, struct tree *t, uint32_t slot)
{
    if (!t || geo_qtree_insert(t->q, cm->it, slot))
        return -1;
    t->version++;
    return 0;
}

static void item_remove(struct casemap *cm, struct tree *t, uint32_t slot)
{
    if (t) {
        geo_qtree_remove(t->q, cm->it, slot);
        t->version++;
    }
}

/* The record's three trees: all cases, its service's, its entity's. */
static void trees_of(struct casemap *cm, const struct rec *r, int create, struct tree *t[3])
{
    t[0] = &cm->all;
    t[1] = tree_of(&cm->by_service, &cm->cap_service, r->service, 1, create);
    t[2] = tree_of(&cm->by_entity, &cm->cap_entity, r->entity, 2, create);
}

static void unlink_rec(struct casemap *cm, uint32_t slot)
{
    struct tree *t[3];

    trees_of(cm, &cm->r[slot], 0, t);
    for (int i = 0; i < 3; i++)
        item_remove(cm, t[i], slot);
}

/* Into all three trees, or into none (a failed insert is undone in the trees it reached). */
static int link_rec(struct casemap *cm, uint32_t slot)
{
    struct tree *t[3];
    int i;

    trees_of(cm, &cm->r[slot], 1, t);
    for (i = 0; i < 3; i++)
        if (item_insert(cm, t[i], slot))
            break;
    if (i == 3)
        return 0;
    while (i-- > 0)
        item_remove(cm, t[i], slot);
    return -1;
}

static int fill_rec(struct casemap *cm, uint32_t slot, const struct store_point *p, unsigned bit)
{
    struct rec *r = &cm->r[slot];
    struct geo_qtree_item *it = &cm->it[slot];
    double wx, wy, n = (double)(1u << GEO_QTREE_DEPTH);
    long sv = names_add(&cm->services, p->service_code),
         en = names_add(&cm->entities, p->entity_code);

    if (sv < 0 || en < 0)
        return -1;
    memset(r, 0, sizeof *r);
    r->id = p->id;
    r->lon = p->lon;
    r->lat = p->lat;
    geo_world_from_lonlat(p->lon, p->lat, GEO_QTREE_DEPTH, &wx, &wy);
    it->wx = (uint32_t)fmin(n - 1, fmax(0, wx));
    it->wy = (uint32_t)fmin(n - 1, fmax(0, wy));
    r->created_s = epoch_of(p->created_at);
    r->due_s = epoch_of(p->due_at);
    r->confirmations = p->confirmations > 0 ? (uint32_t)p->confirmations : 0;
    r->service = (uint16_t)sv;
    r->entity = (uint16_t)en;
    for (int l = 0; l < 3; l++) {
        long a = p->area[l] && p->area[l][0] ? names_add(&cm->areas, p->area[l]) : -2;
        if (a == -1)
            return -1;
        r->area[l] = a < 0 ? NONE16 : (uint16_t)a;
    }
    r->cls = (uint8_t)bit_class(bit);
    it->cls = r->cls;
    it->weight = 1.0f + r->confirmations;
    r->used = 1;
    snprintf(r->case_no, sizeof r->case_no, "%s", p->case_no);
    return 0;
}

/* link = 0 (casemap_load): the record only; casemap_load links every record afterwards. */
static int put_locked(struct casemap *cm, const struct store_point *p, double where[2], int link)
{
    unsigned bit = casemap_status_bit(p->status);
    int found;
    size_t k = id_probe(cm, p->id, &found);
    uint32_t slot;

    where[0] = where[1] = NAN;
    if (found) { /* out of the trees; back in below if still open */
        slot = cm->ids[k] - 1;
        where[0] = cm->r[slot].lon;
        where[1] = cm->r[slot].lat;
        if (link)
            unlink_rec(cm, slot);
        if (!bit) {
            cm->r[slot].used = 0;
            id_remove(cm, k);
            cm->free[cm->nfree++] = slot;
            cm->count--;
            return 0;
        }
    } else {
        if (!bit)
            return 0;
        if ((cm->count + 1) * 2 > cm->ids_mask + 1) {
            if (ids_grow(cm))
                return -1;
            k = id_probe(cm, p->id, &found);
        }
        if (cm->nfree) {
            slot = cm->free[--cm->nfree];
        } else {
            if (cm->n == cm->cap) {
                size_t cap = cm->cap ? cm->cap * 2 : 4096;
                struct rec *r = realloc(cm->r, cap * sizeof *r);
                struct geo_qtree_item *it = r ? realloc(cm->it, cap * sizeof *it) : NULL;
                uint32_t *f = it ? realloc(cm->free, cap * sizeof *f) : NULL;
                if (r)
                    cm->r = r;
                if (it)
                    cm->it = it;
                if (f)
                    cm->free = f;
                if (!r || !it || !f)
                    return -1;
                cm->cap = cap;
            }
            slot = (uint32_t)cm->n++;
        }
        cm->ids[k] = slot + 1;
        cm->count++;
    }
    if (fill_rec(cm, slot, p, bit) || (link && link_rec(cm, slot))) {
        /* out of memory: drop the case from the map rather than keep it half in (it is in no
         * tree now); tiles miss it until the next restart, the store still has it */
        cm->r[slot].used = 0;
        id_remove(cm, id_probe(cm, p->id, &found));
        cm->free[cm->nfree++] = slot;
        cm->count--;
        return -1;
    }
    return 0;
}

int casemap_put(struct casemap *cm, const struct store_point *p, double where[2],
                struct rp_err *err)
{
    int rc;

    pthread_rwlock_wrlock(&cm->lock);
    rc = put_locked(cm, p, where, 1);
    pthread_rwlock_unlock(&cm->lock);
    return rc ? rp_err_set(err, RP_NO_MEMORY, "case map") : RP_OK;
}

static int load_one(void *ctx, const struct store_point *p, struct rp_err *err)
{
    double where[2];
    return put_locked(ctx, p, where, 0) ? rp_err_set(err, RP_NO_MEMORY, "case map") : RP_OK;
}

/* The Z-order (Morton) key of an item: bits of y and x interleaved. */
static uint64_t morton(const struct geo_qtree_item *it)
{
    uint64_t k = 0;
    for (int b = GEO_QTREE_DEPTH - 1; b >= 0; b--)
        k = k << 2 | ((uint64_t)(it->wy >> b & 1) << 1) | (it->wx >> b & 1);
    return k;
}

struct keyed {
    uint64_t key;
    uint32_t slot;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

/* Records and items into the order of `order` (order[k].slot moves to slot k), in place by
 * following the permutation's cycles; then the id table anew. Every slot must be in order. */
static void permute(struct casemap *cm, struct keyed *order, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        struct rec r;
        struct geo_qtree_item it;
        size_t j = k;
        if (order[k].slot == UINT32_MAX)
            continue; /* moved with an earlier cycle */
        r = cm->r[k];
        it = cm->it[k];
        for (;;) {
            size_t src = order[j].slot;
            order[j].slot = UINT32_MAX;
            if (src == k) {
                cm->r[j] = r;
                cm->it[j] = it;
                break;
            }
            cm->r[j] = cm->r[src];
            cm->it[j] = cm->it[src];
            j = src;
        }
    }
    memset(cm->ids, 0, (cm->ids_mask + 1) * sizeof *cm->ids);
    for (size_t k = 0; k < n; k++) {
        int found;
        cm->ids[id_probe(cm, cm->r[k].id, &found)] = (uint32_t)k + 1;
        order[k].slot = (uint32_t)k;
    }
}

int casemap_load(struct casemap *cm, struct store *s, struct rp_err *err)
{
    struct keyed *order = NULL;
    size_t n = 0;
    int rc;

    pthread_rwlock_wrlock(&cm->lock);
    rc = store_points_open(s, load_one, cm, err);
    /* Records, items and tree nodes in Z-order: a tile's walk then reads neighbouring memory
     * (a bucket's items, the nodes below a node) instead of a cache and TLB miss for each.
     * Measured at 1,000,000 cases: a dense z8 heat tile gathers its cells ~4x faster. */
    if (rc == RP_OK && cm->n && !(order = malloc(cm->n * sizeof *order)))
        rc = rp_err_set(err, RP_NO_MEMORY, "case map");
    for (size_t i = 0; rc == RP_OK && i < cm->n; i++)
        if (cm->r[i].used)
            order[n++] = (struct keyed){morton(&cm->it[i]), (uint32_t)i};
    if (rc == RP_OK && n) {
        qsort(order, n, sizeof *order, cmp_keyed);
        if (n == cm->n && cm->nfree == 0)
            permute(cm, order, n);
    }
    for (size_t i = 0; rc == RP_OK && i < n; i++)
        if (link_rec(cm, order[i].slot))
            rc = rp_err_set(err, RP_NO_MEMORY, "case map");
    free(order);
    pthread_rwlock_unlock(&cm->lock);
    return rc;
}

/* ---- reading (read lock held) ---- */

/* The filter resolved against this map: which tree, and what each case must satisfy. */
struct plan {
    const struct tree *tree; /* NULL: nothing can match */
    int scan_heat, scan_mvt; /* the filter needs each case looked at */
    long service, entity, area;
    unsigned statuses;
    int64_t since, now;
    int overdue;
};

static void plan_of(const struct casemap *cm, const struct casemap_filter *f, struct plan *p)
{
    unsigned st = f->statuses & CASEMAP_OPEN;

    memset(p, 0, sizeof *p);
    p->statuses = st ? st : CASEMAP_OPEN;
    p->service = f->service ? names_find(&cm->services, f->service) : -2;
    p->entity = f->entity ? names_find(&cm->entities, f->entity) : -2;
    p->area = f->area ? names_find(&cm->areas, f->area) : -2;
    p->since = f->since;
    p->overdue = f->overdue;
    p->now = (int64_t)time(NULL);
    if (p->service == -1 || p->entity == -1 || p->area == -1)
        return; /* a code no open case has: nothing */
    if (p->entity >= 0)
        p->tree = (size_t)p->entity < cm->cap_entity && cm->by_entity[p->entity].q
                      ? &cm->by_entity[p->entity]
                      : NULL;
    else if (p->service >= 0)
        p->tree = (size_t)p->service < cm->cap_service && cm->by_service[p->service].q
                      ? &cm->by_service[p->service]
                      : NULL;
    else
        p->tree = &cm->all;
    p->scan_mvt = p->area >= 0 || p->since || p->overdue || (p->service >= 0 && p->entity >= 0);
    p->scan_heat = p->scan_mvt || p->statuses != CASEMAP_OPEN;
}

static int matches(const struct plan *p, const struct rec *r)
{
    if (!(p->statuses & (1u << r->cls)))
        return 0;
    if (p->service >= 0 && r->service != p->service)
        return 0;
    if (p->entity >= 0 && r->entity != p->entity)
        return 0;
    if (p->area >= 0 && r->area[0] != p->area && r->area[1] != p->area && r->area[2] != p->area)
        return 0;
    if (p->since && r->created_s < p->since)
        return 0;
    if (p->overdue && r->due_s >= p->now)
        return 0;
    return 1;
}

static float max_weight(struct casemap *cm, const struct tree *t)
{
    struct tree *w = (struct tree *)t; /* the cache only */
    uint64_t mv = atomic_load_explicit(&w->max_version, memory_order_acquire);
    float m = atomic_load_explicit(&w->max_a, memory_order_relaxed);
    double now = now_s();

    /* fresh (the tree has not changed since), or stale for under a second but never "empty"
     * while the tree is not (a zero would draw every tile blank): no lock */
    if (mv == w->version + 1 ||
        (mv != 0 && m != 0 &&
         now - atomic_load_explicit(&w->max_at, memory_order_relaxed) < CASEMAP_SCALE_REFRESH_S))
        return m;
    pthread_mutex_lock(&cm->max_lock); /* one reader measures; the others wait for it */
    mv = atomic_load_explicit(&w->max_version, memory_order_acquire);
    if (mv != w->version + 1) {
        m = geo_qtree_max_weight(w->q, cm->it, CASEMAP_SCALE_LEVEL);
        atomic_store_explicit(&w->max_a, m, memory_order_relaxed);
        atomic_store_explicit(&w->max_at, now, memory_order_relaxed);
        atomic_store_explicit(&w->max_version, w->version + 1, memory_order_release);
    }
    m = atomic_load_explicit(&w->max_a, memory_order_relaxed);
    pthread_mutex_unlock(&cm->max_lock);
    return m;
}

static int pixel_level(int z, int size_px) { return z + (size_px == 512 ? 9 : 8); }

/* The densest CASEMAP_SCALE_LEVEL cell, as the kernel spreads it over the pixels of zoom z:
 * the same density gives the same colour at every zoom. */
static double scale_locked(struct casemap *cm, const struct plan *p, int z, int size_px)
{
    double cell_px = ldexp(1.0, pixel_level(z, size_px) - CASEMAP_SCALE_LEVEL), s;

    if (!p->tree)
        return 0;
    s = geo_heat_peak(size_px, cell_px) * max_weight(cm, p->tree);
    if (s <= 0)
        return 0;
    /* at street zooms the density is a few cases under a kernel: a lone case stays yellow to
     * orange and CASEMAP_SCALE_MIN_CASES stacked are full red */
    s = fmax(s, CASEMAP_SCALE_MIN_CASES);
    return exp2(round(2 * log2(s)) / 2);
}

double casemap_heat_scale(struct casemap *cm, const struct casemap_filter *f, int z, int size_px)
{
    struct plan p;
    double s;

    pthread_rwlock_rdlock(&cm->lock);
    plan_of(cm, f, &p);
    s = scale_locked(cm, &p, z, size_px);
    pthread_rwlock_unlock(&cm->lock);
    return s;
}

/* The cells (at `level`) of tile t's pixels plus margin px all round, pixels being at
 * pixel level pl; x1/y1 exclusive, clipped to the world. */
static void tile_rect(const struct geo_tile *t, int size_px, int margin, int level, int pl,
                      uint32_t r[4])
{
    int64_t n = 1LL << pl, lo_x = (int64_t)t->x * size_px - margin,
            lo_y = (int64_t)t->y * size_px - margin;
    int64_t hi_x = (int64_t)(t->x + 1) * size_px + margin,
            hi_y = (int64_t)(t->y + 1) * size_px + margin;
    int shift = pl - level;

    lo_x = lo_x < 0 ? 0 : lo_x;
    lo_y = lo_y < 0 ? 0 : lo_y;
    hi_x = hi_x > n ? n : hi_x;
    hi_y = hi_y > n ? n : hi_y;
    r[0] = (uint32_t)(lo_x >> shift);
    r[1] = (uint32_t)(lo_y >> shift);
    r[2] = (uint32_t)((hi_x + (1LL << shift) - 1) >> shift);
    r[3] = (uint32_t)((hi_y + (1LL << shift) - 1) >> shift);
}

struct heat_walk {
    const struct casemap *cm;
    const struct plan *p;
    const struct geo_tile *t;
    struct geo_heat *h;
    int64_t ox, oy; /* tile origin in pixels */
    int pl;         /* the pixels' level */
    size_t n;
};

static void heat_cell(void *ctx, uint32_t cx, uint32_t cy, const struct geo_qtree_cell *c)
{
    struct heat_walk *w = ctx;
    /* the cell's weight at its cases' centroid (world units at GEO_QTREE_DEPTH -> pixels) */
    double px = ldexp((double)c->sx / c->n, w->pl - GEO_QTREE_DEPTH) - (double)w->ox,
           py = ldexp((double)c->sy / c->n, w->pl - GEO_QTREE_DEPTH) - (double)w->oy;

    (void)cx, (void)cy;
    geo_heat_add(w->h, px, py, c->weight);
    w->n++;
}

static int heat_item(void *ctx, uint32_t item)
{
    struct heat_walk *w = ctx;
    const struct rec *r = &w->cm->r[item];
    double px, py;

    if (!matches(w->p, r))
        return 0;
    geo_tile_pixel(w->t, w->h->size, r->lon, r->lat, &px, &py);
    geo_heat_add(w->h, px, py, 1.0f + r->confirmations);
    w->n++;
    return 0;
}

int casemap_heat(struct casemap *cm, const struct casemap_filter *f, const struct geo_tile *t,
                 struct geo_heat *h, size_t *cells, struct rp_err *err)
{
    struct plan p;
    int pl = pixel_level(t->z, h->size), cl = pl - CASEMAP_HEAT_CELL_SHIFT;
    struct heat_walk w = {cm, &p, t, h, (int64_t)t->x * h->size, (int64_t)t->y * h->size, pl, 0};
    uint32_t r[4];

    (void)err;
    pthread_rwlock_rdlock(&cm->lock);
    plan_of(cm, f, &p);
    if (p.tree && !p.scan_heat && cl <= GEO_QTREE_DEPTH) {
        tile_rect(t, h->size, h->margin, cl, pl, r);
        geo_qtree_cells(p.tree->q, cm->it, cl, r[0], r[1], r[2], r[3], heat_cell, &w);
    } else if (p.tree) {
        int level = pl < GEO_QTREE_DEPTH ? pl : GEO_QTREE_DEPTH;
        tile_rect(t, h->size, h->margin, level, pl, r);
        (void)geo_qtree_items(p.tree->q, cm->it, level, r[0], r[1], r[2], r[3], heat_item, &w);
    }
    pthread_rwlock_unlock(&cm->lock);
    if (cells)
        *cells = w.n;
    return RP_OK;
}

/* ---- case tiles ---- */

static const char *const status_names[GEO_QTREE_CLASSES] = {"received", "assigned", "in_progress"};

struct mvt_walk {
    const struct casemap *cm;
    const struct plan *p;
    const struct geo_tile *t;
    struct geo_mvt *m;
    int layer, fail;
    int64_t now;
    /* clustering by hand (scan): per grid cell */
    uint32_t (*count)[GEO_QTREE_CLASSES];
    int64_t *sx, *sy;
    uint32_t *first; /* an item + 1 */
};

/* World units at GEO_QTREE_DEPTH -> tile coordinates. */
static void to_tile(const struct geo_tile *t, double wx, double wy, int32_t *x, int32_t *y)
{
    double scale = ldexp((double)GEO_MVT_EXTENT, t->z - GEO_QTREE_DEPTH);
    *x = (int32_t)lrint(wx * scale - (double)t->x * GEO_MVT_EXTENT);
    *y = (int32_t)lrint(wy * scale - (double)t->y * GEO_MVT_EXTENT);
}

static int case_feature(struct mvt_walk *w, const struct rec *r)
{
    struct geo_mvt_attr a[7];
    double px, py;

    geo_tile_pixel(w->t, GEO_MVT_EXTENT, r->lon, r->lat, &px, &py);
    a[0] = (struct geo_mvt_attr){"id", GEO_MVT_STRING, r->case_no, 0, 0};
    a[1] = (struct geo_mvt_attr){"service", GEO_MVT_STRING, w->cm->services.code[r->service], 0, 0};
    a[2] = (struct geo_mvt_attr){"status", GEO_MVT_STRING, status_names[r->cls], 0, 0};
    a[3] = (struct geo_mvt_attr){"entity", GEO_MVT_STRING, w->cm->entities.code[r->entity], 0, 0};
    a[4] = (struct geo_mvt_attr){
        "age_hours", GEO_MVT_INT, NULL,
        r->created_s && w->now > r->created_s ? (w->now - r->created_s) / 3600 : 0, 0};
    a[5] = (struct geo_mvt_attr){"overdue", GEO_MVT_BOOL, NULL, r->due_s < w->now, 0};
    a[6] = (struct geo_mvt_attr){"confirmations", GEO_MVT_INT, NULL, r->confirmations, 0};
    return geo_mvt_point(w->m, w->layer, (uint64_t)r->id, (int32_t)lrint(px), (int32_t)lrint(py), a,
                         7);
}

static int cluster_feature(struct mvt_walk *w, const uint32_t count[GEO_QTREE_CLASSES], double cx,
                           double cy)
{
    struct geo_mvt_attr a[5];
    int32_t x, y;
    uint32_t n = 0;

    for (int c = 0; c < GEO_QTREE_CLASSES; c++)
        n += w->p->statuses & (1u << c) ? count[c] : 0;
    to_tile(w->t, cx, cy, &x, &y);
    a[0] = (struct geo_mvt_attr){"count", GEO_MVT_INT, NULL, n, 0};
    for (int c = 0; c < GEO_QTREE_CLASSES; c++)
        a[1 + c] = (struct geo_mvt_attr){status_names[c], GEO_MVT_INT, NULL,
                                         w->p->statuses & (1u << c) ? count[c] : 0, 0};
    a[4] = (struct geo_mvt_attr){"cluster", GEO_MVT_BOOL, NULL, 1, 0};
    return geo_mvt_point(w->m, w->layer, 0, x, y, a, 5);
}

static int one_item(void *ctx, uint32_t item)
{
    struct mvt_walk *w = ctx;
    return matches(w->p, &w->cm->r[item]) ? (case_feature(w, &w->cm->r[item]) ? -1 : 1) : 0;
}

static void mvt_cell(void *ctx, uint32_t cx, uint32_t cy, const struct geo_qtree_cell *c)
{
    struct mvt_walk *w = ctx;
    uint32_t n = 0;
    int level = w->t->z + CASEMAP_CLUSTER_SHIFT;

    for (int k = 0; k < GEO_QTREE_CLASSES; k++)
        n += w->p->statuses & (1u << k) ? c->count[k] : 0;
    if (n == 0 || w->fail)
        return;
    if (n == 1) { /* a lone case shows as itself */
        if (c->n == 1 && c->first) {
            if (case_feature(w, &w->cm->r[c->first - 1]))
                w->fail = 1;
        } else if (geo_qtree_items(w->p->tree->q, w->cm->it, level, cx, cy, cx + 1, cy + 1,
                                   one_item, w) < 0) {
            w->fail = 1;
        }
        return;
    }
    if (cluster_feature(w, c->count, (double)c->sx / c->n, (double)c->sy / c->n))
        w->fail = 1;
}

static int mvt_scan_item(void *ctx, uint32_t item)
{
    struct mvt_walk *w = ctx;
    const struct rec *r = &w->cm->r[item];
    double px, py;
    int32_t gx, gy, k;

    if (!matches(w->p, r))
        return 0;
    geo_tile_pixel(w->t, CASEMAP_CLUSTER_GRID, r->lon, r->lat, &px, &py);
    gx = (int32_t)floor(px);
    gy = (int32_t)floor(py);
    if (gx < 0 || gy < 0 || gx >= CASEMAP_CLUSTER_GRID || gy >= CASEMAP_CLUSTER_GRID)
        return 0;
    k = gy * CASEMAP_CLUSTER_GRID + gx;
    w->count[k][r->cls]++;
    w->sx[k] += w->cm->it[item].wx;
    w->sy[k] += w->cm->it[item].wy;
    if (!w->first[k])
        w->first[k] = item + 1;
    return 0;
}

static int scan_clusters(struct mvt_walk *w, int level, const uint32_t r[4])
{
    size_t cells = CASEMAP_CLUSTER_GRID * CASEMAP_CLUSTER_GRID;
    int rc = 0;

    w->count = calloc(cells, sizeof *w->count);
    w->sx = calloc(cells, sizeof *w->sx);
    w->sy = calloc(cells, sizeof *w->sy);
    w->first = calloc(cells, sizeof *w->first);
    if (!w->count || !w->sx || !w->sy || !w->first)
        rc = -1;
    if (rc == 0)
        (void)geo_qtree_items(w->p->tree->q, w->cm->it, level, r[0], r[1], r[2], r[3],
                              mvt_scan_item, w);
    for (size_t k = 0; rc == 0 && k < cells; k++) {
        uint32_t n = w->count[k][0] + w->count[k][1] + w->count[k][2];
        if (n == 1)
            rc = case_feature(w, &w->cm->r[w->first[k] - 1]);
        else if (n > 1)
            rc = cluster_feature(w, w->count[k], (double)w->sx[k] / n, (double)w->sy[k] / n);
    }
    free(w->count);
    free(w->sx);
    free(w->sy);
    free(w->first);
    return rc;
}

int casemap_mvt(struct casemap *cm, const struct casemap_filter *f, const struct geo_tile *t,
                struct geo_mvt *m, int layer, int64_t now, struct rp_err *err)
{
    struct plan p;
    struct mvt_walk w = {cm, &p, t, m, layer, 0, now, NULL, NULL, NULL, NULL};
    int cl = t->z + CASEMAP_CLUSTER_SHIFT; /* the level of the cluster cells */
    uint32_t r[4];
    int rc = 0;

    pthread_rwlock_rdlock(&cm->lock);
    plan_of(cm, f, &p);
    p.now = now;
    if (p.tree && !p.scan_mvt && cl <= GEO_QTREE_DEPTH) {
        tile_rect(t, CASEMAP_CLUSTER_GRID, 0, cl, cl, r);
        geo_qtree_cells(p.tree->q, cm->it, cl, r[0], r[1], r[2], r[3], mvt_cell, &w);
        rc = w.fail ? -1 : 0;
    } else if (p.tree) { /* a filter the trees do not count, or cells finer than the tree */
        int level = cl < GEO_QTREE_DEPTH ? cl : GEO_QTREE_DEPTH;
        tile_rect(t, CASEMAP_CLUSTER_GRID, 0, level, cl, r);
        rc = scan_clusters(&w, level, r);
    }
    pthread_rwlock_unlock(&cm->lock);
    return rc < 0 ? rp_err_set(err, RP_NO_MEMORY, "case tile") : RP_OK;
}

void casemap_stats(struct casemap *cm, size_t *cases, size_t *bytes)
{
    size_t b;

    pthread_rwlock_rdlock(&cm->lock);
    b = cm->cap * (sizeof *cm->r + sizeof *cm->it + sizeof *cm->free) +
        (cm->ids_mask + 1) * sizeof *cm->ids + geo_qtree_bytes(cm->all.q);
    for (size_t i = 0; i < cm->cap_service; i++)
        b += cm->by_service[i].q ? geo_qtree_bytes(cm->by_service[i].q) : 0;
    for (size_t i = 0; i < cm->cap_entity; i++)
        b += cm->by_entity[i].q ? geo_qtree_bytes(cm->by_entity[i].q) : 0;
    *cases = cm->count;
    *bytes = b;
    pthread_rwlock_unlock(&cm->lock);
}
