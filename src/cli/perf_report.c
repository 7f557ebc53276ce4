/*
 * cli/perf_report.c — the read-only views of the history: `report`
 * (Markdown, HTML, --site), `export` (CSV, JSON), `history` and
 * `copy-history`.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/machine.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/perf_cli.h"
#include "perf/ab.h"
#include "perf/bisect.h"
#include "perf/cleanup.h"
#include "perf/compare.h"
#include "perf/export.h"
#include "perf/gitbuild.h"
#include "perf/history.h"
#include "perf/history_copy.h"
#include "perf/history_pg.h"
#include "perf/lookback.h"
#include "perf/metrics.h"
#include "perf/outcome.h"
#include "perf/proc.h"
#include "perf/progress.h"
#include "perf/report.h"
#include "perf/results.h"
#include "perf/selftest.h"
#include "perf/stats_between.h"
#include "perf/runner.h"
#include "perf/site.h"
#include "perf/suite.h"
#include "perf/trend.h"

/* ---- report ------------------------------------------------------------- */

static int cmd_report_site(ctx *c)
{
    perf_suite s = {0};
    int have_suite = pcli_load_suite(c, &s) == 0;
    if (pcli_open_history(c, 0)) {
        if (have_suite)
            perf_suite_free(&s);
        return EXIT_USAGE;
    }
    char now[32], shown[PATH_MAX];
    perf_utc_now(now, sizeof now);
    perf_history_redact(c->history_path, shown, sizeof shown);
    perf_site_input in = {.h = c->h, .suite = have_suite ? &s : NULL, .history_shown = shown,
                          .generated_at = now};
    perf_site_stats st;
    int rc = perf_site_write(&in, c->o->site, &st, &c->e);
    if (rc)
        cli_error("perf report --site: %s", c->e.msg);
    else
        printf("wrote %s/index.html: %zu testbed%s, %zu pages\n", c->o->site, st.testbeds,
               st.testbeds == 1 ? "" : "s", st.pages);
    if (have_suite)
        perf_suite_free(&s);
    return rc ? EXIT_USAGE : 0;
}

