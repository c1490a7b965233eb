/*
 * server/area_sync.c - following the shipped default (see area_sync.h). The new files are read
 * whole (each level's parents checked against the new level above it, in memory) before
 * anything is written; then the old and new areas are compared by name and parent, the
 * changes printed, and one store transaction replaces the levels, re-keys and audits. Runs
 * once per `reporta init`: reading and checking the shipped files takes a few seconds.
 */
#include "server/area_sync.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "geo/diff.h"
#include "geo/import.h"
#include "server/areas.h"
#include "server/auth.h"

static const char *const files[RP_LEVEL_COUNT] = {"provincias", "distritos", "corregimientos"};

int area_sync_version(const char *dir, char hex[STORE_VERSION_MAX], struct rp_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char h[EVP_MAX_MD_SIZE], buf[65536];
    unsigned int n = 0;
    int rc = RP_OK;

    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return rp_err_set(err, RP_NO_MEMORY, "SHA-256");
    }
    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++) {
        char path[4096];
        size_t got;
        FILE *fp;
        snprintf(path, sizeof path, "%s/%s.geojson.xz", dir, files[l]);
        fp = fopen(path, "rb");
        if (!fp) {
            rc = rp_err_set(err, RP_IO, "%s: cannot be read", path);
            break;
        }
        while ((got = fread(buf, 1, sizeof buf, fp)) > 0)
            EVP_DigestUpdate(md, buf, got);
        if (ferror(fp))
            rc = rp_err_set(err, RP_IO, "%s: read error", path);
        fclose(fp);
    }
    if (rc == RP_OK && EVP_DigestFinal_ex(md, h, &n) != 1)
        rc = rp_err_set(err, RP_INTERNAL, "SHA-256");
    EVP_MD_CTX_free(md);
    for (unsigned int i = 0; rc == RP_OK && i < n && 2 * i + 2 < STORE_VERSION_MAX; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    return rc;
}

/* ---- the areas before ---- */

struct old_areas {
    struct geo_diff_area *v;
    size_t n, cap;
};

static char *dup(const char *s) { return s ? strdup(s) : NULL; }

static int old_add(void *ctx, const struct store_area *a, struct rp_err *err)
{
    struct old_areas *o = ctx;
    struct geo_diff_area *d;

    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        struct geo_diff_area *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return rp_err_set(err, RP_NO_MEMORY, "areas");
        o->v = v;
        o->cap = cap;
    }
    d = &o->v[o->n];
    *d = (struct geo_diff_area){a->level, dup(a->code), dup(a->name), dup(a->parent_code)};
    if (!d->code || !d->name || (a->parent_code && !d->parent)) {
        free((char *)d->code), free((char *)d->name), free((char *)d->parent);
        return rp_err_set(err, RP_NO_MEMORY, "areas");
    }
    o->n++;
    return RP_OK;
}

static void old_free(struct old_areas *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free((char *)o->v[i].code);
        free((char *)o->v[i].name);
        free((char *)o->v[i].parent);
    }
    free(o->v);
}

/* ---- the new files ---- */

struct new_areas {
    char path[RP_LEVEL_COUNT][4096];
    struct geo_import imp[RP_LEVEL_COUNT];
    struct areas_rows rows[RP_LEVEL_COUNT];
    struct geo_diff_area *v; /* every level, for the diff */
    size_t n;
};

/* An index of one level just read, for the parents of the next. */
static int index_of(struct geo_ctx *gc, struct geo_import *imp, struct geo_index **out,
                    struct rp_err *err)
{
    struct geo_index *ix = geo_index_create();
    int rc = ix ? RP_OK : rp_err_set(err, RP_NO_MEMORY, "area index");

    for (size_t i = 0; rc == RP_OK && i < imp->n; i++) {
        size_t len = 0;
        unsigned char *wkb = geo_import_wkb(imp, gc, i, &len);
        rc = wkb ? geo_index_add(ix, gc, imp->level, imp->v[i].code, imp->v[i].name,
                                 imp->v[i].parent, wkb, len, err)
                 : rp_err_set(err, RP_INTERNAL, "WKB of %s", imp->v[i].code);
        if (wkb)
            GEOSFree_r(gc->geos, wkb);
    }
    if (rc == RP_OK)
        rc = geo_index_freeze(ix, gc, err);
    if (rc != RP_OK) {
        geo_index_destroy(ix, gc);
        ix = NULL;
    }
    *out = ix;
    return rc;
}

