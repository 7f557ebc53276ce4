/*
 * tests/integration/test_cli_input.c — the `lightning` command under the
 * input a new user gives it by mistake, through $LIGHTNING_BIN:
 * - not a database: get/stats/scan/del/check on a directory that holds no
 *   database say so, exit 2 and leave the directory exactly as it was (no
 *   LOCK file); check on a regular file says "not a directory"; put makes a
 *   database only in a missing or empty directory, or with --create;
 * - argument parsing: one strict number parser (scan --limit abc|-5|0|1x
 *   are refused), key and value limits named in the messages, --salvage
 *   in the help, stats on a tiny database prints no meaningless figures;
 * - interrupt cleanup: bench and perf run stopped by SIGINT or SIGTERM
 *   leave no temporary directory, remove a --dir only when they made it,
 *   stop their children and die of the signal (130 / 143 in a shell).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char bin[1024];
static char *root;
static char out_path[600], err_path[600];
static char *out_buf, *err_buf;

/* Runs `lightning ARGS...` (NULL-terminated); exit code, output in out_buf
 * and err_buf; 128 + signal number when it died of a signal. */
static int cli(const char *first, ...)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 62; a = va_arg(ap, const char *)) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return tu_run_capture(argv, NULL, NULL, out_path, err_path, &out_buf, &err_buf);
}

#define EXPECT(rc, want) TU_EXPECT_EXIT(rc, want, out_buf, err_buf)
#define HAS(buf, s) TU_HAS(buf, s, out_buf, err_buf)
#define LACKS(buf, s) TU_LACKS(buf, s, out_buf, err_buf)

/* The names in `d`, sorted and joined by spaces ("" when empty). */
static void listing(const char *d, char *out, size_t cap)
{
    struct dirent **ents;
    int n = scandir(d, &ents, NULL, alphasort);
    out[0] = '\0';
    assert_true(n >= 0);
    for (int i = 0; i < n; i++) {
        if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
            if (out[0]) strncat(out, " ", cap - strlen(out) - 1);
            strncat(out, ents[i]->d_name, cap - strlen(out) - 1);
        }
        free(ents[i]);
    }
    free(ents);
}

static char *path(const char *name)
{
    static char p[8][700];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/%s", root, name);
    return p[i];
}

static void write_file(const char *p, const char *text)
{
    assert_int_equal(tu_write_all(p, text, strlen(text)), 0);
}

static int setup(void **state)
{
    (void)state;
    if (tu_lightning_bin(bin, sizeof bin)) return -1;
    root = tu_tmpdir("cli_input");
    if (!root) return -1;
    snprintf(out_path, sizeof out_path, "%s/out", root);
    snprintf(err_path, sizeof err_path, "%s/err", root);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmdir(root);
    free(root);
    free(out_buf);
    free(err_buf);
    return 0;
}

/* ---- not a database ------------------------------------------------------ */

static void test_not_a_database(void **state)
{
    (void)state;
    char *d = path("notes");
    assert_int_equal(mkdir(d, 0755), 0);
    char note[800];
    snprintf(note, sizeof note, "%s/todo.txt", d);
    write_file(note, "buy milk\n");
    char ls[1024];

    const char *readers[][4] = {{"get", d, "k", NULL}, {"stats", d, NULL, NULL},
                                {"scan", d, NULL, NULL}, {"del", d, "k", NULL},
                                {"check", d, NULL, NULL}};
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        EXPECT(cli(readers[i][0], readers[i][1], readers[i][2], NULL), 2);
        HAS(err_buf, "not a lightning database");
        listing(d, ls, sizeof ls);
        assert_string_equal(ls, "todo.txt"); /* no LOCK, no log */
    }
    /* put does not turn a directory of other files into a database... */
    EXPECT(cli("put", d, "k", "v", NULL), 2);
    HAS(err_buf, "not a lightning database");
    HAS(err_buf, "--create");
    listing(d, ls, sizeof ls);
    assert_string_equal(ls, "todo.txt");
    /* ...unless asked to */
    EXPECT(cli("put", "--create", d, "k", "v", NULL), 0);
    EXPECT(cli("get", d, "k", NULL), 0);
    assert_string_equal(out_buf, "v\n");

    /* A missing directory and an empty one are made into databases by put
     * (RocksDB's create_if_missing), never by the readers. */
    EXPECT(cli("get", path("missing"), "k", NULL), 2);
    assert_false(tu_exists(path("missing")));
    EXPECT(cli("put", path("missing"), "k", "v", NULL), 0);
    assert_true(tu_exists(path("missing")));
    assert_int_equal(mkdir(path("empty"), 0755), 0);
    EXPECT(cli("stats", path("empty"), NULL), 2);
    listing(path("empty"), ls, sizeof ls);
    assert_string_equal(ls, "");
    EXPECT(cli("put", path("empty"), "k", "v", NULL), 0);
    EXPECT(cli("check", path("empty"), NULL), 0);

    /* check on a regular file names the mistake */
    write_file(path("plain"), "x");
    EXPECT(cli("check", path("plain"), NULL), 2);
    HAS(err_buf, "not a directory");
    LACKS(err_buf, "I/O error");
}

