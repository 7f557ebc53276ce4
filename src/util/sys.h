/*
 * util/sys.h — the file-system, /proc and clock helpers that the tools
 * (src/bench, src/perf, src/cli) share, so each exists once.
 *
 * Contract
 * - Owns: the monotonic clock the tools read (sys_now_ns), CLOCK_MONOTONIC
 *   deadlines for timed condition-variable waits, directory creation and
 *   removal, disk usage of a tree, path joining, this process's resident
 *   set and usable cores, and the path of the running executable.
 * - Callers: the tools only. The engine (src/engine) keeps its own copies
 *   in engine/util.h (util_now_ns, util_deadline_ms): the library links
 *   nothing of the tools, and the bench adapters use the engine through
 *   its public API only.
 * - Errors: functions that can fail return 0, or -1 with errno set; they
 *   print nothing (the caller words the message).
 * - Removal: sys_rmtree deletes only below the path it is given, never
 *   follows symbolic links (a link is removed, not what it points to), and
 *   is best effort (what cannot be removed stays).
 * - Thread-safety: all are safe from any thread except sys_dir_bytes,
 *   which sums through a static (nftw has no callback argument): call it
 *   from one thread at a time.
 */
#ifndef UTIL_SYS_H
#define UTIL_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Nanoseconds on CLOCK_MONOTONIC. Inline: the bench's timing core reads it
 * around sampled operations, where a call would add to what is measured. */
static inline uint64_t sys_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Advances an absolute CLOCK_MONOTONIC instant by ns nanoseconds. */
void sys_timespec_add_ns(struct timespec *ts, uint64_t ns);

/* The CLOCK_MONOTONIC instant ms milliseconds from now, for
 * pthread_cond_timedwait on a condition variable whose clock attribute is
 * CLOCK_MONOTONIC (a step of the wall clock must not stretch the wait). */
void sys_deadline_ms(struct timespec *ts, uint64_t ms);

/* out = a + "/" + b; -1 (errno ENAMETOOLONG) when it does not fit in cap. */
int sys_path_join(char *out, size_t cap, const char *a, const char *b);

/* mkdir -p with mode 0755: every missing component of path. */
int sys_mkdirs(const char *path);

/* Removes a directory tree (or a file) that this program created; NULL or
 * "" does nothing. */
void sys_rmtree(const char *path);

/* Allocated bytes of the regular files under dir (sparse files count only
 * the blocks they occupy). One thread at a time. */
uint64_t sys_dir_bytes(const char *dir);

/* RssAnon, and RssFile + RssShmem, of this process in bytes, from
 * /proc/self/status. */
int sys_read_rss(uint64_t *anon, uint64_t *file);

/* CPUs this process may run on (its affinity mask), else the online CPUs;
 * at least 1. */
int sys_usable_cores(void);

/* The absolute path of the running executable (/proc/self/exe),
 * NUL-terminated in out[cap]. */
int sys_self_exe(char *out, size_t cap);

#endif /* UTIL_SYS_H */
