/*
 * tests/fuzz_plate.c - libFuzzer target for plate_normalize (server/plate.h), any bytes as the
 * plate a driver types. Beyond memory errors it checks what the header promises: a plate that
 * is accepted comes out as PLATE_MIN..PLATE_MAX of A-Z and 0-9 with a digit, and normalises to
 * itself again; a refused one leaves out "" and says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/plate.h"

#define INPUT_MAX 256 /* past the 64 bytes plate_normalize takes, to reach its refusal */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int well_formed(const char *p)
{
    size_t n = strlen(p), digits = 0;

    for (size_t i = 0; i < n; i++) {
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
            return 0;
        digits += p[i] >= '0' && p[i] <= '9';
    }
    return n >= PLATE_MIN && n <= PLATE_MAX && digits > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *plate, out[PLATE_MAX + 1], again[PLATE_MAX + 1];
    struct rp_err err = {0}, err2 = {0};
    int rc;

    if (size > INPUT_MAX)
        return 0;
    plate = malloc(size + 1); /* exactly as long as the text: ASan sees a read past its end */
    if (!plate)
        return 0;
    memcpy(plate, data, size);
    plate[size] = '\0';
    memset(out, 'x', sizeof out);
    rc = plate_normalize(plate, out, &err);
    if (rc == RP_OK) {
        if (!well_formed(out) || err.code != RP_OK)
            abort();
        if (plate_normalize(out, again, &err2) != RP_OK || strcmp(out, again) != 0)
            abort();
    } else if (out[0] != '\0' || err.code != RP_INVALID_PLATE || !err.msg[0]) {
        abort();
    }
    free(plate);
    return 0;
}
