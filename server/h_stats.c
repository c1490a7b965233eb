/*
 * server/h_stats.c - GET /api/v1/stats and /api/v1/stats.csv: parse the grouping and the
 * filter, read the aggregates (server/stats.h), render JSON or CSV. Public: statistics carry
 * counts only, never a case. Answered from the scorecard in memory (server/scorecard.h), after
 * it has caught up with the change log; at most STATS_RUNNING_MAX run at once, the rest get
 * 503 with Retry-After, so anonymous callers cannot take every core.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "server/routes.h"
#include "server/scorecard.h"
#include "server/stats.h"
#include "server/worker.h"

#define STATS_RUNNING_MAX 2

static atomic_int running;

/* The writer's job: the change log rows the scorecard has read go. */
static int prune_log(struct store *s, void *arg, struct rp_err *err)
{
    return store_score_log_prune(s, *(int64_t *)arg, err);
}

static int day_ok(const char *d)
{
    int y, m, dd;
    char tail;

    return d && strlen(d) == 10 && sscanf(d, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) == 3 &&
           m >= 1 && m <= 12 && dd >= 1 && dd <= 31;
}

static int parse(struct http_req *req, struct store_stats_query *q, char now[STORE_TIME_MAX],
                 struct rp_err *err)
{
    const char *groups[STORE_STAT_GROUPS_MAX + 1];
    int n = http_query_all(req, "group", groups, STORE_STAT_GROUPS_MAX + 1);
    time_t t = time(NULL);
    struct tm tm;

    memset(q, 0, sizeof *q);
    if (n > STORE_STAT_GROUPS_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "at most %d group= keys",
                          STORE_STAT_GROUPS_MAX);
    for (int i = 0; i < n; i++) {
        int k = stats_key_parse(groups[i]);
        if (k < 0)
            return rp_err_set(err, RP_INVALID_ARGUMENT,
                              "group is entity, service, provincia, distrito, corregimiento or "
                              "month");
        for (int j = 0; j < i; j++)
            if ((int)q->keys[j] == k)
                return rp_err_set(err, RP_INVALID_ARGUMENT, "group %s given twice", groups[i]);
        q->keys[q->nkeys++] = (enum store_stat_key)k;
    }
    q->from = http_query(req, "from");
    q->to = http_query(req, "to");
    if ((q->from && !day_ok(q->from)) || (q->to && !day_ok(q->to)))
        return rp_err_set(err, RP_INVALID_ARGUMENT, "from and to are days (2026-11-01), Panama time");
    q->service = http_query(req, "service");
    q->entity = http_query(req, "entity");
    q->area = http_query(req, "area");
    gmtime_r(&t, &tm);
    strftime(now, STORE_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
    q->now = now;
    return RP_OK;
}

static int stats(struct http_req *req, struct http_res *res, int csv)
{
    struct store_stats_query q;
    struct store_stat_group *v = NULL;
    char now[STORE_TIME_MAX];
    size_t n = 0;
    int rc = parse(req, &q, now, &res->err);

    if (rc == RP_OK) {
        if (atomic_fetch_add(&running, 1) >= STATS_RUNNING_MAX) {
            http_header_add(res, "Retry-After", "2");
            rc = rp_err_set(&res->err, RP_UNAVAILABLE,
                            "%d statistics queries are running; try again shortly",
                            STATS_RUNNING_MAX);
        } else if (req->app->scorecard) {
            int64_t prune = 0;
            rc = scorecard_refresh(req->app->scorecard, req->w->store, &prune, &res->err);
            if (rc == RP_OK)
                rc = scorecard_query(req->app->scorecard, req->w->store, &q, &v, &n, &res->err);
            if (rc == RP_OK && prune > 0 && req->app->writer) {
                struct rp_err perr = {0};
                if (store_writer_run(req->app->writer, prune_log, &prune, &perr) != RP_OK)
                    rp_warn("stats: change log not pruned: %s", perr.msg);
            }
        } else {
            rc = store_stats_query(req->w->store, &q, &v, &n, &res->err);
        }
        atomic_fetch_sub(&running, 1);
    }
    if (rc != RP_OK)
        return rc;
    if (csv) {
        size_t len = 0;
        char *text = stats_csv(&q, v, n, &len);
        store_stats_free(v, n);
        if (!text)
            return rp_err_set(&res->err, RP_NO_MEMORY, "stats");
        res->content_type = "text/csv; charset=utf-8";
        return http_reply_raw(res, 200, text, len);
    }
    json_t *out = stats_json(&q, v, n);
    store_stats_free(v, n);
    return http_reply_json_new(res, 200, out);
}

int h_stats_get(struct http_req *req, struct http_res *res)
{
    return stats(req, res, 0);
}

int h_stats_csv(struct http_req *req, struct http_res *res)
{
    return stats(req, res, 1);
}
