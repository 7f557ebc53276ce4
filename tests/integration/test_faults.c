/*
 * test_faults.c — I/O fault sweep: a fixed workload of a few hundred
 * operations (puts, deletes, transactions, batches, syncs, checkpoints, a
 * compaction, a reopen) runs once under a counting hook to learn N, the
 * number of I/O calls it makes; then it is rerun in a fresh directory once
 * per call index i with call i failed (EIO everywhere; ENOSPC and a short
 * write on writes and allocations; EINTR everywhere, which io.c must retry
 * invisibly), and the invariants below are checked after each run.
 *
 * Invariants (exact, per run):
 *  1. Every API call returns LDB_OK or an error; nothing crashes. Before
 *     the fault fires every call returns LDB_OK (the run is the counting
 *     run up to there).
 *  2. Reads inside the session see exactly the acknowledged commits: the
 *     model of every commit that returned LDB_OK (a FULL-mode commit whose
 *     sync failed is not visible; NORMAL acknowledges at append).
 *  3. After a failed fdatasync of a log segment (the 2018 PostgreSQL lesson:
 *     the page cache may have dropped the data) the call that saw it fails
 *     and every later write, sync, checkpoint and compaction returns LDB_IO
 *     until the database is reopened.
 *  4. A full disk is transient: after ENOSPC (or a short write) on a
 *     checkpoint write or on the allocation of a new segment, the call that
 *     hit it returns LDB_NOSPACE and every later call succeeds.
 *  5. A failed open may be retried at once and must then succeed.
 *  6. After the run (hook removed) ldb_check_dir finds no damage, the
 *     database opens with LDB_OK (log writes go through the mapping, which
 *     the hook cannot fail, so no fault here may ever cost a reopen), and
 *     its contents are exactly: every acknowledged commit, plus any subset
 *     of the commits that were appended to the log but returned an error
 *     (FULL: the sync failed), each one whole or absent — never half of a
 *     transaction, never a commit that failed before reaching the log.
 *  7. The reopened database accepts writes and keeps them across another
 *     reopen.
 *
 * Determinism: one thread does all the I/O (cleaner and automatic
 * checkpoints off, NORMAL's syncer interval an hour), so call i is the same
 * call in every run. TEST_SEED replays; FAULT_ONLY=i runs one index;
 * FAULT_FULL=1 sweeps every index even where the default samples.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "engine/io.h"
#include "lightningdb.h"
#include "testutil.h"

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define NK 32u
#define NOPS 400
#define MAXMUT 5
#define MAXV 3000u
#define MAXCALLS 20000
#define MAXMAYBE 10
/* Runs per sweep before it samples (a run takes ~2 ms on a RAM disk). */
#define MAX_RUNS 3000

enum { W_PUT, W_DEL, W_TXN, W_BATCH, W_SYNC, W_CKPT, W_COMPACT, W_REOPEN };
static const char *const wnames[] = {"put", "delete", "txn", "batch", "sync", "checkpoint",
                                     "compact", "reopen"};

typedef struct mut {
    uint16_t key;
    uint8_t del;
} mut;

typedef struct wop {
    uint8_t kind;
    uint8_t n;
    mut m[MAXMUT];
} wop;

/* Key state: absent (ver 0) or the version written by op ver-1. */
typedef struct model {
    uint32_t ver[NK];
} model;

static wop ops[NOPS];

static size_t key_of(unsigned id, char *k)
{
    return (size_t)snprintf(k, 16, "f%03u%.*s", id, (int)(id % 5), "xxxx");
}

/* The value of (key, version): lengths from 0 to MAXV, one in three
 * compressible (a repeated pattern) so the LZ4 mode compresses some. */
static size_t val_of(unsigned key, uint32_t ver, uint8_t *out)
{
    tu_rng r = {((uint64_t)key << 32) ^ ver ^ 0x5bd1e995u};
    uint64_t x = tu_rand(&r);
    size_t len = x % 10 == 0 ? 0 : x % 10 == 1 ? MAXV - (size_t)(x >> 40) % 500 : (size_t)(x >> 8) % 1400;
    int pat = (x >> 20) % 3 == 0;
    for (size_t i = 0; i < len; i++) out[i] = pat ? (uint8_t)("abcabcabd"[i % 9]) : (uint8_t)tu_rand(&r);
    return len;
}

