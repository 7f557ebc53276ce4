/*
 * bench/engine_lightning.c — the Lightning DB adapter, written against the
 * public API in include/lightningdb.h only (no engine internals), so the
 * benchmark measures what a user of the library gets.
 *
 * Configuration: the engine's defaults (64 MiB log segments, CRC32C check
 * of every value read), with create_if_missing and the sync mode mapped one
 * to one: NONE -> LDB_SYNC_NONE, NORMAL -> LDB_SYNC_NORMAL with
 * sync_interval_ms, FULL -> LDB_SYNC_FULL (group commit). Every mode is
 * supported: the modes are defined by this engine.
 *
 * Invariants
 * - Contexts hold no engine object: every call reads h->db, which changes
 *   only in drop_cache (closes the database, evicts its files, reopens it
 *   with the same options, keeping the handle pointer). Segments are read
 *   through mmap and posix_fadvise cannot evict pages the process still
 *   maps, so a close is the honest way to get cold reads.
 * - txn_put runs one read-write transaction; under snapshot isolation two
 *   threads writing the same key can conflict, so a conflict is retried
 *   (at most LT_MAX_RETRIES times) and counted in h->conflicts.
 * - Allocation per operation, forced by the API: an iterator per scan
 *   (ldb_iter_open takes its snapshot at open), a transaction object per
 *   txn_put and multi_get. put/get/delete allocate nothing in the adapter.
 * - cfg->inject_slowdown_pct > 0 adds calibrated busy work before each
 *   operation (bench/engine_lightning.h says how it is calibrated); the
 *   amount is zero until the runner sets it from an un-slowed warm-up, and
 *   is read with one relaxed load per operation otherwise.
 */
#include "bench/engine_lightning.h"
#include "bench/counts.h"
#include "bench/engine_list.h"
#include "util/sys.h"

#include <errno.h>
#include <lightningdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { LT_MAX_RETRIES = 64 };

typedef struct lt_db {
    char dir[4096];
    ldb_options opts;
    ldb *db; /* NULL when a reopen failed: operations then fail */
    atomic_uint_fast64_t conflicts;
    double slowdown_pct;
    atomic_uint_fast64_t spin_iters; /* busy-loop iterations per op */
    uint64_t inject_every;           /* > 0: every this many ops, a syscall */
    uint64_t inject_sleep_us;        /* ... or, > 0, a sleep of this long   */
} lt_db;

typedef struct lt_ctx {
    lt_db *h;
    unsigned sink;
} lt_ctx;

static int lt_fail(const char *what, int rc)
{
    const char *detail = ldb_last_error();
    bench_engine_set_error("lightning: %s: %s%s%s", what, ldb_strerror(rc),
                           detail && detail[0] ? ": " : "",
                           detail ? detail : "");
    return BENCH_EFAIL;
}

static int lt_closed(void)
{
    bench_engine_set_error("lightning: database is closed (reopen failed)");
    return BENCH_EFAIL;
}

/* ---- injected slowdown --------------------------------------------------- */

void bench_lightning_spin(uint64_t iters)
{
    /* The empty asm is a compiler barrier: the loop cannot be removed or
     * collapsed, and it touches no memory. */
    for (uint64_t i = 0; i < iters; i++)
        __asm__ __volatile__("" ::: "memory");
}

static double spin_ns_iter;
static pthread_once_t spin_once = PTHREAD_ONCE_INIT;

static void spin_calibrate(void)
{
    const uint64_t iters = (uint64_t)1 << 22;
    double best = 0;
    bench_lightning_spin(iters); /* page in, let the clock speed settle */
    for (int i = 0; i < 7; i++) {
        double t0 = (double)sys_now_ns();
        bench_lightning_spin(iters);
        double dt = (double)sys_now_ns() - t0;
        if (i == 0 || dt < best)
            best = dt;
    }
    spin_ns_iter = best > 0 ? best / (double)iters : 1.0;
}

double bench_lightning_spin_ns_per_iter(void)
{
    pthread_once(&spin_once, spin_calibrate);
    return spin_ns_iter;
}

double bench_lightning_slowdown_pct(void *hv)
{
    return hv ? ((lt_db *)hv)->slowdown_pct : 0.0;
}

/* Mean ns of one spin(iters) call, as the ops will make it (call, loop,
 * mispredicted exit): the minimum over 5 batches of calls, each batch long
 * enough to time (~0.2 ms) and short enough to be rarely preempted. */
