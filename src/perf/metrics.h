/*
 * perf/metrics.h — the catalog of metrics `lightning perf` knows: for each
 * metric name its unit, its direction (is a higher value better?) and its
 * kind (throughput, latency, memory, time, cpu, count, other).
 *
 * A metric is (name, value, unit, direction). Every sample in the history
 * carries all four, so a metric this catalog does not know yet (a new bench
 * figure, or the instruction counts of `--measure counts`) is still stored
 * and compared correctly once its direction is known: from this table, from the name's
 * suffix (perf_metric_infer) or from the suite file's `<metric>.direction`.
 *
 * Contract: pure lookups over static tables; reentrant and thread-safe.
 * Callers: results.c (naming the figures of a bench JSON result), suite.c,
 * compare.c, report.c.
 */
#ifndef PERF_METRICS_H
#define PERF_METRICS_H

#include <stddef.h>

#define PERF_HIGHER_IS_BETTER 1
#define PERF_LOWER_IS_BETTER (-1)

typedef enum perf_metric_kind {
    PERF_KIND_THROUGHPUT = 0, /* wall-clock rate, ops/s                      */
    PERF_KIND_LATENCY,        /* wall-clock latency percentile, ns           */
    PERF_KIND_TIME,           /* a duration, e.g. startup seconds            */
    PERF_KIND_MEMORY,         /* bytes, bytes per key                        */
    PERF_KIND_CPU,            /* CPU seconds or CPU time per operation       */
    PERF_KIND_COUNT,          /* deterministic counts: instructions, cycles,
                                 cache misses: a gate immune to timing noise */
    PERF_KIND_OTHER
} perf_metric_kind;

typedef struct perf_metric_info {
    const char *name;
    const char *unit;
    int direction;            /* PERF_HIGHER_IS_BETTER or PERF_LOWER_IS_BETTER */
    perf_metric_kind kind;
    const char *description;
} perf_metric_info;

/* The catalog entry for name, or NULL when the name is not in the table. */
const perf_metric_info *perf_metric_lookup(const char *name);

/* The catalog entry when there is one; otherwise a guess from the name's
 * suffix ("_per_sec"/"_ops_s" higher is better; "_ns", "_us", "_ms", "_s",
 * "_seconds", "_bytes", "bytes_per_key", "_per_op" lower is better; anything
 * else lower is better with kind OTHER, the safe default for costs). Writes
 * unit (may be "") into unit[ucap]. */
void perf_metric_infer(const char *name, char *unit, size_t ucap,
                       int *direction, perf_metric_kind *kind);

/* "throughput", "latency", ... ; perf_metric_kind_parse returns -1 for an
 * unknown name. */
const char *perf_metric_kind_name(perf_metric_kind k);
int perf_metric_kind_parse(const char *s);

/* "higher" / "lower". */
const char *perf_direction_name(int direction);

#endif /* PERF_METRICS_H */
