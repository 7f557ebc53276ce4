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
        /* Zero pages from the kernel: no memset up front (it was most of a
         * growth's pause); pages arrive as the moves and inserts reach them. */
        bytes = (bytes + HASH_HUGE - 1) / HASH_HUGE * HASH_HUGE;
        t = alloc_pages(bytes);
        if (!t) return NULL;
        /* Probes are random: huge pages spare each one a TLB miss. */
        madvise(t, bytes, MADV_HUGEPAGE);
        t->paged = 1;
    } else {
        t = alloc_aligned(64, bytes);
        if (!t) return NULL;
        memset(t, 0, bytes);
    }
    t->mask = cap - 1;
    t->bytes = bytes;
    t->growing = (hash_view){t, NULL};
    t->settled = (hash_view){t, NULL};
    return t;
}

static void table_free(void *ctx, void *p)
{
    (void)ctx;
    hash_table *t = p;
    if (!t) return;
    if (t->paged) alloc_free_pages(t, t->bytes);
    else alloc_free(t);
}

static uint64_t cap_for(uint64_t n)
{
    uint64_t cap = HASH_MIN_CAP;
    while (cap < n * 2 + 2) cap <<= 1;
    return cap;
}

/* Releases pair with the readers' acquire loads of h->view and h->table
 * (hash.h): a table and view are filled before they are seen. mask and
 * bytes are relaxed: the prefetch path only hints with them and stays
 * inside the table whatever mask it reads (hash_prefetch_any). */
static void publish(hash_index *h, hash_table *t, const hash_view *v, uint64_t bytes)
{
    atomic_store_explicit(&h->table, t, memory_order_release);
    atomic_store_explicit(&h->mask, t->mask, memory_order_relaxed);
    atomic_store_explicit(&h->bytes, bytes, memory_order_relaxed);
    atomic_store_explicit(&h->view, v, memory_order_release);
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
    publish(h, t, &t->settled, t->bytes);
    return LDB_OK;
}

void hash_destroy(hash_index *h)
{
    table_free(NULL, atomic_load_explicit(&h->table, memory_order_relaxed));
    table_free(NULL, h->old);
    h->old = NULL;
    atomic_store_explicit(&h->table, NULL, memory_order_relaxed);
    atomic_store_explicit(&h->view, NULL, memory_order_relaxed);
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
    /* Release pairs with the acquire load of the slot word in the probe
     * (hash.h): the hint is in place before the slot can match. used is
     * the writer's own. */
    atomic_store_explicit(&t->slots[i].w, w, memory_order_release);
    t->used++;
}

/* Slots of the old table moved per writer operation. A growth starts with
 * the new table at most half as full as its limit (see grow_start), so it
 * ends long before inserts could fill the new one: 32 slots an operation
 * finish a table of C slots within C/32 operations. */
#define HASH_MOVE_STEP 32
#define MOVE_AHEAD 16

/* The growth is over: readers stop probing the old table. Fails (and is
 * retried by the next step) only when the epoch cannot take the retire. */
static void grow_finish(hash_index *h)
{
    if (epoch_reserve(h->ep, 1) != LDB_OK) return;
    hash_table *t = atomic_load_explicit(&h->table, memory_order_relaxed), *o = h->old;
    h->old = NULL;
    publish(h, t, &t->settled, t->bytes);
    epoch_retire(h->ep, o, table_free, NULL);
}

/* Moves up to n slots of the old table into the new one. */
static void grow_step(hash_index *h, uint64_t n)
{
    hash_table *o = h->old, *t = atomic_load_explicit(&h->table, memory_order_relaxed);
    uint64_t end = h->moved + n > o->mask + 1 ? o->mask + 1 : h->moved + n;
    for (uint64_t i = h->moved; i < end; i++) {
        /* Rehashing reads every entry's key: a cache miss each. Requesting
         * the entry a few slots ahead overlaps them. */
        if (i + MOVE_AHEAD <= o->mask) {
            uint64_t a = atomic_load_explicit(&o->slots[i + MOVE_AHEAD].w, memory_order_relaxed);
            if (a != 0 && a != HASH_TOMB) __builtin_prefetch((void *)(uintptr_t)(a & HASH_PTR_MASK));
        }
        uint64_t w = atomic_load_explicit(&o->slots[i].w, memory_order_relaxed);
        if (w == 0 || w == HASH_TOMB) continue;
        idx_entry *e = (idx_entry *)(uintptr_t)(w & HASH_PTR_MASK);
        place(t, w, atomic_load_explicit(&o->slots[i].hint, memory_order_relaxed),
              hash_key(h, e->key, e->klen));
    }
    h->moved = end;
    if (end == o->mask + 1) grow_finish(h);
}

