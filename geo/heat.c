/*
 * geo/heat.c - heat tiles (see heat.h). The blur is a separable Gaussian (sigma = radius / 3,
 * cut at the radius): a horizontal pass over every row of the padded grid that holds weight,
 * then a vertical pass over the tile's pixels: (side * size + size^2) * (2 radius + 1) steps,
 * ~3 ms at 256 px whatever lies under the tile. The ramp is ColorBrewer's YlOrRd with alpha
 * rising from 0, linear in the intensity. PNG by libpng at zlib level 1 (a tile is encoded
 * once, then cached).
 */
#include "geo/heat.h"

#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define RAMP_STEPS 256

int geo_heat_init(struct geo_heat *h, int size_px, struct rp_err *err)
{
    memset(h, 0, sizeof *h);
    if (size_px != 256 && size_px != 512)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "heat tiles are 256 or 512 px");
    h->size = size_px;
    h->margin = GEO_HEAT_RADIUS_PX * size_px / 256;
    h->side = size_px + 2 * h->margin;
    h->w = calloc((size_t)h->side * h->side, sizeof *h->w);
    return h->w ? RP_OK : rp_err_set(err, RP_NO_MEMORY, "heat grid");
}

void geo_heat_fini(struct geo_heat *h)
{
    free(h->w);
    h->w = NULL;
}

void geo_heat_add(struct geo_heat *h, double px, double py, float weight)
{
    /* bilinear: the weight goes to the four pixels around (px, py) as their centres are near,
     * so a cell's centroid keeps its sub-pixel position */
    double u = px - 0.5 + h->margin, v = py - 0.5 + h->margin;
    double gx = floor(u), gy = floor(v), fx = u - gx, fy = v - gy;

    if (!(weight > 0) || gx < -1 || gy < -1 || gx >= h->side || gy >= h->side)
        return;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            double x = gx + dx, y = gy + dy;
            float part = (float)((dx ? fx : 1 - fx) * (dy ? fy : 1 - fy)) * weight;
            if (x < 0 || y < 0 || x >= h->side || y >= h->side)
                continue;
            h->w[(size_t)y * h->side + (size_t)x] += part;
            h->total += part;
        }
}

static void kernel(int radius, float *k)
{
    double sigma = radius / 3.0;
    for (int i = -radius; i <= radius; i++)
        k[i + radius] = (float)exp(-(double)i * i / (2 * sigma * sigma));
}

double geo_heat_peak(int size_px, double cell_px)
{
    int radius = GEO_HEAT_RADIUS_PX * size_px / 256;
    float k[2 * (GEO_HEAT_RADIUS_PX * 2) + 1];
    double sum = 0;

    kernel(radius, k);
    for (int i = 0; i <= 2 * radius; i++)
        sum += k[i];
    return sum * sum / (cell_px * cell_px);
}

/* YlOrRd, t in [0, 1]: colour and alpha. */
static void ramp(uint8_t lut[RAMP_STEPS][4])
{
    static const struct {
        double t;
        uint8_t r, g, b, a;
    } stop[] = {
        {0.00, 255, 255, 178, 0},  {0.12, 254, 217, 118, 120}, {0.35, 254, 178, 76, 170},
        {0.55, 253, 141, 60, 195}, {0.75, 240, 59, 32, 215},   {1.00, 189, 0, 38, 235},
    };
    for (int i = 0; i < RAMP_STEPS; i++) {
        double t = i / (double)(RAMP_STEPS - 1);
        int s = 0;
        while (s + 2 < (int)(sizeof stop / sizeof stop[0]) && t > stop[s + 1].t)
            s++;
        double f = (t - stop[s].t) / (stop[s + 1].t - stop[s].t);
        lut[i][0] = (uint8_t)lrint(stop[s].r + f * (stop[s + 1].r - stop[s].r));
        lut[i][1] = (uint8_t)lrint(stop[s].g + f * (stop[s + 1].g - stop[s].g));
        lut[i][2] = (uint8_t)lrint(stop[s].b + f * (stop[s + 1].b - stop[s].b));
        lut[i][3] = (uint8_t)lrint(stop[s].a + f * (stop[s + 1].a - stop[s].a));
    }
}

struct png_out {
    unsigned char *buf;
    size_t len, cap;
    int failed;
};

static void png_write(png_structp p, png_bytep data, png_size_t n)
{
    struct png_out *o = png_get_io_ptr(p);

    if (o->failed)
        return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 8192;
        unsigned char *b;
        while (cap < o->len + n)
            cap *= 2;
        b = realloc(o->buf, cap);
        if (!b) {
            o->failed = 1;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, data, n);
    o->len += n;
}

static void png_flush(png_structp p) { (void)p; }

/* RGBA rows (size x size) to PNG. */
/* An 8-bit palette PNG: pixel values index lut (entry 0 transparent). A quarter of the bytes
 * of RGBA for zlib to compress, and a quarter of the size on the wire. */
