/* The non-hot draws of the perf PRNG; see rng.h. */
#include "perf/rng.h"

#include <math.h>

double perf_rng_normal(perf_rng *r)
{
    double u, v, s;
    do {
        u = 2.0 * perf_rng_uniform(r) - 1.0;
        v = 2.0 * perf_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

void perf_rng_shuffle(perf_rng *r, double *x, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = perf_rng_below(r, i);
        double t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}
