/*
 * test_concurrency.c — lock-free readers against a busy writer.
 *
 * Writers insert, overwrite and delete keys (forcing node splits, emptied
 * leaves and version pruning) while readers do point gets, snapshot pair
 * reads and ordered scans. Every value names its own key and a version, so
 * a reader can tell a torn or misdirected read from a good one; pairs
 * written in one transaction must be seen at the same version; scans must
 * be strictly increasing. A last test grows the hash accelerator under
 * readers (see test_hash_growth_under_readers). Run under ThreadSanitizer
 * by `make test-tsan`.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine/db.h"
#include "engine/recovery.h"
#include "lightningdb.h"
#include "testutil.h"

#define KEYS 20000
#define PAIRS 200

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define RUN_MS 1500
#else
#define RUN_MS 2500
#endif

typedef struct shared {
    ldb *db;
    atomic_int stop;
    atomic_long reads, found, scans, pair_checks, bad;
    char why[256];
    pthread_mutex_t mu;
} shared;

static void record_failure(shared *s, const char *msg)
{
    pthread_mutex_lock(&s->mu);
    if (!s->why[0]) snprintf(s->why, sizeof s->why, "%s", msg);
    pthread_mutex_unlock(&s->mu);
    atomic_fetch_add(&s->bad, 1);
}

static size_t make_key(uint64_t i, char *k)
{
    /* Varying lengths and a shared prefix stress the prefix cache. */
    return (size_t)snprintf(k, 32, "key/%05llu%.*s", (unsigned long long)i, (int)(i % 7), "xxxxxxx");
}

/* Value: "<key>|<version>|" then padding whose bytes depend on both. */
static size_t make_value(const char *k, size_t kl, uint64_t ver, uint8_t *v)
{
    size_t n = (size_t)snprintf((char *)v, 64, "%.*s|%llu|", (int)kl, k, (unsigned long long)ver);
    size_t pad = 16 + (ver * 37 + kl) % 600;
    for (size_t i = 0; i < pad; i++) v[n + i] = (uint8_t)(ver + i);
    return n + pad;
}

/* Returns the version, or -1 when the value is not a well-formed value of k. */
static long long check_value(const char *k, size_t kl, const uint8_t *v, size_t vl)
{
    if (vl < kl + 3 || memcmp(v, k, kl) != 0 || v[kl] != '|') return -1;
    char *end;
    unsigned long long ver = strtoull((const char *)v + kl + 1, &end, 10);
    if (*end != '|') return -1;
    size_t n = (size_t)(end - (const char *)v) + 1;
    size_t pad = 16 + (ver * 37 + kl) % 600;
    if (vl != n + pad) return -1;
    for (size_t i = 0; i < pad; i++)
        if (v[n + i] != (uint8_t)(ver + i)) return -1;
    return (long long)ver;
}

typedef struct wctx {
    shared *s;
    uint64_t seed;
} wctx;

static void *writer(void *arg)
{
    wctx *w = arg;
    shared *s = w->s;
    tu_rng r = {w->seed};
    uint8_t v[1024];
    char k[32], k2[32];
    uint64_t ver = 1;
    while (!atomic_load(&s->stop)) {
        uint64_t op = tu_rand_below(&r, 100), i = tu_rand_below(&r, KEYS);
        size_t kl = make_key(i, k);
        if (op < 60) {
            size_t vl = make_value(k, kl, ver++, v);
            if (ldb_put(s->db, k, kl, v, vl) != LDB_OK) record_failure(s, "put failed");
        } else if (op < 85) {
            if (ldb_delete(s->db, k, kl) != LDB_OK) record_failure(s, "delete failed");
        } else {
            /* A pair written together, at one version. */
            uint64_t p = tu_rand_below(&r, PAIRS);
            size_t l1 = (size_t)snprintf(k, sizeof k, "pair/%03llu/a", (unsigned long long)p);
            size_t l2 = (size_t)snprintf(k2, sizeof k2, "pair/%03llu/b", (unsigned long long)p);
            ldb_txn *t;
            if (ldb_txn_begin(s->db, 0, &t) != LDB_OK) {
                record_failure(s, "begin failed");
                continue;
            }
            uint64_t pv = ver++;
            size_t vl = make_value(k, l1, pv, v);
            ldb_txn_put(t, k, l1, v, vl);
            vl = make_value(k2, l2, pv, v);
            ldb_txn_put(t, k2, l2, v, vl);
            int rc = ldb_txn_commit(t);
            if (rc != LDB_OK && rc != LDB_CONFLICT) record_failure(s, "pair commit failed");
        }
    }
    return NULL;
}

