/*
 * data/store_pg.c - the PostgreSQL + PostGIS backend of the statement API (store_int.h), on
 * libpq. A store opened on a postgresql:// (or postgres://) URI holds one libpq connection,
 * used by one thread at a time like a SQLite connection. Each statement of store_sql_pg[] is
 * prepared on the server the first time this connection uses it; parameters go as text
 * (numbers printed here, blobs in binary), rows come back as text one at a time (libpq's
 * single-row mode), so a scan of a million cases takes the memory of one row. A statement
 * whose first result column is named reporta_last_id (an INSERT ... RETURNING) reports its
 * value as the last id and is done. Failures are classified by SQLSTATE.
 */
#include "data/store_int.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#define PG_PARAMS_MAX 32
#define PG_COLS_MAX   64

struct store_pgq;

struct store_pgc {
    PGconn *conn;
    struct store_pgq *active; /* the statement whose rows are still coming, if any */
    char prepared[SQL__COUNT];
    char errmsg[512];
    int errclass; /* the STORE_E_ class of the failure errmsg tells */
    int64_t changes, total_changes, last_id;
};

struct store_pgq {
    struct store *s;
    int id;          /* enum store_sql, or -1: a one-use statement (sql below) */
    char *sql;       /* one-use only */
    int nparams;     /* highest parameter bound */
    int nsql;        /* the highest $n of the text: unbound ones are sent as NULL, as SQLite */
    const char *vals[PG_PARAMS_MAX];
    int lens[PG_PARAMS_MAX], fmts[PG_PARAMS_MAX];
    char num[PG_PARAMS_MAX][32];   /* numbers as text */
    char *copy[PG_PARAMS_MAX];     /* text bound with store_bind_text_copy */
    PGresult *row;                 /* the current row (PGRES_SINGLE_TUPLE) */
    unsigned char *blob[PG_COLS_MAX]; /* bytea columns of the current row, decoded */
    size_t blob_len[PG_COLS_MAX];
    int busy, done;
    /* rows read ahead because another statement needed the connection meanwhile (a caller
     * reading one statement's rows and running others for each, as SQLite allows) */
    PGresult **ahead;
    size_t nahead, iahead, capahead;
    int spilled, spill_rc;
};

