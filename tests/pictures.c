/*
 * tests/pictures.c - the map pictures of docs/img/, made from what a running reporta serves
 * (scripts/pictures starts one on synthetic cases). Every layer comes over HTTP and is decoded
 * here like a client would: PNGs by cairo, vector tiles by protobuf-c.
 *   pictures BASE_URL OUT_DIR
 * writes heat-z12.png (a z12 heat tile over Panamá City on the area tile beneath it),
 * cases-z14.png (a z14 case tile drawn as a crew's map would: a pin per case coloured by
 * status, overdue ringed in red, clusters as circles with their count) and areas-z9.png.
 * All at 512 px (@2x area and heat tiles; the case tile's 4096 extent scaled to 512).
 */
#include <cairo.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo/tile.h"
#include "vector_tile.pb-c.h"

#define SIDE 512

struct buf {
    unsigned char *p;
    size_t n, at;
};

static size_t on_data(char *d, size_t sz, size_t n, void *ctx)
{
    struct buf *b = ctx;
    unsigned char *p = realloc(b->p, b->n + sz * n);
    if (!p)
        return 0;
    memcpy(p + b->n, d, sz * n);
    b->p = p;
    b->n += sz * n;
    return sz * n;
}

/* GET base + path into b; 0 on a 200. */
static int fetch(const char *base, const char *path, struct buf *b)
{
    char url[512];
    long status = 0;
    CURL *c = curl_easy_init();

    memset(b, 0, sizeof *b);
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (status != 200)
        fprintf(stderr, "pictures: GET %s: %ld\n", url, status);
    return status == 200 ? 0 : -1;
}

static cairo_status_t read_png(void *ctx, unsigned char *data, unsigned int len)
{
    struct buf *b = ctx;
    if (b->at + len > b->n)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, b->p + b->at, len);
    b->at += len;
    return CAIRO_STATUS_SUCCESS;
}

/* Paints the PNG at base + path at (x, y). */
static int paint_png(cairo_t *cr, const char *base, const char *path, double x, double y)
{
    struct buf b;
    cairo_surface_t *s;
    int rc = -1;

    if (fetch(base, path, &b))
        return -1;
    s = cairo_image_surface_create_from_png_stream(read_png, &b);
    if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
        cairo_set_source_surface(cr, s, x, y);
        cairo_paint(cr);
        rc = 0;
    }
    cairo_surface_destroy(s);
    free(b.p);
    return rc;
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

static int32_t unzig(uint32_t v) { return (int32_t)(v >> 1) ^ -(int32_t)(v & 1); }

static void status_colour(cairo_t *cr, const char *status)
{
    if (status && strcmp(status, "in_progress") == 0)
        cairo_set_source_rgb(cr, 0.10, 0.60, 0.32); /* green: a crew is on it */
    else if (status && strcmp(status, "assigned") == 0)
        cairo_set_source_rgb(cr, 0.13, 0.44, 0.71); /* blue: with an entity */
    else
        cairo_set_source_rgb(cr, 0.90, 0.45, 0.05); /* orange: received, no one yet */
}

/* Draws the `cases` layer of the MVT at base + path over the whole surface. */
static int draw_cases(cairo_t *cr, const char *base, const char *path, int *cases, int *clusters)
{
    struct buf b;
    VectorTile__Tile *t;

    *cases = *clusters = 0;
    if (fetch(base, path, &b))
        return -1;
    t = vector_tile__tile__unpack(NULL, b.n, b.p);
    free(b.p);
    if (!t)
        return -1;
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    for (int pass = 0; pass < 2; pass++) /* clusters under the single cases */
        for (size_t li = 0; li < t->n_layers; li++) {
            const VectorTile__Tile__Layer *l = t->layers[li];
            double k = (double)SIDE / (l->extent ? l->extent : 4096);
            if (strcmp(l->name, "cases") != 0)
                continue;
            for (size_t i = 0; i < l->n_features; i++) {
                const VectorTile__Tile__Feature *f = l->features[i];
                const VectorTile__Tile__Value *count = value_of(l, f, "count");
                if (f->n_geometry < 3 || (pass == 0) != (count != NULL))
                    continue;
                double x = unzig(f->geometry[1]) * k, y = unzig(f->geometry[2]) * k;
                if (count) {
                    char label[16];
                    cairo_text_extents_t te;
                    double r = fmin(15, 7 + 2.5 * log2((double)count->sint_value));
                    cairo_arc(cr, x, y, r + 3, 0, 2 * M_PI);
                    cairo_set_source_rgba(cr, 0.13, 0.44, 0.71, 0.30);
                    cairo_fill(cr);
                    cairo_arc(cr, x, y, r, 0, 2 * M_PI);
                    cairo_set_source_rgba(cr, 0.13, 0.44, 0.71, 0.90);
                    cairo_fill_preserve(cr);
                    cairo_set_source_rgb(cr, 1, 1, 1);
                    cairo_set_line_width(cr, 1.5);
                    cairo_stroke(cr);
                    snprintf(label, sizeof label, "%lld", (long long)count->sint_value);
                    cairo_set_font_size(cr, r > 12 ? 11 : 9);
                    cairo_text_extents(cr, label, &te);
                    cairo_move_to(cr, x - te.width / 2 - te.x_bearing,
                                  y - te.height / 2 - te.y_bearing);
                    cairo_show_text(cr, label);
                    ++*clusters;
                } else {
                    const VectorTile__Tile__Value *st = value_of(l, f, "status"),
                                                  *od = value_of(l, f, "overdue");
                    if (od && od->has_bool_value && od->bool_value) {
                        cairo_arc(cr, x, y, 7.5, 0, 2 * M_PI);
                        cairo_set_source_rgb(cr, 0.80, 0.07, 0.12);
                        cairo_fill(cr);
                    }
                    cairo_arc(cr, x, y, 5, 0, 2 * M_PI);
                    status_colour(cr, st ? st->string_value : NULL);
                    cairo_fill_preserve(cr);
                    cairo_set_source_rgb(cr, 1, 1, 1);
                    cairo_set_line_width(cr, 1.5);
                    cairo_stroke(cr);
                    ++*cases;
                }
            }
        }
    vector_tile__tile__free_unpacked(t, NULL);
    return 0;
}

