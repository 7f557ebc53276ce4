/*
 * engine/hash.h — the point-lookup accelerator: an open-addressing hash
 * table from key to index entry, so a get costs about two cache misses
 * (slot, entry) instead of a B+tree descent. The ordered index stays the
 * source of truth for scans; this table is kept exactly consistent with it
 * by the single writer (every entry linked into the tree is in the table,
 * and nothing else).
 *
 * Layout: a power-of-two array of 16-byte slots, linear probing, load
 * factor <= 1/2. A slot's first word is 0 (empty), HASH_TOMB (deleted:
 * probing goes on), or an entry pointer with 16 bits of the key's hash in
 * the top bits, so a probe compares the tag before it ever touches the
 * entry, and one atomic load reads tag and pointer together. The second
 * word is a hint: where the key's newest record lies in the log. A lookup
 * prefetches it while it reads the entry, so the entry's and the record's
 * cache misses overlap instead of following one another (correctness never
 * depends on the hint: the entry's version chain decides). Large tables ask
 * for transparent huge pages, so probes don't also pay a TLB miss.
 *
 * Concurrency: readers (inside an epoch read section) load slots with
 * acquire and take no lock. The writer (commit mutex) stores a slot with
 * release only after the entry is fully built. A reader can only miss keys
 * committed after its snapshot: the writer links a new key into the table
 * before it publishes the key's commit.
 *
 * Growing is incremental, so no commit stalls for a whole rehash (measured
 * before: 4M -> 8M slots stopped the writer for ~400 ms, 330 of them
 * zeroing 128 MiB of fresh memory on this VM). The writer allocates the new
 * table as untouched zero pages, publishes a view {new, old}, and from then
 * on each writer operation moves HASH_MOVE_STEP slots of the old table into
 * the new one; new keys go to the new table only. Readers probe the view's
 * table, then its old one. What makes that exact: the old table loses no
 * key while the view names it (moves copy, they do not remove; a removal
 * tombstones the key in both tables), and every key linked after the
 * growth began is in the new table. When all slots are moved the writer
 * publishes the view {new, NULL} and retires the old table through the
 * epoch; a reader still holding the first view keeps a live old table. A
 * view is immutable and lives inside its table, so publishing one is one
 * pointer store and costs no allocation.
 *
 * The hash is seeded per open (getrandom), so adversarial keys cannot be
 * chosen ahead of time to collide, unless the options fix a seed.
 */
#ifndef LDB_HASH_H
#define LDB_HASH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/epoch.h"
#include "engine/index.h"

typedef struct hash_slot {
    _Atomic uint64_t w;                 /* 0, HASH_TOMB, or tag << 48 | entry */
    const uint8_t *_Atomic hint;        /* newest record of the key, or NULL */
} hash_slot;

typedef struct hash_table hash_table;

/* What readers probe: `table`, then `old` when it is not NULL. */
typedef struct hash_view {
    hash_table *table;
    hash_table *old;
} hash_view;

struct hash_table {
    uint64_t mask;            /* capacity - 1 */
    uint64_t used, tombs;     /* writer only */
    size_t bytes;             /* allocation size */
    int paged;                /* from alloc_pages (else alloc_aligned) */
    hash_view growing;        /* {this, the table moving into it} */
    hash_view settled;        /* {this, NULL} */
    hash_slot slots[];
};

typedef struct hash_index {
    const hash_view *_Atomic view; /* readers */
    hash_table *_Atomic table;     /* the writer's table: view->table */
    hash_table *old;          /* writer: being moved into table, or NULL */
    uint64_t moved;           /* writer: old's slots below this are moved */
    epoch_mgr *ep;
    uint64_t seed;
    _Atomic uint64_t bytes;   /* memory of the table(s) */
    _Atomic uint64_t mask;    /* current table's mask (hash_prefetch_any) */
} hash_index;

/* seed 0: a random seed (getrandom). */
int hash_init(hash_index *h, epoch_mgr *ep, uint64_t expected, uint64_t seed);
void hash_destroy(hash_index *h);

