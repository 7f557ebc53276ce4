/*
 * test_db_api.c — bad input on every public API function.
 *
 * Every call gets NULL handles, foreign handles (one kind of handle cast to
 * another, which the engine must catch by its magic numbers), NULL or
 * oversized keys and values, NULL out-pointers and invalid options, and must
 * answer with the exact documented code without changing anything. Each
 * test keeps a model of what was written successfully and checks at the end
 * (and after a reopen) that the database holds exactly that: bad input must
 * neither crash nor leave a trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lightningdb.h"
#include "testutil.h"

/* Under UBSan (the ASan build), undefined behaviour in the engine must fail
 * the run, not scroll past as a warning: the runtime reads this hook. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

/* ---- a tiny model: what the database must hold ----------------------- */

#define MODEL_MAX 64

typedef struct kv {
    uint8_t *k, *v;
    size_t kl, vl;
} kv;

typedef struct model {
    kv e[MODEL_MAX];
    size_t n;
} model;

static kv *model_find(model *m, const void *k, size_t kl)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].kl == kl && memcmp(m->e[i].k, k, kl) == 0) return &m->e[i];
    return NULL;
}

static void model_put(model *m, const void *k, size_t kl, const void *v, size_t vl)
{
    kv *e = model_find(m, k, kl);
    if (!e) {
        assert_true(m->n < MODEL_MAX);
        e = &m->e[m->n++];
        e->k = malloc(kl);
        memcpy(e->k, k, kl);
        e->kl = kl;
    } else {
        free(e->v);
    }
    e->v = malloc(vl ? vl : 1);
    if (vl) memcpy(e->v, v, vl);
    e->vl = vl;
}

static void model_del(model *m, const void *k, size_t kl)
{
    kv *e = model_find(m, k, kl);
    if (!e) return;
    free(e->k);
    free(e->v);
    *e = m->e[--m->n];
}

static void model_free(model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].k);
        free(m->e[i].v);
    }
    m->n = 0;
}

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    size_t n = x->kl < y->kl ? x->kl : y->kl;
    int c = memcmp(x->k, y->k, n);
    if (c) return c;
    return (x->kl > y->kl) - (x->kl < y->kl);
}

/* Every model key reads back exactly, and a full scan yields exactly the
 * model in key order (so nothing a rejected call passed in slipped in). */
static void model_check(ldb *db, model *m)
{
    size_t cap = (size_t)LDB_MAX_VALUE;
    uint8_t *buf = malloc(cap);
    for (size_t i = 0; i < m->n; i++) {
        size_t vl = 12345;
        assert_int_equal(ldb_get(db, m->e[i].k, m->e[i].kl, buf, cap, &vl), LDB_OK);
        assert_int_equal(vl, m->e[i].vl);
        if (vl) assert_memory_equal(buf, m->e[i].v, vl);
    }
    free(buf);
    qsort(m->e, m->n, sizeof m->e[0], kv_cmp);
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    size_t j = 0;
    for (assert_int_equal(ldb_iter_first(it), LDB_OK); ldb_iter_valid(it); ldb_iter_next(it), j++) {
        assert_true(j < m->n);
        const void *k, *v;
        size_t kl, vl;
        assert_int_equal(ldb_iter_key(it, &k, &kl), LDB_OK);
        assert_int_equal(ldb_iter_value(it, &v, &vl), LDB_OK);
        assert_int_equal(kl, m->e[j].kl);
        assert_memory_equal(k, m->e[j].k, kl);
        assert_int_equal(vl, m->e[j].vl);
        if (vl) assert_memory_equal(v, m->e[j].v, vl);
    }
    assert_int_equal(ldb_iter_status(it), LDB_OK);
    assert_int_equal(j, m->n);
    ldb_iter_close(it);
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    assert_int_equal(st.keys, m->n);
}

/* Closes, reopens and checks the model again: rejected input must not have
 * reached the log either. */
static ldb *reopen_check(ldb *db, const char *dir, model *m)
{
    model_check(db, m);
    assert_int_equal(ldb_close(db), LDB_OK);
    db = tu_open_fast(dir);
    model_check(db, m);
    return db;
}

