/*
 * perf/selftest.h — `lightning perf selftest`: measure, on this machine
 * and now, what the gate's error rates are, instead of trusting the
 * simulator: `runs` A/A comparisons (this binary against itself) and
 * `runs` comparisons whose head is frozen freeze_pct% of its wall time
 * (perf/freeze.h: a slowdown instruction counts cannot see), each an ab
 * exactly as `lightning perf ab` runs it (rounds, extension while
 * INCONCLUSIVE up to max_rounds, pairing per section).
 *
 * Reports, per wall-clock row, how often A/A said REGRESSION (false
 * alarms) or INCONCLUSIVE, how often the frozen head was called
 * REGRESSION (power), the exit codes, and the time every comparison took.
 *
 * Contract: blocking; writes the table to out; records nothing in the
 * history (floors are read from it when given). Returns 0, or -1 with e
 * set when a comparison could not run. Single-threaded.
 */
#ifndef PERF_SELFTEST_H
#define PERF_SELFTEST_H

#include <stdio.h>

#include "perf/ab.h"

typedef struct perf_selftest_opts {
    perf_ab_opts ab;        /* base_bin = head_bin = the binary under test */
    unsigned runs;          /* of each kind                                */
    double freeze_pct;      /* injected into the head in the second half   */
    unsigned max_rounds;
} perf_selftest_opts;

int perf_selftest(const perf_selftest_opts *o, FILE *out, perf_error *e);

#endif /* PERF_SELFTEST_H */
