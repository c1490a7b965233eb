/*
 * tests/it_crash.c - "SIGKILL at any moment loses nothing acknowledged and leaves nothing
 * inconsistent" (issue #20): seven client processes keep the server busy with every kind of
 * write - reports (with Idempotency-Keys, retried until answered), reports with photos and
 * photos added later, a tow operator's truck positions and tows, a staff crew moving its
 * entity's cases through the workflow - and one reads the statistics and a case tile meanwhile.
 * The server is killed with SIGKILL at a random moment 20 times and restarted on the same
 * database and media directory each time; the clients ride out the gaps (connection errors are
 * retried, only 2xx answers are written down, in shared memory). Then, live and after one more
 * restart: every acknowledged write is there; case numbers are unique, 1..N per year and match
 * their counter; PRAGMA integrity_check, the R*Trees and foreign keys are sound (SQLite); no
 * photo file without a row and no row without its files; the statistics tables of migrations
 * 0008/0009/0012 equal a GROUP BY over the cases and tows, and so do GET /api/v1/stats and the
 * z0 case tile. Before the last restart the statistics change log is given a busy day's
 * rows (SCORECARD_PRUNE_ROWS), so that start prunes it: SQLite numbered the log from 1 again
 * once it was emptied, and the scorecard in memory skipped every later change (the live stats
 * check failed). Each step prints what it tried and what held.
 * usage: it_crash PANAMA_DB   (REPORTA_BIN names the binary; CRASH_SEED=N repeats a run)
 */
#include <dirent.h>
#include <jansson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "images.h"
#include "it.h"
#include "server/scorecard.h"
#include "vector_tile.pb-c.h"

#define KILLS      20
#define RUN_MIN_MS 300  /* load between a server's first answer and its SIGKILL: a restart */
#define RUN_MAX_MS 1500 /* under ASan costs ~2 s, so 20 of them fit the ~90 s budget */
#define CLIENTS    7
#define ACKS_MAX   6000 /* per client; a run under ASan acknowledges up to ~1,500 each */
#define PHOTO_W    96
#define PHOTO_H    64
#define PANAMA_LAT 8.98
#define PANAMA_LON (-79.52)

enum client { REPORTS_A, REPORTS_B, PHOTOS_A, PHOTOS_B, TOWS, STAFF, VIEWER };

enum ack_kind { ACK_REPORT, ACK_PHOTO, ACK_POSITION, ACK_STATUS, ACK_TOW, ACK_KINDS };
static const char *const ack_names[ACK_KINDS] = {"reports", "photos", "truck positions",
                                                 "status changes", "tows"};

struct ack {
    char kind;        /* enum ack_kind */
    char case_no[15]; /* the case (reports, photos, status changes) */
    char what[80];    /* report: its entity; photo: sha256; position: "TRUCK AT";
                         status: "from>to"; tow: its id */
};

struct shared {    /* mmap'd before the clients fork; each client writes only its own slots */
    unsigned port; /* the server now answering; 0 while it is down */
    int stop;
    int replays; /* a retry answered 200: the first answer was lost in a crash */
    int reads;   /* statistics and tiles read by the viewer */
    int n[CLIENTS];
    struct ack v[CLIENTS][ACKS_MAX];
};

static struct shared *sh;
static char admin[128], staff[128], tow_key[128], staff_entity[32];
static time_t positions_t0; /* positions are timed from here, one second apart */

/* ---- the clients ---- */

/* The server to talk to now into s, or 0 (after a short pause) while there is none. */
static int server_now(struct it_server *s)
{
    unsigned port = __atomic_load_n(&sh->port, __ATOMIC_ACQUIRE);

    if (port == 0) {
        usleep(50 * 1000);
        return 0;
    }
    memset(s, 0, sizeof *s);
    s->port = port;
    return 1;
}

static int stopping(void) { return __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE); }

static void ack(int who, enum ack_kind kind, const char *case_no, const char *what)
{
    int n = sh->n[who];
    struct ack *a;

    if (n >= ACKS_MAX)
        return;
    a = &sh->v[who][n];
    a->kind = (char)kind;
    snprintf(a->case_no, sizeof a->case_no, "%s", case_no ? case_no : "");
    snprintf(a->what, sizeof a->what, "%s", what ? what : "");
    __atomic_store_n(&sh->n[who], n + 1, __ATOMIC_RELEASE);
}

/* One request with a body of content type ctype, Authorization from key, other headers. */
static int request(const struct it_server *s, const char *method, const char *path, const char *key,
                   const char *ctype, const char *body, size_t len, const char *h1, const char *h2,
                   struct it_reply *r)
{
    struct curl_slist *h = NULL;
    char line[256];
    int rc;

    if (key) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", key);
        h = curl_slist_append(h, line);
    }
    if (ctype) {
        snprintf(line, sizeof line, "Content-Type: %s", ctype);
        h = curl_slist_append(h, line);
    }
    if (h1)
        h = curl_slist_append(h, h1);
    if (h2)
        h = curl_slist_append(h, h2);
    rc = it_request(s, method, path, body, len, h, r);
    curl_slist_free_all(h);
    return rc;
}

/* Sends until some server answers other than 5xx, or the run stops: a lost answer is retried
 * as a real client retries (with the same Idempotency-Key, when the request has one). Returns
 * the status (0: stopped first); the body stays in r. */
static long send_until_answered(const char *method, const char *path, const char *key,
                                const char *ctype, const char *body, size_t len, const char *idem,
                                struct it_reply *r)
{
    struct it_server s;

    for (;;) {
        if (stopping())
            return 0;
        if (!server_now(&s))
            continue;
        if (request(&s, method, path, key, ctype, body, len, idem, NULL, r) == 0 && r->status < 500)
            return r->status;
        free(r->body);
        r->body = NULL;
        usleep(20 * 1000);
    }
}

