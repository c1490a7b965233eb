/*
 * media/photo.c - the photo pipeline (see photo.h): sniff, header check, EXIF, decode (DCT
 * scaling for JPEG, libpng's simplified API for PNG), a box filter that also turns the photo
 * upright, two libjpeg-turbo encodes, SHA-256.
 * Pixels stay in JPEG's own form throughout: a Y plane and two chroma planes. A YCbCr JPEG is
 * decoded straight into its planes (no colour conversion) and the encoder takes 4:2:0 planes
 * (none again), so the filter handles 1.5 bytes a pixel instead of RGB's 3. Other sources (PNGs,
 * JPEGs stored as RGB or subsampled oddly) go through RGB and are split into planes first.
 * Workload: 12 MP phone photos. Reading the entropy-coded data is ~70 % of one (bench/photo
 * prints that floor), so everything after the decode is a few passes over small planes.
 */
#include "media/photo.h"

#include <libexif/exif-data.h>
#include <math.h>
#include <openssl/evp.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* An image as JPEG stores it: Y, Cb and Cr planes in one malloc'd block, each plane as
 * libjpeg-turbo lays it out for subsamp (tjPlaneWidth x tjPlaneHeight: the luma of 4:2:0 is
 * padded to even sizes, and the codec reads or writes the padding too). w x h is the picture
 * in each plane, s its stride. A grey image has no chroma planes (p[1] == p[2] == NULL). */
struct yuv {
    unsigned char *buf;
    unsigned char *p[3];
    int w[3], h[3], s[3];
    int subsamp;
};

