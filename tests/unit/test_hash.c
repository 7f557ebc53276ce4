/*
 * tests/unit/test_hash.c — the point-lookup hash (engine/hash.c) driven
 * directly, with entries made here as the MVCC layer makes them:
 * - every linked key is found and no other, across many growths, and at
 *   every step of an incremental growth (keys still in the old table, keys
 *   already moved, keys inserted since);
 * - deletes leave tombstones that probing goes past (keys later in a
 *   cluster stay found) and that a removal during growth applies to both
 *   tables; a removed key can be linked again as a new entry; a table
 *   full of tombstones is rebuilt rather than grown without end;
 * - boundary keys: the empty key, 4096-byte keys differing only in their
 *   last byte; keys of equal bytes and different lengths;
 * - the seed: fixed seeds hash alike, different seeds differently;
 * - reserve, clear and settle; the prefetch hint lands in the key's slot;
 * - the old table of a growth is retired through the epoch, freed only
 *   after the readers that could probe it have left;
 * - concurrent readers find every stable key while the writer grows the
 *   table (and removes keys around them) under them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/epoch.h"
#include "engine/hash.h"
#include "engine/index.h"
#include "lightningdb.h"
#include "testutil.h"

typedef struct fixture {
    epoch_mgr ep;
    hash_index h;
    idx_entry **made; /* by key number; freed in teardown */
    size_t n_made;
} fixture;

#define SEED 0x5eed5eedull

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || epoch_init(&f->ep) != LDB_OK || hash_init(&f->h, &f->ep, 16, SEED) != LDB_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hash_destroy(&f->h);
    epoch_destroy(&f->ep);
    for (size_t i = 0; i < f->n_made; i++) free(f->made[i]);
    free(f->made);
    free(f);
    return 0;
}

static void keep(fixture *f, idx_entry *e)
{
    idx_entry **v = realloc(f->made, (f->n_made + 1) * sizeof *v);
    assert_non_null(v);
    f->made = v;
    f->made[f->n_made++] = e;
}

static uint64_t hv_of(fixture *f, const void *k, size_t kl) { return hash_key(&f->h, k, kl); }

static idx_entry *link_key(fixture *f, const void *k, size_t kl)
{
    idx_entry *e = tu_entry_new(k, kl, 1, 1);
    assert_non_null(e);
    keep(f, e);
    assert_int_equal(hash_insert_w(&f->h, e, hv_of(f, k, kl)), LDB_OK);
    return e;
}

static idx_entry *link_u64(fixture *f, uint64_t i)
{
    uint8_t k[8];
    tu_key_be(k, i);
    return link_key(f, k, 8);
}

static idx_entry *find_u64(fixture *f, uint64_t i)
{
    uint8_t k[8];
    tu_key_be(k, i);
    return hash_find(&f->h, k, 8, hv_of(f, k, 8));
}

static void unlink_entry(fixture *f, idx_entry *e)
{
    hash_remove_w(&f->h, e, hv_of(f, e->key, e->klen));
}

/* ---- tests ------------------------------------------------------------ */

static void test_empty(void **state)
{
    fixture *f = *state;
    assert_null(find_u64(f, 0));
    assert_null(hash_find(&f->h, "", 0, hv_of(f, "", 0)));
}

/* Growth is incremental: check every key after every insert while it
 * runs, so keys in the old table, moved ones and new ones are all seen. */
