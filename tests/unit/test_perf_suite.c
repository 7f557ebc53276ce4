/*
 * tests/unit/test_perf_suite.c — suite files (src/perf/suite.c): the
 * shipped bench/suite.ini and bench/quick.ini carry the seed document's
 * tolerances; defaults, matching, per-metric overrides, selection, and the
 * error messages for bad files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perf/metrics.h"
#include "perf/suite.h"

/* bench/<name> of this source tree: the tests run from the repository root
 * (make test), or LIGHTNING_BIN's tree when run from elsewhere. */
static void suite_path(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "bench/%s", name);
    if (access(out, R_OK) == 0)
        return;
    const char *bin = getenv("LIGHTNING_BIN");
    if (bin) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", bin);
        for (int up = 0; up < 2; up++) {
            char *s = strrchr(tmp, '/');
            if (s)
                *s = '\0';
        }
        snprintf(out, cap, "%s/bench/%s", tmp, name);
    }
}

static void assert_near(double got, double want)
{
    if (!(fabs(got - want) < 1e-9))
        fail_msg("got %.12g, want %.12g", got, want);
}

static void test_default_suite_has_seed_tolerances(void **state)
{
    (void)state;
    char p[1200];
    perf_suite s;
    perf_error e;
    suite_path("suite.ini", p, sizeof p);
    if (perf_suite_load(p, &s, &e))
        fail_msg("%s", e.msg);
    assert_string_equal(s.name, "default");
    assert_non_null(s.text);
    /* read and write >= 90%: g may drop to 0.90 */
    const char *higher[][2] = {{"read", "0.10"}, {"write", "0.10"}, {"mixed", "0.15"},
                               {"concurrent", "0.15"}, {"txn", "0.20"}, {"error-path", "0.10"}};
    for (size_t i = 0; i < sizeof higher / sizeof higher[0]; i++) {
        const perf_suite_bench *b = perf_suite_find(&s, higher[i][0]);
        if (!b)
            fail_msg("default suite lacks [%s]", higher[i][0]);
        assert_true(perf_suite_gates_metric(b, "ops_per_sec"));
        assert_near(perf_suite_tolerance(&s, b, "ops_per_sec", PERF_HIGHER_IS_BETTER),
                    atof(higher[i][1]));
    }
    /* memory <= 105%: g = base/head >= 1/1.05 */
    const perf_suite_bench *m = perf_suite_find(&s, "memory");
    assert_non_null(m);
    assert_true(perf_suite_gates_metric(m, "bytes_per_key"));
    assert_near(perf_suite_tolerance(&s, m, "bytes_per_key", PERF_LOWER_IS_BETTER),
                1.0 - 1.0 / 1.05);
    /* error path: at most 10% slower than the happy path, read-random */
    const perf_suite_bench *ep = perf_suite_find(&s, "error-path");
    assert_string_equal(ep->overhead_of, "read-random");
    assert_near(ep->max_overhead, 0.10);
    /* every seed category is there */
    const char *cats[] = {"read", "write", "mixed", "concurrent", "txn", "error-path", "memory",
                          "startup", "cache"};
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
        if (!perf_suite_find(&s, cats[i]))
            fail_msg("default suite lacks [%s]", cats[i]);
    /* concurrent covers 4, 8 and 16 threads */
    const perf_suite_bench *cc = perf_suite_find(&s, "concurrent");
    assert_true(perf_suite_bench_matches(&s, cc, "concurrent-8", "lightning", 8));
    assert_true(perf_suite_bench_matches(&s, cc, "concurrent-16", "lightning", 16));
    assert_false(perf_suite_bench_matches(&s, cc, "mixed", "lightning", 1));
    perf_suite_free(&s);
}

static void test_quick_suite(void **state)
{
    (void)state;
    char p[1200];
    perf_suite s;
    perf_error e;
    suite_path("quick.ini", p, sizeof p);
    if (perf_suite_load(p, &s, &e))
        fail_msg("%s", e.msg);
    assert_string_equal(s.name, "quick");
    assert_true(s.rounds >= 10);
    /* >= 5 repetitions per side: fewer can never be significant at 0.01 */
    assert_true(s.reps >= 5);
    const perf_suite_bench *r = perf_suite_find(&s, "read");
    assert_non_null(r);
    assert_string_equal(r->workload, "read-random");
    assert_near(perf_suite_tolerance(&s, r, "ops_per_sec", 1), 0.10);
    perf_suite_free(&s);
}

