/*
 * bench/keygen.h — deterministic key, operation and value generators for
 * `lightning bench`.
 *
 * Contract
 * - Determinism: every generator is a pure function of its seed and
 *   parameters, with no hidden global state, so the same seed gives the same
 *   key and operation sequence on every engine and every run. The integer
 *   generators (PRNG, uniform, sequential, hashes, permutations, key and
 *   value bytes, operation mixes) are bit-identical on every machine: bytes
 *   are written in a fixed byte order. The zipfian family calls pow(); a
 *   different libm may round its last bit differently and so, rarely, move
 *   a draw to a neighbouring rank on another machine (never on this one).
 * - Nothing here allocates: all state lives in caller-owned structs, which
 *   makes every generator safe on a benchmark's hot path.
 * - Threads: no locks. A bench_rng / bench_dist is owned by one thread; give
 *   each worker its own (bench_rng_seed_stream gives non-overlapping
 *   streams). Const structs (bench_zipf after init, bench_perm, bench_opmix)
 *   may be shared read-only.
 * - Distributions follow YCSB's definitions (its core/generator package):
 *   uniform, zipfian (Gray et al.'s generator, theta = 0.99 by default),
 *   scrambled zipfian, latest, sequential. Deliberate differences are noted
 *   where they occur.
 */
#ifndef BENCH_KEYGEN_H
#define BENCH_KEYGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- PRNG: xoshiro256** seeded through splitmix64 ---------------------- */

typedef struct bench_rng {
    uint64_t s[4];
} bench_rng;

/* splitmix64: advances *state and returns the next output (used for
 * seeding, and on its own where a tiny generator suffices). */
uint64_t bench_splitmix64(uint64_t *state);
void bench_rng_seed(bench_rng *r, uint64_t seed);
/* Stream `stream` of `seed`: the seed's generator advanced by stream *
 * 2^128 steps (xoshiro's jump), so per-thread streams never overlap.
 * Costs O(stream) jumps of ~1 us each; meant for thread counts, not more. */
void bench_rng_seed_stream(bench_rng *r, uint64_t seed, uint64_t stream);
/* Advances by 2^128 steps. */
void bench_rng_jump(bench_rng *r);

static inline uint64_t bench_rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t bench_rng_next(bench_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = bench_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = bench_rotl64(s[3], 45);
    return out;
}

/* Uniform in [0, n), exactly unbiased (Lemire, "Fast random integer
 * generation in an interval", 2019): one multiply, and a division only in
 * the rare rejection case. n == 0 returns 0. */
