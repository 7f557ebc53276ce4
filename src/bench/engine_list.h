/*
 * bench/engine_list.h — the adapters behind bench/engine.h and the few
 * helpers they share (owned by the adapter files engine_*.c).
 *
 * Only engine_registry.c and the adapters include this; the rest of the
 * harness reaches adapters through bench_engines()/bench_engine_find().
 */
#ifndef BENCH_ENGINE_LIST_H
#define BENCH_ENGINE_LIST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/engine.h"

extern const bench_engine bench_engine_null;
extern const bench_engine bench_engine_lightning;
extern const bench_engine bench_engine_lmdb;
extern const bench_engine bench_engine_rocksdb;
extern const bench_engine bench_engine_leveldb;
extern const bench_engine bench_engine_sqlite;

/* fdatasync every regular file under dir (recursively), then fsync dir
 * itself: the generic "make everything written so far durable". */
int bench_sync_dir_files(const char *dir);

/* mkdir -p with mode 0755; BENCH_OK when dir exists afterwards. */
int bench_make_dir(const char *dir);

/* Sizing helpers shared by the adapters. */
uint64_t bench_phys_mem_bytes(void);
/* key_count * (key_size + value_size + per_key_overhead), saturating. */
uint64_t bench_data_bytes(const bench_engine_config *cfg,
                          size_t per_key_overhead);
const char *bench_sync_mode_name(int mode);

/*
 * A background thread that calls fn(arg) every interval_ms until stopped:
 * the NORMAL-mode "durable within the interval" for engines whose own API
 * only offers an explicit sync call (LMDB's mdb_env_sync, RocksDB's
 * FlushWAL(true)). The first failure is kept (message and code) so that
 * close/sync can report that the durability promise was broken.
 */
typedef struct bench_syncer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running;
    int stop;
    unsigned interval_ms;
    int (*fn)(void *arg, char *err, size_t errcap);
    void *arg;
    int failed;          /* BENCH_OK, or the first failure's code */
    char err[256];
    uint64_t rounds;     /* sync calls made (for tests) */
} bench_syncer;

int bench_syncer_start(bench_syncer *s, unsigned interval_ms,
                       int (*fn)(void *arg, char *err, size_t errcap),
                       void *arg);
/* Stops and joins the thread; returns BENCH_OK or the first failure (with
 * its message recorded as this thread's error). Safe on a never-started or
 * already-stopped syncer. */
int bench_syncer_stop(bench_syncer *s);
/* BENCH_OK, or the first failure so far (message recorded). */
int bench_syncer_status(bench_syncer *s);

#endif /* BENCH_ENGINE_LIST_H */
