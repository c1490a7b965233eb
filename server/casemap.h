/*
 * server/casemap.h - the open cases in memory, for maps. Every open case (received, assigned,
 * in_progress) is a record and an item in three count quadtrees (geo/qtree.h): all open cases,
 * its service's and its entity's. A heat or case tile with no filter, or a filter on one
 * service or one entity, reads that tree's cells a few levels below the tile (4 px cells for
 * heat, 8 px for clusters): its cost follows those cells, not the cases under them. Other filters (area, since, overdue, a subset of
 * the open statuses for heat, service and entity together) walk the tile's cases in the
 * smallest such tree. Closed statuses are not here: the caller reads them from the store.
 * Loaded once at startup (casemap_load), then kept by casemap_put after every committed
 * change. Thread-safe: a read-write lock (writers preferred) guards the records and trees;
 * readers hold it while they gather a tile's weights or features.
 */
#ifndef CASEMAP_H
#define CASEMAP_H

#include <stddef.h>
#include <stdint.h>

#include "data/store.h"
#include "geo/heat.h"
#include "geo/mvt.h"
#include "geo/tile.h"

/* Case tiles cluster on a grid of 2^5 = 32 cells per side, at every zoom: 8 px at 256 px, as
 * close as two pins get before they overlap. A cell holding one case shows that case. */
#define CASEMAP_CLUSTER_SHIFT   5
#define CASEMAP_CLUSTER_GRID    (1 << CASEMAP_CLUSTER_SHIFT)
#define CASEMAP_HEAT_CELL_SHIFT 2   /* heat reads cells of 2^2 = 4 px, each at its centroid */
#define CASEMAP_SCALE_LEVEL     14  /* heat scale: the densest cell of this level (~2.4 km) */
#define CASEMAP_SCALE_REFRESH_S 1.0 /* a stale densest-cell figure is recomputed this often */
#define CASEMAP_SCALE_MIN_CASES 3.0 /* full red never takes fewer cases than this in one spot */

/* Open statuses, as bits. */
#define CASEMAP_RECEIVED    1u
#define CASEMAP_ASSIGNED    2u
#define CASEMAP_IN_PROGRESS 4u
#define CASEMAP_OPEN        7u

struct casemap;

struct casemap_filter {
    const char *service, *entity, *area; /* codes; NULL: any */
    unsigned statuses;                   /* CASEMAP_* bits; 0 or CASEMAP_OPEN: every open one */
    int64_t since;                       /* created at or after, epoch seconds; 0: any */
    int overdue;                         /* 1: past due only */
};

struct casemap *casemap_create(void); /* NULL on out of memory */
void casemap_destroy(struct casemap *cm);

/* Every open case from the store. */
int casemap_load(struct casemap *cm, struct store *s, struct rp_err *err);

/* The CASEMAP_* bit of an open status, 0 for any other. */
unsigned casemap_status_bit(const char *status);

/* The committed state of a case (any status: one no longer open leaves the map). where[0..1]
 * receives where it was before (lon, lat; NaN when it was not in the map). */
int casemap_put(struct casemap *cm, const struct store_point *p, double where[2],
                struct rp_err *err);

/* The heat scale of a filter at zoom z for tiles size_px wide: the same for every tile, and
 * rounded to powers of sqrt(2) so that it changes rarely (it keys the tile cache). 0: nothing
 * to draw. */
double casemap_heat_scale(struct casemap *cm, const struct casemap_filter *f, int z, int size_px);

/* The weights of tile t, with a kernel's margin around it, into h (initialised for size_px).
 * *cases (optional): how many cases or cells went in. */
int casemap_heat(struct casemap *cm, const struct casemap_filter *f, const struct geo_tile *t,
                 struct geo_heat *h, size_t *cells, struct rp_err *err);

/* The cases of tile t as features of `layer` in m, clustered (CASEMAP_CLUSTER_GRID): case
 * features carry id (case number), service, status, entity, age_hours, overdue,
 * confirmations; clusters count, received, assigned, in_progress. Nothing else: no reporter
 * field is in the map at all. now: epoch seconds, for age and overdue. */
int casemap_mvt(struct casemap *cm, const struct casemap_filter *f, const struct geo_tile *t,
                struct geo_mvt *m, int layer, int64_t now, struct rp_err *err);

/* Open cases held, and the bytes of records and trees (for the startup log). */
void casemap_stats(struct casemap *cm, size_t *cases, size_t *bytes);

#endif
