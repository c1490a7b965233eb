/*
 * server/h_reports.h - the case renderers shared by the native API and Open311.
 */
#ifndef H_REPORTS_H
#define H_REPORTS_H

#include <jansson.h>

#include "data/store.h"
#include "server/http.h"

/* The case as req's caller may see it (reporter contact only for its entity and admins). */
json_t *h_report_json(struct http_req *req, const struct store_report *r);
/* A case's description as a reader may see it: NULL when empty, or private and the reader is
 * not staff of its entity (staff: auth_may_act_for). */
const char *h_description(const struct store_report *r, int staff);
json_t *h_photos_json(struct store *s, int64_t report_id); /* [{url, thumbnail_url, ...}] */
json_t *h_location_json(const struct app *app, const struct store_report *r);
json_t *h_routing_json(const struct store_entity *e, const struct store_rule *rule);
/* The body of POST /api/v1/reports read as h_reports_create reads it, up to where photos would
 * be decoded and the store would be asked: JSON, or multipart with a `report` part and `photo`
 * parts (kept as bytes). RP_OK or the error the handler would answer. For the fuzzers
 * (tests/fuzz_json.c, tests/fuzz_multipart.c). */
int h_reports_body_check(struct http_req *req, struct rp_err *err);
/* The list filters of GET /api/v1/reports from req's query; statuses is q's buffer. */
int h_reports_query(struct http_req *req, struct store_report_query *q, char *statuses,
                    size_t n, struct rp_err *err);

#endif
