/*
 * bench/engine_rocksdb.c — the RocksDB adapter (librocksdb 7.x through its
 * C API, rocksdb/c.h; one database, default column family, in cfg->dir).
 *
 * Configuration, following the RocksDB wiki "Setup Options and Basic
 * Tuning" and the comments in include/rocksdb/options.h and table.h:
 * - IncreaseParallelism(online CPUs) and OptimizeLevelStyleCompaction with
 *   a 256 MiB memtable budget, which gives 64 MiB write buffers (the
 *   wiki's default and our stated target) and per-level compression (none
 *   for L0/L1, LZ4 below); level_compaction_dynamic_level_bytes and
 *   bytes_per_sync = 1 MiB as the wiki's general recommendations.
 * - Block-based table: LRU block cache of 1.2 x key_count x (key + value),
 *   at least 32 MiB and at most a quarter of physical memory; full bloom
 *   filter at 10 bits/key; index and filter blocks cached in the block
 *   cache with high priority and pinned for L0 (the wiki's advice to bound
 *   memory without losing the hot metadata); data-block hash index
 *   (RocksDB blog "Improving Point-Lookup Using Data Block Hash Index").
 * - Durability (WAL always on; recovery mode stays the default
 *   point-in-time recovery, which keeps a prefix of the log):
 *     NONE   WriteOptions.sync = 0: each write reaches the OS with write(2),
 *            so a process crash loses nothing.
 *     NORMAL sync = 0 plus a background thread calling FlushWAL(sync=true)
 *            (rocksdb_flush_wal(db, 1)) every sync_interval_ms.
 *     FULL   WriteOptions.sync = 1 (RocksDB groups concurrent writers).
 *
 * Invariants
 * - Contexts hold only per-thread scratch (a WriteBatch, MultiGet arrays),
 *   never anything tied to the DB's lifetime beyond the handle.
 * - drop_cache closes nothing: it flushes the memtable (so reads come from
 *   table files, as after a restart), empties the block cache (capacity to
 *   0 and back: only the pinned L0 index/filter blocks stay, as configured)
 *   and evicts the files from the page cache. Table files are read with
 *   pread (allow_mmap_reads is off), so fadvise does reach them.
 * - Allocation per operation, forced by the C API: rocksdb_get_pinned
 *   allocates the small pinnable-slice wrapper (it saves the value copy
 *   rocksdb_get would make into a malloc'd buffer); an iterator per scan;
 *   MultiGet uses the batched API (rocksdb_batched_multi_get_cf, the one
 *   db.h says "improves performance by batching operations in the read
 *   path"), whose C wrapper allocates per call and per found key.
 *   txn_put reuses the context's WriteBatch; put is the plain DB::Put
 *   (whatever it allocates inside is the engine's own cost).
 */
#include "bench/engine_list.h"

#include <rocksdb/c.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct rdb_db {
    char dir[4096];
    int sync_mode;
    unsigned sync_interval_ms;
    rocksdb_options_t *opts;
    rocksdb_cache_t *cache;
    size_t cache_bytes;
    rocksdb_t *db;
    rocksdb_column_family_handle_t *cf;
    rocksdb_writeoptions_t *wo;
    rocksdb_readoptions_t *ro;
    rocksdb_flushoptions_t *fo;
    bench_syncer syncer;
} rdb_db;

typedef struct rdb_ctx {
    rdb_db *h;
    rocksdb_writebatch_t *batch;
    size_t mg_cap;
    rocksdb_pinnableslice_t **mg_vals;
    char **mg_errs;
    unsigned sink;
} rdb_ctx;

/* Records and frees a RocksDB error string; returns BENCH_EFAIL. */
static int rdb_fail(const char *what, char *err)
{
    bench_engine_set_error("rocksdb: %s: %s", what, err ? err : "failed");
    rocksdb_free(err);
    return BENCH_EFAIL;
}

static int rdb_sync_fn(void *arg, char *err, size_t errcap)
{
    rdb_db *h = arg;
    char *e = NULL;
    rocksdb_flush_wal(h->db, 1, &e);
    if (e) {
        snprintf(err, errcap, "rocksdb: FlushWAL(sync): %s", e);
        rocksdb_free(e);
        return BENCH_EFAIL;
    }
    return BENCH_OK;
}

