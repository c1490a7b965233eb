/*
 * server/main.c - the `reporta` program: subcommands, their flags and REPORTA_* environment
 * variables, and the serve lifecycle (load the frozen area index, start HTTP, wait for
 * SIGTERM/SIGINT, drain, close). Flags are one table per subcommand; a flag's environment
 * variable is read first and the command line overrides it. Bad flags exit 2 naming the flag.
 */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/progress.h"
#include "data/store.h"
#include "geo/locate.h"
#include "media/store.h"
#include "geo/areatile.h"
#include "server/area_sync.h"
#include "server/areas.h"
#include "server/auth.h"
#include "server/cases.h"
#include "server/http.h"
#include "server/followup.h"
#include "server/listen.h"
#include "server/outbox.h"
#include "server/proxy.h"
#include "server/ratelimit.h"
#include "server/routes.h"
#include "server/scorecard.h"
#include "server/tiles.h"
#include "server/tows.h"
#include "server/web.h"
#include "server/worker.h"

#ifndef REPORTA_DATA_DIR
#define REPORTA_DATA_DIR "data"
#endif
#define DEFAULT_AREAS_DIR REPORTA_DATA_DIR "/areas/panama"
#define THREADS_MAX       256
#define EXIT_USAGE        2

enum ftype { F_STR, F_UINT, F_PORT, F_DOUBLE, F_LEVEL, F_LIST, F_CONFIG };

/* Where the value being set comes from: the environment, the --config file, the command
 * line. A list flag set by a later source starts again (a flag replaces the file's list). */
enum fsource { SRC_ENV = 1, SRC_FILE, SRC_ARGV };
static enum fsource parse_src;
static char *config_text; /* the --config file, its values pointed into; freed by config_free */

#define CONFIG_MAX_BYTES (1 << 20)

/* A flag given several times (F_LIST); from the environment, values separated by spaces. */
#define FLAG_LIST_MAX 16
struct flag_list {
    const char *v[FLAG_LIST_MAX];
    int n;
    int src; /* enum fsource of the values in v */
};

/* What list values point into: each occurrence's copy, kept until exit (flags_free). */
#define FLAG_COPIES_MAX 64
static char *flag_copies[FLAG_COPIES_MAX];
static int flag_ncopies;

struct flag {
    const char *name, *env;
    enum ftype type;
    void *dest;
    double min, max; /* F_UINT, F_DOUBLE */
    const char *help;
};

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "reporta %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see reporta %s --help)\n", cmd);
    return EXIT_USAGE;
}

static int flag_set(const char *cmd, const struct flag *f, const char *v, const char *from)
{
    char *end;
    double d;

    switch (f->type) {
    case F_STR:
        if (!v[0])
            return usage_error(cmd, "%s: empty value", from);
        *(const char **)f->dest = v;
        return 0;
    case F_CONFIG: /* read before the other flags: see parse */
        return 0;
    case F_LIST: {
        struct flag_list *l = f->dest;
        if (l->src != (int)parse_src) {
            l->n = 0;
            l->src = (int)parse_src;
        }
        char *copy = flag_ncopies < FLAG_COPIES_MAX ? strdup(v) : NULL, *save = NULL;
        if (copy)
            flag_copies[flag_ncopies++] = copy;
        for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save)) {
            if (l->n >= FLAG_LIST_MAX)
                return usage_error(cmd, "%s: at most %d values", from, FLAG_LIST_MAX);
            l->v[l->n++] = t;
        }
        if (!copy || l->n == 0)
            return usage_error(cmd, "%s: empty value", from);
        return 0;
    }
    case F_LEVEL:
        if (rp_level_parse(v) < 0)
            return usage_error(cmd, "%s: '%s' is not provincia, distrito or corregimiento", from, v);
        *(int *)f->dest = rp_level_parse(v);
        return 0;
    case F_PORT:
    case F_UINT:
    case F_DOUBLE:
        errno = 0;
        d = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(d) ||
            (f->type != F_DOUBLE && d != floor(d))) {
            return usage_error(cmd, "%s: '%s' is not a %s", from, v,
                               f->type == F_DOUBLE ? "number" : "whole number");
        }
        if (f->type == F_PORT ? (d < 0 || d > 65535) : (d < f->min || d > f->max))
            return usage_error(cmd, "%s: %s is out of range (%g to %g)", from, v,
                               f->type == F_PORT ? 0.0 : f->min,
                               f->type == F_PORT ? 65535.0 : f->max);
        if (f->type == F_DOUBLE)
            *(double *)f->dest = d;
        else
            *(unsigned *)f->dest = (unsigned)d;
        return 0;
    }
    return usage_error(cmd, "%s: unknown flag type", from);
}

static void help(const char *cmd, const char *synopsis, const char *about, const struct flag *fl)
{
    printf("usage: reporta %s %s\n\n%s\n\n", cmd, synopsis, about);
    for (; fl->name; fl++)
        printf("  --%-14s %s%s%s%s\n", fl->name, fl->help, fl->env ? " [$" : "",
               fl->env ? fl->env : "", fl->env ? "]" : "");
}

static void config_free(void)
{
    free(config_text);
    config_text = NULL;
}

/* What the flags read from files and keep until exit (a TLS key is wiped first). */
#define TLS_PEM_MAX (1 << 20)
static struct {
    char *p;
    size_t n;
} flag_kept[4];
static int flag_nkept;

static void flag_keep(char *p, size_t n)
{
    if (flag_nkept < 4)
        flag_kept[flag_nkept].p = p, flag_kept[flag_nkept++].n = n;
}

