/* base/level.c - names of the administrative levels (see level.h). */
#include "base/level.h"

#include <string.h>

static const char *const names[RP_LEVEL_COUNT] = {"provincia", "distrito", "corregimiento"};

const char *rp_level_name(enum rp_level level)
{
    return (unsigned)level < RP_LEVEL_COUNT ? names[level] : "?";
}

int rp_level_parse(const char *s)
{
    for (int i = 0; s && i < RP_LEVEL_COUNT; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}
