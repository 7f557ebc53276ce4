/* perf/lookback.c — check's between-run test over the history (lookback.h). */
#include "perf/lookback.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perf/pairing.h"
#include "perf/proc.h"
#include "perf/stats.h"
#include "perf/stats_between.h"

/* y of one run for series k: mean over its processes of log(median). */
static int run_y(const perf_sample_set *s, const perf_series_key *k, double *y, double *se,
                 size_t *np)
{
    double *med;
    size_t n;
    if (perf_samples_proc_medians(s, k, &med, &n))
        return -1;
    *np = n;
    if (!n)
        return 0;
    double sum = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(med[i] > 0)) {
            free(med);
            *np = 0;
            return 0;
        }
        med[i] = log(med[i]);
        sum += med[i];
    }
    *y = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (med[i] - *y) * (med[i] - *y);
    *se = n > 1 ? sqrt(ss / (double)(n - 1) / (double)n) : 0;
    free(med);
    return 0;
}

static void decide(perf_verdict_result *v, double alpha, double floor)
{
    v->reps_needed = 0;
    if (v->p_value < alpha && v->g_hi < v->limit) {
        v->verdict = PERF_VERDICT_REGRESSION;
        v->reason = "between runs: significant, and the whole interval is beyond the limit";
    } else if (v->p_value < alpha && v->g_lo > 1.0 + floor) {
        v->verdict = PERF_VERDICT_IMPROVEMENT;
        v->reason = "between runs: significant, and the whole interval is above the floor";
    } else if (v->p_value < alpha && v->g < v->limit) {
        v->verdict = PERF_VERDICT_INCONCLUSIVE;
        v->reason = "between runs: a slowdown is proven but its interval reaches the limit";
    } else {
        v->verdict = PERF_VERDICT_SAME;
        v->reason = "between runs: no change beyond the history's spread";
    }
}

typedef struct tested {
    size_t row;
    double p;
} tested;

static int cmp_tested(const void *a, const void *b)
{
    double x = ((const tested *)a)->p, y = ((const tested *)b)->p;
    return (x > y) - (x < y);
}

