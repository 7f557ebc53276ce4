/*
 * bench/output.c — table, lightning-bench/1 JSON and Google Benchmark JSON
 * (bench/output.h). docs/bench.md documents every member written here.
 */
#include "bench/output.h"

#include "bench/counts.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers -------------------------------------------------------- */

static int cmp_result(const void *a, const void *b)
{
    const bench_result *x = *(const bench_result *const *)a;
    const bench_result *y = *(const bench_result *const *)b;
    int wx = bench_workload_index(x->workload), wy = bench_workload_index(y->workload);
    if (wx != wy)
        return wx < wy ? -1 : 1;
    if (x->threads != y->threads)
        return x->threads < y->threads ? -1 : 1;
    if (x->engine_index != y->engine_index)
        return x->engine_index < y->engine_index ? -1 : 1;
    if (x->repetition != y->repetition)
        return x->repetition < y->repetition ? -1 : 1;
    return 0;
}

/* Canonically ordered pointers to the results (caller frees). */
static const bench_result **sorted_results(const bench_report *rep)
{
    const bench_result **v = malloc((rep->n_results + 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < rep->n_results; i++)
        v[i] = &rep->results[i];
    qsort(v, rep->n_results, sizeof *v, cmp_result);
    return v;
}

void bench_result_name(const bench_result *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s/%s/threads:%d", r->workload->name, r->engine,
             bench_sync_name(r->sync_mode), r->threads);
}

/* The value that judges a result, and whether higher is better. */
static double primary_value(const bench_result *r, int *better, const char **unit)
{
    if (!r->primary[0] || strcmp(r->primary, "ops_per_sec") == 0) {
        *better = BENCH_BETTER_HIGHER;
        *unit = "ops/s";
        return r->seconds > 0 ? r->ops_per_sec : NAN;
    }
    const bench_metric *m = bench_result_metric(r, r->primary);
    if (!m) {
        *better = BENCH_BETTER_HIGHER;
        *unit = "";
        return NAN;
    }
    *better = m->better;
    *unit = m->unit;
    return m->value;
}

double bench_result_primary(const bench_result *r, int *better, const char **unit)
{
    return primary_value(r, better, unit);
}

const bench_result **bench_report_sorted(const bench_report *rep)
{
    return sorted_results(rep);
}

/* ---- lightning-bench/1 ------------------------------------------------------ */

static json_t *num_or_null(double v, int have)
{
    return have && isfinite(v) ? json_real(v) : json_null();
}

static json_t *u64_json(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
}

static const char *data_name(bench_wdata d)
{
    switch (d) {
    case BENCH_WD_LOADED: return "loaded";
    case BENCH_WD_UPDATE: return "loaded-overwrite";
    case BENCH_WD_INSERT: return "loaded-insert";
    case BENCH_WD_FRESH: return "fresh";
    case BENCH_WD_OWN: return "own";
    }
    return "?";
}

static const char *keys_name(bench_wkeys k)
{
    switch (k) {
    case BENCH_WKEYS_LOADED: return "loaded";
    case BENCH_WKEYS_ABSENT: return "absent";
    case BENCH_WKEYS_HOTKEY: return "hot-key";
    case BENCH_WKEYS_HOTSET: return "hot-set";
    case BENCH_WKEYS_NEW_SEQ: return "new-in-order";
    case BENCH_WKEYS_NEW_RANDOM: return "new-random-order";
    }
    return "?";
}

