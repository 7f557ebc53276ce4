/*
 * tests/unit/test_perf_compare.c — the decisions of `check` and `ab`
 * (src/perf/compare.c) on seeded synthetic samples:
 * - check holds each benchmark to the suite's tolerance (a 5% drop passes
 *   a 90% gate, a 20% drop fails it), ab to the noise floor (the same 5%
 *   drop is a regression);
 * - lower-is-better metrics (memory <= 105%), the error-path overhead rule,
 *   improvements never counted as regressions;
 * - too few repetitions give INCONCLUSIVE with the repetitions that would
 *   decide; missing series are errors, new ones are not;
 * - calibrated floors are used and rescaled by sqrt(k/n);
 * - the exit-code tally and the machine/sync mismatch check.
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
#include "perf/metrics.h"
#include "perf/rng.h"
#include "perf/stats.h"

static const char *suite_text =
    "[suite]\nname = t\n"
    "[read]\nworkload = read\nmatch = read-*\nmin_ratio = 0.90\n"
    "[txn]\nworkload = txn\nmin_ratio = 0.80\n"
    "[memory]\nworkload = memory\nmetrics = bytes_per_key\nmax_ratio = 1.05\n"
    "[error-path]\nworkload = error-path\nmatch = error-*\nmin_ratio = 0.90\n"
    "overhead_of = read-random\nmax_overhead = 0.10\n";

static void load(perf_suite *s)
{
    perf_error e;
    if (perf_suite_parse_string(suite_text, "t.ini", s, &e))
        fail_msg("%s", e.msg);
}

/* n log-normal repetitions (CV cv) of a metric with median `level`;
 * throughput-like when dir > 0. */
static void add(perf_sample_set *set, const char *bench, const char *metric, int dir,
                double level, double cv, size_t n, uint64_t seed)
{
    perf_rng r;
    perf_rng_seed(&r, seed);
    double *t = malloc(n * sizeof *t);
    assert_non_null(t);
    assert_int_equal(perf_sim_times(&r, n, 1.0, cv, 0.0, 1.3, 2.0, t), 0);
    for (size_t i = 0; i < n; i++) {
        perf_sample s;
        memset(&s, 0, sizeof s);
        snprintf(s.benchmark, sizeof s.benchmark, "%s", bench);
        snprintf(s.engine, sizeof s.engine, "lightning");
        snprintf(s.sync_mode, sizeof s.sync_mode, "NONE");
        s.threads = 1;
        s.repetition = (int)i;
        s.proc = (int)i;
        snprintf(s.metric, sizeof s.metric, "%s", metric);
        snprintf(s.unit, sizeof s.unit, dir > 0 ? "ops/s" : "B/key");
        s.direction = dir;
        s.value = cv > 0 ? (dir > 0 ? level / t[i] : level * t[i]) : level;
        assert_int_equal(perf_samples_push(set, &s), 0);
    }
    free(t);
}

static const perf_cmp_row *row(const perf_comparison *c, const char *bench, int overhead)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->rows[i].benchmark, bench) && c->rows[i].overhead == overhead)
            return &c->rows[i];
    fail_msg("no row for %s", bench);
    return NULL;
}

static int compare(perf_cmp_mode mode, const perf_sample_set *b, const perf_sample_set *h,
                   perf_comparison *c, const char *only)
{
    perf_suite s;
    perf_error e;
    load(&s);
    if (only)
        assert_int_equal(perf_suite_select(&s, only, &e), 0);
    perf_cmp_opts o;
    perf_cmp_opts_default(&o);
    o.mode = mode;
    o.estimate_power = 0;
    memset(c, 0, sizeof *c);
    int rc = perf_compare(&s, b, h, &o, c, &e);
    perf_suite_free(&s);
    return rc;
}

/* The heart of check vs ab: the same 5% throughput drop, measured with 1%
 * noise over 20 repetitions, passes check's 90% gate and fails ab. */
