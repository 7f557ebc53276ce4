/*
 * bench/engine_lmdb.c — the LMDB adapter (liblmdb 0.9.x, the main
 * unnamed database of one environment in cfg->dir).
 *
 * Configuration, following lmdb.h's documentation of mdb_env_open:
 * - map size max(1 GiB, 3 x key_count x (key + value + 64)): LMDB never
 *   grows the map by itself and a full map fails writes (MDB_MAP_FULL);
 *   copy-on-write needs room for old and new pages plus the free list.
 * - MDB_NOTLS: read transactions belong to our per-thread context, not to
 *   the OS thread, and are kept across operations with mdb_txn_reset /
 *   mdb_txn_renew, the cheap way lmdb.h recommends for repeated reads.
 * - MDB_NORDAHEAD: lmdb.h says it "may help random read performance when
 *   the DB is larger than RAM"; our reads are random point lookups.
 * - Durability:
 *     NONE   MDB_NOSYNC|MDB_NOMETASYNC|MDB_WRITEMAP. A process crash loses
 *            nothing (commits are in the shared file mapping / page cache);
 *            WRITEMAP saves the copy of each dirty page into a malloc'd
 *            buffer and the pwrite at commit, which is how LMDB's author
 *            runs its own write benchmarks. Its cost, per lmdb.h, is that
 *            a *system* crash may corrupt the file, which NONE does not
 *            promise to survive anyway.
 *     NORMAL MDB_NOSYNC without WRITEMAP, plus a background thread calling
 *            mdb_env_sync(env, 1) every sync_interval_ms. lmdb.h: with
 *            NOSYNC and without WRITEMAP "database integrity is maintained,
 *            but a system crash may undo the final transactions" -- on a
 *            filesystem that preserves write order. That condition is the
 *            caveat of this mode (ext4 data=ordered does not promise it);
 *            it is stated in desc.
 *     FULL   default flags: data pages fdatasync'd and the meta page
 *            written synchronously at every commit.
 *
 * Invariants
 * - Every live context is on db->ctxs (under ctx_mu), so close and
 *   drop_cache can end its read transaction and cursor before
 *   mdb_env_close, which requires every transaction to be finished.
 * - drop_cache closes the environment, evicts the files, and reopens it
 *   with the same flags: LMDB reads through mmap and posix_fadvise cannot
 *   evict pages the process still maps. The handle pointer stays the same;
 *   contexts start a fresh read transaction lazily (rtxn == NULL).
 * - No allocation per operation: read transactions and the scan cursor are
 *   reused; write transactions come from LMDB's own free list.
 */
#include "bench/engine_list.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lmdb_ctx lmdb_ctx;

typedef struct lmdb_db {
    char dir[4096];
    int sync_mode;
    unsigned sync_interval_ms;
    unsigned env_flags;
    size_t map_size;
    unsigned max_readers;
    MDB_env *env; /* NULL when a reopen failed: operations then fail */
    MDB_dbi dbi;
    bench_syncer syncer;
    pthread_mutex_t ctx_mu;
    lmdb_ctx *ctxs;
} lmdb_db;

struct lmdb_ctx {
    lmdb_db *db;
    MDB_txn *rtxn;  /* reset between operations; NULL until first use */
    MDB_cursor *cur;
    lmdb_ctx *prev, *next;
    unsigned sink;  /* bytes touched by scan, so the reads are not elided */
};

static int lmdb_fail(const char *what, int rc)
{
    bench_engine_set_error("lmdb: %s: %s", what, mdb_strerror(rc));
    return BENCH_EFAIL;
}

static int lmdb_sync_fn(void *arg, char *err, size_t errcap)
{
    lmdb_db *db = arg;
    int rc = mdb_env_sync(db->env, 1);
    if (rc != MDB_SUCCESS) {
        snprintf(err, errcap, "lmdb: mdb_env_sync: %s", mdb_strerror(rc));
        return BENCH_EFAIL;
    }
    return BENCH_OK;
}

