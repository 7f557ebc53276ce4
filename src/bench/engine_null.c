/*
 * bench/engine_null.c — the "null" engine: every call succeeds and does
 * nothing, so a run against it measures the harness's own ceiling (key
 * generation, dispatch through the function table, sampling, counting).
 *
 * Invariants
 * - No operation touches memory beyond its out-parameters: get reports the
 *   configured value size without copying, so the ceiling is not lowered by
 *   a memcpy the real engines may or may not do.
 * - Supports every sync mode (there is nothing to make durable), creates
 *   cfg->dir like every adapter but writes no file in it.
 */
#include "bench/engine_list.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct null_db {
    size_t value_size;
} null_db;

static int null_open(const bench_engine_config *cfg, void **h, char *desc,
                     size_t desc_cap)
{
    if (!cfg || !h || !cfg->dir) {
        bench_engine_set_error("null: missing config or directory");
        return BENCH_EINVAL;
    }
    if (cfg->sync_mode < BENCH_SYNC_NONE || cfg->sync_mode > BENCH_SYNC_FULL) {
        bench_engine_set_error("null: bad sync mode %d", cfg->sync_mode);
        return BENCH_EINVAL;
    }
    int rc = bench_make_dir(cfg->dir);
    if (rc != BENCH_OK)
        return rc;
    null_db *db = calloc(1, sizeof *db);
    if (!db) {
        bench_engine_set_error("null: out of memory");
        return BENCH_EFAIL;
    }
    db->value_size = cfg->value_size;
    if (desc && desc_cap)
        snprintf(desc, desc_cap,
                 "null: no storage; get reports %zu-byte values without "
                 "copying (harness ceiling)",
                 cfg->value_size);
    *h = db;
    return BENCH_OK;
}

static int null_close(void *h)
{
    free(h);
    return BENCH_OK;
}

static int null_thread_init(void *h, void **tctx)
{
    *tctx = h; /* the context is the handle: nothing is per-thread */
    return BENCH_OK;
}

static void null_thread_fini(void *h, void *tctx)
{
    (void)h;
    (void)tctx;
}

static int null_put(void *tctx, const void *k, size_t klen, const void *v,
                    size_t vlen)
{
    (void)tctx, (void)k, (void)klen, (void)v, (void)vlen;
    return BENCH_OK;
}

static int null_get(void *tctx, const void *k, size_t klen, void *buf,
                    size_t cap, size_t *vlen)
{
    (void)k, (void)klen, (void)buf, (void)cap;
    *vlen = ((null_db *)tctx)->value_size;
    return BENCH_OK;
}

static int null_del(void *tctx, const void *k, size_t klen)
{
    (void)tctx, (void)k, (void)klen;
    return BENCH_OK;
}

static int null_scan(void *tctx, const void *k, size_t klen, size_t count,
                     size_t *found)
{
    (void)tctx, (void)k, (void)klen;
    *found = count;
    return BENCH_OK;
}

static int null_txn_put(void *tctx, size_t n, const void *const *keys,
                        const size_t *klens, const void *const *vals,
                        const size_t *vlens)
{
    (void)tctx, (void)n, (void)keys, (void)klens, (void)vals, (void)vlens;
    return BENCH_OK;
}

static int null_multi_get(void *tctx, size_t n, const void *const *keys,
                          const size_t *klens, size_t *vlens, int *rcs)
{
    (void)keys, (void)klens;
    size_t vs = ((null_db *)tctx)->value_size;
    for (size_t i = 0; i < n; i++) {
        vlens[i] = vs;
        rcs[i] = BENCH_OK;
    }
    return BENCH_OK;
}

static int null_drop_cache(void *h)
{
    (void)h;
    return BENCH_OK;
}

static int null_sync(void *h)
{
    (void)h;
    return BENCH_OK;
}

const bench_engine bench_engine_null = {
    .name = "null",
    .open = null_open,
    .close = null_close,
    .thread_init = null_thread_init,
    .thread_fini = null_thread_fini,
    .put = null_put,
    .get = null_get,
    .del = null_del,
    .scan = null_scan,
    .txn_put = null_txn_put,
    .multi_get = null_multi_get,
    .drop_cache = null_drop_cache,
    .sync = null_sync,
};
