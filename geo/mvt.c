/*
 * geo/mvt.c - the MVT builder (see mvt.h). Geometry is a stream of commands: MoveTo (1),
 * LineTo (2) and ClosePath (7), each with its count in the upper bits, then zigzag-encoded
 * deltas from the previous point (the cursor carries across a feature's rings). A key or value
 * is looked up in a per-layer hash before it is added, so each is stored once. The protobuf
 * messages are assembled only in geo_mvt_encode, pointing at the builder's arrays.
 */
#include "geo/mvt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vector_tile.pb-c.h"

#define CMD_MOVE_TO    1
#define CMD_LINE_TO    2
#define CMD_CLOSE_PATH 7
#define MVT_VERSION    2

struct u32v {
    uint32_t *v;
    size_t n, cap;
};

struct feature {
    uint64_t id;
    int type;
    struct u32v tags, geom;
};

/* Strings to indices: open addressing, the index + 1 in slots. */
struct dict {
    char **s;
    size_t n, cap;
    uint32_t *slots;
    size_t mask;
};

struct layer {
    char *name;
    struct dict keys, vals; /* vals: a typed spelling of each value, "s..", "i..", "d..", "b.." */
    VectorTile__Tile__Value *values;
    size_t nvalues, cap_values;
    struct feature *f;
    size_t nf, cap_f;
};

struct geo_mvt {
    struct layer *l;
    size_t nl, cap_l;
    /* the polygon being built */
    int open_layer, keep_holes;
    struct feature cur;
    int32_t cx, cy;
    int32_t *ring;
    size_t ring_cap;
};

static int push(struct u32v *a, uint32_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        uint32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

static uint32_t zigzag(int32_t v) { return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31); }

static uint32_t command(int id, uint32_t count) { return (count << 3) | (uint32_t)id; }

static size_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32));
}

/* The index of s in d, added when new; -1 on out of memory. */
static long dict_index(struct dict *d, const char *s, int *added)
{
    size_t k;

    *added = 0;
    if ((d->n + 1) * 2 > d->mask + 1) {
        size_t size = d->mask ? (d->mask + 1) * 2 : 64;
        uint32_t *slots = calloc(size, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < d->n; i++) {
            for (k = str_hash(d->s[i]) & (size - 1); slots[k]; k = (k + 1) & (size - 1))
                ;
            slots[k] = (uint32_t)i + 1;
        }
        free(d->slots);
        d->slots = slots;
        d->mask = size - 1;
    }
    for (k = str_hash(s) & d->mask; d->slots[k]; k = (k + 1) & d->mask)
        if (strcmp(d->s[d->slots[k] - 1], s) == 0)
            return (long)d->slots[k] - 1;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        char **v = realloc(d->s, cap * sizeof *v);
        if (!v)
            return -1;
        d->s = v;
        d->cap = cap;
    }
    d->s[d->n] = strdup(s);
    if (!d->s[d->n])
        return -1;
    d->slots[k] = (uint32_t)d->n + 1;
    *added = 1;
    return (long)d->n++;
}

static void dict_fini(struct dict *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->s[i]);
    free(d->s);
    free(d->slots);
}

struct geo_mvt *geo_mvt_create(void)
{
    struct geo_mvt *m = calloc(1, sizeof *m);
    if (m)
        m->open_layer = -1;
    return m;
}

static void feature_fini(struct feature *f)
{
    free(f->tags.v);
    free(f->geom.v);
}

void geo_mvt_destroy(struct geo_mvt *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nl; i++) {
        struct layer *l = &m->l[i];
        free(l->name);
        dict_fini(&l->keys);
        dict_fini(&l->vals);
        for (size_t k = 0; k < l->nvalues; k++)
            free(l->values[k].string_value);
        free(l->values);
        for (size_t k = 0; k < l->nf; k++)
            feature_fini(&l->f[k]);
        free(l->f);
    }
    free(m->l);
    feature_fini(&m->cur);
    free(m->ring);
    free(m);
}

int geo_mvt_layer(struct geo_mvt *m, const char *name)
{
    if (m->nl == m->cap_l) {
        size_t cap = m->cap_l ? m->cap_l * 2 : 4;
        struct layer *v = realloc(m->l, cap * sizeof *v);
        if (!v)
            return -1;
        m->l = v;
        m->cap_l = cap;
    }
    memset(&m->l[m->nl], 0, sizeof m->l[m->nl]);
    m->l[m->nl].name = strdup(name);
    if (!m->l[m->nl].name)
        return -1;
    return (int)m->nl++;
}

