/*
 * geo/cluster.h - clusters of points by chaining: two points closer than a radius are in the
 * same cluster, and so is everything linked through such pairs (single linkage, DBSCAN with a
 * minimum of one). Points are in metres (a local plane such as UTM). A hash grid of radius-wide
 * cells means each point is compared only with the points of its own and the 8 neighbouring
 * cells; union-find joins them. Pure; any thread.
 */
#ifndef GEO_CLUSTER_H
#define GEO_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* label[i] receives point i's cluster, numbered 0 .. *nclusters - 1 in order of first point. */
int geo_cluster(const double *xy, size_t n, double radius_m, uint32_t *label, size_t *nclusters,
                struct rp_err *err);

#endif
