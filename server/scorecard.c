/*
 * server/scorecard.c - the scorecard in memory (see scorecard.h): records by case id, one
 * dictionary of codes, the pass that groups them.
 */
#include "server/scorecard.h"

#include "base/log.h"
#include "base/utc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ABSENT     INT32_MIN
#define DICT_SLOTS 8192 /* codes: ~800 areas, ~130 entities, a dozen services */
#define F_CLOSED   1u
#define F_IN_SLA   2u
#define F_FOLLOWED 4u

/* PostgreSQL numbers a log row when its transaction inserts it and shows it when that commits,
 * so with several writers (other processes) a row can appear below the cursor after the cursor
 * passed its number. The numbers skipped are kept as holes and looked up again at every
 * refresh until they appear, or for HOLE_MS (a rolled-back transaction's number never does).
 * Pruning stops below the oldest hole and PG_KEEP rows below the cursor (other processes read
 * the same log at their own pace); a process that finds rows it never read pruned away by
 * another reloads every case. A single SQLite file has one writer: none of this happens there. */
#define HOLES_MAX     4096
#define HOLE_MS       30000
#define HOLE_LOOKBACK 1000     /* at load: transactions in flight may commit below the top */
#define PG_KEEP       1000000

struct rec {
    int32_t day;       /* Panama day of creation, days since 1970-01-01; ABSENT: no case */
    uint16_t month;    /* months since 1970-01 */
    uint16_t entity, service;
    uint16_t area[3];  /* corregimiento, distrito, provincia; 0: "" */
    uint16_t confirmations;
    uint8_t flags, rating;
    int32_t hours;     /* to close; meaningful when F_CLOSED */
    int64_t due;       /* Unix seconds */
};

