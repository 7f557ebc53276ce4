/* perf/pairing.c — series judged by process pairs (pairing.h). */
#include "perf/pairing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perf/compare.h"
#include "perf/error.h"
#include "perf/stats_paired.h"

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Per-process medians of series k: procs[i] and med[i], sorted by proc. */
static int proc_medians(const perf_sample_set *s, const perf_series_key *k, int **procs,
                        double **med, size_t *n)
{
    size_t cnt = 0;
    *procs = NULL;
    *med = NULL;
    *n = 0;
    int maxp = -1;
    for (size_t i = 0; i < s->n; i++)
        if (perf_sample_in_series(&s->v[i], k)) {
            cnt++;
            if (s->v[i].proc > maxp)
                maxp = s->v[i].proc;
        }
    if (!cnt)
        return 0;
    double *tmp = malloc(cnt * sizeof *tmp);
    int *pp = malloc(cnt * sizeof *pp);
    double *mm = malloc(cnt * sizeof *mm);
    if (!tmp || !pp || !mm) {
        free(tmp), free(pp), free(mm);
        return -1;
    }
    size_t o = 0;
    /* Process indexes are small (one per bench process of a side), so a
     * scan per index is cheaper than sorting samples. */
    for (int p = 0; p <= maxp; p++) {
        size_t t = 0;
        for (size_t i = 0; i < s->n; i++)
            if (s->v[i].proc == p && perf_sample_in_series(&s->v[i], k))
                tmp[t++] = s->v[i].value;
        if (!t)
            continue;
        qsort(tmp, t, sizeof *tmp, cmpd);
        pp[o] = p;
        mm[o++] = t % 2 ? tmp[t / 2] : 0.5 * (tmp[t / 2 - 1] + tmp[t / 2]);
    }
    free(tmp);
    *procs = pp;
    *med = mm;
    *n = o;
    return 0;
}

int perf_samples_proc_medians(const perf_sample_set *s, const perf_series_key *k, double **med,
                              size_t *n)
{
    int *procs;
    int rc = proc_medians(s, k, &procs, med, n);
    free(procs);
    return rc;
}

int perf_samples_pairs(const perf_sample_set *base, const perf_sample_set *head,
                       const perf_series_key *k, double **b, double **h, size_t *n)
{
    int *pb = NULL, *ph = NULL;
    double *mb = NULL, *mh = NULL;
    size_t nb = 0, nh = 0;
    int rc = -1;
    *b = *h = NULL;
    *n = 0;
    if (proc_medians(base, k, &pb, &mb, &nb) || proc_medians(head, k, &ph, &mh, &nh))
        goto out;
    size_t cap = nb < nh ? nb : nh, o = 0;
    if (cap) {
        *b = malloc(cap * sizeof **b);
        *h = malloc(cap * sizeof **h);
        if (!*b || !*h) {
            free(*b), free(*h);
            *b = *h = NULL;
            goto out;
        }
        for (size_t i = 0, j = 0; i < nb && j < nh;) {
            if (pb[i] < ph[j])
                i++;
            else if (pb[i] > ph[j])
                j++;
            else {
                (*b)[o] = mb[i++];
                (*h)[o++] = mh[j++];
            }
        }
    }
    if (!o) {
        free(*b), free(*h);
        *b = *h = NULL;
    }
    *n = o;
    rc = 0;
out:
    free(pb), free(ph), free(mb), free(mh);
    return rc;
}

static double geo2(double x, double y)
{
    return x > 0 && y > 0 ? sqrt(x) * sqrt(y) : 0;
}

size_t perf_pairs_crossover(double *b, double *h, size_t n)
{
    size_t m = n / 2;
    for (size_t u = 0; u < m; u++) {
        b[u] = geo2(b[2 * u], b[2 * u + 1]);
        h[u] = geo2(h[2 * u], h[2 * u + 1]);
    }
    return m;
}

static void fmt_time(double s, char *out, size_t cap)
{
    if (s < 90)
        perf_fmt(out, cap, "%.0f s", s);
    else if (s < 5400)
        perf_fmt(out, cap, "%.0f min", s / 60);
    else
        perf_fmt(out, cap, "%.1f h", s / 3600);
}

