/*
 * server/area_sync.h - the database follows the shipped default areas (data/areas/panama).
 * `reporta init` calls area_sync_default on every run: an empty database gets the default; a
 * database holding an older version of it (the SHA-256 of the packed files differs, or was
 * never recorded) gets the new one, every level and everything keyed by an area code that
 * changed re-keyed in one transaction (see store_areas_upgrade), with what changed printed and
 * audited; the same version changes nothing; a level an operator imported with `reporta
 * import-areas` is never overwritten (it says so and leaves every level alone). What changed
 * is decided by name and parent, never by code alone (geo/diff.h). One thread.
 */
#ifndef AREA_SYNC_H
#define AREA_SYNC_H

#include <stdio.h>

#include "data/store.h"
#include "geo/ctx.h"

#define AREA_SYNC_LIST_MAX 12 /* added or removed areas named per level; the rest counted */

/* The version of the default in dir: the SHA-256 (hex) of its three packed files, in level
 * order. RP_IO when one cannot be read. */
int area_sync_version(const char *dir, char hex[STORE_VERSION_MAX], struct rp_err *err);

/* Brings the database's areas to the default in dir (see above); what it did goes to report.
 * *changed (optional) = 1 when it wrote anything. */
int area_sync_default(struct store *s, struct geo_ctx *gc, const char *dir, FILE *report,
                      int *changed, struct rp_err *err);

#endif