/* The photos of a case in its JSON j, each written down as acknowledged. */
static void ack_photos(int who, const char *case_no, json_t *j)
{
    json_t *p;
    size_t i;

    json_array_foreach(json_object_get(j, "photos"), i, p)
    {
        const char *url = json_string_value(json_object_get(p, "url"));
        if (url && strncmp(url, "/media/", 7) == 0 && strlen(url) >= 7 + 64) {
            char sha[65];
            memcpy(sha, url + 7, 64);
            sha[64] = '\0';
            ack(who, ACK_PHOTO, case_no, sha);
        }
    }
}

/* A created (201) or replayed (200) case: its number and entity written down. */
static json_t *ack_case(int who, long status, const struct it_reply *r)
{
    json_t *j = (status == 200 || status == 201) ? it_json(r) : NULL;
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *entity = json_string_value(
        json_object_get(json_object_get(json_object_get(j, "routing"), "entity"), "code"));

    if (!id) {
        json_decref(j);
        return NULL;
    }
    ack(who, ACK_REPORT, id, entity);
    if (status == 200)
        __atomic_fetch_add(&sh->replays, 1, __ATOMIC_RELAXED);
    return j;
}

static void client_reports(int who)
{
    static const char *const services[] = {"basura", "hueco", "fuga_agua", "basura"};

    for (int i = 0; !stopping(); i++) {
        char body[256], idem[80];
        struct it_reply r = {0};
        long st;
        snprintf(body, sizeof body,
                 "{\"service_code\":\"%s\",\"lat\":%.5f,\"lon\":%.5f,\"description\":\"r%d-%d\"}",
                 services[i % 4], PANAMA_LAT + 0.0002 * who + 0.00001 * (i % 300),
                 PANAMA_LON - 0.00001 * (i % 500), who, i);
        snprintf(idem, sizeof idem, "Idempotency-Key: crash-%d-%d-%d", (int)getppid(), who, i);
        st = send_until_answered("POST", "/api/v1/reports", NULL, "application/json", body,
                                 strlen(body), idem, &r);
        json_decref(ack_case(who, st, &r));
        free(r.body);
    }
}

/* A JPEG of (who, seed): a different one for each of the few thousand seeds a run uses. */
static unsigned char *photo_of(int who, int seed, size_t *len)
{
    unsigned char *px = malloc(PHOTO_W * PHOTO_H * 3), *jpg;

    for (int y = 0; y < PHOTO_H; y++)
        for (int x = 0; x < PHOTO_W; x++) {
            unsigned char *p = px + ((size_t)y * PHOTO_W + x) * 3;
            p[0] = (unsigned char)(seed * 7 + x);
            p[1] = (unsigned char)((seed >> 5) * 11 + y);
            p[2] = (unsigned char)(who * 60 + (x ^ y));
        }
    jpg = jpeg_of(px, PHOTO_W, PHOTO_H, len);
    free(px);
    return jpg;
}

/* multipart/form-data: a `report` part (NULL: none) and n `photo` parts */
static char *form(const char *report, unsigned char *const *photo, const size_t *plen, int n,
                  size_t *len)
{
    size_t cap = 2048 + (report ? strlen(report) : 0), k = 0;
    char *b;

    for (int i = 0; i < n; i++)
        cap += plen[i] + 256;
    b = malloc(cap);
    if (report)
        k += (size_t)sprintf(b + k,
                             "--BOUNDARY\r\nContent-Disposition: form-data; name=\"report\"\r\n"
                             "Content-Type: application/json\r\n\r\n%s\r\n",
                             report);
    for (int i = 0; i < n; i++) {
        k += (size_t)sprintf(b + k,
                             "--BOUNDARY\r\nContent-Disposition: form-data; name=\"photo\"; "
                             "filename=\"p%d.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
                             i);
        memcpy(b + k, photo[i], plen[i]);
        k += plen[i];
        k += (size_t)sprintf(b + k, "\r\n");
    }
    k += (size_t)sprintf(b + k, "--BOUNDARY--\r\n");
    *len = k;
    return b;
}

#define MULTIPART "multipart/form-data; boundary=BOUNDARY"

/* Reports with one or two photos (every third repeats the previous photo: one file, two
 * rows), and now and then a photo added later with the reporter's token (sent once: a photo
 * added is not idempotent, so a lost answer is not retried). */
static void client_photos(int who)
{
    unsigned char *prev = NULL;
    size_t prev_len = 0;

    for (int i = 0; !stopping(); i++) {
        unsigned char *ph[2];
        size_t pl[2], len;
        char report[256], idem[80], *body;
        struct it_reply r = {0};
        int n = 1;
        long st;
        json_t *j;

        ph[0] = photo_of(who, i, &pl[0]);
        if (prev && i % 3 == 0) {
            ph[1] = prev;
            pl[1] = prev_len;
            n = 2;
        }
        snprintf(report, sizeof report,
                 "{\"service_code\":\"%s\",\"lat\":%.5f,\"lon\":%.5f,\"description\":\"p%d-%d\"}",
                 i % 2 ? "hueco" : "basura", PANAMA_LAT - 0.0002 * who,
                 PANAMA_LON + 0.00001 * (i % 400), who, i);
        snprintf(idem, sizeof idem, "Idempotency-Key: crash-%d-%d-%d", (int)getppid(), who, i);
        body = form(report, ph, pl, n, &len);
        st = send_until_answered("POST", "/api/v1/reports", NULL, MULTIPART, body, len, idem, &r);
        free(body);
        j = ack_case(who, st, &r);
        free(r.body);
        if (j) {
            const char *id = json_string_value(json_object_get(j, "id"));
            const char *token = json_string_value(json_object_get(j, "token"));
            struct it_server s;
            ack_photos(who, id, j);
            if (i % 4 == 1 && token && server_now(&s)) {
                unsigned char *later;
                size_t later_len;
                char path[64], hdr[160];
                later = photo_of(who, i + 1000000, &later_len);
                body = form(NULL, &later, &later_len, 1, &len);
                snprintf(path, sizeof path, "/api/v1/reports/%s/photos", id);
                snprintf(hdr, sizeof hdr, "X-Report-Token: %s", token);
                if (request(&s, "POST", path, NULL, MULTIPART, body, len, hdr, NULL, &r) == 0 &&
                    r.status == 201) {
                    json_t *k = it_json(&r);
                    ack_photos(who, id, k);
                    json_decref(k);
                }
                free(r.body);
                free(body);
                free(later);
            }
            json_decref(j);
        }
        free(prev);
        prev = ph[0];
        prev_len = pl[0];
    }
    free(prev);
}

