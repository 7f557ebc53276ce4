/*
 * tests/unit/test_index.c — the ordered index (engine/index.c) driven
 * directly, without a database: entries are made here the way the MVCC
 * layer makes them, and every test ends with idx_check (order, fences,
 * counts, prefix cache) besides its own assertions.
 * - ordering: keys inserted in random, ascending and descending order come
 *   back in byte order from idx_walk and from the leaf range reads, each
 *   found by idx_find and idx_find_w, absent keys not found;
 * - splits: enough keys for a tree three levels deep; sequential loads
 *   keep leaves full (the append split), random ones at least half full;
 * - boundary keys: the empty key, keys that are prefixes of one another,
 *   keys sharing more than IDX_CP_MAX bytes, 4096-byte keys differing only
 *   in their last byte;
 * - removal: every other key, then all of them (the tree collapses to one
 *   empty leaf and takes keys again); removed nodes are retired through the
 *   epoch, not freed while a reader is inside;
 * - tombstones: the index links a key whose newest version is a tombstone
 *   like any other (visibility is the MVCC layer's business);
 * - concurrent readers: two threads look up keys that stay while the
 *   writer inserts, splits and removes around them (ASan/TSan builds run
 *   this too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/epoch.h"
#include "engine/index.h"
#include "engine/util.h"
#include "lightningdb.h"
#include "testutil.h"

typedef struct fixture {
    epoch_mgr ep;
    idx_tree t;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || epoch_init(&f->ep) != LDB_OK || idx_init(&f->t, &f->ep) != LDB_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    idx_destroy(&f->t, tu_entry_free, NULL);
    epoch_destroy(&f->ep);
    free(f);
    return 0;
}

static idx_entry *put(fixture *f, const void *k, size_t kl)
{
    idx_entry *e = tu_entry_new(k, kl, 1, 1);
    assert_non_null(e);
    assert_int_equal(idx_insert(&f->t, e), LDB_OK);
    return e;
}

static idx_entry *put_u64(fixture *f, uint64_t i)
{
    uint8_t k[8];
    tu_key_be(k, i);
    return put(f, k, 8);
}

static idx_entry *find_u64(fixture *f, uint64_t i)
{
    uint8_t k[8];
    tu_key_be(k, i);
    return idx_find(&f->t, k, 8);
}

static void remove_entry(fixture *f, idx_entry *e)
{
    assert_int_equal(epoch_reserve(&f->ep, IDX_REMOVE_RETIRES), LDB_OK);
    assert_int_equal(idx_remove(&f->t, e), LDB_OK);
}

static void check(fixture *f, uint64_t want_entries)
{
    uint64_t n = ~0ull;
    assert_int_equal(idx_check(&f->t, &n), 0);
    assert_int_equal(n, want_entries);
}

static int keycmp(const idx_entry *a, const idx_entry *b)
{
    return util_keycmp(a->key, a->klen, b->key, b->klen);
}

/* idx_walk visits in strictly ascending order; counts and keeps them. */
typedef struct walk {
    idx_entry *prev;
    uint64_t n;
    idx_entry **seen;
    size_t cap;
} walk;

static int walk_fn(idx_entry *e, void *arg)
{
    walk *w = arg;
    if (w->prev && keycmp(w->prev, e) >= 0) return -1;
    if (w->seen && w->n < w->cap) w->seen[w->n] = e;
    w->prev = e;
    w->n++;
    return 0;
}

static uint64_t walk_all(fixture *f, idx_entry **seen, size_t cap)
{
    walk w = {NULL, 0, seen, cap};
    assert_int_equal(idx_walk(&f->t, NULL, 0, walk_fn, &w), 0);
    return w.n;
}

/* All entries through idx_leaf_ge and its fences, as an iterator reads. */
static uint64_t scan_forward(fixture *f, idx_entry **out, size_t cap)
{
    idx_entry *buf[IDX_CAP];
    const idx_key *fence = NULL;
    const void *from = NULL;
    size_t from_len = 0;
    uint64_t n = 0;
    for (;;) {
        size_t got = idx_leaf_ge(&f->t, from, from_len, 0, buf, &fence);
        for (size_t i = 0; i < got; i++) {
            if (n && keycmp(out[n - 1], buf[i]) >= 0) fail_msg("leaf_ge out of order at %llu", (unsigned long long)n);
            assert_true(n < cap);
            out[n++] = buf[i];
        }
        if (!fence) return n;
        from = fence->bytes;
        from_len = fence->len;
    }
}

