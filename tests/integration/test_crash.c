/*
 * test_crash.c — crash consistency: a child process writes, the parent
 * SIGKILLs it at a random moment, reopens the database and checks it.
 *
 * Protocol: before each operation the child sends an INTENT message (the
 * keys and value seeds it is about to write) and after the call returns
 * LDB_OK an ACK with the same content, each as one write() of a fixed-size
 * message (atomic on a pipe), so the parent knows exactly which operations
 * were acknowledged and which single one per writer thread was in flight.
 *
 * After the kill each key must hold its last acknowledged state or the
 * state the in-flight operation gives it, nothing else; an in-flight
 * transaction must be all or nothing. The directory is reused, so state
 * (and the log) accumulates across crashes; the parent adopts what it
 * observed as the model for the next round.
 *
 * Writers touch disjoint key sets per thread, so "the in-flight operation
 * for this key" is unambiguous. In FULL mode and in NONE mode alike a
 * process crash must lose nothing acknowledged (NONE promises that much:
 * the data is in the page cache).
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
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lightningdb.h"
#include "testutil.h"

/* Under UBSan, undefined behaviour must fail the run. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define NKEYS 512u
#define MAXOPS 4
#define MAXTHREADS 4
#define MAXV 12288u

enum { MSG_OPENED = 1, MSG_INTENT = 2, MSG_ACK = 3, MSG_FAIL = 4 };
enum { OP_PUT = 1, OP_DEL = 2 };

typedef struct msg_op {
    uint32_t key;
    uint32_t type; /* OP_PUT or OP_DEL */
    uint64_t seed; /* value seed of a put */
} msg_op;

typedef struct msg {
    uint8_t kind;
    uint8_t thread;
    uint8_t n;     /* operations; more than one = a transaction */
    uint8_t pad;
    int32_t rc;    /* MSG_FAIL: the code that was not LDB_OK */
    msg_op op[MAXOPS];
} msg;

_Static_assert(sizeof(msg) == 72, "a message must be small enough for an atomic pipe write");

static size_t make_key(uint32_t id, char *k)
{
    /* Lengths vary with the id so records are not all the same shape. */
    return (size_t)snprintf(k, 32, "k%05u%.*s", id, (int)(id % 7), "-------");
}

/* The value a (key, seed) pair stands for: mostly short, sometimes empty,
 * one in sixteen several KiB so frames cross segment boundaries often. */
static size_t make_value(uint32_t key, uint64_t seed, uint8_t *out)
{
    tu_rng r = {seed ^ ((uint64_t)key * 0x9e3779b97f4a7c15ull)};
    uint64_t x = tu_rand(&r);
    size_t len;
    if (x % 16 == 0) len = 2000 + (size_t)((x >> 8) % (MAXV - 2000));
    else if (x % 16 == 1) len = 0;
    else len = 1 + (size_t)((x >> 8) % 200);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = tu_rand(&r);
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(out + i, &w, n);
    }
    return len;
}

/* ---- the child ------------------------------------------------------- */

typedef struct child_ctx {
    ldb *db;
    int fd;
    int nthreads;
    int thread;
    uint64_t seed;
} child_ctx;

static void child_send(int fd, const msg *m)
{
    /* A message is far below PIPE_BUF, so it arrives whole or not at all. */
    ssize_t w;
    do w = write(fd, m, sizeof *m);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)sizeof *m) _exit(5);
}

static void child_fail(int fd, int thread, int rc)
{
    msg m = {.kind = MSG_FAIL, .thread = (uint8_t)thread, .rc = rc};
    child_send(fd, &m);
    _exit(3);
}

