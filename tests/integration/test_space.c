/*
 * test_space.c — disk space under sustained overwrites and on a full disk.
 *
 *  - Writers are held to the space limit (space.h): random overwrites at
 *    full speed, with the cleaner slowed (each of its syncs takes 2 ms, as
 *    on a slow disk or a starved core), never take the directory past
 *    space_amp_target x live + 2 segments, and no put waits longer than the
 *    cap on one wait. The code before backpressure reached 10x live here
 *    within a second (11.4x with the cleaner unhindered).
 *  - On a full disk (fallocate fails with ENOSPC, injected) puts fail with
 *    LDB_NOSPACE, and ldb_compact still frees space: the cleaner rotates into
 *    the preallocated spare segment (the code before it failed with
 *    LDB_NOSPACE there). The cleaned files are unmapped at once
 *    (no "(deleted)" mapping of the database is left in /proc/self/maps),
 *    and once there is room again writes go on and nothing was lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/io.h"
#include "lightningdb.h"
#include "testutil.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* What the directory occupies on its file system (allocated blocks). */
static uint64_t dir_blocks(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    uint64_t total = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) total += (uint64_t)st.st_blocks * 512u;
    }
    closedir(d);
    return total;
}

static size_t key_of(unsigned i, char *k) { return (size_t)snprintf(k, 16, "key%06u", i); }

static pthread_t main_thread;

/* The cleaner (any thread but the test's) syncs slowly. */
static int slow_cleaner_hook(io_op op, const char *path, void *arg)
{
    (void)arg;
    (void)path;
    if (op == IO_OP_SYNC && !pthread_equal(pthread_self(), main_thread)) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

#define OW_KEYS 2000u
#define OW_VLEN 1000u
#define OW_SEG (256u << 10)

static void test_overwrites_stay_within_limit(void **state)
{
    const char *dir = *state;
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NONE;
    o.segment_size = OW_SEG;
    o.checkpoint_on_close = 0;
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    static uint8_t v[OW_VLEN];
    char k[16];
    for (unsigned i = 0; i < OW_KEYS; i++) {
        memset(v, (int)i, sizeof v);
        assert_int_equal(ldb_put(db, k, key_of(i, k), v, sizeof v), LDB_OK);
    }
    main_thread = pthread_self();
    io_set_fault_hook(slow_cleaner_hook, NULL);
    tu_rng r = {42};
    uint64_t max_disk = 0, puts = 0;
    double worst_put = 0, t0 = now_s();
    ldb_stats st;
    while (now_s() - t0 < 2.0) {
        for (int j = 0; j < 200; j++) {
            unsigned i = (unsigned)tu_rand_below(&r, OW_KEYS);
            memset(v, (int)(i + puts), sizeof v);
            double a = now_s();
            assert_int_equal(ldb_put(db, k, key_of(i, k), v, sizeof v), LDB_OK);
            double d = now_s() - a;
            if (d > worst_put) worst_put = d;
            puts++;
        }
        uint64_t disk = dir_blocks(dir);
        if (disk > max_disk) max_disk = disk;
    }
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    io_set_fault_hook(NULL, NULL);
    double live = (double)st.live_bytes;
    double bound = o.space_amp_target * live + 2.0 * OW_SEG;
    fprintf(stderr,
            "# %llu overwrites in 2 s (%.1fx the data), disk max %.2f MiB = %.2fx live (bound "
            "%.2f MiB), worst put %.1f ms, %llu delayed, %llu waited, %.2f s held back, %llu "
            "segments cleaned\n",
            (unsigned long long)puts, (double)puts / OW_KEYS, (double)max_disk / 1048576.0,
            (double)max_disk / live, bound / 1048576.0, worst_put * 1e3,
            (unsigned long long)st.write_delays, (unsigned long long)st.write_waits,
            st.write_delay_seconds, (unsigned long long)st.cleaned_segments);
    assert_true(st.cleaned_segments > 0);
    if ((double)max_disk > bound)
        fail_msg("disk reached %.2f MiB, over %.1f x live + 2 segments (%.2f MiB)",
                 (double)max_disk / 1048576.0, o.space_amp_target, bound / 1048576.0);
    if (worst_put > 1.5) fail_msg("a put waited %.2f s for the cleaner", worst_put);
    /* Every key holds its newest value. */
    for (unsigned i = 0; i < OW_KEYS; i++) {
        size_t vl;
        uint8_t got[OW_VLEN];
        assert_int_equal(ldb_get(db, k, key_of(i, k), got, sizeof got, &vl), LDB_OK);
        assert_int_equal(vl, OW_VLEN);
    }
    assert_int_equal(ldb_close(db), LDB_OK);
}

/* ---- a full disk ------------------------------------------------------- */

/* A full file system of segment-sized blocks: while it is full, an
 * allocation succeeds only in the room a removed segment left. */
static _Atomic int disk_full, freed_segments;

static int full_disk_hook(io_op op, const char *path, void *arg)
{
    (void)arg;
    size_t l = path ? strlen(path) : 0;
    if (op == IO_OP_UNLINK && l > 4 && strcmp(path + l - 4, ".log") == 0)
        atomic_fetch_add(&freed_segments, 1);
    if (op == IO_OP_ALLOCATE && atomic_load(&disk_full)) {
        if (atomic_load(&freed_segments) > 0) {
            atomic_fetch_sub(&freed_segments, 1);
            return 0;
        }
        return -ENOSPC;
    }
    return 0;
}

/* Mappings of files under dir that are already unlinked. */
static int deleted_mappings(const char *dir)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, dir) && strstr(line, "(deleted)")) n++;
    fclose(f);
    return n;
}

