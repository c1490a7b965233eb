/*
 * tests/test_media.c - the photo pipeline on images made here: a JPEG carrying EXIF GPS, a
 * camera serial and an orientation (built with libexif and spliced in as APP1), a PNG, a
 * truncated JPEG, a JPEG whose header claims 60000x60000, a GIF. The outputs are parsed back:
 * marker by marker (no APP1 may remain) and pixel by pixel (upright, sized).
 */
#include <libexif/exif-data.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <turbojpeg.h>

#include "check.h"
#include "media/photo.h"

#define SERIAL "SN-PRIVATE-0042"

/* w x h, left half red, right half blue */
static unsigned char *halves(int w, int h)
{
    unsigned char *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * w + x) * 3;
            p[0] = x < w / 2 ? 220 : 20;
            p[1] = 20;
            p[2] = x < w / 2 ? 20 : 220;
        }
    return px;
}

static unsigned char *jpeg_of(const unsigned char *px, int w, int h, size_t *len)
{
    tjhandle tj = tjInitCompress();
    unsigned char *buf = NULL, *out;
    unsigned long n = 0;

    tjCompress2(tj, px, w, 0, h, TJPF_RGB, &buf, &n, TJSAMP_420, 90, 0);
    out = malloc(n);
    memcpy(out, buf, n);
    *len = n;
    tjFree(buf);
    tjDestroy(tj);
    return out;
}

static ExifEntry *entry(ExifData *ed, ExifIfd ifd, ExifTag tag, ExifFormat f, unsigned n)
{
    ExifEntry *e = exif_entry_new();
    e->tag = tag;
    e->format = f;
    e->components = n;
    e->size = exif_format_get_size(f) * n;
    e->data = calloc(1, e->size);
    exif_content_add_entry(ed->ifd[ifd], e);
    exif_entry_unref(e);
    return e;
}

static void put_dms(ExifData *ed, ExifTag tag, ExifTag ref, double v, char pos, char neg)
{
    ExifEntry *e = entry(ed, EXIF_IFD_GPS, tag, EXIF_FORMAT_RATIONAL, 3);
    ExifEntry *r = entry(ed, EXIF_IFD_GPS, ref, EXIF_FORMAT_ASCII, 2);
    double a = v < 0 ? -v : v;
    unsigned d = (unsigned)a, m = (unsigned)((a - d) * 60);
    double s = ((a - d) * 60 - m) * 60;
    ExifRational parts[3] = {{d, 1}, {m, 1}, {(ExifLong)(s * 1000), 1000}};

    for (int i = 0; i < 3; i++)
        exif_set_rational(e->data + 8 * i, EXIF_BYTE_ORDER_MOTOROLA, parts[i]);
    r->data[0] = (unsigned char)(v < 0 ? neg : pos);
}

/* The JPEG with an APP1 EXIF segment (orientation, GPS, a camera serial) after its SOI. */
static unsigned char *with_exif(const unsigned char *jpg, size_t len, int orientation,
                                double lat, double lon, size_t *out_len)
{
    ExifData *ed = exif_data_new();
    ExifEntry *e;
    unsigned char *exif = NULL, *out;
    unsigned int n = 0;

    exif_data_set_byte_order(ed, EXIF_BYTE_ORDER_MOTOROLA);
    e = entry(ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, EXIF_FORMAT_SHORT, 1);
    exif_set_short(e->data, EXIF_BYTE_ORDER_MOTOROLA, (ExifShort)orientation);
    e = entry(ed, EXIF_IFD_EXIF, (ExifTag)0xA431, EXIF_FORMAT_ASCII, sizeof SERIAL);
    memcpy(e->data, SERIAL, sizeof SERIAL); /* BodySerialNumber */
    put_dms(ed, EXIF_TAG_GPS_LATITUDE, EXIF_TAG_GPS_LATITUDE_REF, lat, 'N', 'S');
    put_dms(ed, EXIF_TAG_GPS_LONGITUDE, EXIF_TAG_GPS_LONGITUDE_REF, lon, 'E', 'W');
    exif_data_save_data(ed, &exif, &n);
    exif_data_unref(ed);
    *out_len = len + 4 + n;
    out = malloc(*out_len);
    out[0] = 0xFF, out[1] = 0xD8, out[2] = 0xFF, out[3] = 0xE1;
    out[4] = (unsigned char)((n + 2) >> 8), out[5] = (unsigned char)((n + 2) & 0xFF);
    memcpy(out + 6, exif, n);
    memcpy(out + 6 + n, jpg + 2, len - 2);
    free(exif);
    return out;
}

