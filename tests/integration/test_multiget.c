/*
 * test_multiget.c — ldb_multi_get and the lookup accelerator: a batch
 * agrees with single gets on the same snapshot (also while writers commit,
 * and with the transaction's own writes), the accelerator and the ordered
 * index hold exactly the same keys after random operations, reopen and
 * cleaning, and gets agree with and without the accelerator.
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

#define KEYS 5000

static size_t key_of(uint64_t i, char *k) { return (size_t)snprintf(k, 32, "mg%07llu", (unsigned long long)i); }

static void open_db(const char *dir, int hash, ldb **db)
{
    ldb_options o;
    tu_fast_options(&o);
    o.segment_size = 256 << 10;
    o.hash_accelerator = hash;
    *db = tu_open(dir, &o);
}

/* One batch of n random keys (some absent) against single txn gets. */
static void check_batch(ldb_txn *t, tu_rng *r, size_t n)
{
    char kb[64][32];
    const void *keys[64] = {0};
    size_t klens[64] = {0}, vlens[64];
    const void *vals[64];
    int rcs[64];
    for (size_t i = 0; i < n; i++) {
        klens[i] = key_of(tu_rand_below(r, KEYS + KEYS / 4), kb[i]); /* 20% absent */
        keys[i] = kb[i];
    }
    assert_int_equal(ldb_multi_get(t, n, keys, klens, vals, vlens, rcs), LDB_OK);
    for (size_t i = 0; i < n; i++) {
        const void *v;
        size_t vl;
        int rc = ldb_txn_get(t, keys[i], klens[i], &v, &vl);
        assert_int_equal(rcs[i], rc);
        if (rc == LDB_OK) {
            assert_int_equal(vlens[i], vl);
            assert_memory_equal(vals[i], v, vl);
        }
    }
}

static void test_multiget_matches_get(void **state)
{
    const char *dir = *state;
    ldb *db;
    open_db(dir, 1, &db);
    tu_rng r = {tu_seed(5)};
    for (uint64_t i = 0; i < KEYS; i++) {
        char k[32], v[64];
        size_t kl = key_of(i, k);
        int vl = snprintf(v, sizeof v, "value-%llu", (unsigned long long)i);
        assert_int_equal(ldb_put(db, k, kl, v, (size_t)vl), LDB_OK);
    }
    for (int round = 0; round < 200; round++) {
        ldb_txn *t;
        unsigned flags = round % 3 == 0 ? LDB_TXN_READONLY : 0;
        assert_int_equal(ldb_txn_begin(db, flags, &t), LDB_OK);
        if (!flags) { /* own writes and deletes must show through */
            for (int j = 0; j < 8; j++) {
                char k[32];
                size_t kl = key_of(tu_rand_below(&r, KEYS), k);
                if (j % 3 == 0) ldb_txn_delete(t, k, kl);
                else ldb_txn_put(t, k, kl, "mine", 4);
            }
        }
        /* Someone commits between the batch and the singles: both must
         * still read the transaction's snapshot. */
        check_batch(t, &r, 1 + tu_rand_below(&r, 64));
        char k[32];
        size_t kl = key_of(tu_rand_below(&r, KEYS), k);
        assert_int_equal(ldb_put(db, k, kl, "later", 5), LDB_OK);
        check_batch(t, &r, 16);
        ldb_txn_abort(t);
    }
    /* Bad arguments. */
    ldb_txn *t;
    assert_int_equal(ldb_txn_begin(db, 0, &t), LDB_OK);
    const void *keys[1] = {"x"};
    size_t klens[1] = {0}, vlens[1];
    const void *vals[1];
    int rcs[1];
    assert_int_equal(ldb_multi_get(t, 1, keys, klens, vals, vlens, rcs), LDB_INVALID);
    assert_int_equal(ldb_multi_get(t, 1, NULL, klens, vals, vlens, rcs), LDB_INVALID);
    assert_int_equal(ldb_multi_get(NULL, 1, keys, klens, vals, vlens, rcs), LDB_INVALID);
    assert_int_equal(ldb_multi_get(t, 0, NULL, NULL, NULL, NULL, NULL), LDB_OK);
    ldb_txn_abort(t);
    assert_int_equal(ldb_close(db), LDB_OK);
}

typedef struct conc {
    ldb *db;
    atomic_int stop;
    atomic_long batches, bad;
} conc;

static void *committer(void *arg)
{
    conc *c = arg;
    tu_rng r = {77};
    while (!atomic_load(&c->stop)) {
        /* Pairs (2i, 2i+1) always hold the same version. */
        uint64_t p = tu_rand_below(&r, KEYS / 2), ver = tu_rand(&r);
        ldb_batch *b;
        ldb_batch_create(&b);
        char k[32];
        size_t kl = key_of(2 * p, k);
        ldb_batch_put(b, k, kl, &ver, 8);
        kl = key_of(2 * p + 1, k);
        ldb_batch_put(b, k, kl, &ver, 8);
        if (ldb_write(c->db, b) != LDB_OK) atomic_fetch_add(&c->bad, 1);
        ldb_batch_free(b);
    }
    return NULL;
}

