/*
 * server/tiles.c - the map layers (see tiles.h). One table describes the layers; a request is
 * parsed into a tile and a normalised filter, looked up in the cache (whose key includes a
 * heat tile's scale, so tiles drawn at one scale are never mixed with another's), else
 * rendered: heat and cases from the case map, areas from the area index. A tile's version
 * is captured before rendering, so a change committed meanwhile leaves the new tile stale.
 * The empty heat tiles (256 and 512 px) are encoded once and shared.
 */
#include "server/tiles.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "geo/areatile.h"

#define ATTRIBUTION_MAX 512

/* clang-format off */
static const struct layer {
    const char *name;
    unsigned formats;   /* 1 << enum tiles_format */
    int is_static;      /* cached tiles never go stale */
    double ttl_s;       /* cached tiles expire (0: when a case change touches them) */
    int max_age_s;      /* Cache-Control */
    const char *about;
} layers[TILES__COUNT] = {
    [TILES_HEAT]  = {"heat",  1u << TILES_PNG, 0, 0, TILES_HEAT_MAX_AGE_S,
                     "heatmap of open cases (weight 1 + confirmations)"},
    [TILES_CASES] = {"cases", 1u << TILES_MVT, 0, TILES_CASES_TTL_S, TILES_HEAT_MAX_AGE_S,
                     "open cases: a point per case, clustered where pins would overlap (8 px)"},
    [TILES_AREAS] = {"areas", 1u << TILES_PNG | 1u << TILES_MVT, 1, 0, TILES_AREAS_MAX_AGE_S,
                     "provincias, distritos and corregimientos"},
};
/* clang-format on */

struct tiles {
    struct app *app;
    struct casemap *cm;
    struct tilecache *cache;
    struct tile_body *empty[2]; /* transparent 256 and 512 px PNGs */
    double bounds[4];
    char attribution[ATTRIBUTION_MAX];
};

/* The credit line of the shipped areas' NOTICE ("Credit line: ..."), or a generic one. */
static void read_attribution(const char *dir, char out[ATTRIBUTION_MAX])
{
    char path[4096], line[ATTRIBUTION_MAX], text[ATTRIBUTION_MAX] = "";
    FILE *fp;
    int in = 0;

    snprintf(out, ATTRIBUTION_MAX, "Boundaries: see the NOTICE of the areas in use");
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/NOTICE", dir);
    fp = fopen(path, "r");
    while (fp && fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (!in && strncmp(line, "Credit line:", 12) == 0) {
            in = 1;
            snprintf(text, sizeof text, "%s", line + 12);
        } else if (in && line[0]) {
            size_t n = strlen(text), k = strlen(line);
            if (n + 1 + k < sizeof text) { /* a credit cut in the middle would misattribute */
                text[n] = ' ';
                memcpy(text + n + 1, line, k + 1);
            }
        } else if (in) {
            break;
        }
    }
    if (fp)
        fclose(fp);
    if (text[0]) {
        char *s = text, *q;
        while (*s == ' ' || *s == '"')
            s++;
        q = s + strlen(s);
        while (q > s && (q[-1] == ' ' || q[-1] == '"' || q[-1] == '.'))
            *--q = '\0';
        snprintf(out, ATTRIBUTION_MAX, "%s", s);
    }
}

static void bounds_of(const struct geo_index *ix, struct geo_ctx *gc, double b[4])
{
    size_t n = geo_index_count(ix, RP_LEVEL_PROVINCIA);

    b[0] = b[1] = INFINITY;
    b[2] = b[3] = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const struct geo_area *a = geo_index_at(ix, RP_LEVEL_PROVINCIA, i);
        double x0, y0, x1, y1;
        GEOSGeom_getXMin_r(gc->geos, a->geom, &x0);
        GEOSGeom_getYMin_r(gc->geos, a->geom, &y0);
        GEOSGeom_getXMax_r(gc->geos, a->geom, &x1);
        GEOSGeom_getYMax_r(gc->geos, a->geom, &y1);
        b[0] = fmin(b[0], x0), b[1] = fmin(b[1], y0), b[2] = fmax(b[2], x1), b[3] = fmax(b[3], y1);
    }
    if (!n) { /* no areas: the world */
        b[0] = -180, b[1] = -GEO_MERC_LAT_MAX, b[2] = 180, b[3] = GEO_MERC_LAT_MAX;
    }
}

