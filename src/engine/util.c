/*
 * engine/util.c — the thread-local error message and errno mapping.
 */
#include "engine/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "lightningdb.h"

static _Thread_local char util_errbuf[512];

#if defined(__SANITIZE_THREAD__)
_Atomic unsigned util_tsan_fence_word;
#endif

void util_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(util_errbuf, sizeof util_errbuf, fmt, ap);
    va_end(ap);
}

void util_clear_error(void) { util_errbuf[0] = '\0'; }

const char *util_last_error(void) { return util_errbuf; }

int util_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0) return LDB_NOMEM;
    int r = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    if (r == 0) r = pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
    return r == 0 ? LDB_OK : LDB_NOMEM;
}

void util_deadline_ms(struct timespec *ts, uint64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    uint64_t ns = (uint64_t)ts->tv_nsec + ms * 1000000ull;
    ts->tv_sec += (time_t)(ns / 1000000000ull);
    ts->tv_nsec = (long)(ns % 1000000000ull);
}

int util_errno_to_rc(int err)
{
    switch (err) {
    case ENOSPC:
    case EDQUOT: return LDB_NOSPACE;
    case ENOMEM: return LDB_NOMEM;
    case EWOULDBLOCK: return LDB_BUSY;
    case EROFS:
    case EACCES:
    case EPERM: return LDB_READONLY;
    case ENOENT: return LDB_NOTFOUND;
    default: return LDB_IO;
    }
}