const char *media_sniff(const unsigned char *d, size_t len, char *buf, size_t n)
{
    if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return "jpeg";
    if (len >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (len >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
        return "gif";
    if (len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
        return "webp";
    if (len >= 12 && memcmp(d + 4, "ftyp", 4) == 0)
        return memcmp(d + 8, "avif", 4) == 0 ? "avif" : "heic/mp4";
    if (len >= 4 && memcmp(d, "%PDF", 4) == 0)
        return "pdf";
    if (len >= 2 && d[0] == 'B' && d[1] == 'M')
        return "bmp";
    if (len >= 4 && (memcmp(d, "II*", 4) == 0 || memcmp(d, "MM\0*", 4) == 0))
        return "tiff";
    snprintf(buf, n, "bytes %02x %02x %02x %02x", len > 0 ? d[0] : 0, len > 1 ? d[1] : 0,
             len > 2 ? d[2] : 0, len > 3 ? d[3] : 0);
    return buf;
}

/* ---- EXIF ---- */

static double gps_coord(ExifData *ed, ExifTag tag, ExifTag ref_tag, int *ok)
{
    ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_GPS], tag);
    ExifEntry *ref = exif_content_get_entry(ed->ifd[EXIF_IFD_GPS], ref_tag);
    ExifByteOrder order = exif_data_get_byte_order(ed);
    double v = 0, scale = 1;

    if (!e || e->format != EXIF_FORMAT_RATIONAL || e->components < 3 || e->size < 24) {
        *ok = 0;
        return 0;
    }
    for (int i = 0; i < 3; i++, scale *= 60) {
        ExifRational r = exif_get_rational(e->data + 8 * i, order);
        if (r.denominator == 0) {
            *ok = 0;
            return 0;
        }
        v += (double)r.numerator / r.denominator / scale;
    }
    if (ref && ref->data && ref->size >= 1 && (ref->data[0] == 'S' || ref->data[0] == 'W'))
        v = -v;
    return v;
}

static void read_exif(const unsigned char *data, size_t len, struct media_photo *p)
{
    ExifData *ed = exif_data_new_from_data(data, (unsigned int)len);
    ExifEntry *e;
    int ok = 1;

    p->orientation = 1;
    if (!ed)
        return;
    e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (e && e->format == EXIF_FORMAT_SHORT && e->size >= 2) {
        int o = exif_get_short(e->data, exif_data_get_byte_order(ed));
        p->orientation = o >= 1 && o <= 8 ? o : 1;
    }
    p->gps_lat = gps_coord(ed, EXIF_TAG_GPS_LATITUDE, EXIF_TAG_GPS_LATITUDE_REF, &ok);
    p->gps_lon = gps_coord(ed, EXIF_TAG_GPS_LONGITUDE, EXIF_TAG_GPS_LONGITUDE_REF, &ok);
    p->has_gps = ok && isfinite(p->gps_lat) && isfinite(p->gps_lon) && fabs(p->gps_lat) <= 90 &&
                 fabs(p->gps_lon) <= 180 && (p->gps_lat != 0 || p->gps_lon != 0);
    exif_data_unref(ed);
}

/* ---- decoding ---- */

static int too_big(int w, int h, struct rp_err *err)
{
    if (w <= 0 || h <= 0)
        return rp_err_set(err, RP_INVALID_IMAGE, "the image has no size");
    if ((long)w * (long)h > MEDIA_MAX_PIXELS)
        return rp_err_set(err, RP_TOO_LARGE, "%dx%d is over %ld megapixels", w, h,
                          MEDIA_MAX_PIXELS / 1000000);
    return RP_OK;
}

/* Planes for a w x h picture sampled as subsamp (TJSAMP_*), laid out as libjpeg-turbo does. */
static int yuv_alloc(struct yuv *im, int w, int h, int subsamp, struct rp_err *err)
{
    int n = subsamp == TJSAMP_GRAY ? 1 : 3;
    size_t at[3], size = 0;

    memset(im, 0, sizeof *im);
    for (int i = 0; i < n; i++) {
        at[i] = size;
        size += (size_t)tjPlaneWidth(i, w, subsamp) * (size_t)tjPlaneHeight(i, h, subsamp);
    }
    im->buf = malloc(size);
    if (!im->buf)
        return rp_err_set(err, RP_NO_MEMORY, "pixels");
    for (int i = 0; i < n; i++) {
        im->p[i] = im->buf + at[i];
        im->s[i] = tjPlaneWidth(i, w, subsamp);
        im->w[i] = i == 0 ? w : im->s[i]; /* chroma planes carry no padding of their own */
        im->h[i] = i == 0 ? h : tjPlaneHeight(i, h, subsamp);
    }
    im->subsamp = subsamp;
    return RP_OK;
}

/* RGB pixels (PNG, or a JPEG not stored as YCbCr) split into full-size planes by libjpeg-turbo's
 * own colour conversion, the one its encoder would have applied to them. */
static int yuv_from_rgb(const unsigned char *rgb, int w, int h, struct yuv *im, struct rp_err *err)
{
    tjhandle tj = tjInitCompress();
    int rc;

    if (!tj)
        return rp_err_set(err, RP_NO_MEMORY, "jpeg encoder");
    rc = yuv_alloc(im, w, h, TJSAMP_444, err);
    if (rc == RP_OK &&
        tjEncodeYUVPlanes(tj, rgb, w, 0, h, TJPF_RGB, im->p, im->s, TJSAMP_444, 0) != 0)
        rc = rp_err_set(err, RP_INTERNAL, "colour conversion: %s", tjGetErrorStr2(tj));
    tjDestroy(tj);
    return rc;
}

/* The DCT scaling (libjpeg-turbo offers M/8) to decode a JPEG whose long side is `longest` at:
 * the smallest that still leaves MEDIA_DISPLAY_PX or more, for the box filter to finish; never
 * enlarging. Measured on the 12 MP bench photo, one core: 1/2 decodes in 57 ms, 3/8 (1500 px,
 * no filter pass needed) in 76 ms: only 1/2, 1/4 and 1/8 have fast inverse DCTs. */
static tjscalingfactor decode_scale(int longest)
{
    tjscalingfactor best = {1, 1};
    int n = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&n);

    for (int i = 0; sf && i < n; i++) {
        int s = TJSCALED(longest, sf[i]);
        if (sf[i].num <= sf[i].denom && s >= MEDIA_DISPLAY_PX && s < TJSCALED(longest, best))
            best = sf[i];
    }
    return best;
}

/* A truncated or damaged file makes libjpeg warn and pad with grey: refuse it instead. */
static int decode_planes(tjhandle tj, const unsigned char *data, size_t len, int w, int h,
                         int subsamp, struct yuv *im, struct rp_err *err)
{
    int rc = yuv_alloc(im, w, h, subsamp, err);

    if (rc == RP_OK && tjDecompressToYUVPlanes(tj, data, (unsigned long)len, im->p, w, im->s, h,
                                               TJFLAG_STOPONWARNING) != 0)
        rc = rp_err_set(err, RP_INVALID_IMAGE, "the JPEG is truncated or corrupt: %s",
                        tjGetErrorStr2(tj));
    return rc;
}

