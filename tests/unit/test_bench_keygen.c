/*
 * Unit tests for bench/keygen: the PRNG against reference outputs, unbiased
 * bounded draws, bijections, key byte order, zeta, the zipfian generator
 * against its expected frequencies, the YCSB distributions, operation mixes
 * and value filling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/keygen.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Outputs of the reference C code (prng.di.unimi.it), computed
 * independently: splitmix64 from state 0, and xoshiro256** seeded with four
 * splitmix64 outputs. Pins "same seed, same sequence" across releases. */
static void test_rng_reference_values(void **state)
{
    (void)state;
    uint64_t s = 0;
    assert_true(bench_splitmix64(&s) == 0xe220a8397b1dcdafULL);

    bench_rng r;
    bench_rng_seed(&r, 0);
    assert_true(bench_rng_next(&r) == 0x99ec5f36cb75f2b4ULL);
    assert_true(bench_rng_next(&r) == 0xbf6e1f784956452aULL);
    assert_true(bench_rng_next(&r) == 0x1a5f849d4933e6e0ULL);
    bench_rng_seed(&r, 42);
    assert_true(bench_rng_next(&r) == 0x15780b2e0c2ec716ULL);
    assert_true(bench_rng_next(&r) == 0x6104d9866d113a7eULL);
    assert_true(bench_rng_next(&r) == 0xae17533239e499a1ULL);
}

static void test_rng_seeds_and_streams(void **state)
{
    (void)state;
    bench_rng a, b, c;
    bench_rng_seed(&a, 7);
    bench_rng_seed(&b, 7);
    bench_rng_seed(&c, 8);
    int same_as_other_seed = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t x = bench_rng_next(&a);
        assert_true(x == bench_rng_next(&b));
        same_as_other_seed += x == bench_rng_next(&c);
    }
    assert_int_equal(same_as_other_seed, 0);

    /* Stream 0 is the seed itself; stream 2 is two jumps on. */
    bench_rng_seed_stream(&a, 7, 0);
    bench_rng_seed(&b, 7);
    assert_memory_equal(a.s, b.s, sizeof a.s);
    bench_rng_seed_stream(&a, 7, 2);
    bench_rng_jump(&b);
    bench_rng_jump(&b);
    assert_memory_equal(a.s, b.s, sizeof a.s);
    bench_rng_seed_stream(&c, 7, 1);
    assert_false(memcmp(a.s, c.s, sizeof a.s) == 0);
}

static void test_rng_below(void **state)
{
    (void)state;
    bench_rng r;
    bench_rng_seed(&r, 1);
    assert_int_equal(bench_rng_below(&r, 0), 0);
    static const uint64_t ns[] = {1, 2, 3, 7, 1000, (UINT64_C(1) << 63) + 1,
                                  UINT64_MAX};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int i = 0; i < 10000; i++)
            assert_true(bench_rng_below(&r, ns[k]) < ns[k]);

    /* Without the rejection step, n = 3 * 2^62 maps two 64-bit inputs to
     * every output divisible by 3 and one to the rest, so a third of the
     * outputs would carry half of the probability. Lemire's rejection makes
     * each residue class 1/3. */
    const uint64_t n = UINT64_C(3) << 62;
    int zero_mod3 = 0;
    const int draws = 60000;
    for (int i = 0; i < draws; i++)
        zero_mod3 += bench_rng_below(&r, n) % 3 == 0;
    double frac = (double)zero_mod3 / draws;
    assert_true(fabs(frac - 1.0 / 3.0) < 0.01); /* ~5 sigma; biased: 0.5 */

    /* Coverage and chi-square over 1000 values. */
    enum { N = 1000, DRAWS = 1000000 };
    static uint32_t cnt[N];
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < DRAWS; i++)
        cnt[bench_rng_below(&r, N)]++;
    double chi2 = 0, e = (double)DRAWS / N;
    for (int i = 0; i < N; i++) {
        assert_true(cnt[i] > 0);
        chi2 += (cnt[i] - e) * (cnt[i] - e) / e;
    }
    assert_true(chi2 < 1143.9); /* df 999, p = 0.001 */
    double u = bench_rng_unit(&r);
    assert_true(u >= 0.0 && u < 1.0);
}

