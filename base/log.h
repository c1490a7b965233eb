/*
 * base/log.h - one line per event on stderr: "2026-11-23T15:04:05.123Z LEVEL message".
 * Each line is formatted into a stack buffer and written with a single write(2), so lines
 * from concurrent threads never interleave. The level threshold is set once at startup.
 */
#ifndef RP_LOG_H
#define RP_LOG_H

enum rp_log_level { RP_LOG_DEBUG = 0, RP_LOG_INFO, RP_LOG_WARN, RP_LOG_ERROR };

#define RP_LOG_LINE_MAX 1024 /* longer lines are truncated, never split */

void rp_log_set_level(enum rp_log_level level); /* call before threads start */
void rp_log(enum rp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rp_info(...)  rp_log(RP_LOG_INFO, __VA_ARGS__)
#define rp_warn(...)  rp_log(RP_LOG_WARN, __VA_ARGS__)
#define rp_error(...) rp_log(RP_LOG_ERROR, __VA_ARGS__)

#endif
