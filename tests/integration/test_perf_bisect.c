/*
 * tests/integration/test_perf_bisect.c — `lightning perf bisect` on a toy
 * git repository of six commits whose "build" (build.sh, run through
 * --build-cmd) produces a `lightning` wrapper around a fake bench with an
 * exact injected slowdown:
 *   c1 good, c2 does not build, c3 good, c4 30% slower (the culprit),
 *   c5 and c6 slower.
 * bisect must name c4, skip c2 if it visits it, and leave no worktree or
 * bisect state behind; a "bad" revision that is not slower, and unknown
 * revisions, are clear errors. The fake bench keeps it fast and exact; the
 * real bench's timing is test_perf_ab's subject.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/machine.h"
#include "testutil.h"

static char dir[256], bin[1024], repo[400], hist[400], suite[400], out_path[400],
    err_path[400];
static char sha[7][41];
static char *out_buf, *err_buf;


static void write_file(const char *path, const char *text, int exec)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    if (exec)
        chmod(path, 0755);
}

/* Runs argv in cwd; output in out_buf/err_buf; returns the exit code. */
static int run(const char *cwd, const char *const *argv)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        if (chdir(cwd))
            _exit(126);
        setenv("LIGHTNING_PERF_HISTORY", hist, 1);
        execvp(argv[0], (char *const *)argv);
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

static void git(const char *a, const char *b, const char *c)
{
    const char *argv[] = {"git", a, b, c, NULL};
    if (run(repo, argv) != 0)
        fail_msg("git %s %s %s failed: %s", a, b ? b : "", c ? c : "", err_buf);
}

#define EXPECT(rc, want)                                                                \
    do {                                                                                \
        int rc_ = (rc);                                                                 \
        if (rc_ != (want))                                                              \
            fail_msg("exit %d, want %d\n--- stdout:\n%s\n--- stderr:\n%s", rc_, (want), \
                     out_buf, err_buf);                                                 \
    } while (0)

/* Fake bench: figures exact up to a +-1% deterministic pattern; the
 * injected slowdown divides throughput by (1 + p/100). */
static const char *fake_sh =
    "#!/bin/sh\n"
    "shift\n"
    "json=; workloads=read-random; reps=1; inject=0\n"
    "while [ $# -gt 0 ]; do\n"
    "  case \"$1\" in\n"
    "    --json) json=$2; shift;; --workloads) workloads=$2; shift;;\n"
    "    --reps) reps=$2; shift;; --inject-slowdown) inject=$2; shift;;\n"
    "    --*) shift;;\n"
    "  esac\n"
    "  shift\n"
    "done\n"
    "n=$$\n"
    "awk -v inject=\"$inject\" -v reps=\"$reps\" -v wl=\"$workloads\" -v n=\"$n\" "
    "-v machine=\"$FAKE_MACHINE\" 'BEGIN {\n"
    "  printf \"{\\\"schema\\\":\\\"lightning-bench/1\\\",\\\"machine\\\":{\\\"machine_id\\\":\\\"%s\\\"},\\\"results\\\":[\", machine\n"
    "  k = split(wl, w, \",\"); first = 1\n"
    "  for (i = 1; i <= k; i++) for (r = 1; r <= reps; r++) {\n"
    "    jit = 1 + ((n * 7919 + r) % 21 - 10) / 1000\n"
    "    if (!first) printf \",\"; first = 0\n"
    "    printf \"{\\\"benchmark\\\":\\\"%s\\\",\\\"engine\\\":\\\"lightning\\\",\\\"sync_mode\\\":\\\"none\\\",\\\"threads\\\":1,\\\"repetition\\\":%d,\\\"ops_per_sec\\\":%.2f}\", w[i], r, 1e6 * 100 / (100 + inject) * jit\n"
    "  }\n"
    "  printf \"]}\\n\"\n"
    "}' > \"$json\"\n";

static void commit(int i, const char *slow, int broken)
{
    char p[600], text[2048];
    snprintf(p, sizeof p, "%s/slow.txt", repo);
    write_file(p, slow, 0);
    snprintf(p, sizeof p, "%s/change.txt", repo);
    snprintf(text, sizeof text, "change %d\n", i);
    write_file(p, text, 0);
    snprintf(p, sizeof p, "%s/build.sh", repo);
    if (broken)
        snprintf(text, sizeof text, "#!/bin/sh\necho 'syntax error in engine.c' >&2\nexit 1\n");
    else
        snprintf(text, sizeof text,
                 "#!/bin/sh\n"
                 "mkdir -p out\n"
                 "s=$(cat slow.txt)\n"
                 "printf '#!/bin/sh\\nFAKE_MACHINE=%%s exec %s/fake.sh \"$@\" --inject-slowdown %%s\\n' "
                 "\"$FAKE_MACHINE\" \"$s\" > out/lightning\n"
                 "chmod +x out/lightning\n",
                 dir);
    write_file(p, text, 1);
    git("add", "-A", NULL);
    char msg[32];
    snprintf(msg, sizeof msg, "c%d", i);
    git("commit", "-qm", msg);
    const char *argv[] = {"git", "rev-parse", "HEAD", NULL};
    assert_int_equal(run(repo, argv), 0);
    memcpy(sha[i], out_buf, 40);
    sha[i][40] = '\0';
}

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("LIGHTNING_BIN");
    if (!b || !realpath(b, bin))
        return -1;
    if (tu_mkdtemp(dir, sizeof dir, "test_perf_bisect"))
        return -1;
    snprintf(repo, sizeof repo, "%s/repo", dir);
    snprintf(hist, sizeof hist, "%s/history.db", dir);
    snprintf(suite, sizeof suite, "%s/suite.ini", dir);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    snprintf(err_path, sizeof err_path, "%s/err", dir);
    mkdir(repo, 0755);
    char p[600];
    snprintf(p, sizeof p, "%s/fake.sh", dir);
    write_file(p, fake_sh, 1);
    write_file(suite, "[suite]\nname = bis\nrounds = 5\n[read]\nworkload = read-random\n", 0);
    bench_machine m;
    bench_machine_probe(&m, NULL);
    setenv("FAKE_MACHINE", m.machine_id, 1);
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