/* At exit: every value the flags kept (main registers it). */
static void flags_free(void)
{
    config_free();
    for (int i = 0; i < flag_ncopies; i++)
        free(flag_copies[i]);
    flag_ncopies = 0;
    for (int i = 0; i < flag_nkept; i++) {
        OPENSSL_cleanse(flag_kept[i].p, flag_kept[i].n);
        free(flag_kept[i].p);
    }
    flag_nkept = 0;
}

/* A --config file: "name = value" lines with the flags' names ("# ..." and blank lines
 * ignored; a value may be in double quotes; a list flag's name repeated adds a value).
 * Unknown names, lines without "=", and a file over CONFIG_MAX_BYTES are errors naming where. */
static int config_apply(const char *cmd, const char *path, const struct flag *flags)
{
    FILE *fp = fopen(path, "r");
    size_t n = 0;
    char *line, *next;
    int lineno = 0;

    if (!fp)
        return usage_error(cmd, "--config %s: %s", path, strerror(errno));
    config_free();
    config_text = malloc(CONFIG_MAX_BYTES + 1);
    if (config_text)
        n = fread(config_text, 1, CONFIG_MAX_BYTES + 1, fp);
    fclose(fp);
    if (!config_text)
        return usage_error(cmd, "--config %s: out of memory", path);
    if (n > CONFIG_MAX_BYTES)
        return usage_error(cmd, "--config %s: larger than %d bytes", path, CONFIG_MAX_BYTES);
    config_text[n] = '\0';
    for (line = config_text; line; line = next) {
        char *eq, *name, *value, *end, from[300];
        const struct flag *f;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        while (*line == ' ' || *line == '\t')
            line++;
        end = line + strlen(line);
        while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = '\0';
        if (!*line || *line == '#')
            continue;
        if (!(eq = strchr(line, '=')))
            return usage_error(cmd, "%s:%d: not a \"name = value\" line", path, lineno);
        name = line;
        value = eq + 1;
        for (end = eq; end > name && (end[-1] == ' ' || end[-1] == '\t');)
            end--;
        *end = '\0';
        while (*value == ' ' || *value == '\t')
            value++;
        if (value[0] == '"' && strlen(value) >= 2 && value[strlen(value) - 1] == '"') {
            value[strlen(value) - 1] = '\0';
            value++;
        }
        for (f = flags; f->name; f++)
            if (strcmp(f->name, name) == 0)
                break;
        if (!f->name || f->type == F_CONFIG)
            return usage_error(cmd, "%s:%d: unknown key '%s'", path, lineno, name);
        snprintf(from, sizeof from, "%s:%d %s", path, lineno, name);
        if (flag_set(cmd, f, value, from))
            return EXIT_USAGE;
    }
    return 0;
}

/* The environment first, then the --config file (from --config or its environment variable,
 * when flags has an F_CONFIG entry), then argv: a later source wins. Non-flag arguments go to
 * pos (at most npos). Returns 0, or an exit code: EXIT_USAGE for errors, -1 after --help. */
static int parse(const char *cmd, int argc, char **argv, const struct flag *flags, const char **pos,
                 int npos, int *got, const char *synopsis, const char *about)
{
    const char *config = NULL;

    *got = 0;
    parse_src = SRC_ENV;
    for (const struct flag *f = flags; f->name; f++) {
        const char *v = f->env ? getenv(f->env) : NULL;
        if (f->type == F_CONFIG) {
            config = v && v[0] ? v : NULL;
            for (int i = 0; i < argc; i++) { /* the last --config given */
                size_t len = strlen(f->name);
                if (strncmp(argv[i], "--", 2) || strncmp(argv[i] + 2, f->name, len))
                    continue;
                if (argv[i][2 + len] == '=')
                    config = argv[i] + 3 + len;
                else if (!argv[i][2 + len] && i + 1 < argc)
                    config = argv[i + 1];
            }
            continue;
        }
        if (v && v[0] && flag_set(cmd, f, v, f->env))
            return EXIT_USAGE;
    }
    parse_src = SRC_FILE;
    if (config && config_apply(cmd, config, flags))
        return EXIT_USAGE;
    parse_src = SRC_ARGV;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v, *eq;
        const struct flag *f;
        size_t n;
        char from[64];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help(cmd, synopsis, about, flags);
            return -1;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (*got >= npos)
                return usage_error(cmd, "unexpected argument '%s'", a);
            pos[(*got)++] = a;
            continue;
        }
        eq = strchr(a, '=');
        n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        for (f = flags; f->name; f++)
            if (strlen(f->name) == n && strncmp(f->name, a + 2, n) == 0)
                break;
        if (!f->name)
            return usage_error(cmd, "unknown flag %.*s", (int)(n + 2), a);
        if (eq) {
            v = eq + 1;
        } else {
            if (i + 1 >= argc)
                return usage_error(cmd, "--%s needs a value", f->name);
            v = argv[++i];
        }
        snprintf(from, sizeof from, "--%s", f->name);
        if (flag_set(cmd, f, v, from))
            return EXIT_USAGE;
    }
    return 0;
}

static int fail(const char *cmd, const struct rp_err *err)
{
    fprintf(stderr, "reporta %s: %s (%s)\n", cmd, err->msg[0] ? err->msg : "failed",
            rp_err_slug(err->code));
    return 1;
}

/* ---- init ---- */

