/*
 * perf/countcmp.h — judging deterministic counts (`lightning bench
 * --measure counts`: ir_per_op, est_cycles_per_op, ... ; bench/counts.h)
 * and putting the wall-clock evidence beside them.
 *
 * Counts of one build repeat run to run to within 0.0002% in Ir and 0.025%
 * in D1 misses here (counts mode fixes the engine's hash seed; with a
 * random seed per open it was up to 0.25%; docs/perf.md), so they need
 * neither repetitions nor Mann-Whitney/bootstrap: the verdict is a plain
 * relative difference held to a threshold above that A/A floor (suite
 * `counts_threshold`, default PERF_COUNTS_THRESHOLD = 1%):
 *
 *   g = median(base) / median(head)      (counts: lower is better)
 *   REGRESSION   g < 1 - threshold
 *   improvement  g > 1 + threshold
 *   same         otherwise
 *
 * One repetition per side suffices (medians of more are used if given).
 * g_lo = g_hi = g (no interval: there is no sampling noise to bound);
 * p_value is NaN (no test), limit = 1 - threshold. check and ab use the
 * same rule: a count does not drift with the machine.
 *
 * Contract: pure computation over caller-owned rows; reentrant.
 */
#ifndef PERF_COUNTCMP_H
#define PERF_COUNTCMP_H

#include <stddef.h>

#include "perf/comparison.h"

/* Fills r's verdict from the samples (status PERF_ROW_ERROR with a note
 * when a side is empty or a value is not positive). r->direction must be
 * set; r->tolerance and r->noise_floor are set to threshold. */
void perf_counts_judge(perf_cmp_row *r, const double *base, size_t nb, const double *head,
                       size_t nh, double threshold);

/* For every count row of c, notes the wall-clock verdict of the same
 * benchmark, engine and threads (its ops_per_sec row, else its first
 * non-count row) in the row's note: "wall clock: ops_per_sec -2.1%
 * g 0.979 [0.951,1.004] same", or that there is none. */
void perf_counts_evidence(perf_comparison *c);

#endif /* PERF_COUNTCMP_H */