static void test_hash_and_permutation_are_bijections(void **state)
{
    (void)state;
    uint64_t s = 99;
    for (int i = 0; i < 100000; i++) {
        uint64_t x = i < 1000 ? (uint64_t)i : bench_splitmix64(&s);
        assert_true(bench_hash64_inverse(bench_hash64(x)) == x);
        assert_true(bench_hash64(bench_hash64_inverse(x)) == x);
    }

    static const uint64_t ns[] = {1, 2, 3, 5, 100, 1000, 1023, 1024, 1025,
                                  65537};
    unsigned char *seen = malloc(65537);
    assert_non_null(seen);
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        bench_perm p;
        assert_int_equal(bench_perm_init(&p, ns[k], 17), 0);
        memset(seen, 0, ns[k]);
        uint64_t fixed = 0;
        for (uint64_t i = 0; i < ns[k]; i++) {
            uint64_t y = bench_perm_apply(&p, i);
            assert_true(y < ns[k]);
            assert_int_equal(seen[y], 0); /* each image exactly once */
            seen[y] = 1;
            fixed += y == i;
        }
        if (ns[k] >= 1000) /* scrambled, not (nearly) the identity */
            assert_true(fixed < ns[k] / 100);
    }
    free(seen);

    /* The key decides the permutation. */
    bench_perm p1, p2;
    assert_int_equal(bench_perm_init(&p1, 1000, 1), 0);
    assert_int_equal(bench_perm_init(&p2, 1000, 2), 0);
    int same = 0;
    for (uint64_t i = 0; i < 1000; i++)
        same += bench_perm_apply(&p1, i) == bench_perm_apply(&p2, i);
    assert_true(same < 20);
    errno = 0;
    assert_int_equal(bench_perm_init(&p1, 0, 1), -1);
    assert_int_equal(errno, EINVAL);
}