static void gen_workload(uint64_t seed)
{
    tu_rng r = {seed};
    for (int j = 0; j < NOPS; j++) {
        wop *w = &ops[j];
        memset(w, 0, sizeof *w);
        /* Fixed maintenance points, so every run has them. */
        if (j == 40 || j == 150 || j == 390) w->kind = W_SYNC;
        else if (j == 90 || j == 330) w->kind = W_CKPT;
        else if (j == 250 || j == 360) w->kind = W_COMPACT;
        else if (j == 300) w->kind = W_REOPEN;
        else {
            uint64_t x = tu_rand_below(&r, 100);
            w->kind = x < 50 ? W_PUT : x < 65 ? W_DEL : x < 85 ? W_TXN : W_BATCH;
        }
        if (w->kind > W_BATCH) continue;
        w->n = w->kind <= W_DEL ? 1 : (uint8_t)(2 + tu_rand_below(&r, MAXMUT - 1));
        for (int i = 0; i < w->n; i++) {
            uint16_t k;
            int dup;
            do {
                k = (uint16_t)tu_rand_below(&r, NK);
                dup = 0;
                for (int q = 0; q < i; q++) dup |= w->m[q].key == k;
            } while (dup);
            w->m[i].key = k;
            w->m[i].del = w->kind == W_DEL || (w->kind >= W_TXN && tu_rand_below(&r, 4) == 0);
        }
    }
}

static void model_apply(model *m, int j)
{
    const wop *w = &ops[j];
    for (int i = 0; i < w->n; i++) m->ver[w->m[i].key] = w->m[i].del ? 0 : (uint32_t)j + 1;
}

/* ---- the fault hook -------------------------------------------------- */

typedef struct fault {
    long calls;      /* calls seen so far */
    long target;     /* index to fail (-1: none) */
    int err;         /* -errno or IO_FAULT_SHORT */
    int fired;
    io_op fired_op;
    char fired_path[512];
    io_op *record;   /* counting run: the kind of every call */
    char (*paths)[24];
} fault;

static fault F;

static pthread_t main_thread;

static int fault_hook(io_op op, const char *path, void *arg)
{
    fault *f = arg;
    /* Only the test's own thread counts: NORMAL's syncer also wakes when an
     * explicit sync broadcasts and may sync at a moment no run can repeat,
     * so its calls would shift every later index. They run unfaulted. */
    if (!pthread_equal(pthread_self(), main_thread)) return 0;
    long i = f->calls++;
    if (f->record && i < MAXCALLS) {
        f->record[i] = op;
        const char *b = path ? strrchr(path, '/') : NULL;
        snprintf(f->paths[i], sizeof f->paths[i], "%s", b ? b + 1 : path ? path : "-");
    }
    if (i != f->target || f->fired) return 0;
    f->fired = 1;
    f->fired_op = op;
    snprintf(f->fired_path, sizeof f->fired_path, "%s", path ? path : "");
    return f->err;
}

/* A crash must name the case that caused it. */
static char case_desc[256];
static void on_crash(int sig)
{
    static const char msg[] = "\n# crashed during fault case: ";
    ssize_t w = write(2, msg, sizeof msg - 1);
    w = write(2, case_desc, strlen(case_desc));
    w = write(2, "\n", 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- one run ---------------------------------------------------------- */

enum { EXPECT_ANY, EXPECT_TRANSIENT, EXPECT_INVISIBLE };

typedef struct run {
    ldb_options o;
    const char *dir;
    ldb *db;
    model base;                /* contents when this session opened */
    model m;                   /* base + this session's acknowledged commits */
    int sess[NOPS + 8];        /* this session's appended commits, in order */
    uint8_t sess_maybe[NOPS + 8]; /* 1: it was appended but returned an error */
    int nsess;
    int poisoned;              /* a log fdatasync failed in this session */
    int expect;                /* EXPECT_*: what the injected fault promises */
    int fault_op;              /* workload op during which the fault fired */
    char err[768];             /* the first violated invariant */
} run;

#define CHECK(r, cond, ...)                                                                \
    do {                                                                                   \
        if (!(cond) && !(r)->err[0]) {                                                     \
            int n_ = snprintf((r)->err, sizeof(r)->err, "line %d: ", __LINE__);            \
            snprintf((r)->err + n_, sizeof(r)->err - (size_t)n_, __VA_ARGS__);            \
        }                                                                                  \
    } while (0)

static uint64_t commits_of(ldb *db)
{
    ldb_stats st;
    if (ldb_get_stats(db, &st) != LDB_OK) return 0;
    return st.commits;
}

static int is_write(int kind) { return kind != W_REOPEN; }
static int is_commit(int kind) { return kind <= W_BATCH; }

/* Compares the visible contents with model m: every key by get, and one
 * full scan for stray keys. Returns -1 on a match, else the first
 * mismatching key id (NK for a scan problem). */
static int db_mismatch(ldb *db, const model *m)
{
    static uint8_t buf[MAXV], want[MAXV];
    char k[16];
    unsigned live = 0;
    for (unsigned id = 0; id < NK; id++) {
        size_t kl = key_of(id, k), vl = 0;
        int rc = ldb_get(db, k, kl, buf, sizeof buf, &vl);
        if (!m->ver[id]) {
            if (rc != LDB_NOTFOUND) return (int)id;
            continue;
        }
        live++;
        if (rc != LDB_OK) return (int)id;
        size_t wl = val_of(id, m->ver[id] - 1, want);
        if (vl != wl || memcmp(buf, want, wl) != 0) return (int)id;
    }
    ldb_iter *it;
    if (ldb_iter_open(db, &it) != LDB_OK) return NK;
    unsigned n = 0;
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it)) n++;
    int st = ldb_iter_status(it);
    ldb_iter_close(it);
    return st == LDB_OK && n == live ? -1 : (int)NK;
}

