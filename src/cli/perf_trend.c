/*
 * cli/perf_trend.c — `lightning perf trend`: change points and drift over
 * this machine's history, and the series filter `report` shares.
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

/* ---- trend -------------------------------------------------------------- */


int pcli_want_series(void *p, const perf_series_key *k)
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
    perf_run_filter f = {.kind = "run", .machine_id = pcli_this_machine(c), .suite = suite_name,
                         .sync_mode = sync};
    if (perf_trend_compute(c->h, &f, pcli_want_series, &w, t, n, &c->e)) {
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

int pcli_cmd_trend(ctx *c)
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
    if (pcli_load_suite(c, &s))
        return EXIT_USAGE;
    if (pcli_open_history(c, 0))
        goto out;
    char sync[16];
    perf_strlcpy(sync, s.sync, sizeof sync);
    pcli_upper(sync);
    perf_trend *t = NULL;
    size_t n = 0;
    if (load_trends(c, &s, s.name, sync, bench, o->metric, &t, &n))
        goto out;
    if (!n) {
        perf_run_filter f = {.kind = "run", .machine_id = pcli_this_machine(c), .suite = s.name,
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
                      sync, pcli_this_machine(c), c->history_path);
        perf_trends_free(t, n);
        goto out;
    }
    printf("trend: suite %s, sync %s, machine %s\n", s.name, sync, pcli_this_machine(c));
    perf_report_trend_text(stdout, t, n);
    rc = 0;
    perf_outcome oc = {.machine_id = pcli_this_machine(c), .sync_mode = sync, .suite = s.name,
                       .trends = t, .ntrends = n};
    pcli_emit_outcome(c, &oc, &rc);
    perf_trends_free(t, n);
out:
    perf_suite_free(&s);
    return rc;
}
