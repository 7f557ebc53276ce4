/*
 * perf/stats.h — the statistics core of `lightning perf`: descriptive
 * statistics, the Mann–Whitney U test, a seeded bootstrap confidence interval
 * of the ratio of medians, the direction-aware verdict, noise-floor
 * calibration from A/A data, E-Divisive change points, slow-drift tests
 * (Theil–Sen, Mann–Kendall) and a simulator that measures the verdict's error
 * rates. docs/statistics.md explains the methods and their parameters.
 *
 * Contract
 * - Pure computation over caller-owned arrays of doubles. Inputs are never
 *   modified; scratch memory is allocated inside a call and freed before it
 *   returns. No global state: every function is reentrant and thread-safe.
 * - Every function that can fail returns PERF_STAT_OK (0) or a negative
 *   PERF_STAT_E* code and writes its results through pointers only on
 *   success. Nothing aborts, exits or prints. NaN or infinite samples give
 *   PERF_STAT_ENAN; NULL pointers give PERF_STAT_EINVAL.
 * - Randomised methods (bootstrap, permutation test, calibration,
 *   simulation) take an explicit 64-bit seed: the same inputs and seed give
 *   bit-identical outputs, so a verdict can be reproduced from its record.
 * - Option structs: pass NULL for the documented defaults, or fill one with
 *   its *_default() function and change fields.
 * - Callers: the compare/check/ab/trend/calibrate code in src/perf and the
 *   tests in tests/unit/test_perf_stats.c.
 */
#ifndef PERF_STATS_H
#define PERF_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "perf/rng.h"

/* ---- error codes ------------------------------------------------------- */

enum {
    PERF_STAT_OK = 0,
    PERF_STAT_EINVAL = -1,  /* NULL pointer or option out of range        */
    PERF_STAT_ETOOFEW = -2, /* fewer samples than the method needs         */
    PERF_STAT_ENAN = -3,    /* a NaN or infinite sample                    */
    PERF_STAT_EDOMAIN = -4, /* a sample outside the method's domain (<= 0
                               for ratios, zero mean for the CV), or an
                               exact p-value requested where none exists */
    PERF_STAT_ENOMEM = -5,  /* scratch allocation failed                   */
    PERF_STAT_ERANGE = -6   /* the caller's output array is too small      */
};

const char *perf_stat_strerror(int rc);

/* ---- defaults (docs/statistics.md says why each is what it is) ---------- */

/* Repetitions per side that `lightning perf run` and `ab` use: the smallest
 * round count at which, under log-normal noise with CV 3% and 2% outliers
 * and the default 2% noise floor, a 5% slowdown is caught >= 90% of the time
 * with margin (measured 92.8-93.5%; 55 reps give 89.7%) while A/A false
 * alarms stay <= 1% (measured 0.0%). test_error_rates_default_reps holds it
 * to that; docs/statistics.md has the measurements. */
#define PERF_DEFAULT_REPS 60u
#define PERF_DEFAULT_ALPHA 0.01
#define PERF_DEFAULT_CONFIDENCE 0.99      /* = 1 - alpha                  */
#define PERF_DEFAULT_NOISE_FLOOR 0.02     /* until `calibrate` measures it */
#define PERF_NOISE_FLOOR_MIN 0.005        /* calibration never goes below  */
#define PERF_DEFAULT_RESAMPLES 10000u
#define PERF_MIN_RESAMPLES 100u
#define PERF_DEFAULT_SEED 0x4c696768746eULL /* "Lightn"; any fixed value   */
#define PERF_REPS_NEEDED_MAX 500u         /* cap of the INCONCLUSIVE hint   */

/* ---- descriptive statistics -------------------------------------------- */

int perf_mean(const double *x, size_t n, double *out);              /* n >= 1 */
/* Sample standard deviation (divisor n - 1). */
int perf_stddev(const double *x, size_t n, double *out);            /* n >= 2 */
/* Coefficient of variation stddev/|mean|; PERF_STAT_EDOMAIN if mean is 0. */
int perf_cv(const double *x, size_t n, double *out);                /* n >= 2 */
int perf_median(const double *x, size_t n, double *out);            /* n >= 1 */
/* Hyndman & Fan type 7 (R's default, numpy's "linear"): with the sorted
 * sample x(0..n-1) and h = (n-1)p, x(floor h) + (h - floor h) *
 * (x(floor h + 1) - x(floor h)). p in [0, 1]. */
