/* perf/comment.c — the verdict as a short pull-request comment
 * (comment.h). */
#include "perf/comment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perf/markup.h"
#include "perf/report.h"
#include "perf/sample.h"

static const char *badge(int exit_code)
{
    switch (exit_code) {
    case 0: return "PASS";
    case 1: return "REGRESSION";
    case 3: return "INCONCLUSIVE";
    default: return "ERROR";
    }
}

static double change_pct(const perf_cmp_row *r)
{
    return r->v.median_base > 0 ? (r->v.median_head / r->v.median_base - 1) * 100 : NAN;
}

static void row_name(FILE *f, const perf_cmp_row *r)
{
    char name[200];
    perf_series_name(r->benchmark, r->engine, r->threads, name, sizeof name);
    fputc('`', f);
    perf_gfm_escape(f, name);
    if (r->overhead) {
        fputs(" vs ", f);
        perf_gfm_escape(f, r->versus);
    }
    fputs("` ", f);
    perf_gfm_escape(f, r->metric);
}

/* One bullet above the fold: what it is, how big, how sure. */
static void bullet(FILE *f, const perf_comparison *c, const perf_cmp_row *r)
{
    fprintf(f, "- **%s** ", perf_row_word(r));
    row_name(f, r);
    if (r->status != PERF_ROW_OK) {
        fputs(": ", f);
        perf_gfm_escape(f, r->note);
        fputc('\n', f);
        return;
    }
    fprintf(f, ": %s%+.1f%%%s (g %.3f, %s [%.3f, %.3f], limit %.3f)",
            r->v.verdict == PERF_VERDICT_REGRESSION ? "**" : "", change_pct(r),
            r->v.verdict == PERF_VERDICT_REGRESSION ? "**" : "", r->v.g,
            perf_row_is_count(r) ? "counts, exact" : "99% CI", r->v.g_lo, r->v.g_hi, r->v.limit);
    if (r->v.verdict == PERF_VERDICT_INCONCLUSIVE)
        fprintf(f, "; ~%u reps/side would decide", r->v.reps_needed);
    if (!perf_row_gates(c, r))
        fprintf(f, " (not gating)");
    fputc('\n', f);
}

static int headline_row(const perf_comparison *c, const perf_cmp_row *r)
{
    if (!perf_row_gates(c, r))
        return 0;
    if (r->status == PERF_ROW_NO_HEAD || r->status == PERF_ROW_ERROR)
        return 1;
    return r->status == PERF_ROW_OK && (r->v.verdict == PERF_VERDICT_REGRESSION ||
                                        r->v.verdict == PERF_VERDICT_INCONCLUSIVE);
}

static void table(FILE *f, const perf_comparison *c, const size_t *ix, size_t n)
{
    fprintf(f, "| verdict | series | base | head | change | g [CI] | p | limit | note |\n"
               "|---|---|---:|---:|---:|---|---:|---:|---|\n");
    for (size_t k = 0; k < n; k++) {
        const perf_cmp_row *r = &c->rows[ix[k]];
        fprintf(f, "| %s%s | ", perf_row_word(r), perf_row_gates(c, r) ? "" : " (not gating)");
        row_name(f, r);
        if (r->status != PERF_ROW_OK) {
            fprintf(f, " | | | | | | | ");
            perf_gfm_escape(f, r->note);
            fprintf(f, " |\n");
            continue;
        }
        char b[32], h[32], p[24];
        perf_fmt_value(r->v.median_base, r->unit, b, sizeof b);
        perf_fmt_value(r->v.median_head, r->unit, h, sizeof h);
        if (isnan(r->v.p_value))
            perf_fmt(p, sizeof p, "-");
        else
            perf_fmt(p, sizeof p, "%.2g", r->v.p_value);
        fprintf(f, " | %s | %s | %+.1f%% | %.3f [%.3f, %.3f] | %s | %.3f | ", b, h, change_pct(r),
                r->v.g, r->v.g_lo, r->v.g_hi, p, r->v.limit);
        if (r->v.verdict == PERF_VERDICT_INCONCLUSIVE)
            fprintf(f, "~%u reps/side would decide. ", r->v.reps_needed);
        perf_gfm_escape(f, r->note);
        fprintf(f, " |\n");
    }
}

