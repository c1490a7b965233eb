/*
 * tests/fuzz_multipart.c - libFuzzer target for multipart/form-data bodies: libmicrohttpd's
 * post processor (through a real request, tests/fuzz_http.h) and what reporta does with its
 * parts, h_reports_body_check: the `report` part gathered and read as JSON, `photo` parts
 * gathered (not decoded: tests/fuzz_photo.c has the decoder), anything else refused. Input:
 * the Content-Type line (say "multipart/form-data; boundary=B"), '\n', then the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "server/h_reports.h"
#include "tests/fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(struct http_req *req, void *ctx)
{
    struct rp_err err = {0};
    int rc = h_reports_body_check(req, &err);

    (void)ctx;
    if ((rc == RP_OK) != (err.code == RP_OK)) /* a failure always says why, success never */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char target[] = "/api/v1/reports";
    const char *ct;
    const unsigned char *body;
    size_t ct_len, len;

    fuzz_http_split(data, size, &ct, &ct_len, &body, &len);
    fuzz_http_run("POST", target, sizeof target - 1, ct, ct_len, body, len, check, NULL);
    return 0;
}