/* A truck's positions, one a request (a retry of a committed one comes back a duplicate: it is
 * there all the same), and every tenth round a tow. */
static void client_tows(int who)
{
    for (int i = 0; !stopping(); i++) {
        char body[512], at[40], what[80];
        struct it_reply r = {0};
        time_t t = positions_t0 + i;
        struct tm tm;
        long st;
        json_t *j;

        gmtime_r(&t, &tm);
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(at + strlen(at), sizeof at - strlen(at), ".%03dZ", (i * 7) % 1000);
        snprintf(body, sizeof body,
                 "{\"positions\":[{\"lat\":%.5f,\"lon\":%.5f,\"at\":\"%s\",\"speed_kmh\":20}]}",
                 PANAMA_LAT + 0.00003 * (i % 100), PANAMA_LON, at);
        st = send_until_answered("POST", "/api/v1/trucks/CR-1/positions", tow_key,
                                 "application/json", body, strlen(body), NULL, &r);
        j = st == 200 ? it_json(&r) : NULL;
        if (j && json_integer_value(json_object_get(j, "accepted")) +
                         json_integer_value(json_object_get(j, "duplicates")) ==
                     1) {
            snprintf(what, sizeof what, "CR-1 %s", at);
            ack(who, ACK_POSITION, NULL, what);
        }
        json_decref(j);
        free(r.body);
        memset(&r, 0, sizeof r);
        if (i % 10 == 5) {
            struct it_server s;
            snprintf(body, sizeof body,
                     "{\"plate\":\"CR%05d\",\"lat\":%.5f,\"lon\":%.5f,\"reason\":\"obstruye\","
                     "\"ticket\":\"B-CR-%d\",\"truck\":\"CR-1\",\"yard\":\"PATIO-CR\"}",
                     i, PANAMA_LAT + 0.001 * (i % 50), PANAMA_LON, i);
            /* not idempotent: sent once */
            if (server_now(&s) &&
                request(&s, "POST", "/api/v1/tows", tow_key, "application/json", body, strlen(body),
                        NULL, NULL, &r) == 0 &&
                r.status == 201 && (j = it_json(&r)) != NULL) {
                snprintf(what, sizeof what, "%lld",
                         (long long)json_integer_value(json_object_get(j, "id")));
                ack(who, ACK_TOW, NULL, what);
                json_decref(j);
            }
            free(r.body);
        }
    }
}

/* One status change of case_no, sent once (a lost answer leaves the case's status unknown,
 * so the crew leaves that case). 1 when acknowledged. */
static int move(int who, const char *case_no, const char *from, const char *to)
{
    struct it_server s;
    struct it_reply r = {0};
    char path[64], body[128], what[40];
    int ok;

    while (!server_now(&s))
        if (stopping())
            return 0;
    snprintf(path, sizeof path, "/api/v1/reports/%s/status", case_no);
    snprintf(body, sizeof body, "{\"status\":\"%s\",\"note\":\"cuadrilla\"}", to);
    ok = request(&s, "POST", path, staff, "application/json", body, strlen(body), NULL, NULL, &r) ==
             0 &&
         r.status == 200;
    if (ok) {
        snprintf(what, sizeof what, "%s>%s", from, to);
        ack(who, ACK_STATUS, case_no, what);
    }
    free(r.body);
    return ok;
}

/* The crew of the entity takes the cases routed to it as the other clients get them
 * acknowledged: rejects some, takes the rest through in_progress (some by way of assigned) to
 * resolved and some on to closed, with an "after" photo now and then. */
static void client_staff(int who)
{
    int seen[CLIENTS] = {0}, k = 0;

    while (!stopping()) {
        int found = 0;
        for (int c = 0; c < STAFF && !stopping(); c++) {
            int n = __atomic_load_n(&sh->n[c], __ATOMIC_ACQUIRE);
            for (; seen[c] < n && !found; seen[c]++) {
                const struct ack *a = &sh->v[c][seen[c]];
                char case_no[16];
                if (a->kind != ACK_REPORT || strcmp(a->what, staff_entity) != 0)
                    continue;
                found = 1;
                snprintf(case_no, sizeof case_no, "%s", a->case_no);
                if (k % 5 == 0) {
                    move(who, case_no, "received", "rejected");
                } else if (k % 5 == 2 ? move(who, case_no, "received", "assigned") &&
                                            move(who, case_no, "assigned", "in_progress")
                                      : move(who, case_no, "received", "in_progress")) {
                    struct it_server s;
                    if (k % 4 == 1 && server_now(&s)) {
                        size_t plen, len;
                        unsigned char *ph = photo_of(who, k, &plen);
                        char *body = form(NULL, &ph, &plen, 1, &len), path[64];
                        struct it_reply r = {0};
                        snprintf(path, sizeof path, "/api/v1/reports/%s/photos", case_no);
                        if (request(&s, "POST", path, staff, MULTIPART, body, len, NULL, NULL,
                                    &r) == 0 &&
                            r.status == 201) {
                            json_t *j = it_json(&r);
                            ack_photos(who, case_no, j);
                            json_decref(j);
                        }
                        free(r.body);
                        free(body);
                        free(ph);
                    }
                    if (move(who, case_no, "in_progress", "resolved") && k % 3 == 0)
                        move(who, case_no, "resolved", "closed");
                }
                k++;
            }
        }
        if (!found)
            usleep(30 * 1000);
    }
}

