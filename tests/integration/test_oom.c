/*
 * test_oom.c — out-of-memory injection at every allocation of an
 * open / put / get / delete / transaction / batch / iterate / checkpoint /
 * compact / close cycle.
 *
 * A counting run learns N, the number of allocations the cycle makes
 * (alloc_set_fail_hook sees every heap allocation of the engine). Then for
 * every index i the cycle runs again on a fresh copy of the same database
 * with allocation i failed, in two flavours:
 *  - transient: only allocation i fails;
 *  - persistent: every allocation fails from i until the API call that met
 *    the first failure returns (memory stays short for the whole call, so
 *    error paths that themselves allocate are exercised).
 * Invariants:
 *  - the call that met the failure returns LDB_OK (the engine absorbed it,
 *    e.g. skipped an optional cleanup) or LDB_NOMEM, nothing else; a failed
 *    ldb_open returns LDB_NOMEM and leaves no handle;
 *  - LDB_NOMEM means nothing changed: right after the call (hook removed)
 *    the same handle reads exactly the commits that returned LDB_OK, and it
 *    keeps working for the rest of the cycle;
 *  - after the cycle the database reopens with exactly those commits;
 *  - nothing leaks: under `make test-asan` LeakSanitizer checks at exit,
 *    `make test-valgrind` runs it under valgrind, and in the plain build
 *    the heap in use (mallinfo2, glibc's thread cache off) must come back
 *    to the same level after every run of a second pass.
 * Single-threaded (FULL mode, no cleaner, no automatic checkpoints), so
 * allocation i is the same allocation in every run. TEST_SEED is printed
 * for uniformity; the sweep itself is exhaustive. OOM_ONLY=i runs one index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include "engine/alloc.h"
#include "lightningdb.h"
#include "testutil.h"

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define NK 40u
#define MAXV 3000u

/* ---- the hook ----------------------------------------------------------- */

typedef struct oom {
    long count;     /* allocations seen while armed */
    long target;    /* first one to fail (-1: none) */
    int persistent; /* keep failing until disarmed */
    int armed;
    int fired;      /* a failure happened in the current call */
    long fired_total;
} oom;

static oom H;

static int oom_hook(void *arg)
{
    oom *h = arg;
    if (!h->armed) return 0;
    long i = h->count++;
    if (h->target < 0) return 0;
    if (i == h->target || (h->persistent && h->fired)) {
        h->fired = 1;
        h->fired_total++;
        return 1;
    }
    return 0;
}

/* ---- the model and checks ------------------------------------------------ */

typedef struct model {
    uint32_t ver[NK]; /* 0: absent */
} model;

static size_t key_of(unsigned id, char *k) { return (size_t)snprintf(k, 16, "oom%03u", id); }

static size_t val_of(unsigned id, uint32_t ver, uint8_t *out)
{
    tu_rng r = {(uint64_t)id * 31337u + ver};
    size_t len = (size_t)tu_rand_below(&r, ver % 4 == 0 ? MAXV : 200);
    int pat = ver % 3 == 0; /* compressible: exercises the compression buffers */
    for (size_t i = 0; i < len; i++) out[i] = pat ? (uint8_t)(i % 7) : (uint8_t)tu_rand(&r);
    return len;
}

/* Compares a handle's contents with the model, with the hook disarmed.
 * Returns NULL or a description of the first difference. */
static const char *mismatch(ldb *db, const model *m)
{
    static char why[128];
    static uint8_t buf[MAXV], want[MAXV];
    int armed = H.armed;
    H.armed = 0;
    const char *res = NULL;
    char k[16];
    unsigned live = 0;
    for (unsigned id = 0; id < NK && !res; id++) {
        size_t kl = key_of(id, k), vl = 0;
        int rc = ldb_get(db, k, kl, buf, sizeof buf, &vl);
        if (!m->ver[id]) {
            if (rc != LDB_NOTFOUND) {
                snprintf(why, sizeof why, "key %u should be absent: %s", id, ldb_strerror(rc));
                res = why;
            }
            continue;
        }
        live++;
        size_t wl = val_of(id, m->ver[id], want);
        if (rc != LDB_OK || vl != wl || memcmp(buf, want, wl) != 0) {
            snprintf(why, sizeof why, "key %u is wrong: %s", id, ldb_strerror(rc));
            res = why;
        }
    }
    if (!res) {
        ldb_iter *it;
        unsigned n = 0;
        if (ldb_iter_open(db, &it) != LDB_OK) {
            res = "iter_open failed";
        } else {
            for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it)) n++;
            if (ldb_iter_status(it) != LDB_OK || n != live) {
                snprintf(why, sizeof why, "scan saw %u keys, want %u", n, live);
                res = why;
            }
            ldb_iter_close(it);
        }
    }
    H.armed = armed;
    return res;
}

