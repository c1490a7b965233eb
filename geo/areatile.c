/*
 * geo/areatile.c - boundary tiles (see areatile.h). Each area meeting the tile (STRtree) is
 * clipped to the tile plus a buffer by GEOS (so clip edges fall outside what is drawn) and
 * simplified to about a pixel: Douglas-Peucker for the PNG, topology-preserving for the
 * vector tile, whose polygons clients fill. Coordinates go to the tile's pixels through
 * geo/tile.h. Drawing: land first (the provincias filled), then lines from the finest level
 * up, then names with a white halo.
 */
#include "geo/areatile.h"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MARGIN_PX 128 /* a name anchored this far outside still reaches into the tile */

static const int minzoom_mvt[RP_LEVEL_COUNT] = {0, 6, 9};
static const int minzoom_png[RP_LEVEL_COUNT] = {5, 8, 11};
static const int minzoom_label[RP_LEVEL_COUNT] = {7, 10, 13};

int geo_areatile_minzoom_mvt(enum rp_level level) { return minzoom_mvt[level]; }

int geo_areatile_minzoom_png(enum rp_level level) { return minzoom_png[level]; }

int geo_areatile_minzoom_label(enum rp_level level) { return minzoom_label[level]; }

void geo_areatile_shutdown(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}

struct found {
    const struct geo_area **v;
    size_t n, cap;
    int failed;
};

static void found_add(void *ctx, const struct geo_area *a)
{
    struct found *f = ctx;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 32;
        const struct geo_area **v = realloc(f->v, cap * sizeof *v);
        if (!v) {
            f->failed = 1;
            return;
        }
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = a;
}

static int cmp_area(const void *a, const void *b)
{
    return strcmp((*(const struct geo_area *const *)a)->code,
                  (*(const struct geo_area *const *)b)->code);
}

/* The areas of `level` meeting the tile grown by `grow` of its width on each side, by code. */
static int areas_in(const struct geo_index *ix, struct geo_ctx *gc, enum rp_level level,
                    const struct geo_tile *t, double grow, struct found *f)
{
    double b[4], dx, dy;

    geo_tile_bounds_lonlat(t, b);
    dx = (b[2] - b[0]) * grow;
    dy = (b[3] - b[1]) * grow;
    double q[4] = {b[0] - dx, b[1] - dy, b[2] + dx, b[3] + dy};
    f->n = 0;
    geo_index_query(ix, gc, level, q, found_add, f);
    if (f->n > 1) /* the same order in every tile */
        qsort(f->v, f->n, sizeof *f->v, cmp_area);
    return f->failed ? -1 : 0;
}

/* The area clipped to the tile plus buffer and simplified to tol_px of a size_px tile; NULL
 * when nothing is left. */
static GEOSGeometry *clipped(struct geo_ctx *gc, const struct geo_area *a, const struct geo_tile *t,
                             double size_px, double tol_px, int topology)
{
    double b[4], dx, dy, tol;
    GEOSGeometry *c, *s;

    geo_tile_bounds_lonlat(t, b);
    dx = (b[2] - b[0]) * GEO_AREATILE_BUFFER / GEO_MVT_EXTENT;
    dy = (b[3] - b[1]) * GEO_AREATILE_BUFFER / GEO_MVT_EXTENT;
    c = GEOSClipByRect_r(gc->geos, a->geom, b[0] - dx, b[1] - dy, b[2] + dx, b[3] + dy);
    if (!c)
        return NULL;
    if (GEOSisEmpty_r(gc->geos, c) == 1) {
        GEOSGeom_destroy_r(gc->geos, c);
        return NULL;
    }
    tol = (b[2] - b[0]) / size_px * tol_px;
    s = topology ? GEOSTopologyPreserveSimplify_r(gc->geos, c, tol)
                 : GEOSSimplify_r(gc->geos, c, tol);
    GEOSGeom_destroy_r(gc->geos, c);
    if (s && GEOSisEmpty_r(gc->geos, s) == 1) {
        GEOSGeom_destroy_r(gc->geos, s);
        return NULL;
    }
    return s;
}

/* Each ring of each polygon of g, in tile pixels of size_px, to fn. */
typedef int (*ring_fn)(void *ctx, const double *xy, size_t n, int exterior);