/* The sea under the area tiles (they fill land only). */
static void sea(cairo_t *cr)
{
    cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
    cairo_set_source_rgb(cr, 0.667, 0.827, 0.875);
    cairo_paint(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
}

static void legend(cairo_t *cr, const char *title, const char *line2)
{
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    cairo_rectangle(cr, 0, SIDE - 38, SIDE, 38);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_move_to(cr, 8, SIDE - 23);
    cairo_show_text(cr, title);
    cairo_move_to(cr, 8, SIDE - 8);
    cairo_show_text(cr, line2);
}

static int save(cairo_surface_t *s, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (cairo_surface_write_to_png(s, path) != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "pictures: cannot write %s\n", path);
        return -1;
    }
    printf("pictures: %s\n", path);
    return 0;
}

int main(int argc, char **argv)
{
    const char *base, *out;
    char path[160], line[160];
    struct geo_tile t;
    cairo_surface_t *s;
    cairo_t *cr;
    int rc = 0, cases, clusters;

    if (argc != 3) {
        fprintf(stderr, "usage: pictures BASE_URL OUT_DIR\n");
        return 2;
    }
    base = argv[1];
    out = argv[2];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, SIDE, SIDE);
    cr = cairo_create(s);

    /* z12 heat over Panamá City (Calidonia, Bella Vista, San Miguelito at the edge) */
    sea(cr);
    geo_tile_at(12, -79.525, 8.985, &t);
    snprintf(path, sizeof path, "/tiles/areas/%d/%u/%u@2x.png", t.z, t.x, t.y);
    rc |= paint_png(cr, base, path, 0, 0);
    snprintf(path, sizeof path, "/tiles/heat/%d/%u/%u@2x.png?service=fuga_agua", t.z, t.x, t.y);
    rc |= paint_png(cr, base, path, 0, 0);
    snprintf(line, sizeof line, "/tiles/heat/%d/%u/%u@2x.png?service=fuga_agua on the area tile",
             t.z, t.x, t.y);
    legend(cr, "Open water leaks over Panamá City, weighted by confirmations (z12)", line);
    rc |= save(s, out, "heat-z12.png");

    /* z14 cases of one entity, as IDAAN's crews see them, at the edge of the city */
    sea(cr);
    geo_tile_at(14, -79.445, 9.035, &t);
    snprintf(path, sizeof path, "/tiles/areas/%d/%u/%u@2x.png", t.z, t.x, t.y);
    rc |= paint_png(cr, base, path, 0, 0);
    snprintf(path, sizeof path, "/tiles/cases/%d/%u/%u.mvt?entity=IDAAN", t.z, t.x, t.y);
    rc |= draw_cases(cr, base, path, &cases, &clusters);
    snprintf(line, sizeof line, "IDAAN's open cases, z14 ?entity=IDAAN: %d cases, %d clusters",
             cases, clusters);
    legend(cr, line,
           "orange received \u00b7 blue assigned \u00b7 green in progress \u00b7 "
           "red ring: overdue");
    rc |= save(s, out, "cases-z14.png");

    /* z9 areas over the canal */
    sea(cr);
    geo_tile_at(9, -79.70, 9.10, &t);
    snprintf(path, sizeof path, "/tiles/areas/%d/%u/%u@2x.png", t.z, t.x, t.y);
    rc |= paint_png(cr, base, path, 0, 0);
    rc |= save(s, out, "areas-z9.png");

    cairo_destroy(cr);
    cairo_surface_destroy(s);
    curl_global_cleanup();
    return rc ? 1 : 0;
}