void hash_settle_w(hash_index *h)
{
    /* One try: if the epoch cannot take the retire, h->old stays set and
     * the callers see it (and the next step tries again). */
    if (h->old) grow_step(h, UINT64_MAX / 2);
}

/* Starts moving everything into a new table with room for `want` keys. */
static int grow_start(hash_index *h, uint64_t want)
{
    hash_settle_w(h); /* a growth still running finishes first */
    if (h->old) return LDB_NOMEM;
    hash_table *cur = atomic_load_explicit(&h->table, memory_order_relaxed);
    hash_table *t = table_new(cap_for(want));
    if (!t) return LDB_NOMEM;
    t->growing = (hash_view){t, cur};
    h->old = cur;
    h->moved = 0;
    publish(h, t, &t->growing, t->bytes + cur->bytes);
    return LDB_OK;
}

int hash_reserve_w(hash_index *h, uint64_t n)
{
    hash_table *t = atomic_load_explicit(&h->table, memory_order_relaxed);
    if ((t->used + t->tombs + n) * 2 <= t->mask + 1) return LDB_OK;
    int rc = grow_start(h, t->used + n);
    if (rc == LDB_OK) hash_settle_w(h); /* bulk loads: at once */
    return rc;
}

int hash_insert_w(hash_index *h, idx_entry *e, uint64_t hv)
{
    if (h->old) grow_step(h, HASH_MOVE_STEP);
    hash_table *t = atomic_load_explicit(&h->table, memory_order_relaxed);
    if ((t->used + t->tombs + 1) * 2 > t->mask + 1) {
        /* Full: grow, or (when deletions left tombstones) start over at a
         * size with room for half as many keys again as are live. The
         * unmoved keys are not in t->used, so settle first. */
        if (h->old) {
            hash_settle_w(h);
            t = atomic_load_explicit(&h->table, memory_order_relaxed);
        }
        if ((t->used + t->tombs + 1) * 2 > t->mask + 1) {
            int rc = grow_start(h, t->used + t->used / 2 + 1);
            if (rc) return rc;
            grow_step(h, HASH_MOVE_STEP);
            t = atomic_load_explicit(&h->table, memory_order_relaxed);
        }
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
    if (h->old) grow_step(h, HASH_MOVE_STEP);
    hash_slot *sl = slot_of(atomic_load_explicit(&h->table, memory_order_relaxed), e, hv);
    if (!sl && h->old) sl = slot_of(h->old, e, hv); /* not moved yet */
    if (sl) atomic_store_explicit(&sl->hint, rec, memory_order_relaxed);
}

static void remove_from(hash_table *t, const idx_entry *e, uint64_t hv)
{
    hash_slot *sl = slot_of(t, e, hv);
    if (!sl) return;
    /* Pairs with the probe's acquire: a reader sees the entry or the
     * tombstone; the entry itself is retired through the epoch. */
    atomic_store_explicit(&sl->w, HASH_TOMB, memory_order_release);
    atomic_store_explicit(&sl->hint, NULL, memory_order_relaxed);
    t->used--;
    t->tombs++;
}

void hash_remove_w(hash_index *h, const idx_entry *e, uint64_t hv)
{
    if (h->old) grow_step(h, HASH_MOVE_STEP);
    remove_from(atomic_load_explicit(&h->table, memory_order_relaxed), e, hv);
    /* Readers probe the old table too while it is named: gone from both. */
    if (h->old) remove_from(h->old, e, hv);
}

int hash_clear_w(hash_index *h)
{
    hash_settle_w(h);
    hash_table *t = atomic_load_explicit(&h->table, memory_order_relaxed);
    for (uint64_t i = 0; i <= t->mask; i++) {
        atomic_store_explicit(&t->slots[i].w, 0, memory_order_relaxed);
        atomic_store_explicit(&t->slots[i].hint, NULL, memory_order_relaxed);
    }
    t->used = t->tombs = 0;
    return LDB_OK;
}