static void *reader(void *arg)
{
    shared *s = arg;
    tu_rng r = {(uint64_t)pthread_self()};
    uint8_t buf[1024];
    char k[32];
    while (!atomic_load(&s->stop)) {
        uint64_t op = tu_rand_below(&r, 100);
        if (op < 80) {
            size_t kl = make_key(tu_rand_below(&r, KEYS), k), vl;
            int rc = ldb_get(s->db, k, kl, buf, sizeof buf, &vl);
            atomic_fetch_add(&s->reads, 1);
            if (rc == LDB_OK) {
                atomic_fetch_add(&s->found, 1);
                if (check_value(k, kl, buf, vl) < 0) record_failure(s, "get returned a malformed value");
            } else if (rc != LDB_NOTFOUND) {
                record_failure(s, "get failed");
            }
        } else if (op < 90) {
            uint64_t p = tu_rand_below(&r, PAIRS);
            char k2[32];
            size_t l1 = (size_t)snprintf(k, sizeof k, "pair/%03llu/a", (unsigned long long)p);
            size_t l2 = (size_t)snprintf(k2, sizeof k2, "pair/%03llu/b", (unsigned long long)p);
            ldb_txn *t;
            if (ldb_txn_begin(s->db, LDB_TXN_READONLY, &t) != LDB_OK) {
                record_failure(s, "ro begin failed");
                continue;
            }
            const void *v1, *v2;
            size_t n1, n2;
            int r1 = ldb_txn_get(t, k, l1, &v1, &n1), r2 = ldb_txn_get(t, k2, l2, &v2, &n2);
            if (r1 != r2) record_failure(s, "half of a pair visible");
            else if (r1 == LDB_OK &&
                     check_value(k, l1, v1, n1) != check_value(k2, l2, v2, n2))
                record_failure(s, "pair seen at two versions");
            else if (r1 == LDB_OK && check_value(k, l1, v1, n1) < 0)
                record_failure(s, "malformed pair value");
            atomic_fetch_add(&s->pair_checks, 1);
            ldb_txn_abort(t);
        } else {
            ldb_iter *it;
            if (ldb_iter_open(s->db, &it) != LDB_OK) {
                record_failure(s, "iter open failed");
                continue;
            }
            size_t kl = make_key(tu_rand_below(&r, KEYS), k);
            char prev[64];
            size_t pl = 0;
            int n = 0, dir = tu_rand_below(&r, 2) ? 1 : -1;
            ldb_iter_seek(it, k, kl);
            for (; ldb_iter_valid(it) && n < 300; n++) {
                const void *ik, *iv;
                size_t ikl, ivl;
                ldb_iter_key(it, &ik, &ikl);
                if (ldb_iter_value(it, &iv, &ivl) != LDB_OK) {
                    record_failure(s, "iter value failed");
                    break;
                }
                if (check_value(ik, ikl, iv, ivl) < 0) record_failure(s, "iter value malformed");
                if (pl) {
                    size_t m = pl < ikl ? pl : ikl;
                    int c = memcmp(prev, ik, m);
                    if (!c) c = (pl > ikl) - (pl < ikl);
                    if (c * dir >= 0) record_failure(s, "scan out of order or repeated");
                }
                if (ikl < sizeof prev) {
                    memcpy(prev, ik, ikl);
                    pl = ikl;
                }
                if (dir > 0) ldb_iter_next(it);
                else ldb_iter_prev(it);
            }
            if (ldb_iter_status(it) != LDB_OK) record_failure(s, "iter status");
            ldb_iter_close(it);
            atomic_fetch_add(&s->scans, 1);
        }
    }
    return NULL;
}