static void test_check_tolerance_vs_ab_floor(void **state)
{
    (void)state;
    perf_sample_set b = {0}, h = {0};
    add(&b, "read-random", "ops_per_sec", 1, 1e6, 0.01, 20, 1);
    add(&h, "read-random", "ops_per_sec", 1, 0.95e6, 0.01, 20, 2);
    perf_comparison c;
    assert_int_equal(compare(PERF_CMP_CHECK, &b, &h, &c, "read"), 0);
    const perf_cmp_row *r = row(&c, "read-random", 0);
    assert_int_equal(r->status, PERF_ROW_OK);
    assert_int_equal(r->v.verdict, PERF_VERDICT_SAME);
    assert_true(fabs(r->tolerance - 0.10) < 1e-12);
    assert_true(fabs(r->v.limit - 0.90) < 1e-12);
    assert_true(r->v.g > 0.93 && r->v.g < 0.97);
    assert_int_equal(c.exit_code, PERF_EXIT_PASS);
    perf_comparison_free(&c);

    assert_int_equal(compare(PERF_CMP_AB, &b, &h, &c, "read"), 0);
    r = row(&c, "read-random", 0);
    assert_int_equal(r->v.verdict, PERF_VERDICT_REGRESSION);
    assert_true(fabs(r->tolerance) < 1e-12);
    assert_true(fabs(r->v.limit - (1 - PERF_DEFAULT_NOISE_FLOOR)) < 1e-12);
    assert_int_equal(c.exit_code, PERF_EXIT_REGRESSION);
    perf_comparison_free(&c);
    perf_samples_free(&b);
    perf_samples_free(&h);
}

static void test_check_regression_and_improvement(void **state)
{
    (void)state;
    perf_sample_set b = {0}, h = {0};
    add(&b, "read-random", "ops_per_sec", 1, 1e6, 0.03, 20, 3);
    add(&h, "read-random", "ops_per_sec", 1, 0.80e6, 0.03, 20, 4); /* 20% slower */
    add(&b, "read-seq", "ops_per_sec", 1, 1e6, 0.03, 20, 5);
    add(&h, "read-seq", "ops_per_sec", 1, 1.30e6, 0.03, 20, 6); /* 30% faster */
    add(&b, "txn", "ops_per_sec", 1, 1e5, 0.03, 20, 7);
    add(&h, "txn", "ops_per_sec", 1, 0.85e5, 0.03, 20, 8); /* 15% slower, gate is 80% */
    perf_comparison c;
    assert_int_equal(compare(PERF_CMP_CHECK, &b, &h, &c, "read,txn"), 0);
    assert_int_equal(row(&c, "read-random", 0)->v.verdict, PERF_VERDICT_REGRESSION);
    assert_int_equal(row(&c, "read-seq", 0)->v.verdict, PERF_VERDICT_IMPROVEMENT);
    assert_int_equal(row(&c, "txn", 0)->v.verdict, PERF_VERDICT_SAME);
    assert_int_equal((int)c.regressions, 1);
    assert_int_equal((int)c.improvements, 1);
    assert_int_equal(c.exit_code, PERF_EXIT_REGRESSION);
    perf_comparison_free(&c);
    perf_samples_free(&b);
    perf_samples_free(&h);
}

static void test_inconclusive_says_how_many_reps(void **state)
{
    (void)state;
    perf_sample_set b = {0}, h = {0};
    /* 15% slower than a 90% gate, but only 3 repetitions per side: no
     * exact test at 3 v 3 can reach p < 0.01. */
    add(&b, "read-random", "ops_per_sec", 1, 1e6, 0.02, 3, 9);
    add(&h, "read-random", "ops_per_sec", 1, 0.85e6, 0.02, 3, 10);
    perf_comparison c;
    assert_int_equal(compare(PERF_CMP_CHECK, &b, &h, &c, "read"), 0);
    const perf_cmp_row *r = row(&c, "read-random", 0);
    assert_int_equal(r->v.verdict, PERF_VERDICT_INCONCLUSIVE);
    assert_true(r->v.reps_needed >= 5);
    assert_int_equal(c.exit_code, PERF_EXIT_INCONCLUSIVE);
    assert_true(c.reps_needed == r->v.reps_needed);
    perf_comparison_free(&c);
    perf_samples_free(&b);
    perf_samples_free(&h);
}