int perf_quantile(const double *x, size_t n, double p, double *out); /* n >= 1 */
/* Median absolute deviation from the median, unscaled (multiply by 1.4826
 * for a consistent estimate of a normal sigma). */
int perf_mad(const double *x, size_t n, double *out);               /* n >= 1 */

typedef struct perf_summary {
    size_t n;
    double mean, stddev, cv;  /* stddev and cv are 0 when n == 1 */
    double min, p05, median, p95, max, mad;
} perf_summary;

/* All of the above in one call (one copy, one sort). n >= 1; cv is 0 when
 * the mean is 0. */
int perf_describe(const double *x, size_t n, perf_summary *out);

/* ---- Mann–Whitney U, two-sided ----------------------------------------- */

typedef enum {
    PERF_MW_AUTO = 0,   /* exact when perf_mw_exact_possible(), else normal */
    PERF_MW_EXACT = 1,  /* PERF_STAT_EDOMAIN when exact is not possible    */
    PERF_MW_NORMAL = 2  /* normal approximation even without ties          */
} perf_mw_method;

typedef struct perf_mw_result {
    double u;       /* U of the first sample: #(a_i > b_j) + #(a_i == b_j)/2,
                       R's W and scipy's U1                                */
    double z;       /* normal score with tie and continuity correction,
                       signed (> 0 when a tends to be larger); computed
                       even when p is exact                               */
    double p_value; /* two-sided                                           */
    int exact;      /* 1 when p_value came from the exact null law        */
    int ties;       /* 1 when the pooled sample holds equal values         */
} perf_mw_result;

/* The exact rule: no ties in the pooled sample, n_a * n_b <= 100000 and
 * C(n_a + n_b, n_a) < 2^63 (exact integer counts; true up to 33 per side).
 * Returns 1 when the sizes allow it (ties are checked by the test). */
int perf_mw_exact_possible(size_t na, size_t nb);

int perf_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
                      perf_mw_method method, perf_mw_result *out);

/* Standard normal upper tail P(Z > z) and its inverse (0 < p < 1). */
double perf_normal_sf(double z);
double perf_normal_isf(double p);

/* ---- bootstrap CI of the ratio of medians head/base --------------------- */

typedef struct perf_bootstrap_opts {
    unsigned resamples;  /* >= PERF_MIN_RESAMPLES; default 10000         */
    double confidence;   /* in (0, 1); default 0.99                      */
    uint64_t seed;       /* default PERF_DEFAULT_SEED                    */
} perf_bootstrap_opts;

void perf_bootstrap_opts_default(perf_bootstrap_opts *o);

typedef struct perf_ratio_ci {
    double ratio;  /* median(head) / median(base) of the samples themselves */
    double lo, hi; /* percentile interval of the bootstrap ratios          */
} perf_ratio_ci;

/* Percentile bootstrap: each resample draws n_base values from base and
 * n_head from head with replacement; lo and hi are the type-7 quantiles
 * (1 -/+ confidence)/2 of the resampled ratios. Every sample must be > 0;
 * each side needs >= 2 values. */
int perf_bootstrap_median_ratio(const double *base, size_t nb,
                                const double *head, size_t nh,
                                const perf_bootstrap_opts *o,
                                perf_ratio_ci *out);

/* ---- the verdict -------------------------------------------------------- */

typedef enum {
    PERF_VERDICT_SAME = 0,
    PERF_VERDICT_REGRESSION = 1,
    PERF_VERDICT_IMPROVEMENT = 2,
    PERF_VERDICT_INCONCLUSIVE = 3
} perf_verdict;

/* "same", "regression", "improvement", "inconclusive"; "unknown" else. */
const char *perf_verdict_name(perf_verdict v);

typedef struct perf_verdict_opts {
    int higher_is_better; /* 1 throughput (default), 0 latency/memory/time */
    double alpha;         /* Mann–Whitney significance, default 0.01       */
    double noise_floor;   /* fraction, default 0.02 until calibrated       */
    double tolerance;     /* allowed slowdown fraction, default 0          */
    double confidence;    /* bootstrap CI level, default 0.99             */
    unsigned resamples;   /* default 10000                                 */
    uint64_t seed;        /* default PERF_DEFAULT_SEED                     */
} perf_verdict_opts;

