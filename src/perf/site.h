/*
 * perf/site.h — `lightning perf report --site DIR`: a static dashboard of
 * the whole history (like `asv publish`), readable from any web server or
 * straight from disk: no scripts, nothing loaded from elsewhere.
 *
 *   DIR/index.html        per testbed (machine key, sync mode, suite): the
 *                         latest check/ab verdict with its forest plot, and
 *                         every series with its runs, latest value, change
 *                         against the baseline, change points and latest
 *                         verdict, linked to its page
 *   DIR/s/<n>.html        one page per series: the history chart (median
 *                         and spread of every run, tolerance band, change
 *                         points, commits and dates on the axis; counts
 *                         series too), the latest verdict of that series,
 *                         drift, and the runs as a table
 *
 * Pages fit an 800 px window (charts scale, wide tables scroll in their
 * own box). Files are written through a temporary name and renamed.
 *
 * Contract: reads the history only; returns 0 or -1 with e set.
 */
#ifndef PERF_SITE_H
#define PERF_SITE_H

#include <stddef.h>

#include "perf/error.h"
#include "perf/history.h"
#include "perf/suite.h"
#include "perf/trend.h"

typedef struct perf_site_input {
    perf_history *h;
    const perf_suite *suite;    /* tolerances and directions; may be NULL */
    const char *history_shown;  /* the history's name, password redacted  */
    const char *generated_at;
} perf_site_input;

typedef struct perf_site_stats {
    size_t testbeds, pages;
} perf_site_stats;

int perf_site_write(const perf_site_input *in, const char *dir, perf_site_stats *st,
                    perf_error *e);

/* check's tolerance for a trend's series under suite s (the section that
 * matches it; counts metrics: the counts threshold), or -1 when s is NULL
 * or no section matches. */
double perf_trend_tolerance(const perf_suite *s, const perf_trend *t);

#endif /* PERF_SITE_H */
