/*
 * base/err.h - reporta's one error vocabulary.
 * Every function that can fail returns RP_OK (0) or an enum rp_code and fills the caller's
 * struct rp_err. One X-macro table maps each code to its HTTP status and the JSON "code" slug
 * that clients see in {"error":{"code","message"}}. The first error set wins, so the message
 * names the root cause, not the last cleanup step. Thread-safety: pure functions; a struct
 * rp_err belongs to one thread.
 */
#ifndef RP_ERR_H
#define RP_ERR_H

#include <stddef.h>

#define RP_ERR_MSG_MAX 256

/* clang-format off */
#define RP_ERR_MAP(X)                                      \
    X(OK,                     200, "ok")                   \
    X(INVALID_ARGUMENT,       400, "invalid_argument")     \
    X(INVALID_COORDINATES,    400, "invalid_coordinates")  \
    X(INVALID_JSON,           400, "invalid_json")         \
    X(INVALID_TILE,           400, "invalid_tile")         \
    X(INVALID_PLATE,          400, "invalid_plate")        \
    X(UNAUTHORIZED,           401, "unauthorized")         \
    X(FORBIDDEN,              403, "forbidden")            \
    X(NOT_FOUND,              404, "not_found")            \
    X(METHOD_NOT_ALLOWED,     405, "method_not_allowed")   \
    X(CONFLICT,               409, "conflict")             \
    X(INVALID_TRANSITION,     409, "invalid_transition")   \
    X(TOO_LARGE,              413, "payload_too_large")    \
    X(URI_TOO_LONG,           414, "uri_too_long")         \
    X(UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type") \
    X(INVALID_DATA,           422, "invalid_data")         \
    X(INVALID_IMAGE,          422, "invalid_image")        \
    X(OUTSIDE_AREA,           422, "outside_service_area") \
    X(RATE_LIMITED,           429, "rate_limited")         \
    X(HEADERS_TOO_LARGE,      431, "headers_too_large")    \
    X(INTERNAL,               500, "internal_error")       \
    X(NO_MEMORY,              500, "out_of_memory")        \
    X(STORAGE,                500, "storage_error")        \
    X(IO,                     500, "io_error")             \
    X(UNAVAILABLE,            503, "unavailable")          \
    X(INSUFFICIENT_STORAGE,   507, "insufficient_storage")
/* clang-format on */

#define RP_ERR_ENUM(name, status, slug) RP_##name,
enum rp_code { RP_ERR_MAP(RP_ERR_ENUM) RP__CODE_COUNT };
#undef RP_ERR_ENUM

struct rp_err {
    enum rp_code code;
    /* 4xx: shown to the client; 5xx: logged only, except RP_INSUFFICIENT_STORAGE's (a full
     * disk or a read-only database: the client is told which, and that nothing was saved) */
    char msg[RP_ERR_MSG_MAX];
};

/* Keeps the first error only: a later call on an already-set err changes nothing. Returns code. */
int rp_err_set(struct rp_err *err, enum rp_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rp_err_clear(struct rp_err *err);

int rp_err_status(enum rp_code code);    /* HTTP status; 500 for an unknown code */
const char *rp_err_slug(enum rp_code code); /* JSON "code"; "internal_error" when unknown */

#endif
