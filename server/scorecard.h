/*
 * server/scorecard.h - the scorecard's cases in memory. Exact quantiles of hours to close over
 * a year of national cases cannot be read from aggregate rows fast: a distrito's year holds
 * thousands of distinct hours, so the per-day aggregates of migration 0008 are ~0.3 rows per
 * case and a national query reads hundreds of thousands of them (~1 s at a million cases). So
 * the server keeps, per case, the few numbers the scorecard counts (32 bytes: day and month of
 * creation, entity, service, areas as small integers, hours to close, due time, SLA and
 * follow-up flags, confirmations, rating) and answers GET /api/v1/stats by one pass over them
 * into per-group counters and dense hour histograms.
 *
 * It stays exact by following the change log of migration 0013: every change of a counted
 * column of a case, made by anyone (this process, the CLI, plain SQL), appends the case's id;
 * before each query the scorecard re-reads the cases named since its last look. The numbers
 * are the same definitions as the triggers of 0008/0012 (computed by the same SQL), and the
 * tows still come from their aggregate (stats_tows_daily). Thread-safe: a read-write lock over
 * the records, one refresher at a time.
 */
#ifndef SCORECARD_H
#define SCORECARD_H

#include <stddef.h>
#include <stdint.h>

#include "data/store.h"

#define SCORECARD_LOG_BATCH  4096  /* log rows read at once */
#define SCORECARD_PRUNE_ROWS 10000 /* log rows read before they are deleted */

struct scorecard;

/* Every case from s; the log's position first, so nothing committed meanwhile is missed. */
int scorecard_load(struct store *s, struct scorecard **out, struct rp_err *err);
void scorecard_destroy(struct scorecard *sc);

/* Applies the cases changed since the last call (read through s). *prune_upto > 0: the log up to
 * there has been read and may be deleted (store_score_log_prune, through the writer). */
int scorecard_refresh(struct scorecard *sc, struct store *s, int64_t *prune_upto,
                      struct rp_err *err);

/* The groups of q, as store_stats_query gives them (ordered by their keys, tows from s), with
 * median and p90 computed (has_quantiles). Free with store_stats_free. */
int scorecard_query(struct scorecard *sc, struct store *s, const struct store_stats_query *q,
                    struct store_stat_group **out, size_t *n, struct rp_err *err);

/* Cases held and bytes used (for the startup log). */
void scorecard_stats(struct scorecard *sc, size_t *cases, size_t *bytes);

#endif
