/*
 * server/export.h - the open-data export: every case created in a range, one row each, as CSV
 * or GeoJSON, produced while it is sent (http_reply_reader) a page of rows at a time, so a
 * million rows take the memory of one page. A row carries what the public may know: case
 * number, service, entity, status, times, whether it closed within its SLA, its areas (codes
 * and names) and its location rounded to 3 decimals (~100 m); the description unless the case
 * is private; never a reporter field, a token or a photo.
 */
#ifndef EXPORT_H
#define EXPORT_H

#include <stddef.h>

#include "base/err.h"
#include "data/store.h"

#define EXPORT_OPEN_MAX  4   /* exports streaming at once; more -> 503, try again */
#define EXPORT_PAGE_ROWS 256 /* rows read per page: the memory an export holds */
#define EXPORT_LICENCE                                                                     \
    "Creative Commons Attribution 4.0 International (CC BY 4.0), "                       \
    "https://creativecommons.org/licenses/by/4.0/"

enum export_format { EXPORT_CSV, EXPORT_GEOJSON };

struct export;

/* The UTC bounds [since, until) of Panama days from..to (inclusive), or of a month
 * ("2026-11"); absent bounds are open. RP_INVALID_ARGUMENT on a malformed day or month. */
int export_range(const char *from, const char *to, const char *month, char since[STORE_TIME_MAX],
                 char until[STORE_TIME_MAX], struct rp_err *err);

/* Opens its own connection to the database at db_path (the rows are read on the network
 * thread, after the handler has returned). RP_UNAVAILABLE when EXPORT_OPEN_MAX are running. */
int export_open(const char *db_path, enum export_format f, const char *since, const char *until,
                struct export **out, struct rp_err *err);
/* http_reader_fn and its free function. */
long export_read(void *ctx, char *buf, size_t max);
void export_free(void *ctx);

/* One CSV field as RFC 4180 wants it (quoted when it holds a comma, quote or line break), and
 * never read by a spreadsheet as a formula: a leading = + - @ gets a ' in front. Appends to
 * out (n bytes); returns the length it needed, like snprintf. */
size_t export_csv_field(const char *v, char *out, size_t n);

#endif
