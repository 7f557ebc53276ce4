/* perf/compare.c — series-by-series verdicts for check and ab (compare.h). */
#include "perf/compare.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "perf/countcmp.h"
#include "perf/metrics.h"
#include "perf/pairing.h"

void perf_cmp_opts_default(perf_cmp_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = PERF_CMP_CHECK;
    o->alpha = PERF_DEFAULT_ALPHA;
    o->default_floor = PERF_DEFAULT_NOISE_FLOOR;
    o->seed = PERF_DEFAULT_SEED;
    o->resamples = PERF_DEFAULT_RESAMPLES;
    o->estimate_power = 1;
    o->gate_on = -1;
}

double perf_floor_for_n(double raw, int k, size_t n, double default_floor)
{
    if (k <= 0 || n == 0)
        return default_floor;
    double f = raw * sqrt((double)k / (double)n);
    if (f < PERF_NOISE_FLOOR_MIN)
        f = PERF_NOISE_FLOOR_MIN;
    if (f > 0.5)
        f = 0.5;
    return f;
}

double perf_robust_cv(const double *x, size_t n)
{
    double med, mad;
    if (n < 2 || perf_median(x, n, &med) || perf_mad(x, n, &mad) || med == 0)
        return 0;
    return 1.4826 * mad / fabs(med);
}

double perf_min_detectable(size_t nb, size_t nh, double cv, const perf_verdict_opts *vo)
{
    static const double grid[] = {0.01, 0.02, 0.03, 0.05, 0.07, 0.10, 0.15, 0.20, 0.30, 0.50};
    const int ng = (int)(sizeof grid / sizeof grid[0]);
    if (nb < 2 || nh < 2)
        return -1;
    if (cv < 0.001)
        cv = 0.001; /* deterministic metrics: the floor alone decides */
    perf_sim_params p;
    perf_sim_params_default(&p);
    p.reps_base = nb;
    p.reps_head = nh;
    p.cv = cv;
    p.outlier_prob = 0; /* the measured CV already includes disturbances */
    p.trials = 100;
    p.seed = 0x6d6465393021ULL;
    p.verdict = *vo;
    p.verdict.resamples = 1000;
    /* Detection rises with the slowdown: binary search for the first grid
     * point at >= 90%. */
    int lo = 0, hi = ng - 1, best = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        p.slowdown = grid[mid];
        perf_sim_counts c;
        if (perf_simulate(&p, &c))
            return -1;
        if (c.regression * 10 >= c.trials * 9) {
            best = mid;
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
    return best < 0 ? -1 : grid[best];
}

int perf_runs_mismatch(const perf_run_info *base, const perf_run_info *head, char *out,
                       size_t cap)
{
    int bad = 0;
    size_t n = 0;
    out[0] = '\0';
    if (strcmp(base->machine_id, head->machine_id)) {
        n += (size_t)snprintf(out + n, cap - n, "different machines (%s vs %s)",
                              base->machine_id, head->machine_id);
        bad = 1;
    }
    if (n < cap && strcasecmp(base->sync_mode, head->sync_mode)) {
        n += (size_t)snprintf(out + n, cap - n, "%sdifferent sync modes (%s vs %s)",
                              n ? "; " : "", base->sync_mode, head->sync_mode);
        bad = 1;
    }
    if (n < cap && strcmp(base->suite, head->suite))
        snprintf(out + n, cap - n, "%sdifferent suites (%s vs %s)", n ? "; " : "", base->suite,
                 head->suite);
    return bad;
}

/* Parameters that may differ without making two results incomparable:
 * the injected slowdown (and the busy work bench calibrated for it) is
 * what an experiment varies, and the seed only picks which keys. */
static int params_differ(const char *a, const char *b)
{
    static const char *const ignore[] = {"inject_slowdown_pct", "slowdown_spin_ns",
                                         "slowdown_spin_iters", "seed"};
    if (!a || !b || !strcmp(a, b))
        return 0;
    json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL);
    int differ = 1;
    if (json_is_object(ja) && json_is_object(jb)) {
        for (size_t i = 0; i < sizeof ignore / sizeof ignore[0]; i++) {
            json_object_del(ja, ignore[i]);
            json_object_del(jb, ignore[i]);
        }
        differ = !json_equal(ja, jb);
    }
    json_decref(ja);
    json_decref(jb);
    return differ;
}

