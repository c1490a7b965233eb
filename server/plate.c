/*
 * server/plate.c - plate normalisation (see plate.h). Separators are dropped wherever they
 * stand; letters and digits keep their order. No letter is ever mapped to a digit or back
 * ('O' and '0' are both real): a wrong guess would show a driver somebody else's tow.
 */
#include "server/plate.h"

#include <string.h>

#define PLATE_INPUT_MAX 64

/* The byte length of a separator starting at s, 0 when s holds none. */
static size_t separator(const unsigned char *s)
{
    static const char *const wide[] = {
        "\xc2\xa0",     /* U+00A0 no-break space */
        "\xe2\x80\x90", /* U+2010 hyphen */
        "\xe2\x80\x91", /* U+2011 non-breaking hyphen */
        "\xe2\x80\x92", /* U+2012 figure dash */
        "\xe2\x80\x93", /* U+2013 en dash */
        "\xe2\x80\x94", /* U+2014 em dash */
        "\xe2\x88\x92", /* U+2212 minus sign */
        "\xe2\x80\xaf", /* U+202F narrow no-break space */
    };

    if (strchr(" \t-._/", *s) && *s)
        return 1;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
        size_t n = strlen(wide[i]);
        if (strncmp((const char *)s, wide[i], n) == 0) /* stops at the end of s */
            return n;
    }
    return 0;
}

int plate_normalize(const char *plate, char out[PLATE_MAX + 1], struct rp_err *err)
{
    const unsigned char *s = (const unsigned char *)plate;
    size_t n = 0, digits = 0, skip;

    out[0] = '\0';
    if (!plate || !plate[0])
        return rp_err_set(err, RP_INVALID_PLATE, "plate is required");
    if (strlen(plate) > PLATE_INPUT_MAX)
        return rp_err_set(err, RP_INVALID_PLATE, "plate is over %d bytes", PLATE_INPUT_MAX);
    while (*s) {
        if ((skip = separator(s)) != 0) {
            s += skip;
            continue;
        }
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return out[0] = '\0',
                   rp_err_set(err, RP_INVALID_PLATE,
                              "plate may hold only letters A-Z, digits and separators");
        if (n == PLATE_MAX)
            return out[0] = '\0', rp_err_set(err, RP_INVALID_PLATE,
                                             "plate is over %d letters and digits", PLATE_MAX);
        digits += *s >= '0' && *s <= '9';
        out[n++] = (char)(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
        s++;
    }
    out[n] = '\0';
    if (n < PLATE_MIN || digits == 0) {
        out[0] = '\0';
        return rp_err_set(err, RP_INVALID_PLATE,
                          "plate must have %d to %d letters and digits, at least one digit",
                          PLATE_MIN, PLATE_MAX);
    }
    return RP_OK;
}
