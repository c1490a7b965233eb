/*
 * base/log.h - one line per event on stderr: "2026-11-23T15:04:05.123Z LEVEL message".
 * Lines are formatted into a stack buffer and never interleave; control bytes in a message
 * become '?', so one event is always one line. Warnings and errors are written at once. INFO
 * lines (the access log: one per request) go through a shared buffer that a logger thread
 * writes out every RP_LOG_FLUSH_MS or when it fills, so the hot path costs a memcpy instead of
 * a syscall; the buffer is flushed before any warning or error (so order holds) and by
 * rp_log_stop(). Without rp_log_start() every line is written at once.
 */
#ifndef RP_LOG_H
#define RP_LOG_H

#include <stddef.h>

enum rp_log_level { RP_LOG_DEBUG = 0, RP_LOG_INFO, RP_LOG_WARN, RP_LOG_ERROR };

#define RP_LOG_LINE_MAX     1024 /* longer lines are truncated, never split */
#define RP_LOG_BUFFER_BYTES (64 * 1024)
#define RP_LOG_FLUSH_MS     100

void rp_log_set_level(enum rp_log_level level); /* call before threads start */
int rp_log_start(void); /* starts the logger thread; 0 on success */
void rp_log_stop(void); /* flushes and joins it; NULL-safe to call without start */
void rp_log(enum rp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A message already formatted (len bytes, no newline), e.g. the access line built without printf. */
void rp_log_text(enum rp_log_level level, const char *text, size_t text_len);

#define rp_info(...)  rp_log(RP_LOG_INFO, __VA_ARGS__)
#define rp_warn(...)  rp_log(RP_LOG_WARN, __VA_ARGS__)
#define rp_error(...) rp_log(RP_LOG_ERROR, __VA_ARGS__)

#endif