static void run(ldb_sync_mode mode, int writers, int readers)
{
    char *dir = tu_tmpdir("conc");
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = mode;
    o.segment_size = 4 << 20;
    shared s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    assert_int_equal(ldb_open(dir, &o, &s.db), LDB_OK);
    uint64_t seed = tu_seed(99);
    pthread_t w[4], rd[8];
    wctx wc[4];
    for (int i = 0; i < writers; i++) {
        wc[i].s = &s;
        wc[i].seed = seed + (uint64_t)i;
        pthread_create(&w[i], NULL, writer, &wc[i]);
    }
    for (int i = 0; i < readers; i++) pthread_create(&rd[i], NULL, reader, &s);
    struct timespec ts = {RUN_MS / 1000, (RUN_MS % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(&s.stop, 1);
    for (int i = 0; i < writers; i++) pthread_join(w[i], NULL);
    for (int i = 0; i < readers; i++) pthread_join(rd[i], NULL);
    fprintf(stderr, "# %ld reads (%ld found), %ld pair checks, %ld scans%s%s\n",
            atomic_load(&s.reads), atomic_load(&s.found), atomic_load(&s.pair_checks),
            atomic_load(&s.scans), s.why[0] ? "; first failure: " : "", s.why);
    assert_int_equal(atomic_load(&s.bad), 0);
    assert_true(atomic_load(&s.found) > 100);
    assert_true(atomic_load(&s.scans) > 10);
    assert_int_equal(ldb_close(s.db), LDB_OK);
    /* Everything still reads back well-formed after a reopen. */
    assert_int_equal(ldb_open(dir, &o, &s.db), LDB_OK);
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(s.db, &it), LDB_OK);
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it)) {
        const void *ik, *iv;
        size_t ikl, ivl;
        ldb_iter_key(it, &ik, &ikl);
        assert_int_equal(ldb_iter_value(it, &iv, &ivl), LDB_OK);
        assert_true(check_value(ik, ikl, iv, ivl) >= 0);
    }
    ldb_iter_close(it);
    assert_int_equal(ldb_close(s.db), LDB_OK);
    pthread_mutex_destroy(&s.mu);
    tu_rmdir(dir);
    free(dir);
}

/* ---- the hash accelerator growing under readers ------------------------
 * One writer inserts keys 0, 1, 2... in order (the accelerator grows by
 * moving a few slots per commit while readers probe its new and old
 * tables) and deletes every fifth key 1000 keys behind, publishing how far
 * it got after each step. Readers check what must hold at any instant: a
 * key whose put returned, and which is not one of the deleted ones, is
 * found with its value (by ldb_get and ldb_multi_get); a deleted key whose
 * delete returned is not found. A growth that lost a key for a moment, or
 * resurrected one, fails here. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define GROW_KEYS 60000
#else
#define GROW_KEYS 300000
#endif

typedef struct grow_shared {
    ldb *db;
    atomic_long committed;      /* keys [0, committed) were put */
    atomic_long deleted_through; /* deletable keys <= this were deleted (-1: none) */
    atomic_int stop;
    atomic_long checks, bad;
    char why[160];
    pthread_mutex_t mu;
} grow_shared;

static size_t grow_key(long i, char *k) { return (size_t)snprintf(k, 32, "g%09ld", i); }
static int grow_deletable(long i) { return i % 5 == 0; }

static void grow_fail(grow_shared *g, const char *what, long i)
{
    pthread_mutex_lock(&g->mu);
    if (!g->why[0]) snprintf(g->why, sizeof g->why, "%s (key %ld)", what, i);
    pthread_mutex_unlock(&g->mu);
    atomic_fetch_add(&g->bad, 1);
}

