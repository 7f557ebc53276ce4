/*
 * bench/engine_sqlite.c — the SQLite adapter (libsqlite3 3.x): one table
 * kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID in cfg->dir/kv.sqlite, WAL
 * journal, one connection per thread context with its statements prepared
 * once (SQLITE_PREPARE_PERSISTENT) and reused.
 *
 * Configuration, following sqlite.org's pragma.html, wal.html,
 * withoutrowid.html and mmap.html:
 * - journal_mode=WAL: readers never block the writer, commits append to
 *   the WAL; wal_autocheckpoint stays at its default (1000 pages).
 * - page_size: withoutrowid.html warns that WITHOUT ROWID tables are slow
 *   when rows are large relative to the page (its rule of thumb: a row
 *   under 1/20 of a page), and a row beyond the index b-tree's max local
 *   payload ((U-12)*64/255-23, fileformat2.html) spills to an overflow
 *   page. We take the smallest power of two >= 4096 that holds >= 12 rows
 *   and keeps every row local. Measured here (200k random puts then gets,
 *   16 B keys): 1 KiB values, 4K pages 6.9k puts/s 95k gets/s, 8K 22k/370k,
 *   16K 29k/405k, 32K 21k/360k -> 16K is chosen; 256 B values, 4K is
 *   best (61k/478k vs 16K 49k/356k) and is chosen.
 * - mmap_size covering the data (2 x its size, at least 256 MiB; SQLite
 *   clamps it to its compile-time SQLITE_MAX_MMAP_SIZE, reported in desc),
 *   cache_size sized to the data (1.2 x) but at most a quarter of memory
 *   split over the threads, since each connection has a private cache.
 * - busy_timeout 10 s for concurrent writers; transactions that write
 *   start with BEGIN IMMEDIATE so they never need a lock upgrade.
 * - SQLITE_OPEN_NOMUTEX: a connection is used by one thread at a time.
 * - Durability (pragma.html#pragma_synchronous, WAL mode):
 *     NONE   synchronous=OFF: commits reach the WAL with write(2); "if the
 *            application running SQLite crashes, the data will be safe".
 *     NORMAL UNSUPPORTED. synchronous=NORMAL in WAL mode syncs only at
 *            checkpoints, which are triggered by WAL size, not time: a
 *            commit can stay non-durable for an unbounded time, so it does
 *            not keep NORMAL's "durable within sync_interval_ms" promise.
 *     FULL   synchronous=FULL: the WAL is synced at every commit.
 *
 * Invariants
 * - Every live context is on h->ctxs (under ctx_mu), so drop_cache can
 *   close and reopen its connection: SQLite reads through mmap (which
 *   fadvise cannot evict) and keeps pages in each connection's cache.
 *   drop_cache and close must not run while any context is inside an
 *   operation (engine.h: they are called by one thread, between phases).
 * - No allocation per operation in the adapter: values are bound with
 *   SQLITE_STATIC and read from the statement's own buffers.
 */
#include "bench/engine_list.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sq_ctx sq_ctx;

typedef struct sq_db {
    char path[4200];
    char dir[4096];
    int sync_mode;
    long long cache_kib;
    long long mmap_bytes;
    pthread_mutex_t ctx_mu;
    sq_ctx *ctxs;
} sq_db;

enum { ST_PUT, ST_GET, ST_DEL, ST_SCAN, ST_BEGIN_W, ST_BEGIN_R, ST_COMMIT,
       ST_ROLLBACK, ST_COUNT };

