/*
 * server/stats.h - the 311 scorecard: per group (entity, service, provincia, distrito,
 * corregimiento, month, or two of them) the cases received, open, closed, closed within SLA
 * (count and %), overdue now, median and p90 hours to close and confirmations, read from the
 * aggregates the database keeps as cases change (data/store_stats.c). Hours to close are whole
 * hours (a case closed after 2 h 40 min took 2); quantiles are nearest-rank over them, exact.
 */
#ifndef STATS_H
#define STATS_H

#include <jansson.h>

#include "data/store.h"

/* "entity" -> STORE_STAT_ENTITY ...; -1 when unknown. */
int stats_key_parse(const char *name);
const char *stats_key_name(enum store_stat_key k);
/* The nearest-rank p-quantile (0 < p <= 1) of a group's hours; -1 when it has none closed.
 * A group computed with has_quantiles knows only its median (p < 0.9) and p90 (p >= 0.9). */
int64_t stats_quantile(const struct store_stat_group *g, double p);
/* The groups as {"groups": [{<key>: code, ..., received, ...}], "query": {...}}. */
json_t *stats_json(const struct store_stats_query *q, const struct store_stat_group *v,
                   size_t n);
/* The same as CSV (a header line, then a line per group); malloc'd text. */
char *stats_csv(const struct store_stats_query *q, const struct store_stat_group *v, size_t n,
                size_t *len);

#endif
