/*
 * tests/unit/test_perf_counts.c — deterministic counts in `lightning perf`
 * (perf/countcmp.h, the gate of comparison.h, suite keys measure /
 * gate_on / counts_threshold, results.c's handling of counts results):
 * - a single repetition per side is judged: +2% instructions is a
 *   REGRESSION in check and in ab, +0.3% is "same" (under the 1%
 *   threshold), -2% an improvement;
 * - gate_on: a wall-clock regression with unchanged counts fails
 *   wallclock/either and passes counts; a counts regression with unchanged
 *   wall clock fails counts/either and passes wallclock; the option wins
 *   over the suite's setting;
 * - every count row carries the wall-clock verdict of its benchmark;
 * - a counts-mode bench result records only counts (its wall-clock figures
 *   ran under valgrind), a wall-clock one is unchanged;
 * - suite errors: bad measure, gate_on, threshold; duration in counts.
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

#include "perf/compare.h"
#include "perf/countcmp.h"
#include "perf/results.h"

static const char *suite_text =
    "[suite]\nname = t\n%s"
    "[read]\nworkload = read-random\nmin_ratio = 0.90\n"
    "[read-counts]\nworkload = read-random\nmeasure = counts\nops = 2000\n";

static void load(perf_suite *s, const char *extra)
{
    char text[1024];
    perf_error e;
    snprintf(text, sizeof text, suite_text, extra);
    if (perf_suite_parse_string(text, "t.ini", s, &e))
        fail_msg("%s", e.msg);
}

static void push(perf_sample_set *set, const char *metric, const char *unit, int dir,
                 double value, int rep)
{
    perf_sample s;
    memset(&s, 0, sizeof s);
    snprintf(s.benchmark, sizeof s.benchmark, "read-random");
    snprintf(s.engine, sizeof s.engine, "lightning");
    snprintf(s.sync_mode, sizeof s.sync_mode, "NONE");
    s.threads = 1;
    s.repetition = rep;
    s.proc = rep;
    snprintf(s.metric, sizeof s.metric, "%s", metric);
    snprintf(s.unit, sizeof s.unit, "%s", unit);
    s.direction = dir;
    s.value = value;
    assert_int_equal(perf_samples_push(set, &s), 0);
}

/* 12 wall-clock repetitions around ops (spread +-1%) and one count rep. */
static void side(perf_sample_set *set, double ops, double ir, double cyc)
{
    for (int i = 0; i < 12; i++)
        push(set, "ops_per_sec", "ops/s", 1, ops * (1 + 0.01 * ((i % 5) - 2) / 2.0), i);
    push(set, "ir_per_op", "instr/op", -1, ir, 0);
    push(set, "est_cycles_per_op", "cycles/op", -1, cyc, 0);
}

static const perf_cmp_row *row(const perf_comparison *c, const char *metric)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->rows[i].metric, metric))
            return &c->rows[i];
    fail_msg("no %s row", metric);
    return NULL;
}

static int compare(const perf_suite *s, double ops_h, double ir_h, int mode, int gate_on,
                   perf_comparison *c)
{
    perf_sample_set b = {0}, h = {0};
    side(&b, 1e6, 1000, 2000);
    side(&h, ops_h, ir_h, 2000 * ir_h / 1000);
    perf_cmp_opts o;
    perf_cmp_opts_default(&o);
    o.mode = mode;
    o.gate_on = gate_on;
    o.estimate_power = 0;
    perf_error e;
    memset(c, 0, sizeof *c);
    assert_int_equal(perf_compare(s, &b, &h, &o, c, &e), 0);
    perf_samples_free(&b);
    perf_samples_free(&h);
    return c->exit_code;
}