static char *subpath(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* ---- ldb_strerror --------------------------------------------------- */

static void test_strerror(void **state)
{
    (void)state;
    const int codes[] = {LDB_OK,      LDB_NOTFOUND, LDB_INVALID,  LDB_TOO_LARGE,
                         LDB_IO,      LDB_CORRUPTION, LDB_NOMEM,  LDB_BUSY,
                         LDB_READONLY, LDB_CONFLICT, LDB_NOSPACE};
    const size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = ldb_strerror(codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        for (size_t j = 0; j < i; j++) assert_string_not_equal(s, ldb_strerror(codes[j]));
    }
    /* Unknown codes still get a printable string, and not one that names a
     * real error (a caller would be misled). */
    const int unknown[] = {1, 7, -11, -100, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = ldb_strerror(unknown[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        for (size_t j = 0; j < n; j++) assert_string_not_equal(s, ldb_strerror(codes[j]));
    }
}

/* ---- options and ldb_open ----------------------------------------------- */

static void test_open_bad_input(void **state)
{
    const char *root = *state;
    char *dir = subpath(root, "db");
    ldb *db = NULL;
    ldb_options o;

    ldb_options_init(NULL); /* must not crash */

    ldb_options_init(&o);
    assert_int_equal(ldb_open(NULL, &o, &db), LDB_INVALID);
    assert_int_equal(ldb_open("", &o, &db), LDB_INVALID);
    assert_int_equal(ldb_open(dir, &o, NULL), LDB_INVALID);
    assert_false(tu_exists(dir));

    /* Invalid options are refused before anything is created on disk. */
    o.sync_mode = (ldb_sync_mode)7;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_INVALID);
    assert_null(db);
    o.sync_mode = (ldb_sync_mode)-1;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_INVALID);
    ldb_options_init(&o);
    o.segment_size = 4096; /* smaller than a sane segment */
    assert_int_equal(ldb_open(dir, &o, &db), LDB_INVALID);
    o.segment_size = 1ull << 40;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_INVALID);
    ldb_options_init(&o);
    o.space_amp_target = 0.5; /* below 1 cannot be met */
    assert_int_equal(ldb_open(dir, &o, &db), LDB_INVALID);
    ldb_options_init(&o);
    o.cleaner_cpu = 0.0;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_INVALID);
    ldb_options_init(&o);
    o.cleaner_cpu = 1.5;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_INVALID);
    ldb_options_init(&o);
    o.compression = 7;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_INVALID);
    assert_null(db);
    assert_false(tu_exists(dir));

    /* A missing directory without create_if_missing: not found, not made. */
    ldb_options_init(&o);
    o.create_if_missing = 0;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_NOTFOUND);
    assert_null(db);
    o.read_only = 1;
    o.create_if_missing = 1; /* read-only never creates */
    assert_int_equal(ldb_open(dir, &o, &db), LDB_NOTFOUND);
    assert_false(tu_exists(dir));

    /* A path that is a regular file is not a database, and stays as it was. */
    char *file = subpath(root, "plainfile");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("not a database", f);
    fclose(f);
    ldb_options_init(&o);
    assert_int_equal(ldb_open(file, &o, &db), LDB_INVALID);
    assert_null(db);
    size_t len;
    uint8_t *content = tu_read_all(file, &len);
    assert_non_null(content);
    assert_int_equal(len, 14);
    assert_memory_equal(content, "not a database", 14);
    free(content);

    /* NULL options mean the defaults; segment_size 0 means the default. */
    assert_int_equal(ldb_open(dir, NULL, &db), LDB_OK);
    assert_non_null(db);
    model m = {0};
    assert_int_equal(ldb_put(db, "a", 1, "1", 1), LDB_OK);
    model_put(&m, "a", 1, "1", 1);
    assert_int_equal(ldb_close(db), LDB_OK);
    ldb_options_init(&o);
    o.segment_size = 0;
    o.create_if_missing = 0; /* exists now */
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    model_check(db, &m);
    assert_int_equal(ldb_close(db), LDB_OK);

    model_free(&m);
    free(file);
    free(dir);
}

/* ---- NULL and foreign handles ------------------------------------------- */

/* A buffer that is no handle at all; big and aligned enough that reading a
 * magic number from it is defined. */
static union {
    uint64_t align;
    uint8_t bytes[4096];
} garbage;

static void expect_db_rejected(ldb *bad)
{
    size_t vl;
    uint8_t buf[8];
    ldb_txn *t = (ldb_txn *)&garbage;
    ldb_iter *it = (ldb_iter *)&garbage;
    ldb_stats st;
    ldb_batch *b;
    assert_int_equal(ldb_put(bad, "k", 1, "v", 1), LDB_INVALID);
    assert_int_equal(ldb_get(bad, "k", 1, buf, sizeof buf, &vl), LDB_INVALID);
    assert_int_equal(ldb_delete(bad, "k", 1), LDB_INVALID);
    assert_int_equal(ldb_sync(bad), LDB_INVALID);
    assert_int_equal(ldb_checkpoint(bad), LDB_INVALID);
    assert_int_equal(ldb_compact(bad), LDB_INVALID);
    assert_int_equal(ldb_iter_open(bad, &it), LDB_INVALID);
    assert_int_equal(ldb_txn_begin(bad, 0, &t), LDB_INVALID);
    assert_int_equal(ldb_get_stats(bad, &st), LDB_INVALID);
    assert_int_equal(ldb_batch_create(&b), LDB_OK);
    assert_int_equal(ldb_batch_put(b, "k", 1, "v", 1), LDB_OK);
    assert_int_equal(ldb_write(bad, b), LDB_INVALID);
    assert_int_equal(ldb_batch_count(b), 1);
    ldb_batch_free(b);
    assert_int_equal(ldb_close(bad), LDB_INVALID);
}

