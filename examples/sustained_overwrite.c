/*
 * examples/sustained_overwrite.c — sustained random overwrites, second by
 * second, through the bench engine adapters (lightning, rocksdb, lmdb, ...).
 *
 * What it answers: does an engine's background work (lightning's segment
 * cleaner, RocksDB's compaction) stall writers once the data set has been
 * overwritten many times over, and does disk use stay bounded? It loads N
 * keys, then overwrites uniformly random keys (one put per commit, sync
 * NONE) for D seconds, and prints per engine: throughput of every
 * one-second window, the median and worst window, and the disk use (bytes
 * of the files under the data directory) at the end of each window.
 *
 *   build/examples/sustained_overwrite [--engines lightning,rocksdb]
 *       [--keys 100000] [--value-size 1024] [--seconds 30] [--dir /tmp]
 *
 * Single-threaded by design: the question is stalls, not scaling.
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/engine.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t du_total;
static int du_add(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)p;
    (void)f;
    if (type == FTW_F) du_total += (uint64_t)st->st_blocks * 512u;
    return 0;
}

static uint64_t disk_bytes(const char *dir)
{
    du_total = 0;
    nftw(dir, du_add, 16, FTW_PHYS);
    return du_total;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void make_key(char *k, size_t ksz, uint64_t i)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%020llu", (unsigned long long)i);
    memcpy(k, tmp + 20 - (ksz < 20 ? ksz : 20), ksz < 20 ? ksz : 20);
}

static int run_engine(const char *name, uint64_t keys, size_t vsize, int seconds,
                      const char *base)
{
    const bench_engine *eng = bench_engine_find(name);
    if (!eng) {
        fprintf(stderr, "unknown engine %s\n", name);
        return 2;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sustained-%s-%d", base, name, (int)getpid());
    bench_engine_config cfg = {.dir = dir, .sync_mode = BENCH_SYNC_NONE,
                               .sync_interval_ms = 100, .key_count = keys,
                               .key_size = 16, .value_size = vsize, .threads = 1};
    void *h = NULL, *t = NULL;
    char desc[512] = "";
    int rc = 2;
    double *win = calloc((size_t)seconds, sizeof *win);
    uint64_t *disk = calloc((size_t)seconds, sizeof *disk);
    char *val = malloc(vsize);
    if (!win || !disk || !val) goto out;
    if (eng->open(&cfg, &h, desc, sizeof desc) != BENCH_OK) {
        fprintf(stderr, "%s: open: %s\n", name, bench_engine_error());
        goto out;
    }
    if (eng->thread_init(h, &t) != BENCH_OK) {
        fprintf(stderr, "%s: thread_init: %s\n", name, bench_engine_error());
        goto out;
    }
    char k[16];
    memset(k, '0', sizeof k);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    double t0 = now_s();
    for (uint64_t i = 0; i < keys; i++) {
        for (size_t j = 0; j < vsize; j += 8) {
            uint64_t r = rng_next(&s);
            memcpy(val + j, &r, vsize - j < 8 ? vsize - j : 8);
        }
        make_key(k, sizeof k, i);
        if (eng->put(t, k, sizeof k, val, vsize) != BENCH_OK) {
            fprintf(stderr, "%s: load put: %s\n", name, bench_engine_error());
            goto out;
        }
    }
    double load_s = now_s() - t0;
    uint64_t live = keys * (16 + vsize);
    printf("%s: %s\n  loaded %llu keys x %zu B in %.2f s; live data %.1f MiB; disk %.1f MiB\n",
           name, desc, (unsigned long long)keys, vsize, load_s, (double)live / 1048576.0,
           (double)disk_bytes(dir) / 1048576.0);
    uint64_t written = 0;
    double start = now_s(), next = start + 1.0;
    int w = 0;
    uint64_t in_win = 0;
    while (w < seconds) {
        for (int b = 0; b < 64; b++) {
            uint64_t r = rng_next(&s);
            make_key(k, sizeof k, r % keys);
            memcpy(val, &r, sizeof r); /* a new value each time */
            if (eng->put(t, k, sizeof k, val, vsize) != BENCH_OK) {
                fprintf(stderr, "%s: put: %s\n", name, bench_engine_error());
                goto out;
            }
        }
        in_win += 64;
        double tn = now_s();
        if (tn >= next) {
            win[w] = (double)in_win / (tn - (next - 1.0));
            disk[w] = disk_bytes(dir);
            written += in_win;
            in_win = 0;
            w++;
            next = tn + 1.0;
        }
    }
    printf("  overwrote %.1f MiB (%.1f x the data set) in %d s\n  per second (K puts/s, disk MiB):",
           (double)written * (16.0 + (double)vsize) / 1048576.0, (double)written / (double)keys,
           seconds);
    uint64_t max_disk = 0;
    for (int i = 0; i < seconds; i++) {
        printf("%s%.0f/%.0f", i % 10 ? " " : "\n   ", win[i] / 1e3, (double)disk[i] / 1048576.0);
        if (disk[i] > max_disk) max_disk = disk[i];
    }
    double *sorted = malloc((size_t)seconds * sizeof *sorted);
    if (!sorted) goto out;
    memcpy(sorted, win, (size_t)seconds * sizeof *sorted);
    qsort(sorted, (size_t)seconds, sizeof *sorted, cmp_double);
    printf("\n  windows: median %.0f K/s, worst %.0f K/s (%.2f x median), best %.0f K/s;"
           " disk max %.1f MiB = %.2f x live\n\n",
           sorted[seconds / 2] / 1e3, sorted[0] / 1e3, sorted[0] / sorted[seconds / 2],
           sorted[seconds - 1] / 1e3, (double)max_disk / 1048576.0,
           (double)max_disk / (double)live);
    free(sorted);
    rc = 0;
out:
    if (t) eng->thread_fini(h, t);
    if (h) eng->close(h);
    if (dir[0]) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    free(win);
    free(disk);
    free(val);
    return rc;
}

int main(int argc, char **argv)
{
    const char *engines = "lightning,rocksdb", *base = "/tmp";
    uint64_t keys = 100000;
    size_t vsize = 1024;
    int seconds = 30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) goto usage;
        if (!strcmp(a, "--engines")) engines = v;
        else if (!strcmp(a, "--keys")) keys = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--value-size")) vsize = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--seconds")) seconds = atoi(v);
        else if (!strcmp(a, "--dir")) base = v;
        else goto usage;
        i++;
    }
    if (keys == 0 || vsize < 8 || seconds < 2 || seconds > 3600) goto usage;
    char list[512];
    snprintf(list, sizeof list, "%s", engines);
    int rc = 0;
    for (char *save = NULL, *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        int r = run_engine(e, keys, vsize, seconds, base);
        if (r) rc = r;
    }
    return rc;
usage:
    fprintf(stderr, "usage: %s [--engines LIST] [--keys N] [--value-size B (>= 8)] "
                    "[--seconds 2..3600] [--dir DIR]\n", argv[0]);
    return 2;
}