/* A dashboard: the statistics and the country's case tile, read while the writes go on (the
 * scorecard follows its change log, the case map its changes). */
static void client_viewer(int who)
{
    (void)who;
    while (!stopping()) {
        struct it_server s;
        struct it_reply r = {0};
        if (!server_now(&s))
            continue;
        if (it_get(&s, "/api/v1/stats?group=entity", &r) == 0 && r.status == 200)
            __atomic_fetch_add(&sh->reads, 1, __ATOMIC_RELAXED);
        free(r.body);
        if (it_get(&s, "/tiles/cases/0/0/0.mvt", &r) == 0 && r.status == 200)
            __atomic_fetch_add(&sh->reads, 1, __ATOMIC_RELAXED);
        free(r.body);
        usleep(150 * 1000);
    }
}

static void client(int who)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    switch ((enum client)who) {
    case REPORTS_A:
    case REPORTS_B:
        client_reports(who);
        break;
    case PHOTOS_A:
    case PHOTOS_B:
        client_photos(who);
        break;
    case TOWS:
        client_tows(who);
        break;
    case STAFF:
        client_staff(who);
        break;
    case VIEWER:
        client_viewer(who);
        break;
    }
    curl_global_cleanup();
    _exit(0);
}

/* ---- the checks ---- */

/* Rows as sorted strings "col1 col2 ...", for looking acknowledgements up. */
struct rowset {
    char **v;
    size_t n, cap;
};

static void rowset_add(void *ctx, int nc, const char *const *vals)
{
    struct rowset *rs = ctx;
    char line[256];
    size_t k = 0;

    line[0] = '\0';
    for (int i = 0; i < nc && k < sizeof line; i++)
        k += (size_t)snprintf(line + k, sizeof line - k, "%s%s", i ? " " : "",
                              vals[i] ? vals[i] : "");
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 1024;
        rs->v = realloc(rs->v, rs->cap * sizeof *rs->v);
    }
    rs->v[rs->n++] = strdup(line);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void rowset_load(struct rowset *rs, const char *db, const char *sql)
{
    memset(rs, 0, sizeof *rs);
    CHECK(it_query(db, sql, rowset_add, rs) >= 0);
    if (rs->n)
        qsort(rs->v, rs->n, sizeof *rs->v, cmp_str);
}

static int rowset_has(const struct rowset *rs, const char *key)
{
    return rs->n && bsearch(&key, rs->v, rs->n, sizeof *rs->v, cmp_str) != NULL;
}

static void rowset_free(struct rowset *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->v[i]);
    free(rs->v);
}

/* Every acknowledged write of every kind is in the database. */
static void check_acks(const char *db)
{
    static const char *const sql[ACK_KINDS] = {
        [ACK_REPORT] = "SELECT case_no FROM reports",
        [ACK_PHOTO] =
            "SELECT r.case_no, p.sha256 FROM photos p JOIN reports r ON r.id = p.report_id",
        [ACK_POSITION] =
            "SELECT t.code, p.at FROM truck_positions p JOIN trucks t ON t.id = p.truck_id",
        [ACK_STATUS] = "SELECT r.case_no, h.from_value || '>' || h.to_value FROM report_history h"
                       " JOIN reports r ON r.id = h.report_id WHERE h.kind = 'status'",
        [ACK_TOW] = "SELECT id FROM tows",
    };
    struct rowset rs[ACK_KINDS];
    long acked[ACK_KINDS] = {0}, missing[ACK_KINDS] = {0};

    for (int k = 0; k < ACK_KINDS; k++)
        rowset_load(&rs[k], db, sql[k]);
    for (int c = 0; c < CLIENTS; c++)
        for (int i = 0; i < sh->n[c]; i++) {
            const struct ack *a = &sh->v[c][i];
            char key[128];
            if (a->kind == ACK_REPORT)
                snprintf(key, sizeof key, "%s", a->case_no);
            else if (a->kind == ACK_PHOTO || a->kind == ACK_STATUS)
                snprintf(key, sizeof key, "%s %s", a->case_no, a->what);
            else
                snprintf(key, sizeof key, "%s", a->what);
            acked[(int)a->kind]++;
            if (!rowset_has(&rs[(int)a->kind], key) && missing[(int)a->kind]++ < 5)
                CHECK_REPORT("acknowledged %s, not in the database: %s", ack_names[(int)a->kind],
                             key);
        }
    for (int k = 0; k < ACK_KINDS; k++) {
        fprintf(stderr, "   %-15s %6ld acknowledgements, %ld missing (%zu rows)\n", ack_names[k],
                acked[k], missing[k], rs[k].n);
        CHECK(acked[k] > 0);
        CHECK_INT_EQ(missing[k], 0);
        rowset_free(&rs[k]);
    }
}

static long count_of(const char *db, const char *sql)
{
    struct it_server s;

    memset(&s, 0, sizeof s);
    snprintf(s.db, sizeof s.db, "%s", db);
    return it_sql_count(&s, sql);
}

