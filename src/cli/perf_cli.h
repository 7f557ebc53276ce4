/*
 * cli/perf_cli.h — internal to the `lightning perf` command (src/cli/cmd_perf.c
 * and perf_*.c): the parsed options, the per-invocation context and the
 * helpers the subcommand files share. Not a library interface: everything
 * here runs on the command's one thread, and the context is owned by
 * cli_perf_main for the life of one command.
 */
#ifndef LDB_CLI_PERF_CLI_H
#define LDB_CLI_PERF_CLI_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/machine.h"
#include "perf/comparison.h"
#include "perf/error.h"
#include "perf/history.h"
#include "perf/outcome.h"
#include "perf/suite.h"
#include "perf/trend.h"

#define EXIT_USAGE PERF_EXIT_ERROR

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

typedef struct trend_want {
    const perf_suite *s;   /* may be NULL */
    const char *bench;     /* glob or section name, may be NULL */
    const char *metric;    /* may be NULL */
    size_t matched;
} trend_want;

/* perf_common.c */
void pcli_find_root(ctx *c);
void pcli_history_path(ctx *c);
int pcli_open_history(ctx *c, int create);
const char *pcli_this_machine(ctx *c);
int pcli_machine_name(ctx *c);
void pcli_name_run(ctx *c, perf_run_info *r);
int pcli_make_scratch(ctx *c);
void pcli_drop_scratch(ctx *c);
int pcli_default_suite_path(ctx *c, char *out, size_t cap);
int pcli_load_suite(ctx *c, perf_suite *s);
void pcli_upper(char *s);
void pcli_run_label(const perf_run_info *r, const char *role, char *out, size_t cap);
int pcli_parse_run_ref(const char *s, int64_t *id);
int pcli_get_run(ctx *c, int64_t id, perf_run_info *r);
int pcli_latest_run(ctx *c, int64_t *id);
int pcli_suite_for_run(ctx *c, const perf_run_info *r, perf_suite *s);
int pcli_with_error(int rc);
int pcli_write_md(ctx *c, const char *path, const perf_comparison *cmp,
                    const perf_run_info *head);
int pcli_gate_opt(const opts *o, int *gate_on);
int pcli_emit_outcome(ctx *c, perf_outcome *out, int *rc);

/* perf_run.c */
int pcli_cmd_run(ctx *c);
int pcli_cmd_baseline(ctx *c);

/* perf_check.c */
int pcli_cmd_check(ctx *c);

/* perf_ab.c */
int pcli_cmd_ab(ctx *c);
int pcli_cmd_selftest(ctx *c);
int pcli_cmd_calibrate(ctx *c);

/* perf_trend.c */
int pcli_want_series(void *p, const perf_series_key *k);
int pcli_cmd_trend(ctx *c);

/* perf_bisect.c */
int pcli_cmd_bisect_step(ctx *c);
int pcli_cmd_bisect(ctx *c);

/* perf_report.c */
int pcli_cmd_report(ctx *c);
int pcli_cmd_export(ctx *c);
int pcli_cmd_history(ctx *c);
int pcli_cmd_copy_history(ctx *c);

#endif
