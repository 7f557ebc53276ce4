/*
 * cli/perf_ab.c — the interleaved commands: `lightning perf ab` (two
 * builds), `selftest` (false-alarm rate and power of ab here) and
 * `calibrate` (A/A runs that measure the noise floors).
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
#include "perf/calibrate.h"
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

/* ---- ab ----------------------------------------------------------------- */

static int resolve_side(ctx *c, const char *rev, const char *bin, const char *which, char *path,
                        size_t cap, char sha[41])
{
    sha[0] = '\0';
    if (rev && bin) {
        cli_error("perf ab: give --%s or --%s-bin, not both", which, which);
        return -1;
    }
    if (!rev && !bin) {
        cli_error("perf ab: --%s REV or --%s-bin PATH is required", which, which);
        return -1;
    }
    if (bin) {
        if (access(bin, X_OK)) {
            cli_error("perf ab: --%s-bin %s is not an executable file", which, bin);
            return -1;
        }
        perf_strlcpy(path, bin, cap);
        return 0;
    }
    char repo[PATH_MAX];
    if (perf_git_toplevel(NULL, repo, sizeof repo, &c->e)) {
        cli_error("perf ab: --%s %s needs a git repository: %s", which, rev, c->e.msg);
        return -1;
    }
    if (perf_git_resolve(repo, rev, sha, &c->e)) {
        cli_error("perf ab: --%s: %s", which, c->e.msg);
        return -1;
    }
    perf_build_opts bo = {0};
    if (perf_git_build(repo, sha, &bo, path, cap, &c->e)) {
        cli_error("perf ab: %s", c->e.msg);
        return -1;
    }
    return 0;
}

static void side_label(const char *rev, const char *sha, const char *bin, const perf_side *sd,
                       const char *role, char *out, size_t cap)
{
    char inj[96] = "";
    if (sd->inject_pct > 0)
        perf_fmt(inj, sizeof inj, ", injected slowdown %g%%", sd->inject_pct);
    if (sd->freeze_pct > 0) {
        size_t l = strlen(inj);
        perf_fmt(inj + l, sizeof inj - l, ", frozen %g%% of wall time", sd->freeze_pct);
    }
    if (rev)
        perf_fmt(out, cap, "%s: %s = %.12s%s", role, rev, sha, inj);
    else
        perf_fmt(out, cap, "%s: %s (commit %.12s%s)%s", role, bin,
                 sd->have_meta && sd->meta.commit[0] ? sd->meta.commit : "unknown",
                 sd->have_meta && sd->meta.dirty > 0 ? "+dirty" : "", inj);
}

static int record_ab(ctx *c, perf_ab_result *r, const perf_suite *s, const char *kind_a,
                     const char *kind_b, const char *sha_a, const char *sha_b,
                     perf_comparison *cmp)
{
    perf_run_info ra, rb;
    char la[200], lb[200];
    perf_fmt(la, sizeof la, "%s%s%s", c->o->label ? c->o->label : "", c->o->label ? "; " : "",
             kind_a);
    perf_fmt(lb, sizeof lb, "%s%s%s", c->o->label ? c->o->label : "", c->o->label ? "; " : "",
             kind_b);
    perf_side_run_info(&r->base, s, kind_a, la, &ra);
    perf_side_run_info(&r->head, s, kind_b, lb, &rb);
    pcli_name_run(c, &ra);
    pcli_name_run(c, &rb);
    /* A revision built here is known exactly: its commit id, clean. */
    if (sha_a && sha_a[0]) {
        perf_strlcpy(ra.commit, sha_a, sizeof ra.commit);
        ra.dirty = 0;
    }
    if (sha_b && sha_b[0]) {
        perf_strlcpy(rb.commit, sha_b, sizeof rb.commit);
        rb.dirty = 0;
    }
    if (perf_history_add_run(c->h, &ra, &r->base.samples, &c->e))
        goto fail;
    rb.group_id = ra.id;
    if (perf_history_add_run(c->h, &rb, &r->head.samples, &c->e) ||
        perf_history_set_group(c->h, ra.id, ra.id, &c->e))
        goto fail;
    cmp->base_run = ra.id;
    cmp->head_run = rb.id;
    if (perf_history_save_comparison(c->h, cmp, &c->e))
        goto fail;
    printf("recorded runs %lld (base) and %lld (head) in %s\n", (long long)ra.id,
           (long long)rb.id, c->history_path);
    return 0;
fail:
    fprintf(stderr, "lightning perf: warning: results not recorded: %s\n", c->e.msg);
    return -1;
}

