/*
 * base/log.c - line-atomic logging to stderr (see log.h). The threshold is the only global,
 * written before any thread starts and read-only afterwards.
 */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static enum rp_log_level threshold = RP_LOG_INFO;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void rp_log_set_level(enum rp_log_level level)
{
    threshold = level;
}

void rp_log(enum rp_log_level level, const char *fmt, ...)
{
    char line[RP_LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int k;
    va_list ap;

    if (level < threshold)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    k = snprintf(line + n, sizeof line - n, ".%03ldZ %s ", ts.tv_nsec / 1000000L,
                 level_names[level]);
    if (k > 0)
        n += (size_t)k;
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    if (k < 0)
        k = 0;
    n = (n + (size_t)k < sizeof line - 1) ? n + (size_t)k : sizeof line - 2;
    line[n++] = '\n';
    /* One write per line keeps lines whole across threads; a failed log write has nowhere
     * better to be reported, so it is dropped on purpose. */
    (void)!write(STDERR_FILENO, line, n);
}
