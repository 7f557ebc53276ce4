/*
 * cli/perf_run.c — `lightning perf run` (run the suite or import bench
 * JSON, record it) and `lightning perf baseline set|show`.
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

/* ---- run ---------------------------------------------------------------- */

static int import_json(ctx *c, perf_side *side)
{
    for (int i = 0; i < c->o->n_from_json; i++) {
        perf_bench_doc d;
        if (perf_results_parse_file(c->o->from_json[i], &d, &c->e)) {
            cli_error("perf: %s", c->e.msg);
            return -1;
        }
        if (side->have_meta && strcmp(d.machine_id, side->meta.machine_id)) {
            cli_error("perf: %s was measured on machine %s, %s on %s: one run holds one "
                      "machine's results", c->o->from_json[i], d.machine_id, c->o->from_json[0],
                      side->meta.machine_id);
            perf_bench_doc_free(&d);
            return -1;
        }
        int base_rep = 0, minrep = INT_MAX;
        for (size_t k = 0; k < side->samples.n; k++)
            if (side->samples.v[k].repetition + 1 > base_rep)
                base_rep = side->samples.v[k].repetition + 1;
        for (size_t k = 0; k < d.samples.n; k++)
            if (d.samples.v[k].repetition < minrep)
                minrep = d.samples.v[k].repetition;
        if (perf_samples_append(&side->samples, &d.samples, i, base_rep - minrep)) {
            perf_bench_doc_free(&d);
            cli_error("perf: out of memory");
            return -1;
        }
        if (!side->have_meta) {
            perf_samples_free(&d.samples);
            side->meta = d;
            side->have_meta = 1;
        } else {
            perf_bench_doc_free(&d);
        }
        side->procs++;
    }
    return 0;
}

