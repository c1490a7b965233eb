/*
 * base/err.c - the code -> (HTTP status, slug) table expanded from RP_ERR_MAP, and the
 * first-error-wins setter. No state; safe from any thread.
 */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

#define RP_ERR_ROW(name, status, slug) {status, slug},
static const struct {
    int status;
    const char *slug;
} table[] = {RP_ERR_MAP(RP_ERR_ROW)};
#undef RP_ERR_ROW

int rp_err_set(struct rp_err *err, enum rp_code code, const char *fmt, ...)
{
    va_list ap;

    if (!err || err->code != RP_OK)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void rp_err_clear(struct rp_err *err)
{
    err->code = RP_OK;
    err->msg[0] = '\0';
}

int rp_err_status(enum rp_code code)
{
    if ((unsigned)code >= RP__CODE_COUNT)
        return 500;
    return table[code].status;
}

const char *rp_err_slug(enum rp_code code)
{
    if ((unsigned)code >= RP__CODE_COUNT)
        return "internal_error";
    return table[code].slug;
}
