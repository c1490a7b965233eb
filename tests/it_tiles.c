/*
 * tests/it_tiles.c - the map layers on the real server, decoded as a client would (libpng for
 * PNGs, protobuf-c for vector tiles): an empty heat tile is fully transparent; a tile over a
 * cluster of leaks is hottest there; two neighbouring tiles agree along their shared edge; a
 * new case re-renders the tile that covers it and leaves a far one cached; a case tile decodes
 * with its layer, extent and attributes, clustered at low zoom; no tile carries a reporter's
 * name, email, phone, address or description; bad z/x/y are 400 invalid_tile; a matching
 * If-None-Match is 304; TileJSON points at the tiles; area tiles have their three layers; and
 * hotspots find a planted cluster of sewer reports and not scattered ones; and tiles read by
 * several threads while cases are committed (the scripts/test TSan stage runs this too) come
 * back whole and, at the end, show every case.
 * usage: it_tiles PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <jansson.h>
#include <math.h>
#include <png.h>
#include <pthread.h>
#include <stdatomic.h>

#include "geo/tile.h"
#include "it.h"
#include "vector_tile.pb-c.h"

static struct it_server srv;

/* A quiet place (Boquete) for the planted leaks, and the seam point further east. */
#define LEAK_LAT 8.7800
#define LEAK_LON (-82.4400)

struct image {
    int w, h;
    unsigned char *rgba;
};

static int png_decode(const struct it_reply *r, struct image *im)
{
    png_image p;

    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    im->rgba = NULL;
    if (!png_image_begin_read_from_memory(&p, r->body, r->len))
        return -1;
    p.format = PNG_FORMAT_RGBA;
    im->w = (int)p.width;
    im->h = (int)p.height;
    im->rgba = malloc(PNG_IMAGE_SIZE(p));
    if (!im->rgba || !png_image_finish_read(&p, NULL, im->rgba, 0, NULL)) {
        free(im->rgba);
        im->rgba = NULL;
        return -1;
    }
    return 0;
}

static int alpha(const struct image *im, int x, int y)
{
    return im->rgba[((size_t)y * im->w + x) * 4 + 3];
}

static int get(const char *path, struct it_reply *r)
{
    int rc = it_get(&srv, path, r);
    if (rc == 0 && r->status != 200)
        fprintf(stderr, "GET %s: %ld %.200s\n", path, r->status, r->body);
    return rc;
}

static const char *header(const struct it_reply *r, const char *name, char *out, size_t len)
{
    const char *h = r->headers;
    size_t n = strlen(name);

    out[0] = '\0';
    for (; h && *h; h = strchr(h, '\n') ? strchr(h, '\n') + 1 : NULL)
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            const char *v = h + n + 1;
            size_t k = 0;
            while (*v == ' ')
                v++;
            while (v[k] && v[k] != '\r' && v[k] != '\n' && k + 1 < len)
                k++;
            memcpy(out, v, k);
            out[k] = '\0';
            return out;
        }
    return out;
}

static void tile_path(char *out, size_t len, const char *layer, int z, double lon, double lat,
                      int dx, const char *ext)
{
    struct geo_tile t;
    geo_tile_at(z, lon, lat, &t);
    snprintf(out, len, "/tiles/%s/%d/%u/%u.%s", layer, z, t.x + (uint32_t)dx, t.y, ext);
}

static int report(const char *service, double lat, double lon, const char *extra, char id[32])
{
    char body[1024];
    struct it_reply r;
    json_t *j;
    int ok;

    snprintf(body, sizeof body, "{\"service_code\":\"%s\",\"lat\":%.7f,\"lon\":%.7f%s%s}", service,
             lat, lon, extra ? "," : "", extra ? extra : "");
    if (it_send(&srv, "POST", "/api/v1/reports", NULL, body, &r) != 0)
        return -1;
    j = it_json(&r);
    ok = r.status == 201;
    if (ok && id)
        snprintf(id, 32, "%s", json_string_value(json_object_get(j, "id")));
    if (!ok)
        fprintf(stderr, "report: %ld %s\n", r.status, r.body);
    json_decref(j);
    free(r.body);
    return ok ? 0 : -1;
}

