/*
 * tests/unit/test_epoch.c — reader slots, snapshots and reclamation
 * (engine/epoch.c) driven directly:
 * - reclamation order: an object is freed only once every reader that was
 *   inside when it was retired has left; readers that entered after the
 *   retirement do not hold it; objects that become free together are freed
 *   in retirement order; nothing is freed twice, and destroy frees the
 *   rest;
 * - reserve: after epoch_reserve(n), n retirements succeed with every
 *   allocation failing (a commit can reserve first and never fail
 *   half-way);
 * - snapshots: epoch_enter returns the committed sequence, and
 *   epoch_oldest_snapshot is the oldest active reader's (or the committed
 *   sequence);
 * - slots: more readers than one chunk holds grow the list; released
 *   slots are reused; the report counts user (transaction) slots apart;
 * - concurrent readers: threads reading a pointer the writer keeps
 *   replacing and retiring never see a retired object (it is marked dead,
 *   not freed, so the check does not rest on a sanitizer).
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

#include "engine/alloc.h"
#include "engine/epoch.h"
#include "lightningdb.h"
#include "testutil.h"

/* The free callback logs which object went, in order. */
typedef struct freelog {
    int order[64];
    int n;
    int twice;
} freelog;

typedef struct obj {
    int id;
    int freed;
} obj;

static void log_free(void *ctx, void *p)
{
    freelog *l = ctx;
    obj *o = p;
    if (o->freed++) l->twice++;
    if (l->n < 64) l->order[l->n++] = o->id;
}

static int setup(void **state)
{
    epoch_mgr *m = calloc(1, sizeof *m);
    if (!m || epoch_init(m) != LDB_OK) return -1;
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    epoch_mgr *m = *state;
    epoch_destroy(m);
    free(m);
    return 0;
}

static _Atomic uint64_t committed = 10;

static void test_no_reader_frees_at_once(void **state)
{
    epoch_mgr *m = *state;
    freelog l = {0};
    obj a = {1, 0}, b = {2, 0};
    assert_int_equal(epoch_retire(m, &a, log_free, &l), LDB_OK);
    assert_int_equal(epoch_retire(m, &b, log_free, &l), LDB_OK);
    assert_int_equal(l.n, 0); /* retiring frees nothing by itself */
    epoch_reclaim(m);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.order[0], 1);
    assert_int_equal(l.order[1], 2);
    assert_int_equal(m->n_items, 0);
    assert_int_equal(m->freed, 2);
    epoch_reclaim(m); /* nothing left: nothing freed twice */
    assert_int_equal(l.twice, 0);
}

static void test_reader_holds_what_it_may_see(void **state)
{
    epoch_mgr *m = *state;
    freelog l = {0};
    obj x = {1, 0}, y = {2, 0}, z = {3, 0};
    epoch_slot *r1, *r2;
    assert_int_equal(epoch_slot_claim(m, EPOCH_SHORT, &r1), LDB_OK);
    assert_int_equal(epoch_slot_claim(m, EPOCH_SHORT, &r2), LDB_OK);

    epoch_enter(m, r1, &committed);          /* r1 may see x, y */
    assert_int_equal(epoch_retire(m, &x, log_free, &l), LDB_OK);
    epoch_reclaim(m);                        /* the epoch moves on */
    assert_int_equal(l.n, 0);
    epoch_enter(m, r2, &committed);          /* after x was unlinked */
    assert_int_equal(epoch_retire(m, &y, log_free, &l), LDB_OK);
    epoch_reclaim(m);
    assert_int_equal(l.n, 0);                /* r1 still in: x and y stay */

    epoch_exit(r1);
    epoch_reclaim(m);
    /* x was retired before r2 entered: only r1 could hold it. y was
     * retired while r2 was inside: r2 holds it. */
    assert_int_equal(l.n, 1);
    assert_int_equal(l.order[0], 1);

    assert_int_equal(epoch_retire(m, &z, log_free, &l), LDB_OK);
    epoch_reclaim(m);
    assert_int_equal(l.n, 1);
    epoch_exit(r2);
    epoch_reclaim(m);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.order[1], 2);         /* in retirement order */
    assert_int_equal(l.order[2], 3);
    assert_int_equal(l.twice, 0);
    epoch_slot_release(r1);
    epoch_slot_release(r2);
}

