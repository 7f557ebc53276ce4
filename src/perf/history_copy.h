/*
 * perf/history_copy.h — `lightning perf copy-history --to DEST`: copies a
 * whole history into another, typically the SQLite file of one machine
 * into the PostgreSQL history a team shares (or back). Runs with their
 * samples, baselines, noise floors and comparisons keep their ids, times
 * and labels, so every command gives the same output on the copy (a
 * `check` of the same runs prints the same table).
 *
 * The destination must have no runs: merging two histories would need new
 * ids and is not what this does. Each run is copied in its own
 * transaction; if the copy stops part way the error says how far it got
 * and the destination should be dropped and copied again.
 *
 * Contract: reads src, writes dst; both handles belong to the caller.
 */
#ifndef PERF_HISTORY_COPY_H
#define PERF_HISTORY_COPY_H

#include <stddef.h>

#include "perf/error.h"
#include "perf/history.h"

typedef struct perf_copy_stats {
    size_t runs, samples, baselines, floors, comparisons;
} perf_copy_stats;

int perf_history_copy(perf_history *src, perf_history *dst, perf_copy_stats *st, perf_error *e);

#endif /* PERF_HISTORY_COPY_H */
