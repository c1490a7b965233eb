/*
 * data/store_areas.c - the areas table: count, replace one level atomically, iterate for the
 * in-memory index, and the SQL reference locate. Also reads ESRI Shapefiles through
 * SpatiaLite's loader into a private in-memory database, so no shapefile parsing is ours.
 */
#include "data/store_int.h"
#include "data/store_sql_pg.h"

#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int store_areas_count(struct store *s, int64_t counts[], struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_AREAS_COUNT, err);
    int rc;

    for (int i = 0; i < RP_LEVEL_COUNT; i++)
        counts[i] = 0;
    if (!st)
        return RP_STORAGE;
    while ((rc = store_step(st)) == STORE_ROW) {
        int level = store_col_int(st, 0);
        if (level >= 0 && level < RP_LEVEL_COUNT)
            counts[level] = store_col_int64(st, 1);
    }
    store_reset(st);
    return rc == STORE_DONE ? RP_OK : store_sql_error(s, "count areas", err);
}

static int area_insert(struct store *s, const struct store_area *a, const char *source,
                       struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_AREAS_INSERT, err);
    int rc;

    if (!st)
        return RP_STORAGE;
    store_bind_text(st, 1, a->code);
    store_bind_int(st, 2, (int)a->level);
    store_bind_text(st, 3, a->name);
    if (a->parent_code && a->parent_code[0])
        store_bind_text(st, 4, a->parent_code);
    if (source)
        store_bind_text(st, 5, source);
    store_bind_blob(st, 6, a->wkb, a->wkb_len);
    rc = store_step(st);
    store_reset(st);
    if (rc == STORE_E_UNIQUE)
        return rp_err_set(err, RP_CONFLICT, "area code %s is already used by another level",
                          a->code);
    if (rc != STORE_DONE)
        return rp_err_set(err, RP_STORAGE, "insert area %s: %s", a->code, store_errmsg(s));
    /* GeomFromWKB yields NULL for bytes it cannot read; the geometry column then holds NULL. */
    if (store_changes(s) != 1)
        return rp_err_set(err, RP_STORAGE, "insert area %s: not stored", a->code);
    return RP_OK;
}

/* Inside the caller's transaction: the level's rows replaced, and its record. */
static int replace_level(struct store *s, enum rp_level level, const char *origin,
                         const char *version, const char *source, const struct store_area *v,
                         size_t n, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_AREAS_DELETE_LEVEL, err);
    int rc;

    if (!st)
        return RP_STORAGE;
    store_bind_int(st, 1, (int)level);
    rc = store_run(s, st, "delete level", err);
    for (size_t i = 0; rc == RP_OK && i < n; i++)
        rc = area_insert(s, &v[i], source, err);
    st = rc == RP_OK ? store_stmt(s, SQL_LAYER_PUT, err) : NULL;
    if (rc == RP_OK && !st)
        rc = RP_STORAGE;
    if (rc == RP_OK) {
        store_bind_int(st, 1, (int)level);
        store_bind_text(st, 2, origin);
        if (version)
            store_bind_text(st, 3, version);
        store_bind_text(st, 4, source ? source : "unknown");
        rc = store_run(s, st, "area layer", err);
    }
    return rc;
}

int store_areas_replace_level(struct store *s, enum rp_level level, const char *source,
                              const struct store_area *v, size_t n, struct rp_err *err)
{
    int rc = store_begin(s, err);

    if (rc == RP_OK)
        rc = replace_level(s, level, "import", NULL, source, v, n, err);
    return store_end(s, rc, err);
}

int store_area_layers_get(struct store *s, struct store_area_layer out[RP_LEVEL_COUNT],
                          struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_LAYERS_GET, err);
    int step;

    memset(out, 0, RP_LEVEL_COUNT * sizeof *out);
    if (!st)
        return RP_STORAGE;
    while ((step = store_step(st)) == STORE_ROW) {
        int l = store_col_int(st, 0);
        if (l < 0 || l >= RP_LEVEL_COUNT)
            continue;
        out[l].present = 1;
        STORE_COPY(out[l].origin, st, 1);
        STORE_COPY(out[l].version, st, 2);
        STORE_COPY(out[l].source, st, 3);
        STORE_COPY(out[l].imported_at, st, 4);
    }
    store_reset(st);
    return step == STORE_DONE ? RP_OK : store_sql_error(s, "area layers", err);
}

/* Steps one re-keying statement; *count (optional) gains the rows it changed. */
static int rekey(struct store *s, enum store_sql id, const char *what, int64_t *count,
                 struct rp_err *err)
{
    struct store_q *st = store_stmt(s, id, err);
    int rc;

    if (!st)
        return RP_STORAGE;
    rc = store_step(st);
    store_reset(st);
    if (STORE_IS_CONSTRAINT(rc)) /* e.g. a new municipality code already taken */
        return rp_err_set(err, RP_CONFLICT, "%s: %s", what, store_errmsg(s));
    if (rc != STORE_DONE)
        return store_sql_error(s, what, err);
    if (count)
        *count += store_changes(s);
    return RP_OK;
}

