/*
 * bench/runner.c — per-engine orchestration of `lightning bench`: which
 * workloads run in which order on which database, the shared data set's
 * load and warm pass, one result per repetition, and the report
 * (bench/runner.h states the guarantees).
 *
 * Where the rest lives:
 *   bench/phase.{h,c}     the timing core: one timed phase and its workers
 *   bench/opstream.{h,c}  what each worker does: the seeded operation and
 *                         key streams and the determinism contract
 *   util/sys.{h,c}        file-system, /proc and clock helpers
 *
 * Called from one thread (bench_run); the phases create and join their
 * own workers, so nothing here is shared with another thread.
 */
#include "bench/runner.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bench/engine_lightning.h"
#include "bench/hist.h"
#include "bench/keygen.h"
#include "bench/opstream.h"
#include "bench/phase.h"
#include "util/sys.h"

#define SLOWDOWN_MIN_WARM_S 0.02     /* calibration needs some warm-up; no
                                        * more, so A/B runs stay alike */

/* ---- report bookkeeping -------------------------------------------------- */

static void note(bench_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(bench_report *rep, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (rep->cfg.log) {
        if (rep->cfg.progress)
            fputs("\r\033[K", rep->cfg.log);
        fprintf(rep->cfg.log, "note: %s\n", buf);
        fflush(rep->cfg.log);
    }
    if (rep->n_notes == rep->cap_notes) {
        size_t cap = rep->cap_notes ? rep->cap_notes * 2 : 16;
        char **n = realloc(rep->notes, cap * sizeof *n);
        if (!n)
            return; /* the note still went to the log */
        rep->notes = n;
        rep->cap_notes = cap;
    }
    char *copy = strdup(buf);
    if (copy)
        rep->notes[rep->n_notes++] = copy;
}

static void progress(bench_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void progress(bench_report *rep, const char *fmt, ...)
{
    if (!rep->cfg.progress || !rep->cfg.log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(rep->cfg.log, "\r\033[K[%zu/%zu phases, %.0f s] ", rep->phases_done,
            rep->phases_total, (double)(sys_now_ns() - rep->start_ns) * 1e-9);
    vfprintf(rep->cfg.log, fmt, ap);
    va_end(ap);
    fflush(rep->cfg.log);
}

static bench_result *push_result(bench_report *rep)
{
    if (rep->n_results == rep->cap_results) {
        size_t cap = rep->cap_results ? rep->cap_results * 2 : 32;
        bench_result *n = realloc(rep->results, cap * sizeof *n);
        if (!n)
            return NULL;
        rep->results = n;
        rep->cap_results = cap;
    }
    bench_result *r = &rep->results[rep->n_results++];
    memset(r, 0, sizeof *r);
    return r;
}

int bench_result_add_metric(bench_result *r, const char *name, double value,
                            const char *unit, int better)
{
    bench_metric *m = (bench_metric *)bench_result_metric(r, name);
    if (!m) {
        if (r->n_metrics >= BENCH_MAX_METRICS)
            return -1;
        m = &r->metrics[r->n_metrics++];
    }
    snprintf(m->name, sizeof m->name, "%s", name);
    m->value = value;
    snprintf(m->unit, sizeof m->unit, "%s", unit ? unit : "");
    m->better = better;
    return 0;
}

const bench_metric *bench_result_metric(const bench_result *r,
                                        const char *name)
{
    for (size_t i = 0; i < r->n_metrics; i++)
        if (strcmp(r->metrics[i].name, name) == 0)
            return &r->metrics[i];
    return NULL;
}

void bench_report_free(bench_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->n_notes; i++)
        free(rep->notes[i]);
    free(rep->notes);
    free(rep->results);
    free(rep->engines);
    memset(rep, 0, sizeof *rep);
}

/* ---- configuration -------------------------------------------------------- */

const char *bench_sync_name(int mode)
{
    switch (mode) {
    case BENCH_SYNC_NONE: return "none";
    case BENCH_SYNC_NORMAL: return "normal";
    case BENCH_SYNC_FULL: return "full";
    default: return "?";
    }
}

int bench_sync_parse(const char *s, int *mode)
{
    for (int m = BENCH_SYNC_NONE; m <= BENCH_SYNC_FULL; m++) {
        if (strcasecmp(s, bench_sync_name(m)) == 0) {
            *mode = m;
            return 0;
        }
    }
    return -1;
}

void bench_run_config_init(bench_run_config *c)
{
    memset(c, 0, sizeof *c);
    c->keys = 100000;
    c->key_size = 16;
    c->value_size = 1024;
    c->threads[0] = 1;
    c->n_threads = 1;
    c->duration_s = 2.0;
    c->warmup_s = 0.5;
    c->reps = 3;
    c->seed = 42;
    c->sync_mode = BENCH_SYNC_NONE;
    c->sample_every = 16;
    c->load_order = BENCH_LOAD_SEQ;
    c->distribution = -1;
}

int bench_run_config_check(const bench_run_config *c, char *err, size_t cap)
{
#define BAD(...) do { snprintf(err, cap, __VA_ARGS__); return -1; } while (0)
    if (!c->engines || c->n_engines == 0)
        BAD("no engines");
    for (size_t i = 0; i < c->n_engines; i++)
        if (!c->engines[i])
            BAD("engine %zu is NULL", i);
    if (!c->workloads || c->n_workloads == 0)
        BAD("no workloads");
    if (c->keys < 1 || c->keys > ((uint64_t)1 << 38))
        BAD("--keys must be between 1 and 2^38");
    if (c->key_size < BENCH_KEY_MIN_SIZE || c->key_size > 4096)
        BAD("--key-size must be between %d and 4096", BENCH_KEY_MIN_SIZE);
    if (c->value_size < 1 || c->value_size > ((size_t)16 << 20))
        BAD("--value-size must be between 1 and 16 MiB");
    if (c->n_threads < 1 || c->n_threads > BENCH_MAX_THREAD_COUNTS)
        BAD("between 1 and %d thread counts", BENCH_MAX_THREAD_COUNTS);
    for (size_t i = 0; i < c->n_threads; i++)
        if (c->threads[i] < 1 || c->threads[i] > 1024)
            BAD("--threads values must be between 1 and 1024");
    if (c->ops == 0 && !(c->duration_s > 0 && c->duration_s <= 86400))
        BAD("--duration must be > 0 (or give --ops)");
    if (!(c->warmup_s >= 0 && c->warmup_s <= 86400))
        BAD("--warmup must be >= 0");
    if (c->reps < 1 || c->reps > 1000)
        BAD("--reps must be between 1 and 1000");
    if (c->sync_mode < BENCH_SYNC_NONE || c->sync_mode > BENCH_SYNC_FULL)
        BAD("bad sync mode");
    if (c->sample_every < 1 || (c->sample_every & (c->sample_every - 1)))
        BAD("--sample-every must be a power of two");
    if (!(c->inject_slowdown_pct >= 0 && c->inject_slowdown_pct <= 1000))
        BAD("--inject-slowdown must be between 0 and 1000");
    if (c->load_order != BENCH_LOAD_SEQ && c->load_order != BENCH_LOAD_RANDOM)
        BAD("bad load order");
    if (c->distribution >= (int)BENCH_DIST_COUNT)
        BAD("bad distribution");
    for (size_t i = 0; i < c->n_workloads; i++) {
        const bench_workload *w = c->workloads[i];
        if (!w)
            BAD("workload %zu is NULL", i);
        if (w->batch > MAX_BATCH)
            BAD("%s: batch above %d", w->name, MAX_BATCH);
        if (w->keys == BENCH_WKEYS_HOTSET && c->keys < 2)
            BAD("%s needs --keys >= 2", w->name);
    }
    return 0;
#undef BAD
}

/* ---- per-engine run ------------------------------------------------------- */

typedef struct run_ctx {
    bench_report *rep;
    const bench_run_config *cfg;
    unsigned char *pool;
    char root[PATH_MAX];
    const bench_engine *lightning;
} run_ctx;

typedef struct eng_run {
    run_ctx *rc;
    size_t ei;
    const bench_engine *eng;
    bench_engine_report *er;
    char dir[PATH_MAX];          /* the engine's directory */
    char shared_dir[PATH_MAX];
    void *shared;                /* open shared data set, or NULL */
    bench_engine_config shared_cfg;
    atomic_uint_fast64_t ins;    /* next key index an insert takes */
    int failed, unsupported;
} eng_run;

static void eng_fail(eng_run *e, const char *during, const char *msg)
{
    if (e->failed)
        return;
    e->failed = 1;
    e->er->status = BENCH_ENGINE_FAILED;
    snprintf(e->er->error, sizeof e->er->error, "%.100s: %.400s", during, msg);
    note(e->rc->rep, "engine %s failed during %s: %s; its remaining workloads "
                     "are skipped and it has no results for them",
         e->eng->name, during, msg);
}

/* Opens an engine; handles UNSUPPORTED (marks the engine, returns it). */
static int eng_open(eng_run *e, const bench_engine_config *cfg, void **h,
                    const char *during)
{
    char desc[1024] = "";
    bench_engine_set_error("%s", "");
    int rc = e->eng->open(cfg, h, desc, sizeof desc);
    if (rc == BENCH_UNSUPPORTED) {
        e->unsupported = 1;
        e->er->status = BENCH_ENGINE_UNSUPPORTED;
        snprintf(e->er->error, sizeof e->er->error, "%s", bench_engine_error());
        note(e->rc->rep, "engine %s skipped: no faithful equivalent of sync "
                         "mode %s (%s)",
             e->eng->name, bench_sync_name(e->rc->cfg->sync_mode),
             bench_engine_error());
        *h = NULL;
        return rc;
    }
    if (rc != BENCH_OK) {
        *h = NULL;
        eng_fail(e, during, bench_engine_error());
        return rc;
    }
    if (desc[0]) {
        bench_engine_report *er = e->er;
        int seen = 0;
        for (size_t i = 0; i < er->n_configs; i++)
            seen |= strcmp(er->configs[i], desc) == 0;
        if (!seen && er->n_configs < sizeof er->configs / sizeof er->configs[0]) {
            snprintf(er->configs[er->n_configs++], sizeof er->configs[0], "%s", desc);
            if (e->rc->cfg->log) {
                if (e->rc->cfg->progress)
                    fputs("\r\033[K", e->rc->cfg->log);
                fprintf(e->rc->cfg->log, "engine %s (%s): %s\n", e->eng->name, during,
                        desc);
            }
        }
        if (!er->config[0] || cfg == &e->shared_cfg)
            snprintf(er->config, sizeof er->config, "%s", desc);
    }
    return BENCH_OK;
}

static void eng_close(eng_run *e, void **h, const char *during)
{
    if (!*h)
        return;
    int rc = e->eng->close(*h);
    *h = NULL;
    if (rc != BENCH_OK)
        eng_fail(e, during, bench_engine_error());
}

static void base_cfg(eng_run *e, bench_engine_config *c, const char *dir,
                     uint64_t key_count, int threads)
{
    memset(c, 0, sizeof *c);
    c->dir = dir;
    c->sync_mode = e->rc->cfg->sync_mode;
    c->key_count = key_count;
    c->key_size = e->rc->cfg->key_size;
    c->value_size = e->rc->cfg->value_size;
    c->threads = threads;
    c->inject_slowdown_pct = e->eng == e->rc->lightning
                                 ? e->rc->cfg->inject_slowdown_pct : 0.0;
}

/* Loads keys 0..n-1 (key order or a seeded permutation), batches of
 * BENCH_LOAD_BATCH per commit, one thread. */
static int load_keys(eng_run *e, void *h, uint64_t n, double *secs, char *err,
                     size_t errcap)
{
    const bench_run_config *c = e->rc->cfg;
    void *t = NULL;
    int rc = BENCH_EFAIL;
    unsigned char *keys = malloc(BENCH_LOAD_BATCH * c->key_size);
    const void **kp = malloc(BENCH_LOAD_BATCH * sizeof *kp);
    const void **vp = malloc(BENCH_LOAD_BATCH * sizeof *vp);
    size_t *kl = malloc(BENCH_LOAD_BATCH * sizeof *kl);
    size_t *vl = malloc(BENCH_LOAD_BATCH * sizeof *vl);
    bench_perm perm;
    if (!keys || !kp || !vp || !kl || !vl) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    if (c->load_order == BENCH_LOAD_RANDOM &&
        bench_perm_init(&perm, n, c->seed ^ 0x10adull) != 0) {
        snprintf(err, errcap, "bad key count");
        goto out;
    }
    if (e->eng->thread_init(h, &t) != BENCH_OK) {
        t = NULL;
        snprintf(err, errcap, "thread_init: %s", bench_engine_error());
        goto out;
    }
    for (size_t j = 0; j < BENCH_LOAD_BATCH; j++) {
        bench_key_format(keys + j * c->key_size, c->key_size, 0);
        kp[j] = keys + j * c->key_size;
        kl[j] = c->key_size;
        vl[j] = c->value_size;
    }
    uint64_t t0 = sys_now_ns(), last = t0;
    for (uint64_t i = 0; i < n; i += BENCH_LOAD_BATCH) {
        size_t m = n - i < BENCH_LOAD_BATCH ? (size_t)(n - i) : BENCH_LOAD_BATCH;
        for (size_t j = 0; j < m; j++) {
            uint64_t idx = c->load_order == BENCH_LOAD_RANDOM
                               ? bench_perm_apply(&perm, i + j) : i + j;
            uint64_t be = htobe64(idx);
            memcpy(keys + j * c->key_size, &be, 8);
            vp[j] = val_ptr(e->rc->pool, idx, 0);
        }
        if (e->eng->txn_put(t, m, kp, kl, vp, vl) != BENCH_OK) {
            snprintf(err, errcap, "txn_put: %s", bench_engine_error());
            goto out;
        }
        uint64_t now = sys_now_ns();
        if (c->progress && now - last > 200000000u) {
            last = now;
            progress(e->rc->rep, "[%s] loading %llu/%llu keys", e->eng->name,
                     (unsigned long long)(i + m), (unsigned long long)n);
        }
    }
    *secs = (double)(sys_now_ns() - t0) * 1e-9;
    rc = BENCH_OK;
out:
    if (t)
        e->eng->thread_fini(h, t);
    free(keys);
    free(kp);
    free(vp);
    free(kl);
    free(vl);
    return rc;
}

static void fill_latency(bench_result *r, const bench_hist *h)
{
    r->lat_samples = bench_hist_count(h);
    if (!r->lat_samples)
        return;
    r->lat_p50 = bench_hist_percentile(h, 50);
    r->lat_p90 = bench_hist_percentile(h, 90);
    r->lat_p95 = bench_hist_percentile(h, 95);
    r->lat_p99 = bench_hist_percentile(h, 99);
    r->lat_p999 = bench_hist_percentile(h, 99.9);
    r->lat_max = bench_hist_max(h);
}

static bench_result *new_result(eng_run *e, const bench_workload *w,
                                int threads, int rep)
{
    bench_result *r = push_result(e->rc->rep);
    if (!r)
        return NULL;
    r->workload = w;
    r->engine_index = e->ei;
    r->engine = e->eng->name;
    r->sync_mode = e->rc->cfg->sync_mode;
    r->threads = threads;
    r->repetition = rep;
    r->checkpoint = -1;
    r->dist = (w->keys == BENCH_WKEYS_LOADED || w->keys == BENCH_WKEYS_ABSENT)
                  ? (int)bench_workload_dist(w, e->rc->cfg->distribution)
                  : -1;
    return r;
}

static void set_throughput(bench_result *r, uint64_t ops, double secs)
{
    r->ops = ops;
    r->seconds = secs;
    r->ops_per_sec = secs > 0 ? (double)ops / secs : 0.0;
}

/* One repetition of a timed workload on handle *h (warm-up, then the
 * measured phase). Returns BENCH_OK or BENCH_EFAIL (engine failed). */
static int ops_rep(eng_run *e, void **h, const bench_workload *w, int threads,
                   int rep)
{
    const bench_run_config *c = e->rc->cfg;
    bench_report *R = e->rc->rep;
    phase ph;
    phase_out out;
    int rc;
    memset(&ph, 0, sizeof ph);
    memset(&out, 0, sizeof out);
    if (bench_hist_init(&out.hist) != 0) {
        eng_fail(e, w->name, "out of memory");
        return BENCH_EFAIL;
    }
    int lt = e->eng == e->rc->lightning;
    int slow = lt && c->inject_slowdown_pct > 0;
    /* Counts mode: the busy work is a fixed number of iterations sized
     * from the counted cost of the warm-up (bench_run_hooks.slowdown_iters). */
    int counted = slow && c->hooks && c->hooks->slowdown_iters;
    double spin_ns = 0.0;
    uint64_t spin_iters = 0;
    ph.cfg = c;
    ph.eng = e->eng;
    ph.w = w;
    ph.threads = threads;
    ph.rep = rep;
    ph.vs = w->value_size ? w->value_size : c->value_size;
    ph.pool = e->rc->pool;
    ph.ins = &e->ins;
    ph.get_raw = lt ? bench_lightning_get_raw : NULL;

    if (w->cold) {
        progress(R, "[%s] %s t%d rep %d/%d: dropping caches", e->eng->name,
                 w->name, threads, rep, c->reps);
        if (e->eng->drop_cache(*h) != BENCH_OK) {
            eng_fail(e, w->name, bench_engine_error());
            rc = BENCH_EFAIL;
            goto out;
        }
    } else {
        if (slow)
            bench_lightning_slowdown_base(*h, 0);
        if (counted)
            bench_lightning_slowdown_set_iters(*h, 0);
        double wsecs = c->warmup_s;
        uint64_t wops = c->warmup_ops;
        if (slow && !wops && wsecs < SLOWDOWN_MIN_WARM_S)
            wsecs = SLOWDOWN_MIN_WARM_S;
        if (wops || wsecs > 0) {
            progress(R, "[%s] %s t%d rep %d/%d: warm-up", e->eng->name,
                     w->name, threads, rep, c->reps);
            ph.h = *h;
            ph.measure = 0;
            ph.total_ops = wops;
            ph.duration_s = wsecs;
            ph.present = atomic_load(&e->ins);
            bench_phase_info winfo = {e->eng->name, w, threads, rep, 0};
            rc = bench_run_phase(&ph, &out, counted ? c->hooks : NULL, &winfo);
            if (rc != BENCH_OK) {
                eng_fail(e, w->name, out.err);
                goto out;
            }
            if (counted) {
                spin_iters = c->hooks->slowdown_iters(c->hooks->arg, &winfo, out.ops,
                                                      c->inject_slowdown_pct);
                bench_lightning_slowdown_set_iters(*h, spin_iters);
            } else if (slow && out.ops > 0 && out.seconds > 0) {
                int cores = e->rc->rep->machine.usable_cores > 0
                                ? e->rc->rep->machine.usable_cores
                                : sys_usable_cores();
                int par = threads < cores ? threads : cores;
                double base = (double)par * out.seconds * 1e9 / (double)out.ops;
                spin_ns = bench_lightning_slowdown_base(*h, base);
            }
        }
    }
    progress(R, "[%s] %s t%d rep %d/%d", e->eng->name, w->name, threads, rep,
             c->reps);
    ph.h = *h;
    ph.measure = 1;
    ph.total_ops = c->ops;
    ph.duration_s = c->duration_s;
    ph.present = atomic_load(&e->ins);
    bench_phase_info info = {e->eng->name, w, threads, rep, 1};
    rc = bench_run_phase(&ph, &out, c->hooks, &info);
    if (counted)
        bench_lightning_slowdown_set_iters(*h, 0);
    else if (slow)
        bench_lightning_slowdown_base(*h, 0);
    if (rc != BENCH_OK) {
        eng_fail(e, w->name, out.err);
        goto out;
    }
    bench_result *r = new_result(e, w, threads, rep);
    if (!r) {
        eng_fail(e, w->name, "out of memory");
        rc = BENCH_EFAIL;
        goto out;
    }
    set_throughput(r, out.ops, out.seconds);
    /* Single-threaded wall-clock rows on a shared machine: the same ops
     * over the wall time less the CPU wait other processes caused
     * (schedwait.h), which off-CPU costs of the engine (I/O, sleeps,
     * stops, faults) stay in. Measured: under a second CPU-bound process
     * on the same core, wall 1.154 s, this 0.578 s, alone 0.578 s. */
    if (out.uncontended_s > 0 && out.ops > 0)
        bench_result_add_metric(r, "ops_per_sec_uncontended",
                                (double)out.ops / out.uncontended_s, "ops/s",
                                BENCH_BETTER_HIGHER);
    fill_latency(r, &out.hist);
    r->counters = out.ctr;
    if (!out.has_ctr)
        memset(&r->counters, 0, sizeof r->counters);
    r->notfound = out.notfound;
    r->items = out.items;
    r->rejected = out.rejected;
    r->slowdown_pct = spin_ns > 0 || spin_iters > 0 ? c->inject_slowdown_pct : 0.0;
    r->slowdown_spin_ns = spin_ns;
    r->slowdown_spin_iters = spin_iters;
    snprintf(r->primary, sizeof r->primary, "ops_per_sec");
    if (w->op == BENCH_WOP_MIX && w->mix[BENCH_OP_SCAN] > 0 && out.seconds > 0)
        bench_result_add_metric(r, "keys_per_sec",
                                (double)out.items / out.seconds, "keys/s",
                                BENCH_BETTER_HIGHER);
    if (w->op == BENCH_WOP_TXN && out.seconds > 0)
        bench_result_add_metric(r, "puts_per_sec",
                                (double)out.ops * w->batch / out.seconds,
                                "puts/s", BENCH_BETTER_HIGHER);
    if (c->hooks && c->hooks->phase_end)
        c->hooks->phase_end(c->hooks->arg, &info, r);
    /* Wrong answers make a throughput figure meaningless: say so (the
     * null engine answers "found" to everything by design). */
    int judge = strcmp(e->eng->name, "null") != 0;
    if (judge && w->keys == BENCH_WKEYS_ABSENT && out.notfound != out.ops)
        note(R, "%s %s rep %d: %llu of %llu gets of absent keys found a value",
             e->eng->name, w->name, rep,
             (unsigned long long)(out.ops - out.notfound),
             (unsigned long long)out.ops);
    if (judge && w->data == BENCH_WD_LOADED && w->keys != BENCH_WKEYS_ABSENT &&
        w->op != BENCH_WOP_GET_INVALID && out.notfound)
        note(R, "%s %s rep %d: %llu gets of loaded keys answered not found",
             e->eng->name, w->name, rep, (unsigned long long)out.notfound);
    if (judge && w->op == BENCH_WOP_GET_INVALID && out.accepted)
        note(R, "%s %s rep %d: %llu invalid calls were accepted",
             e->eng->name, w->name, rep, (unsigned long long)out.accepted);
    rc = BENCH_OK;
out:
    bench_hist_free(&out.hist);
    return rc;
}

static int fresh_rep(eng_run *e, const bench_workload *w, int threads, int rep)
{
    const bench_run_config *c = e->rc->cfg;
    char dir[PATH_MAX];
    if (sys_path_join(dir, sizeof dir, e->dir, "fresh") != 0) {
        eng_fail(e, w->name, "directory name too long");
        return BENCH_EFAIL;
    }
    /* Sized for what the phase may write: the op count, or a generous
     * ceiling of 2M ops/s over warm-up + measurement in duration mode. */
    uint64_t expect = c->ops ? c->ops + c->warmup_ops
                             : (uint64_t)((c->duration_s + c->warmup_s +
                                           SLOWDOWN_MIN_WARM_S) * 2e6);
    if (w->batch)
        expect *= w->batch;
    if (expect < c->keys)
        expect = c->keys;
    bench_engine_config ec;
    base_cfg(e, &ec, dir, expect, threads);
    if (w->value_size)
        ec.value_size = w->value_size;
    void *h = NULL;
    if (eng_open(e, &ec, &h, w->name) != BENCH_OK)
        return BENCH_EFAIL;
    int rc = ops_rep(e, &h, w, threads, rep);
    eng_close(e, &h, w->name);
    sys_rmtree(dir);
    return rc == BENCH_OK && !e->failed ? BENCH_OK : BENCH_EFAIL;
}

static int memory_rep(eng_run *e, const bench_workload *w, int rep)
{
    const bench_run_config *c = e->rc->cfg;
    char dir[PATH_MAX], err[512] = "";
    if (sys_path_join(dir, sizeof dir, e->dir, "memory") != 0) {
        eng_fail(e, w->name, "directory name too long");
        return BENCH_EFAIL;
    }
    bench_engine_config ec;
    base_cfg(e, &ec, dir, c->keys, 1);
    progress(e->rc->rep, "[%s] %s rep %d/%d", e->eng->name, w->name, rep,
             c->reps);
    /* Hand freed heap back to the kernel so the growth measured below is
     * this load's, not a previous engine's leftovers being reused. */
    malloc_trim(0);
    uint64_t anon0, file0, anon1, file1;
    int rss_ok = sys_read_rss(&anon0, &file0) == 0;
    bench_counters ctr;
    bench_counters_result cres;
    memset(&cres, 0, sizeof cres);
    int ctr_on = bench_counters_start(&ctr, BENCH_COUNTERS_PROCESS) == 0;
    void *h = NULL;
    double secs = 0;
    uint64_t t0 = sys_now_ns();
    if (eng_open(e, &ec, &h, w->name) != BENCH_OK) {
        if (ctr_on)
            bench_counters_cancel(&ctr);
        return BENCH_EFAIL;
    }
    int rc = load_keys(e, h, c->keys, &secs, err, sizeof err);
    double open_load = (double)(sys_now_ns() - t0) * 1e-9;
    rss_ok = rss_ok && sys_read_rss(&anon1, &file1) == 0;
    if (ctr_on && bench_counters_stop(&ctr, &cres) != 0)
        memset(&cres, 0, sizeof cres);
    if (rc != BENCH_OK) {
        eng_fail(e, w->name, err);
        eng_close(e, &h, w->name);
        sys_rmtree(dir);
        return BENCH_EFAIL;
    }
    if (e->eng->sync(h) != BENCH_OK) {
        eng_fail(e, w->name, bench_engine_error());
        eng_close(e, &h, w->name);
        sys_rmtree(dir);
        return BENCH_EFAIL;
    }
    eng_close(e, &h, w->name);
    uint64_t disk = sys_dir_bytes(dir);
    sys_rmtree(dir);
    if (e->failed)
        return BENCH_EFAIL;
    bench_result *r = new_result(e, w, 1, rep);
    if (!r) {
        eng_fail(e, w->name, "out of memory");
        return BENCH_EFAIL;
    }
    set_throughput(r, c->keys, secs);
    r->counters = cres;
    double n = (double)c->keys;
    bench_result_add_metric(r, "load_keys_per_sec", r->ops_per_sec, "keys/s",
                            BENCH_BETTER_HIGHER);
    bench_result_add_metric(r, "open_and_load_s", open_load, "s",
                            BENCH_BETTER_LOWER);
    if (rss_ok) {
        double da = (double)anon1 - (double)anon0;
        double df = (double)file1 - (double)file0;
        bench_result_add_metric(r, "bytes_per_key", (da + df) / n, "B/key",
                                BENCH_BETTER_LOWER);
        bench_result_add_metric(r, "anon_bytes_per_key", da / n, "B/key",
                                BENCH_BETTER_LOWER);
        bench_result_add_metric(r, "file_bytes_per_key", df / n, "B/key",
                                BENCH_BETTER_LOWER);
        snprintf(r->primary, sizeof r->primary, "bytes_per_key");
    } else {
        snprintf(r->primary, sizeof r->primary, "load_keys_per_sec");
    }
    bench_result_add_metric(r, "disk_bytes_per_key", (double)disk / n, "B/key",
                            BENCH_BETTER_LOWER);
    return BENCH_OK;
}

static int startup_rep(eng_run *e, const bench_workload *w, int rep)
{
    progress(e->rc->rep, "[%s] %s rep %d/%d", e->eng->name, w->name, rep,
             e->rc->cfg->reps);
    eng_close(e, &e->shared, w->name);
    if (e->failed)
        return BENCH_EFAIL;
    int lt = e->eng == e->rc->lightning;
    if (lt && w->no_checkpoint &&
        bench_lightning_forget_checkpoint(e->shared_dir) != BENCH_OK) {
        eng_fail(e, w->name, bench_engine_error());
        return BENCH_EFAIL;
    }
    int ckpt = lt ? bench_lightning_checkpoint_present(e->shared_dir) : -1;
    if (w->cold_open && bench_drop_dir_cache(e->shared_dir) != BENCH_OK) {
        eng_fail(e, w->name, bench_engine_error());
        return BENCH_EFAIL;
    }
    bench_counters ctr;
    bench_counters_result cres;
    memset(&cres, 0, sizeof cres);
    int ctr_on = bench_counters_start(&ctr, BENCH_COUNTERS_PROCESS) == 0;
    uint64_t t0 = sys_now_ns();
    int rc = eng_open(e, &e->shared_cfg, &e->shared, w->name);
    uint64_t t1 = sys_now_ns();
    if (ctr_on && bench_counters_stop(&ctr, &cres) != 0)
        memset(&cres, 0, sizeof cres);
    if (rc != BENCH_OK) {
        if (!e->failed)
            eng_fail(e, w->name, "reopen failed");
        return BENCH_EFAIL;
    }
    bench_result *r = new_result(e, w, 1, rep);
    if (!r) {
        eng_fail(e, w->name, "out of memory");
        return BENCH_EFAIL;
    }
    set_throughput(r, 1, (double)(t1 - t0) * 1e-9);
    r->checkpoint = ckpt;
    r->counters = cres;
    bench_result_add_metric(r, "open_s", r->seconds, "s", BENCH_BETTER_LOWER);
    snprintf(r->primary, sizeof r->primary, "open_s");
    return BENCH_OK;
}

/* Execution stages, so that each workload sees the data set it expects:
 * own databases, fresh databases, then on the shared set: read only, the
 * warm startup, overwrites, inserts, and last the cold ones (they evict
 * the cache; nothing after them needs it warm). */
static int stage_of(const bench_workload *w)
{
    switch (w->data) {
    case BENCH_WD_OWN: return 0;
    case BENCH_WD_FRESH: return 1;
    case BENCH_WD_UPDATE: return 4;
    case BENCH_WD_INSERT: return 5;
    case BENCH_WD_LOADED:
        if (w->cold || w->cold_open)
            return 6;
        return w->kind == BENCH_WK_STARTUP ? 3 : 2;
    }
    return 2;
}
#define N_STAGES 7

static int thread_list(const bench_run_config *c, const bench_workload *w,
                       const int **list)
{
    static const int one[1] = {1};
    if (w->kind != BENCH_WK_OPS) {
        *list = one;
        return 1;
    }
    if (w->threads) {
        *list = &w->threads;
        return 1;
    }
    *list = c->threads;
    return (int)c->n_threads;
}

/* Reads every loaded key once, in key order, on one thread: fills the
 * engine's own caches (RocksDB's block cache, SQLite's page cache) as well
 * as the page cache, so that measurements start from a warm data set and
 * not from a cache still filling; and checks the load (a loaded key not
 * found fails the engine: its figures would mean nothing). Untimed. */
static int warm_pass(eng_run *e, const char *why)
{
    const bench_run_config *c = e->rc->cfg;
    void *t = NULL;
    unsigned char *key = malloc(c->key_size), *val = malloc(c->value_size);
    uint64_t missing = 0, t0 = sys_now_ns();
    int rc = BENCH_OK;
    if (!key || !val) {
        eng_fail(e, why, "out of memory");
        rc = BENCH_EFAIL;
        goto out;
    }
    if (e->eng->thread_init(e->shared, &t) != BENCH_OK) {
        t = NULL;
        eng_fail(e, why, bench_engine_error());
        rc = BENCH_EFAIL;
        goto out;
    }
    progress(e->rc->rep, "[%s] warming: reading the %llu loaded keys", e->eng->name,
             (unsigned long long)c->keys);
    bench_key_format(key, c->key_size, 0);
    for (uint64_t i = 0; i < c->keys; i++) {
        uint64_t be = htobe64(i);
        size_t vl;
        memcpy(key, &be, 8);
        int r = e->eng->get(t, key, c->key_size, val, c->value_size, &vl);
        if (r == BENCH_NOTFOUND) {
            missing++;
        } else if (r != BENCH_OK) {
            eng_fail(e, why, bench_engine_error());
            rc = BENCH_EFAIL;
            goto out;
        }
    }
    if (missing && strcmp(e->eng->name, "null") != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "%llu of the %llu loaded keys were not found",
                 (unsigned long long)missing, (unsigned long long)c->keys);
        eng_fail(e, why, msg);
        rc = BENCH_EFAIL;
        goto out;
    }
    note(e->rc->rep, "%s: warm pass (%s): read the %llu loaded keys in %.2f s", e->eng->name,
         why, (unsigned long long)c->keys, (double)(sys_now_ns() - t0) * 1e-9);
out:
    if (t)
        e->eng->thread_fini(e->shared, t);
    free(key);
    free(val);
    return rc;
}

static int open_shared(eng_run *e)
{
    const bench_run_config *c = e->rc->cfg;
    int maxt = 1, inserts = 0;
    for (size_t i = 0; i < c->n_workloads; i++) {
        const bench_workload *w = c->workloads[i];
        if (stage_of(w) < 2)
            continue;
        const int *tl;
        int nt = thread_list(c, w, &tl);
        for (int k = 0; k < nt; k++)
            if (tl[k] > maxt)
                maxt = tl[k];
        inserts |= bench_workload_inserts(w);
    }
    if (sys_path_join(e->shared_dir, sizeof e->shared_dir, e->dir, "data") != 0) {
        eng_fail(e, "open", "directory name too long");
        return BENCH_EFAIL;
    }
    uint64_t count = c->keys;
    if (inserts)
        count = insert_space(c->keys) + (c->ops ? c->ops * (uint64_t)c->reps : 0);
    base_cfg(e, &e->shared_cfg, e->shared_dir, count, maxt);
    if (eng_open(e, &e->shared_cfg, &e->shared, "data set open") != BENCH_OK)
        return BENCH_EFAIL;
    char err[512] = "";
    double secs = 0;
    progress(e->rc->rep, "[%s] loading %llu keys", e->eng->name,
             (unsigned long long)c->keys);
    if (load_keys(e, e->shared, c->keys, &secs, err, sizeof err) != BENCH_OK) {
        eng_fail(e, "load", err);
        return BENCH_EFAIL;
    }
    /* Write the load out now, so its writeback does not run during the
     * measured phases. */
    if (e->eng->sync(e->shared) != BENCH_OK) {
        eng_fail(e, "load (sync)", bench_engine_error());
        return BENCH_EFAIL;
    }
    e->er->load_seconds = secs;
    e->er->load_keys = c->keys;
    atomic_store(&e->ins, c->keys);
    note(e->rc->rep, "%s: loaded %llu keys in %.2f s (%.0f keys/s, %s "
                         "order, %d per commit)",
             e->eng->name, (unsigned long long)c->keys, secs,
             secs > 0 ? (double)c->keys / secs : 0.0,
             c->load_order == BENCH_LOAD_RANDOM ? "random" : "key",
             BENCH_LOAD_BATCH);
    return warm_pass(e, "after load");
}

static void run_engine(run_ctx *rc, size_t ei)
{
    const bench_run_config *c = rc->cfg;
    eng_run e;
    memset(&e, 0, sizeof e);
    e.rc = rc;
    e.ei = ei;
    e.eng = c->engines[ei];
    e.er = &rc->rep->engines[ei];
    e.er->name = e.eng->name;
    e.er->load_seconds = -1;
    e.er->status = BENCH_ENGINE_OK;
    atomic_init(&e.ins, c->keys);
    char leaf[160];
    snprintf(leaf, sizeof leaf, "%.100s-%zu", e.eng->name, ei);
    if (sys_path_join(e.dir, sizeof e.dir, rc->root, leaf) != 0)
        eng_fail(&e, "setup", "directory name too long");
    int lt = e.eng == rc->lightning;

    for (int stage = 0; stage < N_STAGES && !e.failed && !e.unsupported; stage++) {
        for (size_t i = 0; i < c->n_workloads && !e.failed && !e.unsupported; i++) {
            const bench_workload *w = c->workloads[i];
            if (stage_of(w) != stage)
                continue;
            if (w->lightning_only && !lt) {
                note(rc->rep, "%s skipped on %s: %s", w->name, e.eng->name,
                     w->note ? w->note : "lightning only");
                continue;
            }
            if (stage >= 2 && !e.shared && open_shared(&e) != BENCH_OK)
                break;
            const int *tl;
            int nt = thread_list(c, w, &tl);
            for (int k = 0; k < nt && !e.failed; k++) {
                for (int r = 1; r <= c->reps && !e.failed && !e.unsupported; r++) {
                    if (w->kind == BENCH_WK_MEMORY)
                        memory_rep(&e, w, r);
                    else if (w->kind == BENCH_WK_STARTUP)
                        startup_rep(&e, w, r);
                    else if (w->data == BENCH_WD_FRESH)
                        fresh_rep(&e, w, tl[k], r);
                    else
                        ops_rep(&e, &e.shared, w, tl[k], r);
                    rc->rep->phases_done++;
                }
            }
            /* A reopened engine starts with empty caches of its own; the
             * workloads after a warm startup expect them warm. */
            if (w->kind == BENCH_WK_STARTUP && stage < 6 && !e.failed)
                warm_pass(&e, w->name);
        }
    }
    if (e.shared) {
        int crc = e.eng->close(e.shared);
        e.shared = NULL;
        if (crc != BENCH_OK)
            eng_fail(&e, "close", bench_engine_error());
    }
    if (!c->keep_data)
        sys_rmtree(e.dir);
}

/* ---- the run -------------------------------------------------------------- */

static void source_dir(char *out, size_t cap)
{
    const char *env = getenv("LIGHTNING_SRC_DIR");
    if (env && env[0]) {
        snprintf(out, cap, "%s", env);
        return;
    }
    /* The executable's directory lies inside the tree it was built from
     * (build/lightning, build/tests/...), and git -C works from there. */
    char exe[PATH_MAX];
    if (sys_self_exe(exe, sizeof exe) == 0) {
        char *slash = strrchr(exe, '/');
        if (slash && slash != exe) {
            *slash = '\0';
            snprintf(out, cap, "%s", exe);
            return;
        }
    }
    snprintf(out, cap, ".");
}

static double timer_overhead(void)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 10000; i++) {
        uint64_t a = sys_now_ns(), b = sys_now_ns();
        if (b - a < best)
            best = b - a;
    }
    return (double)best;
}

