/*
 * bench/workloads.c — the workload table and selection by name or group.
 *
 * The seed document's categories (read, write, mixed 80/20, concurrent
 * 4/8/16, transactions, error path, memory, startup, cache, plus scans) and
 * YCSB's core workloads A-F with their standard proportions (YCSB
 * workloads/workload[a-f]). Records are one value of --value-size bytes, so
 * a YCSB "update" overwrites the whole record (YCSB updates one of ten
 * fields by default).
 */
#include "bench/workloads.h"

#include <stdio.h>
#include <string.h>

#define MIX(r, u, i, s, m) {[BENCH_OP_READ] = (r), [BENCH_OP_UPDATE] = (u), \
                            [BENCH_OP_INSERT] = (i), [BENCH_OP_SCAN] = (s), \
                            [BENCH_OP_RMW] = (m)}
#define GET_ONLY MIX(1, 0, 0, 0, 0)
#define PUT_ONLY MIX(0, 1, 0, 0, 0)
#define SCAN_ONLY MIX(0, 0, 0, 1, 0)

static const bench_workload table[] = {
    /* ---- read ---------------------------------------------------------- */
    {.name = "read-random", .group = "read", .in_seed = true,
     .summary = "point gets of loaded keys, uniform random",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .mix = GET_ONLY},
    {.name = "read-seq", .group = "read", .in_seed = true,
     .summary = "point gets of loaded keys in key order (each thread from "
                "its own starting point, wrapping)",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_SEQUENTIAL, .mix = GET_ONLY},
    {.name = "read-hotkey", .group = "read", .in_seed = true,
     .summary = "one key read in a loop",
     .note = "one hot key read in a loop: always cached, NOT a random-read "
             "figure (the seed's 20.4M reads/s was this case)",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_HOTKEY,
     .dist = BENCH_DIST_UNIFORM, .mix = GET_ONLY},
    /* ---- write --------------------------------------------------------- */
    {.name = "write-seq", .group = "write", .in_seed = true,
     .summary = "puts of new keys in key order, one put per commit, "
                "into an empty database",
     .data = BENCH_WD_FRESH, .keys = BENCH_WKEYS_NEW_SEQ,
     .dist = BENCH_DIST_SEQUENTIAL, .mix = PUT_ONLY},
    {.name = "write-random", .group = "write", .in_seed = true,
     .summary = "puts of distinct new keys in random order, one put per "
                "commit, into an empty database",
     .data = BENCH_WD_FRESH, .keys = BENCH_WKEYS_NEW_RANDOM,
     .dist = BENCH_DIST_UNIFORM, .mix = PUT_ONLY},
    /* ---- mixed / concurrent -------------------------------------------- */
    {.name = "mixed", .group = "mixed", .in_seed = true,
     .summary = "80% gets / 20% overwrites of loaded keys, uniform",
     .data = BENCH_WD_UPDATE, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .mix = MIX(0.8, 0.2, 0, 0, 0)},
    {.name = "concurrent-4", .group = "concurrent", .in_seed = true,
     .summary = "mixed 80/20 with 4 threads", .threads = 4,
     .data = BENCH_WD_UPDATE, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .mix = MIX(0.8, 0.2, 0, 0, 0)},
    {.name = "concurrent-8", .group = "concurrent", .in_seed = true,
     .summary = "mixed 80/20 with 8 threads", .threads = 8,
     .data = BENCH_WD_UPDATE, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .mix = MIX(0.8, 0.2, 0, 0, 0)},
    {.name = "concurrent-16", .group = "concurrent", .in_seed = true,
     .summary = "mixed 80/20 with 16 threads", .threads = 16,
     .data = BENCH_WD_UPDATE, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .mix = MIX(0.8, 0.2, 0, 0, 0)},
    /* ---- transactions --------------------------------------------------- */
    {.name = "txn", .group = "txn", .in_seed = true,
     .summary = "transactions: begin, 5 puts of 256 B (distinct new keys, "
                "random order), commit; ops = transactions",
     .data = BENCH_WD_FRESH, .keys = BENCH_WKEYS_NEW_RANDOM,
     .dist = BENCH_DIST_UNIFORM, .op = BENCH_WOP_TXN, .batch = 5,
     .value_size = 256},
    /* ---- error path ----------------------------------------------------- */
    {.name = "error-absent", .group = "error-path", .in_seed = true,
     .summary = "gets of absent keys (each sorts between two loaded keys, "
                "so lookups descend fully), uniform",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_ABSENT,
     .dist = BENCH_DIST_UNIFORM, .mix = GET_ONLY,
     .compare_to = "read-random"},
    {.name = "error-invalid", .group = "error-path", .in_seed = true,
     .summary = "ldb_get with a zero-length key (rejected as LDB_INVALID), "
                "called directly, without the adapter's error formatting",
     .note = "lightning only: the other engines' invalid-argument rules "
             "differ (RocksDB and LevelDB accept empty keys), so there is "
             "no like-for-like call",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .op = BENCH_WOP_GET_INVALID,
     .lightning_only = true, .compare_to = "read-random"},
    /* ---- memory / startup / cache -------------------------------------- */
    {.name = "memory", .group = "memory", .in_seed = true, .kind = BENCH_WK_MEMORY,
     .summary = "load N keys into an empty database (batches of 1000 per "
                "commit); RSS growth and peak, bytes per key, bytes on disk",
     .data = BENCH_WD_OWN, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_SEQUENTIAL},
    {.name = "startup", .group = "startup", .in_seed = true,
     .kind = BENCH_WK_STARTUP,
     .summary = "close and reopen the database holding the N loaded keys, "
                "files in the page cache; the open is timed",
     .note = "each engine opens as it normally would: lightning from the "
             "checkpoint it writes at close when the log grew by 16 MiB or "
             "more (params.checkpoint says whether there was one), then "
             "replaying the log after it",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM},
    {.name = "startup-replay", .group = "startup", .in_seed = true,
     .kind = BENCH_WK_STARTUP, .no_checkpoint = true, .lightning_only = true,
     .summary = "reopen the loaded database with no checkpoint (MANIFEST "
                "removed), so the whole log is replayed: the open after a "
                "crash before any checkpoint",
     .note = "lightning only: the other engines have no such choice",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM},
    {.name = "startup-cold", .group = "startup", .in_seed = true,
     .kind = BENCH_WK_STARTUP, .cold_open = true,
     .summary = "close, evict the database's files from the page cache, "
                "reopen; the open is timed",
     .note = "each engine opens as it normally would (lightning: from its "
             "checkpoint when it has one, see params.checkpoint)",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM},
    {.name = "cache-hot", .group = "cache", .in_seed = true,
     .summary = "gets over a hot set of 1% of the keys (spread over the key "
                "space), warmed up",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_HOTSET,
     .dist = BENCH_DIST_UNIFORM, .mix = GET_ONLY, .hot_permille = 10},
    {.name = "cache-cold", .group = "cache", .in_seed = true, .cold = true,
     .summary = "gets of loaded keys, uniform, after dropping the engine's "
                "files from the page cache (engine closed, files evicted, "
                "reopened); no warm-up",
     .note = "reads warm the cache as they go: a longer run is less cold",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .mix = GET_ONLY},
    /* ---- scans ---------------------------------------------------------- */
    {.name = "scan-10", .group = "scan", .in_seed = true,
     .summary = "range scans of 10 keys from a uniform random start; "
                "ops = scans",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .mix = SCAN_ONLY, .scan_min = 10,
     .scan_max = 10},
    {.name = "scan-100", .group = "scan", .in_seed = true,
     .summary = "range scans of 100 keys from a uniform random start; "
                "ops = scans",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .mix = SCAN_ONLY, .scan_min = 100,
     .scan_max = 100},
    /* ---- YCSB core workloads (request distribution as YCSB's files) ----- */
    {.name = "ycsb-a", .group = "ycsb",
     .summary = "YCSB A: 50% read / 50% update, scrambled zipfian 0.99",
     .data = BENCH_WD_UPDATE, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_SCRAMBLED_ZIPFIAN, .mix = MIX(0.5, 0.5, 0, 0, 0),
     .dist_override = true},
    {.name = "ycsb-b", .group = "ycsb",
     .summary = "YCSB B: 95% read / 5% update, scrambled zipfian 0.99",
     .data = BENCH_WD_UPDATE, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_SCRAMBLED_ZIPFIAN, .mix = MIX(0.95, 0.05, 0, 0, 0),
     .dist_override = true},
    {.name = "ycsb-c", .group = "ycsb",
     .summary = "YCSB C: 100% read, scrambled zipfian 0.99",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_SCRAMBLED_ZIPFIAN, .mix = GET_ONLY,
     .dist_override = true},
    {.name = "ycsb-d", .group = "ycsb",
     .summary = "YCSB D: 95% read (latest) / 5% insert",
     .note = "inserted keys follow the loaded ones in key order "
             "(YCSB insertorder=ordered)",
     .data = BENCH_WD_INSERT, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_LATEST, .mix = MIX(0.95, 0, 0.05, 0, 0),
     .dist_override = true},
    {.name = "ycsb-e", .group = "ycsb",
     .summary = "YCSB E: 95% scan (scrambled zipfian start, length uniform "
                "1-100) / 5% insert; ops = operations",
     .note = "inserted keys follow the loaded ones in key order "
             "(YCSB insertorder=ordered)",
     .data = BENCH_WD_INSERT, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_SCRAMBLED_ZIPFIAN, .mix = MIX(0, 0, 0.05, 0.95, 0),
     .scan_min = 1, .scan_max = 100, .dist_override = true},
    {.name = "ycsb-f", .group = "ycsb",
     .summary = "YCSB F: 50% read / 50% read-modify-write, scrambled "
                "zipfian 0.99",
     .data = BENCH_WD_UPDATE, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_SCRAMBLED_ZIPFIAN, .mix = MIX(0.5, 0, 0, 0, 0.5),
     .dist_override = true},
    /* ---- multi-get (one snapshot per batch; ops = keys looked up) ------- */
    {.name = "multiget-1", .group = "multiget",
     .summary = "multi_get of 1 loaded key per call, uniform; ops = keys",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .op = BENCH_WOP_MULTIGET, .batch = 1,
     .dist_override = true},
    {.name = "multiget-4", .group = "multiget",
     .summary = "multi_get of 4 loaded keys per call, uniform; ops = keys",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .op = BENCH_WOP_MULTIGET, .batch = 4,
     .dist_override = true},
    {.name = "multiget-16", .group = "multiget",
     .summary = "multi_get of 16 loaded keys per call, uniform; ops = keys",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .op = BENCH_WOP_MULTIGET, .batch = 16,
     .dist_override = true},
    {.name = "multiget-64", .group = "multiget",
     .summary = "multi_get of 64 loaded keys per call, uniform; ops = keys",
     .data = BENCH_WD_LOADED, .keys = BENCH_WKEYS_LOADED,
     .dist = BENCH_DIST_UNIFORM, .op = BENCH_WOP_MULTIGET, .batch = 64,
     .dist_override = true},
};

