/*
 * test_clock_step.c — a step of the wall clock must not stop the NORMAL
 * syncer or the maintenance thread.
 *
 * This program interposes clock_gettime (the engine is linked statically
 * into it, so its calls bind here): after clock_shift_s is set, the
 * CLOCK_REALTIME it reports runs an hour ahead of the kernel's. A thread
 * that computes a timed-wait deadline from CLOCK_REALTIME and waits on a
 * realtime condition variable then sleeps an hour past its interval — what
 * a backward step of the real clock does to such a thread (measured on the
 * old code: 0 of 30 commits synced in 3 s). With monotonic deadlines and
 * condition variables, neither notices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lightningdb.h"
#include "testutil.h"

static _Atomic long clock_shift_s;

int clock_gettime(clockid_t clk, struct timespec *ts)
{
    long r = syscall(SYS_clock_gettime, clk, ts);
    if (r != 0) return -1;
    if (clk == CLOCK_REALTIME) ts->tv_sec += atomic_load(&clock_shift_s);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_background_threads_survive_clock_step(void **state)
{
    const char *dir = *state;
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NORMAL;
    o.sync_interval_ms = 10;
    o.cleaner = 0;
    o.checkpoint_bytes = 64u << 10; /* the maintenance thread checkpoints */
    o.checkpoint_on_close = 0;
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    static uint8_t v[8192];
    memset(v, 0x33, sizeof v);
    assert_int_equal(ldb_put(db, "warm", 4, v, 16), LDB_OK);
    sleep_ms(50); /* both threads are inside a timed wait now */
    atomic_store(&clock_shift_s, 3600);
    ldb_stats before, after;
    assert_int_equal(ldb_get_stats(db, &before), LDB_OK);
    for (int i = 0; i < 30; i++) {
        char k[16];
        int n = snprintf(k, sizeof k, "k%02d", i);
        assert_int_equal(ldb_put(db, k, (size_t)n, v, sizeof v), LDB_OK);
        sleep_ms(20);
    }
    assert_int_equal(ldb_get_stats(db, &after), LDB_OK);
    atomic_store(&clock_shift_s, 0);
    assert_int_equal(ldb_close(db), LDB_OK);
    uint64_t syncs = after.syncs - before.syncs, ckpts = after.checkpoints - before.checkpoints;
    fprintf(stderr, "# after the clock step: %llu syncs, %llu checkpoints in 0.6 s\n",
            (unsigned long long)syncs, (unsigned long long)ckpts);
    /* 30 commits 20 ms apart with a 10 ms interval: about one sync each. */
    if (syncs < 10) fail_msg("the NORMAL syncer stopped after a clock step: %llu syncs", (unsigned long long)syncs);
    /* 240 KiB written with a checkpoint every 64 KiB. */
    if (ckpts < 1) fail_msg("the maintenance thread stopped after a clock step: no checkpoint");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_background_threads_survive_clock_step, tu_setup_fast_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
