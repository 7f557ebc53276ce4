/* Between-run test of a run against the history's spread (stats_between.h). */
#include "perf/stats_between.h"

#include <math.h>
#include <stdlib.h>

#include "perf/stats.h"
#include "perf/stats_internal.h"

/* Continued fraction of the regularized incomplete beta function (modified
 * Lentz), converging for x < (a + 1) / (a + b + 2). */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m, aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15)
            break;
    }
    return h;
}

/* I_x(a, b). */
static double inc_beta(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2))
        return exp(lbt) * betacf(a, b, x) / a;
    return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

double perf_student_sf(double t, double df)
{
    if (!(df > 0) || isnan(t))
        return NAN;
    double x = df / (df + t * t);
    double tail = 0.5 * inc_beta(df / 2, 0.5, x); /* P(|T| > |t|) / 2 */
    return t >= 0 ? tail : 1 - tail;
}

double perf_student_isf(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0))
        return NAN;
    double lo = -1e4, hi = 1e4;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * (1 + fabs(lo)); i++) {
        double mid = 0.5 * (lo + hi);
        if (perf_student_sf(mid, df) > p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

int perf_between_test(const double *y, size_t k, double y_head, size_t m, double head_se,
                      int higher_is_better, double alpha, perf_between_result *out)
{
    int rc = perf_i_check(y, k, 2);
    if (rc)
        return rc;
    if (!out || !m || !isfinite(y_head) || !(alpha > 0 && alpha < 1) || !(head_se >= 0))
        return PERF_STAT_EINVAL;
    double centre, s;
    int robust = k >= 10;
    if (robust) {
        if ((rc = perf_median(y, k, &centre)) || (rc = perf_mad(y, k, &s)))
            return rc;
        s *= 1.4826;
    } else {
        if ((rc = perf_mean(y, k, &centre)) || (rc = perf_stddev(y, k, &s)))
            return rc;
    }
    double floor = head_se > PERF_BETWEEN_S_FLOOR ? head_se : PERF_BETWEEN_S_FLOOR;
    if (s < floor)
        s = floor;
    double d = higher_is_better ? y_head - centre : centre - y_head;
    double se = s * sqrt(1.0 / (double)m + 1.0 / (double)k), df = (double)(k - 1);
    double t = d / se, q = perf_student_isf(alpha / 2, df);
    double p = 2 * perf_student_sf(fabs(t), df);
    out->k = k;
    out->centre = centre;
    out->s = s;
    out->d = d;
    out->t = t;
    out->df = df;
    out->p = p > 1 ? 1 : p;
    out->g = exp(d);
    out->g_lo = exp(d - q * se);
    out->g_hi = exp(d + q * se);
    out->robust = robust;
    return PERF_STAT_OK;
}