static void rdb_free_handle(rdb_db *h)
{
    if (h->cf)
        rocksdb_column_family_handle_destroy(h->cf);
    if (h->db)
        rocksdb_close(h->db);
    if (h->opts)
        rocksdb_options_destroy(h->opts);
    if (h->cache)
        rocksdb_cache_destroy(h->cache);
    if (h->wo)
        rocksdb_writeoptions_destroy(h->wo);
    if (h->ro)
        rocksdb_readoptions_destroy(h->ro);
    if (h->fo)
        rocksdb_flushoptions_destroy(h->fo);
    free(h);
}

static int rdb_open(const bench_engine_config *cfg, void **out, char *desc,
                    size_t desc_cap)
{
    if (!cfg || !out || !cfg->dir) {
        bench_engine_set_error("rocksdb: missing config or directory");
        return BENCH_EINVAL;
    }
    if (strlen(cfg->dir) >= sizeof ((rdb_db *)0)->dir) {
        bench_engine_set_error("rocksdb: directory name too long");
        return BENCH_EINVAL;
    }
    if (cfg->sync_mode < BENCH_SYNC_NONE || cfg->sync_mode > BENCH_SYNC_FULL) {
        bench_engine_set_error("rocksdb: bad sync mode %d", cfg->sync_mode);
        return BENCH_EINVAL;
    }
    int rc = bench_make_dir(cfg->dir);
    if (rc != BENCH_OK)
        return rc;
    rdb_db *h = calloc(1, sizeof *h);
    if (!h) {
        bench_engine_set_error("rocksdb: out of memory");
        return BENCH_EFAIL;
    }
    strcpy(h->dir, cfg->dir);
    h->sync_mode = cfg->sync_mode;
    h->sync_interval_ms = cfg->sync_interval_ms ? cfg->sync_interval_ms : 100;

    uint64_t cache = bench_data_bytes(cfg, 0);
    cache = cache > UINT64_MAX / 2 ? UINT64_MAX / 2 : cache + cache / 5;
    uint64_t cap = bench_phys_mem_bytes() / 4;
    if (cache > cap)
        cache = cap;
    if (cache < ((uint64_t)32 << 20))
        cache = (uint64_t)32 << 20;
    h->cache_bytes = (size_t)cache;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 2)
        ncpu = 2; /* a flush and a compaction can then run side by side */

    h->opts = rocksdb_options_create();
    h->cache = rocksdb_cache_create_lru(h->cache_bytes);
    h->wo = rocksdb_writeoptions_create();
    h->ro = rocksdb_readoptions_create();
    h->fo = rocksdb_flushoptions_create();
    rocksdb_block_based_table_options_t *bbto =
        rocksdb_block_based_options_create();
    if (!h->opts || !h->cache || !h->wo || !h->ro || !h->fo || !bbto) {
        bench_engine_set_error("rocksdb: out of memory creating options");
        rc = BENCH_EFAIL;
        goto fail;
    }
    rocksdb_options_set_create_if_missing(h->opts, 1);
    rocksdb_options_increase_parallelism(h->opts, (int)ncpu);
    rocksdb_options_optimize_level_style_compaction(h->opts, 256u << 20);
    rocksdb_options_set_write_buffer_size(h->opts, 64u << 20);
    rocksdb_options_set_level_compaction_dynamic_level_bytes(h->opts, 1);
    rocksdb_options_set_bytes_per_sync(h->opts, 1u << 20);

    rocksdb_block_based_options_set_block_cache(bbto, h->cache);
    /* The table options take ownership of the policy. */
    rocksdb_block_based_options_set_filter_policy(
        bbto, rocksdb_filterpolicy_create_bloom_full(10));
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(bbto, 1);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(
        bbto, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(
        bbto, 1);
    rocksdb_block_based_options_set_data_block_index_type(
        bbto, rocksdb_block_based_table_data_block_index_type_binary_search_and_hash);
    rocksdb_block_based_options_set_data_block_hash_ratio(bbto, 0.75);
    /* Copies the table options: bbto can go right away. */
    rocksdb_options_set_block_based_table_factory(h->opts, bbto);
    rocksdb_block_based_options_destroy(bbto);
    bbto = NULL;

    rocksdb_writeoptions_set_sync(h->wo, cfg->sync_mode == BENCH_SYNC_FULL);
    rocksdb_flushoptions_set_wait(h->fo, 1);

    /* Opened through the column-family call only to get the default
     * family's handle, which the batched MultiGet requires (7.x's C API has
     * no other way to obtain it). */
    const char *cf_names[1] = {"default"};
    const rocksdb_options_t *cf_opts[1] = {h->opts};
    rocksdb_column_family_handle_t *cfh[1] = {NULL};
    char *err = NULL;
    h->db = rocksdb_open_column_families(h->opts, h->dir, 1, cf_names, cf_opts,
                                         cfh, &err);
    if (err) {
        h->db = NULL;
        rc = rdb_fail("open", err);
        goto fail;
    }
    h->cf = cfh[0];
    if (h->sync_mode == BENCH_SYNC_NORMAL) {
        rc = bench_syncer_start(&h->syncer, h->sync_interval_ms, rdb_sync_fn, h);
        if (rc != BENCH_OK)
            goto fail;
    }
    if (desc && desc_cap) {
        const char *mode =
            cfg->sync_mode == BENCH_SYNC_NONE ? "WAL on, sync=0"
            : cfg->sync_mode == BENCH_SYNC_NORMAL
                ? "WAL on, sync=0 + FlushWAL(sync) thread every"
                : "WAL on, sync=1";
        char intv[32] = "";
        if (cfg->sync_mode == BENCH_SYNC_NORMAL)
            snprintf(intv, sizeof intv, " %u ms", h->sync_interval_ms);
        snprintf(desc, desc_cap,
                 "rocksdb: %s%s; block cache %.0f MiB LRU, bloom 10 bits/key "
                 "(full), index+filter in cache (high pri, L0 pinned), "
                 "data-block hash index, write buffer 64 MiB, "
                 "OptimizeLevelStyleCompaction(256 MiB), "
                 "IncreaseParallelism(%ld), dynamic level bytes, "
                 "batched MultiGet; drop_cache = flush memtable + empty "
                 "block cache + fadvise",
                 mode, intv, (double)h->cache_bytes / (1 << 20), ncpu);
    }
    *out = h;
    return BENCH_OK;
fail:
    if (bbto)
        rocksdb_block_based_options_destroy(bbto);
    rdb_free_handle(h);
    return rc;
}

