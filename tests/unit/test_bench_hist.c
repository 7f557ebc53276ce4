/*
 * Unit tests for bench/hist: bucket geometry, accuracy against exact
 * quantiles of seeded samples, merge, edge values and empty behaviour.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/hist.h"

/* The documented worst-case error of a reported value (hist.h). */
#define MAX_REL_ERR (1.0 / 256.0)

/* A local generator so these tests do not depend on bench/keygen. */
static uint64_t sm_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double sm_unit(uint64_t *s) /* [0, 1) */
{
    return (double)(sm_next(s) >> 11) * 0x1.0p-53;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Same definition as hist.h: nearest rank, 1-based ceil(p/100 * n). */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    if (p <= 0.0)
        return sorted[0];
    double r = p / 100.0 * (double)n;
    double rc = ceil(r - r * 1e-12);
    size_t rank = rc < 1.0 ? 1 : (size_t)rc;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static double rel_err(uint64_t got, uint64_t want)
{
    if (want == 0)
        return got == 0 ? 0.0 : INFINITY;
    return fabs((double)got - (double)want) / (double)want;
}

static void test_bucket_geometry(void **state)
{
    (void)state;
    assert_int_equal(bench_hist_bucket_lo(0), 0);
    assert_true(bench_hist_bucket_hi(BENCH_HIST_BUCKETS - 1) == UINT64_MAX);
    assert_int_equal(bench_hist_index(UINT64_MAX), BENCH_HIST_BUCKETS - 1);
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        uint64_t lo = bench_hist_bucket_lo(i), hi = bench_hist_bucket_hi(i);
        assert_true(lo <= hi);
        assert_int_equal(bench_hist_index(lo), i);
        assert_int_equal(bench_hist_index(hi), i);
        if (i + 1 < BENCH_HIST_BUCKETS)
            assert_true(bench_hist_bucket_lo(i + 1) == hi + 1); /* no gaps */
        if (i < 256) {
            assert_true(lo == hi); /* small values are exact */
        } else {
            /* width <= lo / 128, so the midpoint is within 1/256 */
            assert_true((double)(hi - lo + 1) <= (double)lo / 128.0);
            uint64_t mid = bench_hist_bucket_mid(i);
            assert_true(rel_err(mid, lo) <= MAX_REL_ERR);
            assert_true(rel_err(mid, hi) <= MAX_REL_ERR);
        }
    }
}

/* Every value from 1 ns to past 100 s lands in a bucket whose reported value
 * is within the documented error. */
static void test_relative_error_1ns_to_100s(void **state)
{
    (void)state;
    uint64_t s = 42;
    for (double v = 1.0; v < 2e11; v *= 1.0007) {
        uint64_t x = (uint64_t)v;
        assert_true(rel_err(bench_hist_bucket_mid(bench_hist_index(x)), x) <=
                    MAX_REL_ERR);
    }
    for (int i = 0; i < 200000; i++) {
        uint64_t x = 1 + sm_next(&s) % UINT64_C(100000000000);
        assert_true(rel_err(bench_hist_bucket_mid(bench_hist_index(x)), x) <=
                    MAX_REL_ERR);
    }
}

static void test_empty(void **state)
{
    (void)state;
    bench_hist h;
    assert_int_equal(bench_hist_init(&h), 0);
    assert_int_equal(bench_hist_count(&h), 0);
    assert_int_equal(bench_hist_min(&h), 0);
    assert_int_equal(bench_hist_max(&h), 0);
    assert_true(bench_hist_mean(&h) == 0.0);
    assert_int_equal(bench_hist_percentile(&h, 50), 0);
    assert_int_equal(bench_hist_percentile(&h, 99.9), 0);
    assert_int_equal(bench_hist_percentile(&h, 100), 0);
    bench_hist_iter it;
    bench_hist_bucket b;
    bench_hist_iter_init(&it, &h);
    assert_false(bench_hist_iter_next(&it, &b));

    /* Merging an empty histogram into an empty one keeps it empty (min must
     * not become 0 by accident). */
    bench_hist e;
    assert_int_equal(bench_hist_init(&e), 0);
    bench_hist_merge(&h, &e);
    assert_int_equal(bench_hist_count(&h), 0);
    bench_hist_record(&h, 500);
    bench_hist_merge(&h, &e);
    assert_int_equal(bench_hist_min(&h), 500);
    /* record_n with n = 0 records nothing */
    bench_hist_record_n(&e, 7, 0);
    assert_int_equal(bench_hist_count(&e), 0);
    assert_int_equal(bench_hist_max(&e), 0);
    bench_hist_free(&e);
    bench_hist_free(&h);
}

