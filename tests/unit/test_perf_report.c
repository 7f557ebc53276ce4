/*
 * tests/unit/test_perf_report.c — what `lightning perf` shows and exports
 * (src/perf/report.c, export.c, trend.c) over a seeded synthetic history:
 * - trend finds a 10% step where it was planted and names its commit;
 * - the Markdown and HTML reports carry the verdicts, the SVG charts, the
 *   change points and the FORCED mark, and the HTML is self-contained;
 * - CSV export has the documented columns in order and quotes properly;
 *   JSON export parses back with every sample.
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
#include <unistd.h>

#include "perf/export.h"
#include "perf/history.h"
#include "perf/report.h"
#include "perf/rng.h"
#include "perf/trend.h"
#include "testutil.h"

static char dir[256], db[300];
static perf_history *h;

#define RUNS 30
#define STEP_AT 15

/* 30 runs of one machine; read-random drops 10% from run 16 on (commit
 * "c15"), txn stays flat. 5 repetitions each, 1% noise. */
static int setup(void **state)
{
    (void)state;
    perf_error e;
    if (tu_mkdtemp(dir, sizeof dir, "test_perf_report"))
        return -1;
    snprintf(db, sizeof db, "%s/h.db", dir);
    if (perf_history_open(db, 1, &h, &e))
        return -1;
    perf_rng rng;
    perf_rng_seed(&rng, 77);
    for (int run = 0; run < RUNS; run++) {
        perf_sample_set set = {0};
        for (int rep = 0; rep < 5; rep++) {
            const char *benches[2] = {"read-random", "txn"};
            for (int b = 0; b < 2; b++) {
                perf_sample s;
                memset(&s, 0, sizeof s);
                snprintf(s.benchmark, sizeof s.benchmark, "%s", benches[b]);
                snprintf(s.engine, sizeof s.engine, "lightning");
                snprintf(s.sync_mode, sizeof s.sync_mode, "NONE");
                s.threads = 1;
                s.repetition = rep;
                snprintf(s.metric, sizeof s.metric, "ops_per_sec");
                snprintf(s.unit, sizeof s.unit, "ops/s");
                s.direction = 1;
                double level = (b == 0 && run >= STEP_AT) ? 0.9e6 : 1e6;
                s.value = level * (1 + 0.01 * perf_rng_normal(&rng));
                if (perf_samples_push(&set, &s))
                    return -1;
                snprintf(s.metric, sizeof s.metric, "latency_p50_ns");
                snprintf(s.unit, sizeof s.unit, "ns");
                s.direction = -1;
                s.value = 1e9 / level;
                if (perf_samples_push(&set, &s))
                    return -1;
                snprintf(s.metric, sizeof s.metric, "latency_p999_ns");
                s.value = 20e9 / level;
                if (perf_samples_push(&set, &s))
                    return -1;
            }
        }
        perf_run_info r;
        memset(&r, 0, sizeof r);
        snprintf(r.kind, sizeof r.kind, "run");
        snprintf(r.machine_id, sizeof r.machine_id, "feedfacefeedface");
        snprintf(r.commit, sizeof r.commit, "c%d", run);
        snprintf(r.suite, sizeof r.suite, "default");
        snprintf(r.sync_mode, sizeof r.sync_mode, "NONE");
        snprintf(r.label, sizeof r.label, "label, with \"quotes\"");
        r.dirty = 0;
        if (perf_history_add_run(h, &r, &set, &e))
            return -1;
        perf_samples_free(&set);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    perf_history_close(h);
    tu_rmdir(dir);
    return 0;
}

static int only_throughput(void *ctx, const perf_series_key *k)
{
    (void)ctx;
    return !strcmp(k->metric, "ops_per_sec");
}

static void test_trend_finds_the_step(void **state)
{
    (void)state;
    perf_trend *t;
    size_t n;
    perf_error e;
    perf_run_filter f = {.machine_id = "feedfacefeedface", .suite = "default",
                         .sync_mode = "NONE"};
    assert_int_equal(perf_trend_compute(h, &f, only_throughput, NULL, &t, &n, &e), 0);
    assert_int_equal((int)n, 2);
    const perf_trend *rr = !strcmp(t[0].key.benchmark, "read-random") ? &t[0] : &t[1];
    const perf_trend *tx = rr == &t[0] ? &t[1] : &t[0];
    assert_int_equal((int)rr->n, RUNS);
    assert_true(rr->cp_ok);
    assert_int_equal((int)rr->ncp, 1);
    size_t idx = rr->cp[0].index;
    assert_true(idx >= STEP_AT - 1 && idx <= STEP_AT + 1);
    assert_true(fabs(rr->cp[0].rel_step + 0.10) < 0.02);
    assert_string_equal(perf_step_word(rr->cp[0].rel_step, rr->direction), "worse");
    char want[8];
    snprintf(want, sizeof want, "c%zu", idx);
    assert_string_equal(rr->pts[idx].commit, want);
    assert_int_equal((int)tx->ncp, 0); /* the flat series has none */

    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(perf_report_trend_text(m, t, n), 0);
    fclose(m);
    assert_non_null(strstr(buf, "change point at run"));
    assert_non_null(strstr(buf, "worse"));
    free(buf);
    perf_trends_free(t, n);
}

static void fill_comparison(perf_comparison *c, int forced)
{
    memset(c, 0, sizeof *c);
    snprintf(c->kind, sizeof c->kind, "check");
    snprintf(c->base_label, sizeof c->base_label, "run 1 <base>");
    snprintf(c->head_label, sizeof c->head_label, "run 30");
    c->forced = forced;
    if (forced)
        snprintf(c->mismatch, sizeof c->mismatch, "different machines (a vs b)");
    perf_cmp_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.benchmark, sizeof r.benchmark, "read-random");
    snprintf(r.engine, sizeof r.engine, "lightning");
    snprintf(r.metric, sizeof r.metric, "ops_per_sec");
    snprintf(r.unit, sizeof r.unit, "ops/s");
    r.direction = 1;
    r.status = PERF_ROW_OK;
    r.v.verdict = PERF_VERDICT_REGRESSION;
    r.v.median_base = 1e6;
    r.v.median_head = 0.8e6;
    r.v.g = 0.8;
    r.v.g_lo = 0.78;
    r.v.g_hi = 0.82;
    r.v.limit = 0.9;
    r.v.p_value = 1e-5;
    perf_comparison_add(c, &r);
    r.v.verdict = PERF_VERDICT_INCONCLUSIVE;
    r.v.reps_needed = 37;
    snprintf(r.benchmark, sizeof r.benchmark, "txn");
    perf_comparison_add(c, &r);
    perf_comparison_tally(c);
}

