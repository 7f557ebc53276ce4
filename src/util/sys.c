/*
 * util/sys.c — file-system and /proc helpers of the tools; the contract is
 * in util/sys.h.
 */
#include "util/sys.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sys_timespec_add_ns(struct timespec *ts, uint64_t ns)
{
    ns += (uint64_t)ts->tv_nsec;
    ts->tv_sec += (time_t)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
}

void sys_deadline_ms(struct timespec *ts, uint64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    sys_timespec_add_ns(ts, ms * 1000000u);
}

int sys_path_join(char *out, size_t cap, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb + 1 > cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(out, a, la);
    out[la] = '/';
    memcpy(out + la + 1, b, lb + 1);
    return 0;
}

int sys_mkdirs(const char *dir)
{
    char path[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(p); /* unlink or rmdir, whichever p is */
    return 0;  /* best effort: go on past what cannot be removed */
}

/* Depth first (a directory after its contents), FTW_PHYS: a link is
 * removed, never followed. */
void sys_rmtree(const char *dir)
{
    if (dir && dir[0])
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t du_bytes;
static int du_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)p, (void)ftw;
    if (flag == FTW_F)
        du_bytes += (uint64_t)st->st_blocks * 512u;
    return 0;
}

uint64_t sys_dir_bytes(const char *dir)
{
    du_bytes = 0;
    nftw(dir, du_one, 16, FTW_PHYS);
    return du_bytes;
}

int sys_read_rss(uint64_t *anon, uint64_t *file)
{
    char line[256];
    unsigned long long kb;
    int got = 0;
    *anon = *file = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "RssAnon: %llu kB", &kb) == 1) {
            *anon = kb * 1024u;
            got |= 1;
        } else if (sscanf(line, "RssFile: %llu kB", &kb) == 1) {
            *file += kb * 1024u;
            got |= 2;
        } else if (sscanf(line, "RssShmem: %llu kB", &kb) == 1) {
            *file += kb * 1024u;
        }
    }
    fclose(f);
    if (got != 3) {
        errno = ENOENT; /* a kernel without these fields */
        return -1;
    }
    return 0;
}

int sys_usable_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int sys_self_exe(char *out, size_t cap)
{
    if (cap < 2) {
        errno = ENAMETOOLONG;
        return -1;
    }
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    return 0;
}
