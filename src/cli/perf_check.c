/*
 * cli/perf_check.c — `lightning perf check`: a recorded run against the
 * baseline (or --against a run) with the suite's tolerances.
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
#include "perf/baseline.h"
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

int pcli_cmd_check(ctx *c)
{
    opts *o = c->o;
    perf_run_info head = {0}, base = {0};
    perf_sample_set hs = {0}, bs = {0};
    perf_suite s = {0};
    perf_comparison cmp = {0};
    int rc = EXIT_USAGE, have_head = 0, have_base = 0;
    if (o->npos > 1) {
        cli_error("perf check: unexpected argument '%s'", o->pos[1]);
        return EXIT_USAGE;
    }
    if (pcli_open_history(c, 0))
        return EXIT_USAGE;
    int64_t hid = 0, bid = 0;
    if (o->npos && pcli_parse_run_ref(o->pos[0], &hid)) {
        cli_error("perf check: RUN must be a run id or 'latest', not '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    if (!hid) {
        int r = pcli_latest_run(c, &hid);
        if (r <= 0) {
            if (!r)
                cli_error("perf check: no runs in %s yet (lightning perf run)", c->history_path);
            return EXIT_USAGE;
        }
    }
    if (pcli_get_run(c, hid, &head))
        goto out;
    have_head = 1;
    if (o->against) {
        if (pcli_parse_run_ref(o->against, &bid) || !bid) {
            cli_error("perf check: --against needs a run id, not '%s'", o->against);
            goto out;
        }
    } else {
        perf_baseline_choice bc;
        if (perf_baseline_resolve(c->h, &head, o->establish, o->force, &bc, &c->e)) {
            cli_error("perf: %s", c->e.msg);
            goto out;
        }
        if (bc.status == PERF_BASELINE_ESTABLISHED) {
            char msg[400];
            perf_fmt(msg, sizeof msg,
                     "no baseline yet for machine %s, sync %s, suite %s: run %lld is now "
                     "the baseline (nothing to compare on this first run; later runs are "
                     "checked against it)",
                     head.machine_id, head.sync_mode, head.suite, (long long)hid);
            printf("check: %s\n", msg);
            rc = 0;
            perf_outcome oc = {.message = msg, .machine_id = head.machine_id,
                               .sync_mode = head.sync_mode, .suite = head.suite};
            pcli_emit_outcome(c, &oc, &rc);
            goto out;
        }
        if (bc.status == PERF_BASELINE_ELSEWHERE) {
            cli_error("perf check: no baseline for machine %s, sync %s, suite %s; the "
                      "suite's baseline is on machine %s with sync %s. Comparing across "
                      "machines or sync modes is refused; pass --force to do it anyway "
                      "(the report will say so), or set a baseline here with "
                      "`lightning perf baseline set`",
                      head.machine_id, head.sync_mode, head.suite, bc.other_machine,
                      bc.other_sync);
            goto out;
        }
        if (bc.status == PERF_BASELINE_NONE) {
            cli_error("perf check: no baseline for machine %s, sync %s, suite %s in %s; "
                      "set one with `lightning perf baseline set [RUN]`",
                      head.machine_id, head.sync_mode, head.suite, c->history_path);
            goto out;
        }
        bid = bc.run_id; /* FOUND, or FORCED: marked by the mismatch check below */
    }
    if (pcli_get_run(c, bid, &base))
        goto out;
    have_base = 1;
    if (bid == hid) {
        char msg[160];
        perf_fmt(msg, sizeof msg, "run %lld is the baseline itself; nothing to compare yet",
                 (long long)hid);
        printf("check: %s\n", msg);
        rc = 0;
        perf_outcome oc = {.message = msg, .machine_id = head.machine_id,
                           .sync_mode = head.sync_mode, .suite = head.suite};
        pcli_emit_outcome(c, &oc, &rc);
        goto out;
    }
    perf_strlcpy(cmp.kind, "check", sizeof cmp.kind);
    if (perf_runs_mismatch(&base, &head, cmp.mismatch, sizeof cmp.mismatch)) {
        if (!o->force) {
            cli_error("perf check: refusing to compare run %lld with run %lld: %s. Pass --force "
                      "to compare anyway (marked as forced in the output and reports)",
                      (long long)hid, (long long)bid, cmp.mismatch);
            goto out;
        }
        cmp.forced = 1;
    }
    if (!strcmp(base.machine_id, head.machine_id) && base.fingerprint[0] &&
        head.fingerprint[0] && strcmp(base.fingerprint, head.fingerprint)) {
        /* A named testbed whose kernel or hardware changed: still the same
         * machine to the user, but say so. */
        size_t l = strlen(cmp.mismatch);
        perf_fmt(cmp.mismatch + l, sizeof cmp.mismatch - l,
                 "%smachine %s: fingerprint %s (base) -> %s (head)", l ? "; " : "",
                 head.machine_id, base.fingerprint, head.fingerprint);
    }
    if (pcli_suite_for_run(c, &head, &s))
        goto out;
    if (perf_history_load_samples(c->h, hid, &hs, &c->e) ||
        perf_history_load_samples(c->h, bid, &bs, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        goto out;
    }
    perf_floor_ctx fc = {c->h, head.machine_id, head.sync_mode};
    perf_cmp_opts co;
    perf_cmp_opts_default(&co);
    co.mode = PERF_CMP_CHECK;
    co.floor_lookup = perf_floor_from_history;
    co.floor_ctx = &fc;
    if (pcli_gate_opt(o, &co.gate_on))
        goto out;
    if (perf_compare(&s, &bs, &hs, &co, &cmp, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        goto out;
    }
    /* Runs, not repetitions, are the unit between runs: the wall-clock
     * rows are judged against the history's spread (perf/lookback.h). */
    int window = perf_lookback_apply(c->h, c->root, &head, &hs, bid, co.alpha, &cmp, &c->e);
    if (window < 0) {
        cli_error("perf: %s", c->e.msg);
        goto out;
    }
    cmp.base_run = bid;
    cmp.head_run = hid;
    perf_strlcpy(cmp.suite, s.name, sizeof cmp.suite);
    pcli_run_label(&base, o->against ? "against" : "baseline", cmp.base_label, sizeof cmp.base_label);
    pcli_run_label(&head, NULL, cmp.head_label, sizeof cmp.head_label);
    printf("check %s\n   vs %s\n", cmp.head_label, cmp.base_label);
    if (window >= PERF_BETWEEN_MIN_RUNS)
        printf("wall-clock rows: between-run test against up to %d earlier comparable runs "
               "(Student t, Holm); counts rows: relative change\n", window);
    else
        printf("wall-clock rows: insufficient history (fewer than %d comparable runs): the "
               "within-run test only, which does not see between-run drift\n",
               PERF_BETWEEN_MIN_RUNS);
    if (perf_history_save_comparison(c->h, &cmp, &c->e))
        fprintf(stderr, "lightning perf: warning: comparison not saved: %s\n", c->e.msg);
    perf_report_table(stdout, &cmp);
    rc = cmp.exit_code;
    if (o->md && pcli_write_md(c, o->md, &cmp, &head))
        rc = pcli_with_error(rc);
    perf_outcome oc = {.cmp = &cmp, .machine_id = head.machine_id, .sync_mode = head.sync_mode,
                       .suite = cmp.suite};
    pcli_emit_outcome(c, &oc, &rc);
out:
    if (have_head)
        perf_run_info_free(&head);
    if (have_base)
        perf_run_info_free(&base);
    perf_samples_free(&hs);
    perf_samples_free(&bs);
    perf_suite_free(&s);
    perf_comparison_free(&cmp);
    return rc;
}