static int cmd_init(int argc, char **argv)
{
    const char *db = "reporta.db", *areas = DEFAULT_AREAS_DIR;
    const struct flag flags[] = {
        {"db", "REPORTA_DB", F_STR, &db, 0, 0,
         "SpatiaLite file (created if absent), or postgresql://... (PostgreSQL + PostGIS)"},
        {"areas", "REPORTA_AREAS", F_STR, &areas, 0, 0, "default areas directory"},
        {0},
    };
    struct rp_err err = {0};
    struct store *s = NULL;
    struct geo_ctx gc = {0};
    int64_t counts[RP_LEVEL_COUNT];
    int applied, got, rc;

    rc = parse("init", argc, argv, flags, NULL, 0, &got, "[--db FILE] [--areas DIR]",
               "Creates or migrates the database and brings its areas to the default Panama\n"
               "areas shipped in data/areas/panama: imported into a new database; an older\n"
               "version replaced, with everything keyed by a changed area code re-keyed and\n"
               "what changed printed and audited. Levels an operator imported with\n"
               "import-areas are left alone.");
    if (rc)
        return rc < 0 ? 0 : rc;
    rc = store_open(db, &s, &err);
    if (rc == RP_OK)
        rc = store_migrate(s, &applied, &err);
    if (rc == RP_OK)
        rc = geo_ctx_init(&gc, &err);
    if (rc == RP_OK)
        rc = area_sync_default(s, &gc, areas, stdout, NULL, &err);
    if (rc == RP_OK)
        rc = store_areas_count(s, counts, &err);
    if (rc == RP_OK)
        rc = store_seed(s, &err);
    if (rc == RP_OK)
        printf("%s: schema version %d (%d migrations applied); areas: %lld provincias, %lld "
               "distritos, %lld corregimientos\n",
               db, store_schema_latest(), applied, (long long)counts[0], (long long)counts[1],
               (long long)counts[2]);
    geo_ctx_fini(&gc);
    store_close(s);
    return rc == RP_OK ? 0 : fail("init", &err);
}

/* ---- import-areas ---- */

static int cmd_import_areas(int argc, char **argv)
{
    const char *db = "reporta.db", *code = NULL, *name = NULL, *parent = NULL, *charset = NULL;
    const char *file[1];
    int level = -1, got, rc, applied;
    const struct flag flags[] = {
        {"db", "REPORTA_DB", F_STR, &db, 0, 0, "database file"},
        {"level", NULL, F_LEVEL, &level, 0, 0, "provincia, distrito or corregimiento (required)"},
        {"code", NULL, F_STR, &code, 0, 0, "property holding the area code (required)"},
        {"name", NULL, F_STR, &name, 0, 0, "property holding the area name (required)"},
        {"parent", NULL, F_STR, &parent, 0, 0, "property holding the parent code (optional)"},
        {"charset", NULL, F_STR, &charset, 0, 0, "shapefile text encoding (default UTF-8)"},
        {0},
    };
    struct areas_import_opts o;
    struct rp_err err = {0};
    struct store *s = NULL;
    struct geo_ctx gc = {0};

    rc = parse("import-areas", argc, argv, flags, file, 1, &got,
               "FILE --level LEVEL --code FIELD --name FIELD [--parent FIELD] [--db FILE]",
               "Imports a GeoJSON (.geojson, .json, optionally .xz) or ESRI Shapefile (.shp) layer\n"
               "and replaces that level in one transaction. The source CRS comes from the file\n"
               "(.prj or the GeoJSON crs member; EPSG:4326 when absent). Invalid geometries are\n"
               "repaired and reported; parents are found by containment when not given.\n"
               "A running server picks the new areas up when restarted.");
    if (rc)
        return rc < 0 ? 0 : rc;
    if (got != 1)
        return usage_error("import-areas", "FILE is required");
    if (level < 0 || !code || !name)
        return usage_error("import-areas", "--level, --code and --name are required");
    o = (struct areas_import_opts){file[0], (enum rp_level)level, {code, name, parent}, charset,
                                   "import-areas"};
    rc = store_open(db, &s, &err);
    if (rc == RP_OK)
        rc = store_migrate(s, &applied, &err);
    if (rc == RP_OK)
        rc = geo_ctx_init(&gc, &err);
    if (rc == RP_OK)
        rc = areas_import(s, &gc, &o, stdout, &err);
    if (rc == RP_OK)
        rc = store_seed(s, &err); /* municipalities of new distritos */
    geo_ctx_fini(&gc);
    store_close(s);
    return rc == RP_OK ? 0 : fail("import-areas", &err);
}

/* ---- keys ---- */

static int print_key(void *ctx, const struct store_key *k, struct rp_err *err)
{
    (void)ctx, (void)err;
    printf("%-5lld %-12s %-13s %-12s %-20s %-20s %s\n", (long long)k->id, k->prefix, k->role,
           k->entity[0] ? k->entity : "-", k->created_at, k->revoked_at[0] ? k->revoked_at : "-",
           k->name);
    return RP_OK;
}

