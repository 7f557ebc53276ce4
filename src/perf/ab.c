/* perf/ab.c — interleaved A/B runs and their verdicts (see ab.h). */
#include "perf/ab.h"

#include "perf/pairing.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int perf_floor_from_history(void *ctx, const perf_series_key *k, double *raw, int *kreps)
{
    perf_floor_ctx *c = ctx;
    perf_noise_row row;
    if (!c || !c->h)
        return 0;
    if (perf_history_get_noise_floor(c->h, c->machine_id, c->sync_mode, k->benchmark, k->engine,
                                     k->threads, k->metric, &row, NULL) != 1)
        return 0;
    *raw = row.raw;
    *kreps = row.k;
    return 1;
}

void perf_ab_result_free(perf_ab_result *r)
{
    if (!r)
        return;
    perf_side_free(&r->base);
    perf_side_free(&r->head);
    perf_comparison_free(&r->cmp);
}

static int judge(const perf_ab_opts *o, perf_ab_result *r, perf_error *e)
{
    perf_comparison_free(&r->cmp);
    perf_strlcpy(r->cmp.kind, "ab", sizeof r->cmp.kind);
    perf_strlcpy(r->cmp.suite, o->suite->name, sizeof r->cmp.suite);
    perf_samples_sync_mode(&r->head.samples, r->sync_mode, sizeof r->sync_mode);
    if (r->head.have_meta)
        perf_strlcpy(r->machine_id, r->head.meta.machine_id, sizeof r->machine_id);
    if (o->machine_key && o->machine_key[0])
        perf_strlcpy(r->machine_id, o->machine_key, sizeof r->machine_id);
    perf_floor_ctx fc = {o->history, r->machine_id, r->sync_mode};
    perf_cmp_opts co = o->cmp;
    co.mode = PERF_CMP_AB;
    co.one_per_proc = 1;
    co.paired = 1;
    co.crossover = o->suite->crossover;
    co.pair_seconds = r->rounds ? r->wall_s / r->rounds : 0;
    if (o->history) {
        co.floor_lookup = perf_floor_from_history;
        co.floor_ctx = &fc;
    }
    if (perf_compare(o->suite, &r->base.samples, &r->head.samples, &co, &r->cmp, e))
        return -1;
    perf_pair_holm(&r->cmp, co.alpha);
    perf_comparison_tally(&r->cmp);
    return 0;
}

int perf_ab_wants_more(const perf_ab_opts *o, const perf_ab_result *r)
{
    if (r->cmp.inconclusive)
        return 1;
    double res = o->suite->resolve;
    if (res <= 0)
        return 0;
    for (size_t i = 0; i < r->cmp.n; i++) {
        const perf_cmp_row *x = &r->cmp.rows[i];
        if (x->paired && x->status == PERF_ROW_OK && !perf_row_is_count(x) &&
            x->v.verdict != PERF_VERDICT_REGRESSION && (x->mde90 < 0 || x->mde90 > res))
            return 1;
    }
    return 0;
}

int perf_ab_run(const perf_ab_opts *o, perf_ab_result *r, perf_error *e)
{
    memset(r, 0, sizeof *r);
    r->base.label = "A";
    r->base.bin = o->base_bin;
    r->base.inject_pct = o->base_inject;
    r->head.label = "B";
    r->head.bin = o->head_bin;
    r->head.inject_pct = o->head_inject;
    r->head.freeze_pct = o->head_freeze;
    r->head.engine_options = o->head_options;
    return perf_ab_extend(o, r, o->rounds, e);
}

int perf_ab_extend(const perf_ab_opts *o, perf_ab_result *r, unsigned more, perf_error *e)
{
    perf_runner_opts ro = {.scratch = o->scratch, .progress = o->progress,
                           .counts_done = r->rounds > 0};
    /* Rounds come in crossover units of two (pairing.h): an odd count
     * would leave a half unit that the verdict drops. */
    if (o->suite->crossover && (r->rounds + more) % 2)
        more++;
    /* Continue the ABBA pattern where it stopped: an odd number of rounds
     * so far means the next round starts with B, which swapping the sides
     * for the call achieves. */
    double t0 = perf_now();
    int rc = r->rounds % 2
                 ? perf_run_interleaved(o->suite, &r->head, &r->base, more, &ro, e)
                 : perf_run_interleaved(o->suite, &r->base, &r->head, more, &ro, e);
    if (rc)
        return -1;
    r->wall_s += perf_now() - t0;
    r->rounds += more;
    return judge(o, r, e);
}

void perf_side_run_info(const perf_side *side, const perf_suite *s, const char *kind,
                        const char *label, perf_run_info *run)
{
    memset(run, 0, sizeof *run);
    perf_strlcpy(run->kind, kind, sizeof run->kind);
    perf_strlcpy(run->label, label ? label : "", sizeof run->label);
    run->dirty = -1;
    if (side->have_meta) {
        const perf_bench_doc *d = &side->meta;
        perf_strlcpy(run->machine_id, d->machine_id, sizeof run->machine_id);
        run->machine_json = d->machine_json; /* borrowed: the caller stores, never frees */
        perf_strlcpy(run->commit, d->commit, sizeof run->commit);
        run->dirty = d->dirty;
        perf_strlcpy(run->compiler, d->compiler, sizeof run->compiler);
        perf_strlcpy(run->cflags, d->cflags, sizeof run->cflags);
    }
    perf_strlcpy(run->suite, s->name, sizeof run->suite);
    perf_strlcpy(run->suite_path, s->path, sizeof run->suite_path);
    run->suite_text = s->text; /* borrowed, as above */
    perf_samples_sync_mode(&side->samples, run->sync_mode, sizeof run->sync_mode);
    if (!run->sync_mode[0])
        perf_strlcpy(run->sync_mode, s->sync, sizeof run->sync_mode);
    for (char *p = run->sync_mode; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    perf_strlcpy(run->bench_bin, side->bin ? side->bin : "", sizeof run->bench_bin);
    perf_strlcpy(run->bench_args, side->first_args, sizeof run->bench_args);
    run->inject_slowdown = side->inject_pct;
    run->duration_s = side->seconds;
}