static void test_suite_keys(void **state)
{
    (void)state;
    perf_suite s;
    load(&s, "gate_on = counts\ncounts_threshold = 0.01\n");
    const perf_suite_bench *b = perf_suite_find(&s, "read-counts");
    assert_non_null(b);
    assert_int_equal(b->counts, 1);
    assert_int_equal(perf_suite_reps(&s, b), 1);
    assert_int_equal(b->nmetrics, 2);
    assert_string_equal(b->metrics[0], "ir_per_op");
    assert_string_equal(b->metrics[1], "est_cycles_per_op");
    assert_int_equal(s.gate_on, PERF_GATE_COUNTS);
    assert_true(fabs(perf_suite_counts_threshold(&s, b) - 0.01) < 1e-12);
    assert_int_equal(perf_suite_find(&s, "read")->counts, 0);
    perf_suite_free(&s);
    load(&s, "");
    assert_int_equal(s.gate_on, PERF_GATE_EITHER);
    assert_true(fabs(s.counts_threshold - PERF_COUNTS_THRESHOLD) < 1e-12);
    perf_suite_free(&s);

    static const char *const bad[] = {
        "[suite]\ngate_on = sometimes\n[a]\nworkload = a\n",
        "[suite]\ncounts_threshold = 0.9\n[a]\nworkload = a\n",
        "[a]\nworkload = a\nmeasure = cycles\n",
        "[a]\nworkload = a\nmeasure = counts\nduration = 1\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        perf_error e;
        assert_int_equal(perf_suite_parse_string(bad[i], "bad.ini", &s, &e), -1);
        assert_non_null(strstr(e.msg, "bad.ini"));
    }
}

static void test_count_verdicts(void **state)
{
    (void)state;
    perf_suite s;
    load(&s, "");
    perf_comparison c;
    for (int mode = PERF_CMP_CHECK; mode <= PERF_CMP_AB; mode++) {
        assert_int_equal(compare(&s, 1e6, 1020, mode, -1, &c), PERF_EXIT_REGRESSION);
        const perf_cmp_row *r = row(&c, "ir_per_op");
        assert_int_equal(r->v.verdict, PERF_VERDICT_REGRESSION);
        assert_int_equal(r->v.n_base, 1);
        assert_true(fabs(r->v.g - 1000.0 / 1020) < 1e-12);
        assert_true(isnan(r->v.p_value));
        assert_non_null(strstr(r->note, "wall clock: ops_per_sec"));
        assert_int_equal(row(&c, "ops_per_sec")->v.verdict, PERF_VERDICT_SAME);
        perf_comparison_free(&c);

        assert_int_equal(compare(&s, 1e6, 1003, mode, -1, &c), PERF_EXIT_PASS);
        assert_int_equal(row(&c, "ir_per_op")->v.verdict, PERF_VERDICT_SAME);
        perf_comparison_free(&c);
        compare(&s, 1e6, 980, mode, -1, &c);
        assert_int_equal(row(&c, "est_cycles_per_op")->v.verdict, PERF_VERDICT_IMPROVEMENT);
        perf_comparison_free(&c);
    }
    perf_suite_free(&s);
}