uint64_t hash_key(const hash_index *h, const void *k, size_t kl);

/* Reader (or writer): the entry for key k with hash hv, or NULL. */
static inline idx_entry *hash_find(hash_index *h, const void *k, size_t kl, uint64_t hv);

/* Writer: links e (absent), growing the table when needed. LDB_OK or
 * LDB_NOMEM with nothing changed. */
int hash_insert_w(hash_index *h, idx_entry *e, uint64_t hv);
/* Writer: unlinks e. */
void hash_remove_w(hash_index *h, const idx_entry *e, uint64_t hv);
/* Writer: records where e's newest record now lies (a prefetch hint). */
void hash_set_hint_w(hash_index *h, const idx_entry *e, uint64_t hv, const uint8_t *rec);
/* Writer: grows ahead for n more keys (bulk loads). */
int hash_reserve_w(hash_index *h, uint64_t n);
/* Writer: drops every slot (the caller rebuilds). */
int hash_clear_w(hash_index *h);
/* Writer: finishes a growth in progress now (checks, clears, a growth
 * that must start); h->old stays set only if the epoch was out of memory. */
void hash_settle_w(hash_index *h);

/* Issues the prefetch of key hv's first slot (multi-get pipelines). */
static inline void hash_prefetch(hash_index *h, uint64_t hv);
/* The same for a thread outside any read section (a committer before it
 * takes the lock): it never dereferences the table, which a concurrent
 * rebuild may retire and free; at worst it prefetches a stale address,
 * which cannot fault. */
static inline void hash_prefetch_any(hash_index *h, uint64_t hv);

/* ---- inline readers -------------------------------------------------- */

#define HASH_TOMB 1ull
#define HASH_PTR_MASK ((1ull << 48) - 1)

static inline uint64_t hash_tag(uint64_t hv)
{
    return (hv >> 48) | 1; /* never 0: an entry slot is never 0 or HASH_TOMB */
}

static inline idx_entry *hash_probe(const hash_table *t, const void *k, size_t kl, uint64_t hv)
{
    uint64_t tag = hash_tag(hv);
    for (uint64_t i = hv & t->mask;; i = (i + 1) & t->mask) {
        uint64_t w = atomic_load_explicit(&t->slots[i].w, memory_order_acquire);
        if (w == 0) return NULL;
        if (w == HASH_TOMB || (w >> 48) != tag) continue;
        /* Start the record's miss now; the entry's runs beside it. */
        const uint8_t *hint = atomic_load_explicit(&t->slots[i].hint, memory_order_relaxed);
        if (hint) __builtin_prefetch(hint);
        idx_entry *e = (idx_entry *)(uintptr_t)(w & HASH_PTR_MASK);
        if (e->klen == kl && memcmp(e->key, k, kl) == 0) return e;
    }
}

static inline idx_entry *hash_find(hash_index *h, const void *k, size_t kl, uint64_t hv)
{
    const hash_view *v = atomic_load_explicit(&h->view, memory_order_acquire);
    idx_entry *e = hash_probe(v->table, k, kl, hv);
    if (e || __builtin_expect(v->old == NULL, 1)) return e;
    return hash_probe(v->old, k, kl, hv);
}

static inline void hash_prefetch(hash_index *h, uint64_t hv)
{
    const hash_table *t = atomic_load_explicit(&h->view, memory_order_acquire)->table;
    __builtin_prefetch(&t->slots[hv & t->mask]);
}

static inline void hash_prefetch_any(hash_index *h, uint64_t hv)
{
    uintptr_t t = (uintptr_t)atomic_load_explicit(&h->table, memory_order_relaxed);
    uint64_t mask = atomic_load_explicit(&h->mask, memory_order_relaxed);
    __builtin_prefetch((const void *)(t + offsetof(hash_table, slots) +
                                      (uintptr_t)(hv & mask) * sizeof(hash_slot)));
}

#endif /* LDB_HASH_H */