/* A reader that re-enters after the retirement no longer holds it. */
static void test_reentry_releases(void **state)
{
    epoch_mgr *m = *state;
    freelog l = {0};
    obj a = {1, 0};
    epoch_slot *r;
    assert_int_equal(epoch_slot_claim(m, EPOCH_USER, &r), LDB_OK);
    epoch_enter(m, r, &committed);
    assert_int_equal(epoch_retire(m, &a, log_free, &l), LDB_OK);
    epoch_reclaim(m);
    assert_int_equal(l.n, 0);
    epoch_exit(r);
    epoch_enter(m, r, &committed); /* a later section, a newer epoch */
    epoch_reclaim(m);
    assert_int_equal(l.n, 1);
    epoch_exit(r);
    epoch_slot_release(r);
}

static void test_destroy_frees_pending(void **state)
{
    epoch_mgr *m = *state;
    freelog l = {0};
    static obj o[5];
    epoch_slot *r;
    assert_int_equal(epoch_slot_claim(m, EPOCH_SHORT, &r), LDB_OK);
    epoch_enter(m, r, &committed);
    for (int i = 0; i < 5; i++) {
        o[i].id = i;
        assert_int_equal(epoch_retire(m, &o[i], log_free, &l), LDB_OK);
    }
    epoch_reclaim(m);
    assert_int_equal(l.n, 0);
    epoch_exit(r);
    epoch_destroy(m); /* teardown's destroy then finds an empty manager */
    assert_int_equal(l.n, 5);
    assert_int_equal(l.twice, 0);
    assert_int_equal(epoch_init(m), LDB_OK);
}

static int fail_all(void *arg)
{
    (void)arg;
    return 1;
}

static void test_reserve_means_retire_cannot_fail(void **state)
{
    epoch_mgr *m = *state;
    freelog l = {0};
    enum { N = 300 }; /* more than the first allocation's 256 */
    static obj o[N + 1];
    assert_int_equal(epoch_reserve(m, N), LDB_OK);
    alloc_set_fail_hook(fail_all, NULL);
    for (int i = 0; i < N; i++) assert_int_equal(epoch_retire(m, &o[i], log_free, &l), LDB_OK);
    /* Room for exactly what was reserved (or more): past it, an allocation
     * is needed and fails cleanly, keeping what was retired. */
    size_t room = m->cap_items - m->n_items;
    for (size_t i = 0; i < room; i++) assert_int_equal(epoch_retire(m, &o[N], log_free, &l), LDB_OK);
    assert_int_equal(epoch_retire(m, &o[N], log_free, &l), LDB_NOMEM);
    assert_int_equal(epoch_reserve(m, 1), LDB_NOMEM);
    alloc_set_fail_hook(NULL, NULL);
    size_t pending = m->n_items;
    assert_int_equal(pending, N + room);
    l.n = 0;
    for (size_t i = 0; i < pending; i++) ((obj *)m->items[i].obj)->freed = 0;
    epoch_reclaim(m);
    assert_int_equal(m->n_items, 0);
    assert_int_equal(m->freed, pending);
}

static void test_snapshots(void **state)
{
    epoch_mgr *m = *state;
    _Atomic uint64_t seq = 100;
    epoch_slot *a, *b;
    assert_int_equal(epoch_slot_claim(m, EPOCH_USER, &a), LDB_OK);
    assert_int_equal(epoch_slot_claim(m, EPOCH_SHORT, &b), LDB_OK);
    assert_int_equal(epoch_oldest_snapshot(m, 100), 100); /* nobody reading */
    assert_int_equal(epoch_enter(m, a, &seq), 100);
    atomic_store(&seq, 150);
    assert_int_equal(epoch_enter(m, b, &seq), 150);
    assert_int_equal(epoch_oldest_snapshot(m, 150), 100);
    epoch_report rep;
    epoch_report_get(m, &rep);
    assert_int_equal(rep.active, 2);
    assert_int_equal(rep.long_active, 1); /* the user slot only */
    assert_int_equal(rep.oldest_snap, 100);
    assert_true(rep.oldest_begin_ns > 0);
    epoch_exit(a);
    assert_int_equal(epoch_oldest_snapshot(m, 150), 150);
    epoch_exit(b);
    assert_int_equal(epoch_oldest_snapshot(m, 160), 160);
    epoch_report_get(m, &rep);
    assert_int_equal(rep.active, 0);
    assert_int_equal(rep.oldest_snap, 0);
    epoch_slot_release(a);
    epoch_slot_release(b);
}