/* ---- argument parsing ---------------------------------------------------- */

static void test_argument_parsing(void **state)
{
    (void)state;
    char *d = path("args");
    EXPECT(cli("put", d, "a", "1", NULL), 0);
    EXPECT(cli("put", d, "b", "2", NULL), 0);
    EXPECT(cli("put", d, "c", "3", NULL), 0);
    const char *bad[] = {"abc", "-5", "0", "1x", " 2", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT(cli("scan", "--limit", bad[i], d, NULL), 2);
        HAS(err_buf, "--limit");
    }
    EXPECT(cli("scan", "--limit", "2", d, NULL), 0);
    assert_string_equal(out_buf, "a\nb\n");

    /* limits are in the messages, and a bad key creates nothing */
    char big[5000];
    memset(big, 'k', 4097);
    big[4097] = '\0';
    EXPECT(cli("put", path("never"), big, "v", NULL), 2);
    HAS(err_buf, "4096");
    assert_false(tu_exists(path("never")));
    EXPECT(cli("put", "--help", NULL), 0);
    HAS(out_buf, "4096");
    HAS(out_buf, "16 MiB");
    HAS(out_buf, "--salvage");
    HAS(out_buf, "--create");
    EXPECT(cli("get", "--help", NULL), 0);
    HAS(out_buf, "--salvage");

    /* stats on three keys: no per-key figure dominated by fixed tables, no
     * -1 for "no checkpoint" */
    EXPECT(cli("stats", d, NULL), 0);
    LACKS(out_buf, "e+0");
    LACKS(out_buf, " -1\n");
    HAS(out_buf, "checkpoint_age_s       none");
    EXPECT(cli("stats", "--json", d, NULL), 0);
    HAS(out_buf, "\"checkpoint_age_s\":null");
}

/* quickstart without an argument works in a temporary directory and
 * leaves nothing in the working directory or $TMPDIR */
static void test_quickstart_leaves_nothing(void **state)
{
    (void)state;
    char ex[1100];
    snprintf(ex, sizeof ex, "%s", bin);
    char *slash = strrchr(ex, '/');
    assert_non_null(slash);
    snprintf(slash, sizeof ex - (size_t)(slash - ex), "/examples/quickstart");
    if (access(ex, X_OK) != 0) skip(); /* built by `make`, not by the test target */
    char *cwd = path("qs-cwd");
    char *tmp = path("qs-tmp");
    assert_int_equal(mkdir(cwd, 0755), 0);
    assert_int_equal(mkdir(tmp, 0755), 0);
    static char env[700];
    snprintf(env, sizeof env, "TMPDIR=%s", tmp);
    const char *envs[] = {env, NULL};
    const char *argv[] = {ex, NULL};
    pid_t pid = tu_spawn(argv, cwd, envs, out_path, out_path);
    assert_true(pid > 0);
    assert_int_equal(tu_wait(pid), 0);
    char ls[1024];
    listing(cwd, ls, sizeof ls);
    assert_string_equal(ls, "");
    listing(tmp, ls, sizeof ls);
    assert_string_equal(ls, "");
}

/* ---- interrupt cleanup -------------------------------------------------- */

/* Starts `lightning ARGS...` with TMPDIR set; output to out/err files. */
static pid_t start(const char *tmpdir, const char *const *args)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = bin;
    for (; *args && n < 30; args++) argv[n++] = *args;
    argv[n] = NULL;
    static char env[700];
    snprintf(env, sizeof env, "TMPDIR=%s", tmpdir);
    const char *envs[] = {env, NULL};
    pid_t pid = tu_spawn(argv, NULL, envs, out_path, err_path);
    assert_true(pid > 0);
    return pid;
}

/* Waits (up to 60 s) until `d` holds an entry whose name starts with
 * `prefix`, and returns 1; 0 on timeout. */
