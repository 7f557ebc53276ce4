/*
 * bench/engine_leveldb.c — the LevelDB adapter (libleveldb 1.2x through
 * leveldb/c.h; one database in cfg->dir).
 *
 * Configuration, following LevelDB's doc/index.md ("Performance",
 * "Filters", "Cache") and the comments of include/leveldb/options.h:
 * - LRU block cache of 1.2 x key_count x (key + value), at least the 8 MiB
 *   default and at most a quarter of physical memory; bloom filter at
 *   10 bits/key (the value the docs use); write_buffer_size 64 MiB
 *   ("larger values increase performance, especially during bulk loads");
 *   max_open_files raised so every table of the data set stays open (the
 *   table cache), bounded by RLIMIT_NOFILE; Snappy compression left on
 *   (the default; it skips blocks that do not compress).
 * - Durability:
 *     NONE   WriteOptions.sync = false: the log record reaches the OS with
 *            write(2) before Put returns, so a process crash loses nothing.
 *     NORMAL UNSUPPORTED. LevelDB has no call that makes the log durable
 *            without a write, and its recovery does not stop at the first
 *            damaged log record (with paranoid_checks off it skips it and
 *            goes on; with it on, open fails): after a power loss between
 *            syncs the result need not be a prefix of history, which NORMAL
 *            promises.
 *     FULL   WriteOptions.sync = true (concurrent writers are grouped).
 *
 * Invariants
 * - drop_cache closes the database, evicts its files, and reopens it with
 *   the same options: LevelDB reads table files through mmap (its POSIX Env
 *   maps up to 1000 of them) and keeps blocks in its own cache, neither of
 *   which fadvise can empty. The handle pointer stays the same; contexts
 *   hold no reference to the leveldb_t and read h->db at each call.
 * - Allocation per operation, forced by the C API: leveldb_get returns
 *   the value in a malloc'd buffer (there is no pinned or caller-buffer
 *   get); an iterator per scan; a snapshot per multi_get. txn_put reuses
 *   the context's WriteBatch.
 */
#include "bench/engine_list.h"

#include <leveldb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct ldbl_db {
    char dir[4096];
    leveldb_options_t *opts;
    leveldb_cache_t *cache;
    leveldb_filterpolicy_t *bloom;
    leveldb_writeoptions_t *wo;
    leveldb_writeoptions_t *wo_sync; /* for sync(): one synced empty write */
    leveldb_readoptions_t *ro;
    leveldb_writebatch_t *empty;
    leveldb_t *db; /* NULL when a reopen failed: operations then fail */
} ldbl_db;

typedef struct ldbl_ctx {
    ldbl_db *h;
    leveldb_writebatch_t *batch;
    leveldb_readoptions_t *snap_ro; /* multi_get's snapshot reads */
    unsigned sink;
} ldbl_ctx;

static int ldbl_fail(const char *what, char *err)
{
    bench_engine_set_error("leveldb: %s: %s", what, err ? err : "failed");
    leveldb_free(err);
    return BENCH_EFAIL;
}

static int ldbl_closed(void)
{
    bench_engine_set_error("leveldb: database is closed (reopen failed)");
    return BENCH_EFAIL;
}

static void ldbl_free_handle(ldbl_db *h)
{
    /* The database first: it uses the cache and the filter policy. */
    if (h->db)
        leveldb_close(h->db);
    if (h->opts)
        leveldb_options_destroy(h->opts);
    if (h->cache)
        leveldb_cache_destroy(h->cache);
    if (h->bloom)
        leveldb_filterpolicy_destroy(h->bloom);
    if (h->wo)
        leveldb_writeoptions_destroy(h->wo);
    if (h->wo_sync)
        leveldb_writeoptions_destroy(h->wo_sync);
    if (h->ro)
        leveldb_readoptions_destroy(h->ro);
    if (h->empty)
        leveldb_writebatch_destroy(h->empty);
    free(h);
}

