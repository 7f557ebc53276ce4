/*
 * perf/compare.h — judging a head sample set against a base sample set,
 * series by series, with the verdict of perf/stats.h. Both `check` and `ab`
 * come through here; they differ only in the options:
 *
 *   check  base = the pinned baseline run, head = a later run (not
 *          interleaved, minutes or days apart). Each gated metric gets the
 *          suite's tolerance (read >= 90% of baseline, ...): a regression is
 *          claimed only when the change is significant AND the whole
 *          confidence interval of g lies below 1 - max(tolerance, floor).
 *          The suite's overhead rules (error path vs happy path, both from
 *          the head run) are judged too.
 *   ab     base and head ran interleaved (ABBA) on this machine moments
 *          apart, so machine drift cancels and the only allowance is the
 *          noise floor: tolerance 0, limit 1 - floor. That is what lets ab
 *          see a 5% slowdown that check's 10% tolerance would (rightly)
 *          let through.
 *
 * Sections with measure = counts (deterministic instruction and cache-miss
 * counts) are judged by perf/countcmp.h instead: a relative difference
 * against the suite's counts_threshold, in check and ab alike, with the
 * wall-clock verdict of the same benchmark noted beside each count row.
 * Which rows decide the exit code is the gate (comparison.h, perf_gate_on).
 *
 * Noise floors come from `calibrate` through a lookup callback; a floor
 * measured for groups of k repetitions is rescaled to the n at hand as
 * floor * sqrt(k / n) (medians' spread shrinks like 1/sqrt(n)), never below
 * PERF_NOISE_FLOOR_MIN. Uncalibrated series use the default floor (2%).
 *
 * Contract: pure computation over caller-owned inputs; the result's rows
 * are appended to *out (caller frees with perf_comparison_free). Reentrant.
 */
#ifndef PERF_COMPARE_H
#define PERF_COMPARE_H

#include "perf/comparison.h"
#include "perf/error.h"
#include "perf/history.h"
#include "perf/sample.h"
#include "perf/suite.h"

typedef enum perf_cmp_mode { PERF_CMP_CHECK = 0, PERF_CMP_AB = 1 } perf_cmp_mode;

/* Returns 1 and fills *floor_k (the calibrated floor before clamping) and
 * *k when series k has a calibrated floor, else 0. */
typedef int (*perf_floor_lookup_fn)(void *ctx, const perf_series_key *key, double *raw,
                                    int *k);

typedef struct perf_cmp_opts {
    perf_cmp_mode mode;
    double alpha;             /* default PERF_DEFAULT_ALPHA                 */
    double default_floor;     /* default PERF_DEFAULT_NOISE_FLOOR           */
    uint64_t seed;            /* bootstrap seed, default PERF_DEFAULT_SEED  */
    unsigned resamples;       /* default PERF_DEFAULT_RESAMPLES             */
    int one_per_proc;         /* reduce each process's reps to a median     */
    int estimate_power;       /* fill mde90 by simulation                   */
    perf_floor_lookup_fn floor_lookup;
    void *floor_ctx;
    int gate_on;              /* PERF_GATE_*, or -1 (default): the suite's  */
    int paired;               /* ab: judge wall-clock rows by process pairs
                                 (perf/pairing.h) when both sides have >= 8
                                 matching processes                        */
    double pair_seconds;      /* wall time per round, for INCONCLUSIVE hints */
    int crossover;            /* with paired: judge crossover units of two
                                 consecutive pairs (pairing.h)              */
} perf_cmp_opts;

void perf_cmp_opts_default(perf_cmp_opts *o);

/* Appends one row per (gated suite section, matching series, gated metric)
 * to out and tallies it. 0, or -1 with e set on allocation failure. */
int perf_compare(const perf_suite *s, const perf_sample_set *base, const perf_sample_set *head,
                 const perf_cmp_opts *o, perf_comparison *out, perf_error *e);

/* The noise floor to use for n repetitions given a calibrated raw floor
 * for groups of k (or the default when k == 0). */
double perf_floor_for_n(double raw, int k, size_t n, double default_floor);

/* Robust coefficient of variation: 1.4826 * MAD / median (0 when n < 2). */
double perf_robust_cv(const double *x, size_t n);

/* The smallest slowdown (fraction, from a fixed grid 1%..50%) that the
 * verdict with these options reports as a regression in >= 90% of
 * simulated comparisons with nb/nh repetitions at coefficient of variation
 * cv; -1 when even 50% is not. trials per grid point: 100. */
double perf_min_detectable(size_t nb, size_t nh, double cv, const perf_verdict_opts *vo);

/* Describes what differs between two runs' context: machine fingerprint
 * and sync mode (what comparisons refuse without --force), and notes the
 * suite when it differs. Returns 1 and writes into out when machine or
 * sync mode differ, else 0 (out may still hold a note). */
int perf_runs_mismatch(const perf_run_info *base, const perf_run_info *head, char *out,
                       size_t cap);

#endif /* PERF_COMPARE_H */