static void test_an_empty_heat_tile_is_transparent(void)
{
    struct it_reply r;
    struct image im;
    int opaque = 0;

    CHECK(get("/tiles/heat/12/1143/1945.png", &r) == 0); /* no case anywhere yet */
    CHECK_INT_EQ(r.status, 200);
    CHECK(strstr(r.headers, "image/png") != NULL);
    CHECK(png_decode(&r, &im) == 0);
    CHECK_INT_EQ(im.w, 256);
    for (int y = 0; im.rgba && y < im.h; y++)
        for (int x = 0; x < im.w; x++)
            opaque += alpha(&im, x, y) != 0;
    CHECK_INT_EQ(opaque, 0);
    free(im.rgba);
    free(r.body);
}

static void test_the_hottest_pixels_are_over_the_cluster(void)
{
    char path[128];
    struct geo_tile t;
    struct it_reply r;
    struct image im;
    double px, py, sx = 0, sy = 0, bx, by;
    int best = -1, n = 0;

    srand(5);
    for (int i = 0; i < 20; i++) /* 20 leaks within ~20 m */
        CHECK(report("fuga_agua", LEAK_LAT + (rand() % 200 - 100) * 2e-6,
                     LEAK_LON + (rand() % 200 - 100) * 2e-6, NULL, NULL) == 0);
    CHECK(report("hueco", LEAK_LAT + 0.01, LEAK_LON + 0.01, NULL, NULL) == 0); /* not a leak */
    geo_tile_at(14, LEAK_LON, LEAK_LAT, &t);
    snprintf(path, sizeof path, "/tiles/heat/14/%u/%u.png?service=fuga_agua", t.x, t.y);
    CHECK(get(path, &r) == 0);
    CHECK(png_decode(&r, &im) == 0);
    for (int y = 0; im.rgba && y < im.h; y++)
        for (int x = 0; x < im.w; x++)
            best = alpha(&im, x, y) > best ? alpha(&im, x, y) : best;
    for (int y = 0; im.rgba && y < im.h; y++) /* the hottest plateau's centre */
        for (int x = 0; x < im.w; x++)
            if (alpha(&im, x, y) == best)
                sx += x + 0.5, sy += y + 0.5, n++;
    bx = n ? sx / n : -1;
    by = n ? sy / n : -1;
    geo_tile_pixel(&t, 256, LEAK_LON, LEAK_LAT, &px, &py);
    CHECK(best > 150);
    if (hypot(bx - px, by - py) > 4)
        CHECK_REPORT("the hottest pixels centre on (%.1f, %.1f), %.1f px from the cluster at "
                     "(%.1f, %.1f)",
                     bx, by, hypot(bx - px, by - py), px, py);
    CHECK_INT_EQ(alpha(&im, 0, 0), 0); /* a corner ~1 km away is clear */
    free(im.rgba);
    free(r.body);
}

static void test_neighbouring_tiles_agree_along_their_edge(void)
{
    struct geo_tile t;
    double b[4];
    char left[128], right[128];
    struct it_reply rl, rr;
    struct image a, c;
    int worst = 0, drawn = 0;

    /* a cluster right on a z15 tile edge, east of the leaks */
    geo_tile_at(15, LEAK_LON + 0.05, LEAK_LAT, &t);
    geo_tile_bounds_lonlat(&t, b);
    for (int i = 0; i < 12; i++)
        CHECK(report("fuga_agua", LEAK_LAT + (i % 4 - 1.5) * 3e-5, b[0] + (i / 4 - 1) * 3e-5, NULL,
                     NULL) == 0);
    snprintf(left, sizeof left, "/tiles/heat/15/%u/%u.png", t.x - 1, t.y);
    snprintf(right, sizeof right, "/tiles/heat/15/%u/%u.png", t.x, t.y);
    CHECK(get(left, &rl) == 0 && get(right, &rr) == 0);
    CHECK(png_decode(&rl, &a) == 0 && png_decode(&rr, &c) == 0);
    for (int y = 0; a.rgba && c.rgba && y < 256; y++) {
        int d = abs(alpha(&a, 255, y) - alpha(&c, 0, y));
        worst = d > worst ? d : worst;
        drawn += alpha(&a, 255, y) > 100;
    }
    CHECK(drawn > 5); /* the edge crosses the cluster: there is something to compare */
    if (worst > 12)
        CHECK_REPORT("edge columns differ by up to %d of 255 in alpha", worst);
    free(a.rgba), free(c.rgba), free(rl.body), free(rr.body);
}

