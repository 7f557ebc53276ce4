/*
 * test_contract.c — engine/contract.h: LDB_ASSERT stops a build with
 * LDB_CHECKS (the sanitizer builds) at a broken invariant, naming it, and
 * costs nothing elsewhere; a counter going below zero is such an invariant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/contract.h"
#include "engine/db.h"

/* Runs fn in a child with stderr captured; returns its wait status. */
static int in_child(void (*fn)(void), char *err, size_t cap)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        fn();
        _exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(p[0], err + n, cap - 1 - n)) > 0) n += (size_t)r;
    err[n] = 0;
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void underflow(void)
{
    _Atomic uint64_t c = 1;
    db_ctr_sub(&c, 2);
}

static void holds(void)
{
    _Atomic uint64_t c = 2;
    db_ctr_sub(&c, 2);
    LDB_ASSERT(atomic_load(&c) == 0);
}

static void test_broken_invariant_stops_checked_builds(void **state)
{
    (void)state;
    char err[1024];
    int st = in_child(underflow, err, sizeof err);
#ifdef LDB_CHECKS
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    assert_non_null(strstr(err, "invariant broken at"));
    assert_non_null(strstr(err, "db.h"));
#else
    /* Release build: compiled out, the counter simply wraps. */
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_string_equal(err, "");
#endif
}

static void test_kept_invariant_is_silent(void **state)
{
    (void)state;
    char err[1024];
    int st = in_child(holds, err, sizeof err);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_string_equal(err, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broken_invariant_stops_checked_builds),
        cmocka_unit_test(test_kept_invariant_is_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
