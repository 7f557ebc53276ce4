/*
 * tests/unit/test_bench_adapters.c — every registered benchmark engine, in
 * every sync mode it supports, passes the same correctness check; two
 * threads with their own contexts work concurrently on every engine; the
 * registry, the per-thread error message, the directory helpers and the
 * background syncer behave as engine.h / engine_list.h say.
 *
 * Each test works in its own fresh directory under /tmp and removes it.
 * Worker threads never call cmocka assertions (they longjmp): they record
 * their first failure and the main thread asserts on it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/engine.h"
#include "testutil.h"
#include "bench/engine_list.h"

/* ---- helpers ----------------------------------------------------------- */

static void make_tmp(char *buf, size_t cap)
{
    assert_int_equal(tu_mkdtemp(buf, cap, "bench_adapters"), 0);
}

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64: deterministic, so a failure reproduces */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fill_val(unsigned char *v, size_t len, unsigned tag)
{
    for (size_t i = 0; i < len; i++)
        v[i] = (unsigned char)(tag * 31u + i * 7u + (i >> 8));
}

static int cmp_bytes(const void *a, size_t al, const void *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

typedef struct key {
    unsigned char b[16];
    size_t len;
    unsigned tag;
} key;

static int cmp_key(const void *a, const void *b)
{
    const key *x = a, *y = b;
    return cmp_bytes(x->b, x->len, y->b, y->len);
}

static bool is_null_engine(const bench_engine *e)
{
    return strcmp(e->name, "null") == 0;
}

/* The modes an adapter is expected to refuse, with the reasons in the
 * adapters: LevelDB has no log flush call and no prefix guarantee;
 * SQLite's NORMAL is bounded by checkpoints, not time. */
static bool expect_unsupported(const bench_engine *e, int mode)
{
    return mode == BENCH_SYNC_NORMAL &&
           (strcmp(e->name, "leveldb") == 0 || strcmp(e->name, "sqlite") == 0);
}

#define CHECK_OK(expr)                                                        \
    do {                                                                      \
        int rc_ = (expr);                                                     \
        if (rc_ != BENCH_OK)                                                  \
            fail_msg("%s returned %d: %s", #expr, rc_, bench_engine_error()); \
    } while (0)

typedef struct combo {
    const bench_engine *e;
    int mode;
    char root[64]; /* the test's directory, removed by the teardown even
                      when an assertion fails */
} combo;

static int remove_root(void **state)
{
    combo *cb = *state;
    if (cb->root[0])
        tu_rmdir(cb->root);
    cb->root[0] = '\0';
    return 0;
}

static void default_cfg(bench_engine_config *cfg, const char *dir, int mode,
                        int threads)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->dir = dir;
    cfg->sync_mode = mode;
    cfg->sync_interval_ms = 20;
    cfg->key_count = 1000;
    cfg->key_size = 16;
    cfg->value_size = 100;
    cfg->threads = threads;
}

/* get must return exactly (v, vlen); the null engine only must succeed. */
static void check_value(const bench_engine *e, void *t, const void *k,
                         size_t klen, const void *v, size_t vlen)
{
    unsigned char buf[2048];
    size_t got = (size_t)-1;
    int rc = e->get(t, k, klen, buf, sizeof buf, &got);
    if (is_null_engine(e)) {
        assert_int_equal(rc, BENCH_OK);
        return;
    }
    if (rc != BENCH_OK)
        fail_msg("%s: get of %.*s returned %d: %s", e->name, (int)klen,
                 (const char *)k, rc, bench_engine_error());
    assert_int_equal(got, vlen);
    if (vlen)
        assert_memory_equal(buf, v, vlen);
}

static void check_absent(const bench_engine *e, void *t, const void *k,
                          size_t klen)
{
    unsigned char buf[64];
    size_t got = 0;
    int rc = e->get(t, k, klen, buf, sizeof buf, &got);
    if (is_null_engine(e))
        assert_int_equal(rc, BENCH_OK);
    else
        assert_int_equal(rc, BENCH_NOTFOUND);
}

/* 100 distinct keys whose bytewise order differs from numeric, length-first
 * and signed-char order: prefixes, 0x00, 0x7f, 0x80 and 0xff bytes. */
static void make_keys(key *keys, size_t n)
{
    static const char *const fixed[] = {"ab", "ab\0", "abc", "\xff", "\x80",
                                        "\x7f", "a", "b", "\x01"};
    static const size_t fixed_len[] = {2, 3, 3, 1, 1, 1, 1, 1, 1};
    size_t nf = sizeof fixed / sizeof fixed[0];
    uint64_t s = 42;
    for (size_t i = 0; i < n; i++) {
    again:
        if (i < nf) {
            memcpy(keys[i].b, fixed[i], fixed_len[i]);
            keys[i].len = fixed_len[i];
        } else {
            keys[i].len = 1 + rng_next(&s) % 12;
            for (size_t j = 0; j < keys[i].len; j++) {
                uint64_t r = rng_next(&s) % 8;
                /* Few distinct bytes so that shared prefixes are common. */
                static const unsigned char pick[8] = {0x00, 0x01, 0x61, 0x62,
                                                      0x7f, 0x80, 0xfe, 0xff};
                keys[i].b[j] = pick[r];
            }
        }
        for (size_t j = 0; j < i; j++)
            if (cmp_key(&keys[i], &keys[j]) == 0)
                goto again;
        keys[i].tag = (unsigned)i + 1;
    }
}

/* ---- the shared correctness check ------------------------------------- */

enum { NKEYS = 100 };

static void check_all_keys(const bench_engine *e, void *t, const key *keys)
{
    unsigned char v[200];
    for (size_t i = 0; i < NKEYS; i++) {
        size_t vl = 20 + keys[i].tag % 150;
        fill_val(v, vl, keys[i].tag);
        check_value(e, t, keys[i].b, keys[i].len, v, vl);
    }
}

static void test_correctness(void **state)
{
    combo *cb = *state;
    const bench_engine *e = cb->e;
    bool null = is_null_engine(e);
    char dir[128], desc[1024] = "";
    char *root = cb->root;
    make_tmp(root, sizeof cb->root);
    /* A nested path whose parent does not exist: open must create it. */
    snprintf(dir, sizeof dir, "%s/a/db", root);
    bench_engine_config cfg;
    default_cfg(&cfg, dir, cb->mode, 2);
    void *h = NULL, *t = NULL;
    bench_engine_set_error("%s", "");
    int rc = e->open(&cfg, &h, desc, sizeof desc);
    if (expect_unsupported(e, cb->mode)) {
        assert_int_equal(rc, BENCH_UNSUPPORTED);
        assert_true(bench_engine_error()[0] != '\0');
        tu_rmdir(root);
        return;
    }
    if (rc != BENCH_OK)
        fail_msg("%s/%s open: %d: %s", e->name,
                 bench_sync_mode_name(cb->mode), rc, bench_engine_error());
    assert_true(desc[0] != '\0');
    assert_null(strchr(desc, '\n'));
    print_message("# %s %s: %s\n", e->name, bench_sync_mode_name(cb->mode),
                  desc);
    CHECK_OK(e->thread_init(h, &t));

    /* put, get, short buffer, overwrite, empty value, delete */
    unsigned char v1[300], v2[300], buf[512];
    fill_val(v1, 40, 1);
    fill_val(v2, 300, 2);
    CHECK_OK(e->put(t, "alpha", 5, v1, 40));
    check_value(e, t, "alpha", 5, v1, 40);
    if (!null) {
        size_t got = 0;
        memset(buf, 0xee, sizeof buf);
        assert_int_equal(e->get(t, "alpha", 5, buf, 3, &got), BENCH_OK);
        assert_int_equal(got, 40);
        assert_memory_equal(buf, v1, 3);
        assert_int_equal(buf[3], 0xee);
    }
    CHECK_OK(e->put(t, "alpha", 5, v2, 300));
    check_value(e, t, "alpha", 5, v2, 300);
    CHECK_OK(e->put(t, "empty", 5, "", 0));
    check_value(e, t, "empty", 5, "", 0);
    check_absent(e, t, "absent", 6);
    CHECK_OK(e->del(t, "alpha", 5));
    check_absent(e, t, "alpha", 5);
    CHECK_OK(e->del(t, "alpha", 5)); /* deleting an absent key is fine */
    CHECK_OK(e->del(t, "empty", 5));

    /* scan order: keys inserted in random order come back bytewise */
    key keys[NKEYS], sorted[NKEYS];
    make_keys(keys, NKEYS);
    size_t order[NKEYS];
    for (size_t i = 0; i < NKEYS; i++)
        order[i] = i;
    uint64_t s = 7;
    for (size_t i = NKEYS - 1; i > 0; i--) {
        size_t j = rng_next(&s) % (i + 1), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    unsigned char v[200];
    for (size_t i = 0; i < NKEYS; i++) {
        const key *k = &keys[order[i]];
        size_t vl = 20 + k->tag % 150;
        fill_val(v, vl, k->tag);
        CHECK_OK(e->put(t, k->b, k->len, v, vl));
    }
    memcpy(sorted, keys, sizeof sorted);
    qsort(sorted, NKEYS, sizeof sorted[0], cmp_key);
    for (size_t j = 0; j < NKEYS; j++) {
        size_t found = 999;
        CHECK_OK(e->scan(t, sorted[j].b, sorted[j].len, 1000, &found));
        if (!null && found != NKEYS - j)
            fail_msg("%s: scan from sorted key %zu found %zu, want %zu",
                     e->name, j, found, (size_t)NKEYS - j);
        /* key + "\0" is the smallest key after key: one fewer. */
        unsigned char after[17];
        memcpy(after, sorted[j].b, sorted[j].len);
        after[sorted[j].len] = 0;
        CHECK_OK(e->scan(t, after, sorted[j].len + 1, 1000, &found));
        if (!null && found != NKEYS - j - 1)
            fail_msg("%s: scan after sorted key %zu found %zu, want %zu",
                     e->name, j, found, (size_t)NKEYS - j - 1);
    }
    size_t found = 0;
    CHECK_OK(e->scan(t, sorted[0].b, sorted[0].len, 10, &found));
    assert_int_equal(found, 10);
    CHECK_OK(e->scan(t, sorted[50].b, sorted[50].len, 0, &found));
    if (!null)
        assert_int_equal(found, 0);
    check_all_keys(e, t, keys);

    /* txn_put: all n puts visible after one commit */
    const char *tk[5] = {"txn-0", "txn-1", "txn-2", "txn-3", "txn-4"};
    unsigned char tv[5][64];
    const void *tkp[5], *tvp[5];
    size_t tkl[5], tvl[5];
    for (int i = 0; i < 5; i++) {
        fill_val(tv[i], 64, 100u + (unsigned)i);
        tkp[i] = tk[i];
        tkl[i] = 5;
        tvp[i] = tv[i];
        tvl[i] = 10u + (size_t)i * 10u;
    }
    CHECK_OK(e->txn_put(t, 5, tkp, tkl, tvp, tvl));
    for (int i = 0; i < 5; i++)
        check_value(e, t, tk[i], 5, tv[i], tvl[i]);

    /* multi_get agrees with get, for present and absent keys */
    if (e->multi_get) {
        const void *mk[13];
        size_t mkl[13], mvl[13];
        int mrc[13];
        for (int i = 0; i < 10; i++) {
            mk[i] = sorted[i * 9].b;
            mkl[i] = sorted[i * 9].len;
        }
        mk[10] = "nope-1", mkl[10] = 6;
        mk[11] = tk[3], mkl[11] = 5;
        mk[12] = "alpha", mkl[12] = 5;
        CHECK_OK(e->multi_get(t, 13, mk, mkl, mvl, mrc));
        for (int i = 0; i < 13; i++) {
            size_t gl = 0;
            int grc = e->get(t, mk[i], mkl[i], buf, sizeof buf, &gl);
            assert_int_equal(mrc[i], grc);
            if (grc == BENCH_OK)
                assert_int_equal(mvl[i], gl);
        }
        if (!null) {
            assert_int_equal(mrc[10], BENCH_NOTFOUND);
            assert_int_equal(mrc[11], BENCH_OK);
            assert_int_equal(mvl[11], tvl[3]);
        }
    }

    /* drop_cache keeps every context usable and the data readable */
    CHECK_OK(e->drop_cache(h));
    check_all_keys(e, t, keys);
    CHECK_OK(e->scan(t, sorted[0].b, sorted[0].len, 1000, &found));
    if (!null)
        assert_int_equal(found, NKEYS + 5 /* the txn keys sort last */);
    CHECK_OK(e->put(t, "after-drop", 10, v1, 40));
    CHECK_OK(e->sync(h));

    /* close and reopen keep the data */
    e->thread_fini(h, t);
    CHECK_OK(e->close(h));
    h = NULL;
    CHECK_OK(e->open(&cfg, &h, desc, sizeof desc));
    CHECK_OK(e->thread_init(h, &t));
    check_all_keys(e, t, keys);
    for (int i = 0; i < 5; i++)
        check_value(e, t, tk[i], 5, tv[i], tvl[i]);
    check_value(e, t, "after-drop", 10, v1, 40);
    check_absent(e, t, "alpha", 5);
    e->thread_fini(h, t);
    CHECK_OK(e->close(h));
    tu_rmdir(root);
}

/* ---- two threads, each with its own context --------------------------- */

enum { CONC_OPS = 1500 };

typedef struct worker {
    const bench_engine *e;
    void *h;
    int id;
    char err[512];
    int gen_done;           /* atomic-visibility writer: generations done */
    atomic_int *stop;       /* set by the writer when it is finished */
    unsigned checks;        /* snapshot checks the reader made */
} worker;

static void wfail(worker *w, const char *fmt, ...)
{
    if (w->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
}

static void *put_get_worker(void *arg)
{
    worker *w = arg;
    const bench_engine *e = w->e;
    bool null = is_null_engine(e);
    void *t = NULL;
    if (e->thread_init(w->h, &t) != BENCH_OK) {
        wfail(w, "thread_init: %s", bench_engine_error());
        return NULL;
    }
    unsigned char v[128], buf[128];
    char k[32];
    uint64_t s = (uint64_t)w->id * 1000 + 1;
    for (int i = 0; i < CONC_OPS && !w->err[0]; i++) {
        int kl = snprintf(k, sizeof k, "w%d-%06d", w->id, i);
        size_t vl = 16 + (size_t)(i % 100);
        fill_val(v, vl, (unsigned)(w->id * 100000 + i));
        if (e->put(t, k, (size_t)kl, v, vl) != BENCH_OK) {
            wfail(w, "put %s: %s", k, bench_engine_error());
            break;
        }
        /* Read back one of this thread's earlier keys. */
        int j = (int)(rng_next(&s) % (uint64_t)(i + 1));
        kl = snprintf(k, sizeof k, "w%d-%06d", w->id, j);
        vl = 16 + (size_t)(j % 100);
        fill_val(v, vl, (unsigned)(w->id * 100000 + j));
        size_t got = 0;
        int rc = e->get(t, k, (size_t)kl, buf, sizeof buf, &got);
        if (rc != BENCH_OK)
            wfail(w, "get %s: %d %s", k, rc, bench_engine_error());
        else if (!null && (got != vl || memcmp(buf, v, vl) != 0))
            wfail(w, "get %s: wrong value (len %zu, want %zu)", k, got, vl);
        /* And the other thread's keys: present or absent, never broken. */
        kl = snprintf(k, sizeof k, "w%d-%06d", 1 - w->id, j);
        rc = e->get(t, k, (size_t)kl, buf, sizeof buf, &got);
        if (rc != BENCH_OK && rc != BENCH_NOTFOUND)
            wfail(w, "get %s: %d %s", k, rc, bench_engine_error());
    }
    e->thread_fini(w->h, t);
    return NULL;
}

enum { ATOM_KEYS = 5, ATOM_GENS = 300 };

static size_t atom_len(int gen) { return 8 + (size_t)(gen % 64); }

static void *atom_writer(void *arg)
{
    worker *w = arg;
    const bench_engine *e = w->e;
    void *t = NULL;
    if (e->thread_init(w->h, &t) != BENCH_OK) {
        wfail(w, "thread_init: %s", bench_engine_error());
        atomic_store(w->stop, 1);
        return NULL;
    }
    static const char *const ak[ATOM_KEYS] = {"atom-0", "atom-1", "atom-2",
                                              "atom-3", "atom-4"};
    unsigned char v[ATOM_KEYS][80];
    const void *kp[ATOM_KEYS], *vp[ATOM_KEYS];
    size_t kl[ATOM_KEYS], vl[ATOM_KEYS];
    for (int g = 1; g <= ATOM_GENS && !w->err[0]; g++) {
        for (int i = 0; i < ATOM_KEYS; i++) {
            kp[i] = ak[i];
            kl[i] = 6;
            vl[i] = atom_len(g);
            fill_val(v[i], vl[i], (unsigned)g);
            vp[i] = v[i];
        }
        if (e->txn_put(t, ATOM_KEYS, kp, kl, vp, vl) != BENCH_OK)
            wfail(w, "txn_put gen %d: %s", g, bench_engine_error());
        w->gen_done = g;
    }
    atomic_store(w->stop, 1);
    e->thread_fini(w->h, t);
    return NULL;
}

/* Every multi_get must see the 5 keys from one generation: equal lengths
 * (the generation is encoded in the length). */
static void *atom_reader(void *arg)
{
    worker *w = arg;
    const bench_engine *e = w->e;
    void *t = NULL;
    if (e->thread_init(w->h, &t) != BENCH_OK) {
        wfail(w, "thread_init: %s", bench_engine_error());
        return NULL;
    }
    static const char *const ak[ATOM_KEYS] = {"atom-0", "atom-1", "atom-2",
                                              "atom-3", "atom-4"};
    const void *kp[ATOM_KEYS];
    size_t kl[ATOM_KEYS], vl[ATOM_KEYS];
    int rcs[ATOM_KEYS];
    for (int i = 0; i < ATOM_KEYS; i++)
        kp[i] = ak[i], kl[i] = 6;
    for (unsigned n = 0; n < 200000 && !w->err[0]; n++) {
        int done = atomic_load(w->stop);
        if (e->multi_get(t, ATOM_KEYS, kp, kl, vl, rcs) != BENCH_OK) {
            wfail(w, "multi_get: %s", bench_engine_error());
            break;
        }
        for (int i = 0; i < ATOM_KEYS; i++)
            if (rcs[i] != BENCH_OK || vl[i] != vl[0])
                wfail(w, "torn snapshot: key %d rc %d len %zu vs %zu", i,
                      rcs[i], vl[i], vl[0]);
        w->checks++;
        if (done)
            break;
    }
    e->thread_fini(w->h, t);
    return NULL;
}

static void test_concurrent(void **state)
{
    combo *cb = *state;
    const bench_engine *e = cb->e;
    bool null = is_null_engine(e);
    char desc[1024];
    char *root = cb->root;
    make_tmp(root, sizeof cb->root);
    bench_engine_config cfg;
    default_cfg(&cfg, root, cb->mode, 3);
    void *h = NULL;
    int rc = e->open(&cfg, &h, desc, sizeof desc);
    if (rc != BENCH_OK)
        fail_msg("%s open: %d: %s", e->name, rc, bench_engine_error());

    worker w[2] = {{.e = e, .h = h, .id = 0}, {.e = e, .h = h, .id = 1}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, put_get_worker, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++)
        if (w[i].err[0])
            fail_msg("%s worker %d: %s", e->name, i, w[i].err);

    /* Both threads' writes are all visible afterwards. */
    void *t = NULL;
    CHECK_OK(e->thread_init(h, &t));
    unsigned char v[128];
    char k[32];
    for (int id = 0; id < 2; id++)
        for (int i = 0; i < CONC_OPS; i += 37) {
            int kl = snprintf(k, sizeof k, "w%d-%06d", id, i);
            size_t vl = 16 + (size_t)(i % 100);
            fill_val(v, vl, (unsigned)(id * 100000 + i));
            check_value(e, t, k, (size_t)kl, v, vl);
        }

    /* txn_put is atomic to a concurrent one-snapshot reader. */
    if (e->multi_get && !null) {
        static const char *const ak[ATOM_KEYS] = {"atom-0", "atom-1", "atom-2",
                                                  "atom-3", "atom-4"};
        unsigned char av[ATOM_KEYS][8];
        const void *kp[ATOM_KEYS], *vp[ATOM_KEYS];
        size_t kl[ATOM_KEYS], vl[ATOM_KEYS];
        for (int i = 0; i < ATOM_KEYS; i++) {
            kp[i] = ak[i], kl[i] = 6, vl[i] = atom_len(0);
            fill_val(av[i], vl[i], 0);
            vp[i] = av[i];
        }
        CHECK_OK(e->txn_put(t, ATOM_KEYS, kp, kl, vp, vl));
        atomic_int stop = 0;
        worker aw = {.e = e, .h = h, .id = 2, .stop = &stop};
        worker ar = {.e = e, .h = h, .id = 3, .stop = &stop};
        assert_int_equal(pthread_create(&th[0], NULL, atom_writer, &aw), 0);
        assert_int_equal(pthread_create(&th[1], NULL, atom_reader, &ar), 0);
        pthread_join(th[0], NULL);
        pthread_join(th[1], NULL);
        if (aw.err[0])
            fail_msg("%s atomic writer: %s", e->name, aw.err);
        if (ar.err[0])
            fail_msg("%s atomic reader: %s", e->name, ar.err);
        assert_int_equal(aw.gen_done, ATOM_GENS);
        assert_true(ar.checks > 0);
    }
    e->thread_fini(h, t);
    CHECK_OK(e->close(h));
    tu_rmdir(root);
}

/* ---- registry, errors, helpers ---------------------------------------- */

static void test_registry(void **state)
{
    (void)state;
    static const char *const want[] = {"lightning", "lmdb", "rocksdb",
                                       "leveldb", "sqlite", "null"};
    const bench_engine *const *all = bench_engines();
    size_t n = 0;
    while (all[n])
        n++;
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        const bench_engine *e = bench_engine_find(want[i]);
        assert_non_null(e);
        assert_string_equal(e->name, want[i]);
        assert_non_null(e->open);
        assert_non_null(e->close);
        assert_non_null(e->thread_init);
        assert_non_null(e->thread_fini);
        assert_non_null(e->put);
        assert_non_null(e->get);
        assert_non_null(e->del);
        assert_non_null(e->scan);
        assert_non_null(e->txn_put);
        assert_non_null(e->drop_cache);
        assert_non_null(e->sync);
    }
    assert_null(bench_engine_find("nope"));
    assert_null(bench_engine_find(NULL));
}

static void test_bad_config(void **state)
{
    (void)state;
    char root[64], desc[256];
    make_tmp(root, sizeof root);
    for (const bench_engine *const *e = bench_engines(); *e; e++) {
        bench_engine_config cfg;
        default_cfg(&cfg, root, 7, 1);
        void *h = NULL;
        bench_engine_set_error("%s", "");
        assert_int_equal((*e)->open(&cfg, &h, desc, sizeof desc), BENCH_EINVAL);
        assert_true(bench_engine_error()[0] != '\0');
        cfg.sync_mode = BENCH_SYNC_NONE;
        cfg.dir = NULL;
        assert_int_equal((*e)->open(&cfg, &h, desc, sizeof desc), BENCH_EINVAL);
    }
    tu_rmdir(root);
}

/* LIGHTNING_BENCH_OPTIONS: a bad item is a clear BENCH_EINVAL naming it;
 * good ones reach the engine and the description says so. */
/* Each of bad[] in LIGHTNING_BENCH_OPTIONS: open refuses it (EINVAL, no
 * handle, a message naming the variable). */
static void expect_refused(const bench_engine *e, const bench_engine_config *cfg,
                           const char *const *bad, size_t n)
{
    char desc[512];
    for (size_t i = 0; i < n; i++) {
        void *h = NULL;
        setenv("LIGHTNING_BENCH_OPTIONS", bad[i], 1);
        assert_int_equal(e->open(cfg, &h, desc, sizeof desc), BENCH_EINVAL);
        assert_null(h);
        assert_non_null(strstr(bench_engine_error(), "LIGHTNING_BENCH_OPTIONS"));
    }
}

static void test_lightning_env_options(void **state)
{
    (void)state;
    char root[64], desc[512];
    make_tmp(root, sizeof root);
    const bench_engine *e = bench_engine_find("lightning");
    assert_non_null(e);
    bench_engine_config cfg;
    default_cfg(&cfg, root, 7, 1);
    cfg.sync_mode = BENCH_SYNC_NONE;
    static const char *const bad[] = {"bogus", "hash_accelerator=2", "cleaner=", "=1",
                                      "compression=snappy", "segment_size=-5",
                                      "verify_checksums=1x", "verify_checksums=sometimes"};
    expect_refused(e, &cfg, bad, sizeof bad / sizeof bad[0]);
    setenv("LIGHTNING_BENCH_OPTIONS",
           "hash_accelerator=0,verify_checksums=0,compression=lz4,checkpoint_bytes=0", 1);
    void *h = NULL;
    assert_int_equal(e->open(&cfg, &h, desc, sizeof desc), BENCH_OK);
    assert_non_null(strstr(desc, "hash_accelerator off"));
    assert_non_null(strstr(desc, "verify_checksums never"));
    assert_non_null(strstr(desc, "compression lz4"));
    assert_non_null(strstr(desc, "checkpoint_bytes 0")); /* runs keyed apart in history */
    void *t = NULL;
    assert_int_equal(e->thread_init(h, &t), BENCH_OK);
    char v[300] = {0}, out[300];
    size_t vl = 0;
    assert_int_equal(e->put(t, "key00001", 8, v, sizeof v), BENCH_OK);
    assert_int_equal(e->get(t, "key00001", 8, out, sizeof out, &vl), BENCH_OK);
    assert_int_equal(vl, sizeof v);
    e->thread_fini(h, t);
    assert_int_equal(e->close(h), BENCH_OK);
    unsetenv("LIGHTNING_BENCH_OPTIONS");
    h = NULL;
    assert_int_equal(e->open(&cfg, &h, desc, sizeof desc), BENCH_OK);
    assert_null(strstr(desc, "hash_accelerator"));
    assert_null(strstr(desc, "checkpoint_bytes"));
    assert_int_equal(e->close(h), BENCH_OK);
    tu_rmdir(root);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The off-CPU injector (inject_every, inject_sleep_us): a sleep every N
 * ops costs wall time (20 gets with a 5 ms sleep every 4: >= 25 ms), is
 * named in the description, and bad values are refused. */
static void test_lightning_off_cpu_injector(void **state)
{
    (void)state;
    char root[64], desc[512];
    make_tmp(root, sizeof root);
    const bench_engine *e = bench_engine_find("lightning");
    bench_engine_config cfg;
    default_cfg(&cfg, root, 7, 1);
    cfg.sync_mode = BENCH_SYNC_NONE;
    static const char *const bad[] = {"inject_every=0", "inject_sleep_us=2000000",
                                      "inject_every=x"};
    expect_refused(e, &cfg, bad, sizeof bad / sizeof bad[0]);
    setenv("LIGHTNING_BENCH_OPTIONS", "inject_every=4,inject_sleep_us=5000", 1);
    void *h = NULL;
    assert_int_equal(e->open(&cfg, &h, desc, sizeof desc), BENCH_OK);
    assert_non_null(strstr(desc, "injected: a sleep every 4 ops"));
    void *t = NULL;
    assert_int_equal(e->thread_init(h, &t), BENCH_OK);
    char v[100] = {0}, out[100];
    size_t vl = 0;
    assert_int_equal(e->put(t, "key00001", 8, v, sizeof v), BENCH_OK);
    double t0 = mono_s();
    for (int i = 0; i < 20; i++)
        assert_int_equal(e->get(t, "key00001", 8, out, sizeof out, &vl), BENCH_OK);
    double dt = mono_s() - t0;
    print_message("# 20 gets, a 5 ms sleep every 4 ops: %.3f s\n", dt);
    assert_true(dt >= 0.025);
    e->thread_fini(h, t);
    assert_int_equal(e->close(h), BENCH_OK);
    setenv("LIGHTNING_BENCH_OPTIONS", "inject_every=1000", 1);
    h = NULL;
    assert_int_equal(e->open(&cfg, &h, desc, sizeof desc), BENCH_OK);
    assert_non_null(strstr(desc, "injected: a syscall every 1000 ops"));
    assert_int_equal(e->close(h), BENCH_OK);
    unsetenv("LIGHTNING_BENCH_OPTIONS");
    tu_rmdir(root);
}

static void *err_thread(void *arg)
{
    char *out = arg;
    snprintf(out, 64, "%s", bench_engine_error());
    bench_engine_set_error("thread %d", 2);
    return NULL;
}

static void test_error_is_thread_local(void **state)
{
    (void)state;
    bench_engine_set_error("main %s", "one");
    char seen[64] = "unset";
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, err_thread, seen), 0);
    pthread_join(th, NULL);
    assert_string_equal(seen, "");
    assert_string_equal(bench_engine_error(), "main one");
}

static void test_dir_helpers(void **state)
{
    (void)state;
    char root[64], p[192];
    make_tmp(root, sizeof root);
    snprintf(p, sizeof p, "%s/x/y/z", root);
    assert_int_equal(bench_make_dir(p), BENCH_OK);
    assert_int_equal(bench_make_dir(p), BENCH_OK); /* idempotent */
    snprintf(p, sizeof p, "%s/x/y/z/file", root);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (int i = 0; i < 1000; i++)
        fputs("some data to evict\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/top", root);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/link", root);
    assert_int_equal(symlink("/etc/hostname", p), 0); /* not followed */
    assert_int_equal(bench_drop_dir_cache(root), BENCH_OK);
    assert_int_equal(bench_sync_dir_files(root), BENCH_OK);
    snprintf(p, sizeof p, "%s/missing", root);
    bench_engine_set_error("%s", "");
    assert_int_equal(bench_drop_dir_cache(p), BENCH_EFAIL);
    assert_non_null(strstr(bench_engine_error(), "missing"));
    /* A file in the way of a directory is refused with a message. */
    snprintf(p, sizeof p, "%s/top/sub", root);
    assert_int_not_equal(bench_make_dir(p), BENCH_OK);
    tu_rmdir(root);
}

typedef struct sync_probe {
    atomic_int calls; /* read by the test while the syncer writes it */
    int fail_after;
} sync_probe;

static int probe_fn(void *arg, char *err, size_t cap)
{
    sync_probe *p = arg;
    int c = atomic_fetch_add(&p->calls, 1) + 1;
    if (c > p->fail_after) {
        snprintf(err, cap, "probe failure %d", c);
        return BENCH_EFAIL;
    }
    return BENCH_OK;
}

static void test_syncer(void **state)
{
    (void)state;
    bench_syncer s;
    sync_probe p = {0, 1000};
    assert_int_equal(bench_syncer_start(&s, 5, probe_fn, &p), BENCH_OK);
    struct timespec d = {0, 80 * 1000 * 1000};
    nanosleep(&d, NULL);
    assert_int_equal(bench_syncer_status(&s), BENCH_OK);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(bench_syncer_stop(&s), BENCH_OK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    /* Stopping does not wait for the next period. */
    assert_true((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) <
                50 * 1000 * 1000L);
    assert_true(atomic_load(&p.calls) >= 3);
    assert_int_equal(bench_syncer_stop(&s), BENCH_OK); /* idempotent */

    /* A failure is kept and reported by status and stop. */
    sync_probe q = {0, 1};
    assert_int_equal(bench_syncer_start(&s, 2, probe_fn, &q), BENCH_OK);
    for (int i = 0; i < 200 && atomic_load(&q.calls) < 3; i++) {
        struct timespec e = {0, 2 * 1000 * 1000};
        nanosleep(&e, NULL);
    }
    assert_int_equal(bench_syncer_status(&s), BENCH_EFAIL);
    assert_non_null(strstr(bench_engine_error(), "probe failure 2"));
    assert_int_equal(bench_syncer_stop(&s), BENCH_EFAIL);
}

/* ---- runner ----------------------------------------------------------- */

enum { MAX_TESTS = 64 };

int main(void)
{
    static struct CMUnitTest tests[MAX_TESTS];
    static combo combos[MAX_TESTS];
    static char names[MAX_TESTS][64];
    size_t n = 0, nc = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_registry);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_error_is_thread_local);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_dir_helpers);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_syncer);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bad_config);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_lightning_env_options);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_lightning_off_cpu_injector);
    for (const bench_engine *const *e = bench_engines(); *e; e++) {
        for (int m = BENCH_SYNC_NONE; m <= BENCH_SYNC_FULL; m++) {
            if (n >= MAX_TESTS)
                break;
            combos[nc] = (combo){.e = *e, .mode = m};
            snprintf(names[n], sizeof names[n], "correctness_%s_%s",
                     (*e)->name, bench_sync_mode_name(m));
            tests[n] = (struct CMUnitTest){names[n], test_correctness, NULL,
                                           remove_root, &combos[nc]};
            n++, nc++;
        }
        if (n >= MAX_TESTS)
            break;
        combos[nc] = (combo){.e = *e, .mode = BENCH_SYNC_NONE};
        snprintf(names[n], sizeof names[n], "concurrent_%s", (*e)->name);
        tests[n] = (struct CMUnitTest){names[n], test_concurrent, NULL,
                                       remove_root, &combos[nc]};
        n++, nc++;
    }
    return _cmocka_run_group_tests("bench_adapters", tests, n, NULL, NULL);
}
