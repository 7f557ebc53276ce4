/*
 * tests/unit/test_bench_schedwait.c — bench/schedwait.h: the run-queue wait
 * that ops_per_sec_uncontended takes out of a single-threaded repetition.
 * - a thread that shares its CPU with a busy thread accumulates wait of the
 *   order of the time the other thread ran, and wall minus wait is close to
 *   its own CPU time (what the metric relies on);
 * - a stopped process accumulates none: the freeze injector's SIGSTOP (an
 *   off-CPU cost) stays in the metric.
 * Skipped where the kernel has no /proc/thread-self/schedstat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/schedwait.h"

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static atomic_int stop;

static void *busy(void *arg)
{
    cpu_set_t *set = arg;
    pthread_setaffinity_np(pthread_self(), sizeof *set, set);
    volatile uint64_t x = 0;
    while (!atomic_load(&stop))
        x++;
    return NULL;
}

static void spin_cpu_ns(uint64_t ns)
{
    uint64_t t0 = bench_thread_cpu_ns();
    volatile uint64_t x = 0;
    while (bench_thread_cpu_ns() - t0 < ns)
        x++;
}

static void test_wait_under_a_neighbour(void **state)
{
    (void)state;
    uint64_t w0;
    if (bench_sched_wait_ns(&w0)) {
        print_message("# no /proc/thread-self/schedstat here: skipped\n");
        skip();
    }
    cpu_set_t old, one;
    assert_int_equal(sched_getaffinity(0, sizeof old, &old), 0);
    int cpu = -1;
    for (int i = 0; i < CPU_SETSIZE && cpu < 0; i++)
        if (CPU_ISSET(i, &old))
            cpu = i;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof one, &one), 0);
    atomic_store(&stop, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, busy, &one), 0);
    uint64_t a = mono_ns(), c0 = bench_thread_cpu_ns();
    assert_int_equal(bench_sched_wait_ns(&w0), 0);
    spin_cpu_ns(200000000u); /* 0.2 s of CPU: about 0.4 s of wall */
    uint64_t w1;
    assert_int_equal(bench_sched_wait_ns(&w1), 0);
    uint64_t wall = mono_ns() - a, cpu_ns = bench_thread_cpu_ns() - c0;
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    pthread_setaffinity_np(pthread_self(), sizeof old, &old);
    double wait = (double)(w1 - w0);
    print_message("# neighbour on the same CPU: wall %.3f s, cpu %.3f s, wait %.3f s\n",
                  wall * 1e-9, cpu_ns * 1e-9, wait * 1e-9);
    /* Sharing one CPU with a busy thread: at least a quarter of the wall
     * time waiting (half, on an idle machine) ... */
    assert_true(wait > 0.25 * (double)wall);
    /* ... and wall - wait within 30% of the CPU time the loop used. */
    double unc = (double)wall - wait;
    assert_true(unc > 0.7 * (double)cpu_ns && unc < 1.3 * (double)cpu_ns);
}

static void test_stopped_time_is_not_wait(void **state)
{
    (void)state;
    uint64_t w;
    if (bench_sched_wait_ns(&w))
        skip();
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        /* The child sleeps 0.1 s, is stopped for 0.3 s by the parent in
         * the middle of a 0.5 s sleep, and reports its wait. */
        uint64_t w0 = 0, w1 = 0;
        bench_sched_wait_ns(&w0);
        uint64_t a = mono_ns();
        while (mono_ns() - a < 500000000u) {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
        bench_sched_wait_ns(&w1);
        uint64_t d = w1 - w0;
        ssize_t n = write(fd[1], &d, sizeof d);
        _exit(n == sizeof d ? 0 : 1);
    }
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    kill(p, SIGSTOP);
    ts.tv_nsec = 300000000;
    nanosleep(&ts, NULL);
    kill(p, SIGCONT);
    uint64_t d = 0;
    assert_int_equal(read(fd[0], &d, sizeof d), (ssize_t)sizeof d);
    int st;
    waitpid(p, &st, 0);
    close(fd[0]);
    close(fd[1]);
    print_message("# stopped 0.3 s: run-queue wait %.4f s\n", d * 1e-9);
    assert_true(d < 100000000u); /* far below the 0.3 s it was stopped */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_under_a_neighbour),
        cmocka_unit_test(test_stopped_time_is_not_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