/* ---- the cycle ------------------------------------------------------------ */

typedef struct cycle {
    const char *dir;
    ldb_options o;
    ldb *db;
    model m;
    char err[512];
    const char *fired_in;   /* the call that met the first failure */
    int fired_rc;
} cycle;

#define CHECK(c, cond, ...)                                                                \
    do {                                                                                   \
        if (!(cond) && !(c)->err[0]) {                                                     \
            int n_ = snprintf((c)->err, sizeof(c)->err, "line %d: ", __LINE__);            \
            snprintf((c)->err + n_, sizeof(c)->err - (size_t)n_, __VA_ARGS__);            \
        }                                                                                  \
    } while (0)

/* After every API call: a failure stops here (persistent mode ends with
 * the call), the return code must be OK or NOMEM, and the handle must read
 * exactly the acknowledged state. */
static int after(cycle *c, const char *what, int rc)
{
    int fired = H.fired;
    if (fired) {
        H.fired = 0;
        H.target = -1; /* one failure episode per run */
        if (!c->fired_in) {
            c->fired_in = what;
            c->fired_rc = rc;
        }
    }
    CHECK(c, rc == LDB_OK || (fired && rc == LDB_NOMEM), "%s returned %s%s", what, ldb_strerror(rc),
          fired ? "" : " with no allocation failed");
    if (fired && c->db && !c->err[0]) {
        const char *bad = mismatch(c->db, &c->m);
        CHECK(c, bad == NULL, "after %s failed (%s): %s", what, ldb_strerror(rc), bad);
    }
    return rc;
}

static void put_one(cycle *c, unsigned id, uint32_t ver)
{
    static uint8_t v[MAXV];
    char k[16];
    size_t kl = key_of(id, k), vl = val_of(id, ver, v);
    if (after(c, "put", ldb_put(c->db, k, kl, v, vl)) == LDB_OK) c->m.ver[id] = ver;
}