/* One attribute as a key index and a value index, appended to tags. */
static int tag(struct layer *l, struct u32v *tags, const struct geo_mvt_attr *a)
{
    char spelled[512];
    long ki, vi;
    int added;

    ki = dict_index(&l->keys, a->key, &added);
    switch (a->kind) {
    case GEO_MVT_STRING:
        snprintf(spelled, sizeof spelled, "s%s", a->s ? a->s : "");
        break;
    case GEO_MVT_INT:
        snprintf(spelled, sizeof spelled, "i%lld", (long long)a->i);
        break;
    case GEO_MVT_DOUBLE:
        snprintf(spelled, sizeof spelled, "d%.17g", a->d);
        break;
    case GEO_MVT_BOOL:
        snprintf(spelled, sizeof spelled, "b%d", a->i != 0);
        break;
    default:
        return -1;
    }
    vi = dict_index(&l->vals, spelled, &added);
    if (ki < 0 || vi < 0)
        return -1;
    if (added) {
        VectorTile__Tile__Value *v;
        if (l->nvalues == l->cap_values) {
            size_t cap = l->cap_values ? l->cap_values * 2 : 16;
            VectorTile__Tile__Value *nv = realloc(l->values, cap * sizeof *nv);
            if (!nv)
                return -1;
            l->values = nv;
            l->cap_values = cap;
        }
        v = &l->values[l->nvalues++];
        vector_tile__tile__value__init(v);
        if (a->kind == GEO_MVT_STRING) {
            v->string_value = strdup(a->s ? a->s : "");
            if (!v->string_value)
                return -1;
        } else if (a->kind == GEO_MVT_INT) {
            v->has_sint_value = 1;
            v->sint_value = a->i;
        } else if (a->kind == GEO_MVT_DOUBLE) {
            v->has_double_value = 1;
            v->double_value = a->d;
        } else {
            v->has_bool_value = 1;
            v->bool_value = a->i != 0;
        }
    }
    return push(tags, (uint32_t)ki) | push(tags, (uint32_t)vi);
}

static struct feature *feature_add(struct layer *l)
{
    if (l->nf == l->cap_f) {
        size_t cap = l->cap_f ? l->cap_f * 2 : 64;
        struct feature *v = realloc(l->f, cap * sizeof *v);
        if (!v)
            return NULL;
        l->f = v;
        l->cap_f = cap;
    }
    memset(&l->f[l->nf], 0, sizeof l->f[l->nf]);
    return &l->f[l->nf++];
}

int geo_mvt_point(struct geo_mvt *m, int layer, uint64_t id, int32_t x, int32_t y,
                  const struct geo_mvt_attr *attrs, size_t nattrs)
{
    struct layer *l;
    struct feature *f;
    int fail = 0;

    if (layer < 0 || (size_t)layer >= m->nl)
        return -1;
    l = &m->l[layer];
    f = feature_add(l);
    if (!f)
        return -1;
    f->id = id;
    f->type = VECTOR_TILE__TILE__GEOM_TYPE__POINT;
    fail |= push(&f->geom, command(CMD_MOVE_TO, 1)) | push(&f->geom, zigzag(x)) |
            push(&f->geom, zigzag(y));
    for (size_t i = 0; i < nattrs && !fail; i++)
        fail |= tag(l, &f->tags, &attrs[i]);
    return fail ? -1 : 0;
}

int geo_mvt_polygon_begin(struct geo_mvt *m, int layer, uint64_t id)
{
    if (layer < 0 || (size_t)layer >= m->nl || m->open_layer >= 0)
        return -1;
    feature_fini(&m->cur);
    memset(&m->cur, 0, sizeof m->cur);
    m->cur.id = id;
    m->cur.type = VECTOR_TILE__TILE__GEOM_TYPE__POLYGON;
    m->open_layer = layer;
    m->keep_holes = 0;
    m->cx = m->cy = 0;
    return 0;
}

int geo_mvt_ring(struct geo_mvt *m, const int32_t *xy, size_t n, int exterior)
{
    size_t k = 0;
    int64_t area2 = 0;
    int fail = 0;

    if (m->open_layer < 0)
        return -1;
    if (!exterior && !m->keep_holes)
        return 0;
    if (n * 2 > m->ring_cap) {
        int32_t *r = realloc(m->ring, n * 2 * sizeof *r);
        if (!r)
            return -1;
        m->ring = r;
        m->ring_cap = n * 2;
    }
    for (size_t i = 0; i < n; i++) /* without repeated points */
        if (k == 0 || xy[2 * i] != m->ring[2 * k - 2] || xy[2 * i + 1] != m->ring[2 * k - 1]) {
            m->ring[2 * k] = xy[2 * i];
            m->ring[2 * k + 1] = xy[2 * i + 1];
            k++;
        }
    if (k > 1 && m->ring[0] == m->ring[2 * k - 2] && m->ring[1] == m->ring[2 * k - 1])
        k--; /* ClosePath closes it */
    for (size_t i = 0; i < k; i++) {
        size_t j = (i + 1) % k;
        area2 += (int64_t)m->ring[2 * i] * m->ring[2 * j + 1] -
                 (int64_t)m->ring[2 * j] * m->ring[2 * i + 1];
    }
    if (k < 3 || area2 == 0) {
        if (exterior)
            m->keep_holes = 0;
        return 0;
    }
    if ((area2 > 0) != (exterior != 0)) /* exterior: positive area in tile coordinates */
        for (size_t a = 0, b = k - 1; a < b; a++, b--) {
            int32_t tx = m->ring[2 * a], ty = m->ring[2 * a + 1];
            m->ring[2 * a] = m->ring[2 * b], m->ring[2 * a + 1] = m->ring[2 * b + 1];
            m->ring[2 * b] = tx, m->ring[2 * b + 1] = ty;
        }
    fail |= push(&m->cur.geom, command(CMD_MOVE_TO, 1));
    fail |= push(&m->cur.geom, zigzag(m->ring[0] - m->cx)) |
            push(&m->cur.geom, zigzag(m->ring[1] - m->cy));
    fail |= push(&m->cur.geom, command(CMD_LINE_TO, (uint32_t)(k - 1)));
    for (size_t i = 1; i < k; i++) {
        fail |= push(&m->cur.geom, zigzag(m->ring[2 * i] - m->ring[2 * i - 2])) |
                push(&m->cur.geom, zigzag(m->ring[2 * i + 1] - m->ring[2 * i - 1]));
    }
    fail |= push(&m->cur.geom, command(CMD_CLOSE_PATH, 1));
    m->cx = m->ring[2 * k - 2];
    m->cy = m->ring[2 * k - 1];
    if (exterior)
        m->keep_holes = 1;
    return fail ? -1 : 0;
}

