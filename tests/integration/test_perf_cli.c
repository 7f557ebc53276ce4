/*
 * tests/integration/test_perf_cli.c — `lightning perf` end to end through
 * its command line ($LIGHTNING_BIN), with a fake `lightning bench` (a shell
 * script written by the test) whose figures are exact, so every verdict
 * and exit code is deterministic:
 * - run records, baseline set/show, check passes within the tolerance,
 *   fails beyond it (exit 1), is inconclusive with too few repetitions
 *   (exit 3, saying how many would decide);
 * - ab runs the two binaries in ABBA order, one process per sample, claims
 *   a 10% slowdown and passes an A/A; a failing or corrupt bench is exit 2
 *   with its message;
 * - comparisons across machines or sync modes are refused without --force
 *   and marked FORCED with it; corrupt JSON, unknown benchmarks and
 *   revisions, unknown options and a newer history schema are clear errors;
 * - export, report, trend (a planted step is found), history, progress.
 * The real bench is exercised by test_perf_ab.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/machine.h"
#include "testutil.h"

static char dir[256];
static char me[17]; /* this machine's fingerprint: the fake reports it */
static char bin[1024];
static char repo[1024];
static char out_path[400], err_path[400], hist[400], suite[400];
static char *out_buf, *err_buf;

/* ---- helpers ----------------------------------------------------------- */


static void write_file(const char *path, const char *text, int exec)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    if (exec)
        chmod(path, 0755);
}

/* Runs `lightning perf ARGS...` (NULL-terminated) in the repository root
 * with the test's history; returns the exit code, output in out_buf and
 * err_buf. */
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
        if (chdir(repo) != 0)
            _exit(126);
        setenv("LIGHTNING_PERF_HISTORY", hist, 1);
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

#define EXPECT(rc, want)                                                                  \
    do {                                                                                  \
        int rc_ = (rc);                                                                   \
        if (rc_ != (want))                                                                \
            fail_msg("exit %d, want %d\n--- stdout:\n%s\n--- stderr:\n%s", rc_, (want),   \
                     out_buf, err_buf);                                                   \
    } while (0)

#define HAS(buf, s)                                                                         \
    do {                                                                                    \
        if (!strstr((buf), (s)))                                                            \
            fail_msg("missing '%s' in:\n%s\n--- stderr:\n%s", (s), out_buf, err_buf);       \
    } while (0)

/* The fake bench. Figures: LEVEL x 100/(100 + injected slowdown) x a
 * deterministic +-1% pattern from a per-tag call counter; memory gives
 * 1000 bytes per key. FAKE_MODE=fail exits 2 with a message, =corrupt
 * writes half a JSON document. Each call appends "TAG" to $dir/calls. */
