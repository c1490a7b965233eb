/*
 * tests/check.h - the assertion vocabulary of every test binary. A failed CHECK prints file,
 * line, the expression and both values, counts the failure and carries on, so one run shows
 * every broken case; RUN names each test; check_exit() prints "N passed, N failed" and
 * returns the exit status ctest reads.
 */
#ifndef CHECK_H
#define CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failed, check_passed, check_current_failed;

#define CHECK_REPORT(fmt, ...)                                                                \
    do {                                                                                      \
        fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__);                 \
        check_current_failed = 1;                                                             \
    } while (0)

#define CHECK(expr)                                                                           \
    do {                                                                                      \
        if (!(expr))                                                                          \
            CHECK_REPORT("CHECK(%s) failed", #expr);                                          \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                                    \
    do {                                                                                      \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                       \
        if (check_a_ != check_b_)                                                             \
            CHECK_REPORT("%s == %s failed: %lld != %lld", #a, #b, check_a_, check_b_);        \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                    \
    do {                                                                                      \
        const char *check_a_ = (a), *check_b_ = (b);                                          \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0)                        \
            CHECK_REPORT("%s == %s failed: \"%s\" != \"%s\"", #a, #b,                         \
                         check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");     \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                 \
    do {                                                                                      \
        double check_a_ = (a), check_b_ = (b);                                                \
        if (!(fabs(check_a_ - check_b_) <= (tol)))                                            \
            CHECK_REPORT("%s ~ %s failed: %g vs %g (tolerance %g)", #a, #b, check_a_,         \
                         check_b_, (double)(tol));                                            \
    } while (0)

/* expr returns an rp code and fills *errp */
#define CHECK_OK(expr, errp)                                                                  \
    do {                                                                                      \
        int check_rc_ = (expr);                                                               \
        if (check_rc_ != 0)                                                                   \
            CHECK_REPORT("%s failed: code %d: %s", #expr, check_rc_, (errp)->msg);            \
    } while (0)

#define RUN(test)                                                                             \
    do {                                                                                      \
        check_current_failed = 0;                                                             \
        fprintf(stderr, "-- %s\n", #test);                                                    \
        test();                                                                               \
        if (check_current_failed)                                                             \
            check_failed++;                                                                   \
        else                                                                                  \
            check_passed++;                                                                   \
    } while (0)

#define RUN_ARG(test, arg)                                                                    \
    do {                                                                                      \
        check_current_failed = 0;                                                             \
        fprintf(stderr, "-- %s\n", #test);                                                    \
        test(arg);                                                                            \
        if (check_current_failed)                                                             \
            check_failed++;                                                                   \
        else                                                                                  \
            check_passed++;                                                                   \
    } while (0)

static inline int check_exit(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