static const char *good =
    "; comment\n"
    "[suite]\n"
    "name = demo\n"
    "engines = lightning,null\n"
    "keys = 5000\n"
    "reps = 7\n"
    "min_ratio = 0.95\n"
    "latency_p99_ns.direction = lower\n"
    "[read]\n"
    "workload = read-random\n"
    "metrics = ops_per_sec, latency_p99_ns\n"
    "latency_p99_ns.max_ratio = 1.25\n"
    "[conc]\n"
    "workload = concurrent\n"
    "match = concurrent-*\n"
    "threads = 8\n"
    "engines = lightning\n"
    "reps = 3\n"
    "gate = no\n"
    "[custom]\n"
    "workload = startup\n"
    "metrics = weird_score\n"
    "weird_score.direction = higher\n";

static void test_parse_defaults_and_overrides(void **state)
{
    (void)state;
    perf_suite s;
    perf_error e;
    if (perf_suite_parse_string(good, "good.ini", &s, &e))
        fail_msg("%s", e.msg);
    assert_string_equal(s.name, "demo");
    assert_int_equal((int)s.nb, 3);
    assert_string_equal(s.sync, "none"); /* default */
    assert_int_equal((int)s.rounds, 20);  /* default */
    const perf_suite_bench *r = perf_suite_find(&s, "read");
    assert_string_equal(r->match, "read-random"); /* defaults to the workload */
    assert_int_equal((int)r->nmetrics, 2);
    assert_int_equal((int)perf_suite_reps(&s, r), 7);
    assert_int_equal((int)perf_suite_keys(&s, r), 5000);
    assert_near(perf_suite_tolerance(&s, r, "ops_per_sec", 1), 0.05);  /* suite min_ratio */
    assert_near(perf_suite_tolerance(&s, r, "latency_p99_ns", -1), 1.0 - 1.0 / 1.25);
    assert_int_equal(perf_suite_direction(&s, r, "latency_p99_ns", 1), -1); /* suite-wide */
    const perf_suite_bench *c = perf_suite_find(&s, "conc");
    assert_int_equal(c->gate, 0);
    assert_int_equal((int)perf_suite_reps(&s, c), 3);
    assert_true(perf_suite_bench_matches(&s, c, "concurrent-8", "lightning", 8));
    assert_false(perf_suite_bench_matches(&s, c, "concurrent-4", "lightning", 4));
    assert_false(perf_suite_bench_matches(&s, c, "concurrent-8", "null", 8));
    const perf_suite_bench *x = perf_suite_find(&s, "custom");
    assert_int_equal(perf_suite_direction(&s, x, "weird_score", -1), 1);
    assert_true(perf_suite_bench_matches(&s, r, "read-random", "null", 1)); /* suite engines */
    /* selection keeps suite order and names unknown benchmarks */
    assert_int_equal(perf_suite_select(&s, "custom,read", &e), 0);
    assert_int_equal((int)s.nb, 2);
    assert_string_equal(s.b[0].name, "read");
    assert_int_equal(perf_suite_select(&s, "nope", &e), -1);
    assert_non_null(strstr(e.msg, "unknown benchmark 'nope'"));
    assert_non_null(strstr(e.msg, "read, custom"));
    perf_suite_free(&s);
}

