/*
 * data/store_export.c - the open-data export read a page at a time: a keyset over
 * (created_at, id) so that a million rows are as many short reads, each starting where the
 * last stopped, with no transaction held between them and nothing sorted in memory. The
 * statement picks the columns the export publishes; reporter fields are never selected.
 */
#include "data/store_int.h"

int store_export_page(struct store *s, const char *after_created, int64_t after_id,
                      const char *until, int limit, store_export_fn fn, void *ctx, size_t *n,
                      struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_EXPORT_PAGE, err);
    struct store_export_row r;
    int rc = RP_OK, step = STORE_DONE;

    *n = 0;
    if (!st)
        return err->code;
    /* copied: the caller may move its cursor while the rows are read */
    store_bind_text_copy(st, 1, after_created);
    store_bind_int64(st, 2, after_id);
    store_bind_text(st, 3, until);
    store_bind_int(st, 4, limit);
    while (rc == RP_OK && (step = store_step(st)) == STORE_ROW) {
        r.id = store_col_int64(st, 0);
        r.case_no = store_col_text(st, 1);
        r.service_code = store_col_text(st, 2);
        r.service_name = store_col_text(st, 3);
        r.entity_code = store_col_text(st, 4);
        r.entity_name = store_col_text(st, 5);
        r.status = store_col_text(st, 6);
        r.created_at = store_col_text(st, 7);
        r.closed_at = store_col_text(st, 8);
        r.within_sla = store_col_int(st, 9);
        r.due_at = store_col_text(st, 10);
        for (int i = 0; i < 3; i++) {
            r.area_code[i] = store_col_text(st, 11 + 2 * i);
            r.area_name[i] = store_col_text(st, 12 + 2 * i);
        }
        r.lat = store_col_double(st, 17);
        r.lon = store_col_double(st, 18);
        r.description = store_col_text(st, 19);
        rc = fn(ctx, &r, err);
        (*n)++;
    }
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "export", err);
    store_reset(st);
    return rc;
}

int store_export_months(struct store *s, store_month_fn fn, void *ctx, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_EXPORT_MONTHS, err);
    int rc = RP_OK, step = STORE_DONE;

    if (!st)
        return err->code;
    while (rc == RP_OK && (step = store_step(st)) == STORE_ROW)
        rc = fn(ctx, store_col_text(st, 0), store_col_int64(st, 1), err);
    if (rc == RP_OK && step != STORE_DONE)
        rc = store_sql_error(s, "export months", err);
    store_reset(st);
    return rc;
}
