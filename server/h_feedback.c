/*
 * server/h_feedback.c - the reporter's rating (POST /api/v1/reports/{id}/rating, with the
 * case's token in X-Report-Token) and the contact centre's follow-up queue
 * (GET /api/v1/followups, POST /api/v1/followups/{id}/done): staff see and close only their
 * own entity's, admins all. The queue shows the reporter's contact: it is there to call them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/citizen.h"
#include "server/followup.h"
#include "server/h_reports.h"
#include "server/routes.h"
#include "server/worker.h"

int h_report_rating(struct http_req *req, struct http_res *res)
{
    static _Thread_local struct store_report r;
    struct citizen_rating in = {0};
    json_t *body = NULL, *v;
    int rc = http_body_json(req, &body, &res->err);

    if (rc == RP_OK) {
        v = json_object_get(body, "score");
        if (!json_is_integer(v))
            rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "score is a whole number from 1 to 5");
        else
            in.score = json_integer_value(v) >= 1 && json_integer_value(v) <= 5
                           ? (int)json_integer_value(v)
                           : 0;
    }
    if (rc == RP_OK)
        rc = http_json_str(body, "comment", CITIZEN_COMMENT_MAX, 0, &in.comment, &res->err);
    if (rc == RP_OK)
        rc = http_json_str(body, "reason", CITIZEN_COMMENT_MAX, 0, &in.reason, &res->err);
    if (rc == RP_OK && (v = json_object_get(body, "reopen")) && !json_is_null(v)) {
        if (!json_is_boolean(v))
            rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT, "reopen is true or false");
        in.reopen = json_is_true(v);
    }
    if (rc == RP_OK)
        rc = citizen_rate(req->app, req->w, http_param(req, "id"),
                          http_header(req, "X-Report-Token"), &in, &r, &res->err);
    json_decref(body);
    if (rc != RP_OK)
        return rc;
    return http_reply_json_new(res, 201,
                               json_pack("{s:s, s:i, s:b, s:s}", "id", r.case_no, "score",
                                         in.score, "reopened", in.reopen, "status", r.status));
}

static int followup_add(void *ctx, const struct store_followup *f, struct rp_err *err)
{
    if (json_array_append_new(
            ctx, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:{s:s?, s:s?, s:s?}}",
                           "id", (json_int_t)f->id, "kind", f->kind, "raised_at", f->raised_at,
                           "case", f->case_no, "service_code", f->service_code, "status",
                           f->status, "entity", f->entity_code, "created_at", f->created_at,
                           "closed_at", f->closed_at[0] ? f->closed_at : NULL, "reporter",
                           "name", f->reporter_name[0] ? f->reporter_name : NULL, "email",
                           f->reporter_email[0] ? f->reporter_email : NULL, "phone",
                           f->reporter_phone[0] ? f->reporter_phone : NULL)))
        return rp_err_set(err, RP_NO_MEMORY, "follow-ups");
    return RP_OK;
}

/* GET /api/v1/followups?kind=&after=&limit=[&entity= for admins] */
int h_followups_list(struct http_req *req, struct http_res *res)
{
    const char *kind = http_query(req, "kind"), *entity = http_query(req, "entity");
    json_t *list = json_array();
    double after = 0, limit = 100;
    int rc = list ? RP_OK : rp_err_set(&res->err, RP_NO_MEMORY, "follow-ups");

    if (rc == RP_OK && kind && strcmp(kind, "followup_due") != 0 &&
        strcmp(kind, "satisfaction_requested") != 0)
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT,
                        "kind is followup_due or satisfaction_requested");
    if (rc == RP_OK)
        rc = http_query_double(req, "after", 0, 0, 9e15, &after, &res->err);
    if (rc == RP_OK)
        rc = http_query_double(req, "limit", 100, 1, FOLLOWUP_LIST_MAX, &limit, &res->err);
    if (req->who.role != AUTH_ADMIN)
        entity = req->who.entity; /* staff: their own entity's, whatever they ask */
    if (rc == RP_OK)
        rc = store_followups_open(req->w->store, entity, kind, (int64_t)after, (int)limit, followup_add,
                                  list, &res->err);
    if (rc != RP_OK) {
        json_decref(list);
        return rc;
    }
    return http_reply_json_new(res, 200, json_pack("{s:o}", "followups", list));
}

/* POST /api/v1/followups/{id}/done {"note": "..."} */
int h_followup_done(struct http_req *req, struct http_res *res)
{
    const char *idtext = http_param(req, "id"), *note = NULL;
    json_t *body = NULL;
    char actor[32], *end;
    long long id;
    int found = 0, rc;

    errno = 0;
    id = strtoll(idtext, &end, 10);
    if (end == idtext || *end || errno || id <= 0)
        return rp_err_set(&res->err, RP_NOT_FOUND, "no follow-up %.20s", idtext);
    rc = req->body_len ? http_body_json(req, &body, &res->err) : RP_OK;
    if (rc == RP_OK && body)
        rc = http_json_str(body, "note", CITIZEN_COMMENT_MAX, 0, &note, &res->err);
    snprintf(actor, sizeof actor, "key:%lld", (long long)req->who.key_id);
    if (rc == RP_OK)
        rc = store_followup_done(req->w->store, id,
                                 req->who.role == AUTH_ADMIN ? NULL : req->who.entity, actor,
                                 auth_role_name(req->who.role), note, &found, &res->err);
    json_decref(body);
    if (rc == RP_OK && !found)
        rc = rp_err_set(&res->err, RP_NOT_FOUND, "no follow-up %lld", id);
    if (rc != RP_OK)
        return rc;
    return http_reply_json_new(res, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "done", 1));
}
