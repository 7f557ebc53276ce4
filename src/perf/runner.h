/*
 * perf/runner.h — driving `lightning bench` for `lightning perf`: one bench
 * process per (group of suite sections with identical parameters), its
 * JSON read back into samples.
 *
 *   perf_run_suite        `run`: each group's repetitions spread over the
 *                         suite's `processes` bench processes, so the
 *                         samples also carry between-process variation.
 *   perf_run_interleaved  `ab`, `calibrate`, `bisect`: for each of R rounds
 *                         and each group, one process of A and one of B, in
 *                         ABBA order (A B | B A | A B ...), one repetition
 *                         each. Slow drifts of the machine (frequency,
 *                         other tenants, page cache) then hit both sides
 *                         alike, and every sample is its own process.
 *                         Sections with pairing = duet run the round's A
 *                         and B processes at the same time instead, each
 *                         pinned to its own CPUs (which side gets which
 *                         alternates by round); A's and B's k-th process
 *                         get the same process index either way, which is
 *                         what perf/pairing.h pairs.
 *
 * Contract
 * - Children are started with posix_spawn and an explicit argv (proc.h);
 *   their stdout/stderr go to files in opts->scratch and the tail of
 *   stderr is quoted when a bench fails. TMPDIR is pointed at the scratch
 *   directory so a crashed bench leaves its data where perf removes it.
 * - A bench that exits non-zero, or whose JSON is missing or corrupt, fails
 *   the whole call (-1, message names the command and quotes its error).
 * - Samples get proc = the index of the process (per side) and repetition
 *   numbered from 0 per side; side->meta keeps the first document's
 *   machine and build (its samples are empty).
 * - A side with freeze_pct > 0 runs its wall-clock processes in their own
 *   process group under perf/freeze.h's duty cycle (counts processes are
 *   never frozen: they have no wall clock to slow).
 * - Single-threaded (the freezer's thread only sends signals); progress goes through opts->progress (may be NULL).
 */
#ifndef PERF_RUNNER_H
#define PERF_RUNNER_H

#include "perf/error.h"
#include "perf/progress.h"
#include "perf/results.h"
#include "perf/sample.h"
#include "perf/suite.h"

typedef struct perf_side {
    const char *label;       /* "A"/"B", "base"/"head": for progress only */
    const char *bin;         /* the `lightning` binary to run             */
    double inject_pct;       /* > 0: --inject-slowdown for this side      */
    double freeze_pct;       /* > 0: this side's wall-clock processes are
                                stopped this % of the time (perf/freeze.h) */
    const char *engine_options; /* this side's LIGHTNING_BENCH_OPTIONS, after
                                the suite's (e.g. the off-CPU injector
                                "inject_every=1000,inject_sleep_us=20");
                                NULL or "" = none                          */
    perf_sample_set samples; /* accumulated                              */
    perf_bench_doc meta;     /* first document's machine/build           */
    int have_meta;
    int procs;               /* processes run so far                      */
    double seconds;          /* wall time spent in this side's processes  */
    char first_args[1024];   /* JSON array: the first bench command line  */
} perf_side;

void perf_side_free(perf_side *s);

typedef struct perf_runner_opts {
    const char *scratch;     /* existing directory for JSON and logs      */
    perf_progress *progress; /* may be NULL                               */
    unsigned reps_override;  /* `run --reps N`: 0 = the suite's           */
    unsigned seed_offset;    /* added to the suite's seed per process, so
                                processes do not replay one key sequence;
                                0 keeps the same seed everywhere          */
    int counts_done;         /* interleaved: the counts sections (measure =
                                counts) already ran; they run once per
                                side, in the first round                  */
} perf_runner_opts;

/* The number of bench processes perf_run_interleaved will start for
 * `rounds` rounds (both sides; counts groups once per side, none when
 * counts_done). */
size_t perf_runner_interleaved_calls(const perf_suite *s, unsigned rounds, int counts_done);
/* The number of bench processes perf_run_suite will start. */
size_t perf_runner_run_calls(const perf_suite *s, unsigned reps_override);

/* `run`: returns 0, or -1 with e set. */
int perf_run_suite(const perf_suite *s, perf_side *side, const perf_runner_opts *o,
                   perf_error *e);

/* `ab`: rounds >= 1; returns 0, or -1 with e set. */
int perf_run_interleaved(const perf_suite *s, perf_side *a, perf_side *b, unsigned rounds,
                         const perf_runner_opts *o, perf_error *e);

#endif /* PERF_RUNNER_H */