/* Ends every context's read transaction: required before closing env. */
static void lmdb_release_ctxs(lmdb_db *db)
{
    pthread_mutex_lock(&db->ctx_mu);
    for (lmdb_ctx *c = db->ctxs; c; c = c->next) {
        if (c->cur)
            mdb_cursor_close(c->cur);
        if (c->rtxn)
            mdb_txn_abort(c->rtxn);
        c->cur = NULL;
        c->rtxn = NULL;
    }
    pthread_mutex_unlock(&db->ctx_mu);
}

static int lmdb_env_start(lmdb_db *db)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&env);
    if (rc != MDB_SUCCESS)
        return lmdb_fail("mdb_env_create", rc);
    if ((rc = mdb_env_set_maxreaders(env, db->max_readers)) != MDB_SUCCESS) {
        rc = lmdb_fail("mdb_env_set_maxreaders", rc);
        goto fail;
    }
    if ((rc = mdb_env_set_mapsize(env, db->map_size)) != MDB_SUCCESS) {
        rc = lmdb_fail("mdb_env_set_mapsize", rc);
        goto fail;
    }
    if ((rc = mdb_env_open(env, db->dir, db->env_flags, 0644)) != MDB_SUCCESS) {
        rc = lmdb_fail("mdb_env_open", rc);
        goto fail;
    }
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != MDB_SUCCESS) {
        rc = lmdb_fail("mdb_txn_begin", rc);
        goto fail;
    }
    if ((rc = mdb_dbi_open(txn, NULL, 0, &db->dbi)) != MDB_SUCCESS) {
        rc = lmdb_fail("mdb_dbi_open", rc);
        mdb_txn_abort(txn);
        goto fail;
    }
    if ((rc = mdb_txn_commit(txn)) != MDB_SUCCESS) {
        rc = lmdb_fail("mdb_txn_commit", rc);
        goto fail;
    }
    db->env = env;
    if (db->sync_mode == BENCH_SYNC_NORMAL) {
        rc = bench_syncer_start(&db->syncer, db->sync_interval_ms,
                                lmdb_sync_fn, db);
        if (rc != BENCH_OK) {
            db->env = NULL;
            goto fail;
        }
    }
    return BENCH_OK;
fail:
    mdb_env_close(env);
    return rc;
}

static int lmdb_env_stop(lmdb_db *db)
{
    int rc = bench_syncer_stop(&db->syncer);
    if (!db->env)
        return rc;
    lmdb_release_ctxs(db);
    /* A clean close keeps NORMAL's promise for the last interval too. */
    if (db->sync_mode == BENCH_SYNC_NORMAL) {
        int s = mdb_env_sync(db->env, 1);
        if (s != MDB_SUCCESS && rc == BENCH_OK)
            rc = lmdb_fail("mdb_env_sync", s);
    }
    mdb_env_close(db->env);
    db->env = NULL;
    return rc;
}

