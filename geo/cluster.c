/*
 * geo/cluster.c - chaining clusters (see cluster.h). Points are sorted by grid cell (cell side =
 * radius), so each cell's points are one run; a neighbour cell is found by binary search over
 * the distinct cells. Union-find with path halving and union by size.
 */
#include "geo/cluster.h"

#include <math.h>
#include <stdlib.h>

struct cp {
    int64_t cx, cy;
    uint32_t i;
};

static int cmp_cell(const void *a, const void *b)
{
    const struct cp *p = a, *q = b;
    if (p->cx != q->cx)
        return p->cx < q->cx ? -1 : 1;
    if (p->cy != q->cy)
        return p->cy < q->cy ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

static uint32_t find(uint32_t *parent, uint32_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static void unite(uint32_t *parent, uint32_t *size, uint32_t a, uint32_t b)
{
    a = find(parent, a);
    b = find(parent, b);
    if (a == b)
        return;
    if (size[a] < size[b]) {
        uint32_t t = a;
        a = b, b = t;
    }
    parent[b] = a;
    size[a] += size[b];
}

/* The first index of cell (cx, cy) in the sorted points, or n when absent. */
static size_t cell_start(const struct cp *v, size_t n, int64_t cx, int64_t cy)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid].cx < cx || (v[mid].cx == cx && v[mid].cy < cy))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].cx == cx && v[lo].cy == cy ? lo : n;
}

int geo_cluster(const double *xy, size_t n, double radius_m, uint32_t *label, size_t *nclusters,
                struct rp_err *err)
{
    struct cp *v = malloc((n ? n : 1) * sizeof *v);
    uint32_t *parent = malloc((n ? n : 1) * sizeof *parent);
    uint32_t *size = malloc((n ? n : 1) * sizeof *size);
    double r2 = radius_m * radius_m;
    size_t k = 0;

    *nclusters = 0;
    if (!v || !parent || !size || !(radius_m > 0) || n >= UINT32_MAX) {
        free(v), free(parent), free(size);
        return !(radius_m > 0) ? rp_err_set(err, RP_INVALID_ARGUMENT, "radius must be positive")
                               : rp_err_set(err, RP_NO_MEMORY, "clusters of %zu points", n);
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = (struct cp){(int64_t)floor(xy[2 * i] / radius_m),
                           (int64_t)floor(xy[2 * i + 1] / radius_m), (uint32_t)i};
        parent[i] = (uint32_t)i;
        size[i] = 1;
    }
    qsort(v, n, sizeof *v, cmp_cell);
    for (size_t a = 0; a < n;) { /* each cell: against itself and the cells after it */
        size_t a_end = a;
        while (a_end < n && v[a_end].cx == v[a].cx && v[a_end].cy == v[a].cy)
            a_end++;
        static const int nb[5][2] = {{0, 0}, {1, -1}, {1, 0}, {1, 1}, {0, 1}};
        for (int d = 0; d < 5; d++) {
            size_t b = d == 0 ? a : cell_start(v, n, v[a].cx + nb[d][0], v[a].cy + nb[d][1]);
            for (; b < n && v[b].cx == v[a].cx + nb[d][0] && v[b].cy == v[a].cy + nb[d][1]; b++)
                for (size_t p = a; p < a_end; p++) {
                    if (d == 0 && b <= p)
                        continue;
                    double dx = xy[2 * v[p].i] - xy[2 * v[b].i],
                           dy = xy[2 * v[p].i + 1] - xy[2 * v[b].i + 1];
                    if (dx * dx + dy * dy <= r2)
                        unite(parent, size, v[p].i, v[b].i);
                }
        }
        a = a_end;
    }
    for (size_t i = 0; i < n; i++) /* number the clusters by their first point */
        size[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t root = find(parent, (uint32_t)i);
        if (size[root] == UINT32_MAX)
            size[root] = (uint32_t)k++;
        label[i] = size[root];
    }
    *nclusters = k;
    free(v), free(parent), free(size);
    return RP_OK;
}
