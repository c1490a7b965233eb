/*
 * server/plate.h - vehicle plates as reporta stores and looks them up. People type a plate the
 * way they read it off the car or the tow receipt: "ab-1234", "AB 1234", "8T–1234", with dots
 * or a non-breaking space. One function turns every such spelling into one key, so the driver's
 * lookup finds the tow the operator registered. Pure and thread-safe.
 */
#ifndef PLATE_H
#define PLATE_H

#include <stddef.h>

#include "base/err.h"

#define PLATE_MIN 2  /* "M1": the shortest real plates (motorcycles, diplomatic) */
#define PLATE_MAX 10 /* characters of a normalised plate */

/* Normalises plate (UTF-8, at most 64 bytes) into out: ASCII letters upper-cased, the
 * separators people type (space, tab, '-', '.', '_', '/', the Unicode dashes and no-break
 * space) removed. What remains must be PLATE_MIN..PLATE_MAX letters A-Z and digits, at least
 * one of them a digit (every Panamanian format has one); anything else -> RP_INVALID_ARGUMENT
 * with a message saying what is wrong. out is "" on failure. */
int plate_normalize(const char *plate, char out[PLATE_MAX + 1], struct rp_err *err);

#endif
