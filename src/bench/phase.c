/*
 * bench/phase.c — one timed phase and its workers; the contract and the
 * phase's layout are in bench/phase.h.
 *
 * The loop body is one generated operation (gen_next: PRNG draws for the
 * op kind, key index and scan length, in that fixed order, shared with
 * bench_workload_sequence) and one engine call through a function pointer
 * copied into a local. Keys are written into a per-thread buffer whose
 * padding was written once: only the 8 index bytes change per op.
 */
#include "bench/phase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/opstream.h"
#include "bench/schedwait.h"
#include "util/sys.h"

#define LOOP_CHUNK 64                /* ops between looks at `stop` */

typedef struct worker {
    phase *ph;
    int idx;
    pthread_t tid;
    int started;
    void *tctx;
    bench_hist hist;
    uint64_t quota;              /* iterations; UINT64_MAX in duration mode */
    uint64_t ops, notfound, items, rejected, accepted;
    uint64_t t_end;
    int wait_ok;                 /* the run-queue wait below was read   */
    uint64_t wait_ns, cpu_ns;    /* run-queue wait and CPU of the loop  */
    char err[512];
    unsigned char *keys;         /* MAX_BATCH keys, padding pre-written */
    const void *kptr[MAX_BATCH];
    size_t klen[MAX_BATCH];
    const void *vptr[MAX_BATCH];
    size_t vlen[MAX_BATCH];
    size_t mvlen[MAX_BATCH];
    int rcs[MAX_BATCH];
    unsigned char *vbuf;
    size_t vcap;
} __attribute__((aligned(64))) worker;

static void worker_fail(worker *wk, const char *what)
{
    const char *e = bench_engine_error();
    snprintf(wk->err, sizeof wk->err, "%s: %s", what,
             e && e[0] ? e : "failed (no message)");
    atomic_store(&wk->ph->failed, 1);
    atomic_store(&wk->ph->stop, 1);
}

/* The measured loop. Everything the loop touches per op is local or in
 * this worker's own cache lines. */
