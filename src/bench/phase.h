/*
 * bench/phase.h — the timing core of `lightning bench`: one timed phase
 * (a warm-up or a measured repetition) of one workload on one open engine
 * handle, with its worker threads. Internal to the bench runner
 * (runner.c sets a phase up and turns its phase_out into a result).
 *
 * Layout of a phase:
 *   caller: counters start -> spawn workers -> wait until all are ready ->
 *           t0, open the gate -> sleep to the deadline (duration mode) ->
 *           raise `stop` -> join -> counters stop
 *   worker: thread_init -> ready, wait at the gate -> loop -> own end time
 *           -> thread_fini
 *
 * Contract
 * - The phase's time is t0 to the latest worker end time, so thread_fini
 *   (SQLite finalising statements, LMDB ending read transactions) is not
 *   counted, and ops/seconds are consistent by construction.
 * - Workers read no clock except around sampled operations (every
 *   cfg->sample_every-th of a measured phase), whose latency goes into a
 *   per-thread histogram merged into out->hist after the join. The loop
 *   allocates nothing, takes no lock and writes no shared memory except
 *   the insert counter (bench/opstream.h) and, on failure, `failed`/`stop`.
 * - Duration mode (total_ops == 0) stops workers through `stop`, which they
 *   read every LOOP_CHUNK operations; op-count mode splits total_ops over
 *   the threads (multi_get counting each key as an op).
 * - CPU time and hardware counters (bench/counters.h) are taken around a
 *   measured phase only, started before the workers exist so perf counters
 *   follow them; out->has_ctr says whether they were.
 * - Hooks: phase_begin runs on the calling thread just before the gate
 *   opens; worker_begin/worker_end on each worker around its loop.
 * - Ownership: the caller fills the phase's inputs and owns out->hist
 *   (initialised before, freed after); the phase's mutex, condition
 *   variable and workers live only inside bench_run_phase. Call from one
 *   thread; a phase value is not reused concurrently.
 */
#ifndef BENCH_PHASE_H
#define BENCH_PHASE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/counters.h"
#include "bench/engine.h"
#include "bench/hist.h"
#include "bench/runner.h"
#include "bench/workloads.h"

typedef struct phase {
    const bench_run_config *cfg;
    const bench_engine *eng;
    void *h;
    const bench_workload *w;
    int threads, rep, measure;
    uint64_t total_ops;          /* 0: run until `stop` */
    double duration_s;
    size_t vs;                   /* value size of writes */
    const unsigned char *pool;
    atomic_uint_fast64_t *ins;   /* next insert index (shared data set) */
    uint64_t present;            /* keys present at phase start */
    int (*get_raw)(void *, const void *, size_t, void *, size_t, size_t *);
    const bench_run_hooks *hooks; /* worker hooks of this phase, or NULL */
    /* the start gate */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready, go;
    atomic_int stop;
    atomic_int failed;
} phase;

typedef struct phase_out {
    uint64_t ops, notfound, items, rejected, accepted;
    double seconds;
    double uncontended_s;        /* seconds minus the wait other processes
                                    caused (schedwait.h); < 0: unknown, or
                                    more than one worker                  */
    bench_hist hist;             /* merged; owned by the caller */
    bench_counters_result ctr;
    int has_ctr;
    char err[512];
} phase_out;

/* Runs one phase; returns BENCH_OK, or BENCH_EFAIL with out->err set. */
int bench_run_phase(phase *ph, phase_out *out, const bench_run_hooks *hooks,
                    const bench_phase_info *info);

#endif /* BENCH_PHASE_H */
