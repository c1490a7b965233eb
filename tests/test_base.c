/* tests/test_base.c - the error table, first-error-wins, level names, and log lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/level.h"
#include "base/log.h"
#include "check.h"

static void test_error_codes_map_to_status_and_slug(void)
{
    CHECK_INT_EQ(rp_err_status(RP_OK), 200);
    CHECK_INT_EQ(rp_err_status(RP_INVALID_COORDINATES), 400);
    CHECK_INT_EQ(rp_err_status(RP_OUTSIDE_AREA), 422);
    CHECK_INT_EQ(rp_err_status(RP_TOO_LARGE), 413);
    CHECK_INT_EQ(rp_err_status(RP_STORAGE), 500);
    CHECK_STR_EQ(rp_err_slug(RP_OUTSIDE_AREA), "outside_service_area");
    CHECK_STR_EQ(rp_err_slug(RP_METHOD_NOT_ALLOWED), "method_not_allowed");
    CHECK_INT_EQ(rp_err_status((enum rp_code)999), 500);
    CHECK_STR_EQ(rp_err_slug((enum rp_code)999), "internal_error");
}

static void test_first_error_wins(void)
{
    struct rp_err err = {0};

    CHECK_INT_EQ(rp_err_set(&err, RP_STORAGE, "disk %d", 1), RP_STORAGE);
    CHECK_INT_EQ(rp_err_set(&err, RP_NOT_FOUND, "later"), RP_NOT_FOUND);
    CHECK_INT_EQ(err.code, RP_STORAGE);
    CHECK_STR_EQ(err.msg, "disk 1");
    rp_err_clear(&err);
    CHECK_INT_EQ(err.code, RP_OK);
}

static void test_long_messages_are_truncated_not_overflowed(void)
{
    struct rp_err err = {0};
    char big[1000];

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rp_err_set(&err, RP_INVALID_ARGUMENT, "%s", big);
    CHECK_INT_EQ(strlen(err.msg), RP_ERR_MSG_MAX - 1);
}

static void test_levels_parse_and_name(void)
{
    CHECK_INT_EQ(rp_level_parse("provincia"), RP_LEVEL_PROVINCIA);
    CHECK_INT_EQ(rp_level_parse("corregimiento"), RP_LEVEL_CORREGIMIENTO);
    CHECK_INT_EQ(rp_level_parse("county"), -1);
    CHECK_INT_EQ(rp_level_parse(NULL), -1);
    CHECK_STR_EQ(rp_level_name(RP_LEVEL_DISTRITO), "distrito");
    CHECK_STR_EQ(rp_level_name((enum rp_level)7), "?");
}

/* Written at once (no logger thread) to a file standing in for stderr. */
static void test_log_lines_cannot_be_split_by_their_messages(void)
{
    char path[] = "/tmp/reporta-log-XXXXXX", buf[4096];
    int fd = mkstemp(path), saved = dup(STDERR_FILENO), lines = 0;
    FILE *fp;
    size_t n;

    CHECK(fd >= 0 && saved >= 0);
    CHECK(dup2(fd, STDERR_FILENO) >= 0);
    rp_warn("path %s", "/a\n2026-01-01T00:00:00.000Z WARN forged\tline");
    rp_log_text(RP_LOG_WARN, "text\r\nend\x7f", 10);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    fp = fopen(path, "r");
    n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp)
        fclose(fp);
    unlink(path);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    CHECK_INT_EQ(lines, 2);
    CHECK(strstr(buf, " WARN path /a?2026-01-01T00:00:00.000Z WARN forged?line\n") != NULL);
    CHECK(strstr(buf, " WARN text??end?\n") != NULL);
}

int main(void)
{
    RUN(test_error_codes_map_to_status_and_slug);
    RUN(test_first_error_wins);
    RUN(test_long_messages_are_truncated_not_overflowed);
    RUN(test_levels_parse_and_name);
    RUN(test_log_lines_cannot_be_split_by_their_messages);
    return check_exit();
}
