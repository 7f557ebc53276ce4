/*
 * bench/workloads.h — the table of named workloads `lightning bench` runs,
 * and the selection of workloads by name or group.
 *
 * Contract
 * - The table is static and constant; its order is the order results are
 *   reported in. A workload is plain data: what operations (a single kind,
 *   or a YCSB-style mix), over which keys (loaded keys chosen by a
 *   distribution, absent keys, new keys), on which database (the engine's
 *   shared loaded data set, a fresh database per repetition, or one of its
 *   own), with how many threads. The runner (bench/runner.h) interprets it;
 *   adding a workload of an existing shape is one table entry.
 * - Data classes decide reuse: the shared data set is loaded once per
 *   engine; read-only workloads run first, then those that overwrite values
 *   in place (key set unchanged), then those that insert keys. Fresh
 *   workloads get an empty database per repetition, so repetitions are
 *   alike and never see each other's keys.
 * - Names are stable identifiers: results, the history of `lightning perf`
 *   and its tolerances key on them. Rename only with a migration.
 * - Thread-safety: everything here is read-only after compilation.
 */
#ifndef BENCH_WORKLOADS_H
#define BENCH_WORKLOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/keygen.h"

/* What one iteration of the measured loop does. The YCSB verbs come from
 * keygen's bench_op (read, update, insert, scan, read-modify-write) through
 * `mix`; the others are single-kind workloads. */
typedef enum bench_wop {
    BENCH_WOP_MIX = 0,     /* draw from mix[] (a single non-zero weight is
                              a fixed operation, drawn without a PRNG call) */
    BENCH_WOP_TXN,         /* txn_put of `batch` new keys, one commit */
    BENCH_WOP_MULTIGET,    /* multi_get of `batch` loaded keys (or a loop) */
    BENCH_WOP_GET_INVALID  /* lightning only: ldb_get with a zero-length key */
} bench_wop;

typedef enum bench_wkind {
    BENCH_WK_OPS = 0,  /* a timed loop of operations: throughput + latency */
    BENCH_WK_MEMORY,   /* RSS and bytes per key after loading N keys */
    BENCH_WK_STARTUP   /* time to open the loaded database */
} bench_wkind;

typedef enum bench_wdata {
    BENCH_WD_LOADED = 0,  /* shared loaded set, read only */
    BENCH_WD_UPDATE,      /* shared loaded set, values overwritten in place */
    BENCH_WD_INSERT,      /* shared loaded set, new keys inserted */
    BENCH_WD_FRESH,       /* an empty database per repetition */
    BENCH_WD_OWN          /* the workload creates its own (memory) */
} bench_wdata;

typedef enum bench_wkeys {
    BENCH_WKEYS_LOADED = 0, /* loaded keys 0..N-1 chosen by `dist` */
    BENCH_WKEYS_ABSENT,     /* keys that sort between loaded keys, never
                               present (a loaded key with its last byte
                               changed), chosen by `dist` */
    BENCH_WKEYS_HOTKEY,     /* the one key N/2, every time */
    BENCH_WKEYS_HOTSET,     /* hot_permille of the keys, evenly spread over
                               the key space, uniform among themselves */
    BENCH_WKEYS_NEW_SEQ,    /* fresh database: new keys in key order, each
                               thread in its own region */
    BENCH_WKEYS_NEW_RANDOM  /* fresh database: distinct new keys in a
                               pseudo-random order (bijective scramble) */
} bench_wkeys;

typedef struct bench_workload {
    const char *name;     /* stable identifier, e.g. "read-random" */
    const char *group;    /* selection group, e.g. "read" */
    const char *summary;  /* one line for --list */
    const char *note;     /* caveat carried into results, or NULL */
    bench_wkind kind;
    bench_wdata data;
    bench_wkeys keys;
    bench_dist_kind dist; /* for LOADED / ABSENT keys */
    bench_wop op;
    double mix[BENCH_OP_COUNT]; /* weights when op == BENCH_WOP_MIX */
    int threads;          /* fixed thread count; 0 = the --threads list */
    unsigned scan_min, scan_max; /* scan length, uniform in [min, max] */
    unsigned batch;       /* puts per txn, keys per multi_get */
    size_t value_size;    /* 0 = the run's --value-size */
    unsigned hot_permille;
    bool cold;            /* drop the engine's cache before each repetition;
                             no warm-up (it would warm the cache) */
    bool cold_open;       /* startup: evict the files before opening */
    bool no_checkpoint;   /* startup: open without a checkpoint (lightning) */
    bool lightning_only;  /* skipped, with a note, on other engines */
    bool dist_override;   /* --distribution applies to this workload */
    bool in_seed;         /* member of the "seed" group */
    const char *compare_to; /* the happy path an error path is judged
                               against (perf computes the overhead) */
} bench_workload;

/* The table; *n set to its length. */
const bench_workload *bench_workloads(size_t *n);
/* By exact name; NULL if unknown. */
const bench_workload *bench_workload_find(const char *name);
/* Position in the table (for ordering), or -1. */
int bench_workload_index(const bench_workload *w);

/* Group names a selection accepts besides workload names: every distinct
 * `group`, plus "seed" (the seed document's categories), "ycsb" and "all".
 * NULL-terminated. */
const char *const *bench_workload_groups(void);

/* Parses a comma-separated list of workload and group names into out[]
 * (deduplicated, in table order). Returns the count (>= 1), or -1 with a
 * message in err naming the unknown item (and out untouched beyond cap). */
int bench_workloads_select(const char *spec, const bench_workload **out,
                           size_t cap, char *err, size_t errcap);

/* A one-line parameter description ("get, uniform over loaded keys, ...")
 * for --list; returns buf. */
char *bench_workload_describe(const bench_workload *w, char *buf, size_t cap);

/* The effective key distribution (dist_override: the override, else dist). */
static inline bench_dist_kind bench_workload_dist(const bench_workload *w,
                                                  int override_dist)
{
    return (w->dist_override && override_dist >= 0)
               ? (bench_dist_kind)override_dist
               : w->dist;
}

/* Whether the workload's operations insert new keys into the shared set. */
bool bench_workload_inserts(const bench_workload *w);

#endif /* BENCH_WORKLOADS_H */