/* ---- rows -------------------------------------------------------------- */

static int all_positive(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(x[i] > 0))
            return 0;
    return 1;
}

static double series_floor(const perf_cmp_opts *o, const perf_series_key *k, size_t n,
                           int *calibrated)
{
    double raw;
    int kk;
    *calibrated = 0;
    if (o->floor_lookup && o->floor_lookup(o->floor_ctx, k, &raw, &kk) == 1 && kk > 0) {
        *calibrated = 1;
        return perf_floor_for_n(raw, kk, n, o->default_floor);
    }
    return o->default_floor;
}

/* Fills the verdict part of r from the two samples. */
static void judge(perf_cmp_row *r, const double *b, size_t nb, const double *h, size_t nh,
                  const perf_cmp_opts *o)
{
    if (nb < 2 || nh < 2) {
        r->status = PERF_ROW_ERROR;
        perf_fmt(r->note, sizeof r->note, "needs >= 2 repetitions per side (have %zu and %zu)",
                 nb, nh);
        return;
    }
    if (!all_positive(b, nb) || !all_positive(h, nh)) {
        r->status = PERF_ROW_ERROR;
        perf_fmt(r->note, sizeof r->note, "a value <= 0 cannot be compared as a ratio");
        return;
    }
    perf_verdict_opts vo;
    perf_verdict_opts_default(&vo);
    vo.higher_is_better = r->direction > 0;
    vo.alpha = o->alpha;
    vo.noise_floor = r->noise_floor;
    vo.tolerance = r->tolerance;
    vo.confidence = 1.0 - o->alpha;
    vo.resamples = o->resamples;
    vo.seed = o->seed;
    int rc = perf_verdict_compute(b, nb, h, nh, &vo, &r->v);
    if (rc) {
        r->status = PERF_ROW_ERROR;
        perf_fmt(r->note, sizeof r->note, "statistics failed: %s", perf_stat_strerror(rc));
        return;
    }
    r->status = PERF_ROW_OK;
    r->cv_base = perf_robust_cv(b, nb);
    r->cv_head = perf_robust_cv(h, nh);
    if (o->estimate_power) {
        double cv = r->cv_base > r->cv_head ? r->cv_base : r->cv_head;
        r->mde90 = perf_min_detectable(nb, nh, cv, &vo);
    }
}

static void fill_key(perf_cmp_row *r, const char *rule, const perf_series_key *k)
{
    memset(r, 0, sizeof *r);
    perf_strlcpy(r->rule, rule, sizeof r->rule);
    perf_strlcpy(r->benchmark, k->benchmark, sizeof r->benchmark);
    perf_strlcpy(r->engine, k->engine, sizeof r->engine);
    perf_strlcpy(r->metric, k->metric, sizeof r->metric);
    r->threads = k->threads;
}

static void unit_dir(const perf_suite *s, const perf_suite_bench *b, const char *metric,
                     const perf_sample *first, perf_cmp_row *r)
{
    int d;
    char u[16];
    perf_metric_infer(metric, u, sizeof u, &d, NULL);
    if (first) {
        d = first->direction;
        perf_strlcpy(u, first->unit, sizeof u);
    }
    r->direction = perf_suite_direction(s, b, metric, d);
    perf_strlcpy(r->unit, u, sizeof r->unit);
}

/* Series of `set` that belong to section b and one of its gated metrics,
 * appended to keys (deduplicated). */