static int write_comparison(FILE *f, const perf_outcome *o, const perf_comparison *c)
{
    fprintf(f, "%u regression%s, %u could not be judged, %u inconclusive, %u improvement%s, "
               "%u same",
            c->regressions, c->regressions == 1 ? "" : "s", c->errors, c->inconclusive,
            c->improvements, c->improvements == 1 ? "" : "s", c->same);
    if (c->ungated)
        fprintf(f, ", %u not gating", c->ungated);
    fprintf(f, " (%zu rows, gate %s).\n", c->n, perf_gate_on_name(c->gate_on));
    if (c->forced) {
        fprintf(f, "\n> **FORCED** comparison across machines or sync modes: ");
        perf_gfm_escape(f, c->mismatch);
        fputc('\n', f);
    }
    size_t n = 0;
    int oom = 0;
    size_t *ix = perf_outcome_order(c, &n, &oom);
    if (oom)
        return -1;
    size_t shown = 0, more = 0;
    for (size_t k = 0; k < n; k++) {
        if (!headline_row(c, &c->rows[ix[k]]))
            continue;
        if (shown == 0)
            fputc('\n', f);
        if (shown < PERF_COMMENT_TOP_ROWS) {
            bullet(f, c, &c->rows[ix[k]]);
            shown++;
        } else {
            more++;
        }
    }
    if (more)
        fprintf(f, "- ... and %zu more below\n", more);
    fprintf(f, "\n<details><summary>All %zu rows (base run %lld, head run %lld)</summary>\n\n",
            c->n, (long long)c->base_run, (long long)c->head_run);
    fprintf(f, "Base: ");
    perf_gfm_escape(f, c->base_label);
    fprintf(f, "<br>\nHead: ");
    perf_gfm_escape(f, c->head_label);
    fprintf(f, "\n\n");
    table(f, c, ix, n);
    free(ix);
    fprintf(f, "\ng = head/base (base/head when lower is better): below 1 is worse. A "
               "regression needs p < 0.01 and the whole 99%% interval below the limit; count "
               "rows are exact ratios (p -).");
    if (o->report_url) {
        fprintf(f, " Full report: ");
        perf_gfm_escape(f, o->report_url);
    }
    fprintf(f, "\n\n</details>\n");
    return 0;
}

static void write_trend(FILE *f, const perf_outcome *o)
{
    size_t cps = 0, worse = 0;
    for (size_t i = 0; i < o->ntrends; i++)
        for (size_t j = 0; j < o->trends[i].ncp; j++) {
            cps++;
            worse += !strcmp(perf_step_word(o->trends[i].cp[j].rel_step, o->trends[i].direction),
                             "worse");
        }
    fprintf(f, "%zu series, %zu change point%s (%zu worse).\n\n", o->ntrends, cps,
            cps == 1 ? "" : "s", worse);
    for (size_t i = 0; i < o->ntrends; i++) {
        const perf_trend *t = &o->trends[i];
        for (size_t j = 0; j < t->ncp; j++) {
            const perf_series_point *p = &t->pts[t->cp[j].index];
            char name[200], b[32], a[32];
            perf_series_name(t->key.benchmark, t->key.engine, t->key.threads, name, sizeof name);
            perf_fmt_value(t->cp[j].median_before, t->unit, b, sizeof b);
            perf_fmt_value(t->cp[j].median_after, t->unit, a, sizeof a);
            fprintf(f, "- **%s** `", perf_step_word(t->cp[j].rel_step, t->direction));
            perf_gfm_escape(f, name);
            fprintf(f, "` ");
            perf_gfm_escape(f, t->key.metric);
            fprintf(f, ": %s -> %s (%+.1f%%) at run %lld, commit `%.12s`, p = %.3f\n", b, a,
                    t->cp[j].rel_step * 100, (long long)p->run_id,
                    p->commit[0] ? p->commit : "unknown", t->cp[j].p_value);
        }
    }
}

int perf_comment_write(FILE *f, const perf_outcome *o)
{
    const char *cmd = o->command ? o->command : "perf";
    int is_trend = !strcmp(cmd, "trend"), is_bisect = !strcmp(cmd, "bisect");
    fprintf(f, "%s\n", PERF_COMMENT_MARKER);
    if (is_trend)
        fprintf(f, "### Lightning perf trend (exit %d)\n\n", o->exit_code);
    else if (is_bisect && o->first_bad)
        fprintf(f, "### Lightning perf bisect: first bad commit `%.12s` (exit %d)\n\n",
                o->first_bad, o->exit_code);
    else
        fprintf(f, "### Lightning perf %s: **%s** (exit %d)\n\n", cmd, badge(o->exit_code),
                o->exit_code);
    if (o->message) {
        perf_gfm_escape(f, o->message);
        fprintf(f, "\n\n");
    }
    if (is_bisect && o->first_bad && o->first_bad_subject) {
        fputc('`', f);
        perf_gfm_escape(f, o->first_bad);
        fprintf(f, "` ");
        perf_gfm_escape(f, o->first_bad_subject);
        fprintf(f, "\n\n");
    }
    if (is_trend) {
        write_trend(f, o);
    } else if (o->cmp) {
        if (is_bisect)
            fprintf(f, "Bad against good, benchmark `%s`: ", o->benchmark ? o->benchmark : "?");
        if (write_comparison(f, o, o->cmp))
            return -1;
    }
    if (is_bisect && o->nsteps) {
        fprintf(f, "\n<details><summary>%zu bisection step%s</summary>\n\n"
                   "| commit | g [CI] | rounds | verdict |\n|---|---|---:|---|\n",
                o->nsteps, o->nsteps == 1 ? "" : "s");
        for (size_t i = 0; i < o->nsteps; i++) {
            const perf_bisect_step *s = &o->steps[i];
            if (s->rounds)
                fprintf(f, "| `%.12s` | %.3f [%.3f, %.3f] | %u | ", s->sha, s->g, s->g_lo,
                        s->g_hi, s->rounds);
            else
                fprintf(f, "| `%.12s` | - | 0 | ", s->sha);
            perf_gfm_escape(f, s->verdict);
            fprintf(f, " |\n");
        }
        fprintf(f, "\n</details>\n");
    }
    return ferror(f) ? -1 : 0;
}
