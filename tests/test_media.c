/*
 * tests/test_media.c - the photo pipeline on images made here: a JPEG carrying EXIF GPS, a
 * camera serial and an orientation (built with libexif and spliced in as APP1), a PNG, a
 * truncated JPEG, a JPEG whose header claims 60000x60000, a GIF. The outputs are parsed back:
 * marker by marker (no APP1 may remain) and pixel by pixel (upright, sized).
 */
#include <png.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <turbojpeg.h>

#include "check.h"
#include "images.h"
#include "media/photo.h"
#include "media/store.h"

static void pixel_at(const struct media_jpeg *j, int x, int y, unsigned char rgb[3])
{
    jpeg_pixel(j->data, j->len, j->width, j->height, x, y, rgb);
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

/* Stored w x h in quadrants: red top left, green top right, blue bottom left, grey bottom right */
static unsigned char *quadrants(int w, int h)
{
    unsigned char *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * w + x) * 3;
            int right = x >= w / 2, bottom = y >= h / 2;
            p[0] = right == bottom ? 220 : 20;
            p[1] = right ? 220 : 20;
            p[2] = bottom ? 220 : 20;
        }
    return px;
}

/* Which quadrant a pixel shows: 0 red, 1 green, 2 blue, 3 grey, -1 none of them */
static int quadrant_of(const unsigned char rgb[3])
{
    int r = rgb[0] > 150, g = rgb[1] > 150, b = rgb[2] > 150, dark = 0;

    for (int i = 0; i < 3; i++)
        dark += rgb[i] < 90;
    if (r + g + b == 3)
        return 3;
    if (r + g + b != 1 || dark != 2)
        return -1;
    return r ? 0 : g ? 1 : 2;
}

/* EXIF orientation o's meaning, from the stored image's side: the stored pixel that upright
 * pixel (x, y) shows, for a stored sw x sh (the TIFF 6.0 table, written out independently of
 * media/photo.c's walks). */
static void stored_xy(int o, int sw, int sh, int x, int y, int *sx, int *sy)
{
    /* clang-format off */
    switch (o) {
    case 2: *sx = sw - 1 - x, *sy = y; break;
    case 3: *sx = sw - 1 - x, *sy = sh - 1 - y; break;
    case 4: *sx = x, *sy = sh - 1 - y; break;
    case 5: *sx = y, *sy = x; break;
    case 6: *sx = y, *sy = sh - 1 - x; break;
    case 7: *sx = sw - 1 - y, *sy = sh - 1 - x; break;
    case 8: *sx = sw - 1 - y, *sy = x; break;
    default: *sx = x, *sy = y; break;
    }
    /* clang-format on */
}

/* All eight orientations, at odd sizes (4:2:0 pads the luma to even ones), kept as they are
 * and shrunk while decoding: each quadrant lands where the orientation says. */