static void test_slots_grow_and_are_reused(void **state)
{
    epoch_mgr *m = *state;
    enum { N = EPOCH_CHUNK_SLOTS * 2 + 3 };
    epoch_slot *s[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(epoch_slot_claim(m, EPOCH_SHORT, &s[i]), LDB_OK);
        for (int j = 0; j < i; j++) assert_ptr_not_equal(s[i], s[j]);
        epoch_enter(m, s[i], &committed);
    }
    assert_non_null(m->head->next);
    assert_non_null(atomic_load(&m->head->next)->next);
    epoch_report rep;
    epoch_report_get(m, &rep);
    assert_int_equal(rep.active, N);
    /* A reader in the last chunk holds retired objects like any other. */
    freelog l = {0};
    obj o = {7, 0};
    for (int i = 0; i < N - 1; i++) epoch_exit(s[i]);
    assert_int_equal(epoch_retire(m, &o, log_free, &l), LDB_OK);
    epoch_reclaim(m);
    assert_int_equal(l.n, 0);
    epoch_exit(s[N - 1]);
    epoch_reclaim(m);
    assert_int_equal(l.n, 1);
    epoch_slot *again;
    epoch_slot_release(s[5]);
    assert_int_equal(epoch_slot_claim(m, EPOCH_SHORT, &again), LDB_OK);
    assert_ptr_equal(again, s[5]); /* the first free slot */
    for (int i = 0; i < N; i++) epoch_slot_release(s[i]);
}

/* ---- concurrent readers --------------------------------------------- */

#define MAGIC_LIVE 0x11ee11eeu
#define MAGIC_DEAD 0xdeaddeadu
#define REPLACEMENTS 20000

typedef struct cobj {
    _Atomic uint32_t magic;
} cobj;

typedef struct conc {
    epoch_mgr *m;
    cobj *_Atomic cur;
    atomic_int stop;
    _Atomic uint64_t dead_seen, reads;
} conc;

static void mark_dead(void *ctx, void *p)
{
    (void)ctx;
    atomic_store(&((cobj *)p)->magic, MAGIC_DEAD); /* kept, not freed */
}

static void *conc_reader(void *arg)
{
    conc *c = arg;
    epoch_slot *s;
    if (epoch_slot_claim(c->m, EPOCH_SHORT, &s) != LDB_OK) return NULL;
    uint64_t n = 0;
    while (!atomic_load(&c->stop) || n < 1000) {
        epoch_enter(c->m, s, &committed);
        cobj *o = atomic_load_explicit(&c->cur, memory_order_acquire);
        for (int i = 0; i < 4; i++)
            if (atomic_load_explicit(&o->magic, memory_order_relaxed) != MAGIC_LIVE)
                atomic_fetch_add(&c->dead_seen, 1);
        epoch_exit(s);
        n++;
    }
    atomic_fetch_add(&c->reads, n);
    epoch_slot_release(s);
    return NULL;
}

static void test_concurrent_readers_never_see_freed(void **state)
{
    epoch_mgr *m = *state;
    cobj *pool = calloc(REPLACEMENTS + 1, sizeof *pool);
    assert_non_null(pool);
    static conc c;
    memset(&c, 0, sizeof c);
    c.m = m;
    atomic_store(&pool[0].magic, MAGIC_LIVE);
    atomic_store(&c.cur, &pool[0]);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) assert_int_equal(pthread_create(&th[i], NULL, conc_reader, &c), 0);
    for (int i = 1; i <= REPLACEMENTS; i++) {
        atomic_store(&pool[i].magic, MAGIC_LIVE);
        cobj *old = atomic_exchange_explicit(&c.cur, &pool[i], memory_order_acq_rel);
        assert_int_equal(epoch_retire(m, old, mark_dead, NULL), LDB_OK);
        if (i % 16 == 0) epoch_reclaim(m);
    }
    atomic_store(&c.stop, 1);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    epoch_reclaim(m);
    assert_int_equal(atomic_load(&c.dead_seen), 0);
    assert_true(atomic_load(&c.reads) >= 3000);
    /* Everything but the current object was reclaimed in the end. */
    assert_int_equal(m->n_items, 0);
    for (int i = 0; i < REPLACEMENTS; i++) assert_int_equal(atomic_load(&pool[i].magic), MAGIC_DEAD);
    assert_int_equal(atomic_load(&pool[REPLACEMENTS].magic), MAGIC_LIVE);
    free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_reader_frees_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_holds_what_it_may_see, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reentry_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_frees_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_means_retire_cannot_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slots_grow_and_are_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_readers_never_see_freed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
