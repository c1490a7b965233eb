/*
 * bench/photo.c - the photo pipeline on a 12 MP photo, one core.
 *   bench_photo make FILE          writes a 4000x3000 photo-like JPEG (gradients and noise,
 *                                  quality 90, EXIF orientation and GPS) for the other runs
 *   bench_photo run FILE N DIR     N rounds, each: the pipeline end to end (decode, DCT-scaled;
 *                                  downscale and turn upright; two encodes; SHA-256; fsynced
 *                                  write under DIR), a bare full-size libjpeg-turbo decode (the
 *                                  floor), a decode at 1/8 (entropy decoding alone) and a decode
 *                                  at the pipeline's own scale into planes (its first step alone),
 *                                  these three into one buffer written beforehand. Interleaved,
 *                                  so a busy machine slows every row alike. Prints ms p50/p99.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "images.h"
#include "media/photo.h"
#include "media/store.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int make(const char *path)
{
    int w = 4000, h = 3000;
    unsigned char *px = malloc((size_t)w * h * 3), *jpg, *ex;
    size_t len, elen;
    FILE *fp;

    srand(3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * w + x) * 3;
            int n = rand() % 24;
            p[0] = (unsigned char)((x * 255 / w + n) & 0xFF);
            p[1] = (unsigned char)((y * 255 / h + n) & 0xFF);
            p[2] = (unsigned char)(((x + y) * 128 / (w + h) + 60 + n) & 0xFF);
        }
    jpg = jpeg_of(px, w, h, &len);
    ex = with_exif(jpg, len, 6, 8.9871, -79.5270, &elen);
    fp = fopen(path, "wb");
    if (!fp || fwrite(ex, 1, elen, fp) != elen)
        return 1;
    fclose(fp);
    printf("bench_photo make: %s, %dx%d, %.1f MB\n", path, w, h, elen / 1e6);
    free(px);
    free(jpg);
    free(ex);
    return 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *d;
    long n;

    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    d = malloc((size_t)n);
    *len = fread(d, 1, (size_t)n, fp);
    fclose(fp);
    return d;
}

/* ms for one bare libjpeg-turbo decode at scale f into px: a new handle, as a server has, and a
 * buffer written before, so that no row pays for page faults. The pipeline's own buffers come
 * back from malloc's heap without any (getrusage: 0 minor faults a photo from the third on),
 * and a fresh 36 MB one for this decode would add ~9,000 faults, 10-15 ms here: the floor must
 * not depend on what the pipeline happens to leave in the heap. */
static double decode_ms(const unsigned char *d, size_t len, tjscalingfactor f, unsigned char *px)
{
    tjhandle tj = tjInitDecompress();
    int w, h, ss, cs;
    double t0 = now_ms(), took;

    tjDecompressHeader3(tj, d, len, &w, &h, &ss, &cs);
    tjDecompress2(tj, d, len, px, TJSCALED(w, f), 0, TJSCALED(h, f), TJPF_RGB, 0);
    took = now_ms() - t0;
    tjDestroy(tj);
    return took;
}

/* ms for a decode at scale f into Y, Cb, Cr planes (in px), as media_photo_process starts */
static double planes_ms(const unsigned char *d, size_t len, tjscalingfactor f, unsigned char *px)
{
    tjhandle tj = tjInitDecompress();
    int w, h, ss, cs, pw, ph;
    unsigned char *planes[3];
    double t0 = now_ms(), took;

    tjDecompressHeader3(tj, d, len, &w, &h, &ss, &cs);
    pw = TJSCALED(w, f), ph = TJSCALED(h, f);
    planes[0] = px;
    planes[1] = planes[0] + (size_t)tjPlaneWidth(0, pw, ss) * tjPlaneHeight(0, ph, ss);
    planes[2] = planes[1] + (size_t)tjPlaneWidth(1, pw, ss) * tjPlaneHeight(1, ph, ss);
    tjDecompressToYUVPlanes(tj, d, len, planes, pw, NULL, ph, 0);
    took = now_ms() - t0;
    tjDestroy(tj);
    return took;
}

/* "<name> <p50> <p99>" of n timings (sorted here) */
static void quantiles(const char *name, double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    printf("%s %.1f %.1f\n", name, ms[n / 2], ms[(n * 99) / 100]);
}

static int run(const char *path, int n, const char *dir)
{
    size_t len;
    unsigned char *d = slurp(path, &len);
    double *ms = calloc((size_t)n, sizeof *ms), *bare = calloc((size_t)n, sizeof *bare);
    double *proc = calloc((size_t)n, sizeof *proc), *eighth = calloc((size_t)n, sizeof *eighth);
    double *half = calloc((size_t)n, sizeof *half);
    unsigned char *px = NULL;
    tjhandle tj = tjInitDecompress();
    int w = 0, h = 0, ss, cs;
    char cmd[1200];

    if (d && tjDecompressHeader3(tj, d, len, &w, &h, &ss, &cs) == 0)
        px = malloc((size_t)w * h * 3); /* the floors' pixels: enough for a full decode */
    tjDestroy(tj);
    if (!px || !ms || !bare || !proc || !eighth || !half)
        return 1;
    memset(px, 0, (size_t)w * h * 3);
    for (int i = 0; i < n; i++) {
        struct media_photo p;
        struct rp_err err = {0};
        double t0 = now_ms();
        if (media_photo_process(d, len, &p, &err) != RP_OK) {
            fprintf(stderr, "bench_photo: %s\n", err.msg);
            return 1;
        }
        proc[i] = now_ms() - t0;
        if (media_store_put(dir, &p, &err) != RP_OK) {
            fprintf(stderr, "bench_photo: %s\n", err.msg);
            return 1;
        }
        ms[i] = now_ms() - t0;
        media_photo_free(&p);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'/??", dir); /* the next write is a real one */
        if (system(cmd) != 0)
            return 1;
        /* at 1/8 the inverse DCT keeps only each block's DC value: what is left is reading the
         * entropy-coded data, which no scaling skips (the floor under any pipeline) */
        bare[i] = decode_ms(d, len, (tjscalingfactor){1, 1}, px);
        eighth[i] = decode_ms(d, len, (tjscalingfactor){1, 8}, px);
        half[i] = planes_ms(d, len, (tjscalingfactor){1, 2}, px);
    }
    quantiles("pipeline", ms, n);
    quantiles("process", proc, n);
    quantiles("bare_decode", bare, n);
    quantiles("eighth_decode", eighth, n);
    quantiles("half_planes", half, n);
    free(d);
    free(px);
    free(ms);
    free(bare);
    free(proc);
    free(eighth);
    free(half);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "make") == 0)
        return make(argv[2]);
    if (argc == 5 && strcmp(argv[1], "run") == 0)
        return run(argv[2], atoi(argv[3]), argv[4]);
    fprintf(stderr, "usage: bench_photo make FILE | run FILE N DIR\n");
    return 2;
}