struct scorecard {
    pthread_rwlock_t lock; /* recs, dict, the bounds below */
    pthread_mutex_t refreshing;
    struct rec *recs;      /* by case id */
    size_t cap;
    int64_t max_id;
    size_t cases;
    char *names[UINT16_MAX + 1];
    uint32_t nnames;
    uint16_t slots[DICT_SLOTS]; /* name index + 1 by hash; 0: free */
    int32_t hours_min, hours_max;
    uint16_t month_min, month_max;
    int64_t cursor, pruned; /* under `refreshing` */
    int follow_holes;       /* the store has concurrent writers (PostgreSQL) */
    int64_t hole[HOLES_MAX], hole_until[HOLES_MAX]; /* seq, and when to give up (ms) */
    int nholes;
    uint64_t holes_filled, reloads; /* for the tests and the log */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the dictionary ---- */

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* The id of code (added when new); 0 for "" or when the dictionary is full (then counted as
 * not covered: the dictionary holds 8,191 codes, ten times what Panama has). */
static uint16_t code_id(struct scorecard *sc, const char *code, int add)
{
    uint32_t i;

    if (!code || !code[0])
        return 0;
    for (i = hash(code) & (DICT_SLOTS - 1); sc->slots[i]; i = (i + 1) & (DICT_SLOTS - 1))
        if (strcmp(sc->names[sc->slots[i] - 1], code) == 0)
            return (uint16_t)(sc->slots[i] - 1);
    if (!add || sc->nnames >= DICT_SLOTS - 1)
        return UINT16_MAX; /* unknown: matches nothing */
    if (!(sc->names[sc->nnames] = strdup(code)))
        return 0;
    sc->slots[i] = (uint16_t)(sc->nnames + 1);
    return (uint16_t)sc->nnames++;
}

/* ---- records ---- */

static int32_t day_number(const char *day)
{
    struct tm tm = {0};

    if (!day || sscanf(day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int32_t)(timegm(&tm) / 86400);
}

static uint16_t month_of(int32_t day)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    return (uint16_t)((tm.tm_year - 70) * 12 + tm.tm_mon);
}

static int grow(struct scorecard *sc, int64_t id)
{
    size_t cap = sc->cap ? sc->cap : 65536;
    struct rec *r;

    while ((int64_t)cap <= id)
        cap *= 2;
    if (cap == sc->cap)
        return 0;
    if (!(r = realloc(sc->recs, cap * sizeof *r)))
        return -1;
    for (size_t i = sc->cap; i < cap; i++)
        r[i].day = ABSENT;
    sc->recs = r;
    sc->cap = cap;
    return 0;
}

/* Under the write lock. */
static int put(struct scorecard *sc, const struct store_score_case *c)
{
    struct rec *r;

    if (c->id <= 0 || grow(sc, c->id) != 0)
        return -1;
    r = &sc->recs[c->id];
    if (r->day == ABSENT)
        sc->cases++;
    r->day = day_number(c->day);
    r->month = month_of(r->day);
    r->entity = code_id(sc, c->entity, 1);
    r->service = code_id(sc, c->service, 1);
    for (int i = 0; i < 3; i++)
        r->area[i] = code_id(sc, c->area[i], 1);
    r->confirmations = (uint16_t)(c->confirmations < 0            ? 0
                                  : c->confirmations > UINT16_MAX ? UINT16_MAX
                                                                  : c->confirmations);
    r->rating = (uint8_t)(c->rating >= 1 && c->rating <= 5 ? c->rating : 0);
    r->flags = (uint8_t)((c->closed ? F_CLOSED : 0) | (c->in_sla ? F_IN_SLA : 0) |
                         (c->followed_up ? F_FOLLOWED : 0));
    /* a case closed before it was created (a clock's error) counts with its negative hours,
     * as the aggregates do; histograms start at the least of them */
    r->hours = (int32_t)(c->hours < -(1 << 24) ? -(1 << 24) : c->hours > (1 << 24) ? (1 << 24) : c->hours);
    r->due = c->due;
    if (c->closed && r->hours > sc->hours_max)
        sc->hours_max = r->hours;
    if (c->closed && r->hours < sc->hours_min)
        sc->hours_min = r->hours;
    if (r->month < sc->month_min)
        sc->month_min = r->month;
    if (r->month > sc->month_max)
        sc->month_max = r->month;
    if (c->id > sc->max_id)
        sc->max_id = c->id;
    return 0;
}

static void drop(struct scorecard *sc, int64_t id)
{
    if (id > 0 && (size_t)id < sc->cap && sc->recs[id].day != ABSENT) {
        sc->recs[id].day = ABSENT;
        sc->cases--;
    }
}

static int load_one(void *ctx, const struct store_score_case *c, struct rp_err *err)
{
    return put(ctx, c) == 0 ? RP_OK : rp_err_set(err, RP_NO_MEMORY, "scorecard");
}

int scorecard_load(struct store *s, struct scorecard **out, struct rp_err *err)
{
    struct scorecard *sc = calloc(1, sizeof *sc);
    int rc;

    *out = NULL;
    if (!sc)
        return rp_err_set(err, RP_NO_MEMORY, "scorecard");
    pthread_rwlock_init(&sc->lock, NULL);
    pthread_mutex_init(&sc->refreshing, NULL);
    sc->names[0] = strdup("");
    sc->nnames = 1;
    sc->month_min = UINT16_MAX;
    rc = sc->names[0] ? store_score_log_top(s, &sc->cursor, err)
                      : rp_err_set(err, RP_NO_MEMORY, "scorecard");
    sc->follow_holes = store_is_pg(s);
    if (sc->follow_holes) /* the first refresh reads these again and notes what is missing */
        sc->cursor = sc->cursor > HOLE_LOOKBACK ? sc->cursor - HOLE_LOOKBACK : 0;
    sc->pruned = 0;
    if (rc == RP_OK)
        rc = store_score_all(s, load_one, sc, err);
    if (rc != RP_OK) {
        scorecard_destroy(sc);
        return rc;
    }
    *out = sc;
    return RP_OK;
}

void scorecard_destroy(struct scorecard *sc)
{
    if (!sc)
        return;
    for (uint32_t i = 0; i < sc->nnames; i++)
        free(sc->names[i]);
    free(sc->recs);
    pthread_rwlock_destroy(&sc->lock);
    pthread_mutex_destroy(&sc->refreshing);
    free(sc);
}

void scorecard_stats(struct scorecard *sc, size_t *cases, size_t *bytes)
{
    pthread_rwlock_rdlock(&sc->lock);
    *cases = sc->cases;
    *bytes = sc->cap * sizeof(struct rec);
    pthread_rwlock_unlock(&sc->lock);
}

/* ---- following the log ---- */

/* A changed case as read, before the write lock is taken. */
struct changed {
    int64_t id;
    int found;
    struct store_score_case c;
    char day[16], entity[STORE_CODE_MAX], service[STORE_CODE_MAX], area[3][STORE_CODE_MAX];
};

struct batch {
    struct scorecard *sc;
    struct changed *v;
    size_t n;
    int64_t last;
};

static void hole_add(struct scorecard *sc, int64_t seq, int64_t now)
{
    if (sc->nholes < HOLES_MAX) {
        sc->hole[sc->nholes] = seq;
        sc->hole_until[sc->nholes++] = now + HOLE_MS;
    }
}

static int log_row(void *ctx, int64_t seq, int64_t id)
{
    struct batch *b = ctx;
    if (b->sc->follow_holes && seq > b->last + 1) {
        int64_t now = mono_ms();
        for (int64_t h = b->last + 1; h < seq && b->sc->nholes < HOLES_MAX; h++)
            hole_add(b->sc, h, now);
    }
    b->v[b->n++].id = id;
    b->last = seq;
    return RP_OK;
}

static int keep_case(void *ctx, const struct store_score_case *c, struct rp_err *err)
{
    struct changed *x = ctx;

    (void)err;
    x->c = *c;
    snprintf(x->day, sizeof x->day, "%s", c->day ? c->day : "");
    snprintf(x->entity, sizeof x->entity, "%s", c->entity ? c->entity : "");
    snprintf(x->service, sizeof x->service, "%s", c->service ? c->service : "");
    for (int i = 0; i < 3; i++)
        snprintf(x->area[i], sizeof x->area[i], "%s", c->area[i] ? c->area[i] : "");
    x->c.day = x->day;
    x->c.entity = x->entity;
    x->c.service = x->service;
    for (int i = 0; i < 3; i++)
        x->c.area[i] = x->area[i];
    return RP_OK;
}

/* Re-reads the cases v[0..n) names and applies them. */
static int apply(struct scorecard *sc, struct store *s, struct changed *v, size_t n,
                 struct rp_err *err)
{
    int rc = RP_OK;

