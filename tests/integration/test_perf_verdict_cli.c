/*
 * tests/integration/test_perf_verdict_cli.c — the --json/--junit/--comment
 * wiring of `lightning perf` ($LIGHTNING_BIN) for the commands
 * test_perf_ci does not reach: trend (a document with its series), a
 * command that stops on an error before comparing (no history; an unknown
 * bisect revision), each still writing valid files with exit code 2 and
 * the error's message; an option given to a command that does not take it
 * is refused. Validated against docs/schemas like test_perf_verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#ifndef PERF_SOURCE_DIR
#error "PERF_SOURCE_DIR must name the source tree (the Makefile sets it)"
#endif

static char dir[64];
static const char *bin;

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* `lightning perf ARGS` with the test's history, in the source tree. */
static int perf(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && LIGHTNING_PERF_HISTORY=%s/h.db LIGHTNING_PERF_PROGRESS=0 %s perf %s "
             ">%s/out 2>%s/err",
             PERF_SOURCE_DIR, dir, bin, args, dir, dir);
    return sh(cmd);
}

static void valid(const char *json, const char *xml)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/scripts/check_json_schema.py "
             "%s/docs/schemas/lightning-perf-verdict-1.json %s",
             PERF_SOURCE_DIR, PERF_SOURCE_DIR, json);
    assert_int_equal(sh(cmd), 0);
    snprintf(cmd, sizeof cmd, "xmllint --noout --schema %s/docs/schemas/junit.xsd %s 2>/dev/null",
             PERF_SOURCE_DIR, xml);
    assert_int_equal(sh(cmd), 0);
}

static json_t *load(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j)
        fail_msg("%s: %s", path, e.text);
    return j;
}

static void test_error_before_comparing(void **s)
{
    (void)s;
    char args[1024], pj[128], px[128];
    snprintf(pj, sizeof pj, "%s/e.json", dir);
    snprintf(px, sizeof px, "%s/e.xml", dir);
    snprintf(args, sizeof args, "check --json %s --junit %s --comment %s/e.md", pj, px, dir);
    assert_int_equal(perf(args), 2);
    valid(pj, px);
    json_t *j = load(pj);
    assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "error");
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "no history"));
    json_decref(j);

    snprintf(args, sizeof args,
             "bisect --good no-such-rev-xyz --bad HEAD --benchmark read --json %s --junit %s",
             pj, px);
    assert_int_equal(perf(args), 2);
    valid(pj, px);
    j = load(pj);
    assert_string_equal(json_string_value(json_object_get(j, "command")), "bisect");
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "no-such-rev-xyz"));
    json_decref(j);

    /* run and calibrate take none of them */
    snprintf(args, sizeof args, "calibrate --json %s", pj);
    assert_int_equal(perf(args), 2);
}

static void test_trend(void **s)
{
    (void)s;
    char cmd[1024], args[1024], pj[128], px[128];
    snprintf(cmd, sizeof cmd,
             "%s bench --quick --engines lightning --workloads read-random --reps 3 "
             "--json %s/b.json >/dev/null 2>&1",
             bin, dir);
    assert_int_equal(sh(cmd), 0);
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "run --quick --from-json %s/b.json", dir);
        assert_int_equal(perf(args), 0);
    }
    snprintf(pj, sizeof pj, "%s/t.json", dir);
    snprintf(px, sizeof px, "%s/t.xml", dir);
    snprintf(args, sizeof args, "trend --quick --json %s --junit %s --comment %s/t.md", pj, px,
             dir);
    assert_int_equal(perf(args), 0);
    valid(pj, px);
    json_t *j = load(pj);
    assert_string_equal(json_string_value(json_object_get(j, "command")), "trend");
    json_t *t = json_object_get(j, "trends");
    assert_true(json_array_size(t) >= 1);
    json_t *first = json_array_get(t, 0);
    assert_string_equal(json_string_value(json_object_get(first, "benchmark")), "read-random");
    assert_int_equal(json_integer_value(json_object_get(first, "runs")), 2);
    assert_true(json_is_false(json_object_get(first, "change_points_computed")));
    json_decref(j);
}

static int setup(void **s)
{
    (void)s;
    bin = getenv("LIGHTNING_BIN");
    if (!bin) {
        fprintf(stderr, "LIGHTNING_BIN is not set (run through make test)\n");
        return -1;
    }
    return tu_mkdtemp(dir, sizeof dir, "test_perf_vcli");
}

static int teardown(void **s)
{
    (void)s;
    tu_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_before_comparing),
        cmocka_unit_test(test_trend),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