static void test_full_disk_cleaner_still_runs(void **state)
{
    const char *dir = *state;
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NORMAL;
    o.segment_size = 64u << 10;
    o.cleaner = 0; /* cleaning happens where the test says */
    o.checkpoint_bytes = 0;
    o.checkpoint_on_close = 0;
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    static uint8_t v[500];
    char k[16];
    for (int round = 0; round < 4; round++)
        for (unsigned i = 0; i < 300; i++) {
            memset(v, (int)(i + round), sizeof v);
            assert_int_equal(ldb_put(db, k, key_of(i, k), v, sizeof v), LDB_OK);
        }
    assert_int_equal(ldb_close(db), LDB_OK); /* reopening makes the spare */
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    char spare[4200];
    snprintf(spare, sizeof spare, "%s/SPARE", dir);
    assert_true(tu_exists(spare));
    io_set_fault_hook(full_disk_hook, NULL);
    atomic_store(&disk_full, 1);
    /* Fill the active segment until the next one cannot be allocated. */
    int rc = LDB_OK;
    unsigned extra = 0;
    for (; extra < 1000 && rc == LDB_OK; extra++) {
        char xk[16];
        int n = snprintf(xk, sizeof xk, "x%05u", extra);
        rc = ldb_put(db, xk, (size_t)n, v, sizeof v);
    }
    assert_int_equal(rc, LDB_NOSPACE);
    ldb_stats before, after;
    assert_int_equal(ldb_get_stats(db, &before), LDB_OK);
    rc = ldb_compact(db);
    if (rc != LDB_OK) fail_msg("ldb_compact on a full disk: %s (%s)", ldb_strerror(rc), ldb_last_error());
    assert_int_equal(ldb_get_stats(db, &after), LDB_OK);
    assert_true(after.cleaned_segments > before.cleaned_segments);
    int pinned = deleted_mappings(dir);
    if (pinned) fail_msg("%d cleaned segment mappings still pinned after compaction", pinned);
    /* Room again: writes go on, the spare comes back, nothing was lost. */
    atomic_store(&disk_full, 0);
    io_set_fault_hook(NULL, NULL);
    memset(v, 0x77, sizeof v);
    assert_int_equal(ldb_put(db, "after", 5, v, sizeof v), LDB_OK);
    assert_int_equal(ldb_compact(db), LDB_OK);
    assert_true(tu_exists(spare));
    assert_int_equal(ldb_close(db), LDB_OK);
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    for (unsigned i = 0; i < 300; i++) {
        size_t vl;
        uint8_t got[500];
        assert_int_equal(ldb_get(db, k, key_of(i, k), got, sizeof got, &vl), LDB_OK);
        memset(v, (int)(i + 3), sizeof v);
        assert_memory_equal(got, v, sizeof v);
    }
    for (unsigned i = 0; i + 1 < extra; i++) {
        char xk[16];
        int n = snprintf(xk, sizeof xk, "x%05u", i);
        size_t vl;
        uint8_t got[500];
        assert_int_equal(ldb_get(db, xk, (size_t)n, got, sizeof got, &vl), LDB_OK);
    }
    assert_int_equal(ldb_close(db), LDB_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_overwrites_stay_within_limit, tu_setup_fast_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_full_disk_cleaner_still_runs, tu_setup_fast_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