static double spin_call_ns(uint64_t iters, double guess_ns)
{
    int calls = guess_ns > 0 ? (int)(200000.0 / guess_ns) : 256;
    if (calls < 8)
        calls = 8;
    if (calls > 4096)
        calls = 4096;
    double best = 0;
    for (int b = 0; b < 5; b++) {
        double t0 = (double)sys_now_ns();
        for (int i = 0; i < calls; i++)
            bench_lightning_spin(iters);
        double dt = ((double)sys_now_ns() - t0) / calls;
        if (b == 0 || dt < best)
            best = dt;
    }
    return best;
}

double bench_lightning_slowdown_base(void *hv, double base_ns)
{
    lt_db *h = hv;
    if (!h)
        return 0.0;
    double want = base_ns > 0 ? h->slowdown_pct / 100.0 * base_ns : 0.0;
    if (!(want > 0)) {
        atomic_store_explicit(&h->spin_iters, 0, memory_order_relaxed);
        return 0.0;
    }
    /* Start from the long-loop rate, then correct for the fixed cost of a
     * short call: the CPU may run this loop several iterations per cycle,
     * so entry and the exit mispredict are a real share of a short spin. */
    double per = bench_lightning_spin_ns_per_iter();
    uint64_t iters = (uint64_t)(want / per + 0.5);
    double got = 0;
    for (int round = 0; round < 3 && iters > 0; round++) {
        got = spin_call_ns(iters, want);
        if (!(got > 0))
            break;
        double scaled = (double)iters * want / got;
        uint64_t next = scaled < 1 ? 0 : (uint64_t)(scaled + 0.5);
        if (next == iters)
            break;
        iters = next;
    }
    if (iters)
        got = spin_call_ns(iters, want);
    else
        got = 0;
    atomic_store_explicit(&h->spin_iters, iters, memory_order_relaxed);
    return got;
}

uint64_t bench_lightning_slowdown_iters(void *hv)
{
    lt_db *h = hv;
    return h ? atomic_load_explicit(&h->spin_iters, memory_order_relaxed) : 0;
}

void bench_lightning_slowdown_set_iters(void *hv, uint64_t iters)
{
    lt_db *h = hv;
    if (h)
        atomic_store_explicit(&h->spin_iters, iters, memory_order_relaxed);
}

/* Ops of this thread since its last injected syscall or sleep. */
static _Thread_local uint64_t lt_since_inject;

/* LIGHTNING_BENCH_OPTIONS inject_every=N[,inject_sleep_us=U]: the off-CPU
 * cost a regression adds without instructions of its own (callgrind counts
 * user space only): one getppid() syscall, or a U us sleep, every N ops. */
static void lt_inject_off_cpu(lt_db *h)
{
    lt_since_inject = 0;
    if (h->inject_sleep_us) {
        struct timespec ts = {(time_t)(h->inject_sleep_us / 1000000u),
                              (long)(h->inject_sleep_us % 1000000u) * 1000L};
        nanosleep(&ts, NULL);
    } else {
        (void)getppid();
    }
}

static inline void lt_inject(lt_db *h)
{
    uint64_t n = atomic_load_explicit(&h->spin_iters, memory_order_relaxed);
    if (n)
        bench_lightning_spin(n);
    if (h->inject_every && ++lt_since_inject >= h->inject_every)
        lt_inject_off_cpu(h);
}

/* LIGHTNING_BENCH_OPTIONS="name=value,..." sets engine options the bench
 * has no flag for, e.g. "hash_accelerator=0" (the cost of the accelerator
 * on writes), "verify_checksums=never|always|first", "cleaner=0", "compression=lz4",
 * "checkpoint_bytes=0", "segment_size=16777216", and the adapter's
 * off-CPU injector "inject_every=N" (a syscall every N ops) with
 * "inject_sleep_us=U" (a sleep instead). The run's description
 * names the non-default ones. An unknown name or bad value is an error. */