static void test_memory_lower_is_better(void **state)
{
    (void)state;
    perf_sample_set b = {0}, h = {0}, h2 = {0};
    /* deterministic figures, as bytes per key are */
    add(&b, "memory", "bytes_per_key", -1, 1000, 0, 6, 0);
    add(&h, "memory", "bytes_per_key", -1, 1080, 0, 6, 0);  /* 108%: over 105% */
    add(&h2, "memory", "bytes_per_key", -1, 1030, 0, 6, 0); /* 103%: allowed */
    perf_comparison c;
    assert_int_equal(compare(PERF_CMP_CHECK, &b, &h, &c, "memory"), 0);
    const perf_cmp_row *r = row(&c, "memory", 0);
    assert_int_equal(r->direction, PERF_LOWER_IS_BETTER);
    assert_int_equal(r->v.verdict, PERF_VERDICT_REGRESSION);
    assert_true(fabs(r->v.g - 1000.0 / 1080.0) < 1e-12);
    perf_comparison_free(&c);
    assert_int_equal(compare(PERF_CMP_CHECK, &b, &h2, &c, "memory"), 0);
    assert_int_equal(row(&c, "memory", 0)->v.verdict, PERF_VERDICT_SAME);
    assert_int_equal(c.exit_code, PERF_EXIT_PASS);
    perf_comparison_free(&c);
    /* and less memory is an improvement, never a regression */
    assert_int_equal(compare(PERF_CMP_CHECK, &h, &b, &c, "memory"), 0);
    assert_int_equal(row(&c, "memory", 0)->v.verdict, PERF_VERDICT_IMPROVEMENT);
    perf_comparison_free(&c);
    perf_samples_free(&b);
    perf_samples_free(&h);
    perf_samples_free(&h2);
}

static void test_error_path_overhead(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        /* error path 20% slower, 3% slower, 2x faster than the happy path */
        static const double ratio[3] = {0.80, 0.97, 2.0};
        static const perf_verdict want[3] = {PERF_VERDICT_REGRESSION, PERF_VERDICT_SAME,
                                             PERF_VERDICT_SAME};
        perf_sample_set b = {0}, h = {0};
        add(&b, "read-random", "ops_per_sec", 1, 1e6, 0.01, 20, 11);
        add(&b, "error-absent", "ops_per_sec", 1, 1e6 * ratio[k], 0.01, 20, 12);
        add(&h, "read-random", "ops_per_sec", 1, 1e6, 0.01, 20, 13);
        add(&h, "error-absent", "ops_per_sec", 1, 1e6 * ratio[k], 0.01, 20, 14);
        perf_comparison c;
        assert_int_equal(compare(PERF_CMP_CHECK, &b, &h, &c, "read,error-path"), 0);
        const perf_cmp_row *r = row(&c, "error-absent", 1);
        assert_string_equal(r->versus, "read-random");
        if (r->v.verdict != want[k])
            fail_msg("overhead case %d: verdict %s", k, perf_verdict_name(r->v.verdict));
        assert_true(fabs(r->v.limit - 1.0 / 1.1) < 1e-9);
        /* the error path did not change against its own baseline */
        assert_int_equal(row(&c, "error-absent", 0)->v.verdict, PERF_VERDICT_SAME);
        assert_int_equal(c.exit_code, k == 0 ? PERF_EXIT_REGRESSION : PERF_EXIT_PASS);
        perf_comparison_free(&c);
        /* ab judges the change, not the build: no overhead rows */
        assert_int_equal(compare(PERF_CMP_AB, &b, &h, &c, "read,error-path"), 0);
        for (size_t i = 0; i < c.n; i++)
            assert_int_equal(c.rows[i].overhead, 0);
        perf_comparison_free(&c);
        perf_samples_free(&b);
        perf_samples_free(&h);
    }
}