static void expect_txn_rejected(ldb_txn *bad)
{
    const void *v;
    size_t vl;
    ldb_iter *it;
    assert_int_equal(ldb_txn_get(bad, "k", 1, &v, &vl), LDB_INVALID);
    assert_int_equal(ldb_txn_put(bad, "k", 1, "v", 1), LDB_INVALID);
    assert_int_equal(ldb_txn_delete(bad, "k", 1), LDB_INVALID);
    assert_int_equal(ldb_iter_open_txn(bad, &it), LDB_INVALID);
    assert_int_equal(ldb_txn_snapshot(bad), 0);
    assert_int_equal(ldb_txn_commit(bad), LDB_INVALID);
    ldb_txn_abort(bad); /* must be a no-op, not a free */
}

static void expect_iter_rejected(ldb_iter *bad)
{
    const void *k, *v;
    size_t kl, vl;
    assert_int_equal(ldb_iter_seek(bad, "k", 1), LDB_INVALID);
    assert_int_equal(ldb_iter_first(bad), LDB_INVALID);
    assert_int_equal(ldb_iter_last(bad), LDB_INVALID);
    assert_int_equal(ldb_iter_next(bad), LDB_INVALID);
    assert_int_equal(ldb_iter_prev(bad), LDB_INVALID);
    assert_int_equal(ldb_iter_valid(bad), 0);
    assert_int_equal(ldb_iter_key(bad, &k, &kl), LDB_INVALID);
    assert_int_equal(ldb_iter_value(bad, &v, &vl), LDB_INVALID);
    assert_int_equal(ldb_iter_status(bad), LDB_INVALID);
    ldb_iter_close(bad); /* must be a no-op, not a free */
}

static void expect_batch_rejected(ldb *db, ldb_batch *bad)
{
    assert_int_equal(ldb_batch_put(bad, "k", 1, "v", 1), LDB_INVALID);
    assert_int_equal(ldb_batch_delete(bad, "k", 1), LDB_INVALID);
    assert_int_equal(ldb_batch_count(bad), 0);
    assert_int_equal(ldb_write(db, bad), LDB_INVALID);
    ldb_batch_clear(bad); /* no-ops, not a free or a wipe */
    ldb_batch_free(bad);
}

static void test_null_and_foreign_handles(void **state)
{
    const char *dir = *state;
    ldb *db = tu_open_fast(dir);
    model m = {0};
    assert_int_equal(ldb_put(db, "base", 4, "0", 1), LDB_OK);
    model_put(&m, "base", 4, "0", 1);

    /* Live handles of every kind, each holding state the bad calls must not
     * disturb: a transaction with a pending write, a positioned iterator, a
     * batch with two operations. */
    ldb_txn *txn;
    assert_int_equal(ldb_txn_begin(db, 0, &txn), LDB_OK);
    assert_int_equal(ldb_txn_put(txn, "t1", 2, "tv", 2), LDB_OK);
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    assert_int_equal(ldb_iter_first(it), LDB_OK);
    assert_true(ldb_iter_valid(it));
    ldb_batch *b;
    assert_int_equal(ldb_batch_create(&b), LDB_OK);
    assert_int_equal(ldb_batch_put(b, "b1", 2, "bv", 2), LDB_OK);
    assert_int_equal(ldb_batch_delete(b, "base", 4), LDB_OK);

    /* NULL everywhere. */
    expect_db_rejected(NULL);
    expect_txn_rejected(NULL);
    expect_iter_rejected(NULL);
    expect_batch_rejected(db, NULL);
    assert_int_equal(ldb_write(NULL, NULL), LDB_INVALID);

    /* Foreign handles: each kind posing as each other kind, and a buffer of
     * zeros and one of 0xAB posing as all of them. */
    expect_db_rejected((ldb *)txn);
    expect_db_rejected((ldb *)it);
    expect_db_rejected((ldb *)b);
    expect_txn_rejected((ldb_txn *)db);
    expect_txn_rejected((ldb_txn *)it);
    expect_txn_rejected((ldb_txn *)b);
    expect_iter_rejected((ldb_iter *)db);
    expect_iter_rejected((ldb_iter *)txn);
    expect_iter_rejected((ldb_iter *)b);
    expect_batch_rejected(db, (ldb_batch *)db);
    expect_batch_rejected(db, (ldb_batch *)txn);
    expect_batch_rejected(db, (ldb_batch *)it);
    for (int fill = 0; fill < 2; fill++) {
        memset(garbage.bytes, fill ? 0xab : 0, sizeof garbage.bytes);
        expect_db_rejected((ldb *)&garbage);
        expect_txn_rejected((ldb_txn *)&garbage);
        expect_iter_rejected((ldb_iter *)&garbage);
        expect_batch_rejected(db, (ldb_batch *)&garbage);
    }

    /* NULL out-pointers. */
    assert_int_equal(ldb_txn_begin(db, 0, NULL), LDB_INVALID);
    assert_int_equal(ldb_iter_open(db, NULL), LDB_INVALID);
    assert_int_equal(ldb_iter_open_txn(txn, NULL), LDB_INVALID);
    assert_int_equal(ldb_batch_create(NULL), LDB_INVALID);
    assert_int_equal(ldb_get_stats(db, NULL), LDB_INVALID);
    {
        const void *v, *k;
        size_t vl, kl;
        assert_int_equal(ldb_txn_get(txn, "t1", 2, NULL, &vl), LDB_INVALID);
        assert_int_equal(ldb_txn_get(txn, "t1", 2, &v, NULL), LDB_INVALID);
        assert_int_equal(ldb_iter_key(it, NULL, &kl), LDB_INVALID);
        assert_int_equal(ldb_iter_key(it, &k, NULL), LDB_INVALID);
        assert_int_equal(ldb_iter_value(it, NULL, &vl), LDB_INVALID);
        assert_int_equal(ldb_iter_value(it, &v, NULL), LDB_INVALID);
    }

    /* Unknown transaction flags. */
    ldb_txn *t2 = (ldb_txn *)&garbage;
    assert_int_equal(ldb_txn_begin(db, 0x4u, &t2), LDB_INVALID);
    assert_null(t2);
    assert_int_equal(ldb_txn_begin(db, 0x80000000u | LDB_TXN_READONLY, &t2), LDB_INVALID);

    /* The real handles survived all of it, state included. */
    {
        const void *k, *v;
        size_t kl, vl;
        assert_true(ldb_iter_valid(it));
        assert_int_equal(ldb_iter_key(it, &k, &kl), LDB_OK);
        assert_int_equal(kl, 4);
        assert_memory_equal(k, "base", 4);
        assert_int_equal(ldb_iter_status(it), LDB_OK);
        assert_int_equal(ldb_txn_get(txn, "t1", 2, &v, &vl), LDB_OK);
        assert_int_equal(vl, 2);
        assert_memory_equal(v, "tv", 2);
    }
    assert_int_equal(ldb_batch_count(b), 2);
    ldb_iter_close(it);
    assert_int_equal(ldb_txn_commit(txn), LDB_OK);
    model_put(&m, "t1", 2, "tv", 2);
    assert_int_equal(ldb_write(db, b), LDB_OK);
    ldb_batch_free(b);
    model_put(&m, "b1", 2, "bv", 2);
    model_del(&m, "base", 4);

    db = reopen_check(db, dir, &m);
    assert_int_equal(ldb_close(db), LDB_OK);
    model_free(&m);
}

