/*
 * server/listen.h - what other reporta processes on the same PostgreSQL database changed: one
 * thread with its own connection LISTENs (store_listen) and applies each committed change to
 * this process's caches within the notification's round trip: a case re-read into the case map
 * and its tiles made stale (tiles_case_reload), the catalogue cache's version moved, a tow or
 * the trucks' newest positions re-read into the towing tables. On a
 * SpatiaLite file there is one server and no thread.
 */
#ifndef LISTEN_H
#define LISTEN_H

#include "base/err.h"

struct app;
struct listener;

/* Starts the thread when app->cfg.db is a PostgreSQL URI (else *out NULL, RP_OK). */
int listen_start(struct app *app, struct listener **out, struct rp_err *err);
void listen_stop(struct listener *l); /* NULL-safe; waits for the thread */

#endif
