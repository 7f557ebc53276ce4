/*
 * perf/bisect.h — `lightning perf bisect`: find the first commit between a
 * good and a bad revision that made a benchmark slower, by driving
 * `git bisect run` with a step that builds the commit and measures it
 * interleaved (ab) against the good build.
 *
 * How
 * - The good and bad revisions are resolved and built (gitbuild.h), and
 *   bad is first measured against good: if that is not a regression there
 *   is nothing to bisect (an error that says what the verdict was).
 * - A private worktree (under the scratch directory) holds the bisection:
 *   `git bisect start --no-checkout BAD GOOD` there, so the user's checkout
 *   and its bisect state are never touched; each step builds the commit in
 *   BISECT_HEAD in a worktree of its own.
 * - The step (`lightning perf bisect-step`, run by git from a private copy
 *   of this binary) exits 1 for a regression (bad), 0 for same or
 *   improvement (good), and 125 (skip) when the commit does not build or
 *   its bench fails; an inconclusive step is re-measured with more rounds
 *   (doubling, up to max_rounds) and skipped if it stays inconclusive.
 *   Each step appends one line to the steps file, which the driver prints.
 *
 * Contract: blocking; spawns git, make and lightning only through proc.h;
 * removes its worktrees and bisect state at the end, success or not. One
 * bisection per scratch directory at a time (single-threaded); other
 * processes may keep using the repository, whose own checkout and bisect
 * state are never touched.
 */
#ifndef PERF_BISECT_H
#define PERF_BISECT_H

#include <stddef.h>

#include "perf/ab.h"
#include "perf/comparison.h"
#include "perf/error.h"

/* Exit codes of a bisect step, as `git bisect run` reads them. */
enum { PERF_BISECT_GOOD = 0, PERF_BISECT_BAD = 1, PERF_BISECT_SKIP = 125 };

/* Maps a step's comparison to its exit code. */
int perf_bisect_step_code(const perf_comparison *c);

typedef struct perf_bisect_step {
    char sha[41];
    char verdict[24];      /* "bad", "good", "skip: <why>"              */
    double g, g_lo, g_hi;
    unsigned rounds;
} perf_bisect_step;

/* Reads the steps file written by the steps ("sha verdict g lo hi rounds"
 * per line); returns the count (malloc'd array in *out). */
size_t perf_bisect_read_steps(const char *path, perf_bisect_step **out);
/* Appends one step line. */
void perf_bisect_append_step(const char *path, const perf_bisect_step *s);

typedef struct perf_bisect_opts {
    const char *repo;           /* git top level                          */
    const char *good_sha, *bad_sha;
    const char *driver;         /* this binary, copied for git to run     */
    char *const *step_args;     /* the bisect-step arguments after "perf" */
    const char *scratch;        /* private directory                      */
} perf_bisect_opts;

/* Runs `git bisect run`; on success writes the first bad commit into
 * first_bad (1 returned), 0 when git could not pin one commit (skipped
 * commits around it: *out holds git's last lines), -1 with e set on
 * error. */
int perf_bisect_drive(const perf_bisect_opts *o, char first_bad[41], char *out, size_t cap,
                      perf_error *e);

#endif /* PERF_BISECT_H */