static void print_row(void *ctx, int nc, const char *const *v)
{
    char line[512];
    size_t k = 0;

    line[0] = '\0';
    for (int i = 0; i < nc && k < sizeof line; i++)
        k += (size_t)snprintf(line + k, sizeof line - k, "%s%s", i ? "|" : "", v[i] ? v[i] : "");
    if ((*(long *)ctx)++ < 3)
        fprintf(stderr, "      %s\n", line);
}

/* The rows of query a and not of b, and of b and not of a: 0 when they are the same set. */
static long differ(const char *db, const char *what, const char *a, const char *b)
{
    char sql[4096];
    long n = 0;

    for (int dir = 0; dir < 2; dir++) {
        long shown = 0, rows;
        snprintf(sql, sizeof sql, "SELECT * FROM (%s) a EXCEPT SELECT * FROM (%s) b", dir ? b : a,
                 dir ? a : b);
        rows = it_query(db, sql, print_row, &shown);
        if (rows > 0)
            fprintf(stderr, "   %s: %ld rows only in the %s (first above)\n", what, rows,
                    dir ? "recount" : "table");
        n += rows < 0 ? 1 : rows;
    }
    return n;
}

#define AREA_KEYS \
    "coalesce(provincia_code, ''), coalesce(distrito_code, ''), coalesce(corregimiento_code, '')"
#define CASE_KEYS "date(created_at, '-5 hours'), entity_code, service_code, " AREA_KEYS
#define TABLE_KEYS \
    "day, entity_code, service_code, provincia_code, distrito_code, corregimiento_code"

/* The statistics tables of migrations 0008, 0009 and 0012 against a recount of the cases and
 * tows, row by row. */
static void check_aggregates(const char *db)
{
    static const struct {
        const char *table, *rows, *recount;
    } agg[] = {
        {"stats_daily",
         "SELECT " TABLE_KEYS ", received, open, closed, closed_in_sla, confirmations, ratings,"
         " rating_sum, followed_up FROM stats_daily",
         "SELECT " CASE_KEYS ", count(*), sum(closed_at IS NULL), sum(closed_at IS NOT NULL),"
         " sum(closed_at IS NOT NULL AND closed_at <= due_at), CAST(sum(confirmations) AS BIGINT),"
         " sum(rating IS NOT NULL), CAST(coalesce(sum(rating), 0) AS BIGINT),"
         " sum(followed_up_at IS NOT NULL AND"
         " unixepoch(followed_up_at) - unixepoch(created_at) <= 2592000)"
         " FROM reports GROUP BY 1, 2, 3, 4, 5, 6"},
        {"stats_close_hours", "SELECT " TABLE_KEYS ", hours, n FROM stats_close_hours",
         "SELECT " CASE_KEYS ", (unixepoch(closed_at) - unixepoch(created_at)) / 3600, count(*)"
         " FROM reports WHERE closed_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7"},
        {"stats_open_due", "SELECT " TABLE_KEYS ", due_at, n FROM stats_open_due",
         "SELECT " CASE_KEYS ", due_at, count(*) FROM reports WHERE closed_at IS NULL"
         " GROUP BY 1, 2, 3, 4, 5, 6, 7"},
        {"stats_tows_daily", /* 0009 leaves a row at zero when a tow moves away from it */
         "SELECT day, provincia_code, distrito_code, corregimiento_code, tows"
         " FROM stats_tows_daily WHERE tows <> 0",
         "SELECT date(created_at, '-5 hours'), " AREA_KEYS ", count(*) FROM tows"
         " GROUP BY 1, 2, 3, 4"},
    };
    char sql[512];

    for (size_t i = 0; i < sizeof agg / sizeof agg[0]; i++) {
        long d = differ(db, agg[i].table, agg[i].rows, agg[i].recount);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM (%s) x", agg[i].rows);
        fprintf(stderr, "   %-17s %4ld rows, equal to a GROUP BY recount: %s\n", agg[i].table,
                count_of(db, sql), d == 0 ? "yes" : "NO");
        CHECK_INT_EQ(d, 0);
    }
    /* what the aggregates are computed from: each case's history */
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM reports r WHERE coalesce(followed_up_at, '')"
                              " <> coalesce((SELECT min(h.at) FROM report_history h WHERE"
                              " h.report_id = r.id AND h.kind IN ('status', 'transfer', 'tow')),"
                              " '')"),
                 0);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM reports r WHERE r.status <> coalesce((SELECT"
                              " h.to_value FROM report_history h WHERE h.report_id = r.id AND"
                              " h.kind = 'status' ORDER BY h.id DESC LIMIT 1), 'received')"),
                 0);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM reports r WHERE (SELECT count(*) FROM"
                              " report_history h WHERE h.report_id = r.id AND"
                              " h.kind = 'created') <> 1"),
                 0);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM reports WHERE (closed_at IS NULL) <>"
                              " (status IN ('received', 'assigned', 'in_progress'))"),
                 0);
    fprintf(stderr, "   each case's status, closed_at and first news agree with its history\n");
}

/* Case numbers YYYY-NNNNNN: none twice, 1..N in each year with none skipped, and the year's
 * counter at N. */
