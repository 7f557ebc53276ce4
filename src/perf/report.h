/*
 * perf/report.h — what `lightning perf` shows people: the terminal tables
 * of run/check/ab, the Markdown summary for a CI job page, and one
 * self-contained HTML file (inline CSS and SVG, no scripts, no network)
 * with the history of each benchmark (change points marked), the last
 * comparison as ratios with confidence intervals, and latency percentiles.
 *
 * Contract: formatting only, over caller-owned data; writes to the FILE
 * given and returns 0, or -1 when a write fails. A comparison that was
 * forced across machines or sync modes is marked as such in every format.
 * Reentrant.
 */
#ifndef PERF_REPORT_H
#define PERF_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "perf/comparison.h"
#include "perf/history.h"
#include "perf/sample.h"
#include "perf/suite.h"
#include "perf/trend.h"

/* "1.23M ops/s", "812 ns", "1.5 GiB", "0.0123 s" */
void perf_fmt_value(double v, const char *unit, char *out, size_t cap);

/* The verdict table of a comparison plus its one-line summary. */
int perf_report_table(FILE *f, const perf_comparison *c);
/* The table alone, without the summary line. */
int perf_report_rows(FILE *f, const perf_comparison *c);
/* The closing sentence: what the exit code is and why. */
void perf_report_summary_line(FILE *f, const perf_comparison *c);

/* Per-series summary of one run's samples (median, robust CV, n, and the
 * p50/p99 latency when recorded): the table `run` prints. With a suite,
 * the rows are the metrics its sections gate; without, ops_per_sec. */
int perf_report_run_table(FILE *f, const perf_sample_set *s, const perf_suite *suite);

/* Change points and drift, as printed by `trend`. */
int perf_report_trend_text(FILE *f, const perf_trend *t, size_t n);

typedef struct perf_report_input {
    const char *title;
    const char *history_path;
    const char *generated_at;
    const perf_run_info *run;           /* latest run, may be NULL           */
    const perf_sample_set *run_samples; /* its samples (latency chart)       */
    const perf_comparison *cmp;         /* last comparison, may be NULL      */
    const perf_trend *trends;
    size_t ntrends;
    const double *trend_tolerance;      /* per trend: check's tolerance, < 0
                                           unknown; may be NULL            */
    const perf_noise_row *floors;
    size_t nfloors;
    const perf_run_info *runs;          /* recent runs, oldest first         */
    size_t nruns;
    int64_t baseline_run;               /* 0 when none                       */
} perf_report_input;

int perf_report_markdown(FILE *f, const perf_report_input *in);
int perf_report_html(FILE *f, const perf_report_input *in);

#endif /* PERF_REPORT_H */
