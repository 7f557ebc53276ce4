/*
 * cli/cmd_bench.c — `lightning bench`: parses the command line into a
 * bench_run_config, runs it (bench/runner.h) and writes the results
 * (bench/output.h). docs/bench.md is the manual.
 *
 * stdout carries results only (the table, or a JSON document); notes,
 * engine configurations and the progress line go to stderr, the progress
 * line only when stderr is a terminal. Exit codes: 0 every engine ran,
 * 1 some engine failed (its results are absent, the others are written),
 * 2 usage error or a run that could not start or write its output.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/counts.h"
#include "bench/engine.h"
#include "bench/format.h"
#include "bench/output.h"
#include "bench/runner.h"
#include "bench/workloads.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "perf/cleanup.h"

#define MAX_ENGINES 16
#define MAX_WORKLOADS 64

static void usage(FILE *f)
{
    fprintf(f,
"usage: lightning bench [options]\n"
"\n"
"Runs named workloads against named engines and reports throughput, sampled\n"
"latency percentiles, CPU time and peak RSS per repetition.\n"
"\n"
"  --engines LIST       comma list of lightning,lmdb,rocksdb,leveldb,sqlite,null\n"
"                       (default lightning,lmdb,rocksdb; ratios are to the first)\n"
"  --workloads LIST     workload or group names (default read); groups: read write\n"
"                       mixed concurrent txn error-path memory startup cache scan\n"
"                       ycsb multiget seed all\n"
"  --list               print every workload with its parameters and exit\n"
"  --keys N             keys in the loaded data set (default 100000; k/m/g suffixes)\n"
"  --key-size N         bytes per key, >= 8 (default 16)\n"
"  --value-size N       bytes per value (default 1024)\n"
"  --threads LIST       thread counts, e.g. 1,2,4 (default 1; fixed-thread\n"
"                       workloads such as concurrent-8 ignore it)\n"
"  --duration S         seconds per measured repetition (default 2)\n"
"  --ops N              fixed op count per measured repetition instead\n"
"  --warmup S           seconds of warm-up before each repetition (default 0.5)\n"
"  --warmup-ops N       fixed warm-up op count instead\n"
"  --reps N             repetitions (default 3)\n"
"  --seed N             key/op sequence seed (default 42)\n"
"  --sync MODE          none|normal|full (default none)\n"
"  --dir DIR            where the run's data directory is made (default $TMPDIR\n"
"                       or /tmp); it is removed afterwards unless --keep-data\n"
"  --keep-data          keep the data directory (its path is printed)\n"
"  --json FILE          also write the lightning-bench/1 JSON document to FILE\n"
"  --format FMT         stdout format: table (default), json, gbench, csv or\n"
"                       markdown (hyperfine-style summaries, one row per\n"
"                       benchmark/threads/engine; docs/bench.md)\n"
"  --quick              small sizes for CI and tests: 10000 keys, 0.2 s, 0.05 s\n"
"                       warm-up, 1 rep (explicit options win)\n"
"  --sample-every N     latency sample period, a power of two (default 16)\n"
"  --load-order ORDER   key (default) or random: order of the initial load\n"
"  --distribution D     uniform|zipfian|scrambled-zipfian|latest|sequential for\n"
"                       the YCSB and multiget workloads (default: their own)\n"
"  --inject-slowdown P  lightning only: busy work of P%% of each op's measured\n"
"                       cost (to check the regression framework)\n"
"  --measure M          wallclock (default) or counts: a fixed number of ops\n"
"                       (--ops, default 2000; warm-up --warmup-ops, default\n"
"                       the same) under valgrind's callgrind with a fixed cache\n"
"                       model; adds ir_per_op, d1_misses_per_op,\n"
"                       ll_misses_per_op, i1_misses_per_op and\n"
"                       est_cycles_per_op (Ir + 10 D1 + 100 LL misses) of the\n"
"                       measured phase only; 1 rep unless --reps\n"
"  --no-progress        no progress line even on a terminal\n"
"  -h, --help           this text\n"
"\n"
"Exit: 0 ok, 1 some engine failed, 2 usage or run error.\n");
}

/* Unsigned integer with an optional k/m/g (x1000) suffix; the range checks
 * stay with each option. */
