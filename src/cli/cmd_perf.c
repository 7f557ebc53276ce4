/*
 * cli/cmd_perf.c — `lightning perf`, the performance regression framework's
 * command line: the help texts, option parsing and the dispatch to one
 * subcommand. The subcommands live in perf_*.c beside it (one file per
 * group, declared in perf_cli.h); the decisions themselves live in
 * src/perf. Exit codes:
 *   0 pass, 1 regression, 2 usage or run error, 3 inconclusive.
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

/* ---- help --------------------------------------------------------------- */

static const char *const help_main =
    "usage: lightning perf <command> [options]\n"
    "\n"
    "The performance regression framework: runs the benchmark suite through\n"
    "`lightning bench`, keeps a history in SQLite, and decides with sound\n"
    "statistics whether a change made things slower.\n"
    "\n"
    "Commands:\n"
    "  run        run the suite, record the results in the history\n"
    "  baseline   set [RUN] | show: pin the baseline of this machine + sync + suite\n"
    "  check      compare a run with the baseline, per-benchmark tolerances\n"
    "  ab         interleaved (ABBA) comparison of two builds: --base/--head REV\n"
    "             or --base-bin/--head-bin PATH\n"
    "  calibrate  A/A runs that measure each benchmark's noise floor here\n"
    "  selftest   measured false-alarm rate and power of ab on this machine\n"
    "  trend      change points and drift over the history\n"
    "  bisect     find the commit that made a benchmark slower (git bisect run)\n"
    "  report     Markdown and self-contained HTML reports\n"
    "  export     the history as CSV or JSON\n"
    "  history    list the recorded runs\n"
    "  copy-history --to DEST  copy this history (runs, baselines, floors,\n"
    "             comparisons, ids kept) into an empty one, e.g. SQLite to PostgreSQL\n"
    "\n"
    "Common options:\n"
    "  --history FILE|URL  the history: an SQLite file or a postgresql:// URL\n"
    "                   (default: $LIGHTNING_PERF_HISTORY, else perf-history.db at\n"
    "                   the repository root)\n"
    "  --suite FILE     suite file (default bench/suite.ini); --quick: bench/quick.ini\n"
    "  --benchmark LIST only these suite sections (comma-separated)\n"
    "  --machine NAME   this testbed's name (default: $LIGHTNING_PERF_MACHINE, else\n"
    "                   the machine fingerprint): runs, baselines and noise floors\n"
    "                   are keyed by it, so a kernel update that changes the\n"
    "                   fingerprint keeps the baseline; history --all shows machines\n"
    "\n"
    "Exit codes (check, ab, bisect): 0 pass, 1 regression, 2 usage or run error,\n"
    "3 inconclusive (too noisy to decide; the output says how many repetitions\n"
    "would decide). `lightning perf <command> --help` documents each command;\n"
    "docs/perf.md has the details.\n";

typedef struct cmd_help {
    const char *name;
    const char *text;
} cmd_help;

