/*
 * geo/import.c - boundary import pipeline (see import.h). GeoJSON is parsed by jansson and
 * each geometry by GEOS's GeoJSON reader; coordinates move between CRSs through PROJ inside
 * GEOSGeom_transformXY; validity and repair are GEOS's. Nothing here parses a format by hand.
 */
#include "geo/import.h"

#include <errno.h>
#include <jansson.h>
#include <lzma.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/progress.h"

#define XZ_MAGIC     "\xfd" "7zXZ"
#define PROBLEMS_MAX 10000 /* past this, problems are counted but not kept */

static void problem(struct geo_import *imp, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct geo_import *imp, int is_error, const char *fmt, ...)
{
    char line[512];
    int k;
    va_list ap;

    if (is_error)
        imp->errors++;
    if (imp->nproblems >= PROBLEMS_MAX)
        return;
    k = snprintf(line, sizeof line, "%s: ", is_error ? "error" : "warning");
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    va_end(ap);
    if (imp->nproblems == imp->cap_problems) {
        size_t cap = imp->cap_problems ? imp->cap_problems * 2 : 16;
        char **v = realloc(imp->problems, cap * sizeof *v);
        if (!v)
            return;
        imp->problems = v;
        imp->cap_problems = cap;
    }
    imp->problems[imp->nproblems] = strdup(line);
    if (imp->problems[imp->nproblems])
        imp->nproblems++;
}

void geo_import_init(struct geo_import *imp, enum rp_level level)
{
    memset(imp, 0, sizeof *imp);
    imp->level = level;
}

void geo_import_fini(struct geo_import *imp, struct geo_ctx *gc)
{
    for (size_t i = 0; i < imp->n; i++) {
        free(imp->v[i].code);
        free(imp->v[i].name);
        free(imp->v[i].parent);
        if (imp->v[i].geom)
            GEOSGeom_destroy_r(gc->geos, imp->v[i].geom);
    }
    for (size_t i = 0; i < imp->nproblems; i++)
        free(imp->problems[i]);
    free(imp->problems);
    free(imp->v);
    free(imp->crs);
    memset(imp, 0, sizeof *imp);
}

/* ---- files ---- */

static int xz_decode(const unsigned char *in, size_t in_len, long max_bytes, char **buf,
                     size_t *len, struct rp_err *err)
{
    lzma_stream zs = LZMA_STREAM_INIT;
    size_t cap = in_len * 4 + 1024, n = 0;
    char *out = malloc(cap);
    lzma_ret r;

    if (!out || lzma_stream_decoder(&zs, UINT64_MAX, 0) != LZMA_OK) {
        free(out);
        return rp_err_set(err, RP_NO_MEMORY, "xz decoder");
    }
    zs.next_in = in;
    zs.avail_in = in_len;
    do {
        if (n + 1 >= cap) {
            char *bigger;
            if ((long)cap >= max_bytes) {
                lzma_end(&zs);
                free(out);
                return rp_err_set(err, RP_TOO_LARGE, "decompressed file over %ld bytes",
                                  max_bytes);
            }
            cap *= 2;
            bigger = realloc(out, cap);
            if (!bigger) {
                lzma_end(&zs);
                free(out);
                return rp_err_set(err, RP_NO_MEMORY, "xz output");
            }
            out = bigger;
        }
        zs.next_out = (unsigned char *)out + n;
        zs.avail_out = cap - n - 1;
        r = lzma_code(&zs, LZMA_FINISH);
        n = cap - 1 - zs.avail_out;
    } while (r == LZMA_OK || (r == LZMA_BUF_ERROR && zs.avail_in > 0));
    lzma_end(&zs);
    if (r != LZMA_STREAM_END) {
        free(out);
        return rp_err_set(err, RP_INVALID_DATA, "corrupt xz data (lzma error %d)", (int)r);
    }
    out[n] = '\0';
    *buf = out;
    *len = n;
    return RP_OK;
}

