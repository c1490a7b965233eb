/*
 * geo/diff.c - old areas to new ones by name and parent (see diff.h). Per level, top-down:
 * first every old area whose folded name and mapped parent find exactly one new area (the
 * same code preferred among several), then old areas that kept code and parent but not name
 * (renamed); what is left was removed or added. Workload: hundreds of areas per level, once
 * per `reporta init`, so plain loops over folded names suffice.
 */
#include "geo/diff.h"

#include <stdlib.h>
#include <string.h>

#define FOLD_MAX 256

/* Lower case, Spanish accents and the diaeresis dropped, runs of spaces as one, trimmed. */
static void fold(const char *s, char out[FOLD_MAX])
{
    /* the second byte of the two-byte UTF-8 letters U+00C0..U+00FF that fold to ASCII */
    static const char latin1[64] = "aaaaaaaceeeeiiii"
                                   "dnooooo ouuuuy  "
                                   "aaaaaaaceeeeiiii"
                                   "dnooooo ouuuuy y";
    size_t n = 0;
    int space = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p && n + 1 < FOLD_MAX; p++) {
        char c;
        if (*p == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF && latin1[p[1] - 0x80] != ' ') {
            c = latin1[p[1] - 0x80];
            p++;
        } else if (*p == ' ' || *p == '\t') {
            space = n > 0;
            continue;
        } else {
            c = (char)(*p >= 'A' && *p <= 'Z' ? *p + ('a' - 'A') : *p);
        }
        if (space && n + 2 < FOLD_MAX)
            out[n++] = ' ';
        space = 0;
        out[n++] = c;
    }
    out[n] = '\0';
}

int geo_diff_same_name(const char *a, const char *b)
{
    char fa[FOLD_MAX], fb[FOLD_MAX];

    fold(a ? a : "", fa);
    fold(b ? b : "", fb);
    return strcmp(fa, fb) == 0;
}

static const char *parent_of(const struct geo_diff_area *a)
{
    return a->parent && a->parent[0] ? a->parent : "";
}

const char *geo_diff_new_code(const struct geo_diff *d, enum rp_level level, const char *old)
{
    for (size_t i = 0; old && i < d->n; i++) {
        const struct geo_diff_change *c = &d->v[i];
        if (c->level == level && c->before && strcmp(c->before->code, old) == 0)
            return c->after ? c->after->code : NULL;
    }
    return NULL;
}

static int add(struct geo_diff *d, size_t *cap, enum geo_diff_kind kind, enum rp_level level,
               const struct geo_diff_area *before, const struct geo_diff_area *after)
{
    if (d->n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        struct geo_diff_change *v = realloc(d->v, c * sizeof *v);
        if (!v)
            return -1;
        d->v = v;
        *cap = c;
    }
    d->v[d->n++] = (struct geo_diff_change){kind, level, before, after};
    d->count[level][kind]++;
    return 0;
}

/* One level: ob/na index the level's areas in before/after; fb/fa their folded names. */
static int diff_level(struct geo_diff *d, size_t *cap, enum rp_level l,
                      const struct geo_diff_area *const *ob, char (*fb)[FOLD_MAX], size_t nb,
                      const struct geo_diff_area *const *oa, char (*fa)[FOLD_MAX], size_t na)
{
    size_t *match = malloc((nb ? nb : 1) * sizeof *match); /* after index + 1, 0 none */
    char *taken = calloc(na ? na : 1, 1);
    const char **mparent = malloc((nb ? nb : 1) * sizeof *mparent);
    int rc = 0;

    if (!match || !taken || !mparent) {
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < nb; i++) { /* the parent as the new version codes it */
        const char *p = parent_of(ob[i]),
                   *np = l > 0 && p[0] ? geo_diff_new_code(d, l - 1, p) : NULL;
        mparent[i] = np ? np : p;
        match[i] = 0;
    }
    for (size_t i = 0; i < nb; i++) { /* same name, same (mapped) parent */
        size_t found = 0, n = 0;
        for (size_t k = 0; k < na; k++) {
            if (taken[k] || strcmp(fb[i], fa[k]) || strcmp(mparent[i], parent_of(oa[k])))
                continue;
            if (!found || strcmp(oa[k]->code, ob[i]->code) == 0)
                found = k + 1;
            n++;
        }
        if (found && (n == 1 || strcmp(oa[found - 1]->code, ob[i]->code) == 0)) {
            match[i] = found;
            taken[found - 1] = 1;
        }
    }
    for (size_t i = 0; i < nb; i++) { /* renamed: same code, same parent, another name */
        for (size_t k = 0; !match[i] && k < na; k++)
            if (!taken[k] && strcmp(oa[k]->code, ob[i]->code) == 0 &&
                strcmp(mparent[i], parent_of(oa[k])) == 0) {
                match[i] = k + 1;
                taken[k] = 1;
            }
    }
    for (size_t i = 0; rc == 0 && i < nb; i++) {
        const struct geo_diff_area *after = match[i] ? oa[match[i] - 1] : NULL;
        enum geo_diff_kind kind = !after                                 ? GEO_DIFF_REMOVED
                                  : strcmp(after->code, ob[i]->code)     ? GEO_DIFF_RECODED
                                  : strcmp(fb[i], fa[match[i] - 1]) != 0 ? GEO_DIFF_RENAMED
                                                                         : GEO_DIFF_KEPT;
        rc = add(d, cap, kind, l, ob[i], after);
    }
    for (size_t k = 0; rc == 0 && k < na; k++)
        if (!taken[k])
            rc = add(d, cap, GEO_DIFF_ADDED, l, NULL, oa[k]);
out:
    free(match);
    free(taken);
    free(mparent);
    return rc;
}

int geo_diff_compute(const struct geo_diff_area *before, size_t nb,
                     const struct geo_diff_area *after, size_t na, struct geo_diff *out,
                     struct rp_err *err)
{
    const struct geo_diff_area **ob = malloc((nb ? nb : 1) * sizeof *ob);
    const struct geo_diff_area **oa = malloc((na ? na : 1) * sizeof *oa);
    char(*fb)[FOLD_MAX] = malloc((nb ? nb : 1) * sizeof *fb);
    char(*fa)[FOLD_MAX] = malloc((na ? na : 1) * sizeof *fa);
    size_t cap = 0;
    int rc = RP_OK;

    memset(out, 0, sizeof *out);
    if (!ob || !oa || !fb || !fa) {
        rc = rp_err_set(err, RP_NO_MEMORY, "area diff");
        goto out;
    }
    for (int l = 0; rc == RP_OK && l < RP_LEVEL_COUNT; l++) {
        size_t kb = 0, ka = 0;
        for (size_t i = 0; i < nb; i++)
            if (before[i].level == (enum rp_level)l) {
                fold(before[i].name, fb[kb]);
                ob[kb++] = &before[i];
            }
        for (size_t i = 0; i < na; i++)
            if (after[i].level == (enum rp_level)l) {
                fold(after[i].name, fa[ka]);
                oa[ka++] = &after[i];
            }
        if (diff_level(out, &cap, (enum rp_level)l, ob, fb, kb, oa, fa, ka))
            rc = rp_err_set(err, RP_NO_MEMORY, "area diff");
    }
out:
    free(ob);
    free(oa);
    free(fb);
    free(fa);
    if (rc != RP_OK)
        geo_diff_fini(out);
    return rc;
}

void geo_diff_fini(struct geo_diff *d)
{
    free(d->v);
    memset(d, 0, sizeof *d);
}
