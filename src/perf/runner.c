/* perf/runner.c — bench processes, run and ABBA orders (see runner.h). */
#include "perf/runner.h"

#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "perf/freeze.h"
#include "perf/proc.h"

void perf_side_free(perf_side *s)
{
    if (!s)
        return;
    perf_samples_free(&s->samples);
    perf_bench_doc_free(&s->meta);
    s->have_meta = 0;
}

/* A group: sections that can share one bench process. */
typedef struct group {
    char workloads[1024];
    char names[512];   /* section names, for progress labels */
    const char *engines;
    long keys;
    double duration;
    long ops;
    unsigned reps;
    int counts;        /* `--measure counts`: one process per side, once */
    int duet;          /* interleaved: base and head at the same time    */
    char args[1024];
} group;

static void group_key(const perf_suite *s, const perf_suite_bench *b, char *out, size_t cap)
{
    int duet = !b->counts && b->pairing == PERF_PAIRING_DUET;
    /* duet_per_section: a slowed side lags, and with several workloads in
     * one process its later workloads overlap different ones of the other
     * side; one duet per section keeps them side by side (measured per-unit
     * sd 0.7-0.8% instead of 1.4-2.7% on read-random, txn, error-absent). */
    perf_fmt(out, cap, "%s|%ld|%.9g|%ld|%u|%s|%d|%d|%s", perf_suite_engines(s, b),
             perf_suite_keys(s, b), perf_suite_duration(s, b), perf_suite_ops(s, b),
             perf_suite_reps(s, b), b->args, b->counts, duet,
             duet && s->duet_per_section ? b->workload : "");
}

