/*
 * tests/unit/test_bench_counts.c — `lightning bench --measure counts`
 * (bench/counts.h): deterministic per-op counts under callgrind.
 *
 * What is checked, and why it would catch a broken counts mode:
 * - the callgrind file parser reads the events/summary lines (trailing
 *   zeros omitted, as callgrind writes them) and refuses a file without
 *   cache events;
 * - repeatability: the same command twice gives the same counts within
 *   COUNTS_TOL (0.1%; counts mode fixes the engine's hash seed, and the
 *   measured spread is <= 0.0002% in Ir, 0.025% in D1 misses — without
 *   the fixed seed it was up to 0.25%, mostly write-random);
 * - setup is not counted: doubling the preloaded keys, or the op count,
 *   leaves the per-op counts where they were (counting the load would add
 *   thousands of instructions per op);
 * - an injected 2% slowdown raises est. cycles by 1-4% and instructions by
 *   at least 3 per busy-loop iteration recorded in the params;
 * - usage: --duration with counts, an unknown --measure, a missing
 *   valgrind and a sanitizer build (valgrind cannot run one; the three
 *   tests above skip there) are clear errors (exit 2).
 * Needs $LIGHTNING_BIN (make test) and valgrind; ~15 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/counts.h"

#define COUNTS_TOL 0.001

static const char *bin(void)
{
    const char *b = getenv("LIGHTNING_BIN");
    return b && b[0] ? b : NULL;
}

/* Runs a shell command; returns its exit code, stdout in *out (owned). */
static int run_cmd(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (n + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* One counts run of lightning; returns the parsed document (owned). */
static json_t *counts_run(const char *workloads, unsigned keys, unsigned ops, double inject)
{
    char cmd[1024], *out;
    snprintf(cmd, sizeof cmd,
             "%s bench --engines lightning --workloads %s --keys %u --ops %u "
             "--measure counts --inject-slowdown %g --format json --no-progress 2>/dev/null",
             bin(), workloads, keys, ops, inject);
    int code = run_cmd(cmd, &out);
    if (code != 0)
        free(out);
    assert_int_equal(code, 0);
    json_error_t je;
    json_t *doc = json_loads(out, 0, &je);
    free(out);
    assert_non_null(doc);
    return doc;
}

static const json_t *result(const json_t *doc, const char *bench)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "results"), i, r)
        if (!strcmp(json_string_value(json_object_get(r, "benchmark")), bench))
            return r;
    fail_msg("no result for %s", bench);
    return NULL;
}

static double metric(const json_t *doc, const char *bench, const char *name)
{
    const json_t *m = json_object_get(json_object_get(result(doc, bench), "metrics"), name);
    assert_non_null(m);
    double v = json_number_value(json_object_get(m, "value"));
    assert_true(v > 0);
    return v;
}

static void assert_close(double a, double b, double tol, const char *what)
{
    double rel = fabs(a - b) / b;
    if (rel > tol)
        fail_msg("%s: %.3f vs %.3f differ by %.3f%% (> %.2f%%)", what, a, b, rel * 100,
                 tol * 100);
}

/* ---- tests --------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_parse(void **state)
{
    (void)state;
    char path[] = "/tmp/counts_parse_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    bench_counts c;
    char err[256];
    write_file(path, "version: 1\ncreator: callgrind-3.19.0\n"
                     "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\n"
                     "summary: 1000 300 200 7 40 10 5 20\n"
                     "fn=(1) f\n0 1000 300 200 7 40 10 5 20\n"
                     "totals: 999 300 200 7 40 10 5 20\n");
    assert_int_equal(bench_counts_parse_file(path, &c, err, sizeof err), 0);
    assert_int_equal(c.ir, 1000); /* summary wins over totals */
    assert_int_equal(c.i1_misses, 7);
    assert_int_equal(c.d1_misses, 50);
    assert_int_equal(c.ll_misses, 25); /* ILmr + DLmr, DLmw omitted = 0 */
    assert_true(fabs(bench_counts_est_cycles(&c) - (1000 + 10 * 50 + 100 * 25)) < 1e-9);

    write_file(path, "events: Ir\nsummary: 1000\n");
    assert_int_equal(bench_counts_parse_file(path, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "cache-sim"));
    write_file(path, "events: Ir D1mr DLmr\nsummary: 10 x\n");
    assert_int_equal(bench_counts_parse_file(path, &c, err, sizeof err), -1);
    unlink(path);
    assert_int_equal(bench_counts_parse_file(path, &c, err, sizeof err), -1);
}

