/*
 * bench/runner.c — phases, threads and timing for `lightning bench`.
 *
 * Layout of a timed phase (bench/runner.h states the guarantees):
 *   main: counters start -> spawn workers -> wait until all are ready ->
 *         t0, open the gate -> sleep to the deadline (duration mode) ->
 *         raise `stop` -> join -> counters stop
 *   worker: thread_init -> ready, wait at the gate -> loop -> own end time
 *           -> thread_fini
 * The phase's time is t0 to the latest worker end time, so thread_fini
 * (SQLite finalising statements, LMDB ending read transactions) is not
 * counted, and ops/seconds are consistent by construction.
 *
 * The loop body is one generated operation (gen_next: PRNG draws for the
 * op kind, key index and scan length, in that fixed order, shared with
 * bench_workload_sequence) and one engine call through a function pointer
 * copied into a local. Keys are written into a per-thread buffer whose
 * padding was written once: only the 8 index bytes change per op.
 */
#include "bench/runner.h"
#include "bench/schedwait.h"

#include <endian.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/engine_lightning.h"
#include "bench/hist.h"
#include "bench/keygen.h"

#define POOL_BYTES ((size_t)1 << 20) /* random bytes values are sliced from */
#define LOOP_CHUNK 64                /* ops between looks at `stop` */
#define MAX_BATCH 64                 /* keys per txn / multi_get */
#define SLOWDOWN_MIN_WARM_S 0.02     /* calibration needs some warm-up; no
                                        * more, so A/B runs stay alike */

/* ---- small helpers ------------------------------------------------------- */

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(p);
    return 0;
}

/* Removes a tree this run created (never follows symlinks). */
static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t du_bytes;
static int du_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)p, (void)ftw;
    if (flag == FTW_F)
        du_bytes += (uint64_t)st->st_blocks * 512u;
    return 0;
}

/* Allocated bytes of the regular files under dir (sparse files count only
 * what they occupy). Single-threaded use only (the runner's main thread). */
static uint64_t dir_bytes(const char *dir)
{
    du_bytes = 0;
    nftw(dir, du_one, 16, FTW_PHYS);
    return du_bytes;
}

/* out = a + "/" + b; -1 when it does not fit (the caller reports it). */
static int path_join(char *out, size_t cap, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb + 1 > cap)
        return -1;
    memcpy(out, a, la);
    out[la] = '/';
    memcpy(out + la + 1, b, lb + 1);
    return 0;
}

/* mkdir -p (0755); 0, or -1 with errno. */
static int mkdir_p(const char *dir)
{
    char path[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* RssAnon and RssFile (+RssShmem) of this process, in bytes. */
static int read_rss(uint64_t *anon, uint64_t *file)
{
    char line[256];
    unsigned long long kb;
    int got = 0;
    *anon = *file = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "RssAnon: %llu kB", &kb) == 1) {
            *anon = kb * 1024u;
            got |= 1;
        } else if (sscanf(line, "RssFile: %llu kB", &kb) == 1) {
            *file += kb * 1024u;
            got |= 2;
        } else if (sscanf(line, "RssShmem: %llu kB", &kb) == 1) {
            *file += kb * 1024u;
        }
    }
    fclose(f);
    return got == 3 ? 0 : -1;
}

static int usable_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

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
            rep->phases_total, (double)(bench_now_ns() - rep->start_ns) * 1e-9);
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

/* ---- operation and key generation ---------------------------------------- */

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

/* The seed of one worker stream: a function of the things that must give
 * the same sequence (seed, workload, repetition, phase kind) and nothing
 * else; the thread picks the stream. */
static uint64_t stream_seed(uint64_t seed, const bench_workload *w, int rep,
                            int measure)
{
    uint64_t s = seed ^ fnv1a(w->name);
    s ^= (uint64_t)(unsigned)rep * 0x9e3779b97f4a7c15ull;
    s ^= measure ? 0xa0761d6478bd642full : 0xe7037ed1a0b428dbull;
    return bench_splitmix64(&s);
}

/* Domain of the scrambled-zipfian permutation for inserting workloads: it
 * must not change while keys are inserted (the hot set would move), so it
 * leaves room for N/4 inserts; beyond that new keys are not chosen. */
static uint64_t insert_space(uint64_t n) { return n + n / 4 + 1; }