static int in_csv(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; (p = strstr(p, item)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

static group *make_groups(const perf_suite *s, size_t *ng)
{
    group *g = calloc(s->nb ? s->nb : 1, sizeof *g);
    char (*keys)[1400] = calloc(s->nb ? s->nb : 1, sizeof *keys);
    size_t n = 0;
    if (!g || !keys) {
        free(g);
        free(keys);
        return NULL;
    }
    for (size_t i = 0; i < s->nb; i++) {
        const perf_suite_bench *b = &s->b[i];
        char k[1400];
        group_key(s, b, k, sizeof k);
        size_t j;
        for (j = 0; j < n; j++)
            if (!strcmp(keys[j], k))
                break;
        if (j == n) {
            memcpy(keys[n], k, sizeof k);
            group *x = &g[n++];
            x->engines = perf_suite_engines(s, b);
            x->keys = perf_suite_keys(s, b);
            x->duration = perf_suite_duration(s, b);
            x->ops = perf_suite_ops(s, b);
            x->reps = perf_suite_reps(s, b);
            x->counts = b->counts;
            x->duet = !b->counts && b->pairing == PERF_PAIRING_DUET;
            if (b->counts) {
                /* The suite's duration, ops and args are wall-clock
                 * settings (--warmup S is refused in counts mode). */
                x->duration = 0;
                x->ops = b->ops;
                perf_strlcpy(x->args, b->args, sizeof x->args);
            } else {
                perf_fmt(x->args, sizeof x->args, "%s%s%s", s->args, s->args[0] ? " " : "",
                         b->args);
            }
        }
        group *x = &g[j];
        if (!in_csv(x->workloads, b->workload)) {
            size_t l = strlen(x->workloads);
            perf_fmt(x->workloads + l, sizeof x->workloads - l, "%s%s", l ? "," : "", b->workload);
        }
        size_t l = strlen(x->names);
        perf_fmt(x->names + l, sizeof x->names - l, "%s%s", l ? "," : "", b->name);
    }
    free(keys);
    *ng = n;
    return g;
}

size_t perf_runner_interleaved_calls(const perf_suite *s, unsigned rounds, int counts_done)
{
    size_t ng = 0, calls = 0;
    group *g = make_groups(s, &ng);
    for (size_t i = 0; g && i < ng; i++)
        calls += g[i].counts ? (counts_done || !rounds ? 0 : 2) : 2 * (size_t)rounds;
    free(g);
    return calls;
}

size_t perf_runner_run_calls(const perf_suite *s, unsigned reps_override)
{
    size_t ng = 0, calls = 0;
    group *g = make_groups(s, &ng);
    unsigned procs = s->processes ? s->processes : 1;
    for (size_t i = 0; g && i < ng; i++) {
        unsigned reps = reps_override ? reps_override : g[i].reps;
        calls += procs < reps ? procs : reps;
    }
    free(g);
    return calls;
}

/* argv for one bench call; strings live in `store` (one buffer). */
typedef struct argv_buf {
    char *argv[96];
    size_t argc;
    char store[8192];
    size_t used;
} argv_buf;

static int push(argv_buf *a, const char *s)
{
    size_t l = strlen(s) + 1;
    if (a->argc + 1 >= sizeof a->argv / sizeof a->argv[0] || a->used + l > sizeof a->store)
        return -1;
    memcpy(a->store + a->used, s, l);
    a->argv[a->argc++] = a->store + a->used;
    a->argv[a->argc] = NULL;
    a->used += l;
    return 0;
}

static int build_argv(const perf_suite *s, const group *g, const perf_side *side,
                      unsigned reps, uint64_t seed, const char *json, argv_buf *a)
{
    char num[64];
    memset(a, 0, sizeof *a);
    int bad = push(a, side->bin) || push(a, "bench") || push(a, "--engines") ||
              push(a, g->engines) || push(a, "--workloads") || push(a, g->workloads);
    snprintf(num, sizeof num, "%ld", g->keys);
    bad = bad || push(a, "--keys") || push(a, num);
    snprintf(num, sizeof num, "%u", reps);
    bad = bad || push(a, "--reps") || push(a, num);
    if (g->ops > 0) {
        snprintf(num, sizeof num, "%ld", g->ops);
        bad = bad || push(a, "--ops") || push(a, num);
    } else if (g->duration > 0) {
        snprintf(num, sizeof num, "%g", g->duration);
        bad = bad || push(a, "--duration") || push(a, num);
    }
    snprintf(num, sizeof num, "%llu", (unsigned long long)seed);
    bad = bad || push(a, "--seed") || push(a, num) || push(a, "--sync") || push(a, s->sync);
    if (g->counts)
        bad = bad || push(a, "--measure") || push(a, "counts");
    /* The suite's data_dir (the quick suite: /dev/shm): the bench makes
     * and removes its own directory inside it. */
    if (s->data_dir[0])
        bad = bad || push(a, "--dir") || push(a, s->data_dir);
    if (side->inject_pct > 0) {
        snprintf(num, sizeof num, "%g", side->inject_pct);
        bad = bad || push(a, "--inject-slowdown") || push(a, num);
    }
    /* Extra arguments from the suite file: split on whitespace, each word
     * one argument; no shell ever sees them. */
    char words[1024];
    perf_strlcpy(words, g->args, sizeof words);
    char *save = NULL;
    for (char *w = strtok_r(words, " \t", &save); w && !bad; w = strtok_r(NULL, " \t", &save))
        bad = push(a, w);
    bad = bad || push(a, "--json") || push(a, json);
    return bad ? -1 : 0;
}

static void args_json(const argv_buf *a, char *out, size_t cap)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < a->argc; i++)
        json_array_append_new(arr, json_string(a->argv[i]));
    char *t = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    perf_strlcpy(out, t ? t : "[]", cap);
    free(t);
    json_decref(arr);
}

static int call_no;

/* One bench process of one side, from spawn to parsed samples; started and
 * finished separately so a duet can run two at once. */
typedef struct call {
    char json[4096], out[4096], err[4096], tmpenv[4200], optenv[600];
    argv_buf a;
    pid_t pid;
    perf_freeze fz;
    double t0;
} call;

