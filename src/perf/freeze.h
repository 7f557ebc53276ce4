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
 * - Wall schedule (on_cpu_time = 0): the thread sleeps to absolute
 *   deadlines (CLOCK_MONOTONIC), so the frozen fraction does not drift with
 *   scheduling delays. On a loaded core this under-injects: a stop reaches
 *   a thread only when it next runs, and a SIGCONT 1 ms later cancels a
 *   stop that never took effect (measured: a spinner sharing its core was
 *   stopped 0.9-1.3% of its wall time at pct 5).
 * - CPU schedule (on_cpu_time = 1; for single-threaded processes, such as
 *   the duet sections): the group runs until its CPU clock has advanced by
 *   (100 - pct)% of a period, is stopped, the freezer waits until every
 *   thread is in the stopped state, and only then holds it pct% of a
 *   period: stopped time is pct% of the time the process would take alone,
 *   whatever the load (measured at pct 10 with a spinner sharing its CPU:
 *   8.3-9.8% of its CPU + stopped time, the last period cut short). f->stops
 *   counts the stops sent, f->stopped_ns the
 *   time held stopped after the stop took effect.
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
    int on_cpu_time;
    unsigned long stops;
    unsigned long long stopped_ns;
} perf_freeze;

int perf_freeze_start(perf_freeze *f, pid_t pgid, double pct, double period_ms,
                      int on_cpu_time, perf_error *e);
void perf_freeze_stop(perf_freeze *f);

#endif /* PERF_FREEZE_H */
