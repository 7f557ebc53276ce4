/*
 * perf/ab.h — one interleaved A/B measurement and its verdicts: the engine
 * of `ab`, `calibrate` (A/A: the same binary on both sides) and each
 * `bisect` step. See compare.h for why ab judges against the noise floor
 * alone, and runner.h for the ABBA order.
 *
 * Contract
 * - perf_ab_run runs `rounds` ABBA rounds into r (which the caller frees
 *   with perf_ab_result_free whatever the return) and computes r->cmp.
 *   perf_ab_extend adds rounds to an existing result and recomputes the
 *   comparison (how bisect re-measures an inconclusive step).
 * - Wall-clock rows are judged by process pairs (perf/pairing.h: a duet
 *   or an ABBA round is one pair, two consecutive rounds with swapped
 *   cores or order one crossover unit with the suite's crossover = 1), so
 *   the process is the unit of replication; counts rows by
 *   perf/countcmp.h. With crossover both functions round an odd round
 *   count up to even so every unit is complete.
 * - Nothing is written to the history here; perf_side_run_info turns a
 *   side into a run record for the caller to store.
 * - Single-threaded.
 */
#ifndef PERF_AB_H
#define PERF_AB_H

#include "perf/compare.h"
#include "perf/history.h"
#include "perf/runner.h"

typedef struct perf_ab_opts {
    const perf_suite *suite;
    const char *base_bin, *head_bin;
    double base_inject, head_inject;  /* --inject-slowdown per side, %   */
    double head_freeze;               /* --inject-freeze: head stopped this
                                         % of its wall time (freeze.h)     */
    const char *head_options;         /* --head-options: the head side's
                                         extra LIGHTNING_BENCH_OPTIONS     */
    unsigned rounds;
    const char *scratch;
    perf_progress *progress;
    perf_history *history;            /* for calibrated floors; may be NULL */
    perf_cmp_opts cmp;                /* mode is forced to PERF_CMP_AB     */
    const char *machine_key;          /* the testbed's name (--machine), whose
                                         floors apply; NULL: the fingerprint */
} perf_ab_opts;

typedef struct perf_ab_result {
    perf_side base, head;
    perf_comparison cmp;
    unsigned rounds;
    double wall_s;                    /* wall time of the rounds so far   */
    char machine_id[PERF_MACHINE_KEY_CAP];
    char sync_mode[16];
} perf_ab_result;

int perf_ab_run(const perf_ab_opts *o, perf_ab_result *r, perf_error *e);
int perf_ab_extend(const perf_ab_opts *o, perf_ab_result *r, unsigned more, perf_error *e);
void perf_ab_result_free(perf_ab_result *r);

/* 1 when r earns more rounds: a row is INCONCLUSIVE, or (the suite's
 * resolve > 0) a paired wall-clock row that is not already a REGRESSION
 * resolves only slowdowns above resolve. A SAME from a row that could not
 * see 5% is not an answer; each extra look is still held to p < alpha and
 * the whole interval beyond the floor. The caller caps the rounds. */
int perf_ab_wants_more(const perf_ab_opts *o, const perf_ab_result *r);

/* Context for perf_floor_from_history (compare.h's lookup callback). */
typedef struct perf_floor_ctx {
    perf_history *h;
    const char *machine_id;
    const char *sync_mode;
} perf_floor_ctx;
int perf_floor_from_history(void *ctx, const perf_series_key *k, double *raw, int *kreps);

/* Fills a run record from a side: machine and build from its first bench
 * document, the suite (name, path, text), sync mode (upper case), binary,
 * command line, injected slowdown and wall time. */
void perf_side_run_info(const perf_side *side, const perf_suite *s, const char *kind,
                        const char *label, perf_run_info *run);

#endif /* PERF_AB_H */
