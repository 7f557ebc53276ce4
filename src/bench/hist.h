/*
 * bench/hist.h — log-linear latency histogram (HdrHistogram-like), values in
 * nanoseconds.
 *
 * Contract
 * - Layout: values below 256 get one exact bucket each; above that every
 *   power-of-two range [2^e, 2^(e+1)) is split into 128 equal buckets. A
 *   bucket's width is therefore at most 1/128 of its lower bound, and the
 *   value reported for it (the bucket midpoint, clamped to the recorded
 *   [min, max]) is within 1/256 (0.39%) of every value in it. The whole
 *   uint64_t range is covered (7424 buckets, 58 KiB), so nothing is ever
 *   clamped or dropped: 1 ns .. 100 s is well inside it.
 * - Storage: bench_hist_init allocates the bucket array once; record,
 *   record_n, merge, reset and every query never allocate. bench_hist_free
 *   releases it; a zeroed or freed struct is "uninitialised" and may only be
 *   passed to init or free.
 * - Threads: no locks and no atomics. One histogram belongs to one thread
 *   while it records (one per worker); merge them afterwards, once the
 *   workers are joined (the join is the synchronisation).
 * - Exact statistics: count, min, max and mean are exact (the sum is kept in
 *   128 bits, so even UINT64_MAX samples cannot overflow it); percentiles
 *   are exact up to the bucket error above.
 * - Empty histogram: count() is 0 and min/max/percentile return 0, mean
 *   returns 0.0. A 0 from those is only meaningful when count() != 0;
 *   writers of results must emit null for an empty histogram, never 0.
 * - Percentile definition (p in [0, 100]): the value of the sample of rank
 *   ceil(p/100 * count) (1-based) in sorted order, i.e. the "nearest rank"
 *   method; p <= 0 gives min and p >= 100 gives max, and so does any p
 *   whose rank is the first or last sample (both are known exactly).
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 2^7 = 128 sub-buckets per power of two: the precision knob. */
#define BENCH_HIST_SUB_BITS 7
#define BENCH_HIST_SUB_COUNT (1u << BENCH_HIST_SUB_BITS)
/* Index of UINT64_MAX is (63 - 7) * 128 + 255; one more for the count. */
#define BENCH_HIST_BUCKETS ((64u - BENCH_HIST_SUB_BITS) * BENCH_HIST_SUB_COUNT + \
                            BENCH_HIST_SUB_COUNT)

__extension__ typedef unsigned __int128 bench_u128;

/* Fields are private to hist.c; they are visible only so that
 * bench_hist_record can be inlined into benchmark loops. */
typedef struct bench_hist {
    uint64_t *counts;  /* BENCH_HIST_BUCKETS entries */
    uint64_t total;
    uint64_t min;      /* UINT64_MAX while empty */
    uint64_t max;
    bench_u128 sum;
} bench_hist;

/* Returns 0, or -1 with errno = ENOMEM. */
int bench_hist_init(bench_hist *h);
void bench_hist_free(bench_hist *h);
/* Forgets every sample; keeps the storage. */
void bench_hist_reset(bench_hist *h);

/* The bucket holding v: branch-free, a handful of instructions. */
static inline unsigned bench_hist_index(uint64_t v)
{
    /* OR-ing in 2^7 makes every v < 256 land in shift 0 (exact buckets)
     * without a branch, and keeps clzll's argument non-zero. */
    unsigned shift = (unsigned)(63 - __builtin_clzll(v | BENCH_HIST_SUB_COUNT)) -
                     BENCH_HIST_SUB_BITS;
    return (shift << BENCH_HIST_SUB_BITS) + (unsigned)(v >> shift);
}

/* The hot path: no allocation, no lock, no call. */
static inline void bench_hist_record(bench_hist *h, uint64_t v)
{
    h->counts[bench_hist_index(v)]++;
    h->total++;
    h->sum += v;
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
}

/* Records v n times (e.g. a coordinated-omission correction, or a batch). */
void bench_hist_record_n(bench_hist *h, uint64_t v, uint64_t n);
/* dst += src. Both initialised; src is unchanged; never allocates. */
void bench_hist_merge(bench_hist *dst, const bench_hist *src);

uint64_t bench_hist_count(const bench_hist *h);
uint64_t bench_hist_min(const bench_hist *h);
uint64_t bench_hist_max(const bench_hist *h);
double bench_hist_mean(const bench_hist *h);
/* p in percent: 50, 90, 95, 99, 99.9 ... (see the definition above). */
uint64_t bench_hist_percentile(const bench_hist *h, double p);

/* Inclusive value range [lo, hi] of bucket i (i < BENCH_HIST_BUCKETS), and
 * the value reported for it (the midpoint). */
uint64_t bench_hist_bucket_lo(unsigned i);
uint64_t bench_hist_bucket_hi(unsigned i);
uint64_t bench_hist_bucket_mid(unsigned i);

/* Iteration over non-empty buckets in increasing value order, for printing:
 *   bench_hist_iter it; bench_hist_bucket b;
 *   bench_hist_iter_init(&it, h);
 *   while (bench_hist_iter_next(&it, &b)) ...
 * The histogram must not be modified during the iteration. */
typedef struct bench_hist_bucket {
    uint64_t lo, hi;      /* inclusive value range of the bucket */
    uint64_t count;       /* samples in this bucket */
    uint64_t cumulative;  /* samples in this and all lower buckets */
} bench_hist_bucket;

typedef struct bench_hist_iter {
    const bench_hist *h;
    unsigned next;
    uint64_t cumulative;
} bench_hist_iter;

void bench_hist_iter_init(bench_hist_iter *it, const bench_hist *h);
bool bench_hist_iter_next(bench_hist_iter *it, bench_hist_bucket *out);

struct json_t; /* jansson's type, kept out of this header */
/* A new jansson object {"p50","p90","p95","p99","p999","max"} in ns (the
 * result schema's "latency_ns"); every member is null when the histogram is
 * empty. Caller json_decref's it; NULL on allocation failure. */
struct json_t *bench_hist_latency_json(const bench_hist *h);

#endif /* BENCH_HIST_H */