static int rings_of(struct geo_ctx *gc, const GEOSGeometry *g, const struct geo_tile *t,
                    double size_px, ring_fn fn, void *ctx)
{
    double *xy = NULL;
    size_t cap = 0;
    int rc = 0, np = GEOSGetNumGeometries_r(gc->geos, g);

    for (int k = 0; rc == 0 && k < np; k++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(gc->geos, g, k);
        int type = GEOSGeomTypeId_r(gc->geos, poly);
        if (type != GEOS_POLYGON)
            continue; /* a clip can leave a stray line or point on the rectangle */
        int nh = GEOSGetNumInteriorRings_r(gc->geos, poly);
        for (int h = -1; rc == 0 && h < nh; h++) {
            const GEOSGeometry *ring = h < 0 ? GEOSGetExteriorRing_r(gc->geos, poly)
                                             : GEOSGetInteriorRingN_r(gc->geos, poly, h);
            const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(gc->geos, ring);
            unsigned int n = 0;
            if (!seq || !GEOSCoordSeq_getSize_r(gc->geos, seq, &n) || n < 4)
                continue;
            if (2 * (size_t)n > cap) {
                double *v = realloc(xy, 2 * (size_t)n * sizeof *v);
                if (!v) {
                    rc = -1;
                    break;
                }
                xy = v;
                cap = 2 * (size_t)n;
            }
            for (unsigned int i = 0; i < n; i++) {
                double lon, lat;
                GEOSCoordSeq_getXY_r(gc->geos, seq, i, &lon, &lat);
                geo_tile_pixel(t, size_px, lon, lat, &xy[2 * i], &xy[2 * i + 1]);
            }
            rc = fn(ctx, xy, n, h < 0);
        }
    }
    free(xy);
    return rc;
}

/* ---- vector tile ---- */

struct mvt_ctx {
    struct geo_mvt *m;
    int32_t *ixy;
    size_t cap;
};

static int mvt_ring(void *ctx, const double *xy, size_t n, int exterior)
{
    struct mvt_ctx *c = ctx;

    if (2 * n > c->cap) {
        int32_t *v = realloc(c->ixy, 2 * n * sizeof *v);
        if (!v)
            return -1;
        c->ixy = v;
        c->cap = 2 * n;
    }
    for (size_t i = 0; i < 2 * n; i++)
        c->ixy[i] = (int32_t)lrint(xy[i]);
    return geo_mvt_ring(c->m, c->ixy, n, exterior);
}

int geo_areatile_mvt(const struct geo_index *ix, struct geo_ctx *gc, const struct geo_tile *t,
                     struct geo_mvt *m, struct rp_err *err)
{
    struct found f = {0};
    struct mvt_ctx c = {m, NULL, 0};
    int rc = 0;

    for (int l = 0; rc == 0 && l < RP_LEVEL_COUNT; l++) {
        int layer = geo_mvt_layer(m, rp_level_name((enum rp_level)l));
        if (layer < 0 || t->z < minzoom_mvt[l]) {
            rc = layer < 0 ? -1 : 0;
            continue;
        }
        rc =
            areas_in(ix, gc, (enum rp_level)l, t, (double)GEO_AREATILE_BUFFER / GEO_MVT_EXTENT, &f);
        for (size_t i = 0; rc == 0 && i < f.n; i++) {
            const struct geo_area *a = f.v[i];
            GEOSGeometry *g = clipped(gc, a, t, GEO_MVT_EXTENT, 1.0, 0);
            struct geo_mvt_attr at[2] = {{"code", GEO_MVT_STRING, a->code, 0, 0},
                                         {"name", GEO_MVT_STRING, a->name, 0, 0}};
            char *end;
            unsigned long long id = strtoull(a->code, &end, 10);
            if (!g)
                continue;
            rc = geo_mvt_polygon_begin(m, layer, *end ? 0 : id);
            if (rc == 0)
                rc = rings_of(gc, g, t, GEO_MVT_EXTENT, mvt_ring, &c);
            if (rc == 0)
                rc = geo_mvt_polygon_end(m, at, 2);
            GEOSGeom_destroy_r(gc->geos, g);
        }
    }
    free(f.v);
    free(c.ixy);
    return rc ? rp_err_set(err, RP_NO_MEMORY, "area tile") : RP_OK;
}

/* ---- PNG ---- */

static int cairo_ring(void *ctx, const double *xy, size_t n, int exterior)
{
    cairo_t *cr = ctx;
    (void)exterior;
    cairo_move_to(cr, xy[0], xy[1]);
    for (size_t i = 1; i < n; i++)
        cairo_line_to(cr, xy[2 * i], xy[2 * i + 1]);
    cairo_close_path(cr);
    return 0;
}

struct style {
    double r, g, b, width;
};

/* line colours and widths (at 256 px) per level: provincia, distrito, corregimiento */
static const struct style lines[RP_LEVEL_COUNT] = {
    {0.36, 0.31, 0.26, 1.6}, {0.52, 0.47, 0.41, 1.0}, {0.70, 0.66, 0.60, 0.6}};

static int draw_level(const struct geo_index *ix, struct geo_ctx *gc, cairo_t *cr,
                      const struct geo_tile *t, int size, enum rp_level l, int fill,
                      struct found *f)
{
    double k = size / 256.0;
    int rc = areas_in(ix, gc, l, t, (double)GEO_AREATILE_BUFFER / GEO_MVT_EXTENT, f);