int tiles_create(struct app *app, size_t cache_bytes, struct tiles **out, struct rp_err *err)
{
    struct tiles *t = calloc(1, sizeof *t);
    struct geo_ctx gc;
    int rc = RP_OK;

    *out = NULL;
    if (!t)
        return rp_err_set(err, RP_NO_MEMORY, "tiles");
    t->app = app;
    t->cm = casemap_create();
    t->cache = tilecache_create(cache_bytes);
    if (!t->cm || !t->cache)
        rc = rp_err_set(err, RP_NO_MEMORY, "tiles");
    for (int k = 0; rc == RP_OK && k < 2; k++) {
        unsigned char *png;
        size_t len;
        rc = geo_heat_empty_png(k ? 512 : 256, &png, &len, err);
        if (rc == RP_OK) {
            t->empty[k] = tile_body_new(png, len, "image/png", 1, 0, 0);
            free(png);
            if (!t->empty[k])
                rc = rp_err_set(err, RP_NO_MEMORY, "empty tile");
        }
    }
    if (rc == RP_OK)
        rc = geo_ctx_init(&gc, err);
    if (rc == RP_OK) {
        bounds_of(app->areas, &gc, t->bounds);
        geo_ctx_fini(&gc);
    }
    read_attribution(app->cfg.areas_dir, t->attribution);
    if (rc != RP_OK) {
        tiles_destroy(t);
        return rc;
    }
    *out = t;
    return RP_OK;
}

void tiles_destroy(struct tiles *t)
{
    if (!t)
        return;
    casemap_destroy(t->cm);
    tilecache_destroy(t->cache);
    tile_body_release(t->empty[0]);
    tile_body_release(t->empty[1]);
    free(t);
}

int tiles_load(struct tiles *t, struct store *s, struct rp_err *err)
{
    return casemap_load(t->cm, s, err);
}

struct casemap *tiles_casemap(struct tiles *t) { return t->cm; }

void tiles_cache_stats(struct tiles *t, struct tilecache_stats *out)
{
    tilecache_stats(t->cache, out);
}

int tiles_layer_find(const char *name)
{
    for (int l = 0; l < TILES__COUNT; l++)
        if (strcmp(layers[l].name, name) == 0)
            return l;
    return -1;
}

const char *tiles_layer_name(enum tiles_layer l) { return layers[l].name; }

int tiles_max_age(enum tiles_layer l) { return layers[l].max_age_s; }

/* ---- parsing ---- */

static int number(const char *s, long long max, long long *out)
{
    long long v = 0;

    if (!s || !*s || strlen(s) > 8)
        return 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return 0;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return v <= max;
}

static int code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= STORE_CODE_MAX)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return 0;
    return 1;
}

/* "2026-11-01", "2026-11-01T08:30", "2026-11-01T08:30:00Z": UTC, to epoch seconds. */
static int date_parse(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    struct tm tm = {0};

    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        return 0;
    if (s[n] == 'T') {
        int m = 0;
        if (sscanf(s + n, "T%2d:%2d%n", &h, &mi, &m) != 2)
            return 0;
        n += m;
        if (s[n] == ':') {
            if (sscanf(s + n, ":%2d%n", &sec, &m) != 1)
                return 0;
            n += m;
        }
        if (s[n] == 'Z')
            n++;
    }
    if (s[n] || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
        return 0;
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
    tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm);
    return 1;
}

static void query_add(char *q, const char *key, const char *value)
{
    size_t n = strlen(q);
    snprintf(q + n, TILECACHE_QUERY_MAX - n, "%s%s=%s", n ? "&" : "", key, value);
}

