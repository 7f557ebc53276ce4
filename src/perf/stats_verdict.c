/* The direction-aware verdict and the simulator that measures its error
 * rates (docs/statistics.md, "Verdict" and "Error rates"). */
#include "perf/stats.h"
#include "perf/stats_internal.h"
#include "perf/stats_paired.h"

#include <math.h>
#include <stdlib.h>

const char *perf_verdict_name(perf_verdict v)
{
    switch (v) {
    case PERF_VERDICT_SAME: return "same";
    case PERF_VERDICT_REGRESSION: return "regression";
    case PERF_VERDICT_IMPROVEMENT: return "improvement";
    case PERF_VERDICT_INCONCLUSIVE: return "inconclusive";
    }
    return "unknown";
}

void perf_verdict_opts_default(perf_verdict_opts *o)
{
    if (!o)
        return;
    o->higher_is_better = 1;
    o->alpha = PERF_DEFAULT_ALPHA;
    o->noise_floor = PERF_DEFAULT_NOISE_FLOOR;
    o->tolerance = 0.0;
    o->confidence = PERF_DEFAULT_CONFIDENCE;
    o->resamples = PERF_DEFAULT_RESAMPLES;
    o->seed = PERF_DEFAULT_SEED;
}

/* Smallest n per side at which the exact two-sided test can reach p < alpha
 * at all: the most extreme outcome has p = 2 / C(2n, n). Below it no amount
 * of effect can be significant (4 per side cannot reach 0.01). */
static double min_reps_for_alpha(double alpha)
{
    double c = 1.0; /* C(2n, n) */
    for (unsigned n = 1; n < PERF_REPS_NEEDED_MAX; n++) {
        c = c * (double)(2 * n) * (double)(2 * n - 1) / ((double)n * n);
        if (2.0 / c < alpha)
            return n;
    }
    return PERF_REPS_NEEDED_MAX;
}

/* Repetitions per side that would decide an INCONCLUSIVE comparison,
 * assuming the effect stays where it is estimated now:
 * - the CI must clear the limit: its upper arm (g_hi - g) shrinks like
 *   1/sqrt(n), so n = n_now * ((g_hi - g) / (limit - g))^2;
 * - the test must reach alpha: |z| grows like sqrt(n), so
 *   n = n_now * (z_{alpha/2} / |z|)^2;
 * - and n must be large enough for p < alpha to be possible at all.
 * The answer is at least n_now + 1 and at most PERF_REPS_NEEDED_MAX. */
static unsigned estimate_reps(const perf_verdict_result *r, double z,
                              double alpha)
{
    double n_now = (double)(r->n_base > r->n_head ? r->n_base : r->n_head);
    double need = n_now + 1.0;
    double gap = r->limit - r->g;
    if (r->g_hi >= r->limit) {
        double arm = r->g_hi - r->g;
        if (!(arm > 0.0))
            arm = 0.5 * (r->g_hi - r->g_lo);
        double n_ci = gap > 0.0 ? n_now * (arm / gap) * (arm / gap) : INFINITY;
        if (n_ci > need)
            need = n_ci;
    }
    if (r->p_value >= alpha) {
        double zc = perf_normal_isf(alpha / 2.0);
        double n_p = fabs(z) > 0.0 ? n_now * (zc / z) * (zc / z) : INFINITY;
        if (n_p > need)
            need = n_p;
    }
    double n_min = min_reps_for_alpha(alpha);
    if (n_min > need)
        need = n_min;
    if (!(need < (double)PERF_REPS_NEEDED_MAX))
        return PERF_REPS_NEEDED_MAX;
    return (unsigned)ceil(need);
}