static void *child_writer(void *arg)
{
    child_ctx *c = arg;
    tu_rng r = {c->seed};
    uint8_t *val = malloc(MAXV);
    if (!val) _exit(6);
    uint32_t per = NKEYS / (uint32_t)c->nthreads;
    for (uint64_t counter = 1;; counter++) {
        msg m = {.kind = MSG_INTENT, .thread = (uint8_t)c->thread};
        uint64_t what = tu_rand_below(&r, 10);
        m.n = what < 7 ? 1 : (uint8_t)(2 + tu_rand_below(&r, MAXOPS - 1));
        for (int i = 0; i < m.n; i++) {
            uint32_t key;
            int dup;
            do { /* a transaction's keys are distinct */
                key = (uint32_t)c->thread + (uint32_t)c->nthreads * (uint32_t)tu_rand_below(&r, per);
                dup = 0;
                for (int j = 0; j < i; j++) dup |= m.op[j].key == key;
            } while (dup);
            m.op[i].key = key;
            m.op[i].type = (m.n == 1 ? what < 5 : tu_rand_below(&r, 3) != 0) ? OP_PUT : OP_DEL;
            /* Unique per write, so the parent can tell every version apart. */
            m.op[i].seed = (c->seed << 20) ^ (counter << 3) ^ (uint64_t)i ^ 0x5bd1e995ull;
        }
        child_send(c->fd, &m);
        int rc;
        char k[32];
        if (m.n == 1) {
            size_t kl = make_key(m.op[0].key, k);
            if (m.op[0].type == OP_PUT) {
                size_t vl = make_value(m.op[0].key, m.op[0].seed, val);
                rc = ldb_put(c->db, k, kl, val, vl);
            } else {
                rc = ldb_delete(c->db, k, kl);
            }
        } else {
            ldb_txn *t;
            rc = ldb_txn_begin(c->db, 0, &t);
            for (int i = 0; rc == LDB_OK && i < m.n; i++) {
                size_t kl = make_key(m.op[i].key, k);
                if (m.op[i].type == OP_PUT) {
                    size_t vl = make_value(m.op[i].key, m.op[i].seed, val);
                    rc = ldb_txn_put(t, k, kl, val, vl);
                } else {
                    rc = ldb_txn_delete(t, k, kl);
                }
            }
            if (rc == LDB_OK) rc = ldb_txn_commit(t);
        }
        if (rc != LDB_OK) child_fail(c->fd, c->thread, rc);
        m.kind = MSG_ACK;
        child_send(c->fd, &m);
    }
    return NULL;
}

