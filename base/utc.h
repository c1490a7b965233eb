/*
 * base/utc.h - the one form times are stored in, "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds;
 * history rows may carry milliseconds, which are ignored here), to and from Unix seconds.
 */
#ifndef RP_UTC_H
#define RP_UTC_H

#include <stdint.h>

#define RP_UTC_LEN 32 /* room for the text with its terminator */

/* Unix seconds of a stored time; 0 when unreadable. */
int64_t rp_utc_parse(const char *utc);
/* The stored form of Unix seconds t. */
void rp_utc_format(int64_t t, char out[RP_UTC_LEN]);

#endif
