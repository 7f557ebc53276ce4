/*
 * bench/runner.h — runs workloads (bench/workloads.h) against engines
 * (bench/engine.h) and collects one result per repetition.
 *
 * Contract
 * - bench_run owns every file it creates: a fresh directory under cfg->dir
 *   (or $TMPDIR, or /tmp) holding one subdirectory per engine, removed when
 *   the run ends unless cfg->keep_data. It never deletes anything it did
 *   not create.
 * - Per engine, in cfg->engines order: the `memory` workload on databases
 *   of its own, then the fresh-database workloads (writes, txn), then the
 *   shared data set is loaded once (N keys, batches of 1000 per commit, in
 *   key order or a seeded random order), synced, and read once in key
 *   order (an untimed warm pass that fills the engine's own caches and
 *   checks that every key is there; repeated after the warm startup
 *   workloads, which reopen the engine), and the workloads that use it
 *   run read-only first, then overwriting, then inserting ones.
 *   Each repetition of a timed workload gets its own warm-up (except cold
 *   ones) and then its measured phase.
 * - Measurement: a phase's throughput is total ops over the wall time from
 *   releasing the workers (one barrier) to joining them; workers read no
 *   clock except around sampled operations (every sample_every-th, a power
 *   of two), whose latency goes into per-thread histograms merged after the
 *   join. The hot loop does no allocation, takes no lock and writes no
 *   shared memory (inserting workloads excepted: one atomic add per insert
 *   to number new keys). Duration mode stops workers through a flag they
 *   read every 64 operations; op-count mode splits cfg->ops over threads.
 * - CPU time, peak RSS and hardware counters come from bench/counters.h
 *   around each measured phase (process scope, started before the
 *   workers are created so perf counters follow them). Nothing is
 *   invented: a figure not measured stays absent (has_* = 0).
 * - Determinism: a worker's PRNG stream is a function of (seed, workload
 *   name, repetition, warm-up or measured, thread index) only, so the same
 *   seed gives the same key and operation sequence on every engine (and
 *   bench_workload_sequence reproduces it). Inserting workloads number new
 *   keys through a shared counter, so with several threads which thread
 *   inserts which key depends on timing.
 * - Failures: an engine call failing stops that phase; the engine's
 *   remaining workloads are skipped, its results so far are kept, and it is
 *   marked failed in the report (bench_run then returns 1). An engine whose
 *   open returns BENCH_UNSUPPORTED for the sync mode is skipped and marked
 *   so (not a failure).
 * - Threads: bench_run is called from one thread; it creates and joins its
 *   workers. Hooks run on the calling thread.
 */
#ifndef BENCH_RUNNER_H
#define BENCH_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/counters.h"
#include "bench/engine.h"
#include "bench/machine.h"
#include "bench/workloads.h"

enum { BENCH_LOAD_SEQ = 0, BENCH_LOAD_RANDOM = 1 };
/* Wall clock (the default) or deterministic counts under callgrind
 * (bench/counts.h; the wall-clock figures are then those of a run under
 * valgrind and say nothing about speed). */
enum { BENCH_MEASURE_WALLCLOCK = 0, BENCH_MEASURE_COUNTS = 1 };
enum { BENCH_BETTER_HIGHER = 1, BENCH_BETTER_LOWER = -1 };
enum {
    BENCH_ENGINE_NOT_RUN = 0,
    BENCH_ENGINE_OK,
    BENCH_ENGINE_FAILED,
    BENCH_ENGINE_UNSUPPORTED
};

#define BENCH_MAX_THREAD_COUNTS 16
#define BENCH_MAX_METRICS 16
#define BENCH_LOAD_BATCH 1000

struct bench_result;

/* Information about the phase a hook is called for. */
typedef struct bench_phase_info {
    const char *engine;
    const bench_workload *workload;
    int threads;
    int repetition;       /* 1-based */
    int measured;         /* 1 the measured phase; 0 a warm-up counted for
                             warmup_cost (below) */
} bench_phase_info;

