/*
 * tests/integration/test_perf_testbeds.c — named testbeds through the CLI
 * ($LIGHTNING_BIN, real bench output recorded with --from-json):
 * - a run under --machine NAME and its baseline survive a change of the
 *   machine fingerprint (a kernel update: the second document's
 *   fingerprint is edited): check finds the baseline, compares, and notes
 *   the fingerprint change; LIGHTNING_PERF_MACHINE does the same;
 * - a run of another machine is refused without --force and labelled
 *   FORCED with both machines named with it;
 * - history --all shows each run's machine and fingerprint, --machine
 *   filters; a bad name is a clear error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"

#ifndef PERF_SOURCE_DIR
#error "PERF_SOURCE_DIR must name the source tree (the Makefile sets it)"
#endif
#define SUITE PERF_SOURCE_DIR "/tests/ci/suite.ini"

static char dir[64];
static const char *bin;
static char *out, *err;

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}


static int perf(const char *env, const char *args)
{
    char cmd[2048], po[128], pe[128];
    snprintf(po, sizeof po, "%s/out", dir);
    snprintf(pe, sizeof pe, "%s/err", dir);
    snprintf(cmd, sizeof cmd,
             "env -u LIGHTNING_PERF_MACHINE %s LIGHTNING_PERF_HISTORY=%s/h.db "
             "LIGHTNING_PERF_PROGRESS=0 %s perf %s >%s 2>%s",
             env ? env : "", dir, bin, args, po, pe);
    int rc = sh(cmd);
    free(out);
    free(err);
    out = tu_read_text_or_empty(po);
    err = tu_read_text_or_empty(pe);
    return rc;
}

#define HAS(buf, s)                                                                      \
    do {                                                                                 \
        if (!strstr((buf), (s)))                                                         \
            fail_msg("missing '%s' in:\n%s\n--- stderr:\n%s", (s), out, err);            \
    } while (0)

static void test_testbeds(void **s)
{
    (void)s;
    char cmd[1024], args[512];
    snprintf(cmd, sizeof cmd,
             "%s bench --quick --engines lightning --workloads read-random,error-absent --reps 6 "
             "--json %s/b0.json >/dev/null 2>&1",
             bin, dir);
    assert_int_equal(sh(cmd), 0);
    /* the same results as if measured after a kernel update */
    snprintf(cmd, sizeof cmd,
             "sed 's/\"machine_id\": *\"[0-9a-f]*\"/\"machine_id\":\"ffffffffffffffff\"/' "
             "%s/b0.json > %s/b1.json && grep -q ffffffffffffffff %s/b1.json",
             dir, dir, dir);
    assert_int_equal(sh(cmd), 0);

    snprintf(args, sizeof args, "run --machine ci-box --suite %s --from-json %s/b0.json", SUITE,
             dir);
    assert_int_equal(perf(NULL, args), 0);
    HAS(out, "machine ci-box");
    assert_int_equal(perf(NULL, "check --machine ci-box --establish-baseline"), 0);
    HAS(out, "run 1 is now the baseline");

    snprintf(args, sizeof args, "run --suite %s --from-json %s/b1.json", SUITE, dir);
    assert_int_equal(perf("LIGHTNING_PERF_MACHINE=ci-box", args), 0);
    int rc = perf("LIGHTNING_PERF_MACHINE=ci-box", "check");
    if (rc != 0)
        fail_msg("check of identical results exited %d:\n%s\n%s", rc, out, err);
    HAS(out, "check run 2");
    HAS(out, "fingerprint ");
    HAS(out, " (base) -> ffffffffffffffff (head)");

    /* another machine: refused, then forced and labelled */
    snprintf(args, sizeof args, "run --suite %s --from-json %s/b1.json", SUITE, dir);
    assert_int_equal(perf(NULL, args), 0);
    HAS(out, "recorded run 3");
    assert_int_equal(perf(NULL, "check 3 --against 1"), 2);
    HAS(err, "refusing to compare");
    HAS(err, "ci-box");
    assert_int_equal(perf(NULL, "check 3 --against 1 --force"), 0);
    HAS(out, "FORCED");
    HAS(out, "ci-box");
    HAS(out, "ffffffffffffffff");

    assert_int_equal(perf(NULL, "history --all"), 0);
    HAS(out, "machine (fingerprint)");
    HAS(out, "ci-box (ffffffff)");
    assert_int_equal(perf(NULL, "history --machine ci-box"), 0);
    HAS(out, "2 runs on this machine ci-box");
    assert_int_equal(perf(NULL, "history --machine 'bad name'"), 2);
    HAS(err, "machine name 'bad name'");
}

static int setup(void **s)
{
    (void)s;
    bin = getenv("LIGHTNING_BIN");
    if (!bin) {
        fprintf(stderr, "LIGHTNING_BIN is not set (run through make test)\n");
        return -1;
    }
    return tu_mkdtemp(dir, sizeof dir, "test_perf_tb");
}

static int teardown(void **s)
{
    (void)s;
    free(out);
    free(err);
    tu_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_testbeds)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
