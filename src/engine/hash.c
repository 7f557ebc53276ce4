/*
 * engine/hash.c — the point-lookup accelerator (see hash.h).
 */
#include "engine/hash.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "engine/alloc.h"
#include "engine/util.h"
#include "lightningdb.h"

#define HASH_MIN_CAP 1024u
#define HASH_HUGE (2u << 20)

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t hash_key(const hash_index *h, const void *key, size_t n)
{
    /* A multiply-fold hash in the style of wyhash: two 64x64->128 products
     * per 16 bytes, seeded per database. */
    const uint8_t *p = key;
    uint64_t s = h->seed ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 16) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        s = mix(a ^ 0xa0761d6478bd642full ^ s, b ^ 0xe7037ed1a0b428dbull);
        p += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n > 8) {
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, n - 8);
    } else {
        memcpy(&a, p, n);
    }
    s = mix(a ^ 0xa0761d6478bd642full ^ s, b ^ 0xe7037ed1a0b428dbull);
    return mix(s, 0x8ebc6af09c88c6e3ull);
}

static hash_table *table_new(uint64_t cap)
{
    size_t bytes = sizeof(hash_table) + cap * sizeof(hash_slot);
    hash_table *t;
    if (bytes >= HASH_HUGE) {
        bytes = (bytes + HASH_HUGE - 1) / HASH_HUGE * HASH_HUGE;
        t = alloc_aligned(HASH_HUGE, bytes);
        if (!t) return NULL;
        /* Probes are random: huge pages spare each one a TLB miss. */
        madvise(t, bytes, MADV_HUGEPAGE);
    } else {
        t = alloc_aligned(64, bytes);
        if (!t) return NULL;
    }
    memset(t, 0, bytes);
    t->mask = cap - 1;
    t->bytes = bytes;
    return t;
}

static void table_free(void *ctx, void *p)
{
    (void)ctx;
    alloc_free(p);
}

static uint64_t cap_for(uint64_t n)
{
    uint64_t cap = HASH_MIN_CAP;
    while (cap < n * 2 + 2) cap <<= 1;
    return cap;
}

int hash_init(hash_index *h, epoch_mgr *ep, uint64_t expected, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->ep = ep;
    h->seed = seed;
    if (!seed && getrandom(&h->seed, sizeof h->seed, GRND_NONBLOCK) != sizeof h->seed)
        h->seed = util_now_ns() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)h;
    hash_table *t = table_new(cap_for(expected));
    if (!t) return LDB_NOMEM;
    atomic_store_explicit(&h->bytes, t->bytes, memory_order_relaxed);
    atomic_store_explicit(&h->mask, t->mask, memory_order_relaxed);
    atomic_store_explicit(&h->table, t, memory_order_release);
    return LDB_OK;
}

void hash_destroy(hash_index *h)
{
    hash_table *t = atomic_load_explicit(&h->table, memory_order_relaxed);
    alloc_free(t);
    atomic_store_explicit(&h->table, NULL, memory_order_relaxed);
}

static void place(hash_table *t, uint64_t w, const uint8_t *hint, uint64_t hv)
{
    uint64_t i = hv & t->mask;
    for (;;) {
        uint64_t cur = atomic_load_explicit(&t->slots[i].w, memory_order_relaxed);
        if (cur == 0 || cur == HASH_TOMB) break;
        i = (i + 1) & t->mask;
    }
    if (atomic_load_explicit(&t->slots[i].w, memory_order_relaxed) == HASH_TOMB) t->tombs--;
    atomic_store_explicit(&t->slots[i].hint, hint, memory_order_relaxed);
    atomic_store_explicit(&t->slots[i].w, w, memory_order_release);
    t->used++;
}

#define REBUILD_AHEAD 16

