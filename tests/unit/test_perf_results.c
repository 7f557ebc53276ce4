/*
 * tests/unit/test_perf_results.c — reading `lightning bench --json`
 * (schema lightning-bench/1) into samples (src/perf/results.c): every
 * non-null figure becomes a (metric, value, unit, direction) sample, null
 * figures become nothing, derived per-op figures are right, and corrupt or
 * foreign input gets an error that says what and where.
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
#include "perf/results.h"

static const char *doc_text =
    "{\"schema\":\"lightning-bench/1\",\"tool\":\"lightning bench\","
    " \"machine\":{\"machine_id\":\"0123456789abcdef\",\"cpu_model\":\"X\",\"governor\":null},"
    " \"build\":{\"commit\":\"abcdef0123456789abcdef0123456789abcdef01\",\"dirty\":true,"
    "  \"compiler\":\"gcc 12\",\"cflags\":\"-O2\"},"
    " \"engines\":{\"lightning\":{\"config\":\"c\"}},"
    " \"results\":["
    "  {\"benchmark\":\"read-random\",\"engine\":\"lightning\",\"sync_mode\":\"none\","
    "   \"threads\":1,\"params\":{\"keys\":1000,\"seed\":42},\"repetition\":1,\"ops\":2000,"
    "   \"seconds\":0.5,\"ops_per_sec\":4000.5,"
    "   \"latency_ns\":{\"p50\":100,\"p90\":150,\"p95\":170,\"p99\":200,\"p999\":400,\"max\":9000},"
    "   \"cpu_user_s\":0.4,\"cpu_sys_s\":0.1,\"rss_peak_bytes\":1048576,"
    "   \"instructions\":null,\"cycles\":null,\"metrics\":{},\"future_field\":[1,2]},"
    "  {\"benchmark\":\"memory\",\"engine\":\"lightning\",\"sync_mode\":\"none\","
    "   \"threads\":1,\"repetition\":1,\"ops\":null,\"ops_per_sec\":null,\"latency_ns\":null,"
    "   \"cpu_user_s\":null,\"cpu_sys_s\":null,\"rss_peak_bytes\":null,\"instructions\":8000,"
    "   \"cycles\":null,"
    "   \"metrics\":{\"bytes_per_key\":{\"value\":1277.5,\"unit\":\"B/key\",\"direction\":\"lower\"},"
    "               \"load_keys_per_sec\":{\"value\":1.2e6,\"unit\":\"keys/s\",\"direction\":\"higher\"},"
    "               \"plain_score\":3.5, \"absent\":null}},"
    "  {\"benchmark\":\"concurrent-8\",\"engine\":\"lightning\",\"sync_mode\":\"FULL\","
    "   \"threads\":8,\"repetition\":2,\"ops\":100,\"ops_per_sec\":50,\"instructions\":5000,"
    "   \"cycles\":9000}"
    " ]}";

static const perf_sample *find(const perf_bench_doc *d, const char *bench, const char *metric)
{
    for (size_t i = 0; i < d->samples.n; i++)
        if (!strcmp(d->samples.v[i].benchmark, bench) && !strcmp(d->samples.v[i].metric, metric))
            return &d->samples.v[i];
    return NULL;
}

static void test_parse_valid(void **state)
{
    (void)state;
    perf_bench_doc d;
    perf_error e;
    if (perf_results_parse_text(doc_text, strlen(doc_text), "doc.json", &d, &e))
        fail_msg("%s", e.msg);
    assert_string_equal(d.machine_id, "0123456789abcdef");
    assert_string_equal(d.commit, "abcdef0123456789abcdef0123456789abcdef01");
    assert_int_equal(d.dirty, 1);
    assert_string_equal(d.compiler, "gcc 12");
    assert_int_equal((int)d.n_results, 3);
    assert_non_null(d.machine_json);
    assert_non_null(d.engines_json);

    const perf_sample *s = find(&d, "read-random", "ops_per_sec");
    assert_non_null(s);
    assert_true(s->value == 4000.5);
    assert_string_equal(s->unit, "ops/s");
    assert_int_equal(s->direction, PERF_HIGHER_IS_BETTER);
    assert_string_equal(s->sync_mode, "NONE"); /* normalised */
    assert_int_equal(s->repetition, 1);
    assert_string_equal(s->params, "{\"keys\":1000,\"seed\":42}");
    s = find(&d, "read-random", "latency_p999_ns");
    assert_true(s && s->value == 400 && s->direction == PERF_LOWER_IS_BETTER);
    assert_non_null(find(&d, "read-random", "latency_max_ns"));
    s = find(&d, "read-random", "cpu_ns_per_op");
    assert_true(s && fabs(s->value - 0.5e9 / 2000) < 1e-6);
    assert_non_null(find(&d, "read-random", "rss_peak_bytes"));
    /* nulls are absent, never zero */
    assert_null(find(&d, "read-random", "instructions"));
    assert_null(find(&d, "read-random", "instructions_per_op"));
    assert_null(find(&d, "memory", "ops_per_sec"));
    assert_null(find(&d, "memory", "latency_p50_ns"));
    assert_null(find(&d, "memory", "absent"));
    /* instructions without ops: the total, but no per-op figure */
    assert_non_null(find(&d, "memory", "instructions"));
    assert_null(find(&d, "memory", "instructions_per_op"));
    s = find(&d, "memory", "bytes_per_key");
    assert_true(s && s->value == 1277.5);
    assert_string_equal(s->unit, "B/key");
    assert_int_equal(s->direction, PERF_LOWER_IS_BETTER);
    s = find(&d, "memory", "load_keys_per_sec");
    assert_true(s && s->direction == PERF_HIGHER_IS_BETTER);
    s = find(&d, "memory", "plain_score");
    assert_true(s && s->value == 3.5);
    s = find(&d, "concurrent-8", "instructions_per_op");
    assert_true(s && s->value == 50 && s->direction == PERF_LOWER_IS_BETTER);
    s = find(&d, "concurrent-8", "cycles_per_op");
    assert_true(s && s->value == 90);
    assert_int_equal(s->threads, 8);
    assert_string_equal(s->sync_mode, "FULL");
    perf_bench_doc_free(&d);
}