static int new_read(struct geo_ctx *gc, const char *dir, struct new_areas *na, FILE *report,
                    struct rp_err *err)
{
    struct geo_index *parents = NULL;
    size_t total = 0;
    int rc = RP_OK;

    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++) {
        char *path = na->path[l];
        char label[64];
        struct areas_import_opts o = {path, (enum rp_level)l, {"code", "name", "parent"}, NULL,
                                      label};
        snprintf(label, sizeof label, "areas: %s", rp_level_name((enum rp_level)l));
        snprintf(path, sizeof na->path[l], "%s/%s.geojson.xz", dir, files[l]);
        rc = areas_read(gc, &o, parents, &na->imp[l], report, err);
        geo_index_destroy(parents, gc);
        parents = NULL;
        if (rc == RP_OK && l + 1 < RP_LEVEL_COUNT)
            rc = index_of(gc, &na->imp[l], &parents, err);
        if (rc == RP_OK)
            rc = areas_rows_make(&na->imp[l], gc, &na->rows[l], err);
        total += na->imp[l].n;
    }
    geo_index_destroy(parents, gc);
    na->v = rc == RP_OK ? calloc(total ? total : 1, sizeof *na->v) : NULL;
    if (rc == RP_OK && !na->v)
        rc = rp_err_set(err, RP_NO_MEMORY, "areas");
    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++)
        for (size_t i = 0; i < na->imp[l].n; i++)
            na->v[na->n++] = (struct geo_diff_area){(enum rp_level)l, na->imp[l].v[i].code,
                                                    na->imp[l].v[i].name, na->imp[l].v[i].parent};
    return rc;
}

static void new_free(struct new_areas *na, struct geo_ctx *gc)
{
    for (int l = 0; l < RP_LEVEL_COUNT; l++) {
        areas_rows_free(&na->rows[l], gc);
        geo_import_fini(&na->imp[l], gc);
    }
    free(na->v);
}

/* ---- what changed ---- */

/* Counts per level, and each change but KEPT (added and removed up to AREA_SYNC_LIST_MAX);
 * only the counts when list is 0 (a new database: everything is added). */
static void print_changes(FILE *report, const struct geo_diff *d, int list)
{
    static const char *const kinds[] = {[GEO_DIFF_KEPT] = "kept",
                                        [GEO_DIFF_RECODED] = "re-coded",
                                        [GEO_DIFF_RENAMED] = "renamed",
                                        [GEO_DIFF_ADDED] = "added",
                                        [GEO_DIFF_REMOVED] = "removed"};

    for (int l = 0; l < RP_LEVEL_COUNT; l++) {
        const size_t *c = d->count[l];
        size_t listed[GEO_DIFF_REMOVED + 1] = {0};
        fprintf(report,
                "areas: %s: %zu before, %zu now: %zu kept, %zu re-coded, %zu renamed, %zu "
                "added, %zu removed\n",
                rp_level_name((enum rp_level)l),
                c[GEO_DIFF_KEPT] + c[GEO_DIFF_RECODED] + c[GEO_DIFF_RENAMED] + c[GEO_DIFF_REMOVED],
                c[GEO_DIFF_KEPT] + c[GEO_DIFF_RECODED] + c[GEO_DIFF_RENAMED] + c[GEO_DIFF_ADDED],
                c[GEO_DIFF_KEPT], c[GEO_DIFF_RECODED], c[GEO_DIFF_RENAMED], c[GEO_DIFF_ADDED],
                c[GEO_DIFF_REMOVED]);
        for (size_t i = 0; i < d->n; i++) {
            const struct geo_diff_change *ch = &d->v[i];
            if (!list || ch->level != (enum rp_level)l || ch->kind == GEO_DIFF_KEPT)
                continue;
            if ((ch->kind == GEO_DIFF_ADDED || ch->kind == GEO_DIFF_REMOVED) &&
                listed[ch->kind]++ >= AREA_SYNC_LIST_MAX)
                continue;
            if (ch->kind == GEO_DIFF_RECODED)
                fprintf(report, "areas:   re-coded %s %s %s -> %s\n", rp_level_name(ch->level),
                        ch->before->code, ch->before->name, ch->after->code);
            else if (ch->kind == GEO_DIFF_RENAMED)
                fprintf(report, "areas:   renamed %s %s %s -> %s\n", rp_level_name(ch->level),
                        ch->before->code, ch->before->name, ch->after->name);
            else {
                const struct geo_diff_area *a = ch->after ? ch->after : ch->before;
                fprintf(report, "areas:   %s %s %s %s%s%s\n", kinds[ch->kind],
                        rp_level_name(ch->level), a->code, a->name,
                        a->parent && a->parent[0] ? " in " : "", a->parent ? a->parent : "");
            }
        }
        for (int k = GEO_DIFF_ADDED; k <= GEO_DIFF_REMOVED; k++)
            if (listed[k] > AREA_SYNC_LIST_MAX)
                fprintf(report, "areas:   and %zu more %s\n", listed[k] - AREA_SYNC_LIST_MAX,
                        kinds[k]);
    }
}