static int decode_rgb(tjhandle tj, const unsigned char *data, size_t len, int w, int h,
                      struct yuv *im, struct rp_err *err)
{
    unsigned char *rgb = malloc((size_t)w * (size_t)h * 3);
    int rc;

    if (!rgb)
        return rp_err_set(err, RP_NO_MEMORY, "pixels");
    if (tjDecompress2(tj, data, (unsigned long)len, rgb, w, 0, h, TJPF_RGB, TJFLAG_STOPONWARNING) !=
        0)
        rc = rp_err_set(err, RP_INVALID_IMAGE, "the JPEG is truncated or corrupt: %s",
                        tjGetErrorStr2(tj));
    else
        rc = yuv_from_rgb(rgb, w, h, im, err);
    free(rgb);
    return rc;
}

static int decode_jpeg(const unsigned char *data, size_t len, struct media_photo *p, struct yuv *im,
                       struct rp_err *err)
{
    tjhandle tj = tjInitDecompress();
    int w, h, subsamp, cs, rc;
    tjscalingfactor best;

    if (!tj)
        return rp_err_set(err, RP_NO_MEMORY, "jpeg decoder");
    if (tjDecompressHeader3(tj, data, (unsigned long)len, &w, &h, &subsamp, &cs) != 0) {
        rc = rp_err_set(err, RP_INVALID_IMAGE, "not a readable JPEG: %s", tjGetErrorStr2(tj));
        goto out;
    }
    p->src_width = w;
    p->src_height = h;
    if ((rc = too_big(w, h, err)) != RP_OK)
        goto out;
    best = decode_scale(w > h ? w : h);
    /* the decoder hands out planes as stored: YCbCr and grey are what the encoder takes back */
    if ((cs == TJCS_YCbCr || cs == TJCS_GRAY) && subsamp >= 0 && subsamp < TJ_NUMSAMP)
        rc = decode_planes(tj, data, len, TJSCALED(w, best), TJSCALED(h, best), subsamp, im, err);
    else
        rc = decode_rgb(tj, data, len, TJSCALED(w, best), TJSCALED(h, best), im, err);
out:
    tjDestroy(tj);
    return rc;
}

static int decode_png(const unsigned char *data, size_t len, struct media_photo *p, struct yuv *im,
                      struct rp_err *err)
{
    png_image img;
    unsigned char *rgb;
    int rc;

    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, len))
        return rp_err_set(err, RP_INVALID_IMAGE, "not a readable PNG: %s", img.message);
    p->src_width = (int)img.width;
    p->src_height = (int)img.height;
    rc = img.width > INT32_MAX || img.height > INT32_MAX
             ? rp_err_set(err, RP_TOO_LARGE, "the PNG is too large")
             : too_big((int)img.width, (int)img.height, err);
    if (rc != RP_OK) {
        png_image_free(&img);
        return rc;
    }
    img.format = PNG_FORMAT_RGB; /* alpha is composited on black by libpng; photos have none */
    rgb = malloc(PNG_IMAGE_SIZE(img));
    if (!rgb) {
        png_image_free(&img);
        return rp_err_set(err, RP_NO_MEMORY, "pixels");
    }
    if (!png_image_finish_read(&img, NULL, rgb, 0, NULL)) {
        rc = rp_err_set(err, RP_INVALID_IMAGE, "the PNG is truncated or corrupt: %s", img.message);
        png_image_free(&img);
    } else {
        rc = yuv_from_rgb(rgb, (int)img.width, (int)img.height, im, err);
    }
    free(rgb);
    return rc;
}

/* ---- pixels ---- */

/* Where the filter's sample (x, y) of a w x h plane, in the photo's stored orientation, lands
 * in the upright plane of stride s: at + x * dx + y * dy. Each EXIF orientation is such a walk. */
struct walk {
    ptrdiff_t at, dx, dy;
};

static struct walk walk_of(int o, int w, int h, int s)
{
    ptrdiff_t W = w, H = h, S = s;

    /* clang-format off */
    switch (o) {
    case 2:  return (struct walk){W - 1,               -1,  S}; /* mirrored */
    case 3:  return (struct walk){(H - 1) * S + W - 1, -1, -S}; /* upside down */
    case 4:  return (struct walk){(H - 1) * S,          1, -S}; /* mirrored vertically */
    case 5:  return (struct walk){0,                    S,  1}; /* transposed */
    case 6:  return (struct walk){H - 1,                S, -1}; /* turned 90 clockwise to view */
    case 7:  return (struct walk){(W - 1) * S + H - 1, -S, -1}; /* transversed */
    case 8:  return (struct walk){(W - 1) * S,         -S,  1}; /* turned 90 counter-clockwise */
    default: return (struct walk){0,                    1,  S}; /* 1: as stored */
    }
    /* clang-format on */
}

