/*
 * engine/vmark.h — verified marks: which records have already been checked
 * (CRC32C and key) since their bytes were last read from disk, so that
 * verify_checksums = LDB_VERIFY_FIRST checks a record once and not on every
 * read. RocksDB does the same at block granularity: a block is verified when
 * it enters the block cache, not on each hit.
 *
 * Owns: a table of VM_SLOTS slots, one per mapped segment (slot = segment id
 * mod VM_SLOTS), each with a bitmap of one bit per VM_GRAIN bytes of the
 * segment. Records start 8-aligned and take at least 24 bytes (16-byte
 * header, a key of at least one byte, padding to 8), so two records never
 * share a bit.
 *
 * Invariants
 * - A set bit means: the record starting at that offset was checked, by a
 *   reader or the scrubber, after the last time the scrubber saw one of its
 *   pages out of memory (vmark_clear_absent clears those).
 * - `any` is set with the first mark and never cleared: until then there is
 *   nothing to clear, and the scrubber skips its residency scan (a
 *   database only written to pays nothing for the marks). A page that
 *   leaves memory and comes back between two residency scans keeps its
 *   marks: the scan interval bounds that window (scrub.h).
 * - Only records of at most VM_MAX_REC bytes are marked, so a page found out
 *   of memory clears the marks of records starting up to VM_MAX_REC bytes
 *   before it and no further; larger records are verified on every read.
 * - A slot belongs to one segment mapping (owner = id + 1) from
 *   vmark_attach to vmark_detach. A second mapped segment that falls on an
 *   owned slot gets no marks: its reads verify every time, as
 *   LDB_VERIFY_ALWAYS does (correct, only slower; it takes live segments
 *   VM_SLOTS ids apart).
 *
 * Who may call it, thread-safety
 * - vmark_init/vmark_destroy: the log, at open and close (no other thread).
 * - vmark_attach/vmark_detach: the log, when it maps or unmaps a segment;
 *   detach only once no thread can still hold a pointer into the mapping
 *   (the epoch retired the segment, or the handle is closing). Attach
 *   publishes the slot with a release store of `owner`; readers load it with
 *   acquire, so base and bits are complete when they see the owner.
 * - vmark_test/vmark_set/vmark_clear_absent: any thread inside an epoch
 *   section (or otherwise keeping the segment mapped). The bits are relaxed
 *   atomics: a mark only lets a reader skip re-checking bytes that never
 *   change once published (the commit's release made them visible before
 *   the version that points at them). Setting and clearing may race; a lost
 *   set costs one more check, and a clear that loses to a set is the
 *   scan-window case above.
 */
#ifndef LDB_VMARK_H
#define LDB_VMARK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define VM_SLOTS 1024u
#define VM_GRAIN 16u            /* bytes of segment per bit */
#define VM_MAX_REC (16u * 1024u) /* larger records are never marked */

typedef struct vmark_slot {
    _Atomic uint64_t owner;     /* segment id + 1; 0: free */
    const uint8_t *base;        /* the segment's mapping */
    uint64_t size;              /* its length */
    _Atomic uint64_t *bits;     /* size / VM_GRAIN bits, zero-filled on demand */
    size_t bits_bytes;
} vmark_slot;

typedef struct vmark_table {
    vmark_slot *slots;          /* VM_SLOTS, NULL when marks are off */
    size_t page;                /* the system page size */
    unsigned char *resid;       /* mincore() vector (the scrubber's) */
    size_t resid_cap;
    size_t resid_pages;         /* pages the last vmark_clear_absent saw */
    _Atomic int any;            /* some mark was ever set */
} vmark_table;

/* Allocates the slot table (on == 0: a table that marks nothing). */
int vmark_init(vmark_table *vm, int on);
void vmark_destroy(vmark_table *vm);
/* Gives segment `id` mapped at [base, base + size) a slot if its slot is
 * free; without one its records are simply never marked. */
void vmark_attach(vmark_table *vm, uint64_t id, const uint8_t *base, uint64_t size);
void vmark_detach(vmark_table *vm, uint64_t id, const uint8_t *base);

/* The slot of segment `seg` when it is owned by that mapping, else NULL. */
static inline const vmark_slot *vmark_slot_of(const vmark_table *vm, uint32_t seg)
{
    if (!vm->slots) return NULL;
    const vmark_slot *s = &vm->slots[seg % VM_SLOTS];
    /* Pairs with the release store of owner in vmark_attach. */
    if (atomic_load_explicit(&s->owner, memory_order_acquire) != (uint64_t)seg + 1) return NULL;
    return s;
}

/* The bit of the record at rec in slot s; UINT64_MAX when rec is not in
 * the slot's mapping (a tombstone's NULL, say). */
static inline uint64_t vmark_bit(const vmark_slot *s, const uint8_t *rec)
{
    uint64_t off = (uint64_t)((uintptr_t)rec - (uintptr_t)s->base);
    return off < s->size ? off / VM_GRAIN : UINT64_MAX;
}

/* 1 when the record at rec (in segment seg) carries a mark. */
static inline int vmark_test(const vmark_table *vm, uint32_t seg, const uint8_t *rec)
{
    const vmark_slot *s = vmark_slot_of(vm, seg);
    if (!s) return 0;
    uint64_t bit = vmark_bit(s, rec);
    if (bit == UINT64_MAX) return 0;
    uint64_t w = atomic_load_explicit(&s->bits[bit / 64], memory_order_relaxed);
    return (int)((w >> (bit % 64)) & 1u);
}

/* Starts the cache miss of vmark_test(vm, seg, rec) (multi_get's stages). */
static inline void vmark_prefetch(const vmark_table *vm, uint32_t seg, const uint8_t *rec)
{
    const vmark_slot *s = vmark_slot_of(vm, seg);
    uint64_t bit = s ? vmark_bit(s, rec) : UINT64_MAX;
    if (bit != UINT64_MAX) __builtin_prefetch((const void *)&s->bits[bit / 64]);
}

/* Marks the record at rec of `size` bytes (header included) as checked;
 * records above VM_MAX_REC are left unmarked. */
static inline void vmark_set(vmark_table *vm, uint32_t seg, const uint8_t *rec, size_t size)
{
    if (size > VM_MAX_REC) return;
    const vmark_slot *s = vmark_slot_of(vm, seg);
    if (!s) return;
    uint64_t bit = vmark_bit(s, rec);
    if (bit == UINT64_MAX) return;
    /* vmark_table is shared read-mostly: store the flag only once. */
    if (!atomic_load_explicit(&vm->any, memory_order_relaxed))
        atomic_store_explicit(&vm->any, 1, memory_order_relaxed);
    atomic_fetch_or_explicit(&s->bits[bit / 64], (uint64_t)1 << (bit % 64), memory_order_relaxed);
}

/* Asks the kernel which pages of [0, end) of segment `id` (mapped at base)
 * are in memory (mincore) and clears the marks of every record that lies
 * in a page that is not. Returns the number of pages found out of memory,
 * or -errno (the mapping went away: nothing was cleared or needed to be).
 * One caller at a time (it reuses the table's residency vector). */
long vmark_clear_absent(vmark_table *vm, uint64_t id, const uint8_t *base, uint64_t end);

/* 1 when every page of [off, off + len) was in memory at the last
 * vmark_clear_absent (of the same segment, by the same caller). */
int vmark_resident(const vmark_table *vm, uint64_t off, uint64_t len);

/* Clears every mark of segment `id` (tests; a caller that must re-verify). */
void vmark_clear_all(vmark_table *vm, uint64_t id);

#endif /* LDB_VMARK_H */
