/*
 * perf/outcome.h — what one gating command (`check`, `ab`, `bisect`,
 * `trend`) decided, in the form the machine-readable writers take: the
 * verdict JSON (verdict_json.h, schema "lightning-perf-verdict/1"), JUnit
 * XML for CI test tabs (junit.h) and the short pull-request comment
 * (comment.h).
 *
 * Why a separate record: the three writers must agree on the verdict, the
 * exit code and the rows, and the commands produce them in different
 * shapes (a comparison, a comparison plus bisection steps, trends only, or
 * nothing at all when the command failed early). One borrowed view keeps
 * them consistent and keeps cmd_perf.c's edits to filling it in.
 *
 * Contract: plain data borrowed from the caller (nothing is owned or
 * freed here); zero-init plus `command` and `exit_code` is a valid outcome
 * (an error before any comparison: `message` says why). The writers are
 * reentrant and never change the outcome. perf_outcome_write writes each
 * requested file through a temporary in the same directory and renames it
 * into place, so a reader never sees half a verdict and a failed write
 * leaves the previous file as it was.
 */
#ifndef PERF_OUTCOME_H
#define PERF_OUTCOME_H

#include <stddef.h>
#include <stdio.h>

#include "perf/bisect.h"
#include "perf/comparison.h"
#include "perf/error.h"
#include "perf/trend.h"

typedef struct perf_outcome {
    const char *command;              /* "check", "ab", "bisect", "trend"   */
    int exit_code;                    /* what the command exits with        */
    const char *message;              /* one sentence, or NULL: an error, or
                                         "run 3 is now the baseline"        */
    const perf_comparison *cmp;       /* NULL for trend and early exits     */
    const char *machine_id;           /* context, each may be NULL          */
    const char *sync_mode;
    const char *suite;
    const char *history;              /* where the history is               */
    const char *report_url;           /* linked from the comment, may be NULL */
    const perf_trend *trends;         /* trend only                         */
    size_t ntrends;
    /* bisect only */
    const char *good, *bad, *good_sha, *bad_sha, *benchmark;
    const char *first_bad, *first_bad_subject; /* NULL: not pinned          */
    const perf_bisect_step *steps;
    size_t nsteps;
} perf_outcome;

/* "pass", "regression", "error", "inconclusive" for exit codes 0..3. */
const char *perf_outcome_word(int exit_code);

/* The rows of o->cmp in the order people read them: regressions first,
 * then rows that could not be judged, inconclusive ones, improvements,
 * and the rest; stable within each group. A new malloc'd array of indexes
 * (*n = o->cmp->n), or NULL with *n = 0 when there is no comparison or on
 * allocation failure (*oom set then). */
size_t *perf_outcome_order(const perf_comparison *c, size_t *n, int *oom);

/* Writes the files whose paths are non-NULL ("-" is stdout). 0, or -1
 * with e naming the file that could not be written. */
int perf_outcome_write(const perf_outcome *o, const char *json_path, const char *junit_path,
                       const char *comment_path, perf_error *e);

#endif /* PERF_OUTCOME_H */
