/*
 * perf/error.h — the error message carrier of `lightning perf`'s library
 * code (history, suite, results, compare, runner, report, ...).
 *
 * Contract
 * - A function that can fail returns 0 on success or -1 (sometimes a
 *   documented positive code) and, on failure, writes one human sentence
 *   into the caller's perf_error (never NULL-terminated garbage: msg is
 *   always a C string). The CLI prints it as "lightning: perf: <msg>".
 * - perf_error is a plain caller-owned struct; nothing to free. A NULL
 *   perf_error pointer is allowed everywhere and drops the message.
 * - Thread-safety: none needed; each caller owns its struct.
 */
#ifndef PERF_ERROR_H
#define PERF_ERROR_H

#include <stddef.h>

typedef struct perf_error {
    char msg[1024];
} perf_error;

/* Formats into e->msg (truncating); returns -1 so error paths can say
 * `return perf_seterr(e, ...)`. */
int perf_seterr(perf_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to an existing message (context while unwinding). */
int perf_preperr(perf_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clears e->msg. */
void perf_clearerr(perf_error *e);

/* snprintf for messages whose truncation is acceptable: a function, so
 * -Wformat-truncation does not flag every long-name case. Returns the
 * length written (not the would-be length). */
size_t perf_fmt(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Bounded copy that always terminates; returns strlen(src) like strlcpy. */
size_t perf_strlcpy(char *dst, const char *src, size_t cap);

#endif /* PERF_ERROR_H */
