/*
 * cli/cmd_perf.c — `lightning perf`, the performance regression framework's
 * command line: argument parsing, locating the history and the suite, and
 * the glue between the library parts in src/perf (runner, history,
 * compare, trend, report, export, bisect). The decisions themselves live
 * there; this file only wires them to options and exit codes:
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
#include "cli/cli.h"
#include "perf/ab.h"
#include "perf/bisect.h"
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

#define EXIT_USAGE PERF_EXIT_ERROR

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
     "usage: lightning perf check [RUN] [--against RUN] [--suite FILE] [--force]\n"
     "                            [--benchmark LIST] [--md FILE]\n"
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
     "Runs the same binary against itself interleaved (A/A) and stores, per\n"
     "machine, sync mode, benchmark and metric, the 95th percentile of the\n"
     "relative difference of medians of two groups of N runs: the noise floor\n"
     "check and ab use from then on (rescaled by sqrt(N/n) for n runs).\n"},
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
     "usage: lightning perf report [--html FILE] [--md FILE] [--comparison ID] [--site DIR]\n"
     "One self-contained HTML file (SVG charts: each benchmark's history with\n"
     "change points, the last comparison's ratios with confidence intervals,\n"
     "latency percentiles) and a Markdown summary for a CI job page. Without\n"
     "--html/--md the Markdown goes to stdout.\n"
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

typedef struct opts {
    const char *cmd;
    const char *history, *suite, *benchmark, *metric, *bin, *label;
    const char *base, *head, *base_bin, *head_bin, *against;
    const char *md, *html, *csv, *json, *junit, *comment, *site;
    const char *good, *bad, *build_cmd, *built_bin;
    const char *good_bin, *steps_file, *cache, *repo, *floor_machine;
    const char *gate_on, *to, *machine, *head_options;
    const char *from_json[64];
    int n_from_json;
    int quick, force, no_record, all, help, establish, record_run;
    long reps, rounds, max_rounds, limit, comparison, run, runs;
    double inject, freeze;
    const char *pos[8];
    int npos;
} opts;

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
    {"force", T_FLAG, O(force), "check,ab"},
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
        char *end;
        switch (d->type) {
        case T_STR: *(const char **)field = val; break;
        case T_MULTI:
            if (o->n_from_json >= 64) {
                cli_error("perf %s: too many --%s", o->cmd, name);
                return -1;
            }
            o->from_json[o->n_from_json++] = val;
            break;
        case T_LONG:
            errno = 0;
            *(long *)field = strtol(val, &end, 10);
            if (errno || end == val || *end || *(long *)field < 0) {
                cli_error("perf %s: --%s needs a non-negative integer, not '%s'", o->cmd, name,
                          val);
                return -1;
            }
            break;
        case T_DOUBLE:
            errno = 0;
            *(double *)field = strtod(val, &end);
            if (errno || end == val || *end || !isfinite(*(double *)field) ||
                *(double *)field < 0 || *(double *)field > 1000) {
                cli_error("perf %s: --%s needs a number in [0, 1000], not '%s'", o->cmd, name,
                          val);
                return -1;
            }
            break;
        }
    }
    return 0;
}

/* ---- context ------------------------------------------------------------ */

typedef struct ctx {
    opts *o;
    char root[PATH_MAX];      /* repository root (or cwd)             */
    char exe[PATH_MAX];       /* this binary                          */
    char history_path[PATH_MAX];
    char scratch[PATH_MAX];   /* private temporary directory          */
    bench_machine machine;    /* this machine                         */
    int have_machine;
    char machine_name[PERF_MACHINE_KEY_CAP]; /* --machine, or ""      */
    perf_history *h;
    perf_error e;
    int outcome_written;      /* --json/--junit/--comment done        */
} ctx;

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The repository whose bench/ and perf-history.db are the defaults: the
 * git work tree around the current directory, else the tree the binary
 * was built in (build/lightning -> ..), else the current directory. */
static void find_root(ctx *c)
{
    char tmp[PATH_MAX];
    if (perf_git_toplevel(NULL, c->root, sizeof c->root, NULL) == 0)
        return;
    if (c->exe[0]) {
        perf_strlcpy(tmp, c->exe, sizeof tmp);
        for (int up = 0; up < 2; up++) {
            char *s = strrchr(tmp, '/');
            if (s)
                *s = '\0';
        }
        char probe[PATH_MAX + 32];
        perf_fmt(probe, sizeof probe, "%s/bench/suite.ini", tmp);
        if (is_file(probe)) {
            perf_strlcpy(c->root, tmp, sizeof c->root);
            return;
        }
    }
    if (!getcwd(c->root, sizeof c->root))
        perf_strlcpy(c->root, ".", sizeof c->root);
}