static json_t *operations_json(const bench_workload *w)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    switch (w->kind) {
    case BENCH_WK_MEMORY:
        json_object_set_new(o, "load", json_real(1.0));
        return o;
    case BENCH_WK_STARTUP:
        json_object_set_new(o, "open", json_real(1.0));
        return o;
    case BENCH_WK_OPS:
        break;
    }
    switch (w->op) {
    case BENCH_WOP_TXN: json_object_set_new(o, "txn", json_real(1.0)); break;
    case BENCH_WOP_MULTIGET: json_object_set_new(o, "multiget", json_real(1.0)); break;
    case BENCH_WOP_GET_INVALID:
        json_object_set_new(o, "invalid-get", json_real(1.0));
        break;
    case BENCH_WOP_MIX: {
        double total = 0;
        for (int k = 0; k < BENCH_OP_COUNT; k++)
            total += w->mix[k] > 0 ? w->mix[k] : 0;
        for (int k = 0; k < BENCH_OP_COUNT; k++)
            if (w->mix[k] > 0)
                json_object_set_new(o, bench_op_name((bench_op)k),
                                    json_real(w->mix[k] / total));
        break;
    }
    }
    return o;
}

static json_t *params_json(const bench_report *rep, const bench_result *r)
{
    const bench_run_config *c = &rep->cfg;
    const bench_workload *w = r->workload;
    json_t *p = json_object();
    if (!p)
        return NULL;
    int timed = w->kind == BENCH_WK_OPS;
    json_object_set_new(p, "keys", u64_json(c->keys));
    json_object_set_new(p, "key_size", u64_json(c->key_size));
    json_object_set_new(p, "value_size",
                        u64_json(w->value_size ? w->value_size : c->value_size));
    json_object_set_new(p, "data", json_string(data_name(w->data)));
    json_object_set_new(p, "key_choice",
                        timed ? json_string(keys_name(w->keys)) : json_null());
    json_object_set_new(p, "distribution",
                        r->dist >= 0 && timed
                            ? json_string(bench_dist_name((bench_dist_kind)r->dist))
                            : json_null());
    if (r->dist == BENCH_DIST_ZIPFIAN || r->dist == BENCH_DIST_SCRAMBLED_ZIPFIAN ||
        r->dist == BENCH_DIST_LATEST)
        json_object_set_new(p, "zipf_theta", json_real(BENCH_ZIPF_THETA));
    json_object_set_new(p, "operations", operations_json(w));
    if (timed && w->op == BENCH_WOP_MIX && w->mix[BENCH_OP_SCAN] > 0) {
        json_t *a = json_array();
        json_array_append_new(a, json_integer(w->scan_min));
        json_array_append_new(a, json_integer(w->scan_max));
        json_object_set_new(p, "scan_length", a);
    }
    if (w->batch)
        json_object_set_new(p, "batch", json_integer(w->batch));
    if (w->keys == BENCH_WKEYS_HOTSET) {
        uint64_t hot = c->keys * w->hot_permille / 1000;
        json_object_set_new(p, "hot_keys", u64_json(hot ? hot : 1));
    }
    if (w->keys == BENCH_WKEYS_HOTKEY)
        json_object_set_new(p, "hot_key_index", u64_json(c->keys / 2));
    json_object_set_new(p, "load_order",
                        json_string(c->load_order == BENCH_LOAD_RANDOM ? "random"
                                                                       : "key"));
    if (timed) {
        json_object_set_new(p, "duration_s",
                            c->ops ? json_null() : json_real(c->duration_s));
        json_object_set_new(p, "ops_target", c->ops ? u64_json(c->ops) : json_null());
        json_object_set_new(p, "warmup_s",
                            w->cold || c->warmup_ops ? json_null()
                                                     : json_real(c->warmup_s));
        json_object_set_new(p, "warmup_ops",
                            !w->cold && c->warmup_ops ? u64_json(c->warmup_ops)
                                                      : json_null());
        json_object_set_new(p, "sample_every", json_integer(c->sample_every));
    }
    json_object_set_new(p, "cold", json_boolean(w->cold || w->cold_open));
    if (w->kind == BENCH_WK_STARTUP)
        json_object_set_new(p, "checkpoint", r->checkpoint < 0 ? json_null()
                                                               : json_boolean(r->checkpoint));
    json_object_set_new(p, "seed", u64_json(c->seed));
    json_object_set_new(p, "inject_slowdown_pct", json_real(r->slowdown_pct));
    if (r->slowdown_spin_ns > 0)
        json_object_set_new(p, "slowdown_spin_ns", json_real(r->slowdown_spin_ns));
    if (r->slowdown_spin_iters > 0)
        json_object_set_new(p, "slowdown_spin_iters", u64_json(r->slowdown_spin_iters));
    if (c->measure == BENCH_MEASURE_COUNTS) {
        /* Only then, so wall-clock params stay what they always were. */
        json_object_set_new(p, "measure", json_string("counts"));
        json_object_set_new(p, "cache_model",
                            json_string("callgrind I1 " BENCH_COUNTS_I1 " D1 " BENCH_COUNTS_D1
                                        " LL " BENCH_COUNTS_LL));
    }
    json_object_set_new(p, "note", w->note ? json_string(w->note) : json_null());
    json_object_set_new(p, "compare_to",
                        w->compare_to ? json_string(w->compare_to) : json_null());
    return p;
}