/* After an open: the contents must be the session's base plus its
 * acknowledged commits plus any subset of its appended-but-failed commits
 * (each whole), applied in commit order. Adopts the state found. */
static void adopt_recovered(run *r)
{
    int nmaybe = 0;
    for (int s = 0; s < r->nsess; s++) nmaybe += r->sess_maybe[s];
    CHECK(r, nmaybe <= MAXMAYBE, "%d commits failed after reaching the log", nmaybe);
    if (nmaybe > MAXMAYBE) return;
    for (unsigned mask = 0; mask < (1u << nmaybe); mask++) {
        model c = r->base;
        int q = 0;
        for (int s = 0; s < r->nsess; s++) {
            int take = !r->sess_maybe[s] || (mask & (1u << q));
            q += r->sess_maybe[s];
            if (take) model_apply(&c, r->sess[s]);
        }
        if (db_mismatch(r->db, &c) < 0) {
            r->base = r->m = c;
            r->nsess = 0;
            return;
        }
    }
    int bad = db_mismatch(r->db, &r->m);
    CHECK(r, 0,
          "recovered contents are no allowed state (acknowledged commits + any subset of %d "
          "failed-but-logged ones): first difference from the acknowledged model at key %d",
          nmaybe, bad);
}

/* Reads key id inside the session: it must hold the acknowledged state. */
static void check_visible(run *r, unsigned id, int j)
{
    static uint8_t buf[MAXV], want[MAXV];
    char k[16];
    size_t kl = key_of(id, k), vl = 0;
    int rc = ldb_get(r->db, k, kl, buf, sizeof buf, &vl);
    if (!r->m.ver[id]) {
        CHECK(r, rc == LDB_NOTFOUND, "op %d: key %u should be absent, get says %s", j, id,
              ldb_strerror(rc));
        return;
    }
    size_t wl = val_of(id, r->m.ver[id] - 1, want);
    CHECK(r, rc == LDB_OK && vl == wl && memcmp(buf, want, wl) == 0,
          "op %d: key %u does not hold its acknowledged value (get: %s)", j, id, ldb_strerror(rc));
}

/* What each compaction of the last run achieved (for the cleaner check). */
typedef struct compaction {
    int op;
    uint64_t cleaned, live, file;
} compaction;
static compaction compactions[4];
static int ncompactions;

