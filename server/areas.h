/*
 * server/areas.h - areas between the store and the geo index: load the frozen index at
 * startup, and import an operator's boundary file (GeoJSON or Shapefile) into the store. The
 * shipped default is server/area_sync.h. Used by `reporta init`, `reporta import-areas` and
 * `reporta serve`; single-threaded.
 */
#ifndef AREAS_H
#define AREAS_H

#include <stdio.h>

#include "data/store.h"
#include "geo/import.h"
#include "geo/index.h"

struct areas_import_opts {
    const char *path;
    enum rp_level level;
    struct geo_import_fields fields;
    const char *charset; /* shapefile DBF text encoding; NULL: UTF-8 */
    const char *progress; /* a progress line with this label on stderr; NULL: none */
};

/* Builds and freezes the index from every area in the store. Caller destroys it. */
int areas_index_load(struct store *s, struct geo_ctx *gc, struct geo_index **out,
                     struct rp_err *err);

/* Reads, normalises, finds parents, then replaces the level in one transaction, recorded as
 * an operator's import. Every problem and the counts go to report. Nothing is written when
 * the file has any error. */
int areas_import(struct store *s, struct geo_ctx *gc, const struct areas_import_opts *o,
                 FILE *report, struct rp_err *err);

/* Reads and normalises one level into imp (initialised by the caller for o->level) and gives
 * each feature its parent: the one named, which must be in `parents`, else the parent-level
 * area of `parents` sharing the most area (NULL parents: provincias). Every problem goes to
 * report; RP_INVALID_DATA when the file has any error or no feature. */
int areas_read(struct geo_ctx *gc, const struct areas_import_opts *o,
               const struct geo_index *parents, struct geo_import *imp, FILE *report,
               struct rp_err *err);

/* imp's features as store rows (ISO WKB made by GEOS); the rows borrow imp's strings. */
struct areas_rows {
    struct store_area *v;
    unsigned char **wkb;
    size_t n;
};
int areas_rows_make(struct geo_import *imp, struct geo_ctx *gc, struct areas_rows *out,
                    struct rp_err *err);
void areas_rows_free(struct areas_rows *r, struct geo_ctx *gc); /* after a failed make too */

#endif
