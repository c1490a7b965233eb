/*
 * base/log.c - line-atomic logging to stderr (see log.h).
 * Shared mutable state, all of it here: the buffered lines (buf/len, guarded by lock), the
 * logger thread's running flag (guarded by lock), stderr itself (write_lock, taken after lock)
 * and the level threshold (written before threads start). Each thread caches its formatted
 * second, so a line costs one vsnprintf, and none through rp_log_text.
 */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum rp_log_level threshold = RP_LOG_INFO;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Held while bytes go to stderr. Always taken after `lock`, never before it, so lines reach
 * stderr in the order they were logged even while the flusher writes outside `lock`. */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t flusher;
static int running;
static char bufs[2][RP_LOG_BUFFER_BYTES]; /* writers fill one while the flusher writes the other */
static char *buf = bufs[0];
static size_t len;
static int signalled; /* one wake-up per fill, not one per line */

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void rp_log_set_level(enum rp_log_level level)
{
    threshold = level;
}

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(STDERR_FILENO, p, n);
        if (k <= 0)
            return; /* stderr is gone: nowhere better to report it */
        p += k;
        n -= (size_t)k;
    }
}

/* Caller holds lock. */
static void flush_locked(void)
{
    pthread_mutex_lock(&write_lock);
    write_all(buf, len);
    pthread_mutex_unlock(&write_lock);
    len = 0;
}

/* The write happens outside the lock: request threads never wait for the disk. Only this
 * thread swaps buffers, so the one it writes is untouched until its next swap. */
static void *flush_loop(void *arg)
{
    int go = 1;

    pthread_setname_np(pthread_self(), "log"); /* as top -H and ps -L show it */
    (void)arg;
    pthread_mutex_lock(&lock);
    while (go) {
        struct timespec ts;
        char *full;
        size_t n;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += RP_LOG_FLUSH_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (running && !signalled)
            pthread_cond_timedwait(&wake, &lock, &ts);
        go = running;
        full = buf;
        n = len;
        buf = buf == bufs[0] ? bufs[1] : bufs[0];
        len = 0;
        signalled = 0;
        pthread_mutex_lock(&write_lock); /* before releasing lock: no newer line can pass */
        pthread_mutex_unlock(&lock);
        write_all(full, n);
        pthread_mutex_unlock(&write_lock);
        pthread_mutex_lock(&lock);
    }
    flush_locked();
    pthread_mutex_unlock(&lock);
    return NULL;
}

int rp_log_start(void)
{
    int rc;

    pthread_mutex_lock(&lock);
    running = 1;
    pthread_mutex_unlock(&lock);
    rc = pthread_create(&flusher, NULL, flush_loop, NULL);
    if (rc != 0) {
        pthread_mutex_lock(&lock);
        running = 0;
        pthread_mutex_unlock(&lock);
    }
    return rc;
}

void rp_log_stop(void)
{
    int was;

    pthread_mutex_lock(&lock);
    was = running;
    running = 0;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    if (was)
        pthread_join(flusher, NULL);
}

/* "2026-11-23T15:04:05" for the current second, formatted once per second per thread. */
static size_t stamp(char *out, long *ms)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[32];
    static _Thread_local size_t cached_len;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        cached_len = strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    memcpy(out, cached, cached_len);
    *ms = ts.tv_nsec / 1000000L;
    return cached_len;
}

/* "<stamp>.<ms>Z LEVEL " at line; returns its length. No printf: this runs for every request. */
static size_t head(char *line, enum rp_log_level level)
{
    const char *name = level_names[level];
    size_t n, k = strlen(name);
    long ms;

    n = stamp(line, &ms);
    line[n++] = '.';
    line[n++] = (char)('0' + ms / 100);
    line[n++] = (char)('0' + ms / 10 % 10);
    line[n++] = (char)('0' + ms % 10);
    line[n++] = 'Z';
    line[n++] = ' ';
    memcpy(line + n, name, k);
    n += k;
    line[n++] = ' ';
    return n;
}

/* Control bytes in a message (a decoded request path, a client's text in an error) become '?':
 * one event is one line, and nothing from outside can start a forged one. */
static void printable(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = '?';
}

/* Hands one finished line (newline included) to stderr or to the buffer. */
static void emit(enum rp_log_level level, const char *line, size_t n)
{
    pthread_mutex_lock(&lock);
    if (!running || level >= RP_LOG_WARN) {
        flush_locked(); /* keep order: buffered lines first */
        write_all(line, n);
    } else {
        if (len + n > RP_LOG_BUFFER_BYTES)
            flush_locked(); /* the flusher is behind: write here rather than drop */
        memcpy(buf + len, line, n);
        len += n;
        if (len > RP_LOG_BUFFER_BYTES / 2 && !signalled) {
            signalled = 1;
            pthread_cond_signal(&wake);
        }
    }
    pthread_mutex_unlock(&lock);
}

void rp_log(enum rp_log_level level, const char *fmt, ...)
{
    char line[RP_LOG_LINE_MAX];
    size_t n;
    int k;
    va_list ap;

    if (level < threshold)
        return;
    n = head(line, level);
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    if (k < 0)
        k = 0;
    k = (n + (size_t)k < sizeof line - 1) ? k : (int)(sizeof line - 2 - n);
    printable(line + n, (size_t)k);
    n += (size_t)k;
    line[n++] = '\n';
    emit(level, line, n);
}

void rp_log_text(enum rp_log_level level, const char *text, size_t text_len)
{
    char line[RP_LOG_LINE_MAX];
    size_t n;

    if (level < threshold)
        return;
    n = head(line, level);
    if (text_len > sizeof line - 1 - n)
        text_len = sizeof line - 1 - n;
    memcpy(line + n, text, text_len);
    printable(line + n, text_len);
    n += text_len;
    line[n++] = '\n';
    emit(level, line, n);
}