int pcli_cmd_report(ctx *c)
{
    opts *o = c->o;
    if (o->site)
        return cmd_report_site(c);
    perf_run_info run = {0};
    perf_sample_set samples = {0};
    perf_comparison cmp = {0};
    perf_trend *t = NULL;
    size_t nt = 0;
    perf_noise_row *floors = NULL;
    size_t nf = 0;
    perf_run_info *runs = NULL;
    size_t nr = 0;
    perf_suite s = {0};
    int rc = EXIT_USAGE, have_run = 0, have_suite = 0;
    if (o->npos) {
        cli_error("perf report: unexpected argument '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    if (pcli_open_history(c, 0))
        return EXIT_USAGE;
    int64_t id = o->run;
    if (!id && pcli_latest_run(c, &id) < 0)
        goto out;
    if (id) {
        if (pcli_get_run(c, id, &run))
            goto out;
        have_run = 1;
        if (perf_history_load_samples(c->h, id, &samples, &c->e)) {
            cli_error("perf: %s", c->e.msg);
            goto out;
        }
    }
    /* The last verdict on a change: check or ab (calibrate's A/A test and
     * bisect steps are not what a report reader asks about). */
    int got = perf_history_load_comparison(c->h, o->comparison, o->comparison ? NULL : "check,ab",
                                           &cmp, &c->e);
    if (got < 0 || (o->comparison && !got)) {
        if (got < 0)
            cli_error("perf: %s", c->e.msg);
        else
            cli_error("perf report: no comparison %ld in %s", o->comparison, c->history_path);
        goto out;
    }
    const char *machine = have_run ? run.machine_id : pcli_this_machine(c);
    if (have_run) {
        if (o->suite || o->quick)
            have_suite = pcli_load_suite(c, &s) == 0;
        else
            have_suite = pcli_suite_for_run(c, &run, &s) == 0;
        trend_want w = {.s = have_suite ? &s : NULL};
        perf_run_filter f = {.kind = "run", .machine_id = machine, .suite = run.suite,
                             .sync_mode = run.sync_mode};
        if (perf_trend_compute(c->h, &f, pcli_want_series, &w, &t, &nt, &c->e)) {
            cli_error("perf: %s", c->e.msg);
            goto out;
        }
    }
    if (perf_history_list_noise_floors(c->h, machine, &floors, &nf, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        goto out;
    }
    perf_run_filter rf = {.machine_id = machine, .limit = 30};
    if (perf_history_list_runs(c->h, &rf, &runs, &nr, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        goto out;
    }
    int64_t baseline = 0;
    if (have_run)
        perf_history_get_baseline(c->h, run.machine_id, run.sync_mode, run.suite, &baseline,
                                  NULL, 0, NULL);
    char now[32];
    perf_utc_now(now, sizeof now);
    /* The floors table would list every metric; keep the gated ones. */
    size_t kept = 0;
    for (size_t i = 0; i < nf; i++) {
        perf_series_key k;
        memset(&k, 0, sizeof k);
        perf_strlcpy(k.benchmark, floors[i].benchmark, sizeof k.benchmark);
        perf_strlcpy(k.engine, floors[i].engine, sizeof k.engine);
        perf_strlcpy(k.metric, floors[i].metric, sizeof k.metric);
        k.threads = floors[i].threads;
        if (have_suite ? perf_suite_gates_series(&s, &k) : !strcmp(k.metric, "ops_per_sec"))
            floors[kept++] = floors[i];
    }
    double *tol = nt ? malloc(nt * sizeof *tol) : NULL;
    for (size_t i = 0; tol && i < nt; i++)
        tol[i] = perf_trend_tolerance(have_suite ? &s : NULL, &t[i]);
    perf_report_input in = {.title = "Lightning DB performance report",
                            .history_path = c->history_path,
                            .generated_at = now,
                            .trend_tolerance = tol,
                            .run = have_run ? &run : NULL,
                            .run_samples = have_run ? &samples : NULL,
                            .cmp = got ? &cmp : NULL,
                            .trends = t,
                            .ntrends = nt,
                            .floors = floors,
                            .nfloors = kept,
                            .runs = runs,
                            .nruns = nr,
                            .baseline_run = baseline};
    rc = 0;
    const char *outs[2] = {o->html, o->md};
    for (int k = 0; k < 2; k++) {
        if (!outs[k])
            continue;
        FILE *f = strcmp(outs[k], "-") ? fopen(outs[k], "w") : stdout;
        if (!f) {
            cli_error("perf report: cannot write %s: %s", outs[k], strerror(errno));
            rc = EXIT_USAGE;
            continue;
        }
        int w = k == 0 ? perf_report_html(f, &in) : perf_report_markdown(f, &in);
        if (f != stdout && fclose(f))
            w = -1;
        if (w) {
            cli_error("perf report: writing %s failed", outs[k]);
            rc = EXIT_USAGE;
        } else if (f != stdout) {
            fprintf(stderr, "lightning perf: wrote %s\n", outs[k]);
        }
    }
    if (!o->html && !o->md && perf_report_markdown(stdout, &in))
        rc = EXIT_USAGE;
    free(tol);
out:
    if (have_run)
        perf_run_info_free(&run);
    perf_samples_free(&samples);
    perf_comparison_free(&cmp);
    perf_trends_free(t, nt);
    free(floors);
    perf_run_infos_free(runs, nr);
    if (have_suite)
        perf_suite_free(&s);
    return rc;
}

/* ---- export, history ---------------------------------------------------- */

int pcli_cmd_export(ctx *c)
{
    opts *o = c->o;
    if (o->npos) {
        cli_error("perf export: unexpected argument '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    if (!!o->csv + !!o->json != 1) {
        cli_error("perf export: give exactly one of --csv FILE or --json FILE");
        return EXIT_USAGE;
    }
    if (pcli_open_history(c, 0))
        return EXIT_USAGE;
    if (o->run) {
        perf_run_info r;
        if (pcli_get_run(c, o->run, &r))
            return EXIT_USAGE;
        perf_run_info_free(&r);
    }
    const char *path = o->csv ? o->csv : o->json;
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) {
        cli_error("perf export: cannot write %s: %s", path, strerror(errno));
        return EXIT_USAGE;
    }
    size_t rows = 0;
    int rc = o->csv ? perf_export_csv(c->h, NULL, o->run, f, &rows, &c->e)
                    : perf_export_json(c->h, NULL, o->run, f, &rows, &c->e);
    if (f != stdout && fclose(f) && !rc)
        rc = perf_seterr(&c->e, "closing %s failed", path);
    if (rc) {
        cli_error("perf export: %s", c->e.msg);
        return EXIT_USAGE;
    }
    if (f != stdout)
        fprintf(stderr, "lightning perf: exported %zu samples to %s\n", rows, path);
    return 0;
}

int pcli_cmd_history(ctx *c)
{
    opts *o = c->o;
    if (o->npos) {
        cli_error("perf history: unexpected argument '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    if (pcli_open_history(c, 0))
        return EXIT_USAGE;
    perf_run_filter f = {.machine_id = o->all ? NULL : pcli_this_machine(c), .limit = (size_t)o->limit};
    perf_run_info *runs;
    size_t n;
    if (perf_history_list_runs(c->h, &f, &runs, &n, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        return EXIT_USAGE;
    }
    perf_baseline_row *b = NULL;
    size_t nb = 0;
    perf_history_list_baselines(c->h, &b, &nb, NULL);
    int ver = 0;
    perf_history_file_version(c->history_path, &ver, NULL);
    char shown[PATH_MAX];
    perf_history_redact(c->history_path, shown, sizeof shown);
    printf("history %s (schema %d): %zu run%s%s%s\n", shown, ver, n, n == 1 ? "" : "s",
           o->all ? "" : " on this machine ", o->all ? "" : pcli_this_machine(c));
    printf("%6s  %-20s  %-11s  %-17s  %-10s  %-6s  %7s  %8s  %-24s  %s\n", "id", "time (UTC)",
           "kind", "commit", "suite", "sync", "samples", "seconds", "machine (fingerprint)",
           "label");
    for (size_t i = 0; i < n; i++) {
        const perf_run_info *r = &runs[i];
        int is_base = 0;
        for (size_t k = 0; k < nb; k++)
            is_base |= b[k].run_id == r->id;
        char commit[32];
        perf_fmt(commit, sizeof commit, "%.10s%s", r->commit[0] ? r->commit : "unknown",
                 r->dirty > 0 ? "+dirty" : "");
        char inj[48] = "";
        if (r->inject_slowdown > 0)
            perf_fmt(inj, sizeof inj, " (injected slowdown %g%%)", r->inject_slowdown);
        char mach[PERF_MACHINE_KEY_CAP + 24];
        if (r->fingerprint[0] && strcmp(r->fingerprint, r->machine_id))
            perf_fmt(mach, sizeof mach, "%s (%.8s)", r->machine_id, r->fingerprint);
        else
            perf_fmt(mach, sizeof mach, "%s", r->machine_id);
        printf("%6lld  %-20s  %-11s  %-17s  %-10s  %-6s  %7zu  %8.1f  %-24s  %s%s%s\n",
               (long long)r->id, r->created_at, r->kind, commit, r->suite, r->sync_mode,
               r->n_samples, r->duration_s, mach, is_base ? "[baseline] " : "", r->label, inj);
    }
    if (!o->all && !n)
        printf("(no runs on this machine; --all lists every machine's)\n");
    free(b);
    perf_run_infos_free(runs, n);
    return 0;
}

/* ---- entry -------------------------------------------------------------- */

int pcli_cmd_copy_history(ctx *c)
{
    opts *o = c->o;
    if (o->npos || !o->to) {
        cli_error("perf copy-history: --to FILE|URL is required (and nothing else)");
        return EXIT_USAGE;
    }
    perf_history *dst = NULL;
    perf_copy_stats st;
    if (pcli_open_history(c, 0))
        return EXIT_USAGE;
    if (perf_history_open(o->to, 1, &dst, &c->e) || perf_history_copy(c->h, dst, &st, &c->e)) {
        cli_error("perf copy-history: %s", c->e.msg);
        perf_history_close(dst);
        return EXIT_USAGE;
    }
    perf_history_close(dst);
    char shown[PATH_MAX];
    perf_history_redact(o->to, shown, sizeof shown);
    printf("copied %zu runs (%zu samples), %zu baselines, %zu noise floors and %zu comparisons "
           "into %s\n", st.runs, st.samples, st.baselines, st.floors, st.comparisons, shown);
    return 0;
}