static void child_main(const char *dir, const ldb_options *o, int nthreads, uint64_t seed, int fd)
{
    ldb *db;
    int rc = ldb_open(dir, o, &db);
    if (rc != LDB_OK) child_fail(fd, 0, rc);
    msg m = {.kind = MSG_OPENED};
    child_send(fd, &m);
    child_ctx ctx[MAXTHREADS];
    pthread_t th[MAXTHREADS];
    for (int t = 0; t < nthreads; t++) {
        ctx[t] = (child_ctx){db, fd, nthreads, t, seed * 31 + (uint64_t)t + 1};
        if (nthreads == 1) child_writer(&ctx[t]);
        else if (pthread_create(&th[t], NULL, child_writer, &ctx[t]) != 0) _exit(7);
    }
    for (int t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
    _exit(8); /* writers never return: they run until killed */
}

/* ---- the parent ------------------------------------------------------- */

typedef struct kstate {
    int present;
    uint64_t seed;
} kstate;

typedef struct crash_run {
    const char *dir;
    ldb_options opts;
    int nthreads;
    kstate model[NKEYS];
    msg pending[MAXTHREADS]; /* the last INTENT without its ACK (n = 0: none) */
    int opened, failed_rc, failed;
    uint64_t acked, inflight_applied, inflight_lost;
    uint64_t ckpt_opens; /* reopens that started from a checkpoint */
    uint8_t rbuf[sizeof(msg) * 64];
    size_t rlen;
} crash_run;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void handle_msg(crash_run *cr, const msg *m)
{
    assert_true(m->thread < MAXTHREADS);
    switch (m->kind) {
    case MSG_OPENED:
        cr->opened = 1;
        break;
    case MSG_INTENT:
        cr->pending[m->thread] = *m;
        break;
    case MSG_ACK:
        assert_memory_equal(m->op, cr->pending[m->thread].op, sizeof m->op);
        for (int i = 0; i < m->n; i++) {
            kstate *s = &cr->model[m->op[i].key];
            s->present = m->op[i].type == OP_PUT;
            s->seed = m->op[i].seed;
        }
        cr->pending[m->thread].n = 0;
        cr->acked++;
        break;
    case MSG_FAIL:
        cr->failed = 1;
        cr->failed_rc = m->rc;
        break;
    default:
        fail_msg("unknown message kind %d", m->kind);
    }
}

/* Reads what is available (waiting up to timeout_ns); returns 0 at EOF. */
static int pump(crash_run *cr, int fd, int64_t timeout_ns)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct timespec ts = {(time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000)};
    int r = ppoll(&p, 1, timeout_ns < 0 ? NULL : &ts, NULL);
    if (r < 0 && errno == EINTR) return 1;
    assert_true(r >= 0);
    if (r == 0) return 1;
    ssize_t n = read(fd, cr->rbuf + cr->rlen, sizeof cr->rbuf - cr->rlen);
    if (n < 0 && errno == EINTR) return 1;
    assert_true(n >= 0);
    if (n == 0) return 0;
    cr->rlen += (size_t)n;
    size_t done = 0;
    while (cr->rlen - done >= sizeof(msg)) {
        msg m;
        memcpy(&m, cr->rbuf + done, sizeof m);
        handle_msg(cr, &m);
        done += sizeof m;
    }
    memmove(cr->rbuf, cr->rbuf + done, cr->rlen - done);
    cr->rlen -= done;
    return 1;
}

/* Whether the observed value (present with these bytes, or absent) is the
 * state s. */
static int state_is(uint32_t key, const kstate *s, int present, const uint8_t *got, size_t glen,
                    uint8_t *scratch)
{
    if (!s->present) return !present;
    if (!present) return 0;
    size_t vl = make_value(key, s->seed, scratch);
    return vl == glen && memcmp(scratch, got, vl) == 0;
}