static void *grow_reader(void *arg)
{
    grow_shared *g = arg;
    tu_rng r = {(uint64_t)pthread_self()};
    char k[32], mk[8][32];
    uint8_t buf[64];
    while (!atomic_load(&g->stop)) {
        long d = atomic_load(&g->deleted_through), c = atomic_load(&g->committed);
        if (c == 0) continue;
        long i = (long)tu_rand_below(&r, (uint64_t)c);
        size_t kl = grow_key(i, k), vl;
        int rc = ldb_get(g->db, k, kl, buf, sizeof buf, &vl);
        if (!grow_deletable(i)) {
            if (rc != LDB_OK) grow_fail(g, "a committed key was not found", i);
            else if (vl != kl || memcmp(buf, k, kl)) grow_fail(g, "wrong value", i);
        } else if (i <= d && rc != LDB_NOTFOUND) {
            grow_fail(g, "a deleted key was found", i);
        }
        /* The same through multi-get: eight keys from one snapshot. */
        ldb_txn *t;
        if (ldb_txn_begin(g->db, LDB_TXN_READONLY, &t) != LDB_OK) {
            grow_fail(g, "begin failed", i);
            continue;
        }
        const void *keys[8], *vals[8];
        size_t klens[8], vlens[8];
        int rcs[8];
        long ids[8];
        for (int j = 0; j < 8; j++) {
            ids[j] = (long)tu_rand_below(&r, (uint64_t)c);
            klens[j] = grow_key(ids[j], mk[j]);
            keys[j] = mk[j];
        }
        if (ldb_multi_get(t, 8, keys, klens, vals, vlens, rcs) != LDB_OK) grow_fail(g, "multi_get", i);
        for (int j = 0; j < 8; j++)
            if (!grow_deletable(ids[j]) && (rcs[j] != LDB_OK || vlens[j] != klens[j] ||
                                            memcmp(vals[j], keys[j], klens[j])))
                grow_fail(g, "multi_get missed a committed key", ids[j]);
            else if (grow_deletable(ids[j]) && ids[j] <= d && rcs[j] != LDB_NOTFOUND)
                grow_fail(g, "multi_get found a deleted key", ids[j]);
        ldb_txn_abort(t);
        atomic_fetch_add(&g->checks, 9);
    }
    return NULL;
}

static void test_hash_growth_under_readers(void **st)
{
    (void)st;
    char *dir = tu_tmpdir("grow");
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NONE;
    grow_shared g;
    memset(&g, 0, sizeof g);
    atomic_store(&g.deleted_through, -1);
    pthread_mutex_init(&g.mu, NULL);
    assert_int_equal(ldb_open(dir, &o, &g.db), LDB_OK);
    pthread_t rd[2];
    for (int i = 0; i < 2; i++) pthread_create(&rd[i], NULL, grow_reader, &g);
    char k[32];
    for (long i = 0; i < GROW_KEYS && !atomic_load(&g.bad); i++) {
        size_t kl = grow_key(i, k);
        assert_int_equal(ldb_put(g.db, k, kl, k, kl), LDB_OK);
        atomic_store(&g.committed, i + 1);
        long old = i - 1000;
        if (old >= 0 && grow_deletable(old)) {
            kl = grow_key(old, k);
            assert_int_equal(ldb_delete(g.db, k, kl), LDB_OK);
            atomic_store(&g.deleted_through, old);
        }
    }
    atomic_store(&g.stop, 1);
    for (int i = 0; i < 2; i++) pthread_join(rd[i], NULL);
    fprintf(stderr, "# %ld checks%s%s\n", atomic_load(&g.checks), g.why[0] ? "; first failure: " : "",
            g.why);
    assert_int_equal(atomic_load(&g.bad), 0);
    assert_true(atomic_load(&g.checks) > 1000);
    assert_int_equal(recovery_check_indexes(g.db), LDB_OK); /* hash and tree agree */
    assert_int_equal(ldb_close(g.db), LDB_OK);
    pthread_mutex_destroy(&g.mu);
    tu_rmdir(dir);
    free(dir);
}

static void test_one_writer_many_readers(void **st) { (void)st; run(LDB_SYNC_NONE, 1, 3); }
static void test_many_writers(void **st) { (void)st; run(LDB_SYNC_NONE, 3, 2); }
static void test_full_mode_group_commit(void **st) { (void)st; run(LDB_SYNC_FULL, 4, 2); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_writer_many_readers),
        cmocka_unit_test(test_hash_growth_under_readers),
        cmocka_unit_test(test_many_writers),
        cmocka_unit_test(test_full_mode_group_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