static void run_cycle(cycle *c)
{
    static uint8_t buf[MAXV];
    char k[16];
    size_t kl, vl;
    int rc = ldb_open(c->dir, &c->o, &c->db);
    if (after(c, "open", rc) != LDB_OK) {
        CHECK(c, c->db == NULL, "a failed open left a handle");
        c->db = NULL;
        rc = ldb_open(c->dir, &c->o, &c->db); /* memory is back */
        CHECK(c, rc == LDB_OK, "open after a failed open: %s", ldb_strerror(rc));
        if (rc) return;
    }
    {
        const char *bad = mismatch(c->db, &c->m);
        CHECK(c, bad == NULL, "after open: %s", bad);
    }
    put_one(c, 1, 101);
    put_one(c, NK - 1, 102); /* a new key */
    put_one(c, 5, 103);
    put_one(c, 6, 104);
    kl = key_of(1, k);
    after(c, "get", ldb_get(c->db, k, kl, buf, sizeof buf, &vl));
    kl = key_of(2, k);
    if (after(c, "delete", ldb_delete(c->db, k, kl)) == LDB_OK) c->m.ver[2] = 0;

    /* A transaction: read, write, delete, commit. */
    ldb_txn *t;
    if (after(c, "txn_begin", ldb_txn_begin(c->db, 0, &t)) == LDB_OK) {
        model tm = c->m;
        static uint8_t v[MAXV];
        const void *tv;
        size_t tvl;
        kl = key_of(3, k);
        rc = ldb_txn_get(t, k, kl, &tv, &tvl);
        int ok = after(c, "txn_get", rc == LDB_NOTFOUND ? LDB_OK : rc) == LDB_OK;
        kl = key_of(7, k);
        vl = val_of(7, 105, v);
        if (ok) ok = after(c, "txn_put", ldb_txn_put(t, k, kl, v, vl)) == LDB_OK;
        tm.ver[7] = 105;
        kl = key_of(NK - 2, k);
        vl = val_of(NK - 2, 106, v);
        if (ok) ok = after(c, "txn_put", ldb_txn_put(t, k, kl, v, vl)) == LDB_OK;
        tm.ver[NK - 2] = 106;
        kl = key_of(8, k);
        if (ok) ok = after(c, "txn_delete", ldb_txn_delete(t, k, kl)) == LDB_OK;
        tm.ver[8] = 0;
        if (ok) {
            /* The transaction is freed whatever commit returns. */
            if (after(c, "txn_commit", ldb_txn_commit(t)) == LDB_OK) c->m = tm;
        } else {
            ldb_txn_abort(t);
        }
    }

    /* A batch. */
    ldb_batch *b;
    if (after(c, "batch_create", ldb_batch_create(&b)) == LDB_OK) {
        static uint8_t v[MAXV];
        model bm = c->m;
        int ok = 1;
        for (unsigned id = 10; id < 14 && ok; id++) {
            kl = key_of(id, k);
            vl = val_of(id, 107 + id, v);
            ok = after(c, "batch_put", ldb_batch_put(b, k, kl, v, vl)) == LDB_OK;
            bm.ver[id] = 107 + id;
        }
        kl = key_of(15, k);
        if (ok) ok = after(c, "batch_delete", ldb_batch_delete(b, k, kl)) == LDB_OK;
        bm.ver[15] = 0;
        if (ok && after(c, "write", ldb_write(c->db, b)) == LDB_OK) c->m = bm;
        ldb_batch_free(b);
    }

    /* Iterate: forward over everything, then from a seek backwards. */
    ldb_iter *it;
    if (after(c, "iter_open", ldb_iter_open(c->db, &it)) == LDB_OK) {
        for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it)) {
            const void *iv;
            size_t ivl;
            if (ldb_iter_value(it, &iv, &ivl) != LDB_OK) break;
        }
        after(c, "iterate", ldb_iter_status(it));
        ldb_iter_close(it);
    }
    if (after(c, "iter_open", ldb_iter_open(c->db, &it)) == LDB_OK) {
        kl = key_of(20, k);
        for (ldb_iter_seek(it, k, kl); ldb_iter_valid(it); ldb_iter_prev(it)) {
        }
        after(c, "iterate back", ldb_iter_status(it));
        ldb_iter_close(it);
    }
    after(c, "checkpoint", ldb_checkpoint(c->db));
    put_one(c, 9, 130);
    after(c, "compact", ldb_compact(c->db));
    rc = ldb_close(c->db);
    c->db = NULL;
    after(c, "close", rc);
}

/* ---- the template and the sweep -------------------------------------------- */

static char *tpl_dir;
static model tpl_model;

static ldb_options cycle_opts(void)
{
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_FULL;
    o.segment_size = 64u << 10;
    o.cleaner = 0;
    o.checkpoint_bytes = 0;
    o.compression = LDB_COMPRESSION_LZ4;
    o.compression_min = 64;
    return o;
}

/* A database with a checkpoint and a log tail after it, so the open in
 * the cycle loads a checkpoint and replays frames. */
