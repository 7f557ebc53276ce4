/*
 * engine/epoch.h — reader registration, snapshots and safe memory
 * reclamation (epoch-based).
 *
 * What it owns: the reader slots of one database and the list of objects
 * retired by the writer but possibly still visible to a reader.
 *
 * How readers use it: a reader owns a slot (a thread's cached slot for
 * one-shot gets, or a slot claimed per transaction/iterator). epoch_enter()
 * publishes "I am reading, at epoch E, snapshot S" in that slot — two
 * stores and one fence on the reader's own cache line, nothing shared is
 * written — and returns the snapshot sequence S. epoch_exit() clears it.
 * Between the two, every index node, key entry, version and log segment the
 * reader can reach stays allocated and mapped.
 *
 * How the writer uses it: after unlinking an object it calls epoch_retire();
 * the object is freed once every reader that might have seen it has left
 * (every active slot's epoch is newer than the retirement). The writer also
 * asks epoch_oldest_snapshot() which versions any snapshot may still read.
 *
 * Invariants
 * - A slot is owned by one thread at a time (owner writes, writer reads).
 * - epoch_retire/reclaim/reserve are called by the single writer (with the
 *   database's commit mutex held) and never inside a read section, so the
 *   writer never waits for readers: reclamation is deferred, not blocking.
 * - Protocol proof sketch: the reader stores its slot then fences then
 *   reads shared pointers; the writer unlinks, fences (seq_cst RMW on the
 *   global epoch) then scans slots. One of them sees the other: either the
 *   writer sees the slot (and keeps the object) or the reader sees the
 *   unlink (and never reaches the object). The same handshake on the
 *   committed sequence guarantees the writer never prunes a version an
 *   entering reader's snapshot needs (epoch_enter re-checks the sequence).
 */
#ifndef LDB_EPOCH_H
#define LDB_EPOCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/util.h"

#define EPOCH_CHUNK_SLOTS 64

typedef struct epoch_slot {
    _Atomic uint64_t epoch;    /* 0 = not in a read section */
    _Atomic uint64_t snap;     /* snapshot sequence of the current section */
    _Atomic uint64_t begin_ns; /* start of the current long section (txn) */
    _Atomic uint32_t owned;    /* claimed by a thread cache or a txn */
    _Atomic uint32_t long_lived; /* EPOCH_USER or EPOCH_INTERNAL, else 0 */
    _Atomic uint64_t gets;     /* reads served through this slot */
    char pad[64 - 5 * 8];
} __attribute__((aligned(64))) epoch_slot;

typedef struct epoch_chunk {
    epoch_slot slots[EPOCH_CHUNK_SLOTS];
    struct epoch_chunk *_Atomic next;
} epoch_chunk;

typedef void (*epoch_free_fn)(void *ctx, void *obj);

typedef struct epoch_item {
    void *obj;
    epoch_free_fn fn;
    void *ctx;
    uint64_t tag;
} epoch_item;

typedef struct epoch_mgr {
    _Atomic uint64_t global;   /* current epoch, starts at 1 */
    epoch_chunk *head;         /* slot chunks; only ever appended */
    epoch_item *items;         /* retired, not yet freed (writer only) */
    size_t n_items, cap_items;
    uint64_t freed;            /* objects freed so far (stats) */
} epoch_mgr;

int epoch_init(epoch_mgr *m);
/* Frees every retired object and the slots; no reader may be active. */
void epoch_destroy(epoch_mgr *m);

/* Claims a free slot (growing the slot list if all are taken). `kind`
 * says who holds it: EPOCH_SHORT (a thread's one-shot reads),
 * EPOCH_USER (a transaction or iterator: counted in stats and by close),
 * EPOCH_INTERNAL (a checkpoint's snapshot). */
enum { EPOCH_SHORT = 0, EPOCH_USER = 1, EPOCH_INTERNAL = 2 };
int epoch_slot_claim(epoch_mgr *m, int kind, epoch_slot **out);
void epoch_slot_release(epoch_slot *s);

/* Enters a read section and returns the snapshot sequence (the value of
 * *committed, re-checked so the writer cannot have missed us). */
static inline uint64_t epoch_enter(epoch_mgr *m, epoch_slot *s,
                                   const _Atomic uint64_t *committed)
{
    /* Acquire pairs with the release of `committed` (commit_apply, the
     * group-commit leader): every version <= snap is installed whole. */
    uint64_t snap = atomic_load_explicit(committed, memory_order_acquire);
    atomic_store_explicit(&s->snap, snap, memory_order_relaxed);
    atomic_store_explicit(&s->epoch, atomic_load_explicit(&m->global, memory_order_relaxed),
                          memory_order_relaxed);
    /* Pairs with the seq_cst fences before the slot scans (epoch_reclaim,
     * epoch_oldest_snapshot): the slot is visible to any later scan, or
     * the loads below see what that scan's caller unlinked. */
    UTIL_FENCE(memory_order_seq_cst);
    for (;;) {
        uint64_t now = atomic_load_explicit(committed, memory_order_acquire);
        if (now == snap) return snap;
        snap = now;
        atomic_store_explicit(&s->snap, snap, memory_order_relaxed);
        UTIL_FENCE(memory_order_seq_cst);
    }
}

static inline void epoch_exit(epoch_slot *s)
{
    /* Release pairs with the scans' acquire loads of slot epochs (epoch.c). */
    atomic_store_explicit(&s->epoch, 0, memory_order_release);
}

/* Makes room to retire n more objects without allocating (so a commit can
 * reserve before it changes anything and never fail half-way). */
int epoch_reserve(epoch_mgr *m, size_t n);
/* Retires obj (freed later by fn(ctx, obj)). Never fails when room was
 * reserved; otherwise returns LDB_NOMEM and the caller must keep the object
 * linked. */
int epoch_retire(epoch_mgr *m, void *obj, epoch_free_fn fn, void *ctx);
/* Advances the epoch and frees what no reader can reach. */
void epoch_reclaim(epoch_mgr *m);

/* The oldest snapshot any active reader holds, or `committed` if none is
 * older. Versions newer than the one visible at this sequence, plus that
 * one, are all a reader can ever need. */
uint64_t epoch_oldest_snapshot(epoch_mgr *m, uint64_t committed);

typedef struct epoch_report {
    uint64_t active;          /* slots inside a read section */
    uint64_t long_active;     /* of which user transactions / iterators */
    uint64_t oldest_snap;     /* oldest snapshot among those */
    uint64_t oldest_begin_ns; /* start of the oldest of those (0: none) */
    uint64_t gets;            /* sum of per-slot read counters */
} epoch_report;
/* Any thread; reads only the slots (not the writer's retire list). */
void epoch_report_get(epoch_mgr *m, epoch_report *r);

#endif /* LDB_EPOCH_H */
