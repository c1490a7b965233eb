/*
 * server/areas.c - store <-> geo for areas (see areas.h). An import reads the whole file,
 * checks everything, and only then opens one transaction that replaces the level, so a bad
 * file changes nothing and readers never see half a level. The shipped default goes through
 * server/area_sync.c, which uses the same reading.
 */
#include "server/areas.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "base/progress.h"

static int add_area(void *ctx, const struct store_area *a, struct rp_err *err)
{
    void **c = ctx;
    return geo_index_add(c[0], c[1], a->level, a->code, a->name, a->parent_code, a->wkb,
                         a->wkb_len, err);
}

int areas_index_load(struct store *s, struct geo_ctx *gc, struct geo_index **out,
                     struct rp_err *err)
{
    struct geo_index *ix = geo_index_create();
    void *ctx[2] = {ix, gc};
    int rc;

    *out = NULL;
    if (!ix)
        return rp_err_set(err, RP_NO_MEMORY, "area index");
    rc = store_areas_each(s, add_area, ctx, err);
    if (rc == RP_OK)
        rc = geo_index_freeze(ix, gc, err);
    if (rc != RP_OK) {
        geo_index_destroy(ix, gc);
        return rc;
    }
    *out = ix;
    return RP_OK;
}

struct shp_ctx {
    struct geo_import *imp;
    struct geo_ctx *gc;
    const struct geo_import_fields *f;
    int checked;
};

static const char *shp_field(const struct store_shp_row *row, const char *name)
{
    for (int i = 0; name && i < row->nfields; i++)
        if (strcasecmp(row->names[i], name) == 0)
            return row->values[i];
    return NULL;
}

static int shp_row(void *ctx, const struct store_shp_row *row, struct rp_err *err)
{
    struct shp_ctx *c = ctx;
    const char *want[3] = {c->f->code, c->f->name, c->f->parent};

    if (!c->checked) { /* a misspelt --code must not read as "every feature lacks a code" */
        for (int i = 0; i < 3; i++) {
            int found = 0;
            for (int k = 0; want[i] && k < row->nfields; k++)
                found |= strcasecmp(row->names[k], want[i]) == 0;
            if (want[i] && !found)
                return rp_err_set(err, RP_INVALID_ARGUMENT, "the shapefile has no field %s",
                                  want[i]);
        }
        c->checked = 1;
    }
    return geo_import_add_wkb(c->imp, c->gc, shp_field(row, c->f->code),
                              shp_field(row, c->f->name), shp_field(row, c->f->parent), row->wkb,
                              row->wkb_len, err);
}

static int is_shapefile(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcasecmp(path + n - 4, ".shp") == 0;
}

int areas_rows_make(struct geo_import *imp, struct geo_ctx *gc, struct areas_rows *out,
                    struct rp_err *err)
{
    out->n = 0;
    out->v = calloc(imp->n ? imp->n : 1, sizeof *out->v);
    out->wkb = calloc(imp->n ? imp->n : 1, sizeof *out->wkb);
    if (!out->v || !out->wkb)
        return rp_err_set(err, RP_NO_MEMORY, "import rows");
    for (size_t i = 0; i < imp->n; i++) {
        size_t len = 0;
        out->wkb[i] = geo_import_wkb(imp, gc, i, &len);
        if (!out->wkb[i])
            return rp_err_set(err, RP_INTERNAL, "WKB of %s", imp->v[i].code);
        out->v[i] = (struct store_area){imp->level, imp->v[i].code, imp->v[i].name,
                                        imp->v[i].parent, out->wkb[i], len};
        out->n++;
    }
    return RP_OK;
}

void areas_rows_free(struct areas_rows *r, struct geo_ctx *gc)
{
    for (size_t i = 0; r->wkb && i < r->n; i++)
        GEOSFree_r(gc->geos, r->wkb[i]);
    free(r->wkb);
    free(r->v);
    memset(r, 0, sizeof *r);
}

int areas_read(struct geo_ctx *gc, const struct areas_import_opts *o,
               const struct geo_index *parents, struct geo_import *imp, FILE *report,
               struct rp_err *err)
{
    struct progress p;
    int rc;

    if (is_shapefile(o->path)) {
        struct shp_ctx c = {imp, gc, &o->fields, 0};
        rc = geo_import_read_prj(imp, o->path, err);
        if (rc == RP_OK)
            rc = store_shapefile_each(o->path, o->charset, shp_row, &c, err);
    } else {
        rc = geo_import_read_geojson(imp, gc, o->path, &o->fields, err);
    }
    if (rc == RP_OK && o->progress) { /* repairing and finding parents: the slow part */
        progress_start(&p, o->progress, "areas", imp->n);
        imp->progress = &p;
    }
    if (rc == RP_OK)
        rc = geo_import_normalize(imp, gc, err);
    if (rc == RP_OK)
        rc = geo_import_assign_parents(imp, gc, parents, err);
    if (imp->progress) {
        progress_set(&p, imp->n);
        if (rc == RP_OK)
            progress_end(&p);
        imp->progress = NULL;
    }
    for (size_t i = 0; i < imp->nproblems; i++)
        fprintf(report, "%s: %s\n", o->path, imp->problems[i]);
    if (rc == RP_OK && imp->errors)
        rc = rp_err_set(err, RP_INVALID_DATA, "%zu errors in %s; nothing imported", imp->errors,
                        o->path);
    if (rc == RP_OK && imp->n == 0)
        rc = rp_err_set(err, RP_INVALID_DATA, "%s has no features; nothing imported", o->path);
    return rc;
}

int areas_import(struct store *s, struct geo_ctx *gc, const struct areas_import_opts *o,
                 FILE *report, struct rp_err *err)
{
    struct geo_import imp;
    struct geo_index *parents = NULL;
    struct areas_rows rows = {0};
    struct timespec t0, t1;
    int rc = RP_OK;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    geo_import_init(&imp, o->level);
    if (o->level != RP_LEVEL_PROVINCIA)
        rc = areas_index_load(s, gc, &parents, err);
    if (rc == RP_OK)
        rc = areas_read(gc, o, parents, &imp, report, err);
    if (rc == RP_OK)
        rc = areas_rows_make(&imp, gc, &rows, err);
    if (rc == RP_OK)
        rc = store_areas_replace_level(s, imp.level, o->path, rows.v, rows.n, err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc == RP_OK)
        fprintf(report,
                "%s: imported %zu %s areas (%zu repaired, %zu parents found by containment, "
                "%zu warnings) in %.1f s\n",
                o->path, imp.n, rp_level_name(o->level), imp.repaired, imp.parents_found,
                imp.nproblems - imp.errors,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    areas_rows_free(&rows, gc);
    geo_index_destroy(parents, gc);
    geo_import_fini(&imp, gc);
    return rc;
}
