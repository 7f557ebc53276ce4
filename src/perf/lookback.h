/*
 * perf/lookback.h — `check` against the history's between-run spread
 * (perf/stats_between.h has the statistic and why).
 *
 * For the head run of a check against run B (the pinned baseline, or
 * --against), the window is the last K <= 20 comparable runs up to and
 * including B: kind "run", same machine, sync mode and suite, clean
 * (dirty = 0), no injected slowdown. Pinning a baseline is what accepts a
 * level: runs after it are what is being checked, not reference. (make
 * perf checks against the previous run, so its window is simply the last
 * 20 runs.) Per wall-clock series the window is
 * cut after the last change point E-Divisive accepts in it (a level that
 * moved on purpose is not noise). With K >= 5 each wall-clock row's
 * verdict is replaced by the between-run test, its p-values Holm-adjusted
 * across the rows so tested; the limit stays the row's (tolerance or
 * floor). With K < 5 the row keeps the within-run verdict and its note
 * says "insufficient history".
 *
 * Not done (said here so nobody assumes it): runs are not filtered to
 * first-parent ancestors of the head commit, and bench parameters are not
 * compared (the suite name keys them).
 *
 * Contract: reads the history only; modifies cmp's rows in place and
 * re-tallies. Returns the largest K used (0 when no row had history), or
 * -1 with e set. Single-threaded (uses the caller's history handle).
 */
#ifndef PERF_LOOKBACK_H
#define PERF_LOOKBACK_H

#include <stdint.h>

#include "perf/comparison.h"
#include "perf/error.h"
#include "perf/history.h"
#include "perf/sample.h"

int perf_lookback_apply(perf_history *h, const perf_run_info *head,
                        const perf_sample_set *head_samples, int64_t upto, double alpha,
                        perf_comparison *cmp, perf_error *e);

#endif /* PERF_LOOKBACK_H */