static void test_missing_and_new_series(void **state)
{
    (void)state;
    perf_sample_set b = {0}, h = {0};
    add(&b, "read-random", "ops_per_sec", 1, 1e6, 0.01, 10, 15);
    add(&b, "read-seq", "ops_per_sec", 1, 1e6, 0.01, 10, 16);
    add(&h, "read-random", "ops_per_sec", 1, 1e6, 0.01, 10, 17);
    add(&h, "read-hotkey", "ops_per_sec", 1, 1e6, 0.01, 10, 18);
    perf_comparison c;
    assert_int_equal(compare(PERF_CMP_CHECK, &b, &h, &c, "read"), 0);
    assert_int_equal(row(&c, "read-seq", 0)->status, PERF_ROW_NO_HEAD);
    assert_int_equal(row(&c, "read-hotkey", 0)->status, PERF_ROW_NO_BASE);
    assert_int_equal((int)c.errors, 1);
    assert_int_equal(c.exit_code, PERF_EXIT_ERROR);
    perf_comparison_free(&c);
    /* a gated section that matches nothing at all is an error, not a pass */
    assert_int_equal(compare(PERF_CMP_CHECK, &b, &h, &c, "txn"), 0);
    assert_int_equal((int)c.n, 1);
    assert_int_equal(c.rows[0].status, PERF_ROW_NO_HEAD);
    assert_non_null(strstr(c.rows[0].note, "no result matches [txn]"));
    assert_int_equal(c.exit_code, PERF_EXIT_ERROR);
    perf_comparison_free(&c);
    perf_samples_free(&b);
    perf_samples_free(&h);
}

static int fixed_floor(void *ctx, const perf_series_key *k, double *raw, int *kreps)
{
    (void)k;
    *raw = *(double *)ctx;
    *kreps = 20;
    return 1;
}

static void test_calibrated_floor(void **state)
{
    (void)state;
    /* floor_for_n: sqrt(k/n) rescaling, clamped */
    assert_true(fabs(perf_floor_for_n(0.04, 20, 20, 0.02) - 0.04) < 1e-12);
    assert_true(fabs(perf_floor_for_n(0.04, 20, 5, 0.02) - 0.08) < 1e-12);
    assert_true(fabs(perf_floor_for_n(0.001, 20, 80, 0.02) - PERF_NOISE_FLOOR_MIN) < 1e-12);
    assert_true(fabs(perf_floor_for_n(0.5, 0, 10, 0.02) - 0.02) < 1e-12);

    /* A noisy machine calibrated at 8%: a 5% drop is no longer claimed by
     * ab; on a quiet one (0.5%) even 2% is. */
    perf_sample_set b = {0}, h = {0};
    add(&b, "read-random", "ops_per_sec", 1, 1e6, 0.005, 20, 19);
    add(&h, "read-random", "ops_per_sec", 1, 0.95e6, 0.005, 20, 20);
    perf_suite s;
    perf_error e;
    load(&s);
    assert_int_equal(perf_suite_select(&s, "read", &e), 0);
    perf_cmp_opts o;
    perf_cmp_opts_default(&o);
    o.mode = PERF_CMP_AB;
    o.estimate_power = 0;
    double floor = 0.08;
    o.floor_lookup = fixed_floor;
    o.floor_ctx = &floor;
    perf_comparison c;
    memset(&c, 0, sizeof c);
    assert_int_equal(perf_compare(&s, &b, &h, &o, &c, &e), 0);
    assert_int_equal(c.rows[0].floor_calibrated, 1);
    assert_true(fabs(c.rows[0].noise_floor - 0.08) < 1e-12);
    assert_true(c.rows[0].v.verdict != PERF_VERDICT_REGRESSION);
    perf_comparison_free(&c);
    perf_samples_free(&h);
    add(&h, "read-random", "ops_per_sec", 1, 0.98e6, 0.005, 20, 21);
    floor = 0.005;
    memset(&c, 0, sizeof c);
    assert_int_equal(perf_compare(&s, &b, &h, &o, &c, &e), 0);
    assert_int_equal(c.rows[0].v.verdict, PERF_VERDICT_REGRESSION);
    perf_comparison_free(&c);
    perf_suite_free(&s);
    perf_samples_free(&b);
    perf_samples_free(&h);
}

