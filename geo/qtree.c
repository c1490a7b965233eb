/*
 * geo/qtree.c - the bucketed count quadtree (see qtree.h). Nodes live in one array, addressed
 * by index (0 is the root, at level 0); freed nodes are chained for reuse through child[0]. A
 * node with no children is a bucket; its items are a doubly linked list through the items'
 * own links of the tree's role, so a removal is O(1) once the bucket is found. Walking to an item
 * takes one bit of x and one of y per level, from the root to its bucket. Weights are whole numbers
 * (1 + confirmations), exact in a float up to 2^24.
 */
#include "geo/qtree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MERGE_AT (GEO_QTREE_BUCKET / 4) /* a subtree this small becomes one bucket again */

struct node {
    uint32_t child[4]; /* node index, 0 for none (the root is nobody's child) */
    uint32_t head;     /* buckets: first item + 1, 0 for none */
    uint16_t nb;       /* buckets: items listed */
    uint8_t level, inner;
    struct geo_qtree_cell c;
};

struct geo_qtree {
    struct node *v;
    size_t n, cap;
    uint32_t free_head; /* a freed node + 1, chained through child[0] */
    int role;
};

#define NEXT(items, id) ((items)[id].next[t->role])
#define PREV(items, id) ((items)[id].prev[t->role])

struct geo_qtree *geo_qtree_create(int role)
{
    struct geo_qtree *t;

    if (role < 0 || role >= GEO_QTREE_ROLES)
        return NULL;
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->role = role;
    t->cap = 64;
    t->v = calloc(t->cap, sizeof *t->v);
    if (!t->v) {
        free(t);
        return NULL;
    }
    t->n = 1; /* the root: an empty bucket at level 0 */
    return t;
}

void geo_qtree_destroy(struct geo_qtree *t)
{
    if (!t)
        return;
    free(t->v);
    free(t);
}

/* A big tree's walks touch nodes all over its array: ask for transparent huge pages (2 MB), so
 * a walk is not one TLB miss per node. Advice only: without it nothing changes but speed. */
