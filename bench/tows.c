/*
 * bench/tows.c - the stored and the background sides of bench/run tows.
 *   bench_tows gen DB N TRUCKS PLATES_OUT   adds 4 yards (radius geofences in Panamá City),
 *       TRUCKS trucks G-0001.. of the ATTT and N tows to DB (made by reporta init), through
 *       the store_ functions the server uses, one transaction per 50,000 tows; writes to
 *       PLATES_OUT the plates to look up, one a line: every active tow's plate, and as many
 *       again of released and never-towed ones, a quarter of them typed the way people do
 *       ("ab-1234"). Prints how long it took.
 *   bench_tows feed HOST PORT KEY TRUCKS SECONDS   every truck posts one position every 5 s
 *       (TRUCKS / 5 requests a second) through libcurl for SECONDS or until SIGTERM/SIGINT,
 *       then prints posts, accepted points, non-2xx, lateness and latency. Exits 1 on any
 *       non-2xx or a point not accepted.
 * The tows: created evenly over two years, each requested -> towing (5-40 min) -> at_yard
 * (15-75 min) -> released after an exponential stay with a mean of 0.5 % of the two years, so
 * what is still active (~0.5 %) is the recent tail: a handful requested or towing, the rest
 * at_yard. Pickups are located on the real areas (Panamá City, drawn again off land), plates
 * "AB1234" (70 %) or "123456", each change in tow_history. Fixed seed: the same database.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geo/locate.h"
#include "server/areas.h"
#include "server/plate.h"
#include "server/tows.h"

#define GEN_BATCH        50000
#define GEN_SPAN_S       (730 * 86400) /* two years of tows */
#define GEN_ACTIVE_SHARE 0.005         /* mean stay as a share of the span: ~0.5 % active */
#define GEN_SEED         42
#define PLATES_SAMPLE    100000 /* released plates kept to draw lookups from */
#define FEED_PERIOD_S    5      /* each truck posts once per period */
#define FEED_THREADS     4      /* a slow answer under load delays only this thread's trucks */
#define FEED_LATE_MS     1000
#define BENCH_ACTOR      "bench"

/* clang-format off */
static const struct {
    const char *code, *name, *address;
    double lat, lon, radius_m;
} yards[] = {
    {"PATIO-ALBROOK", "Patio de Albrook", "Vía Ascanio Arosemena, Albrook", 8.9745, -79.5540, 150},
    {"PATIO-JUAN-DIAZ", "Patio de Juan Díaz", "Vía Domingo Díaz, Juan Díaz", 9.0440, -79.4530, 200},
    {"PATIO-SAN-MIGUELITO", "Patio de San Miguelito", "Vía Transístmica, Los Andes", 9.0330, -79.5010, 120},
    {"PATIO-TOCUMEN", "Patio de Tocumen", "Vía Tocumen, 24 de Diciembre", 9.0700, -79.3830, 250},
};
#define NYARDS (sizeof yards / sizeof yards[0])

static const char *const makes[] = {"Toyota", "Hyundai", "Kia", "Nissan", "Mitsubishi", "Suzuki",
                                    "Chevrolet", "Honda"};
static const char *const colours[] = {"blanco", "gris", "negro", "plata", "rojo", "azul"};
static const char *const types[] = {"sedan", "sedan", "suv", "pickup", "motocicleta"};
static const char *const streets[] = {"Vía España", "Calle 50", "Avenida Balboa", "Vía Argentina",
                                      "Avenida Federico Boyd", "Vía Transístmica",
                                      "Avenida Ricardo J. Alfaro", "Calle Uruguay"};
static const char *const reasons[] = {"Estacionado en zona prohibida",
                                      "Obstruye la entrada de un garaje",
                                      "Estacionado en parada de autobús",
                                      "Estacionado en doble fila",
                                      "Estacionado sobre la acera",
                                      "Vehículo abandonado en la vía"};
/* clang-format on */
#define PICK(a) (a[rand() % (int)(sizeof a / sizeof a[0])])

static double unif(void) { return (rand() + 0.5) / ((double)RAND_MAX + 1.0); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void iso(time_t t, char out[STORE_TIME_MAX])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, STORE_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- gen ---- */

struct plates {
    char (*v)[STORE_PLATE_MAX];
    size_t n, cap;
};

static int plates_add(struct plates *p, const char *plate)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4096;
        void *v = realloc(p->v, cap * sizeof *p->v);
        if (!v)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    snprintf(p->v[p->n++], STORE_PLATE_MAX, "%s", plate);
    return 0;
}

