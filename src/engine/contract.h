/*
 * engine/contract.h — making the engine's contracts checkable: LDB_ASSERT
 * for invariants, and lock annotations for clang's -Wthread-safety.
 *
 * LDB_ASSERT(cond) states an internal invariant (never a check of input:
 * bad input gets an error code). It is compiled in when LDB_CHECKS is
 * defined — the sanitizer builds (make test-asan, test-tsan) define it —
 * and then prints the file, line and condition and aborts, so a broken
 * invariant stops the test at the line that knows what went wrong. In the
 * release build it compiles to nothing (the condition is not evaluated, so
 * it must have no side effects).
 *
 * Lock annotations: the engine's mutexes are ldb_mutex_t (a pthread mutex
 * declared as a clang capability), taken with ldb_mutex_lock/unlock. A
 * function that must run with a mutex held says LDB_REQUIRES(mutex); one
 * that takes it itself, and so must not be entered with it held, says
 * LDB_EXCLUDES(mutex). `make check-locks` runs clang -Wthread-safety over
 * the engine and fails on a violation. C limits the analysis to functions:
 * clang accepts guarded_by on struct fields only in C++, so which fields a
 * mutex guards is stated in comments beside them (db.h). Under gcc the
 * annotations expand to nothing.
 *
 * Who may use it: every engine file. Thread-safety: macros and thin inline
 * wrappers only.
 */
#ifndef LDB_CONTRACT_H
#define LDB_CONTRACT_H

#include <pthread.h>

/* Reports a broken invariant and aborts (LDB_ASSERT's slow path). */
void contract_failed(const char *cond, const char *file, int line);

#ifdef LDB_CHECKS
#define LDB_ASSERT(cond) ((cond) ? (void)0 : contract_failed(#cond, __FILE__, __LINE__))
#else
#define LDB_ASSERT(cond) ((void)0)
#endif

#if defined(__clang__)
#define LDB_TSA(x) __attribute__((x))
#else
#define LDB_TSA(x)
#endif
#define LDB_CAPABILITY(name) LDB_TSA(capability(name))
#define LDB_REQUIRES(...) LDB_TSA(requires_capability(__VA_ARGS__))
#define LDB_EXCLUDES(...) LDB_TSA(locks_excluded(__VA_ARGS__))
#define LDB_ACQUIRE(...) LDB_TSA(acquire_capability(__VA_ARGS__))
#define LDB_RELEASE(...) LDB_TSA(release_capability(__VA_ARGS__))
#define LDB_NO_TSA LDB_TSA(no_thread_safety_analysis)

typedef pthread_mutex_t ldb_mutex_t LDB_CAPABILITY("mutex");

static inline void ldb_mutex_lock(ldb_mutex_t *m) LDB_ACQUIRE(*m) LDB_NO_TSA;
static inline void ldb_mutex_lock(ldb_mutex_t *m) { pthread_mutex_lock(m); }
static inline void ldb_mutex_unlock(ldb_mutex_t *m) LDB_RELEASE(*m) LDB_NO_TSA;
static inline void ldb_mutex_unlock(ldb_mutex_t *m) { pthread_mutex_unlock(m); }

#endif /* LDB_CONTRACT_H */
