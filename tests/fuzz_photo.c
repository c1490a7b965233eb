/*
 * tests/fuzz_photo.c - libFuzzer target for the photo pipeline: any bytes through
 * media_photo_process (sniff, EXIF, header limits, JPEG/PNG decode, orientation, downscale,
 * encode). Built by scripts/fuzz with clang -fsanitize=fuzzer,address,undefined; seeds from
 * fuzz_seeds (a JPEG with EXIF, a rotated one, a PNG, a truncated JPEG).
 */
#include <stddef.h>
#include <stdint.h>

#include "media/photo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct media_photo p;
    struct rp_err err = {0};

    if (media_photo_process(data, size, &p, &err) == RP_OK)
        media_photo_free(&p);
    return 0;
}