static int cmd_keys(int argc, char **argv)
{
    const char *db = "reporta.db", *role = NULL, *entity = NULL, *name = NULL;
    const char *pos[2] = {0};
    const struct flag flags[] = {
        {"db", "REPORTA_DB", F_STR, &db, 0, 0, "database file"},
        {"role", NULL, F_STR, &role, 0, 0, "create: admin, staff or tow_operator"},
        {"entity", NULL, F_STR, &entity, 0, 0, "create: the entity a staff key acts for"},
        {"name", NULL, F_STR, &name, 0, 0, "create: who or what holds the key"},
        {0},
    };
    char key[AUTH_KEY_LEN + 1];
    struct rp_err err = {0};
    struct store *s = NULL;
    int64_t id = 0;
    int got, rc, applied;
    char *end;

    rc = parse("keys", argc, argv, flags, pos, 2, &got,
               "create --role ROLE [--entity CODE] --name TEXT | list | revoke ID  [--db FILE]",
               "Manages API keys. create prints the new key once, as the last word of its last\n"
               "line: only its SHA-256 is stored, so it cannot be shown again. revoke takes\n"
               "effect on the next request. Every change is written to the audit log.");
    if (rc)
        return rc < 0 ? 0 : rc;
    if (got < 1)
        return usage_error("keys", "create, list or revoke is required");
    if (strcmp(pos[0], "create") == 0) {
        if (got != 1 || !role || !name)
            return usage_error("keys", "create needs --role and --name");
        if (auth_role_parse(role) < 0)
            return usage_error("keys", "--role: '%s' is not admin, staff or tow_operator", role);
    } else if (strcmp(pos[0], "revoke") == 0) {
        if (got != 2)
            return usage_error("keys", "revoke needs the key's ID");
        errno = 0;
        id = strtoll(pos[1], &end, 10);
        if (end == pos[1] || *end || errno || id <= 0)
            return usage_error("keys", "'%s' is not a key ID", pos[1]);
    } else if (strcmp(pos[0], "list") != 0 || got != 1) {
        return usage_error("keys", "unknown subcommand '%s'", pos[0]);
    }
    rc = store_open(db, &s, &err);
    if (rc == RP_OK)
        rc = store_migrate(s, &applied, &err);
    if (rc == RP_OK && strcmp(pos[0], "create") == 0) {
        rc = auth_key_create(s, &auth_cli, role, entity, name, key, &id, &err);
        if (rc == RP_OK) {
            printf("created key %lld: role %s%s%s, name %s\n", (long long)id, role,
                   entity ? ", entity " : "", entity ? entity : "", name);
            printf("store it now, it is not shown again: %s\n", key);
        }
    } else if (rc == RP_OK && strcmp(pos[0], "revoke") == 0) {
        rc = auth_key_revoke(s, &auth_cli, id, &err);
        if (rc == RP_OK)
            printf("revoked key %lld\n", (long long)id);
    } else if (rc == RP_OK) {
        printf("%-5s %-12s %-13s %-12s %-20s %-20s %s\n", "id", "prefix", "role", "entity",
               "created", "revoked", "name");
        rc = store_keys_each(s, print_key, NULL, &err);
    }
    memset(key, 0, sizeof key);
    store_close(s);
    return rc == RP_OK ? 0 : fail("keys", &err);
}

/* ---- backup ---- */

static int cmd_backup(int argc, char **argv)
{
    const char *db = "reporta.db", *to = NULL;
    const struct flag flags[] = {
        {"db", "REPORTA_DB", F_STR, &db, 0, 0, "SpatiaLite file to copy (the server may be running)"},
        {"to", NULL, F_STR, &to, 0, 0, "the copy (replaced whole when it exists)"},
        {0},
    };
    struct store_backup_info info;
    struct store_verify_info v;
    struct progress p;
    struct rp_err err = {0};
    int got, rc;

    rc = parse("backup", argc, argv, flags, NULL, 0, &got, "--db FILE --to FILE",
               "Copies the database while the server runs: one consistent snapshot (SQLite's\n"
               "backup API under one read transaction; the server's commits meanwhile are not\n"
               "in it), written beside --to and renamed over it once complete and fsynced.\n"
               "Then opens the copy and checks it: PRAGMA integrity_check, the spatial indexes\n"
               "(rtreecheck) and foreign keys. Exit 0 only when the copy passed every check.\n"
               "PostgreSQL: use pg_dump or pg_basebackup.");
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!to)
        return usage_error("backup", "--to is required");
    progress_start(&p, "backup", "pages", 0);
    rc = store_backup(db, to, &p, &info, &err);
    if (rc == RP_OK)
        progress_end(&p);
    if (rc == RP_OK)
        rc = store_verify(to, &v, &err);
    if (rc != RP_OK)
        return fail("backup", &err);
    printf("backup: %s -> %s: %d pages (%.1f MB); integrity ok, %d spatial indexes ok, "
           "foreign keys ok; schema %d, %lld cases, %lld photos\n",
           db, to, info.pages, (double)info.bytes / 1e6, v.rtrees_ok, v.schema,
           (long long)v.reports, (long long)v.photos);
    return 0;
}

/* ---- serve ---- */

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* For the startup sweep: is a photo file still named by some case? (On a database error,
 * yes: never delete what cannot be checked.) */
static int photo_referenced(void *ctx, const char *sha256)
{
    struct rp_err err = {0};
    int known = 1;

    if (store_photo_known(ctx, sha256, &known, &err) != RP_OK)
        return 1;
    return known;
}

/* Bytes the allocator has handed out, mmap'd chunks included. */
static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static int serve_prepare(struct app *app, struct geo_ctx *gc, struct geo_index **ix,
                         struct rp_err *err)
{
    struct store *s = NULL;
    struct geo_index_stats st;
    struct timespec t0;
    size_t heap0, heap1;
    int version = 0, rc;

