/*
 * server/web.c - the browser app in memory (see web.h). Startup reads at most WEB_FILES_MAX
 * files of WEB_FILE_MAX bytes, names checked to [A-Za-z0-9._-/] with no dot-files, so no
 * request path ever reaches the disk: a lookup is a binary search over the names.
 */
#include "server/web.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define WEB_FILES_MAX 512
#define WEB_FILE_MAX  (8u << 20)
#define WEB_NAME_MAX  200

struct web {
    struct web_file *files; /* sorted by name */
    size_t n;
    char build[17];
    size_t bytes;
};

struct entry {
    char name[WEB_NAME_MAX];
    char path[1024];
};

struct list {
    struct entry *v;
    size_t n;
};

static const struct {
    const char *ext, *type;
    int text;
} types[] = {
    {".html", "text/html; charset=utf-8", 1},
    {".js", "text/javascript; charset=utf-8", 1},
    {".mjs", "text/javascript; charset=utf-8", 1},
    {".css", "text/css; charset=utf-8", 1},
    {".json", "application/json; charset=utf-8", 1},
    {".webmanifest", "application/manifest+json; charset=utf-8", 1},
    {".svg", "image/svg+xml", 1},
    {".txt", "text/plain; charset=utf-8", 1},
    {".png", "image/png", 0},
    {".ico", "image/x-icon", 0},
    {".woff2", "font/woff2", 0},
};

static int type_of(const char *name, const char **type)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && strcmp(name + n - e, types[i].ext) == 0) {
            *type = types[i].type;
            return types[i].text;
        }
    }
    *type = NULL;
    return 0;
}

/* Only names a URL can carry as they are, and never a dot-file or "..". */
static int name_ok(const char *name)
{
    if (!*name || strlen(name) >= WEB_NAME_MAX || name[0] == '/')
        return 0;
    for (const char *p = name; *p; p++) {
        if ((*p == '.' && (p == name || p[-1] == '/')) ||
            !(( *p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-' || *p == '/'))
            return 0;
        if (*p == '/' && p[1] == '/')
            return 0;
    }
    return 1;
}

static int list_add(struct list *l, const char *name, const char *path, struct rp_err *err)
{
    const char *type;

    if (l->n >= WEB_FILES_MAX)
        return rp_err_set(err, RP_INVALID_DATA, "web: more than %d files", WEB_FILES_MAX);
    if (!name_ok(name))
        return rp_err_set(err, RP_INVALID_DATA, "web: %s: not a name for a URL", name);
    type_of(name, &type);
    if (!type)
        return rp_err_set(err, RP_INVALID_DATA, "web: %s: no known type for its extension",
                          name);
    if (strlen(path) >= sizeof l->v[0].path)
        return rp_err_set(err, RP_INVALID_DATA, "web: %s: path too long", path);
    snprintf(l->v[l->n].name, WEB_NAME_MAX, "%s", name);
    snprintf(l->v[l->n].path, sizeof l->v[0].path, "%s", path);
    l->n++;
    return RP_OK;
}

/* Every regular file under dir/rel, skipping dot-files (editors' swap files, .DS_Store). */
static int walk(const char *root, const char *rel, struct list *l, int depth, struct rp_err *err)
{
    char path[1024];
    DIR *d;
    struct dirent *de;
    int rc = RP_OK;

    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    if (depth > 8 || !(d = opendir(path)))
        return depth ? rp_err_set(err, RP_IO, "web: %s: %s", path, strerror(errno))
                     : rp_err_set(err, RP_NOT_FOUND, "web: %s: %s", path, strerror(errno));
    while (rc == RP_OK && (de = readdir(d)) != NULL) {
        char sub[WEB_NAME_MAX + 2], full[1280];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
            (int)sizeof sub) {
            rc = rp_err_set(err, RP_INVALID_DATA, "web: %s/%s: name too long", rel, de->d_name);
            break;
        }
        snprintf(full, sizeof full, "%s/%s", root, sub);
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = walk(root, sub, l, depth + 1, err);
        else if (S_ISREG(st.st_mode))
            rc = list_add(l, sub, full, err);
    }
    closedir(d);
    return rc;
}

/* web/vendor.map: "SERVED-NAME  PATH-UNDER-web/" per line, # comments. */
static int read_vendor(const char *dir, struct list *l, struct rp_err *err)
{
    char path[1024], line[1400];
    FILE *f;
    int rc = RP_OK, lineno = 0;

    snprintf(path, sizeof path, "%s/vendor.map", dir);
    if (!(f = fopen(path, "r")))
        return errno == ENOENT ? RP_OK : rp_err_set(err, RP_IO, "web: %s: %s", path, strerror(errno));
    while (rc == RP_OK && fgets(line, sizeof line, f)) {
        char name[WEB_NAME_MAX + 1], src[1024], full[1100];
        struct stat st;
        lineno++;
        if (line[0] == '#' || sscanf(line, "%200s %1023s", name, src) != 2)
            continue;
        if (strstr(src, "..")) {
            rc = rp_err_set(err, RP_INVALID_DATA, "web: vendor.map:%d: '..' in %s", lineno, src);
            break;
        }
        snprintf(full, sizeof full, "%s/%s", dir, src);
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
            rc = rp_err_set(err, RP_NOT_FOUND,
                            "web: %s is missing (vendor.map line %d): run scripts/setup, which "
                            "installs the web libraries with npm ci",
                            full, lineno);
            break;
        }
        rc = list_add(l, name, full, err);
    }
    fclose(f);
    return rc;
}

static int read_file(const char *path, char **body, size_t *len, struct rp_err *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *b;

    if (!f)
        return rp_err_set(err, RP_IO, "web: %s: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || (size_t)st.st_size > WEB_FILE_MAX) {
        fclose(f);
        return rp_err_set(err, RP_TOO_LARGE, "web: %s: over %u bytes", path, WEB_FILE_MAX);
    }
    b = malloc((size_t)st.st_size + 1);
    if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(b);
        fclose(f);
        return rp_err_set(err, b ? RP_IO : RP_NO_MEMORY, "web: reading %s", path);
    }
    b[st.st_size] = '\0';
    fclose(f);
    *body = b;
    *len = (size_t)st.st_size;
    return RP_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct web_file *)a)->name, ((const struct web_file *)b)->name);
}

