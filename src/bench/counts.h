/*
 * bench/counts.h — deterministic per-operation counts for `lightning bench
 * --measure counts`: instructions, L1 data misses, last-level misses and an
 * estimated cycle figure of the measured phase only, from valgrind's
 * callgrind tool with its cache simulation.
 *
 * How (docs/bench.md, "Counts mode")
 * - bench_counts_exec (the outer process) re-runs this very binary
 *   (/proc/self/exe, same arguments) under
 *     valgrind --tool=callgrind --cache-sim=yes --collect-atstart=no
 *       --I1=32768,8,64 --D1=32768,8,64 --LL=8388608,16,64
 *       --callgrind-out-file=<scratch>/cg.out --log-file=<scratch>/vg.log
 *   and passes <scratch>/cg.out in LIGHTNING_BENCH_CALLGRIND_OUT. The cache
 *   sizes are fixed by option, so counts never depend on the host's caches.
 * - The inner process (bench_counts_active() true) runs the bench with the
 *   hooks of bench_counts_hooks: callgrind's collection state is per thread
 *   and off at start, so nothing is counted (loading, warm-up, the main
 *   thread, the engine's background threads) except the measured loop of
 *   each worker thread, which switches collection on after the start gate
 *   and off when its loop ends (CALLGRIND_TOGGLE_COLLECT). phase_begin
 *   zeroes the counters; phase_end dumps them (CALLGRIND_DUMP_STATS_AT,
 *   one file per phase, written synchronously), reads the dump's
 *   `summary:` line and adds the metrics below to the result.
 * - Metrics (unit, lower is better): ir_per_op (instr/op), d1_misses_per_op
 *   (D1mr + D1mw), ll_misses_per_op (ILmr + DLmr + DLmw), i1_misses_per_op,
 *   est_cycles_per_op = (Ir + 10 x D1 misses + 100 x LL misses) / ops
 *   (cycles/op), all per operation of the measured phase.
 * - --inject-slowdown P in counts mode: the warm-up of each phase is
 *   counted (without busy work) and the busy loop is set to the whole
 *   number of iterations whose counted cost (measured once: a call's fixed
 *   cost plus ~3 instructions per iteration, no memory traffic) is P% of
 *   the warm-up's est_cycles_per_op, so estimated cycles rise by ~P% (the
 *   measured phase's own ops cost a little less or more than the
 *   warm-up's; the result records params.slowdown_spin_iters).
 *
 * Contract: every function returns 0 or -1 with a message in err; none
 * aborts. Client requests are no-ops outside valgrind. Not thread-safe
 * except the worker hooks (each touches only its own thread's state).
 */
#ifndef BENCH_COUNTS_H
#define BENCH_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "bench/runner.h"

#define BENCH_COUNTS_ENV "LIGHTNING_BENCH_CALLGRIND_OUT"
#define BENCH_COUNTS_I1 "32768,8,64"
#define BENCH_COUNTS_D1 "32768,8,64"
#define BENCH_COUNTS_LL "8388608,16,64"
#define BENCH_COUNTS_D1_PENALTY 10
#define BENCH_COUNTS_LL_PENALTY 100
#define BENCH_COUNTS_DEFAULT_OPS 2000
#define BENCH_COUNTS_SPIN_INSTR 3 /* instructions per busy-loop iteration */

/* Event totals of one dump. */
typedef struct bench_counts {
    uint64_t ir, d1_misses, ll_misses, i1_misses;
} bench_counts;

/* (Ir + 10 D1 misses + 100 LL misses): the estimated cycles of c. */
double bench_counts_est_cycles(const bench_counts *c);

/* Parses a callgrind output file: its `events:` line and its `summary:`
 * (or, lacking one, `totals:`) line. 0 or -1 with a message. */
int bench_counts_parse_file(const char *path, bench_counts *out, char *err, size_t cap);

/* 1 when this binary was built with a sanitizer (ASan, TSan): valgrind
 * cannot run it (the sanitizer's shadow memory clashes with valgrind's), so
 * bench_counts_exec refuses with a clear error instead of a failed child. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_COUNTS_SANITIZED 1
#else
#define BENCH_COUNTS_SANITIZED 0
#endif

/* 1 when this process runs under valgrind started by bench_counts_exec. */
int bench_counts_active(void);

/* The outer process: runs this binary with the arguments argv[0..argc)
 * (argv[0] is the subcommand, "bench") under callgrind (above) and returns the child's exit code in *exit_code. -1 with a
 * message when valgrind is missing or cannot be started, or when this
 * binary is a sanitizer build (BENCH_COUNTS_SANITIZED). */
int bench_counts_exec(int argc, char **argv, int *exit_code, char *err, size_t cap);

typedef struct bench_counts_ctx {
    char out_path[4096];  /* callgrind's --callgrind-out-file           */
    unsigned dumps;       /* dumps made so far (file <out>.<n>)         */
    int failed;           /* a dump could not be read                    */
    double spin_fixed;    /* est. cycles of a busy-loop call, 0 iterations */
    double spin_iter;     /* est. cycles per busy-loop iteration (0: not
                             measured yet)                                */
    char err[512];
} bench_counts_ctx;

/* Fills ctx (from the environment) and hooks for bench_run_config.hooks.
 * -1 with a message when not under bench_counts_exec's valgrind. */
int bench_counts_hooks_init(bench_counts_ctx *ctx, bench_run_hooks *hooks, char *err,
                            size_t cap);

#endif /* BENCH_COUNTS_H */