/* ---- keys and values ---------------------------------------------------- */

static void test_keys_and_values(void **state)
{
    const char *dir = *state;
    ldb *db = tu_open_fast(dir);
    model m = {0};
    size_t kmax = LDB_MAX_KEY, vmax = LDB_MAX_VALUE;
    uint8_t *bigk = malloc(kmax + 1);
    uint8_t *bigv = malloc(vmax + 1);
    assert_non_null(bigk);
    assert_non_null(bigv);
    for (size_t i = 0; i <= kmax; i++) bigk[i] = (uint8_t)('A' + i % 26);
    for (size_t i = 0; i <= vmax; i++) bigv[i] = (uint8_t)(i * 2654435761u >> 13);
    uint8_t buf[16];
    size_t vl;
    const void *v;

    /* ldb_put / ldb_get / ldb_delete */
    assert_int_equal(ldb_put(db, NULL, 3, "v", 1), LDB_INVALID);
    assert_int_equal(ldb_put(db, NULL, 0, "v", 1), LDB_INVALID);
    assert_int_equal(ldb_put(db, "k", 0, "v", 1), LDB_INVALID);
    assert_int_equal(ldb_put(db, bigk, kmax + 1, "v", 1), LDB_TOO_LARGE);
    assert_int_equal(ldb_put(db, "k", 1, bigv, vmax + 1), LDB_TOO_LARGE);
    assert_int_equal(ldb_put(db, "k", 1, NULL, 5), LDB_INVALID);
    assert_int_equal(ldb_get(db, NULL, 1, buf, sizeof buf, &vl), LDB_INVALID);
    assert_int_equal(ldb_get(db, "k", 0, buf, sizeof buf, &vl), LDB_INVALID);
    assert_int_equal(ldb_get(db, bigk, kmax + 1, buf, sizeof buf, &vl), LDB_TOO_LARGE);
    assert_int_equal(ldb_get(db, "k", 1, buf, sizeof buf, NULL), LDB_INVALID);
    assert_int_equal(ldb_get(db, "k", 1, NULL, 4, &vl), LDB_INVALID);
    assert_int_equal(ldb_delete(db, NULL, 1), LDB_INVALID);
    assert_int_equal(ldb_delete(db, "k", 0), LDB_INVALID);
    assert_int_equal(ldb_delete(db, bigk, kmax + 1), LDB_TOO_LARGE);
    assert_int_equal(ldb_get(db, "k", 1, buf, sizeof buf, &vl), LDB_NOTFOUND);

    /* The limits themselves are accepted: a key of LDB_MAX_KEY bytes, a
     * value of LDB_MAX_VALUE bytes, an empty value (also with NULL). */
    assert_int_equal(ldb_put(db, bigk, kmax, "max-key", 7), LDB_OK);
    model_put(&m, bigk, kmax, "max-key", 7);
    assert_int_equal(ldb_put(db, "maxval", 6, bigv, vmax), LDB_OK);
    model_put(&m, "maxval", 6, bigv, vmax);
    assert_int_equal(ldb_put(db, "empty", 5, NULL, 0), LDB_OK);
    model_put(&m, "empty", 5, "", 0);
    assert_int_equal(ldb_put(db, "empty2", 6, "x", 0), LDB_OK);
    model_put(&m, "empty2", 6, "", 0);
    assert_int_equal(ldb_put(db, "\0", 1, "nul-key", 7), LDB_OK); /* a key byte of 0 is fine */
    model_put(&m, "\0", 1, "nul-key", 7);

    /* Transactions. */
    ldb_txn *t;
    assert_int_equal(ldb_txn_begin(db, 0, &t), LDB_OK);
    assert_int_equal(ldb_txn_put(t, NULL, 1, "v", 1), LDB_INVALID);
    assert_int_equal(ldb_txn_put(t, "k", 0, "v", 1), LDB_INVALID);
    assert_int_equal(ldb_txn_put(t, bigk, kmax + 1, "v", 1), LDB_TOO_LARGE);
    assert_int_equal(ldb_txn_put(t, "k", 1, bigv, vmax + 1), LDB_TOO_LARGE);
    assert_int_equal(ldb_txn_put(t, "k", 1, NULL, 2), LDB_INVALID);
    assert_int_equal(ldb_txn_get(t, NULL, 1, &v, &vl), LDB_INVALID);
    assert_int_equal(ldb_txn_get(t, "k", 0, &v, &vl), LDB_INVALID);
    assert_int_equal(ldb_txn_get(t, bigk, kmax + 1, &v, &vl), LDB_TOO_LARGE);
    assert_int_equal(ldb_txn_delete(t, NULL, 1), LDB_INVALID);
    assert_int_equal(ldb_txn_delete(t, "k", 0), LDB_INVALID);
    assert_int_equal(ldb_txn_delete(t, bigk, kmax + 1), LDB_TOO_LARGE);
    assert_int_equal(ldb_txn_get(t, "k", 1, &v, &vl), LDB_NOTFOUND);
    assert_int_equal(ldb_txn_put(t, "tx", 2, "ok", 2), LDB_OK);
    assert_int_equal(ldb_txn_delete(t, "empty2", 6), LDB_OK);
    assert_int_equal(ldb_txn_commit(t), LDB_OK);
    model_put(&m, "tx", 2, "ok", 2);
    model_del(&m, "empty2", 6);

    /* Batches: rejected operations are not added. */
    ldb_batch *b;
    assert_int_equal(ldb_batch_create(&b), LDB_OK);
    assert_int_equal(ldb_batch_put(b, NULL, 1, "v", 1), LDB_INVALID);
    assert_int_equal(ldb_batch_put(b, "k", 0, "v", 1), LDB_INVALID);
    assert_int_equal(ldb_batch_put(b, bigk, kmax + 1, "v", 1), LDB_TOO_LARGE);
    assert_int_equal(ldb_batch_put(b, "k", 1, bigv, vmax + 1), LDB_TOO_LARGE);
    assert_int_equal(ldb_batch_put(b, "k", 1, NULL, 3), LDB_INVALID);
    assert_int_equal(ldb_batch_delete(b, NULL, 1), LDB_INVALID);
    assert_int_equal(ldb_batch_delete(b, "k", 0), LDB_INVALID);
    assert_int_equal(ldb_batch_delete(b, bigk, kmax + 1), LDB_TOO_LARGE);
    assert_int_equal(ldb_batch_count(b), 0);
    assert_int_equal(ldb_write(db, b), LDB_OK); /* an empty batch writes nothing */
    assert_int_equal(ldb_batch_put(b, "bt", 2, "yes", 3), LDB_OK);
    assert_int_equal(ldb_batch_count(b), 1);
    assert_int_equal(ldb_write(db, b), LDB_OK);
    model_put(&m, "bt", 2, "yes", 3);
    ldb_batch_free(b);

    /* Iterator seeks. */
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    assert_false(ldb_iter_valid(it));
    /* Not positioned yet: moving or reading is refused. */
    assert_int_equal(ldb_iter_next(it), LDB_INVALID);
    assert_int_equal(ldb_iter_prev(it), LDB_INVALID);
    {
        const void *k;
        size_t kl;
        assert_int_equal(ldb_iter_key(it, &k, &kl), LDB_INVALID);
        assert_int_equal(ldb_iter_value(it, &v, &vl), LDB_INVALID);
    }
    assert_int_equal(ldb_iter_seek(it, NULL, 1), LDB_INVALID);
    assert_int_equal(ldb_iter_seek(it, "k", 0), LDB_INVALID);
    assert_int_equal(ldb_iter_seek(it, bigk, kmax + 1), LDB_TOO_LARGE);
    assert_int_equal(ldb_iter_seek(it, "tx", 2), LDB_OK);
    {
        const void *k;
        size_t kl;
        assert_int_equal(ldb_iter_key(it, &k, &kl), LDB_OK);
        assert_int_equal(kl, 2);
        assert_memory_equal(k, "tx", 2);
    }
    /* Running off the end leaves it invalid, and stepping further is
     * refused rather than wrapping around. */
    assert_int_equal(ldb_iter_next(it), LDB_OK);
    assert_false(ldb_iter_valid(it));
    assert_int_equal(ldb_iter_next(it), LDB_INVALID);
    assert_int_equal(ldb_iter_status(it), LDB_OK);
    ldb_iter_close(it);

    free(bigk);
    free(bigv);
    db = reopen_check(db, dir, &m);
    assert_int_equal(ldb_close(db), LDB_OK);
    model_free(&m);
}

