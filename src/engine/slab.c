/*
 * engine/slab.c — arena allocator for entries and versions (see slab.h).
 */
#include "engine/slab.h"

#include <string.h>
#include <sys/mman.h>

#include "engine/alloc.h"

#define SLAB_ARENA (2u << 20)

/* Class sizes: 32, then multiples of 64 up to 4160 (a 4096-byte key's
 * entry). Small classes are dense; large keys are rare. */
static const uint32_t class_size[SLAB_CLASSES] = {32,  64,  128, 192, 256, 320,  384,  448,
                                                   512, 640, 768, 1024, 1536, 2048, 3072, 4160};

static int class_of(size_t n)
{
    for (int c = 0; c < SLAB_CLASSES; c++)
        if (n <= class_size[c]) return c;
    return -1;
}

void slab_init(slab *s) { memset(s, 0, sizeof *s); }

void slab_destroy(slab *s)
{
    for (size_t i = 0; i < s->narenas; i++) alloc_free(s->arenas[i]);
    alloc_free(s->arenas);
    memset(s, 0, sizeof *s);
}

static int slab_grow(slab *s)
{
    if (s->narenas == s->cap_arenas) {
        size_t nc = s->cap_arenas ? s->cap_arenas * 2 : 16;
        void **v = alloc_realloc(s->arenas, nc * sizeof *v);
        if (!v) return -1;
        s->arenas = v;
        s->cap_arenas = nc;
    }
    uint8_t *a = alloc_aligned(SLAB_ARENA, SLAB_ARENA);
    if (!a) return -1;
    madvise(a, SLAB_ARENA, MADV_HUGEPAGE);
    s->arenas[s->narenas++] = a;
    s->bump = a;
    s->bump_end = a + SLAB_ARENA;
    atomic_fetch_add_explicit(&s->bytes, SLAB_ARENA, memory_order_relaxed);
    return 0;
}

void *slab_alloc(slab *s, size_t n)
{
    int c = class_of(n);
    if (c < 0) return alloc_aligned(64, (n + 63) & ~(size_t)63);
    void *p = s->free[c];
    if (p) {
        memcpy(&s->free[c], p, sizeof(void *));
        return p;
    }
    size_t sz = class_size[c], align = sz < 64 ? sz : 64;
    uint8_t *at = (uint8_t *)(((uintptr_t)s->bump + align - 1) & ~(uintptr_t)(align - 1));
    if (!s->bump || at + sz > s->bump_end) {
        if (slab_grow(s)) return NULL;
        at = s->bump;
    }
    s->bump = at + sz;
    return at;
}

void slab_free_sized(slab *s, void *p, size_t n)
{
    if (!p) return;
    int c = class_of(n);
    if (c < 0) {
        alloc_free(p);
        return;
    }
    memcpy(p, &s->free[c], sizeof(void *));
    s->free[c] = p;
}
