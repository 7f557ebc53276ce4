/* perf/freeze.c — SIGSTOP/SIGCONT duty cycle on a process group (freeze.h). */
#include "perf/freeze.h"

#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/sys.h"

static void sleep_until(const struct timespec *t)
{
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
        ;
}

static long long mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void nap_ns(long long ns)
{
    struct timespec t = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
    while (nanosleep(&t, &t) == EINTR)
        ;
}

/* 1 when every thread of pid is stopped (or gone), 0 when one still is
 * not, -1 when the process cannot be read. */
static int all_stopped(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int all = 1;
    struct dirent *de;
    while (all && (de = readdir(d))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        char sp[96], buf[512];
        snprintf(sp, sizeof sp, "/proc/%d/task/%.20s/stat", (int)pid, de->d_name);
        FILE *f = fopen(sp, "r");
        if (!f)
            continue; /* the thread exited */
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *rp = strrchr(buf, ')'); /* the name may hold spaces */
        char st = rp && rp[1] == ' ' ? rp[2] : '?';
        if (st != 'T' && st != 't' && st != 'Z' && st != 'X')
            all = 0;
    }
    closedir(d);
    return all;
}

static long long cpu_ns(clockid_t cid)
{
    struct timespec t;
    if (clock_gettime(cid, &t))
        return -1;
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The CPU schedule (freeze.h): run (100 - pct)% of a period of the group's
 * CPU time, stop, wait for the stop to take effect, hold pct% of a period. */
static void freeze_on_cpu(perf_freeze *f, long long run_ns, long long frozen_ns)
{
    clockid_t cid;
    if (clock_getcpuclockid(f->pgid, &cid))
        return;
    /* On a loaded machine the freezer's own wake-ups come late, and every
     * late SIGCONT lengthens a stop (measured: 20% stopped at pct 10 on a
     * CPU shared three ways). A real-time priority makes them prompt where
     * permitted (root, CAP_SYS_NICE); the rest is paid back: time held
     * beyond frozen_ns shortens the next holds. */
    struct sched_param sp = {.sched_priority = 1};
    (void)pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    long long debt = 0;
    while (!atomic_load(&f->stop)) {
        long long c0 = cpu_ns(cid);
        if (c0 < 0)
            return;
        /* A single thread's CPU clock advances at most as fast as the
         * wall clock, so sleeping what is left never overshoots. */
        for (;;) {
            long long c = cpu_ns(cid);
            if (c < 0)
                return;
            long long left = run_ns - (c - c0);
            if (left <= 0 || atomic_load(&f->stop))
                break;
            nap_ns(left > 200000 ? left : 200000);
        }
        if (atomic_load(&f->stop))
            break;
        if (kill(-f->pgid, SIGSTOP) != 0)
            return;
        f->stops++;
        /* Until the stop has reached every thread (a waiting thread takes
         * it when it next runs); 100 us polls, at most one second. */
        for (long long t0 = mono_ns(); all_stopped(f->pgid) == 0 && mono_ns() - t0 < 1000000000LL;)
            nap_ns(100000);
        long long s0 = mono_ns(), hold = frozen_ns - debt;
        if (hold > 0)
            nap_ns(hold);
        kill(-f->pgid, SIGCONT);
        long long held = mono_ns() - s0;
        f->stopped_ns += (unsigned long long)held;
        debt += held - frozen_ns;
        if (debt < 0)
            debt = 0;
    }
}

static void *freezer(void *arg)
{
    perf_freeze *f = arg;
    long long period = (long long)(f->period_ms * 1e6);
    long long frozen = (long long)(period * f->pct / 100.0);
    if (f->on_cpu_time) {
        freeze_on_cpu(f, period - frozen, frozen);
        kill(-f->pgid, SIGCONT);
        return NULL;
    }
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
                      int on_cpu_time, perf_error *e)
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
    f->on_cpu_time = on_cpu_time;
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