static void test_aa_comparisons_do_not_alarm(void **state)
{
    (void)state;
    /* 200 seeded A/A comparisons with 5% noise and occasional slow runs:
     * ab never claims a regression (the rule needs significance AND the
     * whole interval beyond the floor). */
    unsigned alarms = 0;
    for (uint64_t t = 0; t < 200; t++) {
        perf_sample_set b = {0}, h = {0};
        add(&b, "read-random", "ops_per_sec", 1, 1e6, 0.05, 15, 1000 + 2 * t);
        add(&h, "read-random", "ops_per_sec", 1, 1e6, 0.05, 15, 1001 + 2 * t);
        perf_comparison c;
        assert_int_equal(compare(PERF_CMP_AB, &b, &h, &c, "read"), 0);
        alarms += c.regressions;
        perf_comparison_free(&c);
        perf_samples_free(&b);
        perf_samples_free(&h);
    }
    print_message("# A/A: %u regressions claimed in 200 comparisons\n", alarms);
    assert_true(alarms <= 2);
}

static void test_min_detectable(void **state)
{
    (void)state;
    perf_verdict_opts vo;
    perf_verdict_opts_default(&vo);
    double quiet = perf_min_detectable(20, 20, 0.01, &vo);
    double noisy = perf_min_detectable(20, 20, 0.08, &vo);
    double more = perf_min_detectable(80, 80, 0.08, &vo);
    print_message("# mde90: cv 1%% n 20: %.2f, cv 8%% n 20: %.2f, cv 8%% n 80: %.2f\n", quiet,
                  noisy, more);
    assert_true(quiet > 0 && quiet <= 0.05);
    assert_true(noisy > quiet || noisy < 0);
    assert_true(more > 0 && (noisy < 0 || more <= noisy));
    vo.tolerance = 0.10; /* check's 90% gate: only changes beyond 10% count */
    assert_true(perf_min_detectable(20, 20, 0.01, &vo) > 0.10);
}

static void test_tally_and_mismatch(void **state)
{
    (void)state;
    perf_comparison c;
    memset(&c, 0, sizeof c);
    perf_cmp_row r;
    memset(&r, 0, sizeof r);
    r.status = PERF_ROW_OK;
    r.v.verdict = PERF_VERDICT_INCONCLUSIVE;
    r.v.reps_needed = 30;
    perf_comparison_add(&c, &r);
    perf_comparison_tally(&c);
    assert_int_equal(c.exit_code, PERF_EXIT_INCONCLUSIVE);
    r.status = PERF_ROW_NO_HEAD;
    perf_comparison_add(&c, &r);
    perf_comparison_tally(&c);
    assert_int_equal(c.exit_code, PERF_EXIT_ERROR);
    r.status = PERF_ROW_OK;
    r.v.verdict = PERF_VERDICT_REGRESSION;
    perf_comparison_add(&c, &r);
    perf_comparison_tally(&c);
    assert_int_equal(c.exit_code, PERF_EXIT_REGRESSION); /* a regression outranks */
    assert_string_equal(perf_row_word(&c.rows[0]), "INCONCLUSIVE");
    assert_string_equal(perf_row_word(&c.rows[1]), "missing");
    perf_comparison_free(&c);

    perf_run_info a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    strcpy(a.machine_id, "aaaa");
    strcpy(b.machine_id, "aaaa");
    strcpy(a.sync_mode, "NONE");
    strcpy(b.sync_mode, "none");
    strcpy(a.suite, "default");
    strcpy(b.suite, "default");
    char why[256];
    assert_int_equal(perf_runs_mismatch(&a, &b, why, sizeof why), 0);
    strcpy(b.sync_mode, "FULL");
    assert_int_equal(perf_runs_mismatch(&a, &b, why, sizeof why), 1);
    assert_non_null(strstr(why, "different sync modes (NONE vs FULL)"));
    strcpy(b.machine_id, "bbbb");
    assert_int_equal(perf_runs_mismatch(&a, &b, why, sizeof why), 1);
    assert_non_null(strstr(why, "different machines (aaaa vs bbbb)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_tolerance_vs_ab_floor),
        cmocka_unit_test(test_check_regression_and_improvement),
        cmocka_unit_test(test_inconclusive_says_how_many_reps),
        cmocka_unit_test(test_memory_lower_is_better),
        cmocka_unit_test(test_error_path_overhead),
        cmocka_unit_test(test_missing_and_new_series),
        cmocka_unit_test(test_calibrated_floor),
        cmocka_unit_test(test_aa_comparisons_do_not_alarm),
        cmocka_unit_test(test_min_detectable),
        cmocka_unit_test(test_tally_and_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