static void *batcher(void *arg)
{
    conc *c = arg;
    tu_rng r = {(uint64_t)pthread_self()};
    while (!atomic_load(&c->stop)) {
        ldb_txn *t;
        if (ldb_txn_begin(c->db, LDB_TXN_READONLY, &t) != LDB_OK) {
            atomic_fetch_add(&c->bad, 1);
            return NULL;
        }
        char kb[32][32];
        const void *keys[32], *vals[32];
        size_t klens[32], vlens[32];
        int rcs[32];
        for (int i = 0; i < 16; i++) {
            uint64_t p = tu_rand_below(&r, KEYS / 2);
            klens[2 * i] = key_of(2 * p, kb[2 * i]);
            klens[2 * i + 1] = key_of(2 * p + 1, kb[2 * i + 1]);
            keys[2 * i] = kb[2 * i];
            keys[2 * i + 1] = kb[2 * i + 1];
        }
        if (ldb_multi_get(t, 32, keys, klens, vals, vlens, rcs) != LDB_OK) atomic_fetch_add(&c->bad, 1);
        for (int i = 0; i < 16; i++) {
            if (rcs[2 * i] != rcs[2 * i + 1]) atomic_fetch_add(&c->bad, 1);
            else if (rcs[2 * i] == LDB_OK &&
                     (vlens[2 * i] != 8 || memcmp(vals[2 * i], vals[2 * i + 1], 8) != 0))
                atomic_fetch_add(&c->bad, 1);
        }
        ldb_txn_abort(t);
        atomic_fetch_add(&c->batches, 1);
    }
    return NULL;
}

static void test_multiget_under_commits(void **state)
{
    const char *dir = *state;
    conc c;
    memset(&c, 0, sizeof c);
    open_db(dir, 1, &c.db);
    pthread_t w, rd[2];
    pthread_create(&w, NULL, committer, &c);
    for (int i = 0; i < 2; i++) pthread_create(&rd[i], NULL, batcher, &c);
    struct timespec ts = {1, 500000000L};
    nanosleep(&ts, NULL);
    atomic_store(&c.stop, 1);
    pthread_join(w, NULL);
    for (int i = 0; i < 2; i++) pthread_join(rd[i], NULL);
    fprintf(stderr, "# %ld batches of 32\n", atomic_load(&c.batches));
    assert_int_equal(atomic_load(&c.bad), 0);
    assert_true(atomic_load(&c.batches) > 10);
    assert_int_equal(recovery_check_indexes(c.db), LDB_OK);
    assert_int_equal(ldb_close(c.db), LDB_OK);
}

/* Random puts/deletes/txns with and without the accelerator give the same
 * answers; the two indexes agree after operations, reopen and cleaning. */
static void test_indexes_agree(void **state)
{
    const char *dir = *state;
    tu_rng r = {tu_seed(9)};
    ldb *db;
    for (int phase = 0; phase < 4; phase++) {
        open_db(dir, phase != 2, &db); /* phase 2 runs without it */
        assert_int_equal(recovery_check_indexes(db), LDB_OK);
        for (int i = 0; i < 20000; i++) {
            char k[32];
            size_t kl = key_of(tu_rand_below(&r, KEYS), k);
            uint64_t op = tu_rand_below(&r, 10);
            if (op < 5) assert_int_equal(ldb_put(db, k, kl, k, kl), LDB_OK);
            else if (op < 9) assert_int_equal(ldb_delete(db, k, kl), LDB_OK);
            else {
                ldb_txn *t;
                ldb_txn_begin(db, 0, &t);
                ldb_txn_put(t, k, kl, "t", 1);
                kl = key_of(tu_rand_below(&r, KEYS), k);
                ldb_txn_delete(t, k, kl);
                assert_int_equal(ldb_txn_commit(t), LDB_OK);
            }
        }
        assert_int_equal(recovery_check_indexes(db), LDB_OK);
        if (phase == 1) assert_int_equal(ldb_compact(db), LDB_OK);
        assert_int_equal(recovery_check_indexes(db), LDB_OK);
        /* Every key answers the same through get (accelerator or tree) and
         * through an ordered scan (tree). */
        ldb_iter *it;
        assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
        ldb_iter_first(it);
        for (uint64_t i = 0; i < KEYS; i++) {
            char k[32], buf[64];
            size_t kl = key_of(i, k), vl;
            int rc = ldb_get(db, k, kl, buf, sizeof buf, &vl);
            const void *ik = NULL;
            size_t ikl = 0;
            if (ldb_iter_valid(it)) ldb_iter_key(it, &ik, &ikl);
            int in_scan = ik && ikl == kl && memcmp(ik, k, kl) == 0;
            assert_int_equal(rc == LDB_OK, in_scan);
            if (in_scan) ldb_iter_next(it);
        }
        assert_false(ldb_iter_valid(it));
        ldb_iter_close(it);
        ldb_stats st;
        ldb_get_stats(db, &st);
        if (phase != 2) assert_true(st.hash_bytes > 0);
        else assert_int_equal(st.hash_bytes, 0);
        assert_int_equal(ldb_close(db), LDB_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_multiget_matches_get, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_multiget_under_commits, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_indexes_agree, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