static int lt_env_options(ldb_options *o, uint64_t *inject_every, uint64_t *inject_sleep_us)
{
    const char *env = getenv("LIGHTNING_BENCH_OPTIONS");
    if (!env || !*env)
        return BENCH_OK;
    char buf[512];
    if (strlen(env) >= sizeof buf) {
        bench_engine_set_error("lightning: LIGHTNING_BENCH_OPTIONS too long");
        return BENCH_EINVAL;
    }
    strcpy(buf, env);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1])
            goto bad;
        *eq = 0;
        const char *name = item, *val = eq + 1;
        if (!strcmp(name, "compression")) {
            if (!strcmp(val, "none")) o->compression = LDB_COMPRESSION_NONE;
            else if (!strcmp(val, "lz4")) o->compression = LDB_COMPRESSION_LZ4;
            else if (!strcmp(val, "zstd")) o->compression = LDB_COMPRESSION_ZSTD;
            else goto bad;
            continue;
        }
        if (!strcmp(name, "verify_checksums")) {
            if (!strcmp(val, "never") || !strcmp(val, "0")) o->verify_checksums = LDB_VERIFY_NEVER;
            else if (!strcmp(val, "always") || !strcmp(val, "1")) o->verify_checksums = LDB_VERIFY_ALWAYS;
            else if (!strcmp(val, "first") || !strcmp(val, "2")) o->verify_checksums = LDB_VERIFY_FIRST;
            else goto bad;
            continue;
        }
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(val, &end, 10);
        if (errno || *end || val[0] == '-')
            goto bad;
        if (!strcmp(name, "hash_accelerator") && v <= 1) o->hash_accelerator = (int)v;
        else if (!strcmp(name, "cleaner") && v <= 1) o->cleaner = (int)v;
        else if (!strcmp(name, "checkpoint_bytes")) o->checkpoint_bytes = v;
        else if (!strcmp(name, "scrub_interval_ms") && v > 0 && v <= 3600000)
            o->scrub_interval_ms = (unsigned)v;
        else if (!strcmp(name, "segment_size") && v > 0) o->segment_size = v;
        else if (!strcmp(name, "hash_seed")) o->hash_seed = v;
        else if (!strcmp(name, "inject_every") && v > 0) *inject_every = v;
        else if (!strcmp(name, "inject_sleep_us") && v <= 1000000) *inject_sleep_us = v;
        else goto bad;
        continue;
    bad:
        if (eq) *eq = '=';
        bench_engine_set_error("lightning: LIGHTNING_BENCH_OPTIONS: cannot use '%s' (names: "
                               "verify_checksums (never|always|first), "
                               "hash_accelerator, cleaner (0|1), "
                               "checkpoint_bytes, scrub_interval_ms, segment_size (bytes), hash_seed (0: "
                               "random), compression (none|lz4|zstd), inject_every (ops), "
                               "inject_sleep_us (<= 1000000))", item);
        return BENCH_EINVAL;
    }
    return BENCH_OK;
}