static const char *fake_sh =
    "#!/bin/sh\n"
    "[ \"$1\" = bench ] || { echo \"fake: only bench\" >&2; exit 2; }\n"
    "shift\n"
    "json=; workloads=read-random; reps=1; inject=0; sync=none\n"
    "while [ $# -gt 0 ]; do\n"
    "  case \"$1\" in\n"
    "    --json) json=$2; shift;;\n"
    "    --workloads) workloads=$2; shift;;\n"
    "    --reps) reps=$2; shift;;\n"
    "    --inject-slowdown) inject=$2; shift;;\n"
    "    --sync) sync=$2; shift;;\n"
    "    --*) shift;;\n"
    "  esac\n"
    "  shift\n"
    "done\n"
    "echo \"$FAKE_TAG\" >> \"$FAKE_DIR/calls\"\n"
    "if [ \"$FAKE_MODE\" = fail ]; then echo 'fake failure: engine exploded' >&2; exit 2; fi\n"
    "if [ \"$FAKE_MODE\" = corrupt ]; then printf '{\"schema\":\"lightning-bench/1\",\"res' > \"$json\"; exit 0; fi\n"
    "cnt=\"$FAKE_DIR/count-$FAKE_TAG\"; n=$(cat \"$cnt\" 2>/dev/null || echo 0)\n"
    "echo $((n + 1)) > \"$cnt\"\n"
    "awk -v level=\"$FAKE_LEVEL\" -v inject=\"$inject\" -v reps=\"$reps\" -v wl=\"$workloads\" \\\n"
    "    -v n=\"$n\" -v machine=\"$FAKE_MACHINE\" -v sync=\"$sync\" -v mode=\"$FAKE_MODE\" 'BEGIN {\n"
    "  printf \"{\\\"schema\\\":\\\"lightning-bench/1\\\",\\\"machine\\\":{\\\"machine_id\\\":\\\"%s\\\"},\", machine\n"
    "  printf \"\\\"build\\\":{\\\"commit\\\":\\\"fakecommit\\\",\\\"dirty\\\":false,\\\"compiler\\\":\\\"sh\\\",\\\"cflags\\\":\\\"\\\"},\\\"results\\\":[\"\n"
    "  k = split(wl, w, \",\"); first = 1\n"
    "  for (i = 1; i <= k; i++) for (r = 1; r <= reps; r++) {\n"
    "    j = n * 31 + r * 7 + i * 3; jit = 1 + ((j * 7919) % 21 - 10) / 1000\n"
    "    if (mode == \"noisy\") jit = exp(((j * 7919) % 21 - 10) / 4)\n"
    "    v = level * 100 / (100 + inject) * jit\n"
    "    if (!first) printf \",\"; first = 0\n"
    "    printf \"{\\\"benchmark\\\":\\\"%s\\\",\\\"engine\\\":\\\"lightning\\\",\\\"sync_mode\\\":\\\"%s\\\",\", w[i], sync\n"
    "    printf \"\\\"threads\\\":1,\\\"repetition\\\":%d,\\\"ops\\\":1000,\\\"params\\\":{\\\"keys\\\":100,\\\"inject_slowdown_pct\\\":%s},\", r, inject\n"
    "    if (w[i] == \"memory\") printf \"\\\"ops_per_sec\\\":null,\\\"metrics\\\":{\\\"bytes_per_key\\\":{\\\"value\\\":1000,\\\"unit\\\":\\\"B/key\\\",\\\"direction\\\":\\\"lower\\\"}}}\"\n"
    "    else printf \"\\\"ops_per_sec\\\":%.3f,\\\"latency_ns\\\":{\\\"p50\\\":%.1f,\\\"p90\\\":null,\\\"p95\\\":null,\\\"p99\\\":%.1f,\\\"p999\\\":null,\\\"max\\\":null}}\", v, 1e9 / v, 3e9 / v\n"
    "  }\n"
    "  printf \"]}\\n\"\n"
    "}' > \"$json\"\n";

/* A wrapper binary for the fake: tag, level, machine, mode. */
static void make_fake(const char *name, const char *tag, const char *level, const char *machine,
                      const char *mode)
{
    char path[600], text[1500];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(text, sizeof text,
             "#!/bin/sh\nFAKE_DIR='%s' FAKE_TAG='%s' FAKE_LEVEL='%s' FAKE_MACHINE='%s' "
             "FAKE_MODE='%s' exec '%s/fake.sh' \"$@\"\n",
             dir, tag, level, machine, mode, dir);
    write_file(path, text, 1);
}