static void history_path(ctx *c)
{
    const char *env = getenv("LIGHTNING_PERF_HISTORY");
    if (c->o->history)
        perf_strlcpy(c->history_path, c->o->history, sizeof c->history_path);
    else if (env && env[0])
        perf_strlcpy(c->history_path, env, sizeof c->history_path);
    else
        perf_fmt(c->history_path, sizeof c->history_path, "%s/perf-history.db", c->root);
}

static int open_history(ctx *c, int create)
{
    if (c->h)
        return 0;
    if (perf_history_open(c->history_path, create, &c->h, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        return -1;
    }
    return 0;
}

/* The machine key of this machine's runs: its testbed name when it has
 * one, else its fingerprint. */
static const char *this_machine(ctx *c)
{
    if (c->machine_name[0])
        return c->machine_name;
    if (!c->have_machine) {
        bench_machine_probe(&c->machine, NULL);
        c->have_machine = 1;
    }
    return c->machine.machine_id;
}

/* --machine, else $LIGHTNING_PERF_MACHINE: a name people recognise in
 * tables and URLs. */
static int machine_name(ctx *c)
{
    const char *env = getenv("LIGHTNING_PERF_MACHINE");
    const char *n = c->o->machine ? c->o->machine : env && env[0] ? env : NULL;
    if (!n)
        return 0;
    size_t len = strlen(n);
    int ok = len >= 1 && len < sizeof c->machine_name;
    for (size_t i = 0; ok && i < len; i++)
        ok = isalnum((unsigned char)n[i]) || strchr("._:-", n[i]);
    if (!ok) {
        cli_error("perf: machine name '%s' must be 1-%zu letters, digits, '.', '_', ':' or "
                  "'-'", n, sizeof c->machine_name - 1);
        return -1;
    }
    perf_strlcpy(c->machine_name, n, sizeof c->machine_name);
    return 0;
}

/* A run measured here, recorded under this testbed's name when it has
 * one; the fingerprint it measured on stays beside it. */
static void name_run(ctx *c, perf_run_info *r)
{
    perf_strlcpy(r->fingerprint, r->machine_id, sizeof r->fingerprint);
    if (c->machine_name[0])
        perf_strlcpy(r->machine_id, c->machine_name, sizeof r->machine_id);
}

static int make_scratch(ctx *c)
{
    const char *t = getenv("TMPDIR");
    perf_fmt(c->scratch, sizeof c->scratch, "%s/lightning-perf-XXXXXX",
             t && t[0] && is_dir(t) ? t : "/tmp");
    if (!mkdtemp(c->scratch)) {
        cli_error("perf: cannot create a scratch directory in %s: %s",
                  t && t[0] ? t : "/tmp", strerror(errno));
        c->scratch[0] = '\0';
        return -1;
    }
    return 0;
}

static void drop_scratch(ctx *c)
{
    const char *keep = getenv("LIGHTNING_PERF_KEEP");
    if (!c->scratch[0])
        return;
    if (keep && !strcmp(keep, "1"))
        fprintf(stderr, "lightning perf: kept scratch directory %s\n", c->scratch);
    else
        perf_rmtree(c->scratch);
    c->scratch[0] = '\0';
}

/* The suite: --suite, else bench/quick.ini with --quick, else
 * bench/suite.ini, under the repository root or the binary's tree. */
static int default_suite_path(ctx *c, char *out, size_t cap)
{
    const char *file = c->o->quick ? "quick.ini" : "suite.ini";
    if (c->o->suite) {
        perf_strlcpy(out, c->o->suite, cap);
        return 0;
    }
    perf_fmt(out, cap, "%s/bench/%s", c->root, file);
    if (is_file(out))
        return 0;
    char tmp[PATH_MAX];
    perf_strlcpy(tmp, c->exe, sizeof tmp);
    for (int up = 0; up < 2; up++) {
        char *s = strrchr(tmp, '/');
        if (s)
            *s = '\0';
    }
    perf_fmt(out, cap, "%s/bench/%s", tmp, file);
    if (is_file(out))
        return 0;
    cli_error("perf: no suite file: neither %s/bench/%s nor %s exists; pass --suite FILE",
              c->root, file, out);
    return -1;
}

static int load_suite(ctx *c, perf_suite *s)
{
    char path[PATH_MAX];
    if (default_suite_path(c, path, sizeof path))
        return -1;
    if (perf_suite_load(path, s, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        return -1;
    }
    if (c->o->benchmark && perf_suite_select(s, c->o->benchmark, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        perf_suite_free(s);
        return -1;
    }
    return 0;
}

static void upper(char *s)
{
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

static void run_label(const perf_run_info *r, const char *role, char *out, size_t cap)
{
    perf_fmt(out, cap, "run %lld (%s%s%s, %s, commit %.12s%s, suite %s, sync %s, machine %s)",
             (long long)r->id, r->kind, role ? ", " : "", role ? role : "", r->created_at,
             r->commit[0] ? r->commit : "unknown", r->dirty > 0 ? "+dirty" : "", r->suite,
             r->sync_mode, r->machine_id);
}

/* RUN argument: a positive id, or "latest". */
static int parse_run_ref(const char *s, int64_t *id)
{
    char *end;
    if (!strcmp(s, "latest")) {
        *id = 0;
        return 0;
    }
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v <= 0)
        return -1;
    *id = v;
    return 0;
}

static int get_run(ctx *c, int64_t id, perf_run_info *r)
{
    int rc = perf_history_get_run(c->h, id, r, &c->e);
    if (rc < 0) {
        cli_error("perf: %s", c->e.msg);
        return -1;
    }
    if (rc == 0) {
        cli_error("perf: no run %lld in %s (see lightning perf history)", (long long)id,
                  c->history_path);
        return -1;
    }
    return 0;
}

/* This machine's latest run of kind "run" (any machine's when this one has
 * none); 0 when the history has no run at all. */
static int latest_run(ctx *c, int64_t *id)
{
    perf_run_filter f = {.kind = "run", .machine_id = this_machine(c)};
    int rc = perf_history_latest_run(c->h, &f, id, &c->e);
    if (rc == 0) {
        f.machine_id = NULL;
        rc = perf_history_latest_run(c->h, &f, id, &c->e);
    }
    if (rc < 0)
        cli_error("perf: %s", c->e.msg);
    return rc;
}

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

static int cmd_run(ctx *c)
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
    if (load_suite(c, &s))
        return EXIT_USAGE;
    if (open_history(c, 1))
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
        if (make_scratch(c))
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
    upper(want);
    name_run(c, &run);
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

static int cmd_baseline(ctx *c)
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
        if (open_history(c, 0))
            return EXIT_USAGE;
        perf_baseline_row *b;
        size_t n;
        if (perf_history_list_baselines(c->h, &b, &n, &c->e)) {
            cli_error("perf: %s", c->e.msg);
            return EXIT_USAGE;
        }
        const char *me = this_machine(c);
        int mine = 0;
        for (size_t i = 0; i < n; i++) {
            perf_run_info r;
            char lab[600] = "";
            if (perf_history_get_run(c->h, b[i].run_id, &r, NULL) == 1) {
                run_label(&r, NULL, lab, sizeof lab);
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
    if (open_history(c, 0))
        return EXIT_USAGE;
    int64_t id = 0;
    if (o->npos == 2 && parse_run_ref(o->pos[1], &id)) {
        cli_error("perf baseline set: RUN must be a run id or 'latest', not '%s'", o->pos[1]);
        return EXIT_USAGE;
    }
    if (!id) {
        int r = latest_run(c, &id);
        if (r <= 0) {
            if (r == 0)
                cli_error("perf baseline set: no runs in %s yet (lightning perf run)",
                          c->history_path);
            return EXIT_USAGE;
        }
    }
    perf_run_info r;
    if (get_run(c, id, &r))
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
        run_label(&r, NULL, lab, sizeof lab);
        printf("baseline for machine %s, sync %s, suite %s is now %s\n", r.machine_id,
               r.sync_mode, r.suite, lab);
    }
    perf_run_info_free(&r);
    return rc;
}

/* ---- check -------------------------------------------------------------- */

/* The suite a stored run is judged with: --suite/--quick when given, else
 * the file it was run with when it still exists, else its recorded text. */
static int suite_for_run(ctx *c, const perf_run_info *r, perf_suite *s)
{
    if (c->o->suite || c->o->quick)
        return load_suite(c, s);
    if (r->suite_path[0] && is_file(r->suite_path)) {
        if (perf_suite_load(r->suite_path, s, &c->e))
            goto bad;
    } else if (r->suite_text) {
        if (perf_suite_parse_string(r->suite_text, r->suite, s, &c->e))
            goto bad;
    } else {
        return load_suite(c, s);
    }
    if (strcmp(s->name, r->suite)) {
        /* The file was changed into another suite since: use the text the
         * run recorded when there is one. */
        perf_suite_free(s);
        if (!r->suite_text || perf_suite_parse_string(r->suite_text, r->suite, s, &c->e)) {
            cli_error("perf: run %lld's suite '%s' is no longer at %s; pass --suite",
                      (long long)r->id, r->suite, r->suite_path);
            return -1;
        }
    }
    if (c->o->benchmark && perf_suite_select(s, c->o->benchmark, &c->e))
        goto bad;
    return 0;
bad:
    cli_error("perf: %s", c->e.msg);
    perf_suite_free(s);
    return -1;
}

static int write_md(ctx *c, const char *path, const perf_comparison *cmp,
                    const perf_run_info *head)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) {
        cli_error("perf: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    char now[32];
    perf_utc_now(now, sizeof now);
    perf_report_input in = {.title = "Lightning DB performance comparison",
                            .history_path = c->history_path,
                            .generated_at = now,
                            .run = head,
                            .cmp = cmp};
    int rc = perf_report_markdown(f, &in);
    if (f != stdout && fclose(f))
        rc = -1;
    if (rc)
        cli_error("perf: writing %s failed", path);
    return rc;
}

/* --gate-on: -1 (the suite's) when absent; -1 with a message when bad. */
static int gate_opt(const opts *o, int *gate_on)
{
    *gate_on = -1;
    if (!o->gate_on)
        return 0;
    *gate_on = perf_gate_on_parse(o->gate_on);
    if (*gate_on < 0) {
        cli_error("perf %s: --gate-on must be counts, wallclock or either, not '%s'", o->cmd,
                  o->gate_on);
        return -1;
    }
    return 0;
}

/* Writes --json/--junit/--comment (each optional) for a gating command;
 * a failure to write is reported and turns a pass into an error. */
static int emit_outcome(ctx *c, perf_outcome *out, int *rc)
{
    opts *o = c->o;
    c->outcome_written = 1;
    if (!o->json && !o->junit && !o->comment)
        return 0;
    out->command = o->cmd;
    out->exit_code = *rc;
    char shown[PATH_MAX];
    perf_history_redact(c->history_path, shown, sizeof shown);
    if (!out->history)
        out->history = shown;
    if (perf_outcome_write(out, o->json, o->junit, o->comment, &c->e)) {
        cli_error("perf %s: %s", o->cmd, c->e.msg);
        if (!*rc)
            *rc = EXIT_USAGE;
        return -1;
    }
    return 0;
}

static int cmd_check(ctx *c)
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
    if (open_history(c, 0))
        return EXIT_USAGE;
    int64_t hid = 0, bid = 0;
    if (o->npos && parse_run_ref(o->pos[0], &hid)) {
        cli_error("perf check: RUN must be a run id or 'latest', not '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    if (!hid) {
        int r = latest_run(c, &hid);
        if (r <= 0) {
            if (!r)
                cli_error("perf check: no runs in %s yet (lightning perf run)", c->history_path);
            return EXIT_USAGE;
        }
    }
    if (get_run(c, hid, &head))
        goto out;
    have_head = 1;
    if (o->against) {
        if (parse_run_ref(o->against, &bid) || !bid) {
            cli_error("perf check: --against needs a run id, not '%s'", o->against);
            goto out;
        }
    } else {
        int r = perf_history_get_baseline(c->h, head.machine_id, head.sync_mode, head.suite, &bid,
                                          NULL, 0, &c->e);
        if (r < 0) {
            cli_error("perf: %s", c->e.msg);
            goto out;
        }
        if (r == 0) {
            /* Is there a baseline elsewhere that --force could use? */
            perf_baseline_row *b;
            size_t n;
            const perf_baseline_row *other = NULL;
            if (perf_history_list_baselines(c->h, &b, &n, &c->e)) {
                cli_error("perf: %s", c->e.msg);
                goto out;
            }
            for (size_t i = 0; i < n && !other; i++)
                if (!strcmp(b[i].suite, head.suite))
                    other = &b[i];
            if (o->establish) {
                free(b);
                if (perf_history_set_baseline(c->h, head.machine_id, head.sync_mode, head.suite,
                                              hid, &c->e)) {
                    cli_error("perf: %s", c->e.msg);
                    goto out;
                }
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
                emit_outcome(c, &oc, &rc);
                goto out;
            }
            if (other && o->force) {
                bid = other->run_id;
            } else if (other) {
                cli_error("perf check: no baseline for machine %s, sync %s, suite %s; the "
                          "suite's baseline is on machine %s with sync %s. Comparing across "
                          "machines or sync modes is refused; pass --force to do it anyway "
                          "(the report will say so), or set a baseline here with "
                          "`lightning perf baseline set`",
                          head.machine_id, head.sync_mode, head.suite, other->machine_id,
                          other->sync_mode);
                free(b);
                goto out;
            } else {
                cli_error("perf check: no baseline for machine %s, sync %s, suite %s in %s; "
                          "set one with `lightning perf baseline set [RUN]`",
                          head.machine_id, head.sync_mode, head.suite, c->history_path);
                free(b);
                goto out;
            }
            free(b);
        }
    }
    if (get_run(c, bid, &base))
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
        emit_outcome(c, &oc, &rc);
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
    if (suite_for_run(c, &head, &s))
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
    if (gate_opt(o, &co.gate_on))
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
    run_label(&base, o->against ? "against" : "baseline", cmp.base_label, sizeof cmp.base_label);
    run_label(&head, NULL, cmp.head_label, sizeof cmp.head_label);
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
    if (o->md && write_md(c, o->md, &cmp, &head))
        rc = rc ? rc : EXIT_USAGE;
    perf_outcome oc = {.cmp = &cmp, .machine_id = head.machine_id, .sync_mode = head.sync_mode,
                       .suite = cmp.suite};
    emit_outcome(c, &oc, &rc);
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
    name_run(c, &ra);
    name_run(c, &rb);
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

static int cmd_ab(ctx *c)
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
    if (load_suite(c, &s))
        return EXIT_USAGE;
    if (resolve_side(c, o->base, o->base_bin, "base", base_bin, sizeof base_bin, base_sha) ||
        resolve_side(c, o->head, o->head_bin, "head", head_bin, sizeof head_bin, head_sha))
        goto out;
    if (open_history(c, 1) || make_scratch(c))
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
    if (gate_opt(o, &ao.cmp.gate_on))
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
    if (o->md && write_md(c, o->md, &r.cmp, NULL) && !rc)
        rc = EXIT_USAGE;
    perf_outcome oc = {.cmp = &r.cmp, .machine_id = r.machine_id, .sync_mode = r.sync_mode,
                       .suite = s.name};
    emit_outcome(c, &oc, &rc);
out:
    perf_ab_result_free(&r);
    perf_suite_free(&s);
    return rc;
}

/* ---- selftest ----------------------------------------------------------- */

static int cmd_selftest(ctx *c)
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
    if (load_suite(c, &s))
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
    if (open_history(c, 1) || make_scratch(c))
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

/* 1 when some section of the suite gates this series' metric. */
static int gated_by_suite(const perf_suite *s, const perf_series_key *k)
{
    for (size_t i = 0; i < s->nb; i++)
        if (perf_suite_gates_metric(&s->b[i], k->metric) &&
            perf_suite_bench_matches(s, &s->b[i], k->benchmark, k->engine, k->threads))
            return 1;
    return 0;
}

static int cmd_calibrate(ctx *c)
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
    if (load_suite(c, &s))
        return EXIT_USAGE;
    if (open_history(c, 1) || make_scratch(c))
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
    /* Floors for every metric of every series: comparisons of any metric
     * can use them, not only the gated ones. */
    perf_series_key *keys;
    size_t nk;
    if (perf_samples_series(&r.head.samples, &keys, &nk)) {
        cli_error("perf: out of memory");
        goto out;
    }
    printf("calibrate: %u A/A rounds per side on machine %s, sync %s\n", r.rounds, r.machine_id,
           r.sync_mode);
    printf("%-34s %-16s %9s %9s %7s\n", "benchmark", "metric", "cv", "floor", "k");
    size_t stored = 0;
    double worst = 0;
    for (size_t i = 0; i < nk; i++) {
        size_t na, nb;
        double *a = perf_samples_values(&r.base.samples, &keys[i], 1, &na, NULL);
        double *b = perf_samples_values(&r.head.samples, &keys[i], 1, &nb, NULL);
        perf_noise_row row;
        memset(&row, 0, sizeof row);
        int ok = a && b && na >= 2 && nb >= 2;
        for (size_t k = 0; ok && k < na; k++)
            ok = a[k] > 0;
        for (size_t k = 0; ok && k < nb; k++)
            ok = b[k] > 0;
        size_t kk = na < nb ? na : nb;
        if (ok && perf_noise_floor(a, na, b, nb, kk, NULL, &row.floor, &row.raw) == PERF_STAT_OK) {
            perf_strlcpy(row.machine_id, r.machine_id, sizeof row.machine_id);
            perf_strlcpy(row.sync_mode, r.sync_mode, sizeof row.sync_mode);
            perf_strlcpy(row.benchmark, keys[i].benchmark, sizeof row.benchmark);
            perf_strlcpy(row.engine, keys[i].engine, sizeof row.engine);
            row.threads = keys[i].threads;
            perf_strlcpy(row.metric, keys[i].metric, sizeof row.metric);
            row.k = (int)kk;
            double cva = perf_robust_cv(a, na), cvb = perf_robust_cv(b, nb);
            row.cv = cva > cvb ? cva : cvb;
            row.n_a = (int)na;
            row.n_b = (int)nb;
            row.run_a = r.cmp.base_run;
            row.run_b = r.cmp.head_run;
            if (perf_history_set_noise_floor(c->h, &row, &c->e)) {
                cli_error("perf: %s", c->e.msg);
                free(a);
                free(b);
                free(keys);
                goto out;
            }
            stored++;
            if (gated_by_suite(&s, &keys[i])) {
                if (row.floor > worst)
                    worst = row.floor;
                char name[128];
                perf_series_name(keys[i].benchmark, keys[i].engine, keys[i].threads, name,
                                 sizeof name);
                printf("%-34s %-16s %8.2f%% %8.2f%% %7zu\n", name, keys[i].metric, row.cv * 100,
                       row.floor * 100, kk);
            }
        }
        free(a);
        free(b);
    }
    free(keys);
    printf("stored %zu noise floors (every metric; the table shows the gated ones) in %s\n",
           stored, c->history_path);
    printf("floor = 95th percentile of |1 - median(A)/median(B)| over A/A groups of k runs; "
           "comparisons of n runs use floor * sqrt(k/n), never below 0.5%%\n\n");
    if (worst > 0.10) {
        double load[3] = {0, 0, 0};
        FILE *la = fopen("/proc/loadavg", "r");
        if (la) {
            if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
                load[0] = load[1] = load[2] = 0;
            fclose(la);
        }
        printf("warning: floors up to %.0f%%: the machine was noisy while calibrating (load "
               "average %.2f %.2f %.2f). ab and check cannot see changes smaller than the "
               "floor; re-run calibrate when the machine is quiet.\n\n",
               worst * 100, load[0], load[1], load[2]);
    }
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

/* ---- trend -------------------------------------------------------------- */

typedef struct trend_want {
    const perf_suite *s;   /* may be NULL */
    const char *bench;     /* glob or section name, may be NULL */
    const char *metric;    /* may be NULL */
    size_t matched;
} trend_want;

static int want_series(void *p, const perf_series_key *k)
{
    trend_want *w = p;
    const perf_suite_bench *sec = NULL;
    if (w->s)
        for (size_t i = 0; i < w->s->nb && !sec; i++)
            if (perf_suite_bench_matches(w->s, &w->s->b[i], k->benchmark, k->engine, k->threads))
                sec = &w->s->b[i];
    if (w->bench) {
        const perf_suite_bench *named = w->s ? perf_suite_find(w->s, w->bench) : NULL;
        int ok = named ? perf_suite_bench_matches(w->s, named, k->benchmark, k->engine,
                                                  k->threads)
                       : !fnmatch(w->bench, k->benchmark, 0);
        if (!ok)
            return 0;
        if (named)
            sec = named;
    }
    int keep;
    if (w->metric)
        keep = !strcmp(w->metric, k->metric);
    else if (sec)
        keep = perf_suite_gates_metric(sec, k->metric);
    else
        keep = !strcmp(k->metric, "ops_per_sec");
    if (keep)
        w->matched++;
    return keep;
}

static int load_trends(ctx *c, const perf_suite *s, const char *suite_name, const char *sync,
                       const char *bench, const char *metric, perf_trend **t, size_t *n)
{
    trend_want w = {.s = s, .bench = bench, .metric = metric};
    perf_run_filter f = {.kind = "run", .machine_id = this_machine(c), .suite = suite_name,
                         .sync_mode = sync};
    if (perf_trend_compute(c->h, &f, want_series, &w, t, n, &c->e)) {
        cli_error("perf: %s", c->e.msg);
        return -1;
    }
    for (size_t i = 0; s && i < *n; i++) {
        const perf_suite_bench *sec = NULL;
        for (size_t j = 0; j < s->nb && !sec; j++)
            if (perf_suite_bench_matches(s, &s->b[j], (*t)[i].key.benchmark, (*t)[i].key.engine,
                                         (*t)[i].key.threads))
                sec = &s->b[j];
        (*t)[i].direction = perf_suite_direction(s, sec, (*t)[i].key.metric, (*t)[i].direction);
    }
    return 0;
}

static int cmd_trend(ctx *c)
{
    opts *o = c->o;
    perf_suite s = {0};
    int rc = EXIT_USAGE;
    if (o->npos) {
        cli_error("perf trend: unexpected argument '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    /* --benchmark names a section or a glob here, so select nothing. */
    const char *bench = o->benchmark;
    o->benchmark = NULL;
    if (load_suite(c, &s))
        return EXIT_USAGE;
    if (open_history(c, 0))
        goto out;
    char sync[16];
    perf_strlcpy(sync, s.sync, sizeof sync);
    upper(sync);
    perf_trend *t = NULL;
    size_t n = 0;
    if (load_trends(c, &s, s.name, sync, bench, o->metric, &t, &n))
        goto out;
    if (!n) {
        perf_run_filter f = {.kind = "run", .machine_id = this_machine(c), .suite = s.name,
                             .sync_mode = sync};
        int64_t any;
        int has = perf_history_latest_run(c->h, &f, &any, &c->e);
        if (has == 1 && (bench || o->metric))
            cli_error("perf trend: unknown benchmark or metric: nothing in the history of "
                      "suite %s on this machine matches --benchmark %s%s%s",
                      s.name, bench ? bench : "*", o->metric ? " --metric " : "",
                      o->metric ? o->metric : "");
        else
            cli_error("perf trend: no runs of suite %s (sync %s) on machine %s in %s", s.name,
                      sync, this_machine(c), c->history_path);
        perf_trends_free(t, n);
        goto out;
    }
    printf("trend: suite %s, sync %s, machine %s\n", s.name, sync, this_machine(c));
    perf_report_trend_text(stdout, t, n);
    rc = 0;
    perf_outcome oc = {.machine_id = this_machine(c), .sync_mode = sync, .suite = s.name,
                       .trends = t, .ntrends = n};
    emit_outcome(c, &oc, &rc);
    perf_trends_free(t, n);
out:
    perf_suite_free(&s);
    return rc;
}

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

static int cmd_bisect_step(ctx *c)
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
    if (load_suite(c, &s))
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
    if (make_scratch(c))
        goto out;
    if (o->history && open_history(c, 1))
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

static int cmd_bisect(ctx *c)
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
    if (default_suite_path(c, suite_path, sizeof suite_path) || load_suite(c, &s))
        return EXIT_USAGE;
    if (make_scratch(c))
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
    if (open_history(c, 1))
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
    perf_report_table(stdout, &r.cmp);
    oc.cmp = &r.cmp;
    oc.machine_id = r.machine_id;
    oc.sync_mode = r.sync_mode;
    oc.suite = s.name;
    if (!r.cmp.regressions) {
        cli_error("perf bisect: the bad revision is not measurably slower than the good one "
                  "(%s); nothing to bisect", r.cmp.inconclusive ? "inconclusive" : "no regression");
        oc.message = cli_last_error();
        rc = r.cmp.inconclusive ? PERF_EXIT_INCONCLUSIVE : EXIT_USAGE;
        emit_outcome(c, &oc, &rc);
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
        emit_outcome(c, &oc, &rc);
        goto out;
    }
    if (!found) {
        printf("bisect: git could not pin a single commit (skipped steps around it):\n%s\n",
               tail);
        rc = PERF_EXIT_INCONCLUSIVE;
        oc.message = "git could not pin a single commit: steps around it were skipped";
        emit_outcome(c, &oc, &rc);
        goto out;
    }
    char subj[256];
    perf_git_subject(repo, first, subj, sizeof subj);
    printf("first bad commit: %s %s\n", first, subj);
    rc = 0;
    oc.first_bad = first;
    oc.first_bad_subject = subj;
    emit_outcome(c, &oc, &rc);
out:
    free(sv);
    perf_ab_result_free(&r);
    perf_suite_free(&s);
    return rc;
}

/* ---- report ------------------------------------------------------------- */

static int cmd_report_site(ctx *c)
{
    perf_suite s = {0};
    int have_suite = load_suite(c, &s) == 0;
    if (open_history(c, 0)) {
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

static int cmd_report(ctx *c)
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
    if (open_history(c, 0))
        return EXIT_USAGE;
    int64_t id = o->run;
    if (!id && latest_run(c, &id) < 0)
        goto out;
    if (id) {
        if (get_run(c, id, &run))
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
    const char *machine = have_run ? run.machine_id : this_machine(c);
    if (have_run) {
        if (o->suite || o->quick)
            have_suite = load_suite(c, &s) == 0;
        else
            have_suite = suite_for_run(c, &run, &s) == 0;
        trend_want w = {.s = have_suite ? &s : NULL};
        perf_run_filter f = {.kind = "run", .machine_id = machine, .suite = run.suite,
                             .sync_mode = run.sync_mode};
        if (perf_trend_compute(c->h, &f, want_series, &w, &t, &nt, &c->e)) {
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
        if (have_suite ? gated_by_suite(&s, &k) : !strcmp(k.metric, "ops_per_sec"))
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

static int cmd_export(ctx *c)
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
    if (open_history(c, 0))
        return EXIT_USAGE;
    if (o->run) {
        perf_run_info r;
        if (get_run(c, o->run, &r))
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

static int cmd_history(ctx *c)
{
    opts *o = c->o;
    if (o->npos) {
        cli_error("perf history: unexpected argument '%s'", o->pos[0]);
        return EXIT_USAGE;
    }
    if (open_history(c, 0))
        return EXIT_USAGE;
    perf_run_filter f = {.machine_id = o->all ? NULL : this_machine(c), .limit = (size_t)o->limit};
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
           o->all ? "" : " on this machine ", o->all ? "" : this_machine(c));
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

static int cmd_copy_history(ctx *c)
{
    opts *o = c->o;
    if (o->npos || !o->to) {
        cli_error("perf copy-history: --to FILE|URL is required (and nothing else)");
        return EXIT_USAGE;
    }
    perf_history *dst = NULL;
    perf_copy_stats st;
    if (open_history(c, 0))
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

int cli_perf_main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(ctx *);
    } cmds[] = {
        {"run", cmd_run},          {"baseline", cmd_baseline},   {"check", cmd_check},
        {"ab", cmd_ab},            {"calibrate", cmd_calibrate}, {"trend", cmd_trend},
        {"bisect", cmd_bisect},    {"bisect-step", cmd_bisect_step},
        {"report", cmd_report},    {"export", cmd_export},       {"history", cmd_history},
        {"copy-history", cmd_copy_history},
        {"selftest", cmd_selftest},
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
    if (o.quick && o.suite) {
        cli_error("perf %s: --quick and --suite both choose the suite; give one", name);
        return EXIT_USAGE;
    }
    ctx c;
    memset(&c, 0, sizeof c);
    c.o = &o;
    if (perf_self_exe(c.exe, sizeof c.exe))
        perf_strlcpy(c.exe, "lightning", sizeof c.exe);
    find_root(&c);
    history_path(&c);
    if (machine_name(&c))
        return EXIT_USAGE;
    int rc = fn(&c);
    /* A gating command that stopped on an error before its verdict still
     * leaves the files a CI job reads, saying so. */
    if ((o.json || o.junit || o.comment) && !c.outcome_written && strcmp(name, "export") &&
        rc != 0) {
        perf_outcome oc = {.message = cli_last_error()};
        emit_outcome(&c, &oc, &rc);
    }
    drop_scratch(&c);
    perf_history_close(c.h);
    fflush(stdout);
    return rc;
}
