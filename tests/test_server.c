/*
 * tests/test_server.c - unit tests of the server's pure parts: the token buckets (burst,
 * refill, Retry-After, separate keys, a full table reusing idle slots) and role rules.
 */
#include "check.h"
#include "server/auth.h"
#include "server/ratelimit.h"

static void test_bucket_allows_burst_then_refills_at_rate(void)
{
    struct rl_table *t = rl_create();
    uint64_t now = 1000000;
    int allowed = 0;
    unsigned wait = 0;

    CHECK(t != NULL);
    /* rate 20/s, burst 40: 40 at once, then one more every 50 ms */
    for (int i = 0; i < 100; i++)
        if (rl_take(t, "ip-a", 4, 20, 40, now) == 0)
            allowed++;
    CHECK_INT_EQ(allowed, 40);
    wait = rl_take(t, "ip-a", 4, 20, 40, now);
    CHECK_INT_EQ(wait, 1); /* 50 ms, rounded up to a whole second */
    CHECK_INT_EQ(rl_take(t, "ip-a", 4, 20, 40, now + 60000), 0);
    CHECK(rl_take(t, "ip-a", 4, 20, 40, now + 60000) != 0);
    /* another key has its own bucket */
    CHECK_INT_EQ(rl_take(t, "ip-b", 4, 20, 40, now), 0);
    /* a slow rate asks for a longer wait */
    for (int i = 0; i < 2; i++)
        rl_take(t, "slow", 4, 0.1, 1, now);
    CHECK_INT_EQ(rl_take(t, "slow", 4, 0.1, 1, now), 10);
    /* 0 means unlimited */
    for (int i = 0; i < 1000; i++)
        CHECK_INT_EQ(rl_take(t, "free", 4, 0, 0, now), 0);
    rl_destroy(t);
}

static void test_table_never_grows_and_reuses_idle_buckets(void)
{
    struct rl_table *t = rl_create();
    char key[16];
    int allowed = 0;

    /* a million distinct clients: no allocation, every first request allowed */
    for (int i = 0; i < 1000000; i++) {
        int n = snprintf(key, sizeof key, "c%d", i);
        allowed += rl_take(t, key, (size_t)n, 1, 1, 1000000 + (uint64_t)i) == 0;
    }
    CHECK_INT_EQ(allowed, 1000000);
    rl_destroy(t);
}

static void test_roles(void)
{
    struct principal staff = {AUTH_STAFF, 7, "IDAAN", "c"};
    struct principal admin = {AUTH_ADMIN, 1, "", "a"};
    struct principal tow = {AUTH_TOW, 2, "", "t"};
    struct principal anon = {AUTH_ANONYMOUS, 0, "", ""};

    CHECK_INT_EQ(auth_role_parse("staff"), AUTH_STAFF);
    CHECK_INT_EQ(auth_role_parse("tow_operator"), AUTH_TOW);
    CHECK_INT_EQ(auth_role_parse("anonymous"), -1); /* not a key role */
    CHECK_INT_EQ(auth_role_parse("root"), -1);
    CHECK(auth_may_act_for(&staff, "IDAAN"));
    CHECK(!auth_may_act_for(&staff, "AAUD"));
    CHECK(!auth_may_act_for(&staff, NULL));
    CHECK(auth_may_act_for(&admin, "AAUD"));
    CHECK(!auth_may_act_for(&tow, "ATTT"));
    CHECK(!auth_may_act_for(&anon, "IDAAN"));
    CHECK_STR_EQ(auth_role_name(AUTH_TOW), "tow_operator");
}

int main(void)
{
    RUN(test_bucket_allows_burst_then_refills_at_rate);
    RUN(test_table_never_grows_and_reuses_idle_buckets);
    RUN(test_roles);
    return check_exit();
}