int geo_file_read(const char *path, long max_bytes, char **buf, size_t *len, struct rp_err *err)
{
    FILE *fp = fopen(path, "rb");
    char *raw = NULL;
    long size;
    int rc = RP_OK;

    *buf = NULL;
    *len = 0;
    if (!fp)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s: %s", path, strerror(errno));
    if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        rc = rp_err_set(err, RP_IO, "%s: cannot size", path);
        goto out;
    }
    if (size > max_bytes) {
        rc = rp_err_set(err, RP_TOO_LARGE, "%s: over %ld bytes", path, max_bytes);
        goto out;
    }
    raw = malloc((size_t)size + 1);
    if (!raw) {
        rc = rp_err_set(err, RP_NO_MEMORY, "%s", path);
        goto out;
    }
    if (fread(raw, 1, (size_t)size, fp) != (size_t)size) {
        rc = rp_err_set(err, RP_IO, "%s: short read", path);
        goto out;
    }
    raw[size] = '\0';
    if (size >= 6 && memcmp(raw, XZ_MAGIC, 5) == 0) {
        rc = xz_decode((unsigned char *)raw, (size_t)size, max_bytes, buf, len, err);
        goto out;
    }
    *buf = raw;
    *len = (size_t)size;
    raw = NULL;
out:
    free(raw);
    fclose(fp);
    return rc;
}

/* ---- features ---- */

static int feature_push(struct geo_import *imp, const char *code, const char *name,
                        const char *parent, GEOSGeometry *g, struct rp_err *err)
{
    struct geo_feature *f;

    if (imp->n == imp->cap) {
        size_t cap = imp->cap ? imp->cap * 2 : 64;
        struct geo_feature *v = realloc(imp->v, cap * sizeof *v);
        if (!v)
            return rp_err_set(err, RP_NO_MEMORY, "features");
        imp->v = v;
        imp->cap = cap;
    }
    f = &imp->v[imp->n++];
    f->code = strdup(code);
    f->name = strdup(name);
    f->parent = parent && parent[0] ? strdup(parent) : NULL;
    f->geom = g;
    if (!f->code || !f->name || (parent && parent[0] && !f->parent))
        return rp_err_set(err, RP_NO_MEMORY, "feature fields");
    return RP_OK;
}

int geo_import_add_wkb(struct geo_import *imp, struct geo_ctx *gc, const char *code,
                       const char *name, const char *parent, const unsigned char *wkb, size_t len,
                       struct rp_err *err)
{
    GEOSWKBReader *r;
    GEOSGeometry *g;

    if (!code || !code[0] || !name || !name[0]) {
        problem(imp, 1, "feature %zu: missing %s", imp->n + 1, !code || !code[0] ? "code" : "name");
        return RP_OK;
    }
    if (strlen(code) >= GEO_CODE_MAX) {
        problem(imp, 1, "feature %zu: code longer than %d characters", imp->n + 1, GEO_CODE_MAX - 1);
        return RP_OK;
    }
    r = GEOSWKBReader_create_r(gc->geos);
    g = r && wkb ? GEOSWKBReader_read_r(gc->geos, r, wkb, len) : NULL;
    if (r)
        GEOSWKBReader_destroy_r(gc->geos, r);
    if (!g) {
        problem(imp, 1, "area %s: geometry missing or unreadable", code);
        return RP_OK;
    }
    return feature_push(imp, code, name, parent, g, err);
}

/* A property as text: strings as they are, integers in decimal, other types refused. */
static const char *prop_text(json_t *props, const char *key, char *tmp, size_t tmp_len)
{
    json_t *v = key ? json_object_get(props, key) : NULL;

    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(tmp, tmp_len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return tmp;
    }
    return NULL;
}

static const char *geojson_crs(json_t *root)
{
    json_t *name = json_object_get(json_object_get(json_object_get(root, "crs"), "properties"),
                                   "name");
    return json_string_value(name);
}

