/*
 * tests/test_tows.c - unit tests of towing's pure parts: plate normalisation on real-looking
 * Panamanian plates (and what must be refused), the ticket key, and the fees so far.
 */
#include <string.h>

#include "check.h"
#include "server/plate.h"
#include "server/tows.h"

static void test_plates_typed_every_way_are_one_key(void)
{
    static const struct {
        const char *typed, *key;
    } same[] = {
        {"AB1234", "AB1234"},       {"ab-1234", "AB1234"},     {" AB 1234 ", "AB1234"},
        {"a.b.1.2.3.4", "AB1234"},  {"AB\xe2\x80\x93" "1234", "AB1234"}, /* en dash */
        {"AB\xc2\xa0" "1234", "AB1234"},                        /* no-break space */
        {"123456", "123456"},       {"123 456", "123456"},     {"8T-4521", "8T4521"},
        {"t 12345", "T12345"},      {"CD-123", "CD123"},       {"M1", "M1"},
        {"b/12345", "B12345"},      {"\tAC_9981\t", "AC9981"},
    };
    char out[PLATE_MAX + 1];
    struct rp_err err = {0};

    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        rp_err_clear(&err);
        CHECK_INT_EQ(plate_normalize(same[i].typed, out, &err), RP_OK);
        CHECK_STR_EQ(out, same[i].key);
    }
}

static void test_plates_that_are_not_plates_are_refused(void)
{
    static const char *const bad[] = {
        "",           "   ",        "---",  "ABCDEF", /* no digit */
        "A",          "1",          "AB$123", "AB1234;DROP", "ÑA1234",
        "AB12345678901", /* 13 characters */
        "AB'1234",    "AB\"1",      "AB%001",
    };
    char out[PLATE_MAX + 1];
    struct rp_err err = {0};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rp_err_clear(&err);
        strcpy(out, "junk");
        CHECK_INT_EQ(plate_normalize(bad[i], out, &err), RP_INVALID_PLATE);
        CHECK_STR_EQ(out, "");
        CHECK(err.msg[0] != '\0');
    }
    rp_err_clear(&err);
    CHECK_INT_EQ(plate_normalize(NULL, out, &err), RP_INVALID_PLATE);
    {
        char longer[100];
        memset(longer, '1', sizeof longer - 1);
        longer[sizeof longer - 1] = '\0';
        rp_err_clear(&err);
        CHECK_INT_EQ(plate_normalize(longer, out, &err), RP_INVALID_PLATE);
    }
}

static void test_ticket_key_ignores_case_and_separators_only(void)
{
    unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN], c[STORE_HASH_LEN];
    struct rp_err err = {0};

    CHECK_INT_EQ(tows_ticket_key("B-2026-778812", a, &err), RP_OK);
    CHECK_INT_EQ(tows_ticket_key("b 2026 778812", b, &err), RP_OK);
    CHECK_INT_EQ(tows_ticket_key("B-2026-778813", c, &err), RP_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, c, sizeof a) != 0);
    CHECK_INT_EQ(tows_ticket_key("", a, &err), RP_INVALID_ARGUMENT);
}

static void test_fees_count_every_day_begun_at_the_yard(void)
{
    int64_t days = -1, t0 = 1764547200; /* 2025-12-01T00:00:00Z */

    /* not at the yard yet: the tow fee only */
    CHECK_INT_EQ(tows_fees_cents(3500, 1000, 0, t0, &days), 3500);
    CHECK_INT_EQ(days, 0);
    /* on arrival the first day is due */
    CHECK_INT_EQ(tows_fees_cents(3500, 1000, t0, t0, &days), 4500);
    CHECK_INT_EQ(days, 1);
    CHECK_INT_EQ(tows_fees_cents(3500, 1000, t0, t0 + 86399, &days), 4500);
    CHECK_INT_EQ(tows_fees_cents(3500, 1000, t0, t0 + 86400, &days), 4500);
    CHECK_INT_EQ(tows_fees_cents(3500, 1000, t0, t0 + 86401, &days), 5500);
    CHECK_INT_EQ(days, 2);
    CHECK_INT_EQ(tows_fees_cents(3500, 1000, t0, t0 + 10 * 86400 - 5, &days), 13500);
    CHECK_INT_EQ(days, 10);
}

int main(void)
{
    RUN(test_plates_typed_every_way_are_one_key);
    RUN(test_plates_that_are_not_plates_are_refused);
    RUN(test_ticket_key_ignores_case_and_separators_only);
    RUN(test_fees_count_every_day_begun_at_the_yard);
    return check_exit();
}
