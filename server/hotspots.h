/*
 * server/hotspots.h - where cases keep coming back: cases (open or closed) matching a filter,
 * chained into clusters when within radius_m of each other (geo/cluster.h), the clusters of at
 * least min_cases as GeoJSON, biggest first: count, open count, first and last report, the
 * corregimiento most of its cases lie in, and the case numbers. The "this pipe keeps leaking"
 * view for crews. Reads the store through the caller's worker; any thread.
 */
#ifndef HOTSPOTS_H
#define HOTSPOTS_H

#include <jansson.h>

#include "server/app.h"
#include "server/worker.h"

#define HOTSPOTS_RADIUS_M     50 /* default chaining distance */
#define HOTSPOTS_RADIUS_MAX_M 2000
#define HOTSPOTS_MIN_CASES    3
#define HOTSPOTS_SINCE_DAYS   90  /* default look-back */
#define HOTSPOTS_LIMIT        100 /* clusters returned by default */
#define HOTSPOTS_LIMIT_MAX    1000
#define HOTSPOTS_POINTS_MAX   200000 /* cases read; more: narrow the query (422) */
#define HOTSPOTS_IDS_MAX      500    /* case numbers listed per cluster */

struct hotspots_query {
    const char *service, *entity, *area; /* codes, NULL: any */
    const char *since;                   /* ISO time (created at or after); NULL: 90 days */
    double radius_m;
    int min_cases, limit;
};

/* The FeatureCollection, or an error (RP_INVALID_DATA when more than HOTSPOTS_POINTS_MAX
 * cases match). */
int hotspots_find(struct app *app, struct worker *w, const struct hotspots_query *q, json_t **out,
                  struct rp_err *err);

#endif
