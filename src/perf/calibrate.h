/*
 * perf/calibrate.h — noise floors from an A/A run (`lightning perf
 * calibrate`): per series and metric, the floor check and ab use from then
 * on, and the decision whether a calibration is fit to be stored.
 *
 * Owns: the rows of a perf_calibration (free with perf_calibration_free).
 * Invariants: a row exists only for a series with >= 2 positive samples on
 * each side; worst_gated is the widest floor among the series the suite
 * gates (other metrics get floors too but do not decide acceptance); a
 * calibration whose worst_gated exceeds PERF_CALIBRATE_MAX_FLOOR is not
 * stored unless the caller forces it (perf_calibrate_store does not check:
 * the caller decides, after showing the rows).
 * Callers: the CLI's calibrate command. Pure computation except
 * perf_calibrate_store (the history); one thread per calibration.
 */
#ifndef PERF_CALIBRATE_H
#define PERF_CALIBRATE_H

#include <stddef.h>

#include "perf/ab.h"
#include "perf/error.h"
#include "perf/history.h"
#include "perf/suite.h"

/* The widest gated floor stored without forcing: above it the floor, not
 * the suite's tolerance (10-15%), decides what check and ab can see, and
 * such floors come from a loaded machine, not from the code. */
#define PERF_CALIBRATE_MAX_FLOOR 0.25

typedef struct perf_calibration {
    perf_noise_row *rows;
    int *gated;          /* per row: the suite gates this series' metric */
    size_t n;
    double worst_gated;  /* 0 when nothing gated was calibrated */
} perf_calibration;

/* Floors for every metric of every series of the A/A result r (base and
 * head are the same binary). 0, or -1 with e set (out of memory). */
int perf_calibrate_floors(const perf_ab_result *r, const perf_suite *s, perf_calibration *out,
                          perf_error *e);
/* 1 when it may be stored without forcing. */
int perf_calibrate_acceptable(const perf_calibration *c);
/* Stores every row. 0 or -1 with e set (rows before the failing one are
 * stored). */
int perf_calibrate_store(perf_history *h, const perf_calibration *c, perf_error *e);
void perf_calibration_free(perf_calibration *c);

#endif /* PERF_CALIBRATE_H */
