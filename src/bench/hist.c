/*
 * bench/hist.c — log-linear latency histogram; see hist.h for the contract.
 */
#include "bench/hist.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int bench_hist_init(bench_hist *h)
{
    memset(h, 0, sizeof *h);
    h->counts = calloc(BENCH_HIST_BUCKETS, sizeof *h->counts);
    if (!h->counts) {
        errno = ENOMEM;
        return -1;
    }
    h->min = UINT64_MAX;
    return 0;
}

void bench_hist_free(bench_hist *h)
{
    free(h->counts);
    memset(h, 0, sizeof *h);
}

void bench_hist_reset(bench_hist *h)
{
    memset(h->counts, 0, BENCH_HIST_BUCKETS * sizeof *h->counts);
    h->total = 0;
    h->min = UINT64_MAX;
    h->max = 0;
    h->sum = 0;
}

void bench_hist_record_n(bench_hist *h, uint64_t v, uint64_t n)
{
    if (n == 0)
        return; /* an empty record must not move min/max */
    h->counts[bench_hist_index(v)] += n;
    h->total += n;
    h->sum += (bench_u128)v * n;
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
}

void bench_hist_merge(bench_hist *dst, const bench_hist *src)
{
    if (src->total == 0)
        return;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->sum += src->sum;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
}

uint64_t bench_hist_count(const bench_hist *h) { return h->total; }

uint64_t bench_hist_min(const bench_hist *h)
{
    return h->total ? h->min : 0;
}

uint64_t bench_hist_max(const bench_hist *h)
{
    return h->total ? h->max : 0;
}

double bench_hist_mean(const bench_hist *h)
{
    if (h->total == 0)
        return 0.0;
    return (double)h->sum / (double)h->total;
}

uint64_t bench_hist_bucket_lo(unsigned i)
{
    if (i < 2 * BENCH_HIST_SUB_COUNT)
        return i;
    unsigned shift = (i >> BENCH_HIST_SUB_BITS) - 1;
    uint64_t mant = (i & (BENCH_HIST_SUB_COUNT - 1)) | BENCH_HIST_SUB_COUNT;
    return mant << shift;
}

uint64_t bench_hist_bucket_hi(unsigned i)
{
    if (i < 2 * BENCH_HIST_SUB_COUNT)
        return i;
    unsigned shift = (i >> BENCH_HIST_SUB_BITS) - 1;
    /* lo + (width - 1): stays in range even for the last bucket, whose
     * upper end is UINT64_MAX. */
    return bench_hist_bucket_lo(i) + ((UINT64_C(1) << shift) - 1);
}

uint64_t bench_hist_bucket_mid(unsigned i)
{
    uint64_t lo = bench_hist_bucket_lo(i);
    return lo + ((bench_hist_bucket_hi(i) - lo) >> 1);
}

uint64_t bench_hist_percentile(const bench_hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (!(p > 0.0)) /* also catches NaN */
        return h->min;
    if (p >= 100.0)
        return h->max;

    /* Nearest rank. The small tolerance keeps p = 99.9 of 1000 samples at
     * rank 999 although 99.9 / 100 * 1000 is 999.0000000000001 in binary. */
    double r = p / 100.0 * (double)h->total;
    double rc = ceil(r - r * 1e-12);
    uint64_t rank = rc < 1.0 ? 1 : (uint64_t)rc;
    /* The extreme ranks are known exactly, not just to bucket precision. */
    if (rank >= h->total)
        return h->max;
    if (rank == 1)
        return h->min;

    uint64_t cum = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        cum += h->counts[i];
        if (cum >= rank) {
            /* The extreme samples are known exactly; clamping to them makes
             * the answer exact when the rank falls into the min or max
             * bucket and never reports a value outside what was seen. */
            uint64_t v = bench_hist_bucket_mid(i);
            if (v < h->min) v = h->min;
            if (v > h->max) v = h->max;
            return v;
        }
    }
    return h->max; /* unreachable while counts and total agree */
}

void bench_hist_iter_init(bench_hist_iter *it, const bench_hist *h)
{
    it->h = h;
    it->next = 0;
    it->cumulative = 0;
}

bool bench_hist_iter_next(bench_hist_iter *it, bench_hist_bucket *out)
{
    const uint64_t *c = it->h->counts;
    while (it->next < BENCH_HIST_BUCKETS && c[it->next] == 0)
        it->next++;
    if (it->next >= BENCH_HIST_BUCKETS)
        return false;
    unsigned i = it->next++;
    it->cumulative += c[i];
    out->lo = bench_hist_bucket_lo(i);
    out->hi = bench_hist_bucket_hi(i);
    out->count = c[i];
    out->cumulative = it->cumulative;
    return true;
}

json_t *bench_hist_latency_json(const bench_hist *h)
{
    static const struct {
        const char *key;
        double p;
    } cols[] = {{"p50", 50}, {"p90", 90}, {"p95", 95},
                {"p99", 99}, {"p999", 99.9}, {"max", 100}};
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        /* json_int_t is signed 64-bit: a sample above INT64_MAX ns (292
         * years) cannot be written as an integer, so it is a real. */
        uint64_t v = bench_hist_percentile(h, cols[i].p);
        json_t *j = h->total == 0      ? json_null()
                    : v <= INT64_MAX   ? json_integer((json_int_t)v)
                                       : json_real((double)v);
        if (!j || json_object_set_new(o, cols[i].key, j) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}