static int ldbl_open(const bench_engine_config *cfg, void **out, char *desc,
                     size_t desc_cap)
{
    if (!cfg || !out || !cfg->dir) {
        bench_engine_set_error("leveldb: missing config or directory");
        return BENCH_EINVAL;
    }
    if (strlen(cfg->dir) >= sizeof ((ldbl_db *)0)->dir) {
        bench_engine_set_error("leveldb: directory name too long");
        return BENCH_EINVAL;
    }
    if (cfg->sync_mode == BENCH_SYNC_NORMAL) {
        bench_engine_set_error(
            "leveldb: no faithful NORMAL mode (no log flush call, and "
            "recovery may skip a damaged record, so no prefix guarantee)");
        return BENCH_UNSUPPORTED;
    }
    if (cfg->sync_mode != BENCH_SYNC_NONE && cfg->sync_mode != BENCH_SYNC_FULL) {
        bench_engine_set_error("leveldb: bad sync mode %d", cfg->sync_mode);
        return BENCH_EINVAL;
    }
    int rc = bench_make_dir(cfg->dir);
    if (rc != BENCH_OK)
        return rc;
    ldbl_db *h = calloc(1, sizeof *h);
    if (!h) {
        bench_engine_set_error("leveldb: out of memory");
        return BENCH_EFAIL;
    }
    strcpy(h->dir, cfg->dir);

    uint64_t data = bench_data_bytes(cfg, 0);
    uint64_t cache = data > UINT64_MAX / 2 ? UINT64_MAX / 2 : data + data / 5;
    uint64_t cap = bench_phys_mem_bytes() / 4;
    if (cache > cap)
        cache = cap;
    if (cache < ((uint64_t)8 << 20))
        cache = (uint64_t)8 << 20;
    /* Tables are ~2 MiB (max_file_size default); keep them all open. */
    uint64_t files = data / (2u << 20) + 100;
    if (files < 1000)
        files = 1000;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur > 256 && files > rl.rlim_cur - 200)
        files = rl.rlim_cur - 200;
    if (files > 1000000)
        files = 1000000;

    h->opts = leveldb_options_create();
    h->cache = leveldb_cache_create_lru((size_t)cache);
    h->bloom = leveldb_filterpolicy_create_bloom(10);
    h->wo = leveldb_writeoptions_create();
    h->wo_sync = leveldb_writeoptions_create();
    h->ro = leveldb_readoptions_create();
    h->empty = leveldb_writebatch_create();
    if (!h->opts || !h->cache || !h->bloom || !h->wo || !h->wo_sync || !h->ro ||
        !h->empty) {
        bench_engine_set_error("leveldb: out of memory creating options");
        rc = BENCH_EFAIL;
        goto fail;
    }
    leveldb_options_set_create_if_missing(h->opts, 1);
    leveldb_options_set_cache(h->opts, h->cache);
    leveldb_options_set_filter_policy(h->opts, h->bloom);
    leveldb_options_set_write_buffer_size(h->opts, 64u << 20);
    leveldb_options_set_max_open_files(h->opts, (int)files);
    leveldb_options_set_compression(h->opts, leveldb_snappy_compression);
    leveldb_writeoptions_set_sync(h->wo, cfg->sync_mode == BENCH_SYNC_FULL);
    leveldb_writeoptions_set_sync(h->wo_sync, 1);

    char *err = NULL;
    h->db = leveldb_open(h->opts, h->dir, &err);
    if (err) {
        h->db = NULL;
        rc = ldbl_fail("open", err);
        goto fail;
    }
    if (desc && desc_cap)
        snprintf(desc, desc_cap,
                 "leveldb %d.%d: %s; block cache %.0f MiB LRU, bloom 10 "
                 "bits/key, write buffer 64 MiB, max_open_files %d, snappy; "
                 "drop_cache = close+fadvise+reopen (mmap'd tables)",
                 leveldb_major_version(), leveldb_minor_version(),
                 cfg->sync_mode == BENCH_SYNC_FULL ? "sync=true" : "sync=false",
                 (double)cache / (1 << 20), (int)files);
    *out = h;
    return BENCH_OK;
fail:
    ldbl_free_handle(h);
    return rc;
}

static int ldbl_close(void *hv)
{
    if (hv)
        ldbl_free_handle(hv);
    return BENCH_OK;
}

static int ldbl_thread_init(void *hv, void **tctx)
{
    ldbl_ctx *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->h = hv;
    c->batch = leveldb_writebatch_create();
    c->snap_ro = leveldb_readoptions_create();
    if (!c->batch || !c->snap_ro)
        goto oom;
    *tctx = c;
    return BENCH_OK;
oom:
    if (c && c->batch)
        leveldb_writebatch_destroy(c->batch);
    if (c && c->snap_ro)
        leveldb_readoptions_destroy(c->snap_ro);
    free(c);
    bench_engine_set_error("leveldb: out of memory");
    return BENCH_EFAIL;
}

static void ldbl_thread_fini(void *hv, void *tctx)
{
    (void)hv;
    ldbl_ctx *c = tctx;
    if (!c)
        return;
    leveldb_writebatch_destroy(c->batch);
    leveldb_readoptions_destroy(c->snap_ro);
    free(c);
}

static int ldbl_put(void *tctx, const void *k, size_t klen, const void *v,
                    size_t vlen)
{
    ldbl_db *h = ((ldbl_ctx *)tctx)->h;
    if (!h->db)
        return ldbl_closed();
    char *err = NULL;
    leveldb_put(h->db, h->wo, k, klen, v, vlen, &err);
    return err ? ldbl_fail("put", err) : BENCH_OK;
}

static int ldbl_get(void *tctx, const void *k, size_t klen, void *buf,
                    size_t cap, size_t *vlen)
{
    ldbl_db *h = ((ldbl_ctx *)tctx)->h;
    if (!h->db)
        return ldbl_closed();
    char *err = NULL;
    size_t len = 0;
    /* The C API has no caller-buffer get: the malloc is unavoidable. */
    char *v = leveldb_get(h->db, h->ro, k, klen, &len, &err);
    if (err)
        return ldbl_fail("get", err);
    if (!v)
        return BENCH_NOTFOUND;
    *vlen = len;
    if (cap)
        memcpy(buf, v, len < cap ? len : cap);
    leveldb_free(v);
    return BENCH_OK;
}

