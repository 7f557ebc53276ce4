/*
 * bench/opstream.c — seeding of the per-worker operation streams and the
 * public sequence/key functions; see bench/opstream.h for the contract.
 */
#include "bench/opstream.h"

/* The seed of one worker stream: a function of the things that must give
 * the same sequence (seed, workload, repetition, phase kind) and nothing
 * else; the thread picks the stream. */
static uint64_t stream_seed(uint64_t seed, const bench_workload *w, int rep,
                            int measure)
{
    uint64_t s = seed ^ bench_fnv1a64(w->name);
    s ^= (uint64_t)(unsigned)rep * 0x9e3779b97f4a7c15ull;
    s ^= measure ? 0xa0761d6478bd642full : 0xe7037ed1a0b428dbull;
    return bench_splitmix64(&s);
}

int bench_gen_init(gen *g, const bench_workload *w, const bench_run_config *c,
                   int thread, int threads, int rep, int measure,
                   atomic_uint_fast64_t *ins, uint64_t present)
{
    memset(g, 0, sizeof *g);
    bench_rng_seed_stream(&g->rng, stream_seed(c->seed, w, rep, measure),
                          (uint64_t)thread);
    g->batch = w->batch ? w->batch : 1;
    g->fixed = -1;
    switch (w->op) {
    case BENCH_WOP_TXN: g->fixed = OPC_TXN; break;
    case BENCH_WOP_MULTIGET: g->fixed = OPC_MULTIGET; break;
    case BENCH_WOP_GET_INVALID: g->fixed = OPC_INVALID; break;
    case BENCH_WOP_MIX: {
        int nz = 0, last = 0;
        for (int k = 0; k < BENCH_OP_COUNT; k++)
            if (w->mix[k] > 0) {
                nz++;
                last = k;
            }
        if (nz == 0)
            g->fixed = OPC_GET; /* memory/startup: unused */
        else if (nz == 1)
            g->fixed = opc_of_op[last];
        else if (bench_opmix_init(&g->mix, w->mix) != 0)
            return -1;
        break;
    }
    }
    g->scan_min = w->scan_min ? w->scan_min : 1;
    g->scan_span = w->scan_max > g->scan_min ? w->scan_max - g->scan_min : 0;
    g->n = present ? present : c->keys;
    g->ins = bench_workload_inserts(w) ? ins : NULL;
    bench_dist_kind dk = bench_workload_dist(w, c->distribution);
    switch (w->keys) {
    case BENCH_WKEYS_HOTKEY:
        g->km = KM_HOTKEY;
        g->hot = c->keys / 2;
        break;
    case BENCH_WKEYS_HOTSET:
        g->km = KM_HOTSET;
        g->hot = c->keys * w->hot_permille / 1000;
        if (g->hot < 1)
            g->hot = 1;
        g->stride = c->keys / g->hot;
        break;
    case BENCH_WKEYS_NEW_SEQ:
    case BENCH_WKEYS_NEW_RANDOM:
        /* Threads and phases number new keys in disjoint regions. */
        g->km = KM_NEW;
        g->next_new = ((uint64_t)thread << 40) |
                      (measure ? (uint64_t)1 << 39 : 0);
        break;
    case BENCH_WKEYS_LOADED:
    case BENCH_WKEYS_ABSENT:
        if (dk == BENCH_DIST_UNIFORM) {
            g->km = KM_UNIFORM;
        } else if (dk == BENCH_DIST_SEQUENTIAL) {
            g->km = KM_SEQ;
            g->pos = (uint64_t)((unsigned __int128)c->keys * (unsigned)thread /
                                (unsigned)(threads > 0 ? threads : 1));
        } else {
            g->km = KM_DIST;
            uint64_t space = c->keys;
            if (g->ins && dk == BENCH_DIST_SCRAMBLED_ZIPFIAN)
                space = insert_space(c->keys);
            else if (g->ins)
                space = g->n;
            g->space = dk == BENCH_DIST_SCRAMBLED_ZIPFIAN ? space : 0;
            if (bench_dist_init(&g->dist, dk, space, BENCH_ZIPF_THETA) != 0)
                return -1;
            uint64_t cnt = g->n < space ? g->n : space;
            if (bench_dist_set_count(&g->dist, cnt) != 0)
                return -1;
        }
        break;
    }
    return 0;
}

void bench_workload_key(const bench_workload *w, size_t key_size,
                        uint64_t idx, void *out)
{
    keyfmt f;
    bench_keyfmt_init(&f, w, key_size, out, 1);
    key_put(&f, out, idx);
}

int bench_workload_sequence(const bench_workload *w, const bench_run_config *cfg,
                            int thread, int threads, int repetition,
                            int measure, size_t n, int *ops, uint64_t *idx)
{
    gen g;
    atomic_uint_fast64_t ins;
    atomic_init(&ins, cfg->keys);
    if (!w || !cfg || thread < 0 || threads < 1 ||
        bench_gen_init(&g, w, cfg, thread, threads, repetition, measure, &ins, 0) != 0)
        return -1;
    static const int op_of_opc[] = {
        [OPC_GET] = BENCH_OP_READ, [OPC_PUT] = BENCH_OP_UPDATE,
        [OPC_INSERT] = BENCH_OP_INSERT, [OPC_SCAN] = BENCH_OP_SCAN,
        [OPC_RMW] = BENCH_OP_RMW, [OPC_TXN] = -1, [OPC_MULTIGET] = -1,
        [OPC_INVALID] = -1};
    size_t i = 0;
    gen_op op;
    while (i < n) {
        if (g.ins)
            gen_refresh(&g, atomic_load(&ins));
        gen_next(&g, &op);
        for (unsigned k = 0; k < op.nkeys && i < n; k++, i++) {
            if (ops)
                ops[i] = op_of_opc[op.opc];
            if (idx)
                idx[i] = op.idx[k];
        }
    }
    return 0;
}
