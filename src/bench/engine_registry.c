/*
 * bench/engine_registry.c — the list of benchmark engines, the per-thread
 * error message, and the helpers the adapters share (directory cache
 * dropping and syncing, sizing, the NORMAL-mode background syncer).
 *
 * Invariants
 * - bench_engines() is a static, NULL-terminated list; its order is the
 *   order results are printed in (lightning first, so ratios are to it).
 * - The error message is thread-local: a worker's failure never clobbers
 *   another thread's message, and no lock is taken to record one.
 * - The directory walkers never follow symlinks and tolerate files that
 *   vanish while they walk (engines delete obsolete files in background
 *   threads, e.g. RocksDB after a compaction).
 */
#include "bench/engine_list.h"
#include "util/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const bench_engine *const engines[] = {
    &bench_engine_lightning, &bench_engine_lmdb,   &bench_engine_rocksdb,
    &bench_engine_leveldb,   &bench_engine_sqlite, &bench_engine_null,
    NULL};

const bench_engine *const *bench_engines(void) { return engines; }

const bench_engine *bench_engine_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; engines[i]; i++)
        if (strcmp(engines[i]->name, name) == 0)
            return engines[i];
    return NULL;
}

static _Thread_local char err_buf[512];

const char *bench_engine_error(void) { return err_buf; }

void bench_engine_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
}

const char *bench_sync_mode_name(int mode)
{
    switch (mode) {
    case BENCH_SYNC_NONE: return "NONE";
    case BENCH_SYNC_NORMAL: return "NORMAL";
    case BENCH_SYNC_FULL: return "FULL";
    default: return "?";
    }
}

uint64_t bench_phys_mem_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psz <= 0)
        return (uint64_t)4 << 30; /* unknown: assume a small machine */
    return (uint64_t)pages * (uint64_t)psz;
}

uint64_t bench_data_bytes(const bench_engine_config *cfg,
                          size_t per_key_overhead)
{
    uint64_t per = (uint64_t)cfg->key_size + cfg->value_size + per_key_overhead;
    if (cfg->key_count && per > UINT64_MAX / cfg->key_count)
        return UINT64_MAX;
    return cfg->key_count * per;
}

int bench_make_dir(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        bench_engine_set_error("bad directory name '%s'", dir);
        return BENCH_EINVAL;
    }
    memcpy(path, dir, n + 1);
    /* Create each ancestor in turn: the runner passes nested paths like
     * /tmp/run/lmdb-NONE whose parent may not exist yet. */
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            bench_engine_set_error("mkdir %s: %s", path, strerror(errno));
            return BENCH_EFAIL;
        }
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        bench_engine_set_error("mkdir %s: %s", path, strerror(errno));
        return BENCH_EFAIL;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        bench_engine_set_error("%s is not a directory", path);
        return BENCH_EFAIL;
    }
    return BENCH_OK;
}

enum { WALK_DROP = 1, WALK_SYNC = 2 };

/* Visits every regular file under dirfd (which the caller owns). */
static int walk_dir(int dirfd, const char *shown, int what, int depth)
{
    int rc = BENCH_OK;
    if (depth > 32) {
        bench_engine_set_error("%s: directory tree too deep", shown);
        return BENCH_EFAIL;
    }
    int dupfd = dup(dirfd); /* fdopendir takes ownership of the fd */
    if (dupfd < 0) {
        bench_engine_set_error("dup: %s", strerror(errno));
        return BENCH_EFAIL;
    }
    DIR *d = fdopendir(dupfd);
    if (!d) {
        bench_engine_set_error("opendir %s: %s", shown, strerror(errno));
        close(dupfd);
        return BENCH_EFAIL;
    }
    struct dirent *e = NULL;
    while (rc == BENCH_OK && (errno = 0, e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                continue;
            bench_engine_set_error("stat %s/%s: %s", shown, e->d_name,
                                   strerror(errno));
            rc = BENCH_EFAIL;
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd, e->d_name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                if (errno == ENOENT)
                    continue;
                bench_engine_set_error("open %s/%s: %s", shown, e->d_name,
                                       strerror(errno));
                rc = BENCH_EFAIL;
                break;
            }
            rc = walk_dir(sub, e->d_name, what, depth + 1);
            if (rc == BENCH_OK && (what & WALK_SYNC) && fsync(sub) != 0) {
                bench_engine_set_error("fsync dir %s: %s", e->d_name,
                                       strerror(errno));
                rc = BENCH_EFAIL;
            }
            close(sub);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        int fd = openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT)
                continue;
            bench_engine_set_error("open %s/%s: %s", shown, e->d_name,
                                   strerror(errno));
            rc = BENCH_EFAIL;
            break;
        }
        /* Dirty pages cannot be dropped: write them back first. */
        if (fdatasync(fd) != 0) {
            bench_engine_set_error("fdatasync %s/%s: %s", shown, e->d_name,
                                   strerror(errno));
            rc = BENCH_EFAIL;
        } else if (what & WALK_DROP) {
            int err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
            if (err != 0) {
                bench_engine_set_error("fadvise %s/%s: %s", shown, e->d_name,
                                       strerror(err));
                rc = BENCH_EFAIL;
            }
        }
        close(fd);
    }
    if (rc == BENCH_OK && errno != 0 && e == NULL) {
        bench_engine_set_error("readdir %s: %s", shown, strerror(errno));
        rc = BENCH_EFAIL;
    }
    closedir(d);
    return rc;
}

