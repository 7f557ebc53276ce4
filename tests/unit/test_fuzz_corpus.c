/*
 * test_fuzz_corpus.c — every file of the committed fuzz corpus
 * (fuzz/corpus/<target>/) run as a regression input through its fuzz
 * target's entry point, in the ordinary gcc build without libFuzzer. The
 * targets are compiled into this program with -DFUZZ_NO_MAIN and their
 * LLVMFuzzerTestOneInput renamed to fuzz_<target>_one (see the Makefile),
 * so seeds, and every crasher a fuzzing run found and committed, stay
 * fixed. A target's failed check aborts; each input runs in a child
 * process, so one crasher fails its target's test by name and the other
 * inputs still run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#ifndef FUZZ_CORPUS_DIR
#define FUZZ_CORPUS_DIR "fuzz/corpus"
#endif

int fuzz_record_one(const uint8_t *data, size_t size);
int fuzz_checkpoint_one(const uint8_t *data, size_t size);
int fuzz_manifest_one(const uint8_t *data, size_t size);
int fuzz_api_one(const uint8_t *data, size_t size);

typedef int (*entry_fn)(const uint8_t *, size_t);

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs every file of one target's corpus; returns how many. */
static size_t run_corpus(const char *target, entry_fn fn)
{
    const char *base = getenv("FUZZ_CORPUS_DIR");
    if (!base || !*base) base = FUZZ_CORPUS_DIR;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", base, target);
    DIR *d = opendir(dir);
    if (!d) fail_msg("no corpus directory %s", dir);
    char *names[4096];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 4096) {
        if (de->d_name[0] == '.') continue;
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    /* An empty input first, in this process: the targets build their
     * scratch state (template databases) once, before the children share it. */
    fn(NULL, 0);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len = 0;
        uint8_t *buf = tu_read_all(path, &len);
        assert_non_null(buf);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            /* _exit: the parent's atexit cleanups (scratch directories) are
             * not the child's to run. Free first: valgrind checks leaks here. */
            fn(buf, len);
            free(buf);
            for (size_t j = i; j < n; j++) free(names[j]);
            _exit(0);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "# FAILED: %s (%s %d)\n", path, WIFSIGNALED(st) ? "signal" : "exit",
                    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            failed++;
        }
        free(buf);
        free(names[i]);
    }
    fprintf(stderr, "# %s: %zu corpus files, %zu failed\n", target, n, failed);
    if (failed) fail_msg("%zu of %zu %s inputs failed", failed, n, target);
    return n;
}

static void test_record_corpus(void **state)
{
    (void)state;
    assert_true(run_corpus("record", fuzz_record_one) > 0);
}

static void test_checkpoint_corpus(void **state)
{
    (void)state;
    assert_true(run_corpus("checkpoint", fuzz_checkpoint_one) > 0);
}

static void test_manifest_corpus(void **state)
{
    (void)state;
    assert_true(run_corpus("manifest", fuzz_manifest_one) > 0);
}

static void test_api_corpus(void **state)
{
    (void)state;
    assert_true(run_corpus("api", fuzz_api_one) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_corpus),
        cmocka_unit_test(test_checkpoint_corpus),
        cmocka_unit_test(test_manifest_corpus),
        cmocka_unit_test(test_api_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
