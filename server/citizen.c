/*
 * server/citizen.c - citizens' updates of their cases, each in one transaction with the event
 * it raises (the triggers of migration 0011).
 */
#include "server/citizen.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#include "base/utc.h"
#include "server/cases.h"
#include "server/tiles.h"

/* The statuses a reporter may rate. */
static int word_closed(const char *status)
{
    return strcmp(status, "resolved") == 0 || strcmp(status, "closed") == 0;
}

int citizen_update(struct worker *w, const char *case_no, const char *actor, const char *status,
                   const char *text, char uid[40], int *replayed, struct rp_err *err)
{
    static _Thread_local struct store_report r;
    int found = 0, rc;

    *replayed = 0;
    if (!text || !text[0])
        return rp_err_set(err, RP_INVALID_ARGUMENT, "an update needs its text (description)");
    if (strlen(text) > CITIZEN_UPDATE_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "an update is at most %d bytes",
                          CITIZEN_UPDATE_MAX);
    if (strlen(actor) >= CITIZEN_ACTOR_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "update_id is too long");
    if (status) {
        if (strlen(status) > CITIZEN_STATUS_MAX)
            return rp_err_set(err, RP_INVALID_ARGUMENT, "status is too long");
        for (const char *p = status; *p; p++)
            if (!isalpha((unsigned char)*p) && *p != '_')
                return rp_err_set(err, RP_INVALID_ARGUMENT,
                                  "status is a word such as OPEN, CLOSED or REOPEN");
    }
    rc = store_begin(w->store, err);
    if (rc == RP_OK && (rc = store_report_get(w->store, case_no, &r, &found, err)) == RP_OK &&
        !found)
        rc = rp_err_set(err, RP_NOT_FOUND, "no case %.20s", case_no);
    if (rc == RP_OK)
        rc = store_update_add(w->store, r.id, actor, status, text, uid, replayed, err);
    return store_end(w->store, rc, err);
}

int citizen_rate(struct app *app, struct worker *w, const char *case_no, const char *token,
                 const struct citizen_rating *in, struct store_report *out, struct rp_err *err)
{
    unsigned char hash[STORE_HASH_LEN];
    int found = 0, again = 0, changed = 0, rc;
    int64_t closed;

    if (in->score < 1 || in->score > 5)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "score is a whole number from 1 to 5");
    if (in->comment && strlen(in->comment) > CITIZEN_COMMENT_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "comment is at most %d bytes",
                          CITIZEN_COMMENT_MAX);
    if (in->reopen && (!in->reason || !in->reason[0] || strlen(in->reason) > CITIZEN_COMMENT_MAX))
        return rp_err_set(err, RP_INVALID_ARGUMENT,
                          "reopen needs a reason (up to %d bytes) for the entity",
                          CITIZEN_COMMENT_MAX);
    if (!token || !token[0] || !cases_token_hash(token, hash))
        return rp_err_set(err, RP_UNAUTHORIZED,
                          "rating a case takes its token (X-Report-Token), from its creation");
    rc = store_begin(w->store, err);
    if (rc == RP_OK)
        rc = store_report_by_token(w->store, hash, out, &found, err);
    /* the token is looked up by its hash; one of another case answers like a wrong one */
    if (rc == RP_OK && (!found || strcmp(out->case_no, case_no) != 0))
        rc = rp_err_set(err, RP_FORBIDDEN, "this token is not case %.20s's", case_no);
    closed = rc == RP_OK ? rp_utc_parse(out->closed_at) : 0;
    if (rc == RP_OK && (!out->closed_at[0] || !word_closed(out->status)))
        rc = rp_err_set(err, RP_INVALID_TRANSITION, "case %s is %s: a case is rated once closed",
                        out->case_no, out->status);
    if (rc == RP_OK && (int64_t)time(NULL) - closed > CITIZEN_RATING_WINDOW_S)
        rc = rp_err_set(err, RP_INVALID_TRANSITION,
                        "case %s closed more than 30 days ago: its rating window is over",
                        out->case_no);
    if (rc == RP_OK)
        rc = store_rating_add(w->store, out->id, in->score, in->comment, in->reopen, &again, err);
    if (rc == RP_OK && again)
        rc = rp_err_set(err, RP_CONFLICT, "case %s was rated already", out->case_no);
    if (rc == RP_OK && in->reopen) {
        rc = store_report_set_status(w->store, out->id, out->status, "in_progress", 0, 0, &changed,
                                     err);
        if (rc == RP_OK && !changed)
            rc = rp_err_set(err, RP_CONFLICT, "case %s changed meanwhile", out->case_no);
        if (rc == RP_OK)
            rc = store_history_add(w->store, out->id,
                                   &(struct store_history){0, NULL, "status", "reporter",
                                                           "reporter", NULL, out->status,
                                                           "in_progress", in->reason},
                                   err);
    }
    if (rc == RP_OK)
        rc = store_report_by_id(w->store, out->id, out, &found, err);
    rc = store_end(w->store, rc, err);
    if (rc == RP_OK && in->reopen && app && app->tiles)
        tiles_case_reload(app->tiles, w->store, out->id); /* open again: back on the map */
    return rc;
}