static void expect_error(const char *text, const char *want)
{
    perf_suite s;
    perf_error e;
    if (perf_suite_parse_string(text, "bad.ini", &s, &e) == 0) {
        perf_suite_free(&s);
        fail_msg("accepted a bad suite; wanted an error containing '%s'", want);
    }
    if (!strstr(e.msg, want))
        fail_msg("error '%s' does not contain '%s'", e.msg, want);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[suite]\nname = x\n[read]\nworkload = r\nfrob = 1\n",
                 "bad.ini line 5: unknown key 'frob' in [read]");
    expect_error("[suite]\nname = x\nbogus = 1\n[a]\n", "unknown key 'bogus' in [suite]");
    expect_error("[suite]\nname = x\n", "defines no benchmarks");
    expect_error("[a]\nmin_ratio = 1.5\n", "would demand a speed-up");
    expect_error("[a]\nmax_ratio = 0.9\n", "maximum ratio must be in [1, 100]");
    expect_error("[a]\nmin_ratio = abc\n", "positive number");
    expect_error("[a]\nworkload = r\n[a]\nworkload = s\n", "'workload' is set twice in [a]");
    expect_error("[a]\nworkload = r\n[b]\nworkload = s\n[a]\nmetrics = x\n", "appears twice");
    expect_error("[a]\ndescription = one\n   two\n", "set twice");
    expect_error("[suite]\nsync = sometimes\n[a]\n", "sync must be none, normal or full");
    expect_error("[suite]\nreps = 0\n[a]\n", "reps must be an integer in [1, 10000]");
    expect_error("[a]\nx.direction = sideways\n", "must be 'higher' or 'lower'");
    expect_error("[a]\ngate = maybe\n", "gate must be yes or no");
    expect_error("[a b]\nworkload = x\n", "section name [a b]");
    expect_error("not ini at all\n", "line 1");
    /* suite validation: what bench would do with a section is checked at
     * load, with file:line */
    expect_error("[suite]\nname = x\n[r]\nworkload = nosuchworkload\n",
                 "bad.ini line 4: [r] workload = nosuchworkload");
    expect_error("[nosuchworkload]\nmin_ratio = 0.9\n", "bad.ini line 1: [nosuchworkload]");
    expect_error("[r]\nworkload = read-random\nmatch = nomatch-*\n",
                 "bad.ini line 3: [r] match = nomatch-*: 'nomatch-*' matches none");
    expect_error("[r]\nworkload = read-random\n\nmetrics = ops_per_sec, nosuchmetric\n",
                 "bad.ini line 4: [r] unknown metric 'nosuchmetric'");
    /* a new metric is fine once its direction is declared */
    perf_suite ok;
    perf_error oe;
    if (perf_suite_parse_string("[r]\nworkload = read\nmatch = read-*\nmetrics = my_score\n"
                                "my_score.direction = higher\n",
                                "ok.ini", &ok, &oe))
        fail_msg("%s", oe.msg);
    perf_suite_free(&ok);
    perf_suite s;
    perf_error e;
    assert_int_equal(perf_suite_load("/nonexistent/suite.ini", &s, &e), -1);
    assert_non_null(strstr(e.msg, "cannot open suite file /nonexistent/suite.ini"));
}

static void test_metric_catalog(void **state)
{
    (void)state;
    char unit[16];
    int dir;
    perf_metric_kind k;
    perf_metric_infer("ops_per_sec", unit, sizeof unit, &dir, &k);
    assert_int_equal(dir, PERF_HIGHER_IS_BETTER);
    assert_int_equal(k, PERF_KIND_THROUGHPUT);
    perf_metric_infer("latency_p99_ns", unit, sizeof unit, &dir, &k);
    assert_int_equal(dir, PERF_LOWER_IS_BETTER);
    assert_string_equal(unit, "ns");
    perf_metric_infer("bytes_per_key", unit, sizeof unit, &dir, &k);
    assert_int_equal(dir, PERF_LOWER_IS_BETTER);
    assert_int_equal(k, PERF_KIND_MEMORY);
    /* instruction counts are first-class: lower is better, kind "count" */
    perf_metric_infer("instructions_per_op", unit, sizeof unit, &dir, &k);
    assert_int_equal(dir, PERF_LOWER_IS_BETTER);
    assert_int_equal(k, PERF_KIND_COUNT);
    perf_metric_infer("l1_misses_per_op", unit, sizeof unit, &dir, &k);
    assert_int_equal(k, PERF_KIND_COUNT);
    /* names the catalog does not know: by suffix */
    perf_metric_infer("load_keys_per_sec", unit, sizeof unit, &dir, &k);
    assert_int_equal(dir, PERF_HIGHER_IS_BETTER);
    perf_metric_infer("open_and_load_s", unit, sizeof unit, &dir, &k);
    assert_int_equal(dir, PERF_LOWER_IS_BETTER);
    assert_int_equal(k, PERF_KIND_TIME);
    assert_int_equal(perf_metric_kind_parse("count"), PERF_KIND_COUNT);
    assert_int_equal(perf_metric_kind_parse("nonsense"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_suite_has_seed_tolerances),
        cmocka_unit_test(test_quick_suite),
        cmocka_unit_test(test_parse_defaults_and_overrides),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_metric_catalog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