    if (!store_is_uri(app->cfg.db) && access(app->cfg.db, R_OK | W_OK) != 0) {
        int e = errno;
        if (e == ENOENT)
            return rp_err_set(err, RP_INVALID_ARGUMENT, "%s: %s (run reporta init --db %s first)",
                              app->cfg.db, strerror(e), app->cfg.db);
        return rp_err_set(err, e == EROFS ? RP_INSUFFICIENT_STORAGE : RP_INVALID_ARGUMENT,
                          "%s: %s", app->cfg.db, strerror(e));
    }
    if (mkdir(app->cfg.media, 0750) != 0 && errno != EEXIST)
        return rp_err_set(err, RP_IO, "--media %s: %s", app->cfg.media, strerror(errno));
    rc = store_open(app->cfg.db, &s, err);
    if (rc == RP_OK)
        rc = store_schema_version(s, &version, err);
    if (rc == RP_OK && version < store_schema_latest())
        rc = rp_err_set(err, RP_INVALID_ARGUMENT,
                        "%s is at schema version %d, this reporta needs %d: run reporta init",
                        app->cfg.db, version, store_schema_latest());
    if (rc == RP_OK) {
        long swept = media_store_sweep(app->cfg.media, photo_referenced, s);
        if (swept)
            rp_warn("media: removed %ld photo files no case refers to", swept);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    heap0 = heap_bytes(); /* one thread so far: the difference is the index's */
    if (rc == RP_OK)
        rc = geo_ctx_init(gc, err);
    if (rc == RP_OK)
        rc = areas_index_load(s, gc, ix, err);
    store_close(s);
    if (rc != RP_OK)
        return rc;
    heap1 = heap_bytes();
    geo_index_stats(*ix, &st);
    rp_info("areas: %zu provincias, %zu distritos, %zu corregimientos, %zu vertices",
            geo_index_count(*ix, RP_LEVEL_PROVINCIA), geo_index_count(*ix, RP_LEVEL_DISTRITO),
            geo_index_count(*ix, RP_LEVEL_CORREGIMIENTO), st.vertices);
    rp_info("areas: grid %zu cells, %zu blocks, %zu edge cells, %zu tuples, %zu unknown "
            "cells, %zu uncertain tests while building, %.1f MB with its copy of the rings",
            st.grid.coarse_cells, st.grid.blocks, st.grid.edge_cells, st.grid.tuples,
            st.grid.unknown_cells, st.grid.covers_calls, (double)st.grid.bytes / 1e6);
    rp_info("areas: index built in %.2f s, %.1f MB in all (polygons, prepared polygons, "
            "STRtrees, grid)",
            seconds_since(&t0), heap1 > heap0 ? (double)(heap1 - heap0) / 1e6 : 0.0);
    if (geo_index_count(*ix, RP_LEVEL_PROVINCIA) + geo_index_count(*ix, RP_LEVEL_DISTRITO) == 0)
        rp_warn("areas: the database has no areas; every locate will answer 422");
    return RP_OK;
}

/* The tile layers (the case map of every open case, the tile cache) and the tows module. */
static int serve_maps(struct app *app, struct rp_err *err)
{
    struct store *s = NULL;
    struct timespec t0;
    size_t cases = 0, bytes = 0;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = tiles_create(app, (size_t)app->cfg.tile_cache_mb << 20, &app->tiles, err);
    if (rc == RP_OK)
        rc = store_open(app->cfg.db, &s, err);
    if (rc == RP_OK)
        rc = tiles_load(app->tiles, s, err);
    if (rc == RP_OK) /* and the towing state: yards, trucks, active tows */
        rc = tows_create(&app->tows, err);
    if (rc == RP_OK)
        rc = tows_load(app->tows, s, err);
    if (rc != RP_OK) {
        store_close(s);
        return rc;
    }
    casemap_stats(tiles_casemap(app->tiles), &cases, &bytes);
    rp_info("maps: %zu open cases in the case map (%.1f MB) in %.2f s; tile cache %u MB", cases,
            (double)bytes / 1e6, seconds_since(&t0), app->cfg.tile_cache_mb);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = scorecard_load(s, &app->scorecard, err); /* every case's counted numbers */
    if (rc == RP_OK) { /* the change log it has no need of any more */
        int64_t upto = 0;
        rc = scorecard_refresh(app->scorecard, s, &upto, err);
        if (rc == RP_OK && upto > 0 && (rc = store_begin(s, err)) == RP_OK)
            rc = store_end(s, store_score_log_prune(s, upto, err), err);
    }
    store_close(s);
    if (rc != RP_OK)
        return rc;
    scorecard_stats(app->scorecard, &cases, &bytes);
    rp_info("stats: %zu cases in the scorecard (%.1f MB) in %.2f s", cases, (double)bytes / 1e6,
            seconds_since(&t0));
    return RP_OK;
}

/* Every connection is a descriptor: lift the soft limit toward the hard one, so --max-conns
 * is not cut short by a default of 1024. */
static void raise_fd_limit(unsigned conns)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)conns + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        rp_warn("serve: only %lu descriptors for --max-conns %u", (unsigned long)rl.rlim_cur,
                conns);
}

