/*
 * engine/util.h — small shared helpers for the engine: branch hints, the
 * per-thread "last error" message, monotonic time, and errno mapping.
 *
 * Contract: header-only helpers plus util.c; no state except the
 * thread-local error message. Safe from any thread.
 */
#ifndef LDB_UTIL_H
#define LDB_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define LDB_LIKELY(x) __builtin_expect(!!(x), 1)
#define LDB_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LDB_CACHELINE 64
#define LDB_ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

/* Records a printf-style message for ldb_last_error() on this thread. */
void util_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void util_clear_error(void);
const char *util_last_error(void);

/* Maps an errno value to the LDB_* code a caller should see. */
int util_errno_to_rc(int err);

static inline uint64_t util_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Condition variables whose timed waits run on CLOCK_MONOTONIC: a step of
 * the wall clock (NTP, an administrator, a VM resumed) must neither stop a
 * periodic thread for the length of the step nor make it spin. Deadlines
 * for them come from util_deadline_ms. */
int util_cond_init_monotonic(pthread_cond_t *cv);
/* The CLOCK_MONOTONIC instant ms milliseconds from now. */
void util_deadline_ms(struct timespec *ts, uint64_t ms);

/* Memory fences. ThreadSanitizer does not model atomic_thread_fence (gcc
 * refuses it under -fsanitize=thread), so sanitizer builds substitute a
 * read-modify-write on one global word, which TSan does understand as
 * synchronisation. Production builds use the real fences. */
#if defined(__SANITIZE_THREAD__)
#include <stdatomic.h>
extern _Atomic unsigned util_tsan_fence_word;
#define UTIL_FENCE(order) ((void)atomic_fetch_add_explicit(&util_tsan_fence_word, 0, memory_order_acq_rel))
#else
#define UTIL_FENCE(order) atomic_thread_fence(order)
#endif

static inline void util_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Little-endian fixed-width encoding: the on-disk format is little-endian
 * whatever the host, so files move between machines. */
static inline void util_put_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void util_put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void util_put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t util_get_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t util_get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t util_get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Lightning DB's on-disk format code assumes a little-endian host"
#endif

/* Bytewise key order: memcmp over the common length, then shorter first. */
static inline int util_keycmp(const void *a, size_t al, const void *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return (al > bl) - (al < bl);
}

#endif /* LDB_UTIL_H */
