/*
 * tests/integration/test_cli_input.c — the `lightning` command under the
 * input a new user gives it by mistake, through $LIGHTNING_BIN:
 * - not a database: get/stats/scan/del/check on a directory that holds no
 *   database say so, exit 2 and leave the directory exactly as it was (no
 *   LOCK file); check on a regular file says "not a directory"; put makes a
 *   database only in a missing or empty directory, or with --create;
 * - argument parsing: one strict number parser (scan --limit abc|-5|0|1x
 *   are refused), key and value limits named in the messages, --salvage
 *   in the help, stats on a tiny database prints no meaningless figures.
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
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    free(out_buf);
    free(err_buf);
    out_buf = tu_read_text_or_empty(out_path);
    err_buf = tu_read_text_or_empty(err_path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
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

#define LACKS(buf, s)                                                                       \
    do {                                                                                    \
        if (strstr((buf), (s)))                                                             \
            fail_msg("unexpected '%s' in:\n%s\n--- stderr:\n%s", (s), out_buf, err_buf);    \
    } while (0)

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
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("LIGHTNING_BIN");
    if (!b) {
        fprintf(stderr, "LIGHTNING_BIN is not set (run through make test)\n");
        return -1;
    }
    if (!realpath(b, bin)) return -1;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_a_database),
        cmocka_unit_test(test_argument_parsing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