    for (size_t i = 0; rc == RP_OK && i < n; i++)
        rc = store_score_one(s, v[i].id, keep_case, &v[i], &v[i].found, err);
    if (rc != RP_OK)
        return rc;
    pthread_rwlock_wrlock(&sc->lock);
    for (size_t i = 0; i < n && rc == RP_OK; i++)
        if (!v[i].found)
            drop(sc, v[i].id);
        else if (put(sc, &v[i].c) != 0)
            rc = rp_err_set(err, RP_NO_MEMORY, "scorecard");
    pthread_rwlock_unlock(&sc->lock);
    return rc;
}

/* The holes that appeared since (see HOLES_MAX): applied, and forgotten with the expired. */
static int holes_check(struct scorecard *sc, struct store *s, struct changed *v,
                       struct rp_err *err)
{
    int64_t now = mono_ms();
    size_t n = 0;
    int keep = 0, rc = RP_OK;

    for (int i = 0; i < sc->nholes; i++) {
        int64_t id = 0;
        int found = 0;
        if (rc == RP_OK && n < SCORECARD_LOG_BATCH)
            rc = store_score_log_at(s, sc->hole[i], &id, &found, err);
        if (found) {
            v[n++].id = id;
            sc->holes_filled++;
        } else if (sc->hole_until[i] > now || rc != RP_OK || n >= SCORECARD_LOG_BATCH) {
            sc->hole[keep] = sc->hole[i];
            sc->hole_until[keep++] = sc->hole_until[i];
        }
    }
    sc->nholes = keep;
    return rc == RP_OK && n ? apply(sc, s, v, n, err) : rc;
}

/* Rows this process never read were pruned by another: every case read again. */
static int reload(struct scorecard *sc, struct store *s, struct rp_err *err)
{
    int64_t top = 0;
    int rc = store_score_log_top(s, &top, err);

    if (rc != RP_OK)
        return rc;
    pthread_rwlock_wrlock(&sc->lock);
    for (size_t id = 0; id < sc->cap; id++)
        sc->recs[id].day = ABSENT;
    sc->cases = 0;
    rc = store_score_all(s, load_one, sc, err);
    pthread_rwlock_unlock(&sc->lock);
    sc->cursor = top > HOLE_LOOKBACK ? top - HOLE_LOOKBACK : 0;
    sc->nholes = 0;
    sc->reloads++;
    rp_warn("stats: the change log was pruned past this process's place; %zu cases read again",
            sc->cases);
    return rc;
}

int scorecard_refresh(struct scorecard *sc, struct store *s, int64_t *prune_upto,
                      struct rp_err *err)
{
    struct changed *v = malloc(SCORECARD_LOG_BATCH * sizeof *v);
    int rc = RP_OK;