/* A pickup on land in Panamá City: 70 % around the centre (Bella Vista, Obarrio, San
 * Francisco), the rest anywhere in the city's box; off land (the bay) is drawn again. */
static void pickup(const struct geo_index *ix, struct geo_ctx *gc, double *lon, double *lat,
                   struct geo_place *p)
{
    struct rp_err err = {0};

    for (;;) {
        if (unif() < 0.7) {
            double r = sqrt(-2 * log(unif())), a = 2 * M_PI * unif();
            *lat = 8.985 + r * cos(a) * 3.0 / 110.574; /* sigma 3 km */
            *lon = -79.520 + r * sin(a) * 3.0 / 109.9;
        } else {
            *lat = 8.90 + 0.20 * unif();
            *lon = -79.60 + 0.20 * unif();
        }
        if (geo_locate(ix, gc, *lon, *lat, 0, p, &err) == RP_OK && p->area[RP_LEVEL_CORREGIMIENTO])
            return;
        rp_err_clear(&err);
    }
}

/* "AB1234" (70 %) or "123456", normalised as the server stores it. */
static int plate_draw(char out[PLATE_MAX + 1], struct rp_err *err)
{
    char raw[16];

    if (unif() < 0.7)
        snprintf(raw, sizeof raw, "%c%c%04d", 'A' + rand() % 26, 'A' + rand() % 26, rand() % 10000);
    else
        snprintf(raw, sizeof raw, "%06d", rand() % 1000000);
    return plate_normalize(raw, out, err);
}

static size_t nearest_yard(double lon, double lat)
{
    size_t best = 0;
    double bd = INFINITY;

    for (size_t i = 0; i < NYARDS; i++) {
        double dx = (lon - yards[i].lon) * cos(lat * M_PI / 180), dy = lat - yards[i].lat;
        if (dx * dx + dy * dy < bd)
            bd = dx * dx + dy * dy, best = i;
    }
    return best;
}

static int setup(struct store *s, int trucks, int64_t yard_ids[NYARDS], int64_t **truck_ids,
                 struct rp_err *err)
{
    static struct store_yard y;
    int exists = 0, created, rc = store_begin(s, err);

    if (rc == RP_OK)
        rc = store_entity_exists(s, "ATTT", &exists, err);
    if (rc == RP_OK && !exists)
        rc = rp_err_set(err, RP_NOT_FOUND, "no entity ATTT: run reporta init first");
    for (size_t i = 0; rc == RP_OK && i < NYARDS; i++) {
        memset(&y, 0, sizeof y);
        snprintf(y.code, sizeof y.code, "%s", yards[i].code);
        snprintf(y.name, sizeof y.name, "%s", yards[i].name);
        snprintf(y.address, sizeof y.address, "%s", yards[i].address);
        y.lat = yards[i].lat;
        y.lon = yards[i].lon;
        y.radius_m = yards[i].radius_m;
        snprintf(y.hours_es, sizeof y.hours_es, "Lunes a domingo, 24 horas");
        snprintf(y.hours_en, sizeof y.hours_en, "Every day, 24 hours");
        snprintf(y.phone, sizeof y.phone, "+507 511-%04zu", 9000 + i);
        y.tow_fee_cents = 8000;   /* B/. 80 */
        y.daily_fee_cents = 1000; /* B/. 10 a day begun */
        snprintf(y.documents_es, sizeof y.documents_es,
                 "Cédula o pasaporte, registro único vehicular y paz y salvo de la ATTT");
        snprintf(y.documents_en, sizeof y.documents_en,
                 "ID card or passport, vehicle registration and the ATTT clearance");
        y.active = 1;
        rc = store_yard_put(s, &y, &created, err);
        yard_ids[i] = y.id;
    }
    *truck_ids = calloc((size_t)trucks, sizeof **truck_ids);
    if (rc == RP_OK && !*truck_ids)
        rc = rp_err_set(err, RP_NO_MEMORY, "trucks");
    for (int i = 0; rc == RP_OK && i < trucks; i++) {
        struct store_truck k = {0};
        snprintf(k.code, sizeof k.code, "G-%04d", i + 1);
        snprintf(k.entity_code, sizeof k.entity_code, "ATTT");
        snprintf(k.plate, sizeof k.plate, "G%05d", i + 1);
        k.active = 1;
        rc = store_truck_put(s, &k, &created, err);
        (*truck_ids)[i] = k.id;
    }
    return store_end(s, rc, err);
}