static int cmd_serve(int argc, char **argv)
{
    struct app app = {0};
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    struct flag_list hooks = {0}, trusted_hooks = {0}, proxy_list = {0};
    static struct proxy_set proxies; /* app.cfg points at it for the server's life */
    const char *hook_secret = NULL;
    unsigned hook_backoff_ms = OUTBOX_BACKOFF_MS;
    struct outbox *outbox = NULL;
    struct followup *followup = NULL;
    struct listener *listener = NULL;
    unsigned followup_s = FOLLOWUP_INTERVAL_S;
    const char *web_dir = REPORTA_WEB_DIR;
    struct web_options web_opt = {NULL, NULL};
    const char *config_path = NULL, *tls_cert_file = NULL, *tls_key_file = NULL;
    const struct flag flags[] = {
        {"config", "REPORTA_CONFIG", F_CONFIG, &config_path, 0, 0,
         "file of name = value lines, these flags' names (flags win over it, it over $VARS)"},
        {"db", "REPORTA_DB", F_STR, &app.cfg.db, 0, 0,
         "SpatiaLite file, or postgresql://... (PostgreSQL + PostGIS), from reporta init"},
        {"media", "REPORTA_MEDIA", F_STR, &app.cfg.media, 0, 0, "photo directory"},
        {"port", "REPORTA_PORT", F_PORT, &app.cfg.port, 0, 0, "TCP port; 0 picks a free one"},
        {"listen", "REPORTA_LISTEN", F_STR, &app.cfg.listen, 0, 0, "address to bind"},
        {"threads", "REPORTA_THREADS", F_UINT, &app.cfg.threads, 1, THREADS_MAX,
         "worker threads (default: cores)"},
        {"workers", "REPORTA_WORKERS", F_UINT, &app.cfg.workers, 1, 1024,
         "threads for photo decoding and report commits (default: 8 x cores, at least 16)"},
        {"timeout", "REPORTA_TIMEOUT", F_UINT, &app.cfg.timeout_s, 1, 3600,
         "idle connection timeout, seconds"},
        {"body-max", "REPORTA_BODY_MAX", F_UINT, &app.cfg.body_max_bytes, 1, 1 << 30,
         "request body cap, bytes"},
        {"snap-m", "REPORTA_SNAP_M", F_DOUBLE, &app.cfg.snap_m, 0, GEO_SNAP_MAX_M,
         "snap distance for pins just outside every area, metres"},
        {"max-conns", "REPORTA_MAX_CONNS", F_UINT, &app.cfg.conns_max, 1, 1000000,
         "open connections, all clients"},
        {"ip-conns", "REPORTA_IP_CONNS", F_UINT, &app.cfg.ip_conns, 0, 1000000,
         "open connections per client address (0: no limit)"},
        {"ip-read-rate", "REPORTA_IP_READ_RATE", F_UINT, &app.cfg.ip_read_rate, 0, 1000000,
         "GET/HEAD requests/s per client address (0: no limit)"},
        {"ip-write-rate", "REPORTA_IP_WRITE_RATE", F_UINT, &app.cfg.ip_write_rate, 0, 1000000,
         "other requests/s per client address (0: no limit)"},
        {"key-read-rate", "REPORTA_KEY_READ_RATE", F_UINT, &app.cfg.key_read_rate, 0, 1000000,
         "GET/HEAD requests/s per API key (0: no limit)"},
        {"key-write-rate", "REPORTA_KEY_WRITE_RATE", F_UINT, &app.cfg.key_write_rate, 0, 1000000,
         "other requests/s per API key (0: no limit)"},
        {"cors-origins", "REPORTA_CORS_ORIGINS", F_STR, &app.cfg.cors_origins, 0, 0,
         "browser origins allowed to call the API, comma-separated, or *"},
        {"tile-cache-mb", "REPORTA_TILE_CACHE_MB", F_UINT, &app.cfg.tile_cache_mb, 0, 1 << 20,
         "memory for rendered tiles, MB (0: none kept)"},
        {"lookup-rate", "REPORTA_LOOKUP_RATE", F_UINT, &app.cfg.lookup_rate, 0, 1000000000,
         "tow lookups per minute per client address (0: no limit)"},
        {"areas", "REPORTA_AREAS", F_STR, &app.cfg.areas_dir, 0, 0,
         "default areas directory (its NOTICE credits the area tiles)"},
        {"webhook", "REPORTA_WEBHOOKS", F_LIST, &hooks, 0, 0,
         "URL every event is POSTed to; repeatable"},
        {"webhook-trusted", "REPORTA_WEBHOOKS_TRUSTED", F_LIST, &trusted_hooks, 0, 0,
         "the same, also given the reporter's contact and plates (SMS, e-mail gateways)"},
        {"webhook-secret", "REPORTA_WEBHOOK_SECRET", F_STR, &hook_secret, 0, 0,
         "HMAC-SHA256 key of the webhooks' signature header (required with --webhook)"},
        {"metrics-loopback", "REPORTA_METRICS_LOOPBACK", F_UINT, &app.cfg.metrics_loopback, 0,
         1, "1: GET /metrics answers requests from 127.0.0.1 and ::1 without a key"},
        {"followup-interval", "REPORTA_FOLLOWUP_INTERVAL", F_UINT, &followup_s, 1, 86400,
         "seconds between sweeps for cases due a follow-up call or a satisfaction question"},
        {"webhook-backoff-ms", "REPORTA_WEBHOOK_BACKOFF_MS", F_UINT, &hook_backoff_ms, 1,
         OUTBOX_BACKOFF_MAX_MS, "first retry's wait, doubling per attempt up to 10 minutes"},
        {"web", "REPORTA_WEB", F_STR, &web_dir, 0, 0,
         "the browser app's directory (app/, vendor.map, node_modules/); \"\": no app"},
        {"basemap-url", "REPORTA_BASEMAP_URL", F_STR, &web_opt.basemap_url, 0, 0,
         "XYZ template of the app's base map (default: this server's /tiles/areas PNG)"},
        {"basemap-attribution", "REPORTA_BASEMAP_ATTRIBUTION", F_STR,
         &web_opt.basemap_attribution, 0, 0, "credit line shown with that base map"},
        {"trusted-proxy", "REPORTA_TRUSTED_PROXIES", F_LIST, &proxy_list, 0, 0,
         "address or CIDR of a reverse proxy whose X-Forwarded-For is believed; repeatable"},
        {"tls-cert", "REPORTA_TLS_CERT", F_STR, &tls_cert_file, 0, 0,
         "PEM certificate (chain): serve HTTPS; needs --tls-key"},
        {"tls-key", "REPORTA_TLS_KEY", F_STR, &tls_key_file, 0, 0, "PEM private key of --tls-cert"},
        {0},
    };
    struct http_server *srv = NULL;
    struct geo_index *ix = NULL;
    struct geo_ctx gc = {0};
    struct rp_err err = {0};
    unsigned port = 0;
    sigset_t set;
    int sig, got, rc;

    app.cfg = (struct config){"reporta.db",
                              "media",
                              "127.0.0.1",
                              DEFAULT_AREAS_DIR,
                              8311,
                              ncpu > 0 ? (unsigned)ncpu : 1,
                              ncpu > 2 ? (unsigned)ncpu * 8 : 16,
                              APP_BODY_MAX_BYTES,
                              APP_TIMEOUT_S,
                              GEO_SNAP_DEFAULT_M,
                              APP_CONNECTIONS_MAX,
                              APP_IP_CONNECTIONS,
                              APP_IP_READ_RATE,
                              APP_IP_WRITE_RATE,
                              APP_KEY_READ_RATE,
                              APP_KEY_WRITE_RATE,
                              NULL,
                              TILES_CACHE_MB_DEFAULT,
                              APP_LOOKUP_RATE,
                              0,
                              NULL,
                              NULL,
                              NULL};
    rc = parse("serve", argc, argv, flags, NULL, 0, &got,
               "[--db FILE] [--media DIR] [--port N] [--listen ADDR] [--threads N]",
               "Runs the HTTP API. Prints 'reporta: listening on http://ADDR:PORT' as its first\n"
               "line on stdout; SIGTERM or SIGINT stop it after in-flight requests finish.");
    if (rc)
        return rc < 0 ? 0 : rc;
    for (int i = 0; i < proxy_list.n; i++) {
        struct rp_err perr = {0};
        if (proxy_add(&proxies, proxy_list.v[i], &perr) != RP_OK)
            return usage_error("serve", "%s", perr.msg);
    }
    app.cfg.proxies = &proxies;
    if (!tls_cert_file != !tls_key_file)
        return usage_error("serve", "--tls-cert and --tls-key go together");
    if (tls_cert_file) {
        static char *pem[2]; /* kept for the server's life, freed at exit (flags_free) */
        const char *files[2] = {tls_cert_file, tls_key_file};
        for (int i = 0; i < 2; i++) {
            size_t n = 0;
            FILE *fp = fopen(files[i], "r");
            if (!fp)
                return usage_error("serve", "--tls-%s %s: %s", i ? "key" : "cert", files[i],
                                   strerror(errno));
            pem[i] = calloc(1, TLS_PEM_MAX + 2);
            if (pem[i]) {
                flag_keep(pem[i], TLS_PEM_MAX + 2);
                n = fread(pem[i], 1, TLS_PEM_MAX + 1, fp);
            }
            fclose(fp);
            if (!pem[i] || n == 0 || n > TLS_PEM_MAX)
                return usage_error("serve", "--tls-%s %s: empty, or larger than %d bytes",
                                   i ? "key" : "cert", files[i], TLS_PEM_MAX);
        }
        app.cfg.tls_cert_pem = pem[0];
        app.cfg.tls_key_pem = pem[1];
    }
    if ((hooks.n || trusted_hooks.n) && (!hook_secret || strlen(hook_secret) < 16 ||
                                         strlen(hook_secret) >= STORE_SECRET_MAX))
        return usage_error("serve", "--webhook needs --webhook-secret of 16 to %d characters",
                           STORE_SECRET_MAX - 1);
    if (web_opt.basemap_url && *web_opt.basemap_url &&
        ((strncmp(web_opt.basemap_url, "http://", 7) != 0 &&
          strncmp(web_opt.basemap_url, "https://", 8) != 0) ||
         !strstr(web_opt.basemap_url, "{z}") || !strstr(web_opt.basemap_url, "{x}") ||
         !strstr(web_opt.basemap_url, "{y}") || strpbrk(web_opt.basemap_url, "\"'<> ;")))
        return usage_error("serve", "--basemap-url %s: an http(s) XYZ template with {z}, {x} "
                           "and {y}", web_opt.basemap_url);
    for (int i = 0; i < hooks.n + trusted_hooks.n; i++) {
        const char *u = i < hooks.n ? hooks.v[i] : trusted_hooks.v[i - hooks.n];
        if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) ||
            strlen(u) >= STORE_URL_MAX)
            return usage_error("serve", "--webhook %s: an http:// or https:// URL", u);
    }

    /* Block the stop signals before any thread exists: every thread inherits the mask and only
     * sigwait below receives them. SIGPIPE from a vanished client must not kill us. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&app.workers_lock, NULL);
    raise_fd_limit(app.cfg.conns_max);

    app.limits = rl_create();
    app.catalogue = cases_cache_create();
    rc = app.limits && app.catalogue
             ? serve_prepare(&app, &gc, &ix, &err)
             : rp_err_set(&err, RP_NO_MEMORY, "rate-limit table or catalogue cache");
    app.areas = ix;
    if (rc == RP_OK && (h_health_prepare(&app) != RP_OK || h_areas_prepare(&app) != RP_OK))
        rc = rp_err_set(&err, RP_NO_MEMORY, "pre-rendered replies");
    if (rc == RP_OK)
        rc = serve_maps(&app, &err);
    if (rc == RP_OK && web_dir && *web_dir) {
        rc = web_load(web_dir, &web_opt, &app.web, &err);
        if (rc == RP_NOT_FOUND) { /* the API runs without the app */
            rp_warn("serve: %s; no web app", err.msg);
            rc = RP_OK;
        } else if (rc == RP_OK) {
            rp_info("serve: web app %s: %zu files, %zu KB, build %s", web_dir, web_count(app.web),
                    web_bytes(app.web) / 1024, web_build(app.web));
        }
    }
    if (rc == RP_OK)
        rc = store_writer_start(app.cfg.db, &app.writer, &err);
    if (rc == RP_OK) {
        const char *urls[2 * FLAG_LIST_MAX];
        int trust[2 * FLAG_LIST_MAX], n = 0;
        for (int i = 0; i < hooks.n; i++)
            urls[n] = hooks.v[i], trust[n++] = 0;
        for (int i = 0; i < trusted_hooks.n; i++)
            urls[n] = trusted_hooks.v[i], trust[n++] = 1;
        rc = outbox_start(app.cfg.db, urls, trust, n, hook_secret, hook_backoff_ms, &outbox,
                          &err);
        app.outbox = outbox;
    }
    if (rc == RP_OK)
        rc = followup_start(app.cfg.db, followup_s, &followup, &err);
    if (rc == RP_OK)
        rc = listen_start(&app, &listener, &err);
    if (rc == RP_OK)
        rc = http_server_start(&app, &srv, &port, &err);
    if (rc != RP_OK) {
        listen_stop(listener);
        followup_stop(followup);
        outbox_stop(outbox);
        free(app.health_ok);
        h_areas_release(&app);
        tiles_destroy(app.tiles);
        tows_destroy(app.tows);
        scorecard_destroy(app.scorecard);
        web_destroy(app.web);
        store_writer_stop(app.writer);
        cases_cache_destroy(app.catalogue);
        rl_destroy(app.limits);
        geo_index_destroy(ix, &gc);
        geo_ctx_fini(&gc);
        return fail("serve", &err);
    }
    if (rp_log_start() != 0)
        rp_warn("serve: no logger thread; access lines are written one by one");
    printf("reporta: listening on %s://%s:%u\n", app.cfg.tls_cert_pem ? "https" : "http",
           app.cfg.listen, port);
    fflush(stdout);
    {
        char shown[512];
        store_uri_redact(app.cfg.db, shown, sizeof shown); /* never a password in the log */
        rp_info("serve: %u threads, db %s, media %s", app.cfg.threads, shown, app.cfg.media);
    }

    if (sigwait(&set, &sig) != 0)
        sig = SIGTERM;
    rp_info("serve: %s received, draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_server_stop(srv, APP_SHUTDOWN_GRACE_S);
    {
        uint64_t commits = 0, jobs = 0;
        store_writer_stats(app.writer, &commits, &jobs);
        rp_info("serve: %llu writes (reports, photos, position batches) in %llu commits",
                (unsigned long long)jobs,
                (unsigned long long)commits);
    }
    store_writer_stop(app.writer); /* after the daemon: no request waits on it any more */
    listen_stop(listener);         /* before the tiles it updates */
    followup_stop(followup);
    outbox_stop(outbox);           /* what it had not delivered stays due in the database */
    worker_destroy_all(&app);
    tiles_destroy(app.tiles);
    tows_destroy(app.tows);
    scorecard_destroy(app.scorecard);
    web_destroy(app.web);
    free(app.health_ok);
    h_areas_release(&app);
    cases_cache_destroy(app.catalogue);
    rl_destroy(app.limits);
    geo_index_destroy(ix, &gc);
    geo_ctx_fini(&gc);
    pthread_mutex_destroy(&app.workers_lock);
    geo_areatile_shutdown(); /* every drawing thread has stopped */
    rp_info("serve: stopped cleanly");
    rp_log_stop();
    return 0;
}

