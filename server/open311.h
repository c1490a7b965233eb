/*
 * server/open311.h - Open311 GeoReport v2 rendering: the same documents as JSON or as XML
 * (written by libxml2's xmlTextWriter from the JSON tree: an array becomes repeated child
 * elements named after its parent), the spec's error bodies, and ISO 8601 times in Panama's
 * offset (-05:00).
 */
#ifndef OPEN311_H
#define OPEN311_H

#include <jansson.h>

#include "server/http.h"

#define OPEN311_JURISDICTION "311.gob.pa"

enum open311_format { OPEN311_JSON, OPEN311_XML };

/* "requests.json" -> base "requests", format; 0 for an unknown extension. */
int open311_split(const char *file, char *base, size_t n, enum open311_format *fmt);

/* Replies with doc (stolen): JSON as is; XML with root element `root`. */
int open311_reply(struct http_res *res, enum open311_format fmt, int status, const char *root,
                  json_t *doc);
/* The spec's error body: [{"code": STATUS, "description": msg}], <errors><error>... */
int open311_error(struct http_res *res, enum open311_format fmt, int rc);

/* POST requests.{json,xml}'s form read as server/h_open311.c reads it, up to where the photo
 * would be decoded and the store asked (an api_key is not looked up): RP_OK or the error the
 * handler would answer. For the fuzzers (tests/fuzz_open311.c). */
int h_open311_form_check(struct http_req *req, struct rp_err *err);

/* "2026-11-23T16:40:09Z" (UTC, as stored) -> "2026-11-23T11:40:09-05:00". */
void open311_time(const char *utc, char *out, size_t n);
/* ISO 8601 with Z or an offset, or a date -> UTC "YYYY-MM-DDTHH:MM:SSZ"; 0 when unreadable. */
int open311_parse_time(const char *in, char *utc, size_t n);

#endif