/* ---- ldb_get's buffer contract, deleting absent keys -------------------- */

static void test_get_buffer_and_absent_delete(void **state)
{
    const char *dir = *state;
    ldb *db = tu_open_fast(dir);
    model m = {0};
    const char *val = "0123456789abcdef";
    assert_int_equal(ldb_put(db, "key", 3, val, 16), LDB_OK);
    model_put(&m, "key", 3, val, 16);

    uint8_t buf[32];
    size_t vl;
    /* A short buffer gets exactly cap bytes; the bytes after cap are
     * untouched; *vlen is the full length. */
    memset(buf, 0xee, sizeof buf);
    vl = 0;
    assert_int_equal(ldb_get(db, "key", 3, buf, 5, &vl), LDB_OK);
    assert_int_equal(vl, 16);
    assert_memory_equal(buf, "01234", 5);
    for (size_t i = 5; i < sizeof buf; i++) assert_int_equal(buf[i], 0xee);
    /* cap 0 with a real buffer writes nothing into it. */
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(ldb_get(db, "key", 3, buf, 0, &vl), LDB_OK);
    assert_int_equal(vl, 16);
    assert_int_equal(buf[0], 0xee);
    /* A bigger buffer: exactly the value, nothing beyond. */
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(ldb_get(db, "key", 3, buf, sizeof buf, &vl), LDB_OK);
    assert_int_equal(vl, 16);
    assert_memory_equal(buf, val, 16);
    assert_int_equal(buf[16], 0xee);
    /* Absent keys, with and without a buffer. */
    assert_int_equal(ldb_get(db, "nokey", 5, NULL, 0, &vl), LDB_NOTFOUND);
    assert_int_equal(ldb_get(db, "nokey", 5, buf, sizeof buf, &vl), LDB_NOTFOUND);

    /* Deleting an absent key succeeds and changes nothing: no key appears,
     * no commit is made, the other key is intact. */
    ldb_stats before, after;
    assert_int_equal(ldb_get_stats(db, &before), LDB_OK);
    assert_int_equal(ldb_delete(db, "nokey", 5), LDB_OK);
    assert_int_equal(ldb_delete(db, "nokey", 5), LDB_OK);
    assert_int_equal(ldb_get_stats(db, &after), LDB_OK);
    assert_int_equal(after.keys, before.keys);
    assert_int_equal(after.last_seq, before.last_seq);
    assert_int_equal(ldb_get(db, "nokey", 5, NULL, 0, &vl), LDB_NOTFOUND);
    /* A key deleted twice: the second delete is also fine. */
    assert_int_equal(ldb_put(db, "gone", 4, "x", 1), LDB_OK);
    assert_int_equal(ldb_delete(db, "gone", 4), LDB_OK);
    assert_int_equal(ldb_delete(db, "gone", 4), LDB_OK);
    assert_int_equal(ldb_get(db, "gone", 4, NULL, 0, &vl), LDB_NOTFOUND);
    /* Same inside a transaction and a batch. */
    ldb_txn *t;
    assert_int_equal(ldb_txn_begin(db, 0, &t), LDB_OK);
    assert_int_equal(ldb_txn_delete(t, "never", 5), LDB_OK);
    assert_int_equal(ldb_txn_commit(t), LDB_OK);
    ldb_batch *b;
    assert_int_equal(ldb_batch_create(&b), LDB_OK);
    assert_int_equal(ldb_batch_delete(b, "never", 5), LDB_OK);
    assert_int_equal(ldb_write(db, b), LDB_OK);
    ldb_batch_free(b);

    db = reopen_check(db, dir, &m);
    assert_int_equal(ldb_close(db), LDB_OK);
    model_free(&m);
}