static int exec_op(run *r, int j)
{
    const wop *w = &ops[j];
    static uint8_t v[MAXV];
    char k[16];
    size_t kl, vl;
    int rc = LDB_OK;
    switch (w->kind) {
    case W_PUT:
        check_visible(r, w->m[0].key, j);
        kl = key_of(w->m[0].key, k);
        vl = val_of(w->m[0].key, (uint32_t)j, v);
        return ldb_put(r->db, k, kl, v, vl);
    case W_DEL:
        kl = key_of(w->m[0].key, k);
        return ldb_delete(r->db, k, kl);
    case W_TXN: {
        ldb_txn *t;
        rc = ldb_txn_begin(r->db, 0, &t);
        if (rc) return rc;
        /* A read inside the transaction sees the acknowledged state. */
        const void *tv;
        size_t tvl;
        kl = key_of(w->m[0].key, k);
        int g = ldb_txn_get(t, k, kl, &tv, &tvl);
        CHECK(r, (g == LDB_OK) == (r->m.ver[w->m[0].key] != 0), "op %d: txn_get says %s", j,
              ldb_strerror(g));
        for (int i = 0; i < w->n && !rc; i++) {
            kl = key_of(w->m[i].key, k);
            if (w->m[i].del) {
                rc = ldb_txn_delete(t, k, kl);
            } else {
                vl = val_of(w->m[i].key, (uint32_t)j, v);
                rc = ldb_txn_put(t, k, kl, v, vl);
            }
        }
        if (rc) {
            ldb_txn_abort(t);
            return rc;
        }
        return ldb_txn_commit(t);
    }
    case W_BATCH: {
        ldb_batch *b;
        rc = ldb_batch_create(&b);
        if (rc) return rc;
        for (int i = 0; i < w->n && !rc; i++) {
            kl = key_of(w->m[i].key, k);
            if (w->m[i].del) {
                rc = ldb_batch_delete(b, k, kl);
            } else {
                vl = val_of(w->m[i].key, (uint32_t)j, v);
                rc = ldb_batch_put(b, k, kl, v, vl);
            }
        }
        if (!rc) rc = ldb_write(r->db, b);
        ldb_batch_free(b);
        return rc;
    }
    case W_SYNC: return ldb_sync(r->db);
    case W_CKPT: return ldb_checkpoint(r->db);
    case W_COMPACT: {
        rc = ldb_compact(r->db);
        ldb_stats st;
        if (ldb_get_stats(r->db, &st) == LDB_OK && ncompactions < 4) {
            compactions[ncompactions].op = j;
            compactions[ncompactions].cleaned = st.cleaned_segments;
            compactions[ncompactions].live = st.live_bytes;
            compactions[ncompactions].file = st.file_bytes;
            ncompactions++;
        }
        return rc;
    }
    }
    return LDB_INVALID;
}

static int fault_is_log_sync(void)
{
    size_t l = strlen(F.fired_path);
    return F.fired && F.err != -EINTR && F.fired_op == IO_OP_SYNC && l > 4 && strcmp(F.fired_path + l - 4, ".log") == 0;
}

static int rc_allowed(int rc) { return rc == LDB_OK || rc == LDB_IO || rc == LDB_NOSPACE; }

/* Opens r->dir; a failed open (only when the fault fired inside it) is
 * retried once and must then succeed. */
static void open_db(run *r)
{
    int fired = F.fired;
    int rc = ldb_open(r->dir, &r->o, &r->db);
    if (rc != LDB_OK) {
        CHECK(r, F.fired && !fired, "open failed with no fault injected: %s (%s)", ldb_strerror(rc),
              ldb_last_error());
        CHECK(r, rc_allowed(rc), "open failed with %s", ldb_strerror(rc));
        CHECK(r, r->expect != EXPECT_INVISIBLE, "EINTR made open fail: %s (%s)", ldb_strerror(rc),
              ldb_last_error());
        rc = ldb_open(r->dir, &r->o, &r->db);
        CHECK(r, rc == LDB_OK, "open after a failed open: %s (%s)", ldb_strerror(rc),
              ldb_last_error());
        if (rc) {
            r->db = NULL;
            return;
        }
    }
    r->poisoned = 0;
    adopt_recovered(r);
}

static void close_db(run *r)
{
    int fired = F.fired;
    int rc = ldb_close(r->db);
    r->db = NULL;
    int now = F.fired && !fired;
    CHECK(r, rc == LDB_OK || now || (r->poisoned && rc == LDB_IO) ||
                 (F.fired && r->expect == EXPECT_ANY && rc_allowed(rc)),
          "close returned %s", ldb_strerror(rc));
    CHECK(r, rc_allowed(rc), "close returned %s", ldb_strerror(rc));
    if (now && fault_is_log_sync()) CHECK(r, rc != LDB_OK, "close hid a failed log fdatasync");
}