static void test_repeatable(void **state)
{
    (void)state;
    if (!bin() || BENCH_COUNTS_SANITIZED)
        skip(); /* valgrind cannot run a sanitizer build: test_usage checks the refusal */
    json_t *a = counts_run("read-random,txn", 2000, 1000, 0);
    json_t *b = counts_run("read-random,txn", 2000, 1000, 0);
    static const char *const names[] = {"ir_per_op", "d1_misses_per_op", "ll_misses_per_op",
                                        "est_cycles_per_op"};
    for (int w = 0; w < 2; w++) {
        const char *bench = w ? "txn" : "read-random";
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char what[96];
            snprintf(what, sizeof what, "%s %s run to run", bench, names[i]);
            /* misses are small numbers: allow 0.1% or 0.01 per op */
            double x = metric(a, bench, names[i]), y = metric(b, bench, names[i]);
            if (fabs(x - y) > 0.01)
                assert_close(x, y, COUNTS_TOL, what);
        }
        const json_t *p = json_object_get(result(a, bench), "params");
        assert_string_equal(json_string_value(json_object_get(p, "measure")), "counts");
        assert_non_null(strstr(json_string_value(json_object_get(p, "cache_model")),
                               "LL " BENCH_COUNTS_LL));
    }
    json_decref(a);
    json_decref(b);
}

static void test_setup_not_counted(void **state)
{
    (void)state;
    if (!bin() || BENCH_COUNTS_SANITIZED)
        skip(); /* valgrind cannot run a sanitizer build: test_usage checks the refusal */
    json_t *small = counts_run("read-random", 2000, 1000, 0);
    json_t *big = counts_run("read-random", 4000, 1000, 0);
    json_t *more = counts_run("read-random", 2000, 2000, 0);
    double s = metric(small, "read-random", "ir_per_op");
    /* a bigger tree costs a few more instructions per get, never thousands */
    assert_close(metric(big, "read-random", "ir_per_op"), s, 0.05, "2x keys");
    assert_close(metric(more, "read-random", "ir_per_op"), s, 0.03, "2x ops");
    /* and a load (~3000 instructions a key) is nowhere near: */
    assert_true(s < 3000);
    json_decref(small);
    json_decref(big);
    json_decref(more);
}

static void test_injected_slowdown(void **state)
{
    (void)state;
    if (!bin() || BENCH_COUNTS_SANITIZED)
        skip(); /* valgrind cannot run a sanitizer build: test_usage checks the refusal */
    json_t *a = counts_run("read-random,write-random", 2000, 1000, 0);
    json_t *b = counts_run("read-random,write-random", 2000, 1000, 2);
    for (int w = 0; w < 2; w++) {
        const char *bench = w ? "write-random" : "read-random";
        double ea = metric(a, bench, "est_cycles_per_op"), eb = metric(b, bench, "est_cycles_per_op");
        double ia = metric(a, bench, "ir_per_op"), ib = metric(b, bench, "ir_per_op");
        const json_t *p = json_object_get(result(b, bench), "params");
        json_int_t iters = json_integer_value(json_object_get(p, "slowdown_spin_iters"));
        assert_true(iters >= 1);
        assert_true(fabs(json_number_value(json_object_get(p, "inject_slowdown_pct")) - 2) < 1e-9);
        double up = eb / ea - 1;
        if (up < 0.01 || up > 0.04)
            fail_msg("%s: 2%% injected raised est. cycles by %.2f%%", bench, up * 100);
        /* every op spins `iters` iterations of 3 instructions, plus a call */
        assert_true(ib - ia >= 3.0 * (double)iters * 0.99);
        assert_true(ib - ia <= 3.0 * (double)iters + 40);
        assert_null(json_object_get(json_object_get(result(a, bench), "params"),
                                    "slowdown_spin_iters"));
    }
    json_decref(a);
    json_decref(b);
}

static void test_usage(void **state)
{
    (void)state;
    if (!bin())
        skip();
    char cmd[1024], *out;
    snprintf(cmd, sizeof cmd, "%s bench --measure counts --duration 1 2>&1", bin());
    assert_int_equal(run_cmd(cmd, &out), 2);
    assert_non_null(strstr(out, "--ops"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s bench --measure cycles 2>&1", bin());
    assert_int_equal(run_cmd(cmd, &out), 2);
    free(out);
    snprintf(cmd, sizeof cmd,
             "env PATH=/nonexistent %s bench --engines null --workloads read-random "
             "--keys 100 --measure counts 2>&1",
             bin());
    assert_int_equal(run_cmd(cmd, &out), 2);
    assert_non_null(strstr(out, "valgrind"));
    free(out);
    /* A sanitizer build refuses counts mode up front, valgrind or not. */
    snprintf(cmd, sizeof cmd,
             "%s bench --engines null --workloads read-random --keys 100 --ops 100 "
             "--measure counts 2>&1",
             bin());
    int code = run_cmd(cmd, &out);
    if (BENCH_COUNTS_SANITIZED) {
        assert_int_equal(code, 2);
        assert_non_null(strstr(out, "sanitizer build"));
    } else {
        assert_null(strstr(out, "sanitizer build"));
    }
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_repeatable),
        cmocka_unit_test(test_setup_not_counted),
        cmocka_unit_test(test_injected_slowdown),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