void perf_verdict_opts_default(perf_verdict_opts *o);

typedef struct perf_verdict_result {
    size_t n_base, n_head;
    double median_base, median_head;
    double g;             /* goodness ratio: < 1 always means worse       */
    double g_lo, g_hi;    /* its bootstrap confidence interval             */
    double limit;         /* 1 - max(noise_floor, tolerance)               */
    double p_value;       /* Mann–Whitney, two-sided                       */
    int p_exact;          /* 1 when p_value is exact                       */
    perf_verdict verdict;
    unsigned reps_needed; /* INCONCLUSIVE only: estimated repetitions per
                             side that would decide (<= PERF_REPS_NEEDED_MAX);
                             0 for the other verdicts                     */
    const char *reason;   /* static string, one short sentence            */
} perf_verdict_result;

/* g = median(head)/median(base) when higher is better, else
 * median(base)/median(head); limit = 1 - max(noise_floor, tolerance).
 *   REGRESSION   p < alpha and g_hi < limit
 *   IMPROVEMENT  p < alpha and g_lo > 1 + noise_floor
 *   INCONCLUSIVE g < limit, regression not proven
 *   SAME         otherwise
 * Samples must be > 0, >= 2 per side. noise_floor and tolerance in [0, 1). */
int perf_verdict_compute(const double *base, size_t nb, const double *head,
                         size_t nh, const perf_verdict_opts *o,
                         perf_verdict_result *out);

/* ---- noise-floor calibration from A/A data ------------------------------ */

typedef struct perf_noise_opts {
    double quantile;     /* of |1 - median(A)/median(B)|, default 0.95    */
    unsigned resamples;  /* default 10000                                 */
    double min_floor;    /* default PERF_NOISE_FLOOR_MIN (0.5%)           */
    uint64_t seed;       /* default PERF_DEFAULT_SEED                     */
} perf_noise_opts;

void perf_noise_opts_default(perf_noise_opts *o);

/* Estimates the relative difference of medians that two groups of k
 * repetitions of the same build show: bootstrap groups A (k draws from a)
 * and B (k draws from b, or from a when b is NULL) and take the given
 * quantile of |1 - median(A)/median(B)|. Passing two A/A groups (e.g. the
 * two halves of an interleaved A/A run) also captures the between-process
 * variation a single pool cannot show. *floor_out = max(min_floor, raw);
 * raw_out may be NULL. Samples must be > 0; a and b need >= 2 values each;
 * k >= 1. */
int perf_noise_floor(const double *a, size_t na, const double *b, size_t nb,
                     size_t k, const perf_noise_opts *o, double *floor_out,
                     double *raw_out);

/* ---- change points: E-Divisive means ------------------------------------ */

typedef struct perf_edivisive_opts {
    double alpha;         /* permutation-test level, default 0.05          */
    unsigned permutations;/* default 199                                   */
    size_t min_segment;   /* >= 2, default 5                               */
    uint64_t seed;        /* default PERF_DEFAULT_SEED                     */
    int variable_end;     /* 1 (default): the paper's estimator, the split
                             end kappa searched too; 0: kappa fixed at the
                             segment end (Hunter/Otava). Series longer than
                             PERF_EDIVISIVE_VAREND_MAX use the fixed end   */
} perf_edivisive_opts;

/* Longest series searched with a variable end: it keeps an (n+1)^2 table
 * of distance sums (8 MB at 1000). */
#define PERF_EDIVISIVE_VAREND_MAX 1000

void perf_edivisive_opts_default(perf_edivisive_opts *o);

typedef struct perf_change_point {
    size_t index;         /* first element of the new segment              */
    double p_value;       /* of the permutation test that accepted it      */
    double q;             /* the divergence statistic q-hat at the split   */
    double median_before; /* over the segment from the previous change point */
    double median_after;  /* over the segment up to the next change point  */
    double rel_step;      /* median_after/median_before - 1 (NaN if the
                             median before is 0)                           */
} perf_change_point;

/* Upper bound on the number of change points for a series of n. */
#define PERF_EDIVISIVE_MAX_CP(n, min_segment) ((n) / (min_segment))

