/*
 * bench/opstream.h — what a benchmark worker does, operation by operation:
 * the operation kinds, the key indices, the key bytes and the values, all
 * drawn from seeded streams. Internal to the bench runner (runner.c and
 * phase.c); the public face is bench_workload_sequence and
 * bench_workload_key in bench/runner.h.
 *
 * Contract (the determinism bench/runner.h promises)
 * - A worker's stream is a function of (seed, workload name, repetition,
 *   warm-up or measured, thread index) only: bench_gen_init derives it
 *   from nothing else, so the same seed gives the same operations and keys
 *   on every engine, and bench_workload_sequence reproduces them.
 * - gen_next draws, per operation and in this fixed order: the op kind (a
 *   mix only), its key index or indices, then the scan length. Changing the
 *   order or the number of draws changes every sequence: the tests pin it.
 * - Inserting workloads number new keys through one shared atomic counter
 *   (the only shared write of the hot loop), so with several threads which
 *   thread inserts which key depends on timing.
 * - Key bytes: bytes 0..7 are the big-endian key index (or its bench_hash64
 *   for random inserts, or with the top bit set for absent 8-byte keys);
 *   the padding after them is written once by bench_keyfmt_init and never
 *   again, so key_put writes 8 bytes per operation.
 * - Values are 64-byte aligned slices of a pool of POOL_BYTES seeded
 *   random bytes (plus room for one value past its end), chosen by a hash
 *   of (index, salt): no generation per write, incompressible bytes.
 * - The inline functions run in the measured loop: no allocation, no lock,
 *   no system call. A gen or keyfmt belongs to one thread.
 */
#ifndef BENCH_OPSTREAM_H
#define BENCH_OPSTREAM_H

#include <endian.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "bench/keygen.h"
#include "bench/runner.h"
#include "bench/workloads.h"

#define POOL_BYTES ((size_t)1 << 20) /* random bytes values are sliced from */
#define MAX_BATCH 64                 /* keys per txn / multi_get */

enum { OPC_GET, OPC_PUT, OPC_INSERT, OPC_SCAN, OPC_RMW, OPC_TXN,
       OPC_MULTIGET, OPC_INVALID };

static const int opc_of_op[BENCH_OP_COUNT] = {
    [BENCH_OP_READ] = OPC_GET, [BENCH_OP_UPDATE] = OPC_PUT,
    [BENCH_OP_INSERT] = OPC_INSERT, [BENCH_OP_SCAN] = OPC_SCAN,
    [BENCH_OP_RMW] = OPC_RMW};

enum { KM_UNIFORM, KM_SEQ, KM_DIST, KM_HOTKEY, KM_HOTSET, KM_NEW };

typedef struct gen {
    bench_rng rng;
    int fixed;               /* OPC_* when there is one op kind, else -1 */
    bench_opmix mix;
    int km;
    uint64_t n;              /* keys currently present (KM_UNIFORM domain) */
    uint64_t pos;            /* KM_SEQ */
    uint64_t hot, stride;    /* KM_HOTKEY index / KM_HOTSET size, spacing */
    uint64_t next_new;       /* KM_NEW */
    unsigned batch;
    unsigned scan_min, scan_span;
    bench_dist dist;
    uint64_t space;          /* KM_DIST domain (inserting workloads) */
    atomic_uint_fast64_t *ins; /* shared insert numbering, or NULL */
} gen;

typedef struct gen_op {
    int opc;
    unsigned nkeys;
    unsigned scan_len;
    uint64_t idx[MAX_BATCH];
} gen_op;

/* Domain of the scrambled-zipfian permutation for inserting workloads: it
 * must not change while keys are inserted (the hot set would move), so it
 * leaves room for N/4 inserts; beyond that new keys are not chosen. */
static inline uint64_t insert_space(uint64_t n) { return n + n / 4 + 1; }

/* Sets up thread `thread` of `threads` for one phase (measure: 1 for the
 * measured phase, 0 for its warm-up). ins: the shared insert counter (used
 * by inserting workloads only); present: keys present at phase start (0:
 * the configured count). 0, or -1 for parameters the distributions reject. */
int bench_gen_init(gen *g, const bench_workload *w, const bench_run_config *c,
                   int thread, int threads, int rep, int measure,
                   atomic_uint_fast64_t *ins, uint64_t present);

