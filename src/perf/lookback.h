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
 * Comparable also means: the same suite text (so the same bench
 * parameters: keys, duration, repetitions, args, engine options; runs
 * recorded without a text are kept), and, when repo is given and git
 * answers, a commit on the head commit's first-parent line (the main
 * branch's history, not a side branch's experiments; a run whose commit
 * is unknown is then left out). Without git the ancestry filter is off and
 * every row's note says so.
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

int perf_lookback_apply(perf_history *h, const char *repo, const perf_run_info *head,
                        const perf_sample_set *head_samples, int64_t upto, double alpha,
                        perf_comparison *cmp, perf_error *e);

/* 1 when run r may stand in head's window: an earlier clean run up to
 * `upto` without injection, with head's suite text (when both have one)
 * and, when ancestors is not NULL, a commit in it (newline-separated full
 * SHAs, `git rev-list --first-parent` output). Pure. */
int perf_lookback_comparable(const perf_run_info *head, const perf_run_info *r, int64_t upto,
                             const char *ancestors);

#endif /* PERF_LOOKBACK_H */