static int lmdb_open(const bench_engine_config *cfg, void **h, char *desc,
                     size_t desc_cap)
{
    if (!cfg || !h || !cfg->dir) {
        bench_engine_set_error("lmdb: missing config or directory");
        return BENCH_EINVAL;
    }
    if (strlen(cfg->dir) >= sizeof ((lmdb_db *)0)->dir) {
        bench_engine_set_error("lmdb: directory name too long");
        return BENCH_EINVAL;
    }
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
    switch (cfg->sync_mode) {
    case BENCH_SYNC_NONE: flags |= MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP; break;
    case BENCH_SYNC_NORMAL: flags |= MDB_NOSYNC; break;
    case BENCH_SYNC_FULL: break;
    default:
        bench_engine_set_error("lmdb: bad sync mode %d", cfg->sync_mode);
        return BENCH_EINVAL;
    }
    int rc = bench_make_dir(cfg->dir);
    if (rc != BENCH_OK)
        return rc;
    lmdb_db *db = calloc(1, sizeof *db);
    if (!db) {
        bench_engine_set_error("lmdb: out of memory");
        return BENCH_EFAIL;
    }
    strcpy(db->dir, cfg->dir);
    db->sync_mode = cfg->sync_mode;
    db->sync_interval_ms = cfg->sync_interval_ms ? cfg->sync_interval_ms : 100;
    db->env_flags = flags;
    /* 64 B per key covers the node header, page slack and branch pages. */
    uint64_t want = bench_data_bytes(cfg, 64);
    want = want > UINT64_MAX / 3 ? UINT64_MAX / 3 : want * 3;
    if (want < ((uint64_t)1 << 30))
        want = (uint64_t)1 << 30;
    if (want > ((uint64_t)1 << 44))
        want = (uint64_t)1 << 44; /* 16 TiB: far beyond any run here */
    want = (want + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
    db->map_size = (size_t)want;
    int threads = cfg->threads > 0 ? cfg->threads : 1;
    db->max_readers = (unsigned)(threads * 2 + 16) > 126u
                          ? (unsigned)(threads * 2 + 16) : 126u;
    if (pthread_mutex_init(&db->ctx_mu, NULL) != 0) {
        bench_engine_set_error("lmdb: pthread_mutex_init failed");
        free(db);
        return BENCH_EFAIL;
    }
    rc = lmdb_env_start(db);
    if (rc != BENCH_OK)
        goto fail;
    size_t maxkey = (size_t)mdb_env_get_maxkeysize(db->env);
    if (cfg->key_size > maxkey) {
        bench_engine_set_error("lmdb: key size %zu above LMDB's limit %zu",
                               cfg->key_size, maxkey);
        lmdb_env_stop(db);
        rc = BENCH_EINVAL;
        goto fail;
    }
    if (desc && desc_cap) {
        const char *mode =
            cfg->sync_mode == BENCH_SYNC_NONE
                ? "MDB_NOSYNC|MDB_NOMETASYNC|MDB_WRITEMAP"
                : cfg->sync_mode == BENCH_SYNC_NORMAL
                      ? "MDB_NOSYNC + mdb_env_sync(force) thread"
                      : "sync every commit";
        char intv[96] = "";
        if (cfg->sync_mode == BENCH_SYNC_NORMAL)
            snprintf(intv, sizeof intv, " every %u ms (prefix needs an "
                     "order-preserving fs)", db->sync_interval_ms);
        snprintf(desc, desc_cap,
                 "%s: map %.2f GiB, MDB_NOTLS|MDB_NORDAHEAD, %s%s, "
                 "maxreaders %u, per-context read txn reset/renew; "
                 "drop_cache = close+fadvise+reopen (mmap reads)",
                 mdb_version(NULL, NULL, NULL),
                 (double)db->map_size / (double)(1u << 30), mode, intv,
                 db->max_readers);
    }
    *h = db;
    return BENCH_OK;
fail:
    pthread_mutex_destroy(&db->ctx_mu);
    free(db);
    return rc;
}

static int lmdb_close(void *h)
{
    lmdb_db *db = h;
    if (!db)
        return BENCH_OK;
    int rc = lmdb_env_stop(db);
    /* Contexts the runner did not finish are freed here so nothing leaks. */
    lmdb_ctx *c = db->ctxs;
    while (c) {
        lmdb_ctx *n = c->next;
        free(c);
        c = n;
    }
    pthread_mutex_destroy(&db->ctx_mu);
    free(db);
    return rc;
}

static int lmdb_thread_init(void *h, void **tctx)
{
    lmdb_db *db = h;
    lmdb_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        bench_engine_set_error("lmdb: out of memory");
        return BENCH_EFAIL;
    }
    c->db = db;
    pthread_mutex_lock(&db->ctx_mu);
    c->next = db->ctxs;
    if (db->ctxs)
        db->ctxs->prev = c;
    db->ctxs = c;
    pthread_mutex_unlock(&db->ctx_mu);
    *tctx = c;
    return BENCH_OK;
}