static int ab_mismatch(ctx *c, perf_ab_result *r)
{
    perf_run_info a = {0}, b = {0};
    char sa[16], sb[16];
    perf_samples_sync_mode(&r->base.samples, sa, sizeof sa);
    perf_samples_sync_mode(&r->head.samples, sb, sizeof sb);
    perf_strlcpy(a.machine_id, r->base.meta.machine_id, sizeof a.machine_id);
    perf_strlcpy(b.machine_id, r->head.meta.machine_id, sizeof b.machine_id);
    perf_strlcpy(a.sync_mode, sa, sizeof a.sync_mode);
    perf_strlcpy(b.sync_mode, sb, sizeof b.sync_mode);
    perf_comparison *cmp = &r->cmp;
    if (perf_runs_mismatch(&a, &b, cmp->mismatch, sizeof cmp->mismatch)) {
        if (!c->o->force) {
            cli_error("perf ab: refusing to compare the two builds: %s. Pass --force to compare "
                      "anyway (marked as forced)", cmp->mismatch);
            return -1;
        }
        cmp->forced = 1;
    }
    return 0;
}

/* Which sections ran as duets and which back to back: the reader needs it
 * to know what a row's interval stands for. */
static void print_pairing(const perf_suite *s)
{
    char duet[512] = "", abba[512] = "";
    for (size_t i = 0; i < s->nb; i++) {
        if (s->b[i].counts)
            continue;
        char *d = s->b[i].pairing == PERF_PAIRING_DUET ? duet : abba;
        size_t l = strlen(d);
        perf_fmt(d + l, 512 - l, "%s%s", l ? "," : "", s->b[i].name);
    }
    printf("  pairing: %s%s%s%s%s\n", duet[0] ? "duet (same time, own cores) " : "", duet,
           duet[0] && abba[0] ? "; " : "", abba[0] ? "ABBA (back to back) " : "", abba);
}

