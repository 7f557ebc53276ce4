/*
 * bench/schedwait.h — how long a thread waited for a CPU.
 *
 * Linux's /proc/thread-self/schedstat holds, per thread, the time it ran,
 * the time it was runnable but waited on a run queue (run_delay), and its
 * time slices. A bench thread that waits on a run queue lost the CPU to
 * another thread; a thread that is blocked (I/O, sleep, a lock, a page
 * fault read, SIGSTOP) is not runnable and does not accumulate it. So
 * wall time minus the run_delay that other processes caused is the wall
 * time the workload would have taken on an idle machine, with every
 * off-CPU cost of its own still in it: the measure the regression gate
 * uses on a shared machine (docs/bench.md, "ops_per_sec_uncontended").
 *
 * Contract: bench_sched_wait_ns reads the calling thread's counter;
 * 0 and *ns set, or -1 when the kernel does not provide it (no
 * CONFIG_SCHED_INFO, not Linux). Reentrant, no allocation.
 */
#ifndef BENCH_SCHEDWAIT_H
#define BENCH_SCHEDWAIT_H

#include <stdint.h>

int bench_sched_wait_ns(uint64_t *ns);

/* The calling thread's CPU time in ns (CLOCK_THREAD_CPUTIME_ID), and the
 * whole process's (CLOCK_PROCESS_CPUTIME_ID); 0 on failure. */
uint64_t bench_thread_cpu_ns(void);
uint64_t bench_process_cpu_ns(void);

#endif /* BENCH_SCHEDWAIT_H */
