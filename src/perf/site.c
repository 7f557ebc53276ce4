/* perf/site.c — the static dashboard (site.h). */
#include "perf/site.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perf/chart.h"
#include "perf/forest.h"
#include "perf/markup.h"
#include "perf/metrics.h"
#include "perf/report.h"

double perf_trend_tolerance(const perf_suite *s, const perf_trend *t)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < s->nb; i++) {
        const perf_suite_bench *b = &s->b[i];
        if (!perf_suite_bench_matches(s, b, t->key.benchmark, t->key.engine, t->key.threads))
            continue;
        if (b->counts)
            return perf_suite_counts_threshold(s, b);
        return perf_suite_tolerance(s, b, t->key.metric, t->direction);
    }
    return -1;
}

static const char *const css =
    "body{font-family:system-ui,sans-serif;margin:1.5em auto;padding:0 1em;color:#222;"
    "max-width:1000px}\n"
    ".scroll{max-width:100%;overflow-x:auto}\nsvg{max-width:100%;height:auto;display:block}\n"
    "table{border-collapse:collapse;margin:.6em 0}\n"
    "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;white-space:nowrap}\n"
    "th{background:#f0f0f0}\ntd.num{text-align:right;font-family:monospace}\n"
    ".REGRESSION{color:#c62828;font-weight:bold}.INCONCLUSIVE{color:#ef6c00;font-weight:bold}"
    ".improvement{color:#2e7d32}.same{color:#1565c0}\n"
    ".banner{padding:.5em 1em;border-radius:4px;font-weight:bold;margin:.6em 0}"
    ".pass{background:#e8f5e9}.fail{background:#ffebee}.warn{background:#fff3e0}\n"
    "h2{border-bottom:1px solid #ddd;padding-bottom:.2em}\n";

static void head(FILE *f, const char *title)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n<meta "
               "name='viewport' content='width=device-width, initial-scale=1'>\n<title>");
    perf_html_escape(f, title);
    fprintf(f, "</title>\n<style>\n%s</style></head><body>\n", css);
}

typedef struct testbed {
    char machine[PERF_MACHINE_KEY_CAP];
    char sync[16];
    char suite[64];
} testbed;

/* The newest check/ab whose head run is on this testbed. 1 found. */
static int latest_cmp(perf_history *h, const testbed *tb, perf_comparison *out, perf_error *e)
{
    int64_t *ids;
    size_t n;
    if (perf_history_comparison_ids(h, &ids, &n, e))
        return -1;
    int found = 0;
    for (size_t i = n; i-- > 0 && !found && n - i <= 200;) {
        perf_comparison c;
        int r = perf_history_load_comparison(h, ids[i], "check,ab", &c, e);
        if (r < 0) {
            free(ids);
            return -1;
        }
        if (!r)
            continue;
        perf_run_info hr;
        if (c.head_run && perf_history_get_run(h, c.head_run, &hr, NULL) == 1) {
            if (!strcmp(hr.machine_id, tb->machine) && !strcmp(hr.sync_mode, tb->sync) &&
                !strcmp(hr.suite, tb->suite)) {
                *out = c;
                found = 1;
            }
            perf_run_info_free(&hr);
        }
        if (!found)
            perf_comparison_free(&c);
    }
    free(ids);
    return found;
}

static const perf_cmp_row *row_for(const perf_comparison *c, const perf_trend *t)
{
    for (size_t i = 0; c && i < c->n; i++) {
        const perf_cmp_row *r = &c->rows[i];
        if (!r->overhead && !strcmp(r->benchmark, t->key.benchmark) &&
            !strcmp(r->engine, t->key.engine) && r->threads == t->key.threads &&
            !strcmp(r->metric, t->key.metric))
            return r;
    }
    return NULL;
}