static int lt_open(const bench_engine_config *cfg, void **out, char *desc,
                   size_t desc_cap)
{
    if (!cfg || !out || !cfg->dir) {
        bench_engine_set_error("lightning: missing config or directory");
        return BENCH_EINVAL;
    }
    if (strlen(cfg->dir) >= sizeof ((lt_db *)0)->dir) {
        bench_engine_set_error("lightning: directory name too long");
        return BENCH_EINVAL;
    }
    ldb_sync_mode mode;
    switch (cfg->sync_mode) {
    case BENCH_SYNC_NONE: mode = LDB_SYNC_NONE; break;
    case BENCH_SYNC_NORMAL: mode = LDB_SYNC_NORMAL; break;
    case BENCH_SYNC_FULL: mode = LDB_SYNC_FULL; break;
    default:
        bench_engine_set_error("lightning: bad sync mode %d", cfg->sync_mode);
        return BENCH_EINVAL;
    }
    if (cfg->key_size > LDB_MAX_KEY || cfg->value_size > LDB_MAX_VALUE) {
        bench_engine_set_error("lightning: key or value size beyond limits");
        return BENCH_EINVAL;
    }
    int rc = bench_make_dir(cfg->dir);
    if (rc != BENCH_OK)
        return rc;
    lt_db *h = calloc(1, sizeof *h);
    if (!h) {
        bench_engine_set_error("lightning: out of memory");
        return BENCH_EFAIL;
    }
    strcpy(h->dir, cfg->dir);
    atomic_init(&h->conflicts, 0);
    atomic_init(&h->spin_iters, 0);
    if (cfg->inject_slowdown_pct < 0 || cfg->inject_slowdown_pct > 1000) {
        bench_engine_set_error("lightning: inject_slowdown_pct %g outside 0-1000",
                               cfg->inject_slowdown_pct);
        free(h);
        return BENCH_EINVAL;
    }
    h->slowdown_pct = cfg->inject_slowdown_pct;
    if (h->slowdown_pct > 0)
        (void)bench_lightning_spin_ns_per_iter(); /* calibrate before timing */
    ldb_options_init(&h->opts);
    h->opts.create_if_missing = 1;
    h->opts.sync_mode = mode;
    if (cfg->sync_interval_ms)
        h->opts.sync_interval_ms = cfg->sync_interval_ms;
    /* Under --measure counts, a fixed hash seed: otherwise each run's
     * random seed moves keys to different slots, and the instruction and
     * miss counts with them (measured: up to 0.25% between runs). */
    if (getenv(BENCH_COUNTS_ENV))
        h->opts.hash_seed = 0x4c69676874DBull;
    rc = lt_env_options(&h->opts, &h->inject_every, &h->inject_sleep_us);
    if (rc != BENCH_OK) {
        free(h);
        return rc;
    }
    int lrc = ldb_open(h->dir, &h->opts, &h->db);
    if (lrc != LDB_OK) {
        rc = lt_fail("ldb_open", lrc);
        free(h);
        return rc;
    }
    if (desc && desc_cap) {
        char intv[32] = "";
        if (mode == LDB_SYNC_NORMAL)
            snprintf(intv, sizeof intv, " (%u ms)", h->opts.sync_interval_ms);
        char slow[128] = "";
        if (h->slowdown_pct > 0)
            snprintf(slow, sizeof slow,
                     "; INJECTED SLOWDOWN %g%% per op (busy loop %.3f ns/iter)",
                     h->slowdown_pct, bench_lightning_spin_ns_per_iter());
        static const char *const comp[] = {"none", "lz4", "zstd"};
        char extra[200] = "";
        /* Only what differs from the defaults, so the usual description
         * (and the history keyed on it) does not change. */
        if (!h->opts.hash_accelerator || !h->opts.cleaner || h->opts.compression)
            snprintf(extra, sizeof extra, ", hash_accelerator %s, cleaner %s, compression %s",
                     h->opts.hash_accelerator ? "on" : "off", h->opts.cleaner ? "on" : "off",
                     comp[h->opts.compression >= 0 && h->opts.compression <= 2
                              ? h->opts.compression : 0]);
        ldb_options def;
        ldb_options_init(&def);
        size_t el = strlen(extra);
        if (h->opts.checkpoint_bytes != def.checkpoint_bytes)
            el += (size_t)snprintf(extra + el, sizeof extra - el, ", checkpoint_bytes %llu",
                                   (unsigned long long)h->opts.checkpoint_bytes);
        if (h->opts.hash_seed && el < sizeof extra)
            el += (size_t)snprintf(extra + el, sizeof extra - el, ", hash seed fixed");
        if (h->inject_every && el < sizeof extra)
            snprintf(extra + el, sizeof extra - el, ", injected: %s every %llu ops",
                     h->inject_sleep_us ? "a sleep" : "a syscall",
                     (unsigned long long)h->inject_every);
        snprintf(desc, desc_cap,
                 "lightning %d.%d.%d: sync_mode %s%s, segments %.0f MiB, "
                 "verify_checksums %s%s; txn_put retries conflicts (max %d); "
                 "drop_cache = close+fadvise+reopen (mmap'd segments)%s",
                 LDB_VERSION_MAJOR, LDB_VERSION_MINOR, LDB_VERSION_PATCH,
                 bench_sync_mode_name(cfg->sync_mode), intv,
                 (double)h->opts.segment_size / (1 << 20),
                 h->opts.verify_checksums == LDB_VERIFY_NEVER    ? "never"
                 : h->opts.verify_checksums == LDB_VERIFY_ALWAYS ? "always"
                                                                 : "first",
                 extra, LT_MAX_RETRIES, slow);
    }
    *out = h;
    return BENCH_OK;
}

static int lt_close(void *hv)
{
    lt_db *h = hv;
    if (!h)
        return BENCH_OK;
    int rc = BENCH_OK;
    if (h->db) {
        int lrc = ldb_close(h->db);
        if (lrc != LDB_OK)
            rc = lt_fail("ldb_close", lrc);
    }
    free(h);
    return rc;
}

static int lt_thread_init(void *hv, void **tctx)
{
    lt_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        bench_engine_set_error("lightning: out of memory");
        return BENCH_EFAIL;
    }
    c->h = hv;
    *tctx = c;
    return BENCH_OK;
}