static int appears(const char *d, const char *prefix)
{
    for (int i = 0; i < 600; i++) {
        DIR *dd = opendir(d);
        if (dd) {
            struct dirent *e;
            int found = 0;
            while ((e = readdir(dd)))
                if (!strncmp(e->d_name, prefix, strlen(prefix))) found = 1;
            closedir(dd);
            if (found) return 1;
        }
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Signals pid, waits for it; the signal that ended it, or -exit code. */
static int stop(pid_t pid, int sig)
{
    kill(pid, sig);
    int rc = tu_wait(pid);
    free(err_buf);
    err_buf = tu_read_text_or_empty(err_path);
    return rc >= 128 ? rc - 128 : -rc;
}

static void test_interrupt_cleanup(void **state)
{
    (void)state;
    char *tmp = path("tmp");
    assert_int_equal(mkdir(tmp, 0755), 0);
    char ls[1024];

    /* bench --dir NEW: the run's data and NEW itself go (bench made it) */
    char *made = path("made");
    char sub[800];
    snprintf(sub, sizeof sub, "%s/sub", made);
    const char *b1[] = {"bench", "--dir", sub, "--engines", "lightning", "--workloads", "read",
                        "--keys", "3000000", "--reps", "3", NULL};
    pid_t p = start(tmp, b1);
    assert_true(appears(sub, "lightning-bench-"));
    int r = stop(p, SIGINT);
    if (r != SIGINT) fail_msg("bench ended with %d, want signal %d\n%s", r, SIGINT, err_buf);
    assert_false(tu_exists(made));

    /* bench --dir EXISTING: only what bench made goes */
    char *keep = path("keep");
    assert_int_equal(mkdir(keep, 0755), 0);
    char mine[800];
    snprintf(mine, sizeof mine, "%s/mine.txt", keep);
    write_file(mine, "user data\n");
    const char *b2[] = {"bench", "--dir", keep, "--engines", "lightning", "--workloads", "read",
                        "--keys", "3000000", "--reps", "3", NULL};
    p = start(tmp, b2);
    assert_true(appears(keep, "lightning-bench-"));
    r = stop(p, SIGTERM);
    if (r != SIGTERM) fail_msg("bench ended with %d, want signal %d\n%s", r, SIGTERM, err_buf);
    listing(keep, ls, sizeof ls);
    assert_string_equal(ls, "mine.txt");

    /* perf run: its scratch directory under $TMPDIR goes, and the bench it
     * started (a fake that would sleep for a minute) is stopped */
    char fakeb[800], suite[800], hist[800], pidf[800];
    snprintf(fakeb, sizeof fakeb, "%s/fake-bench", root);
    snprintf(suite, sizeof suite, "%s/suite.ini", root);
    snprintf(hist, sizeof hist, "%s/history.db", root);
    snprintf(pidf, sizeof pidf, "%s/fake.pid", root);
    char text[1200];
    snprintf(text, sizeof text, "#!/bin/sh\necho $$ > '%s'\nexec sleep 60\n", pidf);
    write_file(fakeb, text);
    chmod(fakeb, 0755);
    write_file(suite, "[suite]\nname = slow\nkeys = 100\nreps = 2\n"
                      "[read]\nworkload = read-random\nmin_ratio = 0.90\n");
    const char *pr[] = {"perf", "run", "--suite", suite, "--bin", fakeb, "--history", hist, NULL};
    p = start(tmp, pr);
    assert_true(appears(tmp, "lightning-perf-"));
    assert_true(appears(root, "fake.pid"));
    r = stop(p, SIGTERM);
    if (r != SIGTERM) fail_msg("perf run ended with %d, want signal %d\n%s", r, SIGTERM, err_buf);
    listing(tmp, ls, sizeof ls);
    assert_string_equal(ls, "");
    char *fp = tu_read_text(pidf);
    assert_non_null(fp);
    pid_t fake_pid = (pid_t)atoi(fp);
    free(fp);
    assert_true(fake_pid > 0);
    /* gone (or a zombie of nobody's: its parent, perf, is gone too) */
    int dead = 0;
    for (int i = 0; i < 50 && !dead; i++) {
        char procp[64];
        snprintf(procp, sizeof procp, "/proc/%d/stat", (int)fake_pid);
        char *st = tu_read_text_or_empty(procp);
        char *rp = strrchr(st, ')');
        dead = !st[0] || (rp && rp[1] == ' ' && rp[2] == 'Z');
        free(st);
        if (!dead) {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(dead);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_a_database),
        cmocka_unit_test(test_argument_parsing),
        cmocka_unit_test(test_interrupt_cleanup),
        cmocka_unit_test(test_quickstart_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