static int collect(const perf_suite *s, const perf_suite_bench *b, const perf_sample_set *set,
                   perf_series_key **keys, size_t *n, size_t *cap)
{
    perf_series_key *all;
    size_t na;
    if (perf_samples_series(set, &all, &na))
        return -1;
    for (size_t i = 0; i < na; i++) {
        if (!perf_suite_gates_metric(b, all[i].metric) ||
            !perf_suite_bench_matches(s, b, all[i].benchmark, all[i].engine, all[i].threads))
            continue;
        size_t j;
        for (j = 0; j < *n; j++)
            if (perf_series_key_eq(&(*keys)[j], &all[i]))
                break;
        if (j < *n)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            perf_series_key *q = realloc(*keys, nc * sizeof *q);
            if (!q) {
                free(all);
                return -1;
            }
            *keys = q;
            *cap = nc;
        }
        (*keys)[(*n)++] = all[i];
    }
    free(all);
    return 0;
}

static int overhead_rows(const perf_suite *s, const perf_suite_bench *b,
                         const perf_sample_set *head, const perf_cmp_opts *o,
                         perf_comparison *out)
{
    perf_series_key *errk = NULL;
    size_t ne = 0, ce = 0;
    if (collect(s, b, head, &errk, &ne, &ce))
        return -1;
    for (size_t i = 0; i < ne; i++) {
        /* The happy path: the named benchmark with the same engine, thread
         * count and metric, from the same run. */
        perf_series_key hk = errk[i];
        perf_strlcpy(hk.benchmark, b->overhead_of, sizeof hk.benchmark);
        if (!strcmp(hk.benchmark, errk[i].benchmark))
            continue;
        perf_cmp_row r;
        fill_key(&r, b->name, &errk[i]);
        r.overhead = 1;
        perf_strlcpy(r.versus, hk.benchmark, sizeof r.versus);
        size_t nb_, nh_;
        const perf_sample *first = NULL;
        double *bv = perf_samples_values(head, &hk, o->one_per_proc, &nb_, NULL);
        double *hv = perf_samples_values(head, &errk[i], o->one_per_proc, &nh_, &first);
        unit_dir(s, b, errk[i].metric, first, &r);
        if (!bv) {
            r.status = PERF_ROW_NO_HEAD;
            perf_fmt(r.note, sizeof r.note, "no %s result on %s to hold the overhead to",
                     hk.benchmark, errk[i].engine);
        } else {
            /* "the error path costs at most (1 + max_overhead) x the happy
             * path": g >= 1 / (1 + max_overhead) whatever the direction. */
            r.tolerance = 1.0 - 1.0 / (1.0 + b->max_overhead);
            int cal;
            size_t n = nb_ < nh_ ? nb_ : nh_;
            r.noise_floor = series_floor(o, &errk[i], n, &cal);
            r.floor_calibrated = cal;
            judge(&r, bv, nb_, hv, nh_, o);
            /* An error path cheaper than the happy path is simply within
             * the rule, not an "improvement" of anything. */
            if (r.status == PERF_ROW_OK && r.v.verdict == PERF_VERDICT_IMPROVEMENT) {
                r.v.verdict = PERF_VERDICT_SAME;
                r.v.reason = "the error path is cheaper than the happy path";
            }
            if (r.status == PERF_ROW_OK && !r.note[0])
                perf_fmt(r.note, sizeof r.note, "%s vs %s in the same run, allowed +%.0f%%",
                         errk[i].benchmark, hk.benchmark, b->max_overhead * 100);
        }
        free(bv);
        free(hv);
        if (perf_comparison_add(out, &r)) {
            free(errk);
            return -1;
        }
    }
    free(errk);
    return 0;
}