static void verify_after_crash(crash_run *cr, int iter)
{
    ldb *db;
    int rc = ldb_open(cr->dir, &cr->opts, &db);
    if (rc != LDB_OK)
        fail_msg("iteration %d: reopen after SIGKILL failed: %s (%s)", iter, ldb_strerror(rc),
                 ldb_last_error());
    uint8_t *got = malloc(MAXV), *want = malloc(MAXV);
    /* Per in-flight transaction: did any key show it applied / not applied? */
    int shows_new[MAXTHREADS] = {0}, shows_old[MAXTHREADS] = {0};
    uint32_t present = 0;
    for (uint32_t key = 0; key < NKEYS; key++) {
        char k[32];
        size_t kl = make_key(key, k), glen = 0;
        rc = ldb_get(db, k, kl, got, MAXV, &glen);
        if (rc != LDB_OK && rc != LDB_NOTFOUND)
            fail_msg("iteration %d: get of key %u: %s (%s)", iter, key, ldb_strerror(rc),
                     ldb_last_error());
        int is_present = rc == LDB_OK;
        assert_true(glen <= MAXV);
        kstate *acked = &cr->model[key];
        int thread = (int)(key % (uint32_t)cr->nthreads);
        const msg *pm = &cr->pending[thread];
        const msg_op *fly = NULL;
        for (int i = 0; i < pm->n; i++)
            if (pm->op[i].key == key) fly = &pm->op[i];
        kstate nw = {0, 0};
        if (fly) nw = (kstate){fly->type == OP_PUT, fly->seed};
        int is_old = state_is(key, acked, is_present, got, glen, want);
        int is_new = fly && state_is(key, &nw, is_present, got, glen, want);
        if (!is_old && !is_new)
            fail_msg("iteration %d: key %u holds %s (%zu bytes); acknowledged state: %s seed "
                     "%llu; in-flight: %s",
                     iter, key, is_present ? "a value" : "nothing", glen,
                     acked->present ? "present" : "absent", (unsigned long long)acked->seed,
                     fly ? (fly->type == OP_PUT ? "a put" : "a delete") : "none");
        if (is_new && !is_old) {
            shows_new[thread] = 1;
            *acked = nw; /* the in-flight op made it: the next round's model */
        }
        if (fly && is_old && !is_new) shows_old[thread] = 1;
        present += (uint32_t)is_present;
    }
    for (int t = 0; t < cr->nthreads; t++) {
        if (shows_new[t] && shows_old[t])
            fail_msg("iteration %d: an in-flight transaction of %d operations was half applied",
                     iter, cr->pending[t].n);
        if (cr->pending[t].n) {
            if (shows_new[t]) cr->inflight_applied++;
            else cr->inflight_lost++;
        }
        cr->pending[t].n = 0;
    }
    /* Nothing but model keys, and exactly as many as the gets found. */
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    uint32_t scanned = 0;
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it)) {
        const void *k;
        size_t kl;
        assert_int_equal(ldb_iter_key(it, &k, &kl), LDB_OK);
        char buf[40] = {0};
        assert_true(kl < sizeof buf);
        memcpy(buf, k, kl);
        unsigned id = (unsigned)strtoul(buf + 1, NULL, 10);
        char expect[32];
        assert_true(id < NKEYS);
        assert_int_equal(make_key(id, expect), kl);
        assert_memory_equal(expect, k, kl);
        assert_true(cr->model[id].present);
        scanned++;
    }
    assert_int_equal(ldb_iter_status(it), LDB_OK);
    ldb_iter_close(it);
    assert_int_equal(scanned, present);
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    assert_int_equal(st.keys, present);
    if (st.recovery_checkpoint_seq) cr->ckpt_opens++;
    assert_int_equal(ldb_close(db), LDB_OK);
    free(got);
    free(want);
}

/* Background maintenance during the run: the segment cleaner (relocating
 * records and deleting files) and checkpoints every ckpt_bytes of log (0:
 * none). Both are more places for a crash to land. */
typedef struct crash_cfg {
    ldb_sync_mode mode;
    int nthreads, iters;
    uint64_t seed;
    uint32_t min_us, max_us; /* kill delay range */
    int cleaner;
    uint64_t ckpt_bytes;
} crash_cfg;