/* Inserting workloads: let the chooser see the keys inserted so far. */
static inline void gen_refresh(gen *g, uint64_t present)
{
    if (present <= g->n)
        return;
    g->n = present;
    if (g->km == KM_DIST) {
        uint64_t cnt = present;
        if (g->space && cnt > g->space)
            cnt = g->space;
        (void)bench_dist_set_count(&g->dist, cnt);
    }
}

static inline uint64_t gen_key(gen *g)
{
    switch (g->km) {
    case KM_UNIFORM:
        return bench_rng_below(&g->rng, g->n);
    case KM_SEQ: {
        uint64_t x = g->pos;
        g->pos = x + 1 >= g->n ? 0 : x + 1;
        return x;
    }
    case KM_HOTKEY:
        return g->hot;
    case KM_HOTSET:
        return bench_rng_below(&g->rng, g->hot) * g->stride;
    case KM_NEW:
        return g->next_new++;
    default:
        return bench_dist_next(&g->dist, &g->rng);
    }
}

/* Draws one operation: op kind, then its key(s), then the scan length. */
static inline void gen_next(gen *g, gen_op *op)
{
    int opc = g->fixed >= 0 ? g->fixed
                            : opc_of_op[bench_opmix_next(&g->mix, &g->rng)];
    op->opc = opc;
    op->nkeys = 1;
    op->scan_len = 0;
    switch (opc) {
    case OPC_INSERT:
        op->idx[0] = g->ins
            ? (uint64_t)atomic_fetch_add_explicit(g->ins, 1, memory_order_relaxed)
            : g->next_new++;
        break;
    case OPC_TXN:
    case OPC_MULTIGET:
        op->nkeys = g->batch;
        for (unsigned i = 0; i < g->batch; i++)
            op->idx[i] = gen_key(g);
        break;
    case OPC_SCAN:
        op->idx[0] = gen_key(g);
        op->scan_len = g->scan_min +
                       (g->scan_span ? (unsigned)bench_rng_below(&g->rng,
                                                                 g->scan_span + 1u)
                                     : 0u);
        break;
    default:
        op->idx[0] = gen_key(g);
        break;
    }
}

typedef struct keyfmt {
    size_t ks;
    int scrambled;     /* bytes 0..7 = hash64(idx) */
    uint64_t or_mask;  /* absent keys with 8-byte keys: top bit set */
} keyfmt;

/* Writes the padding of nbufs key buffers of ks bytes each at buf. Inline
 * although it runs once per phase: called out of line, the worker's keyfmt
 * would escape and the loop would reload its fields after every engine
 * call (one more instruction per operation, measured). */
static inline void bench_keyfmt_init(keyfmt *f, const bench_workload *w,
                                     size_t ks, unsigned char *buf,
                                     size_t nbufs)
{
    f->ks = ks;
    f->scrambled = w->keys == BENCH_WKEYS_NEW_RANDOM;
    f->or_mask = 0;
    for (size_t i = 0; i < nbufs; i++) {
        unsigned char *b = buf + i * ks;
        bench_key_format(b, ks, 0);
        if (w->keys == BENCH_WKEYS_ABSENT) {
            /* The loaded key's last padding byte + 1: sorts right after
             * the loaded key and before the next one. */
            if (ks > 8)
                b[ks - 1] = (unsigned char)(BENCH_KEY_PAD + 1);
            else
                f->or_mask = (uint64_t)1 << 63;
        }
    }
}

static inline void key_put(const keyfmt *f, unsigned char *buf, uint64_t idx)
{
    uint64_t word = f->scrambled ? bench_hash64(idx) : (idx | f->or_mask);
    uint64_t be = htobe64(word);
    memcpy(buf, &be, 8);
}

/* A value of the pool for (idx, salt): 64-byte aligned slices of 1 MiB of
 * seeded random bytes, chosen by a hash, so writes cost no value generation
 * and the bytes are incompressible. */
static inline const unsigned char *val_ptr(const unsigned char *pool,
                                           uint64_t idx, uint64_t salt)
{
    uint64_t h = (idx + salt) * 0x9e3779b97f4a7c15ull;
    return pool + ((h >> 40) & (POOL_BYTES - 1) & ~(uint64_t)63);
}

#endif /* BENCH_OPSTREAM_H */