static void test_key_format(void **state)
{
    (void)state;
    unsigned char a[16], b[16], k8[8];
    /* memcmp order is index order, across byte carries */
    static const uint64_t idx[] = {0, 1, 255, 256, 65535, 65536,
                                   UINT32_MAX, (uint64_t)UINT32_MAX + 1,
                                   UINT64_MAX - 1};
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        assert_int_equal(bench_key_format(a, sizeof a, idx[i]), 0);
        assert_int_equal(bench_key_format(b, sizeof b, idx[i] + 1), 0);
        assert_true(memcmp(a, b, sizeof a) < 0);
        assert_true(bench_key_parse(a) == idx[i]);
        for (size_t j = 8; j < sizeof a; j++)
            assert_int_equal(a[j], BENCH_KEY_PAD);
    }
    assert_int_equal(bench_key_format(a, 16, 0x0102030405060708ULL), 0);
    static const unsigned char want[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_memory_equal(a, want, 8); /* big-endian on every host */
    assert_int_equal(bench_key_format(k8, 8, 5), 0);
    assert_true(bench_key_parse(k8) == 5);

    errno = 0;
    assert_int_equal(bench_key_format(a, 7, 1), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(bench_key_format_scrambled(a, 4, 1), -1);

    /* Scrambled keys: reproducible, recoverable, and not in index order. */
    int ascending = 0;
    unsigned char prev[16];
    for (uint64_t i = 0; i < 10000; i++) {
        assert_int_equal(bench_key_format_scrambled(a, sizeof a, i), 0);
        assert_int_equal(bench_key_format_scrambled(b, sizeof b, i), 0);
        assert_memory_equal(a, b, sizeof a);
        assert_true(bench_hash64_inverse(bench_key_parse(a)) == i);
        if (i)
            ascending += memcmp(prev, a, sizeof a) < 0;
        memcpy(prev, a, sizeof a);
    }
    assert_true(ascending > 4500 && ascending < 5500); /* ~random order */
}

static void test_zeta(void **state)
{
    (void)state;
    assert_true(bench_zeta(1, 0.99) == 1.0);
    assert_true(fabs(bench_zeta(2, 0.99) - (1.0 + pow(2.0, -0.99))) < 1e-15);
    static const uint64_t ns[] = {3, 10, 31, 32, 33, 100, 1000, 12345,
                                  1000000};
    static const double thetas[] = {0.5, 0.99, 0.9999};
    for (size_t t = 0; t < 3; t++) {
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            if (ns[k] == 1000000 && t != 1)
                continue; /* keep the O(n) reference sums short */
            double fast = bench_zeta(ns[k], thetas[t]);
            double exact = bench_zeta_exact(ns[k], thetas[t]);
            double e = fabs(fast - exact) / exact;
            if (e > 1e-13)
                fail_msg("zeta(%llu, %g): %.17g vs exact %.17g (rel %.3g)",
                         (unsigned long long)ns[k], thetas[t], fast, exact, e);
        }
    }
    /* Precomputation must be cheap for 100M items: Euler-Maclaurin is O(1),
     * the O(n) sum takes seconds. A generous bound that still fails for any
     * O(n) implementation. */
    double t0 = now_s();
    double z = bench_zeta(100000000, BENCH_ZIPF_THETA);
    double dt = now_s() - t0;
    print_message("zeta(1e8, 0.99) = %.15g in %.1f us\n", z, dt * 1e6);
    assert_true(dt < 0.05);
    assert_true(z > 20.7 && z < 20.9); /* 20.8029 by the exact sum */
}

/* Chi-square statistic of observed bin counts against the generator's cdf
 * over bins [edge[i], edge[i+1]). */
static double zipf_chi2(const bench_zipf *z, const uint64_t *edges,
                        size_t nbins, const uint64_t *obs, uint64_t draws)
{
    double chi2 = 0;
    for (size_t i = 0; i < nbins; i++) {
        double p = bench_zipf_cdf(z, edges[i + 1]) - bench_zipf_cdf(z, edges[i]);
        double e = p * (double)draws;
        chi2 += ((double)obs[i] - e) * ((double)obs[i] - e) / e;
    }
    return chi2;
}