static inline uint64_t bench_rng_below(bench_rng *r, uint64_t n)
{
    __extension__ typedef unsigned __int128 u128;
    u128 m = (u128)bench_rng_next(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t threshold = -n % n;
        while (lo < threshold) {
            m = (u128)bench_rng_next(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double bench_rng_unit(bench_rng *r)
{
    return (double)(bench_rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- Bijections --------------------------------------------------------- */

/* A bijective 64-bit mixer (splitmix64's finaliser): distinct inputs give
 * distinct outputs, which a scrambled key order needs (YCSB's FNV hash is
 * not a bijection, so its "hashed" keys can collide). */
static inline uint64_t bench_hash64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
/* The inverse of bench_hash64 (to recover an index from a scrambled key). */
uint64_t bench_hash64_inverse(uint64_t h);

/* FNV-1a (64-bit) of a NUL-terminated string: names to seeds and ids. */
static inline uint64_t bench_fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* A pseudo-random permutation of [0, n): a keyed bijective mixer on the
 * smallest power-of-two domain >= n, cycle-walked until the result is < n
 * (under 2 rounds on average, always terminating). */
typedef struct bench_perm {
    uint64_t n, mask;
    uint64_t add, mul1, mul2;
    unsigned shift;
} bench_perm;

/* n >= 1. Returns 0, or -1 with errno = EINVAL. */
int bench_perm_init(bench_perm *p, uint64_t n, uint64_t seed);
uint64_t bench_perm_apply(const bench_perm *p, uint64_t i);

/* ---- Keys --------------------------------------------------------------- */

#define BENCH_KEY_MIN_SIZE 8
/* Byte that fills a key after its 8-byte index (as db_bench pads keys). */
#define BENCH_KEY_PAD '0'

/* Writes key_size bytes: idx as 8 big-endian bytes, then padding. Sequential
 * indexes are therefore sequential in memcmp order, and keys differ only in
 * their first 8 bytes. Returns 0, or -1 (errno = EINVAL) if key_size < 8. */
int bench_key_format(void *out, size_t key_size, uint64_t idx);
/* The same with bench_hash64(idx) in place of idx: a reproducible "random
 * order" of distinct keys (YCSB's hashed insert order, made bijective). */
int bench_key_format_scrambled(void *out, size_t key_size, uint64_t idx);
/* The first 8 bytes as a big-endian number: the index of a key made by
 * bench_key_format; for a scrambled key pass it to bench_hash64_inverse. */
uint64_t bench_key_parse(const void *key);

/* ---- Zipfian (Gray et al., "Quickly generating billion-record synthetic
 *      databases", SIGMOD 1994; YCSB's ZipfianGenerator) ------------------- */

#define BENCH_ZIPF_THETA 0.99

/* zeta(n, theta) = sum_{i=1..n} i^-theta in O(1): the first 31 terms
 * exactly, the rest by Euler-Maclaurin with three Bernoulli corrections.
 * Truncation error < 1e-14 relative for theta in (0, 1) (the next term is
 * below 5e-15 at i = 32); in practice it agrees with the exact sum to
 * ~1e-15. This replaces YCSB's O(n) summation, so 100M items cost
 * microseconds instead of seconds, and growing n costs nothing. */
double bench_zeta(uint64_t n, double theta);
/* The O(n) compensated sum, for tests and to measure what bench_zeta saves. */
double bench_zeta_exact(uint64_t n, double theta);

/* Fields private; visible for embedding. */
typedef struct bench_zipf {
    uint64_t n;
    double theta, alpha, zetan, zeta2, eta, half_pow_theta;
    double head; /* sum of the first terms, cached so set_n is cheap */
} bench_zipf;

/* Items 0..n-1, item 0 the most popular; 1 <= n < 2^53, 0 < theta < 1
 * (Gray's method needs theta < 1). Returns 0, or -1 with errno = EINVAL. */
int bench_zipf_init(bench_zipf *z, uint64_t n, double theta);
/* Changes the item count in O(1) (a few pow() calls), as YCSB's generator
 * does when the item count grows; same domain rules as init. */
int bench_zipf_set_n(bench_zipf *z, uint64_t n);
/* One draw in [0, n). Items 0 and 1 have exactly the zipfian probabilities
 * 1/zeta(n) and 2^-theta/zeta(n); items >= 2 follow Gray's continuous
 * approximation, which (for theta = 0.99) over-weights item 2 by ~19%,
 * item 10 by ~3% and under-weights the tail by ~1.6% at n = 1M. That is the
 * distribution YCSB generates, kept for comparability. */
uint64_t bench_zipf_next(const bench_zipf *z, bench_rng *r);
/* P(next < k) for this generator (its exact distribution, including the
 * approximation above): what the tests check the sampler against. */
double bench_zipf_cdf(const bench_zipf *z, uint64_t k);

/* ---- Key distributions -------------------------------------------------- */

typedef enum bench_dist_kind {
    BENCH_DIST_UNIFORM,
    BENCH_DIST_ZIPFIAN,           /* index 0 hottest, 1 next, ...          */
    BENCH_DIST_SCRAMBLED_ZIPFIAN, /* zipfian rank -> pseudo-random index   */
    BENCH_DIST_LATEST,            /* zipfian over recency: newest hottest  */
    BENCH_DIST_SEQUENTIAL,        /* 0, 1, ..., n-1, 0, ...                */
    BENCH_DIST_COUNT
} bench_dist_kind;

/* Fields private; visible for embedding. */
typedef struct bench_dist {
    bench_dist_kind kind;
    uint64_t space; /* scrambled zipfian: the fixed domain of the permutation */
    uint64_t count; /* keys currently present: indexes 0..count-1 */
    uint64_t seq;   /* sequential: next index */
    bench_zipf zipf;
    bench_perm perm;
} bench_dist;

/* A chooser over key indexes 0..n-1 (n >= 1; zipfian kinds: n < 2^53, and
 * theta in (0, 1), normally BENCH_ZIPF_THETA; others ignore theta).
 * Returns 0, or -1 with errno = EINVAL. */
int bench_dist_init(bench_dist *d, bench_dist_kind kind, uint64_t n,
                    double theta);
/* Sets how many keys exist now (inserts grow it), in O(1).
 * - uniform, zipfian, latest, sequential: the domain becomes [0, count)
 *   (latest's newest key is count - 1).
 * - scrambled zipfian: the hot set must not move when keys are inserted, so
 *   the permutation keeps the domain given to init (size it for the keys
 *   the run will insert, as YCSB does with insertcount + expected new keys)
 *   and draws >= count are redrawn, as YCSB does; count <= n of init.
 * Returns 0, or -1 with errno = EINVAL. */
int bench_dist_set_count(bench_dist *d, uint64_t count);
/* Sequential only: the next index to return (e.g. a thread's first key). */
void bench_dist_seek(bench_dist *d, uint64_t pos);
uint64_t bench_dist_next(bench_dist *d, bench_rng *r);
/* "uniform", "zipfian", "scrambled-zipfian", "latest", "sequential". */
const char *bench_dist_name(bench_dist_kind kind);
/* Accepts the names above (and "scrambled_zipfian"); 0 or -1. */
int bench_dist_parse(const char *name, bench_dist_kind *out);

/* ---- Operation mixes (YCSB's proportions) ------------------------------- */

typedef enum bench_op {
    BENCH_OP_READ,
    BENCH_OP_UPDATE,
    BENCH_OP_INSERT,
    BENCH_OP_SCAN,
    BENCH_OP_RMW, /* read-modify-write */
    BENCH_OP_COUNT
} bench_op;

typedef struct bench_opmix {
    /* cut[i]: draws (53-bit) below it and at or above cut[i-1] choose op i */
    uint64_t cut[BENCH_OP_COUNT];
} bench_opmix;

/* weight[op] >= 0 (any scale, e.g. YCSB A = {0.5, 0.5, 0, 0, 0}); at least
 * one positive. Returns 0, or -1 with errno = EINVAL. */
int bench_opmix_init(bench_opmix *m, const double weight[BENCH_OP_COUNT]);

static inline bench_op bench_opmix_next(const bench_opmix *m, bench_rng *r)
{
    uint64_t x = bench_rng_next(r) >> 11;
    int op = 0;
    while (op < BENCH_OP_COUNT - 1 && x >= m->cut[op])
        op++;
    return (bench_op)op;
}
/* "read", "update", "insert", "scan", "readmodifywrite". */
const char *bench_op_name(bench_op op);

/* ---- Values ------------------------------------------------------------- */

/* Fills len bytes with pseudo-random bytes determined by (key, version):
 * a reader can verify what it got, and an overwrite (version + 1) differs.
 * ~2 multiplies per 8 bytes, no allocation. The bytes are incompressible,
 * so engines that compress values gain nothing from them (stated with
 * results, as value size is). */
void bench_value_fill(void *buf, size_t len, uint64_t key, uint64_t version);
/* True when buf holds exactly what bench_value_fill would write. */
bool bench_value_check(const void *buf, size_t len, uint64_t key,
                       uint64_t version);

#endif /* BENCH_KEYGEN_H */
