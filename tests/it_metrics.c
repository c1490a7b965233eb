/*
 * tests/it_metrics.c - GET /metrics after known traffic, read by Prometheus' own text-format
 * parser (Debian's python3-prometheus-client): every family parses, histogram buckets are
 * cumulative and end in +Inf equal to _count, and the counters show the traffic sent here
 * (requests per route and status, cases created, locate calls, writer commits). Anonymous
 * callers get 401 and staff 403 - unless --metrics-loopback, where 127.0.0.1 reads it.
 * usage: it_metrics PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>

#include "it.h"

static struct it_server srv;
static char admin[128], staff[128];

/* Parses file with prometheus_client and checks what we sent; prints what fails. */
static const char *const checker =
    "import sys\n"
    "from prometheus_client.parser import text_string_to_metric_families as parse\n"
    "fams = {f.name: f for f in parse(open(sys.argv[1]).read())}\n"
    "need = ['reporta_http_requests', 'reporta_http_request_duration_seconds',\n"
    "        'reporta_cases_created', 'reporta_locate', 'reporta_tile_cache_hits',\n"
    "        'reporta_tile_cache_misses', 'reporta_tile_cache_bytes', 'reporta_writer_batch_size',\n"
    "        'reporta_writer_commit_seconds', 'reporta_outbox_backlog', 'reporta_outbox_failures',\n"
    "        'reporta_tow_lookups']\n"
    "missing = [n for n in need if n not in fams]\n"
    "assert not missing, 'missing families %s' % missing\n"
    "def value(fam, sample, **labels):\n"
    "    for s in fams[fam].samples:\n"
    "        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):\n"
    "            return s.value\n"
    "    return None\n"
    "h = value('reporta_http_requests', 'reporta_http_requests_total', route='/healthz', method='GET', status='200')\n"
    "assert h is not None and h >= 5, 'healthz 200s: %s' % h\n"
    "nf = value('reporta_http_requests', 'reporta_http_requests_total', route='unmatched', status='404')\n"
    "assert nf is not None and nf >= 1, 'unmatched 404s: %s' % nf\n"
    "assert value('reporta_cases_created', 'reporta_cases_created_total') >= 2\n"
    "assert value('reporta_locate', 'reporta_locate_total') >= 5\n"
    "assert value('reporta_writer_batch_size', 'reporta_writer_batch_size_count') >= 1\n"
    "for name in ('reporta_http_request_duration_seconds', 'reporta_writer_batch_size',\n"
    "             'reporta_writer_commit_seconds'):\n"
    "    series = {}\n"
    "    for s in fams[name].samples:\n"
    "        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != 'le'))\n"
    "        series.setdefault(key, {'b': [], 'count': None})\n"
    "        if s.name.endswith('_bucket'):\n"
    "            series[key]['b'].append((float(s.labels['le']), s.value))\n"
    "        elif s.name.endswith('_count'):\n"
    "            series[key]['count'] = s.value\n"
    "    assert series, name\n"
    "    for key, v in series.items():\n"
    "        b = sorted(v['b'])\n"
    "        assert b and b[-1][0] == float('inf'), (name, key)\n"
    "        assert all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), (name, key, b)\n"
    "        assert b[-1][1] == v['count'], (name, key)\n"
    "print('metrics: %d families parsed' % len(fams))\n";

static void traffic(void)
{
    struct it_reply r;

    for (int i = 0; i < 5; i++) {
        CHECK(it_get(&srv, "/healthz", &r) == 0);
        free(r.body);
    }
    for (int i = 0; i < 3; i++) {
        CHECK(it_get(&srv, "/api/v1/locate?lat=8.98&lon=-79.52", &r) == 0);
        free(r.body);
    }
    for (int i = 0; i < 2; i++) {
        CHECK(it_send(&srv, "POST", "/api/v1/reports", NULL,
                      "{\"service_code\":\"basura\",\"lat\":8.98,\"lon\":-79.52}", &r) == 0);
        CHECK_INT_EQ(r.status, 201);
        free(r.body);
    }
    CHECK(it_get(&srv, "/tiles/cases/12/1189/1936.mvt", &r) == 0);
    free(r.body);
    CHECK(it_get(&srv, "/tiles/cases/12/1189/1936.mvt", &r) == 0);
    free(r.body);
    CHECK(it_get(&srv, "/no/such/path", &r) == 0);
    CHECK_INT_EQ(r.status, 404);
    free(r.body);
}

static void test_metrics_parse_and_count(void)
{
    struct it_reply r;
    char file[300], script[300], cmd[800];
    FILE *fp;

    traffic();
    CHECK(it_get(&srv, "/metrics", &r) == 0);
    CHECK_INT_EQ(r.status, 401);
    free(r.body);
    CHECK(it_send(&srv, "GET", "/metrics", staff, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 403);
    free(r.body);
    CHECK(it_send(&srv, "GET", "/metrics", admin, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    snprintf(file, sizeof file, "%s/metrics.txt", srv.dir);
    snprintf(script, sizeof script, "%s/check.py", srv.dir);
    CHECK((fp = fopen(file, "w")) != NULL);
    if (fp) {
        fwrite(r.body, 1, r.len, fp);
        fclose(fp);
    }
    CHECK((fp = fopen(script, "w")) != NULL);
    if (fp) {
        fputs(checker, fp);
        fclose(fp);
    }
    /* Debian's interpreter, where python3-prometheus-client installs */
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", script, file);
    CHECK_INT_EQ(system(cmd), 0);
    CHECK(strstr(r.body, "@example") == NULL); /* no reporter field in metrics */
    free(r.body);
}

static void test_loopback_flag(void)
{
    struct it_server lo;
    struct it_reply r;
    char *extra[] = {"--metrics-loopback", "1", NULL};
    struct it_server keep = srv;

    CHECK(it_start(&lo, srv.db, extra) == 0);
    srv = lo;
    CHECK(it_get(&srv, "/metrics", &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.body, "reporta_http_requests_total") != NULL);
    free(r.body);
    CHECK_INT_EQ(it_stop(&srv, SIGTERM), 0);
    srv = keep;
}

int main(int argc, char **argv)
{
    if (it_suite_start(argc, argv, &srv) != 0)
        return 1;
    if (it_key_create(&srv, "admin", NULL, "311", admin, sizeof admin) != 0 ||
        it_key_create(&srv, "staff", "IDAAN", "IDAAN", staff, sizeof staff) != 0) {
        fprintf(stderr, "keys were not created\n");
        return 1;
    }
    RUN(test_metrics_parse_and_count);
    RUN(test_loopback_flag);
    return it_suite_end(&srv);
}