static int parse_u64(const char *s, uint64_t *out)
{
    return cli_parse_uint(s, 0, UINT64_MAX, 1, out);
}

static int parse_double(const char *s, double *out)
{
    return cli_parse_double(s, -HUGE_VAL, HUGE_VAL, out);
}

static int parse_engines(const char *spec, const bench_engine **out, size_t *n)
{
    char buf[512];
    if (strlen(spec) >= sizeof buf) {
        cli_error("bench: --engines list too long");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    *n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const bench_engine *e = bench_engine_find(t);
        if (!e) {
            char known[256] = "";
            for (const bench_engine *const *p = bench_engines(); *p; p++) {
                strncat(known, (*p)->name, sizeof known - strlen(known) - 1);
                if (p[1])
                    strncat(known, ", ", sizeof known - strlen(known) - 1);
            }
            cli_error("bench: unknown engine '%s' (known: %s)", t, known);
            return -1;
        }
        for (size_t i = 0; i < *n; i++)
            if (out[i] == e) {
                cli_error("bench: engine '%s' given twice", t);
                return -1;
            }
        if (*n >= MAX_ENGINES) {
            cli_error("bench: too many engines");
            return -1;
        }
        out[(*n)++] = e;
    }
    if (*n == 0) {
        cli_error("bench: --engines is empty");
        return -1;
    }
    return 0;
}

static int parse_threads(const char *spec, bench_run_config *c)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    c->n_threads = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (parse_u64(t, &v) != 0 || v < 1 || v > 1024 ||
            c->n_threads >= BENCH_MAX_THREAD_COUNTS) {
            cli_error("bench: bad --threads '%s' (1-1024, at most %d counts)", spec,
                      BENCH_MAX_THREAD_COUNTS);
            return -1;
        }
        c->threads[c->n_threads++] = (int)v;
    }
    if (c->n_threads == 0) {
        cli_error("bench: --threads is empty");
        return -1;
    }
    return 0;
}

enum {
    OPT_ENGINES = 256, OPT_WORKLOADS, OPT_LIST, OPT_KEYS, OPT_KEY_SIZE,
    OPT_VALUE_SIZE, OPT_THREADS, OPT_DURATION, OPT_OPS, OPT_WARMUP,
    OPT_WARMUP_OPS, OPT_REPS, OPT_SEED, OPT_SYNC, OPT_DIR, OPT_KEEP, OPT_JSON,
    OPT_FORMAT, OPT_QUICK, OPT_SAMPLE, OPT_LOAD_ORDER, OPT_DIST, OPT_INJECT,
    OPT_NO_PROGRESS, OPT_MEASURE
};

static const struct option long_opts[] = {
    {"engines", required_argument, NULL, OPT_ENGINES},
    {"workloads", required_argument, NULL, OPT_WORKLOADS},
    {"list", no_argument, NULL, OPT_LIST},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"key-size", required_argument, NULL, OPT_KEY_SIZE},
    {"value-size", required_argument, NULL, OPT_VALUE_SIZE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"ops", required_argument, NULL, OPT_OPS},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"warmup-ops", required_argument, NULL, OPT_WARMUP_OPS},
    {"reps", required_argument, NULL, OPT_REPS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"sync", required_argument, NULL, OPT_SYNC},
    {"dir", required_argument, NULL, OPT_DIR},
    {"keep-data", no_argument, NULL, OPT_KEEP},
    {"json", required_argument, NULL, OPT_JSON},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"quick", no_argument, NULL, OPT_QUICK},
    {"sample-every", required_argument, NULL, OPT_SAMPLE},
    {"load-order", required_argument, NULL, OPT_LOAD_ORDER},
    {"distribution", required_argument, NULL, OPT_DIST},
    {"inject-slowdown", required_argument, NULL, OPT_INJECT},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"measure", required_argument, NULL, OPT_MEASURE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