/* ---- the directory lock ---------------------------------------------- */

static void test_second_open_busy(void **state)
{
    const char *dir = *state;
    ldb *db = tu_open_fast(dir);
    model m = {0};
    assert_int_equal(ldb_put(db, "held", 4, "1", 1), LDB_OK);
    model_put(&m, "held", 4, "1", 1);

    /* Same process, a second handle: refused, with a message naming the
     * directory. */
    ldb_options o;
    ldb_options_init(&o);
    ldb *db2 = (ldb *)&garbage;
    assert_int_equal(ldb_open(dir, &o, &db2), LDB_BUSY);
    assert_null(db2);
    assert_non_null(strstr(ldb_last_error(), dir));
    o.read_only = 1; /* a reader must not slip past a writer's lock either */
    assert_int_equal(ldb_open(dir, &o, &db2), LDB_BUSY);

    /* Another process: the child reports ldb_open's code as its exit
     * status (no cmocka in the child: it must not run the test harness). */
    for (int ro = 0; ro < 2; ro++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            ldb_options co;
            ldb_options_init(&co);
            co.read_only = ro;
            ldb *cdb = NULL;
            int rc = ldb_open(dir, &co, &cdb);
            _exit(rc <= 0 && rc > -100 ? -rc : 100);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), -LDB_BUSY);
    }

    /* The held handle is unaffected by the refused opens. */
    assert_int_equal(ldb_put(db, "after", 5, "2", 1), LDB_OK);
    model_put(&m, "after", 5, "2", 1);
    model_check(db, &m);
    assert_int_equal(ldb_close(db), LDB_OK);

    /* Once closed, another process can open it. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ldb *cdb = NULL;
        int rc = ldb_open(dir, NULL, &cdb);
        if (rc == LDB_OK) rc = ldb_close(cdb);
        _exit(rc <= 0 && rc > -100 ? -rc : 100);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    db = tu_open_fast(dir);
    model_check(db, &m);
    assert_int_equal(ldb_close(db), LDB_OK);
    model_free(&m);
}

/* ---- read-only databases and transactions ----------------------------- */

