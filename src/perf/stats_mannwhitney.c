/* Mann–Whitney U (Wilcoxon rank-sum), two-sided.
 *
 * Exact p-values come from the exact null distribution of U. Its counts are
 * the coefficients of the Gaussian binomial coefficient
 *     [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i),
 * computed in uint64_t arithmetic. The intermediate products may leave the
 * range of uint64_t, but the computation is a sequence of ring operations in
 * Z/2^64 truncated at degree D, and the final coefficients are < 2^63 by the
 * exactness rule, so wrap-around cancels and the result is exact. Only the
 * lower half (degree <= n1*n2/2) is needed thanks to the symmetry of U. */
#include "perf/stats.h"
#include "perf/stats_internal.h"

#include <math.h>
#include <stdlib.h>

#define MW_EXACT_MAX_PRODUCT 100000u

/* C(n1 + n2, min) < 2^63, evaluated without overflow in long double (the
 * comparison has ample margin: C either is far below or it is checked
 * against a bound with 64 bits of mantissa). */
static int binom_fits(size_t n1, size_t n2)
{
    size_t m = n1 < n2 ? n1 : n2, n = n1 + n2;
    long double c = 1.0L;
    for (size_t i = 1; i <= m; i++) {
        c = c * (long double)(n - m + i) / (long double)i;
        if (c >= 9223372036854775808.0L)
            return 0;
    }
    return 1;
}

int perf_mw_exact_possible(size_t na, size_t nb)
{
    if (na == 0 || nb == 0)
        return 0;
    if (na > MW_EXACT_MAX_PRODUCT / nb)
        return 0;
    return binom_fits(na, nb);
}

/* P(U <= q) under H0 for sizes n1, n2 (q an integer <= n1*n2/2).
 * Returns a negative value on allocation failure. */
static double exact_cdf(size_t n1, size_t n2, size_t q)
{
    size_t m = n1 < n2 ? n1 : n2, n = n1 + n2 - m;
    size_t deg = q; /* coefficients beyond q are not needed */
    uint64_t *c = calloc(deg + 1, sizeof *c);
    if (!c)
        return -1.0;
    c[0] = 1;
    for (size_t i = 1; i <= m; i++) {
        size_t up = n + i;
        for (size_t k = deg; k >= up && k <= deg; k--)
            c[k] -= c[k - up];
        for (size_t k = i; k <= deg; k++)
            c[k] += c[k - i];
    }
    uint64_t below = 0;
    for (size_t k = 0; k <= deg; k++)
        below += c[k];
    free(c);
    /* Total = C(n1+n2, m), computed in long double: exact for < 2^63. */
    long double total = 1.0L;
    for (size_t i = 1; i <= m; i++)
        total = total * (long double)(n + i) / (long double)i;
    return (double)((long double)below / roundl(total));
}

typedef struct {
    double v;
    int group; /* 0 = a, 1 = b */
} tagged;

static int cmp_tagged(const void *pa, const void *pb)
{
    double x = ((const tagged *)pa)->v, y = ((const tagged *)pb)->v;
    return (x > y) - (x < y);
}

int perf_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
                      perf_mw_method method, perf_mw_result *out)
{
    int rc = perf_i_check(a, na, 1);
    if (!rc)
        rc = perf_i_check(b, nb, 1);
    if (rc)
        return rc;
    if (!out || (method != PERF_MW_AUTO && method != PERF_MW_EXACT &&
                 method != PERF_MW_NORMAL))
        return PERF_STAT_EINVAL;

    size_t n = na + nb;
    tagged *t = malloc(n * sizeof *t);
    if (!t)
        return PERF_STAT_ENOMEM;
    for (size_t i = 0; i < na; i++)
        t[i] = (tagged){a[i], 0};
    for (size_t i = 0; i < nb; i++)
        t[na + i] = (tagged){b[i], 1};
    qsort(t, n, sizeof *t, cmp_tagged);

    /* Mid-ranks for ties; rank sum of a and the tie term sum(t^3 - t). */
    double rank_sum_a = 0.0, tie_term = 0.0;
    int ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && t[j].v == t[i].v)
            j++;
        double cnt = (double)(j - i);
        double mid_rank = 0.5 * ((double)(i + 1) + (double)j);
        for (size_t k = i; k < j; k++)
            if (t[k].group == 0)
                rank_sum_a += mid_rank;
        if (j - i > 1) {
            ties = 1;
            tie_term += cnt * cnt * cnt - cnt;
        }
        i = j;
    }
    free(t);

    double dn1 = (double)na, dn2 = (double)nb, dn = (double)n;
    double u = rank_sum_a - dn1 * (dn1 + 1.0) / 2.0;
    double mu = dn1 * dn2 / 2.0;
    double var = dn1 * dn2 / 12.0 * ((dn + 1.0) - tie_term / (dn * (dn - 1.0)));
    double d = u - mu, z = 0.0, p_norm = 1.0;
    if (var > 0.0) {
        /* Continuity correction toward the mean (R's wilcox.test and scipy
         * agree on this form; |d| is a multiple of 1/2 so |d| - 1/2 >= 0
         * unless d == 0). */
        double corr = d > 0 ? 0.5 : (d < 0 ? -0.5 : 0.0);
        z = (d - corr) / sqrt(var);
        p_norm = 2.0 * perf_normal_sf(fabs(z));
        if (p_norm > 1.0)
            p_norm = 1.0;
    }

    int can_exact = !ties && perf_mw_exact_possible(na, nb);
    if (method == PERF_MW_EXACT && !can_exact)
        return PERF_STAT_EDOMAIN;
    int exact = method != PERF_MW_NORMAL && can_exact;

    double p = p_norm;
    if (exact) {
        /* Two-sided: twice the smaller tail; U is symmetric about mu. */
        double q = u <= mu ? u : dn1 * dn2 - u;
        double cdf = exact_cdf(na, nb, (size_t)q);
        if (cdf < 0.0)
            return PERF_STAT_ENOMEM;
        p = 2.0 * cdf;
        if (p > 1.0)
            p = 1.0;
    }
    out->u = u;
    out->z = z;
    out->p_value = p;
    out->exact = exact;
    out->ties = ties;
    return PERF_STAT_OK;
}