static void test_a_new_case_rerenders_only_the_tiles_that_show_it(void)
{
    char near[128], far[128], e1[64], e2[64], f1[64], f2[64], hit[16];
    struct it_reply r;

    CHECK(report("hueco", 9.3500, -79.9000, NULL, NULL) == 0); /* Colón, far away */
    tile_path(near, sizeof near, "heat", 14, LEAK_LON, LEAK_LAT, 0, "png");
    tile_path(far, sizeof far, "heat", 14, -79.9000, 9.3500, 0, "png?service=hueco");
    CHECK(get(near, &r) == 0);
    header(&r, "ETag", e1, sizeof e1);
    free(r.body);
    CHECK(get(far, &r) == 0);
    header(&r, "ETag", f1, sizeof f1);
    free(r.body);
    CHECK(get(far, &r) == 0); /* cached now */
    CHECK_STR_EQ(header(&r, "X-Cache", hit, sizeof hit), "HIT");
    free(r.body);
    CHECK(report("fuga_agua", LEAK_LAT + 0.0004, LEAK_LON + 0.0004, NULL, NULL) == 0);
    CHECK(get(near, &r) == 0);
    CHECK_STR_EQ(header(&r, "X-Cache", hit, sizeof hit), "MISS"); /* re-rendered */
    header(&r, "ETag", e2, sizeof e2);
    CHECK(strcmp(e1, e2) != 0);
    free(r.body);
    CHECK(get(far, &r) == 0);
    CHECK_STR_EQ(header(&r, "X-Cache", hit, sizeof hit), "HIT"); /* untouched */
    header(&r, "ETag", f2, sizeof f2);
    CHECK_STR_EQ(f1, f2);
    free(r.body);
}

static const VectorTile__Tile__Layer *layer_of(const VectorTile__Tile *t, const char *name)
{
    for (size_t i = 0; t && i < t->n_layers; i++)
        if (strcmp(t->layers[i]->name, name) == 0)
            return t->layers[i];
    return NULL;
}

/* The value of key on feature f, or NULL. */
static const VectorTile__Tile__Value *value_of(const VectorTile__Tile__Layer *l,
                                               const VectorTile__Tile__Feature *f, const char *key)
{
    for (size_t i = 0; i + 1 < f->n_tags; i += 2)
        if (f->tags[i] < l->n_keys && strcmp(l->keys[f->tags[i]], key) == 0 &&
            f->tags[i + 1] < l->n_values)
            return l->values[f->tags[i + 1]];
    return NULL;
}

/* The cases of a case tile: features without "count" are cases of `service`, each with exactly
 * the public attributes; clusters carry count, received, assigned, in_progress (adding up) and cluster. */
static long tile_cases(const char *path, const char *service, long *cases, long *clusters)
{
    static const char *const keys[] = {"id",        "service", "status",       "entity",
                                       "age_hours", "overdue", "confirmations"};
    static const char *const ckeys[] = {"count", "received", "assigned", "in_progress", "cluster"};
    struct it_reply r;
    VectorTile__Tile *t;
    const VectorTile__Tile__Layer *l;
    long total = 0;

    *cases = *clusters = 0;
    if (get(path, &r) != 0)
        return -1;
    CHECK(strstr(r.headers, "application/vnd.mapbox-vector-tile") != NULL);
    t = vector_tile__tile__unpack(NULL, r.len, (const uint8_t *)r.body);
    CHECK(t != NULL);
    l = layer_of(t, "cases");
    CHECK(l != NULL);
    if (l) {
        CHECK_INT_EQ(l->version, 2);
        CHECK_INT_EQ(l->extent, 4096);
    }
    for (size_t i = 0; l && i < l->n_features; i++) {
        const VectorTile__Tile__Feature *f = l->features[i];
        const VectorTile__Tile__Value *c = value_of(l, f, "count");
        CHECK_INT_EQ(f->type, VECTOR_TILE__TILE__GEOM_TYPE__POINT);
        CHECK(f->n_geometry == 3 && f->geometry[0] == (1u << 3 | 1)); /* one MoveTo */
        if (c) {
            long sum = 0;
            for (size_t k = 0; k < sizeof ckeys / sizeof ckeys[0]; k++)
                if (!value_of(l, f, ckeys[k]))
                    CHECK_REPORT("cluster %zu has no %s", i, ckeys[k]);
            for (size_t k = 1; k < 4; k++)
                sum += value_of(l, f, ckeys[k]) ? (long)value_of(l, f, ckeys[k])->sint_value : 0;
            CHECK(c->sint_value >= 2);
            CHECK_INT_EQ(sum, (long)c->sint_value);
            CHECK(f->n_tags == 2 * (sizeof ckeys / sizeof ckeys[0]));
            total += (long)c->sint_value;
            ++*clusters;
            continue;
        }
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (!value_of(l, f, keys[k]))
                CHECK_REPORT("feature %zu has no %s", i, keys[k]);
        const VectorTile__Tile__Value *sv = value_of(l, f, "service");
        CHECK(sv && sv->string_value && strcmp(sv->string_value, service) == 0);
        CHECK(f->n_tags == 2 * (sizeof keys / sizeof keys[0])); /* and nothing else */
        total++;
        ++*cases;
    }
    vector_tile__tile__free_unpacked(t, NULL);
    free(r.body);
    return total;
}