static void run_workload(run *r)
{
    open_db(r);
    for (int j = 0; j < NOPS && !r->err[0] && r->db; j++) {
        const wop *w = &ops[j];
        if (w->kind == W_REOPEN) {
            close_db(r);
            open_db(r);
            continue;
        }
        int fired = F.fired;
        uint64_t c0 = commits_of(r->db);
        int rc = exec_op(r, j);
        int appended = commits_of(r->db) > c0;
        int now = F.fired && !fired;
        if (now) r->fault_op = j;
        CHECK(r, rc_allowed(rc), "op %d (%s) returned %s", j, wnames[w->kind], ldb_strerror(rc));
        if (!F.fired) CHECK(r, rc == LDB_OK, "op %d (%s) returned %s with no fault injected (%s)", j,
                            wnames[w->kind], ldb_strerror(rc), ldb_last_error());
        if (r->expect == EXPECT_INVISIBLE)
            CHECK(r, rc == LDB_OK, "op %d (%s) returned %s after an EINTR (must be retried)", j,
                  wnames[w->kind], ldb_strerror(rc));
        if (r->poisoned && is_write(w->kind))
            CHECK(r, rc == LDB_IO,
                  "op %d (%s) returned %s after a failed log fdatasync (must be LDB_IO until reopen)",
                  j, wnames[w->kind], ldb_strerror(rc));
        if (now && fault_is_log_sync()) {
            CHECK(r, rc != LDB_OK, "op %d (%s) hid a failed fdatasync of %s", j, wnames[w->kind],
                  F.fired_path);
            r->poisoned = 1;
        }
        if (r->expect == EXPECT_TRANSIENT) {
            if (now) CHECK(r, rc == LDB_OK || rc == LDB_NOSPACE,
                           "op %d (%s) returned %s for a full disk (want LDB_NOSPACE)", j,
                           wnames[w->kind], ldb_strerror(rc));
            else CHECK(r, rc == LDB_OK, "op %d (%s) returned %s after space returned", j,
                       wnames[w->kind], ldb_strerror(rc));
        }
        if (!is_commit(w->kind)) continue;
        if (rc == LDB_OK) {
            model before = r->m;
            model_apply(&r->m, j);
            /* Acknowledged without a log append only when it changed nothing. */
            CHECK(r, appended || memcmp(&before, &r->m, sizeof before) == 0,
                  "op %d (%s) acknowledged but not logged", j, wnames[w->kind]);
        }
        if (appended) {
            r->sess[r->nsess] = j;
            r->sess_maybe[r->nsess] = rc != LDB_OK;
            r->nsess++;
        }
    }
    if (r->db && !r->err[0]) {
        int bad = db_mismatch(r->db, &r->m);
        CHECK(r, bad < 0, "before close: key %d differs from the acknowledged commits", bad);
    }
    if (r->db) close_db(r);
}

/* Everything after the run, with the hook removed. */
static void verify_after(run *r)
{
    io_set_fault_hook(NULL, NULL);
    if (r->err[0]) return;
    ldb_check_report rep;
    int rc = ldb_check_dir(r->dir, NULL, NULL, &rep);
    CHECK(r, rc == LDB_OK, "check_dir says %s (%llu damaged frames)", ldb_strerror(rc),
          (unsigned long long)rep.damaged_frames);
    rc = ldb_open(r->dir, &r->o, &r->db);
    CHECK(r, rc == LDB_OK, "reopen after the run: %s (%s)", ldb_strerror(rc), ldb_last_error());
    if (rc) return;
    adopt_recovered(r);
    /* A checkpoint that failed must leave the previous one installed, never
     * a MANIFEST naming a file that is not there. */
    ldb_stats st;
    if (ldb_get_stats(r->db, &st) == LDB_OK)
        CHECK(r, st.checkpoint_fallbacks == 0, "the reopen skipped %llu damaged or missing checkpoints (%s)",
              (unsigned long long)st.checkpoint_fallbacks, ldb_last_error());
    /* Still writable, and what it writes stays. */
    static uint8_t v[MAXV];
    char k[16];
    for (int i = 0; i < 4 && !r->err[0]; i++) {
        unsigned id = (unsigned)(i * 11) % NK;
        size_t kl = key_of(id, k), vl = val_of(id, (uint32_t)(NOPS + i), v);
        rc = ldb_put(r->db, k, kl, v, vl);
        CHECK(r, rc == LDB_OK, "put after reopen: %s", ldb_strerror(rc));
        r->m.ver[id] = (uint32_t)(NOPS + i) + 1;
    }
    CHECK(r, ldb_close(r->db) == LDB_OK, "close after reopen");
    r->db = NULL;
    rc = ldb_open(r->dir, &r->o, &r->db);
    CHECK(r, rc == LDB_OK, "second reopen: %s", ldb_strerror(rc));
    if (rc) return;
    int bad = db_mismatch(r->db, &r->m);
    CHECK(r, bad < 0, "after the second reopen key %d differs", bad);
    ldb_close(r->db);
    r->db = NULL;
}