    *prune_upto = 0;
    if (!v)
        return rp_err_set(err, RP_NO_MEMORY, "scorecard");
    pthread_mutex_lock(&sc->refreshing);
    if (sc->follow_holes) {
        int64_t oldest = 0;
        rc = store_score_log_min(s, &oldest, err);
        if (rc == RP_OK && oldest > sc->cursor + 1 && sc->cursor > 0)
            rc = reload(sc, s, err);
        if (rc == RP_OK && sc->nholes)
            rc = holes_check(sc, s, v, err);
    }
    for (; rc == RP_OK;) {
        struct batch b = {sc, v, 0, sc->cursor};
        rc = store_score_log(s, sc->cursor, SCORECARD_LOG_BATCH, log_row, &b, err);
        if (rc != RP_OK || b.n == 0)
            break;
        rc = apply(sc, s, v, b.n, err);
        if (rc != RP_OK)
            break;
        sc->cursor = b.last;
        if (b.n < SCORECARD_LOG_BATCH)
            break;
    }
    if (sc->cursor - sc->pruned >= SCORECARD_PRUNE_ROWS) {
        int64_t upto = sc->cursor;
        for (int i = 0; i < sc->nholes; i++) /* never a row that may still come */
            if (sc->hole[i] - 1 < upto)
                upto = sc->hole[i] - 1;
        if (sc->follow_holes) /* the other processes read the same log */
            upto = upto > PG_KEEP ? upto - PG_KEEP : 0;
        *prune_upto = upto;
        sc->pruned = sc->cursor;
    }
    pthread_mutex_unlock(&sc->refreshing);
    free(v);
    return rc;
}

/* ---- the pass ---- */

/* Hours to close, exact at one hour, two ways. The first groups to close a case get a dense
 * histogram of every hour while that fits DENSE_BUDGET bytes (a grouping by distrito: one pass,
 * ~3 MB). Groups beyond it get coarse bins of HOUR_BIN hours, and their closed cases are kept
 * as (group, hours) in a flat array; a second pass over that array counts the hours inside the
 * two bins that hold each such group's median and p90 (entity x month: 1,125 groups, which as
 * dense histograms would be 40 MB to zero). */
#define DENSE_BUDGET ((size_t)8 << 20)
#define HOUR_SHIFT 6
#define HOUR_BIN   (1 << HOUR_SHIFT)

struct acc {
    uint32_t k[STORE_STAT_GROUPS_MAX];
    int64_t received, open, closed, in_sla, confirmations, overdue, ratings, rating_sum,
        followed;
    uint32_t *dense;              /* hours - hours_min, or NULL */
    uint32_t *coarse;             /* (hours - hours_min) >> HOUR_SHIFT, or NULL */
    int64_t rank[2], before[2];   /* median, p90: the rank, and the cases in bins below its bin */
    int64_t bin[2];               /* -1: none */
    uint32_t fine[2][HOUR_BIN];
};

struct filter {
    int32_t from, to;
    int svc_on, ent_on, area_on;
    uint16_t svc, ent, area;
    uint32_t nkeys, d2;
    enum store_stat_key keys[STORE_STAT_GROUPS_MAX];
};

static uint32_t key_of(const struct scorecard *sc, const struct rec *r, enum store_stat_key k)
{
    switch (k) {
    case STORE_STAT_ENTITY: return r->entity;
    case STORE_STAT_SERVICE: return r->service;
    case STORE_STAT_PROVINCIA: return r->area[2];
    case STORE_STAT_DISTRITO: return r->area[1];
    case STORE_STAT_CORREGIMIENTO: return r->area[0];
    case STORE_STAT_MONTH: return (uint32_t)(r->month - sc->month_min);
    default: return 0;
    }
}

/* The slot index of r's group, or SIZE_MAX when the filter leaves it out. */
static inline size_t slot_of(const struct scorecard *sc, const struct filter *f,
                             const struct rec *r)
{
    if (r->day == ABSENT || r->day < f->from || r->day > f->to ||
        (f->svc_on && r->service != f->svc) || (f->ent_on && r->entity != f->ent) ||
        (f->area_on && r->area[0] != f->area && r->area[1] != f->area && r->area[2] != f->area))
        return SIZE_MAX;
    return (size_t)(f->nkeys > 0 ? key_of(sc, r, f->keys[0]) : 0) * f->d2 +
           (f->nkeys > 1 ? key_of(sc, r, f->keys[1]) : 0);
}

static uint32_t domain(const struct scorecard *sc, enum store_stat_key k)
{
    return k == STORE_STAT_MONTH ? (uint32_t)(sc->month_max - sc->month_min + 1) : sc->nnames;
}

static void key_text(const struct scorecard *sc, enum store_stat_key k, uint32_t v, char *out,
                     size_t n)
{
    if (k == STORE_STAT_MONTH) {
        unsigned m = sc->month_min + v;
        snprintf(out, n, "%04u-%02u", 1970 + m / 12, m % 12 + 1);
    } else {
        snprintf(out, n, "%s", v < sc->nnames ? sc->names[v] : "");
    }
}

static int cmp_group(const void *a, const void *b)
{
    const struct store_stat_group *x = a, *y = b;
    int c = strcmp(x->key[0], y->key[0]);
    return c ? c : strcmp(x->key[1], y->key[1]);
}

/* After the first pass: which bin holds each of a group's two ranks. */
static void pick_bins(struct acc *a, size_t nbins)
{
    for (int q = 0; q < 2; q++) {
        int64_t r = (int64_t)ceil((q ? 0.9 : 0.5) * (double)a->closed), seen = 0;
        a->rank[q] = r < 1 ? 1 : r;
        a->bin[q] = -1;
        for (size_t i = 0; a->coarse && i < nbins; i++) {
            if (seen + a->coarse[i] >= a->rank[q]) {
                a->bin[q] = (int64_t)i;
                a->before[q] = seen;
                break;
            }
            seen += a->coarse[i];
        }
    }
}

static int64_t dense_value(const uint32_t *h, size_t n, int64_t rank, int32_t base)
{
    int64_t seen = 0;
    for (size_t i = 0; i < n; i++)
        if ((seen += h[i]) >= rank)
            return (int64_t)i + base;
    return -1;
}

static int64_t fine_value(const struct acc *a, int q, int32_t base)
{
    int64_t seen = a->before[q];
    if (a->bin[q] < 0)
        return -1;
    for (int i = 0; i < HOUR_BIN; i++)
        if ((seen += a->fine[q][i]) >= a->rank[q])
            return a->bin[q] * HOUR_BIN + i + base;
    return -1;
}

int scorecard_query(struct scorecard *sc, struct store *s, const struct store_stats_query *q,
                    struct store_stat_group **out, size_t *nout, struct rp_err *err)
{
    struct filter f = {0};
    int64_t now = q->now ? rp_utc_parse(q->now) : (int64_t)time(NULL);
    uint32_t d1;
    int32_t *slot = NULL;
    struct acc *g = NULL;
    size_t ng = 0, capg = 0, nbins, nh, dense_used = 0;
    struct store_stat_group *v = NULL;
    int rc = RP_OK;