/* Matteson & James (2014) E-Divisive with alpha exponent 1: repeatedly split
 * the segment whose best split has the largest q-hat, while the permutation
 * test (values shuffled within every current segment) gives p <= alpha.
 * Change points are returned in increasing index order. *count is set to
 * the number found; PERF_STAT_ERANGE (with *count set) when cap is too
 * small. n < 2 * min_segment simply finds nothing. */
int perf_edivisive(const double *x, size_t n, const perf_edivisive_opts *o,
                   perf_change_point *cp, size_t cap, size_t *count);

/* ---- slow drift --------------------------------------------------------- */

typedef struct perf_mk_result {
    double s;        /* sum over i < j of sign(x_j - x_i)                */
    double var_s;    /* with tie correction                               */
    double z;        /* (S - sign(S)) / sqrt(var_s), 0 when var_s is 0    */
    double p_value;  /* two-sided, normal approximation                   */
} perf_mk_result;

/* Mann–Kendall trend test over x in series order. n >= 3. */
int perf_mann_kendall(const double *x, size_t n, perf_mk_result *out);

/* Theil–Sen: slope = median over i < j of (x_j - x_i)/(j - i), intercept =
 * median of x_i - slope * i (index i is the run number from 0). n >= 2. */
int perf_theil_sen(const double *x, size_t n, double *slope,
                   double *intercept);

typedef struct perf_drift_result {
    double slope;      /* units per run (Theil–Sen)                      */
    double slope_rel;  /* slope / median(x): relative change per run     */
    double intercept;
    double mk_z;
    double p_value;    /* Mann–Kendall, two-sided                          */
} perf_drift_result;

/* Theil–Sen and Mann–Kendall together. n >= 3; median(x) must not be 0. */
int perf_drift(const double *x, size_t n, perf_drift_result *out);

/* ---- simulation of the verdict's error rates ---------------------------- */

typedef struct perf_sim_params {
    size_t reps_base, reps_head; /* default PERF_DEFAULT_REPS each        */
    /* True slowdown: head does the same work in (1 + slowdown) times the
     * time, so g_true = 1/(1 + slowdown). 0 is an A/A comparison; negative
     * values are speed-ups. Must be > -1. */
    double slowdown;
    double cv;           /* log-normal coefficient of variation, 0.03     */
    double outlier_prob; /* chance that a run is disturbed, 0.02           */
    double outlier_min;  /* a disturbed run takes U(min, max) times longer */
    double outlier_max;  /* defaults 1.3 and 2.0                           */
    unsigned trials;     /* comparisons to simulate, default 1000          */
    uint64_t seed;       /* data seed; each trial's bootstrap seed derives
                            from it                                       */
    perf_verdict_opts verdict; /* higher_is_better picks whether the
                                  samples are throughputs (1/time) or times */
    /* Between-process and between-run variance (0 = none, the
     * behaviour and random stream of before). Each side's reps are split
     * into `procs` processes of consecutive reps, each process's times
     * scaled by its own log-normal factor (CV process_cv); each side as a
     * whole by one more (CV between_cv: two runs made at different
     * times). `unit` says what the verdict treats as the sample:
     * PERF_SIM_UNIT_REP the pooled repetitions (the old, pseudo-replicated
     * way), PERF_SIM_UNIT_PROCESS the per-process medians, PERF_SIM_UNIT_PAIR
     * the per-process medians paired by index (perf_paired_verdict). */
    unsigned procs;
    double process_cv, between_cv;
    int unit;
} perf_sim_params;

enum { PERF_SIM_UNIT_REP = 0, PERF_SIM_UNIT_PROCESS = 1, PERF_SIM_UNIT_PAIR = 2 };

void perf_sim_params_default(perf_sim_params *p);

typedef struct perf_sim_counts {
    unsigned trials;
    unsigned regression, inconclusive, same, improvement;
} perf_sim_counts;

int perf_simulate(const perf_sim_params *p, perf_sim_counts *out);

/* One simulated repetition series: n run times with median 1 scaled by
 * `scale`, log-normal with coefficient of variation cv, each run disturbed
 * with probability outlier_prob by a factor U(outlier_min, outlier_max).
 * Used by perf_simulate and by the tests; out must hold n values. */
int perf_sim_times(perf_rng *rng, size_t n, double scale, double cv,
                   double outlier_prob, double outlier_min,
                   double outlier_max, double *out);

#endif /* PERF_STATS_H */