static uint64_t scan_backward(fixture *f, idx_entry **out, size_t cap)
{
    idx_entry *buf[IDX_CAP];
    const idx_key *fence = NULL;
    const void *from = NULL;
    size_t from_len = 0;
    int exclusive = 0;
    uint64_t n = 0;
    for (;;) {
        size_t got = idx_leaf_le(&f->t, from, from_len, exclusive, buf, &fence);
        for (size_t i = 0; i < got; i++) {
            if (n && keycmp(out[n - 1], buf[i]) <= 0) fail_msg("leaf_le out of order at %llu", (unsigned long long)n);
            assert_true(n < cap);
            out[n++] = buf[i];
        }
        if (!fence) return n;
        from = fence->bytes;
        from_len = fence->len;
        exclusive = 1; /* keys < this leaf's lower bound */
    }
}

static void shuffle(uint64_t *v, size_t n, uint64_t seed)
{
    tu_rng r = {seed};
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)tu_rand_below(&r, i);
        uint64_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* ---- tests ------------------------------------------------------------ */

static void test_empty_tree(void **state)
{
    fixture *f = *state;
    uint8_t k[8];
    tu_key_be(k, 7);
    assert_null(idx_find(&f->t, k, 8));
    assert_null(idx_find_w(&f->t, NULL, 0));
    idx_entry *buf[IDX_CAP];
    const idx_key *fence = (const idx_key *)1;
    assert_int_equal(idx_leaf_ge(&f->t, NULL, 0, 0, buf, &fence), 0);
    assert_null(fence);
    fence = (const idx_key *)1;
    assert_int_equal(idx_leaf_le(&f->t, NULL, 0, 0, buf, &fence), 0);
    assert_null(fence);
    idx_entry *e = tu_entry_new(k, 8, 1, 1);
    assert_int_equal(epoch_reserve(&f->ep, IDX_REMOVE_RETIRES), LDB_OK);
    assert_int_equal(idx_remove(&f->t, e), LDB_NOTFOUND);
    free(e);
    check(f, 0);
}

static void check_order(fixture *f, const uint64_t *order, size_t n)
{
    idx_entry **made = calloc(n, sizeof *made);
    assert_non_null(made);
    for (size_t i = 0; i < n; i++) made[order[i]] = put_u64(f, order[i]);
    check(f, n);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(find_u64(f, i), made[i]);
        uint8_t k[8];
        tu_key_be(k, i);
        assert_ptr_equal(idx_find_w(&f->t, k, 8), made[i]);
    }
    assert_null(find_u64(f, n));             /* past the end */
    assert_null(idx_find(&f->t, "\x00", 1)); /* a prefix of key 0 */
    idx_entry **seen = calloc(n, sizeof *seen);
    assert_non_null(seen);
    assert_int_equal(walk_all(f, seen, n), n);
    for (size_t i = 0; i < n; i++) assert_ptr_equal(seen[i], made[i]);
    memset(seen, 0, n * sizeof *seen);
    assert_int_equal(scan_forward(f, seen, n), n);
    for (size_t i = 0; i < n; i++) assert_ptr_equal(seen[i], made[i]);
    memset(seen, 0, n * sizeof *seen);
    assert_int_equal(scan_backward(f, seen, n), n);
    for (size_t i = 0; i < n; i++) assert_ptr_equal(seen[i], made[n - 1 - i]);
    free(seen);
    free(made);
}

#define N_KEYS 20000u /* > IDX_CAP^2 / 2: three levels */

static void test_random_order(void **state)
{
    fixture *f = *state;
    uint64_t *order = malloc(N_KEYS * sizeof *order);
    assert_non_null(order);
    for (uint64_t i = 0; i < N_KEYS; i++) order[i] = i;
    shuffle(order, N_KEYS, tu_seed(0x1de7));
    check_order(f, order, N_KEYS);
    /* Random splits halve nodes: leaves at least half full on average. */
    uint64_t nodes = atomic_load(&f->t.nodes);
    assert_true(nodes > N_KEYS / IDX_CAP);
    assert_true(nodes < 2 * (N_KEYS / (IDX_CAP / 2)));
    free(order);
}

