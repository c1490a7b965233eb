/*
 * base/utc.c - stored times to and from Unix seconds.
 */
#include "base/utc.h"

#include <stdio.h>
#include <time.h>

int64_t rp_utc_parse(const char *utc)
{
    struct tm tm = {0};

    if (!utc || sscanf(utc, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                       &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

void rp_utc_format(int64_t t, char out[RP_UTC_LEN])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, RP_UTC_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