static const cmd_help helps[] = {
    {"run",
     "usage: lightning perf run [--suite FILE | --quick] [--benchmark LIST] [--reps N]\n"
     "                          [--bin PATH] [--inject-slowdown PCT] [--label TEXT]\n"
     "                          [--from-json FILE]...\n"
     "Runs every benchmark of the suite (repetitions spread over the suite's\n"
     "`processes` bench processes) and records the samples, with commit, dirty\n"
     "flag, compiler and flags, machine fingerprint, suite, sync mode and time.\n"
     "  --reps N               repetitions per benchmark (default: the suite's)\n"
     "  --bin PATH             the lightning binary to measure (default: this one)\n"
     "  --inject-slowdown PCT  passed to bench: calibrated busy work per operation\n"
     "                         of the lightning engine (to test the framework)\n"
     "  --inject-freeze PCT    stop the bench processes PCT% of every 20 ms\n"
     "  --from-json FILE       record existing `lightning bench --json` output\n"
     "                         instead of running (repeatable)\n"},
    {"baseline",
     "usage: lightning perf baseline set [RUN] | show\n"
     "  set [RUN]  pins RUN (default: this machine's latest run) as the baseline\n"
     "             of its machine fingerprint + sync mode + suite\n"
     "  show       lists the baselines (this machine's marked)\n"},
    {"check",
     "usage: lightning perf check [RUN] [--against RUN] [--suite FILE | --quick] [--force]\n"
     "                            [--benchmark LIST] [--establish-baseline] [--gate-on G]\n"
     "                            [--md FILE] [--json FILE] [--junit FILE] [--comment FILE]\n"
     "Compares RUN (default: this machine's latest run) with the baseline of its\n"
     "machine + sync mode + suite using the suite's per-benchmark tolerances\n"
     "(read >= 90% of baseline, ...): a regression needs p < 0.01 and the whole\n"
     "99% confidence interval below 1 - max(tolerance, noise floor).\n"
     "  --against RUN  compare with this run instead of the baseline\n"
     "  --force        compare even across machines or sync modes (marked so)\n"
     "  --establish-baseline  when this machine + sync + suite has no baseline yet,\n"
     "                 pin RUN as the baseline, say so, and pass (the first CI run)\n"
     "  --md FILE      also write the verdict table as Markdown\n"
     "  --json FILE    the verdict as JSON, schema lightning-perf-verdict/1 (docs/perf.md)\n"
     "  --junit FILE   the verdict as JUnit XML (a testcase per row) for CI test tabs\n"
     "  --comment FILE a short GitHub-flavoured Markdown comment: verdict, regressions\n"
     "                 first with size and interval, the rest folded\n"
     "  --gate-on G    counts, wallclock or either (default: the suite's gate_on,\n"
     "                 else either): which rows decide the exit code. Counts rows\n"
     "                 (measure = counts sections) are judged by their relative\n"
     "                 change against the suite's counts_threshold (1%)\n"
     "Exit 0 pass, 1 regression, 2 error, 3 inconclusive.\n"},
    {"ab",
     "usage: lightning perf ab (--base REV | --base-bin PATH) (--head REV | --head-bin PATH)\n"
     "                         [--rounds N] [--quick] [--benchmark LIST]\n"
     "                         [--inject-slowdown PCT] [--max-rounds N] [--no-record] [--force]\n"
     "                         [--gate-on G] [--md FILE] [--json FILE] [--junit FILE]\n"
     "                         [--comment FILE] [--record-head-as-run]\n"
     "Builds each revision in its own git worktree (cached by commit) or takes\n"
     "the given binaries, then runs both interleaved, one bench process per\n"
     "sample, N rounds per side (default: the suite's `rounds`): sections with\n"
     "pairing = duet run base and head at the same time, each on its own core;\n"
     "the others (pairing = abba) back to back in ABBA order. Wall-clock rows\n"
     "are judged by the per-pair ratios (signed-rank test, Hodges-Lehmann\n"
     "interval): the process pair is the unit. The limit is the noise floor\n"
     "(calibrated, else 2%), not the suite's tolerance.\n"
     "  --inject-slowdown PCT  head side only: bench's injected slowdown (busy work:\n"
     "                         counts see it)\n"
     "  --inject-freeze PCT    head side only: its bench processes are stopped\n"
     "                         (SIGSTOP/SIGCONT) PCT% of every 20 ms: a slowdown\n"
     "                         instruction counts cannot see\n"
     "  --head-options LIST    head side only: engine options (LIGHTNING_BENCH_OPTIONS)\n"
     "                         after the suite's, e.g. the off-CPU injector\n"
     "                         inject_every=1000 (a syscall per 1000 ops) or\n"
     "                         inject_every=1000,inject_sleep_us=20 (a sleep)\n"
     "  --record-head-as-run   record the head side as a `run` (what trend, check\n"
     "                         and report read; `make perf` does this)\n"
     "  --max-rounds N         while the verdict is inconclusive, add rounds (doubling)\n"
     "                         up to N per side and judge again (default: the suite's\n"
     "                         max_rounds; equal to --rounds: no extension)\n"
     "  --no-record            do not store the runs and the verdicts\n"
     "  --gate-on G            counts, wallclock or either (default: the suite's\n"
     "                         gate_on): which rows decide the exit code; counts\n"
     "                         sections run once per side (they are deterministic)\n"
     "  --json FILE            the verdict as JSON, schema lightning-perf-verdict/1 (docs/perf.md)\n"
     "  --junit FILE           the verdict as JUnit XML (a testcase per row) for CI test tabs\n"
     "  --comment FILE         a short GitHub-flavoured Markdown comment: verdict, regressions\n"
     "                         first with size and interval, the rest folded\n"
     "Exit 0 pass, 1 regression, 2 error, 3 inconclusive.\n"},
    {"calibrate",
     "usage: lightning perf calibrate [--rounds N] [--quick] [--benchmark LIST] [--bin PATH]\n"
     "                                [--force]\n"
     "Runs the same binary against itself interleaved (A/A) and stores, per\n"
     "machine, sync mode, benchmark and metric, the 95th percentile of the\n"
     "relative difference of medians of two groups of N runs: the noise floor\n"
     "check and ab use from then on (rescaled by sqrt(N/n) for n runs).\n"
     "Floors above 25% (a loaded machine) are not stored and the exit is 2:\n"
     "the floors stored before stay in use.\n"
     "  --force  store them anyway\n"},
    {"selftest",
     "usage: lightning perf selftest [--runs N] [--inject-freeze PCT] [--quick | --suite FILE]\n"
     "                               [--benchmark LIST] [--rounds N] [--max-rounds N] [--bin PATH]\n"
     "Runs N A/A comparisons (the binary against itself) and N with the head\n"
     "frozen PCT% of its wall time (default 5; SIGSTOP/SIGCONT, invisible to\n"
     "instruction counts), each exactly as `ab` runs it, and prints per wall-\n"
     "clock row the false alarms, INCONCLUSIVE answers and detections it\n"
     "measured, the exit codes and the time taken. Default: --runs 3, the\n"
     "quick suite. Records nothing. Exit 0 when it ran, 2 on error.\n"},
    {"trend",
     "usage: lightning perf trend [--benchmark B] [--metric M] [--suite FILE | --quick]\n"
     "Change points over this machine's runs of the suite (E-Divisive means,\n"
     "alpha 0.05, 199 permutations, minimum segment 5, fixed seed), each with\n"
     "the commit where it starts, medians before/after and the step; plus slow\n"
     "drift (Theil-Sen slope, Mann-Kendall test) over the window.\n"
     "  --benchmark B  a bench benchmark name, glob or suite section\n"
     "  --metric M     default: each section's gated metrics\n"
     "  --json/--junit/--comment FILE  the change points as lightning-perf-verdict/1\n"
     "                 JSON, JUnit XML (one passing testcase per series) or Markdown\n"},
    {"bisect",
     "usage: lightning perf bisect --good REV --bad REV --benchmark B [--rounds N]\n"
     "                             [--max-rounds N] [--build-cmd CMD] [--built-bin REL]\n"
     "Drives `git bisect run` in a private worktree: each step builds the commit\n"
     "and measures it interleaved against the good build; regression = bad,\n"
     "same = good, inconclusive = re-measured with more rounds (up to\n"
     "--max-rounds), then skipped; a commit that does not build is skipped.\n"
     "  --build-cmd CMD  build command, split on spaces, run in the worktree\n"
     "                   (default: make -jN build/lightning)\n"
     "  --built-bin REL  the built lightning binary (default build/lightning)\n"
     "  --json/--junit/--comment FILE  the result (bad vs good, the steps, the first\n"
     "                   bad commit) as lightning-perf-verdict/1 JSON, JUnit or Markdown\n"},
    {"report",
     "usage: lightning perf report [--html FILE] [--md FILE] [--run ID] [--comparison ID]\n"
     "                             [--site DIR]\n"
     "One self-contained HTML file (SVG charts: each benchmark's history with\n"
     "change points, the last comparison's ratios with confidence intervals,\n"
     "latency percentiles) and a Markdown summary for a CI job page. Without\n"
     "--html/--md the Markdown goes to stdout.\n"
     "  --run ID         the run the report is about (default: the latest)\n"
     "  --comparison ID  the comparison shown (default: the latest check or ab)\n"
     "  --site DIR  a static dashboard of the whole history: DIR/index.html (every\n"
     "              testbed's latest verdict and series) and a page per series\n"},
    {"export",
     "usage: lightning perf export (--csv FILE | --json FILE) [--run ID]\n"
     "FILE '-' is stdout. CSV columns: run_id, timestamp, commit, machine_id,\n"
     "benchmark, engine, sync_mode, threads, repetition, metric, value, unit,\n"
     "direction, dirty, suite, kind, proc, label.\n"},
    {"copy-history",
     "usage: lightning perf copy-history --to FILE|URL\n"
     "Copies the history (--history, or the default) into an empty one: every run\n"
     "with its samples, the baselines, noise floors and comparisons, with their ids\n"
     "and times, so commands give the same output on the copy. The usual move: a\n"
     "machine's perf-history.db into a shared PostgreSQL history\n"
     "(--to postgresql://host/db).\n"},
    {"history",
     "usage: lightning perf history [--limit N] [--all]\n"
     "Lists this machine's runs (--all: every machine's), oldest first.\n"},
};