static FILE *open_tmp(const char *path, char *tmp, size_t cap, perf_error *e)
{
    perf_fmt(tmp, cap, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        perf_seterr(e, "cannot write %s: %s", path, strerror(errno));
    return f;
}

static int close_tmp(FILE *f, const char *tmp, const char *path, perf_error *e)
{
    int bad = ferror(f);
    if (fclose(f))
        bad = 1;
    if (bad || rename(tmp, path)) {
        unlink(tmp);
        return perf_seterr(e, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
    }
    return 0;
}

static void verdict_cell(FILE *f, const perf_cmp_row *r)
{
    if (!r) {
        fprintf(f, "<td>-</td>");
        return;
    }
    fprintf(f, "<td class='%s'>%s</td>", perf_row_word(r), perf_row_word(r));
}

static int series_page(const perf_site_input *in, const testbed *tb, const perf_trend *t,
                       int64_t baseline, const perf_comparison *cmp, const char *path,
                       perf_error *e)
{
    char tmp[4200], name[200], title[400];
    FILE *f = open_tmp(path, tmp, sizeof tmp, e);
    if (!f)
        return -1;
    perf_series_name(t->key.benchmark, t->key.engine, t->key.threads, name, sizeof name);
    perf_fmt(title, sizeof title, "%s %s on %s", name, t->key.metric, tb->machine);
    head(f, title);
    fprintf(f, "<p><a href='../index.html'>&larr; all series</a></p>\n<h1>");
    perf_html_escape(f, name);
    fprintf(f, " <small>");
    perf_html_escape(f, t->key.metric);
    fprintf(f, "</small></h1>\n<p>Machine <code>");
    perf_html_escape(f, tb->machine);
    fprintf(f, "</code>, sync <code>%s</code>, suite <code>", tb->sync);
    perf_html_escape(f, tb->suite);
    fprintf(f, "</code>; %s is better; %zu runs.</p>\n", perf_direction_name(t->direction), t->n);
    const perf_cmp_row *r = row_for(cmp, t);
    if (r && r->status == PERF_ROW_OK) {
        const char *cls = r->v.verdict == PERF_VERDICT_REGRESSION     ? "fail"
                          : r->v.verdict == PERF_VERDICT_INCONCLUSIVE ? "warn"
                                                                      : "pass";
        fprintf(f, "<div class='banner %s'>latest %s %lld: %s, g %.3f [%.3f, %.3f], limit "
                   "%.3f</div>\n",
                cls, cmp->kind, (long long)cmp->id, perf_row_word(r), r->v.g, r->v.g_lo,
                r->v.g_hi, r->v.limit);
    }
    double tol = perf_trend_tolerance(in->suite, t);
    if (perf_svg_history(f, t, baseline, tol))
        goto fail;
    fprintf(f, "<p>Line: per-run median; band: the middle half of each run's repetitions");
    if (tol > 0 && baseline)
        fprintf(f, "; green: what check allows around the baseline (%.1f%%)", tol * 100);
    fprintf(f, "; large dot: the baseline run; dashed: change points.</p>\n<p>");
    if (!t->cp_ok)
        fprintf(f, "Change points need at least 10 runs (have %zu). ", t->n);
    else if (!t->ncp)
        fprintf(f, "No change point (E-Divisive, &alpha; = 0.05). ");
    for (size_t j = 0; j < t->ncp; j++) {
        const perf_series_point *p = &t->pts[t->cp[j].index];
        fprintf(f, "Change point at run %lld (commit <code>%.12s</code>, %s): %+.1f%% (%s), "
                   "p = %.3f. ",
                (long long)p->run_id, p->commit, p->created_at, t->cp[j].rel_step * 100,
                perf_step_word(t->cp[j].rel_step, t->direction), t->cp[j].p_value);
    }
    if (t->drift_ok)
        fprintf(f, "Drift %+.3f%% per run (Mann&ndash;Kendall p = %.3f).", t->drift.slope_rel * 100,
                t->drift.p_value);
    fprintf(f, "</p>\n<div class='scroll'><table><tr><th>run</th><th>time (UTC)</th>"
               "<th>commit</th><th>median</th><th>middle half</th><th>n</th></tr>\n");
    for (size_t i = t->n; i-- > 0;) {
        const perf_series_point *p = &t->pts[i];
        char m[32], a[32], b[32];
        perf_fmt_value(p->median, t->unit, m, sizeof m);
        perf_fmt_value(p->q25, t->unit, a, sizeof a);
        perf_fmt_value(p->q75, t->unit, b, sizeof b);
        fprintf(f, "<tr><td>%lld%s</td><td>%s</td><td><code>%.12s%s</code></td><td "
                   "class='num'>%s</td><td class='num'>%s &ndash; %s</td><td class='num'>%zu"
                   "</td></tr>\n",
                (long long)p->run_id, p->run_id == baseline ? " (baseline)" : "", p->created_at,
                p->commit[0] ? p->commit : "unknown", p->dirty > 0 ? "+dirty" : "", m, a, b,
                p->n);
    }
    fprintf(f, "</table></div>\n</body></html>\n");
    return close_tmp(f, tmp, path, e);
fail:
    fclose(f);
    unlink(tmp);
    return perf_seterr(e, "cannot write %s", path);
}

int perf_site_write(const perf_site_input *in, const char *dir, perf_site_stats *st,
                    perf_error *e)
{
    memset(st, 0, sizeof *st);
    char sdir[4200], path[4300], tmp[4400];
    perf_fmt(sdir, sizeof sdir, "%s/s", dir);
    if ((mkdir(dir, 0755) && errno != EEXIST) || (mkdir(sdir, 0755) && errno != EEXIST))
        return perf_seterr(e, "cannot create %s: %s", sdir, strerror(errno));
    perf_run_filter all = {.kind = "run"};
    perf_run_info *runs = NULL;
    size_t nruns = 0;
    if (perf_history_list_runs(in->h, &all, &runs, &nruns, e))
        return -1;
    testbed *tbs = calloc(nruns + 1, sizeof *tbs);
    size_t ntb = 0;
    if (!tbs) {
        perf_run_infos_free(runs, nruns);
        return perf_seterr(e, "out of memory");
    }
    for (size_t i = 0; i < nruns; i++) {
        size_t k = 0;
        while (k < ntb && !(!strcmp(tbs[k].machine, runs[i].machine_id) &&
                            !strcmp(tbs[k].sync, runs[i].sync_mode) &&
                            !strcmp(tbs[k].suite, runs[i].suite)))
            k++;
        if (k == ntb) {
            perf_strlcpy(tbs[k].machine, runs[i].machine_id, sizeof tbs[k].machine);
            perf_strlcpy(tbs[k].sync, runs[i].sync_mode, sizeof tbs[k].sync);
            perf_strlcpy(tbs[k].suite, runs[i].suite, sizeof tbs[k].suite);
            ntb++;
        }
    }
    perf_run_infos_free(runs, nruns);
    perf_fmt(path, sizeof path, "%s/index.html", dir);
    FILE *f = open_tmp(path, tmp, sizeof tmp, e);
    int rc = -1;
    if (!f)
        goto out;
    head(f, "Lightning DB performance");
    fprintf(f, "<h1>Lightning DB performance</h1>\n<p>Generated %s from <code>",
            in->generated_at ? in->generated_at : "");
    perf_html_escape(f, in->history_shown);
    fprintf(f, "</code>: %zu testbed%s.</p>\n", ntb, ntb == 1 ? "" : "s");
    if (!ntb)
        fprintf(f, "<p>No runs recorded yet (<code>lightning perf run</code>).</p>\n");
    for (size_t k = 0; k < ntb; k++) {
        const testbed *tb = &tbs[k];
        perf_run_filter flt = {.kind = "run", .machine_id = tb->machine, .sync_mode = tb->sync,
                               .suite = tb->suite};
        perf_trend *t = NULL;
        size_t nt = 0;
        perf_comparison cmp;
        memset(&cmp, 0, sizeof cmp);
        int have_cmp = latest_cmp(in->h, tb, &cmp, e);
        if (have_cmp < 0 || perf_trend_compute(in->h, &flt, NULL, NULL, &t, &nt, e)) {
            if (have_cmp > 0)
                perf_comparison_free(&cmp);
            fclose(f);
            unlink(tmp);
            goto out;
        }
        int64_t baseline = 0;
        perf_history_get_baseline(in->h, tb->machine, tb->sync, tb->suite, &baseline, NULL, 0,
                                  NULL);
        fprintf(f, "<h2 id='tb%zu'>Machine <code>", k);
        perf_html_escape(f, tb->machine);
        fprintf(f, "</code>, sync %s, suite <code>", tb->sync);
        perf_html_escape(f, tb->suite);
        fprintf(f, "</code></h2>\n");
        if (have_cmp) {
            const char *cls = cmp.exit_code == 0 ? "pass" : cmp.exit_code == 1 ? "fail" : "warn";
            fprintf(f, "<div class='banner %s'>latest %s %lld (%s): ", cls, cmp.kind,
                    (long long)cmp.id, cmp.created_at);
            perf_report_summary_line(f, &cmp);
            fprintf(f, "</div>\n");
            perf_svg_forest(f, &cmp);
        } else {
            fprintf(f, "<p>No check or ab on this testbed yet.</p>\n");
        }
        fprintf(f, "<div class='scroll'><table><tr><th>series</th><th>metric</th><th>runs</th>"
                   "<th>latest</th><th>vs baseline</th><th>change points</th><th>latest "
                   "verdict</th></tr>\n");
        for (size_t i = 0; i < nt; i++) {
            const perf_trend *s = &t[i];
            char name[200], last[32], page[64];
            perf_series_name(s->key.benchmark, s->key.engine, s->key.threads, name, sizeof name);
            perf_fmt_value(s->n ? s->pts[s->n - 1].median : NAN, s->unit, last, sizeof last);
            perf_fmt(page, sizeof page, "s/%zu-%zu.html", k, i);
            double bv = NAN;
            for (size_t j = 0; j < s->n; j++)
                if (s->pts[j].run_id == baseline)
                    bv = s->pts[j].median;
            fprintf(f, "<tr><td><a href='%s'>", page);
            perf_html_escape(f, name);
            fprintf(f, "</a></td><td>");
            perf_html_escape(f, s->key.metric);
            fprintf(f, "</td><td class='num'>%zu</td><td class='num'>%s</td>", s->n, last);
            if (isfinite(bv) && bv != 0 && s->n)
                fprintf(f, "<td class='num'>%+.1f%%</td>",
                        (s->pts[s->n - 1].median / bv - 1) * 100);
            else
                fprintf(f, "<td>-</td>");
            if (!s->cp_ok)
                fprintf(f, "<td>(needs 10 runs)</td>");
            else
                fprintf(f, "<td class='num'>%zu</td>", s->ncp);
            verdict_cell(f, row_for(have_cmp ? &cmp : NULL, s));
            fprintf(f, "</tr>\n");
            perf_fmt(path, sizeof path, "%s/%s", dir, page);
            if (series_page(in, tb, s, baseline, have_cmp ? &cmp : NULL, path, e)) {
                perf_trends_free(t, nt);
                if (have_cmp)
                    perf_comparison_free(&cmp);
                fclose(f);
                unlink(tmp);
                goto out;
            }
            st->pages++;
        }
        fprintf(f, "</table></div>\n");
        perf_trends_free(t, nt);
        if (have_cmp)
            perf_comparison_free(&cmp);
        st->testbeds++;
    }
    fprintf(f, "<p style='color:#888;font-size:12px'>Static pages written by <code>lightning "
               "perf report --site</code>; docs/perf.md explains every figure.</p>\n"
               "</body></html>\n");
    perf_fmt(path, sizeof path, "%s/index.html", dir);
    if (close_tmp(f, tmp, path, e))
        goto out;
    st->pages++;
    rc = 0;
out:
    free(tbs);
    return rc;
}