enum { FMT_TABLE, FMT_JSON, FMT_GBENCH, FMT_CSV, FMT_MARKDOWN };

static void on_run_dir(const char *path, int made)
{
    if (made) perf_cleanup_add_dir(path);
    else perf_cleanup_forget(path);
}

/* The first component of `dir` that does not exist yet ("" when all do):
 * what mkdir -p is about to create. 0, or -1 when it cannot be told. */
static int topmost_missing(const char *dir, char *out, size_t cap)
{
    char buf[4096];
    struct stat st;
    out[0] = '\0';
    if (strlen(dir) >= sizeof buf || strlen(dir) >= cap) return -1;
    strcpy(buf, dir);
    for (;;) {
        if (stat(buf, &st) == 0) return 0;
        if (errno != ENOENT) return -1;
        strcpy(out, buf);
        char *slash = strrchr(buf, '/');
        while (slash && slash > buf && slash[1] == '\0') { /* trailing '/' */
            *slash = '\0';
            slash = strrchr(buf, '/');
        }
        if (!slash) return 0;
        if (slash == buf) return 0;
        *slash = '\0';
    }
}

/* Removes the empty directories from `leaf` up to and including `top`
 * (rmdir: never anything with files in it, e.g. kept data). */
static void rmdir_chain(const char *top, const char *leaf)
{
    char buf[4096];
    if (strlen(leaf) >= sizeof buf) return;
    strcpy(buf, leaf);
    size_t tl = strlen(top);
    while (strlen(buf) >= tl) {
        rmdir(buf);
        if (strlen(buf) == tl) break;
        char *slash = strrchr(buf, '/');
        if (!slash) break;
        *slash = '\0';
    }
}

