/*
 * perf/comment.h — the verdict as a pull-request comment: GitHub-flavoured
 * Markdown of a few lines that a reviewer reads at a glance.
 *
 *   <!-- lightning-perf-comment -->            (lets a CI job find and
 *                                               update its own comment)
 *   ### Performance check: **REGRESSION** (exit 1)
 *   2 regressions, 0 inconclusive, 24 same, 2 improvements; gate either.
 *   - **read-random/lightning ops_per_sec**: -14.2% (g 0.858, 99% CI
 *     [0.831, 0.884], limit 0.900)
 *   <details><summary>All 28 rows, base and head</summary> ...table...
 *
 * The regressions come first, each with its size and interval; then the
 * rows that could not be judged and the inconclusive ones (with the
 * repetitions that would decide). Everything else is folded into the
 * <details> block, in the same order. Count rows show "p -", never 0.
 *
 * Contract: formatting only; table cells are escaped for GFM (|, <, >,
 * newlines); reentrant.
 */
#ifndef PERF_COMMENT_H
#define PERF_COMMENT_H

#include <stdio.h>

#include "perf/outcome.h"

#define PERF_COMMENT_MARKER "<!-- lightning-perf-comment -->"

/* At most this many rows are listed above the fold. */
#define PERF_COMMENT_TOP_ROWS 8

/* 0, or -1 when a write failed. */
int perf_comment_write(FILE *f, const perf_outcome *o);

#endif /* PERF_COMMENT_H */
