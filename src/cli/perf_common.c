/*
 * cli/perf_common.c — what every `lightning perf` subcommand shares: the
 * repository root, the history, this machine's key, the scratch directory,
 * the suite, run references, and the verdict outputs (--md, --json,
 * --junit, --comment) with the exit-code rule for a failed output.
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

/* ---- context ------------------------------------------------------------ */


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
void pcli_find_root(ctx *c)
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

void pcli_history_path(ctx *c)
{
    const char *env = getenv("LIGHTNING_PERF_HISTORY");
    if (c->o->history)
        perf_strlcpy(c->history_path, c->o->history, sizeof c->history_path);
    else if (env && env[0])
        perf_strlcpy(c->history_path, env, sizeof c->history_path);
    else
        perf_fmt(c->history_path, sizeof c->history_path, "%s/perf-history.db", c->root);
}

int pcli_open_history(ctx *c, int create)
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
const char *pcli_this_machine(ctx *c)
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
int pcli_machine_name(ctx *c)
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
void pcli_name_run(ctx *c, perf_run_info *r)
{
    perf_strlcpy(r->fingerprint, r->machine_id, sizeof r->fingerprint);
    if (c->machine_name[0])
        perf_strlcpy(r->machine_id, c->machine_name, sizeof r->machine_id);
}

int pcli_make_scratch(ctx *c)
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
    perf_cleanup_add_dir(c->scratch); /* removed on Ctrl-C too */
    return 0;
}

void pcli_drop_scratch(ctx *c)
{
    const char *keep = getenv("LIGHTNING_PERF_KEEP");
    if (!c->scratch[0])
        return;
    if (keep && !strcmp(keep, "1"))
        fprintf(stderr, "lightning perf: kept scratch directory %s\n", c->scratch);
    else
        perf_rmtree(c->scratch);
    perf_cleanup_forget(c->scratch);
    c->scratch[0] = '\0';
}

/* The suite: --suite, else bench/quick.ini with --quick, else
 * bench/suite.ini, under the repository root or the binary's tree. */
int pcli_default_suite_path(ctx *c, char *out, size_t cap)
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

int pcli_load_suite(ctx *c, perf_suite *s)
{
    char path[PATH_MAX];
    if (pcli_default_suite_path(c, path, sizeof path))
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

void pcli_upper(char *s)
{
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

void pcli_run_label(const perf_run_info *r, const char *role, char *out, size_t cap)
{
    perf_fmt(out, cap, "run %lld (%s%s%s, %s, commit %.12s%s, suite %s, sync %s, machine %s)",
             (long long)r->id, r->kind, role ? ", " : "", role ? role : "", r->created_at,
             r->commit[0] ? r->commit : "unknown", r->dirty > 0 ? "+dirty" : "", r->suite,
             r->sync_mode, r->machine_id);
}

/* RUN argument: a positive id, or "latest". */
int pcli_parse_run_ref(const char *s, int64_t *id)
{
    if (!strcmp(s, "latest")) {
        *id = 0;
        return 0;
    }
    uint64_t v;
    if (cli_parse_uint(s, 1, INT64_MAX, 0, &v))
        return -1;
    *id = (int64_t)v;
    return 0;
}

int pcli_get_run(ctx *c, int64_t id, perf_run_info *r)
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
int pcli_latest_run(ctx *c, int64_t *id)
{
    perf_run_filter f = {.kind = "run", .machine_id = pcli_this_machine(c)};
    int rc = perf_history_latest_run(c->h, &f, id, &c->e);
    if (rc == 0) {
        f.machine_id = NULL;
        rc = perf_history_latest_run(c->h, &f, id, &c->e);
    }
    if (rc < 0)
        cli_error("perf: %s", c->e.msg);
    return rc;
}

/* ---- shared by check, ab, bisect, trend, report ------------------------ */
/* ---- check -------------------------------------------------------------- */

/* The suite a stored run is judged with: --suite/--quick when given, else
 * the file it was run with when it still exists, else its recorded text. */
int pcli_suite_for_run(ctx *c, const perf_run_info *r, perf_suite *s)
{
    if (c->o->suite || c->o->quick) {
        if (pcli_load_suite(c, s))
            return -1;
        /* Judging a run with another suite's tolerances and sections would
         * compare what was not measured the same way (or nothing at all). */
        if (r->suite[0] && strcmp(s->name, r->suite)) {
            cli_error("perf: run %lld was recorded with suite '%s', but %s names suite '%s'; "
                      "drop %s, or record a run with it first",
                      (long long)r->id, r->suite, c->o->quick ? "--quick" : "--suite",
                      s->name, c->o->quick ? "--quick" : "--suite");
            perf_suite_free(s);
            return -1;
        }
        return 0;
    }
    if (r->suite_path[0] && is_file(r->suite_path)) {
        if (perf_suite_load(r->suite_path, s, &c->e))
            goto bad;
    } else if (r->suite_text) {
        if (perf_suite_parse_string(r->suite_text, r->suite, s, &c->e))
            goto bad;
    } else {
        return pcli_load_suite(c, s);
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

/* The exit code once an output could not be written: an error outranks a
 * pass and an inconclusive verdict (the CI job lacks what it asked for);
 * a regression stays 1, the verdict the gate is for. */
int pcli_with_error(int rc)
{
    return rc == PERF_EXIT_REGRESSION ? rc : EXIT_USAGE;
}

int pcli_write_md(ctx *c, const char *path, const perf_comparison *cmp,
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
int pcli_gate_opt(const opts *o, int *gate_on)
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
int pcli_emit_outcome(ctx *c, perf_outcome *out, int *rc)
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
        *rc = pcli_with_error(*rc);
        return -1;
    }
    return 0;
}