int cli_bench_main(int argc, char **argv)
{
    bench_run_config cfg;
    bench_run_config_init(&cfg);
    const bench_engine *engines[MAX_ENGINES];
    const bench_workload *workloads[MAX_WORKLOADS];
    const char *engine_spec = "lightning,lmdb,rocksdb", *workload_spec = "read";
    const char *json_path = NULL;
    int format = FMT_TABLE, quick = 0, no_progress = 0;
    int set_keys = 0, set_duration = 0, set_warmup = 0, set_reps = 0;
    int counts = 0;
    bench_counts_ctx cctx;
    bench_run_hooks chooks;
    uint64_t u;
    double d;
    char err[256];

    opterr = 0;
    optind = 0; /* glibc: full re-initialisation, so repeated calls work */
    for (;;) {
        int o = getopt_long(argc, argv, "h", long_opts, NULL);
        if (o == -1)
            break;
        switch (o) {
        case 'h':
            usage(stdout);
            return 0;
        case OPT_LIST:
            return bench_write_workload_list(stdout) == 0 ? 0 : 2;
        case OPT_ENGINES: engine_spec = optarg; break;
        case OPT_WORKLOADS: workload_spec = optarg; break;
        case OPT_KEYS:
            if (parse_u64(optarg, &cfg.keys) != 0 || cfg.keys == 0)
                goto bad_value;
            set_keys = 1;
            break;
        case OPT_KEY_SIZE:
            if (parse_u64(optarg, &u) != 0 || u < BENCH_KEY_MIN_SIZE || u > 4096)
                goto bad_value;
            cfg.key_size = (size_t)u;
            break;
        case OPT_VALUE_SIZE:
            if (parse_u64(optarg, &u) != 0 || u < 1 || u > ((uint64_t)16 << 20))
                goto bad_value;
            cfg.value_size = (size_t)u;
            break;
        case OPT_THREADS:
            if (parse_threads(optarg, &cfg) != 0)
                return 2;
            break;
        case OPT_DURATION:
            if (parse_double(optarg, &d) != 0 || !(d > 0))
                goto bad_value;
            cfg.duration_s = d;
            set_duration = 1;
            break;
        case OPT_OPS:
            if (parse_u64(optarg, &cfg.ops) != 0 || cfg.ops == 0)
                goto bad_value;
            break;
        case OPT_WARMUP:
            if (parse_double(optarg, &d) != 0 || d < 0)
                goto bad_value;
            cfg.warmup_s = d;
            set_warmup = 1;
            break;
        case OPT_WARMUP_OPS:
            if (parse_u64(optarg, &cfg.warmup_ops) != 0)
                goto bad_value;
            break;
        case OPT_REPS:
            if (parse_u64(optarg, &u) != 0 || u < 1 || u > 1000)
                goto bad_value;
            cfg.reps = (int)u;
            set_reps = 1;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, &cfg.seed) != 0 || cfg.seed > (uint64_t)INT64_MAX)
                goto bad_value;
            break;
        case OPT_SYNC:
            if (bench_sync_parse(optarg, &cfg.sync_mode) != 0)
                goto bad_value;
            break;
        case OPT_DIR: cfg.dir = optarg; break;
        case OPT_KEEP: cfg.keep_data = true; break;
        case OPT_JSON: json_path = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "table") == 0)
                format = FMT_TABLE;
            else if (strcmp(optarg, "json") == 0)
                format = FMT_JSON;
            else if (strcmp(optarg, "gbench") == 0)
                format = FMT_GBENCH;
            else if (strcmp(optarg, "csv") == 0)
                format = FMT_CSV;
            else if (strcmp(optarg, "markdown") == 0 || strcmp(optarg, "md") == 0)
                format = FMT_MARKDOWN;
            else
                goto bad_value;
            break;
        case OPT_QUICK: quick = 1; break;
        case OPT_SAMPLE:
            if (parse_u64(optarg, &u) != 0 || u < 1 || u > (1u << 20) || (u & (u - 1)))
                goto bad_value;
            cfg.sample_every = (unsigned)u;
            break;
        case OPT_LOAD_ORDER:
            if (strcmp(optarg, "key") == 0 || strcmp(optarg, "seq") == 0)
                cfg.load_order = BENCH_LOAD_SEQ;
            else if (strcmp(optarg, "random") == 0)
                cfg.load_order = BENCH_LOAD_RANDOM;
            else
                goto bad_value;
            break;
        case OPT_DIST: {
            bench_dist_kind k;
            if (bench_dist_parse(optarg, &k) != 0)
                goto bad_value;
            cfg.distribution = (int)k;
            break;
        }
        case OPT_INJECT:
            if (parse_double(optarg, &d) != 0 || d < 0 || d > 1000)
                goto bad_value;
            cfg.inject_slowdown_pct = d;
            break;
        case OPT_NO_PROGRESS: no_progress = 1; break;
        case OPT_MEASURE:
            if (strcmp(optarg, "counts") == 0)
                counts = 1;
            else if (strcmp(optarg, "wallclock") == 0)
                counts = 0;
            else
                goto bad_value;
            break;
        case '?':
        default:
            if (optopt)
                cli_error("bench: unknown or incomplete option '%s'",
                          argv[optind - 1] ? argv[optind - 1] : "?");
            else
                cli_error("bench: unknown option '%s'",
                          argv[optind - 1] ? argv[optind - 1] : "?");
            fprintf(stderr, "Run 'lightning bench --help' for the options.\n");
            return 2;
        bad_value:
            cli_error("bench: bad value '%s' for --%s", optarg ? optarg : "",
                      long_opts[o - OPT_ENGINES].name);
            return 2;
        }
    }
    if (optind < argc) {
        cli_error("bench: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (quick) {
        if (!set_keys)
            cfg.keys = 10000;
        if (!set_duration)
            cfg.duration_s = 0.2;
        if (!set_warmup)
            cfg.warmup_s = 0.05;
        if (!set_reps)
            cfg.reps = 1;
    }
    if (counts) {
        if (set_duration || set_warmup) {
            cli_error("bench: --measure counts runs a fixed number of operations: use "
                      "--ops and --warmup-ops, not --duration or --warmup");
            return 2;
        }
        if (!cfg.ops)
            cfg.ops = BENCH_COUNTS_DEFAULT_OPS;
        if (!cfg.warmup_ops)
            cfg.warmup_ops = cfg.ops;
        if (!set_reps)
            cfg.reps = 1;
        cfg.measure = BENCH_MEASURE_COUNTS;
    }
    if (parse_engines(engine_spec, engines, &cfg.n_engines) != 0)
        return 2;
    int nw = bench_workloads_select(workload_spec, workloads, MAX_WORKLOADS, err,
                                    sizeof err);
    if (nw < 0) {
        cli_error("bench: %s", err);
        return 2;
    }
    cfg.engines = engines;
    cfg.workloads = workloads;
    cfg.n_workloads = (size_t)nw;
    cfg.log = stderr;
    cfg.progress = !no_progress && isatty(STDERR_FILENO);
    if (bench_run_config_check(&cfg, err, sizeof err) != 0) {
        cli_error("bench: %s", err);
        return 2;
    }
    if (counts && !bench_counts_active()) {
        /* Arguments are valid: run this same command under callgrind. */
        int code = 2;
        if (bench_counts_exec(argc, argv, &code, err, sizeof err) != 0) {
            cli_error("bench: %s", err);
            return 2;
        }
        return code;
    }
    if (counts) {
        if (bench_counts_hooks_init(&cctx, &chooks, err, sizeof err) != 0) {
            cli_error("bench: %s", err);
            return 2;
        }
        cfg.hooks = &chooks;
        cfg.progress = false; /* nothing to watch, and it is not counted anyway */
    }

    if (json_path && cli_output_ok("bench: --json", json_path))
        return 2;
    /* Ctrl-C removes the run's data, and --dir itself when this run made
     * it (its topmost missing ancestor, so nothing it did not create). */
    char made_dir[4096] = "";
    if (cfg.dir && !cfg.keep_data && topmost_missing(cfg.dir, made_dir, sizeof made_dir) == 0 &&
        made_dir[0])
        perf_cleanup_add_dir(made_dir);
    cfg.on_run_dir = on_run_dir;

    bench_report rep;
    int rc = bench_run(&cfg, &rep);
    if (made_dir[0]) {
        /* The run removed its own directory; an empty --dir it made goes too. */
        rmdir_chain(made_dir, cfg.dir);
        perf_cleanup_forget(made_dir);
    }
    if (rc == 2) {
        cli_error("bench: the run could not start (see the notes above)");
        bench_report_free(&rep);
        return 2;
    }
    int out_rc = 0;
    if (counts && cctx.failed) {
        cli_error("bench: counts could not be read: %s", cctx.err);
        out_rc = 2;
    }
    if (json_path) {
        FILE *f = fopen(json_path, "w");
        if (!f || bench_report_write_json(f, &rep, argc, argv) != 0) {
            cli_error("bench: cannot write %s: %s", json_path, strerror(errno));
            out_rc = 2;
        }
        if (f && fclose(f) != 0 && !out_rc) {
            cli_error("bench: cannot write %s: %s", json_path, strerror(errno));
            out_rc = 2;
        }
    }
    int wrc;
    switch (format) {
    case FMT_JSON: wrc = bench_report_write_json(stdout, &rep, argc, argv); break;
    case FMT_GBENCH: wrc = bench_report_write_gbench(stdout, &rep); break;
    case FMT_CSV: wrc = bench_report_write_csv(stdout, &rep); break;
    case FMT_MARKDOWN: wrc = bench_report_write_markdown(stdout, &rep); break;
    default: wrc = bench_report_write_table(stdout, &rep); break;
    }
    if (wrc != 0) {
        cli_error("bench: cannot write results to stdout");
        out_rc = 2;
    }
    bench_report_free(&rep);
    return out_rc ? out_rc : rc;
}
