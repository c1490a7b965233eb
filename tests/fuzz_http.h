/*
 * tests/fuzz_http.h - one HTTP request through libmicrohttpd inside the fuzzer's own process,
 * for the fuzz targets whose input is a query string or a body: MHD parses the request line,
 * the query and the headers as it does for `reporta serve`, and fn gets a struct http_req on
 * that connection, so http_query, http_header, http_body_json and http_body_form work on what
 * MHD really parsed. Only conn, method, path, body and an anonymous caller are set: no app, no
 * worker, no store. Single-threaded, like libFuzzer.
 */
#ifndef FUZZ_HTTP_H
#define FUZZ_HTTP_H

#include <stddef.h>

#include "server/http.h"

#define FUZZ_HTTP_BODY_MAX_BYTES (1024 * 1024) /* the fuzzers' -max_len stays well below */

typedef void (*fuzz_http_fn)(struct http_req *req, void *ctx);

/* Sends "METHOD target HTTP/1.1" with content_type (NULL: none) and body, and runs fn once
 * the whole body has arrived. 1 when fn ran; 0 when MHD refused the request itself (a target
 * or a header it cannot parse), or when target or content_type holds CR, LF or NUL (they
 * would make a different request). Aborts when the harness itself fails. */
int fuzz_http_run(const char *method, const char *target, size_t target_len,
                  const char *content_type, size_t ct_len, const void *body, size_t len,
                  fuzz_http_fn fn, void *ctx);

/* GET prefix + data (the fuzz input as the rest of the target), as fuzz_http_run. */
int fuzz_http_get_after(const char *prefix, const unsigned char *data, size_t size,
                        fuzz_http_fn fn, void *ctx);

/* Splits a fuzz input at its first '\n': the line before it (*line, *line_len) and the rest
 * (*rest, *rest_len). Without a '\n' the line is all of it and the rest is empty. */
void fuzz_http_split(const unsigned char *data, size_t size, const char **line, size_t *line_len,
                     const unsigned char **rest, size_t *rest_len);

#endif