int geo_import_read_geojson(struct geo_import *imp, struct geo_ctx *gc, const char *path,
                            const struct geo_import_fields *f, struct rp_err *err)
{
    GEOSGeoJSONReader *reader = NULL;
    json_error_t jerr;
    json_t *root = NULL, *features, *feat;
    char *text = NULL;
    const char *crs;
    size_t len, i;
    int rc;

    rc = geo_file_read(path, GEO_IMPORT_FILE_MAX_BYTES, &text, &len, err);
    if (rc != RP_OK)
        return rc;
    root = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!root)
        return rp_err_set(err, RP_INVALID_DATA, "%s:%d: %s", path, jerr.line, jerr.text);
    features = json_object_get(root, "features");
    if (!json_is_array(features)) {
        rc = rp_err_set(err, RP_INVALID_DATA, "%s: not a GeoJSON FeatureCollection", path);
        goto out;
    }
    crs = geojson_crs(root);
    if (crs && !imp->crs && !(imp->crs = strdup(crs))) {
        rc = rp_err_set(err, RP_NO_MEMORY, "crs");
        goto out;
    }
    reader = GEOSGeoJSONReader_create_r(gc->geos);
    if (!reader) {
        rc = rp_err_set(err, RP_NO_MEMORY, "GeoJSON reader");
        goto out;
    }
    json_array_foreach(features, i, feat)
    {
        char tc[32], tn[32], tp[32];
        json_t *props = json_object_get(feat, "properties");
        const char *code = prop_text(props, f->code, tc, sizeof tc);
        const char *name = prop_text(props, f->name, tn, sizeof tn);
        const char *parent = prop_text(props, f->parent, tp, sizeof tp);
        char *gjson = json_dumps(json_object_get(feat, "geometry"), JSON_COMPACT);
        GEOSGeometry *g = gjson ? GEOSGeoJSONReader_readGeometry_r(gc->geos, reader, gjson) : NULL;

        free(gjson);
        if (!code || !code[0] || !name || !name[0]) {
            problem(imp, 1, "feature %zu: property '%s' missing or not text", i + 1,
                    !code || !code[0] ? f->code : f->name);
            if (g)
                GEOSGeom_destroy_r(gc->geos, g);
            continue;
        }
        if (strlen(code) >= GEO_CODE_MAX) {
            problem(imp, 1, "feature %zu: code longer than %d characters", i + 1,
                    GEO_CODE_MAX - 1);
            if (g)
                GEOSGeom_destroy_r(gc->geos, g);
            continue;
        }
        if (!g) {
            problem(imp, 1, "area %s: geometry missing or unreadable", code);
            continue;
        }
        rc = feature_push(imp, code, name, parent, g, err);
        if (rc != RP_OK)
            break;
    }
out:
    if (reader)
        GEOSGeoJSONReader_destroy_r(gc->geos, reader);
    json_decref(root);
    return rc;
}

int geo_import_read_prj(struct geo_import *imp, const char *shp_path, struct rp_err *err)
{
    char prj[4096], *text = NULL;
    size_t n = strlen(shp_path), len;
    int rc;

    if (n + 5 >= sizeof prj)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "path too long");
    memcpy(prj, shp_path, n + 1);
    if (n > 4 && strcasecmp(prj + n - 4, ".shp") == 0)
        n -= 4;
    strcpy(prj + n, ".prj");
    rc = geo_file_read(prj, 1 << 20, &text, &len, err);
    if (rc != RP_OK) {
        rp_err_clear(err);
        problem(imp, 0, "no readable %s: assuming EPSG:4326", prj);
        return RP_OK;
    }
    free(imp->crs);
    imp->crs = text;
    return RP_OK;
}

/* ---- normalisation ---- */

static int to_wgs84(double *x, double *y, void *userdata)
{
    PJ_COORD c = proj_trans((PJ *)userdata, PJ_FWD, proj_coord(*x, *y, 0, 0));

    if (!isfinite(c.xy.x) || !isfinite(c.xy.y))
        return 0;
    *x = c.xy.x;
    *y = c.xy.y;
    return 1;
}