int perf_lookback_comparable(const perf_run_info *head, const perf_run_info *r, int64_t upto,
                             const char *ancestors)
{
    if (r->id >= head->id || r->id > upto || r->dirty != 0 || r->inject_slowdown > 0)
        return 0;
    if (head->suite_text && r->suite_text && strcmp(head->suite_text, r->suite_text))
        return 0;
    if (ancestors) {
        size_t n = strlen(r->commit);
        if (n != 40)
            return 0;
        for (const char *p = ancestors; (p = strstr(p, r->commit)); p += n)
            if ((p == ancestors || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
                return 1;
        return 0;
    }
    return 1;
}

/* The head commit's first-parent line (newest first), malloc'd; NULL when
 * git cannot say (no repository, unknown commit). */
static char *first_parent_line(const char *repo, const char *commit)
{
    if (!repo || !repo[0] || strlen(commit) != 40)
        return NULL;
    /* 41 bytes a commit; 5000 commits reach far past a 20-run window. */
    size_t cap = 5000 * 41 + 1;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    char c[41];
    perf_strlcpy(c, commit, sizeof c);
    char *argv[] = {"git", "-C", (char *)repo, "rev-list", "--first-parent", "--max-count=5000",
                    c, NULL};
    perf_error e2;
    if (perf_proc_capture(argv, NULL, buf, cap, "/dev/null", &e2) != 0 || !buf[0]) {
        free(buf);
        return NULL;
    }
    return buf;
}

int perf_lookback_apply(perf_history *h, const char *repo, const perf_run_info *head,
                        const perf_sample_set *head_samples, int64_t upto, double alpha,
                        perf_comparison *cmp, perf_error *e)
{
    char *anc = first_parent_line(repo, head->commit);
    perf_run_info *runs = NULL;
    size_t nr = 0, nw = 0, kmax = 0, nt = 0;
    perf_sample_set *win = NULL;
    double *y = NULL;
    tested *t = NULL;
    int rc = -1;
    perf_run_filter f = {.kind = "run", .machine_id = head->machine_id,
                         .sync_mode = head->sync_mode, .suite = head->suite, .limit = 200};
    if (perf_history_list_runs(h, &f, &runs, &nr, e)) {
        free(anc);
        return -1;
    }
    /* The newest comparable runs before the head, oldest first. */
    int64_t ids[PERF_BETWEEN_MAX_RUNS];
    for (size_t i = nr; i-- > 0 && nw < PERF_BETWEEN_MAX_RUNS;) {
        const perf_run_info *r = &runs[i];
        if (!perf_lookback_comparable(head, r, upto, anc))
            continue;
        ids[PERF_BETWEEN_MAX_RUNS - 1 - nw++] = r->id;
    }
    const int64_t *wid = ids + (PERF_BETWEEN_MAX_RUNS - nw);
    win = calloc(nw ? nw : 1, sizeof *win);
    y = malloc((nw ? nw : 1) * sizeof *y);
    t = malloc((cmp->n ? cmp->n : 1) * sizeof *t);
    if (!win || !y || !t) {
        perf_seterr(e, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nw; i++)
        if (perf_history_load_samples(h, wid[i], &win[i], e))
            goto out;
    for (size_t ri = 0; ri < cmp->n; ri++) {
        perf_cmp_row *r = &cmp->rows[ri];
        if (r->status != PERF_ROW_OK || r->overhead || perf_row_is_count(r))
            continue;
        perf_series_key k;
        memset(&k, 0, sizeof k);
        perf_strlcpy(k.benchmark, r->benchmark, sizeof k.benchmark);
        perf_strlcpy(k.engine, r->engine, sizeof k.engine);
        perf_strlcpy(k.metric, r->metric, sizeof k.metric);
        k.threads = r->threads;
        double yh, se;
        size_t np, kk = 0;
        if (run_y(head_samples, &k, &yh, &se, &np))
            goto oom;
        if (!np)
            continue;
        for (size_t i = 0; i < nw; i++) {
            double yi, sei;
            size_t npi;
            if (run_y(&win[i], &k, &yi, &sei, &npi))
                goto oom;
            if (npi)
                y[kk++] = yi;
        }
        /* A level that moved on purpose is not noise: keep the window
         * after the last change point. */
        size_t from = 0;
        if (kk >= 10) {
            perf_edivisive_opts eo;
            perf_edivisive_opts_default(&eo);
            perf_change_point cp[PERF_BETWEEN_MAX_RUNS];
            size_t ncp = 0;
            int erc = perf_edivisive(y, kk, &eo, cp, PERF_BETWEEN_MAX_RUNS, &ncp);
            if ((erc == PERF_STAT_OK || erc == PERF_STAT_ERANGE) && ncp)
                from = cp[ncp - 1].index;
        }
        size_t K = kk - from;
        if (K < PERF_BETWEEN_MIN_RUNS) {
            char old[160];
            perf_strlcpy(old, r->note, sizeof old);
            perf_fmt(r->note, sizeof r->note,
                     "insufficient history: %zu of %d comparable runs; within-run test only "
                     "(blind to between-run drift)%s%s", K, PERF_BETWEEN_MIN_RUNS,
                     old[0] ? "; " : "", old);
            continue;
        }
        perf_between_result b;
        if (perf_between_test(y + from, K, yh, 1, se, r->direction > 0, alpha, &b))
            continue;
        r->v.g = b.g;
        r->v.g_lo = b.g_lo;
        r->v.g_hi = b.g_hi;
        r->v.p_value = b.p;
        r->v.p_exact = 0;
        r->v.median_base = exp(b.centre);
        r->v.n_base = K;
        r->mde90 = 0;
        perf_fmt(r->note, sizeof r->note,
                 "between runs: %zu-run window%s%s, sd %.1f%%/run, t %.2f (df %.0f)", K,
                 from ? " after a change point" : "",
                 anc ? "" : " (ancestry unknown: not filtered to first parents)", 100 * b.s,
                 b.t, b.df);
        t[nt++] = (tested){ri, b.p};
        if (K > kmax)
            kmax = K;
    }
    /* Holm across the rows tested: 18 series must not get 18 chances. */
    qsort(t, nt, sizeof *t, cmp_tested);
    double run = 0;
    for (size_t j = 0; j < nt; j++) {
        double adj = t[j].p * (double)(nt - j);
        adj = adj > 1 ? 1 : adj;
        run = adj > run ? adj : run;
        perf_cmp_row *r = &cmp->rows[t[j].row];
        r->v.p_value = run;
        decide(&r->v, alpha, r->noise_floor);
    }
    perf_comparison_tally(cmp);
    rc = (int)kmax;
    goto out;
oom:
    perf_seterr(e, "out of memory");
out:
    for (size_t i = 0; win && i < nw; i++)
        perf_samples_free(&win[i]);
    free(win);
    free(y);
    free(t);
    perf_run_infos_free(runs, nr);
    free(anc);
    return rc;
}