/* Rebuilds into a table for `want` keys and publishes it. */
static int rebuild(hash_index *h, uint64_t want)
{
    hash_table *old = atomic_load_explicit(&h->table, memory_order_relaxed);
    if (epoch_reserve(h->ep, 1) != LDB_OK) return LDB_NOMEM;
    hash_table *t = table_new(cap_for(want));
    if (!t) return LDB_NOMEM;
    for (uint64_t i = 0; i <= old->mask; i++) {
        /* Rehashing reads every entry's key: a cache miss each. Requesting
         * the entry a few slots ahead overlaps them (the writer holds the
         * commit lock for the whole rebuild). */
        if (i + REBUILD_AHEAD <= old->mask) {
            uint64_t a = atomic_load_explicit(&old->slots[i + REBUILD_AHEAD].w,
                                              memory_order_relaxed);
            if (a != 0 && a != HASH_TOMB) __builtin_prefetch((void *)(uintptr_t)(a & HASH_PTR_MASK));
        }
        uint64_t w = atomic_load_explicit(&old->slots[i].w, memory_order_relaxed);
        if (w == 0 || w == HASH_TOMB) continue;
        idx_entry *e = (idx_entry *)(uintptr_t)(w & HASH_PTR_MASK);
        place(t, w, atomic_load_explicit(&old->slots[i].hint, memory_order_relaxed),
              hash_key(h, e->key, e->klen));
    }
    atomic_store_explicit(&h->table, t, memory_order_release);
    atomic_store_explicit(&h->mask, t->mask, memory_order_relaxed);
    atomic_store_explicit(&h->bytes, t->bytes, memory_order_relaxed);
    epoch_retire(h->ep, old, table_free, NULL);
    return LDB_OK;
}

int hash_reserve_w(hash_index *h, uint64_t n)
{
    hash_table *t = atomic_load_explicit(&h->table, memory_order_relaxed);
    if ((t->used + t->tombs + n) * 2 <= t->mask + 1) return LDB_OK;
    return rebuild(h, t->used + n);
}

int hash_insert_w(hash_index *h, idx_entry *e, uint64_t hv)
{
    hash_table *t = atomic_load_explicit(&h->table, memory_order_relaxed);
    if ((t->used + t->tombs + 1) * 2 > t->mask + 1) {
        /* Grow when live keys fill it; just rebuild in place when deletions
         * left tombstones. */
        int rc = rebuild(h, t->used * 2 > t->mask + 1 - t->tombs ? t->used * 2 : t->used + 1);
        if (rc) return rc;
        t = atomic_load_explicit(&h->table, memory_order_relaxed);
    }
    idx_version *v = atomic_load_explicit(&e->head, memory_order_relaxed);
    place(t, (hash_tag(hv) << 48) | (uint64_t)(uintptr_t)e, v ? v->rec : NULL, hv);
    return LDB_OK;
}

/* The slot holding e, or NULL. */
static hash_slot *slot_of(hash_table *t, const idx_entry *e, uint64_t hv)
{
    uint64_t want = (hash_tag(hv) << 48) | (uint64_t)(uintptr_t)e;
    for (uint64_t i = hv & t->mask;; i = (i + 1) & t->mask) {
        uint64_t w = atomic_load_explicit(&t->slots[i].w, memory_order_relaxed);
        if (w == 0) return NULL;
        if (w == want) return &t->slots[i];
    }
}

void hash_set_hint_w(hash_index *h, const idx_entry *e, uint64_t hv, const uint8_t *rec)
{
    hash_slot *sl = slot_of(atomic_load_explicit(&h->table, memory_order_relaxed), e, hv);
    if (sl) atomic_store_explicit(&sl->hint, rec, memory_order_relaxed);
}

void hash_remove_w(hash_index *h, const idx_entry *e, uint64_t hv)
{
    hash_table *t = atomic_load_explicit(&h->table, memory_order_relaxed);
    hash_slot *sl = slot_of(t, e, hv);
    if (!sl) return;
    atomic_store_explicit(&sl->w, HASH_TOMB, memory_order_release);
    atomic_store_explicit(&sl->hint, NULL, memory_order_relaxed);
    t->used--;
    t->tombs++;
}

int hash_clear_w(hash_index *h)
{
    hash_table *t = atomic_load_explicit(&h->table, memory_order_relaxed);
    for (uint64_t i = 0; i <= t->mask; i++) {
        atomic_store_explicit(&t->slots[i].w, 0, memory_order_relaxed);
        atomic_store_explicit(&t->slots[i].hint, NULL, memory_order_relaxed);
    }
    t->used = t->tombs = 0;
    return LDB_OK;
}