static int remap_fill(struct store *s, const struct store_area_upgrade *u, struct rp_err *err)
{
    int rc = store_exec(s,
                        s->pg ? store_areas_pg_remap_tables
                              : "CREATE TEMP TABLE IF NOT EXISTS area_remap (old TEXT PRIMARY KEY,"
                        " new TEXT NOT NULL, level INTEGER NOT NULL, old_name TEXT, new_name TEXT);"
                        "CREATE TEMP TABLE IF NOT EXISTS entity_remap (old TEXT PRIMARY KEY,"
                        " new TEXT NOT NULL);"
                        "DELETE FROM temp.area_remap; DELETE FROM temp.entity_remap;",
                        "remap tables", err);

    if (rc != RP_OK)
        return rc;
    for (size_t i = 0; rc == RP_OK && i < u->nrecode; i++) {
        const struct store_area_recode *r = &u->recode[i];
        struct store_q *st = store_stmt(s, SQL_REMAP_ADD, err);
        if (!st)
            return RP_STORAGE;
        store_bind_text(st, 1, r->from);
        store_bind_text(st, 2, r->to);
        store_bind_int(st, 3, (int)r->level);
        store_bind_text(st, 4, r->old_name);
        store_bind_text(st, 5, r->new_name);
        rc = store_run(s, st, "area remap", err);
    }
    return rc == RP_OK ? rekey(s, SQL_ENTITY_REMAP_FILL, "municipality remap", NULL, err) : rc;
}

int store_areas_upgrade(struct store *s, const struct store_area_upgrade *u,
                        struct store_rekeyed *out, struct rp_err *err)
{
    struct store_rekeyed r = {0};
    struct store_q *st;
    int64_t before;
    int rc = store_begin(s, err);

    /* entity codes move with every reference in the same transaction; the references are
     * checked at COMMIT, when both sides agree again */
    if (rc == RP_OK)
        rc = store_defer_foreign_keys(s, err);
    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++)
        rc = replace_level(s, (enum rp_level)l, "default", u->version, u->source[l],
                           u->areas[l], u->n[l], err);
    if (rc == RP_OK)
        rc = remap_fill(s, u, err);
    if (rc == RP_OK)
        rc = rekey(s, SQL_REKEY_REPORT_AREAS, "cases' areas", &r.reports, err);
    if (rc == RP_OK)
        rc = rekey(s, SQL_REKEY_RULE_AREAS, "rules' areas", &r.rules, err);
    if (rc == RP_OK)
        rc = rekey(s, SQL_REKEY_ENTITY_AREAS, "entities' areas", &r.entities, err);
    if (rc == RP_OK)
        rc = rekey(s, SQL_REKEY_ENTITY_NAMES, "municipality names", NULL, err);
    if (rc == RP_OK)
        rc = rekey(s, SQL_REKEY_ENTITY_MARK, "municipality codes", NULL, err);
    if (rc == RP_OK)
        rc = rekey(s, SQL_REKEY_ENTITY_CODES, "municipality codes", &r.municipalities, err);
    if (rc == RP_OK)
        rc = rekey(s, SQL_REKEY_REPORT_ENTITY, "cases' entities", &r.reports, err);
    if (rc == RP_OK)
        rc = rekey(s, SQL_REKEY_KEY_ENTITY, "keys' entities", &r.keys, err);
    if (rc == RP_OK)
        rc = rekey(s, SQL_REKEY_RULE_ENTITY, "rules' entities", &r.rules, err);
    if (rc == RP_OK)
        rc = rekey(s, SQL_REKEY_HISTORY, "case history", &r.history, err);
    if (rc == RP_OK && (st = store_stmt(s, SQL_REKEY_AUDIT, err)) != NULL) {
        store_bind_text(st, 1, u->actor);
        store_bind_text(st, 2, u->actor_role);
        rc = store_run(s, st, "re-key audit", err);
    } else if (rc == RP_OK) {
        rc = RP_STORAGE;
    }
    if (rc == RP_OK) {
        before = store_total_changes(s);
        rc = store_seed_run(s, err);
        r.seeded = store_total_changes(s) - before;
    }
    if (rc == RP_OK && u->audit)
        rc = u->audit(u->audit_ctx, s, &r, err);
    if (rc == RP_OK)
        store_catalogue_touch(s); /* entities and rules changed */
    rc = store_end(s, rc, err);
    if (rc == RP_OK && out)
        *out = r;
    return rc;
}

int store_areas_each(struct store *s, store_area_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_AREAS_EACH, err);
    struct store_area a;
    int rc = RP_OK, step;

    if (!st)
        return RP_STORAGE;
    while (rc == RP_OK && (step = store_step(st)) == STORE_ROW) {
        a.level = (enum rp_level)store_col_int(st, 0);
        a.code = store_col_text(st, 1);
        a.name = store_col_text(st, 2);
        a.parent_code = store_col_text(st, 3);
        a.wkb = store_col_blob(st, 4, &a.wkb_len);
        if (!a.code || !a.name || !a.wkb)
            rc = rp_err_set(err, RP_STORAGE, "area row without code, name or geometry");
        else
            rc = fn(ctx, &a, err);
    }
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "read areas", err);
    store_reset(st);
    return rc;
}

