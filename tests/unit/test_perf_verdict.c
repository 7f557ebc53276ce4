/*
 * tests/unit/test_perf_verdict.c — the machine-readable verdicts of
 * check/ab/bisect/trend (perf/outcome.h): the lightning-perf-verdict/1
 * JSON, the JUnit XML and the pull-request comment, over a hand-made
 * comparison with one row of every kind (regression, inconclusive, same,
 * improvement, missing, a count row with no p, an overhead row, a row
 * outside the gate, a note full of characters that need escaping).
 * - the JSON is read back with jansson and every figure is checked, nulls
 *   included (a count row's p is null, never 0), and the document is
 *   validated against docs/schemas/lightning-perf-verdict-1.json by
 *   scripts/check_json_schema.py (Debian's python3-jsonschema);
 * - the JUnit XML validates against docs/schemas/junit.xsd (xmllint) and
 *   its failure/error/skipped counts match the rows that gate;
 * - the comment opens with the marker and the verdict, lists the
 *   regression before the inconclusive row, folds the rest into
 *   <details>, and escapes table cells;
 * - an early error, trend and bisect outcomes validate too; writing into
 *   a directory that does not exist fails with the path named.
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
#include <sys/stat.h>
#include <unistd.h>

#include "perf/comment.h"
#include "perf/junit.h"
#include "perf/outcome.h"
#include "perf/verdict_json.h"
#include "testutil.h"

#ifndef PERF_SOURCE_DIR
#error "PERF_SOURCE_DIR must name the source tree (the Makefile sets it)"
#endif

static char dir[64];


static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static int validate_json(const char *file)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/scripts/check_json_schema.py "
             "%s/docs/schemas/lightning-perf-verdict-1.json '%s'",
             PERF_SOURCE_DIR, PERF_SOURCE_DIR, file);
    return system(cmd);
}

static int validate_junit(const char *file)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "xmllint --noout --schema %s/docs/schemas/junit.xsd '%s' 2>&1",
             PERF_SOURCE_DIR, file);
    return system(cmd);
}

static perf_cmp_row row(const char *rule, const char *bench, const char *metric,
                        perf_verdict v, double base, double head)
{
    perf_cmp_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.rule, sizeof r.rule, "%s", rule);
    snprintf(r.benchmark, sizeof r.benchmark, "%s", bench);
    snprintf(r.engine, sizeof r.engine, "lightning");
    r.threads = 1;
    snprintf(r.metric, sizeof r.metric, "%s", metric);
    snprintf(r.unit, sizeof r.unit, "ops/s");
    r.direction = 1;
    r.tolerance = 0.10;
    r.noise_floor = 0.02;
    r.cv_base = 0.01;
    r.cv_head = 0.02;
    r.mde90 = 0.05;
    r.status = PERF_ROW_OK;
    r.v.n_base = 20;
    r.v.n_head = 20;
    r.v.median_base = base;
    r.v.median_head = head;
    r.v.g = head / base;
    r.v.g_lo = r.v.g - 0.02;
    r.v.g_hi = r.v.g + 0.02;
    r.v.limit = 0.90;
    r.v.p_value = 0.0001;
    r.v.p_exact = 1;
    r.v.verdict = v;
    r.v.reason = "because";
    return r;
}

/* Rows in an order that is NOT the reading order, so sorting shows. */
static void make_comparison(perf_comparison *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->kind, sizeof c->kind, "check");
    snprintf(c->suite, sizeof c->suite, "default");
    snprintf(c->base_label, sizeof c->base_label, "run 1 (baseline)");
    snprintf(c->head_label, sizeof c->head_label, "run 2 <head> & \"quoted\"");
    c->base_run = 1;
    c->head_run = 2;
    c->id = 7;
    perf_cmp_row r = row("write", "write-random", "ops_per_sec", PERF_VERDICT_SAME, 1e6, 0.99e6);
    assert_int_equal(perf_comparison_add(c, &r), 0);
    r = row("mixed", "mixed", "ops_per_sec", PERF_VERDICT_INCONCLUSIVE, 1e6, 0.88e6);
    r.v.reps_needed = 40;
    r.v.g_hi = 0.95;
    assert_int_equal(perf_comparison_add(c, &r), 0);
    r = row("read", "read-random", "ops_per_sec", PERF_VERDICT_REGRESSION, 2e6, 1.7e6);
    snprintf(r.note, sizeof r.note, "a | pipe, <tag> & \"quote\"\nnewline");
    assert_int_equal(perf_comparison_add(c, &r), 0);
    r = row("txn", "txn", "ops_per_sec", PERF_VERDICT_IMPROVEMENT, 1e5, 1.2e5);
    assert_int_equal(perf_comparison_add(c, &r), 0);
    /* a count row: a plain ratio, no test */
    r = row("read-counts", "read-random", "ir_per_op", PERF_VERDICT_SAME, 1332.7, 1333.0);
    snprintf(r.unit, sizeof r.unit, "instr/op");
    r.direction = -1;
    r.v.p_value = NAN;
    r.v.g = r.v.g_lo = r.v.g_hi = 1332.7 / 1333.0;
    r.v.limit = 0.99;
    r.mde90 = 0;
    snprintf(r.note, sizeof r.note, "[wall clock: ops_per_sec -4.6%% same]");
    assert_int_equal(perf_comparison_add(c, &r), 0);
    /* an overhead row */
    r = row("error-path", "error-absent", "ops_per_sec", PERF_VERDICT_SAME, 2e6, 3e7);
    r.overhead = 1;
    snprintf(r.versus, sizeof r.versus, "read-random");
    assert_int_equal(perf_comparison_add(c, &r), 0);
    /* missing in the head */
    perf_cmp_row m;
    memset(&m, 0, sizeof m);
    snprintf(m.rule, sizeof m.rule, "memory");
    snprintf(m.benchmark, sizeof m.benchmark, "memory");
    snprintf(m.engine, sizeof m.engine, "lightning");
    m.threads = 1;
    snprintf(m.metric, sizeof m.metric, "bytes_per_key");
    m.direction = -1;
    m.status = PERF_ROW_NO_HEAD;
    snprintf(m.note, sizeof m.note, "absent from the head run");
    m.v.median_base = NAN;
    assert_int_equal(perf_comparison_add(c, &m), 0);
    perf_comparison_tally(c);
}