static void expect_error(const char *text, const char *want)
{
    perf_bench_doc d;
    perf_error e;
    if (perf_results_parse_text(text, strlen(text), "x.json", &d, &e) == 0) {
        perf_bench_doc_free(&d);
        fail_msg("accepted bad input; wanted an error containing '%s'", want);
    }
    if (!strstr(e.msg, want))
        fail_msg("error '%s' does not contain '%s'", e.msg, want);
}

#define HEAD "{\"schema\":\"lightning-bench/1\",\"machine\":{\"machine_id\":\"m\"},\"results\":["

static void test_errors(void **state)
{
    (void)state;
    expect_error("{\"schema\": \"lightning-bench/1\", ", "x.json: corrupt JSON at line 1");
    expect_error("", "corrupt JSON");
    expect_error("[1,2]", "top level is an array");
    expect_error("{\"results\":[]}", "no \"schema\"");
    expect_error("{\"schema\":\"lightning-bench/2\"}", "schema is 'lightning-bench/2'");
    expect_error("{\"schema\":\"lightning-bench/1\",\"results\":[]}", "\"machine\" must be");
    expect_error("{\"schema\":\"lightning-bench/1\",\"machine\":{},\"results\":[]}",
                 "machine_id");
    expect_error(HEAD "]}", "\"results\" is empty");
    expect_error(HEAD "{\"engine\":\"e\"}]}", "result 0 (?/e): \"benchmark\"");
    expect_error(HEAD "{\"benchmark\":\"b\",\"engine\":\"e\",\"ops_per_sec\":\"fast\"}]}",
                 "result 0 (b/e): ops_per_sec is a string, expected a number or null");
    expect_error(HEAD "{\"benchmark\":\"b\",\"engine\":\"e\"},"
                      "{\"benchmark\":\"c\",\"engine\":\"e\",\"latency_ns\":{\"p99\":true}}]}",
                 "result 1 (c/e): latency_ns.p99 is a boolean");
    expect_error(HEAD "{\"benchmark\":\"b\",\"engine\":\"e\","
                      "\"metrics\":{\"m\":{\"value\":1,\"direction\":\"up\"}}}]}",
                 "metrics.m.direction is 'up'");
    expect_error(HEAD "{\"benchmark\":\"b\",\"engine\":\"e\",\"metrics\":[1]}]}",
                 "metrics is an array");
    perf_bench_doc d;
    perf_error e;
    assert_int_equal(perf_results_parse_file("/nonexistent/x.json", &d, &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent/x.json"));
}

static void test_parse_file_truncated(void **state)
{
    (void)state;
    char path[] = "/tmp/test_perf_results_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t half = strlen(doc_text) / 2;
    assert_int_equal((int)write(fd, doc_text, half), (int)half);
    close(fd);
    perf_bench_doc d;
    perf_error e;
    assert_int_equal(perf_results_parse_file(path, &d, &e), -1);
    assert_non_null(strstr(e.msg, "corrupt JSON"));
    assert_non_null(strstr(e.msg, path));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_parse_file_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