int store_is_uri(const char *path)
{
    return path && (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

static void set_errmsg(struct store *s, const char *msg)
{
    size_t n;

    snprintf(s->pg->errmsg, sizeof s->pg->errmsg, "%s", msg ? msg : "?");
    s->pg->errclass = STORE_E_OTHER; /* fail_class says better when it has a SQLSTATE */
    n = strlen(s->pg->errmsg);
    while (n && (s->pg->errmsg[n - 1] == '\n' || s->pg->errmsg[n - 1] == ' '))
        s->pg->errmsg[--n] = '\0';
}

void store_uri_redact(const char *uri, char *out, size_t n)
{
    const char *scheme = strstr(uri, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    const char *query = strchr(uri, '?');

    if (!store_is_uri(uri))
        snprintf(out, n, "%s", uri);
    else if (at && colon && colon < at) /* user:password@host */
        snprintf(out, n, "%.*s:***%s", (int)(colon - uri), uri, at);
    else if (strstr(uri, "password=")) /* ...?password=... */
        snprintf(out, n, "%.*s?***", (int)(query ? query - uri : (long)strlen(uri)), uri);
    else
        snprintf(out, n, "%s", uri);
}

static void free_connection(struct store *s);
static int fail_class(struct store *s, PGresult *r);

static int exec_simple(struct store *s, const char *sql, const char *what, struct rp_err *err)
{
    PGresult *r;

    if (s->pg->active)
        free_connection(s);
    r = PQexec(s->pg->conn, sql);
    ExecStatusType st = PQresultStatus(r);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return RP_OK;
    }
    (void)fail_class(s, r); /* kept for store_sql_error: a COMMIT may meet a full disk */
    PQclear(r);
    return store_sql_error(s, what, err);
}

int store_pg_open(struct store *s, const char *uri, struct rp_err *err)
{
    char shown[512];
    PGresult *r;

    store_uri_redact(uri, shown, sizeof shown);
    if (!(s->pg = calloc(1, sizeof *s->pg)))
        return rp_err_set(err, RP_NO_MEMORY, "store");
    s->pg->conn = PQconnectdb(uri);
    if (!s->pg->conn || PQstatus(s->pg->conn) != CONNECTION_OK) {
        set_errmsg(s, s->pg->conn ? PQerrorMessage(s->pg->conn) : "out of memory");
        return rp_err_set(err, RP_STORAGE, "PostgreSQL %s unreachable: %s", shown, s->pg->errmsg);
    }
    /* UTC text times and durable commits whatever the server's defaults say */
    if (exec_simple(s, "SET TIME ZONE 'UTC'; SET synchronous_commit = on; "
                       "SET client_min_messages = warning",
                    "session settings", err) != RP_OK)
        return RP_STORAGE;
    r = PQexec(s->pg->conn, "SELECT extversion FROM pg_extension WHERE extname = 'postgis'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        /* its owner may add it; a database without the right stays refused, clearly */
        if (exec_simple(s, "CREATE EXTENSION IF NOT EXISTS postgis", "postgis", err) != RP_OK)
            return rp_err_set(err, RP_STORAGE,
                              "PostgreSQL %s has no PostGIS and it could not be added (%s): "
                              "install postgresql-15-postgis-3 and run CREATE EXTENSION postgis "
                              "in the database as its owner",
                              shown, s->pg->errmsg);
    } else {
        PQclear(r);
    }
    return RP_OK;
}

void store_pg_close(struct store *s)
{
    if (!s->pg)
        return;
    if (s->pg->conn)
        PQfinish(s->pg->conn);
    free(s->pg);
    s->pg = NULL;
}

static void clear_row(struct store_pgq *p)
{
    if (p->row)
        PQclear(p->row);
    p->row = NULL;
    for (int c = 0; c < PG_COLS_MAX; c++)
        if (p->blob[c]) {
            PQfreemem(p->blob[c]);
            p->blob[c] = NULL;
        }
}

static void clear_params(struct store_pgq *p)
{
    for (int i = 0; i < PG_PARAMS_MAX; i++) {
        free(p->copy[i]);
        p->copy[i] = NULL;
        p->vals[i] = NULL;
        p->lens[i] = 0;
        p->fmts[i] = 0;
    }
    p->nparams = 0;
}

struct store_q *store_pg_prepare(struct store *s, int id, const char *sql, struct rp_err *err)
{
    struct store_q *q = id >= 0 ? &s->stmt[id] : calloc(1, sizeof *q);
    struct store_pgq *p = calloc(1, sizeof *p);

    if (!q || !p) {
        free(p);
        if (id < 0)
            free(q);
        rp_err_set(err, RP_NO_MEMORY, "statement");
        return NULL;
    }
    p->s = s;
    p->id = id;
    for (const char *c = sql ? sql : ""; (c = strchr(c, '$')) != NULL; c++)
        if (c[1] >= '0' && c[1] <= '9') {
            int k = atoi(c + 1);
            if (k > p->nsql)
                p->nsql = k;
        }
    if (p->nsql > PG_PARAMS_MAX) {
        free(p);
        if (id < 0)
            free(q);
        rp_err_set(err, RP_INTERNAL, "statement with over %d parameters", PG_PARAMS_MAX);
        return NULL;
    }
    if (id < 0 && !(p->sql = strdup(sql))) {
        free(p);
        free(q);
        rp_err_set(err, RP_NO_MEMORY, "statement");
        return NULL;
    }
    if (id >= 0 && !s->pg->prepared[id]) {
        char name[16];
        PGresult *r;
        if (!sql) {
            free(p);
            rp_err_set(err, RP_INTERNAL, "statement %d has no PostgreSQL text", id);
            return NULL;
        }
        snprintf(name, sizeof name, "s%d", id);
        free_connection(s);
        r = PQprepare(s->pg->conn, name, sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            set_errmsg(s, PQresultErrorMessage(r));
            PQclear(r);
            free(p);
            rp_err_set(err, RP_STORAGE, "prepare %d: %s", id, s->pg->errmsg);
            return NULL;
        }
        PQclear(r);
        s->pg->prepared[id] = 1;
    }
    q->st = NULL;
    q->pg = p;
    return q;
}

void store_pg_finalize(struct store_q *q)
{
    struct store_pgq *p = q->pg;

    if (!p)
        return;
    store_pg_reset(q);
    free(p->sql);
    free(p);
    q->pg = NULL;
}

void store_pg_bind(struct store_q *q, int i, int type, int64_t n, double d, const void *v,
                   size_t len)
{
    struct store_pgq *p = q->pg;
    int k = i - 1;

    if (k < 0 || k >= PG_PARAMS_MAX)
        return; /* the statement then fails on the server: parameter missing */
    free(p->copy[k]);
    p->copy[k] = NULL;
    p->fmts[k] = 0;
    p->lens[k] = 0;
    switch (type) {
    case STORE_PG_INT:
        snprintf(p->num[k], sizeof p->num[k], "%lld", (long long)n);
        p->vals[k] = p->num[k];
        break;
    case STORE_PG_DOUBLE:
        snprintf(p->num[k], sizeof p->num[k], "%.17g", d);
        p->vals[k] = p->num[k];
        break;
    case STORE_PG_TEXT:
        p->vals[k] = v;
        break;
    case STORE_PG_TEXT_COPY:
        p->copy[k] = strdup(v);
        p->vals[k] = p->copy[k];
        break;
    case STORE_PG_BLOB:
        p->vals[k] = v;
        p->lens[k] = (int)len;
        p->fmts[k] = 1;
        break;
    default:
        p->vals[k] = NULL;
    }
    if (i > p->nparams)
        p->nparams = i;
}

static int sqlstate_class(const char *state)
{
    if (!state)
        return STORE_E_OTHER;
    if (strcmp(state, "23505") == 0)
        return STORE_E_UNIQUE;
    if (strcmp(state, "23503") == 0)
        return STORE_E_FOREIGN;
    if (strcmp(state, "23514") == 0)
        return STORE_E_CHECK;
    if (strncmp(state, "23", 2) == 0)
        return STORE_E_CONSTRAINT;
    if (strcmp(state, "53100") == 0)
        return STORE_E_FULL;
    if (strcmp(state, "25006") == 0)
        return STORE_E_READONLY;
    return STORE_E_OTHER;
}

/* The class of a failed result, its message and class kept for store_errmsg and
 * store_pg_errclass. 53100 disk_full and 25006 read_only_sql_transaction (a hot standby, or
 * default_transaction_read_only) become 507 in store_sql_error. */
static int fail_class(struct store *s, PGresult *r)
{
    set_errmsg(s, r ? PQresultErrorMessage(r) : PQerrorMessage(s->pg->conn));
    s->pg->errclass = sqlstate_class(r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
    return s->pg->errclass;
}

/* Reads what is left of the statement's results so the connection is free again. */
static void drain(struct store_pgq *p)
{
    PGresult *r;

    while ((r = PQgetResult(p->s->pg->conn)) != NULL)
        PQclear(r);
    p->busy = 0;
    if (p->s->pg->active == p)
        p->s->pg->active = NULL;
}

/* The connection is wanted while p's rows are still coming: read them all now, to be handed
 * out by its later steps. */
static void spill(struct store_pgq *p)
{
    struct store *s = p->s;
    PGresult *r;

    p->spill_rc = STORE_DONE;
    while ((r = PQgetResult(s->pg->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && !(PQnfields(r) >= 1 &&
                                          strcmp(PQfname(r, 0), "reporta_last_id") == 0)) {
            if (p->nahead == p->capahead) {
                size_t c = p->capahead ? 2 * p->capahead : 64;
                PGresult **v = realloc(p->ahead, c * sizeof *v);
                if (!v) {
                    PQclear(r);
                    p->spill_rc = STORE_E_OTHER;
                    continue;
                }
                p->ahead = v;
                p->capahead = c;
            }
            p->ahead[p->nahead++] = r;
            continue;
        }
        if (st == PGRES_SINGLE_TUPLE) {
            s->pg->last_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        } else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            const char *n = PQcmdTuples(r);
            s->pg->changes = n && *n ? strtoll(n, NULL, 10) : 0;
            s->pg->total_changes += s->pg->changes;
        } else {
            p->spill_rc = fail_class(s, r);
        }
        PQclear(r);
    }
    p->busy = 0;
    p->spilled = 1;
    s->pg->active = NULL;
}

/* Before anything else goes to the server on this connection. */
static void free_connection(struct store *s)
{
    if (s->pg->active)
        spill(s->pg->active);
}

int store_pg_step(struct store_q *q)
{
    struct store_pgq *p = q->pg;
    struct store *s = p->s;
    PGresult *r;
    int rc;

    clear_row(p);
    if (p->done)
        return STORE_DONE;
    if (p->spilled) { /* its rows were read ahead */
        if (p->iahead < p->nahead) {
            p->row = p->ahead[p->iahead];
            p->ahead[p->iahead++] = NULL;
            return STORE_ROW;
        }
        p->done = 1;
        return p->spill_rc;
    }
    if (!p->busy) {
        free_connection(s);
        int ok, n = p->nparams > p->nsql ? p->nparams : p->nsql;
        char name[16];
        if (p->id >= 0) {
            snprintf(name, sizeof name, "s%d", p->id);
            ok = PQsendQueryPrepared(s->pg->conn, name, n, p->vals, p->lens, p->fmts, 0);
        } else {
            ok = PQsendQueryParams(s->pg->conn, p->sql, n, NULL, p->vals, p->lens, p->fmts, 0);
        }
        if (!ok) {
            set_errmsg(s, PQerrorMessage(s->pg->conn));
            p->done = 1;
            return STORE_E_OTHER;
        }
        PQsetSingleRowMode(s->pg->conn);
        p->busy = 1;
        s->pg->active = p;
    }
    for (;;) {
        r = PQgetResult(s->pg->conn);
        if (!r) { /* no more results: done */
            p->busy = 0;
            p->done = 1;
            if (s->pg->active == p)
                s->pg->active = NULL;
            return STORE_DONE;
        }
        switch (PQresultStatus(r)) {
        case PGRES_SINGLE_TUPLE:
            if (PQnfields(r) >= 1 && strcmp(PQfname(r, 0), "reporta_last_id") == 0) {
                s->pg->last_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
                PQclear(r);
                continue; /* the end of the insert follows */
            }
            p->row = r;
            return STORE_ROW;
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK: {
            const char *n = PQcmdTuples(r);
            s->pg->changes = n && *n ? strtoll(n, NULL, 10) : 0;
            s->pg->total_changes += s->pg->changes;
            PQclear(r);
            continue; /* then NULL */
        }
        default:
            rc = fail_class(s, r);
            PQclear(r);
            drain(p);
            p->done = 1;
            return rc;
        }
    }
}

void store_pg_reset(struct store_q *q)
{
    struct store_pgq *p = q->pg;

    clear_row(p);
    if (p->busy)
        drain(p);
    for (size_t i = p->iahead; i < p->nahead; i++)
        PQclear(p->ahead[i]);
    free(p->ahead);
    p->ahead = NULL;
    p->nahead = p->iahead = p->capahead = 0;
    p->spilled = 0;
    p->done = 0;
    clear_params(p);
}

const char *store_pg_text(struct store_q *q, int c)
{
    struct store_pgq *p = q->pg;

    if (!p->row || c < 0 || c >= PQnfields(p->row) || PQgetisnull(p->row, 0, c))
        return NULL;
    return PQgetvalue(p->row, 0, c);
}

const void *store_pg_blob(struct store_q *q, int c, size_t *n)
{
    struct store_pgq *p = q->pg;
    const char *v = store_pg_text(q, c);

    *n = 0;
    if (!v || c >= PG_COLS_MAX)
        return NULL;
    if (!p->blob[c])
        p->blob[c] = PQunescapeBytea((const unsigned char *)v, &p->blob_len[c]);
    *n = p->blob[c] ? p->blob_len[c] : 0;
    return p->blob[c];
}

int store_pg_exec(struct store *s, const char *sql, const char *what, struct rp_err *err)
{
    return exec_simple(s, sql, what, err);
}

int64_t store_pg_changes(struct store *s) { return s->pg->changes; }
int64_t store_pg_last_id(struct store *s) { return s->pg->last_id; }
const char *store_pg_errmsg(struct store *s) { return s->pg->errmsg; }
int store_pg_errclass(struct store *s) { return s->pg->errclass; }
int64_t store_pg_total_changes(struct store *s) { return s->pg->total_changes; }

/* ---- notifications ---- */

int store_listen(struct store *s, struct rp_err *err)
{
    if (!s->pg)
        return RP_OK;
    return exec_simple(s, "LISTEN reporta_case; LISTEN reporta_catalogue; LISTEN reporta_tow;"
                          " LISTEN reporta_truck; LISTEN reporta_towing", "listen", err);
}

int store_notice_wait(struct store *s, int timeout_ms, enum store_notice *kind, int64_t *id,
                      struct rp_err *err)
{
    PGnotify *n;

    if (!s->pg)
        return 0;
    if (!(n = PQnotifies(s->pg->conn))) {
        struct pollfd p = {PQsocket(s->pg->conn), POLLIN, 0};
        if (p.fd < 0)
            return rp_err_set(err, RP_STORAGE, "notifications: no connection");
        if (poll(&p, 1, timeout_ms) < 0)
            return 0; /* interrupted: the caller looks again */
        if (!PQconsumeInput(s->pg->conn)) {
            set_errmsg(s, PQerrorMessage(s->pg->conn));
            return rp_err_set(err, RP_STORAGE, "notifications: %s", s->pg->errmsg);
        }
        if (!(n = PQnotifies(s->pg->conn)))
            return 0;
    }
    *kind = strcmp(n->relname, "reporta_case") == 0  ? STORE_NOTICE_CASE
            : strcmp(n->relname, "reporta_tow") == 0 ? STORE_NOTICE_TOW
            : strcmp(n->relname, "reporta_truck") == 0 ? STORE_NOTICE_TRUCK
            : strcmp(n->relname, "reporta_towing") == 0 ? STORE_NOTICE_TOWING
                                                       : STORE_NOTICE_CATALOGUE;
    *id = strtoll(n->extra ? n->extra : "0", NULL, 10);
    PQfreemem(n);
    return 1;
}
