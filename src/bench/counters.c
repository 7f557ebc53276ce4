/*
 * bench/counters.c — per-phase resource counters; see counters.h.
 */
#include "bench/counters.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- small /proc readers without stdio (start/stop must not allocate) -- */

/* Reads up to cap-1 bytes of path into buf, terminated; -1 on failure. */
static ssize_t read_small_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* VmHWM of this process in bytes, or -1 when /proc does not say. */
static int read_vmhwm(uint64_t *bytes)
{
    char buf[4096];
    if (read_small_file("/proc/self/status", buf, sizeof buf) <= 0)
        return -1;
    const char *p = strstr(buf, "\nVmHWM:");
    if (!p)
        return -1;
    unsigned long long kb;
    if (sscanf(p + 7, " %llu kB", &kb) != 1)
        return -1;
    *bytes = (uint64_t)kb * 1024;
    return 0;
}

/* ---- perf_event_open ----------------------------------------------------- */

static int perf_open(uint64_t config, int group_fd, int inherit, int in_group)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_HARDWARE;
    a.config = config;
    /* A group member follows its leader; everything else starts disabled
     * and is enabled by start, so setup cost is not counted. */
    a.disabled = group_fd < 0;
    /* User space only: allowed at perf_event_paranoid <= 2 (the usual
     * default) and what a benchmark of library code wants to count. */
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.inherit = inherit ? 1 : 0;
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
                    PERF_FORMAT_TOTAL_TIME_RUNNING |
                    (in_group ? PERF_FORMAT_GROUP : 0);
    long fd = syscall(SYS_perf_event_open, &a, 0 /* this task */,
                      -1 /* any cpu */, group_fd, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -1 : (int)fd;
}

static void perf_explain(int err, const char *what, char *out, size_t cap)
{
    char paranoid[32] = "unknown";
    const char *hint = "";
    if (read_small_file("/proc/sys/kernel/perf_event_paranoid", paranoid,
                        sizeof paranoid) > 0)
        paranoid[strcspn(paranoid, "\n")] = '\0';
    switch (err) {
    case ENOENT:
    case EOPNOTSUPP:
        hint = ": no hardware performance counters here (usual in a VM)";
        break;
    case EACCES:
    case EPERM:
        hint = ": not permitted (see kernel.perf_event_paranoid)";
        break;
    case ENOSYS:
        hint = ": kernel built without perf events";
        break;
    case EMFILE:
    case ENFILE:
        hint = ": out of file descriptors";
        break;
    default:
        break;
    }
    snprintf(out, cap, "%s: %s (errno %d)%s; perf_event_paranoid=%s", what,
             strerror(err), err, hint, paranoid);
}

static void perf_close(bench_counters *c)
{
    if (c->fd_cyc >= 0)
        close(c->fd_cyc);
    if (c->fd_insn >= 0)
        close(c->fd_insn);
    c->fd_cyc = c->fd_insn = -1;
}

/* Opens {instructions, cycles}, as a group when the kernel accepts it (both
 * then run on the PMU at the same moments, so their ratio is exact even
 * when multiplexed), else as two separate counters. */
static void perf_setup(bench_counters *c, int inherit)
{
    c->fd_insn = perf_open(PERF_COUNT_HW_INSTRUCTIONS, -1, inherit, 1);
    if (c->fd_insn < 0)
        goto fail_insn;
    c->fd_cyc = perf_open(PERF_COUNT_HW_CPU_CYCLES, c->fd_insn, inherit, 1);
    if (c->fd_cyc >= 0) {
        c->grouped = 1;
        return;
    }
    /* Some kernels refuse a group with inherit: fall back to two leaders. */
    close(c->fd_insn);
    c->fd_insn = perf_open(PERF_COUNT_HW_INSTRUCTIONS, -1, inherit, 0);
    if (c->fd_insn < 0)
        goto fail_insn;
    c->fd_cyc = perf_open(PERF_COUNT_HW_CPU_CYCLES, -1, inherit, 0);
    if (c->fd_cyc < 0) {
        c->perf_errno = errno;
        perf_explain(errno, "perf_event_open(cycles)", c->perf_reason,
                     sizeof c->perf_reason);
        perf_close(c);
    }
    return;
fail_insn:
    c->perf_errno = errno;
    perf_explain(errno, "perf_event_open(instructions)", c->perf_reason,
                 sizeof c->perf_reason);
    c->fd_insn = -1;
}