static void test_zipf_expected_frequencies(void **state)
{
    (void)state;
    const uint64_t n = 1000000, draws = 1000000;
    bench_zipf z;
    assert_int_equal(bench_zipf_init(&z, n, BENCH_ZIPF_THETA), 0);
    bench_rng r;
    bench_rng_seed(&r, 2024);

    /* bins: ranks 0..19 one each, then decades to n */
    uint64_t edges[27];
    size_t nb = 0;
    for (uint64_t i = 0; i < 20; i++)
        edges[nb++] = i;
    static const uint64_t tail[] = {20, 100, 1000, 10000, 100000, 1000000};
    for (size_t i = 0; i < 6; i++)
        edges[nb++] = tail[i];
    size_t nbins = nb - 1;
    uint64_t obs[26] = {0};
    for (uint64_t d = 0; d < draws; d++) {
        uint64_t x = bench_zipf_next(&z, &r);
        assert_true(x < n);
        size_t b = 0;
        while (b + 1 < nbins && x >= edges[b + 1])
            b++;
        obs[b]++;
    }
    double chi2 = zipf_chi2(&z, edges, nbins, obs, draws);
    print_message("zipf n=1e6: chi2 = %.1f over %zu bins\n", chi2, nbins);
    assert_true(chi2 < 52.6); /* df 24, p = 0.001 */

    /* Items 0 and 1 are exact zipfian probabilities. */
    double zeta_n = bench_zeta(n, 0.99);
    double p0 = (double)obs[0] / draws, want0 = 1.0 / zeta_n;
    double p1 = (double)obs[1] / draws, want1 = pow(2.0, -0.99) / zeta_n;
    print_message("item 0: %.5f (1/zeta = %.5f), item 1: %.5f (%.5f)\n", p0,
                  want0, p1, want1);
    assert_true(fabs(p0 - want0) < 4 * sqrt(want0 / draws));
    assert_true(fabs(p1 - want1) < 4 * sqrt(want1 / draws));
    /* Top ranks, one by one, within 5 sigma of the generator's own law. */
    for (size_t i = 0; i < 20; i++) {
        double p = bench_zipf_cdf(&z, i + 1) - bench_zipf_cdf(&z, i);
        double sig = sqrt(p * (1 - p) / draws);
        assert_true(fabs((double)obs[i] / draws - p) < 5 * sig);
    }
    /* The documented deviation of Gray's method from true zipf at item 2
     * (keygen.h: ~19% over at n = 1M). */
    double g2 = bench_zipf_cdf(&z, 3) - bench_zipf_cdf(&z, 2);
    double true2 = pow(3.0, -0.99) / zeta_n;
    assert_true(g2 / true2 > 1.15 && g2 / true2 < 1.25);

    /* A small domain exercises clamping and every branch of next(). */
    assert_int_equal(bench_zipf_init(&z, 10, BENCH_ZIPF_THETA), 0);
    uint64_t small_edges[11], small_obs[10] = {0};
    for (uint64_t i = 0; i <= 10; i++)
        small_edges[i] = i;
    for (uint64_t d = 0; d < 200000; d++) {
        uint64_t x = bench_zipf_next(&z, &r);
        assert_true(x < 10);
        small_obs[x]++;
    }
    assert_true(zipf_chi2(&z, small_edges, 10, small_obs, 200000) < 27.9);

    /* n = 1 and 2 are legal and stay in range. */
    assert_int_equal(bench_zipf_init(&z, 1, 0.99), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(bench_zipf_next(&z, &r), 0);
    assert_int_equal(bench_zipf_init(&z, 2, 0.99), 0);
    int ones = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t x = bench_zipf_next(&z, &r);
        assert_true(x < 2);
        ones += (int)x;
    }
    /* P(1) = 2^-0.99 / (1 + 2^-0.99) = 0.3349 */
    assert_true(fabs(ones / 10000.0 - 0.3349) < 0.02);
}

static void test_zipf_set_n_and_domain(void **state)
{
    (void)state;
    bench_zipf a, b;
    assert_int_equal(bench_zipf_init(&a, 1000, 0.99), 0);
    assert_int_equal(bench_zipf_set_n(&a, 5000000), 0);
    assert_int_equal(bench_zipf_init(&b, 5000000, 0.99), 0);
    assert_true(a.zetan == b.zetan && a.eta == b.eta && a.n == b.n);
    bench_rng r1, r2;
    bench_rng_seed(&r1, 3);
    bench_rng_seed(&r2, 3);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(bench_zipf_next(&a, &r1), bench_zipf_next(&b, &r2));

    errno = 0;
    assert_int_equal(bench_zipf_init(&a, 0, 0.99), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(bench_zipf_init(&a, 10, 1.0), -1);
    assert_int_equal(bench_zipf_init(&a, 10, 0.0), -1);
    assert_int_equal(bench_zipf_init(&a, 10, NAN), -1);
    assert_int_equal(bench_zipf_init(&a, UINT64_C(1) << 53, 0.5), -1);
    assert_int_equal(bench_zipf_set_n(&b, 0), -1);
}

static int cmp_desc_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x < y) - (x > y);
}