/* Walks the JPEG's segments up to the scan: 1 when any is APP1..APP15 or COM. */
static int has_metadata(const unsigned char *d, size_t len)
{
    size_t i = 2;

    while (i + 4 <= len && d[i] == 0xFF) {
        unsigned m = d[i + 1], seg = (unsigned)(d[i + 2] << 8 | d[i + 3]);
        if ((m >= 0xE1 && m <= 0xEF) || m == 0xFE)
            return 1;
        if (m == 0xDA) /* start of scan: no more headers */
            return 0;
        i += 2 + seg;
    }
    return 0;
}

static int contains(const unsigned char *d, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(d + i, s, n) == 0)
            return 1;
    return 0;
}

/* The RGB pixel at (x, y) of a JPEG, and its size. */
static void pixel_at(const struct media_jpeg *j, int x, int y, unsigned char rgb[3])
{
    tjhandle tj = tjInitDecompress();
    unsigned char *px = malloc((size_t)j->width * j->height * 3);

    tjDecompress2(tj, j->data, j->len, px, j->width, 0, j->height, TJPF_RGB, 0);
    memcpy(rgb, px + ((size_t)y * j->width + x) * 3, 3);
    free(px);
    tjDestroy(tj);
}

static void test_exif_gps_and_serial_never_leave(void)
{
    unsigned char *px = halves(800, 600), *plain, *jpg;
    size_t plen, len;
    struct media_photo p;
    struct rp_err err = {0};

    plain = jpeg_of(px, 800, 600, &plen);
    jpg = with_exif(plain, plen, 1, 8.98765, -79.51234, &len);
    CHECK(contains(jpg, len, SERIAL)); /* the input does carry it */
    CHECK(has_metadata(jpg, len));
    CHECK_OK(media_photo_process(jpg, len, &p, &err), &err);
    CHECK_STR_EQ(p.format, "jpeg");
    CHECK(p.has_gps);
    CHECK_NEAR(p.gps_lat, 8.98765, 1e-4);
    CHECK_NEAR(p.gps_lon, -79.51234, 1e-4);
    CHECK(!has_metadata(p.display.data, p.display.len));
    CHECK(!has_metadata(p.thumb.data, p.thumb.len));
    CHECK(!contains(p.display.data, p.display.len, SERIAL));
    CHECK(!contains(p.thumb.data, p.thumb.len, SERIAL));
    CHECK(!contains(p.display.data, p.display.len, "Exif"));
    CHECK_INT_EQ(p.display.width, 800); /* never enlarged */
    CHECK_INT_EQ(p.thumb.width, 320);
    CHECK_INT_EQ(p.thumb.height, 240);
    CHECK_INT_EQ(strlen(p.sha256), 64);
    media_photo_free(&p);
    free(px);
    free(plain);
    free(jpg);
}

static void test_rotated_photo_comes_out_upright(void)
{
    /* stored 400x200, left red / right blue, EXIF 6 = "turn 90 clockwise to view": upright it
     * is 200x400 with red on top */
    unsigned char *px = halves(400, 200), *plain, *jpg, rgb[3];
    size_t plen, len;
    struct media_photo p;
    struct rp_err err = {0};

    plain = jpeg_of(px, 400, 200, &plen);
    jpg = with_exif(plain, plen, 6, 9.0, -79.5, &len);
    CHECK_OK(media_photo_process(jpg, len, &p, &err), &err);
    CHECK_INT_EQ(p.orientation, 6);
    CHECK_INT_EQ(p.display.width, 200);
    CHECK_INT_EQ(p.display.height, 400);
    pixel_at(&p.display, 100, 50, rgb);
    CHECK(rgb[0] > 150 && rgb[2] < 100); /* red on top */
    pixel_at(&p.display, 100, 350, rgb);
    CHECK(rgb[2] > 150 && rgb[0] < 100); /* blue below */
    CHECK_INT_EQ(p.thumb.width, 160);
    CHECK_INT_EQ(p.thumb.height, 320);
    media_photo_free(&p);
    free(px);
    free(plain);
    free(jpg);
}