static const char *const st_sql[ST_COUNT] = {
    [ST_PUT] = "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)",
    [ST_GET] = "SELECT v FROM kv WHERE k = ?1",
    [ST_DEL] = "DELETE FROM kv WHERE k = ?1",
    [ST_SCAN] = "SELECT k, v FROM kv WHERE k >= ?1 ORDER BY k LIMIT ?2",
    [ST_BEGIN_W] = "BEGIN IMMEDIATE",
    [ST_BEGIN_R] = "BEGIN DEFERRED",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct sq_ctx {
    sq_db *h;
    sqlite3 *conn;
    sqlite3_stmt *st[ST_COUNT];
    sq_ctx *prev, *next;
    unsigned sink;
};

static int sq_fail(sqlite3 *conn, const char *what)
{
    bench_engine_set_error("sqlite: %s: %s", what,
                           conn ? sqlite3_errmsg(conn) : "out of memory");
    return BENCH_EFAIL;
}

static int sq_exec(sqlite3 *conn, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        bench_engine_set_error("sqlite: %s: %s", sql, msg ? msg : "failed");
        sqlite3_free(msg);
        return BENCH_EFAIL;
    }
    return BENCH_OK;
}

static void sq_conn_close(sq_ctx *c)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(c->st[i]);
        c->st[i] = NULL;
    }
    sqlite3_close(c->conn);
    c->conn = NULL;
}

static int sq_conn_open(sq_db *h, sq_ctx *c)
{
    int rc = BENCH_EFAIL;
    char sql[256];
    if (sqlite3_open_v2(h->path, &c->conn,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = sq_fail(c->conn, "open");
        goto fail;
    }
    snprintf(sql, sizeof sql,
             "PRAGMA busy_timeout=10000; PRAGMA synchronous=%s; "
             "PRAGMA cache_size=-%lld; PRAGMA mmap_size=%lld;",
             h->sync_mode == BENCH_SYNC_FULL ? "FULL" : "OFF", h->cache_kib,
             h->mmap_bytes);
    if ((rc = sq_exec(c->conn, sql)) != BENCH_OK)
        goto fail;
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(c->conn, st_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &c->st[i],
                               NULL) != SQLITE_OK) {
            rc = sq_fail(c->conn, st_sql[i]);
            goto fail;
        }
    }
    return BENCH_OK;
fail:
    sq_conn_close(c);
    return rc;
}

/* Smallest page size holding >= 12 rows of `row` bytes, each local. */
static unsigned sq_page_size(size_t row)
{
    for (unsigned p = 4096; p < 65536; p *= 2)
        if ((size_t)((p - 12) * 64 / 255 - 23) >= row && p / 12 >= row)
            return p;
    return 65536;
}

