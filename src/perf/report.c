/* perf/report.c — terminal, Markdown and HTML/SVG output (see report.h). */
#include "perf/markup.h"
#include "perf/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perf/metrics.h"
#include "perf/compare.h"
#include "perf/chart.h"
#include "perf/forest.h"
#include "perf/outcome.h"
#include "perf/stats.h"

/* ---- numbers ----------------------------------------------------------- */

void perf_fmt_value(double v, const char *unit, char *out, size_t cap)
{
    const char *u = unit ? unit : "";
    double a = fabs(v);
    if (v != v) {
        perf_fmt(out, cap, "-");
        return;
    }
    if (!strcmp(u, "bytes")) {
        static const char *const suf[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        int i = 0;
        while (a >= 1024 && i < 4) {
            a /= 1024;
            v /= 1024;
            i++;
        }
        perf_fmt(out, cap, i ? "%.3g %s" : "%.4g %s", v, suf[i]);
        return;
    }
    if (!strcmp(u, "ns") && a >= 1e4) {
        if (a >= 1e9)
            perf_fmt(out, cap, "%.3g s", v / 1e9);
        else if (a >= 1e6)
            perf_fmt(out, cap, "%.3g ms", v / 1e6);
        else
            perf_fmt(out, cap, "%.3g us", v / 1e3);
        return;
    }
    const char *sp = u[0] ? " " : "";
    if (a >= 1e9)
        perf_fmt(out, cap, "%.3gG%s%s", v / 1e9, sp, u);
    else if (a >= 1e6)
        perf_fmt(out, cap, "%.3gM%s%s", v / 1e6, sp, u);
    else if (a >= 1e4)
        perf_fmt(out, cap, "%.3gk%s%s", v / 1e3, sp, u);
    else
        perf_fmt(out, cap, "%.4g%s%s", v, sp, u);
}

static void series_label(const perf_cmp_row *r, char *out, size_t cap)
{
    if (r->overhead)
        perf_fmt(out, cap, "%s/%s vs %s", r->benchmark, r->engine[0] ? r->engine : "-",
                 r->versus[0] ? r->versus : "?");
    else if (!r->engine[0])
        perf_fmt(out, cap, "[%s]", r->rule);
    else
        perf_series_name(r->benchmark, r->engine, r->threads, out, cap);
}

static double change_pct(const perf_cmp_row *r)
{
    if (!(r->v.median_base > 0))
        return NAN;
    return (r->v.median_head / r->v.median_base - 1.0) * 100.0;
}

/* ---- terminal ---------------------------------------------------------- */

void perf_report_summary_line(FILE *f, const perf_comparison *c)
{
    fprintf(f, "%s: %u regression%s, %u improvement%s, %u inconclusive, %u same", c->kind,
            c->regressions, c->regressions == 1 ? "" : "s", c->improvements,
            c->improvements == 1 ? "" : "s", c->inconclusive, c->same);
    if (c->errors)
        fprintf(f, ", %u could not be judged", c->errors);
    if (c->ungated)
        fprintf(f, ", %u not gating (gate_on = %s)", c->ungated, perf_gate_on_name(c->gate_on));
    fprintf(f, " -> exit %d", c->exit_code);
    switch (c->exit_code) {
    case PERF_EXIT_PASS: fprintf(f, " (pass)\n"); break;
    case PERF_EXIT_REGRESSION: fprintf(f, " (regression)\n"); break;
    case PERF_EXIT_ERROR: fprintf(f, " (some benchmarks could not be judged)\n"); break;
    case PERF_EXIT_INCONCLUSIVE:
        if (c->reps_needed)
            fprintf(f, " (inconclusive: too noisy to decide; about %u repetitions per side "
                       "would decide)\n", c->reps_needed);
        else
            fprintf(f, " (inconclusive: a slowdown is proven but not sized; each such row's "
                       "note says what it resolves and how long a run resolving 5%% takes)\n");
        break;
    default: fprintf(f, "\n");
    }
}

int perf_report_rows(FILE *f, const perf_comparison *c)
{
    if (c->forced)
        fprintf(f, "WARNING: FORCED comparison (--force): %s\n", c->mismatch);
    else if (c->mismatch[0])
        fprintf(f, "note: %s\n", c->mismatch);
    fprintf(f, "%-34s %-15s %12s %12s %8s %17s %9s %6s %6s  %s\n", "benchmark", "metric", "base",
            "head", "change", "g [99% CI]", "p", "limit", "mde90", "verdict");
    for (size_t i = 0; i < c->n; i++) {
        const perf_cmp_row *r = &c->rows[i];
        char name[128], b[32], h[32], ch[16], ci[40], p[16], lim[16], mde[16];
        series_label(r, name, sizeof name);
        if (r->status != PERF_ROW_OK) {
            fprintf(f, "%-34s %-15s %12s %12s %8s %17s %9s %6s %6s  %s  (%s)\n", name, r->metric,
                    "-", "-", "-", "-", "-", "-", "-", perf_row_word(r), r->note);
            continue;
        }
        perf_fmt_value(r->v.median_base, r->unit, b, sizeof b);
        perf_fmt_value(r->v.median_head, r->unit, h, sizeof h);
        perf_fmt(ch, sizeof ch, "%+.1f%%", change_pct(r));
        perf_fmt(ci, sizeof ci, "%.3f [%.3f,%.3f]", r->v.g, r->v.g_lo, r->v.g_hi);
        if (isnan(r->v.p_value)) /* deterministic counts: no test */
            perf_fmt(p, sizeof p, "-");
        else
            perf_fmt(p, sizeof p, r->v.p_value < 1e-4 ? "%.0e" : "%.4f", r->v.p_value);
        perf_fmt(lim, sizeof lim, "%.3f", r->v.limit);
        if (r->mde90 > 0)
            perf_fmt(mde, sizeof mde, "%.0f%%", r->mde90 * 100);
        else
            perf_fmt(mde, sizeof mde, r->mde90 < 0 ? ">50%%" : "-");
        fprintf(f, "%-34s %-15s %12s %12s %8s %17s %9s %6s %6s  %s", name, r->metric, b, h, ch,
                ci, p, lim, mde, perf_row_word(r));
        if (r->v.verdict == PERF_VERDICT_INCONCLUSIVE && r->v.reps_needed)
            fprintf(f, " (~%u reps/side would decide)", r->v.reps_needed);
        if (!perf_row_gates(c, r))
            fprintf(f, " (not gating: gate_on = %s)", perf_gate_on_name(c->gate_on));
        if (r->note[0])
            fprintf(f, "  [%s]", r->note);
        fputc('\n', f);
    }
    fprintf(f, "g = head/base (base/head when lower is better): < 1 is worse. limit = 1 - "
               "max(tolerance, noise floor). mde90 = slowdown caught 90%% of the time at this "
               "noise and n. Count rows (instr/op, misses/op, cycles/op) are deterministic: "
               "g is their plain ratio, limit = 1 - counts threshold, no test (p -).\n");
    return ferror(f) ? -1 : 0;
}

int perf_report_table(FILE *f, const perf_comparison *c)
{
    perf_report_rows(f, c);
    perf_report_summary_line(f, c);
    return ferror(f) ? -1 : 0;
}

static int shown_metric(const perf_suite *suite, const perf_series_key *k)
{
    if (!suite)
        return !strcmp(k->metric, "ops_per_sec");
    for (size_t i = 0; i < suite->nb; i++)
        if (perf_suite_gates_metric(&suite->b[i], k->metric) &&
            perf_suite_bench_matches(suite, &suite->b[i], k->benchmark, k->engine, k->threads))
            return 1;
    return 0;
}

int perf_report_run_table(FILE *f, const perf_sample_set *s, const perf_suite *suite)
{
    perf_series_key *keys;
    size_t nk;
    if (perf_samples_series(s, &keys, &nk))
        return -1;
    fprintf(f, "%-34s %-16s %14s %7s %5s %12s %12s\n", "benchmark", "metric", "median", "cv",
            "n", "p50", "p99");
    for (size_t i = 0; i < nk; i++) {
        /* The table shows the figures the suite judges; latency percentiles
         * appear as columns, and everything else is in the history and the
         * HTML report. */
        if (!shown_metric(suite, &keys[i]))
            continue;
        size_t n;
        const perf_sample *first;
        double *v = perf_samples_values(s, &keys[i], 0, &n, &first);
        if (!v)
            continue;
        double med = 0;
        perf_median(v, n, &med);
        double cv = perf_robust_cv(v, n);
        free(v);
        char name[128], m[32], p50[32] = "-", p99[32] = "-";
        perf_series_name(keys[i].benchmark, keys[i].engine, keys[i].threads, name, sizeof name);
        perf_fmt_value(med, first ? first->unit : "", m, sizeof m);
        if (!strcmp(keys[i].metric, "ops_per_sec")) {
            perf_series_key k = keys[i];
            static const char *const lat[2] = {"latency_p50_ns", "latency_p99_ns"};
            char *outs[2] = {p50, p99};
            for (int j = 0; j < 2; j++) {
                perf_strlcpy(k.metric, lat[j], sizeof k.metric);
                size_t ln;
                double *lv = perf_samples_values(s, &k, 0, &ln, NULL);
                if (lv) {
                    double lm;
                    perf_median(lv, ln, &lm);
                    perf_fmt_value(lm, "ns", outs[j], 32);
                    free(lv);
                }
            }
        }
        fprintf(f, "%-34s %-16s %14s %6.1f%% %5zu %12s %12s\n", name, keys[i].metric, m,
                cv * 100, n, p50, p99);
    }
    free(keys);
    return ferror(f) ? -1 : 0;
}

int perf_report_trend_text(FILE *f, const perf_trend *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const perf_trend *s = &t[i];
        char name[128], last[32];
        perf_series_name(s->key.benchmark, s->key.engine, s->key.threads, name, sizeof name);
        perf_fmt_value(s->n ? s->pts[s->n - 1].median : NAN, s->unit, last, sizeof last);
        fprintf(f, "%s %s: %zu runs, latest %s\n", name, s->key.metric, s->n, last);
        if (!s->cp_ok)
            fprintf(f, "  change points: need >= 10 runs (have %zu)\n", s->n);
        else if (!s->ncp)
            fprintf(f, "  change points: none (E-Divisive, alpha 0.05)\n");
        for (size_t j = 0; j < s->ncp; j++) {
            const perf_change_point *c = &s->cp[j];
            const perf_series_point *p = &s->pts[c->index];
            char b[32], a[32];
            perf_fmt_value(c->median_before, s->unit, b, sizeof b);
            perf_fmt_value(c->median_after, s->unit, a, sizeof a);
            fprintf(f, "  change point at run %lld (commit %.12s%s, %s): %s -> %s (%+.1f%%, %s), "
                       "p = %.3f\n",
                    (long long)p->run_id, p->commit[0] ? p->commit : "unknown",
                    p->dirty > 0 ? "+dirty" : "", p->created_at, b, a, c->rel_step * 100,
                    perf_step_word(c->rel_step, s->direction), c->p_value);
        }
        if (s->drift_ok)
            fprintf(f, "  drift: %+.3f%% per run (%+.1f%% over the window), Mann-Kendall p = "
                       "%.3f%s\n",
                    s->drift.slope_rel * 100, s->drift_total * 100, s->drift.p_value,
                    s->drift.p_value < 0.05 ? " -- significant" : "");
    }
    return ferror(f) ? -1 : 0;
}