static void test_a_case_tile_decodes_with_its_layer_and_attributes(void)
{
    char path[128];
    long cases, clusters;

    /* the 20 planted leaks lie within ~20 m of the centre of their z17 tile (8 px = 9.4 m):
     * some are cases, some share a cell */
    tile_path(path, sizeof path, "cases", 17, LEAK_LON, LEAK_LAT, 0, "mvt?service=fuga_agua");
    long at17 = tile_cases(path, "fuga_agua", &cases, &clusters);
    CHECK(cases >= 1);
    CHECK_INT_EQ(at17, 21);
    tile_path(path, sizeof path, "cases", 15, LEAK_LON, LEAK_LAT, 0, "mvt?service=fuga_agua");
    long at15 = tile_cases(path, "fuga_agua", &cases, &clusters);
    CHECK(clusters >= 1); /* 8 px at z15 is 38 m: they cluster */
    CHECK_INT_EQ(at15, 21); /* the 20 planted and the one that made the tile re-render */
    /* at z10 the same leaks and the seam cluster further east are in a few clusters */
    tile_path(path, sizeof path, "cases", 10, LEAK_LON, LEAK_LAT, 0, "mvt?service=fuga_agua");
    long at10 = tile_cases(path, "fuga_agua", &cases, &clusters);
    CHECK(cases + clusters < 10);
    CHECK_INT_EQ(at10, 21 + 12);
}

static int has(const struct it_reply *r, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= r->len; i++)
        if (memcmp(r->body + i, needle, n) == 0)
            return 1;
    return 0;
}

static void test_no_tile_carries_reporter_data(void)
{
    static const char *const secret[] = {"Zzyzx", "zzyzx@example.org", "6123-4567", "SECRETO-DESC",
                                         "Calle Privada"};
    const char *paths[6];
    char p0[128], p1[128], p2[128], p3[128], p4[128];
    double lat = LEAK_LAT - 0.02, lon = LEAK_LON - 0.02;

    CHECK(report("fuga_agua", lat, lon,
                 "\"description\":\"SECRETO-DESC\",\"address\":\"Calle Privada 9\","
                 "\"reporter\":{\"name\":\"Zzyzx Quux\",\"email\":\"zzyzx@example.org\","
                 "\"phone\":\"+507 6123-4567\"}",
                 NULL) == 0);
    tile_path(p0, sizeof p0, "cases", 17, lon, lat, 0, "mvt");
    tile_path(p1, sizeof p1, "cases", 9, lon, lat, 0, "mvt");
    tile_path(p2, sizeof p2, "heat", 13, lon, lat, 0, "png");
    tile_path(p3, sizeof p3, "areas", 14, lon, lat, 0, "mvt");
    tile_path(p4, sizeof p4, "heat", 13, lon, lat, 0, "png?service=fuga_agua");
    paths[0] = p0, paths[1] = p1, paths[2] = p2, paths[3] = p3, paths[4] = p4;
    paths[5] = "/tiles/cases.json";
    for (size_t i = 0; i < 6; i++) {
        struct it_reply r;
        CHECK(get(paths[i], &r) == 0);
        CHECK_INT_EQ(r.status, 200);
        for (size_t k = 0; k < sizeof secret / sizeof secret[0]; k++)
            if (has(&r, secret[k]))
                CHECK_REPORT("%s carries '%s'", paths[i], secret[k]);
        if (i == 0)
            CHECK(r.len > 0); /* the case itself is there */
        free(r.body);
    }
}