int pcli_cmd_run(ctx *c)
{
    opts *o = c->o;
    perf_suite s = {0};
    perf_side side = {.label = NULL};
    perf_progress pr;
    int rc = EXIT_USAGE;
    if (o->npos) {
        cli_error("perf run: unexpected argument '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    if (pcli_load_suite(c, &s))
        return EXIT_USAGE;
    if (pcli_open_history(c, 1))
        goto out;
    side.bin = o->bin ? o->bin : c->exe;
    side.inject_pct = o->inject;
    side.freeze_pct = o->freeze;
    if (o->n_from_json) {
        if (o->inject > 0 || o->freeze > 0 || o->bin || o->reps) {
            cli_error("perf run: --from-json records existing results; --bin, --reps and "
                      "--inject-slowdown apply only when perf runs the bench itself");
            goto out;
        }
        if (import_json(c, &side))
            goto out;
        side.bin = "";
    } else {
        if (o->bin && access(o->bin, X_OK)) {
            cli_error("perf run: --bin %s is not an executable file", o->bin);
            goto out;
        }
        if (pcli_make_scratch(c))
            goto out;
        perf_runner_opts ro = {.scratch = c->scratch, .progress = &pr,
                               .reps_override = (unsigned)o->reps};
        perf_progress_init(&pr, (unsigned)perf_runner_run_calls(&s, ro.reps_override),
                           "perf run");
        int r = perf_run_suite(&s, &side, &ro, &c->e);
        perf_progress_finish(&pr);
        if (r) {
            cli_error("perf run: %s", c->e.msg);
            goto out;
        }
    }
    perf_run_info run;
    char label[200];
    perf_fmt(label, sizeof label, "%s%s%s", o->label ? o->label : "",
             o->n_from_json && o->label ? "; " : "", o->n_from_json ? "imported from JSON" : "");
    perf_side_run_info(&side, &s, "run", label, &run);
    char want[16];
    perf_strlcpy(want, s.sync, sizeof want);
    pcli_upper(want);
    pcli_name_run(c, &run);
    if (!o->n_from_json && strcmp(run.sync_mode, want))
        fprintf(stderr, "lightning perf: warning: the suite asks for sync %s but bench reports "
                        "%s\n", want, run.sync_mode);
    if (perf_history_add_run(c->h, &run, &side.samples, &c->e)) {
        cli_error("perf run: %s", c->e.msg);
        goto out;
    }
    perf_report_run_table(stdout, &side.samples, &s);
    printf("recorded run %lld: suite %s, machine %s, sync %s, commit %.12s%s, %zu samples%s",
           (long long)run.id, run.suite, run.machine_id, run.sync_mode,
           run.commit[0] ? run.commit : "unknown", run.dirty > 0 ? "+dirty" : "",
           side.samples.n, run.inject_slowdown > 0 ? ", injected slowdown " : "");
    if (run.inject_slowdown > 0)
        printf("%g%%", run.inject_slowdown);
    if (side.seconds > 0)
        printf(", %.1f s", side.seconds);
    printf("\n");
    unsigned reps = o->reps ? (unsigned)o->reps : s.reps;
    if (!o->n_from_json && reps < 5)
        printf("note: %u repetitions per benchmark: fewer than 5 per side can never be "
               "significant at alpha 0.01, so check will answer inconclusive\n", reps);
    rc = 0;
out:
    perf_side_free(&side);
    perf_suite_free(&s);
    return rc;
}

/* ---- baseline ----------------------------------------------------------- */

int pcli_cmd_baseline(ctx *c)
{
    opts *o = c->o;
    if (o->npos < 1 || (strcmp(o->pos[0], "set") && strcmp(o->pos[0], "show"))) {
        cli_error("perf baseline: say 'set [RUN]' or 'show'");
        return EXIT_USAGE;
    }
    if (!strcmp(o->pos[0], "show")) {
        if (o->npos > 1) {
            cli_error("perf baseline show: unexpected argument '%s'", o->pos[1]);
            return EXIT_USAGE;
        }
        if (pcli_open_history(c, 0))
            return EXIT_USAGE;
        perf_baseline_row *b;
        size_t n;
        if (perf_history_list_baselines(c->h, &b, &n, &c->e)) {
            cli_error("perf: %s", c->e.msg);
            return EXIT_USAGE;
        }
        const char *me = pcli_this_machine(c);
        int mine = 0;
        for (size_t i = 0; i < n; i++) {
            perf_run_info r;
            char lab[600] = "";
            if (perf_history_get_run(c->h, b[i].run_id, &r, NULL) == 1) {
                pcli_run_label(&r, NULL, lab, sizeof lab);
                perf_run_info_free(&r);
            }
            int here = !strcmp(b[i].machine_id, me);
            mine |= here;
            printf("%s suite %s, sync %s, machine %s: %s, set %s\n", here ? "*" : " ",
                   b[i].suite, b[i].sync_mode, b[i].machine_id, lab, b[i].set_at);
        }
        if (!n)
            printf("no baselines in %s\n", c->history_path);
        else if (!mine)
            printf("(none for this machine, %s)\n", me);
        free(b);
        return n ? 0 : 1;
    }
    if (o->npos > 2) {
        cli_error("perf baseline set: unexpected argument '%s'", o->pos[2]);
        return EXIT_USAGE;
    }
    if (pcli_open_history(c, 0))
        return EXIT_USAGE;
    int64_t id = 0;
    if (o->npos == 2 && pcli_parse_run_ref(o->pos[1], &id)) {
        cli_error("perf baseline set: RUN must be a run id or 'latest', not '%s'", o->pos[1]);
        return EXIT_USAGE;
    }
    if (!id) {
        int r = pcli_latest_run(c, &id);
        if (r <= 0) {
            if (r == 0)
                cli_error("perf baseline set: no runs in %s yet (lightning perf run)",
                          c->history_path);
            return EXIT_USAGE;
        }
    }
    perf_run_info r;
    if (pcli_get_run(c, id, &r))
        return EXIT_USAGE;
    int rc = 0;
    if (strcmp(r.kind, "run")) {
        cli_error("perf baseline set: run %lld is an '%s' run; a baseline must be a suite run "
                  "(lightning perf run)", (long long)id, r.kind);
        rc = EXIT_USAGE;
    } else if (perf_history_set_baseline(c->h, r.machine_id, r.sync_mode, r.suite, r.id,
                                         &c->e)) {
        cli_error("perf: %s", c->e.msg);
        rc = EXIT_USAGE;
    } else {
        char lab[600];
        pcli_run_label(&r, NULL, lab, sizeof lab);
        printf("baseline for machine %s, sync %s, suite %s is now %s\n", r.machine_id,
               r.sync_mode, r.suite, lab);
    }
    perf_run_info_free(&r);
    return rc;
}