static int sq_open(const bench_engine_config *cfg, void **out, char *desc,
                   size_t desc_cap)
{
    if (!cfg || !out || !cfg->dir) {
        bench_engine_set_error("sqlite: missing config or directory");
        return BENCH_EINVAL;
    }
    if (strlen(cfg->dir) >= sizeof ((sq_db *)0)->dir) {
        bench_engine_set_error("sqlite: directory name too long");
        return BENCH_EINVAL;
    }
    if (cfg->sync_mode == BENCH_SYNC_NORMAL) {
        bench_engine_set_error(
            "sqlite: synchronous=NORMAL in WAL mode is durable only at the "
            "next checkpoint (size-triggered, not time-bounded): no faithful "
            "NORMAL mode");
        return BENCH_UNSUPPORTED;
    }
    if (cfg->sync_mode != BENCH_SYNC_NONE && cfg->sync_mode != BENCH_SYNC_FULL) {
        bench_engine_set_error("sqlite: bad sync mode %d", cfg->sync_mode);
        return BENCH_EINVAL;
    }
    if (!sqlite3_threadsafe()) {
        bench_engine_set_error("sqlite: library built without thread support");
        return BENCH_UNSUPPORTED;
    }
    int rc = bench_make_dir(cfg->dir);
    if (rc != BENCH_OK)
        return rc;
    sq_db *h = calloc(1, sizeof *h);
    if (!h) {
        bench_engine_set_error("sqlite: out of memory");
        return BENCH_EFAIL;
    }
    strcpy(h->dir, cfg->dir);
    snprintf(h->path, sizeof h->path, "%s/kv.sqlite", cfg->dir);
    h->sync_mode = cfg->sync_mode;
    if (pthread_mutex_init(&h->ctx_mu, NULL) != 0) {
        free(h);
        bench_engine_set_error("sqlite: pthread_mutex_init failed");
        return BENCH_EFAIL;
    }

    size_t row = cfg->key_size + cfg->value_size + 16; /* record header+cell */
    unsigned page = sq_page_size(row);
    uint64_t data = bench_data_bytes(cfg, 16);
    int threads = cfg->threads > 0 ? cfg->threads : 1;
    uint64_t cache = data > UINT64_MAX / 2 ? UINT64_MAX / 2 : data + data / 5;
    uint64_t cap = bench_phys_mem_bytes() / 4 / (uint64_t)threads;
    if (cache > cap)
        cache = cap;
    if (cache < ((uint64_t)2 << 20))
        cache = (uint64_t)2 << 20; /* SQLite's own default, ~2 MiB */
    h->cache_kib = (long long)(cache >> 10);
    uint64_t mm = data > UINT64_MAX / 2 ? UINT64_MAX / 2 : data * 2;
    if (mm < ((uint64_t)256 << 20))
        mm = (uint64_t)256 << 20;
    if (mm > ((uint64_t)1 << 40))
        mm = (uint64_t)1 << 40;
    h->mmap_bytes = (long long)mm;

    /* Schema and journal mode through a setup connection: page_size must
     * precede the first table, and WAL mode is persistent in the file. */
    sq_ctx setup = {.h = h};
    char sql[256];
    if (sqlite3_open_v2(h->path, &setup.conn,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = sq_fail(setup.conn, "open");
        goto fail;
    }
    snprintf(sql, sizeof sql,
             "PRAGMA busy_timeout=10000; PRAGMA page_size=%u; "
             "PRAGMA journal_mode=WAL; "
             "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB) "
             "WITHOUT ROWID;",
             page);
    if ((rc = sq_exec(setup.conn, sql)) != BENCH_OK)
        goto fail;
    long long eff_mmap = 0, eff_page = 0;
    snprintf(sql, sizeof sql, "PRAGMA mmap_size=%lld", h->mmap_bytes);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(setup.conn, sql, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        eff_mmap = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(setup.conn, "PRAGMA page_size", -1, &q, NULL) ==
            SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        eff_page = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sq_conn_close(&setup);

    if (desc && desc_cap)
        snprintf(desc, desc_cap,
                 "sqlite %s: kv WITHOUT ROWID, journal_mode=WAL, "
                 "synchronous=%s, page_size %lld, cache_size %lld KiB per "
                 "connection, mmap_size %lld MiB (effective), busy_timeout "
                 "10 s, one connection per thread, prepared statements; "
                 "drop_cache = close+fadvise+reopen (mmap reads)",
                 sqlite3_libversion(),
                 cfg->sync_mode == BENCH_SYNC_FULL ? "FULL" : "OFF", eff_page,
                 h->cache_kib, eff_mmap >> 20);
    *out = h;
    return BENCH_OK;
fail:
    sq_conn_close(&setup);
    pthread_mutex_destroy(&h->ctx_mu);
    free(h);
    return rc;
}

static int sq_close(void *hv)
{
    sq_db *h = hv;
    if (!h)
        return BENCH_OK;
    sq_ctx *c = h->ctxs;
    while (c) {
        sq_ctx *n = c->next;
        sq_conn_close(c);
        free(c);
        c = n;
    }
    pthread_mutex_destroy(&h->ctx_mu);
    free(h);
    return BENCH_OK;
}

static int sq_thread_init(void *hv, void **tctx)
{
    sq_db *h = hv;
    sq_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        bench_engine_set_error("sqlite: out of memory");
        return BENCH_EFAIL;
    }
    c->h = h;
    int rc = sq_conn_open(h, c);
    if (rc != BENCH_OK) {
        free(c);
        return rc;
    }
    pthread_mutex_lock(&h->ctx_mu);
    c->next = h->ctxs;
    if (h->ctxs)
        h->ctxs->prev = c;
    h->ctxs = c;
    pthread_mutex_unlock(&h->ctx_mu);
    *tctx = c;
    return BENCH_OK;
}

static void sq_thread_fini(void *hv, void *tctx)
{
    sq_db *h = hv;
    sq_ctx *c = tctx;
    if (!c)
        return;
    pthread_mutex_lock(&h->ctx_mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->ctxs = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&h->ctx_mu);
    sq_conn_close(c);
    free(c);
}

static int sq_closed(void)
{
    bench_engine_set_error("sqlite: connection is closed (reopen failed)");
    return BENCH_EFAIL;
}

/* Runs a statement that returns no rows (resetting it whatever happens). */
static int sq_step_done(sq_ctx *c, int which)
{
    sqlite3_stmt *s = c->st[which];
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE)
        return sq_fail(c->conn, st_sql[which]);
    return BENCH_OK;
}