static void lmdb_thread_fini(void *h, void *tctx)
{
    lmdb_db *db = h;
    lmdb_ctx *c = tctx;
    if (!c)
        return;
    pthread_mutex_lock(&db->ctx_mu);
    if (c->cur)
        mdb_cursor_close(c->cur);
    if (c->rtxn)
        mdb_txn_abort(c->rtxn);
    if (c->prev)
        c->prev->next = c->next;
    else
        db->ctxs = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&db->ctx_mu);
    free(c);
}

/* Starts (or renews) the context's snapshot. */
static int lmdb_read_begin(lmdb_ctx *c)
{
    lmdb_db *db = c->db;
    if (!db->env) {
        bench_engine_set_error("lmdb: environment is closed (reopen failed)");
        return BENCH_EFAIL;
    }
    int rc = c->rtxn ? mdb_txn_renew(c->rtxn)
                     : mdb_txn_begin(db->env, NULL, MDB_RDONLY, &c->rtxn);
    if (rc != MDB_SUCCESS)
        return lmdb_fail("read txn", rc);
    return BENCH_OK;
}

static int lmdb_write(lmdb_ctx *c, size_t n, const void *const *keys,
                      const size_t *klens, const void *const *vals,
                      const size_t *vlens, int del)
{
    lmdb_db *db = c->db;
    MDB_txn *t = NULL;
    if (!db->env) {
        bench_engine_set_error("lmdb: environment is closed (reopen failed)");
        return BENCH_EFAIL;
    }
    int rc = mdb_txn_begin(db->env, NULL, 0, &t);
    if (rc != MDB_SUCCESS)
        return lmdb_fail("mdb_txn_begin", rc);
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {klens[i], (void *)keys[i]};
        if (del) {
            rc = mdb_del(t, db->dbi, &k, NULL);
            if (rc == MDB_NOTFOUND) {
                /* Deleting an absent key is not an error (as in ldb). */
                mdb_txn_abort(t);
                return BENCH_OK;
            }
        } else {
            MDB_val v = {vlens[i], (void *)vals[i]};
            rc = mdb_put(t, db->dbi, &k, &v, 0);
        }
        if (rc != MDB_SUCCESS) {
            mdb_txn_abort(t);
            return lmdb_fail(del ? "mdb_del" : "mdb_put", rc);
        }
    }
    rc = mdb_txn_commit(t);
    if (rc != MDB_SUCCESS)
        return lmdb_fail("mdb_txn_commit", rc);
    return BENCH_OK;
}

static int lmdb_put(void *tctx, const void *k, size_t klen, const void *v,
                    size_t vlen)
{
    return lmdb_write(tctx, 1, &k, &klen, &v, &vlen, 0);
}

static int lmdb_del(void *tctx, const void *k, size_t klen)
{
    return lmdb_write(tctx, 1, &k, &klen, NULL, NULL, 1);
}

static int lmdb_txn_put(void *tctx, size_t n, const void *const *keys,
                        const size_t *klens, const void *const *vals,
                        const size_t *vlens)
{
    return lmdb_write(tctx, n, keys, klens, vals, vlens, 0);
}

static int lmdb_get(void *tctx, const void *k, size_t klen, void *buf,
                    size_t cap, size_t *vlen)
{
    lmdb_ctx *c = tctx;
    int rc = lmdb_read_begin(c);
    if (rc != BENCH_OK)
        return rc;
    MDB_val key = {klen, (void *)k}, val;
    int mrc = mdb_get(c->rtxn, c->db->dbi, &key, &val);
    if (mrc == MDB_SUCCESS) {
        *vlen = val.mv_size;
        if (cap)
            memcpy(buf, val.mv_data, val.mv_size < cap ? val.mv_size : cap);
        rc = BENCH_OK;
    } else if (mrc == MDB_NOTFOUND) {
        rc = BENCH_NOTFOUND;
    } else {
        rc = lmdb_fail("mdb_get", mrc);
    }
    mdb_txn_reset(c->rtxn); /* release the snapshot so pages can be reused */
    return rc;
}

