/*
 * perf/trend.h — change points and slow drift over the recorded history
 * (`lightning perf trend`, and the history charts of `report`).
 *
 * A trend series is one (benchmark, engine, threads, metric) over the runs
 * of one machine, sync mode and suite (kind "run"), each run reduced to the
 * median of its repetitions. On that series:
 * - E-Divisive means (perf_edivisive: alpha 0.05, 199 permutations, minimum
 *   segment 5, fixed seed) finds steps; each is reported with the run and
 *   commit where the new level starts, the medians before/after and the
 *   step size, worded by direction (a throughput drop is "worse").
 * - Theil-Sen + Mann-Kendall (perf_drift) measure slow drift across the
 *   whole window (the drift is judged significant at p < 0.05).
 *
 * Contract: perf_trend_compute allocates the array (free with
 * perf_trends_free); reentrant; reads the history only.
 */
#ifndef PERF_TREND_H
#define PERF_TREND_H

#include <stddef.h>

#include "perf/error.h"
#include "perf/history.h"
#include "perf/stats.h"

#define PERF_TREND_MAX_CP 32

typedef struct perf_trend {
    perf_series_key key;
    char unit[16];
    int direction;
    perf_series_point *pts;  /* oldest first */
    size_t n;
    perf_change_point cp[PERF_TREND_MAX_CP];
    size_t ncp;
    int cp_ok;               /* 0: too few runs for change points       */
    int drift_ok;            /* 0: too few runs for drift               */
    perf_drift_result drift;
    double drift_total;      /* slope * (n - 1) / median: relative change
                                over the window                         */
} perf_trend;

/* Selects the series to analyse; return 1 to keep. */
typedef int (*perf_trend_want_fn)(void *ctx, const perf_series_key *k);

/* Series of the runs matching f (kind defaults to "run") that want()
 * keeps (all when want is NULL). */
int perf_trend_compute(perf_history *h, const perf_run_filter *f, perf_trend_want_fn want,
                       void *ctx, perf_trend **out, size_t *n, perf_error *e);
void perf_trends_free(perf_trend *t, size_t n);

/* "worse"/"better" for a relative step in a metric of this direction. */
const char *perf_step_word(double rel_step, int direction);

#endif /* PERF_TREND_H */