static void test_bad_tiles_are_400_invalid_tile(void)
{
    static const struct {
        const char *path;
        long status;
    } bad[] = {
        {"/tiles/heat/23/0/0.png", 400},
        {"/tiles/heat/3/8/0.png", 400},
        {"/tiles/heat/3/0/8.png", 400},
        {"/tiles/heat/a/0/0.png", 400},
        {"/tiles/heat/3/-1/0.png", 400},
        {"/tiles/heat/3/0/0.jpg", 400},
        {"/tiles/cases/3/0/0.png", 400},
        {"/tiles/heat/3/0/0.mvt", 400},
        {"/tiles/cases/3/0/0@2x.mvt", 400},
        {"/tiles/heat/3/0/0.png?status=closed", 400},
        {"/tiles/heat/3/0/0.png?since=yesterday", 400},
        {"/tiles/nowhere/3/0/0.png", 404},
        {"/tiles/heat/99999999999/0/0.png", 400},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct it_reply r;
        json_t *j;
        CHECK(it_get(&srv, bad[i].path, &r) == 0);
        j = it_json(&r);
        if (r.status != bad[i].status)
            CHECK_REPORT("%s: %ld, want %ld", bad[i].path, r.status, bad[i].status);
        if (bad[i].status == 400 && i < 9 &&
            strcmp(it_error_code(j) ? it_error_code(j) : "", "invalid_tile") != 0)
            CHECK_REPORT("%s: code %s, want invalid_tile", bad[i].path, it_error_code(j));
        json_decref(j);
        free(r.body);
    }
}

static void test_a_matching_etag_is_304(void)
{
    char path[128], etag[64], line[96];
    struct it_reply r;
    struct curl_slist *h = NULL;

    tile_path(path, sizeof path, "heat", 14, LEAK_LON, LEAK_LAT, 0, "png");
    CHECK(get(path, &r) == 0);
    header(&r, "ETag", etag, sizeof etag);
    CHECK(etag[0] == '"');
    free(r.body);
    snprintf(line, sizeof line, "If-None-Match: %s", etag);
    h = curl_slist_append(h, line);
    CHECK(it_request(&srv, "GET", path, NULL, 0, h, &r) == 0);
    CHECK_INT_EQ(r.status, 304);
    CHECK_INT_EQ(r.len, 0);
    free(r.body);
    curl_slist_free_all(h);
    h = curl_slist_append(NULL, "If-None-Match: \"0000000000000000\"");
    CHECK(it_request(&srv, "GET", path, NULL, 0, h, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    free(r.body);
    curl_slist_free_all(h);
}

static void test_tilejson_points_at_the_tiles(void)
{
    struct it_reply r;
    json_t *j;
    const char *url;

    CHECK(get("/tiles/heat.json?service=fuga_agua&status=received", &r) == 0);
    j = it_json(&r);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "tilejson")), "3.0.0");
    url = json_string_value(json_array_get(json_object_get(j, "tiles"), 0));
    CHECK(url && strstr(url, "/tiles/heat/{z}/{x}/{y}.png?service=fuga_agua&status=received"));
    CHECK(json_real_value(json_array_get(json_object_get(j, "bounds"), 0)) < -82.9);
    CHECK(json_real_value(json_array_get(json_object_get(j, "bounds"), 3)) > 9.5);
    json_decref(j);
    free(r.body);
    CHECK(get("/tiles/areas.json", &r) == 0);
    j = it_json(&r);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "vector_layers")), 3);
    CHECK(strstr(json_string_value(json_object_get(j, "attribution")), "INEC") != NULL);
    json_decref(j);
    free(r.body);
    CHECK(it_get(&srv, "/tiles/areas.json?format=png", &r) == 0);
    CHECK(strstr(r.body, "{y}.png") != NULL);
    free(r.body);
}

/* The signed area (tile coordinates, y down) of the first ring of a polygon feature, decoded
 * from its command stream: MoveTo 1, LineTo n, ClosePath. */
