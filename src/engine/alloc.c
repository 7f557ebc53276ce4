/*
 * engine/alloc.c — allocation wrappers with an out-of-memory test hook.
 */
#include "engine/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "engine/util.h"

static _Atomic(alloc_fail_fn) alloc_hook;
static void *alloc_hook_arg;

void alloc_set_fail_hook(alloc_fail_fn fn, void *arg)
{
    alloc_hook_arg = arg;
    atomic_store(&alloc_hook, fn);
}

static inline int alloc_should_fail(void)
{
    alloc_fail_fn fn = atomic_load_explicit(&alloc_hook, memory_order_relaxed);
    return LDB_UNLIKELY(fn != NULL) && fn(alloc_hook_arg);
}

void *alloc_malloc(size_t n)
{
    if (alloc_should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *alloc_calloc(size_t n, size_t sz)
{
    if (alloc_should_fail()) return NULL;
    return calloc(n ? n : 1, sz ? sz : 1);
}

void *alloc_realloc(void *p, size_t n)
{
    if (alloc_should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void *alloc_grow(void *p, size_t *cap, size_t elem, size_t first)
{
    size_t nc = *cap ? *cap * 2 : first;
    if (nc < *cap || (elem && nc > SIZE_MAX / elem)) return NULL;
    void *v = alloc_realloc(p, nc * elem);
    if (v) *cap = nc;
    return v;
}

void *alloc_aligned(size_t align, size_t n)
{
    if (alloc_should_fail()) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, align, n ? n : align) != 0) return NULL;
    return p;
}

void alloc_free(void *p) { free(p); }

void *alloc_pages(size_t n)
{
    if (alloc_should_fail()) return NULL;
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void alloc_free_pages(void *p, size_t n)
{
    if (p) munmap(p, n ? n : 1);
}