int perf_verdict_compute(const double *base, size_t nb, const double *head,
                         size_t nh, const perf_verdict_opts *o,
                         perf_verdict_result *out)
{
    perf_verdict_opts def;
    if (!o) {
        perf_verdict_opts_default(&def);
        o = &def;
    }
    int rc = perf_i_check_positive(base, nb, 2);
    if (!rc)
        rc = perf_i_check_positive(head, nh, 2);
    if (rc)
        return rc;
    if (!out || !(o->alpha > 0.0 && o->alpha < 1.0) ||
        !(o->noise_floor >= 0.0 && o->noise_floor < 1.0) ||
        !(o->tolerance >= 0.0 && o->tolerance < 1.0))
        return PERF_STAT_EINVAL;

    perf_mw_result mw;
    rc = perf_mann_whitney(base, nb, head, nh, PERF_MW_AUTO, &mw);
    if (rc)
        return rc;
    perf_bootstrap_opts bo = {o->resamples, o->confidence, o->seed};
    perf_ratio_ci ci;
    rc = perf_bootstrap_median_ratio(base, nb, head, nh, &bo, &ci);
    if (rc)
        return rc;

    perf_verdict_result r;
    r.n_base = nb;
    r.n_head = nh;
    rc = perf_median(base, nb, &r.median_base);
    if (!rc)
        rc = perf_median(head, nh, &r.median_head);
    if (rc)
        return rc;
    /* Percentile intervals transform with monotone maps, so the interval of
     * base/head is the reciprocal of the interval of head/base. */
    if (o->higher_is_better) {
        r.g = ci.ratio;
        r.g_lo = ci.lo;
        r.g_hi = ci.hi;
    } else {
        r.g = 1.0 / ci.ratio;
        r.g_lo = 1.0 / ci.hi;
        r.g_hi = 1.0 / ci.lo;
    }
    double margin = o->noise_floor > o->tolerance ? o->noise_floor : o->tolerance;
    r.limit = 1.0 - margin;
    r.p_value = mw.p_value;
    r.p_exact = mw.exact;
    r.reps_needed = 0;

    int significant = mw.p_value < o->alpha;
    if (significant && r.g_hi < r.limit) {
        r.verdict = PERF_VERDICT_REGRESSION;
        r.reason = "significant, and the whole confidence interval is beyond "
                   "the limit";
    } else if (significant && r.g_lo > 1.0 + o->noise_floor) {
        r.verdict = PERF_VERDICT_IMPROVEMENT;
        r.reason = "significant, and the whole confidence interval is above "
                   "the noise floor";
    } else if (r.g < r.limit) {
        r.verdict = PERF_VERDICT_INCONCLUSIVE;
        if (!significant && r.g_hi >= r.limit)
            r.reason = "looks slower, but neither significant nor clear of "
                       "the limit";
        else if (!significant)
            r.reason = "looks slower, but not significant";
        else
            r.reason = "looks slower, but the confidence interval reaches "
                       "the limit";
        r.reps_needed = estimate_reps(&r, mw.z, o->alpha);
    } else {
        r.verdict = PERF_VERDICT_SAME;
        if (r.g > 1.0 + o->noise_floor)
            r.reason = "looks faster, but the speed-up is not proven";
        else
            r.reason = "no change beyond the limit";
    }
    *out = r;
    return PERF_STAT_OK;
}

/* ---- simulation --------------------------------------------------------- */

void perf_sim_params_default(perf_sim_params *p)
{
    if (!p)
        return;
    p->reps_base = PERF_DEFAULT_REPS;
    p->reps_head = PERF_DEFAULT_REPS;
    p->slowdown = 0.0;
    p->cv = 0.03;
    p->outlier_prob = 0.02;
    p->outlier_min = 1.3;
    p->outlier_max = 2.0;
    p->trials = 1000;
    p->seed = 1;
    perf_verdict_opts_default(&p->verdict);
    p->procs = 0;
    p->process_cv = 0;
    p->between_cv = 0;
    p->unit = PERF_SIM_UNIT_REP;
}

int perf_sim_times(perf_rng *rng, size_t n, double scale, double cv,
                   double outlier_prob, double outlier_min,
                   double outlier_max, double *out)
{
    if (!rng || !out || !(scale > 0.0) || !(cv >= 0.0) || !isfinite(cv) ||
        !(outlier_prob >= 0.0 && outlier_prob <= 1.0) ||
        !(outlier_min >= 1.0 && outlier_max >= outlier_min) ||
        !isfinite(outlier_max) || !isfinite(scale))
        return PERF_STAT_EINVAL;
    /* Log-normal with median 1: the true ratio of medians is exactly the
     * injected scale, which is what the error rates are measured against. */
    double sigma = sqrt(log1p(cv * cv));
    for (size_t i = 0; i < n; i++) {
        double t = scale * exp(sigma * perf_rng_normal(rng));
        if (outlier_prob > 0.0 && perf_rng_uniform(rng) < outlier_prob)
            t *= outlier_min + (outlier_max - outlier_min) * perf_rng_uniform(rng);
        out[i] = t;
    }
    return PERF_STAT_OK;
}

