/* perf/calibrate.c — noise floors from an A/A run (see calibrate.h). */
#include "perf/calibrate.h"

#include <stdlib.h>
#include <string.h>

#include "perf/sample.h"
#include "perf/stats.h"

int perf_calibrate_floors(const perf_ab_result *r, const perf_suite *s, perf_calibration *out,
                          perf_error *e)
{
    memset(out, 0, sizeof *out);
    perf_series_key *keys;
    size_t nk;
    if (perf_samples_series(&r->head.samples, &keys, &nk))
        return perf_seterr(e, "out of memory");
    out->rows = calloc(nk ? nk : 1, sizeof *out->rows);
    out->gated = calloc(nk ? nk : 1, sizeof *out->gated);
    if (!out->rows || !out->gated) {
        free(keys);
        perf_calibration_free(out);
        return perf_seterr(e, "out of memory");
    }
    /* Floors for every metric of every series: comparisons of any metric
     * can use them, not only the gated ones. */
    for (size_t i = 0; i < nk; i++) {
        size_t na, nb;
        double *a = perf_samples_values(&r->base.samples, &keys[i], 1, &na, NULL);
        double *b = perf_samples_values(&r->head.samples, &keys[i], 1, &nb, NULL);
        perf_noise_row row;
        memset(&row, 0, sizeof row);
        int ok = a && b && na >= 2 && nb >= 2;
        for (size_t k = 0; ok && k < na; k++)
            ok = a[k] > 0;
        for (size_t k = 0; ok && k < nb; k++)
            ok = b[k] > 0;
        size_t kk = na < nb ? na : nb;
        if (ok && perf_noise_floor(a, na, b, nb, kk, NULL, &row.floor, &row.raw) == PERF_STAT_OK) {
            perf_strlcpy(row.machine_id, r->machine_id, sizeof row.machine_id);
            perf_strlcpy(row.sync_mode, r->sync_mode, sizeof row.sync_mode);
            perf_strlcpy(row.benchmark, keys[i].benchmark, sizeof row.benchmark);
            perf_strlcpy(row.engine, keys[i].engine, sizeof row.engine);
            row.threads = keys[i].threads;
            perf_strlcpy(row.metric, keys[i].metric, sizeof row.metric);
            row.k = (int)kk;
            double cva = perf_robust_cv(a, na), cvb = perf_robust_cv(b, nb);
            row.cv = cva > cvb ? cva : cvb;
            row.n_a = (int)na;
            row.n_b = (int)nb;
            row.run_a = r->cmp.base_run;
            row.run_b = r->cmp.head_run;
            int gated = perf_suite_gates_series(s, &keys[i]);
            if (gated && row.floor > out->worst_gated)
                out->worst_gated = row.floor;
            out->gated[out->n] = gated;
            out->rows[out->n++] = row;
        }
        free(a);
        free(b);
    }
    free(keys);
    return 0;
}

int perf_calibrate_acceptable(const perf_calibration *c)
{
    return c->worst_gated <= PERF_CALIBRATE_MAX_FLOOR;
}

int perf_calibrate_store(perf_history *h, const perf_calibration *c, perf_error *e)
{
    for (size_t i = 0; i < c->n; i++)
        if (perf_history_set_noise_floor(h, &c->rows[i], e))
            return -1;
    return 0;
}

void perf_calibration_free(perf_calibration *c)
{
    free(c->rows);
    free(c->gated);
    memset(c, 0, sizeof *c);
}