static json_t *latency_json(const bench_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int have = r->lat_samples > 0;
    json_object_set_new(o, "p50", have ? u64_json(r->lat_p50) : json_null());
    json_object_set_new(o, "p90", have ? u64_json(r->lat_p90) : json_null());
    json_object_set_new(o, "p95", have ? u64_json(r->lat_p95) : json_null());
    json_object_set_new(o, "p99", have ? u64_json(r->lat_p99) : json_null());
    json_object_set_new(o, "p999", have ? u64_json(r->lat_p999) : json_null());
    json_object_set_new(o, "max", have ? u64_json(r->lat_max) : json_null());
    return o;
}

static json_t *result_json(const bench_report *rep, const bench_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int better;
    const char *unit;
    (void)primary_value(r, &better, &unit);
    json_object_set_new(o, "benchmark", json_string(r->workload->name));
    json_object_set_new(o, "group", json_string(r->workload->group));
    json_object_set_new(o, "engine", json_string(r->engine));
    json_object_set_new(o, "sync_mode", json_string(bench_sync_name(r->sync_mode)));
    json_object_set_new(o, "threads", json_integer(r->threads));
    json_object_set_new(o, "params", params_json(rep, r));
    json_object_set_new(o, "repetition", json_integer(r->repetition));
    json_object_set_new(o, "ops", u64_json(r->ops));
    json_object_set_new(o, "seconds", num_or_null(r->seconds, r->seconds > 0));
    json_object_set_new(o, "ops_per_sec", num_or_null(r->ops_per_sec, r->seconds > 0));
    json_object_set_new(o, "latency_ns", latency_json(r));
    json_object_set_new(o, "latency_samples", u64_json(r->lat_samples));
    /* cpu_user_s, cpu_sys_s, rss_peak_bytes, instructions, cycles (null when
     * not measured) and rss_peak_scope. */
    bench_counters_json_set(o, &r->counters);
    json_object_set_new(o, "notfound", u64_json(r->notfound));
    if (r->workload->op == BENCH_WOP_GET_INVALID)
        json_object_set_new(o, "rejected", u64_json(r->rejected));
    if (r->workload->op == BENCH_WOP_MIX && r->workload->mix[BENCH_OP_SCAN] > 0)
        json_object_set_new(o, "keys_scanned", u64_json(r->items));
    json_t *ms = json_object();
    for (size_t i = 0; ms && i < r->n_metrics; i++) {
        const bench_metric *m = &r->metrics[i];
        json_t *mo = json_object();
        json_object_set_new(mo, "value", num_or_null(m->value, 1));
        json_object_set_new(mo, "unit", json_string(m->unit));
        json_object_set_new(mo, "direction",
                            json_string(m->better == BENCH_BETTER_LOWER ? "lower"
                                                                        : "higher"));
        json_object_set_new(ms, m->name, mo);
    }
    json_object_set_new(o, "metrics", ms ? ms : json_null());
    json_object_set_new(o, "primary_metric",
                        json_string(r->primary[0] ? r->primary : "ops_per_sec"));
    json_object_set_new(o, "direction",
                        json_string(better == BENCH_BETTER_LOWER ? "lower" : "higher"));
    return o;
}

