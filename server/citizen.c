/*
 * server/citizen.c - citizens' updates of their cases, each in one transaction with the event
 * it raises (the triggers of migration 0011).
 */
#include "server/citizen.h"

#include <ctype.h>
#include <string.h>

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
