/*
 * base/progress.c - progress lines for long commands (see progress.h).
 */
#include "base/progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n with thousands separators. */
static const char *grouped(uint64_t n, char out[32])
{
    char raw[24];
    int len = snprintf(raw, sizeof raw, "%llu", (unsigned long long)n), k = 0;

    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = raw[i];
    }
    out[k] = '\0';
    return out;
}

void progress_start(struct progress *p, const char *what, const char *unit, uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->out = stderr;
    p->tty = isatty(fileno(stderr));
    snprintf(p->what, sizeof p->what, "%s", what);
    snprintf(p->unit, sizeof p->unit, "%s", unit);
    p->total = total;
    p->t0 = p->last = now_s();
    p->next_tenth = 0.1;
}

static void line(struct progress *p, double t)
{
    double secs = t - p->t0, rate = secs > 0 ? (double)p->done / secs : 0;
    char n[32], r[32];

    if (p->total) {
        double frac = (double)p->done / (double)p->total;
        double left = rate > 0 ? (double)(p->total - (p->done < p->total ? p->done : p->total)) / rate : 0;
        fprintf(p->out, "%s%s %3.0f%%  %s %s/s  ETA %.0f s%s", p->tty ? "\r" : "", p->what,
                frac * 100, grouped((uint64_t)rate, r), p->unit, left, p->tty ? "\033[K" : "\n");
    } else {
        fprintf(p->out, "%s%s %s %s  %s %s/s%s", p->tty ? "\r" : "", p->what,
                grouped(p->done, n), p->unit, grouped((uint64_t)rate, r), p->unit,
                p->tty ? "\033[K" : "\n");
    }
    fflush(p->out);
}

void progress_set(struct progress *p, uint64_t done)
{
    double t;

    p->done = done;
    t = now_s();
    if (p->tty) {
        if (t - p->last < PROGRESS_TTY_MS / 1000.0)
            return;
    } else {
        int tenth = p->total && (double)done / (double)p->total >= p->next_tenth;
        if (!tenth && t - p->last < PROGRESS_PLAIN_MS / 1000.0)
            return;
        while (p->total && (double)done / (double)p->total >= p->next_tenth)
            p->next_tenth += 0.1;
    }
    p->last = t;
    line(p, t);
}

void progress_end(struct progress *p)
{
    double secs = now_s() - p->t0;
    char n[32], r[32];

    fprintf(p->out, "%s%s: %s %s in %.1f s (%s %s/s)%s\n", p->tty ? "\r" : "", p->what,
            grouped(p->done, n), p->unit, secs,
            grouped(secs > 0 ? (uint64_t)((double)p->done / secs) : p->done, r), p->unit,
            p->tty ? "\033[K" : "");
    fflush(p->out);
}