static int rdb_close(void *hv)
{
    rdb_db *h = hv;
    if (!h)
        return BENCH_OK;
    int rc = bench_syncer_stop(&h->syncer);
    if (h->sync_mode == BENCH_SYNC_NORMAL) {
        char *err = NULL;
        rocksdb_flush_wal(h->db, 1, &err);
        if (err) {
            if (rc == BENCH_OK)
                rc = rdb_fail("FlushWAL(sync) at close", err);
            else
                rocksdb_free(err);
        }
    }
    rdb_free_handle(h);
    return rc;
}

static int rdb_thread_init(void *hv, void **tctx)
{
    rdb_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        bench_engine_set_error("rocksdb: out of memory");
        return BENCH_EFAIL;
    }
    c->h = hv;
    c->batch = rocksdb_writebatch_create();
    if (!c->batch) {
        free(c);
        bench_engine_set_error("rocksdb: out of memory");
        return BENCH_EFAIL;
    }
    *tctx = c;
    return BENCH_OK;
}

static void rdb_thread_fini(void *hv, void *tctx)
{
    (void)hv;
    rdb_ctx *c = tctx;
    if (!c)
        return;
    rocksdb_writebatch_destroy(c->batch);
    free(c->mg_vals);
    free(c->mg_errs);
    free(c);
}

static int rdb_put(void *tctx, const void *k, size_t klen, const void *v,
                   size_t vlen)
{
    rdb_ctx *c = tctx;
    char *err = NULL;
    rocksdb_put(c->h->db, c->h->wo, k, klen, v, vlen, &err);
    return err ? rdb_fail("put", err) : BENCH_OK;
}

static int rdb_get(void *tctx, const void *k, size_t klen, void *buf,
                   size_t cap, size_t *vlen)
{
    rdb_ctx *c = tctx;
    char *err = NULL;
    rocksdb_pinnableslice_t *p =
        rocksdb_get_pinned(c->h->db, c->h->ro, k, klen, &err);
    if (err)
        return rdb_fail("get", err);
    if (!p)
        return BENCH_NOTFOUND;
    size_t len = 0;
    const char *v = rocksdb_pinnableslice_value(p, &len);
    *vlen = len;
    if (cap)
        memcpy(buf, v, len < cap ? len : cap);
    rocksdb_pinnableslice_destroy(p);
    return BENCH_OK;
}

static int rdb_del(void *tctx, const void *k, size_t klen)
{
    rdb_ctx *c = tctx;
    char *err = NULL;
    rocksdb_delete(c->h->db, c->h->wo, k, klen, &err);
    return err ? rdb_fail("delete", err) : BENCH_OK;
}