static void test_large_photo_is_scaled_while_decoding(void)
{
    /* 4000x3000 (12 MP): DCT scaling decodes at 2000x1500, then 1600x1200 is kept */
    unsigned char *px = halves(4000, 3000), *jpg;
    size_t len;
    struct media_photo p;
    struct rp_err err = {0};

    jpg = jpeg_of(px, 4000, 3000, &len);
    CHECK_OK(media_photo_process(jpg, len, &p, &err), &err);
    CHECK_INT_EQ(p.src_width, 4000);
    CHECK_INT_EQ(p.display.width, 1600);
    CHECK_INT_EQ(p.display.height, 1200);
    CHECK(!p.has_gps);
    media_photo_free(&p);
    free(px);
    free(jpg);
}

static void test_header_bomb_is_refused_before_decoding(void)
{
    unsigned char *px = halves(64, 64), *jpg;
    size_t len;
    struct media_photo p;
    struct rp_err err = {0};
    struct rusage before, after;

    jpg = jpeg_of(px, 64, 64, &len);
    /* rewrite the frame header (SOF0) to claim 60000 x 60000: 3.6 gigapixels, ~10 GB of RGB */
    for (size_t i = 2; i + 9 < len; i++)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) {
            jpg[i + 5] = 60000 >> 8, jpg[i + 6] = 60000 & 0xFF; /* height */
            jpg[i + 7] = 60000 >> 8, jpg[i + 8] = 60000 & 0xFF; /* width */
            break;
        }
    getrusage(RUSAGE_SELF, &before);
    CHECK_INT_EQ(media_photo_process(jpg, len, &p, &err), RP_TOO_LARGE);
    getrusage(RUSAGE_SELF, &after);
    CHECK(strstr(err.msg, "60000x60000") != NULL);
    CHECK(after.ru_maxrss - before.ru_maxrss < 20 * 1024); /* KB: nothing was allocated for it */
    free(px);
    free(jpg);
}

static void test_png_is_known_by_content(void)
{
    unsigned char *px = halves(300, 100), *png;
    png_alloc_size_t n = 0;
    png_image img;
    struct media_photo p;
    struct rp_err err = {0};

    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = 300;
    img.height = 100;
    img.format = PNG_FORMAT_RGB;
    png_image_write_get_memory_size(img, n, 0, px, 0, NULL);
    png = malloc(n);
    CHECK(png_image_write_to_memory(&img, png, &n, 0, px, 0, NULL));
    /* whatever the file was called, the bytes say PNG */
    CHECK_OK(media_photo_process(png, n, &p, &err), &err);
    CHECK_STR_EQ(p.format, "png");
    CHECK_INT_EQ(p.display.width, 300);
    CHECK(p.display.data[0] == 0xFF && p.display.data[1] == 0xD8); /* stored as JPEG */
    media_photo_free(&p);
    free(px);
    free(png);
}

static void test_truncated_and_foreign_bytes_are_refused(void)
{
    unsigned char *px = halves(640, 480), *jpg;
    size_t len;
    struct media_photo p;
    struct rp_err err = {0};
    static const unsigned char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";

    jpg = jpeg_of(px, 640, 480, &len);
    CHECK_INT_EQ(media_photo_process(jpg, len / 2, &p, &err), RP_INVALID_IMAGE);
    rp_err_clear(&err);
    CHECK_INT_EQ(media_photo_process(jpg, 100, &p, &err), RP_INVALID_IMAGE);
    rp_err_clear(&err);
    CHECK_INT_EQ(media_photo_process(gif, sizeof gif - 1, &p, &err), RP_UNSUPPORTED_MEDIA_TYPE);
    CHECK(strstr(err.msg, "gif") != NULL);
    rp_err_clear(&err);
    CHECK_INT_EQ(media_photo_process((const unsigned char *)"hello", 5, &p, &err),
                 RP_UNSUPPORTED_MEDIA_TYPE);
    rp_err_clear(&err);
    CHECK_INT_EQ(media_photo_process(jpg, 0, &p, &err), RP_UNSUPPORTED_MEDIA_TYPE);
    free(px);
    free(jpg);
}

int main(void)
{
    RUN(test_exif_gps_and_serial_never_leave);
    RUN(test_rotated_photo_comes_out_upright);
    RUN(test_large_photo_is_scaled_while_decoding);
    RUN(test_header_bomb_is_refused_before_decoding);
    RUN(test_png_is_known_by_content);
    RUN(test_truncated_and_foreign_bytes_are_refused);
    return check_exit();
}
