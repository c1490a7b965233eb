/*
 * tests/it_outbox.c - webhooks against real receivers on 127.0.0.1 (libmicrohttpd, in this
 * process): A is plain and flaky (its first 3 deliveries answered 503, then it is down for a
 * while, then down again when reporta is killed with SIGKILL and restarted); B is trusted and
 * always answers; C accepts connections and never answers. Cases are created and moved while
 * all that happens. Afterwards every event in the database reached A and B, in order per case
 * (first receipts), every signature checks out (HMAC-SHA256 recomputed here with OpenSSL), A
 * acknowledged each id exactly once and never saw a reporter's contact, B saw it, and C never
 * slowed POST /api/v1/reports down (its p99 is printed).
 * usage: it_outbox PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <time.h>

#include "it.h"

#define SECRET      "it-outbox-secret-0123456789"
#define PLANTED     "lidia.planted@example.com"
#define RECEIPTS    4096
#define CASES       6

struct receipt {
    char id[40], type[32], stream_case[32];
    int ok;          /* answered 2xx */
    int sig_ok, has_contact;
};

struct receiver {
    struct MHD_Daemon *d;
    unsigned short port;
    int fail_first; /* this many requests answered 503 */
    pthread_mutex_t lock;
    struct receipt r[RECEIPTS];
    int n, seen;
};

struct body {
    char *p;
    size_t n;
};

static struct it_server srv;
static struct receiver A, B;
static int blackhole = -1;
static unsigned short blackhole_port;
static char admin[128];

static int sig_valid(const char *ts, const char *sig, const char *body, size_t len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char want[80] = "sha256=", msg[1 << 16];
    int k = snprintf(msg, sizeof msg, "%s.", ts ? ts : "");

    if (!ts || !sig || (size_t)k + len >= sizeof msg)
        return 0;
    memcpy(msg + k, body, len);
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)msg, (size_t)k + len, mac,
         &maclen);
    for (unsigned i = 0; i < maclen; i++)
        snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
    return strcmp(want, sig) == 0 && time(NULL) - atoll(ts) < 120;
}

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
    struct receiver *rv = cls;
    struct body *b = *state;
    struct MHD_Response *res;
    enum MHD_Result ok;
    int status = 200;

    (void)url, (void)method, (void)version;
    if (!b) {
        *state = calloc(1, sizeof *b);
        return *state ? MHD_YES : MHD_NO;
    }
    if (*size) {
        char *p = realloc(b->p, b->n + *size + 1);
        if (!p)
            return MHD_NO;
        memcpy(p + b->n, data, *size);
        b->p = p;
        b->n += *size;
        b->p[b->n] = '\0';
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&rv->lock);
    if (rv->seen++ < rv->fail_first)
        status = 503;
    if (rv->n < RECEIPTS && b->p) {
        struct receipt *r = &rv->r[rv->n++];
        json_t *j = json_loads(b->p, 0, NULL);
        const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Reporta-Event-Id");
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", id ? id : "");
        snprintf(r->type, sizeof r->type, "%s",
                 json_string_value(json_object_get(j, "type")) ? json_string_value(json_object_get(j, "type")) : "");
        snprintf(r->stream_case, sizeof r->stream_case, "%s",
                 json_string_value(json_object_get(json_object_get(j, "case"), "id"))
                     ? json_string_value(json_object_get(json_object_get(j, "case"), "id"))
                     : "");
        r->sig_ok = sig_valid(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Reporta-Timestamp"),
                              MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Reporta-Signature"),
                              b->p, b->n) &&
                    strcmp(json_string_value(json_object_get(j, "id")) ? json_string_value(json_object_get(j, "id")) : "", r->id) == 0;
        r->has_contact = strstr(b->p, PLANTED) != NULL;
        r->ok = status == 200;
        json_decref(j);
    }
    pthread_mutex_unlock(&rv->lock);
    free(b->p);
    free(b);
    *state = NULL;
    res = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    ok = MHD_queue_response(c, (unsigned)status, res);
    MHD_destroy_response(res);
    return ok;
}