/* Scales a count for multiplexing; 0 when the counter never ran. */
static int perf_value(uint64_t raw, uint64_t enabled, uint64_t running,
                      uint64_t *out, int *scaled)
{
    if (running == 0)
        return -1;
    if (running < enabled) {
        *scaled = 1;
        *out = (uint64_t)((double)raw * (double)enabled / (double)running);
    } else {
        *out = raw;
    }
    return 0;
}

static void perf_collect(bench_counters *c, bench_counters_result *r)
{
    uint64_t insn = 0, cyc = 0;
    int ok = 0;
    if (c->grouped) {
        struct { uint64_t nr, enabled, running, v[2]; } g;
        ioctl(c->fd_insn, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
        if (read(c->fd_insn, &g, sizeof g) == (ssize_t)sizeof g && g.nr == 2 &&
            perf_value(g.v[0], g.enabled, g.running, &insn, &r->perf_scaled) == 0 &&
            perf_value(g.v[1], g.enabled, g.running, &cyc, &r->perf_scaled) == 0)
            ok = 1;
    } else {
        struct { uint64_t v, enabled, running; } a, b;
        ioctl(c->fd_insn, PERF_EVENT_IOC_DISABLE, 0);
        ioctl(c->fd_cyc, PERF_EVENT_IOC_DISABLE, 0);
        if (read(c->fd_insn, &a, sizeof a) == (ssize_t)sizeof a &&
            read(c->fd_cyc, &b, sizeof b) == (ssize_t)sizeof b &&
            perf_value(a.v, a.enabled, a.running, &insn, &r->perf_scaled) == 0 &&
            perf_value(b.v, b.enabled, b.running, &cyc, &r->perf_scaled) == 0)
            ok = 1;
    }
    if (ok) {
        r->has_instructions = r->has_cycles = 1;
        r->instructions = insn;
        r->cycles = cyc;
    } else {
        r->perf_scaled = 0;
        r->perf_errno = errno;
        snprintf(r->perf_reason, sizeof r->perf_reason,
                 "counters opened but never ran (PMU busy or read failed)");
    }
}

/* ---- phases -------------------------------------------------------------- */

int bench_counters_start(bench_counters *c, int flags)
{
    int valid = BENCH_COUNTERS_THREAD | BENCH_COUNTERS_NO_PERF |
                BENCH_COUNTERS_NO_RSS_RESET;
    memset(c, 0, sizeof *c);
    c->fd_insn = c->fd_cyc = -1;
    if (flags & ~valid) {
        errno = EINVAL;
        return -1;
    }
    c->flags = flags;
    int thread = flags & BENCH_COUNTERS_THREAD;

    if (flags & BENCH_COUNTERS_NO_PERF)
        snprintf(c->perf_reason, sizeof c->perf_reason,
                 "hardware counters not requested");
    else
        perf_setup(c, !thread);

    if (!(flags & BENCH_COUNTERS_NO_RSS_RESET)) {
        int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
        if (fd >= 0 && write(fd, "5", 1) == 1)
            c->rss_reset_ok = 1;
        else
            c->rss_reset_errno = errno ? errno : EIO;
        if (fd >= 0)
            close(fd);
    }

    /* The clocks are read last and the counters enabled at the very end, so
     * the phase's figures leave out this function's own work. */
    if (getrusage(thread ? RUSAGE_THREAD : RUSAGE_SELF, &c->ru0) != 0 ||
        clock_gettime(CLOCK_MONOTONIC, &c->t0) != 0)
        goto fail;
    if (c->fd_insn >= 0) {
        if (c->grouped) {
            ioctl(c->fd_insn, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
            ioctl(c->fd_insn, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
        } else {
            ioctl(c->fd_insn, PERF_EVENT_IOC_RESET, 0);
            ioctl(c->fd_cyc, PERF_EVENT_IOC_RESET, 0);
            ioctl(c->fd_insn, PERF_EVENT_IOC_ENABLE, 0);
            ioctl(c->fd_cyc, PERF_EVENT_IOC_ENABLE, 0);
        }
    }
    c->running = 1;
    return 0;
fail:
    {
        int e = errno;
        perf_close(c);
        errno = e;
    }
    return -1;
}

static double tv_diff(struct timeval a, struct timeval b)
{
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_usec - a.tv_usec) * 1e-6;
}

int bench_counters_stop(bench_counters *c, bench_counters_result *out)
{
    memset(out, 0, sizeof *out);
    if (!c->running) {
        errno = EINVAL;
        return -1;
    }
    /* Counters first: the rest of stop should not be counted. */
    if (c->fd_insn >= 0)
        perf_collect(c, out);
    else {
        out->perf_errno = c->perf_errno;
        memcpy(out->perf_reason, c->perf_reason, sizeof out->perf_reason);
    }
    perf_close(c);

    struct timespec t1;
    struct rusage ru1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->wall_s = (double)(t1.tv_sec - c->t0.tv_sec) +
                  (double)(t1.tv_nsec - c->t0.tv_nsec) * 1e-9;
    int thread = c->flags & BENCH_COUNTERS_THREAD;
    if (getrusage(thread ? RUSAGE_THREAD : RUSAGE_SELF, &ru1) == 0) {
        out->has_cpu = 1;
        out->cpu_user_s = tv_diff(c->ru0.ru_utime, ru1.ru_utime);
        out->cpu_sys_s = tv_diff(c->ru0.ru_stime, ru1.ru_stime);
    }
    struct rusage self;
    if (getrusage(RUSAGE_SELF, &self) == 0)
        out->ru_maxrss_bytes = (uint64_t)self.ru_maxrss * 1024; /* KiB on Linux */

    out->rss_reset_errno = c->rss_reset_errno;
    if (read_vmhwm(&out->rss_peak_bytes) == 0) {
        out->has_rss_peak = 1;
        out->rss_peak_is_phase = c->rss_reset_ok;
    } else if (out->ru_maxrss_bytes) {
        /* Without /proc the lifetime peak is all there is; say so. */
        out->has_rss_peak = 1;
        out->rss_peak_bytes = out->ru_maxrss_bytes;
        out->rss_peak_is_phase = 0;
    }
    c->running = 0;
    return 0;
}

void bench_counters_cancel(bench_counters *c)
{
    perf_close(c);
    c->running = 0;
}

int bench_counters_perf_available(char *reason, size_t cap)
{
    int fd = perf_open(PERF_COUNT_HW_INSTRUCTIONS, -1, 0, 0);
    if (fd < 0) {
        if (reason && cap)
            perf_explain(errno, "perf_event_open(instructions)", reason, cap);
        return 0;
    }
    close(fd);
    if (reason && cap)
        reason[0] = '\0';
    return 1;
}

/* ---- JSON ---------------------------------------------------------------- */

static int set(json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new(obj, key, v) : -1;
}

int bench_counters_json_set(json_t *obj, const bench_counters_result *r)
{
    int rc = 0;
    rc |= set(obj, "cpu_user_s", r->has_cpu ? json_real(r->cpu_user_s) : json_null());
    rc |= set(obj, "cpu_sys_s", r->has_cpu ? json_real(r->cpu_sys_s) : json_null());
    rc |= set(obj, "rss_peak_bytes", r->has_rss_peak
                                         ? json_integer((json_int_t)r->rss_peak_bytes)
                                         : json_null());
    rc |= set(obj, "rss_peak_scope",
              !r->has_rss_peak ? json_null()
                               : json_string(r->rss_peak_is_phase ? "phase" : "process"));
    rc |= set(obj, "instructions", r->has_instructions
                                       ? json_integer((json_int_t)r->instructions)
                                       : json_null());
    rc |= set(obj, "cycles", r->has_cycles ? json_integer((json_int_t)r->cycles)
                                           : json_null());
    return rc ? -1 : 0;
}
