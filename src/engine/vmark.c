/*
 * engine/vmark.c — verified marks (see vmark.h).
 */
#include "engine/vmark.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/alloc.h"
#include "lightningdb.h"

int vmark_init(vmark_table *vm, int on)
{
    memset(vm, 0, sizeof *vm);
    long pg = sysconf(_SC_PAGESIZE);
    vm->page = pg > 0 ? (size_t)pg : 4096;
    if (!on) return LDB_OK;
    vm->slots = alloc_calloc(VM_SLOTS, sizeof *vm->slots);
    return vm->slots ? LDB_OK : LDB_NOMEM;
}

void vmark_destroy(vmark_table *vm)
{
    if (vm->slots)
        for (size_t i = 0; i < VM_SLOTS; i++)
            if (vm->slots[i].bits) munmap((void *)vm->slots[i].bits, vm->slots[i].bits_bytes);
    alloc_free(vm->slots);
    alloc_free(vm->resid);
    memset(vm, 0, sizeof *vm);
}

void vmark_attach(vmark_table *vm, uint64_t id, const uint8_t *base, uint64_t size)
{
    if (!vm->slots || !base) return;
    vmark_slot *s = &vm->slots[id % VM_SLOTS];
    if (atomic_load_explicit(&s->owner, memory_order_relaxed)) return; /* taken: no marks */
    /* Whole 64-bit words, rounded to pages. The mapping is reserved, not
     * committed: a bitmap page costs memory only once a mark lands in it
     * (an eighth of a percent of the segment at most). */
    size_t words = (size_t)((size / VM_GRAIN + 63) / 64);
    size_t bytes = (words * 8 + vm->page - 1) / vm->page * vm->page;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) return; /* no memory for marks: verify every read */
    s->base = base;
    s->size = size;
    s->bits = p;
    s->bits_bytes = bytes;
    /* Pairs with the acquire load in vmark_slot_of: a reader that sees the
     * owner sees base, size and bits. */
    atomic_store_explicit(&s->owner, id + 1, memory_order_release);
}

void vmark_detach(vmark_table *vm, uint64_t id, const uint8_t *base)
{
    if (!vm->slots || !base) return;
    vmark_slot *s = &vm->slots[id % VM_SLOTS];
    if (atomic_load_explicit(&s->owner, memory_order_relaxed) != id + 1 || s->base != base) return;
    atomic_store_explicit(&s->owner, 0, memory_order_relaxed);
    munmap((void *)s->bits, s->bits_bytes);
    s->bits = NULL;
    s->base = NULL;
    s->size = 0;
    s->bits_bytes = 0;
}

/* Clears the bits of grains [lo, hi). */
static void clear_bits(const vmark_slot *s, uint64_t lo, uint64_t hi)
{
    while (lo < hi) {
        uint64_t w = lo / 64, b = lo % 64;
        uint64_t n = hi - lo < 64 - b ? hi - lo : 64 - b;
        uint64_t mask = n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1) << b;
        if (mask == ~(uint64_t)0)
            atomic_store_explicit(&s->bits[w], 0, memory_order_relaxed);
        else
            atomic_fetch_and_explicit(&s->bits[w], ~mask, memory_order_relaxed);
        lo += n;
    }
}

static const vmark_slot *slot_of_mapping(const vmark_table *vm, uint64_t id, const uint8_t *base)
{
    if (!vm->slots || id > UINT32_MAX) return NULL;
    const vmark_slot *s = vmark_slot_of(vm, (uint32_t)id);
    return s && s->base == base ? s : NULL;
}

long vmark_clear_absent(vmark_table *vm, uint64_t id, const uint8_t *base, uint64_t end)
{
    vm->resid_pages = 0;
    const vmark_slot *s = slot_of_mapping(vm, id, base);
    if (!s) return 0;
    if (end > s->size) end = s->size;
    size_t npages = (size_t)((end + vm->page - 1) / vm->page);
    if (!npages) return 0;
    if (npages > vm->resid_cap) {
        unsigned char *r = alloc_realloc(vm->resid, npages);
        if (!r) {
            /* Cannot tell what left memory: trust nothing. */
            vmark_clear_all(vm, id);
            return -ENOMEM;
        }
        vm->resid = r;
        vm->resid_cap = npages;
    }
    vm->resid_pages = 0;
    if (mincore((void *)base, npages * vm->page, vm->resid) < 0) return -errno;
    vm->resid_pages = npages;
    long absent = 0;
    uint64_t limit = s->size / VM_GRAIN;
    for (size_t p = 0; p < npages;) {
        if (vm->resid[p] & 1) {
            p++;
            continue;
        }
        size_t q = p;
        while (q < npages && !(vm->resid[q] & 1)) q++;
        absent += (long)(q - p);
        /* A record of at most VM_MAX_REC bytes lying in pages [p, q)
         * starts after p * page - VM_MAX_REC. */
        uint64_t lo_byte = (uint64_t)p * vm->page;
        lo_byte = lo_byte > VM_MAX_REC ? lo_byte - VM_MAX_REC + 1 : 0;
        uint64_t hi = (uint64_t)q * vm->page / VM_GRAIN;
        clear_bits(s, lo_byte / VM_GRAIN, hi < limit ? hi : limit);
        p = q;
    }
    return absent;
}

void vmark_clear_all(vmark_table *vm, uint64_t id)
{
    if (!vm->slots || id > UINT32_MAX) return;
    const vmark_slot *s = vmark_slot_of(vm, (uint32_t)id);
    if (s) clear_bits(s, 0, s->size / VM_GRAIN);
}

int vmark_resident(const vmark_table *vm, uint64_t off, uint64_t len)
{
    if (!len) return 1;
    uint64_t p = off / vm->page, q = (off + len - 1) / vm->page;
    if (q >= vm->resid_pages) return 0;
    for (; p <= q; p++)
        if (!(vm->resid[p] & 1)) return 0;
    return 1;
}
