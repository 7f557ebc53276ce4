/*
 * perf/verdict_json.h — the verdict of check/ab/bisect/trend as JSON,
 * schema "lightning-perf-verdict/1" (docs/perf.md, "Machine-readable
 * verdicts"; JSON Schema in docs/schemas/lightning-perf-verdict-1.json).
 *
 * Every comparison row carries its medians, g with its interval and
 * confidence, p, the limit, tolerance and noise floor, the verdict word,
 * the mode (wallclock, counts, overhead), whether it gates, and n per
 * side; the document carries the exit code. A figure that does not exist
 * (p of a count row, the interval of a row that could not be judged) is
 * null, never 0: nothing is made up.
 *
 * Contract: formatting only (jansson); reentrant. Fields are only ever
 * added within /1; a change of meaning gets /2.
 */
#ifndef PERF_VERDICT_JSON_H
#define PERF_VERDICT_JSON_H

#include <stdio.h>

#include "perf/outcome.h"

#define PERF_VERDICT_SCHEMA "lightning-perf-verdict/1"

/* 0, or -1 when building or writing failed. */
int perf_verdict_json_write(FILE *f, const perf_outcome *o);

#endif /* PERF_VERDICT_JSON_H */