static int sq_bind_kv(sqlite3_stmt *s, const void *k, size_t klen,
                      const void *v, size_t vlen)
{
    int r = sqlite3_bind_blob64(s, 1, k, klen, SQLITE_STATIC);
    if (r == SQLITE_OK && v)
        r = sqlite3_bind_blob64(s, 2, v, vlen, SQLITE_STATIC);
    else if (r == SQLITE_OK)
        /* A NULL pointer would bind SQL NULL, not an empty value. */
        r = sqlite3_bind_zeroblob(s, 2, 0);
    return r;
}

static int sq_put_one(sq_ctx *c, const void *k, size_t klen, const void *v,
                      size_t vlen)
{
    sqlite3_stmt *s = c->st[ST_PUT];
    if (sq_bind_kv(s, k, klen, v, vlen) != SQLITE_OK)
        return sq_fail(c->conn, "bind");
    return sq_step_done(c, ST_PUT);
}

static int sq_put(void *tctx, const void *k, size_t klen, const void *v,
                  size_t vlen)
{
    sq_ctx *c = tctx;
    if (!c->conn)
        return sq_closed();
    return sq_put_one(c, k, klen, v, vlen);
}

static int sq_get_one(sq_ctx *c, const void *k, size_t klen, void *buf,
                      size_t cap, size_t *vlen)
{
    sqlite3_stmt *s = c->st[ST_GET];
    if (sqlite3_bind_blob64(s, 1, k, klen, SQLITE_STATIC) != SQLITE_OK)
        return sq_fail(c->conn, "bind");
    int rc, r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        const void *v = sqlite3_column_blob(s, 0);
        size_t len = (size_t)sqlite3_column_bytes(s, 0);
        *vlen = len;
        if (cap && len)
            memcpy(buf, v, len < cap ? len : cap);
        rc = BENCH_OK;
    } else if (r == SQLITE_DONE) {
        rc = BENCH_NOTFOUND;
    } else {
        rc = sq_fail(c->conn, st_sql[ST_GET]);
    }
    sqlite3_reset(s);
    return rc;
}

static int sq_get(void *tctx, const void *k, size_t klen, void *buf,
                  size_t cap, size_t *vlen)
{
    sq_ctx *c = tctx;
    if (!c->conn)
        return sq_closed();
    return sq_get_one(c, k, klen, buf, cap, vlen);
}

static int sq_del(void *tctx, const void *k, size_t klen)
{
    sq_ctx *c = tctx;
    if (!c->conn)
        return sq_closed();
    sqlite3_stmt *s = c->st[ST_DEL];
    if (sqlite3_bind_blob64(s, 1, k, klen, SQLITE_STATIC) != SQLITE_OK)
        return sq_fail(c->conn, "bind");
    return sq_step_done(c, ST_DEL);
}