static void sha256_hex(const void *data, size_t len, char *hex, size_t digits)
{
    unsigned char md[32];
    unsigned mdlen = 0;

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (size_t i = 0; i < digits / 2 && i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    hex[digits] = '\0';
}

static int gzip(struct web_file *f)
{
    z_stream z = {0};
    uLong cap = compressBound((uLong)f->len) + 64;

    f->gz = malloc(cap);
    if (!f->gz || deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return RP_NO_MEMORY;
    z.next_in = (unsigned char *)f->body;
    z.avail_in = (uInt)f->len;
    z.next_out = (unsigned char *)f->gz;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        return RP_INTERNAL;
    }
    f->gz_len = z.total_out;
    deflateEnd(&z);
    if (f->gz_len + 64 >= f->len) { /* not worth a Content-Encoding */
        free(f->gz);
        f->gz = NULL;
        f->gz_len = 0;
    }
    return RP_OK;
}

/* body with every {{key}} of keys[] replaced by vals[]; NULL out of memory. */
static char *fill(const char *body, size_t len, const char *const *keys, const char *const *vals,
                  int nkeys, size_t *out_len)
{
    size_t cap = len + 1, n = 0;
    char *out;

    for (int k = 0; k < nkeys; k++)
        for (const char *p = body; (p = strstr(p, keys[k])) != NULL; p += strlen(keys[k]))
            cap += strlen(vals[k]);
    if (!(out = malloc(cap)))
        return NULL;
    for (size_t i = 0; i < len;) {
        int hit = -1;
        if (body[i] == '{' && i + 1 < len && body[i + 1] == '{')
            for (int k = 0; k < nkeys && hit < 0; k++)
                if (strncmp(body + i, keys[k], strlen(keys[k])) == 0)
                    hit = k;
        if (hit >= 0) {
            memcpy(out + n, vals[hit], strlen(vals[hit]));
            n += strlen(vals[hit]);
            i += strlen(keys[hit]);
        } else {
            out[n++] = body[i++];
        }
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

/* scheme://host of an XYZ template, "{s}." subdomains as a wildcard: for img-src. */
static void origin_of(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://"), *end;

    out[0] = '\0';
    if (!p || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return;
    end = strchr(p + 3, '/');
    snprintf(out, n, "%.*s", (int)((end ? end : url + strlen(url)) - url), url);
    if ((p = strstr(out, "{s}")) != NULL) {
        out[p - out] = '*';
        memmove(out + (p - out) + 1, p + 3, strlen(p + 3) + 1);
    }
}

/* The page's Content-Security-Policy: its own scripts only, plus the SHA-256 of each inline
 * <script type="importmap"> it holds (the one inline script a page may have). */
static char *page_csp(const struct web_file *f, const char *img_origin)
{
    char hashes[1024] = "", buf[2048];
    const char *open = "<script type=\"importmap\">";
    size_t hn = 0;

    for (const char *p = f->body; (p = strstr(p, open)) != NULL;) {
        const char *s = p + strlen(open), *e = strstr(s, "</script>");
        unsigned char md[32], b64[48];
        unsigned mdlen = 0;
        if (!e)
            break;
        EVP_Digest(s, (size_t)(e - s), md, &mdlen, EVP_sha256(), NULL);
        EVP_EncodeBlock(b64, md, 32);
        hn += (size_t)snprintf(hashes + hn, sizeof hashes - hn, " 'sha256-%s'", b64);
        if (hn >= sizeof hashes)
            return NULL;
        p = e;
    }
    snprintf(buf, sizeof buf,
             "default-src 'self'; script-src 'self'%s; style-src 'self'; img-src 'self' data: "
             "blob:%s%s; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
             "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
             hashes, *img_origin ? " " : "", img_origin);
    return strdup(buf);
}

static int is_page(const char *name)
{
    size_t n = strlen(name);
    return !strchr(name, '/') && n > 5 && strcmp(name + n - 5, ".html") == 0;
}

static int is_template(const char *name)
{
    return is_page(name) || strcmp(name, "sw.js") == 0 || strcmp(name, "manifest.webmanifest") == 0;
}

static int templates(struct web *w, const struct web_options *opt, struct rp_err *err)
{
    char prefix[40], origin[512] = "";
    char *config = NULL, *shell = NULL;
    json_t *cfg, *bm, *arr;
    int rc = RP_OK;

    snprintf(prefix, sizeof prefix, "/static/%s", w->build);
    if (opt && opt->basemap_url && *opt->basemap_url)
        origin_of(opt->basemap_url, origin, sizeof origin);
    bm = opt && opt->basemap_url && *opt->basemap_url
             ? json_pack("{s:s, s:s, s:b}", "url", opt->basemap_url, "attribution",
                         opt->basemap_attribution ? opt->basemap_attribution : "", "own", 0)
             : json_pack("{s:s, s:s, s:b}", "url", "/tiles/areas/{z}/{x}/{y}.png", "attribution",
                         "", "own", 1);
    cfg = json_pack("{s:s, s:s, s:o}", "build", w->build, "static", prefix, "basemap", bm);
    arr = json_array();
    for (size_t i = 0; arr && i < w->n; i++)
        if (!is_template(w->files[i].name) && !strstr(w->files[i].name, ".txt")) {
            char u[WEB_NAME_MAX + 48];
            snprintf(u, sizeof u, "%s/%s", prefix, w->files[i].name);
            json_array_append_new(arr, json_string(u));
        }
    if (cfg)
        config = json_dumps(cfg, JSON_COMPACT | JSON_ESCAPE_SLASH);
    if (arr)
        shell = json_dumps(arr, JSON_COMPACT | JSON_ESCAPE_SLASH);
    json_decref(cfg);
    json_decref(arr);
    if (!config || !shell) {
        free(config);
        free(shell);
        return rp_err_set(err, RP_NO_MEMORY, "web: configuration");
    }
    for (size_t i = 0; rc == RP_OK && i < w->n; i++) {
        struct web_file *f = &w->files[i];
        const char *keys[] = {"{{static}}", "{{build}}", "{{config}}", "{{shell}}"};
        const char *vals[] = {prefix, w->build, config, shell};
        size_t len;
        char *b;
        if (!is_template(f->name))
            continue;
        if (memchr(f->body, '\0', f->len)) {
            rc = rp_err_set(err, RP_INVALID_DATA, "web: %s: a NUL byte in a template", f->name);
            break;
        }
        if (!(b = fill(f->body, f->len, keys, vals, 4, &len))) {
            rc = rp_err_set(err, RP_NO_MEMORY, "web: %s", f->name);
            break;
        }
        free(f->body);
        f->body = b;
        f->len = len;
        if (is_page(f->name) && !(f->csp = page_csp(f, origin)))
            rc = rp_err_set(err, RP_NO_MEMORY, "web: %s: policy", f->name);
    }
    free(config);
    free(shell);
    return rc;
}

int web_load(const char *dir, const struct web_options *opt, struct web **out, struct rp_err *err)
{
    char app[1024];
    struct list l = {0};
    struct web *w = NULL;
    EVP_MD_CTX *md = NULL;
    int rc;

    *out = NULL;
    snprintf(app, sizeof app, "%s/app", dir);
    if (!(l.v = calloc(WEB_FILES_MAX, sizeof *l.v)))
        return rp_err_set(err, RP_NO_MEMORY, "web: file list");
    rc = walk(app, "", &l, 0, err);
    if (rc == RP_OK)
        rc = read_vendor(dir, &l, err);
    if (rc == RP_OK && (!(w = calloc(1, sizeof *w)) || !(w->files = calloc(l.n + 1, sizeof *w->files))))
        rc = rp_err_set(err, RP_NO_MEMORY, "web: files");
    for (size_t i = 0; rc == RP_OK && i < l.n; i++) {
        struct web_file *f = &w->files[i];
        type_of(l.v[i].name, &f->type);
        if (!(f->name = strdup(l.v[i].name)))
            rc = rp_err_set(err, RP_NO_MEMORY, "web: names");
        else
            rc = read_file(l.v[i].path, &f->body, &f->len, err);
        w->n = i + 1;
    }
    free(l.v);
    if (rc == RP_OK) {
        qsort(w->files, w->n, sizeof *w->files, by_name);
        for (size_t i = 1; i < w->n && rc == RP_OK; i++)
            if (strcmp(w->files[i - 1].name, w->files[i].name) == 0)
                rc = rp_err_set(err, RP_INVALID_DATA, "web: %s twice (app/ and vendor.map)",
                                w->files[i].name);
    }
    /* the build: every name and body, before the templates are filled in */
    if (rc == RP_OK && (md = EVP_MD_CTX_new()) != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        unsigned char h[32];
        unsigned hl = 0;
        for (size_t i = 0; i < w->n; i++) {
            EVP_DigestUpdate(md, w->files[i].name, strlen(w->files[i].name) + 1);
            EVP_DigestUpdate(md, w->files[i].body, w->files[i].len);
        }
        /* and the configuration the pages carry: a new base map is a new build */
        for (int k = 0; opt && k < 2; k++) {
            const char *v = k ? opt->basemap_attribution : opt->basemap_url;
            EVP_DigestUpdate(md, v ? v : "", v ? strlen(v) + 1 : 1);
        }
        EVP_DigestFinal_ex(md, h, &hl);
        for (int i = 0; i < 8; i++)
            sprintf(w->build + 2 * i, "%02x", h[i]);
    } else if (rc == RP_OK) {
        rc = rp_err_set(err, RP_NO_MEMORY, "web: digest");
    }
    EVP_MD_CTX_free(md);
    if (rc == RP_OK)
        rc = templates(w, opt, err);
    for (size_t i = 0; rc == RP_OK && i < w->n; i++) {
        struct web_file *f = &w->files[i];
        const char *t;
        char hex[17];
        sha256_hex(f->body, f->len, hex, 16);
        snprintf(f->etag, sizeof f->etag, "\"%s\"", hex);
        snprintf(f->etag_gz, sizeof f->etag_gz, "\"%s-gz\"", hex);
        w->bytes += f->len;
        if (type_of(f->name, &t) && gzip(f) != RP_OK)
            rc = rp_err_set(err, RP_NO_MEMORY, "web: compressing %s", f->name);
    }
    if (rc != RP_OK) {
        web_destroy(w);
        return rc;
    }
    *out = w;
    return RP_OK;
}

void web_destroy(struct web *w)
{
    if (!w)
        return;
    for (size_t i = 0; w->files && i < w->n; i++) {
        free(w->files[i].name);
        free(w->files[i].body);
        free(w->files[i].gz);
        free(w->files[i].csp);
    }
    free(w->files);
    free(w);
}

const struct web_file *web_find(const struct web *w, const char *name)
{
    struct web_file key = {.name = (char *)name};

    if (!w || !name)
        return NULL;
    return bsearch(&key, w->files, w->n, sizeof *w->files, by_name);
}

const char *web_build(const struct web *w)
{
    return w ? w->build : "";
}

size_t web_count(const struct web *w)
{
    return w ? w->n : 0;
}

size_t web_bytes(const struct web *w)
{
    return w ? w->bytes : 0;
}
