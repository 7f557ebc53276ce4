/*
 * perf/progress.h — the progress line of long `lightning perf` commands:
 * "[ 12/40]  30%  elapsed 0:12  remaining ~0:28  read-random (B, round 6)"
 * rewritten in place on stderr.
 *
 * Contract
 * - Shown only when stderr is a terminal (or LIGHTNING_PERF_PROGRESS=1
 *   forces it, for tests); otherwise every call is a no-op, so scripts and
 *   CI logs stay clean. Never writes to stdout.
 * - The estimate is elapsed / done * remaining steps, so it is "~" and
 *   only appears once a step has finished.
 * - A perf_progress belongs to one thread; no allocation.
 */
#ifndef PERF_PROGRESS_H
#define PERF_PROGRESS_H

typedef struct perf_progress {
    int enabled;
    unsigned total, done;
    double t0;
    char what[64];
    int shown;        /* a line is on screen and must be cleared        */
} perf_progress;

/* Starts a progress display of `total` steps; what is a short title. */
void perf_progress_init(perf_progress *p, unsigned total, const char *what);
/* Shows that step `done + 1` (labelled) is starting. */
void perf_progress_step(perf_progress *p, const char *label);
/* Marks the current step finished. */
void perf_progress_advance(perf_progress *p);
/* Clears the line (call before printing anything else to stderr, and at
 * the end). */
void perf_progress_clear(perf_progress *p);
/* Clears the line and prints a final "what: N steps in M:SS" when shown. */
void perf_progress_finish(perf_progress *p);

/* Monotonic seconds. */
double perf_now(void);

#endif /* PERF_PROGRESS_H */