/* One tow's row and history, as far along as it got by now: *reached indexes chain (3:
 * released). */
static int tow_one(struct store *s, struct store_tow *tw, long long seq, double step_s, time_t now,
                   int *reached, struct rp_err *err)
{
    static const char *const chain[] = {"requested", "towing", "at_yard", "released"};
    char at[4][STORE_TIME_MAX];
    time_t created = now - GEN_SPAN_S + (time_t)(((double)seq + unif()) * step_s);
    time_t when[4];
    int rc, changed;

    when[0] = created;
    when[1] = when[0] + 300 + (time_t)(unif() * 2100);
    when[2] = when[1] + 900 + (time_t)(unif() * 3600);
    when[3] = when[2] + (time_t)(-log(unif()) * GEN_ACTIVE_SHARE * GEN_SPAN_S);
    *reached = 0;
    while (*reached < 3 && when[*reached + 1] <= now)
        ++*reached;
    for (int i = 0; i < 4; i++)
        iso(when[i], at[i]);
    snprintf(tw->status, sizeof tw->status, "%s", chain[*reached >= 1 ? 1 : 0]);
    memcpy(tw->created_at, at[0], sizeof tw->created_at);
    if (*reached >= 1)
        memcpy(tw->towing_at, at[1], sizeof tw->towing_at);
    else
        tw->towing_at[0] = '\0';
    rc = store_tow_insert(s, tw, err);
    for (int i = 2; rc == RP_OK && i <= *reached; i++) {
        rc = store_tow_set_status(s, tw->id, chain[i - 1], chain[i], at[i], &changed, err);
        if (rc == RP_OK && !changed)
            rc = rp_err_set(err, RP_INTERNAL, "tow %lld: no %s -> %s", (long long)tw->id,
                            chain[i - 1], chain[i]);
    }
    for (int i = 0; rc == RP_OK && i <= *reached; i++) {
        /* arrival is detected by the yard's geofence: the system moves it, as the server does */
        int system = i == 2;
        rc = store_tow_history_add(
            s, tw->id,
            &(struct store_tow_change){0, at[i], i ? chain[i - 1] : NULL, chain[i],
                                       system ? "system" : BENCH_ACTOR,
                                       system ? "system" : "tow_operator",
                                       system ? "llegada detectada por geocerca" : NULL},
            err);
    }
    snprintf(tw->status, sizeof tw->status, "%s", chain[*reached]);
    return rc;
}

/* The line a driver might type for plate: 1 in 4 lower-cased with a dash ("ab-1234",
 * "123-456"); the server must normalise it back. */
static int plate_typed(const char *plate, char out[STORE_PLATE_MAX + 2])
{
    size_t n = strlen(plate), cut = 0;
    char back[PLATE_MAX + 1];

    if (rand() % 4) {
        snprintf(out, STORE_PLATE_MAX + 2, "%s", plate);
        return 0;
    }
    while (cut < n && plate[cut] >= 'A' && plate[cut] <= 'Z')
        cut++;
    if (cut == 0 || cut == n)
        cut = n / 2;
    for (size_t i = 0, o = 0; i <= n; i++) {
        if (i == cut)
            out[o++] = '-';
        out[o++] = (char)(plate[i] >= 'A' && plate[i] <= 'Z' ? plate[i] - 'A' + 'a' : plate[i]);
    }
    return plate_normalize(out, back, &(struct rp_err){0}) == RP_OK && strcmp(back, plate) == 0
               ? 0
               : -1;
}

/* Every active plate, then as many again from released ones and never-towed ones (7
 * characters, a format gen never draws), shuffled. */