static void test_gate_modes(void **state)
{
    (void)state;
    perf_suite s;
    load(&s, "");
    perf_comparison c;
    /* wall clock 20% slower, counts unchanged (an I/O-side regression) */
    assert_int_equal(compare(&s, 0.8e6, 1000, PERF_CMP_CHECK, PERF_GATE_EITHER, &c), 1);
    assert_int_equal(row(&c, "ops_per_sec")->v.verdict, PERF_VERDICT_REGRESSION);
    perf_comparison_free(&c);
    assert_int_equal(compare(&s, 0.8e6, 1000, PERF_CMP_CHECK, PERF_GATE_WALLCLOCK, &c), 1);
    perf_comparison_free(&c);
    assert_int_equal(compare(&s, 0.8e6, 1000, PERF_CMP_CHECK, PERF_GATE_COUNTS, &c), 0);
    assert_int_equal(c.ungated, 1);
    assert_int_equal(c.regressions, 0);
    perf_comparison_free(&c);
    /* counts 2% worse, wall clock unchanged (hidden by the check's 10%) */
    assert_int_equal(compare(&s, 1e6, 1020, PERF_CMP_CHECK, PERF_GATE_WALLCLOCK, &c), 0);
    assert_int_equal(c.ungated, 2);
    perf_comparison_free(&c);
    assert_int_equal(compare(&s, 1e6, 1020, PERF_CMP_CHECK, PERF_GATE_COUNTS, &c), 1);
    perf_comparison_free(&c);
    perf_suite_free(&s);
    /* the suite's setting applies when the option is absent (-1) */
    load(&s, "gate_on = wallclock\n");
    assert_int_equal(compare(&s, 1e6, 1020, PERF_CMP_AB, -1, &c), 0);
    perf_comparison_free(&c);
    assert_int_equal(compare(&s, 1e6, 1020, PERF_CMP_AB, PERF_GATE_COUNTS, &c), 1);
    perf_comparison_free(&c);
    perf_suite_free(&s);
    assert_int_equal(perf_gate_on_parse("counts"), PERF_GATE_COUNTS);
    assert_int_equal(perf_gate_on_parse("wallclock"), PERF_GATE_WALLCLOCK);
    assert_int_equal(perf_gate_on_parse("either"), PERF_GATE_EITHER);
    assert_int_equal(perf_gate_on_parse("both"), -1);
}

static void test_counts_results(void **state)
{
    (void)state;
    static const char *doc =
        "{\"schema\":\"lightning-bench/1\",\"machine\":{\"machine_id\":\"m1\"},"
        "\"results\":["
        "{\"benchmark\":\"read-random\",\"engine\":\"lightning\",\"sync_mode\":\"none\","
        "\"threads\":1,\"repetition\":1,\"ops\":2000,\"seconds\":0.5,\"ops_per_sec\":4000,"
        "\"latency_ns\":{\"p50\":100,\"p90\":null,\"p95\":null,\"p99\":300,\"p999\":null,"
        "\"max\":null},\"cpu_user_s\":0.5,\"cpu_sys_s\":0.0,"
        "\"params\":{\"measure\":\"counts\"},\"metrics\":{"
        "\"puts_per_sec\":{\"value\":5,\"unit\":\"puts/s\",\"direction\":\"higher\"},"
        "\"ir_per_op\":{\"value\":1250.5,\"unit\":\"instr/op\",\"direction\":\"lower\"},"
        "\"est_cycles_per_op\":{\"value\":2000,\"unit\":\"cycles/op\",\"direction\":\"lower\"}}},"
        "{\"benchmark\":\"read-random\",\"engine\":\"lightning\",\"sync_mode\":\"none\","
        "\"threads\":1,\"repetition\":1,\"ops\":2000,\"seconds\":0.001,\"ops_per_sec\":2e6,"
        "\"params\":{\"seed\":42}}]}";
    perf_bench_doc d;
    perf_error e;
    assert_int_equal(perf_results_parse_text(doc, strlen(doc), "t.json", &d, &e), 0);
    int ir = 0, cyc = 0, ops = 0;
    for (size_t i = 0; i < d.samples.n; i++) {
        const perf_sample *p = &d.samples.v[i];
        if (!strcmp(p->metric, "ir_per_op"))
            ir++;
        else if (!strcmp(p->metric, "est_cycles_per_op"))
            cyc++;
        else if (!strcmp(p->metric, "ops_per_sec"))
            ops++, assert_true(p->value == 2e6); /* the wall-clock result only */
        else
            fail_msg("counts result recorded %s", p->metric);
    }
    assert_int_equal(ir, 1);
    assert_int_equal(cyc, 1);
    assert_int_equal(ops, 1);
    perf_bench_doc_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_keys),
        cmocka_unit_test(test_count_verdicts),
        cmocka_unit_test(test_gate_modes),
        cmocka_unit_test(test_counts_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
