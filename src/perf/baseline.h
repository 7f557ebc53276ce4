/*
 * perf/baseline.h — which run a `lightning perf check` compares against:
 * the baseline of the head run's machine + sync mode + suite, a first
 * baseline established from the head run, or (forced) the suite's baseline
 * on another machine or sync mode.
 *
 * Owns nothing beyond the result struct. Invariants: a run is compared
 * only with a baseline of its own machine, sync mode and suite unless
 * `force` (then status is PERF_BASELINE_FORCED); `establish` writes the
 * head run as the baseline only when that key has none. Who calls: the
 * CLI's check command. One thread; the history does the locking.
 */
#ifndef PERF_BASELINE_H
#define PERF_BASELINE_H

#include <stdint.h>

#include "perf/error.h"
#include "perf/history.h"

typedef enum perf_baseline_status {
    PERF_BASELINE_FOUND,       /* run_id: this key's baseline                    */
    PERF_BASELINE_ESTABLISHED, /* none existed; the head run is it now           */
    PERF_BASELINE_FORCED,      /* run_id: the suite's baseline on other_machine /
                                  other_sync, used because force was given       */
    PERF_BASELINE_ELSEWHERE,   /* refused: only other_machine / other_sync has one */
    PERF_BASELINE_NONE         /* no baseline for this suite anywhere            */
} perf_baseline_status;

typedef struct perf_baseline_choice {
    perf_baseline_status status;
    int64_t run_id;
    char other_machine[PERF_MACHINE_KEY_CAP];
    char other_sync[16];
} perf_baseline_choice;

/* Resolves the baseline for `head`. 0 (out filled), or -1 with e set (a
 * history error). */
int perf_baseline_resolve(perf_history *h, const perf_run_info *head, int establish, int force,
                          perf_baseline_choice *out, perf_error *e);

#endif /* PERF_BASELINE_H */
