/*
 * perf/proc.h — running other programs (`lightning bench`, git, make) for
 * `lightning perf`: posix_spawn with an explicit argv, never a shell, so a
 * revision name or path from the user is only ever one argument.
 *
 * Contract
 * - argv is NULL-terminated; argv[0] is looked up in PATH when it holds no
 *   '/'. stdin is /dev/null. stdout/stderr go to the named files
 *   (truncated), or are inherited when the path is NULL, or are captured
 *   (perf_proc_capture).
 * - env_set: optional NULL-terminated "NAME=value" strings that replace or
 *   add to this process's environment for the child only.
 * - cwd: optional directory the child starts in.
 * - The result is the child's exit code (0-255), or 128 + signal number
 *   when a signal killed it; -1 with e set when it could not be started.
 * - Blocking; safe to call from one thread at a time (it waits for its own
 *   child by pid, so it does not reap anybody else's).
 */
#ifndef PERF_PROC_H
#define PERF_PROC_H

#include <sched.h>
#include <stddef.h>
#include <sys/types.h>

#include "perf/error.h"
#include "util/sys.h"

int perf_proc_run(char *const argv[], const char *cwd, char *const env_set[],
                  const char *out_path, const char *err_path, perf_error *e);

/* Starting a child without waiting (the duet runner and the freeze
 * injector need it). cpus: when not NULL and non-empty, the child runs
 * pinned to these CPUs (set on the calling thread around the spawn and
 * restored: call from one thread at a time). own_pgroup: the child leads a
 * new process group (so a whole bench can be stopped with one signal). */
typedef struct perf_spawn_opts {
    const cpu_set_t *cpus;
    int own_pgroup;
} perf_spawn_opts;

int perf_proc_start(char *const argv[], char *const env_set[], const char *out_path,
                    const char *err_path, const perf_spawn_opts *so, pid_t *pid, perf_error *e);
/* Blocks until the child has exited but leaves it unreaped (its pid and
 * process group id cannot be reused while a freeze thread still signals
 * them). 0 or -1 with e set. */
int perf_proc_wait_exit(pid_t pid, perf_error *e);
/* Reaps the child: its exit code as perf_proc_run returns it. */
int perf_proc_reap(pid_t pid, const char *name, perf_error *e);

/* Runs argv and captures its stdout (up to cap - 1 bytes, NUL-terminated,
 * trailing newline removed); stderr goes to err_path (NULL = inherited). */
int perf_proc_capture(char *const argv[], const char *cwd, char *out, size_t cap,
                      const char *err_path, perf_error *e);

/* The last `lines` lines of a text file, for error messages ("" when the
 * file is missing or empty). */
void perf_file_tail(const char *path, int lines, char *out, size_t cap);

/* mkdir -p. 0 or -1 with e set. */
int perf_mkdirs(const char *path, perf_error *e);

/* The names perf and the CLI have used; the helpers themselves are in
 * util/sys.h, which new code calls directly. */
static inline int perf_self_exe(char *out, size_t cap) { return sys_self_exe(out, cap); }
static inline void perf_rmtree(const char *path) { sys_rmtree(path); }

#endif /* PERF_PROC_H */
