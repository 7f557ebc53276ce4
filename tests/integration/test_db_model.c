/*
 * test_db_model.c — random operations against an in-memory model, with
 * close/reopen cycles, comparing every key and full ordered scans (both
 * directions, and seeks) after each cycle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lightningdb.h"
#include "testutil.h"

#define KEYSPACE 1500
#define MAXV 40000

typedef struct mkey {
    uint8_t k[24];
    size_t kl;
    uint8_t *v;   /* NULL = absent */
    size_t vl;
} mkey;

typedef struct model {
    mkey keys[KEYSPACE]; /* index i has a fixed key; sorted view built on demand */
} model;

static void make_key(int i, uint8_t *k, size_t *kl)
{
    /* Mixed lengths and shared prefixes exercise the index's prefix cache. */
    int len = 1 + (i * 7919) % 20;
    for (int j = 0; j < len; j++) k[j] = (uint8_t)((i * 31 + j * 17) % 7 == 0 ? 0 : 'a' + (i >> (j % 8)) % 26);
    k[0] = (uint8_t)(i % 3 == 0 ? 'p' : 'a' + (i % 5));
    *kl = (size_t)len;
}

static void model_init(model *m)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < KEYSPACE; i++) make_key(i, m->keys[i].k, &m->keys[i].kl);
    /* Distinct keys: resolve accidental duplicates by appending the index. */
    for (int i = 0; i < KEYSPACE; i++)
        for (int j = 0; j < i; j++)
            if (m->keys[i].kl == m->keys[j].kl && !memcmp(m->keys[i].k, m->keys[j].k, m->keys[i].kl)) {
                m->keys[i].k[m->keys[i].kl++] = (uint8_t)(i & 0xff);
                m->keys[i].k[m->keys[i].kl++] = (uint8_t)(i >> 8);
                j = -1;
            }
}

static void model_set(mkey *k, const uint8_t *v, size_t vl)
{
    free(k->v);
    k->v = malloc(vl ? vl : 1);
    memcpy(k->v, v, vl);
    k->vl = vl;
}

static void model_del(mkey *k)
{
    free(k->v);
    k->v = NULL;
    k->vl = 0;
}

static void fill_value(tu_rng *r, uint8_t *v, size_t *vl)
{
    uint64_t x = tu_rand(r);
    size_t len = (x % 10 == 0) ? (size_t)(tu_rand_below(r, MAXV)) : (size_t)tu_rand_below(r, 300);
    for (size_t i = 0; i < len; i++) v[i] = (uint8_t)(x >> (i % 56)) ^ (uint8_t)i;
    *vl = len;
}

static const model *cmp_model;
static int cmp_idx(const void *a, const void *b)
{
    const mkey *x = &cmp_model->keys[*(const int *)a], *y = &cmp_model->keys[*(const int *)b];
    size_t n = x->kl < y->kl ? x->kl : y->kl;
    int c = memcmp(x->k, y->k, n);
    if (c) return c;
    return (x->kl > y->kl) - (x->kl < y->kl);
}

static void verify(ldb *db, model *m)
{
    static uint8_t buf[MAXV];
    for (int i = 0; i < KEYSPACE; i++) {
        size_t vl = 0;
        int rc = ldb_get(db, m->keys[i].k, m->keys[i].kl, buf, sizeof buf, &vl);
        if (m->keys[i].v) {
            assert_int_equal(rc, LDB_OK);
            assert_int_equal(vl, m->keys[i].vl);
            assert_memory_equal(buf, m->keys[i].v, vl);
        } else {
            assert_int_equal(rc, LDB_NOTFOUND);
        }
    }
    int order[KEYSPACE], n = 0;
    for (int i = 0; i < KEYSPACE; i++)
        if (m->keys[i].v) order[n++] = i;
    cmp_model = m;
    qsort(order, (size_t)n, sizeof *order, cmp_idx);

    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    int j = 0;
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it), j++) {
        assert_true(j < n);
        const void *k, *v;
        size_t kl, vl;
        assert_int_equal(ldb_iter_key(it, &k, &kl), LDB_OK);
        assert_int_equal(ldb_iter_value(it, &v, &vl), LDB_OK);
        mkey *mk = &m->keys[order[j]];
        assert_int_equal(kl, mk->kl);
        assert_memory_equal(k, mk->k, kl);
        assert_int_equal(vl, mk->vl);
        assert_memory_equal(v, mk->v, vl);
    }
    assert_int_equal(ldb_iter_status(it), LDB_OK);
    assert_int_equal(j, n);
    j = n - 1;
    for (ldb_iter_last(it); ldb_iter_valid(it); ldb_iter_prev(it), j--) {
        const void *k;
        size_t kl;
        assert_true(j >= 0);
        ldb_iter_key(it, &k, &kl);
        assert_int_equal(kl, m->keys[order[j]].kl);
        assert_memory_equal(k, m->keys[order[j]].k, kl);
    }
    assert_int_equal(j, -1);
    /* Seeks to every key (present or not) land on the first key >= it, and
     * a direction change from there is consistent. */
    for (int i = 0; i < KEYSPACE; i += 7) {
        mkey *t = &m->keys[i];
        ldb_iter_seek(it, t->k, t->kl);
        int lo = 0, hi = n;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            int probe = order[mid];
            mkey *x = &m->keys[probe];
            size_t mn = x->kl < t->kl ? x->kl : t->kl;
            int c = memcmp(x->k, t->k, mn);
            if (!c) c = (x->kl > t->kl) - (x->kl < t->kl);
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        if (lo == n) {
            assert_false(ldb_iter_valid(it));
            continue;
        }
        const void *k;
        size_t kl;
        assert_true(ldb_iter_valid(it));
        ldb_iter_key(it, &k, &kl);
        assert_int_equal(kl, m->keys[order[lo]].kl);
        assert_memory_equal(k, m->keys[order[lo]].k, kl);
        ldb_iter_prev(it);
        if (lo == 0) {
            assert_false(ldb_iter_valid(it));
        } else {
            assert_true(ldb_iter_valid(it));
            ldb_iter_key(it, &k, &kl);
            assert_int_equal(kl, m->keys[order[lo - 1]].kl);
            assert_memory_equal(k, m->keys[order[lo - 1]].k, kl);
            ldb_iter_next(it);
            ldb_iter_key(it, &k, &kl);
            assert_memory_equal(k, m->keys[order[lo]].k, kl);
        }
    }
    ldb_iter_close(it);
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    assert_int_equal(st.keys, (uint64_t)n);
}

