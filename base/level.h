/*
 * base/level.h - the administrative levels every module speaks of: provincia (including the
 * comarcas, which INEC counts at that level), distrito, corregimiento. Coverage is per level:
 * no code may assume a level covers the whole country.
 */
#ifndef RP_LEVEL_H
#define RP_LEVEL_H

enum rp_level { RP_LEVEL_PROVINCIA = 0, RP_LEVEL_DISTRITO, RP_LEVEL_CORREGIMIENTO, RP_LEVEL_COUNT };

const char *rp_level_name(enum rp_level level); /* "provincia", ...; "?" if out of range */
int rp_level_parse(const char *s);              /* enum value, or -1 for an unknown name */

#endif