static void test_ascending_is_dense(void **state)
{
    fixture *f = *state;
    uint64_t *order = malloc(N_KEYS * sizeof *order);
    assert_non_null(order);
    for (uint64_t i = 0; i < N_KEYS; i++) order[i] = i;
    check_order(f, order, N_KEYS);
    /* The append split leaves full leaves behind: N / IDX_CAP leaves and
     * about 2 N / IDX_CAP^2 inner nodes (inner splits halve), within 10%,
     * where halving leaf splits would make twice as many. */
    uint64_t nodes = atomic_load(&f->t.nodes);
    assert_true(nodes * 10 <= (N_KEYS / IDX_CAP) * 11);
    free(order);
}

static void test_descending_is_dense(void **state)
{
    fixture *f = *state;
    uint64_t *order = malloc(N_KEYS * sizeof *order);
    assert_non_null(order);
    for (uint64_t i = 0; i < N_KEYS; i++) order[i] = N_KEYS - 1 - i;
    check_order(f, order, N_KEYS);
    uint64_t nodes = atomic_load(&f->t.nodes);
    assert_true(nodes * 10 <= (N_KEYS / IDX_CAP) * 11); /* the prepend split */
    free(order);
}

/* Keys whose order is decided by length, by bytes past the common prefix
 * the nodes cache, and by the last byte of 4096. */
