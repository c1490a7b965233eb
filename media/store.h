/*
 * media/store.h - photos on disk, content-addressed: DIR/ab/cd/<sha256>.jpg and
 * <sha256>_t.jpg (the thumbnail). Each file is written to a temporary name, fsynced, renamed
 * into place and its directory fsynced, so a file under its final name is whole. The same
 * photo sent twice is stored once. Files no database row refers to (left by a crash between
 * the write and the commit) are removed by media_store_sweep at startup.
 */
#ifndef MEDIA_STORE_H
#define MEDIA_STORE_H

#include <stddef.h>

#include "base/err.h"
#include "media/photo.h"

/* Writes both JPEGs of p under dir (created as needed). */
int media_store_put(const char *dir, const struct media_photo *p, struct rp_err *err);

/* 1 when name is "<64 hex>.jpg" or "<64 hex>_t.jpg" (nothing else is ever served), and the
 * path of that file under dir into out. */
int media_store_path(const char *dir, const char *name, char *out, size_t n);

/* Deletes every stored file whose sha256 referenced() says is unknown, and stray temporary
 * files. Returns how many files went. */
typedef int (*media_referenced_fn)(void *ctx, const char *sha256);
long media_store_sweep(const char *dir, media_referenced_fn referenced, void *ctx);

#endif