static void run_model(ldb_sync_mode mode, uint64_t seed_default, int rounds, int ops_per_round)
{
    tu_rng r = {tu_seed(seed_default)};
    char *dir = tu_tmpdir("model");
    assert_non_null(dir);
    model *m = calloc(1, sizeof *m);
    model_init(m);
    static uint8_t val[MAXV];
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = mode;
    o.segment_size = 256 << 10; /* many segments, many rotations */
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < ops_per_round; i++) {
            uint64_t what = tu_rand_below(&r, 100);
            mkey *k = &m->keys[tu_rand_below(&r, KEYSPACE)];
            size_t vl;
            if (what < 55) {
                fill_value(&r, val, &vl);
                assert_int_equal(ldb_put(db, k->k, k->kl, val, vl), LDB_OK);
                model_set(k, val, vl);
            } else if (what < 75) {
                assert_int_equal(ldb_delete(db, k->k, k->kl), LDB_OK);
                model_del(k);
            } else if (what < 88) {
                /* a transaction of a few puts and deletes */
                ldb_txn *t;
                assert_int_equal(ldb_txn_begin(db, 0, &t), LDB_OK);
                int nops = 1 + (int)tu_rand_below(&r, 5);
                mkey *touched[6];
                int del[6];
                uint8_t *vals[6];
                size_t vls[6];
                for (int j = 0; j < nops; j++) {
                    touched[j] = &m->keys[tu_rand_below(&r, KEYSPACE)];
                    del[j] = tu_rand_below(&r, 4) == 0;
                    if (del[j]) {
                        assert_int_equal(ldb_txn_delete(t, touched[j]->k, touched[j]->kl), LDB_OK);
                    } else {
                        fill_value(&r, val, &vls[j]);
                        vals[j] = malloc(vls[j] + 1);
                        memcpy(vals[j], val, vls[j]);
                        assert_int_equal(ldb_txn_put(t, touched[j]->k, touched[j]->kl, val, vls[j]), LDB_OK);
                    }
                }
                int abort_it = tu_rand_below(&r, 5) == 0;
                if (abort_it) ldb_txn_abort(t);
                else assert_int_equal(ldb_txn_commit(t), LDB_OK);
                for (int j = 0; j < nops; j++) {
                    if (!abort_it) {
                        if (del[j]) model_del(touched[j]);
                        else model_set(touched[j], vals[j], vls[j]);
                    }
                    if (!del[j]) free(vals[j]);
                }
            } else if (what < 93) {
                ldb_batch *b;
                assert_int_equal(ldb_batch_create(&b), LDB_OK);
                for (int j = 0; j < 4; j++) {
                    mkey *bk = &m->keys[tu_rand_below(&r, KEYSPACE)];
                    if (j == 3) {
                        ldb_batch_delete(b, bk->k, bk->kl);
                        model_del(bk);
                    } else {
                        fill_value(&r, val, &vl);
                        ldb_batch_put(b, bk->k, bk->kl, val, vl);
                        model_set(bk, val, vl);
                    }
                }
                assert_int_equal(ldb_write(db, b), LDB_OK);
                ldb_batch_free(b);
            } else {
                size_t got;
                int rc = ldb_get(db, k->k, k->kl, val, sizeof val, &got);
                if (k->v) {
                    assert_int_equal(rc, LDB_OK);
                    assert_int_equal(got, k->vl);
                    assert_memory_equal(val, k->v, got);
                } else {
                    assert_int_equal(rc, LDB_NOTFOUND);
                }
            }
        }
        verify(db, m);
        assert_int_equal(ldb_close(db), LDB_OK);
        o.sync_mode = (ldb_sync_mode)((o.sync_mode + round) % 3);
        assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
        verify(db, m);
    }
    assert_int_equal(ldb_close(db), LDB_OK);
    for (int i = 0; i < KEYSPACE; i++) free(m->keys[i].v);
    free(m);
    tu_rmdir(dir);
    free(dir);
}

static void test_model_none(void **state)
{
    (void)state;
    run_model(LDB_SYNC_NONE, 1, 8, 3000);
}

static void test_model_normal(void **state)
{
    (void)state;
    run_model(LDB_SYNC_NORMAL, 2, 5, 2000);
}

static void test_model_full(void **state)
{
    (void)state;
    run_model(LDB_SYNC_FULL, 3, 3, 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_none),
        cmocka_unit_test(test_model_normal),
        cmocka_unit_test(test_model_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