static void test_boundary_keys(void **state)
{
    fixture *f = *state;
    enum { LONG = 4096, N_LONG = 100, N_SHARED = 300 };
    uint8_t *big = malloc(LONG);
    assert_non_null(big);
    memset(big, 'k', LONG);
    size_t total = 0;
    idx_entry *empty = put(f, "", 0);
    total++;
    /* "a", "a\0", "aa", "aaa"...: each a prefix of the next. */
    const char *chain[] = {"a", "aa", "aaa", "aaaa", "aaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++, total++) put(f, chain[i], strlen(chain[i]));
    put(f, "a\0", 2);
    total++;
    /* 40 shared bytes, more than IDX_CP_MAX, then a distinguishing tail. */
    char sk[64];
    for (int i = 0; i < N_SHARED; i++, total++) {
        int len = snprintf(sk, sizeof sk, "user:profile:settings:shared-prefix:%06d", (i * 7919) % N_SHARED);
        put(f, sk, (size_t)len);
    }
    /* 4096-byte keys that differ only in the last byte (and two in the
     * first), inserted out of order. */
    idx_entry *longs[N_LONG];
    for (int i = 0; i < N_LONG; i++, total++) {
        int v = (i * 37) % N_LONG;
        big[LONG - 1] = (uint8_t)v;
        longs[v] = put(f, big, LONG);
    }
    check(f, total);
    assert_ptr_equal(idx_find(&f->t, "", 0), empty);
    for (int v = 0; v < N_LONG; v++) {
        big[LONG - 1] = (uint8_t)v;
        assert_ptr_equal(idx_find(&f->t, big, LONG), longs[v]);
    }
    big[LONG - 1] = N_LONG; /* absent: sorts after every long key */
    assert_null(idx_find(&f->t, big, LONG));
    assert_null(idx_find(&f->t, big, LONG - 1)); /* their common prefix */
    assert_null(idx_find(&f->t, "a\0\0", 3));
    assert_int_equal(idx_find(&f->t, "aa", 2)->klen, 2);
    idx_entry **seen = calloc(total, sizeof *seen);
    assert_non_null(seen);
    assert_int_equal(walk_all(f, seen, total), total); /* ascending, checked */
    assert_ptr_equal(seen[0], empty);
    assert_int_equal(seen[1]->klen, 1);                    /* "a" */
    assert_memory_equal(seen[2]->key, "a\0", 2);           /* then "a\0" */
    assert_int_equal(seen[3]->klen, 2);                    /* then "aa" */
    /* From a key between two long ones, exclusive and inclusive. */
    big[LONG - 1] = 50;
    idx_entry *buf[IDX_CAP];
    const idx_key *fence;
    assert_true(idx_leaf_ge(&f->t, big, LONG, 0, buf, &fence) >= 1);
    assert_ptr_equal(buf[0], longs[50]);
    assert_true(idx_leaf_ge(&f->t, big, LONG, 1, buf, &fence) >= 1 || fence);
    idx_entry *next = idx_leaf_ge(&f->t, big, LONG, 1, buf, &fence) ? buf[0] : NULL;
    if (!next) {
        assert_true(idx_leaf_ge(&f->t, fence->bytes, fence->len, 0, buf, &fence) >= 1);
        next = buf[0];
    }
    assert_ptr_equal(next, longs[51]);
    assert_true(idx_leaf_le(&f->t, big, LONG, 1, buf, &fence) >= 1);
    assert_ptr_equal(buf[0], longs[49]);
    free(seen);
    free(big);
}

static void test_remove_and_collapse(void **state)
{
    fixture *f = *state;
    enum { N = 5000 };
    idx_entry *made[N];
    uint64_t order[N];
    for (uint64_t i = 0; i < N; i++) order[i] = i;
    shuffle(order, N, tu_seed(0x7e40));
    for (int i = 0; i < N; i++) made[order[i]] = put_u64(f, order[i]);
    uint64_t nodes_full = atomic_load(&f->t.nodes);
    /* Every other key, in random order. */
    size_t left = N;
    for (int i = 0; i < N; i++) {
        uint64_t k = order[i];
        if (k % 2) continue;
        remove_entry(f, made[k]);
        free(made[k]); /* entries are the caller's; no reader here */
        made[k] = NULL;
        left--;
    }
    check(f, left);
    for (uint64_t i = 0; i < N; i++) assert_ptr_equal(find_u64(f, i), made[i]);
    uint8_t k[8];
    tu_key_be(k, 2);
    idx_entry *gone = tu_entry_new(k, 8, 1, 1);
    assert_int_equal(epoch_reserve(&f->ep, IDX_REMOVE_RETIRES), LDB_OK);
    assert_int_equal(idx_remove(&f->t, gone), LDB_NOTFOUND); /* already removed */
    free(gone);
    /* The rest: leaves empty, ancestors with them, the root collapses. */
    for (uint64_t i = 1; i < N; i += 2) {
        remove_entry(f, made[i]);
        free(made[i]);
        made[i] = NULL;
    }
    check(f, 0);
    assert_int_equal(walk_all(f, NULL, 0), 0);
    assert_true(atomic_load(&f->t.nodes) < nodes_full);
    assert_int_equal(atomic_load(&f->t.nodes), 1);
    /* Retired nodes are freed once reclaimed (no reader). */
    uint64_t freed0 = f->ep.freed;
    epoch_reclaim(&f->ep);
    assert_true(f->ep.freed > freed0);
    assert_int_equal(f->ep.n_items, 0);
    /* And the tree takes keys again. */
    for (uint64_t i = 0; i < 100; i++) put_u64(f, i * 3);
    check(f, 100);
    assert_non_null(find_u64(f, 99 * 3));
}

/* A node unlinked while a reader is inside is not freed until it leaves. */
static void test_remove_defers_free_to_readers(void **state)
{
    fixture *f = *state;
    enum { N = 2000 };
    idx_entry *made[N];
    for (uint64_t i = 0; i < N; i++) made[i] = put_u64(f, i);
    _Atomic uint64_t committed = 5;
    epoch_slot *s;
    assert_int_equal(epoch_slot_claim(&f->ep, EPOCH_SHORT, &s), LDB_OK);
    epoch_enter(&f->ep, s, &committed);
    uint64_t nodes0 = atomic_load(&f->t.nodes);
    for (uint64_t i = 0; i < N / 2; i++) remove_entry(f, made[i]);
    /* Each unlinked node is retired, and with it the separator that led to
     * it (all but the old root's, when the root collapses). */
    uint64_t unlinked = nodes0 - atomic_load(&f->t.nodes);
    assert_true(unlinked >= N / 2 / IDX_CAP - 1);
    assert_true(f->ep.n_items >= 2 * unlinked - 1);
    uint64_t freed0 = f->ep.freed;
    epoch_reclaim(&f->ep);
    assert_int_equal(f->ep.freed, freed0); /* the reader may hold them */
    epoch_exit(s);
    epoch_reclaim(&f->ep);
    assert_true(f->ep.freed > freed0);
    assert_int_equal(f->ep.n_items, 0);
    epoch_slot_release(s);
    for (uint64_t i = 0; i < N / 2; i++) free(made[i]);
    check(f, N / 2);
}

/* The index links versions, it does not judge them: a key whose newest
 * version is a tombstone is found, with its chain intact. */
static void test_tombstone_entries_are_linked(void **state)
{
    fixture *f = *state;
    uint8_t k[8];
    tu_key_be(k, 42);
    idx_entry *e = tu_entry_new(k, 8, 3, 10);
    assert_int_equal(idx_insert(&f->t, e), LDB_OK);
    idx_version *tomb = calloc(1, sizeof *tomb);
    assert_non_null(tomb);
    tomb->seq = 9;
    tomb->vlen = IDX_TOMBSTONE;
    atomic_store(&tomb->older, &e->first);
    atomic_store(&e->head, tomb);
    idx_entry *got = idx_find(&f->t, k, 8);
    assert_ptr_equal(got, e);
    idx_version *h = atomic_load(&got->head);
    assert_int_equal(h->vlen, IDX_TOMBSTONE);
    assert_ptr_equal(atomic_load(&h->older), &e->first);
    assert_int_equal(atomic_load(&h->older)->seq, 3);
    check(f, 1);
    atomic_store(&e->head, &e->first);
    free(tomb);
}

/* "find, else insert" in one descent. */
static void test_find_wc_insert_wc(void **state)
{
    fixture *f = *state;
    for (uint64_t i = 0; i < 3000; i++) {
        uint8_t k[8];
        tu_key_be(k, (i * 2654435761u) % 3000);
        idx_path p;
        idx_entry *e = idx_find_wc(&f->t, k, 8, &p);
        assert_null(e);
        e = tu_entry_new(k, 8, 1, 1);
        assert_int_equal(idx_insert_wc(&f->t, &p, e), LDB_OK);
        assert_ptr_equal(idx_find_wc(&f->t, k, 8, &p), e);
    }
    check(f, 3000);
}

static int stop_at(idx_entry *e, void *arg)
{
    uint64_t *count = arg;
    (void)e;
    return ++*count == 10 ? 77 : 0;
}

static void test_walk_from_and_stop(void **state)
{
    fixture *f = *state;
    for (uint64_t i = 0; i < 1000; i++) put_u64(f, i * 2);
    uint64_t count = 0;
    assert_int_equal(idx_walk(&f->t, NULL, 0, stop_at, &count), 77);
    assert_int_equal(count, 10);
    /* From an absent key: starts at the next one. */
    uint8_t k[8];
    tu_key_be(k, 501);
    walk w = {NULL, 0, NULL, 0};
    assert_int_equal(idx_walk(&f->t, k, 8, walk_fn, &w), 0);
    assert_int_equal(w.n, 1000 - 251);
    assert_non_null(w.prev);
}

/* ---- concurrent readers --------------------------------------------- */

#define STABLE 512u  /* keys 0, 8, 16, ... that stay */
#define CHURN 40000u /* keys inserted and removed around them */

static idx_entry *tree_find(void *ctx, const void *k, size_t kl) { return idx_find(ctx, k, kl); }
static uint64_t every_8th(uint64_t i) { return i * 8; }

static void entry_free_cb(void *ctx, void *obj)
{
    (void)ctx;
    free(obj);
}

static void test_concurrent_readers(void **state)
{
    fixture *f = *state;
    static idx_entry *stable[STABLE];
    static tu_readers rd;
    for (uint64_t i = 0; i < STABLE; i++) stable[i] = put_u64(f, i * 8);
    rd = (tu_readers){.ep = &f->ep, .find = tree_find, .ctx = &f->t, .stable = stable,
                      .n_stable = STABLE, .stable_key = every_8th, .probe_below = STABLE * 8};
    tu_readers_start(&rd, 2);
    /* The writer: churn keys between the stable ones, inserted in bursts
     * (splits) and removed again (merges, root changes), entries retired
     * through the epoch as the engine does. */
    tu_rng r = {tu_seed(0xc0c0)};
    idx_entry *live[STABLE * 8] = {0};
    for (uint64_t op = 0; op < CHURN; op++) {
        uint64_t k = tu_rand_below(&r, STABLE * 8);
        if (k % 8 == 0) continue;
        if (!live[k]) {
            live[k] = put_u64(f, k);
        } else {
            remove_entry(f, live[k]);
            assert_int_equal(epoch_retire(&f->ep, live[k], entry_free_cb, NULL), LDB_OK);
            live[k] = NULL;
        }
        if (op % 64 == 0) epoch_reclaim(&f->ep);
    }
    tu_readers_stop(&rd);
    assert_int_equal(atomic_load(&rd.misses), 0);
    assert_int_equal(atomic_load(&rd.wrong), 0);
    assert_true(atomic_load(&rd.lookups) >= 2000);
    uint64_t live_n = 0;
    for (size_t i = 0; i < STABLE * 8; i++) live_n += live[i] != NULL;
    check(f, STABLE + live_n);
    epoch_reclaim(&f->ep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ascending_is_dense, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descending_is_dense, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boundary_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_and_collapse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_defers_free_to_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstone_entries_are_linked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_wc_insert_wc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_from_and_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_readers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