/* ---- Markdown ---------------------------------------------------------- */

static void md_run(FILE *f, const perf_run_info *r)
{
    fprintf(f, "run %lld, %s, commit `%.12s%s`, suite `%s`, sync `%s`, machine `%s`",
            (long long)r->id, r->created_at, r->commit[0] ? r->commit : "unknown",
            r->dirty > 0 ? "+dirty" : "", r->suite, r->sync_mode, r->machine_id);
}

static const char *verdict_badge(const perf_comparison *c)
{
    switch (c->exit_code) {
    case PERF_EXIT_PASS: return "PASS";
    case PERF_EXIT_REGRESSION: return "REGRESSION";
    case PERF_EXIT_INCONCLUSIVE: return "INCONCLUSIVE";
    default: return "ERROR";
    }
}

int perf_report_markdown(FILE *f, const perf_report_input *in)
{
    fprintf(f, "# %s\n\n", in->title ? in->title : "Lightning DB performance report");
    fprintf(f, "Generated %s from `%s`.\n\n", in->generated_at ? in->generated_at : "",
            in->history_path ? in->history_path : "");
    if (in->run) {
        fprintf(f, "Latest: ");
        md_run(f, in->run);
        fprintf(f, ".\n\n");
    }
    const perf_comparison *c = in->cmp;
    if (c) {
        fprintf(f, "## Last comparison: %s — **%s** (exit %d)\n\n", c->kind, verdict_badge(c),
                c->exit_code);
        if (c->forced)
            fprintf(f, "> **FORCED comparison** (`--force`): %s. Treat the verdicts with "
                       "suspicion.\n\n", c->mismatch);
        fprintf(f, "Base: %s  \nHead: %s\n\n", c->base_label, c->head_label);
        /* Regressions first, and the note in its own column: a reader
         * scanning for what failed should not have to read 28 rows. */
        fprintf(f, "| verdict | benchmark | metric | base | head | change | g [99%% CI] | p | "
                   "limit | note |\n|---|---|---|---:|---:|---:|---|---:|---:|---|\n");
        size_t norder = 0;
        int oom = 0;
        size_t *order = perf_outcome_order(c, &norder, &oom);
        if (oom)
            return -1;
        for (size_t oi = 0; oi < norder; oi++) {
            const perf_cmp_row *r = &c->rows[order[oi]];
            char name[128], b[32], h[32];
            series_label(r, name, sizeof name);
            if (r->status != PERF_ROW_OK) {
                fprintf(f, "| %s | %s | %s | | | | | | | %s |\n", perf_row_word(r), name,
                        r->metric, r->note);
                continue;
            }
            perf_fmt_value(r->v.median_base, r->unit, b, sizeof b);
            perf_fmt_value(r->v.median_head, r->unit, h, sizeof h);
            const char *w = perf_row_word(r);
            int bold = r->v.verdict == PERF_VERDICT_REGRESSION ||
                       r->v.verdict == PERF_VERDICT_INCONCLUSIVE;
            char pv[16];
            if (isnan(r->v.p_value)) /* deterministic counts: no test */
                perf_fmt(pv, sizeof pv, "-");
            else
                perf_fmt(pv, sizeof pv, "%.2g", r->v.p_value);
            fprintf(f, "| %s%s%s", bold ? "**" : "", w, bold ? "**" : "");
            if (r->v.verdict == PERF_VERDICT_INCONCLUSIVE)
                fprintf(f, " (~%u reps/side)", r->v.reps_needed);
            if (!perf_row_gates(c, r))
                fprintf(f, " (not gating)");
            fprintf(f, " | %s | %s | %s | %s | %+.1f%% | %.3f [%.3f, %.3f] | %s | %.3f | %s |\n",
                    name, r->metric, b, h, change_pct(r), r->v.g, r->v.g_lo, r->v.g_hi, pv,
                    r->v.limit, r->note);
        }
        free(order);
        fprintf(f, "\n");
        perf_report_summary_line(f, c);
        fprintf(f, "\n*g* is head/base for higher-is-better metrics and base/head otherwise, "
                   "so g < 1 is always worse; a regression needs p < 0.01 **and** the whole "
                   "99%% interval below the limit (1 − max(tolerance, noise floor)).\n\n");
    } else {
        fprintf(f, "No comparison recorded yet (`lightning perf check` or `ab`).\n\n");
    }
    if (in->ntrends) {
        fprintf(f, "## History\n\n| series | runs | latest | change points | drift |\n"
                   "|---|---:|---:|---|---|\n");
        for (size_t i = 0; i < in->ntrends; i++) {
            const perf_trend *t = &in->trends[i];
            char name[128], last[32];
            perf_series_name(t->key.benchmark, t->key.engine, t->key.threads, name, sizeof name);
            perf_fmt_value(t->n ? t->pts[t->n - 1].median : NAN, t->unit, last, sizeof last);
            fprintf(f, "| %s %s | %zu | %s | ", name, t->key.metric, t->n, last);
            if (!t->cp_ok)
                fprintf(f, "(needs 10 runs)");
            else if (!t->ncp)
                fprintf(f, "none");
            for (size_t j = 0; j < t->ncp; j++)
                fprintf(f, "%srun %lld `%.8s` %+.1f%% (%s)", j ? "; " : "",
                        (long long)t->pts[t->cp[j].index].run_id, t->pts[t->cp[j].index].commit,
                        t->cp[j].rel_step * 100, perf_step_word(t->cp[j].rel_step, t->direction));
            if (t->drift_ok)
                fprintf(f, " | %+.2f%%/run, p=%.2g%s |\n", t->drift.slope_rel * 100,
                        t->drift.p_value, t->drift.p_value < 0.05 ? " **drift**" : "");
            else
                fprintf(f, " | |\n");
        }
        fprintf(f, "\n");
    }
    if (in->nfloors) {
        fprintf(f, "## Calibrated noise floors\n\n| series | metric | floor | for k reps | CV | "
                   "calibrated |\n|---|---|---:|---:|---:|---|\n");
        for (size_t i = 0; i < in->nfloors; i++) {
            const perf_noise_row *r = &in->floors[i];
            char name[128];
            perf_series_name(r->benchmark, r->engine, r->threads, name, sizeof name);
            fprintf(f, "| %s | %s | %.2f%% | %d | %.1f%% | %s |\n", name, r->metric,
                    r->floor * 100, r->k, r->cv * 100, r->calibrated_at);
        }
        fprintf(f, "\n");
    }
    return ferror(f) ? -1 : 0;
}

