/*
 * media/store.h - photos on disk, content-addressed: DIR/ab/cd/<sha256>.jpg and
 * <sha256>_t.jpg (the thumbnail). Each file is written to a temporary name, fsynced, renamed
 * into place and its directory fsynced, so a file under its final name is whole. The same
 * photo sent twice is stored once. Files no database row refers to are removed by the request
 * whose case did not commit (media_store_remove) or, left by a crash between the write and the
 * commit, by media_store_sweep at startup.
 */
#ifndef MEDIA_STORE_H
#define MEDIA_STORE_H

#include <stddef.h>

#include "base/err.h"
#include "media/photo.h"

/* Writes both JPEGs of p under dir (created as needed). A failure leaves no file of this call:
 * RP_INSUFFICIENT_STORAGE when the disk is full (ENOSPC, EDQUOT) or read-only (EROFS), else
 * RP_IO. */
int media_store_put(const char *dir, const struct media_photo *p, struct rp_err *err);
/* 1 when both files of the photo named sha256 (64 hex) are under dir. */
int media_store_has(const char *dir, const char *sha256);
/* Deletes both files of the photo named sha256: for a caller whose case did not commit and
 * that wrote them itself (media_store_has said 0 before its put), once no row names them. */
void media_store_remove(const char *dir, const char *sha256);

/* 1 when name is "<64 hex>.jpg" or "<64 hex>_t.jpg" (nothing else is ever served), and the
 * path of that file under dir into out. */
int media_store_path(const char *dir, const char *name, char *out, size_t n);

/* Deletes every stored file whose sha256 referenced() says is unknown, and stray temporary
 * files. Returns how many files went. */
typedef int (*media_referenced_fn)(void *ctx, const char *sha256);
long media_store_sweep(const char *dir, media_referenced_fn referenced, void *ctx);

#endif
