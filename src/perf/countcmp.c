/* perf/countcmp.c — verdicts on deterministic counts (see countcmp.h). */
#include "perf/countcmp.h"

#include <math.h>
#include <string.h>

#include "perf/compare.h"
#include "perf/stats.h"

void perf_counts_judge(perf_cmp_row *r, const double *base, size_t nb, const double *head,
                       size_t nh, double threshold)
{
    double mb, mh;
    r->tolerance = threshold;
    r->noise_floor = threshold;
    if (nb < 1 || nh < 1 || perf_median(base, nb, &mb) || perf_median(head, nh, &mh)) {
        r->status = PERF_ROW_ERROR;
        perf_fmt(r->note, sizeof r->note, "no count to compare");
        return;
    }
    if (!(mb > 0) || !(mh > 0)) {
        r->status = PERF_ROW_ERROR;
        perf_fmt(r->note, sizeof r->note, "a count <= 0 cannot be compared as a ratio");
        return;
    }
    perf_verdict_result *v = &r->v;
    memset(v, 0, sizeof *v);
    v->n_base = nb;
    v->n_head = nh;
    v->median_base = mb;
    v->median_head = mh;
    v->g = r->direction > 0 ? mh / mb : mb / mh;
    v->g_lo = v->g_hi = v->g;
    v->limit = 1.0 - threshold;
    v->p_value = NAN;
    if (v->g < v->limit) {
        v->verdict = PERF_VERDICT_REGRESSION;
        v->reason = "deterministic count: worse by more than the counts threshold";
    } else if (v->g > 1.0 + threshold) {
        v->verdict = PERF_VERDICT_IMPROVEMENT;
        v->reason = "deterministic count: better by more than the counts threshold";
    } else {
        v->verdict = PERF_VERDICT_SAME;
        v->reason = "deterministic count: within the counts threshold";
    }
    r->cv_base = perf_robust_cv(base, nb);
    r->cv_head = perf_robust_cv(head, nh);
    r->status = PERF_ROW_OK;
}

static const perf_cmp_row *wallclock_row(const perf_comparison *c, const perf_cmp_row *r)
{
    const perf_cmp_row *any = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const perf_cmp_row *w = &c->rows[i];
        if (w->overhead || perf_row_is_count(w) || strcmp(w->benchmark, r->benchmark) ||
            strcmp(w->engine, r->engine) || w->threads != r->threads)
            continue;
        if (!strcmp(w->metric, "ops_per_sec"))
            return w;
        if (!any)
            any = w;
    }
    return any;
}

void perf_counts_evidence(perf_comparison *c)
{
    for (size_t i = 0; i < c->n; i++) {
        perf_cmp_row *r = &c->rows[i];
        if (!perf_row_is_count(r) || r->overhead || r->note[0])
            continue;
        const perf_cmp_row *w = wallclock_row(c, r);
        if (!w) {
            perf_fmt(r->note, sizeof r->note, "no wall-clock row for %s in this comparison",
                     r->benchmark);
        } else if (w->status != PERF_ROW_OK || !(w->v.median_base > 0)) {
            perf_fmt(r->note, sizeof r->note, "wall clock: %s %s", w->metric, perf_row_word(w));
        } else {
            perf_fmt(r->note, sizeof r->note, "wall clock: %s %+.1f%% g %.3f [%.3f,%.3f] %s",
                     w->metric, (w->v.median_head / w->v.median_base - 1.0) * 100.0, w->v.g,
                     w->v.g_lo, w->v.g_hi, perf_row_word(w));
        }
    }
}
