/*
 * perf/comparison.h — the record of one comparison (`check`, `ab`,
 * `calibrate`'s A/A test, a `bisect` step): one row per judged series and
 * metric, plus what was compared with what and whether the comparison was
 * forced across machines or sync modes.
 *
 * Produced by compare.c, stored and reloaded by history.c, printed by
 * report.c. Plain data: perf_comparison owns its row array; zero-init is
 * empty; perf_comparison_free releases it. Not thread-safe.
 */
#ifndef PERF_COMPARISON_H
#define PERF_COMPARISON_H

#include <stddef.h>
#include <stdint.h>

#include "perf/stats.h"

/* Exit codes of check/ab/bisect-step, the CI contract. */
enum {
    PERF_EXIT_PASS = 0,
    PERF_EXIT_REGRESSION = 1,
    PERF_EXIT_ERROR = 2,
    PERF_EXIT_INCONCLUSIVE = 3
};

/* What makes check/ab fail (suite `gate_on`, option --gate-on): rows of
 * deterministic counts (metric kind PERF_KIND_COUNT, perf/metrics.h), rows
 * of every other metric ("wall clock": throughput, latency, memory, time),
 * or either. Rows outside the gate are still computed and printed, marked
 * "not gating", and tallied as `ungated` only. */
typedef enum perf_gate_on {
    PERF_GATE_EITHER = 0,
    PERF_GATE_COUNTS = 1,
    PERF_GATE_WALLCLOCK = 2
} perf_gate_on;

/* "either", "counts", "wallclock"; parse returns -1 for another word. */
const char *perf_gate_on_name(int g);
int perf_gate_on_parse(const char *s);

typedef enum perf_row_status {
    PERF_ROW_OK = 0,        /* a verdict was computed                     */
    PERF_ROW_NO_BASE,       /* series absent from the base: a new benchmark */
    PERF_ROW_NO_HEAD,       /* series absent from the head: cannot judge   */
    PERF_ROW_ERROR          /* too few or non-positive samples            */
} perf_row_status;

typedef struct perf_cmp_row {
    char rule[64];          /* the suite section that gated it            */
    char benchmark[64];
    char engine[32];
    int threads;
    char metric[64];
    char unit[16];
    int direction;
    int overhead;           /* 1: error path vs happy path in the head run */
    char versus[64];        /* overhead rows: the happy-path benchmark     */
    double tolerance;       /* from the suite (check) or 0 (ab)            */
    double noise_floor;     /* the one used, scaled to this n             */
    int floor_calibrated;   /* 1 when it came from `calibrate`            */
    double cv_base, cv_head;/* robust CV (1.4826 MAD / median)            */
    double mde90;           /* slowdown caught 90% of the time at this n
                               and noise; 0 when not estimated, < 0 when
                               not reachable below 50%                     */
    perf_row_status status;
    perf_verdict_result v;  /* v.reason points at a static string, or at
                               reason_buf when reloaded from history       */
    char reason_buf[160];
    char note[160];
    int paired;             /* judged by process pairs (perf/pairing.h):
                               v.p_value is then Holm-adjusted over the
                               comparison's paired rows                   */
} perf_cmp_row;

typedef struct perf_comparison {
    int64_t id;             /* history id once saved, else 0              */
    char kind[16];          /* "check", "ab", "calibrate", "bisect"       */
    char created_at[32];
    int64_t base_run, head_run;
    char suite[64];
    char base_label[160], head_label[160];
    int forced;             /* compared despite a mismatch (--force)      */
    char mismatch[256];     /* what differed ("" when nothing)            */
    perf_cmp_row *rows;
    size_t n, cap;
    int exit_code;
    int gate_on;            /* PERF_GATE_*: which rows decide exit_code   */
    unsigned regressions, improvements, inconclusive, same, errors;
    unsigned ungated;       /* rows outside the gate (not in the above)   */
    unsigned reps_needed;   /* max over INCONCLUSIVE rows                 */
} perf_comparison;

int perf_comparison_add(perf_comparison *c, const perf_cmp_row *r);
void perf_comparison_free(perf_comparison *c);

/* 1 when the row judges a deterministic count (its metric's kind). */
int perf_row_is_count(const perf_cmp_row *r);
/* 1 when the row decides the exit code under c->gate_on. */
int perf_row_gates(const perf_comparison *c, const perf_cmp_row *r);

/* Counts the gating rows' verdicts (perf_row_gates; the others are counted
 * in `ungated`) and sets exit_code: a regression gives 1; else
 * a row that could not be judged (missing in head, bad samples) gives 2;
 * else an inconclusive row gives 3; else 0. */
void perf_comparison_tally(perf_comparison *c);

/* "REGRESSION", "improvement", "same", "INCONCLUSIVE", "missing", "new",
 * "error": the verdict word printed for a row. */
const char *perf_row_word(const perf_cmp_row *r);

#endif /* PERF_COMPARISON_H */