static int call_start(const perf_suite *s, const group *g, perf_side *side, unsigned reps,
                      const perf_runner_opts *o, const cpu_set_t *cpus, call *c, perf_error *e)
{
    int n = ++call_no;
    perf_fmt(c->json, sizeof c->json, "%s/bench-%d.json", o->scratch, n);
    perf_fmt(c->out, sizeof c->out, "%s/bench-%d.out", o->scratch, n);
    perf_fmt(c->err, sizeof c->err, "%s/bench-%d.err", o->scratch, n);
    perf_fmt(c->tmpenv, sizeof c->tmpenv, "TMPDIR=%s", o->scratch);
    memset(&c->fz, 0, sizeof c->fz);
    uint64_t seed = s->seed + (uint64_t)o->seed_offset * (uint64_t)side->procs;
    if (build_argv(s, g, side, reps, seed, c->json, &c->a))
        return perf_seterr(e, "bench command line too long for [%s]", g->names);
    /* The suite's engine_options reach the engine as the bench reads them
     * (bench/engine_lightning.c: LIGHTNING_BENCH_OPTIONS). */
    const char *so_ = side->engine_options ? side->engine_options : "";
    perf_fmt(c->optenv, sizeof c->optenv, "LIGHTNING_BENCH_OPTIONS=%s%s%s", s->engine_options,
             s->engine_options[0] && so_[0] ? "," : "", so_);
    char *env[] = {c->tmpenv, s->engine_options[0] || so_[0] ? c->optenv : NULL, NULL};
    /* Only a frozen side needs its own process group: the freezer stops
     * the whole group, and a child in our group would stop us too. */
    int freeze = side->freeze_pct > 0 && !g->counts;
    perf_spawn_opts so = {.cpus = cpus, .own_pgroup = freeze};
    c->t0 = perf_now();
    remove(c->json);
    if (perf_proc_start(c->a.argv, env, c->out, c->err, &so, &c->pid, e))
        return -1;
    /* Duet sections are single-threaded: their freeze follows the
     * process's CPU time, so it is the same slowdown at any load. */
    if (freeze && perf_freeze_start(&c->fz, c->pid, side->freeze_pct, 0, g->duet, e)) {
        kill(c->pid, SIGKILL);
        perf_proc_reap(c->pid, side->bin, NULL);
        return -1;
    }
    return 0;
}

/* Waits for the process of c; its samples are appended with the next
 * process index and repetitions following those already held. */
static int call_finish(const group *g, perf_side *side, call *c, perf_error *e)
{
    int w = perf_proc_wait_exit(c->pid, e);
    side->seconds += perf_now() - c->t0;
    perf_freeze_stop(&c->fz);
    int rc = perf_proc_reap(c->pid, side->bin, w ? NULL : e);
    if (w || rc < 0)
        return -1;
    if (rc != 0) {
        char tail[700];
        perf_file_tail(c->err, 6, tail, sizeof tail);
        return perf_seterr(e, "`%s bench --workloads %s` failed (exit %d)%s%s", side->bin,
                           g->workloads, rc, tail[0] ? ":\n" : "", tail);
    }
    perf_bench_doc doc;
    if (perf_results_parse_file(c->json, &doc, e))
        return perf_preperr(e, "output of `%s bench --workloads %s`", side->bin, g->workloads);
    int minrep = 0x7fffffff;
    for (size_t i = 0; i < doc.samples.n; i++)
        if (doc.samples.v[i].repetition < minrep)
            minrep = doc.samples.v[i].repetition;
    int base_rep = 0;
    for (size_t i = 0; i < side->samples.n; i++)
        if (side->samples.v[i].repetition + 1 > base_rep)
            base_rep = side->samples.v[i].repetition + 1;
    if (perf_samples_append(&side->samples, &doc.samples, side->procs, base_rep - minrep)) {
        perf_bench_doc_free(&doc);
        return perf_seterr(e, "out of memory");
    }
    if (!side->have_meta) {
        perf_samples_free(&doc.samples);
        side->meta = doc;
        side->have_meta = 1;
        args_json(&c->a, side->first_args, sizeof side->first_args);
    } else {
        perf_bench_doc_free(&doc);
    }
    side->procs++;
    return 0;
}

static int one_call(const perf_suite *s, const group *g, perf_side *side, unsigned reps,
                    const perf_runner_opts *o, perf_error *e)
{
    call *c = malloc(sizeof *c);
    if (!c)
        return perf_seterr(e, "out of memory");
    int rc = call_start(s, g, side, reps, o, NULL, c, e);
    if (!rc)
        rc = call_finish(g, side, c, e);
    free(c);
    return rc;
}

/* The two CPU sets of a duet: the allowed CPUs split in halves, at most
 * two each (one bench thread plus the engine's background threads). */
static int duet_cpus(cpu_set_t sets[2], perf_error *e)
{
    cpu_set_t all;
    if (sched_getaffinity(0, sizeof all, &all))
        return perf_seterr(e, "sched_getaffinity: %s", strerror(errno));
    int ids[CPU_SETSIZE], n = 0;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &all))
            ids[n++] = i;
    if (n < 2)
        return perf_seterr(e, "pairing = duet needs 2 CPUs, this process may use %d; set "
                              "pairing = abba in the suite", n);
    int per = n / 2 > 2 ? 2 : n / 2;
    CPU_ZERO(&sets[0]);
    CPU_ZERO(&sets[1]);
    for (int i = 0; i < per; i++) {
        CPU_SET(ids[i], &sets[0]);
        CPU_SET(ids[per + i], &sets[1]);
    }
    return 0;
}