static int is_wgs84(const char *crs)
{
    static const char *const same[] = {"EPSG:4326", "urn:ogc:def:crs:EPSG::4326",
                                       "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84",
                                       "OGC:CRS84"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (strcasecmp(crs, same[i]) == 0)
            return 1;
    return 0;
}

/* The polygonal parts of g as one MULTIPOLYGON, or NULL when g has none. Consumes g. */
static GEOSGeometry *polygonal(struct geo_ctx *gc, GEOSGeometry *g)
{
    int type = GEOSGeomTypeId_r(gc->geos, g), n = GEOSGetNumGeometries_r(gc->geos, g), total = 0;
    GEOSGeometry **parts, *out = NULL;
    unsigned k = 0;

    if (type == GEOS_MULTIPOLYGON)
        return g;
    if (type == GEOS_POLYGON)
        return GEOSGeom_createCollection_r(gc->geos, GEOS_MULTIPOLYGON, &g, 1);
    for (int i = 0; i < n; i++) { /* a collection from MakeValid: polygons, lines, points */
        const GEOSGeometry *sub = GEOSGetGeometryN_r(gc->geos, g, i);
        int st = GEOSGeomTypeId_r(gc->geos, sub);
        if (st == GEOS_POLYGON || st == GEOS_MULTIPOLYGON)
            total += GEOSGetNumGeometries_r(gc->geos, sub);
    }
    parts = total > 0 ? calloc((size_t)total, sizeof *parts) : NULL;
    for (int i = 0; parts && i < n; i++) {
        const GEOSGeometry *sub = GEOSGetGeometryN_r(gc->geos, g, i);
        int st = GEOSGeomTypeId_r(gc->geos, sub);
        if (st != GEOS_POLYGON && st != GEOS_MULTIPOLYGON)
            continue;
        for (int j = 0; j < GEOSGetNumGeometries_r(gc->geos, sub); j++)
            parts[k++] = GEOSGeom_clone_r(gc->geos, GEOSGetGeometryN_r(gc->geos, sub, j));
    }
    if (k > 0)
        out = GEOSGeom_createCollection_r(gc->geos, GEOS_MULTIPOLYGON, parts, k);
    free(parts);
    GEOSGeom_destroy_r(gc->geos, g);
    return out;
}

static int code_cmp(const void *a, const void *b)
{
    return strcmp(((const struct geo_feature *)a)->code, ((const struct geo_feature *)b)->code);
}

int geo_import_normalize(struct geo_import *imp, struct geo_ctx *gc, struct rp_err *err)
{
    PJ *pj = NULL;

    if (imp->crs && !is_wgs84(imp->crs)) {
        pj = geo_ctx_to_wgs84(gc, imp->crs, err);
        if (!pj)
            return RP_INVALID_DATA;
    }
    for (size_t i = 0; i < imp->n; i++) {
        struct geo_feature *f = &imp->v[i];
        GEOSGeometry *g = f->geom;
        char *reason;

        if (imp->progress)
            progress_set(imp->progress, i / 2);

        if (pj) {
            GEOSGeometry *t = GEOSGeom_transformXY_r(gc->geos, g, to_wgs84, pj);
            GEOSGeom_destroy_r(gc->geos, g);
            f->geom = g = t;
            if (!g) {
                problem(imp, 1, "area %s: cannot transform to EPSG:4326", f->code);
                continue;
            }
        }
        if (GEOSisValid_r(gc->geos, g) != 1) {
            GEOSGeometry *fixed;
            reason = GEOSisValidReason_r(gc->geos, g);
            fixed = GEOSMakeValid_r(gc->geos, g);
            problem(imp, 0, "area %s: invalid geometry (%s); repaired", f->code,
                    reason ? reason : "?");
            if (reason)
                GEOSFree_r(gc->geos, reason);
            GEOSGeom_destroy_r(gc->geos, g);
            f->geom = g = fixed;
            imp->repaired++;
            if (!g) {
                problem(imp, 1, "area %s: repair failed", f->code);
                continue;
            }
        }
        f->geom = polygonal(gc, g);
        if (!f->geom || GEOSisEmpty_r(gc->geos, f->geom) == 1)
            problem(imp, 1, "area %s: no polygon", f->code);
    }
    if (pj)
        proj_destroy(pj);
    if (imp->n > 1)
        qsort(imp->v, imp->n, sizeof *imp->v, code_cmp);
    for (size_t i = 1; i < imp->n; i++)
        if (strcmp(imp->v[i - 1].code, imp->v[i].code) == 0)
            problem(imp, 1, "code %s appears more than once", imp->v[i].code);
    return RP_OK;
}

static const struct geo_area *best_parent(struct geo_ctx *gc, const struct geo_index *parents,
                                          enum rp_level level, const GEOSGeometry *g)
{
    const struct geo_area *best = NULL;
    double best_area = 0;
    GEOSGeometry *pt = GEOSPointOnSurface_r(gc->geos, g);
    double x, y;

    /* Fast path: the parent covering a point inside the child. */
    if (pt && GEOSGeomGetX_r(gc->geos, pt, &x) && GEOSGeomGetY_r(gc->geos, pt, &y))
        best = geo_index_lookup(parents, gc, level, x, y);
    if (pt)
        GEOSGeom_destroy_r(gc->geos, pt);
    if (best && GEOSPreparedCovers_r(gc->geos, best->prep, g) == 1)
        return best;
    /* Otherwise the one sharing most area: slivers along borders must not decide. */
    best = NULL;
    for (size_t i = 0; i < geo_index_count(parents, level); i++) {
        const struct geo_area *p = geo_index_at(parents, level, i);
        GEOSGeometry *inter;
        double a = 0;
        if (GEOSPreparedIntersects_r(gc->geos, p->prep, g) != 1)
            continue;
        inter = GEOSIntersection_r(gc->geos, p->geom, g);
        if (inter && GEOSArea_r(gc->geos, inter, &a) && a > best_area) {
            best_area = a;
            best = p;
        }
        if (inter)
            GEOSGeom_destroy_r(gc->geos, inter);
    }
    return best;
}

int geo_import_assign_parents(struct geo_import *imp, struct geo_ctx *gc,
                              const struct geo_index *parents, struct rp_err *err)
{
    enum rp_level up;

    (void)err; /* every failure here is a problem of the data, not of the call */
    if (imp->level == RP_LEVEL_PROVINCIA) {
        for (size_t i = 0; i < imp->n; i++)
            if (imp->v[i].parent) {
                free(imp->v[i].parent);
                imp->v[i].parent = NULL;
            }
        return RP_OK;
    }
    up = (enum rp_level)(imp->level - 1);
    for (size_t i = 0; i < imp->n; i++) {
        struct geo_feature *f = &imp->v[i];
        const struct geo_area *p;
        if (imp->progress)
            progress_set(imp->progress, imp->n / 2 + i / 2);
        if (!f->geom)
            continue;
        if (f->parent) {
            p = parents ? geo_index_find(parents, f->parent) : NULL;
            if (!p || p->level != up)
                problem(imp, 0, "area %s: parent %s is not a loaded %s", f->code, f->parent,
                        rp_level_name(up));
            continue;
        }
        p = parents ? best_parent(gc, parents, up, f->geom) : NULL;
        if (!p) {
            problem(imp, 0, "area %s: no %s contains it; stored without parent", f->code,
                    rp_level_name(up));
            continue;
        }
        f->parent = strdup(p->code);
        imp->parents_found++;
    }
    return RP_OK;
}

unsigned char *geo_import_wkb(struct geo_import *imp, struct geo_ctx *gc, size_t i, size_t *len)
{
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(gc->geos);
    unsigned char *out = NULL;

    if (!w)
        return NULL;
    GEOSWKBWriter_setOutputDimension_r(gc->geos, w, 2);
    out = GEOSWKBWriter_write_r(gc->geos, w, imp->v[i].geom, len);
    GEOSWKBWriter_destroy_r(gc->geos, w);
    return out;
}