int tiles_filter_parse(const struct tiles_params *p, struct tiles_request *r, struct rp_err *err)
{
    struct casemap_filter *f = &r->filter;
    const char *codes[3] = {p->service, p->entity, p->area};
    char *dst[3] = {r->service, r->entity, r->area};
    static const char *const keys[3] = {"service", "entity", "area"};

    memset(f, 0, sizeof *f);
    r->query[0] = '\0';
    for (int i = 0; i < 3; i++) {
        dst[i][0] = '\0';
        if (!codes[i])
            continue;
        if (!code_ok(codes[i]))
            return rp_err_set(err, RP_INVALID_ARGUMENT, "%s: '%.40s' is not a code", keys[i],
                              codes[i]);
        snprintf(dst[i], STORE_CODE_MAX, "%s", codes[i]);
    }
    f->service = r->service[0] ? r->service : NULL;
    f->entity = r->entity[0] ? r->entity : NULL;
    f->area = r->area[0] ? r->area : NULL;
    if (p->status) { /* a comma list of open statuses */
        char buf[128];
        snprintf(buf, sizeof buf, "%s", p->status);
        for (char *save = NULL, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
            unsigned bit = casemap_status_bit(s);
            if (!bit)
                return rp_err_set(err, RP_INVALID_ARGUMENT,
                                  "status: '%.40s' is not an open status (received, assigned, "
                                  "in_progress): tiles show open cases; closed ones are in "
                                  "/api/v1/reports",
                                  s);
            f->statuses |= bit;
        }
    }
    if (p->since && !date_parse(p->since, &f->since))
        return rp_err_set(err, RP_INVALID_ARGUMENT,
                          "since: '%.40s' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)",
                          p->since);
    if (p->overdue) {
        if (!strcmp(p->overdue, "1") || !strcmp(p->overdue, "true"))
            f->overdue = 1;
        else if (strcmp(p->overdue, "0") && strcmp(p->overdue, "false"))
            return rp_err_set(err, RP_INVALID_ARGUMENT, "overdue: true or false");
    }
    /* the same filter, spelled one way: the cache key and the TileJSON's tile URLs */
    if (f->service)
        query_add(r->query, "service", f->service);
    if (f->entity)
        query_add(r->query, "entity", f->entity);
    if (f->statuses && f->statuses != CASEMAP_OPEN) {
        char s[64] = "";
        if (f->statuses & CASEMAP_RECEIVED)
            strcat(s, "received,");
        if (f->statuses & CASEMAP_ASSIGNED)
            strcat(s, "assigned,");
        if (f->statuses & CASEMAP_IN_PROGRESS)
            strcat(s, "in_progress,");
        s[strlen(s) - 1] = '\0';
        query_add(r->query, "status", s);
    }
    if (f->area)
        query_add(r->query, "area", f->area);
    if (f->since) {
        char s[32];
        time_t tt = (time_t)f->since;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        query_add(r->query, "since", s);
    }
    if (f->overdue)
        query_add(r->query, "overdue", "true");
    return RP_OK;
}

int tiles_parse(enum tiles_layer layer, const char *z, const char *x, const char *file,
                const struct tiles_params *p, struct tiles_request *r, struct rp_err *err)
{
    long long zz, xx, yy;
    char ybuf[16];
    const char *dot;
    size_t n;

    memset(r, 0, sizeof *r);
    r->layer = layer;
    dot = file ? strchr(file, '.') : NULL;
    n = dot ? (size_t)(dot - file) : 0;
    if (n >= 3 && strncmp(dot - 3, "@2x", 3) == 0) {
        r->size_2x = 1;
        n -= 3;
    }
    if (!dot || n == 0 || n >= sizeof ybuf)
        return rp_err_set(err, RP_INVALID_TILE, "the tile is /tiles/%s/{z}/{x}/{y}.%s",
                          layers[layer].name, layer == TILES_CASES ? "mvt" : "png");
    memcpy(ybuf, file, n);
    ybuf[n] = '\0';
    if (!strcmp(dot, ".png"))
        r->format = TILES_PNG;
    else if (!strcmp(dot, ".mvt") || !strcmp(dot, ".pbf"))
        r->format = TILES_MVT;
    else
        return rp_err_set(err, RP_INVALID_TILE, "unknown tile format '%.10s'", dot);
    if (!(layers[layer].formats & (1u << r->format)) || (r->size_2x && r->format != TILES_PNG))
        return rp_err_set(err, RP_INVALID_TILE, "the %s layer has no %s%s tiles",
                          layers[layer].name, r->size_2x ? "@2x " : "",
                          r->format == TILES_PNG ? "PNG" : "vector");
    if (!number(z, GEO_TILE_ZMAX, &zz) || !number(x, 1LL << 30, &xx) ||
        !number(ybuf, 1LL << 30, &yy) || !geo_tile_valid((int)zz, xx, yy))
        return rp_err_set(err, RP_INVALID_TILE,
                          "z must be 0..%d and x, y 0..2^z-1 (got %.12s/%.12s/%.12s)",
                          GEO_TILE_ZMAX, z ? z : "", x ? x : "", ybuf);
    r->z = (int)zz;
    r->x = (uint32_t)xx;
    r->y = (uint32_t)yy;
    return layer == TILES_AREAS ? RP_OK : tiles_filter_parse(p, r, err);
}

/* ---- rendering ---- */

