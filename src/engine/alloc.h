/*
 * engine/alloc.h — every heap allocation of the engine goes through here, so
 * tests can make the Nth allocation fail (out-of-memory injection) and check
 * that each call site reports LDB_NOMEM, leaks nothing and leaves the
 * database usable.
 *
 * Contract: alloc_malloc/calloc/realloc behave like the libc functions;
 * alloc_free(NULL) is a no-op. With no hook set the cost is one predictable
 * branch. The hook is process-global and meant for single-threaded tests.
 */
#ifndef LDB_ALLOC_H
#define LDB_ALLOC_H

#include <stddef.h>

void *alloc_malloc(size_t n);
void *alloc_calloc(size_t n, size_t sz);
void *alloc_realloc(void *p, size_t n);
void *alloc_aligned(size_t align, size_t n);
/* Doubles an array of *cap items of elem bytes (to `first` items when
 * empty): the grown array, with *cap updated, or NULL (p and *cap intact)
 * when out of memory or the size would overflow. For the append-to-a-vector
 * pattern: if (n == cap) { T *v = alloc_grow(a, &cap, sizeof *v, 16); ... } */
void *alloc_grow(void *p, size_t *cap, size_t elem, size_t first);
void alloc_free(void *p);
/* Zero-filled, page-aligned memory straight from the kernel (mmap): no
 * memset, each page arrives zeroed on first touch. For big tables that are
 * filled a little at a time (hash growth). Freed with alloc_free_pages and
 * the same size. Honours the fail hook like the others. */
void *alloc_pages(size_t n);
void alloc_free_pages(void *p, size_t n);

/* Test hook: when set, called before each allocation; a non-zero return
 * makes that allocation fail. Pass NULL to remove. */
typedef int (*alloc_fail_fn)(void *arg);
void alloc_set_fail_hook(alloc_fail_fn fn, void *arg);

#endif /* LDB_ALLOC_H */