static void opts_for(ldb_options *o, ldb_sync_mode mode)
{
    ldb_options_init(o);
    o->sync_mode = mode;
    o->sync_interval_ms = 3600u * 1000u; /* the syncer never fires: one I/O thread */
    o->segment_size = 64u << 10;         /* many rotations */
    o->cleaner = 0;
    o->checkpoint_bytes = 0;
    o->compression = mode == LDB_SYNC_NORMAL ? LDB_COMPRESSION_LZ4 : LDB_COMPRESSION_NONE;
}

/* One run in a fresh directory with call `target` failed by err. Returns 0
 * or fills err. */
static int one_run(ldb_sync_mode mode, long target, int err, int expect, char *msg, size_t cap,
                   io_op *record, char (*paths)[24])
{
    run *r = calloc(1, sizeof *r);
    char *dir = tu_tmpdir_fast("faults");
    assert_non_null(r);
    assert_non_null(dir);
    opts_for(&r->o, mode);
    r->dir = dir;
    r->expect = expect;
    r->fault_op = -1;
    memset(&F, 0, sizeof F);
    ncompactions = 0;
    F.target = target;
    F.err = err;
    F.record = record;
    F.paths = paths;
    io_set_fault_hook(fault_hook, &F);
    run_workload(r);
    long calls = F.calls;
    verify_after(r);
    if (r->db) ldb_close(r->db);
    int failed = r->err[0] != 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
    if (failed)
        snprintf(msg, cap, "fault %s at call %ld (%s %s, during op %d %s): %s",
                 err == IO_FAULT_SHORT ? "short-write" : strerror(-err), target,
                 F.fired ? io_op_name(F.fired_op) : "never fired", F.fired_path, r->fault_op,
                 r->fault_op >= 0 ? wnames[ops[r->fault_op].kind] : "-", r->err);
#pragma GCC diagnostic pop
    tu_rmdir(dir);
    free(dir);
    free(r);
    return failed ? -1 : (int)(calls > INT32_MAX ? INT32_MAX : calls);
}

/* ---- sweeps ----------------------------------------------------------- */

typedef struct sweep_stats {
    long calls, runs, failures;
} sweep_stats;

static uint64_t g_seed;

/* Runs the workload once per selected call index. kinds: bit mask of io_op
 * kinds to fault (0 = all). max_runs bounds the runtime: a seeded sample
 * when there are more candidates (FAULT_FULL=1: all of them). */