/* One duet: both sides' processes at the same time, each on its own CPUs.
 * Which side gets which CPUs alternates by round, so a faster core does
 * not favour one side. */
static int duet_round(const perf_suite *s, const group *g, perf_side *a, perf_side *b,
                      unsigned round, const perf_runner_opts *o, const cpu_set_t sets[2],
                      perf_error *e)
{
    call *c = calloc(2, sizeof *c);
    if (!c)
        return perf_seterr(e, "out of memory");
    perf_side *sd[2] = {a, b};
    int started = 0, rc = -1;
    for (int k = 0; k < 2; k++) {
        if (call_start(s, g, sd[k], s->ab_reps ? s->ab_reps : 1, o, &sets[(k + round) % 2],
                       &c[k], e))
            goto out;
        started++;
    }
    rc = 0;
out:
    for (int k = 0; k < started; k++) {
        perf_error e2;
        if (call_finish(g, sd[k], &c[k], rc ? &e2 : e))
            rc = -1;
    }
    free(c);
    return rc;
}

static void label(char *out, size_t cap, const group *g, const perf_side *side,
                  const char *extra)
{
    perf_fmt(out, cap, "%s (%s%s)", g->names, side->label ? side->label : "", extra);
}

int perf_run_suite(const perf_suite *s, perf_side *side, const perf_runner_opts *o,
                   perf_error *e)
{
    size_t ng;
    group *g = make_groups(s, &ng);
    if (!g)
        return perf_seterr(e, "out of memory");
    int rc = -1;
    unsigned procs = s->processes ? s->processes : 1;
    for (size_t i = 0; i < ng; i++) {
        unsigned reps = o->reps_override ? o->reps_override : g[i].reps;
        unsigned p = procs < reps ? procs : reps;
        /* Spread reps over p processes as evenly as possible. */
        for (unsigned k = 0; k < p; k++) {
            unsigned r = reps / p + (k < reps % p ? 1 : 0);
            char lab[700], extra[64];
            snprintf(extra, sizeof extra, "%sprocess %u/%u, %u reps", side->label ? ", " : "",
                     k + 1, p, r);
            label(lab, sizeof lab, &g[i], side, extra);
            perf_progress_step(o->progress, lab);
            if (one_call(s, &g[i], side, r, o, e))
                goto out;
            perf_progress_advance(o->progress);
        }
    }
    rc = 0;
out:
    free(g);
    return rc;
}

int perf_run_interleaved(const perf_suite *s, perf_side *a, perf_side *b, unsigned rounds,
                         const perf_runner_opts *o, perf_error *e)
{
    size_t ng;
    group *g = make_groups(s, &ng);
    if (!g)
        return perf_seterr(e, "out of memory");
    int rc = -1, have_cpus = 0;
    cpu_set_t cpus[2];
    for (unsigned r = 0; r < rounds; r++) {
        for (size_t i = 0; i < ng; i++) {
            /* Counts are deterministic: one process per side, in the first
             * round of a fresh comparison only (not when extending). */
            if (g[i].counts && (r > 0 || o->counts_done))
                continue;
            if (g[i].duet) {
                char lab[700], extra[64];
                snprintf(extra, sizeof extra, " duet, round %u/%u", r + 1, rounds);
                label(lab, sizeof lab, &g[i], a, extra);
                perf_progress_step(o->progress, lab);
                if (!have_cpus && duet_cpus(cpus, e))
                    goto out;
                have_cpus = 1;
                if (duet_round(s, &g[i], a, b, r, o, cpus, e))
                    goto out;
                perf_progress_advance(o->progress);
                perf_progress_advance(o->progress);
                continue;
            }
            /* ABBA: even rounds run A first, odd rounds B first. */
            perf_side *order[2] = {r % 2 ? b : a, r % 2 ? a : b};
            for (int k = 0; k < 2; k++) {
                char lab[700], extra[64];
                snprintf(extra, sizeof extra, ", round %u/%u", r + 1, rounds);
                label(lab, sizeof lab, &g[i], order[k], extra);
                perf_progress_step(o->progress, lab);
                unsigned reps = g[i].counts || !s->ab_reps ? 1 : s->ab_reps;
                if (one_call(s, &g[i], order[k], reps, o, e))
                    goto out;
                perf_progress_advance(o->progress);
            }
        }
    }
    rc = 0;
out:
    free(g);
    return rc;
}
