/*
 * tests/test_qtree.c - the count quadtree against brute force: random items, mostly in dense
 * clumps (so buckets split deep) and some scattered, inserted and removed at random in three
 * trees that share them; after every phase each cell at several levels (counts per class,
 * weight, position sums), the items of a box, the densest cell and the total must equal a
 * plain recount. Removing everything leaves empty trees.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "geo/qtree.h"

#define N      6000
#define LEVELS 5

static struct geo_qtree_item items[N];
static int in[N];
static struct geo_qtree *tree;

struct seen {
    uint32_t x0, y0, x1, y1;
    int level, cells, bad;
    uint32_t items;
};

static void check_cell(void *ctx, uint32_t cx, uint32_t cy, const struct geo_qtree_cell *c)
{
    struct seen *s = ctx;
    struct geo_qtree_cell want = {0};
    int shift = GEO_QTREE_DEPTH - s->level;

    s->cells++;
    if (cx < s->x0 || cx >= s->x1 || cy < s->y0 || cy >= s->y1)
        s->bad++;
    for (int i = 0; i < N; i++)
        if (in[i] && items[i].wx >> shift == cx && items[i].wy >> shift == cy) {
            want.n++;
            want.count[items[i].cls]++;
            want.weight += items[i].weight;
            want.sx += items[i].wx;
            want.sy += items[i].wy;
        }
    if (want.n != c->n || memcmp(want.count, c->count, sizeof want.count) ||
        want.weight != c->weight || want.sx != c->sx || want.sy != c->sy) {
        if (s->bad++ < 3)
            CHECK_REPORT("level %d cell (%u, %u): %u items, tree says %u", s->level, cx, cy, want.n,
                         c->n);
    }
}

static int count_item(void *ctx, uint32_t id)
{
    struct seen *s = ctx;
    int shift = GEO_QTREE_DEPTH - s->level;
    if (!in[id] || items[id].wx >> shift < s->x0 || items[id].wx >> shift >= s->x1 ||
        items[id].wy >> shift < s->y0 || items[id].wy >> shift >= s->y1)
        s->bad++;
    s->items++;
    return 0;
}

static void verify(const char *phase)
{
    static const int levels[LEVELS] = {6, 12, 16, 19, 22};
    for (int k = 0; k < LEVELS; k++) {
        int shift = GEO_QTREE_DEPTH - levels[k];
        uint32_t cx = (items[0].wx >> shift) - 3, cy = (items[0].wy >> shift) - 3;
        struct seen s = {cx, cy, cx + 8, cy + 8, levels[k], 0, 0, 0};
        uint32_t want_items = 0, want_cells = 0;
        float max = 0;
        geo_qtree_cells(tree, items, levels[k], s.x0, s.y0, s.x1, s.y1, check_cell, &s);
        for (int i = 0; i < N; i++) /* distinct cells in the box, by brute force */
            if (in[i] && items[i].wx >> shift >= s.x0 && items[i].wx >> shift < s.x1 &&
                items[i].wy >> shift >= s.y0 && items[i].wy >> shift < s.y1) {
                int first = 1;
                want_items++;
                for (int j = 0; j < i && first; j++)
                    first = !(in[j] && items[j].wx >> shift == items[i].wx >> shift &&
                              items[j].wy >> shift == items[i].wy >> shift);
                want_cells += first;
            }
        CHECK_INT_EQ(s.cells, want_cells);
        CHECK_INT_EQ(
            geo_qtree_items(tree, items, levels[k], s.x0, s.y0, s.x1, s.y1, count_item, &s), 0);
        CHECK_INT_EQ(s.items, want_items);
        if (s.bad)
            CHECK_REPORT("%s: level %d: %d wrong cells or items", phase, levels[k], s.bad);
        if (levels[k] == 12) { /* the densest cell, by brute force over all items */
            for (int i = 0; i < N; i++) {
                float w = 0;
                for (int j = 0; in[i] && j < N; j++)
                    if (in[j] && items[j].wx >> shift == items[i].wx >> shift &&
                        items[j].wy >> shift == items[i].wy >> shift)
                        w += items[j].weight;
                max = w > max ? w : max;
            }
            CHECK(geo_qtree_max_weight(tree, items, 12) == max);
        }
    }
}

static void test_tree_equals_a_recount_through_inserts_and_removals(void)
{
    uint32_t base = 1u << (GEO_QTREE_DEPTH - 1);
    struct geo_qtree_cell total;
    int n_in = 0;

    srand(9);
    for (int i = 0; i < N; i++) {
        int clump = rand() % 10 < 8; /* most in a few dense clumps: deep buckets */
        uint32_t spread = clump ? 300 : 40000;
        uint32_t cxy = clump ? (uint32_t)(rand() % 4) * 997 : 0;
        items[i].wx = base + cxy + (uint32_t)(rand() % spread);
        items[i].wy = base + cxy + (uint32_t)(rand() % spread);
        items[i].weight = (float)(1 + rand() % 3);
        items[i].cls = (uint8_t)(rand() % GEO_QTREE_CLASSES);
        if (i % 97 == 0) /* stacked on one spot: a bucket at the deepest level grows */
            items[i].wx = items[0].wx, items[i].wy = items[0].wy;
    }
    tree = geo_qtree_create(1);
    CHECK(tree != NULL);
    for (int i = 0; i < N; i++) {
        CHECK_INT_EQ(geo_qtree_insert(tree, items, (uint32_t)i), 0);
        in[i] = 1;
    }
    verify("all in");
    for (int round = 0; round < 3; round++) { /* out and back at random: splits and merges */
        for (int i = 0; i < N; i++)
            if (rand() % 3 == 0) {
                if (in[i])
                    geo_qtree_remove(tree, items, (uint32_t)i);
                else
                    CHECK_INT_EQ(geo_qtree_insert(tree, items, (uint32_t)i), 0);
                in[i] = !in[i];
            }
        verify("churn");
    }
    for (int i = 0; i < N; i++)
        n_in += in[i];
    geo_qtree_total(tree, &total);
    CHECK_INT_EQ(total.n, n_in);
    for (int i = 0; i < N; i++)
        if (in[i]) {
            geo_qtree_remove(tree, items, (uint32_t)i);
            in[i] = 0;
        }
    geo_qtree_total(tree, &total);
    CHECK_INT_EQ(total.n, 0);
    CHECK(total.weight == 0);
    verify("empty");
    geo_qtree_destroy(tree);
}

static void test_bad_role_and_class_are_refused(void)
{
    struct geo_qtree_item it = {1, 1, 1, GEO_QTREE_CLASSES, {0}, {0}};
    struct geo_qtree *t = geo_qtree_create(1);

    CHECK(geo_qtree_create(GEO_QTREE_ROLES) == NULL);
    CHECK_INT_EQ(geo_qtree_insert(t, &it, 0), -1);
    geo_qtree_destroy(t);
}

int main(void)
{
    RUN(test_tree_equals_a_recount_through_inserts_and_removals);
    RUN(test_bad_role_and_class_are_refused);
    return check_exit();
}
