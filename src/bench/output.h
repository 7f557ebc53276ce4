/*
 * bench/output.h — writing a bench_report (bench/runner.h): the terminal
 * table, the lightning-bench/1 JSON document (docs/bench.md), and Google
 * Benchmark's JSON layout (for compare.py and dashboards).
 *
 * Contract
 * - Nothing is invented: a figure the report does not have (no latency
 *   samples, counters not measured, instructions unavailable) is JSON null
 *   in lightning-bench/1 and "-" in the table. Google Benchmark's layout has
 *   no null for its required numbers; there a missing cpu_time is null
 *   too (the reader must cope) and docs/bench.md says so.
 * - Results are written in a canonical order: workload table order, then
 *   thread count, then the engine order of the run, then repetition.
 * - *_to_json return new jansson objects (caller json_decref's them), NULL
 *   on allocation failure. The write functions return 0, or -1 when
 *   building or writing failed (errno from the stream).
 * - Thread-safety: none needed; call from one thread after bench_run.
 */
#ifndef BENCH_OUTPUT_H
#define BENCH_OUTPUT_H

#include <stdio.h>

#include "bench/runner.h"

#define BENCH_SCHEMA "lightning-bench/1"

struct json_t; /* jansson's type, kept out of this header */

/* argv (may be NULL) is recorded as the "command" array. */
struct json_t *bench_report_to_json(const bench_report *rep, int argc,
                                    char *const *argv);
int bench_report_write_json(FILE *f, const bench_report *rep, int argc,
                            char *const *argv);

struct json_t *bench_report_to_gbench(const bench_report *rep);
int bench_report_write_gbench(FILE *f, const bench_report *rep);

/* Median over repetitions per (benchmark, threads, engine), the ratio to
 * the first engine of the run that has the same row. */
int bench_report_write_table(FILE *f, const bench_report *rep);

/* `lightning bench --list`: groups, then every workload with its
 * parameters. */
int bench_write_workload_list(FILE *f);

/* The value that judges a result (ops_per_sec, or the metric named by
 * r->primary: bytes_per_key, open_s), its direction (BENCH_BETTER_*) and
 * unit; NaN when the result lacks it. */
double bench_result_primary(const bench_result *r, int *better, const char **unit);

/* The results in the canonical order above, as a new malloc'd array of
 * pointers (free() it), or NULL on allocation failure. */
const bench_result **bench_report_sorted(const bench_report *rep);

/* The gbench/table row name "benchmark/engine/sync/threads:T". */
void bench_result_name(const bench_result *r, char *buf, size_t cap);

#endif /* BENCH_OUTPUT_H */