int bench_run(const bench_run_config *cfg_in, bench_report *rep)
{
    run_ctx rc;
    char err[256];
    int any_failed = 0;
    memset(rep, 0, sizeof *rep);
    memset(&rc, 0, sizeof rc);
    rep->cfg = *cfg_in;
    const bench_run_config *c = &rep->cfg;
    rc.rep = rep;
    rc.cfg = c;
    rc.lightning = bench_engine_find("lightning");
    if (bench_run_config_check(c, err, sizeof err) != 0) {
        note(rep, "bad configuration: %s", err);
        return 2;
    }
    rep->engines = calloc(c->n_engines, sizeof *rep->engines);
    rc.pool = malloc(POOL_BYTES + c->value_size + 256 + 64);
    if (!rep->engines || !rc.pool) {
        note(rep, "out of memory");
        free(rc.pool);
        return 2;
    }
    for (size_t i = 0; i < c->n_engines; i++) {
        rep->engines[i].name = c->engines[i]->name;
        rep->engines[i].load_seconds = -1;
    }
    {
        bench_rng r;
        bench_rng_seed(&r, c->seed ^ 0x7001ull);
        size_t len = POOL_BYTES + c->value_size + 256 + 64;
        for (size_t i = 0; i < len; i += 8) {
            uint64_t x = bench_rng_next(&r);
            memcpy(rc.pool + i, &x, len - i < 8 ? len - i : 8);
        }
    }
    const char *base = c->dir;
    if (!base || !base[0])
        base = getenv("TMPDIR");
    if (!base || !base[0])
        base = "/tmp";
    if (sys_mkdirs(base) != 0) {
        note(rep, "cannot create %s: %s", base, strerror(errno));
        free(rc.pool);
        return 2;
    }
    if (sys_path_join(rc.root, sizeof rc.root, base, "lightning-bench-XXXXXX") != 0 ||
        !mkdtemp(rc.root)) {
        note(rep, "mkdtemp %s: %s", rc.root, strerror(errno));
        free(rc.pool);
        return 2;
    }
    if (c->on_run_dir && !c->keep_data)
        c->on_run_dir(rc.root, 1);
    bench_machine_probe(&rep->machine, rc.root);
    char src[PATH_MAX];
    source_dir(src, sizeof src);
    bench_build_probe(&rep->build, src);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(rep->started_utc, sizeof rep->started_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    rep->timer_overhead_ns = timer_overhead();
    rep->perf_available =
        bench_counters_perf_available(rep->perf_reason, sizeof rep->perf_reason);
    if (!rep->perf_available)
        note(rep, "instructions and cycles are unavailable here (%s): they are "
                  "reported as null",
             rep->perf_reason);
    if (c->keep_data)
        note(rep, "data kept in %s", rc.root);

    rep->start_ns = sys_now_ns();
    for (size_t i = 0; i < c->n_engines; i++) {
        for (size_t k = 0; k < c->n_workloads; k++) {
            const bench_workload *w = c->workloads[k];
            const int *tl;
            if (w->lightning_only && c->engines[i] != rc.lightning)
                continue;
            rep->phases_total += (size_t)thread_list(c, w, &tl) * (size_t)c->reps;
        }
    }
    for (size_t i = 0; i < c->n_engines; i++) {
        run_engine(&rc, i);
        if (rep->engines[i].status == BENCH_ENGINE_FAILED)
            any_failed = 1;
    }
    if (c->progress && c->log) {
        fputs("\r\033[K", c->log);
        fflush(c->log);
    }
    if (!c->keep_data) {
        sys_rmtree(rc.root);
        if (c->on_run_dir)
            c->on_run_dir(rc.root, 0);
    }
    free(rc.pool);
    return any_failed ? 1 : 0;
}