/* The source span of each output sample for a box filter from n to m (m <= n): first index and
 * k weights each (fractional at both ends, zero past the span), in 1/TAP_ONE, summing to it. */
#define TAP_ONE (1 << 15)

struct taps {
    int *first;
    uint16_t *w; /* k weights for output i from i * k */
    int k;
};

static int taps_make(int n, int m, struct taps *t)
{
    double scale = (double)n / m;

    t->k = 1; /* the most source samples one output's span touches */
    for (int i = 0; i < m; i++) {
        double lo = i * scale, hi = i + 1 == m ? n : lo + scale;
        int count = (int)ceil(hi) - (int)lo;
        t->k = count > t->k ? count : t->k;
    }
    t->k = t->k > n ? n : t->k;
    t->first = malloc(sizeof *t->first * (size_t)m);
    t->w = calloc((size_t)m * (size_t)t->k, sizeof *t->w);
    if (!t->first || !t->w)
        return -1;
    for (int i = 0; i < m; i++) {
        double lo = i * scale, hi = i + 1 == m ? n : lo + scale;
        uint16_t *w = t->w + (size_t)i * t->k;
        int j0 = (int)lo, f = j0 + t->k > n ? n - t->k : j0, sum = 0, big = j0 - f;

        t->first[i] = f; /* moved left at the end so that all k stay inside the line */
        for (int j = j0; j < n && j < hi; j++) {
            w[j - f] = (uint16_t)lround((fmin(j + 1, hi) - fmax(j, lo)) / scale * TAP_ONE);
            sum += w[j - f];
            big = w[j - f] > w[big] ? j - f : big;
        }
        w[big] = (uint16_t)(w[big] + TAP_ONE - sum); /* rounding: the weights sum to exactly 1 */
    }
    return 0;
}

static void taps_free(struct taps *t)
{
    free(t->first);
    free(t->w);
}

/* The filter runs on strips of LANES output rows. A strip is filtered down its columns, turned
 * over its diagonal so that each source column is LANES contiguous bytes, filtered along x a
 * whole column at a time, and written: as it is when the photo turns (a source column is then
 * a run of an upright row), turned back otherwise. Both passes read contiguous memory and
 * vectorise. On the 12 MP bench photo, one byte at a time along x and into the turned plane
 * took 7.3 ms (cold caches); this takes about 2. */
#define LANES 64

static int little_endian(void) /* a constant: the compiler keeps one branch */
{
    const uint16_t one = 1;
    unsigned char first;

    memcpy(&first, &one, 1);
    return first == 1;
}

/* Swaps the bits of a selected by mask << shift with those of b selected by mask. */
static inline void swap_masked(uint64_t *a, uint64_t *b, int shift, uint64_t mask)
{
    uint64_t t = ((*a >> shift) ^ *b) & mask;

    *a ^= t << shift;
    *b ^= t;
}

/* An 8 x 8 block of bytes turned over its diagonal in 64-bit registers (swap the off-diagonal
 * 4 x 4 blocks, then 2 x 2 within them, then single bytes): row i of `in` becomes column i of
 * `out`. Byte j of a row is bits 8j.. of its word, so little-endian machines only. Written out
 * in full: gcc -O2 neither unrolls the loops nor keeps an array in registers. */
