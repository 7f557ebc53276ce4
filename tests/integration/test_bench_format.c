/*
 * tests/integration/test_bench_format.c — `lightning bench --format csv`
 * and `--format markdown` ($LIGHTNING_BIN, the real bench, two engines,
 * a throughput and a lower-is-better workload): the CSV header is the
 * documented contract, there is one row per benchmark and engine with
 * reps, mean <= max, min <= median <= max, relative = 1 for the first
 * engine and median/median(first) for the other, memory is "lower" with
 * its unit and empty latency fields (not measured: nothing made up); the
 * Markdown is one table with the same rows.
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
#include <sys/wait.h>

static const char *bin;

static char *run(const char *fmt)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "%s bench --quick --engines lightning,null --workloads read-random,memory "
             "--reps 3 --no-progress --format %s 2>/dev/null",
             bin, fmt);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + n, 1, cap - n - 1, p)) > 0)
        n += r;
    b[n] = '\0';
    int st = pclose(p);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return b;
}

/* Splits a CSV line without quotes (none of these fields needs any). */
static int fields(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ',') {
            *p = '\0';
            f[n++] = p + 1;
        }
    return n;
}

static void test_csv(void **s)
{
    (void)s;
    char *out = run("csv");
    char *save = NULL, *line = strtok_r(out, "\n", &save);
    assert_string_equal(line, "benchmark,engine,sync_mode,threads,metric,unit,direction,reps,"
                              "mean,stddev,median,min,max,relative,p50_ns,p99_ns,user_s,system_s");
    int rows = 0;
    double lightning_read = NAN;
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[24];
        assert_int_equal(fields(line, f, 24), 18);
        rows++;
        assert_string_equal(f[7], "3");
        double mean = atof(f[8]), med = atof(f[10]), mn = atof(f[11]), mx = atof(f[12]);
        assert_true(mn <= med && med <= mx && mn <= mean && mean <= mx && mn > 0);
        double rel = atof(f[13]);
        if (!strcmp(f[0], "read-random")) {
            assert_string_equal(f[4], "ops_per_sec");
            assert_string_equal(f[6], "higher");
            assert_true(f[14][0] && f[15][0]); /* latency was sampled */
            if (!strcmp(f[1], "lightning")) {
                lightning_read = med;
                assert_true(fabs(rel - 1) < 1e-9);
            } else {
                assert_string_equal(f[1], "null");
                assert_true(fabs(rel - med / lightning_read) < 1e-6 * rel);
            }
        } else {
            assert_string_equal(f[0], "memory");
            assert_string_equal(f[4], "bytes_per_key");
            assert_string_equal(f[5], "B/key");
            assert_string_equal(f[6], "lower");
            assert_string_equal(f[14], ""); /* no latency figure: empty, not 0 */
            assert_string_equal(f[15], "");
        }
    }
    assert_int_equal(rows, 4);
    free(out);
}

static void test_markdown(void **s)
{
    (void)s;
    char *out = run("markdown");
    assert_non_null(strstr(out, "| Benchmark | Engine | Threads | Median | Mean ± σ | Min | Max "
                                "| p50 [ns] | p99 [ns] | Relative to lightning |\n"
                                "|:---|:---|---:|"));
    int rows = 0;
    for (char *p = out; (p = strstr(p, "\n| `")); p++)
        rows++;
    assert_int_equal(rows, 4);
    assert_non_null(strstr(out, "| `memory` | lightning | 1 |"));
    assert_non_null(strstr(out, "(lower is better)"));
    free(out);
}

static int setup(void **s)
{
    (void)s;
    bin = getenv("LIGHTNING_BIN");
    return bin ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_csv), cmocka_unit_test(test_markdown)};
    return cmocka_run_group_tests(tests, setup, NULL);
}
