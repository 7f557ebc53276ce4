/*
 * cli/perf_bisect.c — `lightning perf bisect` (drives `git bisect run`) and
 * `bisect-step`, the per-commit step git runs.
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

/* ---- bisect ------------------------------------------------------------- */

/* Splits a command on whitespace into argv (no shell). */
static int split_cmd(const char *cmd, char *buf, size_t cap, char **argv, size_t maxv)
{
    perf_strlcpy(buf, cmd, cap);
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n + 1 >= maxv)
            return -1;
        argv[n++] = t;
    }
    argv[n] = NULL;
    return n ? 0 : -1;
}

int pcli_cmd_bisect_step(ctx *c)
{
    opts *o = c->o;
    perf_suite s = {0};
    perf_ab_result r = {0};
    perf_bisect_step st;
    char sha[64], bin[PATH_MAX], buf[1024], *bargv[64];
    int code = PERF_BISECT_SKIP;
    memset(&st, 0, sizeof st);
    if (!o->good_bin || !o->repo || !o->steps_file || !o->cache || !o->suite) {
        cli_error("perf bisect-step: internal command; run lightning perf bisect");
        return 128; /* aborts git bisect run */
    }
    char *head[] = {"git", "rev-parse", "--verify", "BISECT_HEAD", NULL};
    if (perf_proc_capture(head, NULL, sha, sizeof sha, "/dev/null", &c->e) != 0 ||
        strlen(sha) != 40) {
        cli_error("perf bisect-step: no BISECT_HEAD here");
        return 128;
    }
    perf_strlcpy(st.sha, sha, sizeof st.sha);
    if (pcli_load_suite(c, &s))
        return 128;
    perf_build_opts bo = {.cache_dir = o->cache, .bin_rel = o->built_bin, .quiet = 1};
    if (o->build_cmd) {
        if (split_cmd(o->build_cmd, buf, sizeof buf, bargv, 64)) {
            cli_error("perf bisect-step: bad --build-cmd");
            goto out;
        }
        bo.build_argv = bargv;
    }
    if (perf_git_build(o->repo, sha, &bo, bin, sizeof bin, &c->e)) {
        fprintf(stderr, "lightning perf: %.12s does not build, skipped: %s\n", sha, c->e.msg);
        perf_strlcpy(st.verdict, "skip: does not build", sizeof st.verdict);
        goto out;
    }
    if (pcli_make_scratch(c))
        goto out;
    if (o->history && pcli_open_history(c, 1))
        c->h = NULL;
    unsigned rounds = o->rounds ? (unsigned)o->rounds : s.rounds;
    unsigned maxr = o->max_rounds ? (unsigned)o->max_rounds : rounds * 4;
    perf_ab_opts ao = {.suite = &s, .base_bin = o->good_bin, .head_bin = bin,
                       .rounds = rounds, .scratch = c->scratch, .history = c->h};
    perf_cmp_opts_default(&ao.cmp);
    ao.cmp.estimate_power = 0;
    if (perf_ab_run(&ao, &r, &c->e)) {
        fprintf(stderr, "lightning perf: measuring %.12s failed, skipped: %s\n", sha, c->e.msg);
        perf_strlcpy(st.verdict, "skip: bench failed", sizeof st.verdict);
        goto out;
    }
    /* Re-measure an undecided step: double the rounds while it stays
     * inconclusive and the cap allows. */
    while (r.cmp.inconclusive && !r.cmp.regressions && r.rounds < maxr) {
        unsigned more = r.rounds;
        if (r.rounds + more > maxr)
            more = maxr - r.rounds;
        if (perf_ab_extend(&ao, &r, more, &c->e)) {
            perf_strlcpy(st.verdict, "skip: bench failed", sizeof st.verdict);
            goto out;
        }
    }
    code = perf_bisect_step_code(&r.cmp);
    perf_strlcpy(st.verdict,
                 code == PERF_BISECT_BAD    ? "bad (regression)"
                 : code == PERF_BISECT_GOOD ? "good"
                                            : "skip: inconclusive",
                 sizeof st.verdict);
    for (size_t i = 0; i < r.cmp.n; i++)
        if (r.cmp.rows[i].status == PERF_ROW_OK) {
            st.g = r.cmp.rows[i].v.g;
            st.g_lo = r.cmp.rows[i].v.g_lo;
            st.g_hi = r.cmp.rows[i].v.g_hi;
            break;
        }
    st.rounds = r.rounds;
out:
    perf_bisect_append_step(o->steps_file, &st);
    perf_ab_result_free(&r);
    perf_suite_free(&s);
    return code;
}

