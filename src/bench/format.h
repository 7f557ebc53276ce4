/*
 * bench/format.h — `lightning bench --format csv|markdown`: one row per
 * (benchmark, threads, engine) summarising its repetitions, in the shape
 * of hyperfine's --export-csv and --export-markdown, so the same
 * spreadsheets and README tables that read hyperfine read these.
 *
 * Columns (CSV; RFC 4180 quoting; the order is a contract, new columns are
 * only appended):
 *   benchmark,engine,sync_mode,threads,metric,unit,direction,reps,
 *   mean,stddev,median,min,max,relative,p50_ns,p99_ns,user_s,system_s
 * The figure is the result's primary one (ops_per_sec; bytes_per_key for
 * memory, open_s for startup). `relative` is this row's median over the
 * first engine's for the same benchmark and threads (hyperfine's
 * "Relative"); p50/p99 are medians over repetitions of the sampled
 * latency, user/system the mean CPU seconds per repetition. A figure that
 * was not measured is an empty CSV field and "-" in Markdown: nothing is
 * made up. stddev needs two repetitions.
 *
 * Contract: formatting only, over a finished bench_report (runner.h);
 * returns 0, or -1 when allocation or a write failed. Reentrant.
 */
#ifndef BENCH_FORMAT_H
#define BENCH_FORMAT_H

#include <stdio.h>

#include "bench/runner.h"

int bench_report_write_csv(FILE *f, const bench_report *rep);
int bench_report_write_markdown(FILE *f, const bench_report *rep);

#endif /* BENCH_FORMAT_H */
