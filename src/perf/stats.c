/* Error names, descriptive statistics, the normal distribution and the
 * selection helpers shared by the other stats_*.c files. */
#include "perf/stats.h"
#include "perf/stats_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *perf_stat_strerror(int rc)
{
    switch (rc) {
    case PERF_STAT_OK: return "ok";
    case PERF_STAT_EINVAL: return "invalid argument";
    case PERF_STAT_ETOOFEW: return "too few samples";
    case PERF_STAT_ENAN: return "sample is NaN or infinite";
    case PERF_STAT_EDOMAIN: return "sample outside the method's domain";
    case PERF_STAT_ENOMEM: return "out of memory";
    case PERF_STAT_ERANGE: return "output array too small";
    default: return "unknown error";
    }
}

/* ---- helpers ------------------------------------------------------------ */

int perf_i_check(const double *x, size_t n, size_t min_n)
{
    if (!x)
        return PERF_STAT_EINVAL;
    if (n < min_n || n == 0)
        return PERF_STAT_ETOOFEW;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return PERF_STAT_ENAN;
    return PERF_STAT_OK;
}

int perf_i_check_positive(const double *x, size_t n, size_t min_n)
{
    int rc = perf_i_check(x, n, min_n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (!(x[i] > 0.0))
            return PERF_STAT_EDOMAIN;
    return PERF_STAT_OK;
}

static void insertion_sort(double *x, ptrdiff_t lo, ptrdiff_t hi)
{
    for (ptrdiff_t i = lo + 1; i <= hi; i++) {
        double v = x[i];
        ptrdiff_t j = i - 1;
        while (j >= lo && x[j] > v) {
            x[j + 1] = x[j];
            j--;
        }
        x[j + 1] = v;
    }
}

static inline void swapd(double *x, ptrdiff_t i, ptrdiff_t j)
{
    double t = x[i];
    x[i] = x[j];
    x[j] = t;
}

double perf_i_select(double *x, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
    while (hi - lo > 16) {
        ptrdiff_t mid = lo + (hi - lo) / 2;
        /* Median of three also plants sentinels at lo and hi, so the scans
         * below cannot run off the range. */
        if (x[mid] < x[lo]) swapd(x, mid, lo);
        if (x[hi] < x[lo]) swapd(x, hi, lo);
        if (x[hi] < x[mid]) swapd(x, hi, mid);
        double pivot = x[mid];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot) i++;
            while (x[j] > pivot) j--;
            if (i <= j) {
                swapd(x, i, j);
                i++;
                j--;
            }
        }
        if (kk <= j)
            hi = j;
        else if (kk >= i)
            lo = i;
        else
            return x[kk]; /* between the partitions: equal to the pivot */
    }
    insertion_sort(x, lo, hi);
    return x[kk];
}

/* a + frac (b - a), except that b - a overflows for order statistics
 * straddling +-1e308; the weighted form cannot overflow there. */
static double lerp(double a, double b, double frac)
{
    double d = b - a;
    return isfinite(d) ? a + frac * d : (1.0 - frac) * a + frac * b;
}

double perf_i_quantile_inplace(double *x, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1)
        return perf_i_select(x, n, n - 1);
    double frac = h - (double)lo;
    double a = perf_i_select(x, n, lo);
    if (frac == 0.0)
        return a;
    /* After selection everything right of lo is >= a; the next order
     * statistic is their minimum. */
    double b = x[lo + 1];
    for (size_t i = lo + 2; i < n; i++)
        if (x[i] < b)
            b = x[i];
    return lerp(a, b, frac);
}

double perf_i_median_inplace(double *x, size_t n)
{
    return perf_i_quantile_inplace(x, n, 0.5);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void perf_i_sort(double *x, size_t n)
{
    if (n <= 32)
        insertion_sort(x, 0, (ptrdiff_t)n - 1);
    else
        qsort(x, n, sizeof *x, cmp_double);
}

double perf_i_sorted_median(const double *s, size_t n)
{
    if (n % 2)
        return s[n / 2];
    return 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

double *perf_i_scratch(const double *x, size_t n, double *stackbuf,
                       size_t stackn)
{
    double *p = stackbuf;
    if (n > stackn) {
        p = malloc(n * sizeof *p);
        if (!p)
            return NULL;
    }
    memcpy(p, x, n * sizeof *p);
    return p;
}

void perf_i_scratch_free(double *p, const double *stackbuf)
{
    if (p != stackbuf)
        free(p);
}

double perf_i_resample_median(perf_rng *r, const double *s, uint32_t n,
                              uint32_t k, uint32_t *counts)
{
    memset(counts, 0, n * sizeof *counts);
    uint32_t i = 0;
    /* Two 32-bit draws per 64-bit output halves the generator's cost. */
    for (; i + 1 < k; i += 2) {
        uint64_t bits = perf_rng_next(r);
        counts[perf_rng_bounded_from(r, (uint32_t)(bits >> 32), n)]++;
        counts[perf_rng_bounded_from(r, (uint32_t)bits, n)]++;
    }
    if (i < k)
        counts[perf_rng_below(r, n)]++;

    /* Order statistics (0-based) lo_rank and hi_rank of the k draws; equal
     * when k is odd. */
    uint32_t lo_rank = (k - 1) / 2, hi_rank = k / 2;
    uint32_t cum = 0, j = 0;
    while (cum + counts[j] <= lo_rank)
        cum += counts[j++];
    double lo = s[j];
    while (cum + counts[j] <= hi_rank)
        cum += counts[j++];
    return 0.5 * (lo + s[j]);
}

/* ---- descriptive statistics ------------------------------------------- */

#define STACK_N 256

static double mean_of(const double *x, size_t n)
{
    /* Two passes: the correction term recovers most of the rounding of the
     * first sum, which matters for values like 1e9 +- 1. */
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    double m = s / (double)n, c = 0.0;
    if (!isfinite(m)) {
        /* The sum overflowed (values near DBL_MAX): sum the n-ths. */
        m = 0.0;
        for (size_t i = 0; i < n; i++)
            m += x[i] / (double)n;
    }
    for (size_t i = 0; i < n; i++)
        c += x[i] / (double)n - m / (double)n;
    return m + c;
}

/* The corrected two-pass sum (Chan, Golub & LeVeque): ss - (sum d)^2 / n
 * removes the error the rounded mean leaves (2.4e-4 relative near 1e15
 * without it), and every deviation is scaled by the largest one first, so
 * squares cannot overflow above ~1e154 (nor deviations near DBL_MAX: those
 * are taken of halves). */
static double stddev_of(const double *x, size_t n, double m)
{
    double half = 1.0, big = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(x[i] - m);
        if (!isfinite(d)) {
            half = 0.5;
            break;
        }
        big = d > big ? d : big;
    }
    if (half < 1.0) {
        big = 0.0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs(x[i] * half - m * half);
            big = d > big ? d : big;
        }
    }
    if (big == 0.0)
        return 0.0;
    double ss = 0.0, c = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (x[i] * half - m * half) / big;
        ss += d * d;
        c += d;
    }
    double var = (ss - c * c / (double)n) / (double)(n - 1);
    return big / half * sqrt(var > 0 ? var : 0);
}