static void check_case_numbers(const char *db)
{
    long cases = count_of(db, "SELECT count(*) FROM reports");

    CHECK_INT_EQ(count_of(db, "SELECT count(*) - count(DISTINCT case_no) FROM reports"), 0);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM (SELECT count(*) AS n,"
                              " min(CAST(substr(case_no, 6) AS INTEGER)) AS lo,"
                              " max(CAST(substr(case_no, 6) AS INTEGER)) AS hi FROM reports"
                              " GROUP BY substr(case_no, 1, 4)) y WHERE lo <> 1 OR hi <> n"),
                 0);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM case_counters c WHERE c.last <> (SELECT"
                              " count(*) FROM reports WHERE substr(case_no, 1, 4) ="
                              " CAST(c.year AS TEXT))"),
                 0);
    /* every request has its own description: a retry that made a second case shows here */
    CHECK_INT_EQ(count_of(db, "SELECT count(*) - count(DISTINCT description) FROM reports"), 0);
    fprintf(stderr,
            "   %ld cases: numbers unique, 1..N in each year, counters at N; no request "
            "made two\n",
            cases);
}

static void one_text(void *ctx, int nc, const char *const *v)
{
    if (nc > 0)
        snprintf(ctx, 64, "%s", v[0] ? v[0] : "(null)");
}

/* SQLite's own checks of the file: pages, indexes, both R*Trees, foreign keys. */
static void check_sqlite_file(const char *db)
{
    static const char *const checks[] = {"PRAGMA integrity_check",
                                         "SELECT rtreecheck('idx_reports_geom')",
                                         "SELECT rtreecheck('idx_areas_geom')"};
    char got[64];

    if (strncmp(db, "postgresql://", 13) == 0) {
        fprintf(stderr, "   PostgreSQL: integrity_check and rtreecheck are SQLite's; skipped\n");
        return;
    }
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        snprintf(got, sizeof got, "?");
        CHECK(it_query(db, checks[i], one_text, got) >= 1);
        CHECK_STR_EQ(got, "ok");
        fprintf(stderr, "   %s: %s\n", checks[i], got);
    }
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    CHECK_INT_EQ(count_of(db, "SELECT count(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM"
                              " idx_reports_geom g WHERE g.pkid = r.id)"),
                 0);
    fprintf(stderr, "   foreign_key_check: no rows; every case is in idx_reports_geom\n");
}

/* The media directory against the photos table: every file named by a row (nothing the sweep
 * should have removed is left), both files of every row there. */
struct media_walk {
    const struct rowset *shas;
    long files, orphans;
};

static void walk(const char *dir, int depth, struct media_walk *w)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    CHECK(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        char path[1024], sha[65];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 2) {
            walk(path, depth + 1, w);
            continue;
        }
        w->files++;
        snprintf(sha, sizeof sha, "%.64s", e->d_name);
        if (depth != 2 || strlen(e->d_name) < 68 ||
            (strcmp(e->d_name + 64, ".jpg") != 0 && strcmp(e->d_name + 64, "_t.jpg") != 0) ||
            !rowset_has(w->shas, sha)) {
            if (w->orphans++ < 5)
                CHECK_REPORT("%s: no photo row names it", path);
        }
    }
    if (d)
        closedir(d);
}

static void check_media(const char *db, const char *media)
{
    struct rowset shas;
    struct media_walk w = {&shas, 0, 0};
    long missing = 0;

    rowset_load(&shas, db, "SELECT DISTINCT sha256 FROM photos");
    walk(media, 0, &w);
    for (size_t i = 0; i < shas.n; i++) {
        char path[1024];
        struct stat st;
        for (int t = 0; t < 2; t++) {
            snprintf(path, sizeof path, "%s/%.2s/%.2s/%s%s", media, shas.v[i], shas.v[i] + 2,
                     shas.v[i], t ? "_t.jpg" : ".jpg");
            if ((stat(path, &st) != 0 || st.st_size == 0) && missing++ < 5)
                CHECK_REPORT("photo row %s: %s is missing", shas.v[i], path);
        }
    }
    fprintf(stderr,
            "   media: %ld files for %zu photos (%ld photo rows): %ld orphans, %ld missing\n",
            w.files, shas.n, count_of(db, "SELECT count(*) FROM photos"), w.orphans, missing);
    CHECK(shas.n > 0);
    CHECK_INT_EQ(w.files, 2 * (long)shas.n);
    CHECK_INT_EQ(w.orphans, 0);
    CHECK_INT_EQ(missing, 0);
    rowset_free(&shas);
}