/* Latency percentiles of the latest run, log scale, one row per series. */
static void svg_latency(FILE *f, const perf_sample_set *s)
{
    static const char *const pm[] = {"latency_p50_ns", "latency_p90_ns", "latency_p99_ns",
                                     "latency_p999_ns"};
    static const char *const pl[] = {"p50", "p90", "p99", "p99.9"};
    static const char *const pc[] = {"#1565c0", "#2e7d32", "#ef6c00", "#c62828"};
    perf_series_key *keys;
    size_t nk;
    if (perf_samples_series(s, &keys, &nk))
        return;
    /* rows: series that have ops_per_sec and a p50 */
    size_t rows = 0;
    double vals[128][4];
    char names[128][128];
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < nk && rows < 128; i++) {
        if (strcmp(keys[i].metric, "latency_p50_ns"))
            continue;
        for (int j = 0; j < 4; j++) {
            perf_series_key k = keys[i];
            perf_strlcpy(k.metric, pm[j], sizeof k.metric);
            size_t n;
            double *v = perf_samples_values(s, &k, 0, &n, NULL);
            vals[rows][j] = NAN;
            if (v) {
                perf_median(v, n, &vals[rows][j]);
                free(v);
                if (vals[rows][j] > 0 && vals[rows][j] < lo)
                    lo = vals[rows][j];
                if (vals[rows][j] > hi)
                    hi = vals[rows][j];
            }
        }
        perf_series_name(keys[i].benchmark, keys[i].engine, keys[i].threads, names[rows], 128);
        rows++;
    }
    free(keys);
    if (!rows || !(hi > 0) || !(lo < INFINITY)) {
        fprintf(f, "<p>No latency percentiles in the latest run.</p>\n");
        return;
    }
    double llo = floor(log10(lo)), lhi = ceil(log10(hi));
    if (lhi <= llo)
        lhi = llo + 1;
    const double W = 760, L = 220, R = 20, T = 30, rowh = 20;
    double H = T + rowh * (double)rows + 30, pw = W - L - R;