int geo_mvt_polygon_end(struct geo_mvt *m, const struct geo_mvt_attr *attrs, size_t nattrs)
{
    struct layer *l;
    struct feature *f;
    int fail = 0;

    if (m->open_layer < 0)
        return -1;
    l = &m->l[m->open_layer];
    m->open_layer = -1;
    if (m->cur.geom.n == 0) { /* every ring collapsed */
        feature_fini(&m->cur);
        memset(&m->cur, 0, sizeof m->cur);
        return 0;
    }
    f = feature_add(l);
    if (!f)
        return -1;
    *f = m->cur; /* the arrays move to the layer */
    memset(&m->cur, 0, sizeof m->cur);
    for (size_t i = 0; i < nattrs && !fail; i++)
        fail |= tag(l, &f->tags, &attrs[i]);
    return fail ? -1 : 0;
}

size_t geo_mvt_features(const struct geo_mvt *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nl; i++)
        n += m->l[i].nf;
    return n;
}

int geo_mvt_encode(struct geo_mvt *m, unsigned char **out, size_t *len, struct rp_err *err)
{
    VectorTile__Tile tile = VECTOR_TILE__TILE__INIT;
    VectorTile__Tile__Layer *layers = calloc(m->nl ? m->nl : 1, sizeof *layers);
    VectorTile__Tile__Layer **lp = calloc(m->nl ? m->nl : 1, sizeof *lp);
    VectorTile__Tile__Feature **fp = NULL, *feats = NULL;
    VectorTile__Tile__Value **vp = NULL;
    size_t nfeat = geo_mvt_features(m), nval = 0, fi = 0, vi = 0;
    int rc = RP_OK;

    *out = NULL;
    *len = 0;
    for (size_t i = 0; i < m->nl; i++)
        nval += m->l[i].nvalues;
    feats = calloc(nfeat ? nfeat : 1, sizeof *feats);
    fp = calloc(nfeat ? nfeat : 1, sizeof *fp);
    vp = calloc(nval ? nval : 1, sizeof *vp);
    if (!layers || !lp || !feats || !fp || !vp) {
        rc = rp_err_set(err, RP_NO_MEMORY, "vector tile");
        goto done;
    }
    for (size_t i = 0; i < m->nl; i++) {
        struct layer *l = &m->l[i];
        VectorTile__Tile__Layer *L;
        if (l->nf == 0)
            continue;
        L = &layers[tile.n_layers];
        vector_tile__tile__layer__init(L);
        L->version = MVT_VERSION;
        L->name = l->name;
        L->has_extent = 1;
        L->extent = GEO_MVT_EXTENT;
        L->n_keys = l->keys.n;
        L->keys = l->keys.s;
        L->n_values = l->nvalues;
        L->values = vp + vi;
        for (size_t k = 0; k < l->nvalues; k++)
            vp[vi++] = &l->values[k];
        L->n_features = l->nf;
        L->features = fp + fi;
        for (size_t k = 0; k < l->nf; k++) {
            VectorTile__Tile__Feature *F = &feats[fi];
            vector_tile__tile__feature__init(F);
            F->has_id = l->f[k].id != 0;
            F->id = l->f[k].id;
            F->has_type = 1;
            F->type = (VectorTile__Tile__GeomType)l->f[k].type;
            F->n_tags = l->f[k].tags.n;
            F->tags = l->f[k].tags.v;
            F->n_geometry = l->f[k].geom.n;
            F->geometry = l->f[k].geom.v;
            fp[fi++] = F;
        }
        lp[tile.n_layers++] = L;
    }
    tile.layers = lp;
    if (tile.n_layers) {
        size_t n = vector_tile__tile__get_packed_size(&tile);
        *out = malloc(n ? n : 1);
        if (!*out)
            rc = rp_err_set(err, RP_NO_MEMORY, "vector tile bytes");
        else
            *len = vector_tile__tile__pack(&tile, *out);
    }
done:
    free(layers);
    free(lp);
    free(feats);
    free(fp);
    free(vp);
    return rc;
}