static int render_heat(struct tiles *t, const struct tiles_request *r, double scale,
                       uint32_t version, struct tile_body **out, struct rp_err *err)
{
    struct geo_tile tile = {r->z, r->x, r->y};
    struct geo_heat h;
    unsigned char *png = NULL;
    size_t len = 0;
    int empty = 1, rc = geo_heat_init(&h, r->size_2x ? 512 : 256, err);

    if (rc == RP_OK)
        rc = casemap_heat(t->cm, &r->filter, &tile, &h, NULL, err);
    if (rc == RP_OK)
        rc = geo_heat_png(&h, scale, &png, &len, &empty, err);
    geo_heat_fini(&h);
    if (rc == RP_OK && empty) {
        *out = t->empty[r->size_2x];
        atomic_fetch_add(&(*out)->refs, 1);
    } else if (rc == RP_OK) {
        *out = tile_body_new(png, len, "image/png", 0, version, 0);
        if (!*out)
            rc = rp_err_set(err, RP_NO_MEMORY, "tile");
    }
    free(png);
    return rc;
}

static int render_mvt(struct tiles *t, struct worker *w, const struct tiles_request *r,
                      uint32_t version, struct tile_body **out, struct rp_err *err)
{
    struct geo_tile tile = {r->z, r->x, r->y};
    struct geo_mvt *m = geo_mvt_create();
    unsigned char *bytes = NULL;
    size_t len = 0;
    int rc = m ? RP_OK : rp_err_set(err, RP_NO_MEMORY, "vector tile");

    if (rc == RP_OK && r->layer == TILES_CASES) {
        int layer = geo_mvt_layer(m, "cases");
        rc = layer < 0 ? rp_err_set(err, RP_NO_MEMORY, "vector tile")
                       : casemap_mvt(t->cm, &r->filter, &tile, m, layer, (int64_t)time(NULL), err);
    } else if (rc == RP_OK) {
        rc = geo_areatile_mvt(t->app->areas, &w->geo, &tile, m, err);
    }
    if (rc == RP_OK)
        rc = geo_mvt_encode(m, &bytes, &len, err);
    if (rc == RP_OK) {
        *out = tile_body_new(bytes, len, "application/vnd.mapbox-vector-tile",
                             layers[r->layer].is_static, version, layers[r->layer].ttl_s);
        if (!*out)
            rc = rp_err_set(err, RP_NO_MEMORY, "tile");
    }
    free(bytes);
    geo_mvt_destroy(m);
    return rc;
}

static int render_area_png(struct tiles *t, struct worker *w, const struct tiles_request *r,
                           struct tile_body **out, struct rp_err *err)
{
    struct geo_tile tile = {r->z, r->x, r->y};
    unsigned char *png = NULL;
    size_t len = 0;
    int rc =
        geo_areatile_png(t->app->areas, &w->geo, &tile, r->size_2x ? 512 : 256, &png, &len, err);

    if (rc == RP_OK) {
        *out = tile_body_new(png, len, "image/png", 1, 0, 0);
        if (!*out)
            rc = rp_err_set(err, RP_NO_MEMORY, "tile");
    }
    free(png);
    return rc;
}

int tiles_get(struct tiles *t, struct worker *w, const struct tiles_request *r,
              struct tile_body **out, int *hit, struct rp_err *err)
{
    struct tile_key k;
    double scale = 0;
    uint32_t version;
    int rc;

    *out = NULL;
    *hit = 1; /* the empty tile counts as one */
    if (r->layer == TILES_HEAT) {
        scale = casemap_heat_scale(t->cm, &r->filter, r->z, r->size_2x ? 512 : 256);
        if (scale <= 0) { /* nothing matches anywhere */
            *out = t->empty[r->size_2x];
            atomic_fetch_add(&(*out)->refs, 1);
            return RP_OK;
        }
    }
    memset(&k, 0, sizeof k);
    k.layer = (uint8_t)r->layer;
    k.z = (uint8_t)r->z;
    k.size_2x = (uint8_t)r->size_2x;
    k.format = (uint8_t)r->format;
    k.x = r->x;
    k.y = r->y;
    k.heat_scale = scale;
    snprintf(k.query, sizeof k.query, "%s", r->query);
    version = tilecache_version(t->cache, r->z, r->x, r->y); /* before reading any case */
    *out = tilecache_get(t->cache, &k);
    if (*out)
        return RP_OK;
    *hit = 0;
    if (r->layer == TILES_HEAT)
        rc = render_heat(t, r, scale, version, out, err);
    else if (r->format == TILES_MVT)
        rc = render_mvt(t, w, r, version, out, err);
    else
        rc = render_area_png(t, w, r, out, err);
    if (rc == RP_OK && *out != t->empty[0] && *out != t->empty[1])
        tilecache_put(t->cache, &k, *out);
    return rc;
}