int store_areas_locate_sql(struct store *s, enum rp_level level, double lon, double lat,
                           char code[STORE_CODE_MAX], struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_AREAS_LOCATE, err);
    int rc;

    code[0] = '\0';
    if (!st)
        return RP_STORAGE;
    store_bind_int(st, 1, (int)level);
    store_bind_double(st, 2, lon);
    store_bind_double(st, 3, lat);
    rc = store_step(st);
    if (rc == STORE_ROW)
        snprintf(code, STORE_CODE_MAX, "%s", store_col_text(st, 0));
    store_reset(st);
    if (rc != STORE_ROW && rc != STORE_DONE)
        return store_sql_error(s, "locate", err);
    return RP_OK;
}

/* ---- shapefiles ---- */

#define SHP_FIELDS_MAX 256 /* DBF allows 255 fields plus our geometry */

static int shp_rows(sqlite3 *db, store_shp_fn fn, void *ctx, struct rp_err *err)
{
    const char *names[SHP_FIELDS_MAX], *values[SHP_FIELDS_MAX];
    struct store_shp_row row;
    sqlite3_stmt *st = NULL;
    int rc = RP_OK, step, ncol, geom_col = -1;

    /* The scratch table was created by the loader; its name is ours, not the user's. */
    if (sqlite3_prepare_v2(db, "SELECT *, AsBinary(geom) AS reporta_wkb FROM shp", -1, &st,
                           NULL) != SQLITE_OK)
        return rp_err_set(err, RP_INVALID_DATA, "shapefile: %s", sqlite3_errmsg(db));
    ncol = sqlite3_column_count(st);
    if (ncol > SHP_FIELDS_MAX) {
        rc = rp_err_set(err, RP_INVALID_DATA, "shapefile: too many fields (%d)", ncol);
        goto out;
    }
    row.nfields = 0;
    for (int i = 0; i < ncol; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (strcmp(name, "reporta_wkb") == 0)
            geom_col = i;
        else if (strcmp(name, "geom") != 0 && strcmp(name, "PK_UID") != 0)
            names[row.nfields++] = name;
    }
    row.names = names;
    row.values = values;
    while (rc == RP_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int k = 0;
        for (int i = 0; i < ncol; i++) {
            const char *name = sqlite3_column_name(st, i);
            if (i == geom_col || strcmp(name, "geom") == 0 || strcmp(name, "PK_UID") == 0)
                continue;
            values[k++] = (const char *)sqlite3_column_text(st, i);
        }
        row.wkb = sqlite3_column_blob(st, geom_col);
        row.wkb_len = (size_t)sqlite3_column_bytes(st, geom_col);
        rc = fn(ctx, &row, err);
    }
    if (rc == RP_OK && step != SQLITE_DONE)
        rc = rp_err_set(err, RP_INVALID_DATA, "shapefile: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(st);
    return rc;
}

int store_shapefile_each(const char *path, const char *charset, store_shp_fn fn, void *ctx,
                         struct rp_err *err)
{
    char base[4096], msg[1024] = "";
    size_t len = strlen(path);
    sqlite3 *db = NULL;
    void *cache = NULL;
    int rows = 0, rc;

    if (len >= sizeof base)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "shapefile path too long");
    memcpy(base, path, len + 1);
    if (len > 4 && strcasecmp(base + len - 4, ".shp") == 0)
        base[len - 4] = '\0';
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = rp_err_set(err, RP_STORAGE, "shapefile scratch database");
        goto out;
    }
    cache = spatialite_alloc_connection();
    spatialite_init_ex(db, cache, 0);
    if (sqlite3_exec(db, "SELECT InitSpatialMetaData(1, 'NONE')", NULL, NULL, NULL) != SQLITE_OK) {
        rc = rp_err_set(err, RP_STORAGE, "shapefile scratch metadata: %s", sqlite3_errmsg(db));
        goto out;
    }
    /* SRID 0: the loader only carries the coordinates; the caller reads the .prj and
     * transforms with PROJ. */
    if (!load_shapefile_ex3(db, base, "shp", charset ? charset : "UTF-8", 0, "geom", "AUTO",
                            NULL, 1, 0, 0, 0, 0, &rows, GAIA_DBF_COLNAME_CASE_IGNORE, msg)) {
        rc = rp_err_set(err, RP_INVALID_DATA, "shapefile %s.shp: %s", base,
                        msg[0] ? msg : "cannot be read");
        goto out;
    }
    rc = shp_rows(db, fn, ctx, err);
out:
    if (db)
        sqlite3_close(db);
    if (cache)
        spatialite_cleanup_ex(cache);
    return rc;
}