static int print_help(const char *cmd)
{
    for (size_t i = 0; cmd && i < sizeof helps / sizeof helps[0]; i++)
        if (!strcmp(helps[i].name, cmd)) {
            fputs(helps[i].text, stdout);
            return 0;
        }
    fputs(help_main, stdout);
    return 0;
}

/* ---- options ------------------------------------------------------------ */


enum { T_FLAG, T_STR, T_LONG, T_DOUBLE, T_MULTI };

typedef struct optdef {
    const char *name;
    int type;
    size_t off;
    const char *cmds; /* commands that accept it, comma-separated */
} optdef;

#define O(f) offsetof(opts, f)
static const optdef optdefs[] = {
    {"history", T_STR, O(history), "*"},
    {"machine", T_STR, O(machine), "*"},
    {"help", T_FLAG, O(help), "*"},
    {"suite", T_STR, O(suite), "run,check,ab,calibrate,trend,bisect,bisect-step,report,selftest"},
    {"quick", T_FLAG, O(quick), "run,check,ab,calibrate,trend,bisect,report,selftest"},
    {"benchmark", T_STR, O(benchmark), "run,check,ab,calibrate,trend,bisect,bisect-step,selftest"},
    {"metric", T_STR, O(metric), "trend"},
    {"bin", T_STR, O(bin), "run,calibrate,selftest"},
    {"label", T_STR, O(label), "run,ab,calibrate"},
    {"reps", T_LONG, O(reps), "run"},
    {"rounds", T_LONG, O(rounds), "ab,calibrate,bisect,bisect-step,selftest"},
    {"max-rounds", T_LONG, O(max_rounds), "ab,bisect,bisect-step,selftest"},
    {"inject-slowdown", T_DOUBLE, O(inject), "run,ab"},
    {"inject-freeze", T_DOUBLE, O(freeze), "run,ab,selftest"},
    {"record-head-as-run", T_FLAG, O(record_run), "ab"},
    {"runs", T_LONG, O(runs), "selftest"},
    {"from-json", T_MULTI, O(from_json), "run"},
    {"base", T_STR, O(base), "ab"},
    {"head", T_STR, O(head), "ab"},
    {"base-bin", T_STR, O(base_bin), "ab"},
    {"head-bin", T_STR, O(head_bin), "ab"},
    {"head-options", T_STR, O(head_options), "ab"},
    {"against", T_STR, O(against), "check"},
    {"force", T_FLAG, O(force), "check,ab,calibrate"},
    {"gate-on", T_STR, O(gate_on), "check,ab"},
    {"establish-baseline", T_FLAG, O(establish), "check"},
    {"no-record", T_FLAG, O(no_record), "ab"},
    {"md", T_STR, O(md), "check,ab,report"},
    {"html", T_STR, O(html), "report"},
    {"site", T_STR, O(site), "report"},
    {"comparison", T_LONG, O(comparison), "report"},
    {"csv", T_STR, O(csv), "export"},
    {"json", T_STR, O(json), "export,check,ab,bisect,trend"},
    {"junit", T_STR, O(junit), "check,ab,bisect,trend"},
    {"comment", T_STR, O(comment), "check,ab,bisect,trend"},
    {"run", T_LONG, O(run), "export,report"},
    {"limit", T_LONG, O(limit), "history"},
    {"all", T_FLAG, O(all), "history"},
    {"good", T_STR, O(good), "bisect"},
    {"bad", T_STR, O(bad), "bisect"},
    {"build-cmd", T_STR, O(build_cmd), "bisect,bisect-step"},
    {"built-bin", T_STR, O(built_bin), "bisect,bisect-step"},
    {"good-bin", T_STR, O(good_bin), "bisect-step"},
    {"steps-file", T_STR, O(steps_file), "bisect-step"},
    {"cache", T_STR, O(cache), "bisect-step"},
    {"repo", T_STR, O(repo), "bisect-step"},
    {"floor-machine", T_STR, O(floor_machine), "bisect-step"},
    {"to", T_STR, O(to), "copy-history"},
};
#undef O