static void test_edge_values(void **state)
{
    (void)state;
    bench_hist h;
    assert_int_equal(bench_hist_init(&h), 0);
    bench_hist_record(&h, 0);
    bench_hist_record(&h, 1);
    bench_hist_record(&h, UINT64_MAX);
    assert_int_equal(bench_hist_count(&h), 3);
    assert_int_equal(bench_hist_min(&h), 0);
    assert_true(bench_hist_max(&h) == UINT64_MAX);
    assert_int_equal(bench_hist_percentile(&h, 0), 0);
    assert_int_equal(bench_hist_percentile(&h, 33), 0);  /* rank 1 */
    assert_int_equal(bench_hist_percentile(&h, 50), 1);  /* rank 2 */
    assert_true(bench_hist_percentile(&h, 99.9) == UINT64_MAX);
    assert_true(bench_hist_percentile(&h, 100) == UINT64_MAX);
    /* The 128-bit sum keeps the mean exact despite UINT64_MAX. */
    double want = ((double)UINT64_MAX + 1.0) / 3.0;
    assert_true(fabs(bench_hist_mean(&h) - want) / want < 1e-12);

    /* A single huge sample: every percentile is that sample exactly. */
    bench_hist_reset(&h);
    uint64_t big = UINT64_C(100000000000); /* 100 s */
    bench_hist_record(&h, big);
    assert_true(bench_hist_percentile(&h, 50) == big);
    assert_true(bench_hist_percentile(&h, 99.9) == big);
    assert_true(bench_hist_mean(&h) == (double)big);
    bench_hist_free(&h);
}

/* Checks every reported statistic of h against the exact sorted sample. */
static void check_against_exact(const bench_hist *h, uint64_t *v, size_t n)
{
    bench_u128 sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    qsort(v, n, sizeof *v, cmp_u64);
    assert_int_equal(bench_hist_count(h), n);
    assert_true(bench_hist_min(h) == v[0]);
    assert_true(bench_hist_max(h) == v[n - 1]);
    double mean = (double)sum / (double)n;
    assert_true(fabs(bench_hist_mean(h) - mean) <= mean * 1e-12);
    static const double ps[] = {0.01, 0.1, 1, 10, 25, 50, 75, 90,
                                95, 99, 99.9, 99.99, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        uint64_t want = exact_percentile(v, n, ps[i]);
        uint64_t got = bench_hist_percentile(h, ps[i]);
        double e = rel_err(got, want);
        if (e > MAX_REL_ERR)
            fail_msg("p%g: hist %llu exact %llu (rel err %.5f)", ps[i],
                     (unsigned long long)got, (unsigned long long)want, e);
        assert_true(e <= 0.01); /* the 1% promise, redundantly */
    }
}

#define NSAMPLES 200000

static void test_uniform(void **state)
{
    (void)state;
    uint64_t *v = malloc(NSAMPLES * sizeof *v);
    assert_non_null(v);
    bench_hist h;
    assert_int_equal(bench_hist_init(&h), 0);
    uint64_t s = 1;
    for (size_t i = 0; i < NSAMPLES; i++) {
        v[i] = 1000 + sm_next(&s) % 9000000; /* 1 us .. 9 ms */
        bench_hist_record(&h, v[i]);
    }
    check_against_exact(&h, v, NSAMPLES);
    bench_hist_free(&h);
    free(v);
}

static void test_exponential(void **state)
{
    (void)state;
    uint64_t *v = malloc(NSAMPLES * sizeof *v);
    assert_non_null(v);
    bench_hist h;
    assert_int_equal(bench_hist_init(&h), 0);
    uint64_t s = 2;
    for (size_t i = 0; i < NSAMPLES; i++) {
        /* mean 50 us: a long tail over several powers of two */
        v[i] = (uint64_t)llround(-log1p(-sm_unit(&s)) * 50000.0);
        bench_hist_record(&h, v[i]);
    }
    check_against_exact(&h, v, NSAMPLES);
    bench_hist_free(&h);
    free(v);
}

/* Log-uniform over 1 ns .. 100 s: every decade of the promised range. */
static void test_log_uniform_full_range(void **state)
{
    (void)state;
    uint64_t *v = malloc(NSAMPLES * sizeof *v);
    assert_non_null(v);
    bench_hist h;
    assert_int_equal(bench_hist_init(&h), 0);
    uint64_t s = 3;
    for (size_t i = 0; i < NSAMPLES; i++) {
        v[i] = (uint64_t)exp(sm_unit(&s) * log(1e11));
        bench_hist_record(&h, v[i]);
    }
    check_against_exact(&h, v, NSAMPLES);
    bench_hist_free(&h);
    free(v);
}

