/*
 * perf/rng.h — a small seeded pseudo-random generator for the statistics of
 * `lightning perf` (bootstrap resampling, permutation tests, simulations).
 *
 * Contract
 * - The generator is xoshiro256** (Blackman & Vigna, 2018), its 256-bit state
 *   filled from a 64-bit seed by splitmix64, as the authors recommend. The
 *   same seed gives the same stream on every platform and build: verdicts and
 *   change points must be reproducible from the seed recorded with them.
 * - Not cryptographic. Period 2^256 - 1; any seed (including 0) is valid
 *   because splitmix64 never yields an all-zero state for four outputs.
 * - The caller owns the `perf_rng` value (a plain struct, no allocation).
 *   Functions are reentrant; one `perf_rng` must not be shared by threads
 *   without the caller's own locking (give each thread its own seed instead).
 * - The core generator is bench/keygen.h's (see below); what is perf's own
 *   is the draws built on it (uniform doubles, 32-bit bounded, normal,
 *   shuffle), whose exact streams stored verdicts depend on.
 * - Callers: src/perf/stats_*.c and the tests. The hot draw functions are
 *   inline here because the bootstrap calls them hundreds of millions of
 *   times in the simulations.
 */
#ifndef PERF_RNG_H
#define PERF_RNG_H

#include <stdint.h>

#include "bench/keygen.h"

/* The generator is the benchmark's own (bench/keygen.h): one xoshiro256**
 * and one splitmix64 in the tools, so both streams rest on the same tested
 * code. The perf names stay for the statistics and the draws below. */
typedef bench_rng perf_rng;

/* Fills the state from `seed` with splitmix64. */
static inline void perf_rng_seed(perf_rng *r, uint64_t seed) { bench_rng_seed(r, seed); }

/* One splitmix64 step: advances *state and returns a well-mixed value. Also
 * used to derive independent child seeds (trial i of a simulation). */
static inline uint64_t perf_splitmix64(uint64_t *state) { return bench_splitmix64(state); }

/* Standard normal deviate (Marsaglia polar method; the spare deviate is
 * discarded so the stream position depends only on the number of calls). */
double perf_rng_normal(perf_rng *r);

/* Fisher–Yates shuffle of n doubles in place. */
void perf_rng_shuffle(perf_rng *r, double *x, uint32_t n);

/* Next 64 random bits (xoshiro256**). */
static inline uint64_t perf_rng_next(perf_rng *r) { return bench_rng_next(r); }

/* Uniform double in [0, 1) with 53 random bits. */
static inline double perf_rng_uniform(perf_rng *r)
{
    return (double)(perf_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Maps 32 random bits to [0, n) without bias (Lemire 2019: multiply, and
 * reject the few low products that would over-represent some values). The
 * caller supplies the bits so the bootstrap can split one 64-bit draw in two;
 * `refill` is called only on the rare rejection. n must be >= 1. */
static inline uint32_t perf_rng_bounded_from(perf_rng *r, uint32_t bits,
                                             uint32_t n)
{
    uint64_t m = (uint64_t)bits * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            bits = (uint32_t)(perf_rng_next(r) >> 32);
            m = (uint64_t)bits * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Uniform integer in [0, n), n >= 1. */
static inline uint32_t perf_rng_below(perf_rng *r, uint32_t n)
{
    return perf_rng_bounded_from(r, (uint32_t)(perf_rng_next(r) >> 32), n);
}

#endif /* PERF_RNG_H */
