/*
 * perf/results.h — reading `lightning bench --json` output (schema
 * "lightning-bench/1", docs/perf.md) into samples.
 *
 * Each result object (one repetition of one benchmark on one engine) turns
 * into one sample per non-null figure:
 *   ops_per_sec; latency_ns.{p50,p90,p95,p99,p999,max} as latency_<p>_ns;
 *   cpu_user_s, cpu_sys_s and the derived cpu_ns_per_op; rss_peak_bytes;
 *   instructions, cycles and the derived instructions_per_op, cycles_per_op;
 *   and every member of the optional "metrics" object, whose value is a
 *   number or an object {"value", "unit", "direction": "higher"|"lower"}.
 * Units and directions come from perf/metrics.h. Absent or null figures
 * produce no sample: nothing is made up.
 *
 * Contract
 * - The parse is strict about what it uses (schema string, result types)
 *   and says exactly what is wrong and where ("FILE: result 3 (read/
 *   lightning): ops_per_sec is a string"); unknown members are ignored so
 *   that bench can add figures without breaking older history readers.
 * - perf_bench_doc owns its strings and samples; zero-init is empty;
 *   perf_bench_doc_free releases it. Reentrant; no global state.
 */
#ifndef PERF_RESULTS_H
#define PERF_RESULTS_H

#include <stddef.h>

#include "perf/error.h"
#include "perf/sample.h"

#define PERF_BENCH_SCHEMA "lightning-bench/1"

typedef struct perf_bench_doc {
    char machine_id[17];
    char *machine_json;   /* the "machine" object, compact JSON (owned)    */
    char commit[41];      /* "" when null                                  */
    int dirty;            /* 1, 0, or -1 when unknown                      */
    char compiler[128];
    char cflags[1024];
    char *engines_json;   /* the "engines" object (configs), or NULL       */
    size_t n_results;
    perf_sample_set samples;
} perf_bench_doc;

/* origin names the input in messages (a file name). 0 or -1 with e set. */
int perf_results_parse_text(const char *text, size_t len, const char *origin,
                            perf_bench_doc *doc, perf_error *e);
int perf_results_parse_file(const char *path, perf_bench_doc *doc, perf_error *e);
void perf_bench_doc_free(perf_bench_doc *doc);

#endif /* PERF_RESULTS_H */
