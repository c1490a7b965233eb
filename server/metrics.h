/*
 * server/metrics.h - GET /metrics in the Prometheus text exposition format (version 0.0.4):
 * requests by route, method and status and their latency histograms (counted by the HTTP glue
 * as each request completes), cases created and locate calls, the tile cache, the
 * group-commit writer's batch sizes and commit latency, the webhooks' backlog, deliveries and
 * failures, and the towing counters. The counters are process-wide atomics: counting costs a
 * few relaxed additions per request and no lock.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "server/app.h"

#define METRICS_ROUTES_MAX 128 /* rows of the route table; one more for unmatched paths */

enum metrics_counter { METRICS_CASES_CREATED, METRICS_LOCATES, METRICS__COUNTERS };

/* A completed request: route_index into routes_table (-1: no route matched), status, time. */
void metrics_request(int route_index, int status, uint64_t micros);
void metrics_count(enum metrics_counter c);

/* The exposition text (malloc'd), with what app's modules report at this moment. */
char *metrics_render(struct app *app, size_t *len);

#endif