    *out = NULL;
    *nout = 0;
    if (q->nkeys < 0 || q->nkeys > STORE_STAT_GROUPS_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "at most %d group keys",
                          STORE_STAT_GROUPS_MAX);
    pthread_rwlock_rdlock(&sc->lock);
    f.from = q->from ? day_number(q->from) : INT32_MIN;
    f.to = q->to ? day_number(q->to) : INT32_MAX;
    f.svc_on = q->service && q->service[0];
    f.ent_on = q->entity && q->entity[0];
    f.area_on = q->area && q->area[0];
    if (f.svc_on)
        f.svc = code_id(sc, q->service, 0);
    if (f.ent_on)
        f.ent = code_id(sc, q->entity, 0);
    if (f.area_on)
        f.area = code_id(sc, q->area, 0);
    f.nkeys = (uint32_t)q->nkeys;
    memcpy(f.keys, q->keys, sizeof f.keys);
    d1 = f.nkeys > 0 ? domain(sc, q->keys[0]) : 1;
    f.d2 = f.nkeys > 1 ? domain(sc, q->keys[1]) : 1;
    nbins = ((size_t)(sc->hours_max - sc->hours_min) >> HOUR_SHIFT) + 1;
    nh = (size_t)(sc->hours_max - sc->hours_min) + 1;
    if (sc->cases && !(slot = malloc((size_t)d1 * f.d2 * sizeof *slot)))
        rc = rp_err_set(err, RP_NO_MEMORY, "scorecard");
    if (slot)
        memset(slot, 0xff, (size_t)d1 * f.d2 * sizeof *slot);
    /* every closed case the filter keeps, as (group, hours): the second pass reads these */
    struct closed_case {
        int32_t group, hours;
    } *cl = NULL;
    size_t ncl = 0;
    if (slot && !(cl = malloc((sc->cases ? sc->cases : 1) * sizeof *cl)))
        rc = rp_err_set(err, RP_NO_MEMORY, "scorecard");
    /* first pass: the counts and the coarse hours */
    for (int64_t id = 1; rc == RP_OK && slot && id <= sc->max_id; id++) {
        const struct rec *r = &sc->recs[id];
        size_t at = slot_of(sc, &f, r);
        struct acc *a;
        if (at == SIZE_MAX)
            continue;
        if (slot[at] < 0) {
            if (ng == capg) {
                size_t c = capg ? capg * 2 : 64;
                struct acc *w = realloc(g, c * sizeof *w);
                if (!w) {
                    rc = rp_err_set(err, RP_NO_MEMORY, "scorecard");
                    break;
                }
                g = w;
                capg = c;
            }
            memset(&g[ng], 0, sizeof g[ng]);
            g[ng].k[0] = (uint32_t)(at / f.d2);
            g[ng].k[1] = (uint32_t)(at % f.d2);
            slot[at] = (int32_t)ng++;
        }
        a = &g[slot[at]];
        a->received++;
        a->confirmations += r->confirmations;
        a->followed += (r->flags & F_FOLLOWED) != 0;
        if (r->rating) {
            a->ratings++;
            a->rating_sum += r->rating;
        }
        if (r->flags & F_CLOSED) {
            a->closed++;
            a->in_sla += (r->flags & F_IN_SLA) != 0;
            uint32_t h = (uint32_t)(r->hours - sc->hours_min);
            if (!a->dense && !a->coarse) {
                if (dense_used + nh * sizeof(uint32_t) <= DENSE_BUDGET) {
                    a->dense = calloc(nh, sizeof *a->dense);
                    dense_used += nh * sizeof(uint32_t);
                } else {
                    a->coarse = calloc(nbins, sizeof *a->coarse);
                }
                if (!a->dense && !a->coarse) {
                    rc = rp_err_set(err, RP_NO_MEMORY, "scorecard");
                    break;
                }
            }
            if (a->dense) {
                a->dense[h]++;
            } else {
                a->coarse[h >> HOUR_SHIFT]++;
                if (ncl < sc->cases)
                    cl[ncl++] = (struct closed_case){slot[at], (int32_t)h};
            }
        } else {
            a->open++;
            a->overdue += r->due < now;
        }
    }
    for (size_t i = 0; rc == RP_OK && i < ng; i++)
        if (g[i].coarse)
            pick_bins(&g[i], nbins);
    /* second pass, over the closed cases kept: the hours inside the bins of the ranks */
    for (size_t i = 0; rc == RP_OK && i < ncl; i++) {
        struct acc *a = &g[cl[i].group];
        uint32_t h = (uint32_t)cl[i].hours;
        int64_t bin = (int64_t)(h >> HOUR_SHIFT);
        if (bin == a->bin[0])
            a->fine[0][h & (HOUR_BIN - 1)]++;
        if (bin == a->bin[1])
            a->fine[1][h & (HOUR_BIN - 1)]++;
    }
    free(cl);
    if (rc == RP_OK && ng && !(v = calloc(ng, sizeof *v)))
        rc = rp_err_set(err, RP_NO_MEMORY, "scorecard");
    for (size_t i = 0; rc == RP_OK && i < ng; i++) {
        struct store_stat_group *o = &v[i];
        const struct acc *a = &g[i];
        for (uint32_t k = 0; k < f.nkeys; k++)
            key_text(sc, q->keys[k], a->k[k], o->key[k], sizeof o->key[k]);
        o->received = a->received;
        o->open = a->open;
        o->closed = a->closed;
        o->closed_in_sla = a->in_sla;
        o->confirmations = a->confirmations;
        o->overdue = a->overdue;
        o->ratings = a->ratings;
        o->rating_sum = a->rating_sum;
        o->followed_up = a->followed;
        o->has_quantiles = 1;
        if (a->closed && a->dense) {
            int64_t r50 = (int64_t)ceil(0.5 * (double)a->closed);
            int64_t r90 = (int64_t)ceil(0.9 * (double)a->closed);
            o->median = dense_value(a->dense, nh, r50 < 1 ? 1 : r50, sc->hours_min);
            o->p90 = dense_value(a->dense, nh, r90 < 1 ? 1 : r90, sc->hours_min);
        } else {
            o->median = a->closed ? fine_value(a, 0, sc->hours_min) : -1;
            o->p90 = a->closed ? fine_value(a, 1, sc->hours_min) : -1;
        }
    }
    pthread_rwlock_unlock(&sc->lock);
    for (size_t i = 0; i < ng; i++)
        free(g[i].coarse), free(g[i].dense);
    free(g);
    free(slot);
    if (rc == RP_OK && ng) {
        qsort(v, ng, sizeof *v, cmp_group);
        rc = store_stats_tows(s, q, v, ng, err);
    }
    if (rc != RP_OK) {
        store_stats_free(v, ng);
        return rc;
    }
    *out = v;
    *nout = ng;
    return RP_OK;
}