int perf_pair_judge_row(perf_cmp_row *r, const perf_sample_set *base,
                        const perf_sample_set *head, const perf_series_key *k,
                        const perf_pair_ctx *c)
{
    double *b, *h;
    size_t n;
    if (perf_samples_pairs(base, head, k, &b, &h, &n))
        return -1;
    double unit_s = c->pair_seconds;
    if (c->crossover) {
        n = perf_pairs_crossover(b, h, n);
        unit_s *= 2;
    }
    if (n < PERF_PAIRS_MIN) {
        free(b), free(h);
        return 0;
    }
    perf_verdict_opts vo;
    perf_verdict_opts_default(&vo);
    vo.higher_is_better = r->direction > 0;
    vo.alpha = c->alpha;
    vo.noise_floor = r->noise_floor;
    vo.tolerance = r->tolerance;
    vo.confidence = 1.0 - c->alpha;
    vo.resamples = c->resamples;
    perf_paired_extra x;
    int rc = perf_paired_verdict(b, h, n, &vo, &r->v, &x);
    if (rc) {
        r->status = PERF_ROW_ERROR;
        perf_fmt(r->note, sizeof r->note, "paired statistics failed: %s",
                 perf_stat_strerror(rc));
        free(b), free(h);
        return 1;
    }
    r->status = PERF_ROW_OK;
    r->paired = 1;
    r->cv_base = perf_robust_cv(b, n);
    r->cv_head = perf_robust_cv(h, n);
    r->mde90 = x.mde90;
    char res[32];
    if (x.mde90 > 0)
        perf_fmt(res, sizeof res, "%.1f%%", 100 * x.mde90);
    else
        perf_fmt(res, sizeof res, ">50%%");
    if (x.mde90 < 0 || x.mde90 > 0.05) {
        double need = perf_paired_pairs_for(x.sd_log, 0.05, r->v.limit, c->alpha);
        char when[64] = "";
        if (need > 0 && unit_s > 0) {
            char t[24];
            fmt_time(need * unit_s, t, sizeof t);
            perf_fmt(when, sizeof when, " (~%s here)", t);
        }
        if (need > 0)
            perf_fmt(r->note, sizeof r->note,
                     "%s, %zu pairs, sd %.1f%%: resolves %s; 5%% needs %.0f pairs%s", c->mode, n,
                     100 * x.sd_log, res, need, when);
        else
            perf_fmt(r->note, sizeof r->note,
                     "%s, %zu pairs, sd %.1f%%: resolves %s; 5%% is inside the %.1f%% limit",
                     c->mode, n, 100 * x.sd_log, res, 100 * (1 - r->v.limit));
    } else {
        perf_fmt(r->note, sizeof r->note, "%s, %zu pairs, sd of log ratio %.1f%%, resolves %s",
                 c->mode, n, 100 * x.sd_log, res);
    }
    free(b), free(h);
    return 1;
}

typedef struct pidx {
    double p;
    size_t i;
} pidx;

static int cmp_p(const void *a, const void *b)
{
    double x = ((const pidx *)a)->p, y = ((const pidx *)b)->p;
    return (x > y) - (x < y);
}

void perf_pair_holm(perf_comparison *c, double alpha)
{
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++)
        m += c->rows[i].paired && c->rows[i].status == PERF_ROW_OK;
    if (m < 2)
        return;
    pidx *v = malloc(m * sizeof *v);
    if (!v) {
        /* Without scratch, Bonferroni needs none and is stricter still. */
        for (size_t i = 0; i < c->n; i++) {
            perf_cmp_row *r = &c->rows[i];
            if (r->paired && r->status == PERF_ROW_OK) {
                r->v.p_value = r->v.p_value * (double)m > 1 ? 1 : r->v.p_value * (double)m;
                perf_paired_decide(&r->v, alpha, r->noise_floor);
            }
        }
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->rows[i].paired && c->rows[i].status == PERF_ROW_OK)
            v[k++] = (pidx){c->rows[i].v.p_value, i};
    qsort(v, m, sizeof *v, cmp_p);
    double run = 0;
    for (size_t j = 0; j < m; j++) {
        double adj = v[j].p * (double)(m - j);
        if (adj > 1)
            adj = 1;
        if (adj < run)
            adj = run; /* step-down: adjusted p-values never decrease */
        run = adj;
        perf_cmp_row *r = &c->rows[v[j].i];
        r->v.p_value = adj;
        perf_paired_decide(&r->v, alpha, r->noise_floor);
    }
    free(v);
}