/* Called on the calling thread right before the measured workers are
 * released and right after they are joined: the place for instrumentation
 * that must cover the measured phase only (e.g. valgrind client requests).
 * phase_end may add metrics with bench_result_add_metric. */
typedef struct bench_run_hooks {
    void (*phase_begin)(void *arg, const bench_phase_info *info);
    void (*phase_end)(void *arg, const bench_phase_info *info,
                      struct bench_result *res);
    void *arg;
    /* Optional. Called on each worker thread of a hooked phase right after
     * the start gate opens and right after its operation loop ends (before
     * it reads the clock): per-thread instrumentation of the loop alone. */
    void (*worker_begin)(void *arg);
    void (*worker_end)(void *arg);
    /* Optional: a deterministic --inject-slowdown. When set and the
     * lightning engine is slowed, the warm-up of each phase runs hooked
     * (phase_begin and the worker hooks, info->measured = 0), without busy
     * work, and then this returns the busy-loop iterations per operation
     * that add pct% to the cost of one of its `ops` operations (0: none);
     * the measured phase runs with them (bench_lightning_slowdown_set_iters). */
    uint64_t (*slowdown_iters)(void *arg, const bench_phase_info *info, uint64_t ops,
                               double pct);
} bench_run_hooks;

typedef struct bench_run_config {
    const bench_engine *const *engines;
    size_t n_engines;
    const bench_workload *const *workloads;
    size_t n_workloads;
    uint64_t keys;            /* N: size of the loaded data set */
    size_t key_size;          /* >= BENCH_KEY_MIN_SIZE */
    size_t value_size;        /* >= 1 */
    int threads[BENCH_MAX_THREAD_COUNTS]; /* for workloads without a fixed count */
    size_t n_threads;
    double duration_s;        /* measured phase length (when ops == 0) */
    uint64_t ops;             /* > 0: fixed total op count per phase */
    double warmup_s;          /* warm-up length (when warmup_ops == 0) */
    uint64_t warmup_ops;      /* > 0: fixed warm-up op count */
    int reps;
    uint64_t seed;
    int sync_mode;            /* BENCH_SYNC_* */
    const char *dir;          /* root for the run's data; NULL = $TMPDIR or /tmp */
    bool keep_data;
    unsigned sample_every;    /* latency sampling period, power of two */
    double inject_slowdown_pct; /* lightning only, see engine_lightning.h */
    int load_order;           /* BENCH_LOAD_* */
    int distribution;         /* override for dist_override workloads, or -1 */
    FILE *log;                /* notes; NULL = silent */
    bool progress;            /* a \r progress line on log */
    const bench_run_hooks *hooks; /* may be NULL */
    int measure;              /* BENCH_MEASURE_*: what the results record */
    /* Called with made = 1 once the run's directory exists and made = 0
     * once it is removed (never with keep_data): the command registers it
     * for removal when it is interrupted. May be NULL. */
    void (*on_run_dir)(const char *path, int made);
} bench_run_config;

/* Defaults: 100000 keys, 16 B keys, 1024 B values, threads {1}, 2 s
 * measured, 0.5 s warm-up, 3 repetitions, seed 42, sync none, sample every
 * 16th op, sequential load, no override, no log. */
void bench_run_config_init(bench_run_config *c);
/* Checks ranges; returns 0, or -1 with a message in err. */
int bench_run_config_check(const bench_run_config *c, char *err, size_t cap);

typedef struct bench_metric {
    char name[40];
    double value;
    char unit[16];
    int better;               /* BENCH_BETTER_* */
} bench_metric;