static void test_read_only(void **state)
{
    const char *dir = *state;
    ldb *db = tu_open_fast(dir);
    model m = {0};
    assert_int_equal(ldb_put(db, "a", 1, "1", 1), LDB_OK);
    assert_int_equal(ldb_put(db, "b", 1, "2", 1), LDB_OK);
    model_put(&m, "a", 1, "1", 1);
    model_put(&m, "b", 1, "2", 1);

    /* A read-only transaction on a writable database. */
    ldb_txn *t;
    assert_int_equal(ldb_txn_begin(db, LDB_TXN_READONLY, &t), LDB_OK);
    assert_int_equal(ldb_txn_put(t, "c", 1, "3", 1), LDB_READONLY);
    assert_int_equal(ldb_txn_delete(t, "a", 1), LDB_READONLY);
    const void *v;
    size_t vl;
    assert_int_equal(ldb_txn_get(t, "a", 1, &v, &vl), LDB_OK);
    assert_int_equal(vl, 1);
    assert_memory_equal(v, "1", 1);
    assert_int_equal(ldb_txn_commit(t), LDB_OK);
    model_check(db, &m);
    assert_int_equal(ldb_close(db), LDB_OK);

    /* A read-only open: every write path says LDB_READONLY. */
    char *segs[8];
    size_t nseg = tu_segments(dir, segs, 8), seglen[8];
    uint8_t *segdata[8];
    assert_true(nseg >= 1 && nseg <= 8);
    for (size_t i = 0; i < nseg; i++) segdata[i] = tu_read_all(segs[i], &seglen[i]);
    ldb_options o;
    ldb_options_init(&o);
    o.read_only = 1;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    assert_int_equal(ldb_put(db, "c", 1, "3", 1), LDB_READONLY);
    assert_int_equal(ldb_delete(db, "a", 1), LDB_READONLY);
    /* Argument errors still come first. */
    assert_int_equal(ldb_put(db, NULL, 1, "3", 1), LDB_INVALID);
    ldb_batch *b;
    assert_int_equal(ldb_batch_create(&b), LDB_OK);
    assert_int_equal(ldb_batch_put(b, "c", 1, "3", 1), LDB_OK);
    assert_int_equal(ldb_write(db, b), LDB_READONLY);
    ldb_batch_free(b);
    assert_int_equal(ldb_txn_begin(db, 0, &t), LDB_OK);
    assert_int_equal(ldb_txn_put(t, "c", 1, "3", 1), LDB_READONLY);
    assert_int_equal(ldb_txn_delete(t, "a", 1), LDB_READONLY);
    assert_int_equal(ldb_txn_commit(t), LDB_OK);
    assert_int_equal(ldb_sync(db), LDB_OK);
    assert_int_equal(ldb_checkpoint(db), LDB_READONLY);
    assert_int_equal(ldb_compact(db), LDB_READONLY);
    model_check(db, &m);
    /* Two readers may share the directory. */
    ldb *db2;
    assert_int_equal(ldb_open(dir, &o, &db2), LDB_OK);
    model_check(db2, &m);
    assert_int_equal(ldb_close(db2), LDB_OK);
    assert_int_equal(ldb_close(db), LDB_OK);
    /* Read-only opens wrote nothing: same segments, same bytes. */
    char *after[8];
    assert_int_equal(tu_segments(dir, after, 8), nseg);
    for (size_t i = 0; i < nseg; i++) {
        assert_string_equal(after[i], segs[i]);
        size_t len;
        uint8_t *now = tu_read_all(segs[i], &len);
        assert_int_equal(len, seglen[i]);
        assert_memory_equal(now, segdata[i], len);
        free(now);
        free(segdata[i]);
        free(segs[i]);
        free(after[i]);
    }

    /* A read-only open of an existing directory that holds no database is
     * refused, as LMDB's MDB_RDONLY and RocksDB's OpenForReadOnly refuse
     * one, and leaves the directory as it was (not even a LOCK file). */
    char *empty = tu_tmpdir("api-ro-empty");
    assert_int_equal(ldb_open(empty, &o, &db2), LDB_NOTFOUND);
    assert_null(db2);
    assert_non_null(strstr(ldb_last_error(), "not a lightning database"));
    char lockp[600];
    snprintf(lockp, sizeof lockp, "%s/LOCK", empty);
    assert_false(tu_exists(lockp));
    /* create_if_missing off: the same for a writer */
    ldb_options wo;
    ldb_options_init(&wo);
    wo.create_if_missing = 0;
    assert_int_equal(ldb_open(empty, &wo, &db2), LDB_NOTFOUND);
    assert_false(tu_exists(lockp));
    tu_rmdir(empty);
    free(empty);

    db = tu_open_fast(dir);
    model_check(db, &m);
    assert_int_equal(ldb_close(db), LDB_OK);
    model_free(&m);
}