static json_t *load_json(const char *path)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j)
        fail_msg("%s: %s (line %d)", path, err.text, err.line);
    return j;
}

static json_t *find_row(json_t *rows, const char *bench, const char *metric, int overhead)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (!strcmp(json_string_value(json_object_get(r, "benchmark")), bench) &&
            !strcmp(json_string_value(json_object_get(r, "metric")), metric) &&
            (!strcmp(json_string_value(json_object_get(r, "mode")), "overhead")) == overhead)
            return r;
    }
    fail_msg("no row %s %s", bench, metric);
    return NULL;
}

static void test_json(void **state)
{
    (void)state;
    perf_comparison c;
    make_comparison(&c);
    assert_int_equal(c.exit_code, PERF_EXIT_REGRESSION);
    perf_outcome o = {.command = "check", .exit_code = c.exit_code, .cmp = &c,
                      .machine_id = "774f263b83cfdc80", .sync_mode = "NONE", .suite = "default"};
    char p[128];
    path_of(p, sizeof p, "v.json");
    perf_error e = {{0}};
    assert_int_equal(perf_outcome_write(&o, p, NULL, NULL, &e), 0);
    json_t *j = load_json(p);
    assert_string_equal(json_string_value(json_object_get(j, "schema")), PERF_VERDICT_SCHEMA);
    assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "regression");
    json_t *cmp = json_object_get(j, "comparison");
    json_t *rows = json_object_get(cmp, "rows");
    assert_int_equal(json_array_size(rows), 7);
    json_t *t = json_object_get(cmp, "tally");
    assert_int_equal(json_integer_value(json_object_get(t, "regressions")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "errors")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "inconclusive")), 1);

    json_t *reg = find_row(rows, "read-random", "ops_per_sec", 0);
    assert_string_equal(json_string_value(json_object_get(reg, "verdict")), "regression");
    assert_string_equal(json_string_value(json_object_get(reg, "mode")), "wallclock");
    assert_true(fabs(json_real_value(json_object_get(reg, "median_base")) - 2e6) < 1e-3);
    assert_true(fabs(json_real_value(json_object_get(reg, "median_head")) - 1.7e6) < 1e-3);
    assert_true(fabs(json_real_value(json_object_get(reg, "g")) - 0.85) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(reg, "g_lo")) - 0.83) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(reg, "g_hi")) - 0.87) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(reg, "change")) + 0.15) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(reg, "limit")) - 0.90) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(reg, "p_value")) - 0.0001) < 1e-12);
    assert_true(fabs(json_real_value(json_object_get(reg, "confidence")) - 0.99) < 1e-12);
    assert_int_equal(json_integer_value(json_object_get(reg, "n_base")), 20);
    assert_true(json_is_true(json_object_get(reg, "gating")));
    assert_string_equal(json_string_value(json_object_get(reg, "note")),
                        "a | pipe, <tag> & \"quote\"\nnewline");

    json_t *cnt = find_row(rows, "read-random", "ir_per_op", 0);
    assert_string_equal(json_string_value(json_object_get(cnt, "mode")), "counts");
    assert_true(json_is_null(json_object_get(cnt, "p_value")));
    assert_true(json_is_null(json_object_get(cnt, "confidence")));
    assert_true(json_is_null(json_object_get(cnt, "mde90")));
    assert_string_equal(json_string_value(json_object_get(cnt, "direction")), "lower");

    json_t *inc = find_row(rows, "mixed", "ops_per_sec", 0);
    assert_int_equal(json_integer_value(json_object_get(inc, "reps_needed")), 40);
    json_t *ovh = find_row(rows, "error-absent", "ops_per_sec", 1);
    assert_string_equal(json_string_value(json_object_get(ovh, "versus")), "read-random");
    json_t *mis = find_row(rows, "memory", "bytes_per_key", 0);
    assert_string_equal(json_string_value(json_object_get(mis, "verdict")), "missing");
    assert_true(json_is_null(json_object_get(mis, "median_base")));
    assert_true(json_is_null(json_object_get(mis, "g")));
    assert_true(json_is_null(json_object_get(mis, "n_head")));
    json_decref(j);
    assert_int_equal(validate_json(p), 0);

    /* The schema is not a rubber stamp: a count row with p = 0 fails it. */
    char bad[128];
    path_of(bad, sizeof bad, "bad.json");
    j = load_json(p);
    json_t *brow = find_row(json_object_get(json_object_get(j, "comparison"), "rows"),
                            "read-random", "ir_per_op", 0);
    json_object_set_new(brow, "p_value", json_real(0));
    json_dump_file(j, bad, 0);
    json_decref(j);
    assert_int_not_equal(validate_json(bad), 0);
    perf_comparison_free(&c);
}