static int receiver_up(struct receiver *rv)
{
    struct sockaddr_in sa = {0};

    sa.sin_family = AF_INET;
    sa.sin_port = htons(rv->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rv->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, rv->port, NULL,
                             NULL, on_req, rv, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    if (!rv->d)
        return -1;
    if (!rv->port)
        rv->port = MHD_get_daemon_info(rv->d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return 0;
}

static void receiver_down(struct receiver *rv)
{
    MHD_stop_daemon(rv->d);
    rv->d = NULL;
}

/* A port that accepts connections (the kernel's backlog) and never answers. */
static int blackhole_up(void)
{
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof sa;

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    blackhole = socket(AF_INET, SOCK_STREAM, 0);
    if (blackhole < 0 || bind(blackhole, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(blackhole, 64) != 0 || getsockname(blackhole, (struct sockaddr *)&sa, &sl) != 0)
        return -1;
    blackhole_port = ntohs(sa.sin_port);
    return 0;
}

static int start_reporta(const char *db)
{
    static char a[128], b[128], c[128];
    char *extra[] = {"--webhook", a, "--webhook-trusted", b, "--webhook", c,
                     "--webhook-secret", SECRET, "--webhook-backoff-ms", "100", NULL};

    snprintf(a, sizeof a, "http://127.0.0.1:%u/hook", A.port);
    snprintf(b, sizeof b, "http://127.0.0.1:%u/sms", B.port);
    snprintf(c, sizeof c, "http://127.0.0.1:%u/never", blackhole_port);
    return it_start(&srv, db, extra);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char cases[CASES][32];

/* Creates cases (with a reporter's e-mail) and returns the p99 of their POSTs in ms. */
static double create_cases(int from, int to)
{
    double lat[CASES * 4];
    int n = 0;

    for (int i = from; i < to; i++) {
        struct it_reply r;
        json_t *j;
        char body[256];
        double t0 = now_ms();
        snprintf(body, sizeof body,
                 "{\"service_code\":\"basura\",\"lat\":%.4f,\"lon\":-79.52,"
                 "\"reporter\":{\"email\":\"" PLANTED "\"}}",
                 8.97 + 0.001 * i);
        CHECK(it_send(&srv, "POST", "/api/v1/reports", NULL, body, &r) == 0);
        lat[n++] = now_ms() - t0;
        CHECK_INT_EQ(r.status, 201);
        j = it_json(&r);
        snprintf(cases[i], sizeof cases[i], "%s", json_string_value(json_object_get(j, "id")));
        json_decref(j);
        free(r.body);
    }
    for (int i = 1; i < n; i++) /* sort */
        for (int k = i; k > 0 && lat[k] < lat[k - 1]; k--) {
            double t = lat[k];
            lat[k] = lat[k - 1];
            lat[k - 1] = t;
        }
    return n ? lat[n - 1] : 0; /* few samples: the worst is the p99 */
}

static void move(int i, const char *status)
{
    struct it_reply r;
    char path[96], body[96];

    snprintf(path, sizeof path, "/api/v1/reports/%s/status", cases[i]);
    snprintf(body, sizeof body, "{\"status\":\"%s\",\"note\":\"paso %s\"}", status, status);
    CHECK(it_send(&srv, "POST", path, admin, body, &r) == 0);
    if (r.status != 200)
        CHECK_REPORT("%s -> %s: %ld %s", cases[i], status, r.status, r.body);
    free(r.body);
}

/* Every event uid of the database, in order, with its case number. */
struct ev {
    char uid[40], case_no[32];
};
struct evs {
    struct ev *v;
    int n, max;
};

static void ev_row(void *ctx, int nc, const char *const *val)
{
    struct evs *x = ctx;
    if (x->n >= x->max || nc < 2)
        return;
    snprintf(x->v[x->n].uid, sizeof x->v[x->n].uid, "%s", val[0] ? val[0] : "");
    snprintf(x->v[x->n].case_no, sizeof x->v[x->n].case_no, "%s", val[1] ? val[1] : "");
    x->n++;
}

static int events_of(const char *db, struct ev *v, int max)
{
    struct evs x = {v, 0, max};

    CHECK(it_query(db, "SELECT e.uid, coalesce(r.case_no, '') FROM events e LEFT JOIN"
                       " reports r ON r.id = e.report_id ORDER BY e.id",
                   ev_row, &x) >= 0);
    return x.n;
}

/* The first receipt of uid by rv that was acknowledged, its index; -1 when none. */
static int first_ok(struct receiver *rv, const char *uid, int *acks)
{
    int at = -1;
    *acks = 0;
    for (int i = 0; i < rv->n; i++)
        if (rv->r[i].ok && strcmp(rv->r[i].id, uid) == 0) {
            if (at < 0)
                at = i;
            (*acks)++;
        }
    return at;
}

static int all_arrived(struct receiver *rv, const struct ev *v, int n)
{
    int acks, ok = 1;
    pthread_mutex_lock(&rv->lock);
    for (int i = 0; i < n && ok; i++)
        ok = first_ok(rv, v[i].uid, &acks) >= 0;
    pthread_mutex_unlock(&rv->lock);
    return ok;
}

static void test_every_event_arrives_in_order_through_failures_and_a_kill(void)
{
    static struct ev v[RECEIPTS];
    double p99_first, p99_down;
    int n = 0;

    /* phase 1: A answers 503 three times, then goes down for 2 s while cases move */
    p99_first = create_cases(0, CASES / 2);
    for (int i = 0; i < CASES / 2; i++)
        move(i, "assigned");
    receiver_down(&A);
    p99_down = create_cases(CASES / 2, CASES);
    for (int i = 0; i < CASES; i++)
        move(i, i < CASES / 2 ? "in_progress" : "assigned");
    usleep(2000 * 1000);
    CHECK(receiver_up(&A) == 0);
    /* phase 2: more changes, A down again, reporta killed before it could deliver them */
    usleep(1500 * 1000);
    receiver_down(&A);
    for (int i = 0; i < CASES; i++)
        move(i, "resolved");
    usleep(300 * 1000);
    it_stop_keep(&srv, SIGKILL);
    {
        char db[300], cmd[700];
        struct it_server old = srv;
        snprintf(db, sizeof db, "%s", old.db);
        CHECK(receiver_up(&A) == 0);
        CHECK(start_reporta(db) == 0); /* a copy of the killed server's files */
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", old.dir);
        CHECK(system(cmd) == 0);
    }
    n = events_of(srv.db, v, RECEIPTS);
    /* created, (assigned,) in_progress or assigned, resolved; and the satisfaction question
     * the follow-up sweep of the restarted server asked of each resolved case */
    CHECK(n == CASES * 3 + CASES / 2 || n == CASES * 4 + CASES / 2);
    for (int t = 0; t < 300 && !(all_arrived(&A, v, n) && all_arrived(&B, v, n)); t++)
        usleep(100 * 1000);
    CHECK(all_arrived(&A, v, n));
    CHECK(all_arrived(&B, v, n));
    printf("   %d events; A got %d requests (%d refused), B %d; POST /api/v1/reports worst of %d"
           " with a receiver that never answers: %.1f ms, and while A was down: %.1f ms\n",
           n, A.n, A.fail_first, B.n, CASES / 2, p99_first, p99_down);
    CHECK(p99_first < 1000.0 * 2); /* the never-answering receiver's 10 s are not waited on */
    CHECK(p99_down < 1000.0 * 2);

    pthread_mutex_lock(&A.lock);
    pthread_mutex_lock(&B.lock);
    for (int i = 0; i < n; i++) {
        int acks_a, acks_b, at_a = first_ok(&A, v[i].uid, &acks_a), at_b = first_ok(&B, v[i].uid, &acks_b);
        CHECK_INT_EQ(acks_a, 1); /* A was down around the kill: nothing of it in flight */
        CHECK(acks_b >= 1 && acks_b <= 2);
        /* in order per case: an earlier event of the same case arrived first */
        for (int k = 0; k < i; k++) {
            int a2, b2;
            if (strcmp(v[k].case_no, v[i].case_no) != 0 || !v[i].case_no[0])
                continue;
            CHECK(first_ok(&A, v[k].uid, &a2) < at_a);
            CHECK(first_ok(&B, v[k].uid, &b2) < at_b);
        }
    }
    for (int i = 0; i < A.n; i++) {
        CHECK(A.r[i].sig_ok);
        CHECK(!A.r[i].has_contact);
    }
    {
        int contacts = 0;
        for (int i = 0; i < B.n; i++) {
            CHECK(B.r[i].sig_ok);
            contacts += B.r[i].has_contact;
        }
        CHECK(contacts >= n - 1); /* every case event carries the reporter's e-mail */
    }
    CHECK_INT_EQ(A.seen >= A.fail_first, 1);
    pthread_mutex_unlock(&B.lock);
    pthread_mutex_unlock(&A.lock);
}

int main(int argc, char **argv)
{
    int rc;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PANAMA_DB\n", argv[0]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_mutex_init(&A.lock, NULL);
    pthread_mutex_init(&B.lock, NULL);
    A.fail_first = 3;
    if (receiver_up(&A) != 0 || receiver_up(&B) != 0 || blackhole_up() != 0) {
        fprintf(stderr, "receivers did not start\n");
        return 1;
    }
    if (start_reporta(argv[1]) != 0 ||
        it_key_create(&srv, "admin", NULL, "311", admin, sizeof admin) != 0) {
        fprintf(stderr, "server did not start\n");
        return 1;
    }
    RUN(test_every_event_arrives_in_order_through_failures_and_a_kill);
    CHECK_INT_EQ(it_stop(&srv, SIGTERM), 0);
    receiver_down(&A);
    receiver_down(&B);
    close(blackhole);
    rc = check_exit();
    curl_global_cleanup();
    return rc;
}