static int lmdb_multi_get(void *tctx, size_t n, const void *const *keys,
                          const size_t *klens, size_t *vlens, int *rcs)
{
    lmdb_ctx *c = tctx;
    int rc = lmdb_read_begin(c);
    if (rc != BENCH_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        MDB_val key = {klens[i], (void *)keys[i]}, val;
        int mrc = mdb_get(c->rtxn, c->db->dbi, &key, &val);
        if (mrc == MDB_SUCCESS) {
            vlens[i] = val.mv_size;
            rcs[i] = BENCH_OK;
        } else if (mrc == MDB_NOTFOUND) {
            vlens[i] = 0;
            rcs[i] = BENCH_NOTFOUND;
        } else {
            rc = lmdb_fail("mdb_get", mrc);
            break;
        }
    }
    mdb_txn_reset(c->rtxn);
    return rc;
}

static int lmdb_scan(void *tctx, const void *k, size_t klen, size_t count,
                     size_t *found)
{
    lmdb_ctx *c = tctx;
    *found = 0;
    int rc = lmdb_read_begin(c);
    if (rc != BENCH_OK)
        return rc;
    int mrc = c->cur ? mdb_cursor_renew(c->rtxn, c->cur)
                     : mdb_cursor_open(c->rtxn, c->db->dbi, &c->cur);
    if (mrc != MDB_SUCCESS) {
        rc = lmdb_fail("cursor", mrc);
        goto out;
    }
    MDB_val key = {klen, (void *)k}, val;
    unsigned sink = 0;
    size_t n = 0;
    mrc = count ? mdb_cursor_get(c->cur, &key, &val, MDB_SET_RANGE)
                : MDB_NOTFOUND;
    while (mrc == MDB_SUCCESS) {
        if (val.mv_size) {
            const unsigned char *p = val.mv_data;
            sink += p[0] + p[val.mv_size - 1];
        }
        if (++n == count)
            break;
        mrc = mdb_cursor_get(c->cur, &key, &val, MDB_NEXT);
    }
    c->sink += sink;
    if (mrc != MDB_SUCCESS && mrc != MDB_NOTFOUND) {
        rc = lmdb_fail("mdb_cursor_get", mrc);
        goto out;
    }
    *found = n;
out:
    mdb_txn_reset(c->rtxn);
    return rc;
}

static int lmdb_drop_cache(void *h)
{
    lmdb_db *db = h;
    int rc = lmdb_env_stop(db);
    int drc = bench_drop_dir_cache(db->dir);
    int src = lmdb_env_start(db);
    if (rc != BENCH_OK)
        return rc;
    return drc != BENCH_OK ? drc : src;
}

static int lmdb_sync(void *h)
{
    lmdb_db *db = h;
    if (!db->env) {
        bench_engine_set_error("lmdb: environment is closed (reopen failed)");
        return BENCH_EFAIL;
    }
    int rc = mdb_env_sync(db->env, 1);
    if (rc != MDB_SUCCESS)
        return lmdb_fail("mdb_env_sync", rc);
    return bench_syncer_status(&db->syncer);
}

const bench_engine bench_engine_lmdb = {
    .name = "lmdb",
    .open = lmdb_open,
    .close = lmdb_close,
    .thread_init = lmdb_thread_init,
    .thread_fini = lmdb_thread_fini,
    .put = lmdb_put,
    .get = lmdb_get,
    .del = lmdb_del,
    .scan = lmdb_scan,
    .txn_put = lmdb_txn_put,
    .multi_get = lmdb_multi_get,
    .drop_cache = lmdb_drop_cache,
    .sync = lmdb_sync,
};
