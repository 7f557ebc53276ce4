/*
 * tests/unit/test_util.c — the helpers the tools share (src/util, and
 * perf/markup.h's escapes), each the one copy left of several:
 * - sys: path joining at the buffer's edge, mkdir -p of a deep path and of
 *   one that exists, removal of a tree with files and a symbolic link
 *   (the link goes, its target stays), disk bytes of a tree, the clock and
 *   the deadline, /proc readers;
 * - csv: fields quoted only when they must be, quotes doubled, NULL empty;
 * - markup: HTML, Markdown-cell and XML escapes of the same text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perf/markup.h"
#include "testutil.h"
#include "util/csv.h"
#include "util/sys.h"

static void write_file(const char *path, size_t n)
{
    char *buf = calloc(1, n ? n : 1);
    assert_non_null(buf);
    assert_int_equal(tu_write_all(path, buf, n), 0);
    free(buf);
}

static void test_path_join(void **state)
{
    (void)state;
    char out[8];
    assert_int_equal(sys_path_join(out, sizeof out, "ab", "cde"), 0);
    assert_string_equal(out, "ab/cde");
    assert_int_equal(sys_path_join(out, sizeof out, "ab", "cdef"), 0); /* 7 + NUL */
    assert_string_equal(out, "ab/cdef");
    errno = 0;
    assert_int_equal(sys_path_join(out, sizeof out, "ab", "cdefg"), -1);
    assert_int_equal(errno, ENAMETOOLONG);
}

static void test_mkdirs_rmtree_dir_bytes(void **state)
{
    const char *root = *state;
    char deep[512], file[600], outside[512], link[600];
    snprintf(deep, sizeof deep, "%s/a/b/c", root);
    assert_int_equal(sys_mkdirs(deep), 0);
    assert_int_equal(sys_mkdirs(deep), 0); /* exists: fine */
    assert_true(tu_exists(deep));
    snprintf(file, sizeof file, "%s/data", deep);
    write_file(file, 64 * 1024);
    assert_true(sys_dir_bytes(root) >= 64 * 1024);
    snprintf(file, sizeof file, "%s/a/not-a-dir", root);
    write_file(file, 1);
    snprintf(deep, sizeof deep, "%s/a/not-a-dir/x", root);
    assert_int_equal(sys_mkdirs(deep), -1);
    assert_int_equal(errno, ENOTDIR);

    /* A link inside the tree to a file outside it: the link is removed,
     * what it points to is not. */
    snprintf(outside, sizeof outside, "%s-outside", root);
    write_file(outside, 10);
    snprintf(link, sizeof link, "%s/a/link", root);
    assert_int_equal(symlink(outside, link), 0);
    snprintf(deep, sizeof deep, "%s/a", root);
    sys_rmtree(deep);
    assert_false(tu_exists(deep));
    assert_true(tu_exists(outside));
    assert_true(tu_exists(root)); /* only below the path given */
    unlink(outside);
    sys_rmtree(NULL);
    sys_rmtree("");
}

static void test_clock_and_deadline(void **state)
{
    (void)state;
    uint64_t a = sys_now_ns();
    struct timespec d, now;
    sys_deadline_ms(&d, 1500);
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t b = sys_now_ns();
    assert_true(b >= a);
    int64_t ahead = ((int64_t)d.tv_sec - now.tv_sec) * 1000000000 + (d.tv_nsec - now.tv_nsec);
    assert_true(ahead > 1400000000 && ahead <= 1500000000);
    assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000);
    struct timespec t = {.tv_sec = 5, .tv_nsec = 999999999};
    sys_timespec_add_ns(&t, 2);
    assert_int_equal(t.tv_sec, 6);
    assert_int_equal(t.tv_nsec, 1);
}

static void test_proc_readers(void **state)
{
    (void)state;
    uint64_t anon, file;
    assert_int_equal(sys_read_rss(&anon, &file), 0);
    assert_true(anon > 0);
    assert_true(sys_usable_cores() >= 1);
    char exe[4096];
    assert_int_equal(sys_self_exe(exe, sizeof exe), 0);
    assert_non_null(strstr(exe, "test_util"));
    char tiny[4];
    assert_int_equal(sys_self_exe(tiny, 1), -1);
}

/* What f wrote, as a string (the FILE is closed). */
static char *written(FILE *f)
{
    long n = ftell(f);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

static void test_csv(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    const char *in[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "", NULL, "cr\r"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        if (i) fputc('|', f);
        csv_write_field(f, in[i]);
    }
    char *s = written(f);
    assert_string_equal(s, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|||\"cr\r\"");
    free(s);
}

static void test_markup(void **state)
{
    (void)state;
    const char *in = "a<b>&\"c\"'d'|e\nf\x01g\th\xc3\xa9";
    FILE *f = tmpfile();
    perf_html_escape(f, in);
    char *s = written(f);
    assert_string_equal(s, "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;|e\nf\x01g\th\xc3\xa9");
    free(s);
    f = tmpfile();
    perf_gfm_escape(f, in);
    s = written(f);
    assert_string_equal(s, "a&lt;b&gt;&amp;\"c\"'d'\\|e f\x01g\th\xc3\xa9");
    free(s);
    f = tmpfile();
    perf_xml_escape(f, in);
    s = written(f);
    assert_string_equal(s, "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;|e\nfg\th\xc3\xa9");
    free(s);
    f = tmpfile();
    perf_html_escape(f, NULL);
    s = written(f);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_join),
        cmocka_unit_test_setup_teardown(test_mkdirs_rmtree_dir_bytes, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_clock_and_deadline),
        cmocka_unit_test(test_proc_readers),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_markup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