/* GET /api/v1/stats by entity and service against a GROUP BY over the cases. */
static void check_stats_api(const struct it_server *s, const char *db)
{
    static const char *const fields[] = {"received",
                                         "open",
                                         "closed",
                                         "closed_within_sla",
                                         "confirmations",
                                         "ratings",
                                         "followed_up_within_30_days"};
    struct rowset truth, said;
    struct it_reply r;
    json_t *j, *g;
    size_t i, bad = 0;

    rowset_load(&truth, db,
                "SELECT entity_code, service_code, count(*), sum(closed_at IS NULL),"
                " sum(closed_at IS NOT NULL), sum(closed_at IS NOT NULL AND closed_at <= due_at),"
                " CAST(sum(confirmations) AS BIGINT), sum(rating IS NOT NULL),"
                " sum(followed_up_at IS NOT NULL AND"
                " unixepoch(followed_up_at) - unixepoch(created_at) <= 2592000)"
                " FROM reports GROUP BY 1, 2");
    memset(&said, 0, sizeof said);
    CHECK(it_get(s, "/api/v1/stats?group=entity&group=service", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    j = it_json(&r);
    json_array_foreach(json_object_get(j, "groups"), i, g)
    {
        const char *v[9];
        char num[7][24];
        v[0] = json_string_value(json_object_get(g, "entity"));
        v[1] = json_string_value(json_object_get(g, "service"));
        for (int k = 0; k < 7; k++) {
            snprintf(num[k], sizeof num[k], "%lld",
                     (long long)json_integer_value(json_object_get(g, fields[k])));
            v[2 + k] = num[k];
        }
        rowset_add(&said, 9, v);
    }
    json_decref(j);
    free(r.body);
    qsort(said.v, said.n, sizeof *said.v, cmp_str);
    for (i = 0; i < truth.n || i < said.n; i++)
        if (i >= truth.n || i >= said.n || strcmp(truth.v[i], said.v[i]) != 0) {
            if (bad++ < 3)
                CHECK_REPORT("stats group: the API says \"%s\", the cases \"%s\"",
                             i < said.n ? said.v[i] : "-", i < truth.n ? truth.v[i] : "-");
        }
    fprintf(stderr, "   GET /api/v1/stats: %zu entity x service groups, equal to a recount: %s\n",
            said.n, bad ? "NO" : "yes");
    CHECK_INT_EQ(bad, 0);
    rowset_free(&truth);
    rowset_free(&said);
}

static const VectorTile__Tile__Value *value_of(const VectorTile__Tile__Layer *l,
                                               const VectorTile__Tile__Feature *f, const char *key)
{
    for (size_t i = 0; i + 1 < f->n_tags; i += 2)
        if (f->tags[i] < l->n_keys && strcmp(l->keys[f->tags[i]], key) == 0 &&
            f->tags[i + 1] < l->n_values)
            return l->values[f->tags[i + 1]];
    return NULL;
}

/* The z0 case tile (every open case, clustered) against a count of the open cases by status. */
static void check_case_tile(const struct it_server *s, const char *db)
{
    static const char *const open[] = {"received", "assigned", "in_progress"};
    long tile[3] = {0}, cases[3];
    struct it_reply r;
    VectorTile__Tile *t;

    CHECK(it_get(s, "/tiles/cases/0/0/0.mvt", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    t = vector_tile__tile__unpack(NULL, r.len, (const uint8_t *)r.body);
    CHECK(t != NULL);
    for (size_t i = 0; t && i < t->n_layers; i++) {
        const VectorTile__Tile__Layer *l = t->layers[i];
        for (size_t f = 0; strcmp(l->name, "cases") == 0 && f < l->n_features; f++) {
            const VectorTile__Tile__Value *st = value_of(l, l->features[f], "status");
            for (int k = 0; k < 3; k++) {
                const VectorTile__Tile__Value *c = value_of(l, l->features[f], open[k]);
                if (c) /* a cluster */
                    tile[k] += (long)c->sint_value;
                else if (st && st->string_value && strcmp(st->string_value, open[k]) == 0)
                    tile[k]++;
            }
        }
    }
    if (t)
        vector_tile__tile__free_unpacked(t, NULL);
    free(r.body);
    for (int k = 0; k < 3; k++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM reports WHERE status = '%s'", open[k]);
        cases[k] = count_of(db, sql);
        CHECK_INT_EQ(tile[k], cases[k]);
    }
    fprintf(stderr,
            "   z0 case tile: %ld received, %ld assigned, %ld in_progress; the cases table: "
            "%ld, %ld, %ld\n",
            tile[0], tile[1], tile[2], cases[0], cases[1], cases[2]);
}

/* ---- the run ---- */

/* "media: removed N photo files" in a server's log: what its startup sweep found. */
static long swept(const struct it_server *s)
{
    char line[1024];
    long n = 0, k;
    FILE *fp = fopen(s->log, "r");

    while (fp && fgets(line, sizeof line, fp)) {
        const char *p = strstr(line, "media: removed ");
        if (p && sscanf(p, "media: removed %ld", &k) == 1)
            n += k;
    }
    if (fp)
        fclose(fp);
    return n;
}

/* A busy day between two restarts: SCORECARD_PRUNE_ROWS changes in the statistics change log
 * (rows naming a case, as its triggers write them), so the next start reads and prunes it. */
static void grow_change_log(const char *db)
{
    struct it_server s;
    char sql[400];

    memset(&s, 0, sizeof s);
    snprintf(s.db, sizeof s.db, "%s", db);
    snprintf(sql, sizeof sql,
             "INSERT INTO stats_log (report_id) SELECT (SELECT min(id) FROM reports) FROM"
             " (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " SELECT i FROM n) t",
             SCORECARD_PRUNE_ROWS);
    it_sql(&s, sql);
    fprintf(stderr, "   before the last restart: %ld rows in the statistics change log\n",
            it_sql_count(&s, "SELECT count(*) FROM stats_log"));
}

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void publish(unsigned port) { __atomic_store_n(&sh->port, port, __ATOMIC_RELEASE); }

/* The first server: keys, a yard and a truck, and the entity the crew works for (where the
 * clients' basura reports go). */
static int setup(struct it_server *s)
{
    struct it_reply r;
    json_t *j;
    const char *e;

    if (it_key_create(s, "admin", NULL, "crash admin", admin, sizeof admin) != 0 ||
        it_key_create(s, "tow_operator", "ATTT", "crash grúas", tow_key, sizeof tow_key) != 0)
        return -1;
    CHECK(it_send(s, "PUT", "/api/v1/yards/PATIO-CR", admin,
                  "{\"name\":\"Patio de prueba\",\"address\":\"Vista Alegre\",\"lat\":8.93,"
                  "\"lon\":-79.65,\"radius_m\":150,\"hours\":{\"es\":\"24 horas\",\"en\":\"24 h\"},"
                  "\"fees\":{\"tow_cents\":2500,\"daily_cents\":500},"
                  "\"documents\":{\"es\":\"Cédula\",\"en\":\"ID\"}}",
                  &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    free(r.body);
    CHECK(it_send(s, "PUT", "/api/v1/trucks/CR-1", admin,
                  "{\"entity\":\"ATTT\",\"plate\":\"CR-0001\"}", &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    free(r.body);
    CHECK(it_send(s, "GET", "/api/v1/route?service_code=basura&lat=8.98&lon=-79.52", NULL, NULL,
                  &r) == 0);
    j = it_json(&r);
    e = json_string_value(
        json_object_get(json_object_get(json_object_get(j, "routing"), "entity"), "code"));
    snprintf(staff_entity, sizeof staff_entity, "%s", e ? e : "");
    json_decref(j);
    free(r.body);
    if (!staff_entity[0]) {
        fprintf(stderr, "no entity for basura at 8.98,-79.52: %ld\n", r.status);
        return -1;
    }
    return it_key_create(s, "staff", staff_entity, "crash cuadrilla", staff, sizeof staff);
}

static void test_sigkill_at_random_moments_loses_nothing(const char *panama_db)
{
    struct it_server first, s, again;
    char media[] = "/tmp/reporta-crash-XXXXXX", media_arg[96], db_arg[160], db[128], cmd[160];
    pid_t pids[CLIENTS];
    long stray = 0;
    unsigned seed = getenv("CRASH_SEED") ? (unsigned)atoi(getenv("CRASH_SEED"))
                                         : (unsigned)time(NULL) ^ (unsigned)getpid();
    int kills = 0, pg;
    double restart_s = 0;
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED && mkdtemp(media) != NULL);
    if (sh == MAP_FAILED)
        return;
    memset(sh, 0, sizeof *sh);
    snprintf(media_arg, sizeof media_arg, "--media=%s", media);
    {
        char *extra[] = {media_arg, NULL};
        CHECK(it_start(&first, panama_db, extra) == 0);
    }
    snprintf(db, sizeof db, "%s", first.db); /* every later server: this database, this media */
    snprintf(db_arg, sizeof db_arg, "--db=%s", db);
    pg = strncmp(db, "postgresql://", 13) == 0;
    fprintf(stderr, "   seed %u, %s, media %s\n", seed, pg ? "PostgreSQL" : "SpatiaLite file",
            media);
    if (setup(&first) != 0) {
        CHECK_REPORT("%s", "setup failed");
        it_stop(&first, SIGTERM);
        return;
    }
    positions_t0 = time(NULL) - 3 * 3600;
    for (int c = 0; c < CLIENTS; c++) {
        pids[c] = fork();
        if (pids[c] == 0)
            client(c);
    }
    s = first;
    s.pid = first.pid;
    for (int k = 0; k <= KILLS; k++) {
        char *extra[] = {db_arg, media_arg, NULL};
        unsigned run_ms = RUN_MIN_MS + (unsigned)(rand_r(&seed) % (RUN_MAX_MS - RUN_MIN_MS));
        publish(s.port);
        usleep(run_ms * 1000);
        if (k == KILLS)
            break; /* the last server stays up */
        publish(0);
        stray += swept(&s);
        if (k == 0) { /* the first server's directory holds the SQLite file: kept */
            it_stop_keep(&first, SIGKILL);
        } else {
            it_stop(&s, SIGKILL);
        }
        kills++;
        if (k == KILLS - 1)
            grow_change_log(db);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (it_start(&s, pg ? db : NULL, extra) != 0) {
            CHECK_REPORT("restart %d after SIGKILL did not come up (log %s)", k + 1, s.log);
            break;
        }
        snprintf(s.db, sizeof s.db, "%s", db);
        restart_s += since(&t1);
    }
    __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
    for (int c = 0; c < CLIENTS; c++) {
        int status = -1;
        waitpid(pids[c], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            CHECK_REPORT("client %d ended with status %#x", c, status); /* a sanitizer's abort */
    }
    fprintf(stderr,
            "   %d SIGKILLs in %.1f s (a restart took %.1f s); %d answers lost to a kill "
            "and replayed by their Idempotency-Key; %d statistics and tile reads "
            "meanwhile\n",
            kills, since(&t0), kills ? restart_s / kills : 0.0, sh->replays, sh->reads);
    CHECK_INT_EQ(kills, KILLS);

    /* live: the last server followed every change in memory */
    fprintf(stderr, "   the server that ran the last load, live:\n");
    check_stats_api(&s, db);
    check_case_tile(&s, db);
    stray += swept(&s);
    CHECK_INT_EQ(it_stop(&s, SIGTERM), 0);

    /* the final restart: everything from the database and the media directory alone */
    {
        char *extra[] = {db_arg, media_arg, NULL};
        CHECK(it_start(&again, pg ? db : NULL, extra) == 0);
        snprintf(again.db, sizeof again.db, "%s", db);
    }
    stray += swept(&again);
    fprintf(stderr,
            "   after the final restart (%d starts; their sweeps removed %ld stray photo "
            "files):\n",
            kills + 2, stray);
    check_acks(db);
    check_case_numbers(db);
    check_sqlite_file(db);
    check_media(db, media);
    check_aggregates(db);
    check_stats_api(&again, db);
    check_case_tile(&again, db);
    CHECK_INT_EQ(it_stop(&again, SIGTERM), 0);

    first.pid = 0;
    it_stop(&first, SIGTERM); /* its directory, and on PostgreSQL the database */
    if (pg && first.pgname[0]) {
        snprintf(cmd, sizeof cmd, "DROP DATABASE IF EXISTS %s WITH (FORCE)", first.pgname);
        (void)it_pg_exec(it_pg_base(), cmd, NULL); /* else the cluster's end removes it */
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", media);
    CHECK(system(cmd) == 0);
    munmap(sh, sizeof *sh);
    fprintf(stderr, "   %.1f s in all\n", since(&t0));
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN_ARG(test_sigkill_at_random_moments_loses_nothing, argv[1]);
    curl_global_cleanup();
    return check_exit();
}