static void test_scrambled_zipfian(void **state)
{
    (void)state;
    enum { N = 10000, DRAWS = 300000 };
    bench_dist plain, scr;
    assert_int_equal(bench_dist_init(&plain, BENCH_DIST_ZIPFIAN, N, 0.99), 0);
    assert_int_equal(
        bench_dist_init(&scr, BENCH_DIST_SCRAMBLED_ZIPFIAN, N, 0.99), 0);
    bench_rng r1, r2;
    bench_rng_seed(&r1, 11);
    bench_rng_seed(&r2, 11);
    static uint32_t cp[N], cs[N];
    memset(cp, 0, sizeof cp);
    memset(cs, 0, sizeof cs);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t a = bench_dist_next(&plain, &r1);
        uint64_t b = bench_dist_next(&scr, &r2);
        assert_true(a < N && b < N);
        cp[a]++;
        cs[b]++;
    }
    /* The hottest scrambled keys are spread over the key space, not packed
     * at its start as the plain zipfian's are. */
    static uint32_t tmp[N];
    memcpy(tmp, cs, sizeof tmp);
    int hot_outside_first_tenth = 0;
    for (int k = 0; k < 10; k++) {
        int best = 0;
        for (int i = 1; i < N; i++)
            if (tmp[i] > tmp[best])
                best = i;
        hot_outside_first_tenth += best >= N / 10;
        tmp[best] = 0;
    }
    assert_true(hot_outside_first_tenth >= 6);
    /* Same multiset of frequencies: the scramble is a bijection. */
    qsort(cp, N, sizeof cp[0], cmp_desc_u32);
    qsort(cs, N, sizeof cs[0], cmp_desc_u32);
    assert_memory_equal(cp, cs, sizeof cp);

    /* Inserting keys does not move the hot set: with count below the space
     * only present keys come out, and the hottest key stays the hottest. */
    bench_dist d;
    assert_int_equal(bench_dist_init(&d, BENCH_DIST_SCRAMBLED_ZIPFIAN, N, 0.99),
                     0);
    bench_rng rr;
    bench_rng_seed(&rr, 5);
    uint64_t hottest = bench_perm_apply(&d.perm, 0); /* image of rank 0 */
    assert_int_equal(bench_dist_set_count(&d, hottest + 1), 0);
    int hits = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t x = bench_dist_next(&d, &rr);
        assert_true(x <= hottest);
        hits += x == hottest;
    }
    assert_true(hits > 20000 / 12); /* item 0 has 1/zeta(1e4) = 10.2% */
    assert_int_equal(bench_dist_set_count(&d, N + 1), -1);
}

static void test_latest(void **state)
{
    (void)state;
    enum { N = 1000, DRAWS = 200000 };
    bench_dist d;
    assert_int_equal(bench_dist_init(&d, BENCH_DIST_LATEST, N, 0.99), 0);
    bench_rng r;
    bench_rng_seed(&r, 13);
    static uint32_t c[2 * N];
    memset(c, 0, sizeof c);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t x = bench_dist_next(&d, &r);
        assert_true(x < N);
        c[x]++;
    }
    uint64_t newest10 = 0, oldest10 = 0;
    for (int i = 0; i < 10; i++) {
        newest10 += c[N - 1 - i];
        oldest10 += c[i];
    }
    for (int i = 0; i < N - 1; i++)
        assert_true(c[N - 1] > c[i]); /* the newest key is the hottest */
    assert_true((double)newest10 / DRAWS > 0.3);  /* ~0.38 */
    assert_true((double)oldest10 / DRAWS < 0.01); /* ~0.0013 */

    /* After inserts the newest key moves with the count. */
    assert_int_equal(bench_dist_set_count(&d, 2 * N), 0);
    memset(c, 0, sizeof c);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t x = bench_dist_next(&d, &r);
        assert_true(x < 2 * N);
        c[x]++;
    }
    for (int i = 0; i < 2 * N - 1; i++)
        assert_true(c[2 * N - 1] > c[i]);
}

