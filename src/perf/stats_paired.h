/*
 * perf/stats_paired.h — the verdict on paired comparisons: n pairs
 * (base_i, head_i), each pair measured together (a duet: both processes at
 * the same time on their own cores; or one ABBA round: back to back). The
 * unit of replication is the pair of processes, never a repetition, so
 * everything that moves a whole process (address layout, page cache, the
 * machine's neighbours) is inside every interval; interference that hits
 * both members of a pair cancels in its ratio (Bulej et al., "Duet
 * Benchmarking", ICPE 2020).
 *
 * Statistic: d_i = log g_i, the per-pair log goodness ratio (log
 * head/base when higher is better, log base/head when lower is better, so
 * d < 0 is always worse). g = exp(Hodges-Lehmann estimate of d: the
 * median of the Walsh averages); [g_lo, g_hi] = exp of the distribution-
 * free confidence interval that inverts the Wilcoxon signed-rank test (the
 * interval of R's wilcox.test(conf.int = TRUE)); p = two-sided signed-rank
 * p, exact for n <= 60 pairs with no zero or tied |d|, else the normal
 * approximation with tie correction. limit = 1 - max(floor, tolerance).
 *
 * The rule differs from perf_verdict_compute's in one place, on purpose:
 *   REGRESSION   p < alpha and g_hi < limit
 *   IMPROVEMENT  p < alpha and g_lo > 1 + floor
 *   INCONCLUSIVE p < alpha and g < limit (a slowdown is proven, but its
 *                interval still reaches the limit)
 *   SAME         otherwise: no change is proven. The row's mde90 says what
 *                it could have resolved.
 * The unpaired rule calls every point estimate below the limit
 * INCONCLUSIVE; with 18 gated rows of 5-20% process noise that made most
 * A/A runs of `make perf` end "inconclusive" (measured on this machine).
 * Here INCONCLUSIVE needs the same evidence as a REGRESSION claim (p <
 * alpha, Holm-adjusted across the comparison's rows by perf/pairing.h), so
 * on a healthy machine it is as rare as a false alarm, and it always means
 * "something got slower, measure longer to size it".
 *
 * Contract: pure, reentrant, allocates scratch only; returns PERF_STAT_OK
 * or a PERF_STAT_E* code (values must be finite and > 0; n >= 2).
 * out->n_base = out->n_head = n; out->median_* are the medians of the
 * per-process values of each side.
 */
#ifndef PERF_STATS_PAIRED_H
#define PERF_STATS_PAIRED_H

#include <stddef.h>

#include "perf/stats.h"

typedef struct perf_paired_extra {
    double sd_log;  /* robust sd of d: 1.4826 MAD (falls back to the sd)   */
    double mde90;   /* slowdown (fraction) caught 90% of the time with n
                       pairs at sd_log; < 0 when none below 50%            */
} perf_paired_extra;

int perf_paired_verdict(const double *base, const double *head, size_t n,
                        const perf_verdict_opts *o, perf_verdict_result *out,
                        perf_paired_extra *extra);

/* Applies the rule above to v's p_value, g, g_lo, g_hi and limit (used
 * again after the p-values are Holm-adjusted). reps_needed becomes 0: a
 * paired row's note says what to do instead. */
void perf_paired_decide(perf_verdict_result *v, double alpha, double noise_floor);

/* Smallest slowdown (fraction of time) that n pairs with log-ratio sd
 * `sd` report as REGRESSION about 90% of the time against `limit` (normal
 * approximation of the Hodges-Lehmann interval; efficiency 0.955); < 0
 * when it exceeds 50%. */
double perf_paired_mde90(double sd, size_t n, double limit, double alpha);

/* Pairs needed to catch a `slowdown` (0.05 = head takes 5% longer) 90% of
 * the time at log-ratio sd `sd` against `limit`; 0 when no number of pairs
 * can (the slowdown does not pass the limit). */
double perf_paired_pairs_for(double sd, double slowdown, double limit, double alpha);

/* Two-sided Wilcoxon signed-rank test of x[0..n) against 0 (zeros are
 * dropped, as R does): W+ and p. *exact = 1 when exact. */
int perf_signed_rank(const double *x, size_t n, double *w_plus, double *p, int *exact);

#endif /* PERF_STATS_PAIRED_H */