int pcli_cmd_bisect(ctx *c)
{
    opts *o = c->o;
    perf_suite s = {0};
    perf_ab_result r = {0};
    perf_progress pr;
    int rc = EXIT_USAGE;
    char repo[PATH_MAX], good[41], bad[41], good_bin[PATH_MAX], bad_bin[PATH_MAX];
    char suite_path[PATH_MAX], cache[PATH_MAX + 16], steps[PATH_MAX + 16], buf[1024], *bargv[64];
    perf_bisect_step *sv = NULL;
    perf_outcome oc = {.good = o->good, .bad = o->bad, .good_sha = good, .bad_sha = bad,
                       .benchmark = o->benchmark};
    good[0] = bad[0] = '\0';
    if (o->npos) {
        cli_error("perf bisect: unexpected argument '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    if (!o->good || !o->bad || !o->benchmark) {
        cli_error("perf bisect: --good REV, --bad REV and --benchmark B are required");
        return EXIT_USAGE;
    }
    if (strchr(o->benchmark, ',')) {
        cli_error("perf bisect: --benchmark takes one suite section");
        return EXIT_USAGE;
    }
    if (perf_git_toplevel(NULL, repo, sizeof repo, &c->e)) {
        cli_error("perf bisect: %s", c->e.msg);
        return EXIT_USAGE;
    }
    if (perf_git_resolve(repo, o->good, good, &c->e) ||
        perf_git_resolve(repo, o->bad, bad, &c->e)) {
        cli_error("perf bisect: %s", c->e.msg);
        return EXIT_USAGE;
    }
    if (pcli_default_suite_path(c, suite_path, sizeof suite_path) || pcli_load_suite(c, &s))
        return EXIT_USAGE;
    if (pcli_make_scratch(c))
        goto out;
    perf_fmt(cache, sizeof cache, "%s/builds", c->scratch);
    perf_fmt(steps, sizeof steps, "%s/steps.txt", c->scratch);
    perf_build_opts bo = {.cache_dir = o->build_cmd ? cache : NULL, .bin_rel = o->built_bin};
    if (o->build_cmd) {
        if (split_cmd(o->build_cmd, buf, sizeof buf, bargv, 64)) {
            cli_error("perf bisect: --build-cmd is empty or too long");
            goto out;
        }
        bo.build_argv = bargv;
    }
    if (perf_git_build(repo, good, &bo, good_bin, sizeof good_bin, &c->e) ||
        perf_git_build(repo, bad, &bo, bad_bin, sizeof bad_bin, &c->e)) {
        cli_error("perf bisect: %s", c->e.msg);
        goto out;
    }
    /* First make sure there is something to find. */
    if (pcli_open_history(c, 1))
        goto out;
    unsigned rounds = o->rounds ? (unsigned)o->rounds : s.rounds;
    unsigned maxr = o->max_rounds ? (unsigned)o->max_rounds : rounds * 4;
    perf_ab_opts ao = {.suite = &s, .base_bin = good_bin, .head_bin = bad_bin, .rounds = rounds,
                       .scratch = c->scratch, .progress = &pr, .history = c->h,
                       .machine_key = c->machine_name};
    perf_cmp_opts_default(&ao.cmp);
    ao.cmp.estimate_power = 0;
    perf_progress_init(&pr, (unsigned)perf_runner_interleaved_calls(&s, rounds, 0),
                       "perf bisect: good vs bad");
    int e = perf_ab_run(&ao, &r, &c->e);
    while (!e && r.cmp.inconclusive && !r.cmp.regressions && r.rounds < maxr) {
        unsigned more = r.rounds + r.rounds > maxr ? maxr - r.rounds : r.rounds;
        pr.total += (unsigned)perf_runner_interleaved_calls(&s, more, 1);
        e = perf_ab_extend(&ao, &r, more, &c->e);
    }
    perf_progress_finish(&pr);
    if (e) {
        cli_error("perf bisect: measuring good vs bad: %s", c->e.msg);
        goto out;
    }
    printf("bisect: %s (%.12s) vs good %s (%.12s), benchmark %s, %u rounds:\n", o->bad, bad,
           o->good, good, o->benchmark, r.rounds);
    /* The comparison's own "-> exit N" would contradict bisect's exit code
     * (a regression here is what lets the bisection start), so the rows
     * are followed by bisect's own sentence. */
    perf_report_rows(stdout, &r.cmp);
    printf("good vs bad: %u regression%s, %u improvement%s, %u inconclusive, %u same\n",
           r.cmp.regressions, r.cmp.regressions == 1 ? "" : "s", r.cmp.improvements,
           r.cmp.improvements == 1 ? "" : "s", r.cmp.inconclusive, r.cmp.same);
    oc.cmp = &r.cmp;
    oc.machine_id = r.machine_id;
    oc.sync_mode = r.sync_mode;
    oc.suite = s.name;
    if (!r.cmp.regressions) {
        cli_error("perf bisect: the bad revision is not measurably slower than the good one "
                  "(%s); nothing to bisect", r.cmp.inconclusive ? "inconclusive" : "no regression");
        oc.message = cli_last_error();
        rc = r.cmp.inconclusive ? PERF_EXIT_INCONCLUSIVE : EXIT_USAGE;
        pcli_emit_outcome(c, &oc, &rc);
        goto out;
    }
    char rs[32], mr[32];
    snprintf(rs, sizeof rs, "%u", rounds);
    snprintf(mr, sizeof mr, "%u", maxr);
    const char *args[40];
    size_t a = 0;
    args[a++] = "bisect-step";
    args[a++] = "--good-bin";
    args[a++] = good_bin;
    args[a++] = "--benchmark";
    args[a++] = o->benchmark;
    args[a++] = "--suite";
    args[a++] = suite_path;
    args[a++] = "--rounds";
    args[a++] = rs;
    args[a++] = "--max-rounds";
    args[a++] = mr;
    args[a++] = "--steps-file";
    args[a++] = steps;
    /* A custom build command gets a private cache: its binaries are not
     * the default build's and must not be mistaken for them later. */
    char defcache[PATH_MAX + 32];
    perf_fmt(defcache, sizeof defcache, "%s/build/perf-revs", repo);
    args[a++] = "--cache";
    args[a++] = o->build_cmd ? cache : defcache;
    args[a++] = "--repo";
    args[a++] = repo;
    args[a++] = "--history";
    args[a++] = c->history_path;
    if (o->build_cmd) {
        args[a++] = "--build-cmd";
        args[a++] = o->build_cmd;
    }
    if (o->built_bin) {
        args[a++] = "--built-bin";
        args[a++] = o->built_bin;
    }
    args[a] = NULL;
    printf("bisect: running git bisect run (each step: build, then %u-%u ABBA rounds against "
           "the good build)...\n", rounds, maxr);
    fflush(stdout);
    perf_bisect_opts bopt = {.repo = repo, .good_sha = good, .bad_sha = bad, .driver = c->exe,
                             .step_args = (char *const *)args, .scratch = c->scratch};
    char first[41], tail[1024];
    int found = perf_bisect_drive(&bopt, first, tail, sizeof tail, &c->e);
    size_t ns = perf_bisect_read_steps(steps, &sv);
    for (size_t i = 0; i < ns; i++)
        printf("  step %zu: %.12s  g %.3f [%.3f, %.3f] after %u rounds: %s\n", i + 1, sv[i].sha,
               sv[i].g, sv[i].g_lo, sv[i].g_hi, sv[i].rounds, sv[i].verdict);
    oc.steps = sv;
    oc.nsteps = ns;
    if (found < 0) {
        cli_error("perf bisect: %s", c->e.msg);
        oc.message = cli_last_error();
        pcli_emit_outcome(c, &oc, &rc);
        goto out;
    }
    if (!found) {
        printf("bisect: git could not pin a single commit (skipped steps around it):\n%s\n",
               tail);
        rc = PERF_EXIT_INCONCLUSIVE;
        oc.message = "git could not pin a single commit: steps around it were skipped";
        pcli_emit_outcome(c, &oc, &rc);
        goto out;
    }
    char subj[256];
    perf_git_subject(repo, first, subj, sizeof subj);
    printf("first bad commit: %s %s\n", first, subj);
    rc = 0;
    oc.first_bad = first;
    oc.first_bad_subject = subj;
    pcli_emit_outcome(c, &oc, &rc);
out:
    free(sv);
    perf_ab_result_free(&r);
    perf_suite_free(&s);
    return rc;
}
