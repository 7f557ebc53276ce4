/*
 * bench/counters.h — resource counters around one measured phase: wall
 * time, user/system CPU seconds, peak RSS, and instructions/cycles from the
 * PMU through perf_event_open where the kernel offers them.
 *
 * Contract
 * - Usage: bench_counters_start(&c, flags) before the phase, then
 *   bench_counters_stop(&c, &result) after it. Between the two, `c` owns up
 *   to two perf file descriptors; stop (or bench_counters_cancel) closes
 *   them. A bench_counters is used by one thread at a time.
 * - Scope: BENCH_COUNTERS_PROCESS counts the whole process (RUSAGE_SELF;
 *   perf counters with `inherit`, which follow the starting thread and the
 *   threads it creates AFTER start: start the phase, then spawn its
 *   workers). BENCH_COUNTERS_THREAD counts the calling thread only
 *   (RUSAGE_THREAD, a per-thread perf counter); stop must run on the thread
 *   that called start.
 * - Honesty: a figure that could not be measured has its has_* flag at 0 and
 *   its value at 0, with the reason recorded; callers write JSON null for it
 *   (bench_counters_json_set does). Hardware counters fail in most VMs
 *   (errno ENOENT or EOPNOTSUPP): that is reported, never estimated. When
 *   the kernel multiplexed the counters, the counts are scaled by
 *   time_enabled / time_running as `perf stat` does, and perf_scaled says so.
 * - Peak RSS is a property of the process, whatever the scope. Linux keeps
 *   one high-water mark (VmHWM) per process and only lets it be reset by
 *   writing "5" to /proc/self/clear_refs. start does that (unless
 *   BENCH_COUNTERS_NO_RSS_RESET) so the peak at stop is this phase's peak,
 *   and rss_peak_is_phase records whether the reset worked; if it did not,
 *   rss_peak_bytes is the process-lifetime peak. Phases that overlap in time
 *   must not both reset it: give the inner ones NO_RSS_RESET.
 * - Neither start nor stop allocates on the heap.
 */
#ifndef BENCH_COUNTERS_H
#define BENCH_COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

struct json_t; /* jansson's type, kept out of this header */

enum {
    BENCH_COUNTERS_PROCESS = 0,
    BENCH_COUNTERS_THREAD = 1,
    /* Flags, or-ed with the scope: */
    BENCH_COUNTERS_NO_PERF = 2,      /* do not open hardware counters */
    BENCH_COUNTERS_NO_RSS_RESET = 4  /* do not reset the RSS high-water mark */
};

typedef struct bench_counters_result {
    double wall_s;
    int has_cpu;              /* getrusage worked at both ends */
    double cpu_user_s, cpu_sys_s;

    int has_rss_peak;
    uint64_t rss_peak_bytes;  /* VmHWM at stop */
    int rss_peak_is_phase;    /* 1: reset at start worked, peak is this phase's */
    int rss_reset_errno;      /* why the reset failed (0 if it worked/skipped) */
    uint64_t ru_maxrss_bytes; /* getrusage's lifetime peak (never reset) */

    int has_instructions, has_cycles;
    uint64_t instructions, cycles;
    int perf_scaled;          /* counts extrapolated because of multiplexing */
    int perf_errno;           /* errno of the failed perf call, 0 if none */
    char perf_reason[192];    /* why instructions/cycles are missing, or "" */
} bench_counters_result;

/* Fields private; visible for embedding. */
typedef struct bench_counters {
    int flags;
    int running;
    struct timespec t0;
    struct rusage ru0;
    int fd_insn, fd_cyc;      /* -1 when not open */
    int grouped;              /* fd_cyc is in fd_insn's group */
    int perf_errno;
    char perf_reason[192];
    int rss_reset_ok, rss_reset_errno;
} bench_counters;

/* Starts a phase. A perf or RSS-reset failure is not an error (it is
 * reported by stop); returns -1 (errno set) only for a bad flag or if the
 * clock or getrusage fails. */
int bench_counters_start(bench_counters *c, int flags);
/* Ends the phase started on c and fills *out. Returns 0, or -1 with
 * errno = EINVAL if c was not started (out is then zeroed). */
int bench_counters_stop(bench_counters *c, bench_counters_result *out);
/* Ends a started phase without a result (error paths). */
void bench_counters_cancel(bench_counters *c);

/* Whether instructions/cycles can be counted here: opens and closes a
 * counter. Returns 1, or 0 with the reason in reason[cap] (may be NULL),
 * for a one-line note at startup ("instructions: unavailable: ..."). */
int bench_counters_perf_available(char *reason, size_t cap);

/* Sets obj's "cpu_user_s", "cpu_sys_s", "rss_peak_bytes", "instructions"
 * and "cycles" (null where the has_* flag is 0) and "rss_peak_scope" ("phase" or
 * "process", or null), replacing existing members. Returns 0 or -1. */
int bench_counters_json_set(struct json_t *obj, const bench_counters_result *r);

#endif /* BENCH_COUNTERS_H */