/* The audit row of the whole change: versions, every re-code and rename, what was added and
 * removed, and how many rows were re-keyed. */
struct audit_ctx {
    const struct geo_diff *d;
    const char *from, *to;
};

static int audit_cb(void *ctx, struct store *s, const struct store_rekeyed *r, struct rp_err *err)
{
    struct audit_ctx *a = ctx;
    json_t *levels = json_object(), *before, *after;
    int rc;

    for (int l = 0; levels && l < RP_LEVEL_COUNT; l++) {
        json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "recoded", json_object(), "renamed",
                              json_object(), "added", json_array(), "removed", json_array());
        for (size_t i = 0; o && i < a->d->n; i++) {
            const struct geo_diff_change *c = &a->d->v[i];
            if (c->level != (enum rp_level)l)
                continue;
            if (c->kind == GEO_DIFF_RECODED)
                json_object_set_new(json_object_get(o, "recoded"), c->before->code,
                                    json_string(c->after->code));
            else if (c->kind == GEO_DIFF_RENAMED)
                json_object_set_new(json_object_get(o, "renamed"), c->before->code,
                                    json_string(c->after->name));
            else if (c->kind == GEO_DIFF_ADDED)
                json_array_append_new(json_object_get(o, "added"), json_string(c->after->code));
            else if (c->kind == GEO_DIFF_REMOVED)
                json_array_append_new(json_object_get(o, "removed"), json_string(c->before->code));
        }
        json_object_set_new(levels, rp_level_name((enum rp_level)l), o);
    }
    before = json_pack("{s:s?}", "version", a->from);
    after = json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:I}", "version", a->to,
                      "levels", levels, "rekeyed", "municipalities", (json_int_t)r->municipalities,
                      "entities", (json_int_t)r->entities, "rules", (json_int_t)r->rules, "reports",
                      (json_int_t)r->reports, "keys", (json_int_t)r->keys, "history",
                      (json_int_t)r->history, "seeded", (json_int_t)r->seeded);
    rc = before && after ? auth_audit(s, &auth_cli, "areas.default", "areas", before, after, err)
                         : rp_err_set(err, RP_NO_MEMORY, "audit summary");
    json_decref(before);
    json_decref(after);
    return rc;
}

/* ---- the whole ---- */

