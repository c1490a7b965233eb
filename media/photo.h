/*
 * media/photo.h - the photo pipeline: untrusted bytes in, two clean JPEGs out.
 * The format is decided by content (JPEG or PNG magic), never by name. The pixel count is read
 * from the header and checked before anything is decoded (decompression bombs). EXIF (libexif)
 * gives the orientation, applied to the pixels, and the GPS position, returned for the caller
 * to use or not. JPEGs are decoded with libjpeg-turbo's DCT scaling, so a 12 MP photo is never
 * decoded at full size when 1600 px is all we keep; PNGs go through libpng. Both outputs are
 * encoded by libjpeg-turbo from pixels alone: no EXIF, no comments, no metadata of any kind.
 * Thread-safe: every call uses its own handles.
 */
#ifndef MEDIA_PHOTO_H
#define MEDIA_PHOTO_H

#include <stddef.h>

#include "base/err.h"

#define MEDIA_DISPLAY_PX     1600 /* long side of the display image, at most */
#define MEDIA_THUMB_PX       320
#define MEDIA_QUALITY        82
#define MEDIA_MAX_PIXELS     (50L * 1000 * 1000)
#define MEDIA_MAX_BYTES      (12L * 1024 * 1024)
#define MEDIA_SHA256_HEX     65 /* 64 hex digits and NUL */

struct media_jpeg {
    unsigned char *data; /* malloc'd */
    size_t len;
    int width, height;
};

struct media_photo {
    const char *format;         /* "jpeg" or "png": what the bytes were */
    int src_width, src_height;  /* as stored in the file, before orientation */
    int orientation;            /* EXIF 1..8 (1 when absent) */
    int has_gps;
    double gps_lat, gps_lon;    /* from EXIF; never stored or served */
    struct media_jpeg display, thumb;
    char sha256[MEDIA_SHA256_HEX]; /* of display.data: the photo's name */
};

/* What the bytes are: "jpeg", "png", or a short description of anything else ("gif", "webp",
 * "heic", "pdf", "bytes 3c 68 74 6d") for the 415 message. */
const char *media_sniff(const unsigned char *data, size_t len, char *buf, size_t n);

/* Runs the pipeline. Errors: RP_UNSUPPORTED_MEDIA_TYPE (not JPEG or PNG), RP_TOO_LARGE (over
 * MEDIA_MAX_BYTES or MEDIA_MAX_PIXELS, decided from the header), RP_INVALID_IMAGE (truncated or
 * corrupt). On success the caller frees with media_photo_free. */
int media_photo_process(const unsigned char *data, size_t len, struct media_photo *out,
                        struct rp_err *err);
void media_photo_free(struct media_photo *p);

#endif