/* ---- closing with open transactions or iterators ------------------------ */

static void test_close_busy(void **state)
{
    const char *dir = *state;
    ldb *db = tu_open_fast(dir);
    model m = {0};
    assert_int_equal(ldb_put(db, "a", 1, "1", 1), LDB_OK);
    model_put(&m, "a", 1, "1", 1);

    ldb_txn *t;
    assert_int_equal(ldb_txn_begin(db, 0, &t), LDB_OK);
    assert_int_equal(ldb_txn_put(t, "t", 1, "tv", 2), LDB_OK);
    assert_int_equal(ldb_close(db), LDB_BUSY);
    /* The refused close changed nothing: the database and the transaction
     * both still work. */
    assert_int_equal(ldb_put(db, "b", 1, "2", 1), LDB_OK);
    model_put(&m, "b", 1, "2", 1);
    assert_int_equal(ldb_txn_commit(t), LDB_OK);
    model_put(&m, "t", 1, "tv", 2);
    model_check(db, &m);

    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    assert_int_equal(ldb_close(db), LDB_BUSY);
    assert_int_equal(ldb_iter_first(it), LDB_OK);
    assert_true(ldb_iter_valid(it));
    assert_int_equal(ldb_put(db, "c", 1, "3", 1), LDB_OK);
    model_put(&m, "c", 1, "3", 1);
    ldb_iter_close(it);

    /* An iterator over a transaction, and a read-only transaction. */
    assert_int_equal(ldb_txn_begin(db, LDB_TXN_READONLY, &t), LDB_OK);
    assert_int_equal(ldb_iter_open_txn(t, &it), LDB_OK);
    assert_int_equal(ldb_close(db), LDB_BUSY);
    ldb_iter_close(it);
    assert_int_equal(ldb_close(db), LDB_BUSY);
    ldb_txn_abort(t);

    model_check(db, &m);
    assert_int_equal(ldb_close(db), LDB_OK);
    db = tu_open_fast(dir);
    model_check(db, &m);
    assert_int_equal(ldb_close(db), LDB_OK);
    model_free(&m);
}

/* Kept apart (and last) so that, under UBSan with halt_on_error, a fault
 * here does not hide the results of the other tests. */
static void test_get_null_buffer(void **state)
{
    const char *dir = *state;
    ldb *db = tu_open_fast(dir);
    assert_int_equal(ldb_put(db, "key", 3, "0123456789abcdef", 16), LDB_OK);
    assert_int_equal(ldb_put(db, "empty", 5, NULL, 0), LDB_OK);
    /* cap 0 with a NULL buffer asks only for the length. */
    size_t vl = 0;
    assert_int_equal(ldb_get(db, "key", 3, NULL, 0, &vl), LDB_OK);
    assert_int_equal(vl, 16);
    vl = 99;
    assert_int_equal(ldb_get(db, "empty", 5, NULL, 0, &vl), LDB_OK);
    assert_int_equal(vl, 0);
    assert_int_equal(ldb_close(db), LDB_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test_setup_teardown(test_open_bad_input, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_null_and_foreign_handles, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_keys_and_values, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_get_buffer_and_absent_delete, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_second_open_busy, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_read_only, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_close_busy, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_get_null_buffer, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