static int cmd_accepts(const char *cmds, const char *cmd)
{
    if (!strcmp(cmds, "*"))
        return 1;
    size_t n = strlen(cmd);
    for (const char *p = cmds; (p = strstr(p, cmd)); p += n)
        if ((p == cmds || p[-1] == ',') && (p[n] == ',' || !p[n]))
            return 1;
    return 0;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h")) {
            o->help = 1;
            continue;
        }
        if (strncmp(a, "--", 2) || !a[2]) {
            if (!strcmp(a, "--")) {
                cli_error("perf %s: unexpected '--'", o->cmd);
                return -1;
            }
            if (o->npos >= 8) {
                cli_error("perf %s: too many arguments", o->cmd);
                return -1;
            }
            o->pos[o->npos++] = a;
            continue;
        }
        char name[64];
        const char *val = NULL, *eq = strchr(a + 2, '=');
        size_t nl = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (nl >= sizeof name) {
            cli_error("perf %s: unknown option %s", o->cmd, a);
            return -1;
        }
        memcpy(name, a + 2, nl);
        name[nl] = '\0';
        const optdef *d = NULL;
        for (size_t k = 0; k < sizeof optdefs / sizeof optdefs[0]; k++)
            if (!strcmp(optdefs[k].name, name))
                d = &optdefs[k];
        if (!d || !cmd_accepts(d->cmds, o->cmd)) {
            cli_error("perf %s: unknown option --%s (see lightning perf %s --help)", o->cmd, name,
                      o->cmd);
            return -1;
        }
        char *field = (char *)o + d->off;
        if (d->type == T_FLAG) {
            if (eq) {
                cli_error("perf %s: --%s takes no value", o->cmd, name);
                return -1;
            }
            *(int *)field = 1;
            continue;
        }
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            cli_error("perf %s: --%s needs a value", o->cmd, name);
            return -1;
        }
        switch (d->type) {
        case T_STR: *(const char **)field = val; break;
        case T_MULTI:
            if (o->n_from_json >= 64) {
                cli_error("perf %s: too many --%s", o->cmd, name);
                return -1;
            }
            o->from_json[o->n_from_json++] = val;
            break;
        case T_LONG: {
            /* Every counted option (reps, rounds, runs, limits, ids) leaves 0
             * for "not given, use the suite's value": an explicit 0 would
             * silently mean the default, so it is refused with the rest. */
            uint64_t v;
            if (cli_parse_uint(val, 1, 1000000000, 0, &v)) {
                cli_error("perf %s: --%s needs a whole number from 1 to 1000000000, not '%s'",
                          o->cmd, name, val);
                return -1;
            }
            *(long *)field = (long)v;
            break;
        }
        case T_DOUBLE:
            if (cli_parse_double(val, 0, 1000, (double *)field)) {
                cli_error("perf %s: --%s needs a number in [0, 1000], not '%s'", o->cmd, name,
                          val);
                return -1;
            }
            break;
        }
    }
    return 0;
}

