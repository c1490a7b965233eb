/*
 * server/stats.c - rendering the scorecard (see stats.h). The numbers come summed from the
 * store; here they get their percentages and quantiles and their JSON or CSV shape.
 */
#include "server/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const key_names[STORE_STAT_KEYS] = {
    [STORE_STAT_ENTITY] = "entity",       [STORE_STAT_SERVICE] = "service",
    [STORE_STAT_PROVINCIA] = "provincia", [STORE_STAT_DISTRITO] = "distrito",
    [STORE_STAT_CORREGIMIENTO] = "corregimiento", [STORE_STAT_MONTH] = "month",
};

int stats_key_parse(const char *name)
{
    for (int k = 0; k < STORE_STAT_KEYS; k++)
        if (strcmp(name, key_names[k]) == 0)
            return k;
    return -1;
}

const char *stats_key_name(enum store_stat_key k)
{
    return (unsigned)k < STORE_STAT_KEYS ? key_names[k] : "?";
}

int64_t stats_quantile(const struct store_stat_group *g, double p)
{
    int64_t total = 0, seen = 0, rank;

    if (g->has_quantiles)
        return p >= 0.9 ? g->p90 : g->median;
    for (size_t i = 0; i < g->nhours; i++)
        total += g->hours[i].n;
    if (total == 0)
        return -1;
    rank = (int64_t)ceil(p * (double)total);
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < g->nhours; i++) {
        seen += g->hours[i].n;
        if (seen >= rank)
            return g->hours[i].hours;
    }
    return g->hours[g->nhours - 1].hours;
}

static json_t *group_json(const struct store_stats_query *q, const struct store_stat_group *g)
{
    int64_t med = stats_quantile(g, 0.5), p90 = stats_quantile(g, 0.9);
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "received", (json_int_t)g->received,
                          "open", (json_int_t)g->open, "closed", (json_int_t)g->closed,
                          "closed_within_sla", (json_int_t)g->closed_in_sla, "overdue",
                          (json_int_t)g->overdue, "confirmations", (json_int_t)g->confirmations);

    for (int i = 0; o && i < q->nkeys; i++)
        if (json_object_set_new(o, key_names[q->keys[i]],
                                g->key[i][0] ? json_string(g->key[i]) : json_null()) != 0) {
            json_decref(o);
            return NULL;
        }
    if (o &&
        (json_object_set_new(o, "closed_within_sla_pct",
                             g->closed ? json_real(round(1000.0 * (double)g->closed_in_sla /
                                                         (double)g->closed) / 10)
                                       : json_null()) ||
         json_object_set_new(o, "median_hours_to_close", med < 0 ? json_null() : json_integer(med)) ||
         json_object_set_new(o, "p90_hours_to_close", p90 < 0 ? json_null() : json_integer(p90)) ||
         json_object_set_new(o, "tows", g->tows < 0 ? json_null() : json_integer(g->tows)) ||
         json_object_set_new(o, "satisfaction",
                             g->ratings ? json_real(round(100.0 * (double)g->rating_sum /
                                                          (double)g->ratings) / 100)
                                        : json_null()) ||
         json_object_set_new(o, "ratings", json_integer(g->ratings)) ||
         json_object_set_new(o, "followed_up_within_30_days", json_integer(g->followed_up)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *stats_json(const struct store_stats_query *q, const struct store_stat_group *v,
                   size_t n)
{
    json_t *list = json_array(), *keys = json_array();

    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, group_json(q, &v[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    for (int i = 0; keys && i < q->nkeys; i++)
        json_array_append_new(keys, json_string(key_names[q->keys[i]]));
    if (!list || !keys) {
        json_decref(list);
        json_decref(keys);
        return NULL;
    }
    return json_pack("{s:o, s:{s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:s}}", "groups", list, "query",
                     "group", keys, "from", q->from, "to", q->to, "service", q->service,
                     "entity", q->entity, "area", q->area, "overdue_at", q->now);
}

char *stats_csv(const struct store_stats_query *q, const struct store_stat_group *v, size_t n,
                size_t *len)
{
    size_t cap = 256 + n * 320, k = 0; /* a line is under 300 bytes */
    char *out = malloc(cap);
    int w;

    if (!out)
        return NULL;
    for (int i = 0; i < q->nkeys; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s,", key_names[q->keys[i]]);
    k += (size_t)snprintf(out + k, cap - k,
                          "received,open,closed,closed_within_sla,closed_within_sla_pct,overdue,"
                          "median_hours_to_close,p90_hours_to_close,confirmations,tows,"
                          "satisfaction,ratings,followed_up_within_30_days\r\n");
    for (size_t g = 0; g < n; g++) {
        const struct store_stat_group *s = &v[g];
        int64_t med = stats_quantile(s, 0.5), p90 = stats_quantile(s, 0.9);
        char pct[16] = "", m[24] = "", p[24] = "", tw[24] = "", sat[16] = "";
        if (s->closed)
            snprintf(pct, sizeof pct, "%.1f",
                     round(1000.0 * (double)s->closed_in_sla / (double)s->closed) / 10);
        if (med >= 0)
            snprintf(m, sizeof m, "%lld", (long long)med);
        if (p90 >= 0)
            snprintf(p, sizeof p, "%lld", (long long)p90);
        if (s->tows >= 0)
            snprintf(tw, sizeof tw, "%lld", (long long)s->tows);
        if (s->ratings)
            snprintf(sat, sizeof sat, "%.2f",
                     round(100.0 * (double)s->rating_sum / (double)s->ratings) / 100);
        /* codes are letters, digits, '-' and '_': nothing to quote */
        for (int i = 0; i < q->nkeys; i++) {
            w = snprintf(out + k, cap - k, "%s,", s->key[i]);
            k += w > 0 ? (size_t)w : 0;
        }
        w = snprintf(out + k, cap - k, "%lld,%lld,%lld,%lld,%s,%lld,%s,%s,%lld,%s,%s,%lld,%lld\r\n",
                     (long long)s->received, (long long)s->open, (long long)s->closed,
                     (long long)s->closed_in_sla, pct, (long long)s->overdue, m, p,
                     (long long)s->confirmations, tw, sat, (long long)s->ratings,
                     (long long)s->followed_up);
        if (w < 0 || (size_t)w >= cap - k) {
            free(out);
            return NULL;
        }
        k += (size_t)w;
    }
    *len = k;
    return out;
}
