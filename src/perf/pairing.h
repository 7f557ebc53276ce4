/*
 * perf/pairing.h — judging a series by pairs of processes instead of by
 * pooled repetitions: what `ab` (and so `make perf`, `calibrate`, `bisect`
 * and `selftest`) uses for wall-clock rows.
 *
 * The runner gives the k-th process of each side of an interleaved
 * comparison the same process index in both sides' samples: in a duet
 * (suite `pairing = duet`) base and head ran at the same time, each on its
 * own core; in ABBA (`pairing = abba`, the default, and what the
 * concurrent-* sections need: they use both cores) they ran back to back
 * in one round. Each process's repetitions are first reduced to their
 * median, so the process pair — not the repetition — is the unit of
 * replication (perf/stats_paired.h has the statistic).
 *
 * Contract: pure computation over caller-owned sample sets; perf_pair_rows
 * fills the verdict part of a comparison row like compare.c's unpaired
 * judge does, plus its note (mode, pairs, spread, what the row resolves,
 * and for an INCONCLUSIVE row how long a run that resolves 5% would take
 * here). Reentrant. Called by compare.c only.
 */
#ifndef PERF_PAIRING_H
#define PERF_PAIRING_H

#include <stddef.h>

#include "perf/comparison.h"
#include "perf/sample.h"

/* Per-process medians of series k that exist on both sides, matched by
 * process index, in process order: *b and *h (malloc'd, n each; NULL when
 * n == 0). 0, or -1 on allocation failure. */
int perf_samples_pairs(const perf_sample_set *base, const perf_sample_set *head,
                       const perf_series_key *k, double **b, double **h, size_t *n);

/* Per-process medians of series k (malloc'd into *med, NULL when n == 0),
 * in process order. 0, or -1 on allocation failure. */
int perf_samples_proc_medians(const perf_sample_set *s, const perf_series_key *k, double **med,
                              size_t *n);

typedef struct perf_pair_ctx {
    const char *mode;      /* "duet" or "ABBA": printed in the note        */
    double alpha;
    unsigned resamples;
    double pair_seconds;   /* wall time one pair costs here; 0 = unknown   */
    int crossover;         /* judge crossover units (perf_pairs_crossover)
                              instead of single pairs                     */
} perf_pair_ctx;

/* Crossover units: pairs 2u and 2u+1 (consecutive rounds, in which the
 * runner swaps which core -- duet -- or which order -- ABBA -- each side
 * gets) become one unit whose base and head values are the geometric
 * means of the two rounds' values, so the unit's log ratio is the mean of
 * the two rounds' log ratios and a fixed core or order advantage cancels
 * exactly. Measured here: one of this VM's two cores ran read-random 7-9%
 * faster than the other, which alternating cores turned into a 7% per-pair
 * spread. In place over b and h (n values each); returns the unit count
 * n/2 (an odd last pair is dropped). A value <= 0 in either pair makes the
 * unit's value 0, so the verdict still refuses it (EDOMAIN). */
size_t perf_pairs_crossover(double *b, double *h, size_t n);

/* The minimum pairs a paired row needs: the exact signed-rank test cannot
 * reach alpha = 0.01 with fewer than 8. */
#define PERF_PAIRS_MIN 8

/* Judges row r (its tolerance, noise_floor and direction already set) by
 * the pairs of series k. Returns 1 when judged, 0 when there are fewer
 * than PERF_PAIRS_MIN pairs (the caller judges unpaired), -1 on
 * allocation failure. */
int perf_pair_judge_row(perf_cmp_row *r, const perf_sample_set *base,
                        const perf_sample_set *head, const perf_series_key *k,
                        const perf_pair_ctx *c);

/* Holm's step-down adjustment of the p-values of c's paired rows (the
 * family: every wall-clock row judged by pairs, so 18 series do not get
 * 18 chances at a false alarm), then each such row's verdict again by
 * perf_paired_decide; the caller re-tallies. */
void perf_pair_holm(perf_comparison *c, double alpha);

#endif /* PERF_PAIRING_H */