typedef struct bench_result {
    const bench_workload *workload;
    size_t engine_index;      /* into cfg->engines */
    const char *engine;
    int sync_mode;
    int threads;
    int repetition;           /* 1-based */
    uint64_t ops;
    double seconds;
    double ops_per_sec;       /* ops / seconds */
    uint64_t lat_samples;     /* 0: latency figures are absent (null) */
    uint64_t lat_p50, lat_p90, lat_p95, lat_p99, lat_p999, lat_max;
    bench_counters_result counters;
    uint64_t notfound;        /* gets answered "not found" */
    uint64_t rejected;        /* error-invalid: calls rejected as expected */
    uint64_t items;           /* keys visited by scans */
    int dist;                 /* effective distribution */
    int checkpoint;           /* startup on lightning: 1 opened from a
                                 checkpoint, 0 not; -1 not applicable */
    double slowdown_pct;      /* injected slowdown actually applied */
    double slowdown_spin_ns;  /* busy work added per operation */
    uint64_t slowdown_spin_iters; /* busy-loop iterations per operation
                                     when set deterministically (counts) */
    /* Figures beyond the fixed fields (never a copy of one of them):
     * keys_per_sec, puts_per_sec, bytes_per_key, open_s, ... */
    bench_metric metrics[BENCH_MAX_METRICS];
    size_t n_metrics;
    /* What judges this result: "ops_per_sec" (the field) or the name of one
     * of the metrics (memory: bytes_per_key, startup: open_s). */
    char primary[40];
} bench_result;

/* Adds (or replaces) a metric; returns 0, or -1 when the table is full. */
int bench_result_add_metric(bench_result *r, const char *name, double value,
                            const char *unit, int better);
const bench_metric *bench_result_metric(const bench_result *r,
                                        const char *name);

typedef struct bench_engine_report {
    const char *name;
    int status;               /* BENCH_ENGINE_* */
    char config[1024];        /* the adapter's description of the shared
                                 data set's open (else of its first open) */
    char configs[3][1024];    /* every distinct description seen (sizing
                                 differs: fresh databases are sized for
                                 the writes they may receive) */
    size_t n_configs;
    char error[512];
    double load_seconds;      /* < 0 when no data set was loaded */
    uint64_t load_keys;
} bench_engine_report;

typedef struct bench_report {
    bench_run_config cfg;     /* a copy; its arrays are the caller's */
    bench_machine machine;
    bench_build build;
    char started_utc[32];     /* ISO 8601 */
    double timer_overhead_ns; /* cost of one clock read (inside each sample) */
    int perf_available;
    char perf_reason[192];
    bench_engine_report *engines; /* cfg.n_engines entries */
    bench_result *results;
    size_t n_results, cap_results;
    char **notes;             /* one-line remarks, also printed to cfg.log */
    size_t n_notes, cap_notes;
    /* progress of the run (for the progress line) */
    size_t phases_done, phases_total;
    uint64_t start_ns;
} bench_report;

/* Runs everything cfg asks for into *rep (which the caller frees with
 * bench_report_free, whatever the return). Returns 0 when every engine
 * ran, 1 when some engine failed, 2 on a bad configuration or a setup
 * failure (message in rep's notes and on cfg->log). */
int bench_run(const bench_run_config *cfg, bench_report *rep);
void bench_report_free(bench_report *rep);

/* The operation and key sequence a worker of a measured (measure = 1) or
 * warm-up phase draws: ops[i] is the bench_op (or -1 for a non-mix op),
 * idx[i] the key index (for a txn or multi_get, each key of a call is one
 * entry). Inserts draw from a private counter starting at cfg->keys. For
 * tests of determinism; the workers run the same generator. Returns 0, or
 * -1 on a bad workload/config. */
int bench_workload_sequence(const bench_workload *w, const bench_run_config *cfg,
                            int thread, int threads, int repetition,
                            int measure, size_t n, int *ops, uint64_t *idx);

/* The key bytes for a key index of a workload (key_size bytes into out),
 * exactly as the workers format them. */
void bench_workload_key(const bench_workload *w, size_t key_size,
                        uint64_t idx, void *out);

/* "none", "normal", "full" (the CLI's and the JSON's spelling). */
const char *bench_sync_name(int mode);
/* Case-insensitive inverse of bench_sync_name; 0 or -1. */
int bench_sync_parse(const char *s, int *mode);

#endif /* BENCH_RUNNER_H */
