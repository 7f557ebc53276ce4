/*
 * perf/stats_internal.h — helpers shared by the src/perf/stats*.c files and
 * nothing else (not part of the statistics API in stats.h).
 *
 * Contract
 * - Input checking that gives every public function the same error codes.
 * - Selection and sorting on caller-owned scratch arrays (modified in place).
 * - The bootstrap median draw used by the ratio CI and by calibration.
 * All functions are reentrant; none allocates except perf_i_scratch.
 */
#ifndef PERF_STATS_INTERNAL_H
#define PERF_STATS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "perf/rng.h"

/* PERF_STAT_EINVAL if x is NULL, _ETOOFEW if n < min_n, _ENAN if a value is
 * not finite, else 0. */
int perf_i_check(const double *x, size_t n, size_t min_n);
/* perf_i_check, then PERF_STAT_EDOMAIN if a value is <= 0. */
int perf_i_check_positive(const double *x, size_t n, size_t min_n);

/* k-th smallest (0-based) of x[0..n), n >= 1, by quickselect. Afterwards
 * x[k] holds it, everything before is <= and everything after is >=. */
double perf_i_select(double *x, size_t n, size_t k);
/* Type-7 quantile, reordering x. n >= 1, 0 <= p <= 1. */
double perf_i_quantile_inplace(double *x, size_t n, double p);
/* Median, reordering x. n >= 1. */
double perf_i_median_inplace(double *x, size_t n);
void perf_i_sort(double *x, size_t n);
double perf_i_sorted_median(const double *s, size_t n);

/* A scratch copy of x: in `stackbuf` when n <= stackn, else malloc'd. Returns
 * NULL on allocation failure. Release with perf_i_scratch_free. */
double *perf_i_scratch(const double *x, size_t n, double *stackbuf,
                       size_t stackn);
void perf_i_scratch_free(double *p, const double *stackbuf);

/* Median of k values drawn with replacement from the sorted array s[0..n).
 * Because s is sorted, the median of the drawn values is the value at the
 * median of the drawn indices, which a counting pass over `counts` (n
 * entries, caller's scratch) finds in O(n + k) without sorting. */
double perf_i_resample_median(perf_rng *r, const double *s, uint32_t n,
                              uint32_t k, uint32_t *counts);

#endif /* PERF_STATS_INTERNAL_H */
