/*
 * engine/slab.h — the writer's allocator for index entries and versions.
 *
 * Why not malloc: every put of a new key allocated a 64-byte-aligned entry
 * and every overwrite a version; glibc's aligned allocations and the
 * coalescing on free cost ~10% of a put (perf: unlink_chunk,
 * malloc_consolidate), and scattered objects cost TLB misses on reads.
 * Objects here come from 2 MiB arenas (transparent huge pages requested),
 * in 64-byte-multiple size classes with per-class free lists, and
 * allocation is a pointer bump or a list pop.
 *
 * Contract: single-threaded — only the commit-mutex holder (or open/close)
 * allocates and frees. Objects freed while readers may still see them go
 * through the epoch first (slab_free is the epoch's free function, with the
 * slab as context). slab_destroy returns every arena at once, so close does
 * not free objects one by one. Objects larger than the largest class fall
 * back to alloc_aligned.
 */
#ifndef LDB_SLAB_H
#define LDB_SLAB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SLAB_CLASSES 16

typedef struct slab {
    void *free[SLAB_CLASSES];    /* singly linked through the first word */
    uint8_t *bump, *bump_end;    /* current arena's unused tail */
    void **arenas;
    size_t narenas, cap_arenas;
    _Atomic uint64_t bytes;      /* arena bytes held (stats) */
} slab;

void slab_init(slab *s);
void slab_destroy(slab *s);
/* n bytes, 64-byte aligned (32-byte objects: 32-aligned). NULL when out of memory. */
void *slab_alloc(slab *s, size_t n);
/* Frees an object of n bytes (the size it was allocated with). */
void slab_free_sized(slab *s, void *p, size_t n);

#endif