static int gen_init(gen *g, const bench_workload *w, const bench_run_config *c,
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

/* ---- key bytes ------------------------------------------------------------ */

typedef struct keyfmt {
    size_t ks;
    int scrambled;     /* bytes 0..7 = hash64(idx) */
    uint64_t or_mask;  /* absent keys with 8-byte keys: top bit set */
} keyfmt;

static void keyfmt_init(keyfmt *f, const bench_workload *w, size_t ks,
                        unsigned char *buf, size_t nbufs)
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

void bench_workload_key(const bench_workload *w, size_t key_size,
                        uint64_t idx, void *out)
{
    keyfmt f;
    keyfmt_init(&f, w, key_size, out, 1);
    key_put(&f, out, idx);
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

int bench_workload_sequence(const bench_workload *w, const bench_run_config *cfg,
                            int thread, int threads, int repetition,
                            int measure, size_t n, int *ops, uint64_t *idx)
{
    gen g;
    atomic_uint_fast64_t ins;
    atomic_init(&ins, cfg->keys);
    if (!w || !cfg || thread < 0 || threads < 1 ||
        gen_init(&g, w, cfg, thread, threads, repetition, measure, &ins, 0) != 0)
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

/* ---- a timed phase -------------------------------------------------------- */

typedef struct phase {
    const bench_run_config *cfg;
    const bench_engine *eng;
    void *h;
    const bench_workload *w;
    int threads, rep, measure;
    uint64_t total_ops;          /* 0: run until `stop` */
    double duration_s;
    size_t vs;                   /* value size of writes */
    const unsigned char *pool;
    atomic_uint_fast64_t *ins;   /* next insert index (shared data set) */
    uint64_t present;            /* keys present at phase start */
    int (*get_raw)(void *, const void *, size_t, void *, size_t, size_t *);
    const bench_run_hooks *hooks; /* worker hooks of this phase, or NULL */
    /* the start gate */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready, go;
    atomic_int stop;
    atomic_int failed;
} phase;

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
    if (gen_init(&g, ph->w, c, wk->idx, ph->threads, ph->rep, ph->measure,
                 ph->ins, ph->present) != 0) {
        bench_engine_set_error("bad workload parameters");
        worker_fail(wk, "generator");
        return;
    }
    keyfmt kf;
    keyfmt_init(&kf, ph->w, c->key_size, wk->keys, MAX_BATCH);
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
                if (sampled) t0 = now_ns();
                rc = get(t, kb, ks, vbuf, vcap, &vl);
                break;
            case OPC_PUT:
            case OPC_INSERT:
                key_put(&kf, kb, op.idx[0]);
                if (sampled) t0 = now_ns();
                rc = put(t, kb, ks, val_ptr(pool, op.idx[0], salt), vs);
                break;
            case OPC_SCAN:
                key_put(&kf, kb, op.idx[0]);
                if (sampled) t0 = now_ns();
                found = 0;
                rc = scan(t, kb, ks, op.scan_len, &found);
                items += found;
                break;
            case OPC_RMW:
                key_put(&kf, kb, op.idx[0]);
                if (sampled) t0 = now_ns();
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
                if (sampled) t0 = now_ns();
                rc = txn_put(t, op.nkeys, wk->kptr, wk->klen, wk->vptr, wk->vlen);
                break;
            case OPC_MULTIGET:
                for (unsigned k = 0; k < op.nkeys; k++)
                    key_put(&kf, kb + k * ks, op.idx[k]);
                if (sampled) t0 = now_ns();
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
                if (sampled) t0 = now_ns();
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
                bench_hist_record(hist, now_ns() - t0);
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
    wk->t_end = now_ns();
    wk->cpu_ns = bench_thread_cpu_ns() - c0;
    if (wk->wait_ok && bench_sched_wait_ns(&w1) == 0 && w1 >= w0)
        wk->wait_ns = w1 - w0;
    else
        wk->wait_ok = 0;
    if (rc == BENCH_OK)
        ph->eng->thread_fini(ph->h, wk->tctx);
    return NULL;
}

typedef struct phase_out {
    uint64_t ops, notfound, items, rejected, accepted;
    double seconds;
    double uncontended_s;        /* seconds minus the wait other processes
                                    caused (schedwait.h); < 0: unknown, or
                                    more than one worker                  */
    bench_hist hist;             /* merged; owned by the caller */
    bench_counters_result ctr;
    int has_ctr;
    char err[512];
} phase_out;

/* Runs one phase; returns BENCH_OK, or BENCH_EFAIL with out->err set. */
static int run_phase(phase *ph, phase_out *out, const bench_run_hooks *hooks,
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
    uint64_t t0 = now_ns(), pcpu0 = bench_process_cpu_ns();
    pthread_mutex_lock(&ph->mu);
    ph->go = 1;
    pthread_cond_broadcast(&ph->cv);
    pthread_mutex_unlock(&ph->mu);

    if (!ph->total_ops) {
        uint64_t deadline = t0 + (uint64_t)(ph->duration_s * 1e9);
        for (;;) {
            uint64_t now = now_ns();
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
    uint64_t t0 = now_ns(), last = t0;
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
        uint64_t now = now_ns();
        if (c->progress && now - last > 200000000u) {
            last = now;
            progress(e->rc->rep, "[%s] loading %llu/%llu keys", e->eng->name,
                     (unsigned long long)(i + m), (unsigned long long)n);
        }
    }
    *secs = (double)(now_ns() - t0) * 1e-9;
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
            rc = run_phase(&ph, &out, counted ? c->hooks : NULL, &winfo);
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
                                : usable_cores();
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
    rc = run_phase(&ph, &out, c->hooks, &info);
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
    if (path_join(dir, sizeof dir, e->dir, "fresh") != 0) {
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
    rm_tree(dir);
    return rc == BENCH_OK && !e->failed ? BENCH_OK : BENCH_EFAIL;
}

static int memory_rep(eng_run *e, const bench_workload *w, int rep)
{
    const bench_run_config *c = e->rc->cfg;
    char dir[PATH_MAX], err[512] = "";
    if (path_join(dir, sizeof dir, e->dir, "memory") != 0) {
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
    int rss_ok = read_rss(&anon0, &file0) == 0;
    bench_counters ctr;
    bench_counters_result cres;
    memset(&cres, 0, sizeof cres);
    int ctr_on = bench_counters_start(&ctr, BENCH_COUNTERS_PROCESS) == 0;
    void *h = NULL;
    double secs = 0;
    uint64_t t0 = now_ns();
    if (eng_open(e, &ec, &h, w->name) != BENCH_OK) {
        if (ctr_on)
            bench_counters_cancel(&ctr);
        return BENCH_EFAIL;
    }
    int rc = load_keys(e, h, c->keys, &secs, err, sizeof err);
    double open_load = (double)(now_ns() - t0) * 1e-9;
    rss_ok = rss_ok && read_rss(&anon1, &file1) == 0;
    if (ctr_on && bench_counters_stop(&ctr, &cres) != 0)
        memset(&cres, 0, sizeof cres);
    if (rc != BENCH_OK) {
        eng_fail(e, w->name, err);
        eng_close(e, &h, w->name);
        rm_tree(dir);
        return BENCH_EFAIL;
    }
    if (e->eng->sync(h) != BENCH_OK) {
        eng_fail(e, w->name, bench_engine_error());
        eng_close(e, &h, w->name);
        rm_tree(dir);
        return BENCH_EFAIL;
    }
    eng_close(e, &h, w->name);
    uint64_t disk = dir_bytes(dir);
    rm_tree(dir);
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
    uint64_t t0 = now_ns();
    int rc = eng_open(e, &e->shared_cfg, &e->shared, w->name);
    uint64_t t1 = now_ns();
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
    uint64_t missing = 0, t0 = now_ns();
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
         why, (unsigned long long)c->keys, (double)(now_ns() - t0) * 1e-9);
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
    if (path_join(e->shared_dir, sizeof e->shared_dir, e->dir, "data") != 0) {
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
    if (path_join(e.dir, sizeof e.dir, rc->root, leaf) != 0)
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
        rm_tree(e.dir);
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
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
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
        uint64_t a = now_ns(), b = now_ns();
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
    if (mkdir_p(base) != 0) {
        note(rep, "cannot create %s: %s", base, strerror(errno));
        free(rc.pool);
        return 2;
    }
    if (path_join(rc.root, sizeof rc.root, base, "lightning-bench-XXXXXX") != 0 ||
        !mkdtemp(rc.root)) {
        note(rep, "mkdtemp %s: %s", rc.root, strerror(errno));
        free(rc.pool);
        return 2;
    }
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

    rep->start_ns = bench_now_ns();
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
    if (!c->keep_data)
        rm_tree(rc.root);
    free(rc.pool);
    return any_failed ? 1 : 0;
}