static void lt_thread_fini(void *hv, void *tctx)
{
    (void)hv;
    free(tctx);
}

static int lt_put(void *tctx, const void *k, size_t klen, const void *v,
                  size_t vlen)
{
    lt_inject(((lt_ctx *)tctx)->h);
    ldb *db = ((lt_ctx *)tctx)->h->db;
    if (!db)
        return lt_closed();
    int rc = ldb_put(db, k, klen, v, vlen);
    return rc == LDB_OK ? BENCH_OK : lt_fail("ldb_put", rc);
}

static int lt_get(void *tctx, const void *k, size_t klen, void *buf,
                  size_t cap, size_t *vlen)
{
    lt_inject(((lt_ctx *)tctx)->h);
    ldb *db = ((lt_ctx *)tctx)->h->db;
    if (!db)
        return lt_closed();
    int rc = ldb_get(db, k, klen, cap ? buf : NULL, cap, vlen);
    if (rc == LDB_OK)
        return BENCH_OK;
    if (rc == LDB_NOTFOUND)
        return BENCH_NOTFOUND;
    return lt_fail("ldb_get", rc);
}

static int lt_del(void *tctx, const void *k, size_t klen)
{
    lt_inject(((lt_ctx *)tctx)->h);
    ldb *db = ((lt_ctx *)tctx)->h->db;
    if (!db)
        return lt_closed();
    int rc = ldb_delete(db, k, klen);
    return rc == LDB_OK ? BENCH_OK : lt_fail("ldb_delete", rc);
}

static int lt_scan(void *tctx, const void *k, size_t klen, size_t count,
                   size_t *found)
{
    lt_ctx *c = tctx;
    lt_inject(c->h);
    ldb *db = c->h->db;
    *found = 0;
    if (!db)
        return lt_closed();
    if (count == 0)
        return BENCH_OK;
    ldb_iter *it = NULL;
    int rc = ldb_iter_open(db, &it);
    if (rc != LDB_OK)
        return lt_fail("ldb_iter_open", rc);
    unsigned sink = 0;
    size_t n = 0;
    rc = ldb_iter_seek(it, k, klen);
    while (rc == LDB_OK && n < count && ldb_iter_valid(it)) {
        const void *v = NULL;
        size_t vl = 0;
        rc = ldb_iter_value(it, &v, &vl);
        if (rc != LDB_OK)
            break;
        if (vl) {
            const unsigned char *p = v;
            sink += p[0] + p[vl - 1];
        }
        if (++n < count)
            rc = ldb_iter_next(it);
    }
    c->sink += sink;
    if (rc == LDB_NOTFOUND) /* running off the end is not an error */
        rc = LDB_OK;
    if (rc == LDB_OK)
        rc = ldb_iter_status(it);
    ldb_iter_close(it);
    if (rc != LDB_OK)
        return lt_fail("iterator", rc);
    *found = n;
    return BENCH_OK;
}

static int lt_txn_put(void *tctx, size_t n, const void *const *keys,
                      const size_t *klens, const void *const *vals,
                      const size_t *vlens)
{
    lt_db *h = ((lt_ctx *)tctx)->h;
    lt_inject(h);
    if (!h->db)
        return lt_closed();
    for (int attempt = 0;; attempt++) {
        ldb_txn *t = NULL;
        int rc = ldb_txn_begin(h->db, 0, &t);
        if (rc != LDB_OK)
            return lt_fail("ldb_txn_begin", rc);
        for (size_t i = 0; i < n; i++) {
            rc = ldb_txn_put(t, keys[i], klens[i], vals[i], vlens[i]);
            if (rc != LDB_OK) {
                ldb_txn_abort(t);
                return lt_fail("ldb_txn_put", rc);
            }
        }
        rc = ldb_txn_commit(t); /* frees t whatever the outcome */
        if (rc == LDB_OK)
            return BENCH_OK;
        if (rc != LDB_CONFLICT)
            return lt_fail("ldb_txn_commit", rc);
        atomic_fetch_add_explicit(&h->conflicts, 1, memory_order_relaxed);
        if (attempt + 1 >= LT_MAX_RETRIES)
            return lt_fail("ldb_txn_commit (retries exhausted)", rc);
    }
}

/* One read-only transaction per batch and the engine's own ldb_multi_get,
 * which prefetches the batch's hash slots, entries and records so their
 * cache misses overlap (a loop of ldb_txn_get would serialise them). */
