/*
 * bench/cases.c - synthetic open cases spread like real 311 reports, for the benchmarks that
 * need a big database (tiles now; statistics and export later).
 *   bench_cases gen DB N [SEED]   adds N open cases to DB (initialised by reporta init)
 *   bench_cases csv DB            prints the open cases as CSV (id, lon, lat, service, status,
 *                                 entity, created_at, due_at, confirmations) for other engines
 * Where: 90 % in Gaussian blobs around the populated distritos (Panamá, San Miguelito,
 * Arraiján, La Chorrera, Colón, David, Santiago; weights and spreads below), 10 % anywhere on
 * land; every point is located on the real areas (points off land are drawn again), so its
 * provincia / distrito / corregimiento codes are real. What: services weighted as a water-
 * and-garbage-heavy 311 line; entities as the seeded routing rules would choose them
 * (municipalities by distrito, electricity by provincia); statuses 60 % received, 25 %
 * assigned, 15 % in progress; created in the last 30 days; a fifth with confirmations. Cases
 * go in through store_report_insert, 10,000 per transaction. Fixed seed: the same database.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/progress.h"
#include "geo/locate.h"
#include "server/areas.h"

#define BATCH 10000

static const struct {
    const char *name;
    double lat, lon, sigma_km, weight;
} blobs[] = {
    {"Panamá", 9.000, -79.510, 6.0, 0.36},   {"San Miguelito", 9.050, -79.480, 3.0, 0.14},
    {"Arraiján", 8.950, -79.660, 4.0, 0.09}, {"La Chorrera", 8.880, -79.780, 4.0, 0.09},
    {"Colón", 9.350, -79.890, 3.0, 0.08},    {"David", 8.430, -82.430, 3.0, 0.08},
    {"Santiago", 8.100, -80.975, 3.0, 0.06},
};
#define SCATTER 0.10

static const struct {
    const char *code;
    double weight;
    int sla_hours;
} services[] = {
    {"fuga_agua", 0.24, 72},      {"sin_agua", 0.08, 48},
    {"alcantarillado", 0.07, 72}, {"basura", 0.20, 48},
    {"hueco", 0.14, 720},         {"alumbrado", 0.10, 168},
    {"semaforo", 0.03, 24},       {"vehiculo_obstruccion", 0.03, 4},
    {"arbol_caido", 0.04, 72},    {"criadero_mosquitos", 0.03, 168},
    {"ruido", 0.03, 168},         {"contaminacion", 0.01, 720},
};

static double unif(void) { return (rand() + 0.5) / ((double)RAND_MAX + 1.0); }

static double gauss(void) { return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif()); }

/* The entity the seed rules would pick (data/seed/0002_catalogue.sql). */
static void entity_of(const char *service, const struct geo_place *p, char out[STORE_CODE_MAX])
{
    const char *prov = p->area[0] ? p->area[0]->code : "",
               *dist = p->area[1] ? p->area[1]->code : "";

    if (!strcmp(service, "fuga_agua") || !strcmp(service, "sin_agua") ||
        !strcmp(service, "alcantarillado"))
        snprintf(out, STORE_CODE_MAX, "IDAAN");
    else if (!strcmp(service, "basura"))
        snprintf(out, STORE_CODE_MAX, "%s%.24s",
                 !strcmp(dist, "0808") || !strcmp(dist, "0810") ? "AAUD" : "MUN-",
                 !strcmp(dist, "0808") || !strcmp(dist, "0810") ? "" : dist);
    else if (!strcmp(service, "hueco"))
        snprintf(out, STORE_CODE_MAX, "MOP");
    else if (!strcmp(service, "alumbrado"))
        snprintf(out, STORE_CODE_MAX, "%s",
                 !strcmp(prov, "04") || !strcmp(prov, "01") ? "EDECHI"
                 : !strcmp(prov, "03") || !strcmp(prov, "05") || !strcmp(prov, "10") ||
                         !strcmp(prov, "11") || !strcmp(dist, "0810")
                     ? "ENSA"
                     : "EDEMET");
    else if (!strcmp(service, "semaforo") || !strcmp(service, "vehiculo_obstruccion"))
        snprintf(out, STORE_CODE_MAX, "ATTT");
    else if (!strcmp(service, "criadero_mosquitos"))
        snprintf(out, STORE_CODE_MAX, "MINSA");
    else if (!strcmp(service, "contaminacion"))
        snprintf(out, STORE_CODE_MAX, "MIAMBIENTE");
    else /* arbol_caido, ruido: the distrito's municipality */
        snprintf(out, STORE_CODE_MAX, "MUN-%.24s", dist);
}

static void iso(time_t t, char out[STORE_TIME_MAX])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, STORE_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A point on land with its areas. */
static void draw(const struct geo_index *ix, struct geo_ctx *gc, double *lon, double *lat,
                 struct geo_place *p)
{
    struct rp_err err = {0};

