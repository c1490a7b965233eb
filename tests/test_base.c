/* tests/test_base.c - the error table, first-error-wins, and level names. */
#include "base/err.h"
#include "base/level.h"
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

int main(void)
{
    RUN(test_error_codes_map_to_status_and_slug);
    RUN(test_first_error_wins);
    RUN(test_long_messages_are_truncated_not_overflowed);
    RUN(test_levels_parse_and_name);
    return check_exit();
}