static int setup(void **state)
{
    (void)state;
    tu_seed(3);
    tpl_dir = tu_tmpdir_fast("oomtpl");
    assert_non_null(tpl_dir);
    ldb_options o = cycle_opts();
    ldb *db;
    assert_int_equal(ldb_open(tpl_dir, &o, &db), LDB_OK);
    static uint8_t v[MAXV];
    char k[16];
    for (unsigned id = 0; id < 30; id++) {
        size_t kl = key_of(id, k), vl = val_of(id, id + 1, v);
        assert_int_equal(ldb_put(db, k, kl, v, vl), LDB_OK);
        tpl_model.ver[id] = id + 1;
    }
    assert_int_equal(ldb_checkpoint(db), LDB_OK);
    for (unsigned id = 20; id < 36; id++) {
        size_t kl = key_of(id, k), vl = val_of(id, id + 50, v);
        assert_int_equal(ldb_put(db, k, kl, v, vl), LDB_OK);
        tpl_model.ver[id] = id + 50;
    }
    size_t kl = key_of(4, k);
    assert_int_equal(ldb_delete(db, k, kl), LDB_OK);
    tpl_model.ver[4] = 0;
    assert_int_equal(ldb_close(db), LDB_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmdir(tpl_dir);
    free(tpl_dir);
    return 0;
}

/* One cycle on a fresh copy with allocation `target` failed; then reopen
 * and check. Returns the allocations counted, or -1 with msg filled. */
static long one(long target, int persistent, char *msg, size_t cap)
{
    char *dir = tu_tmpdir_fast("oom");
    assert_non_null(dir);
    assert_int_equal(tu_copy_dir(tpl_dir, dir), 0);
    cycle c;
    memset(&c, 0, sizeof c);
    c.dir = dir;
    c.o = cycle_opts();
    c.m = tpl_model;
    memset(&H, 0, sizeof H);
    H.target = target;
    H.persistent = persistent;
    H.armed = 1;
    alloc_set_fail_hook(oom_hook, &H);
    run_cycle(&c);
    H.armed = 0;
    long count = H.count;
    alloc_set_fail_hook(NULL, NULL);
    if (c.db) ldb_close(c.db);
    c.db = NULL;
    if (!c.err[0]) {
        int rc = ldb_open(dir, &c.o, &c.db);
        CHECK(&c, rc == LDB_OK, "reopen: %s (%s)", ldb_strerror(rc), ldb_last_error());
        if (rc == LDB_OK) {
            const char *bad = mismatch(c.db, &c.m);
            CHECK(&c, bad == NULL, "after reopen: %s", bad);
            ldb_close(c.db);
        }
    }
    if (getenv("OOM_TRACE"))
        fprintf(stderr, "#   allocation %ld: failed in %s -> %s\n", target, c.fired_in ? c.fired_in : "-",
                c.fired_in ? ldb_strerror(c.fired_rc) : "-");
    if (c.err[0])
        snprintf(msg, cap, "allocation %ld (%s, failed in %s -> %s): %s", target,
                 persistent ? "persistent" : "transient", c.fired_in ? c.fired_in : "-",
                 c.fired_in ? ldb_strerror(c.fired_rc) : "-", c.err);
    tu_rmdir(dir);
    free(dir);
    return c.err[0] ? -1 : count;
}

static int heap_check = 1;

static size_t heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return 0; /* LeakSanitizer's job; mallinfo2 does not see its heap */
#endif
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks;
}

static void sweep(int persistent)
{
    char msg[1024];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long n = one(-1, 0, msg, sizeof msg);
    if (n < 0) fail_msg("the cycle fails with no allocation failed: %s", msg);
    const char *only = getenv("OOM_ONLY");
    long failures = 0, nomem = 0;
    /* Two passes: the first also warms every one-time cache (thread-local
     * buffers, free lists, stdio) on each error path; in the second the heap
     * in use must come back to the same level after every run, so a leak of
     * even one small block per run shows. */
    size_t heap0 = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) heap0 = heap_in_use();
        for (long i = 0; i < n; i++) {
            if (only && *only && strtol(only, NULL, 10) != i) continue;
            if (one(i, persistent, msg, sizeof msg) < 0) {
                if (failures < 8) fprintf(stderr, "# %s\n", msg);
                failures++;
            }
            nomem += pass == 0 && H.fired_total > 0;
            size_t h = heap_in_use();
            if (pass == 1 && heap_check && h > heap0 + 256) {
                if (failures < 8)
                    fprintf(stderr, "# allocation %ld (%s): heap in use grew by %zu bytes (a leak)\n",
                            i, persistent ? "persistent" : "transient", h - heap0);
                heap0 = h;
                failures++;
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "# %s: %ld allocations in the cycle, %ld injected failures, %ld failed, %.1f s\n",
            persistent ? "persistent" : "transient", n, nomem, failures,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    assert_int_equal(failures, 0);
}

static void test_oom_transient(void **state)
{
    (void)state;
    sweep(0);
}

static void test_oom_persistent(void **state)
{
    (void)state;
    sweep(1);
}

int main(int argc, char **argv)
{
    (void)argc;
    /* glibc's per-thread cache keeps freed blocks counted as in use, which
     * makes mallinfo2 drift; with it off the count is exact, so the program
     * runs itself once more with it off (the heap check needs it). */
    const char *tun = getenv("GLIBC_TUNABLES"), *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload")) {
        heap_check = 0; /* under valgrind, which checks leaks itself */
    } else if (!tun || !strstr(tun, "tcache_count=0")) {
        setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
        execv("/proc/self/exe", argv);
        heap_check = 0; /* no exec: LeakSanitizer and valgrind still check */
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_transient),
        cmocka_unit_test(test_oom_persistent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