static void crash_loop(const crash_cfg *cfg)
{
    tu_rng r = {tu_seed(cfg->seed)};
    crash_run *cr = calloc(1, sizeof *cr);
    char *dir = tu_tmpdir("crash");
    assert_non_null(dir);
    cr->dir = dir;
    ldb_sync_mode mode = cfg->mode;
    int nthreads = cfg->nthreads, iters = cfg->iters;
    uint32_t min_us = cfg->min_us, max_us = cfg->max_us;
    ldb_options_init(&cr->opts);
    cr->opts.sync_mode = mode;
    cr->opts.segment_size = 256u << 10; /* frequent rotations: more crash windows */
    cr->opts.cleaner = cfg->cleaner;
    cr->opts.checkpoint_bytes = cfg->ckpt_bytes;
    cr->nthreads = nthreads;
    uint64_t t_start = now_ns(), acked_total = 0;
    for (int iter = 0; iter < iters; iter++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        (void)fcntl(fds[0], F_SETPIPE_SZ, 1 << 20); /* fewer stalls of the child */
        uint64_t child_seed = tu_rand(&r) >> 8;
        uint64_t delay = (uint64_t)(min_us + tu_rand_below(&r, max_us - min_us + 1)) * 1000u;
        /* Mostly count the delay from a completed open, so the kill lands
         * among writes; every fourth round from the fork, so it can land in
         * recovery too. */
        int from_open = iter % 4 != 3;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            /* Never outlive a parent that stopped early (a failed assert). */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(fds[0]);
            child_main(dir, &cr->opts, nthreads, child_seed, fds[1]);
        }
        close(fds[1]);
        cr->opened = 0;
        cr->failed = 0;
        cr->rlen = 0;
        uint64_t t0 = now_ns(), deadline = from_open ? 0 : t0 + delay;
        int eof = 0, stuck = 0;
        for (;;) {
            uint64_t now = now_ns();
            if (!deadline && cr->opened) deadline = now + delay;
            if (deadline && now >= deadline) break;
            if (cr->failed) break;
            if (now - t0 > 20ull * 1000000000ull) { /* kill it before failing */
                stuck = 1;
                break;
            }
            int64_t wait = deadline ? (int64_t)(deadline - now) : 1000000;
            if (!pump(cr, fds[0], wait)) {
                eof = 1;
                break;
            }
        }
        kill(pid, SIGKILL);
        while (!eof && pump(cr, fds[0], -1)) {
        }
        close(fds[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (stuck) fail_msg("iteration %d: the child never opened the database", iter);
        if (cr->failed)
            fail_msg("iteration %d: the child got %s from a write", iter, ldb_strerror(cr->failed_rc));
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("iteration %d: the child died on its own (status 0x%x)", iter, status);
        if (cr->rlen) fail_msg("iteration %d: a torn message in the pipe", iter);
        acked_total += cr->acked;
        cr->acked = 0;
        verify_after_crash(cr, iter);
    }
    fprintf(stderr,
            "# %s, %d writer(s), cleaner %s, checkpoints %s: %d crashes, %llu acknowledged "
            "operations, in-flight ops found applied %llu / absent %llu, %.1f s\n",
            mode == LDB_SYNC_FULL ? "FULL" : mode == LDB_SYNC_NONE ? "NONE" : "NORMAL", nthreads,
            cfg->cleaner ? "on" : "off", cfg->ckpt_bytes ? "often" : "off", iters,
            (unsigned long long)acked_total, (unsigned long long)cr->inflight_applied,
            (unsigned long long)cr->inflight_lost, (double)(now_ns() - t_start) / 1e9);
    char *segs[1024];
    size_t nsegs = tu_segments(dir, segs, 1024);
    fprintf(stderr, "#   %llu reopens started from a checkpoint; %zu segments left, the oldest %s\n",
            (unsigned long long)cr->ckpt_opens, nsegs, nsegs ? strrchr(segs[0], '/') + 1 : "-");
    for (size_t i = 0; i < nsegs && i < 1024; i++) free(segs[i]);
    /* The test must have exercised something: acknowledged writes survived
     * crashes (a run where the child never got going proves nothing), and
     * with frequent checkpoints, opens started from them. */
    assert_true(acked_total > 0);
    if (cfg->ckpt_bytes) assert_true(cr->ckpt_opens > 0);
    tu_rmdir(dir);
    free(dir);
    free(cr);
}

/* The defaults (cleaner on), one writer. */
static void test_crash_full(void **state)
{
    (void)state;
    crash_cfg c = {LDB_SYNC_FULL, 1, 80, 101, 1000, 50000, 1, 0};
    crash_loop(&c);
}

static void test_crash_full_threads(void **state)
{
    (void)state;
    crash_cfg c = {LDB_SYNC_FULL, 4, 40, 202, 1000, 50000, 1, 0};
    crash_loop(&c);
}

/* The log alone: no cleaner, no checkpoints. */
static void test_crash_full_log_only(void **state)
{
    (void)state;
    crash_cfg c = {LDB_SYNC_FULL, 1, 40, 505, 1000, 50000, 0, 0};
    crash_loop(&c);
}

/* Checkpoints every 128 KiB of log, so kills land while one is written and
 * opens start from one (cleaner off, to test them on their own). */
static void test_crash_full_checkpoints(void **state)
{
    (void)state;
    crash_cfg c = {LDB_SYNC_FULL, 2, 40, 606, 1000, 50000, 0, 128u << 10};
    crash_loop(&c);
}

/* NONE writes fast: shorter runs keep the log (replayed at each open) from
 * growing large. */
static void test_crash_none(void **state)
{
    (void)state;
    crash_cfg c = {LDB_SYNC_NONE, 1, 40, 303, 1000, 15000, 1, 0};
    crash_loop(&c);
}

static void test_crash_none_threads(void **state)
{
    (void)state;
    crash_cfg c = {LDB_SYNC_NONE, 4, 25, 404, 1000, 15000, 1, 0};
    crash_loop(&c);
}

/* The deterministic form of a failure the kill loops above found: the
 * cleaner copies an old version that a snapshot still pins (in FULL mode,
 * the not-yet-synced delete keeps it pinned for a moment) to the head of
 * the log, after the key's tombstone. Recovery must still end with the key
 * deleted: the copy carries its original, older sequence number. With
 * n_after = 10 the copy lands in a frame after the tombstone; with 70 both
 * are relocated, tombstone first. */
static void test_recovery_keeps_deletes_after_cleaning(void **state)
{
    (void)state;
    const int n_after[2] = {10, 70};
    for (int c = 0; c < 2; c++) {
        char *dir = tu_tmpdir("crash-clean");
        assert_non_null(dir);
        ldb_options o;
        ldb_options_init(&o);
        o.sync_mode = LDB_SYNC_NONE;
        o.segment_size = 64u << 10;
        o.cleaner = 0; /* only ldb_compact cleans, at a known moment */
        o.checkpoint_bytes = 0;
        o.checkpoint_on_close = 0;
        ldb *db;
        assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
        static uint8_t v[1000];
        memset(v, 'x', sizeof v);
        char k[16];
        assert_int_equal(ldb_put(db, "victim", 6, "old", 3), LDB_OK);
        /* Fill the first segment with data that then dies, so cleaning it
         * moves little but the victim. */
        for (int round = 0; round < 2; round++)
            for (int i = 0; i < 60; i++) {
                snprintf(k, sizeof k, "d%02d", i);
                assert_int_equal(ldb_put(db, k, 3, v, sizeof v), LDB_OK);
            }
        for (int i = 0; i < n_after[c]; i++) {
            snprintf(k, sizeof k, "e%02d", i);
            assert_int_equal(ldb_put(db, k, 3, v, sizeof v), LDB_OK);
        }
        ldb_iter *it;
        assert_int_equal(ldb_iter_open(db, &it), LDB_OK); /* pins "old" */
        assert_int_equal(ldb_delete(db, "victim", 6), LDB_OK);
        assert_int_equal(ldb_compact(db), LDB_OK);
        ldb_iter_close(it);
        size_t vl;
        assert_int_equal(ldb_get(db, "victim", 6, k, sizeof k, &vl), LDB_NOTFOUND);
        assert_int_equal(ldb_close(db), LDB_OK);
        assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
        int rc = ldb_get(db, "victim", 6, k, sizeof k, &vl);
        if (rc != LDB_NOTFOUND)
            fail_msg("case %d: a deleted key is back after reopen (%s, %zu bytes)", c,
                     ldb_strerror(rc), vl);
        assert_int_equal(ldb_close(db), LDB_OK);
        tu_rmdir(dir);
        free(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovery_keeps_deletes_after_cleaning),
        cmocka_unit_test(test_crash_full),
        cmocka_unit_test(test_crash_full_threads),
        cmocka_unit_test(test_crash_full_log_only),
        cmocka_unit_test(test_crash_full_checkpoints),
        cmocka_unit_test(test_crash_none),
        cmocka_unit_test(test_crash_none_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