int perf_mean(const double *x, size_t n, double *out)
{
    int rc = perf_i_check(x, n, 1);
    if (rc)
        return rc;
    if (!out)
        return PERF_STAT_EINVAL;
    *out = mean_of(x, n);
    return PERF_STAT_OK;
}

int perf_stddev(const double *x, size_t n, double *out)
{
    int rc = perf_i_check(x, n, 2);
    if (rc)
        return rc;
    if (!out)
        return PERF_STAT_EINVAL;
    *out = stddev_of(x, n, mean_of(x, n));
    return PERF_STAT_OK;
}

int perf_cv(const double *x, size_t n, double *out)
{
    int rc = perf_i_check(x, n, 2);
    if (rc)
        return rc;
    if (!out)
        return PERF_STAT_EINVAL;
    double m = mean_of(x, n);
    if (m == 0.0)
        return PERF_STAT_EDOMAIN;
    *out = stddev_of(x, n, m) / fabs(m);
    return PERF_STAT_OK;
}

int perf_quantile(const double *x, size_t n, double p, double *out)
{
    double stack[STACK_N];
    int rc = perf_i_check(x, n, 1);
    if (rc)
        return rc;
    if (!out || !(p >= 0.0 && p <= 1.0))
        return PERF_STAT_EINVAL;
    double *w = perf_i_scratch(x, n, stack, STACK_N);
    if (!w)
        return PERF_STAT_ENOMEM;
    *out = perf_i_quantile_inplace(w, n, p);
    perf_i_scratch_free(w, stack);
    return PERF_STAT_OK;
}

int perf_median(const double *x, size_t n, double *out)
{
    return perf_quantile(x, n, 0.5, out);
}

int perf_mad(const double *x, size_t n, double *out)
{
    double stack[STACK_N];
    int rc = perf_i_check(x, n, 1);
    if (rc)
        return rc;
    if (!out)
        return PERF_STAT_EINVAL;
    double *w = perf_i_scratch(x, n, stack, STACK_N);
    if (!w)
        return PERF_STAT_ENOMEM;
    double med = perf_i_median_inplace(w, n);
    for (size_t i = 0; i < n; i++)
        w[i] = fabs(w[i] - med);
    *out = perf_i_median_inplace(w, n);
    perf_i_scratch_free(w, stack);
    return PERF_STAT_OK;
}

static double sorted_quantile(const double *s, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1)
        return s[n - 1];
    return lerp(s[lo], s[lo + 1], h - (double)lo);
}

int perf_describe(const double *x, size_t n, perf_summary *out)
{
    double stack[STACK_N];
    int rc = perf_i_check(x, n, 1);
    if (rc)
        return rc;
    if (!out)
        return PERF_STAT_EINVAL;
    double *w = perf_i_scratch(x, n, stack, STACK_N);
    if (!w)
        return PERF_STAT_ENOMEM;
    perf_summary s;
    memset(&s, 0, sizeof s);
    s.n = n;
    s.mean = mean_of(x, n);
    if (n >= 2) {
        s.stddev = stddev_of(x, n, s.mean);
        s.cv = s.mean != 0.0 ? s.stddev / fabs(s.mean) : 0.0;
    }
    perf_i_sort(w, n);
    s.min = w[0];
    s.max = w[n - 1];
    s.p05 = sorted_quantile(w, n, 0.05);
    s.median = sorted_quantile(w, n, 0.5);
    s.p95 = sorted_quantile(w, n, 0.95);
    for (size_t i = 0; i < n; i++)
        w[i] = fabs(x[i] - s.median);
    s.mad = perf_i_median_inplace(w, n);
    perf_i_scratch_free(w, stack);
    *out = s;
    return PERF_STAT_OK;
}

/* ---- the normal distribution ------------------------------------------- */

double perf_normal_sf(double z)
{
    return 0.5 * erfc(z / sqrt(2.0));
}

double perf_normal_isf(double p)
{
    if (!(p > 0.0 && p < 1.0))
        return NAN;
    /* Bisection is slow but exact to the last bit and only runs a few
     * times per verdict; sf is decreasing in z. */
    double lo = -40.0, hi = 40.0;
    for (int i = 0; i < 200 && hi - lo > 1e-15; i++) {
        double mid = 0.5 * (lo + hi);
        if (perf_normal_sf(mid) > p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}