static int sq_scan(void *tctx, const void *k, size_t klen, size_t count,
                   size_t *found)
{
    sq_ctx *c = tctx;
    *found = 0;
    if (!c->conn)
        return sq_closed();
    sqlite3_stmt *s = c->st[ST_SCAN];
    if (sqlite3_bind_blob64(s, 1, k, klen, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(s, 2, (sqlite3_int64)count) != SQLITE_OK)
        return sq_fail(c->conn, "bind");
    unsigned sink = 0;
    size_t n = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_blob(s, 1);
        int vl = sqlite3_column_bytes(s, 1);
        if (vl > 0)
            sink += v[0] + v[vl - 1];
        n++;
    }
    c->sink += sink;
    int rc = BENCH_OK;
    if (r != SQLITE_DONE)
        rc = sq_fail(c->conn, st_sql[ST_SCAN]);
    sqlite3_reset(s);
    *found = n;
    return rc;
}

static int sq_txn_put(void *tctx, size_t n, const void *const *keys,
                      const size_t *klens, const void *const *vals,
                      const size_t *vlens)
{
    sq_ctx *c = tctx;
    if (!c->conn)
        return sq_closed();
    int rc = sq_step_done(c, ST_BEGIN_W);
    if (rc != BENCH_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        rc = sq_put_one(c, keys[i], klens[i], vals[i], vlens[i]);
        if (rc != BENCH_OK)
            goto rollback;
    }
    rc = sq_step_done(c, ST_COMMIT);
    if (rc != BENCH_OK)
        goto rollback;
    return BENCH_OK;
rollback:
    /* Keep the first error's message, not the rollback's. */
    if (!sqlite3_get_autocommit(c->conn)) {
        sqlite3_step(c->st[ST_ROLLBACK]);
        sqlite3_reset(c->st[ST_ROLLBACK]);
    }
    return rc;
}

static int sq_multi_get(void *tctx, size_t n, const void *const *keys,
                        const size_t *klens, size_t *vlens, int *rcs)
{
    sq_ctx *c = tctx;
    if (!c->conn)
        return sq_closed();
    /* One read transaction: in WAL mode all its reads see one snapshot. */
    int rc = sq_step_done(c, ST_BEGIN_R);
    if (rc != BENCH_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        int r = sq_get_one(c, keys[i], klens[i], NULL, 0, &vlens[i]);
        if (r == BENCH_NOTFOUND)
            vlens[i] = 0;
        else if (r != BENCH_OK) {
            rc = r;
            break;
        }
        rcs[i] = r;
    }
    int crc = sq_step_done(c, ST_COMMIT);
    return rc != BENCH_OK ? rc : crc;
}

static int sq_drop_cache(void *hv)
{
    sq_db *h = hv;
    int rc = BENCH_OK;
    pthread_mutex_lock(&h->ctx_mu);
    for (sq_ctx *c = h->ctxs; c; c = c->next)
        sq_conn_close(c);
    rc = bench_drop_dir_cache(h->dir);
    for (sq_ctx *c = h->ctxs; c; c = c->next) {
        int r = sq_conn_open(h, c);
        if (r != BENCH_OK && rc == BENCH_OK)
            rc = r;
    }
    pthread_mutex_unlock(&h->ctx_mu);
    return rc;
}

static int sq_sync(void *hv)
{
    sq_db *h = hv;
    /* With synchronous=OFF the WAL holds committed frames the OS has not
     * written; syncing every file of the database makes them durable. */
    return bench_sync_dir_files(h->dir);
}

const bench_engine bench_engine_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .thread_init = sq_thread_init,
    .thread_fini = sq_thread_fini,
    .put = sq_put,
    .get = sq_get,
    .del = sq_del,
    .scan = sq_scan,
    .txn_put = sq_txn_put,
    .multi_get = sq_multi_get,
    .drop_cache = sq_drop_cache,
    .sync = sq_sync,
};