static void huge_pages(void *p, size_t len)
{
    const uintptr_t page = 4096;
    uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1), hi = ((uintptr_t)p + len) & ~(page - 1);

    if (len >= (2u << 20) && hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

/* Room for a split at every level: an insert then cannot fail half way. */
static int reserve(struct geo_qtree *t)
{
    if (t->n + 4 * (GEO_QTREE_DEPTH + 1) > t->cap) {
        size_t cap = t->cap * 2;
        struct node *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
        huge_pages(v, cap * sizeof *v);
    }
    return 0;
}

static uint32_t node_new(struct geo_qtree *t, int level)
{
    uint32_t i;

    if (t->free_head) {
        i = t->free_head - 1;
        t->free_head = t->v[i].child[0];
    } else {
        i = (uint32_t)t->n++;
    }
    memset(&t->v[i], 0, sizeof t->v[i]);
    t->v[i].level = (uint8_t)level;
    return i;
}

static void node_free(struct geo_qtree *t, uint32_t i)
{
    t->v[i].child[0] = t->free_head;
    t->free_head = i + 1;
}

static int quadrant(const struct geo_qtree_item *it, int level)
{
    int shift = GEO_QTREE_DEPTH - 1 - level; /* the bit that picks the child below `level` */
    return (int)(((it->wy >> shift) & 1) << 1 | ((it->wx >> shift) & 1));
}

static void add(struct geo_qtree_cell *c, const struct geo_qtree_item *it, int sign)
{
    c->n += (uint32_t)sign;
    c->count[it->cls] += (uint32_t)sign;
    c->weight += (float)sign * it->weight;
    c->sx += sign * (int64_t)it->wx;
    c->sy += sign * (int64_t)it->wy;
}

static void bucket_push(struct geo_qtree *t, struct geo_qtree_item *items, uint32_t b, uint32_t id)
{
    struct node *nd = &t->v[b];

    PREV(items, id) = 0;
    NEXT(items, id) = nd->head;
    if (nd->head)
        PREV(items, nd->head - 1) = id + 1;
    nd->head = id + 1;
    nd->nb++;
}

static void bucket_unlink(struct geo_qtree *t, struct geo_qtree_item *items, uint32_t b,
                          uint32_t id)
{
    struct node *nd = &t->v[b];

    if (PREV(items, id))
        NEXT(items, PREV(items, id) - 1) = NEXT(items, id);
    else
        nd->head = NEXT(items, id);
    if (NEXT(items, id))
        PREV(items, NEXT(items, id) - 1) = PREV(items, id);
    nd->nb--;
}

/* Bucket b (full) becomes an inner node; its items go to new child buckets. */
static void split(struct geo_qtree *t, struct geo_qtree_item *items, uint32_t b)
{
    uint32_t id = t->v[b].head;

    t->v[b].head = 0;
    t->v[b].nb = 0;
    t->v[b].inner = 1;
    while (id) {
        uint32_t next = NEXT(items, id - 1);
        int q = quadrant(&items[id - 1], t->v[b].level);
        if (!t->v[b].child[q]) {
            uint32_t c = node_new(t, t->v[b].level + 1);
            t->v[b].child[q] = c;
        }
        add(&t->v[t->v[b].child[q]].c, &items[id - 1], 1);
        bucket_push(t, items, t->v[b].child[q], id - 1);
        id = next;
    }
}

int geo_qtree_insert(struct geo_qtree *t, struct geo_qtree_item *items, uint32_t id)
{
    const struct geo_qtree_item *it = &items[id];
    uint32_t i = 0;

    if (it->cls >= GEO_QTREE_CLASSES || reserve(t))
        return -1;
    for (;;) {
        add(&t->v[i].c, it, 1);
        if (!t->v[i].inner) {
            if (t->v[i].nb < GEO_QTREE_BUCKET || t->v[i].level == GEO_QTREE_DEPTH) {
                bucket_push(t, items, i, id);
                return 0;
            }
            split(t, items, i);
        }
        int q = quadrant(it, t->v[i].level);
        if (!t->v[i].child[q]) {
            uint32_t c = node_new(t, t->v[i].level + 1);
            t->v[i].child[q] = c;
        }
        i = t->v[i].child[q];
    }
}

/* Every item under node i into bucket b, and the nodes below i freed. */
static void gather(struct geo_qtree *t, struct geo_qtree_item *items, uint32_t i, uint32_t b)
{
    for (int q = 0; q < 4; q++) {
        uint32_t c = t->v[i].child[q];
        if (!c)
            continue;
        if (t->v[c].inner) {
            gather(t, items, c, b);
        } else {
            for (uint32_t id = t->v[c].head; id;) {
                uint32_t next = NEXT(items, id - 1);
                bucket_push(t, items, b, id - 1);
                id = next;
            }
        }
        node_free(t, c);
        t->v[i].child[q] = 0;
    }
}

void geo_qtree_remove(struct geo_qtree *t, struct geo_qtree_item *items, uint32_t id)
{
    const struct geo_qtree_item *it = &items[id];
    uint32_t path[GEO_QTREE_DEPTH + 1], i = 0;
    int depth = 0;

    if (it->cls >= GEO_QTREE_CLASSES)
        return;
    while (t->v[i].inner) { /* find the bucket first: nothing changes if it is not there */
        path[depth++] = i;
        i = t->v[i].child[quadrant(it, t->v[i].level)];
        if (!i)
            return;
    }
    path[depth] = i;
    for (int k = 0; k <= depth; k++)
        add(&t->v[path[k]].c, it, -1);
    bucket_unlink(t, items, i, id);
    for (int k = depth; k > 0; k--) { /* empty buckets and nodes go */
        uint32_t nd = path[k], parent = path[k - 1];
        if (t->v[nd].c.n)
            break;
        t->v[parent].child[quadrant(it, t->v[parent].level)] = 0;
        node_free(t, nd);
    }
    for (int k = 0; k <= depth && t->v[path[k]].c.n; k++) /* (freed nodes below: n == 0) */
        if (t->v[path[k]].inner && t->v[path[k]].c.n <= MERGE_AT) {
            /* the highest inner node small enough becomes one bucket again */
            gather(t, items, path[k], path[k]);
            t->v[path[k]].inner = 0;
            break;
        }
}

/* ---- walks ---- */

struct walk {
    const struct geo_qtree *t;
    const struct geo_qtree_item *items;
    int level;
    uint32_t x0, y0, x1, y1;
    geo_qtree_cell_fn cell;
    geo_qtree_item_fn item;
    void *ctx;
    float max;
};

static void emit(struct walk *w, uint32_t x, uint32_t y, const struct geo_qtree_cell *c)
{
    if (w->cell)
        w->cell(w->ctx, x, y, c);
    else if (c->weight > w->max)
        w->max = c->weight;
}

static int in_box(const struct walk *w, uint32_t cx, uint32_t cy)
{
    return cx >= w->x0 && cx < w->x1 && cy >= w->y0 && cy < w->y1;
}

/* A bucket above the target level: its items grouped by their cell at that level. */
static void bucket_cells(struct walk *w, const struct node *nd)
{
    uint32_t ids[GEO_QTREE_BUCKET + 1], n = 0;
    int shift = GEO_QTREE_DEPTH - w->level;

    for (uint32_t id = nd->head; id && n <= GEO_QTREE_BUCKET;
         id = w->items[id - 1].next[w->t->role])
        ids[n++] = id - 1;
    for (uint32_t a = 0; a < n; a++) {
        const struct geo_qtree_item *ia = &w->items[ids[a]];
        uint32_t cx = ia->wx >> shift, cy = ia->wy >> shift;
        struct geo_qtree_cell c = {0};
        int first = 1;
        if (!in_box(w, cx, cy))
            continue;
        for (uint32_t b = 0; b < n && first; b++) /* one cell once: at its first item */
            if (b < a && (w->items[ids[b]].wx >> shift) == cx &&
                (w->items[ids[b]].wy >> shift) == cy)
                first = 0;
        if (!first)
            continue;
        for (uint32_t b = a; b < n; b++)
            if ((w->items[ids[b]].wx >> shift) == cx && (w->items[ids[b]].wy >> shift) == cy)
                add(&c, &w->items[ids[b]], 1);
        c.first = ids[a] + 1;
        emit(w, cx, cy, &c);
    }
}

/* Node i with coordinates (x, y) at its level: recurse where it meets the box. */
static int walk(struct walk *w, uint32_t i, uint32_t x, uint32_t y)
{
    const struct node *nd = &w->t->v[i];
    int l = nd->level, shift = w->level - l; /* node level -> target level */

    if (nd->c.n == 0)
        return 0;
    if (shift >= 0) {
        uint64_t lo_x = (uint64_t)x << shift, hi_x = (uint64_t)(x + 1) << shift;
        uint64_t lo_y = (uint64_t)y << shift, hi_y = (uint64_t)(y + 1) << shift;
        if (hi_x <= w->x0 || lo_x >= w->x1 || hi_y <= w->y0 || lo_y >= w->y1)
            return 0;
    }
    if (!w->item && shift == 0) {
        struct geo_qtree_cell c = nd->c;
        c.first = nd->inner ? 0 : nd->head; /* a bucket's first item + 1 */
        emit(w, x, y, &c);
        return 0;
    }
    if (!nd->inner) {
        if (!w->item) {
            bucket_cells(w, nd);
            return 0;
        }
        for (uint32_t id = nd->head; id; id = w->items[id - 1].next[w->t->role]) {
            const struct geo_qtree_item *it = &w->items[id - 1];
            int s = GEO_QTREE_DEPTH - w->level;
            if (shift > 0 && !in_box(w, it->wx >> s, it->wy >> s))
                continue;
            int rc = w->item(w->ctx, id - 1);
            if (rc)
                return rc;
        }
        return 0;
    }
    for (int q = 0; q < 4; q++)
        if (nd->child[q]) {
            int rc = walk(w, nd->child[q], x * 2 + (uint32_t)(q & 1), y * 2 + (uint32_t)(q >> 1));
            if (rc)
                return rc;
        }
    return 0;
}

void geo_qtree_cells(const struct geo_qtree *t, const struct geo_qtree_item *items, int level,
                     uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, geo_qtree_cell_fn fn,
                     void *ctx)
{
    struct walk w = {t, items, level, x0, y0, x1, y1, fn, NULL, ctx, 0};

    if (level >= 0 && level <= GEO_QTREE_DEPTH && x0 < x1 && y0 < y1)
        (void)walk(&w, 0, 0, 0); /* cell walks cannot stop early */
}

int geo_qtree_items(const struct geo_qtree *t, const struct geo_qtree_item *items, int level,
                    uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, geo_qtree_item_fn fn,
                    void *ctx)
{
    struct walk w = {t, items, level, x0, y0, x1, y1, NULL, fn, ctx, 0};

    if (level < 0 || level > GEO_QTREE_DEPTH || x0 >= x1 || y0 >= y1)
        return 0;
    return walk(&w, 0, 0, 0);
}

float geo_qtree_max_weight(const struct geo_qtree *t, const struct geo_qtree_item *items, int level)
{
    uint32_t n = level >= 0 && level <= GEO_QTREE_DEPTH ? 1u << level : 0;
    struct walk w = {t, items, level, 0, 0, n, n, NULL, NULL, NULL, 0};

    if (n)
        (void)walk(&w, 0, 0, 0);
    return w.max;
}

void geo_qtree_total(const struct geo_qtree *t, struct geo_qtree_cell *out) { *out = t->v[0].c; }

size_t geo_qtree_bytes(const struct geo_qtree *t) { return t->cap * sizeof *t->v; }