int perf_compare(const perf_suite *s, const perf_sample_set *base, const perf_sample_set *head,
                 const perf_cmp_opts *o, perf_comparison *out, perf_error *e)
{
    perf_cmp_opts def;
    if (!o) {
        perf_cmp_opts_default(&def);
        o = &def;
    }
    for (size_t bi = 0; bi < s->nb; bi++) {
        const perf_suite_bench *b = &s->b[bi];
        if (!b->gate)
            continue;
        perf_series_key *keys = NULL;
        size_t nk = 0, cap = 0;
        if (collect(s, b, head, &keys, &nk, &cap) || collect(s, b, base, &keys, &nk, &cap)) {
            free(keys);
            return perf_seterr(e, "out of memory");
        }
        if (!nk) {
            perf_cmp_row r;
            memset(&r, 0, sizeof r);
            perf_strlcpy(r.rule, b->name, sizeof r.rule);
            perf_strlcpy(r.benchmark, b->name, sizeof r.benchmark);
            perf_strlcpy(r.metric, b->metrics[0], sizeof r.metric);
            r.status = PERF_ROW_NO_HEAD;
            perf_fmt(r.note, sizeof r.note, "no result matches [%s] (match = %s)", b->name,
                     b->match);
            if (perf_comparison_add(out, &r))
                return perf_seterr(e, "out of memory");
            continue;
        }
        for (size_t i = 0; i < nk; i++) {
            perf_cmp_row r;
            fill_key(&r, b->name, &keys[i]);
            size_t nb_, nh_;
            const perf_sample *fb = NULL, *fh = NULL;
            double *bv = perf_samples_values(base, &keys[i], o->one_per_proc, &nb_, &fb);
            double *hv = perf_samples_values(head, &keys[i], o->one_per_proc, &nh_, &fh);
            unit_dir(s, b, keys[i].metric, fh ? fh : fb, &r);
            r.tolerance = o->mode == PERF_CMP_CHECK
                              ? perf_suite_tolerance(s, b, keys[i].metric, r.direction)
                              : 0.0;
            if (!hv) {
                r.status = PERF_ROW_NO_HEAD;
                perf_fmt(r.note, sizeof r.note, "in the base but missing from the head run");
            } else if (!bv) {
                r.status = PERF_ROW_NO_BASE;
                perf_fmt(r.note, sizeof r.note, "new: not in the base run");
            } else if (b->counts) {
                perf_counts_judge(&r, bv, nb_, hv, nh_, perf_suite_counts_threshold(s, b));
                if (fb && fh && params_differ(fb->params, fh->params))
                    perf_fmt(r.note, sizeof r.note, "parameters differ between base and head");
            } else {
                int cal;
                size_t n = nb_ < nh_ ? nb_ : nh_;
                r.noise_floor = series_floor(o, &keys[i], n, &cal);
                r.floor_calibrated = cal;
                int paired = 0;
                if (o->paired) {
                    int dq = b->pairing == PERF_PAIRING_DUET;
                    perf_pair_ctx pc = {.mode = o->crossover
                                                    ? (dq ? "duet crossover" : "ABBA crossover")
                                                    : (dq ? "duet" : "ABBA"),
                                        .alpha = o->alpha, .resamples = o->resamples,
                                        .pair_seconds = o->pair_seconds,
                                        .crossover = o->crossover};
                    paired = perf_pair_judge_row(&r, base, head, &keys[i], &pc);
                }
                if (paired < 0) {
                    free(bv), free(hv), free(keys);
                    return perf_seterr(e, "out of memory");
                }
                if (!paired)
                    judge(&r, bv, nb_, hv, nh_, o);
                if (fb && fh && params_differ(fb->params, fh->params))
                    perf_fmt(r.note, sizeof r.note, "parameters differ between base and head");
            }
            free(bv);
            free(hv);
            if (perf_comparison_add(out, &r)) {
                free(keys);
                return perf_seterr(e, "out of memory");
            }
        }
        free(keys);
        if (o->mode == PERF_CMP_CHECK && b->overhead_of[0] && overhead_rows(s, b, head, o, out))
            return perf_seterr(e, "out of memory");
    }
    perf_counts_evidence(out);
    out->gate_on = o->gate_on >= 0 ? o->gate_on : s->gate_on;
    perf_comparison_tally(out);
    return 0;
}
