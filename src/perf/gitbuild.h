/*
 * perf/gitbuild.h — turning a git revision into a `lightning` binary for
 * `ab --base REV --head REV` and `bisect`: resolve the name, check the
 * commit out into its own worktree, build it there with make into that
 * worktree's own build directory, and keep the binary in a cache keyed by
 * commit id (a commit never changes, so neither does its build).
 *
 * Contract
 * - The user's checkout is never touched: builds happen in
 *   `git worktree add --detach` directories under the cache directory,
 *   removed (`git worktree remove --force`) once the binary is copied out.
 * - Every git/make invocation is an explicit argv (proc.h); a revision
 *   name is one argument and is resolved with `rev-parse --verify
 *   --end-of-options REV^{commit}`, so "--foo" cannot become an option.
 * - Build output goes to <cache>/<sha>/build.log; a failed build reports
 *   its tail. Returns 0, or -1 with e set (unknown revision, failed build).
 * - Not thread-safe (one build at a time; git's own locks protect the
 *   repository against other processes).
 */
#ifndef PERF_GITBUILD_H
#define PERF_GITBUILD_H

#include <stddef.h>

#include "perf/error.h"

/* The top directory of the work tree containing dir (NULL = cwd). 0, or
 * -1 when dir is not inside a git work tree. */
int perf_git_toplevel(const char *dir, char *out, size_t cap, perf_error *e);

/* Full commit id of rev in repo. A name git does not know is an error
 * that says so ("unknown revision 'v9.9' in /path"). */
int perf_git_resolve(const char *repo, const char *rev, char sha[41], perf_error *e);

/* Subject line of a commit ("" on failure). */
void perf_git_subject(const char *repo, const char *sha, char *out, size_t cap);

typedef struct perf_build_opts {
    const char *cache_dir;   /* default <repo>/build/perf-revs            */
    char *const *build_argv; /* default {"make", "-j<ncpu>", "build/lightning"} */
    const char *bin_rel;     /* built binary, relative to the worktree;
                                default "build/lightning"                */
    int quiet;               /* no "building ..." line on stderr         */
} perf_build_opts;

/* Builds commit sha of repo (or reuses the cached build) and writes the
 * binary's path into bin. */
int perf_git_build(const char *repo, const char *sha, const perf_build_opts *o, char *bin,
                   size_t cap, perf_error *e);

#endif /* PERF_GITBUILD_H */