static void worker_loop(worker *wk)
{
    phase *ph = wk->ph;
    const bench_run_config *c = ph->cfg;
    gen g;
    if (bench_gen_init(&g, ph->w, c, wk->idx, ph->threads, ph->rep, ph->measure,
                 ph->ins, ph->present) != 0) {
        bench_engine_set_error("bad workload parameters");
        worker_fail(wk, "generator");
        return;
    }
    keyfmt kf;
    bench_keyfmt_init(&kf, ph->w, c->key_size, wk->keys, MAX_BATCH);
    int (*get)(void *, const void *, size_t, void *, size_t, size_t *) =
        ph->eng->get;
    int (*put)(void *, const void *, size_t, const void *, size_t) =
        ph->eng->put;
    int (*scan)(void *, const void *, size_t, size_t, size_t *) =
        ph->eng->scan;
    int (*txn_put)(void *, size_t, const void *const *, const size_t *,
                   const void *const *, const size_t *) = ph->eng->txn_put;
    int (*mget)(void *, size_t, const void *const *, const size_t *, size_t *,
                int *) = ph->eng->multi_get;
    int (*get_raw)(void *, const void *, size_t, void *, size_t, size_t *) =
        ph->get_raw;
    void *t = wk->tctx;
    unsigned char *kb = wk->keys;
    const size_t ks = c->key_size, vs = ph->vs, vcap = wk->vcap;
    unsigned char *vbuf = wk->vbuf;
    const unsigned char *pool = ph->pool;
    const uint64_t salt = ((uint64_t)(unsigned)ph->rep << 32) ^
                          (ph->measure ? 0x5bd1e995u : 0x1b873593u);
    const uint64_t mask = c->sample_every - 1;
    const int sample = ph->measure;
    bench_hist *hist = &wk->hist;
    const uint64_t quota = wk->quota;
    uint64_t iter = 0, notfound = 0, items = 0, rejected = 0, accepted = 0;
    gen_op op;
    for (unsigned i = 0; i < MAX_BATCH; i++) {
        wk->kptr[i] = kb + i * ks;
        wk->klen[i] = ks;
    }

    while (iter < quota && !atomic_load_explicit(&ph->stop, memory_order_relaxed)) {
        uint64_t chunk = quota - iter;
        if (chunk > LOOP_CHUNK)
            chunk = LOOP_CHUNK;
        if (g.ins)
            gen_refresh(&g, atomic_load_explicit(g.ins, memory_order_relaxed));
        for (uint64_t end = iter + chunk; iter < end; iter++) {
            gen_next(&g, &op);
            const int sampled = sample && (iter & mask) == 0;
            uint64_t t0 = 0;
            int rc = BENCH_OK;
            size_t vl, found;
            switch (op.opc) {
            case OPC_GET:
                key_put(&kf, kb, op.idx[0]);
                if (sampled) t0 = sys_now_ns();
                rc = get(t, kb, ks, vbuf, vcap, &vl);
                break;
            case OPC_PUT:
            case OPC_INSERT:
                key_put(&kf, kb, op.idx[0]);
                if (sampled) t0 = sys_now_ns();
                rc = put(t, kb, ks, val_ptr(pool, op.idx[0], salt), vs);
                break;
            case OPC_SCAN:
                key_put(&kf, kb, op.idx[0]);
                if (sampled) t0 = sys_now_ns();
                found = 0;
                rc = scan(t, kb, ks, op.scan_len, &found);
                items += found;
                break;
            case OPC_RMW:
                key_put(&kf, kb, op.idx[0]);
                if (sampled) t0 = sys_now_ns();
                rc = get(t, kb, ks, vbuf, vcap, &vl);
                if (rc >= 0) {
                    if (rc == BENCH_NOTFOUND)
                        notfound++;
                    rc = put(t, kb, ks, val_ptr(pool, op.idx[0], salt + 1), vs);
                }
                break;
            case OPC_TXN:
                for (unsigned k = 0; k < op.nkeys; k++) {
                    key_put(&kf, kb + k * ks, op.idx[k]);
                    wk->vptr[k] = val_ptr(pool, op.idx[k], salt);
                    wk->vlen[k] = vs;
                }
                if (sampled) t0 = sys_now_ns();
                rc = txn_put(t, op.nkeys, wk->kptr, wk->klen, wk->vptr, wk->vlen);
                break;
            case OPC_MULTIGET:
                for (unsigned k = 0; k < op.nkeys; k++)
                    key_put(&kf, kb + k * ks, op.idx[k]);
                if (sampled) t0 = sys_now_ns();
                if (mget) {
                    rc = mget(t, op.nkeys, wk->kptr, wk->klen, wk->mvlen, wk->rcs);
                } else {
                    for (unsigned k = 0; k < op.nkeys && rc >= 0; k++)
                        wk->rcs[k] = rc = get(t, wk->kptr[k], ks, NULL, 0, &vl);
                }
                if (rc >= 0) {
                    for (unsigned k = 0; k < op.nkeys; k++)
                        notfound += wk->rcs[k] == BENCH_NOTFOUND;
                    rc = BENCH_OK;
                }
                break;
            case OPC_INVALID:
                key_put(&kf, kb, op.idx[0]);
                if (sampled) t0 = sys_now_ns();
                rc = get_raw(t, kb, 0, vbuf, vcap, &vl);
                if (rc == BENCH_EINVAL) {
                    rejected++;
                    rc = BENCH_OK;
                } else if (rc >= 0) {
                    accepted++; /* the engine took an invalid call */
                    rc = BENCH_OK;
                }
                break;
            }
            if (sampled)
                bench_hist_record(hist, sys_now_ns() - t0);
            if (rc != BENCH_OK) {
                if (rc == BENCH_NOTFOUND) {
                    notfound++;
                } else {
                    wk->ops = iter;
                    worker_fail(wk, "operation");
                    goto out;
                }
            }
        }
    }
out:
    wk->ops = iter * (g.fixed == OPC_MULTIGET ? g.batch : 1);
    wk->notfound = notfound;
    wk->items = items;
    wk->rejected = rejected;
    wk->accepted = accepted;
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    phase *ph = wk->ph;
    int rc = ph->eng->thread_init(ph->h, &wk->tctx);
    if (rc != BENCH_OK) {
        wk->tctx = NULL;
        worker_fail(wk, "thread_init");
    }
    pthread_mutex_lock(&ph->mu);
    ph->ready++;
    pthread_cond_broadcast(&ph->cv);
    while (!ph->go)
        pthread_cond_wait(&ph->cv, &ph->mu);
    pthread_mutex_unlock(&ph->mu);
    const bench_run_hooks *hk = ph->hooks;
    uint64_t w0 = 0, w1 = 0, c0 = bench_thread_cpu_ns();
    wk->wait_ok = bench_sched_wait_ns(&w0) == 0;
    if (rc == BENCH_OK) {
        if (hk && hk->worker_begin)
            hk->worker_begin(hk->arg);
        worker_loop(wk);
        if (hk && hk->worker_end)
            hk->worker_end(hk->arg);
    }
    wk->t_end = sys_now_ns();
    wk->cpu_ns = bench_thread_cpu_ns() - c0;
    if (wk->wait_ok && bench_sched_wait_ns(&w1) == 0 && w1 >= w0)
        wk->wait_ns = w1 - w0;
    else
        wk->wait_ok = 0;
    if (rc == BENCH_OK)
        ph->eng->thread_fini(ph->h, wk->tctx);
    return NULL;
}