/* RP_OK with *go = 0 when the database is to be left as it is (and why was said). */
static int decide(struct store *s, const char *version, FILE *report, int *go, char *from,
                  size_t from_len, struct rp_err *err)
{
    struct store_area_layer lay[RP_LEVEL_COUNT];
    int rc = store_area_layers_get(s, lay, err), current = 1, any = 0;

    *go = 0;
    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++) {
        if (lay[l].present && strcmp(lay[l].origin, "import") == 0) {
            fprintf(report,
                    "areas: the %s level was imported by an operator from %s on %s (reporta "
                    "import-areas): the shipped default (version %.12s) is not applied; import "
                    "each level to change them\n",
                    rp_level_name((enum rp_level)l), lay[l].source, lay[l].imported_at, version);
            return RP_OK;
        }
        any |= lay[l].present;
        current &= lay[l].present && strcmp(lay[l].version, version) == 0;
    }
    if (rc != RP_OK)
        return rc;
    if (current) {
        fprintf(report, "areas: the shipped default (version %.12s) is in place\n", version);
        return RP_OK;
    }
    snprintf(from, from_len, "%s", !any ? "" : lay[0].version[0] ? lay[0].version : "unrecorded");
    *go = 1;
    return RP_OK;
}

static int build_recodes(const struct geo_diff *d, struct store_area_recode **out, size_t *n,
                         struct rp_err *err)
{
    struct store_area_recode *v = calloc(d->n ? d->n : 1, sizeof *v);

    *n = 0;
    *out = v;
    if (!v)
        return rp_err_set(err, RP_NO_MEMORY, "recodes");
    for (size_t i = 0; i < d->n; i++) {
        const struct geo_diff_change *c = &d->v[i];
        if (c->kind == GEO_DIFF_RECODED || c->kind == GEO_DIFF_RENAMED)
            v[(*n)++] = (struct store_area_recode){c->level, c->before->code, c->after->code,
                                                   c->before->name, c->after->name};
    }
    return RP_OK;
}

int area_sync_default(struct store *s, struct geo_ctx *gc, const char *dir, FILE *report,
                      int *changed, struct rp_err *err)
{
    char version[STORE_VERSION_MAX] = "", from[STORE_VERSION_MAX] = "";
    struct old_areas old = {0};
    struct new_areas na = {0};
    struct geo_diff d = {0};
    struct store_area_recode *recode = NULL;
    struct store_rekeyed r = {0};
    size_t nrecode = 0;
    int go = 0, rc;

    if (changed)
        *changed = 0;
    rc = area_sync_version(dir, version, err);
    if (rc == RP_OK)
        rc = decide(s, version, report, &go, from, sizeof from, err);
    if (rc != RP_OK || !go)
        return rc;
    for (int l = 0; l < RP_LEVEL_COUNT; l++)
        geo_import_init(&na.imp[l], (enum rp_level)l);
    rc = new_read(gc, dir, &na, report, err);
    if (rc == RP_OK)
        rc = store_areas_each(s, old_add, &old, err);
    if (rc == RP_OK)
        rc = geo_diff_compute(old.v, old.n, na.v, na.n, &d, err);
    if (rc == RP_OK) {
        fprintf(report, "areas: the shipped default %.12s replaces %s\n", version,
                !from[0]                          ? "nothing (no areas yet)"
                : strcmp(from, "unrecorded") == 0 ? "a default whose version was not recorded"
                                                  : from);
        print_changes(report, &d, from[0] != '\0');
        rc = build_recodes(&d, &recode, &nrecode, err);
    }
    if (rc == RP_OK) {
        struct audit_ctx a = {&d, from[0] ? from : NULL, version};
        struct store_area_upgrade u = {{na.rows[0].v, na.rows[1].v, na.rows[2].v},
                                       {na.rows[0].n, na.rows[1].n, na.rows[2].n},
                                       recode,
                                       nrecode,
                                       version,
                                       {na.path[0], na.path[1], na.path[2]},
                                       "cli",
                                       "admin",
                                       audit_cb,
                                       &a};
        rc = store_areas_upgrade(s, &u, &r, err);
    }
    if (rc == RP_OK) {
        fprintf(report,
                "areas: re-keyed %lld municipalities, %lld entities' areas, %lld routing rule "
                "rows, %lld case rows, %lld API keys, %lld history rows; the seed added %lld "
                "rows (municipalities of new distritos)\n",
                (long long)r.municipalities, (long long)r.entities, (long long)r.rules,
                (long long)r.reports, (long long)r.keys, (long long)r.history, (long long)r.seeded);
        if (changed)
            *changed = 1;
    }
    free(recode);
    geo_diff_fini(&d);
    old_free(&old);
    new_free(&na, gc);
    return rc;
}
