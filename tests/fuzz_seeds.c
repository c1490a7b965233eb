/*
 * tests/fuzz_seeds.c - writes the fuzzer's seed corpus into DIR: small JPEGs with and without
 * EXIF (one rotated), a PNG and a truncated JPEG. usage: fuzz_seeds DIR
 */
#include <png.h>
#include <stdio.h>

#include "images.h"

static void put(const char *dir, const char *name, const unsigned char *d, size_t n)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fp = fopen(path, "wb");
    if (fp) {
        fwrite(d, 1, n, fp);
        fclose(fp);
    }
}

int main(int argc, char **argv)
{
    unsigned char *px = halves(64, 48), *jpg, *ex, *png;
    size_t len, elen;
    png_alloc_size_t plen = 0;
    png_image img;

    if (argc < 2)
        return 2;
    jpg = jpeg_of(px, 64, 48, &len);
    put(argv[1], "plain.jpg", jpg, len);
    put(argv[1], "truncated.jpg", jpg, len / 2);
    ex = with_exif(jpg, len, 6, 8.98, -79.52, &elen);
    put(argv[1], "exif6.jpg", ex, elen);
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = 64;
    img.height = 48;
    img.format = PNG_FORMAT_RGB;
    png_image_write_get_memory_size(img, plen, 0, px, 0, NULL);
    png = malloc(plen);
    if (png_image_write_to_memory(&img, png, &plen, 0, px, 0, NULL))
        put(argv[1], "small.png", png, plen);
    free(px);
    free(jpg);
    free(ex);
    free(png);
    return 0;
}