    for (;;) {
        double u = unif(), acc = 0;
        size_t b = 0;
        if (u < SCATTER) {
            *lon = -83.05 + 5.9 * unif();
            *lat = 7.20 + 2.45 * unif();
        } else {
            u = (u - SCATTER) / (1 - SCATTER);
            for (b = 0; b + 1 < sizeof blobs / sizeof blobs[0]; b++) {
                acc += blobs[b].weight / (1 - SCATTER);
                if (u < acc)
                    break;
            }
            *lat = blobs[b].lat + gauss() * blobs[b].sigma_km / 110.574;
            *lon = blobs[b].lon + gauss() * blobs[b].sigma_km / (111.320 * cos(*lat * M_PI / 180));
        }
        if (geo_locate(ix, gc, *lon, *lat, 0, p, &err) == RP_OK && p->area[2])
            return;
        rp_err_clear(&err);
    }
}

static int gen(const char *db, long long n, unsigned seed)
{
    static struct store_report r;
    struct store_report_new nw;
    struct store *s = NULL;
    struct geo_ctx gc;
    struct geo_index *ix = NULL;
    struct rp_err err = {0};
    time_t now = time(NULL);
    long long done = 0;
    double total_w = 0;
    struct progress pr;
    int rc;
    char token[64];
    clock_t c0 = clock();

    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
        total_w += services[i].weight;
    rc = geo_ctx_init(&gc, &err);
    if (rc == RP_OK)
        rc = store_open(db, &s, &err);
    if (rc == RP_OK)
        rc = areas_index_load(s, &gc, &ix, &err);
    memset(&nw, 0, sizeof nw);
    nw.r = &r;
    nw.actor = "bench";
    nw.actor_role = "admin";
    srand(seed);
    progress_start(&pr, "bench_cases gen", "cases", (uint64_t)n);
    while (rc == RP_OK && done < n) {
        progress_set(&pr, (uint64_t)done);
        rc = store_begin(s, &err);
        for (int i = 0; rc == RP_OK && i < BATCH && done < n; i++, done++) {
            struct geo_place p;
            double u = unif() * total_w, acc = 0;
            size_t k = 0;
            int64_t id;
            int replayed;
            time_t created = now - (time_t)(unif() * 30 * 86400);
            memset(&r, 0, sizeof r);
            draw(ix, &gc, &r.lon, &r.lat, &p);
            for (k = 0; k + 1 < sizeof services / sizeof services[0]; k++)
                if (u < (acc += services[k].weight))
                    break;
            snprintf(r.service_code, sizeof r.service_code, "%s", services[k].code);
            entity_of(r.service_code, &p, r.entity_code);
            for (int l = 0; l < RP_LEVEL_COUNT; l++) /* store_report: corregimiento first */
                snprintf(r.area[l], sizeof r.area[l], "%s",
                         p.area[2 - l] ? p.area[2 - l]->code : "");
            snprintf(r.location_source, sizeof r.location_source, "device");
            iso(created, r.created_at);
            iso(created + services[k].sla_hours * 3600, r.due_at);
            for (int b = 0; b < STORE_HASH_LEN; b++)
                nw.token_hash[b] = (unsigned char)rand();
            memcpy(nw.token_hash, &done, sizeof done); /* unique */
            rc = store_report_insert(s, &nw, &id, &replayed, token, &err);
            if (rc == RP_OK) { /* the open statuses and confirmations real cases have */
                double st = unif();
                const char *to = st < 0.60 ? NULL : st < 0.85 ? "assigned" : "in_progress";
                int changed;
                if (to)
                    rc = store_report_set_status(s, id, "received", to, 0, 0, &changed, &err);
                for (int c = 0; rc == RP_OK && unif() < (c ? 0.5 : 0.2) && c < 20; c++) {
                    int added;
                    rc = store_report_confirm(s, id, NULL, &added, &err);
                }
            }
        }
        rc = store_end(s, rc, &err);
    }
    if (rc == RP_OK) {
        progress_set(&pr, (uint64_t)done);
        progress_end(&pr);
    }
    geo_index_destroy(ix, &gc);
    store_close(s);
    geo_ctx_fini(&gc);
    if (rc != RP_OK) {
        fprintf(stderr, "bench_cases gen: %s\n", err.msg);
        return 1;
    }
    printf("bench_cases gen: %lld open cases added (%.1f s cpu)\n", done,
           (double)(clock() - c0) / CLOCKS_PER_SEC);
    return 0;
}

static int csv_row(void *ctx, const struct store_point *p, struct rp_err *err)
{
    (void)ctx, (void)err;
    printf("%lld,%.7f,%.7f,%s,%s,%s,%s,%s,%d\n", (long long)p->id, p->lon, p->lat, p->service_code,
           p->status, p->entity_code, p->created_at, p->due_at, p->confirmations);
    return RP_OK;
}

static int csv(const char *db)
{
    struct store *s = NULL;
    struct rp_err err = {0};
    int rc = store_open(db, &s, &err);

    if (rc == RP_OK)
        rc = store_points_open(s, csv_row, NULL, &err);
    store_close(s);
    if (rc != RP_OK)
        fprintf(stderr, "bench_cases csv: %s\n", err.msg);
    return rc == RP_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], atoll(argv[3]), argc > 4 ? (unsigned)atoi(argv[4]) : 42);
    if (argc == 3 && strcmp(argv[1], "csv") == 0)
        return csv(argv[2]);
    fprintf(stderr, "usage: bench_cases gen DB N [SEED] | csv DB\n");
    return 2;
}