static const char *status_name(int s)
{
    switch (s) {
    case BENCH_ENGINE_OK: return "ok";
    case BENCH_ENGINE_FAILED: return "failed";
    case BENCH_ENGINE_UNSUPPORTED: return "unsupported";
    default: return "not-run";
    }
}

static json_t *config_json(const bench_report *rep)
{
    const bench_run_config *c = &rep->cfg;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_t *en = json_array(), *wl = json_array(), *th = json_array();
    for (size_t i = 0; en && i < c->n_engines; i++)
        json_array_append_new(en, json_string(c->engines[i]->name));
    for (size_t i = 0; wl && i < c->n_workloads; i++)
        json_array_append_new(wl, json_string(c->workloads[i]->name));
    for (size_t i = 0; th && i < c->n_threads; i++)
        json_array_append_new(th, json_integer(c->threads[i]));
    json_object_set_new(o, "engines", en ? en : json_null());
    json_object_set_new(o, "workloads", wl ? wl : json_null());
    json_object_set_new(o, "keys", u64_json(c->keys));
    json_object_set_new(o, "key_size", u64_json(c->key_size));
    json_object_set_new(o, "value_size", u64_json(c->value_size));
    json_object_set_new(o, "threads", th ? th : json_null());
    json_object_set_new(o, "duration_s", c->ops ? json_null() : json_real(c->duration_s));
    json_object_set_new(o, "ops", c->ops ? u64_json(c->ops) : json_null());
    json_object_set_new(o, "warmup_s", c->warmup_ops ? json_null() : json_real(c->warmup_s));
    json_object_set_new(o, "warmup_ops", c->warmup_ops ? u64_json(c->warmup_ops) : json_null());
    json_object_set_new(o, "reps", json_integer(c->reps));
    json_object_set_new(o, "seed", u64_json(c->seed));
    json_object_set_new(o, "sync_mode", json_string(bench_sync_name(c->sync_mode)));
    json_object_set_new(o, "sample_every", json_integer(c->sample_every));
    json_object_set_new(o, "load_order",
                        json_string(c->load_order == BENCH_LOAD_RANDOM ? "random" : "key"));
    json_object_set_new(o, "load_batch", json_integer(BENCH_LOAD_BATCH));
    json_object_set_new(o, "distribution",
                        c->distribution >= 0
                            ? json_string(bench_dist_name((bench_dist_kind)c->distribution))
                            : json_null());
    json_object_set_new(o, "inject_slowdown_pct", json_real(c->inject_slowdown_pct));
    json_object_set_new(o, "measure", json_string(c->measure == BENCH_MEASURE_COUNTS
                                                      ? "counts" : "wallclock"));
    json_object_set_new(o, "timer_overhead_ns", json_real(rep->timer_overhead_ns));
    json_t *hw = json_object();
    json_object_set_new(hw, "available", json_boolean(rep->perf_available));
    json_object_set_new(hw, "reason",
                        rep->perf_available || !rep->perf_reason[0]
                            ? json_null() : json_string(rep->perf_reason));
    json_object_set_new(o, "hardware_counters", hw);
    return o;
}