static void test_bisect_finds_the_culprit(void **state)
{
    (void)state;
    const char *init[] = {"git", "init", "-q", NULL};
    assert_int_equal(run(repo, init), 0);
    git("config", "user.email", "t@example.com");
    git("config", "user.name", "t");
    commit(1, "0", 0);
    commit(2, "0", 1); /* does not build */
    commit(3, "0", 0);
    commit(4, "30", 0); /* the culprit */
    commit(5, "30", 0);
    commit(6, "30", 0);

    const char *argv[] = {bin, "perf", "bisect", "--good", sha[1], "--bad", "HEAD",
                          "--benchmark", "read", "--suite", suite, "--build-cmd", "sh build.sh",
                          "--built-bin", "out/lightning", NULL};
    EXPECT(run(repo, argv), 0);
    char want[80];
    snprintf(want, sizeof want, "first bad commit: %s c4", sha[4]);
    if (!strstr(out_buf, want))
        fail_msg("missing '%s' in:\n%s\n--- stderr:\n%s", want, out_buf, err_buf);
    if (!strstr(out_buf, "REGRESSION") || !strstr(out_buf, "step 1:"))
        fail_msg("no good-vs-bad table or steps:\n%s", out_buf);
    /* if c2 was visited it was skipped, never judged */
    char c2[16];
    snprintf(c2, sizeof c2, "%.12s", sha[2]);
    const char *s2 = strstr(out_buf, c2);
    if (s2 && !strstr(s2, "skip: does not build"))
        fail_msg("c2 judged instead of skipped:\n%s", out_buf);

    /* nothing left behind: one worktree, no bisect in progress */
    const char *wl[] = {"git", "worktree", "list", NULL};
    assert_int_equal(run(repo, wl), 0);
    assert_null(strchr(strchr(out_buf, '\n') + 1, '/'));
    const char *bl[] = {"git", "bisect", "log", NULL};
    assert_true(run(repo, bl) != 0);
}

static void test_bisect_errors(void **state)
{
    (void)state;
    const char *nothing[] = {bin, "perf", "bisect", "--good", sha[1], "--bad", sha[3],
                             "--benchmark", "read", "--suite", suite, "--build-cmd",
                             "sh build.sh", "--built-bin", "out/lightning", NULL};
    EXPECT(run(repo, nothing), 2);
    if (!strstr(err_buf, "nothing to bisect"))
        fail_msg("%s", err_buf);
    /* exit-code precedence: no "-> exit 0 (pass)" from the good-vs-bad
     * table before bisect exits 2 */
    if (strstr(out_buf, "-> exit"))
        fail_msg("the table claims an exit code bisect does not give:\n%s", out_buf);
    const char *unknown[] = {bin, "perf", "bisect", "--good", "v0.0-nope", "--bad", "HEAD",
                             "--benchmark", "read", "--suite", suite, NULL};
    EXPECT(run(repo, unknown), 2);
    if (!strstr(err_buf, "unknown revision 'v0.0-nope'"))
        fail_msg("%s", err_buf);
    const char *nobench[] = {bin, "perf", "bisect", "--good", sha[1], "--bad", "HEAD", NULL};
    EXPECT(run(repo, nobench), 2);
    const char *badbench[] = {bin, "perf", "bisect", "--good", sha[1], "--bad", "HEAD",
                              "--benchmark", "wrte", "--suite", suite, NULL};
    EXPECT(run(repo, badbench), 2);
    if (!strstr(err_buf, "unknown benchmark 'wrte'"))
        fail_msg("%s", err_buf);
}

/* interrupt cleanup: a Ctrl-C while a revision builds leaves no registered
 * worktree behind (the old code left one that `git worktree prune` keeps,
 * its directory being still there) and exits 130 */
static void test_interrupt_leaves_no_worktree(void **state)
{
    (void)state;
    char henv[500];
    snprintf(henv, sizeof henv, "LIGHTNING_PERF_HISTORY=%s", hist);
    const char *envs[] = {henv, NULL};
    const char *argv[] = {bin, "perf", "bisect", "--good", sha[1], "--bad", sha[3],
                          "--benchmark", "read", "--suite", suite, "--build-cmd", "sleep 60",
                          "--built-bin", "out/lightning", NULL};
    pid_t pid = tu_spawn(argv, repo, envs, out_path, err_path);
    assert_true(pid > 0);
    const char *wl[] = {"git", "worktree", "list", NULL};
    int registered = 0;
    for (int i = 0; i < 300 && !registered; i++) {
        assert_int_equal(run(repo, wl), 0);
        registered = strchr(strchr(out_buf, '\n') + 1, '/') != NULL;
        if (!registered) {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(registered);
    kill(pid, SIGINT);
    assert_int_equal(tu_wait(pid), 128 + SIGINT);
    assert_int_equal(run(repo, wl), 0);
    if (strchr(strchr(out_buf, '\n') + 1, '/'))
        fail_msg("a worktree is left:\n%s", out_buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bisect_finds_the_culprit),
        cmocka_unit_test(test_bisect_errors),
        cmocka_unit_test(test_interrupt_leaves_no_worktree),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