static int encode(const uint8_t *idx, int size, const uint8_t lut[RAMP_STEPS][4],
                  unsigned char **out, size_t *len, struct rp_err *err)
{
    png_color plte[RAMP_STEPS];
    png_byte trns[RAMP_STEPS];
    struct png_out o = {0};
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    volatile int rc = RP_OK;

    if (!p || !info) {
        png_destroy_write_struct(&p, info ? &info : NULL);
        return rp_err_set(err, RP_NO_MEMORY, "png");
    }
    if (setjmp(png_jmpbuf(p))) {
        rc = rp_err_set(err, RP_INTERNAL, "png encoding failed");
    } else {
        png_set_write_fn(p, &o, png_write, png_flush);
        png_set_compression_level(p, Z_BEST_SPEED);
        png_set_filter(p, 0, PNG_FILTER_NONE);
        png_set_IHDR(p, info, (png_uint_32)size, (png_uint_32)size, 8, PNG_COLOR_TYPE_PALETTE,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        for (int i = 0; i < RAMP_STEPS; i++) {
            plte[i] = (png_color){lut[i][0], lut[i][1], lut[i][2]};
            trns[i] = i ? lut[i][3] : 0;
        }
        png_set_PLTE(p, info, plte, RAMP_STEPS);
        png_set_tRNS(p, info, trns, RAMP_STEPS, NULL);
        png_write_info(p, info);
        for (int r = 0; r < size; r++)
            png_write_row(p, (png_const_bytep)(idx + (size_t)r * size));
        png_write_end(p, NULL);
    }
    png_destroy_write_struct(&p, &info);
    if (rc == RP_OK && o.failed)
        rc = rp_err_set(err, RP_NO_MEMORY, "png buffer");
    if (rc != RP_OK) {
        free(o.buf);
        return rc;
    }
    *out = o.buf;
    *len = o.len;
    return RP_OK;
}

int geo_heat_png(struct geo_heat *h, double scale, unsigned char **png, size_t *len, int *empty,
                 struct rp_err *err)
{
    const int r = h->margin, side = h->side, size = h->size;
    float k[2 * (GEO_HEAT_RADIUS_PX * 2) + 1];
    float *rows = NULL, *acc = NULL;
    uint8_t *pix = NULL, *live = NULL, lut[RAMP_STEPS][4];
    int rc, drawn = 0;

    *png = NULL;
    *len = 0;
    *empty = 1;
    if (!(h->total > 0) || !(scale > 0))
        return RP_OK;
    kernel(r, k);
    ramp(lut);
    rows = calloc((size_t)side * size, sizeof *rows); /* side rows x tile columns */
    pix = calloc((size_t)size * size, 1); /* ramp indexes; 0: transparent */
    acc = malloc((size_t)size * sizeof *acc);
    live = calloc((size_t)side, 1); /* rows with weight */
    if (!rows || !pix || !acc || !live) {
        rc = rp_err_set(err, RP_NO_MEMORY, "heat blur");
        goto out;
    }
    /* Separable Gaussian. Each pass runs its kernel taps in the outer loop and the pixels in
     * the inner one, so the compiler vectorises over pixels; every output still sums its taps
     * in the same order. Rows (then windows of rows) without weight are skipped. */
    for (int y = 0; y < side; y++) { /* horizontal pass */
        const float *src = h->w + (size_t)y * side;
        float *dst = rows + (size_t)y * size;
        int any = 0;
        for (int x = 0; x < side && !any; x++)
            any = src[x] != 0;
        if (!any)
            continue;
        live[y] = 1;
        for (int i = 0; i <= 2 * r; i++) {
            const float ki = k[i], *s = src + i;
            for (int x = 0; x < size; x++)
                dst[x] += s[x] * ki;
        }
    }
    for (int y = 0, in = 0; y < size; y++) { /* vertical pass and colour */
        uint8_t *line = pix + (size_t)y * size;
        if (y == 0)
            for (int i = 0; i <= 2 * r; i++)
                in += live[i];
        else
            in += live[y + 2 * r] - live[y - 1];
        if (!in)
            continue; /* no weight within the kernel of this row */
        memset(acc, 0, (size_t)size * sizeof *acc);
        for (int i = 0; i <= 2 * r; i++) {
            const float ki = k[i], *s = rows + (size_t)(y + i) * size;
            if (!live[y + i])
                continue;
            for (int x = 0; x < size; x++)
                acc[x] += s[x] * ki;
        }
        for (int x = 0; x < size; x++) {
            double t = fmin(1.0, acc[x] / scale);
            int idx = (int)(t * (RAMP_STEPS - 1) + 0.5);
            if (idx <= 0 || lut[idx][3] == 0)
                continue;
            line[x] = (uint8_t)idx;
            drawn = 1;
        }
    }
    rc = RP_OK;
    if (drawn) {
        rc = encode(pix, size, lut, png, len, err);
        *empty = 0;
    }
out:
    free(rows);
    free(pix);
    free(acc);
    free(live);
    return rc;
}

int geo_heat_empty_png(int size_px, unsigned char **png, size_t *len, struct rp_err *err)
{
    uint8_t *pix = calloc((size_t)size_px * size_px, 1), lut[RAMP_STEPS][4];
    int rc;

    if (!pix)
        return rp_err_set(err, RP_NO_MEMORY, "empty tile");
    ramp(lut);
    rc = encode(pix, size_px, lut, png, len, err);
    free(pix);
    return rc;
}