static int ldbl_del(void *tctx, const void *k, size_t klen)
{
    ldbl_db *h = ((ldbl_ctx *)tctx)->h;
    if (!h->db)
        return ldbl_closed();
    char *err = NULL;
    leveldb_delete(h->db, h->wo, k, klen, &err);
    return err ? ldbl_fail("delete", err) : BENCH_OK;
}

static int ldbl_scan(void *tctx, const void *k, size_t klen, size_t count,
                     size_t *found)
{
    ldbl_ctx *c = tctx;
    ldbl_db *h = c->h;
    *found = 0;
    if (!h->db)
        return ldbl_closed();
    leveldb_iterator_t *it = leveldb_create_iterator(h->db, h->ro);
    if (!it) {
        bench_engine_set_error("leveldb: create_iterator failed");
        return BENCH_EFAIL;
    }
    unsigned sink = 0;
    size_t n = 0;
    if (count)
        leveldb_iter_seek(it, k, klen);
    while (n < count && leveldb_iter_valid(it)) {
        size_t vl = 0;
        const unsigned char *v =
            (const unsigned char *)leveldb_iter_value(it, &vl);
        if (vl)
            sink += v[0] + v[vl - 1];
        n++;
        if (n < count)
            leveldb_iter_next(it);
    }
    c->sink += sink;
    char *err = NULL;
    leveldb_iter_get_error(it, &err);
    leveldb_iter_destroy(it);
    if (err)
        return ldbl_fail("iterator", err);
    *found = n;
    return BENCH_OK;
}

static int ldbl_txn_put(void *tctx, size_t n, const void *const *keys,
                        const size_t *klens, const void *const *vals,
                        const size_t *vlens)
{
    ldbl_ctx *c = tctx;
    ldbl_db *h = c->h;
    if (!h->db)
        return ldbl_closed();
    leveldb_writebatch_clear(c->batch);
    for (size_t i = 0; i < n; i++)
        leveldb_writebatch_put(c->batch, keys[i], klens[i], vals[i], vlens[i]);
    char *err = NULL;
    leveldb_write(h->db, h->wo, c->batch, &err);
    return err ? ldbl_fail("write batch", err) : BENCH_OK;
}

/* LevelDB has no MultiGet; a snapshot makes the n gets one consistent
 * read, which is what the interface promises. */
static int ldbl_multi_get(void *tctx, size_t n, const void *const *keys,
                          const size_t *klens, size_t *vlens, int *rcs)
{
    ldbl_ctx *c = tctx;
    ldbl_db *h = c->h;
    if (!h->db)
        return ldbl_closed();
    const leveldb_snapshot_t *snap = leveldb_create_snapshot(h->db);
    leveldb_readoptions_set_snapshot(c->snap_ro, snap);
    int rc = BENCH_OK;
    for (size_t i = 0; i < n; i++) {
        char *err = NULL;
        size_t len = 0;
        char *v = leveldb_get(h->db, c->snap_ro, keys[i], klens[i], &len, &err);
        if (err) {
            rc = ldbl_fail("get", err);
            break;
        }
        rcs[i] = v ? BENCH_OK : BENCH_NOTFOUND;
        vlens[i] = v ? len : 0;
        leveldb_free(v);
    }
    leveldb_readoptions_set_snapshot(c->snap_ro, NULL);
    leveldb_release_snapshot(h->db, snap);
    return rc;
}

static int ldbl_drop_cache(void *hv)
{
    ldbl_db *h = hv;
    if (h->db) {
        leveldb_close(h->db);
        h->db = NULL;
    }
    int rc = bench_drop_dir_cache(h->dir);
    char *err = NULL;
    h->db = leveldb_open(h->opts, h->dir, &err);
    if (err) {
        h->db = NULL;
        return ldbl_fail("reopen", err);
    }
    return rc;
}

static int ldbl_sync(void *hv)
{
    ldbl_db *h = hv;
    if (!h->db)
        return ldbl_closed();
    /* A synced write syncs the whole log, and with it every earlier
     * unsynced write; an empty batch adds nothing to the data. */
    char *err = NULL;
    leveldb_write(h->db, h->wo_sync, h->empty, &err);
    return err ? ldbl_fail("synced write", err) : BENCH_OK;
}

const bench_engine bench_engine_leveldb = {
    .name = "leveldb",
    .open = ldbl_open,
    .close = ldbl_close,
    .thread_init = ldbl_thread_init,
    .thread_fini = ldbl_thread_fini,
    .put = ldbl_put,
    .get = ldbl_get,
    .del = ldbl_del,
    .scan = ldbl_scan,
    .txn_put = ldbl_txn_put,
    .multi_get = ldbl_multi_get,
    .drop_cache = ldbl_drop_cache,
    .sync = ldbl_sync,
};