static int walk_top(const char *dir, int what)
{
    if (!dir) {
        bench_engine_set_error("no directory");
        return BENCH_EINVAL;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        bench_engine_set_error("open %s: %s", dir, strerror(errno));
        return BENCH_EFAIL;
    }
    int rc = walk_dir(fd, dir, what, 0);
    if (rc == BENCH_OK && (what & WALK_SYNC) && fsync(fd) != 0) {
        bench_engine_set_error("fsync %s: %s", dir, strerror(errno));
        rc = BENCH_EFAIL;
    }
    close(fd);
    return rc;
}

int bench_drop_dir_cache(const char *dir) { return walk_top(dir, WALK_DROP); }

int bench_sync_dir_files(const char *dir) { return walk_top(dir, WALK_SYNC); }

/* ---- background syncer ------------------------------------------------ */

static void *syncer_main(void *arg)
{
    bench_syncer *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct timespec dl;
        sys_deadline_ms(&dl, s->interval_ms);
        /* Loop on spurious wakeups: only stop or the deadline ends a wait. */
        while (!s->stop) {
            int w = pthread_cond_timedwait(&s->cv, &s->mu, &dl);
            if (w == ETIMEDOUT)
                break;
        }
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->mu);
        char err[sizeof s->err];
        err[0] = '\0';
        /* The sync runs unlocked so stop() never waits behind an fsync
         * longer than one call. */
        int rc = s->fn(s->arg, err, sizeof err);
        pthread_mutex_lock(&s->mu);
        s->rounds++;
        if (rc != BENCH_OK && s->failed == BENCH_OK) {
            s->failed = rc;
            snprintf(s->err, sizeof s->err, "%s", err);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int bench_syncer_start(bench_syncer *s, unsigned interval_ms,
                       int (*fn)(void *arg, char *err, size_t errcap),
                       void *arg)
{
    int rc = BENCH_EFAIL;
    memset(s, 0, sizeof *s);
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        bench_engine_set_error("pthread_condattr_init failed");
        return BENCH_EFAIL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        bench_engine_set_error("pthread_mutex_init failed");
        goto out_attr;
    }
    if (pthread_cond_init(&s->cv, &ca) != 0) {
        bench_engine_set_error("pthread_cond_init failed");
        goto out_mu;
    }
    s->interval_ms = interval_ms ? interval_ms : 100;
    s->fn = fn;
    s->arg = arg;
    int err = pthread_create(&s->thread, NULL, syncer_main, s);
    if (err != 0) {
        bench_engine_set_error("pthread_create: %s", strerror(err));
        goto out_cv;
    }
    s->running = 1;
    pthread_condattr_destroy(&ca);
    return BENCH_OK;
out_cv:
    pthread_cond_destroy(&s->cv);
out_mu:
    pthread_mutex_destroy(&s->mu);
out_attr:
    pthread_condattr_destroy(&ca);
    return rc;
}

int bench_syncer_status(bench_syncer *s)
{
    if (!s->running)
        return BENCH_OK;
    pthread_mutex_lock(&s->mu);
    int rc = s->failed;
    if (rc != BENCH_OK)
        bench_engine_set_error("background sync failed: %s", s->err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int bench_syncer_stop(bench_syncer *s)
{
    if (!s->running)
        return BENCH_OK;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->running = 0;
    int rc = s->failed;
    if (rc != BENCH_OK)
        bench_engine_set_error("background sync failed: %s", s->err);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    return rc;
}
