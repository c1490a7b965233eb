/*
 * server/citizen.h - what citizens add to a case after reporting it: an update (a comment, from
 * the web app or an Open311 client such as FixMyStreet) that lands in the case's history and
 * its events. Updates never change a case's status; a status word the client sends (e.g.
 * REOPEN) is kept with the text for the entity's staff to act on.
 */
#ifndef CITIZEN_H
#define CITIZEN_H

#include "server/app.h"
#include "server/worker.h"

#define CITIZEN_UPDATE_MAX 2000 /* bytes of an update's text */
#define CITIZEN_STATUS_MAX 32   /* of the status word */
#define CITIZEN_ACTOR_MAX  80   /* "open311:<client's update_id>" */

/* Adds text as an update of case_no by actor ("citizen", or "open311:<id>": an id already
 * used on this case replays, *replayed = 1, with the first update's event uid). status may be
 * NULL; uid receives the event's id (the Open311 update_id). RP_NOT_FOUND: no such case. */
int citizen_update(struct worker *w, const char *case_no, const char *actor, const char *status,
                   const char *text, char uid[40], int *replayed, struct rp_err *err);

/* A reporter's rating of their closed case (once, within CITIZEN_RATING_WINDOW_S of its
 * close, with the token from its creation): score 1-5, comment for staff only, and reopen with
 * a reason (in the case's history) to have it looked at again. */
#define CITIZEN_RATING_WINDOW_S (30 * 86400)
#define CITIZEN_COMMENT_MAX     2000
struct citizen_rating {
    int score;
    const char *comment, *reason; /* NULL: none; reason is required with reopen */
    int reopen;
};
/* out receives the case as it is after. RP_FORBIDDEN: not the case's token; RP_CONFLICT:
 * rated already; RP_INVALID_TRANSITION: not closed, or closed too long ago. */
int citizen_rate(struct app *app, struct worker *w, const char *case_no, const char *token,
                 const struct citizen_rating *in, struct store_report *out, struct rp_err *err);

#endif
