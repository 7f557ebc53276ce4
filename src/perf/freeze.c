/* perf/freeze.c — SIGSTOP/SIGCONT duty cycle on a process group (freeze.h). */
#include "perf/freeze.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "util/sys.h"

static void sleep_until(const struct timespec *t)
{
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
        ;
}

static void *freezer(void *arg)
{
    perf_freeze *f = arg;
    long long period = (long long)(f->period_ms * 1e6);
    long long frozen = (long long)(period * f->pct / 100.0);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    while (!atomic_load(&f->stop)) {
        sys_timespec_add_ns(&t, (uint64_t)(period - frozen));
        sleep_until(&t);
        if (atomic_load(&f->stop))
            break;
        if (kill(-f->pgid, SIGSTOP) == 0)
            f->stops++;
        sys_timespec_add_ns(&t, (uint64_t)frozen);
        sleep_until(&t);
        kill(-f->pgid, SIGCONT);
    }
    kill(-f->pgid, SIGCONT);
    return NULL;
}

int perf_freeze_start(perf_freeze *f, pid_t pgid, double pct, double period_ms,
                      perf_error *e)
{
    memset(f, 0, sizeof *f);
    if (!(pct > 0 && pct <= 90))
        return perf_seterr(e, "--inject-freeze must be a percentage in (0, 90], not %g", pct);
    if (period_ms <= 0)
        period_ms = PERF_FREEZE_PERIOD_MS;
    if (period_ms < 1 || period_ms > 1000)
        return perf_seterr(e, "freeze period must be 1-1000 ms, not %g", period_ms);
    if (pgid <= 1)
        return perf_seterr(e, "freeze: bad process group %d", (int)pgid);
    f->pgid = pgid;
    f->pct = pct;
    f->period_ms = period_ms;
    atomic_init(&f->stop, 0);
    int err = pthread_create(&f->thread, NULL, freezer, f);
    if (err)
        return perf_seterr(e, "freeze: cannot start its thread: %s", strerror(err));
    f->running = 1;
    return 0;
}

void perf_freeze_stop(perf_freeze *f)
{
    if (!f || !f->running)
        return;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    f->running = 0;
}