/* ---- entry -------------------------------------------------------------- */

int cli_perf_main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(ctx *);
    } cmds[] = {
        {"run", pcli_cmd_run},          {"baseline", pcli_cmd_baseline},   {"check", pcli_cmd_check},
        {"ab", pcli_cmd_ab},            {"calibrate", pcli_cmd_calibrate}, {"trend", pcli_cmd_trend},
        {"bisect", pcli_cmd_bisect},    {"bisect-step", pcli_cmd_bisect_step},
        {"report", pcli_cmd_report},    {"export", pcli_cmd_export},       {"history", pcli_cmd_history},
        {"copy-history", pcli_cmd_copy_history},
        {"selftest", pcli_cmd_selftest},
    };
    if (argc < 2) {
        fputs(help_main, stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help"))
        return print_help(argc > 2 ? argv[2] : NULL);
    int (*fn)(ctx *) = NULL;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(cmds[i].name, name))
            fn = cmds[i].fn;
    if (!fn) {
        cli_error("perf: unknown command '%s' (lightning perf --help lists them)", name);
        return EXIT_USAGE;
    }
    opts o;
    memset(&o, 0, sizeof o);
    o.cmd = name;
    if (parse_opts(argc - 2, argv + 2, &o))
        return EXIT_USAGE;
    if (o.help)
        return print_help(name);
    /* Every output path is checked before the work starts: a typo must
     * not cost a whole run (and the verdict files would say nothing). */
    const struct {
        const char *flag, *path;
    } outs[] = {{"--md", o.md},     {"--html", o.html},   {"--csv", o.csv},
                {"--json", o.json}, {"--junit", o.junit}, {"--comment", o.comment}};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "perf %s: %s", name, outs[i].flag);
        if (outs[i].path && strcmp(outs[i].path, "-") && cli_output_ok(flag, outs[i].path))
            return EXIT_USAGE;
    }
    if (o.quick && o.suite) {
        cli_error("perf %s: --quick and --suite both choose the suite; give one", name);
        return EXIT_USAGE;
    }
    ctx c;
    memset(&c, 0, sizeof c);
    c.o = &o;
    if (perf_self_exe(c.exe, sizeof c.exe))
        perf_strlcpy(c.exe, "lightning", sizeof c.exe);
    pcli_find_root(&c);
    pcli_history_path(&c);
    if (pcli_machine_name(&c))
        return EXIT_USAGE;
    int rc = fn(&c);
    /* A gating command that stopped on an error before its verdict still
     * leaves the files a CI job reads, saying so. */
    if ((o.json || o.junit || o.comment) && !c.outcome_written && strcmp(name, "export") &&
        rc != 0) {
        perf_outcome oc = {.message = cli_last_error()};
        pcli_emit_outcome(&c, &oc, &rc);
    }
    pcli_drop_scratch(&c);
    perf_history_close(c.h);
    fflush(stdout);
    return rc;
}