static void test_reports(void **state)
{
    (void)state;
    perf_trend *t;
    size_t n;
    perf_error e;
    perf_run_filter f = {.machine_id = "feedfacefeedface"};
    assert_int_equal(perf_trend_compute(h, &f, only_throughput, NULL, &t, &n, &e), 0);
    perf_sample_set s = {0};
    assert_int_equal(perf_history_load_samples(h, RUNS, &s, &e), 0);
    perf_run_info run;
    assert_int_equal(perf_history_get_run(h, RUNS, &run, &e), 1);
    perf_comparison c;
    fill_comparison(&c, 1);
    perf_report_input in = {.title = "T", .history_path = db, .generated_at = "now",
                            .run = &run, .run_samples = &s, .cmp = &c, .trends = t,
                            .ntrends = n, .baseline_run = 1};
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(perf_report_html(m, &in), 0);
    fclose(m);
    assert_non_null(strstr(buf, "<!DOCTYPE html>"));
    assert_non_null(strstr(buf, "</html>"));
    assert_non_null(strstr(buf, "<svg"));
    assert_non_null(strstr(buf, "stroke-dasharray")); /* change point / limit marks */
    assert_non_null(strstr(buf, "FORCED comparison"));
    assert_non_null(strstr(buf, "REGRESSION"));
    assert_non_null(strstr(buf, "~37 reps/side"));
    assert_non_null(strstr(buf, "p99.9"));             /* latency chart legend */
    assert_non_null(strstr(buf, "run 1 &lt;base&gt;")); /* escaped */
    assert_null(strstr(buf, "<script"));               /* self-contained, static */
    assert_null(strstr(buf, "src="));                  /* nothing loaded from elsewhere */
    free(buf);

    buf = NULL;
    m = open_memstream(&buf, &len);
    assert_int_equal(perf_report_markdown(m, &in), 0);
    fclose(m);
    assert_non_null(strstr(buf, "## Last comparison: check — **REGRESSION** (exit 1)"));
    assert_non_null(strstr(buf, "**FORCED comparison**"));
    assert_non_null(strstr(buf, "| read-random/lightning | ops_per_sec |"));
    assert_non_null(strstr(buf, "-20.0%"));
    assert_non_null(strstr(buf, "## History"));
    free(buf);

    buf = NULL;
    m = open_memstream(&buf, &len);
    perf_comparison_free(&c);
    fill_comparison(&c, 0);
    assert_int_equal(perf_report_table(m, &c), 0);
    fclose(m);
    assert_null(strstr(buf, "FORCED"));
    assert_non_null(strstr(buf, "-> exit 1 (regression)"));
    free(buf);

    perf_comparison_free(&c);
    perf_run_info_free(&run);
    perf_samples_free(&s);
    perf_trends_free(t, n);
}

static void test_csv_export(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0, rows = 0;
    perf_error e;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(perf_export_csv(h, NULL, 3, m, &rows, &e), 0);
    fclose(m);
    assert_int_equal((int)rows, 5 * 2 * 3);
    const char *want = "run_id,timestamp,commit,machine_id,benchmark,engine,sync_mode,threads,"
                       "repetition,metric,value,unit,";
    assert_memory_equal(buf, want, strlen(want));
    /* first data row: the documented fields in order */
    const char *row1 = strchr(buf, '\n') + 1;
    assert_memory_equal(row1, "3,", 2);
    assert_non_null(strstr(row1, ",c2,feedfacefeedface,read-random,lightning,NONE,1,0,ops_per_sec,"));
    /* a label with a comma and quotes is quoted, quotes doubled */
    assert_non_null(strstr(buf, "\"label, with \"\"quotes\"\"\""));
    size_t lines = 0;
    for (const char *p = buf; *p; p++)
        lines += *p == '\n';
    assert_int_equal((int)lines, 1 + 30);
    free(buf);
}

static void test_json_export(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0, rows = 0;
    perf_error e;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(perf_export_json(h, NULL, 0, m, &rows, &e), 0);
    fclose(m);
    assert_int_equal((int)rows, RUNS * 30);
    json_error_t je;
    json_t *root = json_loads(buf, 0, &je);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "schema")), PERF_EXPORT_SCHEMA);
    json_t *runs = json_object_get(root, "runs");
    assert_int_equal((int)json_array_size(runs), RUNS);
    json_t *r0 = json_array_get(runs, 0);
    assert_string_equal(json_string_value(json_object_get(r0, "commit")), "c0");
    assert_int_equal((int)json_array_size(json_object_get(r0, "samples")), 30);
    json_decref(root);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trend_finds_the_step),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_csv_export),
        cmocka_unit_test(test_json_export),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
