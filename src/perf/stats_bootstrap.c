/* Percentile bootstrap CI of median(head)/median(base), and the noise-floor
 * calibration built on the same resampling machinery.
 *
 * Speed: both samples are sorted once; a resample's median is then found by
 * counting how often each index was drawn (perf_i_resample_median), O(n)
 * per resample with no sorting and no allocation inside the loop. A whole
 * verdict (test + 10,000 resamples) takes ~1.1 ms for 30 + 30 values and
 * ~1.7 ms for 60 + 60 at -O2 on the development machine. */
#include "perf/stats.h"
#include "perf/stats_internal.h"

#include <math.h>
#include <stdlib.h>

void perf_bootstrap_opts_default(perf_bootstrap_opts *o)
{
    if (!o)
        return;
    o->resamples = PERF_DEFAULT_RESAMPLES;
    o->confidence = PERF_DEFAULT_CONFIDENCE;
    o->seed = PERF_DEFAULT_SEED;
}

/* Larger samples are refused (EINVAL): no repetition count is that large,
 * and the index draws are 32-bit. */
#define BOOT_MAX_N 100000u

int perf_bootstrap_median_ratio(const double *base, size_t nb,
                                const double *head, size_t nh,
                                const perf_bootstrap_opts *o,
                                perf_ratio_ci *out)
{
    perf_bootstrap_opts def;
    if (!o) {
        perf_bootstrap_opts_default(&def);
        o = &def;
    }
    int rc = perf_i_check_positive(base, nb, 2);
    if (!rc)
        rc = perf_i_check_positive(head, nh, 2);
    if (rc)
        return rc;
    if (!out || o->resamples < PERF_MIN_RESAMPLES ||
        !(o->confidence > 0.0 && o->confidence < 1.0) || nb > BOOT_MAX_N ||
        nh > BOOT_MAX_N)
        return PERF_STAT_EINVAL;

    rc = PERF_STAT_ENOMEM;
    size_t nmax = nb > nh ? nb : nh;
    double *sb = malloc(nb * sizeof *sb);
    double *sh = malloc(nh * sizeof *sh);
    uint32_t *counts = malloc(nmax * sizeof *counts);
    double *ratios = malloc((size_t)o->resamples * sizeof *ratios);
    if (!sb || !sh || !counts || !ratios)
        goto cleanup;
    for (size_t i = 0; i < nb; i++)
        sb[i] = base[i];
    for (size_t i = 0; i < nh; i++)
        sh[i] = head[i];
    perf_i_sort(sb, nb);
    perf_i_sort(sh, nh);

    perf_rng rng;
    perf_rng_seed(&rng, o->seed);
    for (unsigned r = 0; r < o->resamples; r++) {
        double mb = perf_i_resample_median(&rng, sb, (uint32_t)nb,
                                           (uint32_t)nb, counts);
        double mh = perf_i_resample_median(&rng, sh, (uint32_t)nh,
                                           (uint32_t)nh, counts);
        ratios[r] = mh / mb;
    }
    double tail = (1.0 - o->confidence) / 2.0;
    out->ratio = perf_i_sorted_median(sh, nh) / perf_i_sorted_median(sb, nb);
    out->lo = perf_i_quantile_inplace(ratios, o->resamples, tail);
    out->hi = perf_i_quantile_inplace(ratios, o->resamples, 1.0 - tail);
    rc = PERF_STAT_OK;
cleanup:
    free(ratios);
    free(counts);
    free(sh);
    free(sb);
    return rc;
}

void perf_noise_opts_default(perf_noise_opts *o)
{
    if (!o)
        return;
    o->quantile = 0.95;
    o->resamples = PERF_DEFAULT_RESAMPLES;
    o->min_floor = PERF_NOISE_FLOOR_MIN;
    o->seed = PERF_DEFAULT_SEED;
}

int perf_noise_floor(const double *a, size_t na, const double *b, size_t nb,
                     size_t k, const perf_noise_opts *o, double *floor_out,
                     double *raw_out)
{
    perf_noise_opts def;
    if (!o) {
        perf_noise_opts_default(&def);
        o = &def;
    }
    int rc = perf_i_check_positive(a, na, 2);
    if (!rc && b)
        rc = perf_i_check_positive(b, nb, 2);
    if (rc)
        return rc;
    if (!b) {
        b = a;
        nb = na;
    }
    if (!floor_out || k == 0 || k > BOOT_MAX_N || na > BOOT_MAX_N ||
        nb > BOOT_MAX_N || o->resamples < PERF_MIN_RESAMPLES ||
        !(o->quantile > 0.0 && o->quantile < 1.0) ||
        !(o->min_floor >= 0.0 && o->min_floor < 1.0))
        return PERF_STAT_EINVAL;

    rc = PERF_STAT_ENOMEM;
    size_t nmax = na > nb ? na : nb;
    double *sa = malloc(na * sizeof *sa);
    double *sb = malloc(nb * sizeof *sb);
    uint32_t *counts = malloc(nmax * sizeof *counts);
    double *d = malloc((size_t)o->resamples * sizeof *d);
    if (!sa || !sb || !counts || !d)
        goto cleanup;
    for (size_t i = 0; i < na; i++)
        sa[i] = a[i];
    for (size_t i = 0; i < nb; i++)
        sb[i] = b[i];
    perf_i_sort(sa, na);
    perf_i_sort(sb, nb);

    perf_rng rng;
    perf_rng_seed(&rng, o->seed);
    for (unsigned r = 0; r < o->resamples; r++) {
        double ma = perf_i_resample_median(&rng, sa, (uint32_t)na,
                                           (uint32_t)k, counts);
        double mb = perf_i_resample_median(&rng, sb, (uint32_t)nb,
                                           (uint32_t)k, counts);
        d[r] = fabs(1.0 - ma / mb);
    }
    double raw = perf_i_quantile_inplace(d, o->resamples, o->quantile);
    *floor_out = raw > o->min_floor ? raw : o->min_floor;
    if (raw_out)
        *raw_out = raw;
    rc = PERF_STAT_OK;
cleanup:
    free(d);
    free(counts);
    free(sb);
    free(sa);
    return rc;
}