#define LX(v) (L + (log10(v) - llo) / (lhi - llo) * pw)
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
               "viewBox='0 0 %.0f %.0f' role='img'>\n", W, H, W, H);
    for (double d = llo; d <= lhi; d += 1) {
        double x = L + (d - llo) / (lhi - llo) * pw;
        char lab[32];
        perf_fmt_value(pow(10, d), "ns", lab, sizeof lab);
        fprintf(f, "<line x1='%.1f' y1='%.0f' x2='%.1f' y2='%.0f' stroke='#ddd'/>"
                   "<text x='%.1f' y='%.0f' font-size='11' text-anchor='middle'>%s</text>\n",
                x, T - 4, x, H - 24, x, H - 10, lab);
    }
    for (int j = 0; j < 4; j++)
        fprintf(f, "<circle cx='%.0f' cy='12' r='4' fill='%s'/><text x='%.0f' y='16' "
                   "font-size='11'>%s</text>\n", L + 70.0 * j, pc[j], L + 70.0 * j + 8, pl[j]);
    for (size_t i = 0; i < rows; i++) {
        double y = T + rowh * (double)i + rowh / 2;
        fprintf(f, "<text x='%.0f' y='%.1f' font-size='12' text-anchor='end'>", L - 8, y + 4);
        perf_html_escape(f, names[i]);
        fprintf(f, "</text>\n");
        if (vals[i][0] > 0 && vals[i][3] > 0)
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#999'/>\n",
                    LX(vals[i][0]), y, LX(vals[i][3]), y);
        for (int j = 0; j < 4; j++) {
            if (!(vals[i][j] > 0))
                continue;
            char v[32];
            perf_fmt_value(vals[i][j], "ns", v, sizeof v);
            fprintf(f, "<circle cx='%.1f' cy='%.1f' r='4' fill='%s'><title>%s %s</title>"
                       "</circle>\n", LX(vals[i][j]), y, pc[j], pl[j], v);
        }
    }
