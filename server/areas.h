/*
 * server/areas.h - areas between the store and the geo index: load the frozen index at
 * startup, import a boundary file (GeoJSON or Shapefile) into the store, and import the
 * shipped default (data/areas/panama) into an empty database. Used by `reporta init`,
 * `reporta import-areas` and `reporta serve`; single-threaded.
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
};

/* Builds and freezes the index from every area in the store. Caller destroys it. */
int areas_index_load(struct store *s, struct geo_ctx *gc, struct geo_index **out,
                     struct rp_err *err);

/* Reads, normalises, finds parents, then replaces the level in one transaction. Every problem
 * and the counts go to report. Nothing is written when the file has any error. */
int areas_import(struct store *s, struct geo_ctx *gc, const struct areas_import_opts *o,
                 FILE *report, struct rp_err *err);

/* Imports DIR/{provincias,distritos,corregimientos}.geojson.xz (fields code, name, parent). */
int areas_import_default(struct store *s, struct geo_ctx *gc, const char *dir, FILE *report,
                         struct rp_err *err);

#endif