static void transpose8(const unsigned char *in, ptrdiff_t is, unsigned char *out, ptrdiff_t os)
{
    const uint64_t m32 = 0x00000000FFFFFFFFull, m16 = 0x0000FFFF0000FFFFull;
    const uint64_t m8 = 0x00FF00FF00FF00FFull;
    uint64_t a0, a1, a2, a3, a4, a5, a6, a7; /* not an array: gcc -O2 would keep it in memory */

    memcpy(&a0, in, 8), memcpy(&a1, in + is, 8), memcpy(&a2, in + 2 * is, 8);
    memcpy(&a3, in + 3 * is, 8), memcpy(&a4, in + 4 * is, 8), memcpy(&a5, in + 5 * is, 8);
    memcpy(&a6, in + 6 * is, 8), memcpy(&a7, in + 7 * is, 8);
    swap_masked(&a0, &a4, 32, m32), swap_masked(&a1, &a5, 32, m32);
    swap_masked(&a2, &a6, 32, m32), swap_masked(&a3, &a7, 32, m32);
    swap_masked(&a0, &a2, 16, m16), swap_masked(&a1, &a3, 16, m16);
    swap_masked(&a4, &a6, 16, m16), swap_masked(&a5, &a7, 16, m16);
    swap_masked(&a0, &a1, 8, m8), swap_masked(&a2, &a3, 8, m8);
    swap_masked(&a4, &a5, 8, m8), swap_masked(&a6, &a7, 8, m8);
    memcpy(out, &a0, 8), memcpy(out + os, &a1, 8), memcpy(out + 2 * os, &a2, 8);
    memcpy(out + 3 * os, &a3, 8), memcpy(out + 4 * os, &a4, 8), memcpy(out + 5 * os, &a5, 8);
    memcpy(out + 6 * os, &a6, 8), memcpy(out + 7 * os, &a7, 8);
}

/* rows x cols bytes turned: element (r, c) at in + r * is + c goes to out + c * os + r. */
static void turn(const unsigned char *in, ptrdiff_t is, int rows, int cols, unsigned char *out,
                 ptrdiff_t os)
{
    int r = 0, c;

    for (; little_endian() && r + 8 <= rows; r += 8) {
        for (c = 0; c + 8 <= cols; c += 8)
            transpose8(in + r * is + c, is, out + c * os + r, os);
        for (; c < cols; c++)
            for (int i = r; i < r + 8; i++)
                out[c * os + i] = in[i * is + c];
    }
    for (; r < rows; r++)
        for (c = 0; c < cols; c++)
            out[c * os + r] = in[r * is + c];
}

/* x * w / TAP_ONE with 7 bits of fraction kept, in 16 bits: (x << 8) * w >> 16 is one pmulhuw,
 * 8 samples an instruction on plain x86-64 (SSE2), where 32-bit sums did 4. */
static inline uint16_t tap(unsigned char x, uint16_t w)
{
    return (uint16_t)(((uint32_t)x << 8) * w >> 16);
}

/* Down the k source rows from `in` (stride is) for LANES columns: bytes, rounded. A fixed
 * count, so that -O2 (gcc's very-cheap vectoriser) vectorises it as -O3 does. */
static inline void column_block(const unsigned char *in, ptrdiff_t is, const uint16_t *w, int k,
                                unsigned char *out)
{
    uint16_t s[LANES];

    for (int l = 0; l < LANES; l++)
        s[l] = (uint16_t)(tap(in[l], w[0]) + 64);
    for (int j = 1; j < k; j++)
        for (int l = 0; l < LANES; l++)
            s[l] = (uint16_t)(s[l] + tap(in[j * is + l], w[j]));
    for (int l = 0; l < LANES; l++)
        out[l] = (unsigned char)(s[l] >> 7); /* k taps sum to at most 255 << 7, plus 64 */
}

/* One output row of n columns; a row shorter than a block goes a column at a time. */
static void taps_column(const unsigned char *in, ptrdiff_t is, int n, const uint16_t *w, int k,
                        unsigned char *out)
{
    int x = 0;

    for (; n >= LANES && x < n; x += LANES) {
        x = x + LANES > n ? n - LANES : x; /* the last block overlaps the one before */
        if (k == 2)
            column_block(in + x, is, w, 2, out + x);
        else
            column_block(in + x, is, w, k, out + x);
    }
    for (; x < n; x++) {
        unsigned s = 64;
        for (int j = 0; j < k; j++)
            s += tap(in[j * is + x], w[j]);
        out[x] = (unsigned char)(s >> 7);
    }
}

/* Along x on a turned strip: output columns x0 .. x1 - 1, each from k source columns of LANES
 * bytes (t holds source columns from c0 on). k is a constant at each call in plane_resize, so
 * the loops unroll: 2 or 3 for the display (DCT scaling leaves under twice its size), 5 or 6
 * for a thumbnail. */
