/*
 * perf/export.h — the history as CSV or JSON for other tools
 * (`lightning perf export`).
 *
 * CSV: a header line, then one row per sample, RFC 4180 quoting. Columns,
 * in this order (the first twelve are the documented contract; more may be
 * appended later, never inserted):
 *   run_id, timestamp, commit, machine_id, benchmark, engine, sync_mode,
 *   threads, repetition, metric, value, unit,
 *   direction, dirty, suite, kind, proc, label
 * JSON: {"schema":"lightning-perf-export/1","runs":[{run fields...,
 *   "samples":[{benchmark, engine, sync_mode, threads, repetition, proc,
 *   metric, value, unit, direction}]}]}
 *
 * Contract: reads the history only; writes to the FILE given; 0 or -1 with
 * e set. run_id 0 exports every run matching the filter. Uses the caller's
 * history handle, so it runs on the thread that owns that handle.
 */
#ifndef PERF_EXPORT_H
#define PERF_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "perf/error.h"
#include "perf/history.h"

#define PERF_EXPORT_SCHEMA "lightning-perf-export/1"

int perf_export_csv(perf_history *h, const perf_run_filter *f, int64_t run_id, FILE *out,
                    size_t *rows, perf_error *e);
int perf_export_json(perf_history *h, const perf_run_filter *f, int64_t run_id, FILE *out,
                     size_t *rows, perf_error *e);

#endif /* PERF_EXPORT_H */