    for (size_t i = 0; rc == 0 && i < f->n; i++) {
        GEOSGeometry *g = clipped(gc, f->v[i], t, size, 0.5, 0);
        if (!g)
            continue;
        cairo_new_path(cr);
        rc = rings_of(gc, g, t, size, cairo_ring, cr);
        GEOSGeom_destroy_r(gc->geos, g);
        if (fill) {
            cairo_set_source_rgb(cr, 0.949, 0.937, 0.914); /* land */
            cairo_fill(cr);
        } else {
            cairo_set_source_rgb(cr, lines[l].r, lines[l].g, lines[l].b);
            cairo_set_line_width(cr, lines[l].width * k);
            cairo_stroke(cr);
        }
    }
    return rc;
}

static int draw_labels(const struct geo_index *ix, struct geo_ctx *gc, cairo_t *cr,
                       const struct geo_tile *t, int size, enum rp_level l, struct found *f)
{
    double k = size / 256.0;
    int rc = areas_in(ix, gc, l, t, (double)LABEL_MARGIN_PX / 256.0, f);

    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           l == RP_LEVEL_PROVINCIA ? CAIRO_FONT_WEIGHT_BOLD
                                                   : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, (l == RP_LEVEL_PROVINCIA  ? 12.5
                             : l == RP_LEVEL_DISTRITO ? 11.5
                                                      : 10.5) *
                                k);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t i = 0; rc == 0 && i < f->n; i++) {
        GEOSGeometry *p = GEOSPointOnSurface_r(gc->geos, f->v[i]->geom);
        double lon, lat, x, y;
        cairo_text_extents_t e;
        if (!p)
            continue;
        if (GEOSGeomGetX_r(gc->geos, p, &lon) == 1 && GEOSGeomGetY_r(gc->geos, p, &lat) == 1) {
            geo_tile_pixel(t, size, lon, lat, &x, &y);
            if (x > -LABEL_MARGIN_PX * k && y > -LABEL_MARGIN_PX * k &&
                x < size + LABEL_MARGIN_PX * k && y < size + LABEL_MARGIN_PX * k) {
                cairo_text_extents(cr, f->v[i]->name, &e);
                cairo_new_path(cr);
                cairo_move_to(cr, x - e.width / 2 - e.x_bearing, y - e.height / 2 - e.y_bearing);
                cairo_text_path(cr, f->v[i]->name);
                cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
                cairo_set_line_width(cr, 3.0 * k);
                cairo_stroke_preserve(cr);
                cairo_set_source_rgb(cr, 0.24, 0.22, 0.18);
                cairo_fill(cr);
            }
        }
        GEOSGeom_destroy_r(gc->geos, p);
    }
    return rc;
}

struct png_buf {
    unsigned char *v;
    size_t n, cap;
};

static cairo_status_t png_put(void *ctx, const unsigned char *data, unsigned int n)
{
    struct png_buf *b = ctx;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        unsigned char *v;
        while (cap < b->n + n)
            cap *= 2;
        v = realloc(b->v, cap);
        if (!v)
            return CAIRO_STATUS_NO_MEMORY;
        b->v = v;
        b->cap = cap;
    }
    memcpy(b->v + b->n, data, n);
    b->n += n;
    return CAIRO_STATUS_SUCCESS;
}

int geo_areatile_png(const struct geo_index *ix, struct geo_ctx *gc, const struct geo_tile *t,
                     int size_px, unsigned char **png, size_t *len, struct rp_err *err)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, size_px, size_px);
    cairo_t *cr = cairo_create(s);
    struct found f = {0};
    struct png_buf out = {0};
    int rc = 0, label = -1;

    *png = NULL;
    *len = 0;
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        rc = -1;
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD); /* holes (lakes) stay open */
    if (rc == 0)
        rc = draw_level(ix, gc, cr, t, size_px, RP_LEVEL_PROVINCIA, 1, &f);
    for (int l = RP_LEVEL_COUNT - 1; rc == 0 && l >= 0; l--)
        if (t->z >= minzoom_png[l])
            rc = draw_level(ix, gc, cr, t, size_px, (enum rp_level)l, 0, &f);
    for (int l = 0; l < RP_LEVEL_COUNT; l++) /* the finest level named at this zoom */
        if (t->z >= minzoom_label[l])
            label = l;
    if (rc == 0 && label >= 0)
        rc = draw_labels(ix, gc, cr, t, size_px, (enum rp_level)label, &f);
    cairo_destroy(cr);
    if (rc == 0 && cairo_surface_write_to_png_stream(s, png_put, &out) != CAIRO_STATUS_SUCCESS)
        rc = -1;
    cairo_surface_destroy(s);
    free(f.v);
    if (rc) {
        free(out.v);
        return rp_err_set(err, RP_INTERNAL, "area tile drawing failed");
    }
    *png = out.v;
    *len = out.n;
    return RP_OK;
}