static void test_every_orientation_comes_out_upright(void)
{
    static const int sizes[][2] = {{401, 201}, {3201, 1801}}; /* as is; DCT 1/2 then 1600x900 */

    for (int s = 0; s < 2; s++) {
        int w = sizes[s][0], h = sizes[s][1];
        unsigned char *px = quadrants(w, h), *plain, *jpg;
        size_t plen, len;

        plain = jpeg_of(px, w, h, &plen);
        for (int o = 1; o <= 8; o++) {
            struct media_photo p;
            struct rp_err err = {0};
            int dw, dh; /* the display in stored orientation */

            jpg = with_exif(plain, plen, o, 9.0, -79.5, &len);
            CHECK_OK(media_photo_process(jpg, len, &p, &err), &err);
            dw = o >= 5 ? p.display.height : p.display.width;
            dh = o >= 5 ? p.display.width : p.display.height;
            CHECK_INT_EQ(dw, s == 0 ? 401 : 1600);
            CHECK_INT_EQ(dh, s == 0 ? 201 : 900);
            for (int q = 0; q < 4; q++) { /* the middle of each upright quadrant */
                int x = p.display.width * (q % 2 ? 3 : 1) / 4;
                int y = p.display.height * (q / 2 ? 3 : 1) / 4, sx, sy;
                unsigned char rgb[3];
                stored_xy(o, dw, dh, x, y, &sx, &sy);
                pixel_at(&p.display, x, y, rgb);
                CHECK_INT_EQ(quadrant_of(rgb), (sx >= dw / 2) + 2 * (sy >= dh / 2));
            }
            media_photo_free(&p);
            free(jpg);
        }
        free(px);
        free(plain);
    }
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

static const char *kept_sha;

static int referenced(void *ctx, const char *sha256)
{
    (void)ctx;
    return strcmp(sha256, kept_sha) == 0;
}

/* Stored files are whole and named by content; the sweep removes what nothing refers to and
 * half-written temporaries, and keeps the rest. */
static void test_store_and_sweep(void)
{
    char dir[] = "/tmp/reporta-media-XXXXXX", path[1400], stray[1500], cmd[1600];
    unsigned char *px = halves(320, 200), *jpg;
    size_t len;
    struct media_photo a, b;
    struct rp_err err = {0};
    FILE *fp;

    CHECK(mkdtemp(dir) != NULL);
    jpg = jpeg_of(px, 320, 200, &len);
    CHECK_OK(media_photo_process(jpg, len, &a, &err), &err);
    free(px);
    free(jpg);
    px = halves(200, 320);
    jpg = jpeg_of(px, 200, 320, &len);
    CHECK_OK(media_photo_process(jpg, len, &b, &err), &err);
    CHECK_OK(media_store_put(dir, &a, &err), &err);
    CHECK_OK(media_store_put(dir, &a, &err), &err); /* again: same file, no error */
    CHECK_OK(media_store_put(dir, &b, &err), &err);
    CHECK(media_store_path(dir, a.sha256, path, sizeof path) == 0); /* no extension: refused */
    snprintf(stray, sizeof stray, "%s.jpg", a.sha256);
    CHECK(media_store_path(dir, stray, path, sizeof path) == 1);
    CHECK(access(path, R_OK) == 0);
    CHECK(media_store_path(dir, "../../etc/passwd", path, sizeof path) == 0);
    /* a temporary file as a crash would leave it */
    snprintf(stray, sizeof stray, "%s/%.2s/%.2s/.tmp-%s.jpg-1", dir, b.sha256, b.sha256 + 2,
             b.sha256);
    fp = fopen(stray, "w");
    CHECK(fp != NULL);
    if (fp)
        fclose(fp);
    kept_sha = a.sha256;
    CHECK_INT_EQ(media_store_sweep(dir, referenced, NULL), 3); /* b, b's thumbnail, the tmp */
    snprintf(stray, sizeof stray, "%s.jpg", a.sha256);
    media_store_path(dir, stray, path, sizeof path);
    CHECK(access(path, R_OK) == 0);
    snprintf(stray, sizeof stray, "%s_t.jpg", a.sha256);
    media_store_path(dir, stray, path, sizeof path);
    CHECK(access(path, R_OK) == 0);
    snprintf(stray, sizeof stray, "%s.jpg", b.sha256);
    media_store_path(dir, stray, path, sizeof path);
    CHECK(access(path, F_OK) != 0);
    media_photo_free(&a);
    media_photo_free(&b);
    free(px);
    free(jpg);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* Writers of the same photo at once (threads here; processes sharing a media directory are the
 * same case): each gets RP_OK, the file is whole, and no temporary file is left. */
#define SAME_WRITERS 4
#define SAME_ROUNDS  40

struct same_ctx {
    pthread_barrier_t *go;
    const char *dir;
    const struct media_photo *p;
    int failed;
};

static void *same_writer(void *arg)
{
    struct same_ctx *c = arg;
    struct rp_err err = {0};

    pthread_barrier_wait(c->go);
    if (media_store_put(c->dir, c->p, &err) != RP_OK)
        c->failed++;
    return NULL;
}

static void test_same_photo_written_at_once(void)
{
    unsigned char *px = halves(640, 480), *jpg;
    struct media_photo a;
    struct rp_err err = {0};
    size_t len;
    int failed = 0, bad = 0;

    jpg = jpeg_of(px, 640, 480, &len);
    CHECK_OK(media_photo_process(jpg, len, &a, &err), &err);
    for (int r = 0; r < SAME_ROUNDS; r++) {
        char dir[] = "/tmp/reporta-media-same-XXXXXX", name[128], path[1400], cmd[1200];
        pthread_t t[SAME_WRITERS];
        pthread_barrier_t go;
        struct same_ctx c[SAME_WRITERS];
        FILE *fp;
        CHECK(mkdtemp(dir) != NULL);
        pthread_barrier_init(&go, NULL, SAME_WRITERS);
        for (int i = 0; i < SAME_WRITERS; i++) {
            c[i] = (struct same_ctx){&go, dir, &a, 0};
            pthread_create(&t[i], NULL, same_writer, &c[i]);
        }
        for (int i = 0; i < SAME_WRITERS; i++) {
            pthread_join(t[i], NULL);
            failed += c[i].failed;
        }
        pthread_barrier_destroy(&go);
        snprintf(name, sizeof name, "%s.jpg", a.sha256);
        media_store_path(dir, name, path, sizeof path);
        if ((fp = fopen(path, "rb"))) {
            unsigned char *got = malloc(a.display.len + 1);
            size_t n = got ? fread(got, 1, a.display.len + 1, fp) : 0;
            bad += n != a.display.len || memcmp(got, a.display.data, n) != 0;
            free(got);
            fclose(fp);
        } else {
            bad++;
        }
        snprintf(cmd, sizeof cmd, "test -z \"$(find '%s' -name '.tmp-*')\" && rm -rf '%s'", dir,
                 dir);
        bad += system(cmd) != 0;
    }
    CHECK_INT_EQ(failed, 0);
    CHECK_INT_EQ(bad, 0);
    media_photo_free(&a);
    free(px);
    free(jpg);
}

int main(void)
{
    RUN(test_exif_gps_and_serial_never_leave);
    RUN(test_rotated_photo_comes_out_upright);
    RUN(test_every_orientation_comes_out_upright);
    RUN(test_large_photo_is_scaled_while_decoding);
    RUN(test_header_bomb_is_refused_before_decoding);
    RUN(test_png_is_known_by_content);
    RUN(test_truncated_and_foreign_bytes_are_refused);
    RUN(test_store_and_sweep);
    RUN(test_same_photo_written_at_once);
    return check_exit();
}
