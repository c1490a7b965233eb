/*
 * tests/images.h - test images made in memory: an RGB pattern, its JPEG (libjpeg-turbo), the
 * same JPEG with an EXIF APP1 segment (orientation, GPS, a camera serial: libexif), and the
 * checks the photo tests share (metadata segments, byte search). Static functions: include
 * once per test.
 */
#ifndef TEST_IMAGES_H
#define TEST_IMAGES_H

#include <libexif/exif-data.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#define IMG_FN static __attribute__((unused))

#define SERIAL "SN-PRIVATE-0042"

/* w x h, left half red, right half blue */
IMG_FN unsigned char *halves(int w, int h)
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

IMG_FN unsigned char *jpeg_of(const unsigned char *px, int w, int h, size_t *len)
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

IMG_FN ExifEntry *entry(ExifData *ed, ExifIfd ifd, ExifTag tag, ExifFormat f, unsigned n)
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

IMG_FN void put_dms(ExifData *ed, ExifTag tag, ExifTag ref, double v, char pos, char neg)
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
IMG_FN unsigned char *with_exif(const unsigned char *jpg, size_t len, int orientation,
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
IMG_FN int has_metadata(const unsigned char *d, size_t len)
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

IMG_FN int contains(const unsigned char *d, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(d + i, s, n) == 0)
            return 1;
    return 0;
}


/* The RGB pixel at (x, y) of a JPEG of w x h. */
IMG_FN void jpeg_pixel(const unsigned char *jpg, size_t len, int w, int h, int x, int y,
                       unsigned char rgb[3])
{
    tjhandle tj = tjInitDecompress();
    unsigned char *px = malloc((size_t)w * h * 3);

    tjDecompress2(tj, jpg, len, px, w, 0, h, TJPF_RGB, 0);
    memcpy(rgb, px + ((size_t)y * w + x) * 3, 3);
    free(px);
    tjDestroy(tj);
}

#endif