static int plates_write(const char *path, const struct plates *active,
                        const struct plates *released, size_t *lines)
{
    size_t want = active->n > 50 ? active->n : 50, k = 0;
    struct plates all = {0};
    FILE *f = fopen(path, "w");
    int rc = f ? 0 : -1;
    char unknown[STORE_PLATE_MAX], line[STORE_PLATE_MAX + 2];

    for (size_t i = 0; rc == 0 && i < active->n; i++)
        rc = plates_add(&all, active->v[i]);
    for (size_t i = 0; rc == 0 && released->n && i < want / 2; i++)
        rc = plates_add(&all, released->v[(size_t)rand() % released->n]);
    for (size_t i = 0; rc == 0 && i < want - want / 2; i++) {
        snprintf(unknown, sizeof unknown, "%c%c%05d", 'A' + rand() % 26, 'A' + rand() % 26,
                 rand() % 100000);
        rc = plates_add(&all, unknown);
    }
    for (size_t i = all.n; rc == 0 && i > 1; i--) {
        char tmp[STORE_PLATE_MAX];
        size_t j = (size_t)rand() % i;
        memcpy(tmp, all.v[i - 1], sizeof tmp);
        memcpy(all.v[i - 1], all.v[j], sizeof tmp);
        memcpy(all.v[j], tmp, sizeof tmp);
    }
    for (; rc == 0 && k < all.n; k++)
        if ((rc = plate_typed(all.v[k], line)) == 0 && fprintf(f, "%s\n", line) < 0)
            rc = -1;
    if (f && fclose(f) != 0)
        rc = -1;
    free(all.v);
    *lines = k;
    return rc;
}

static int gen(const char *db, long long n, int trucks, const char *plates_out)
{
    static struct store_tow tw;
    static const enum rp_level order[3] = {RP_LEVEL_CORREGIMIENTO, RP_LEVEL_DISTRITO,
                                           RP_LEVEL_PROVINCIA};
    struct store *s = NULL;
    struct geo_ctx gc;
    struct geo_index *ix = NULL;
    struct rp_err err = {0};
    struct plates active = {0}, released = {0};
    int64_t yard_ids[NYARDS], *truck_ids = NULL;
    long long done = 0, seen_released = 0, by_status[4] = {0};
    time_t now = time(NULL);
    double t0 = now_s(), step_s = (double)GEN_SPAN_S / (double)n;
    size_t lines = 0;
    int rc;

    srand(GEN_SEED);
    rc = geo_ctx_init(&gc, &err);
    if (rc == RP_OK)
        rc = store_open(db, &s, &err);
    if (rc == RP_OK)
        rc = areas_index_load(s, &gc, &ix, &err);
    if (rc == RP_OK)
        rc = setup(s, trucks, yard_ids, &truck_ids, &err);
    while (rc == RP_OK && done < n) {
        rc = store_begin(s, &err);
        for (int i = 0; rc == RP_OK && i < GEN_BATCH && done < n; i++, done++) {
            struct geo_place p;
            int reached = 0;
            memset(&tw, 0, sizeof tw);
            rc = plate_draw(tw.plate, &err);
            pickup(ix, &gc, &tw.lon, &tw.lat, &p);
            for (int l = 0; l < 3; l++)
                snprintf(tw.area[l], sizeof tw.area[l], "%s",
                         p.area[order[l]] ? p.area[order[l]]->code : "");
            snprintf(tw.make, sizeof tw.make, "%s", PICK(makes));
            snprintf(tw.colour, sizeof tw.colour, "%s", PICK(colours));
            snprintf(tw.vehicle_type, sizeof tw.vehicle_type, "%s", PICK(types));
            snprintf(tw.address, sizeof tw.address, "%s", PICK(streets));
            snprintf(tw.reason, sizeof tw.reason, "%s", PICK(reasons));
            snprintf(tw.ticket, sizeof tw.ticket, "BOL-%08lld", done + 1);
            snprintf(tw.entity_code, sizeof tw.entity_code, "ATTT");
            tw.truck_id = truck_ids[rand() % trucks];
            tw.yard_id = yard_ids[nearest_yard(tw.lon, tw.lat)];
            if (rc == RP_OK)
                rc = tows_ticket_key(tw.ticket, tw.ticket_key, &err);
            if (rc == RP_OK)
                rc = tow_one(s, &tw, done, step_s, now, &reached, &err);
            if (rc != RP_OK)
                break;
            by_status[reached]++;
            if (reached < 3 && plates_add(&active, tw.plate) != 0)
                rc = rp_err_set(&err, RP_NO_MEMORY, "plates");
            if (reached == 3 && ++seen_released <= PLATES_SAMPLE) { /* a uniform sample */
                if (plates_add(&released, tw.plate) != 0)
                    rc = rp_err_set(&err, RP_NO_MEMORY, "plates");
            } else if (reached == 3 && rand() % seen_released < PLATES_SAMPLE) {
                snprintf(released.v[rand() % PLATES_SAMPLE], STORE_PLATE_MAX, "%s", tw.plate);
            }
        }
        rc = store_end(s, rc, &err);
    }
    geo_index_destroy(ix, &gc);
    store_close(s);
    geo_ctx_fini(&gc);
    free(truck_ids);
    if (rc == RP_OK && plates_write(plates_out, &active, &released, &lines) != 0)
        rc = rp_err_set(&err, RP_INTERNAL, "cannot write %s", plates_out);
    free(active.v);
    free(released.v);
    if (rc != RP_OK) {
        fprintf(stderr, "bench_tows gen: %s\n", err.msg);
        return 1;
    }
    printf("bench_tows gen: %lld tows (%lld requested, %lld towing, %lld at_yard, %lld released), "
           "%d trucks, %zu yards in %.1f s; %zu plates to look up in %s\n",
           done, by_status[0], by_status[1], by_status[2], by_status[3], trucks, NYARDS,
           now_s() - t0, lines, plates_out);
    return 0;
}

