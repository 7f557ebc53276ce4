/*
 * perf/chart.h — the history chart of one series (report's History
 * section and the --site series pages): per run the median and the
 * spread of its repetitions (a band over the middle half), the tolerance
 * band `check` allows around the baseline, change points, the baseline
 * run marked, and an x axis labelled with commits and dates.
 *
 * The y axis is never min..max of the medians (that makes a 0.07% memory
 * wobble look like a cliff): it spans at least the tolerance band, or
 * +-5% of the typical value when the tolerance is unknown, and carries
 * four to six round ticks.
 *
 * Contract: formatting only; one <svg> that scales with the page
 * (viewBox, width 100%); reentrant.
 */
#ifndef PERF_CHART_H
#define PERF_CHART_H

#include <stdint.h>
#include <stdio.h>

#include "perf/trend.h"

/* tolerance: check's allowance as a fraction of g (suite.h), or < 0 when
 * unknown. baseline_run: 0 when none. */
int perf_svg_history(FILE *f, const perf_trend *t, int64_t baseline_run, double tolerance);

#endif /* PERF_CHART_H */
