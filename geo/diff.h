/*
 * geo/diff.h - what changed between two versions of a set of areas (the shipped default
 * before and after an update), by identity rather than by code: an area is the same one when
 * it keeps its name and its parent (its parent mapped first, so levels go top-down). Codes can
 * change between versions, and two can swap (INEC 2023: 1302 Capira became 1303, and 1303,
 * which was Chame, became 1304), so a code alone never identifies an area. An area that keeps
 * its code and parent but not its name was renamed. Pure data, no geometry; one thread.
 */
#ifndef GEO_DIFF_H
#define GEO_DIFF_H

#include <stddef.h>

#include "base/err.h"
#include "base/level.h"

struct geo_diff_area {
    enum rp_level level;
    const char *code, *name, *parent; /* borrowed; parent NULL or "" when none */
};

enum geo_diff_kind {
    GEO_DIFF_KEPT = 1, /* same code, name and parent (the geometry may differ) */
    GEO_DIFF_RECODED,  /* same name and parent, new code */
    GEO_DIFF_RENAMED,  /* same code and parent, new name */
    GEO_DIFF_ADDED,
    GEO_DIFF_REMOVED,
};

struct geo_diff_change {
    enum geo_diff_kind kind;
    enum rp_level level;
    const struct geo_diff_area *before, *after; /* NULL for ADDED / REMOVED respectively */
};

struct geo_diff {
    struct geo_diff_change *v; /* by level, then REMOVED and KEPT.. in the old areas' order,
                                  then ADDED in the new areas' order */
    size_t n;
    size_t count[RP_LEVEL_COUNT][GEO_DIFF_REMOVED + 1]; /* per level and kind */
};

/* Compares before[0..nb-1] with after[0..na-1] (any order; codes unique within each). The
 * changes point into both arrays, which must outlive the diff. */
int geo_diff_compute(const struct geo_diff_area *before, size_t nb,
                     const struct geo_diff_area *after, size_t na, struct geo_diff *out,
                     struct rp_err *err);
void geo_diff_fini(struct geo_diff *d);

/* Whether two area names are the same name: case, accents and spacing folded
 * ("Calovébora" = "CALOVEBORA"). */
int geo_diff_same_name(const char *a, const char *b);

/* The new code of an old one at a level (after any re-code), or NULL when it was removed. */
const char *geo_diff_new_code(const struct geo_diff *d, enum rp_level level, const char *old);

#endif
