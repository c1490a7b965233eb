/*
 * geo/qtree.h - a count quadtree over the Web Mercator world (the tiles of geo/tile.h): node
 * (level, x, y) is tile (level, x, y) and holds the total weight, the count per class and the
 * sum of the positions of the items below it. Leaves are buckets of up to GEO_QTREE_BUCKET
 * items, split when they overflow (down to GEO_QTREE_DEPTH), and merged back when a subtree
 * shrinks to a quarter of that: about one node per six items, not a chain of nodes per item.
 * A tile's heat or clusters at pixel resolution are the cells a few levels below the tile: a
 * node, or the items of a bucket grouped by cell, so drawing one costs what its non-empty
 * pixels cost, however many items lie under it.
 * Items belong to the caller: an array of struct geo_qtree_item indexed by item id, passed to
 * every call (it may move between calls). Several trees may share it, each with its own role
 * (0 .. GEO_QTREE_ROLES - 1): the role picks the item's list links the tree uses, so a tree
 * holds no per-item memory. An item must not change while it is in a tree (remove, change it,
 * insert again).
 * Not thread-safe: the caller locks (server/casemap.c holds a read-write lock).
 */
#ifndef GEO_QTREE_H
#define GEO_QTREE_H

#include <stddef.h>
#include <stdint.h>

#define GEO_QTREE_DEPTH   24 /* deepest cells: 4 px cells of a z17 tile 512 px wide (~2.4 m) */
#define GEO_QTREE_BUCKET  16
#define GEO_QTREE_CLASSES 3 /* counted apart (for reporta: the open statuses) */
#define GEO_QTREE_ROLES   3 /* trees an item can be in at once (each tree takes one role) */

struct geo_qtree_item {
    uint32_t wx, wy; /* world units at GEO_QTREE_DEPTH: 0 .. 2^DEPTH - 1 */
    float weight;
    uint8_t cls; /* < GEO_QTREE_CLASSES */
    /* the tree's own: the item's neighbours + 1 in its bucket, per role */
    uint32_t next[GEO_QTREE_ROLES], prev[GEO_QTREE_ROLES];
};

/* What a cell holds: items under it, per class and in all, their weight, and the sums of their
 * positions (world units at GEO_QTREE_DEPTH) for a centroid. first: in a cell handed out by
 * geo_qtree_cells whose items the walk had at hand (a bucket), one of them + 1; 0 otherwise.
 * A cell of one item that is not under a bucket cannot occur (such subtrees are merged), so
 * a one-item cell names its item. */
struct geo_qtree_cell {
    uint32_t n, count[GEO_QTREE_CLASSES];
    float weight;
    uint32_t first;
    int64_t sx, sy;
};

struct geo_qtree;

struct geo_qtree *geo_qtree_create(int role); /* NULL on out of memory or a bad role */
void geo_qtree_destroy(struct geo_qtree *t);  /* NULL-safe */

/* Item `id` (items[id] filled in) goes in; -1 on out of memory, with nothing changed. */
int geo_qtree_insert(struct geo_qtree *t, struct geo_qtree_item *items, uint32_t id);
/* Item `id`, as it was inserted, comes out. */
void geo_qtree_remove(struct geo_qtree *t, struct geo_qtree_item *items, uint32_t id);

/* Calls fn once for each non-empty cell at `level` (<= GEO_QTREE_DEPTH) whose cell
 * coordinates lie in [x0, x1) x [y0, y1), in no particular order. */
typedef void (*geo_qtree_cell_fn)(void *ctx, uint32_t cx, uint32_t cy,
                                  const struct geo_qtree_cell *c);
void geo_qtree_cells(const struct geo_qtree *t, const struct geo_qtree_item *items, int level,
                     uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, geo_qtree_cell_fn fn,
                     void *ctx);

/* Calls fn for each item in the cells [x0, x1) x [y0, y1) of `level`; fn returns 0 to go on,
 * anything else stops the walk (and is returned). */
typedef int (*geo_qtree_item_fn)(void *ctx, uint32_t id);
int geo_qtree_items(const struct geo_qtree *t, const struct geo_qtree_item *items, int level,
                    uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, geo_qtree_item_fn fn,
                    void *ctx);

/* The largest weight of one cell at `level` (a walk over that level's non-empty cells). */
float geo_qtree_max_weight(const struct geo_qtree *t, const struct geo_qtree_item *items,
                           int level);
void geo_qtree_total(const struct geo_qtree *t, struct geo_qtree_cell *out);

size_t geo_qtree_bytes(const struct geo_qtree *t); /* the nodes held */

#endif