static unsigned count_of(const char *s, const char *needle)
{
    unsigned n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_junit(void **state)
{
    (void)state;
    perf_comparison c;
    make_comparison(&c);
    perf_outcome o = {.command = "check", .exit_code = c.exit_code, .cmp = &c,
                      .suite = "default"};
    char p[128];
    path_of(p, sizeof p, "v.xml");
    perf_error e = {{0}};
    assert_int_equal(perf_outcome_write(&o, NULL, p, NULL, &e), 0);
    assert_int_equal(validate_junit(p), 0);
    char *x = tu_read_text(p);
    assert_non_null(x);
    assert_non_null(strstr(x, "tests=\"7\" failures=\"1\" errors=\"1\" skipped=\"1\""));
    assert_int_equal(count_of(x, "<testcase "), 7);
    assert_int_equal(count_of(x, "<failure "), 1);
    assert_int_equal(count_of(x, "<error "), 1);
    assert_int_equal(count_of(x, "<skipped "), 1);
    /* the regression's testcase comes first and says how big it is */
    const char *first = strstr(x, "<testcase ");
    assert_true(first == strstr(x, "<testcase classname=\"lightning.perf.check.read\""));
    assert_non_null(strstr(x, "REGRESSION: -15.0%"));
    assert_non_null(strstr(x, "g 0.850 [0.830, 0.870] vs limit 0.900"));
    assert_non_null(strstr(x, "&lt;tag&gt; &amp; &quot;quote&quot;"));
    assert_non_null(strstr(x, "run 2 &lt;head&gt; &amp; &quot;quoted&quot;"));
    free(x);

    /* gate_on = counts: the wall-clock regression no longer fails */
    c.gate_on = PERF_GATE_COUNTS;
    perf_comparison_tally(&c);
    o.exit_code = c.exit_code;
    assert_int_equal(perf_outcome_write(&o, NULL, p, NULL, &e), 0);
    assert_int_equal(validate_junit(p), 0);
    x = tu_read_text(p);
    assert_non_null(strstr(x, "failures=\"0\" errors=\"0\" skipped=\"0\""));
    assert_non_null(strstr(x, "not gating: gate_on = counts"));
    free(x);
    perf_comparison_free(&c);
}

static void test_comment(void **state)
{
    (void)state;
    perf_comparison c;
    make_comparison(&c);
    perf_outcome o = {.command = "check", .exit_code = c.exit_code, .cmp = &c};
    char p[128];
    path_of(p, sizeof p, "v.md");
    perf_error e = {{0}};
    assert_int_equal(perf_outcome_write(&o, NULL, NULL, p, &e), 0);
    char *m = tu_read_text(p);
    assert_non_null(m);
    assert_memory_equal(m, PERF_COMMENT_MARKER "\n", strlen(PERF_COMMENT_MARKER) + 1);
    assert_non_null(strstr(m, "### Lightning perf check: **REGRESSION** (exit 1)"));
    const char *fold = strstr(m, "<details>");
    assert_non_null(fold);
    assert_non_null(strstr(fold, "</details>"));
    /* above the fold: a few lines, the regression first, then the row
     * that could not be judged, then the inconclusive one */
    size_t lines = 0;
    for (const char *q = m; q < fold; q++)
        lines += *q == '\n';
    assert_true(lines <= 10);
    const char *reg = strstr(m, "- **REGRESSION** `read-random/lightning` ops_per_sec");
    const char *mis = strstr(m, "- **missing** `memory/lightning` bytes_per_key");
    const char *inc = strstr(m, "- **INCONCLUSIVE** `mixed/lightning` ops_per_sec");
    assert_true(reg && mis && inc && reg < mis && mis < inc && inc < fold);
    assert_non_null(strstr(reg, "**-15.0%** (g 0.850, 99% CI [0.830, 0.870], limit 0.900)"));
    assert_non_null(strstr(inc, "~40 reps/side would decide"));
    /* same and improvement rows only inside the fold */
    const char *same = strstr(m, "`write-random/lightning`");
    assert_true(same > fold);
    /* the table: regression first; count row p "-"; cells escaped */
    const char *t1 = strstr(fold, "| REGRESSION |");
    const char *t2 = strstr(fold, "| same |");
    assert_true(t1 && t2 && t1 < t2);
    const char *crow = strstr(fold, "`read-random/lightning` ir_per_op");
    assert_non_null(crow);
    assert_non_null(strstr(crow, "| - | 0.990 |"));
    assert_non_null(strstr(m, "a \\| pipe, &lt;tag&gt; &amp; \"quote\" newline"));
    free(m);
    perf_comparison_free(&c);
}

static void test_early_trend_bisect(void **state)
{
    (void)state;
    char pj[128], px[128], pm[128];
    path_of(pj, sizeof pj, "e.json");
    path_of(px, sizeof px, "e.xml");
    path_of(pm, sizeof pm, "e.md");
    perf_error e = {{0}};
    perf_outcome early = {.command = "check", .exit_code = 2,
                          .message = "perf check: no baseline for machine x"};
    assert_int_equal(perf_outcome_write(&early, pj, px, pm, &e), 0);
    assert_int_equal(validate_json(pj), 0);
    assert_int_equal(validate_junit(px), 0);
    char *x = tu_read_text(px);
    assert_non_null(strstr(x, "errors=\"1\""));
    assert_non_null(strstr(x, "no baseline for machine x"));
    free(x);
    char *m = tu_read_text(pm);
    assert_non_null(strstr(m, "**ERROR** (exit 2)"));
    free(m);

    /* trend: one series with a worse step at run 12 */
    perf_trend t;
    memset(&t, 0, sizeof t);
    snprintf(t.key.benchmark, sizeof t.key.benchmark, "read-random");
    snprintf(t.key.engine, sizeof t.key.engine, "lightning");
    t.key.threads = 1;
    snprintf(t.key.metric, sizeof t.key.metric, "ops_per_sec");
    snprintf(t.unit, sizeof t.unit, "ops/s");
    t.direction = 1;
    perf_series_point pts[20];
    memset(pts, 0, sizeof pts);
    for (int i = 0; i < 20; i++) {
        pts[i].run_id = i + 1;
        snprintf(pts[i].commit, sizeof pts[i].commit, "c%02d", i);
        snprintf(pts[i].created_at, sizeof pts[i].created_at, "2026-12-01T00:00:%02dZ", i);
        pts[i].median = i < 11 ? 1e6 : 8e5;
    }
    t.pts = pts;
    t.n = 20;
    t.cp_ok = 1;
    t.ncp = 1;
    t.cp[0].index = 11;
    t.cp[0].p_value = 0.005;
    t.cp[0].median_before = 1e6;
    t.cp[0].median_after = 8e5;
    t.cp[0].rel_step = -0.2;
    perf_outcome tr = {.command = "trend", .exit_code = 0, .trends = &t, .ntrends = 1};
    assert_int_equal(perf_outcome_write(&tr, pj, px, pm, &e), 0);
    assert_int_equal(validate_json(pj), 0);
    assert_int_equal(validate_junit(px), 0);
    json_t *j = load_json(pj);
    json_t *cp = json_array_get(
        json_object_get(json_array_get(json_object_get(j, "trends"), 0), "change_points"), 0);
    assert_int_equal(json_integer_value(json_object_get(cp, "run_id")), 12);
    assert_string_equal(json_string_value(json_object_get(cp, "verdict")), "worse");
    assert_true(fabs(json_real_value(json_object_get(cp, "g")) - 0.8) < 1e-9);
    json_decref(j);
    m = tu_read_text(pm);
    assert_non_null(strstr(m, "- **worse** `read-random/lightning` ops_per_sec"));
    assert_non_null(strstr(m, "at run 12, commit `c11`"));
    free(m);

    /* bisect: a found commit with its steps */
    perf_comparison c;
    make_comparison(&c);
    perf_bisect_step steps[2];
    memset(steps, 0, sizeof steps);
    snprintf(steps[0].sha, sizeof steps[0].sha, "%040d", 1);
    snprintf(steps[0].verdict, sizeof steps[0].verdict, "bad (regression)");
    steps[0].g = 0.8;
    steps[0].g_lo = 0.78;
    steps[0].g_hi = 0.82;
    steps[0].rounds = 6;
    snprintf(steps[1].sha, sizeof steps[1].sha, "%040d", 2);
    snprintf(steps[1].verdict, sizeof steps[1].verdict, "skip: does not build");
    perf_outcome bi = {.command = "bisect", .exit_code = 0, .cmp = &c, .good = "v1",
                       .bad = "HEAD", .benchmark = "read", .first_bad = steps[0].sha,
                       .first_bad_subject = "make reads slower", .steps = steps, .nsteps = 2};
    assert_int_equal(perf_outcome_write(&bi, pj, px, pm, &e), 0);
    assert_int_equal(validate_json(pj), 0);
    assert_int_equal(validate_junit(px), 0);
    j = load_json(pj);
    json_t *b = json_object_get(j, "bisect");
    assert_string_equal(json_string_value(json_object_get(b, "first_bad_commit")), steps[0].sha);
    json_t *s1 = json_array_get(json_object_get(b, "steps"), 1);
    assert_true(json_is_null(json_object_get(s1, "g")));
    json_decref(j);
    m = tu_read_text(pm);
    assert_non_null(strstr(m, "first bad commit `000000000000`"));
    assert_non_null(strstr(m, "make reads slower"));
    free(m);
    perf_comparison_free(&c);

    /* a file that cannot be written is an error naming it */
    assert_int_equal(perf_outcome_write(&early, "/nonexistent-dir/x.json", NULL, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent-dir/x.json"));
}

static int setup(void **state)
{
    (void)state;
    return tu_mkdtemp(dir, sizeof dir, "test_perf_verdict");
}

static int teardown(void **state)
{
    (void)state;
    tu_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_junit),
        cmocka_unit_test(test_comment),
        cmocka_unit_test(test_early_trend_bisect),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
