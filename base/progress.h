/*
 * base/progress.h - how far a long command has got, on stderr. On a terminal: one line
 * rewritten in place ("\r"), at most every PROGRESS_TTY_MS, with the percent done, the rate
 * and the time left ("backup  42%  12,345 pages/s  ETA 3 s"); otherwise (a log, a pipe, CI)
 * plain lines, one every PROGRESS_PLAIN_MS or each tenth of the way, so a log is not flooded.
 * The end prints the total and the time it took. One progress at a time per thread; a total of
 * 0 means not known (no percent, no ETA).
 */
#ifndef RP_PROGRESS_H
#define RP_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#define PROGRESS_TTY_MS   100
#define PROGRESS_PLAIN_MS 5000

struct progress {
    FILE *out;
    char what[48], unit[16];
    int tty;
    uint64_t total, done;
    double t0, last, next_tenth;
};

/* what: the line's first word(s); unit: what is counted ("pages", "areas", "cases"). */
void progress_start(struct progress *p, const char *what, const char *unit, uint64_t total);
/* done so far (not an increment); cheap enough to call per item. */
void progress_set(struct progress *p, uint64_t done);
/* The last line: "what: N unit in T s (R unit/s)". */
void progress_end(struct progress *p);

#endif
