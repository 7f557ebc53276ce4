/* perf/metrics.c — the metric catalog (see metrics.h). The names of the
 * figures of a lightning-bench/1 result are fixed by results.c; the
 * catalog's job is only to say what each one means. */
#include "perf/metrics.h"

#include <string.h>

#include "perf/error.h"

static const perf_metric_info catalog[] = {
    {"ops_per_sec", "ops/s", PERF_HIGHER_IS_BETTER, PERF_KIND_THROUGHPUT,
     "operations per second of the measured phase"},
    {"ops_per_sec_uncontended", "ops/s", PERF_HIGHER_IS_BETTER, PERF_KIND_THROUGHPUT,
     "single-threaded rows: ops over the wall time less the CPU wait other processes "
     "caused (bench/schedwait.h)"},
    {"latency_p50_ns", "ns", PERF_LOWER_IS_BETTER, PERF_KIND_LATENCY, "median latency"},
    {"latency_p90_ns", "ns", PERF_LOWER_IS_BETTER, PERF_KIND_LATENCY, "90th percentile latency"},
    {"latency_p95_ns", "ns", PERF_LOWER_IS_BETTER, PERF_KIND_LATENCY, "95th percentile latency"},
    {"latency_p99_ns", "ns", PERF_LOWER_IS_BETTER, PERF_KIND_LATENCY, "99th percentile latency"},
    {"latency_p999_ns", "ns", PERF_LOWER_IS_BETTER, PERF_KIND_LATENCY, "99.9th percentile latency"},
    {"latency_max_ns", "ns", PERF_LOWER_IS_BETTER, PERF_KIND_LATENCY, "largest sampled latency"},
    {"cpu_user_s", "s", PERF_LOWER_IS_BETTER, PERF_KIND_CPU, "user CPU seconds of the repetition"},
    {"cpu_sys_s", "s", PERF_LOWER_IS_BETTER, PERF_KIND_CPU, "system CPU seconds of the repetition"},
    {"cpu_ns_per_op", "ns/op", PERF_LOWER_IS_BETTER, PERF_KIND_CPU,
     "(user + system CPU time) / ops"},
    {"rss_peak_bytes", "bytes", PERF_LOWER_IS_BETTER, PERF_KIND_MEMORY, "peak resident set size"},
    {"instructions", "count", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT,
     "retired instructions of the repetition (perf_event_open)"},
    {"cycles", "count", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT, "CPU cycles of the repetition"},
    {"instructions_per_op", "instr/op", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT,
     "instructions / ops"},
    {"cycles_per_op", "cycles/op", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT, "cycles / ops"},
    /* lightning bench --measure counts (callgrind, bench/counts.h) */
    {"ir_per_op", "instr/op", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT,
     "instructions per op of the measured loop (callgrind)"},
    {"d1_misses_per_op", "misses/op", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT,
     "simulated L1 data misses per op (D1mr + D1mw)"},
    {"ll_misses_per_op", "misses/op", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT,
     "simulated last-level misses per op (ILmr + DLmr + DLmw)"},
    {"i1_misses_per_op", "misses/op", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT,
     "simulated L1 instruction misses per op"},
    {"est_cycles_per_op", "cycles/op", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT,
     "Ir + 10 D1 misses + 100 LL misses, per op"},
    {"bytes_per_key", "bytes", PERF_LOWER_IS_BETTER, PERF_KIND_MEMORY,
     "resident bytes per loaded key"},
    {"startup_s", "s", PERF_LOWER_IS_BETTER, PERF_KIND_TIME, "time to open the database"},
    {"open_s", "s", PERF_LOWER_IS_BETTER, PERF_KIND_TIME, "time to open the database"},
};

const perf_metric_info *perf_metric_lookup(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof catalog / sizeof catalog[0]; i++)
        if (!strcmp(catalog[i].name, name))
            return &catalog[i];
    return NULL;
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

void perf_metric_infer(const char *name, char *unit, size_t ucap,
                       int *direction, perf_metric_kind *kind)
{
    const perf_metric_info *mi = perf_metric_lookup(name);
    int dir = PERF_LOWER_IS_BETTER;
    perf_metric_kind k = PERF_KIND_OTHER;
    const char *u = "";
    if (mi) {
        dir = mi->direction;
        k = mi->kind;
        u = mi->unit;
    } else if (name) {
        /* Suffix rules, most specific first: "bytes_per_key" before "_key". */
        static const struct {
            const char *suf, *unit;
            int dir;
            perf_metric_kind kind;
        } rules[] = {
            {"_per_sec", "1/s", PERF_HIGHER_IS_BETTER, PERF_KIND_THROUGHPUT},
            {"_ops_s", "ops/s", PERF_HIGHER_IS_BETTER, PERF_KIND_THROUGHPUT},
            {"_per_s", "1/s", PERF_HIGHER_IS_BETTER, PERF_KIND_THROUGHPUT},
            {"bytes_per_key", "bytes", PERF_LOWER_IS_BETTER, PERF_KIND_MEMORY},
            {"_bytes", "bytes", PERF_LOWER_IS_BETTER, PERF_KIND_MEMORY},
            {"instructions_per_op", "instr/op", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT},
            {"misses_per_op", "misses/op", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT},
            {"_per_op", "1/op", PERF_LOWER_IS_BETTER, PERF_KIND_COUNT},
            {"_ns", "ns", PERF_LOWER_IS_BETTER, PERF_KIND_TIME},
            {"_us", "us", PERF_LOWER_IS_BETTER, PERF_KIND_TIME},
            {"_ms", "ms", PERF_LOWER_IS_BETTER, PERF_KIND_TIME},
            {"_seconds", "s", PERF_LOWER_IS_BETTER, PERF_KIND_TIME},
            {"_sec", "s", PERF_LOWER_IS_BETTER, PERF_KIND_TIME},
            {"_s", "s", PERF_LOWER_IS_BETTER, PERF_KIND_TIME},
        };
        for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
            if (ends_with(name, rules[i].suf)) {
                dir = rules[i].dir;
                k = rules[i].kind;
                u = rules[i].unit;
                break;
            }
    }
    if (unit && ucap)
        perf_strlcpy(unit, u, ucap);
    if (direction)
        *direction = dir;
    if (kind)
        *kind = k;
}

static const char *const kind_names[] = {"throughput", "latency", "time", "memory",
                                         "cpu", "count", "other"};

const char *perf_metric_kind_name(perf_metric_kind k)
{
    if ((unsigned)k < sizeof kind_names / sizeof kind_names[0])
        return kind_names[k];
    return "other";
}

int perf_metric_kind_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (!strcmp(kind_names[i], s))
            return (int)i;
    return -1;
}

const char *perf_direction_name(int direction)
{
    return direction > 0 ? "higher" : "lower";
}
