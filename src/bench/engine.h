/*
 * bench/engine.h — the one small interface every benchmarked engine sits
 * behind (lightning, lmdb, rocksdb, leveldb, sqlite, null).
 *
 * Contract
 * - An adapter owns every file under cfg->dir; open creates the directory if
 *   needed and configures the engine as its own documentation recommends for
 *   the workload (cache sized to the data, bloom filters, map size, ...), and
 *   describes that configuration in `desc` (one line, printed with results).
 * - Durability: cfg->sync_mode is BENCH_SYNC_NONE (survives a process crash,
 *   not power loss), _NORMAL (durable within a bounded interval, a prefix of
 *   history after power loss) or _FULL (every commit durable on return). An
 *   engine without a faithful equivalent of a mode returns BENCH_UNSUPPORTED
 *   from open; the runner then skips it, so only like is compared with like.
 * - Threads: `open`/`close`/`drop_cache` are called by one thread. Each
 *   worker thread calls thread_init once, then only its own context's
 *   operations, then thread_fini. Contexts hold per-thread state (LMDB read
 *   transactions, SQLite connections and prepared statements, buffers).
 * - Operation calls do no allocation in the adapter unless the engine's API
 *   forces it (say so in the adapter).
 * - Return codes: BENCH_OK, BENCH_NOTFOUND (get of an absent key), or a
 *   negative BENCH_E* code; adapters put a message in bench_engine_error().
 */
#ifndef BENCH_ENGINE_H
#define BENCH_ENGINE_H

#include <stddef.h>
#include <stdint.h>

enum {
    BENCH_OK = 0,
    BENCH_NOTFOUND = 1,
    BENCH_EFAIL = -1,        /* engine call failed (message recorded) */
    BENCH_EINVAL = -2,       /* bad configuration */
    BENCH_UNSUPPORTED = -3   /* engine has no faithful equivalent */
};

enum { BENCH_SYNC_NONE = 0, BENCH_SYNC_NORMAL = 1, BENCH_SYNC_FULL = 2 };

typedef struct bench_engine_config {
    const char *dir;            /* data directory (created if absent) */
    int sync_mode;              /* BENCH_SYNC_* */
    unsigned sync_interval_ms;  /* NORMAL mode period (default 100) */
    uint64_t key_count;         /* keys the workload will hold (sizing) */
    size_t key_size;
    size_t value_size;
    int threads;                /* worker threads that will call in */
    double inject_slowdown_pct; /* lightning only: calibrated busy work */
} bench_engine_config;

typedef struct bench_engine {
    const char *name;
    int (*open)(const bench_engine_config *cfg, void **h, char *desc,
                size_t desc_cap);
    int (*close)(void *h);
    int (*thread_init)(void *h, void **tctx);
    void (*thread_fini)(void *h, void *tctx);
    /* One put per commit, at the configured durability. */
    int (*put)(void *tctx, const void *k, size_t klen, const void *v,
               size_t vlen);
    /* Copies min(cap, len) bytes; sets *vlen to the full length. */
    int (*get)(void *tctx, const void *k, size_t klen, void *buf, size_t cap,
               size_t *vlen);
    int (*del)(void *tctx, const void *k, size_t klen);
    /* Reads up to `count` consecutive keys and values starting at the first
     * key >= k, touching each value's bytes; *found = how many there were. */
    int (*scan)(void *tctx, const void *k, size_t klen, size_t count,
                size_t *found);
    /* n puts applied atomically as one commit (transaction or batch). */
    int (*txn_put)(void *tctx, size_t n, const void *const *keys,
                   const size_t *klens, const void *const *vals,
                   const size_t *vlens);
    /* Optional (NULL = the runner loops over get): n gets from one snapshot.
     * rcs[i] is BENCH_OK or BENCH_NOTFOUND; vlens[i] the value length. */
    int (*multi_get)(void *tctx, size_t n, const void *const *keys,
                     const size_t *klens, size_t *vlens, int *rcs);
    /* Evict the engine's files from the OS page cache (cold reads). */
    int (*drop_cache)(void *h);
    /* Make everything written so far durable. */
    int (*sync)(void *h);
} bench_engine;

/* The registry: NULL-terminated list of all adapters, and lookup by name. */
const bench_engine *const *bench_engines(void);
const bench_engine *bench_engine_find(const char *name);

/* Last error message of the calling thread ("" if none). */
const char *bench_engine_error(void);
/* Records a printf-style message as the calling thread's last error. */
void bench_engine_set_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Evicts every regular file under dir from the page cache
 * (fdatasync + posix_fadvise DONTNEED); shared by adapters. */
int bench_drop_dir_cache(const char *dir);

#endif /* BENCH_ENGINE_H */