/* The verdict with the process as the unit: each process's reps reduced
 * to their median, then unpaired (perf_verdict_compute) or paired by
 * process index (perf_paired_verdict). */
static int sim_by_process(const perf_sim_params *p, double *base, double *head,
                          const perf_verdict_opts *vo, perf_verdict_result *r)
{
    double mb[256], mh[256];
    unsigned n = p->procs > 256 ? 256 : p->procs;
    double *side[2] = {base, head}, *med[2] = {mb, mh};
    size_t ns[2] = {p->reps_base, p->reps_head};
    for (int k = 0; k < 2; k++)
        for (unsigned q = 0; q < n; q++) {
            size_t lo = q * ns[k] / n, hi = (q + 1) * ns[k] / n;
            if (hi <= lo)
                return PERF_STAT_ETOOFEW;
            med[k][q] = perf_i_median_inplace(side[k] + lo, hi - lo);
        }
    if (p->unit == PERF_SIM_UNIT_PAIR)
        return perf_paired_verdict(mb, mh, n, vo, r, NULL);
    return perf_verdict_compute(mb, n, mh, n, vo, r);
}

int perf_simulate(const perf_sim_params *p, perf_sim_counts *out)
{
    if (!p || !out || p->reps_base < 2 || p->reps_head < 2 ||
        !(p->slowdown > -1.0) || !isfinite(p->slowdown) || p->trials == 0)
        return PERF_STAT_EINVAL;
    double *base = malloc(p->reps_base * sizeof *base);
    double *head = malloc(p->reps_head * sizeof *head);
    int rc = PERF_STAT_ENOMEM;
    if (!base || !head)
        goto cleanup;

    perf_sim_counts c = {p->trials, 0, 0, 0, 0};
    perf_rng rng;
    perf_rng_seed(&rng, p->seed);
    perf_verdict_opts vo = p->verdict;
    uint64_t seed_state = p->verdict.seed;
    for (unsigned t = 0; t < p->trials; t++) {
        rc = perf_sim_times(&rng, p->reps_base, 1.0, p->cv, p->outlier_prob,
                            p->outlier_min, p->outlier_max, base);
        if (!rc)
            rc = perf_sim_times(&rng, p->reps_head, 1.0 + p->slowdown, p->cv,
                                p->outlier_prob, p->outlier_min,
                                p->outlier_max, head);
        if (rc)
            goto cleanup;
        if (p->procs > 0 && (p->process_cv > 0 || p->between_cv > 0)) {
            double sp = sqrt(log1p(p->process_cv * p->process_cv));
            double sb = sqrt(log1p(p->between_cv * p->between_cv));
            double *side[2] = {base, head};
            size_t ns[2] = {p->reps_base, p->reps_head};
            for (int k = 0; k < 2; k++) {
                double run = sb > 0 ? exp(sb * perf_rng_normal(&rng)) : 1.0;
                for (unsigned q = 0; q < p->procs; q++) {
                    double f = run * (sp > 0 ? exp(sp * perf_rng_normal(&rng)) : 1.0);
                    for (size_t i = q * ns[k] / p->procs; i < (q + 1) * ns[k] / p->procs; i++)
                        side[k][i] *= f;
                }
            }
        }
        /* Throughput is work per time: the same runs, seen as rates. */
        if (p->verdict.higher_is_better) {
            for (size_t i = 0; i < p->reps_base; i++)
                base[i] = 1.0 / base[i];
            for (size_t i = 0; i < p->reps_head; i++)
                head[i] = 1.0 / head[i];
        }
        vo.seed = perf_splitmix64(&seed_state);
        perf_verdict_result r;
        if (p->unit != PERF_SIM_UNIT_REP && p->procs >= 2) {
            rc = sim_by_process(p, base, head, &vo, &r);
        } else {
            rc = perf_verdict_compute(base, p->reps_base, head, p->reps_head, &vo,
                                      &r);
        }
        if (rc)
            goto cleanup;
        switch (r.verdict) {
        case PERF_VERDICT_REGRESSION: c.regression++; break;
        case PERF_VERDICT_INCONCLUSIVE: c.inconclusive++; break;
        case PERF_VERDICT_IMPROVEMENT: c.improvement++; break;
        case PERF_VERDICT_SAME: c.same++; break;
        }
    }
    *out = c;
    rc = PERF_STAT_OK;
cleanup:
    free(head);
    free(base);
    return rc;
}
