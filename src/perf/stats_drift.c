/* Slow drift over a history: Theil–Sen slope (robust to the occasional
 * outlier run that would tilt a least-squares line) and the Mann–Kendall
 * trend test (rank-based, so no assumption about the noise's shape). Both
 * are O(n^2), fine for the few hundred runs a history window holds. */
#include "perf/stats.h"
#include "perf/stats_internal.h"

#include <math.h>
#include <stdlib.h>

int perf_mann_kendall(const double *x, size_t n, perf_mk_result *out)
{
    int rc = perf_i_check(x, n, 3);
    if (rc)
        return rc;
    if (!out)
        return PERF_STAT_EINVAL;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            s += (x[j] > x[i]) - (x[j] < x[i]);

    double *w = malloc(n * sizeof *w);
    if (!w)
        return PERF_STAT_ENOMEM;
    for (size_t i = 0; i < n; i++)
        w[i] = x[i];
    perf_i_sort(w, n);
    /* Tie correction: each group of t equal values removes
     * t(t-1)(2t+5) from n(n-1)(2n+5). */
    double dn = (double)n;
    double var = dn * (dn - 1.0) * (2.0 * dn + 5.0);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && w[j] == w[i])
            j++;
        double t = (double)(j - i);
        var -= t * (t - 1.0) * (2.0 * t + 5.0);
        i = j;
    }
    free(w);
    var /= 18.0;

    double z = 0.0;
    if (var > 0.0) {
        if (s > 0)
            z = (s - 1.0) / sqrt(var);
        else if (s < 0)
            z = (s + 1.0) / sqrt(var);
    }
    double p = 2.0 * perf_normal_sf(fabs(z));
    out->s = s;
    out->var_s = var;
    out->z = z;
    out->p_value = p > 1.0 ? 1.0 : p;
    return PERF_STAT_OK;
}

int perf_theil_sen(const double *x, size_t n, double *slope, double *intercept)
{
    int rc = perf_i_check(x, n, 2);
    if (rc)
        return rc;
    if (!slope || !intercept)
        return PERF_STAT_EINVAL;
    if (n > 100000) /* n(n-1)/2 slopes would not fit a sane allocation */
        return PERF_STAT_EINVAL;
    size_t npairs = n * (n - 1) / 2;
    double *w = malloc((npairs > n ? npairs : n) * sizeof *w);
    if (!w)
        return PERF_STAT_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            w[k++] = (x[j] - x[i]) / (double)(j - i);
    double b = perf_i_median_inplace(w, npairs);
    for (size_t i = 0; i < n; i++)
        w[i] = x[i] - b * (double)i;
    *intercept = perf_i_median_inplace(w, n);
    *slope = b;
    free(w);
    return PERF_STAT_OK;
}

int perf_drift(const double *x, size_t n, perf_drift_result *out)
{
    int rc = perf_i_check(x, n, 3);
    if (rc)
        return rc;
    if (!out)
        return PERF_STAT_EINVAL;
    double med, slope, icpt;
    perf_mk_result mk;
    rc = perf_median(x, n, &med);
    if (!rc)
        rc = perf_theil_sen(x, n, &slope, &icpt);
    if (!rc)
        rc = perf_mann_kendall(x, n, &mk);
    if (rc)
        return rc;
    if (med == 0.0)
        return PERF_STAT_EDOMAIN;
    out->slope = slope;
    out->slope_rel = slope / fabs(med);
    out->intercept = icpt;
    out->mk_z = mk.z;
    out->p_value = mk.p_value;
    return PERF_STAT_OK;
}
