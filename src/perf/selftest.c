/* perf/selftest.c — measured false-alarm rate and power (selftest.h). */
#include "perf/selftest.h"

#include <stdlib.h>
#include <string.h>

#include "perf/progress.h"

#define MAX_ROWS 64

typedef struct tally {
    char name[140];
    unsigned aa_reg, aa_inc, aa_n, inj_reg, inj_inc, inj_n;
} tally;

static tally *row_tally(tally *t, size_t *nt, const perf_cmp_row *r)
{
    char name[140];
    perf_fmt(name, sizeof name, "%s %s", r->benchmark, r->metric);
    for (size_t i = 0; i < *nt; i++)
        if (!strcmp(t[i].name, name))
            return &t[i];
    if (*nt == MAX_ROWS)
        return NULL;
    tally *x = &t[(*nt)++];
    memset(x, 0, sizeof *x);
    perf_strlcpy(x->name, name, sizeof x->name);
    return x;
}

/* One ab as `lightning perf ab` runs it: extended while INCONCLUSIVE. */
static int one_ab(const perf_selftest_opts *o, double freeze, perf_ab_result *r, double *secs,
                  perf_error *e)
{
    perf_ab_opts ao = o->ab;
    ao.head_freeze = freeze;
    double t0 = perf_now();
    int rc = perf_ab_run(&ao, r, e);
    while (!rc && perf_ab_wants_more(&ao, r) && r->rounds < o->max_rounds) {
        unsigned more = r->rounds + r->rounds > o->max_rounds ? o->max_rounds - r->rounds
                                                              : r->rounds;
        rc = perf_ab_extend(&ao, r, more, e);
    }
    *secs = perf_now() - t0;
    return rc;
}

int perf_selftest(const perf_selftest_opts *o, FILE *out, perf_error *e)
{
    tally t[MAX_ROWS];
    size_t nt = 0;
    unsigned exits[2][4] = {{0}};
    double tmin[2] = {1e300, 1e300}, tmax[2] = {0, 0}, ttot = 0;
    double start = perf_now();
    for (int kind = 0; kind < 2; kind++) {
        for (unsigned i = 0; i < o->runs; i++) {
            perf_ab_result r;
            double secs;
            fprintf(out, "selftest: %s %u/%u ...", kind ? "frozen head" : "A/A", i + 1, o->runs);
            fflush(out);
            if (one_ab(o, kind ? o->freeze_pct : 0, &r, &secs, e)) {
                fprintf(out, "\n");
                perf_ab_result_free(&r);
                return -1;
            }
            ttot += secs;
            tmin[kind] = secs < tmin[kind] ? secs : tmin[kind];
            tmax[kind] = secs > tmax[kind] ? secs : tmax[kind];
            int ec = r.cmp.exit_code;
            exits[kind][ec >= 0 && ec < 4 ? ec : 2]++;
            /* The load is part of the result: the rates hold for the
             * machine as it was while they were measured. */
            double la[3] = {0, 0, 0};
            int nla = getloadavg(la, 3);
            fprintf(out, " exit %d, %u rounds, %.0f s, load %.2f %.2f %.2f", ec, r.rounds, secs,
                    la[0], la[1], la[2]);
            for (size_t k = 0; k < r.cmp.n; k++) {
                const perf_cmp_row *row = &r.cmp.rows[k];
                if (row->status == PERF_ROW_OK && !perf_row_is_count(row) && row->paired)
                    fprintf(out, "; %s %s", row->benchmark,
                            perf_verdict_name(row->v.verdict));
            }
            fprintf(out, "%s\n", nla < 3 ? " (load unknown)" : "");
            for (size_t k = 0; k < r.cmp.n; k++) {
                const perf_cmp_row *row = &r.cmp.rows[k];
                if (row->status != PERF_ROW_OK || perf_row_is_count(row))
                    continue;
                tally *x = row_tally(t, &nt, row);
                if (!x)
                    continue;
                int reg = row->v.verdict == PERF_VERDICT_REGRESSION;
                int inc = row->v.verdict == PERF_VERDICT_INCONCLUSIVE;
                if (kind) {
                    x->inj_n++, x->inj_reg += reg, x->inj_inc += inc;
                } else {
                    x->aa_n++, x->aa_reg += reg, x->aa_inc += inc;
                }
            }
            perf_ab_result_free(&r);
        }
    }
    fprintf(out, "\nselftest: %u A/A and %u comparisons with the head frozen %g%% of its wall "
                 "time (a slowdown counts cannot see), suite %s, %.0f s in all\n",
            o->runs, o->runs, o->freeze_pct, o->ab.suite->name, perf_now() - start);
    /* A frozen row that is INCONCLUSIVE proved a slowdown it could not
     * size: the gate fails, but it is not a detection at the limit. */
    fprintf(out, "%-40s %16s %16s %18s %18s\n", "wall-clock row", "A/A REGRESSION",
            "A/A INCONCL.", "frozen: REGRESSION", "frozen: INCONCL.");
    for (size_t i = 0; i < nt; i++)
        fprintf(out, "%-40s %9u of %-4u %9u of %-4u %11u of %-4u %11u of %-4u\n", t[i].name,
                t[i].aa_reg, t[i].aa_n, t[i].aa_inc, t[i].aa_n, t[i].inj_reg, t[i].inj_n,
                t[i].inj_inc, t[i].inj_n);
    for (int kind = 0; kind < 2; kind++)
        fprintf(out, "%s exits: %u pass, %u regression, %u error, %u inconclusive; %.0f-%.0f s "
                     "each\n",
                kind ? "frozen" : "A/A   ", exits[kind][0], exits[kind][1], exits[kind][2],
                exits[kind][3], o->runs ? tmin[kind] : 0, o->runs ? tmax[kind] : 0);
    unsigned aa_rows = 0, aa_false = 0, inj_rows = 0, inj_hit = 0;
    for (size_t i = 0; i < nt; i++) {
        aa_rows += t[i].aa_n, aa_false += t[i].aa_reg;
        inj_rows += t[i].inj_n, inj_hit += t[i].inj_reg;
    }
    fprintf(out, "false-alarm rate: %u of %u A/A rows (%.1f%%); power at %g%%: %u of %u "
                 "frozen rows (%.1f%%); measured here, now, under this machine's load\n",
            aa_false, aa_rows, aa_rows ? 100.0 * aa_false / aa_rows : 0, o->freeze_pct, inj_hit,
            inj_rows, inj_rows ? 100.0 * inj_hit / inj_rows : 0);
    (void)ttot;
    return 0;
}