#undef LX
    fprintf(f, "</svg>\n");
}

int perf_report_html(FILE *f, const perf_report_input *in)
{
    const char *title = in->title ? in->title : "Lightning DB performance report";
    fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n<meta name='viewport' content='width=device-width, initial-scale=1'>\n<title>");
    perf_html_escape(f, title);
    fprintf(f, "</title>\n<style>\nbody{font-family:system-ui,sans-serif;margin:2em;"
               "color:#222;max-width:1100px}\n@media (max-width:900px){body{margin:0.5em}}"
               "\n.scroll{max-width:100%%;overflow-x:auto}"
               "\nsvg{max-width:100%%;height:auto}"
               "\ntable{border-collapse:collapse;margin:1em 0;max-width:100%%}"
               "\ntd,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
               "\nth{background:#f0f0f0}\ntd.num{text-align:right;font-family:monospace}"
               "\n.REGRESSION{color:#c62828;font-weight:bold}.INCONCLUSIVE{color:#ef6c00;"
               "font-weight:bold}.improvement{color:#2e7d32}.same{color:#1565c0}"
               "\n.banner{padding:.6em 1em;border-radius:4px;font-weight:bold;margin:1em 0}"
               "\n.pass{background:#e8f5e9}.fail{background:#ffebee}.warn{background:#fff3e0}"
               "\nh2{border-bottom:1px solid #ddd;padding-bottom:.2em}"
               "\n</style></head><body>\n<h1>");
    perf_html_escape(f, title);
    fprintf(f, "</h1>\n<p>Generated %s from <code>", in->generated_at ? in->generated_at : "");
    perf_html_escape(f, in->history_path ? in->history_path : "");
    fprintf(f, "</code>.</p>\n");
    if (in->run) {
        fprintf(f, "<p>Latest run %lld: %s, commit <code>%.12s%s</code>, suite <code>",
                (long long)in->run->id, in->run->created_at,
                in->run->commit[0] ? in->run->commit : "unknown", in->run->dirty > 0 ? "+dirty" : "");
        perf_html_escape(f, in->run->suite);
        fprintf(f, "</code>, sync <code>%s</code>, machine <code>%s</code>.</p>\n",
                in->run->sync_mode, in->run->machine_id);
    }
    const perf_comparison *c = in->cmp;
    fprintf(f, "<h2>Last comparison</h2>\n");
    if (c) {
        const char *cls = c->exit_code == PERF_EXIT_PASS         ? "pass"
                          : c->exit_code == PERF_EXIT_REGRESSION ? "fail"
                                                                 : "warn";
        fprintf(f, "<div class='banner %s'>%s %lld: %s (exit %d)</div>\n", cls, c->kind,
                (long long)c->id, verdict_badge(c), c->exit_code);
        if (c->forced) {
            fprintf(f, "<div class='banner warn'>FORCED comparison (--force): ");
            perf_html_escape(f, c->mismatch);
            fprintf(f, "</div>\n");
        }
        fprintf(f, "<p>Base: ");
        perf_html_escape(f, c->base_label);
        fprintf(f, "<br>Head: ");
        perf_html_escape(f, c->head_label);
        fprintf(f, "</p>\n");
        perf_svg_forest(f, c);
        fprintf(f, "<div class='scroll'><table><tr><th>benchmark</th><th>metric</th><th>base</th><th>head</th>"
                   "<th>change</th><th>g [99%% CI]</th><th>p</th><th>limit</th><th>floor</th>"
                   "<th>verdict</th></tr>\n");
        for (size_t i = 0; i < c->n; i++) {
            const perf_cmp_row *r = &c->rows[i];
            char name[160], b[32], h[32];
            series_label(r, name, sizeof name);
            fprintf(f, "<tr><td>");
            perf_html_escape(f, name);
            fprintf(f, "</td><td>");
            perf_html_escape(f, r->metric);
            fprintf(f, "</td>");
            if (r->status != PERF_ROW_OK) {
                fprintf(f, "<td colspan='7'>");
                perf_html_escape(f, r->note);
                fprintf(f, "</td><td>%s</td></tr>\n", perf_row_word(r));
                continue;
            }
            perf_fmt_value(r->v.median_base, r->unit, b, sizeof b);
            perf_fmt_value(r->v.median_head, r->unit, h, sizeof h);
            fprintf(f, "<td class='num'>%s</td><td class='num'>%s</td><td class='num'>%+.1f%%"
                       "</td><td class='num'>%.3f [%.3f, %.3f]</td><td class='num'>%.2g</td>"
                       "<td class='num'>%.3f</td><td class='num'>%.1f%%%s</td>"
                       "<td class='%s'>%s",
                    b, h, change_pct(r), r->v.g, r->v.g_lo, r->v.g_hi, r->v.p_value, r->v.limit,
                    r->noise_floor * 100, r->floor_calibrated ? "" : " (default)",
                    perf_row_word(r), perf_row_word(r));
            if (r->v.verdict == PERF_VERDICT_INCONCLUSIVE)
                fprintf(f, " (~%u reps/side)", r->v.reps_needed);
            fprintf(f, "</td></tr>\n");
        }
        fprintf(f, "</table></div>\n<p>");
        perf_report_summary_line(f, c);
        fprintf(f, "</p>\n");
    } else {
        fprintf(f, "<p>No comparison recorded yet.</p>\n");
    }
    fprintf(f, "<h2>History</h2>\n");
    if (!in->ntrends)
        fprintf(f, "<p>No runs recorded for this machine yet.</p>\n");
    for (size_t i = 0; i < in->ntrends; i++) {
        const perf_trend *t = &in->trends[i];
        char name[160];
        perf_series_name(t->key.benchmark, t->key.engine, t->key.threads, name, sizeof name);
        fprintf(f, "<h3>");
        perf_html_escape(f, name);
        fprintf(f, " — ");
        perf_html_escape(f, t->key.metric);
        fprintf(f, " (%s is better)</h3>\n", perf_direction_name(t->direction));
        perf_svg_history(f, t, in->baseline_run,
                         in->trend_tolerance ? in->trend_tolerance[i] : -1);
        fprintf(f, "<p>");
        if (!t->cp_ok)
            fprintf(f, "Change points need at least 10 runs (have %zu). ", t->n);
        else if (!t->ncp)
            fprintf(f, "No change point (E-Divisive, α = 0.05). ");
        if (t->drift_ok)
            fprintf(f, "Drift %+.3f%% per run (Mann–Kendall p = %.3f%s).", t->drift.slope_rel * 100,
                    t->drift.p_value, t->drift.p_value < 0.05 ? ", significant" : "");
        fprintf(f, "</p>\n");
    }
    fprintf(f, "<h2>Latency percentiles (latest run)</h2>\n");
    if (in->run_samples)
        svg_latency(f, in->run_samples);
    if (in->nfloors) {
        fprintf(f, "<h2>Calibrated noise floors</h2>\n<div class='scroll'><table><tr><th>series</th><th>metric</th>"
                   "<th>floor</th><th>for k reps</th><th>CV</th><th>calibrated</th></tr>\n");
        for (size_t i = 0; i < in->nfloors; i++) {
            const perf_noise_row *r = &in->floors[i];
            char name[160];
            perf_series_name(r->benchmark, r->engine, r->threads, name, sizeof name);
            fprintf(f, "<tr><td>");
            perf_html_escape(f, name);
            fprintf(f, "</td><td>");
            perf_html_escape(f, r->metric);
            fprintf(f, "</td><td class='num'>%.2f%%</td><td class='num'>%d</td><td class='num'>"
                       "%.1f%%</td><td>%s</td></tr>\n",
                    r->floor * 100, r->k, r->cv * 100, r->calibrated_at);
        }
        fprintf(f, "</table></div>\n");
    }
    if (in->nruns) {
        fprintf(f, "<h2>Recent runs</h2>\n<div class='scroll'><table><tr><th>id</th><th>time</th><th>kind</th>"
                   "<th>commit</th><th>suite</th><th>sync</th><th>machine</th><th>samples</th>"
                   "<th>label</th></tr>\n");
        for (size_t i = 0; i < in->nruns; i++) {
            const perf_run_info *r = &in->runs[i];
            fprintf(f, "<tr><td>%lld%s</td><td>%s</td><td>%s</td><td><code>%.12s%s</code></td>"
                       "<td>",
                    (long long)r->id, r->id == in->baseline_run ? " (baseline)" : "",
                    r->created_at, r->kind, r->commit, r->dirty > 0 ? "+dirty" : "");
            perf_html_escape(f, r->suite);
            fprintf(f, "</td><td>%s</td><td>", r->sync_mode);
            perf_html_escape(f, r->machine_id);
            if (r->fingerprint[0] && strcmp(r->fingerprint, r->machine_id))
                fprintf(f, " <small>(%.8s)</small>", r->fingerprint);
            fprintf(f, "</td><td class='num'>%zu</td><td>", r->n_samples);
            perf_html_escape(f, r->label);
            fprintf(f, "</td></tr>\n");
        }
        fprintf(f, "</table></div>\n");
    }
    fprintf(f, "<p style='color:#888;font-size:12px'>Statistics: Mann–Whitney U (α = 0.01), "
               "seeded bootstrap 99%% CI of the ratio of medians, a regression only when "
               "significant and the whole interval lies beyond max(tolerance, noise floor). "
               "See docs/perf.md and docs/statistics.md.</p>\n</body></html>\n");
    return ferror(f) ? -1 : 0;
}