int bench_run_phase(phase *ph, phase_out *out, const bench_run_hooks *hooks,
                    const bench_phase_info *info)
{
    int n = ph->threads, spawned = 0, rc = BENCH_OK;
    const bench_run_config *c = ph->cfg;
    worker *wks = NULL;
    bench_counters ctr;
    int ctr_on = 0;
    out->err[0] = '\0';
    out->has_ctr = 0;
    ph->hooks = hooks;
    pthread_mutex_init(&ph->mu, NULL);
    pthread_cond_init(&ph->cv, NULL);
    ph->ready = ph->go = 0;
    atomic_init(&ph->stop, 0);
    atomic_init(&ph->failed, 0);

    if (posix_memalign((void **)&wks, 64, (size_t)n * sizeof *wks) != 0) {
        wks = NULL;
        snprintf(out->err, sizeof out->err, "out of memory");
        rc = BENCH_EFAIL;
        goto done;
    }
    memset(wks, 0, (size_t)n * sizeof *wks);
    /* Iterations per thread: multi_get counts each key as an op. */
    unsigned weight = ph->w->op == BENCH_WOP_MULTIGET && ph->w->batch
                          ? ph->w->batch : 1;
    uint64_t iters = ph->total_ops ? (ph->total_ops + weight - 1) / weight : 0;
    for (int i = 0; i < n; i++) {
        worker *wk = &wks[i];
        wk->ph = ph;
        wk->idx = i;
        wk->quota = iters ? iters / (uint64_t)n + ((uint64_t)i < iters % (uint64_t)n)
                          : UINT64_MAX;
        wk->vcap = c->value_size > ph->vs ? c->value_size : ph->vs;
        wk->keys = malloc(MAX_BATCH * c->key_size);
        wk->vbuf = malloc(wk->vcap);
        if (!wk->keys || !wk->vbuf || bench_hist_init(&wk->hist) != 0) {
            snprintf(out->err, sizeof out->err, "out of memory");
            rc = BENCH_EFAIL;
            goto done;
        }
    }
    if (ph->measure) {
        /* Before the workers exist, so perf counters (inherit) follow them. */
        if (bench_counters_start(&ctr, BENCH_COUNTERS_PROCESS) == 0)
            ctr_on = 1;
    }
    for (; spawned < n; spawned++) {
        if (pthread_create(&wks[spawned].tid, NULL, worker_main,
                           &wks[spawned]) != 0) {
            snprintf(out->err, sizeof out->err, "pthread_create failed");
            atomic_store(&ph->stop, 1);
            atomic_store(&ph->failed, 1);
            rc = BENCH_EFAIL;
            break;
        }
        wks[spawned].started = 1;
    }
    pthread_mutex_lock(&ph->mu);
    while (ph->ready < spawned)
        pthread_cond_wait(&ph->cv, &ph->mu);
    pthread_mutex_unlock(&ph->mu);

    if (hooks && hooks->phase_begin)
        hooks->phase_begin(hooks->arg, info);
    uint64_t t0 = sys_now_ns(), pcpu0 = bench_process_cpu_ns();
    pthread_mutex_lock(&ph->mu);
    ph->go = 1;
    pthread_cond_broadcast(&ph->cv);
    pthread_mutex_unlock(&ph->mu);

    if (!ph->total_ops) {
        uint64_t deadline = t0 + (uint64_t)(ph->duration_s * 1e9);
        for (;;) {
            uint64_t now = sys_now_ns();
            if (now >= deadline || atomic_load(&ph->failed))
                break;
            uint64_t left = deadline - now;
            if (left > 20000000u)
                left = 20000000u; /* look at `failed` every 20 ms */
            struct timespec ts = {.tv_sec = (time_t)(left / 1000000000u),
                                  .tv_nsec = (long)(left % 1000000000u)};
            nanosleep(&ts, NULL);
        }
        atomic_store(&ph->stop, 1);
    }
    uint64_t t1 = t0;
    for (int i = 0; i < spawned; i++) {
        pthread_join(wks[i].tid, NULL);
        wks[i].started = 0;
        if (wks[i].t_end > t1)
            t1 = wks[i].t_end;
    }
    if (ctr_on) {
        if (bench_counters_stop(&ctr, &out->ctr) == 0)
            out->has_ctr = 1;
        ctr_on = 0;
    }
    out->seconds = (double)(t1 - t0) * 1e-9;
    out->uncontended_s = -1;
    if (spawned == 1 && wks[0].wait_ok) {
        /* The worker's wait also holds the time the engine's own threads
         * (checkpoint, cleaner) ran on its CPU -- the program's cost, which
         * must stay in: only the wait beyond the CPU they used is taken
         * out. Where they ran on another CPU this takes out less. */
        uint64_t pcpu = bench_process_cpu_ns() - pcpu0;
        uint64_t own = pcpu > wks[0].cpu_ns ? pcpu - wks[0].cpu_ns : 0;
        uint64_t foreign = wks[0].wait_ns > own ? wks[0].wait_ns - own : 0;
        double u = out->seconds - (double)foreign * 1e-9;
        out->uncontended_s = u > 0 ? u : -1;
    }
    out->ops = out->notfound = out->items = out->rejected = out->accepted = 0;
    for (int i = 0; i < spawned; i++) {
        worker *wk = &wks[i];
        out->ops += wk->ops;
        out->notfound += wk->notfound;
        out->items += wk->items;
        out->rejected += wk->rejected;
        out->accepted += wk->accepted;
        if (ph->measure)
            bench_hist_merge(&out->hist, &wk->hist);
        if (wk->err[0] && !out->err[0])
            snprintf(out->err, sizeof out->err, "thread %d: %.480s", i, wk->err);
    }
    if (atomic_load(&ph->failed))
        rc = BENCH_EFAIL;
done:
    if (ctr_on)
        bench_counters_cancel(&ctr);
    if (wks) {
        for (int i = 0; i < n; i++) {
            if (wks[i].started)
                pthread_join(wks[i].tid, NULL);
            free(wks[i].keys);
            free(wks[i].vbuf);
            bench_hist_free(&wks[i].hist);
        }
        free(wks);
    }
    pthread_cond_destroy(&ph->cv);
    pthread_mutex_destroy(&ph->mu);
    if (rc != BENCH_OK && !out->err[0])
        snprintf(out->err, sizeof out->err, "phase failed");
    return rc;
}