static void test_uniform_and_sequential(void **state)
{
    (void)state;
    bench_dist d;
    bench_rng r;
    bench_rng_seed(&r, 17);
    assert_int_equal(bench_dist_init(&d, BENCH_DIST_UNIFORM, 1000, 0), 0);
    static unsigned char seen[1000];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 20000; i++) {
        uint64_t x = bench_dist_next(&d, &r);
        assert_true(x < 1000);
        seen[x] = 1;
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(bench_dist_set_count(&d, 500), 0);
    for (int i = 0; i < 20000; i++)
        assert_true(bench_dist_next(&d, &r) < 500);

    assert_int_equal(bench_dist_init(&d, BENCH_DIST_SEQUENTIAL, 5, 0), 0);
    static const uint64_t want[] = {0, 1, 2, 3, 4, 0, 1};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(bench_dist_next(&d, &r), want[i]);
    bench_dist_seek(&d, 3);
    assert_int_equal(bench_dist_next(&d, &r), 3);
    assert_int_equal(bench_dist_set_count(&d, 2), 0); /* seq 4 >= 2: wraps */
    assert_int_equal(bench_dist_next(&d, &r), 0);
    assert_int_equal(bench_dist_next(&d, &r), 1);
    assert_int_equal(bench_dist_next(&d, &r), 0);

    errno = 0;
    assert_int_equal(bench_dist_init(&d, BENCH_DIST_UNIFORM, 0, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(bench_dist_init(&d, BENCH_DIST_ZIPFIAN, 10, 1.5), -1);
    assert_int_equal(bench_dist_init(&d, BENCH_DIST_COUNT, 10, 0.99), -1);
}

static void test_dist_determinism(void **state)
{
    (void)state;
    for (int k = 0; k < BENCH_DIST_COUNT; k++) {
        bench_dist a, b, c;
        bench_rng ra, rb, rc;
        assert_int_equal(bench_dist_init(&a, (bench_dist_kind)k, 100000, 0.99), 0);
        assert_int_equal(bench_dist_init(&b, (bench_dist_kind)k, 100000, 0.99), 0);
        assert_int_equal(bench_dist_init(&c, (bench_dist_kind)k, 100000, 0.99), 0);
        bench_rng_seed(&ra, 1234);
        bench_rng_seed(&rb, 1234);
        bench_rng_seed(&rc, 1235);
        int differ = 0;
        for (int i = 0; i < 10000; i++) {
            uint64_t x = bench_dist_next(&a, &ra);
            assert_int_equal(x, bench_dist_next(&b, &rb));
            differ += x != bench_dist_next(&c, &rc);
        }
        if (k != BENCH_DIST_SEQUENTIAL) /* the only one without randomness */
            assert_true(differ > 1000);

        bench_dist_kind parsed;
        assert_int_equal(bench_dist_parse(bench_dist_name((bench_dist_kind)k),
                                          &parsed), 0);
        assert_int_equal(parsed, k);
    }
    bench_dist_kind parsed;
    assert_int_equal(bench_dist_parse("scrambled_zipfian", &parsed), 0);
    assert_int_equal(parsed, BENCH_DIST_SCRAMBLED_ZIPFIAN);
    assert_int_equal(bench_dist_parse("gaussian", &parsed), -1);
}

static void test_opmix(void **state)
{
    (void)state;
    bench_opmix m;
    bench_rng r;
    bench_rng_seed(&r, 19);
    const double ycsb_a[BENCH_OP_COUNT] = {0.5, 0.5, 0, 0, 0};
    assert_int_equal(bench_opmix_init(&m, ycsb_a), 0);
    int cnt[BENCH_OP_COUNT] = {0};
    for (int i = 0; i < 100000; i++)
        cnt[bench_opmix_next(&m, &r)]++;
    assert_true(abs(cnt[BENCH_OP_READ] - 50000) < 800);
    assert_int_equal(cnt[BENCH_OP_READ] + cnt[BENCH_OP_UPDATE], 100000);

    /* YCSB E: 95% scan, 5% insert; zero-weight ops are never drawn. */
    const double ycsb_e[BENCH_OP_COUNT] = {0, 0, 5, 95, 0};
    assert_int_equal(bench_opmix_init(&m, ycsb_e), 0);
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < 100000; i++)
        cnt[bench_opmix_next(&m, &r)]++;
    assert_int_equal(cnt[BENCH_OP_READ] + cnt[BENCH_OP_UPDATE] +
                         cnt[BENCH_OP_RMW], 0);
    assert_true(abs(cnt[BENCH_OP_INSERT] - 5000) < 400);

    const double only_rmw[BENCH_OP_COUNT] = {0, 0, 0, 0, 1};
    assert_int_equal(bench_opmix_init(&m, only_rmw), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(bench_opmix_next(&m, &r), BENCH_OP_RMW);

    const double zero[BENCH_OP_COUNT] = {0};
    const double neg[BENCH_OP_COUNT] = {1, -0.1, 0, 0, 0};
    const double nan_w[BENCH_OP_COUNT] = {1, NAN, 0, 0, 0};
    assert_int_equal(bench_opmix_init(&m, zero), -1);
    assert_int_equal(bench_opmix_init(&m, neg), -1);
    assert_int_equal(bench_opmix_init(&m, nan_w), -1);
    assert_string_equal(bench_op_name(BENCH_OP_RMW), "readmodifywrite");
}

static void test_value_fill(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 7, 8, 9, 100, 1024, 1031};
    unsigned char a[1040 + 16], b[1040 + 16];
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t len = lens[k];
        memset(a, 0xAA, sizeof a);
        memset(b, 0xAA, sizeof b);
        bench_value_fill(a, len, 42, 1);
        bench_value_fill(b, len, 42, 1);
        assert_memory_equal(a, b, sizeof a);
        for (size_t i = len; i < sizeof a; i++) /* nothing past len */
            assert_int_equal(a[i], 0xAA);
        assert_true(bench_value_check(a, len, 42, 1));
        if (len == 0)
            continue;
        assert_false(bench_value_check(a, len, 42, 2));
        assert_false(bench_value_check(a, len, 43, 1));
        a[len - 1] ^= 1;
        assert_false(bench_value_check(a, len, 42, 1));
        bench_value_fill(b, len, 42, 2);
        if (len >= 8)
            assert_false(memcmp(a, b, len) == 0);
    }
    /* Looks random: byte histogram of 1 MiB of values is flat. */
    static unsigned char big[1 << 20];
    uint32_t hist[256] = {0};
    for (size_t off = 0; off < sizeof big; off += 1024)
        bench_value_fill(big + off, 1024, off / 1024, 0);
    for (size_t i = 0; i < sizeof big; i++)
        hist[big[i]]++;
    double chi2 = 0, e = (double)sizeof big / 256;
    for (int i = 0; i < 256; i++)
        chi2 += (hist[i] - e) * (hist[i] - e) / e;
    assert_true(chi2 < 330.5); /* df 255, p = 0.001 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_reference_values),
        cmocka_unit_test(test_rng_seeds_and_streams),
        cmocka_unit_test(test_rng_below),
        cmocka_unit_test(test_hash_and_permutation_are_bijections),
        cmocka_unit_test(test_key_format),
        cmocka_unit_test(test_zeta),
        cmocka_unit_test(test_zipf_expected_frequencies),
        cmocka_unit_test(test_zipf_set_n_and_domain),
        cmocka_unit_test(test_scrambled_zipfian),
        cmocka_unit_test(test_latest),
        cmocka_unit_test(test_uniform_and_sequential),
        cmocka_unit_test(test_dist_determinism),
        cmocka_unit_test(test_opmix),
        cmocka_unit_test(test_value_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
