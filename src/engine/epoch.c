/*
 * engine/epoch.c — slots, retirement and reclamation (see epoch.h).
 *
 * Why in-house rather than liburcu: our readers must also publish a
 * snapshot sequence for MVCC version pruning, in the same slot and under
 * the same fence as the epoch; urcu's read-side would add a second
 * registration and a second barrier per lookup. The scheme here is ~60
 * lines and its protocol is stated in epoch.h.
 */
#include "engine/epoch.h"

#include "engine/alloc.h"
#include "engine/util.h"
#include "lightningdb.h"

int epoch_init(epoch_mgr *m)
{
    memset(m, 0, sizeof *m);
    atomic_store(&m->global, 1);
    m->head = alloc_aligned(64, sizeof(epoch_chunk));
    if (!m->head) return LDB_NOMEM;
    memset(m->head, 0, sizeof(epoch_chunk));
    return LDB_OK;
}

void epoch_destroy(epoch_mgr *m)
{
    for (size_t i = 0; i < m->n_items; i++) m->items[i].fn(m->items[i].ctx, m->items[i].obj);
    alloc_free(m->items);
    epoch_chunk *c = m->head;
    while (c) {
        epoch_chunk *n = atomic_load(&c->next);
        alloc_free(c);
        c = n;
    }
    memset(m, 0, sizeof *m);
}

int epoch_slot_claim(epoch_mgr *m, int kind, epoch_slot **out)
{
    epoch_chunk *c = m->head;
    for (;;) {
        for (int i = 0; i < EPOCH_CHUNK_SLOTS; i++) {
            epoch_slot *s = &c->slots[i];
            uint32_t zero = 0;
            if (atomic_load_explicit(&s->owned, memory_order_relaxed) == 0 &&
                atomic_compare_exchange_strong(&s->owned, &zero, 1)) {
                atomic_store_explicit(&s->long_lived, (uint32_t)kind, memory_order_relaxed);
                atomic_store_explicit(&s->begin_ns, kind ? util_now_ns() : 0,
                                      memory_order_relaxed);
                *out = s;
                return LDB_OK;
            }
        }
        /* Acquire pairs with the seq_cst compare-exchange below that
         * appends a zeroed chunk: its slots are initialised when seen. */
        epoch_chunk *next = atomic_load_explicit(&c->next, memory_order_acquire);
        if (!next) {
            epoch_chunk *fresh = alloc_aligned(64, sizeof(epoch_chunk));
            if (!fresh) return LDB_NOMEM;
            memset(fresh, 0, sizeof *fresh);
            epoch_chunk *expected = NULL;
            if (!atomic_compare_exchange_strong(&c->next, &expected, fresh)) {
                alloc_free(fresh); /* another thread appended first */
                next = expected;
            } else {
                next = fresh;
            }
        }
        c = next;
    }
}

void epoch_slot_release(epoch_slot *s)
{
    /* Release pairs with the scans' acquire loads of slot epochs: every
     * read made inside the section happens before the reclaimer sees it
     * left. */
    atomic_store_explicit(&s->epoch, 0, memory_order_release);
    atomic_store_explicit(&s->begin_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&s->owned, 0, memory_order_release);
}

int epoch_reserve(epoch_mgr *m, size_t n)
{
    if (m->cap_items - m->n_items >= n) return LDB_OK;
    size_t cap = m->cap_items ? m->cap_items : 256;
    while (cap - m->n_items < n) cap *= 2;
    epoch_item *v = alloc_realloc(m->items, cap * sizeof *v);
    if (!v) return LDB_NOMEM;
    m->items = v;
    m->cap_items = cap;
    return LDB_OK;
}

int epoch_retire(epoch_mgr *m, void *obj, epoch_free_fn fn, void *ctx)
{
    if (m->n_items == m->cap_items && epoch_reserve(m, 1) != LDB_OK) return LDB_NOMEM;
    m->items[m->n_items].obj = obj;
    m->items[m->n_items].fn = fn;
    m->items[m->n_items].ctx = ctx;
    m->items[m->n_items].tag = atomic_load_explicit(&m->global, memory_order_relaxed);
    m->n_items++;
    return LDB_OK;
}

/* Smallest epoch among active slots, UINT64_MAX when none is active. */
static uint64_t epoch_min_active(epoch_mgr *m)
{
    uint64_t min = UINT64_MAX;
    for (epoch_chunk *c = m->head; c; c = atomic_load_explicit(&c->next, memory_order_acquire))
        for (int i = 0; i < EPOCH_CHUNK_SLOTS; i++) {
            uint64_t e = atomic_load_explicit(&c->slots[i].epoch, memory_order_acquire);
            if (e && e < min) min = e;
        }
    return min;
}

void epoch_reclaim(epoch_mgr *m)
{
    if (m->n_items == 0) return;
    /* The seq_cst increment orders every unlink before the slot scan; with
     * the fence it pairs with the seq_cst fence of epoch_enter (epoch.h) and
     * of a checkpoint's snapshot (checkpoint.c): either the scan sees the
     * reader's slot, or the reader sees the unlink and never reaches the
     * object. */
    atomic_fetch_add_explicit(&m->global, 1, memory_order_seq_cst);
    UTIL_FENCE(memory_order_seq_cst);
    uint64_t min = epoch_min_active(m);
    size_t keep = 0;
    for (size_t i = 0; i < m->n_items; i++) {
        if (m->items[i].tag < min) {
            m->items[i].fn(m->items[i].ctx, m->items[i].obj);
            m->freed++;
        } else {
            m->items[keep++] = m->items[i];
        }
    }
    m->n_items = keep;
}

uint64_t epoch_oldest_snapshot(epoch_mgr *m, uint64_t committed)
{
    /* Pairs with epoch_enter's seq_cst fence: a snapshot taken before the
     * scan is seen by it, one taken after is >= committed. */
    UTIL_FENCE(memory_order_seq_cst);
    uint64_t oldest = committed;
    for (epoch_chunk *c = m->head; c; c = atomic_load_explicit(&c->next, memory_order_acquire))
        for (int i = 0; i < EPOCH_CHUNK_SLOTS; i++) {
            epoch_slot *s = &c->slots[i];
            if (!atomic_load_explicit(&s->epoch, memory_order_acquire)) continue;
            uint64_t snap = atomic_load_explicit(&s->snap, memory_order_relaxed);
            if (snap < oldest) oldest = snap;
        }
    return oldest;
}

void epoch_report_get(epoch_mgr *m, epoch_report *r)
{
    memset(r, 0, sizeof *r);
    r->oldest_snap = UINT64_MAX;
    for (epoch_chunk *c = m->head; c; c = atomic_load_explicit(&c->next, memory_order_acquire))
        for (int i = 0; i < EPOCH_CHUNK_SLOTS; i++) {
            epoch_slot *s = &c->slots[i];
            r->gets += atomic_load_explicit(&s->gets, memory_order_relaxed);
            if (!atomic_load_explicit(&s->epoch, memory_order_relaxed)) continue;
            r->active++;
            if (atomic_load_explicit(&s->long_lived, memory_order_relaxed) != EPOCH_USER) continue;
            r->long_active++;
            uint64_t snap = atomic_load_explicit(&s->snap, memory_order_relaxed);
            uint64_t b = atomic_load_explicit(&s->begin_ns, memory_order_relaxed);
            if (snap < r->oldest_snap) r->oldest_snap = snap;
            if (b && (!r->oldest_begin_ns || b < r->oldest_begin_ns)) r->oldest_begin_ns = b;
        }
    if (r->oldest_snap == UINT64_MAX) r->oldest_snap = 0;
}
