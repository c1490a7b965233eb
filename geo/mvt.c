/*
 * geo/mvt.c - the MVT builder (see mvt.h). Geometry is a stream of commands: MoveTo (1),
 * LineTo (2) and ClosePath (7), each with its count in the upper bits, then zigzag-encoded
 * deltas from the previous point (the cursor carries across a feature's rings). A key or value
 * is looked up in a per-layer hash before it is added, so each is stored once: keys by their
 * text (with a small cache by address, since callers pass the same literals), values by kind
 * and value, straight into the protobuf Value array. Every feature's tags and geometry sit end
 * to end in two arrays per layer, so a point costs no allocation of its own. The protobuf
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
    size_t tag_at, ntags, geom_at, ngeom; /* in the layer's tags and geom */
};

/* Strings to indices: open addressing, the index + 1 in slots. */
struct dict {
    char **s;
    size_t n, cap;
    uint32_t *slots;
    size_t mask;
};

#define KEY_CACHE  16
#define ARENA_CHUNK 8192

/* The builder's string values, bump-allocated in chunks freed together. */
struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
};

struct layer {
    char *name;
    struct dict keys;
    const char *kptr[KEY_CACHE]; /* keys seen, by address */
    uint32_t kidx[KEY_CACHE];
    int nkc;
    VectorTile__Tile__Value *values; /* each distinct value once */
    uint64_t *vhash;
    size_t nvalues, cap_values;
    uint32_t *vslots; /* open addressing over values: index + 1 */
    size_t vmask;
    struct feature *f;
    size_t nf, cap_f;
    struct u32v tags, geom; /* every feature's, end to end */
};

struct geo_mvt {
    struct layer *l;
    size_t nl, cap_l;
    struct chunk *strings;
    /* the polygon being built */
    int open_layer, keep_holes;
    uint64_t poly_id;
    struct u32v poly;
    int32_t cx, cy;
    int32_t *ring;
    size_t ring_cap;
};