static const char *fake(const char *name)
{
    static char p[8][600];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("LIGHTNING_BIN");
    if (!b) {
        fprintf(stderr, "LIGHTNING_BIN is not set (run through make test)\n");
        return -1;
    }
    if (!realpath(b, bin))
        return -1;
    snprintf(repo, sizeof repo, "%s", bin);
    for (int up = 0; up < 2; up++)
        *strrchr(repo, '/') = '\0';
    if (tu_mkdtemp(dir, sizeof dir, "test_perf_cli"))
        return -1;
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    snprintf(err_path, sizeof err_path, "%s/err", dir);
    snprintf(hist, sizeof hist, "%s/history.db", dir);
    snprintf(suite, sizeof suite, "%s/suite.ini", dir);
    char p[600];
    snprintf(p, sizeof p, "%s/fake.sh", dir);
    write_file(p, fake_sh, 1);
    write_file(suite,
               "[suite]\nname = fake\nkeys = 100\nreps = 8\nprocesses = 2\nrounds = 6\n"
               "[read]\nworkload = read-random\nmin_ratio = 0.90\n"
               "[memory]\nworkload = memory\nmetrics = bytes_per_key\nmax_ratio = 1.05\n",
               0);
    bench_machine m;
    bench_machine_probe(&m, NULL);
    snprintf(me, sizeof me, "%s", m.machine_id);
    if (!strcmp(me, "bbbbbbbbbbbbbbbb"))
        return -1;
    make_fake("A", "A", "1000000", me, "ok");
    make_fake("A2", "A2", "1000000", me, "ok");
    make_fake("B", "B", "900000", me, "ok");
    make_fake("S95", "S95", "950000", me, "ok");
    make_fake("S80", "S80", "800000", me, "ok");
    make_fake("OTHER", "OTHER", "1000000", "bbbbbbbbbbbbbbbb", "ok");
    make_fake("FAIL", "FAIL", "1000000", me, "fail");
    make_fake("CORRUPT", "CORRUPT", "1000000", me, "corrupt");
    make_fake("NOISY", "NOISY", "1000000", me, "noisy");
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

static void reset_history(void)
{
    unlink(hist);
}

/* ---- tests ------------------------------------------------------------- */

static void test_usage(void **state)
{
    (void)state;
    EXPECT(perf("--help", NULL), 0);
    HAS(out_buf, "Commands:");
    HAS(out_buf, "3 inconclusive");
    EXPECT(perf("check", "--help", NULL), 0);
    HAS(out_buf, "usage: lightning perf check");
    EXPECT(perf("frobnicate", NULL), 2);
    HAS(err_buf, "unknown command 'frobnicate'");
    EXPECT(perf("run", "--frob", NULL), 2);
    HAS(err_buf, "unknown option --frob");
    EXPECT(perf("check", "--inject-slowdown", "5", NULL), 2); /* not a check option */
    EXPECT(perf("run", "--reps", "many", NULL), 2);
    HAS(err_buf, "needs a whole number");
    EXPECT(perf("baseline", NULL), 2);
    /* argument parsing: 0 would silently mean "the suite's default" */
    EXPECT(perf("run", "--reps", "0", NULL), 2);
    EXPECT(perf("run", "--reps", "-3", NULL), 2);
    EXPECT(perf("run", "--reps", "2x", NULL), 2);
    EXPECT(perf("check", "--help", NULL), 0);
    HAS(out_buf, "[--establish-baseline]");
    HAS(out_buf, "[--gate-on G]");
    EXPECT(perf("ab", "--help", NULL), 0);
    HAS(out_buf, "[--gate-on G]");
    EXPECT(perf("report", "--help", NULL), 0);
    HAS(out_buf, "[--run ID]");
}

static void test_run_baseline_check(void **state)
{
    (void)state;
    reset_history();
    EXPECT(perf("check", NULL), 2); /* no history yet */
    HAS(err_buf, "no history");
    EXPECT(perf("run", "--suite", suite, "--bin", fake("A"), "--label", "first", NULL), 0);
    HAS(out_buf, "recorded run 1");
    HAS(out_buf, "read-random/lightning");
    EXPECT(perf("check", NULL), 2); /* no baseline */
    HAS(err_buf, "baseline set");
    EXPECT(perf("baseline", "set", NULL), 0);
    HAS(out_buf, "is now run 1");
    EXPECT(perf("check", NULL), 0); /* the baseline itself */
    HAS(out_buf, "nothing to compare");

    /* 5% slower: within the 90% gate */
    EXPECT(perf("run", "--suite", suite, "--bin", fake("S95"), NULL), 0);
    EXPECT(perf("check", NULL), 0);
    HAS(out_buf, "read-random/lightning");
    HAS(out_buf, "same");
    HAS(out_buf, "-> exit 0 (pass)");
    /* 20% slower: a regression */
    EXPECT(perf("run", "--suite", suite, "--bin", fake("S80"), NULL), 0);
    EXPECT(perf("check", NULL), 1);
    HAS(out_buf, "REGRESSION");
    HAS(out_buf, "-20.");
    /* explicit runs */
    EXPECT(perf("check", "2", NULL), 0);
    EXPECT(perf("check", "3", "--against", "2", NULL), 1);
    EXPECT(perf("check", "99", NULL), 2);
    HAS(err_buf, "no run 99");
    /* an injected slowdown recorded by `run` is one too */
    EXPECT(perf("run", "--suite", suite, "--bin", fake("A"), "--inject-slowdown", "25", NULL), 0);
    EXPECT(perf("check", NULL), 1);
    EXPECT(perf("history", NULL), 0);
    HAS(out_buf, "[baseline]");
    HAS(out_buf, "injected slowdown 25%");
    HAS(out_buf, "fakecommit");
    EXPECT(perf("baseline", "show", NULL), 0);
    char want[128];
    snprintf(want, sizeof want, "* suite fake, sync NONE, machine %s: run 1", me);
    HAS(out_buf, want);
}

static void test_inconclusive(void **state)
{
    (void)state;
    reset_history();
    EXPECT(perf("run", "--suite", suite, "--bin", fake("A"), "--reps", "3", NULL), 0);
    HAS(out_buf, "can never be significant");
    EXPECT(perf("baseline", "set", NULL), 0);
    EXPECT(perf("run", "--suite", suite, "--bin", fake("S80"), "--reps", "3", NULL), 0);
    EXPECT(perf("check", NULL), 3);
    HAS(out_buf, "INCONCLUSIVE");
    HAS(out_buf, "reps/side would decide");
    HAS(out_buf, "-> exit 3");
    /* exit-code precedence: an output that cannot be written is an error
     * (2), which outranks inconclusive (3); it is found before any work */
    EXPECT(perf("check", "--md", "/nonexistent/x.md", NULL), 2);
    HAS(err_buf, "/nonexistent");
    EXPECT(perf("check", "--json", "/nonexistent/x.json", NULL), 2);
    /* suite validation: a run of suite 'fake' is not judged with the quick
     * suite's sections and tolerances */
    EXPECT(perf("check", "--quick", NULL), 2);
    HAS(err_buf, "recorded with suite 'fake'");
}

static void count_calls(const char *want_seq)
{
    char p[600];
    snprintf(p, sizeof p, "%s/calls", dir);
    char *calls = tu_read_text_or_empty(p);
    /* one line per call: join them */
    char seq[512] = "";
    for (char *t = strtok(calls, "\n"); t; t = strtok(NULL, "\n")) {
        strncat(seq, t, sizeof seq - strlen(seq) - 2);
        strncat(seq, " ", sizeof seq - strlen(seq) - 1);
    }
    free(calls);
    if (strcmp(seq, want_seq))
        fail_msg("call order '%s', want '%s'", seq, want_seq);
    unlink(p);
}

static void test_ab_order_and_verdicts(void **state)
{
    (void)state;
    reset_history();
    char p[600];
    snprintf(p, sizeof p, "%s/calls", dir);
    unlink(p);
    /* 10% slower head: ab's limit is the 2% floor, a regression */
    EXPECT(perf("ab", "--suite", suite, "--base-bin", fake("A"), "--head-bin", fake("B"),
                "--rounds", "6", NULL), 1);
    HAS(out_buf, "6 rounds per side, ABBA order");
    HAS(out_buf, "REGRESSION");
    /* one bench process per sample; ABBA, all workloads in one process */
    count_calls("A B B A A B B A A B B A ");
    /* A/A: two different binaries with equal figures pass */
    EXPECT(perf("ab", "--suite", suite, "--base-bin", fake("A"), "--head-bin", fake("A2"),
                "--rounds", "6", NULL), 0);
    HAS(out_buf, "-> exit 0 (pass)");
    count_calls("A A2 A2 A A A2 A2 A A A2 A2 A ");
    /* the head's injected slowdown: 10% more time, caught */
    EXPECT(perf("ab", "--suite", suite, "--base-bin", fake("A"), "--head-bin", fake("A"),
                "--inject-slowdown", "10", "--rounds", "6", NULL), 1);
    HAS(out_buf, "injected slowdown 10%");
    unlink(p);
    /* recorded as a pair of runs and a comparison */
    EXPECT(perf("history", NULL), 0);
    HAS(out_buf, "ab-base");
    HAS(out_buf, "ab-head");
    /* --no-record leaves the history alone */
    EXPECT(perf("ab", "--suite", suite, "--base-bin", fake("A"), "--head-bin", fake("A2"),
                "--rounds", "5", "--no-record", "--benchmark", "read", NULL), 0);
    EXPECT(perf("history", NULL), 0);
    HAS(out_buf, "6 runs");
    unlink(p);
}

static void test_bench_failures(void **state)
{
    (void)state;
    reset_history();
    EXPECT(perf("ab", "--suite", suite, "--base-bin", fake("A"), "--head-bin", fake("FAIL"),
                "--rounds", "5", NULL), 2);
    HAS(err_buf, "failed (exit 2)");
    HAS(err_buf, "fake failure: engine exploded");
    EXPECT(perf("run", "--suite", suite, "--bin", fake("CORRUPT"), NULL), 2);
    HAS(err_buf, "corrupt JSON");
    EXPECT(perf("ab", "--suite", suite, "--base-bin", "/nonexistent/lightning", "--head-bin",
                fake("A"), NULL), 2);
    HAS(err_buf, "not an executable file");
    EXPECT(perf("ab", "--suite", suite, "--base", "no-such-revision-xyz", "--head-bin",
                fake("A"), NULL), 2);
    HAS(err_buf, "unknown revision 'no-such-revision-xyz'");
    EXPECT(perf("ab", "--suite", suite, "--head-bin", fake("A"), NULL), 2);
    HAS(err_buf, "--base REV or --base-bin PATH is required");
    EXPECT(perf("run", "--suite", suite, "--bin", fake("A"), "--benchmark", "nope", NULL), 2);
    HAS(err_buf, "unknown benchmark 'nope' (suite fake has: read, memory)");
    EXPECT(perf("run", "--suite", "/nonexistent.ini", NULL), 2);
    HAS(err_buf, "cannot open suite file");
}

static void test_json_import_and_corruption(void **state)
{
    (void)state;
    reset_history();
    char good[600], bad[600];
    snprintf(good, sizeof good, "%s/good.json", dir);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    write_file(good,
               "{\"schema\":\"lightning-bench/1\",\"machine\":{\"machine_id\":\"cccccccccccccccc\"},"
               "\"results\":[{\"benchmark\":\"read-random\",\"engine\":\"lightning\","
               "\"sync_mode\":\"none\",\"threads\":1,\"repetition\":1,\"ops_per_sec\":10},"
               "{\"benchmark\":\"read-random\",\"engine\":\"lightning\",\"sync_mode\":\"none\","
               "\"threads\":1,\"repetition\":2,\"ops_per_sec\":11}]}",
               0);
    write_file(bad, "{\"schema\":\"lightning-bench/1\",\n\"machine\": {,}}", 0);
    EXPECT(perf("run", "--suite", suite, "--from-json", good, NULL), 0);
    HAS(out_buf, "recorded run 1");
    HAS(out_buf, "machine cccccccccccccccc");
    EXPECT(perf("run", "--suite", suite, "--from-json", bad, NULL), 2);
    HAS(err_buf, "bad.json: corrupt JSON at line 2");
    EXPECT(perf("export", "--csv", "-", NULL), 0);
    HAS(out_buf, "run_id,timestamp,commit,machine_id,benchmark,engine,sync_mode,threads,"
                 "repetition,metric,value,unit");
    HAS(out_buf, "cccccccccccccccc,read-random,lightning,NONE,1,1,ops_per_sec,11,ops/s");
}

static void test_cross_machine_and_sync_refused(void **state)
{
    (void)state;
    reset_history();
    EXPECT(perf("run", "--suite", suite, "--bin", fake("A"), NULL), 0);
    EXPECT(perf("baseline", "set", NULL), 0);
    EXPECT(perf("run", "--suite", suite, "--bin", fake("OTHER"), NULL), 0); /* run 2 */
    EXPECT(perf("check", "2", NULL), 2);
    HAS(err_buf, "no baseline for machine bbbbbbbbbbbbbbbb");
    HAS(err_buf, "--force");
    EXPECT(perf("check", "2", "--force", NULL), 0);
    HAS(out_buf, "WARNING: FORCED comparison (--force): different machines");
    EXPECT(perf("report", "--md", "-", NULL), 0);
    HAS(out_buf, "FORCED comparison");
    EXPECT(perf("check", "1", "--against", "2", NULL), 2);
    HAS(err_buf, "refusing to compare");
    char want[128];
    snprintf(want, sizeof want, "different machines (bbbbbbbbbbbbbbbb vs %s)", me);
    HAS(err_buf, want);
    /* another sync mode on the same machine */
    char full[600];
    snprintf(full, sizeof full, "%s/full.ini", dir);
    write_file(full, "[suite]\nname = fake\nsync = full\nreps = 6\n[read]\nworkload = read-random\n",
               0);
    EXPECT(perf("run", "--suite", full, "--bin", fake("A"), NULL), 0); /* run 3 */
    EXPECT(perf("check", "3", "--against", "1", NULL), 2);
    HAS(err_buf, "different sync modes (NONE vs FULL)");
    EXPECT(perf("check", "3", "--against", "1", "--force", NULL), 0);
    HAS(out_buf, "FORCED");
}

static void test_newer_schema(void **state)
{
    (void)state;
    reset_history();
    EXPECT(perf("run", "--suite", suite, "--bin", fake("A"), NULL), 0);
    sqlite3 *s;
    assert_int_equal(sqlite3_open(hist, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    EXPECT(perf("history", NULL), 2);
    HAS(err_buf, "schema version 7, newer than this lightning understands");
    EXPECT(perf("run", "--suite", suite, "--bin", fake("A"), NULL), 2);
}

static void test_reports_trend_progress(void **state)
{
    (void)state;
    reset_history();
    /* 12 runs with a 20% step after the sixth */
    for (int i = 0; i < 12; i++)
        EXPECT(perf("run", "--suite", suite, "--bin", fake(i < 6 ? "A" : "S80"), "--reps", "5",
                    NULL), 0);
    EXPECT(perf("baseline", "set", "1", NULL), 0);
    EXPECT(perf("check", NULL), 1);
    EXPECT(perf("trend", "--suite", suite, NULL), 0);
    HAS(out_buf, "read-random/lightning ops_per_sec: 12 runs");
    HAS(out_buf, "change point at run 7");
    HAS(out_buf, "worse");
    HAS(out_buf, "memory/lightning bytes_per_key");
    EXPECT(perf("trend", "--suite", suite, "--benchmark", "read", NULL), 0);
    assert_null(strstr(out_buf, "memory/"));
    EXPECT(perf("trend", "--suite", suite, "--benchmark", "nothing-like-it", NULL), 2);
    HAS(err_buf, "unknown benchmark");
    char html[600], md[600];
    snprintf(html, sizeof html, "%s/r.html", dir);
    snprintf(md, sizeof md, "%s/r.md", dir);
    EXPECT(perf("report", "--html", html, "--md", md, NULL), 0);
    char *h = tu_read_text_or_empty(html), *m = tu_read_text_or_empty(md);
    assert_non_null(strstr(h, "<svg"));
    assert_non_null(strstr(h, "REGRESSION"));
    assert_non_null(strstr(m, "## Last comparison: check"));
    assert_non_null(strstr(m, "run 7"));
    free(h);
    free(m);
    char csv[600];
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    EXPECT(perf("export", "--csv", csv, "--run", "3", NULL), 0);
    HAS(err_buf, "exported");
    EXPECT(perf("export", "--csv", csv, "--json", csv, NULL), 2);
    /* progress on stderr when asked (a terminal asks implicitly) */
    setenv("LIGHTNING_PERF_PROGRESS", "1", 1);
    int rc = perf("run", "--suite", suite, "--bin", fake("A"), NULL);
    unsetenv("LIGHTNING_PERF_PROGRESS");
    EXPECT(rc, 0);
    HAS(err_buf, "[  2/2]");
    HAS(err_buf, "remaining ~");
    HAS(err_buf, "elapsed");
    assert_null(strstr(out_buf, "elapsed")); /* never on stdout */
}

/* ab with pairing = duet judges by process pairs (signed-rank,
 * Hodges-Lehmann), and check uses the history's between-run spread once
 * there are 5 comparable runs (before that it says so). */
static void test_duet_pairs_and_lookback(void **state)
{
    (void)state;
    reset_history();
    char duet[600];
    snprintf(duet, sizeof duet, "%s/duet.ini", dir);
    write_file(duet,
               "[suite]\nname = fakeduet\nkeys = 100\nreps = 2\nrounds = 10\npairing = duet\n"
               "ab_reps = 2\n[read]\nworkload = read-random\n",
               0);
    EXPECT(perf("ab", "--suite", duet, "--base-bin", fake("A"), "--head-bin", fake("B"), NULL),
           1);
    HAS(out_buf, "pairing: duet (same time, own cores) read");
    HAS(out_buf, "duet, 10 pairs");
    HAS(out_buf, "REGRESSION");
    EXPECT(perf("ab", "--suite", duet, "--base-bin", fake("A"), "--head-bin", fake("A2"), NULL),
           0);
    HAS(out_buf, "duet, 10 pairs");
    /* selftest: A/A and frozen-head runs, rates and times printed (the
     * fake's figures are computed, not timed, so the freeze cannot show). */
    EXPECT(perf("selftest", "--suite", duet, "--bin", fake("A"), "--runs", "2", NULL), 0);
    HAS(out_buf, "selftest: 2 A/A and 2 comparisons with the head frozen 5% of its wall time");
    HAS(out_buf, "false-alarm rate: 0 of 2 A/A rows (0.0%); power at 5%: 0 of 2");
    HAS(out_buf, "A/A    exits: 2 pass");
    HAS(out_buf, "frozen: INCONCL.");
    HAS(out_buf, ", load "); /* each run's load average beside its result */
    /* crossover = 1: two rounds with swapped cores are one unit. */
    write_file(duet,
               "[suite]\nname = fakeduet\nkeys = 100\nreps = 2\nrounds = 16\npairing = duet\n"
               "ab_reps = 2\ncrossover = 1\n[read]\nworkload = read-random\n",
               0);
    EXPECT(perf("ab", "--suite", duet, "--base-bin", fake("A"), "--head-bin", fake("B"), NULL),
           1);
    HAS(out_buf, "duet crossover, 8 pairs");
    /* A suite key of the wrong kind is refused with its line. */
    write_file(duet, "[suite]\nname = x\npairing = sometimes\n[read]\nworkload = read-random\n",
               0);
    EXPECT(perf("ab", "--suite", duet, "--base-bin", fake("A"), "--head-bin", fake("A2"), NULL),
           2);
    HAS(err_buf, "pairing must be abba or duet");

    reset_history();
    EXPECT(perf("run", "--suite", suite, "--bin", fake("A"), NULL), 0);
    EXPECT(perf("run", "--suite", suite, "--bin", fake("A2"), NULL), 0);
    EXPECT(perf("check", "2", "--against", "1", NULL), 0);
    HAS(out_buf, "insufficient history");
    for (int i = 0; i < 4; i++)
        EXPECT(perf("run", "--suite", suite, "--bin", fake("A"), NULL), 0);
    EXPECT(perf("run", "--suite", suite, "--bin", fake("S80"), NULL), 0);
    EXPECT(perf("check", "7", "--against", "6", NULL), 1);
    HAS(out_buf, "between-run test against up to 6 earlier");
    HAS(out_buf, "between runs: 6-run window");
    HAS(out_buf, "REGRESSION");
    /* A 5% drop is inside read's 10% tolerance between runs. */
    EXPECT(perf("run", "--suite", suite, "--bin", fake("S95"), NULL), 0);
    EXPECT(perf("check", "8", "--against", "6", NULL), 0);
    HAS(out_buf, "between runs: 6-run window");
}

/* suite validation / calibration: floors from a loaded machine are refused
 * (exit 2, nothing stored) unless --force */
static int floor_rows(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(hist, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM noise_floors", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_calibrate_refuses_noise(void **state)
{
    (void)state;
    reset_history();
    EXPECT(perf("calibrate", "--suite", suite, "--bin", fake("NOISY"), "--rounds", "6", NULL),
           2);
    HAS(err_buf, "not stored");
    HAS(err_buf, "--force");
    assert_int_equal(floor_rows(), 0);
    EXPECT(perf("calibrate", "--suite", suite, "--bin", fake("NOISY"), "--rounds", "6",
                "--force", NULL),
           0);
    assert_true(floor_rows() > 0);
    /* a quiet machine stores without --force */
    reset_history();
    EXPECT(perf("calibrate", "--suite", suite, "--bin", fake("A"), "--rounds", "6", NULL), 0);
    assert_true(floor_rows() > 0);
}

/* not-a-history: an empty file is left empty by the read-only commands; a
 * truncated history is "damaged", a stray file "not a lightning perf
 * history" */
static void test_history_files(void **state)
{
    (void)state;
    reset_history();
    write_file(hist, "", 0);
    EXPECT(perf("history", NULL), 2);
    HAS(err_buf, "empty");
    struct stat st;
    assert_int_equal(stat(hist, &st), 0);
    assert_int_equal((int)st.st_size, 0);
    EXPECT(perf("check", NULL), 2);
    assert_int_equal(stat(hist, &st), 0);
    assert_int_equal((int)st.st_size, 0);
    /* a writer may make it a history */
    EXPECT(perf("run", "--suite", suite, "--bin", fake("A"), NULL), 0);
    EXPECT(perf("history", NULL), 0);
    assert_int_equal(stat(hist, &st), 0);
    assert_true(st.st_size > 8192);
    assert_int_equal(truncate(hist, st.st_size / 2), 0);
    EXPECT(perf("history", NULL), 2);
    HAS(err_buf, "damaged");
    write_file(hist, "these are my notes, not a database; they are long enough to be a header\n",
               0);
    EXPECT(perf("history", NULL), 2);
    HAS(err_buf, "not a lightning perf history");
    reset_history();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_run_baseline_check),
        cmocka_unit_test(test_inconclusive),
        cmocka_unit_test(test_ab_order_and_verdicts),
        cmocka_unit_test(test_bench_failures),
        cmocka_unit_test(test_json_import_and_corruption),
        cmocka_unit_test(test_cross_machine_and_sync_refused),
        cmocka_unit_test(test_newer_schema),
        cmocka_unit_test(test_reports_trend_progress),
        cmocka_unit_test(test_duet_pairs_and_lookback),
        cmocka_unit_test(test_calibrate_refuses_noise),
        cmocka_unit_test(test_history_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
