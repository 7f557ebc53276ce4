/*
 * tests/integration/test_perf_ab.c — the framework checked against the
 * real instrument: `lightning perf` driving `lightning bench` on the
 * lightning engine (read-random, 5000 keys, 0.05 s repetitions, one bench
 * process per sample, ABBA order).
 *
 *   1. calibrate: A/A rounds measure this machine's noise floor now;
 *   2. an A/A `ab` of the same build passes (exit 0), judged on that floor;
 *   3. an `ab` whose head has an injected slowdown is a regression (exit 1),
 *      judged on the default 2% floor (a history of its own), so that a
 *      load spike during calibration (floors of 50% were seen while other
 *      jobs saturated both cores) cannot make it undecidable.
 *
 * Why the injected slowdown here is 100% (twice the work per get) and not
 * the 5% of the demo and of the closing-note measurement: this is a shared
 * 2-core box where other jobs come and go, and the run-to-run spread of a
 * 0.05 s read repetition measured 3-15% (CV) depending on the load. At that
 * noise the calibrated floor is 5-25% and a 5% change is, honestly,
 * undecidable in 12 rounds: the framework says INCONCLUSIVE (exit 3), which
 * is the right answer, but not a test that can pass reliably. A 100% slowdown
 * is far beyond the noise, so the test asserts a real verdict, fast.
 * The A/A side cannot go flaky the other way either: the floor is
 * calibrated on this machine moments before, and an inconclusive A/A is
 * given more rounds (--max-rounds), as the exit-3 message advises.
 * docs/perf.md ("Measured on this machine") has the 2/5/10% detection rates
 * and the A/A false-alarm count from repeated `ab --quick` runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testutil.h"

static char dir[256], bin[1024], hist[400], hist2[400], suite[400], out_path[400],
    err_path[400];
static const char *use_hist = hist;
static char *out_buf, *err_buf;


static int perf(const char *first, ...)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "perf";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 62; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        setenv("LIGHTNING_PERF_HISTORY", use_hist, 1);
        setenv("TMPDIR", dir, 1);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    free(out_buf);
    free(err_buf);
    out_buf = tu_read_text_or_empty(out_path);
    err_buf = tu_read_text_or_empty(err_path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define EXPECT(rc, want)                                                                \
    do {                                                                                \
        int rc_ = (rc);                                                                 \
        if (rc_ != (want))                                                              \
            fail_msg("exit %d, want %d\n--- stdout:\n%s\n--- stderr:\n%s", rc_, (want), \
                     out_buf, err_buf);                                                 \
    } while (0)

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("LIGHTNING_BIN");
    if (!b || !realpath(b, bin)) {
        fprintf(stderr, "LIGHTNING_BIN is not set (run through make test)\n");
        return -1;
    }
    if (tu_mkdtemp(dir, sizeof dir, "test_perf_ab"))
        return -1;
    snprintf(hist, sizeof hist, "%s/history.db", dir);
    snprintf(hist2, sizeof hist2, "%s/uncalibrated.db", dir);
    snprintf(suite, sizeof suite, "%s/ab.ini", dir);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    snprintf(err_path, sizeof err_path, "%s/err", dir);
    FILE *f = fopen(suite, "w");
    if (!f)
        return -1;
    fputs("[suite]\nname = abtest\nengines = lightning\nsync = none\nkeys = 5000\n"
          "duration = 0.05\nrounds = 12\nargs = --warmup 0.02\n"
          "[read]\nworkload = read-random\nmin_ratio = 0.90\n",
          f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmdir(dir);
    free(out_buf);
    free(err_buf);
    return 0;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* The g of the read-random row: "... ops_per_sec  <base> <head> <chg> <g> [" */
static double row_g(void)
{
    const char *p = strstr(out_buf, "read-random/lightning");
    if (!p)
        return -1;
    const char *q = strchr(p, '[');
    if (!q)
        return -1;
    while (q > p && q[-1] == ' ')
        q--;
    while (q > p && q[-1] != ' ')
        q--;
    return atof(q);
}

static void test_calibrate_aa_and_injected(void **state)
{
    (void)state;
    double t0 = seconds();
    /* --force: on this shared machine a floor above calibrate's 25% limit
     * is possible under load, and this test is about the framework */
    EXPECT(perf("calibrate", "--suite", suite, "--rounds", "12", "--force", NULL), 0);
    if (!strstr(out_buf, "read-random/lightning"))
        fail_msg("calibrate printed no floor:\n%s", out_buf);
    print_message("# calibrate (%.1f s):\n", seconds() - t0);
    char *line = strstr(out_buf, "read-random/lightning");
    print_message("#   %.*s\n", (int)(strchr(line, '\n') - line), line);

    /* A/A: the same binary on both sides passes */
    t0 = seconds();
    EXPECT(perf("ab", "--suite", suite, "--base-bin", bin, "--head-bin", bin, "--rounds", "12",
                "--max-rounds", "48", NULL),
           0);
    if (strstr(out_buf, "REGRESSION"))
        fail_msg("A/A claimed a regression:\n%s", out_buf);
    double g_aa = row_g();
    print_message("# A/A ab: exit 0, g = %.3f (%.1f s)\n", g_aa, seconds() - t0);
    assert_true(g_aa > 0.5 && g_aa < 2.0);

    /* Injected slowdown on the head side, uncalibrated history: caught */
    use_hist = hist2;
    t0 = seconds();
    EXPECT(perf("ab", "--suite", suite, "--base-bin", bin, "--head-bin", bin, "--rounds", "12",
                "--max-rounds", "48", "--inject-slowdown", "100", NULL),
           1);
    double g = row_g();
    print_message("# injected 100%%: exit 1, g = %.3f (%.1f s)\n", g, seconds() - t0);
    if (!strstr(out_buf, "REGRESSION"))
        fail_msg("no REGRESSION row:\n%s", out_buf);
    /* twice the work per get: well below 0.8 of the base's throughput */
    assert_true(g > 0.2 && g < 0.8);

    /* the comparisons and their runs are in the histories */
    EXPECT(perf("history", NULL), 0);
    if (!strstr(out_buf, "ab-head") || !strstr(out_buf, "injected slowdown 100%"))
        fail_msg("history lacks the runs:\n%s", out_buf);
    use_hist = hist;
    EXPECT(perf("history", NULL), 0);
    if (!strstr(out_buf, "ab-head") || !strstr(out_buf, "calibrate-a"))
        fail_msg("history lacks the runs:\n%s", out_buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibrate_aa_and_injected),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