json_t *bench_report_to_json(const bench_report *rep, int argc, char *const *argv)
{
    json_t *root = json_object();
    const bench_result **v = sorted_results(rep);
    if (!root || !v)
        goto fail;
    json_object_set_new(root, "schema", json_string(BENCH_SCHEMA));
    json_object_set_new(root, "tool", json_string("lightning bench"));
    json_object_set_new(root, "created", rep->started_utc[0]
                                             ? json_string(rep->started_utc)
                                             : json_null());
    json_t *cmd = json_array();
    for (int i = 0; cmd && argv && i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    json_object_set_new(root, "command", cmd ? cmd : json_null());
    json_t *m = bench_machine_to_json(&rep->machine);
    json_t *b = bench_build_to_json(&rep->build);
    json_object_set_new(root, "machine", m ? m : json_null());
    json_object_set_new(root, "build", b ? b : json_null());
    json_object_set_new(root, "config", config_json(rep));
    json_t *en = json_object();
    for (size_t i = 0; en && rep->engines && i < rep->cfg.n_engines; i++) {
        const bench_engine_report *er = &rep->engines[i];
        json_t *e = json_object();
        json_object_set_new(e, "config", er->config[0] ? json_string(er->config)
                                                       : json_null());
        json_t *all = json_array();
        for (size_t k = 0; all && k < er->n_configs; k++)
            json_array_append_new(all, json_string(er->configs[k]));
        json_object_set_new(e, "configs", all ? all : json_null());
        json_object_set_new(e, "status", json_string(status_name(er->status)));
        json_object_set_new(e, "error", er->error[0] ? json_string(er->error)
                                                     : json_null());
        json_object_set_new(e, "load_seconds", num_or_null(er->load_seconds,
                                                           er->load_seconds >= 0));
        json_object_set_new(e, "load_keys", er->load_seconds >= 0
                                                ? u64_json(er->load_keys)
                                                : json_null());
        json_object_set_new(en, er->name, e);
    }
    json_object_set_new(root, "engines", en ? en : json_null());
    json_t *notes = json_array();
    for (size_t i = 0; notes && i < rep->n_notes; i++)
        json_array_append_new(notes, json_string(rep->notes[i]));
    json_object_set_new(root, "notes", notes ? notes : json_null());
    json_t *rs = json_array();
    if (!rs)
        goto fail;
    for (size_t i = 0; i < rep->n_results; i++) {
        json_t *r = result_json(rep, v[i]);
        if (!r || json_array_append_new(rs, r) != 0) {
            json_decref(rs);
            goto fail;
        }
    }
    json_object_set_new(root, "results", rs);
    free(v);
    return root;
fail:
    free(v);
    json_decref(root);
    return NULL;
}

static int dump(FILE *f, json_t *doc)
{
    if (!doc)
        return -1;
    int rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (rc != 0 || fputc('\n', f) == EOF || fflush(f) != 0)
        return -1;
    return 0;
}

int bench_report_write_json(FILE *f, const bench_report *rep, int argc, char *const *argv)
{
    return dump(f, bench_report_to_json(rep, argc, argv));
}

/* ---- Google Benchmark layout ------------------------------------------------ */

json_t *bench_report_to_gbench(const bench_report *rep)
{
    json_t *root = json_object(), *ctx = json_object(), *bs = json_array();
    const bench_result **v = sorted_results(rep);
    if (!root || !ctx || !bs || !v)
        goto fail;
    json_object_set_new(ctx, "date", json_string(rep->started_utc));
    json_object_set_new(ctx, "host_name", json_string(rep->machine.hostname));
    json_object_set_new(ctx, "executable", json_string("lightning bench"));
    json_object_set_new(ctx, "num_cpus", json_integer(rep->machine.logical_cores));
    if (rep->machine.governor[0])
        json_object_set_new(ctx, "cpu_scaling_enabled",
                            json_boolean(strcmp(rep->machine.governor, "performance") != 0));
    json_object_set_new(ctx, "caches", json_array());
    json_object_set_new(ctx, "library_build_type",
                        json_string(strstr(rep->build.cflags, "-O0") ? "debug" : "release"));
    json_object_set_new(ctx, "lightning_bench_schema", json_string(BENCH_SCHEMA));
    json_object_set_new(ctx, "machine_id", json_string(rep->machine.machine_id));
    json_object_set_new(ctx, "sync_mode", json_string(bench_sync_name(rep->cfg.sync_mode)));
    json_object_set_new(root, "context", ctx);
    ctx = NULL;
    int family = -1, instance = 0;
    const bench_workload *prev_w = NULL;
    char prev_name[256] = "";
    for (size_t i = 0; i < rep->n_results; i++) {
        const bench_result *r = v[i];
        char name[256];
        bench_result_name(r, name, sizeof name);
        if (r->workload != prev_w) {
            family++;
            instance = 0;
            prev_w = r->workload;
        } else if (strcmp(name, prev_name) != 0) {
            instance++;
        }
        snprintf(prev_name, sizeof prev_name, "%s", name);
        json_t *b = json_object();
        if (!b || json_array_append_new(bs, b) != 0)
            goto fail;
        json_object_set_new(b, "name", json_string(name));
        json_object_set_new(b, "family_index", json_integer(family));
        json_object_set_new(b, "per_family_instance_index", json_integer(instance));
        json_object_set_new(b, "run_name", json_string(name));
        json_object_set_new(b, "run_type", json_string("iteration"));
        json_object_set_new(b, "repetitions", json_integer(rep->cfg.reps));
        json_object_set_new(b, "repetition_index", json_integer(r->repetition - 1));
        json_object_set_new(b, "threads", json_integer(r->threads));
        json_object_set_new(b, "iterations", u64_json(r->ops));
        int have = r->ops > 0 && r->seconds > 0;
        json_object_set_new(b, "real_time",
                            num_or_null(r->seconds * 1e9 / (double)r->ops, have));
        int have_cpu = r->ops > 0 && r->counters.has_cpu;
        json_object_set_new(b, "cpu_time",
                            num_or_null((r->counters.cpu_user_s + r->counters.cpu_sys_s) *
                                            1e9 / (double)r->ops,
                                        have_cpu));
        json_object_set_new(b, "time_unit", json_string("ns"));
        json_object_set_new(b, "items_per_second", num_or_null(r->ops_per_sec, have));
        /* User counters, as Google Benchmark writes them: plain numbers. */
        if (r->lat_samples) {
            json_object_set_new(b, "p50_ns", u64_json(r->lat_p50));
            json_object_set_new(b, "p99_ns", u64_json(r->lat_p99));
            json_object_set_new(b, "p999_ns", u64_json(r->lat_p999));
        }
        for (size_t k = 0; k < r->n_metrics; k++)
            if (isfinite(r->metrics[k].value))
                json_object_set_new(b, r->metrics[k].name, json_real(r->metrics[k].value));
    }
    json_object_set_new(root, "benchmarks", bs);
    free(v);
    return root;
fail:
    free(v);
    json_decref(ctx);
    json_decref(bs);
    json_decref(root);
    return NULL;
}

int bench_report_write_gbench(FILE *f, const bench_report *rep)
{
    return dump(f, bench_report_to_gbench(rep));
}

/* ---- the table ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of the finite values among v[0..n-1] (reordered); NAN if none. */
static double median(double *v, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            v[m++] = v[i];
    if (!m)
        return NAN;
    qsort(v, m, sizeof *v, cmp_double);
    return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

static void fmt_si(char *buf, size_t cap, double v)
{
    if (!isfinite(v))
        snprintf(buf, cap, "-");
    else if (v >= 1e9)
        snprintf(buf, cap, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, cap, "%.1fK", v / 1e3);
    else
        snprintf(buf, cap, "%.0f", v);
}

static void fmt_ns(char *buf, size_t cap, double ns)
{
    if (!isfinite(ns))
        snprintf(buf, cap, "-");
    else if (ns < 1e3)
        snprintf(buf, cap, "%.0fns", ns);
    else if (ns < 1e6)
        snprintf(buf, cap, "%.2fus", ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, cap, "%.2fms", ns / 1e6);
    else
        snprintf(buf, cap, "%.2fs", ns / 1e9);
}

static void fmt_primary(char *buf, size_t cap, double v, const char *unit)
{
    if (!isfinite(v)) {
        snprintf(buf, cap, "-");
    } else if (strcmp(unit, "ops/s") == 0) {
        fmt_si(buf, cap, v);
    } else if (strcmp(unit, "s") == 0) {
        fmt_ns(buf, cap, v * 1e9);
    } else {
        char n[32];
        fmt_si(n, sizeof n, v);
        snprintf(buf, cap, "%s %s", n, unit);
    }
}

typedef struct row {
    const bench_result *first;
    double value, spread_pct, p50, p90, p99, p999, max;
    int better;
    const char *unit;
} row;

static void make_row(const bench_result *const *g, size_t n, row *out)
{
    double *tmp = malloc(n * sizeof *tmp);
    out->first = g[0];
    out->value = out->spread_pct = out->p50 = out->p90 = out->p99 = out->p999 =
        out->max = NAN;
    (void)primary_value(g[0], &out->better, &out->unit);
    if (!tmp)
        return;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        int b;
        const char *u;
        tmp[i] = primary_value(g[i], &b, &u);
        if (isfinite(tmp[i])) {
            lo = tmp[i] < lo ? tmp[i] : lo;
            hi = tmp[i] > hi ? tmp[i] : hi;
        }
    }
    out->value = median(tmp, n);
    if (isfinite(out->value) && out->value != 0 && n > 1)
        out->spread_pct = (hi - lo) / 2 / fabs(out->value) * 100;
#define MED(field, member)                                                    \
    do {                                                                      \
        for (size_t i = 0; i < n; i++)                                        \
            tmp[i] = g[i]->lat_samples ? (double)g[i]->member : NAN;          \
        out->field = median(tmp, n);                                          \
    } while (0)
    MED(p50, lat_p50);
    MED(p90, lat_p90);
    MED(p99, lat_p99);
    MED(p999, lat_p999);
#undef MED
    for (size_t i = 0; i < n; i++)
        if (g[i]->lat_samples && (!isfinite(out->max) || (double)g[i]->lat_max > out->max))
            out->max = (double)g[i]->lat_max;
    free(tmp);
}

int bench_report_write_table(FILE *f, const bench_report *rep)
{
    const bench_run_config *c = &rep->cfg;
    const bench_result **v = sorted_results(rep);
    row *rows = malloc((rep->n_results + 1) * sizeof *rows);
    if (!v || !rows) {
        free(v);
        free(rows);
        return -1;
    }
    size_t nr = 0;
    for (size_t i = 0; i < rep->n_results;) {
        size_t j = i + 1;
        while (j < rep->n_results && v[j]->workload == v[i]->workload &&
               v[j]->threads == v[i]->threads && v[j]->engine_index == v[i]->engine_index)
            j++;
        make_row(v + i, j - i, &rows[nr++]);
        i = j;
    }
    const char *ref = c->n_engines ? c->engines[0]->name : "?";
    char mode[96];
    if (c->ops)
        snprintf(mode, sizeof mode, "%llu ops per repetition", (unsigned long long)c->ops);
    else
        snprintf(mode, sizeof mode, "%g s per repetition", c->duration_s);
    fprintf(f, "# lightning bench: %llu keys, %zu B keys, %zu B values, sync %s, %d rep%s, "
               "%s, warm-up %g s\n"
               "# median over repetitions; +-%% = half the range; latency sampled 1 in %u "
               "(includes ~%.0f ns timer); x%s = this engine / %s\n",
            (unsigned long long)c->keys, c->key_size, c->value_size,
            bench_sync_name(c->sync_mode), c->reps, c->reps == 1 ? "" : "s", mode,
            c->warmup_s, c->sample_every, rep->timer_overhead_ns, ref, ref);
    char xref[40];
    snprintf(xref, sizeof xref, "x%s", ref);
    fprintf(f, "%-15s %3s %-10s %14s %6s %8s %8s %8s %8s %8s %10s\n", "benchmark", "thr",
            "engine", "result", "+-%", "p50", "p90", "p99", "p99.9", "max", xref);
    const bench_workload *last_w = NULL;
    for (size_t i = 0; i < nr; i++) {
        const row *r = &rows[i];
        const bench_result *x = r->first;
        /* The reference row: first engine of the run, same benchmark and threads. */
        const row *refrow = NULL;
        for (size_t k = 0; k < nr; k++)
            if (rows[k].first->workload == x->workload &&
                rows[k].first->threads == x->threads && rows[k].first->engine_index == 0)
                refrow = &rows[k];
        char val[64], sp[16], a[16], b[16], cc[16], d[16], e[16], ratio[24];
        fmt_primary(val, sizeof val, r->value, r->unit);
        if (strcmp(r->unit, "ops/s") == 0 && strcmp(val, "-") != 0)
            strncat(val, "/s", sizeof val - strlen(val) - 1);
        if (isfinite(r->spread_pct))
            snprintf(sp, sizeof sp, "%.1f", r->spread_pct);
        else
            snprintf(sp, sizeof sp, "-");
        fmt_ns(a, sizeof a, r->p50);
        fmt_ns(b, sizeof b, r->p90);
        fmt_ns(cc, sizeof cc, r->p99);
        fmt_ns(d, sizeof d, r->p999);
        fmt_ns(e, sizeof e, r->max);
        if (refrow && isfinite(refrow->value) && refrow->value != 0 && isfinite(r->value))
            snprintf(ratio, sizeof ratio, "%.2f%s", r->value / refrow->value,
                     r->better == BENCH_BETTER_LOWER ? " (lo)" : "");
        else
            snprintf(ratio, sizeof ratio, "-");
        fprintf(f, "%-15s %3d %-10s %14s %6s %8s %8s %8s %8s %8s %10s\n",
                x->workload != last_w ? x->workload->name : "", x->threads, x->engine, val,
                sp, a, b, cc, d, e, ratio);
        last_w = x->workload;
    }
    int any_lo = 0;
    for (size_t i = 0; i < nr; i++)
        any_lo |= rows[i].better == BENCH_BETTER_LOWER;
    if (any_lo)
        fprintf(f, "# (lo): lower is better for this row's result "
                   "(memory: RSS growth per key; startup: open time)\n");
    for (size_t i = 0; i < c->n_engines; i++) {
        const bench_engine_report *er = &rep->engines[i];
        if (er->status == BENCH_ENGINE_FAILED)
            fprintf(f, "# %s FAILED: %s\n", er->name, er->error);
        else if (er->status == BENCH_ENGINE_UNSUPPORTED)
            fprintf(f, "# %s skipped: sync mode %s unsupported\n", er->name,
                    bench_sync_name(c->sync_mode));
    }
    free(v);
    free(rows);
    return fflush(f) == 0 ? 0 : -1;
}

/* ---- --list ----------------------------------------------------------------- */

int bench_write_workload_list(FILE *f)
{
    size_t n;
    const bench_workload *t = bench_workloads(&n);
    fprintf(f, "Groups (usable in --workloads):");
    for (const char *const *g = bench_workload_groups(); *g; g++)
        fprintf(f, " %s", *g);
    fprintf(f, "\n  seed = the seed document's categories (all groups but ycsb and "
               "multiget); all = everything\n\nWorkloads:\n");
    const char *group = NULL;
    for (size_t i = 0; i < n; i++) {
        char d[512];
        if (!group || strcmp(group, t[i].group) != 0) {
            group = t[i].group;
            fprintf(f, "[%s]\n", group);
        }
        fprintf(f, "  %-14s %s\n", t[i].name, t[i].summary);
        fprintf(f, "  %-14s   %s\n", "", bench_workload_describe(&t[i], d, sizeof d));
        if (t[i].note)
            fprintf(f, "  %-14s   note: %s\n", "", t[i].note);
    }
    return fflush(f) == 0 ? 0 : -1;
}