static void test_growth_finds_everything(void **state)
{
    fixture *f = *state;
    enum { N = 20000 };
    idx_entry *e[N];
    int growths = 0, checked_mid = 0;
    hash_table *last = atomic_load(&f->h.table);
    for (uint64_t i = 0; i < N; i++) {
        e[i] = link_u64(f, i);
        hash_table *now = atomic_load(&f->h.table);
        if (now != last) {
            growths++;
            last = now;
        }
        if (f->h.old) {
            /* Mid-growth: all keys so far, present; the next ones, not. */
            uint64_t step = i % 61 == 0 ? 1 : 257; /* all keys now and then */
            for (uint64_t j = i % step; j <= i; j += step) assert_ptr_equal(find_u64(f, j), e[j]);
            assert_ptr_equal(find_u64(f, i), e[i]);
            assert_null(find_u64(f, i + 1));
            checked_mid++;
        }
    }
    assert_true(growths >= 4); /* 1024 slots -> 64Ki slots */
    assert_true(checked_mid > 0);
    hash_settle_w(&f->h);
    assert_null(f->h.old);
    for (uint64_t i = 0; i < N; i++) assert_ptr_equal(find_u64(f, i), e[i]);
    for (uint64_t i = N; i < N + 1000; i++) assert_null(find_u64(f, i));
    hash_table *t = atomic_load(&f->h.table);
    assert_int_equal(t->used, N);
    assert_true((t->used + t->tombs) * 2 <= t->mask + 1); /* load <= 1/2 */
}

static void test_delete_tombstones(void **state)
{
    fixture *f = *state;
    enum { N = 300 }; /* 1024 slots: dense clusters, no growth even with the
                       * removed keys linked again beside their tombstones */
    idx_entry *e[N];
    for (uint64_t i = 0; i < N; i++) e[i] = link_u64(f, i);
    hash_table *t = atomic_load(&f->h.table);
    assert_null(f->h.old);
    for (uint64_t i = 0; i < N; i += 3) unlink_entry(f, e[i]);
    assert_int_equal(t->tombs, (N + 2) / 3);
    for (uint64_t i = 0; i < N; i++) {
        if (i % 3 == 0) assert_null(find_u64(f, i));
        else assert_ptr_equal(find_u64(f, i), e[i]); /* probed past tombs */
    }
    /* Linked again, as new entries: the new ones are found. */
    for (uint64_t i = 0; i < N; i += 3) e[i] = link_u64(f, i);
    for (uint64_t i = 0; i < N; i++) assert_ptr_equal(find_u64(f, i), e[i]);
    /* Removing a key twice (or one never linked) changes nothing. */
    unlink_entry(f, e[1]);
    uint64_t used = t->used, tombs = t->tombs;
    unlink_entry(f, e[1]);
    assert_int_equal(t->used, used);
    assert_int_equal(t->tombs, tombs);
    assert_ptr_equal(find_u64(f, 2), e[2]);
}

/* Insert/remove churn at a steady live count: tombstones pile up and the
 * table is rebuilt at a size for the live keys, not grown for ever. */
static void test_churn_rebuilds_not_grows(void **state)
{
    fixture *f = *state;
    enum { LIVE = 300, ROUNDS = 20000 };
    idx_entry *e[LIVE];
    for (uint64_t i = 0; i < LIVE; i++) e[i] = link_u64(f, i);
    for (uint64_t r = 0; r < ROUNDS; r++) {
        uint64_t slot = r % LIVE;
        unlink_entry(f, e[slot]);
        e[slot] = link_u64(f, LIVE + r);
    }
    hash_settle_w(&f->h);
    hash_table *t = atomic_load(&f->h.table);
    assert_true(t->mask + 1 <= 4096);
    for (uint64_t r = ROUNDS - LIVE; r < ROUNDS; r++) assert_ptr_equal(find_u64(f, LIVE + r), e[r % LIVE]);
    assert_null(find_u64(f, LIVE + ROUNDS - LIVE - 1));
    assert_null(find_u64(f, 0));
}

