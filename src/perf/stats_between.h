/*
 * perf/stats_between.h — judging one run against the spread *between*
 * earlier runs, the test `check` uses when the history has enough of them.
 *
 * Why: repetitions of one run are not independent samples of the build's
 * speed. A run's median moves 1.5-3.3x more from run to run than its own
 * repetitions suggest (page cache, memory layout, the machine's
 * neighbours), so a within-run test comparing two runs is pseudo-
 * replicated: simulated at within-run CV 3% plus between-run CV 5% it
 * claimed a regression in 23.8% of A/A series (docs/statistics.md, "The
 * unit of replication"). Here the run is
 * the unit: per series, y_r = mean over the run's processes of
 * log(process median); a window of the last K comparable runs gives the
 * centre and s, the between-run sd of y; the head run's y is tested
 * against it with
 *     t = d / (s sqrt(1/m + 1/K)),   Student t with K - 1 df,
 * where d = y_head - centre (sign flipped for lower-is-better, so d < 0 is
 * worse) and m the number of head runs (1). With K >= 10 the centre is the
 * median and s = 1.4826 MAD (one wild run in the window does not widen
 * it); below, the mean and the sd. s is floored at max(0.5%, the head's
 * own standard error), so a window of suspiciously identical runs cannot
 * make a tiny change significant. (conbench's lookback z-score and Otava's
 * change-point tests use the history the same way.)
 *
 * Contract: pure and reentrant; PERF_STAT_OK or PERF_STAT_E* (k >= 2,
 * finite values).
 */
#ifndef PERF_STATS_BETWEEN_H
#define PERF_STATS_BETWEEN_H

#include <stddef.h>

#define PERF_BETWEEN_MIN_RUNS 5   /* below: "insufficient history"        */
#define PERF_BETWEEN_MAX_RUNS 20  /* the window                            */
#define PERF_BETWEEN_S_FLOOR 0.005

typedef struct perf_between_result {
    size_t k;           /* runs in the window                             */
    double centre, s;   /* of y over the window (log scale); s floored    */
    double d;           /* direction-adjusted log goodness: < 0 is worse   */
    double t, df, p;    /* two-sided Student t                            */
    double g, g_lo, g_hi; /* exp(d) and its (1 - alpha) t interval        */
    int robust;         /* 1: median and MAD (k >= 10)                     */
} perf_between_result;

/* y: the window's run values (log scale); y_head: the head run's (mean of
 * m runs' values when m > 1); head_se: its within-run standard error
 * (log scale, 0 if unknown). higher_is_better picks the sign of d. */
int perf_between_test(const double *y, size_t k, double y_head, size_t m, double head_se,
                      int higher_is_better, double alpha, perf_between_result *out);

/* Student t with df degrees of freedom: upper tail P(T > t), and its
 * inverse (the t with upper tail p, 0 < p < 1). */
double perf_student_sf(double t, double df);
double perf_student_isf(double p, double df);

#endif /* PERF_STATS_BETWEEN_H */