/* ---- main ---- */

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *about;
} commands[] = {
    {"init", cmd_init, "create or migrate the database and import the default areas"},
    {"serve", cmd_serve, "run the HTTP API"},
    {"import-areas", cmd_import_areas, "import a boundary layer (GeoJSON or Shapefile)"},
    {"keys", cmd_keys, "create, list and revoke API keys"},
    {"backup", cmd_backup, "copy the database while the server runs, and check the copy"},
};

int main(int argc, char **argv)
{
    const char *lvl = getenv("REPORTA_LOG_LEVEL");

    atexit(flags_free);
    if (lvl && strcmp(lvl, "warn") == 0)
        rp_log_set_level(RP_LOG_WARN);
    else if (lvl && strcmp(lvl, "debug") == 0)
        rp_log_set_level(RP_LOG_DEBUG);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "reporta: libcurl could not be initialised\n");
        return 1;
    }
    if (store_global_init() != RP_OK) {
        fprintf(stderr, "reporta: SQLite could not be configured\n");
        return 1;
    }
    if (argc >= 2)
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(argv[1], commands[i].name) == 0)
                return commands[i].run(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0) {
        fprintf(stderr, "reporta: unknown command '%s' (see reporta --help)\n", argv[1]);
        return EXIT_USAGE;
    }
    printf("usage: reporta COMMAND [FLAGS]    (reporta COMMAND --help for its flags)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-14s %s\n", commands[i].name, commands[i].about);
    return argc >= 2 ? 0 : EXIT_USAGE;
}