static sweep_stats sweep(ldb_sync_mode mode, int err, unsigned kinds, int expect, long max_runs,
                         const char *label)
{
    static io_op record[MAXCALLS];
    static char paths[MAXCALLS][24];
    char msg[2048];
    sweep_stats s = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int n = one_run(mode, -1, 0, EXPECT_ANY, msg, sizeof msg, record, paths);
    if (n < 0) fail_msg("the workload fails with no fault injected: %s", msg);
    assert_true(n < MAXCALLS);
    s.calls = n;
    const char *trace = getenv("FAULT_TRACE");
    if (trace && *trace == '1')
        for (long i = 0; i < n; i++) fprintf(stderr, "#   call %ld: %s %s\n", i, io_op_name(record[i]), paths[i]);
    long cand[MAXCALLS], nc = 0;
    for (long i = 0; i < n; i++)
        if (!kinds || (kinds & (1u << record[i]))) cand[nc++] = i;
    const char *only = getenv("FAULT_ONLY");
    const char *full = getenv("FAULT_FULL");
    tu_rng rng = {g_seed ^ (uint64_t)mode * 77 ^ (uint64_t)(unsigned)err};
    if (nc > max_runs && !(full && *full == '1')) {
        /* Partial Fisher-Yates: a uniform seeded sample, kept in order. */
        for (long i = 0; i < max_runs; i++) {
            long j = i + (long)tu_rand_below(&rng, (uint64_t)(nc - i));
            long t = cand[i];
            cand[i] = cand[j];
            cand[j] = t;
        }
        nc = max_runs;
        for (long i = 1; i < nc; i++)
            for (long j = i; j > 0 && cand[j - 1] > cand[j]; j--) {
                long t = cand[j];
                cand[j] = cand[j - 1];
                cand[j - 1] = t;
            }
    }
    for (long c = 0; c < nc; c++) {
        long i = cand[c];
        if (only && *only && strtol(only, NULL, 10) != i) continue;
        snprintf(case_desc, sizeof case_desc, "%s: call %ld (%s %s)", label, i,
                 io_op_name(record[i]), paths[i]);
        s.runs++;
        if (one_run(mode, i, err, expect, msg, sizeof msg, NULL, NULL) < 0) {
            if (s.failures < 8) fprintf(stderr, "# %s: %s\n", label, msg);
            s.failures++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "# %s: %ld I/O calls in the workload, %ld faulted runs, %ld failed, %.1f s\n",
            label, s.calls, s.runs, s.failures, secs);
    return s;
}

#define KIND(k) (1u << (k))
#define WRITE_KINDS (KIND(IO_OP_WRITE) | KIND(IO_OP_ALLOCATE))

/* The sweep must reach the cleaner's I/O (relocation, sync of the copies,
 * unlink of the victim) in both sessions, so each compaction has to find
 * dead segments: the workload overwrites and deletes 32 keys over ~7
 * segments. Fails while the live-byte counter underflows after deleted
 * keys are dropped (the cleaner then sees every segment as fully live). */
static void test_workload_exercises_cleaner(void **state)
{
    (void)state;
    char msg[2048];
    int n = one_run(LDB_SYNC_FULL, -1, 0, EXPECT_ANY, msg, sizeof msg, NULL, NULL);
    if (n < 0) fail_msg("%s", msg);
    assert_int_equal(ncompactions, 2);
    for (int i = 0; i < ncompactions; i++) {
        fprintf(stderr, "# compaction at op %d: %llu segments cleaned so far, live %llu of %llu bytes\n",
                compactions[i].op, (unsigned long long)compactions[i].cleaned,
                (unsigned long long)compactions[i].live, (unsigned long long)compactions[i].file);
        assert_true(compactions[i].live <= compactions[i].file);
    }
    assert_true(compactions[0].cleaned >= 1);
}

static void test_eio_full(void **state)
{
    (void)state;
    sweep_stats s = sweep(LDB_SYNC_FULL, -EIO, 0, EXPECT_ANY, MAX_RUNS, "FULL EIO");
    assert_int_equal(s.failures, 0);
}

static void test_eio_normal(void **state)
{
    (void)state;
    sweep_stats s = sweep(LDB_SYNC_NORMAL, -EIO, 0, EXPECT_ANY, MAX_RUNS, "NORMAL EIO");
    assert_int_equal(s.failures, 0);
}

/* NONE promises nothing after a power loss, but a checkpoint still syncs
 * the log it points into, and a failed sync there poisons like anywhere. */
static void test_eio_none(void **state)
{
    (void)state;
    sweep_stats s = sweep(LDB_SYNC_NONE, -EIO, 0, EXPECT_ANY, MAX_RUNS, "NONE EIO");
    assert_int_equal(s.failures, 0);
}

static void test_enospc(void **state)
{
    (void)state;
    long f = 0;
    static const ldb_sync_mode modes[] = {LDB_SYNC_FULL, LDB_SYNC_NORMAL, LDB_SYNC_NONE};
    static const char *const names[] = {"FULL", "NORMAL", "NONE"};
    for (int m = 0; m < 3; m++) {
        char label[64];
        snprintf(label, sizeof label, "%s ENOSPC", names[m]);
        f += sweep(modes[m], -ENOSPC, WRITE_KINDS, EXPECT_TRANSIENT, MAX_RUNS, label).failures;
        snprintf(label, sizeof label, "%s short write", names[m]);
        f += sweep(modes[m], IO_FAULT_SHORT, KIND(IO_OP_WRITE), EXPECT_TRANSIENT, MAX_RUNS, label)
                 .failures;
    }
    assert_int_equal(f, 0);
}

/* EINTR is retried inside io.c: injecting it anywhere must change nothing
 * a caller can see. */
static void test_eintr_invisible(void **state)
{
    (void)state;
    long f = sweep(LDB_SYNC_FULL, -EINTR, 0, EXPECT_INVISIBLE, MAX_RUNS, "FULL EINTR").failures;
    f += sweep(LDB_SYNC_NORMAL, -EINTR, 0, EXPECT_INVISIBLE, MAX_RUNS, "NORMAL EINTR").failures;
    assert_int_equal(f, 0);
}

/* ---- disk full on segment creation, explicitly --------------------------- */

static int full_disk;
static long full_hits;
static int disk_full_hook(io_op op, const char *path, void *arg)
{
    (void)path;
    (void)arg;
    if (full_disk && (op == IO_OP_ALLOCATE || op == IO_OP_WRITE)) {
        full_hits++;
        return -ENOSPC;
    }
    return 0;
}

/* Incompressible bytes whose first byte names the writer. */
static void fill(uint8_t *v, size_t n, int j)
{
    tu_rng r = {(uint64_t)j * 1000003u};
    for (size_t i = 0; i < n; i++) v[i] = (uint8_t)tu_rand(&r);
    v[0] = (uint8_t)j;
}

/* The disk stays full for a while (every allocation and write fails), then
 * space returns: the database must refuse only what needs space, serve
 * reads throughout, and accept writes again afterwards without a reopen. */
static void disk_full_mode(ldb_sync_mode mode)
{
    char *dir = tu_tmpdir_fast("diskfull");
    assert_non_null(dir);
    ldb_options o;
    opts_for(&o, mode);
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    run r = {0}; /* only for the model helpers */
    static uint8_t v[MAXV];
    char k[16];
    int j = 0;
    /* Fill most of the first segment. */
    for (; j < 40; j++) {
        unsigned id = (unsigned)j % NK;
        size_t kl = key_of(id, k);
        size_t vl = 1200;
        fill(v, vl, j);
        assert_int_equal(ldb_put(db, k, kl, v, vl), LDB_OK);
        r.m.ver[id] = (uint32_t)j + 1;
    }
    full_disk = 1;
    full_hits = 0;
    io_set_fault_hook(disk_full_hook, NULL);
    int refused = 0, accepted = 0;
    for (int i = 0; i < 60; i++, j++) {
        unsigned id = (unsigned)j % NK;
        size_t kl = key_of(id, k), vl = 1200;
        fill(v, vl, j);
        int rc = ldb_put(db, k, kl, v, vl);
        assert_true(rc == LDB_OK || rc == LDB_NOSPACE);
        if (rc == LDB_OK) {
            r.m.ver[id] = (uint32_t)j + 1;
            accepted++;
        } else {
            refused++;
        }
    }
    assert_int_equal(ldb_checkpoint(db), LDB_NOSPACE);
    assert_true(refused > 0); /* the segment did fill up */
    assert_true(full_hits > 0);
    /* Reads work while the disk is full. */
    for (unsigned id = 0; id < NK; id++) {
        size_t kl = key_of(id, k), vl;
        int rc = ldb_get(db, k, kl, v, sizeof v, &vl);
        if (!r.m.ver[id]) {
            assert_int_equal(rc, LDB_NOTFOUND);
        } else {
            assert_int_equal(rc, LDB_OK);
            assert_int_equal(vl, 1200);
            assert_int_equal(v[0], (uint8_t)(r.m.ver[id] - 1));
        }
    }
    /* Space returns. */
    full_disk = 0;
    io_set_fault_hook(NULL, NULL);
    for (int i = 0; i < 100; i++, j++) {
        unsigned id = (unsigned)j % NK;
        size_t kl = key_of(id, k), vl = 1200;
        fill(v, vl, j);
        assert_int_equal(ldb_put(db, k, kl, v, vl), LDB_OK);
        r.m.ver[id] = (uint32_t)j + 1;
    }
    assert_int_equal(ldb_sync(db), LDB_OK);
    assert_int_equal(ldb_checkpoint(db), LDB_OK);
    assert_int_equal(ldb_close(db), LDB_OK);
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    for (unsigned id = 0; id < NK; id++) {
        size_t kl = key_of(id, k), vl;
        int rc = ldb_get(db, k, kl, v, sizeof v, &vl);
        assert_int_equal(rc, r.m.ver[id] ? LDB_OK : LDB_NOTFOUND);
        if (rc == LDB_OK) assert_int_equal(v[0], (uint8_t)(r.m.ver[id] - 1));
    }
    assert_int_equal(ldb_close(db), LDB_OK);
    fprintf(stderr, "# %s: disk full refused %d puts, accepted %d, then recovered\n",
            mode == LDB_SYNC_FULL ? "FULL" : mode == LDB_SYNC_NORMAL ? "NORMAL" : "NONE", refused,
            accepted);
    tu_rmdir(dir);
    free(dir);
}

static void test_disk_full_segment_creation(void **state)
{
    (void)state;
    disk_full_mode(LDB_SYNC_FULL);
    disk_full_mode(LDB_SYNC_NORMAL);
    disk_full_mode(LDB_SYNC_NONE);
}

static int setup(void **state)
{
    (void)state;
    return 0;
}

int main(void)
{
    main_thread = pthread_self();
    g_seed = tu_seed(7);
    gen_workload(g_seed);
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGABRT, on_crash);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_full_segment_creation),
        cmocka_unit_test(test_workload_exercises_cleaner),
        cmocka_unit_test(test_eio_full),
        cmocka_unit_test(test_eio_normal),
        cmocka_unit_test(test_eio_none),
        cmocka_unit_test(test_enospc),
        cmocka_unit_test(test_eintr_invisible),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
