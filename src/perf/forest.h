/*
 * perf/forest.h — the forest plot of a comparison: one row per judged
 * series, g with its confidence interval against the limit and 1.
 *
 * What it must get right (seen rendered in headless Chromium): an
 * overhead row (error path vs happy path in the same run, g of 10 or 40)
 * must not set the scale of the real rows, so overhead rows are drawn in
 * a panel of their own with their own axis; the axis is logarithmic and
 * symmetric around g = 1 (a halving and a doubling are the same distance),
 * with labelled ticks at round ratios; labels are never clipped: the
 * margins are computed from the longest label in a monospace font whose
 * advance is known (0.6 em), and the SVG scales down with the page
 * (viewBox, width 100%) instead of running off it; regressions come first
 * (perf_outcome_order).
 *
 * Contract: formatting only; writes one <svg> per panel; reentrant.
 */
#ifndef PERF_FOREST_H
#define PERF_FOREST_H

#include <stdio.h>

#include "perf/comparison.h"

/* Average advance of a character in the plot's monospace font, per px of
 * font size: the margins are sized with it. */
#define PERF_FOREST_CHAR_EM 0.6

int perf_svg_forest(FILE *f, const perf_comparison *c);

#endif /* PERF_FOREST_H */
