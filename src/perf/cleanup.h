/*
 * perf/cleanup.h — what `lightning bench` and `lightning perf` leave behind
 * when they are stopped: the exit cleanup registry.
 *
 * A temporary directory, a git worktree or a child process is registered
 * when it is created and forgotten when its owner has removed (or reaped)
 * it. On SIGINT, SIGTERM or SIGHUP the registry stops every registered
 * child (SIGTERM to it and its process group, SIGKILL after 5 s), removes
 * every registered worktree (`git worktree remove --force`) and directory
 * tree, and then lets the signal take the process with its default action,
 * so the shell sees the conventional status (130 for Ctrl-C, 143 for
 * SIGTERM). A second signal during that cleanup exits at once.
 *
 * Owns: the registered paths (copies) and pids; the signal dispositions of
 * SIGINT, SIGTERM and SIGHUP after perf_cleanup_init.
 * Invariants: only what this process created is ever registered (the
 * caller's duty: "only remove what the tool made"); an entry is removed at
 * most once by the registry.
 * Async-signal safety: the handler only records the signal and write()s
 * one byte to a self-pipe; a watcher thread started by perf_cleanup_init
 * does the work (kill, waitpid, spawning git, nftw) in ordinary context.
 * Threads: every function may be called from any thread (one mutex; the
 * child slots are atomics). Who calls: main.c initialises it for bench and
 * perf; proc.c registers children, gitbuild.c worktrees, the perf command
 * its scratch directory, the bench command its run directory.
 */
#ifndef PERF_CLEANUP_H
#define PERF_CLEANUP_H

#include <sys/types.h>

/* Installs the handlers and starts the watcher; idempotent. 0 or -1. */
int perf_cleanup_init(void);

/* Registers a directory tree to remove on a signal or perf_cleanup_run.
 * 0, or -1 when the registry is full (the path is then simply not
 * cleaned up on a signal; nothing else changes). */
int perf_cleanup_add_dir(const char *path);
/* Registers a worktree of repository `repo`. 0 or -1 as above. */
int perf_cleanup_add_worktree(const char *repo, const char *path);
/* Drops a registered path (its owner removed it or keeps it on purpose). */
void perf_cleanup_forget(const char *path);

/* A started child (until reaped). */
void perf_cleanup_add_child(pid_t pid);
void perf_cleanup_forget_child(pid_t pid);

/* Removes everything still registered, now (the normal exit path). After
 * a signal it does not return: the watcher finishes and ends the process. */
void perf_cleanup_run(void);

/* The signal that stopped this process, or 0: a long loop may check it to
 * stop early instead of starting the next step. */
int perf_cleanup_signalled(void);

#endif /* PERF_CLEANUP_H */