static inline void taps_lanes(const unsigned char *t, int c0, const struct taps *tx, int k, int x0,
                              int x1, unsigned char *u)
{
    for (int x = x0; x < x1; x++) {
        const unsigned char *in = t + (size_t)(tx->first[x] - c0) * LANES;
        const uint16_t *w = tx->w + (size_t)x * k;
        uint16_t s[LANES];
        for (int l = 0; l < LANES; l++)
            s[l] = (uint16_t)(tap(in[l], w[0]) + 64);
        for (int j = 1; j < k; j++)
            for (int l = 0; l < LANES; l++)
                s[l] = (uint16_t)(s[l] + tap(in[j * LANES + l], w[j]));
        for (int l = 0; l < LANES; l++)
            u[(size_t)x * LANES + l] = (unsigned char)(s[l] >> 7);
    }
}

/* Strip rows y0 .. y0 + rows - 1, held as dw columns of LANES (u), to where `wk` puts them. */
static void strip_put(const unsigned char *u, int rows, int y0, int dw, unsigned char *dst,
                      struct walk wk)
{
    if (wk.dx == 1 || wk.dx == -1) { /* turned back; a mirrored row is read from its end */
        const unsigned char *in = wk.dx > 0 ? u : u + (ptrdiff_t)(dw - 1) * LANES;
        turn(in, wk.dx * LANES, dw, rows,
             dst + wk.at + (wk.dx > 0 ? 0 : -(ptrdiff_t)(dw - 1)) + y0 * wk.dy, wk.dy);
        return;
    }
    /* the photo turns: each column is a run of an upright row, already backwards in u when the
     * run goes backwards (see plane_resize) */
    for (int x = 0; x < dw; x++)
        memcpy(dst + wk.at + x * wk.dx + (wk.dy > 0 ? y0 : y0 + rows - 1) * wk.dy,
               u + (size_t)x * LANES, (size_t)rows);
}

/* Along x, a strip is turned and filtered in chunks of at most CHUNK_COLS source columns (or
 * one span, when that is wider): a 50-megapixel PNG one pixel high needs no 3 GB strip. */
#define CHUNK_COLS 4096

/* A plane binned by fx x fy: each sample the mean of a block, the last block of a row or column
 * also taking the remainder (less than a quarter of an output pixel wide, see plane_resize).
 * Only a PNG 8 or more times the display comes here (DCT scaling keeps a JPEG within 5 times):
 * the filter's 16-bit sums lose up to k/128 of a level and its weights need a few taps. */
static unsigned char *plane_bin(const unsigned char *src, int sw, int sh, int ss, int fx, int fy,
                                int *bw, int *bh)
{
    uint64_t *sum;
    unsigned char *b;

    *bw = sw / fx;
    *bh = sh / fy;
    sum = malloc(sizeof *sum * (size_t)*bw);
    b = malloc((size_t)*bw * (size_t)*bh);
    for (int by = 0; sum && b && by < *bh; by++) {
        int y1 = by + 1 == *bh ? sh : (by + 1) * fy;
        memset(sum, 0, sizeof *sum * (size_t)*bw);
        for (int y = by * fy; y < y1; y++)
            for (int x = 0; x < sw; x++)
                sum[x / fx < *bw ? x / fx : *bw - 1] += src[(size_t)y * ss + x];
        for (int bx = 0; bx < *bw; bx++) {
            uint64_t n = (uint64_t)(bx + 1 == *bw ? sw - bx * fx : fx) * (uint64_t)(y1 - by * fy);
            b[(size_t)by * *bw + bx] = (unsigned char)((sum[bx] + n / 2) / n);
        }
    }
    if (!sum) {
        free(b);
        b = NULL;
    }
    free(sum);
    return b;
}

/* Box-filter a sw x sh plane (stride ss) to dw x dh (never enlarging; equal sizes copy), each
 * output sample written where `wk` says. Fixed point with 15-bit weights, rounded to a byte
 * between the passes: each output is the mean of the source area it covers to within 1/255. */