static void test_merge_equals_single(void **state)
{
    (void)state;
    enum { T = 4 };
    bench_hist one, part[T], merged;
    assert_int_equal(bench_hist_init(&one), 0);
    assert_int_equal(bench_hist_init(&merged), 0);
    for (int t = 0; t < T; t++)
        assert_int_equal(bench_hist_init(&part[t]), 0);
    uint64_t s = 4;
    for (int i = 0; i < NSAMPLES; i++) {
        uint64_t x = (uint64_t)exp(sm_unit(&s) * log(1e9));
        bench_hist_record(&one, x);
        /* Uneven split so the parts differ in size and range. */
        bench_hist_record(&part[(x >> 3) % T], x);
    }
    for (int t = 0; t < T; t++)
        bench_hist_merge(&merged, &part[t]);
    assert_memory_equal(one.counts, merged.counts,
                        BENCH_HIST_BUCKETS * sizeof *one.counts);
    assert_int_equal(bench_hist_count(&one), bench_hist_count(&merged));
    assert_int_equal(bench_hist_min(&one), bench_hist_min(&merged));
    assert_int_equal(bench_hist_max(&one), bench_hist_max(&merged));
    assert_true(bench_hist_mean(&one) == bench_hist_mean(&merged));
    for (double p = 0; p <= 100.0; p += 0.5)
        assert_int_equal(bench_hist_percentile(&one, p),
                         bench_hist_percentile(&merged, p));
    for (int t = 0; t < T; t++)
        bench_hist_free(&part[t]);
    bench_hist_free(&merged);
    bench_hist_free(&one);
}

static void test_record_n_and_reset(void **state)
{
    (void)state;
    bench_hist a, b;
    assert_int_equal(bench_hist_init(&a), 0);
    assert_int_equal(bench_hist_init(&b), 0);
    for (int i = 0; i < 1000; i++)
        bench_hist_record(&a, 123456);
    bench_hist_record(&a, 7);
    bench_hist_record_n(&b, 123456, 1000);
    bench_hist_record_n(&b, 7, 1);
    assert_memory_equal(a.counts, b.counts,
                        BENCH_HIST_BUCKETS * sizeof *a.counts);
    assert_true(bench_hist_mean(&a) == bench_hist_mean(&b));
    assert_int_equal(bench_hist_min(&b), 7);
    assert_int_equal(bench_hist_max(&b), 123456);
    /* A large n times a large value must not overflow the sum. */
    bench_hist_record_n(&b, UINT64_MAX, UINT64_C(1) << 40);
    assert_true(bench_hist_mean(&b) > 1.8e19);

    bench_hist_reset(&a);
    assert_int_equal(bench_hist_count(&a), 0);
    assert_int_equal(bench_hist_max(&a), 0);
    bench_hist_record(&a, 9);
    assert_int_equal(bench_hist_min(&a), 9);
    assert_int_equal(bench_hist_max(&a), 9);
    assert_int_equal(bench_hist_percentile(&a, 50), 9);
    bench_hist_free(&a);
    bench_hist_free(&b);
}

static void test_iteration(void **state)
{
    (void)state;
    bench_hist h;
    assert_int_equal(bench_hist_init(&h), 0);
    uint64_t s = 5;
    for (int i = 0; i < 50000; i++)
        bench_hist_record(&h, sm_next(&s) % 1000000);
    bench_hist_record(&h, UINT64_MAX);
    bench_hist_iter it;
    bench_hist_bucket b;
    bench_hist_iter_init(&it, &h);
    uint64_t seen = 0, prev_hi = 0, n = 0;
    while (bench_hist_iter_next(&it, &b)) {
        assert_true(b.count > 0);
        assert_true(b.lo <= b.hi);
        if (n++)
            assert_true(b.lo > prev_hi);
        prev_hi = b.hi;
        seen += b.count;
        assert_int_equal(b.cumulative, seen);
    }
    assert_int_equal(seen, bench_hist_count(&h));
    assert_true(prev_hi == UINT64_MAX);
    assert_false(bench_hist_iter_next(&it, &b)); /* stays finished */
    bench_hist_free(&h);
}

static void test_latency_json(void **state)
{
    (void)state;
    bench_hist h;
    assert_int_equal(bench_hist_init(&h), 0);
    static const char *const keys[] = {"p50", "p90", "p95", "p99", "p999", "max"};
    static const double ps[] = {50, 90, 95, 99, 99.9, 100};

    /* Empty: null, never a made-up 0. */
    json_t *o = bench_hist_latency_json(&h);
    assert_non_null(o);
    for (int i = 0; i < 6; i++)
        assert_true(json_is_null(json_object_get(o, keys[i])));
    json_decref(o);

    for (uint64_t v = 1; v <= 100000; v++)
        bench_hist_record(&h, v * 10);
    o = bench_hist_latency_json(&h);
    assert_non_null(o);
    for (int i = 0; i < 6; i++)
        assert_true((uint64_t)json_integer_value(json_object_get(o, keys[i])) ==
                    bench_hist_percentile(&h, ps[i]));
    assert_int_equal(json_integer_value(json_object_get(o, "max")), 1000000);
    json_decref(o);

    bench_hist_record(&h, UINT64_MAX); /* beyond json_int_t */
    o = bench_hist_latency_json(&h);
    assert_true(json_is_real(json_object_get(o, "max")));
    json_decref(o);
    bench_hist_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_geometry),
        cmocka_unit_test(test_relative_error_1ns_to_100s),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_edge_values),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_exponential),
        cmocka_unit_test(test_log_uniform_full_range),
        cmocka_unit_test(test_merge_equals_single),
        cmocka_unit_test(test_record_n_and_reset),
        cmocka_unit_test(test_iteration),
        cmocka_unit_test(test_latency_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
