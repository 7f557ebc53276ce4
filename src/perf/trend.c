/* perf/trend.c — change points and drift over the history (trend.h). */
#include "perf/trend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perf/metrics.h"

void perf_trends_free(perf_trend *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++)
        free(t[i].pts);
    free(t);
}

const char *perf_step_word(double rel_step, int direction)
{
    if (rel_step == 0 || rel_step != rel_step)
        return "flat";
    return (rel_step > 0) == (direction > 0) ? "better" : "worse";
}

static void analyse(perf_trend *t)
{
    size_t n = t->n;
    double *x = malloc((n ? n : 1) * sizeof *x);
    if (!x)
        return;
    for (size_t i = 0; i < n; i++)
        x[i] = t->pts[i].median;
    perf_edivisive_opts eo;
    perf_edivisive_opts_default(&eo);
    t->cp_ok = n >= 2 * eo.min_segment;
    if (t->cp_ok) {
        size_t cnt = 0;
        int rc = perf_edivisive(x, n, &eo, t->cp, PERF_TREND_MAX_CP, &cnt);
        t->ncp = (rc == PERF_STAT_OK || rc == PERF_STAT_ERANGE) ? cnt : 0;
        if (t->ncp > PERF_TREND_MAX_CP)
            t->ncp = PERF_TREND_MAX_CP;
    }
    t->drift_ok = n >= 3 && perf_drift(x, n, &t->drift) == PERF_STAT_OK;
    if (t->drift_ok) {
        double med;
        perf_median(x, n, &med);
        t->drift_total = med != 0 ? t->drift.slope * (double)(n - 1) / med : 0;
    }
    free(x);
}

int perf_trend_compute(perf_history *h, const perf_run_filter *f, perf_trend_want_fn want,
                       void *ctx, perf_trend **out, size_t *n, perf_error *e)
{
    perf_run_filter ff = f ? *f : (perf_run_filter){0};
    if (!ff.kind)
        ff.kind = "run";
    ff.limit = 0;
    perf_series_key *keys = NULL;
    size_t nk = 0;
    *out = NULL;
    *n = 0;
    if (perf_history_series_keys(h, &ff, &keys, &nk, e))
        return -1;
    perf_trend *v = calloc(nk ? nk : 1, sizeof *v);
    if (!v) {
        free(keys);
        return perf_seterr(e, "out of memory");
    }
    size_t cnt = 0;
    for (size_t i = 0; i < nk; i++) {
        if (want && !want(ctx, &keys[i]))
            continue;
        perf_trend *t = &v[cnt];
        memset(t, 0, sizeof *t);
        t->key = keys[i];
        perf_metric_infer(keys[i].metric, t->unit, sizeof t->unit, &t->direction, NULL);
        /* What was recorded wins over the catalog's guess. */
        perf_history_series_unit(h, &keys[i], t->unit, sizeof t->unit, &t->direction, NULL);
        if (perf_history_series(h, &ff, &keys[i], &t->pts, &t->n, e)) {
            perf_trends_free(v, cnt);
            free(keys);
            return -1;
        }
        analyse(t);
        cnt++;
    }
    free(keys);
    *out = v;
    *n = cnt;
    return 0;
}