static void test_remove_during_growth(void **state)
{
    fixture *f = *state;
    idx_entry *e[3000];
    uint64_t i = 0;
    for (; i < 3000; i++) {
        e[i] = link_u64(f, i);
        if (f->h.old && f->h.moved < 64) break; /* a growth just began */
    }
    assert_non_null(f->h.old);
    uint64_t n = i + 1;
    /* Early keys are mostly still only in the old table, or in both. */
    for (uint64_t j = 0; j < n; j += 2) unlink_entry(f, e[j]);
    for (uint64_t j = 0; j < n; j++) {
        if (j % 2 == 0) assert_null(find_u64(f, j));
        else assert_ptr_equal(find_u64(f, j), e[j]);
    }
    hash_settle_w(&f->h);
    assert_null(f->h.old);
    for (uint64_t j = 0; j < n; j++) {
        if (j % 2 == 0) assert_null(find_u64(f, j));
        else assert_ptr_equal(find_u64(f, j), e[j]);
    }
}

static void test_boundary_keys(void **state)
{
    fixture *f = *state;
    enum { LONG = 4096, N_LONG = 64 };
    uint8_t *big = malloc(LONG);
    assert_non_null(big);
    memset(big, 0xab, LONG);
    idx_entry *empty = link_key(f, "", 0);
    idx_entry *longs[N_LONG];
    for (int v = 0; v < N_LONG; v++) {
        big[LONG - 1] = (uint8_t)v;
        longs[v] = link_key(f, big, LONG);
    }
    /* Same bytes, other lengths: distinct keys. */
    idx_entry *z1 = link_key(f, "\0", 1), *z2 = link_key(f, "\0\0", 2);
    assert_ptr_equal(hash_find(&f->h, "", 0, hv_of(f, "", 0)), empty);
    assert_ptr_equal(hash_find(&f->h, "\0", 1, hv_of(f, "\0", 1)), z1);
    assert_ptr_equal(hash_find(&f->h, "\0\0", 2, hv_of(f, "\0\0", 2)), z2);
    assert_null(hash_find(&f->h, "\0\0\0", 3, hv_of(f, "\0\0\0", 3)));
    for (int v = 0; v < N_LONG; v++) {
        big[LONG - 1] = (uint8_t)v;
        assert_ptr_equal(hash_find(&f->h, big, LONG, hv_of(f, big, LONG)), longs[v]);
    }
    big[LONG - 1] = N_LONG;
    assert_null(hash_find(&f->h, big, LONG, hv_of(f, big, LONG)));
    assert_null(hash_find(&f->h, big, LONG - 1, hv_of(f, big, LONG - 1)));
    /* The last byte of 4096 changes the hash. */
    big[LONG - 1] = 0;
    uint64_t h0 = hv_of(f, big, LONG);
    big[LONG - 1] = 1;
    assert_true(h0 != hv_of(f, big, LONG));
    unlink_entry(f, empty);
    assert_null(hash_find(&f->h, "", 0, hv_of(f, "", 0)));
    free(big);
}

static void test_seed(void **state)
{
    fixture *f = *state;
    epoch_mgr ep;
    hash_index a, b, c;
    assert_int_equal(epoch_init(&ep), LDB_OK);
    assert_int_equal(hash_init(&a, &ep, 16, SEED), LDB_OK);
    assert_int_equal(hash_init(&b, &ep, 16, SEED + 1), LDB_OK);
    assert_int_equal(hash_init(&c, &ep, 16, 0), LDB_OK);
    assert_true(c.seed != 0); /* seed 0: a random one */
    int differ = 0;
    for (int i = 0; i < 64; i++) {
        uint8_t k[8];
        tu_key_be(k, (uint64_t)i);
        assert_int_equal(hash_key(&a, k, 8), hash_key(&f->h, k, 8));
        differ += hash_key(&a, k, 8) != hash_key(&b, k, 8);
    }
    assert_int_equal(differ, 64);
    hash_destroy(&a);
    hash_destroy(&b);
    hash_destroy(&c);
    epoch_destroy(&ep);
}

