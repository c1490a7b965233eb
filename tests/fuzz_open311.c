/*
 * tests/fuzz_open311.c - libFuzzer target for Open311 POST requests forms, as
 * application/x-www-form-urlencoded or multipart/form-data: libmicrohttpd's post processor
 * (through a real request, tests/fuzz_http.h) and h_open311_form_check, which gathers the
 * fields and attribute[code]s as the handler does (values in several chunks joined, `media`
 * kept as bytes) and reads the case from them. Input: the Content-Type line, '\n', the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "server/open311.h"
#include "tests/fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(struct http_req *req, void *ctx)
{
    struct rp_err err = {0};
    int rc = h_open311_form_check(req, &err);

    (void)ctx;
    if ((rc == RP_OK) != (err.code == RP_OK)) /* a failure always says why, success never */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char target[] = "/open311/v2/requests.json";
    const char *ct;
    const unsigned char *body;
    size_t ct_len, len;

    fuzz_http_split(data, size, &ct, &ct_len, &body, &len);
    fuzz_http_run("POST", target, sizeof target - 1, ct, ct_len, body, len, check, NULL);
    return 0;
}