static int plane_resize(const unsigned char *src, int sw, int sh, int ss, unsigned char *dst,
                        int dw, int dh, struct walk wk, struct rp_err *err)
{
    struct taps tx = {0}, ty = {0};
    int turned = wk.dx != 1 && wk.dx != -1, rc = RP_OK, chunk = 0, lanes = dh < LANES ? dh : LANES;
    unsigned char *rows_a, *t = NULL, *u;

    if (sw / dw >= 8 || sh / dh >= 8) {
        int fx = sw / dw >= 8 ? sw / (4 * dw) : 1, fy = sh / dh >= 8 ? sh / (4 * dh) : 1, bw, bh;
        unsigned char *b = plane_bin(src, sw, sh, ss, fx, fy, &bw, &bh);
        rc = b ? plane_resize(b, bw, bh, bw, dst, dw, dh, wk, err)
               : rp_err_set(err, RP_NO_MEMORY, "downscale");
        free(b);
        return rc;
    }
    rows_a = malloc((size_t)lanes * (size_t)sw);
    u = malloc((size_t)LANES * (size_t)dw);
    if (rows_a && u && taps_make(sw, dw, &tx) == 0 && taps_make(sh, dh, &ty) == 0) {
        chunk = tx.k > CHUNK_COLS ? tx.k : sw < CHUNK_COLS ? sw : CHUNK_COLS;
        t = calloc((size_t)LANES, (size_t)chunk); /* a short strip still reads all lanes */
    }
    if (!t) {
        rc = rp_err_set(err, RP_NO_MEMORY, "downscale");
        goto out;
    }
    for (int y0 = 0; y0 < dh; y0 += LANES) {
        int rows = dh - y0 < LANES ? dh - y0 : LANES;
        for (int r = 0; r < rows; r++) { /* a backwards run is filled from its far end */
            int lane = turned && wk.dy < 0 ? rows - 1 - r : r;
            taps_column(src + (size_t)ty.first[y0 + r] * ss, ss, sw, ty.w + (size_t)(y0 + r) * ty.k,
                        ty.k, rows_a + (size_t)lane * sw);
        }
        for (int x0 = 0, x1; x0 < dw; x0 = x1) {
            int c0 = tx.first[x0];
            for (x1 = x0 + 1; x1 < dw && tx.first[x1] + tx.k - c0 <= chunk; x1++)
                ;
            turn(rows_a + c0, sw, rows, tx.first[x1 - 1] + tx.k - c0, t, LANES);
            /* clang-format off */
            switch (tx.k) {
            case 1:  taps_lanes(t, c0, &tx, 1, x0, x1, u); break;
            case 2:  taps_lanes(t, c0, &tx, 2, x0, x1, u); break;
            case 3:  taps_lanes(t, c0, &tx, 3, x0, x1, u); break;
            default: taps_lanes(t, c0, &tx, tx.k, x0, x1, u); break;
            }
            /* clang-format on */
        }
        strip_put(u, rows, y0, dw, dst, wk);
    }
out:
    taps_free(&tx);
    taps_free(&ty);
    free(rows_a);
    free(t);
    free(u);
    return rc;
}

/* The encoder reads 4:2:0 luma padded to even sizes: the last column and row, repeated. */
static void pad_luma(struct yuv *im)
{
    unsigned char *p = im->p[0];
    size_t s = (size_t)im->s[0];

    if (im->s[0] > im->w[0])
        for (int y = 0; y < im->h[0]; y++)
            p[y * s + (size_t)im->w[0]] = p[y * s + (size_t)im->w[0] - 1];
    if (tjPlaneHeight(0, im->h[0], TJSAMP_420) > im->h[0])
        memcpy(p + (size_t)im->h[0] * s, p + (size_t)(im->h[0] - 1) * s, s);
}

/* src filtered to 4:2:0 planes whose luma is dw x dh in src's orientation, turned upright by
 * EXIF orientation o on the way (dh x dw for o >= 5). */
static int yuv_resize(const struct yuv *src, int dw, int dh, int o, struct yuv *dst,
                      struct rp_err *err)
{
    int turned = o >= 5 && o <= 8, cw = (dw + 1) / 2, ch = (dh + 1) / 2;
    int rc = yuv_alloc(dst, turned ? dh : dw, turned ? dw : dh, TJSAMP_420, err);

    if (rc == RP_OK)
        rc = plane_resize(src->p[0], src->w[0], src->h[0], src->s[0], dst->p[0], dw, dh,
                          walk_of(o, dw, dh, dst->s[0]), err);
    for (int i = 1; rc == RP_OK && i < 3; i++) {
        if (!src->p[i]) /* grey: neutral chroma */
            memset(dst->p[i], 128, (size_t)cw * (size_t)ch);
        else
            rc = plane_resize(src->p[i], src->w[i], src->h[i], src->s[i], dst->p[i], cw, ch,
                              walk_of(o, cw, ch, dst->s[i]), err);
    }
    if (rc != RP_OK) {
        free(dst->buf);
        dst->buf = NULL;
        return rc;
    }
    pad_luma(dst);
    return RP_OK;
}

