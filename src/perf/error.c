/* perf/error.c — formatting of perf_error messages (see error.h). */
#include "perf/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int perf_seterr(perf_error *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int perf_preperr(perf_error *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char prefix[512], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* Assembled by hand: snprintf("%s: %s") trips -Wformat-truncation. */
    size_t n = perf_strlcpy(e->msg, prefix, sizeof e->msg);
    if (n < sizeof e->msg)
        n += perf_strlcpy(e->msg + n, ": ", sizeof e->msg - n);
    if (n < sizeof e->msg)
        perf_strlcpy(e->msg + n, old, sizeof e->msg - n);
    return -1;
}

void perf_clearerr(perf_error *e)
{
    if (e)
        e->msg[0] = '\0';
}

size_t perf_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = src ? strlen(src) : 0;
    if (cap) {
        size_t c = n < cap - 1 ? n : cap - 1;
        if (c)
            memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

size_t perf_fmt(char *dst, size_t cap, const char *fmt, ...)
{
    if (!cap)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    if (n < 0) {
        dst[0] = '\0';
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