static int push(struct u32v *a, uint32_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024; /* a tile's worth of points at once */
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

void geo_mvt_destroy(struct geo_mvt *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nl; i++) {
        struct layer *l = &m->l[i];
        free(l->name);
        dict_fini(&l->keys);
        free(l->values);
        free(l->vhash);
        free(l->vslots);
        free(l->f);
        free(l->tags.v);
        free(l->geom.v);
    }
    free(m->l);
    while (m->strings) {
        struct chunk *c = m->strings;
        m->strings = c->next;
        free(c);
    }
    free(m->poly.v);
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

static char *arena_strdup(struct geo_mvt *m, const char *s)
{
    size_t n = strlen(s) + 1;
    struct chunk *c = m->strings;
    char *p;

    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = m->strings;
        c->used = 0;
        c->cap = cap;
        m->strings = c;
    }
    p = c->data + c->used;
    memcpy(p, s, n);
    c->used += n;
    return p;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static uint64_t value_hash(const struct geo_mvt_attr *a)
{
    uint64_t bits;

    switch (a->kind) {
    case GEO_MVT_STRING:
        return mix64(str_hash(a->s ? a->s : "")) ^ 1;
    case GEO_MVT_DOUBLE:
        memcpy(&bits, &a->d, sizeof bits);
        return mix64(bits) ^ 3;
    case GEO_MVT_BOOL:
        return mix64((uint64_t)(a->i != 0)) ^ 4;
    default:
        return mix64((uint64_t)a->i) ^ 2;
    }
}

static int value_eq(const VectorTile__Tile__Value *v, const struct geo_mvt_attr *a)
{
    switch (a->kind) {
    case GEO_MVT_STRING:
        return v->string_value && strcmp(v->string_value, a->s ? a->s : "") == 0;
    case GEO_MVT_DOUBLE: /* bit for bit: -0.0 and 0.0 stay two values */
        return v->has_double_value && memcmp(&v->double_value, &a->d, sizeof a->d) == 0;
    case GEO_MVT_BOOL:
        return v->has_bool_value && v->bool_value == (a->i != 0);
    default:
        return v->has_sint_value && v->sint_value == a->i;
    }
}

/* The index of a's value in l->values, added when new; -1 on out of memory or a bad kind. */
static long value_index(struct geo_mvt *m, struct layer *l, const struct geo_mvt_attr *a)
{
    uint64_t h;
    size_t k;
    VectorTile__Tile__Value *v;

    if (a->kind < GEO_MVT_STRING || a->kind > GEO_MVT_BOOL)
        return -1;
    h = value_hash(a);
    if ((l->nvalues + 1) * 2 > l->vmask + 1) {
        size_t size = l->vmask ? (l->vmask + 1) * 2 : 256;
        uint32_t *slots = calloc(size, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < l->nvalues; i++) {
            for (k = l->vhash[i] & (size - 1); slots[k]; k = (k + 1) & (size - 1))
                ;
            slots[k] = (uint32_t)i + 1;
        }
        free(l->vslots);
        l->vslots = slots;
        l->vmask = size - 1;
    }
    for (k = h & l->vmask; l->vslots[k]; k = (k + 1) & l->vmask) {
        uint32_t i = l->vslots[k] - 1;
        if (l->vhash[i] == h && value_eq(&l->values[i], a))
            return (long)i;
    }
    if (l->nvalues == l->cap_values) {
        size_t cap = l->cap_values ? l->cap_values * 2 : 64;
        VectorTile__Tile__Value *nv = realloc(l->values, cap * sizeof *nv);
        uint64_t *nh;
        if (!nv)
            return -1;
        l->values = nv;
        nh = realloc(l->vhash, cap * sizeof *nh);
        if (!nh)
            return -1;
        l->vhash = nh;
        l->cap_values = cap;
    }
    v = &l->values[l->nvalues];
    vector_tile__tile__value__init(v);
    if (a->kind == GEO_MVT_STRING) {
        v->string_value = arena_strdup(m, a->s ? a->s : "");
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
    l->vhash[l->nvalues] = h;
    l->vslots[k] = (uint32_t)l->nvalues + 1;
    return (long)l->nvalues++;
}

static long key_index(struct layer *l, const char *key)
{
    int added;
    long k;

    for (int i = 0; i < l->nkc; i++)
        if (l->kptr[i] == key)
            return l->kidx[i];
    k = dict_index(&l->keys, key, &added);
    if (k >= 0 && l->nkc < KEY_CACHE) {
        l->kptr[l->nkc] = key;
        l->kidx[l->nkc++] = (uint32_t)k;
    }
    return k;
}

/* The attributes as key and value indices, appended to the layer's tags for feature f. */
static int tags_of(struct geo_mvt *m, struct layer *l, struct feature *f,
                   const struct geo_mvt_attr *attrs, size_t nattrs)
{
    f->tag_at = l->tags.n;
    for (size_t i = 0; i < nattrs; i++) {
        long ki = key_index(l, attrs[i].key), vi = value_index(m, l, &attrs[i]);
        if (ki < 0 || vi < 0 || push(&l->tags, (uint32_t)ki) || push(&l->tags, (uint32_t)vi))
            return -1;
    }
    f->ntags = l->tags.n - f->tag_at;
    return 0;
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

    if (layer < 0 || (size_t)layer >= m->nl)
        return -1;
    l = &m->l[layer];
    f = feature_add(l);
    if (!f)
        return -1;
    f->id = id;
    f->type = VECTOR_TILE__TILE__GEOM_TYPE__POINT;
    f->geom_at = l->geom.n;
    if (push(&l->geom, command(CMD_MOVE_TO, 1)) || push(&l->geom, zigzag(x)) ||
        push(&l->geom, zigzag(y)))
        return -1;
    f->ngeom = 3;
    return tags_of(m, l, f, attrs, nattrs);
}

int geo_mvt_polygon_begin(struct geo_mvt *m, int layer, uint64_t id)
{
    if (layer < 0 || (size_t)layer >= m->nl || m->open_layer >= 0)
        return -1;
    m->poly.n = 0;
    m->poly_id = id;
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
    fail |= push(&m->poly, command(CMD_MOVE_TO, 1));
    fail |= push(&m->poly, zigzag(m->ring[0] - m->cx)) |
            push(&m->poly, zigzag(m->ring[1] - m->cy));
    fail |= push(&m->poly, command(CMD_LINE_TO, (uint32_t)(k - 1)));
    for (size_t i = 1; i < k; i++) {
        fail |= push(&m->poly, zigzag(m->ring[2 * i] - m->ring[2 * i - 2])) |
                push(&m->poly, zigzag(m->ring[2 * i + 1] - m->ring[2 * i - 1]));
    }
    fail |= push(&m->poly, command(CMD_CLOSE_PATH, 1));
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

    if (m->open_layer < 0)
        return -1;
    l = &m->l[m->open_layer];
    m->open_layer = -1;
    if (m->poly.n == 0) /* every ring collapsed */
        return 0;
    f = feature_add(l);
    if (!f)
        return -1;
    f->id = m->poly_id;
    f->type = VECTOR_TILE__TILE__GEOM_TYPE__POLYGON;
    f->geom_at = l->geom.n;
    for (size_t i = 0; i < m->poly.n; i++)
        if (push(&l->geom, m->poly.v[i]))
            return -1;
    f->ngeom = m->poly.n;
    m->poly.n = 0;
    return tags_of(m, l, f, attrs, nattrs);
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
            F->n_tags = l->f[k].ntags;
            F->tags = l->tags.v + l->f[k].tag_at;
            F->n_geometry = l->f[k].ngeom;
            F->geometry = l->geom.v + l->f[k].geom_at;
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