/* ---- feed ---- */

static atomic_int stopping; /* set by SIGTERM/SIGINT; lock-free, so safe in the handler */

static void on_stop(int sig)
{
    (void)sig;
    atomic_store(&stopping, 1);
}

struct feed {
    const char *host, *key;
    int port, trucks, index;
    double t0, end; /* CLOCK_REALTIME seconds */
    long posts, ok, bad, accepted, late;
    double *ms; /* each post's latency */
    size_t nms, cap;
};

struct reply {
    char buf[4096];
    size_t n;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct reply *r = ctx;
    size_t len = size * n, room = sizeof r->buf - 1 - r->n;

    memcpy(r->buf + r->n, p, len < room ? len : room);
    r->n += len < room ? len : room;
    return len;
}

static double real_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps until the CLOCK_REALTIME second t (in slices, to notice a stop); 0 when stopped. */
static int sleep_until(double t)
{
    for (;;) {
        double left = t - real_s();
        struct timespec ts;
        if (atomic_load(&stopping))
            return 0;
        if (left <= 0)
            return 1;
        left = left > 0.1 ? 0.1 : left;
        ts.tv_sec = (time_t)left;
        ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL);
    }
}

/* Trucks index, index + FEED_THREADS, ...: each posts its point of period k at t0 + its phase
 * + k periods, stamped with that due time (so a late post is never a duplicate). */
