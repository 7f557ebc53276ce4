/*
 * perf/freeze.h — a slowdown that instruction counts cannot see: the
 * measured process group is stopped (SIGSTOP) for pct% of every period and
 * continued (SIGCONT) for the rest, from a thread of the parent. The
 * benchmark's own code is untouched, so its instructions and cache misses
 * stay exactly the same while its wall time grows by about pct/(100-pct)
 * — what a lock wait, an fsync, a page fault storm or a noisy neighbour
 * does to a database. `ab/run --inject-freeze PCT` and `perf selftest` use
 * it to measure what the wall-clock arm of the gate can see.
 *
 * Contract
 * - perf_freeze_start(f, pgid, pct, period_ms): pct in (0, 90], period_ms
 *   in [1, 1000] (default PERF_FREEZE_PERIOD_MS); starts the thread.
 *   perf_freeze_stop joins it and leaves the group continued. Call stop
 *   before the group leader is reaped (perf_proc_wait_exit leaves it
 *   unreaped), so the signals can never reach a recycled process group.
 * - The thread sleeps to absolute deadlines (CLOCK_MONOTONIC), so the
 *   frozen fraction does not drift with scheduling delays; f->stops counts
 *   the stops actually sent.
 * - One freezer per perf_freeze object; the object is owned by the caller.
 */
#ifndef PERF_FREEZE_H
#define PERF_FREEZE_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "perf/error.h"

#define PERF_FREEZE_PERIOD_MS 20.0

typedef struct perf_freeze {
    pthread_t thread;
    pid_t pgid;
    double pct, period_ms;
    atomic_int stop;
    int running;
    unsigned long stops;
} perf_freeze;

int perf_freeze_start(perf_freeze *f, pid_t pgid, double pct, double period_ms,
                      perf_error *e);
void perf_freeze_stop(perf_freeze *f);

#endif /* PERF_FREEZE_H */