static double first_ring_area(const VectorTile__Tile__Feature *f)
{
    int32_t x = 0, y = 0, x0, y0, px, py;
    size_t i = 0;
    double a = 0;

    if (f->n_geometry < 4 || (f->geometry[0] & 7) != 1)
        return 0;
    x += (int32_t)((f->geometry[1] >> 1) ^ -(f->geometry[1] & 1));
    y += (int32_t)((f->geometry[2] >> 1) ^ -(f->geometry[2] & 1));
    x0 = px = x, y0 = py = y;
    i = 3;
    if ((f->geometry[i] & 7) != 2)
        return 0;
    for (uint32_t k = 0, n = f->geometry[i++] >> 3; k < n && i + 1 < f->n_geometry; k++, i += 2) {
        x += (int32_t)((f->geometry[i] >> 1) ^ -(f->geometry[i] & 1));
        y += (int32_t)((f->geometry[i + 1] >> 1) ^ -(f->geometry[i + 1] & 1));
        a += (double)px * y - (double)x * py;
        px = x, py = y;
    }
    return a + (double)px * y0 - (double)x0 * py;
}

static void test_area_tiles_have_their_layers(void)
{
    struct it_reply r;
    struct image im;
    VectorTile__Tile *t;
    const VectorTile__Tile__Layer *l;
    int land = 0, sea = 0;

    CHECK(get("/tiles/areas/12/1143/1945.mvt", &r) == 0); /* Panama City */
    t = vector_tile__tile__unpack(NULL, r.len, (const uint8_t *)r.body);
    CHECK(t != NULL);
    for (int k = 0; k < 3; k++) {
        l = layer_of(t, k == 0 ? "provincia" : k == 1 ? "distrito" : "corregimiento");
        CHECK(l != NULL && l->n_features > 0);
        if (l && l->n_features) {
            CHECK_INT_EQ(l->features[0]->type, VECTOR_TILE__TILE__GEOM_TYPE__POLYGON);
            CHECK(value_of(l, l->features[0], "code") && value_of(l, l->features[0], "name"));
        }
        for (size_t i = 0; l && i < l->n_features; i++) /* exterior rings: positive area */
            if (first_ring_area(l->features[i]) <= 0)
                CHECK_REPORT("%s feature %zu: first ring area %.0f", l->name, i,
                             first_ring_area(l->features[i]));
    }
    l = layer_of(t, "corregimiento");
    CHECK(l && l->n_features >= 5); /* the city has many */
    vector_tile__tile__free_unpacked(t, NULL);
    free(r.body);
    CHECK(get("/tiles/areas/9/142/242.png", &r) == 0); /* coast: land and sea */
    CHECK(strstr(r.headers, "max-age=86400") != NULL);
    CHECK(png_decode(&r, &im) == 0);
    for (int y = 0; im.rgba && y < im.h; y++)
        for (int x = 0; x < im.w; x++) {
            land += alpha(&im, x, y) == 255;
            sea += alpha(&im, x, y) == 0;
        }
    CHECK(land > 10000 && sea > 10000);
    free(im.rgba);
    free(r.body);
}

static void test_hotspots_find_the_planted_cluster(void)
{
    char ids[6][32], path[256];
    struct it_reply r;
    json_t *j, *features, *p;
    double lat = 8.4300, lon = -82.4300; /* David */

    for (int i = 0; i < 6; i++) /* one broken sewer, reported six times within ~15 m */
        CHECK(report("alcantarillado", lat + (i % 3) * 5e-5, lon + (i / 3) * 5e-5, NULL, ids[i]) ==
              0);
    for (int i = 0; i < 6; i++) /* and six others, kilometres apart */
        CHECK(report("alcantarillado", 8.0 + i * 0.1, -80.9 + i * 0.07, NULL, NULL) == 0);
    snprintf(path, sizeof path, "/api/v1/hotspots?service=alcantarillado&radius_m=50&min_cases=3");
    CHECK(get(path, &r) == 0);
    CHECK(strstr(r.headers, "application/geo+json") != NULL);
    j = it_json(&r);
    features = json_object_get(j, "features");
    CHECK_INT_EQ(json_array_size(features), 1);
    p = json_object_get(json_array_get(features, 0), "properties");
    CHECK_INT_EQ(json_integer_value(json_object_get(p, "count")), 6);
    CHECK_INT_EQ(json_integer_value(json_object_get(p, "open")), 6);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(p, "corregimiento"), "code"))
                     ? "0406"
                     : "",
                 "0406");
    CHECK(strncmp(json_string_value(json_object_get(json_object_get(p, "corregimiento"), "code")),
                  "0406", 4) == 0);
    for (int i = 0; i < 6; i++) {
        int found = 0;
        for (size_t k = 0; k < json_array_size(json_object_get(p, "case_ids")); k++)
            found |= strcmp(json_string_value(json_array_get(json_object_get(p, "case_ids"), k)),
                            ids[i]) == 0;
        if (!found)
            CHECK_REPORT("planted case %s is not in the cluster", ids[i]);
    }
    json_decref(j);
    free(r.body);
    CHECK(it_get(&srv, "/api/v1/hotspots?min_cases=1", &r) == 0);
    CHECK_INT_EQ(r.status, 400);
    free(r.body);
}