int pcli_cmd_ab(ctx *c)
{
    opts *o = c->o;
    perf_suite s = {0};
    perf_ab_result r = {0};
    perf_progress pr;
    int rc = EXIT_USAGE;
    char base_bin[PATH_MAX], head_bin[PATH_MAX], base_sha[41], head_sha[41];
    if (o->npos) {
        cli_error("perf ab: unexpected argument '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    if (pcli_load_suite(c, &s))
        return EXIT_USAGE;
    if (resolve_side(c, o->base, o->base_bin, "base", base_bin, sizeof base_bin, base_sha) ||
        resolve_side(c, o->head, o->head_bin, "head", head_bin, sizeof head_bin, head_sha))
        goto out;
    if (pcli_open_history(c, 1) || pcli_make_scratch(c))
        goto out;
    unsigned rounds = o->rounds ? (unsigned)o->rounds : s.rounds;
    perf_ab_opts ao = {.suite = &s,
                       .base_bin = base_bin,
                       .head_bin = head_bin,
                       .head_inject = o->inject,
                       .head_freeze = o->freeze,
                       .head_options = o->head_options,
                       .rounds = rounds,
                       .scratch = c->scratch,
                       .progress = &pr,
                       .history = c->h,
                       .machine_key = c->machine_name};
    perf_cmp_opts_default(&ao.cmp);
    if (pcli_gate_opt(o, &ao.cmp.gate_on))
        goto out;
    unsigned maxr = o->max_rounds ? (unsigned)o->max_rounds : s.max_rounds;
    if (maxr < rounds)
        maxr = rounds;
    perf_progress_init(&pr, (unsigned)perf_runner_interleaved_calls(&s, rounds, 0), "perf ab");
    int e = perf_ab_run(&ao, &r, &c->e);
    /* Only an undecided answer earns more data, never a "same": the
     * extension can turn INCONCLUSIVE into a decision, and each look is
     * still held to p < alpha and the whole interval beyond the floor. */
    /* A paired INCONCLUSIVE row has a proven slowdown of unknown size:
     * worth sizing even when another row already fails the gate. */
    while (!e && perf_ab_wants_more(&ao, &r) && r.rounds < maxr) {
        unsigned more = r.rounds + r.rounds > maxr ? maxr - r.rounds : r.rounds;
        perf_progress_clear(&pr);
        char why[64];
        perf_fmt(why, sizeof why, r.cmp.inconclusive ? "inconclusive"
                                                     : "a row cannot resolve %g%% yet",
                 100 * s.resolve);
        fprintf(stderr, "lightning perf: %s after %u rounds; adding %u (--max-rounds %u)\n", why,
                r.rounds, more, maxr);
        pr.total += (unsigned)perf_runner_interleaved_calls(&s, more, 1);
        e = perf_ab_extend(&ao, &r, more, &c->e);
    }
    perf_progress_finish(&pr);
    if (e) {
        cli_error("perf ab: %s", c->e.msg);
        goto out;
    }
    if (ab_mismatch(c, &r))
        goto out;
    side_label(o->base, base_sha, base_bin, &r.base, "A (base)", r.cmp.base_label,
               sizeof r.cmp.base_label);
    side_label(o->head, head_sha, head_bin, &r.head, "B (head)", r.cmp.head_label,
               sizeof r.cmp.head_label);
    int has_counts = 0;
    for (size_t i = 0; i < s.nb; i++)
        has_counts |= s.b[i].counts;
    int has_abba = 0;
    for (size_t i = 0; i < s.nb; i++)
        has_abba |= !s.b[i].counts && s.b[i].pairing == PERF_PAIRING_ABBA;
    printf("ab: %u rounds per side%s%s, suite %s, machine %s, sync %s, %.0f s\n  %s\n  %s\n",
           r.rounds, has_abba ? ", ABBA order" : "", has_counts ? " (counts sections: one process per side)" : "", s.name,
           r.machine_id, r.sync_mode, r.wall_s, r.cmp.base_label, r.cmp.head_label);
    print_pairing(&s);
    if (!o->no_record)
        record_ab(c, &r, &s, "ab-base", o->record_run ? "run" : "ab-head", base_sha, head_sha,
                  &r.cmp);
    perf_report_table(stdout, &r.cmp);
    rc = r.cmp.exit_code;
    if (o->md && pcli_write_md(c, o->md, &r.cmp, NULL))
        rc = pcli_with_error(rc);
    perf_outcome oc = {.cmp = &r.cmp, .machine_id = r.machine_id, .sync_mode = r.sync_mode,
                       .suite = s.name};
    pcli_emit_outcome(c, &oc, &rc);
out:
    perf_ab_result_free(&r);
    perf_suite_free(&s);
    return rc;
}

/* ---- selftest ----------------------------------------------------------- */

int pcli_cmd_selftest(ctx *c)
{
    opts *o = c->o;
    perf_suite s = {0};
    int rc = EXIT_USAGE;
    if (o->npos) {
        cli_error("perf selftest: unexpected argument '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    if (!o->suite)
        o->quick = 1;
    if (pcli_load_suite(c, &s))
        return EXIT_USAGE;
    const char *bin = o->bin ? o->bin : c->exe;
    if (access(bin, X_OK)) {
        cli_error("perf selftest: --bin %s is not an executable file", bin);
        goto out;
    }
    double freeze = o->freeze > 0 ? o->freeze : 5;
    if (freeze > 90) {
        cli_error("perf selftest: --inject-freeze must be in (0, 90]");
        goto out;
    }
    if (pcli_open_history(c, 1) || pcli_make_scratch(c))
        goto out;
    perf_selftest_opts so = {.runs = o->runs > 0 ? (unsigned)o->runs : 3, .freeze_pct = freeze};
    so.ab = (perf_ab_opts){.suite = &s, .base_bin = bin, .head_bin = bin,
                           .rounds = o->rounds ? (unsigned)o->rounds : s.rounds,
                           .scratch = c->scratch, .history = c->h};
    perf_cmp_opts_default(&so.ab.cmp);
    so.ab.cmp.estimate_power = 0;
    so.max_rounds = o->max_rounds ? (unsigned)o->max_rounds : s.max_rounds;
    if (so.max_rounds < so.ab.rounds)
        so.max_rounds = so.ab.rounds;
    if (perf_selftest(&so, stdout, &c->e)) {
        cli_error("perf selftest: %s", c->e.msg);
        goto out;
    }
    rc = 0;
out:
    perf_suite_free(&s);
    return rc;
}

/* ---- calibrate ---------------------------------------------------------- */

int pcli_cmd_calibrate(ctx *c)
{
    opts *o = c->o;
    perf_suite s = {0};
    perf_ab_result r = {0};
    perf_progress pr;
    int rc = EXIT_USAGE;
    if (o->npos) {
        cli_error("perf calibrate: unexpected argument '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    const char *bin = o->bin ? o->bin : c->exe;
    if (access(bin, X_OK)) {
        cli_error("perf calibrate: --bin %s is not an executable file", bin);
        return EXIT_USAGE;
    }
    if (pcli_load_suite(c, &s))
        return EXIT_USAGE;
    if (pcli_open_history(c, 1) || pcli_make_scratch(c))
        goto out;
    unsigned rounds = o->rounds ? (unsigned)o->rounds : s.rounds;
    if (rounds < 5) {
        cli_error("perf calibrate: --rounds %u is too few to measure noise (>= 5)", rounds);
        goto out;
    }
    perf_ab_opts ao = {.suite = &s,
                       .base_bin = bin,
                       .head_bin = bin,
                       .rounds = rounds,
                       .scratch = c->scratch,
                       .progress = &pr,
                       .history = NULL /* judge the A/A test on the default floor */,
                       .machine_key = c->machine_name};
    perf_cmp_opts_default(&ao.cmp);
    perf_progress_init(&pr, (unsigned)perf_runner_interleaved_calls(&s, rounds, 0),
                       "perf calibrate");
    int e = perf_ab_run(&ao, &r, &c->e);
    perf_progress_finish(&pr);
    if (e) {
        cli_error("perf calibrate: %s", c->e.msg);
        goto out;
    }
    perf_strlcpy(r.cmp.kind, "calibrate", sizeof r.cmp.kind);
    perf_fmt(r.cmp.base_label, sizeof r.cmp.base_label, "A: %s", bin);
    perf_fmt(r.cmp.head_label, sizeof r.cmp.head_label, "A': %s (same binary)", bin);
    record_ab(c, &r, &s, "calibrate-a", "calibrate-b", NULL, NULL, &r.cmp);
    perf_calibration cal;
    if (perf_calibrate_floors(&r, &s, &cal, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        goto out;
    }
    printf("calibrate: %u A/A rounds per side on machine %s, sync %s\n", r.rounds, r.machine_id,
           r.sync_mode);
    printf("%-34s %-16s %9s %9s %7s\n", "benchmark", "metric", "cv", "floor", "k");
    for (size_t i = 0; i < cal.n; i++) {
        const perf_noise_row *row = &cal.rows[i];
        if (!cal.gated[i])
            continue;
        char name[128];
        perf_series_name(row->benchmark, row->engine, row->threads, name, sizeof name);
        printf("%-34s %-16s %8.2f%% %8.2f%% %7d\n", name, row->metric, row->cv * 100,
               row->floor * 100, row->k);
    }
    double worst = cal.worst_gated;
    int acceptable = perf_calibrate_acceptable(&cal);
    if (worst > 0.10) {
        double load[3] = {0, 0, 0};
        FILE *la = fopen("/proc/loadavg", "r");
        if (la) {
            if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
                load[0] = load[1] = load[2] = 0;
            fclose(la);
        }
        printf("%s: floors up to %.0f%%: the machine was noisy while calibrating (load "
               "average %.2f %.2f %.2f). ab and check cannot see changes smaller than the "
               "floor; re-run calibrate when the machine is quiet.\n\n",
               acceptable ? "warning" : "refused", worst * 100, load[0], load[1], load[2]);
    }
    /* Refused as a whole (unless --force), so floors from a loaded machine
     * never replace good ones and blind check and ab. */
    if (!acceptable && !o->force) {
        cli_error("perf calibrate: not stored: a gated floor of %.0f%% is above %.0f%%, wider "
                  "than the suite's tolerances; the floors already stored are kept (--force "
                  "stores these anyway)",
                  worst * 100, PERF_CALIBRATE_MAX_FLOOR * 100);
        perf_calibration_free(&cal);
        goto out;
    }
    if (perf_calibrate_store(c->h, &cal, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        perf_calibration_free(&cal);
        goto out;
    }
    size_t nrows = cal.n;
    perf_calibration_free(&cal);
    printf("stored %zu noise floors (every metric; the table shows the gated ones) in %s\n",
           nrows, c->history_path);
    printf("floor = 95th percentile of |1 - median(A)/median(B)| over A/A groups of k runs; "
           "comparisons of n runs use floor * sqrt(k/n), never below 0.5%%\n\n");
    printf("The A/A comparison itself, judged on the default 2%% floor:\n");
    perf_report_rows(stdout, &r.cmp);
    printf("A/A: %u false alarm%s (regressions claimed), %u inconclusive, %u same\n",
           r.cmp.regressions, r.cmp.regressions == 1 ? "" : "s", r.cmp.inconclusive,
           r.cmp.same + r.cmp.improvements);
    if (r.cmp.regressions)
        printf("warning: the A/A test claimed %u regression(s): this machine is noisier or "
               "less stable than the statistics assume; quiet it or raise the rounds\n",
               r.cmp.regressions);
    rc = 0;
out:
    perf_ab_result_free(&r);
    perf_suite_free(&s);
    return rc;
}