static void *feed_run(void *arg)
{
    struct feed *f = arg;
    unsigned seed = (unsigned)f->index + 1;
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char auth[256], url[256], at[STORE_TIME_MAX];
    double *lat = calloc((size_t)f->trucks, sizeof *lat),
           *lon = calloc((size_t)f->trucks, sizeof *lon);
    struct reply r;

    snprintf(auth, sizeof auth, "Authorization: Bearer %s", f->key);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    if (!c || !h || !lat || !lon) {
        f->bad++;
        goto done;
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    for (int i = f->index; i < f->trucks; i += FEED_THREADS) {
        lat[i] = 8.96 + 0.10 * rand_r(&seed) / RAND_MAX;
        lon[i] = -79.58 + 0.14 * rand_r(&seed) / RAND_MAX;
    }
    for (long k = 0;; k++)
        for (int i = f->index; i < f->trucks; i += FEED_THREADS) {
            double due = f->t0 + (double)i * FEED_PERIOD_S / f->trucks + (double)k * FEED_PERIOD_S;
            double t1;
            long status = 0;
            char *body;
            json_t *j;
            if (due >= f->end || !sleep_until(due))
                goto done;
            if (real_s() - due > FEED_LATE_MS / 1e3)
                f->late++;
            lat[i] += 0.0004 * ((double)rand_r(&seed) / RAND_MAX - 0.5); /* ~20 m in 5 s */
            lon[i] += 0.0004 * ((double)rand_r(&seed) / RAND_MAX - 0.5);
            iso((time_t)due, at);
            body = json_dumps(json_pack("{s:[{s:f, s:f, s:s, s:f, s:f}]}", "positions", "lat",
                                        lat[i], "lon", lon[i], "at", at, "speed_kmh",
                                        10.0 + 40.0 * rand_r(&seed) / RAND_MAX, "heading",
                                        360.0 * rand_r(&seed) / RAND_MAX),
                              JSON_COMPACT);
            snprintf(url, sizeof url, "http://%s:%d/api/v1/trucks/G-%04d/positions", f->host,
                     f->port, i + 1);
            r.n = 0;
            curl_easy_setopt(c, CURLOPT_URL, url);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
            t1 = now_s();
            f->posts++;
            if (body && curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
            if (f->nms == f->cap) {
                size_t cap = f->cap ? 2 * f->cap : 1024;
                double *v = realloc(f->ms, cap * sizeof *v);
                if (v)
                    f->ms = v, f->cap = cap;
            }
            if (f->nms < f->cap)
                f->ms[f->nms++] = (now_s() - t1) * 1e3;
            r.buf[r.n] = '\0';
            j = status / 100 == 2 ? json_loads(r.buf, 0, NULL) : NULL;
            if (j) {
                f->ok++;
                f->accepted += (long)json_integer_value(json_object_get(j, "accepted"));
            } else {
                f->bad++;
                if (f->bad <= 3)
                    fprintf(stderr, "bench_tows feed: %s -> %ld %s\n", url, status, r.buf);
            }
            json_decref(j);
            free(body);
        }
done:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(lat);
    free(lon);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int feed(const char *host, int port, const char *key, int trucks, double seconds)
{
    struct feed f[FEED_THREADS];
    pthread_t th[FEED_THREADS];
    struct sigaction sa;
    long posts = 0, ok = 0, bad = 0, accepted = 0, late = 0;
    double *ms = NULL, t0 = real_s(), took;
    size_t nms = 0;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    for (int i = 0; i < FEED_THREADS; i++) {
        memset(&f[i], 0, sizeof f[i]);
        f[i].host = host, f[i].key = key, f[i].port = port, f[i].trucks = trucks;
        f[i].index = i, f[i].t0 = t0, f[i].end = t0 + seconds;
        if (pthread_create(&th[i], NULL, feed_run, &f[i]) != 0)
            return 1;
    }
    for (int i = 0; i < FEED_THREADS; i++) {
        pthread_join(th[i], NULL);
        posts += f[i].posts, ok += f[i].ok, bad += f[i].bad, accepted += f[i].accepted;
        late += f[i].late;
        double *v = realloc(ms, (nms + f[i].nms + 1) * sizeof *v);
        if (v) {
            ms = v;
            memcpy(ms + nms, f[i].ms, f[i].nms * sizeof *ms);
            nms += f[i].nms;
        }
        free(f[i].ms);
    }
    took = real_s() - t0;
    qsort(ms, nms, sizeof *ms, cmp_double);
    printf("bench_tows feed: %ld posts of one point from %d trucks in %.1f s (%.1f/s), %ld "
           "points accepted, %ld non-2xx, %ld late by over %d ms, p50 %.1f ms, p99 %.1f ms\n",
           posts, trucks, took, (double)posts / took, accepted, bad, late, FEED_LATE_MS,
           nms ? ms[nms / 2] : 0.0, nms ? ms[nms * 99 / 100] : 0.0);
    free(ms);
    curl_global_cleanup();
    return bad || accepted != posts ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "gen") == 0 && atoll(argv[3]) > 0 && atoi(argv[4]) > 0 &&
        atoi(argv[4]) < 10000) {
        if (store_global_init() != RP_OK)
            return 1;
        return gen(argv[2], atoll(argv[3]), atoi(argv[4]), argv[5]);
    }
    if (argc == 7 && strcmp(argv[1], "feed") == 0 && atoi(argv[5]) > 0 && atoi(argv[5]) < 10000)
        return feed(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]), atof(argv[6]));
    fprintf(stderr, "usage: bench_tows gen DB N TRUCKS PLATES_OUT | "
                    "feed HOST PORT KEY TRUCKS SECONDS\n");
    return 2;
}