static int lt_multi_get(void *tctx, size_t n, const void *const *keys,
                        const size_t *klens, size_t *vlens, int *rcs)
{
    lt_inject(((lt_ctx *)tctx)->h);
    ldb *db = ((lt_ctx *)tctx)->h->db;
    if (!db)
        return lt_closed();
    enum { LT_MG_CHUNK = 64 };
    const void *vals[LT_MG_CHUNK];
    int lrc[LT_MG_CHUNK];
    ldb_txn *t = NULL;
    int rc = ldb_txn_begin(db, LDB_TXN_READONLY, &t);
    if (rc != LDB_OK)
        return lt_fail("ldb_txn_begin", rc);
    int out = BENCH_OK;
    for (size_t base = 0; base < n && out == BENCH_OK; base += LT_MG_CHUNK) {
        size_t m = n - base < LT_MG_CHUNK ? n - base : LT_MG_CHUNK;
        rc = ldb_multi_get(t, m, keys + base, klens + base, vals, vlens + base, lrc);
        if (rc != LDB_OK) {
            out = lt_fail("ldb_multi_get", rc);
            break;
        }
        for (size_t i = 0; i < m; i++) {
            if (lrc[i] == LDB_OK) {
                rcs[base + i] = BENCH_OK;
            } else if (lrc[i] == LDB_NOTFOUND) {
                rcs[base + i] = BENCH_NOTFOUND;
                vlens[base + i] = 0;
            } else {
                out = lt_fail("ldb_multi_get", lrc[i]);
                break;
            }
        }
    }
    ldb_txn_abort(t);
    return out;
}

int bench_lightning_get_raw(void *tctx, const void *k, size_t klen, void *buf,
                            size_t cap, size_t *vlen)
{
    lt_inject(((lt_ctx *)tctx)->h);
    ldb *db = ((lt_ctx *)tctx)->h->db;
    if (!db)
        return lt_closed();
    int rc = ldb_get(db, k, klen, cap ? buf : NULL, cap, vlen);
    switch (rc) {
    case LDB_OK: return BENCH_OK;
    case LDB_NOTFOUND: return BENCH_NOTFOUND;
    case LDB_INVALID: return BENCH_EINVAL; /* the expected rejection */
    default: return lt_fail("ldb_get", rc);
    }
}

static int manifest_path(const char *dir, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/MANIFEST", dir);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int bench_lightning_checkpoint_present(const char *dir)
{
    char path[4200];
    return manifest_path(dir, path, sizeof path) == 0 && access(path, F_OK) == 0;
}

int bench_lightning_forget_checkpoint(const char *dir)
{
    char path[4200];
    if (manifest_path(dir, path, sizeof path) != 0) {
        bench_engine_set_error("lightning: directory name too long");
        return BENCH_EFAIL;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        bench_engine_set_error("lightning: unlink %s: %s", path, strerror(errno));
        return BENCH_EFAIL;
    }
    return BENCH_OK;
}

static int lt_drop_cache(void *hv)
{
    lt_db *h = hv;
    int rc = BENCH_OK;
    if (h->db) {
        int lrc = ldb_close(h->db);
        h->db = NULL;
        if (lrc != LDB_OK)
            rc = lt_fail("ldb_close", lrc);
    }
    int drc = bench_drop_dir_cache(h->dir);
    if (rc == BENCH_OK)
        rc = drc;
    int lrc = ldb_open(h->dir, &h->opts, &h->db);
    if (lrc != LDB_OK) {
        h->db = NULL;
        return lt_fail("ldb_open (reopen)", lrc);
    }
    return rc;
}

static int lt_sync(void *hv)
{
    lt_db *h = hv;
    if (!h->db)
        return lt_closed();
    int rc = ldb_sync(h->db);
    return rc == LDB_OK ? BENCH_OK : lt_fail("ldb_sync", rc);
}

const bench_engine bench_engine_lightning = {
    .name = "lightning",
    .open = lt_open,
    .close = lt_close,
    .thread_init = lt_thread_init,
    .thread_fini = lt_thread_fini,
    .put = lt_put,
    .get = lt_get,
    .del = lt_del,
    .scan = lt_scan,
    .txn_put = lt_txn_put,
    .multi_get = lt_multi_get,
    .drop_cache = lt_drop_cache,
    .sync = lt_sync,
};
