/*
 * geo/import.h - turning a boundary file into clean areas: read (GeoJSON, optionally .xz;
 * shapefile rows arrive as WKB from data/), transform the source CRS to EPSG:4326 with PROJ,
 * check each geometry with GEOS and repair invalid ones (MakeValid, polygonal parts kept),
 * force MULTIPOLYGON, find missing parents by containment. Problems are collected, never
 * printed here: the caller shows them all. Errors (missing code or name, duplicate codes,
 * no polygon) make the import fail; repairs are warnings. One thread.
 */
#ifndef GEO_IMPORT_H
#define GEO_IMPORT_H

#include <stddef.h>

#include "base/err.h"
#include "base/level.h"
#include "geo/ctx.h"
#include "geo/index.h"

#define GEO_IMPORT_FILE_MAX_BYTES (1024L * 1024 * 1024) /* 1 GiB of GeoJSON, decompressed */

struct geo_import_fields {
    const char *code, *name, *parent; /* property names; parent may be NULL */
};

struct geo_feature {
    char *code, *name, *parent; /* parent NULL when unknown */
    GEOSGeometry *geom;
};

struct geo_import {
    enum rp_level level;
    char *crs; /* source CRS as PROJ reads it; NULL means EPSG:4326 */
    struct geo_feature *v;
    size_t n, cap;
    char **problems;
    size_t nproblems, cap_problems;
    size_t errors, repaired, parents_found;
    struct progress *progress; /* NULL, or counts normalize + parents (half an area each) */
};

struct progress;

void geo_import_init(struct geo_import *imp, enum rp_level level);
void geo_import_fini(struct geo_import *imp, struct geo_ctx *gc);

/* Reads a GeoJSON FeatureCollection (xz-compressed when the file starts with xz's magic).
 * The CRS comes from its "crs" member when present. */
int geo_import_read_geojson(struct geo_import *imp, struct geo_ctx *gc, const char *path,
                            const struct geo_import_fields *f, struct rp_err *err);
/* Sets imp->crs from a shapefile's .prj beside PATH (none: EPSG:4326, with a problem noted). */
int geo_import_read_prj(struct geo_import *imp, const char *shp_path, struct rp_err *err);
/* Adds one feature from WKB in the source CRS; a missing code or name is an error problem. */
int geo_import_add_wkb(struct geo_import *imp, struct geo_ctx *gc, const char *code,
                       const char *name, const char *parent, const unsigned char *wkb, size_t len,
                       struct rp_err *err);

/* Transform, validate/repair, force MULTIPOLYGON, check codes. */
int geo_import_normalize(struct geo_import *imp, struct geo_ctx *gc, struct rp_err *err);
/* For features with no parent, the parent-level area of `parents` sharing the most area;
 * features naming a parent absent from `parents` get a problem. NULL parents: provincias. */
int geo_import_assign_parents(struct geo_import *imp, struct geo_ctx *gc,
                              const struct geo_index *parents, struct rp_err *err);

/* ISO WKB of feature i, malloc'd; caller frees with GEOSFree_r. */
unsigned char *geo_import_wkb(struct geo_import *imp, struct geo_ctx *gc, size_t i, size_t *len);

/* Reads a whole file, decompressing xz by content; *buf is malloc'd and NUL-terminated. */
int geo_file_read(const char *path, long max_bytes, char **buf, size_t *len, struct rp_err *err);

#endif