#define NWORK (sizeof table / sizeof table[0])

static const char *const groups[] = {
    "read", "write", "mixed", "concurrent", "txn", "error-path", "memory",
    "startup", "cache", "scan", "ycsb", "multiget", "seed", "all", NULL};

const bench_workload *bench_workloads(size_t *n)
{
    if (n)
        *n = NWORK;
    return table;
}

const bench_workload *bench_workload_find(const char *name)
{
    for (size_t i = 0; name && i < NWORK; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

int bench_workload_index(const bench_workload *w)
{
    if (w < table || w >= table + NWORK)
        return -1;
    return (int)(w - table);
}

const char *const *bench_workload_groups(void) { return groups; }

bool bench_workload_inserts(const bench_workload *w)
{
    return w->op == BENCH_WOP_MIX && w->mix[BENCH_OP_INSERT] > 0;
}

static bool in_group(const bench_workload *w, const char *g)
{
    if (strcmp(g, "all") == 0)
        return true;
    if (strcmp(g, "seed") == 0)
        return w->in_seed;
    return strcmp(w->group, g) == 0;
}

static bool is_group(const char *g)
{
    for (size_t i = 0; groups[i]; i++)
        if (strcmp(groups[i], g) == 0)
            return true;
    return false;
}

int bench_workloads_select(const char *spec, const bench_workload **out,
                           size_t cap, char *err, size_t errcap)
{
    bool chosen[NWORK] = {false};
    char item[128];
    const char *p = spec ? spec : "";
    if (err && errcap)
        err[0] = '\0';
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item) {
            if (err)
                snprintf(err, errcap, "empty or over-long workload name in '%s'",
                         spec ? spec : "");
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        const bench_workload *w = bench_workload_find(item);
        if (w) {
            chosen[w - table] = true;
        } else if (is_group(item)) {
            for (size_t i = 0; i < NWORK; i++)
                if (in_group(&table[i], item))
                    chosen[i] = true;
        } else {
            if (err)
                snprintf(err, errcap,
                         "unknown workload '%s' (see 'lightning bench --list')",
                         item);
            return -1;
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < NWORK; i++) {
        if (!chosen[i])
            continue;
        if (n >= cap) {
            if (err)
                snprintf(err, errcap, "too many workloads (max %zu)", cap);
            return -1;
        }
        out[n++] = &table[i];
    }
    return (int)n;
}

static const char *keys_desc(const bench_workload *w)
{
    switch (w->keys) {
    case BENCH_WKEYS_LOADED: return "loaded keys";
    case BENCH_WKEYS_ABSENT: return "absent keys";
    case BENCH_WKEYS_HOTKEY: return "one key";
    case BENCH_WKEYS_HOTSET: return "hot set";
    case BENCH_WKEYS_NEW_SEQ: return "new keys, in order";
    case BENCH_WKEYS_NEW_RANDOM: return "new keys, random order";
    }
    return "?";
}

static const char *data_desc(bench_wdata d)
{
    switch (d) {
    case BENCH_WD_LOADED: return "shared data set, read only";
    case BENCH_WD_UPDATE: return "shared data set, overwrites";
    case BENCH_WD_INSERT: return "shared data set, inserts";
    case BENCH_WD_FRESH: return "empty database per repetition";
    case BENCH_WD_OWN: return "own database per repetition";
    }
    return "?";
}

char *bench_workload_describe(const bench_workload *w, char *buf, size_t cap)
{
    char ops[160] = "";
    size_t o = 0;
    if (w->kind == BENCH_WK_MEMORY) {
        snprintf(ops, sizeof ops, "load");
    } else if (w->kind == BENCH_WK_STARTUP) {
        snprintf(ops, sizeof ops, "open%s%s", w->cold_open ? " (cold)" : "",
                 w->no_checkpoint ? " (no checkpoint)" : "");
    } else if (w->op == BENCH_WOP_TXN) {
        snprintf(ops, sizeof ops, "txn of %u puts", w->batch);
    } else if (w->op == BENCH_WOP_MULTIGET) {
        snprintf(ops, sizeof ops, "multi_get x%u", w->batch);
    } else if (w->op == BENCH_WOP_GET_INVALID) {
        snprintf(ops, sizeof ops, "invalid get");
    } else {
        for (int k = 0; k < BENCH_OP_COUNT && o < sizeof ops; k++) {
            if (w->mix[k] <= 0)
                continue;
            bool fresh = w->keys == BENCH_WKEYS_NEW_SEQ ||
                         w->keys == BENCH_WKEYS_NEW_RANDOM;
            o += (size_t)snprintf(ops + o, sizeof ops - o, "%s%s %g%%",
                                  o ? " / " : "",
                                  fresh ? "put" : bench_op_name((bench_op)k),
                                  w->mix[k] * 100.0);
        }
    }
    char extra[96] = "";
    size_t e = 0;
    if (w->scan_max)
        e += (size_t)snprintf(extra + e, sizeof extra - e,
                              w->scan_min == w->scan_max ? ", scan %u"
                                                         : ", scan %u-%u",
                              w->scan_min, w->scan_max);
    if (w->value_size && e < sizeof extra)
        e += (size_t)snprintf(extra + e, sizeof extra - e, ", values %zu B",
                              w->value_size);
    if (w->hot_permille && e < sizeof extra)
        e += (size_t)snprintf(extra + e, sizeof extra - e, ", hot %.1f%%",
                              w->hot_permille / 10.0);
    if (w->lightning_only && e < sizeof extra)
        snprintf(extra + e, sizeof extra - e, ", lightning only");
    char thr[24];
    if (w->threads)
        snprintf(thr, sizeof thr, "%d threads", w->threads);
    else
        snprintf(thr, sizeof thr, "--threads");
    bool keyed = w->kind == BENCH_WK_OPS;
    snprintf(buf, cap, "%s; %s%s%s; %s; %s%s%s", ops,
             keyed ? keys_desc(w) : "N keys",
             keyed && (w->keys == BENCH_WKEYS_LOADED ||
                       w->keys == BENCH_WKEYS_ABSENT)
                 ? ", "
                 : "",
             keyed && (w->keys == BENCH_WKEYS_LOADED ||
                       w->keys == BENCH_WKEYS_ABSENT)
                 ? bench_dist_name(w->dist)
                 : "",
             thr, data_desc(w->data), extra,
             w->dist_override ? " [--distribution]" : "");
    return buf;
}
