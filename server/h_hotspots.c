/*
 * server/h_hotspots.c - GET /api/v1/hotspots?service=&entity=&area=&since=&radius_m=&min_cases=
 * &limit=: parse with limits, ask server/hotspots.c, reply its GeoJSON.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/hotspots.h"
#include "server/routes.h"

static int number_param(struct http_req *req, const char *name, double def, double lo, double hi,
                        double *out, struct rp_err *err)
{
    const char *v = http_query(req, name);
    char *end;

    *out = def;
    if (!v)
        return RP_OK;
    errno = 0;
    *out = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(*out) || *out < lo || *out > hi)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s must be a number from %g to %g", name, lo,
                          hi);
    return RP_OK;
}

static int code_param(struct http_req *req, const char *name, const char **out, struct rp_err *err)
{
    const char *v = http_query(req, name);

    *out = v;
    if (!v)
        return RP_OK;
    if (strlen(v) >= STORE_CODE_MAX)
        return rp_err_set(err, RP_INVALID_ARGUMENT, "%s: too long", name);
    for (const char *c = v; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-'))
            return rp_err_set(err, RP_INVALID_ARGUMENT, "%s: '%.40s' is not a code", name, v);
    return RP_OK;
}

int h_hotspots(struct http_req *req, struct http_res *res)
{
    struct hotspots_query q = {0};
    double radius, min_cases, limit;
    json_t *out = NULL;
    const char *since = http_query(req, "since");
    int rc;

    rc = code_param(req, "service", &q.service, &res->err);
    if (rc == RP_OK)
        rc = code_param(req, "entity", &q.entity, &res->err);
    if (rc == RP_OK)
        rc = code_param(req, "area", &q.area, &res->err);
    if (rc == RP_OK)
        rc = number_param(req, "radius_m", HOTSPOTS_RADIUS_M, 1, HOTSPOTS_RADIUS_MAX_M, &radius,
                          &res->err);
    if (rc == RP_OK)
        rc = number_param(req, "min_cases", HOTSPOTS_MIN_CASES, 2, 1e6, &min_cases, &res->err);
    if (rc == RP_OK)
        rc = number_param(req, "limit", HOTSPOTS_LIMIT, 1, HOTSPOTS_LIMIT_MAX, &limit, &res->err);
    if (rc == RP_OK && since &&
        (strlen(since) < 10 || strlen(since) > 24 || since[4] != '-' || since[7] != '-'))
        rc = rp_err_set(&res->err, RP_INVALID_ARGUMENT,
                        "since must be a date or time, YYYY-MM-DD[THH:MM:SSZ]");
    if (rc != RP_OK)
        return rc;
    q.since = since;
    q.radius_m = radius;
    q.min_cases = (int)min_cases;
    q.limit = (int)limit;
    rc = hotspots_find(req->app, req->w, &q, &out, &res->err);
    if (rc != RP_OK)
        return rc;
    res->content_type = "application/geo+json";
    return http_reply_json_new(res, 200, out);
}
