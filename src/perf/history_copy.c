/* perf/history_copy.c — copying a history into an empty one
 * (history_copy.h). */
#include "perf/history_copy.h"

#include <stdlib.h>
#include <string.h>

int perf_history_copy(perf_history *src, perf_history *dst, perf_copy_stats *st, perf_error *e)
{
    perf_run_info *runs = NULL, *existing = NULL;
    perf_baseline_row *bl = NULL;
    perf_noise_row *fl = NULL;
    int64_t *cids = NULL;
    size_t nruns = 0, nexisting = 0, nbl = 0, nfl = 0, ncids = 0;
    perf_run_filter all = {0};
    perf_run_filter one = {.limit = 1};
    int rc = -1;
    memset(st, 0, sizeof *st);
    if (perf_history_list_runs(dst, &one, &existing, &nexisting, e))
        goto out;
    if (nexisting) {
        perf_seterr(e, "the destination already has runs; copy-history only fills an empty "
                       "history (it keeps every id)");
        goto out;
    }
    if (perf_history_list_runs(src, &all, &runs, &nruns, e))
        goto out;
    for (size_t i = 0; i < nruns; i++) {
        perf_sample_set s = {0};
        if (perf_history_load_samples(src, runs[i].id, &s, e)) {
            perf_samples_free(&s);
            goto partial;
        }
        int r = perf_history_import_run(dst, &runs[i], &s, e);
        st->samples += s.n;
        perf_samples_free(&s);
        if (r)
            goto partial;
        st->runs++;
    }
    if (perf_history_list_baselines(src, &bl, &nbl, e))
        goto partial;
    for (size_t i = 0; i < nbl; i++, st->baselines++)
        if (perf_history_import_baseline(dst, &bl[i], e))
            goto partial;
    if (perf_history_list_noise_floors(src, NULL, &fl, &nfl, e))
        goto partial;
    for (size_t i = 0; i < nfl; i++, st->floors++)
        if (perf_history_set_noise_floor(dst, &fl[i], e))
            goto partial;
    if (perf_history_comparison_ids(src, &cids, &ncids, e))
        goto partial;
    for (size_t i = 0; i < ncids; i++) {
        perf_comparison c;
        int found = perf_history_load_comparison(src, cids[i], NULL, &c, e);
        if (found < 0)
            goto partial;
        if (!found)
            continue; /* deleted meanwhile */
        int r = perf_history_import_comparison(dst, &c, e);
        perf_comparison_free(&c);
        if (r)
            goto partial;
        st->comparisons++;
    }
    if (perf_history_sync_ids(dst, e))
        goto partial;
    rc = 0;
    goto out;
partial:
    perf_preperr(e, "copy stopped after %zu of %zu runs, %zu baselines, %zu floors and %zu "
                    "comparisons (drop the destination and copy again)",
                 st->runs, nruns, st->baselines, st->floors, st->comparisons);
out:
    perf_run_infos_free(runs, nruns);
    perf_run_infos_free(existing, nexisting);
    free(bl);
    free(fl);
    free(cids);
    return rc;
}
