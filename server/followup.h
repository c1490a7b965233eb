/*
 * server/followup.h - the contact centre's follow-ups, raised by a thread of their own every
 * interval: a case open FOLLOWUP_QUIET_S with no change gets a followup_due (Panama's 311 calls
 * the citizen within 30 days to report progress), a case resolved or closed and not rated gets
 * a satisfaction_requested (the citizen is asked within 3 days of the close). Each is a row of
 * the work list GET /api/v1/followups, a history row of its case and an event for the
 * webhooks (the SMS and e-mail gateways), all in one transaction.
 */
#ifndef FOLLOWUP_H
#define FOLLOWUP_H

#include <time.h>

#include "base/err.h"
#include "data/store.h"

#define FOLLOWUP_QUIET_S      (30 * 86400)
#define FOLLOWUP_INTERVAL_S   300 /* --followup-interval */
#define FOLLOWUP_LIST_MAX     500
#define FOLLOWUP_BATCH        500 /* follow-ups raised per transaction */

struct followup;

/* One pass at time now on s. */
int followup_sweep(struct store *s, time_t now, int *due, int *satisfaction, struct rp_err *err);

/* A thread sweeping every interval_s on its own connection to db_path; NULL-safe stop. */
int followup_start(const char *db_path, unsigned interval_s, struct followup **out,
                   struct rp_err *err);
void followup_stop(struct followup *f);

#endif