/* Chitré: a place no other test plants cases. */
#define BUSY_LAT 7.9650
#define BUSY_LON (-80.4300)
#define BUSY_CASES 30

struct reader {
    atomic_int *stop;
    int n, bad;
    int seed;
};

static void *read_tiles(void *arg)
{
    static const char *const kinds[] = {"heat", "cases", "areas"};
    static const char *const exts[] = {"png", "mvt?service=basura", "mvt"};
    struct reader *rd = arg;
    unsigned seed = (unsigned)rd->seed;

    while (!atomic_load(rd->stop)) {
        int k = (int)(rand_r(&seed) % 3), z = 8 + (int)(rand_r(&seed) % 9);
        char path[160];
        struct it_reply r;
        tile_path(path, sizeof path, kinds[k], z, BUSY_LON, BUSY_LAT, (int)(rand_r(&seed) % 3) - 1,
                  exts[k]);
        if (it_get(&srv, path, &r) != 0 || r.status != 200 || (k != 1 && r.len < 8))
            rd->bad++;
        rd->n++;
        free(r.body);
    }
    return NULL;
}

static void test_tiles_read_while_cases_commit(void)
{
    pthread_t th[3];
    struct reader rd[3];
    atomic_int stop = 0;
    int made = 0, reads = 0, bad = 0;
    char path[128];
    long cases, clusters;

    for (int i = 0; i < 3; i++) {
        rd[i] = (struct reader){&stop, 0, 0, 7 + i};
        CHECK(pthread_create(&th[i], NULL, read_tiles, &rd[i]) == 0);
    }
    for (int i = 0; i < BUSY_CASES; i++)
        made += report("basura", BUSY_LAT + (i % 6) * 2e-4, BUSY_LON + (i / 6) * 2e-4, NULL,
                       NULL) == 0;
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        reads += rd[i].n;
        bad += rd[i].bad;
    }
    CHECK_INT_EQ(made, BUSY_CASES);
    CHECK(reads > BUSY_CASES); /* the readers did run beside the writes */
    CHECK_INT_EQ(bad, 0);
    /* every committed case is on the map now, in tiles cached while they came in or not */
    tile_path(path, sizeof path, "cases", 12, BUSY_LON, BUSY_LAT, 0, "mvt?service=basura");
    CHECK_INT_EQ(tile_cases(path, "basura", &cases, &clusters), BUSY_CASES);
}

int main(int argc, char **argv)
{
    int rc;

    if (it_suite_start(argc, argv, &srv) != 0)
        return 2;
    RUN(test_an_empty_heat_tile_is_transparent);
    RUN(test_the_hottest_pixels_are_over_the_cluster);
    RUN(test_neighbouring_tiles_agree_along_their_edge);
    RUN(test_a_new_case_rerenders_only_the_tiles_that_show_it);
    RUN(test_a_case_tile_decodes_with_its_layer_and_attributes);
    RUN(test_no_tile_carries_reporter_data);
    RUN(test_bad_tiles_are_400_invalid_tile);
    RUN(test_a_matching_etag_is_304);
    RUN(test_tilejson_points_at_the_tiles);
    RUN(test_area_tiles_have_their_layers);
    RUN(test_hotspots_find_the_planted_cluster);
    RUN(test_tiles_read_while_cases_commit);
    rc = check_exit();
    return it_suite_end(&srv) || rc;
}