/* The size whose long side is at most max_px, as w x h shrinks (never enlarged). */
static void fit(int w, int h, int max_px, int *fw, int *fh)
{
    int longest = w > h ? w : h;
    double f = longest > max_px ? (double)max_px / longest : 1.0;

    *fw = (int)lround(w * f);
    *fh = (int)lround(h * f);
    *fw = *fw < 1 ? 1 : *fw;
    *fh = *fh < 1 ? 1 : *fh;
}

static int encode(tjhandle tj, const struct yuv *im, struct media_jpeg *out, struct rp_err *err)
{
    const unsigned char *planes[3] = {im->p[0], im->p[1], im->p[2]};
    unsigned char *buf = NULL;
    unsigned long len = 0;
    int rc = RP_OK;

    if (tjCompressFromYUVPlanes(tj, planes, im->w[0], im->s, im->h[0], TJSAMP_420, &buf, &len,
                                MEDIA_QUALITY, 0) != 0) {
        rc = rp_err_set(err, RP_INTERNAL, "jpeg encode: %s", tjGetErrorStr2(tj));
    } else {
        out->data = malloc(len);
        if (!out->data)
            rc = rp_err_set(err, RP_NO_MEMORY, "jpeg");
        else {
            memcpy(out->data, buf, len);
            out->len = len;
            out->width = im->w[0];
            out->height = im->h[0];
        }
    }
    tjFree(buf);
    return rc;
}

static void sha256_hex(const unsigned char *d, size_t len, char out[MEDIA_SHA256_HEX])
{
    unsigned char h[32];
    unsigned int n = 0;

    EVP_Digest(d, len, h, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Decoded planes to both 4:2:0 outputs: the display size filtered and turned upright in one
 * pass (or the planes as decoded, when they already are that), the thumbnail from it. */
static int encode_both(struct yuv *full, int o, struct media_photo *out, struct rp_err *err)
{
    struct yuv display = {0}, thumb = {0};
    tjhandle tj = tjInitCompress();
    int dw, dh, tw, th, rc;

    if (!tj)
        return rp_err_set(err, RP_NO_MEMORY, "jpeg encoder");
    fit(full->w[0], full->h[0], MEDIA_DISPLAY_PX, &dw, &dh);
    if (dw == full->w[0] && dh == full->h[0] && (o < 2 || o > 8) && full->subsamp == TJSAMP_420) {
        display = *full;
        full->buf = NULL;
        rc = RP_OK;
    } else {
        rc = yuv_resize(full, dw, dh, o, &display, err);
    }
    if (rc == RP_OK) {
        fit(display.w[0], display.h[0], MEDIA_THUMB_PX, &tw, &th);
        rc = yuv_resize(&display, tw, th, 1, &thumb, err);
    }
    if (rc == RP_OK)
        rc = encode(tj, &display, &out->display, err);
    if (rc == RP_OK)
        rc = encode(tj, &thumb, &out->thumb, err);
    free(display.buf);
    free(thumb.buf);
    tjDestroy(tj);
    return rc;
}

int media_photo_process(const unsigned char *data, size_t len, struct media_photo *out,
                        struct rp_err *err)
{
    struct yuv full = {0};
    char seen[40];
    const char *kind;
    int rc;

    memset(out, 0, sizeof *out);
    if (len > MEDIA_MAX_BYTES)
        return rp_err_set(err, RP_TOO_LARGE, "the photo is over %ld MB",
                          MEDIA_MAX_BYTES / (1024 * 1024));
    kind = media_sniff(data, len, seen, sizeof seen);
    if (strcmp(kind, "jpeg") == 0) {
        out->format = "jpeg";
        read_exif(data, len, out);
        rc = decode_jpeg(data, len, out, &full, err);
    } else if (strcmp(kind, "png") == 0) {
        out->format = "png";
        out->orientation = 1;
        rc = decode_png(data, len, out, &full, err);
    } else {
        return rp_err_set(err, RP_UNSUPPORTED_MEDIA_TYPE, "photos are JPEG or PNG; this is %s",
                          kind);
    }
    if (rc == RP_OK)
        rc = encode_both(&full, out->orientation, out, err);
    free(full.buf);
    if (rc != RP_OK) {
        media_photo_free(out);
        return rc;
    }
    sha256_hex(out->display.data, out->display.len, out->sha256);
    return RP_OK;
}

void media_photo_free(struct media_photo *p)
{
    free(p->display.data);
    free(p->thumb.data);
    p->display.data = p->thumb.data = NULL;
}