/* ---- TileJSON ---- */

static json_t *vector_layers(enum tiles_layer l)
{
    if (l == TILES_CASES)
        return json_pack("[{s:s, s:s, s:i, s:i, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                         "s:s, s:s, s:s}}]",
                         "id", "cases", "description", layers[l].about, "minzoom", 0, "maxzoom",
                         GEO_TILE_ZMAX, "fields", "id", "String (case number)", "service", "String",
                         "status", "String", "entity", "String", "age_hours", "Number", "overdue",
                         "Boolean", "confirmations", "Number", "cluster",
                         "Boolean (clusters)", "count", "Number (clusters)", "received",
                         "Number (clusters)", "assigned", "Number (clusters)", "in_progress",
                         "Number (clusters)");
    json_t *v = json_array();
    for (int lv = 0; v && lv < RP_LEVEL_COUNT; lv++)
        json_array_append_new(
            v, json_pack("{s:s, s:i, s:i, s:{s:s, s:s}}", "id", rp_level_name((enum rp_level)lv),
                         "minzoom", geo_areatile_minzoom_mvt((enum rp_level)lv), "maxzoom",
                         GEO_TILE_ZMAX, "fields", "code", "String", "name", "String"));
    return v;
}

json_t *tiles_tilejson(struct tiles *t, enum tiles_layer l, const char *base,
                       const struct tiles_request *f)
{
    char url[1024];
    int png = f->format == TILES_PNG;
    json_t *j;

    snprintf(url, sizeof url, "%s/tiles/%s/{z}/{x}/{y}.%s%s%s", base, layers[l].name,
             png ? "png" : "mvt", f->query[0] ? "?" : "", f->query);
    j = json_pack(
        "{s:s, s:s, s:s, s:[s], s:i, s:i, s:[f, f, f, f], s:[f, f, i], s:s, s:s}", "tilejson",
        "3.0.0", "name", layers[l].name, "description", layers[l].about, "tiles", url, "minzoom", 0,
        "maxzoom", l == TILES_AREAS ? GEO_AREATILE_ZOOM_MAX : GEO_TILE_ZMAX, "bounds", t->bounds[0],
        t->bounds[1], t->bounds[2], t->bounds[3], "center", (t->bounds[0] + t->bounds[2]) / 2,
        (t->bounds[1] + t->bounds[3]) / 2, 7, "attribution",
        l == TILES_AREAS ? t->attribution : "Casos: 311 Panamá (reporta)", "scheme", "xyz");
    if (j && !png)
        json_object_set_new(j, "vector_layers", vector_layers(l));
    return j;
}

/* ---- changes ---- */

static void touch_around(struct tiles *t, double lon, double lat)
{
    for (int z = 0; z <= GEO_TILE_ZMAX; z++) {
        double wx, wy, n = ldexp(1.0, z), r = (double)GEO_HEAT_RADIUS_PX / 256.0;
        geo_world_from_lonlat(lon, lat, z, &wx, &wy);
        long x0 = (long)floor(wx - r), x1 = (long)floor(wx + r);
        long y0 = (long)floor(wy - r), y1 = (long)floor(wy + r);
        for (long y = y0; y <= y1; y++)
            for (long x = x0; x <= x1; x++)
                if (x >= 0 && y >= 0 && x < n && y < n)
                    tilecache_touch(t->cache, z, (uint32_t)x, (uint32_t)y);
    }
}

void tiles_case_changed(struct tiles *t, const struct store_point *p)
{
    struct rp_err err = {0};
    double was[2];

    if (casemap_put(t->cm, p, was, &err) != RP_OK)
        rp_warn("tiles: case %lld left out of the map: %s", (long long)p->id, err.msg);
    touch_around(t, p->lon, p->lat);
    if (!isnan(was[0]) && (was[0] != p->lon || was[1] != p->lat))
        touch_around(t, was[0], was[1]);
}

static int reload_one(void *ctx, const struct store_point *p, struct rp_err *err)
{
    (void)err;
    tiles_case_changed(ctx, p);
    return RP_OK;
}

void tiles_case_reload(struct tiles *t, struct store *s, int64_t id)
{
    struct rp_err err = {0};
    int found;

    if (store_point_get(s, id, reload_one, t, &found, &err) != RP_OK)
        rp_warn("tiles: case %lld not re-read after its change: %s", (long long)id, err.msg);
}