static void test_reserve_clear_hint(void **state)
{
    fixture *f = *state;
    assert_int_equal(hash_reserve_w(&f->h, 5000), LDB_OK);
    assert_null(f->h.old); /* reserve grows at once */
    hash_table *t = atomic_load(&f->h.table);
    idx_entry *e[5000];
    for (uint64_t i = 0; i < 5000; i++) e[i] = link_u64(f, i);
    assert_ptr_equal(atomic_load(&f->h.table), t); /* no growth needed */
    /* The hint goes into the key's own slot. */
    static const uint8_t rec[16];
    uint8_t k[8];
    tu_key_be(k, 1234);
    hash_set_hint_w(&f->h, e[1234], hv_of(f, k, 8), rec);
    int found = 0;
    for (uint64_t s = 0; s <= t->mask; s++) {
        uint64_t w = atomic_load(&t->slots[s].w);
        if ((w & HASH_PTR_MASK) == (uint64_t)(uintptr_t)e[1234]) {
            assert_ptr_equal(atomic_load(&t->slots[s].hint), rec);
            found = 1;
        }
    }
    assert_true(found);
    assert_int_equal(hash_clear_w(&f->h), LDB_OK);
    for (uint64_t i = 0; i < 5000; i += 97) assert_null(find_u64(f, i));
    assert_int_equal(t->used, 0);
    e[7] = link_u64(f, 7);
    assert_ptr_equal(find_u64(f, 7), e[7]);
}

/* The old table is retired when the growth ends, and only freed once the
 * readers that might probe it have left. */
static void test_old_table_outlives_readers(void **state)
{
    fixture *f = *state;
    _Atomic uint64_t committed = 1;
    epoch_slot *s;
    assert_int_equal(epoch_slot_claim(&f->ep, EPOCH_SHORT, &s), LDB_OK);
    epoch_enter(&f->ep, s, &committed);
    const hash_view *v = atomic_load(&f->h.view);
    hash_table *first = v->table;
    for (uint64_t i = 0; i < 2000; i++) link_u64(f, i);
    hash_settle_w(&f->h);
    assert_true(atomic_load(&f->h.table) != first);
    assert_true(f->ep.n_items >= 1); /* the old table(s), retired */
    uint64_t freed = f->ep.freed;
    epoch_reclaim(&f->ep);
    assert_int_equal(f->ep.freed, freed); /* our reader may still probe it */
    assert_int_equal(first->mask + 1, 1024); /* still readable */
    epoch_exit(s);
    epoch_reclaim(&f->ep);
    assert_true(f->ep.freed > freed);
    epoch_slot_release(s);
}

/* ---- concurrent readers --------------------------------------------- */

#define STABLE 256u

static idx_entry *table_find(void *ctx, const void *k, size_t kl)
{
    hash_index *h = ctx;
    return hash_find(h, k, kl, hash_key(h, k, kl));
}
static uint64_t spread(uint64_t i) { return i << 40; }

static void test_concurrent_readers_during_growth(void **state)
{
    fixture *f = *state;
    static idx_entry *stable[STABLE];
    static tu_readers rd;
    for (uint64_t i = 0; i < STABLE; i++) stable[i] = link_u64(f, i << 40);
    rd = (tu_readers){.ep = &f->ep, .find = table_find, .ctx = &f->h, .stable = stable,
                      .n_stable = STABLE, .stable_key = spread};
    tu_readers_start(&rd, 2);
    enum { N = 20000 }; /* several growths: 1024 -> 64Ki slots */
    idx_entry **churn = calloc(N, sizeof *churn);
    assert_non_null(churn);
    for (uint64_t i = 0; i < N; i++) {
        churn[i] = link_u64(f, i + 1);
        if (i % 3 == 2) unlink_entry(f, churn[i - 1]);
        if (i % 128 == 0) epoch_reclaim(&f->ep);
    }
    tu_readers_stop(&rd);
    assert_int_equal(atomic_load(&rd.misses), 0);
    assert_int_equal(atomic_load(&rd.wrong), 0);
    assert_true(atomic_load(&rd.lookups) >= 2000);
    free(churn); /* the entries themselves are in f->made */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_finds_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_churn_rebuilds_not_grows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_during_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boundary_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_clear_hint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_table_outlives_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_readers_during_growth, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