static int rdb_scan(void *tctx, const void *k, size_t klen, size_t count,
                    size_t *found)
{
    rdb_ctx *c = tctx;
    *found = 0;
    rocksdb_iterator_t *it = rocksdb_create_iterator(c->h->db, c->h->ro);
    if (!it) {
        bench_engine_set_error("rocksdb: create_iterator failed");
        return BENCH_EFAIL;
    }
    unsigned sink = 0;
    size_t n = 0;
    if (count)
        rocksdb_iter_seek(it, k, klen);
    while (n < count && rocksdb_iter_valid(it)) {
        size_t vl = 0;
        const unsigned char *v =
            (const unsigned char *)rocksdb_iter_value(it, &vl);
        if (vl)
            sink += v[0] + v[vl - 1];
        n++;
        if (n < count)
            rocksdb_iter_next(it);
    }
    c->sink += sink;
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    if (err)
        return rdb_fail("iterator", err);
    *found = n;
    return BENCH_OK;
}

static int rdb_txn_put(void *tctx, size_t n, const void *const *keys,
                       const size_t *klens, const void *const *vals,
                       const size_t *vlens)
{
    rdb_ctx *c = tctx;
    rocksdb_writebatch_clear(c->batch);
    for (size_t i = 0; i < n; i++)
        rocksdb_writebatch_put(c->batch, keys[i], klens[i], vals[i], vlens[i]);
    char *err = NULL;
    rocksdb_write(c->h->db, c->h->wo, c->batch, &err);
    return err ? rdb_fail("write batch", err) : BENCH_OK;
}

static int rdb_multi_get(void *tctx, size_t n, const void *const *keys,
                         const size_t *klens, size_t *vlens, int *rcs)
{
    rdb_ctx *c = tctx;
    if (n > c->mg_cap) {
        /* Grows once to the workload's batch size, then is reused. */
        rocksdb_pinnableslice_t **nv = realloc(c->mg_vals, n * sizeof *nv);
        if (nv)
            c->mg_vals = nv;
        char **ne = realloc(c->mg_errs, n * sizeof *ne);
        if (ne)
            c->mg_errs = ne;
        if (!nv || !ne) {
            bench_engine_set_error("rocksdb: out of memory");
            return BENCH_EFAIL;
        }
        c->mg_cap = n;
    }
    rocksdb_batched_multi_get_cf(c->h->db, c->h->ro, c->h->cf, n,
                                 (const char *const *)keys, klens, c->mg_vals,
                                 c->mg_errs, false);
    int rc = BENCH_OK;
    for (size_t i = 0; i < n; i++) {
        if (c->mg_vals[i]) {
            size_t len = 0;
            rocksdb_pinnableslice_value(c->mg_vals[i], &len);
            vlens[i] = len;
            rcs[i] = BENCH_OK;
            rocksdb_pinnableslice_destroy(c->mg_vals[i]);
        } else {
            vlens[i] = 0;
            rcs[i] = BENCH_NOTFOUND;
        }
        if (c->mg_errs[i]) {
            if (rc == BENCH_OK)
                rc = rdb_fail("multi_get", c->mg_errs[i]);
            else
                rocksdb_free(c->mg_errs[i]);
        }
    }
    return rc;
}

static int rdb_drop_cache(void *hv)
{
    rdb_db *h = hv;
    char *err = NULL;
    rocksdb_flush(h->db, h->fo, &err);
    if (err)
        return rdb_fail("flush", err);
    rocksdb_cache_set_capacity(h->cache, 0);
    rocksdb_cache_set_capacity(h->cache, h->cache_bytes);
    return bench_drop_dir_cache(h->dir);
}

static int rdb_sync(void *hv)
{
    rdb_db *h = hv;
    char *err = NULL;
    rocksdb_flush_wal(h->db, 1, &err);
    if (err)
        return rdb_fail("FlushWAL(sync)", err);
    return bench_syncer_status(&h->syncer);
}

const bench_engine bench_engine_rocksdb = {
    .name = "rocksdb",
    .open = rdb_open,
    .close = rdb_close,
    .thread_init = rdb_thread_init,
    .thread_fini = rdb_thread_fini,
    .put = rdb_put,
    .get = rdb_get,
    .del = rdb_del,
    .scan = rdb_scan,
    .txn_put = rdb_txn_put,
    .multi_get = rdb_multi_get,
    .drop_cache = rdb_drop_cache,
    .sync = rdb_sync,
};
