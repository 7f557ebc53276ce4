/*
 * tests/integration/test_perf_history_pg.c — the PostgreSQL history with
 * a real server (tests/common/pgtest.h: a throwaway cluster of Debian's
 * postgresql, started and stopped here; never skipped).
 * - Two writers at once: two processes open the same new history together
 *   (racing its migration) and each records 40 runs of 30 samples, a
 *   baseline and a comparison per run, with no pause; afterwards every
 *   run, sample and comparison of both is there, ids distinct, schema
 *   migrated exactly once. The same two writers on one SQLite file (its
 *   locking and busy timeout) lose nothing either.
 * - SQLite to PostgreSQL: a history made by `lightning perf run
 *   --from-json` (real bench output of tests/ci/suite.ini's workloads, one
 *   run 30% slower) plus a calibrated
 *   noise floor is copied with `perf copy-history`; `perf check` then
 *   prints exactly the same on both, exit codes and --json comparisons
 *   included; a run recorded on the copy afterwards takes the next id;
 *   copying into a non-empty history is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "perf/history.h"
#include "pgtest.h"
#include "testutil.h"

#ifndef PERF_SOURCE_DIR
#error "PERF_SOURCE_DIR must name the source tree (the Makefile sets it)"
#endif
/* read-random and error-absent only: every section has its results */
#define SUITE PERF_SOURCE_DIR "/tests/ci/suite.ini"

static pgtest pg;
static char dir[64];
static const char *bin;

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static long long scalar(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    long long v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return v;
}

/* One writer: its own connection, 40 runs. Exits 0 when all landed. */
static int writer(const char *url, const char *who)
{
    perf_history *h;
    perf_error e;
    if (perf_history_open(url, 1, &h, &e)) {
        fprintf(stderr, "%s: open: %s\n", who, e.msg);
        return 1;
    }
    for (int i = 0; i < 40; i++) {
        perf_sample_set set = {0};
        for (int r = 0; r < 30; r++) {
            perf_sample s;
            memset(&s, 0, sizeof s);
            snprintf(s.benchmark, sizeof s.benchmark, "read-random");
            snprintf(s.engine, sizeof s.engine, "lightning");
            snprintf(s.sync_mode, sizeof s.sync_mode, "NONE");
            s.threads = 1;
            s.repetition = r;
            snprintf(s.metric, sizeof s.metric, "ops_per_sec");
            snprintf(s.unit, sizeof s.unit, "ops/s");
            s.direction = 1;
            s.value = 1e6 + i * 100 + r;
            if (perf_samples_push(&set, &s))
                return 1;
        }
        perf_run_info run;
        memset(&run, 0, sizeof run);
        snprintf(run.kind, sizeof run.kind, "run");
        snprintf(run.label, sizeof run.label, "%s %d", who, i);
        /* both writers on one machine: the machines row is contended */
        snprintf(run.machine_id, sizeof run.machine_id, "cccccccccccccccc");
        snprintf(run.suite, sizeof run.suite, "default");
        snprintf(run.sync_mode, sizeof run.sync_mode, "NONE");
        run.dirty = 0;
        if (perf_history_add_run(h, &run, &set, &e)) {
            fprintf(stderr, "%s: run %d: %s\n", who, i, e.msg);
            return 1;
        }
        perf_samples_free(&set);
        perf_comparison c;
        memset(&c, 0, sizeof c);
        snprintf(c.kind, sizeof c.kind, "check");
        c.base_run = run.id;
        c.head_run = run.id;
        snprintf(c.head_label, sizeof c.head_label, "%s %d", who, i);
        if (perf_history_set_baseline(h, run.machine_id, "NONE", "default", run.id, &e) ||
            perf_history_save_comparison(h, &c, &e)) {
            fprintf(stderr, "%s: %d: %s\n", who, i, e.msg);
            return 1;
        }
    }
    perf_history_close(h);
    return 0;
}

/* Runs the two writers at once on one history. */
static void two_writers(const char *url)
{
    pid_t kids[2];
    const char *who[2] = {"A", "B"};
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0)
            _exit(writer(url, who[k]));
    }
    for (int k = 0; k < 2; k++) {
        int st;
        assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
}

/* What both writers wrote, read back through the history API. */
static void check_both_landed(const char *path)
{
    perf_history *h;
    perf_error e;
    assert_int_equal(perf_history_open(path, 0, &h, &e), 0);
    perf_run_filter f = {0};
    perf_run_info *runs;
    size_t n;
    assert_int_equal(perf_history_list_runs(h, &f, &runs, &n, &e), 0);
    assert_int_equal((int)n, 80);
    int a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        a += runs[i].label[0] == 'A';
        b += runs[i].label[0] == 'B';
        assert_int_equal((int)runs[i].n_samples, 30);
        for (size_t j = 0; j < i; j++)
            assert_true(runs[j].id != runs[i].id);
    }
    assert_int_equal(a, 40);
    assert_int_equal(b, 40);
    perf_run_infos_free(runs, n);
    int64_t *ids;
    size_t nc;
    assert_int_equal(perf_history_comparison_ids(h, &ids, &nc, &e), 0);
    assert_int_equal((int)nc, 80);
    free(ids);
    perf_history_close(h);
}

static void test_two_writers_sqlite(void **s)
{
    (void)s;
    char path[128];
    snprintf(path, sizeof path, "%s/writers.db", dir);
    two_writers(path);
    check_both_landed(path);
}

static void test_two_writers(void **s)
{
    (void)s;
    char url[300];
    assert_int_equal(pgtest_database(&pg, "writers", url, sizeof url), 0);
    two_writers(url);
    check_both_landed(url);
    assert_int_equal(scalar(url, "SELECT count(*) FROM lightning_perf.runs"), 80);
    assert_int_equal(scalar(url, "SELECT count(DISTINCT id) FROM lightning_perf.runs"), 80);
    assert_int_equal(scalar(url, "SELECT count(*) FROM lightning_perf.samples"), 2400);
    assert_int_equal(scalar(url, "SELECT count(*) FROM lightning_perf.comparisons"), 80);
    assert_int_equal(scalar(url, "SELECT count(*) FROM lightning_perf.runs WHERE label LIKE 'A %'"),
                     40);
    assert_int_equal(scalar(url, "SELECT count(*) FROM lightning_perf.runs WHERE label LIKE 'B %'"),
                     40);
    /* every run has all its samples */
    assert_int_equal(scalar(url, "SELECT count(*) FROM (SELECT run_id FROM lightning_perf.samples "
                                 "GROUP BY run_id HAVING count(*) = 30) x"),
                     80);
    assert_int_equal(scalar(url, "SELECT count(*) FROM lightning_perf.schema_migrations"),
                     PERF_HISTORY_SCHEMA_VERSION);
    assert_int_equal(scalar(url, "SELECT count(*) FROM lightning_perf.baselines"), 1);
}

static int perf(const char *history, const char *args, const char *out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "LIGHTNING_PERF_HISTORY='%s' LIGHTNING_PERF_PROGRESS=0 %s perf %s >%s 2>%s.err",
             history, bin, args, out, out);
    return sh(cmd);
}


static void test_sqlite_to_postgresql(void **s)
{
    (void)s;
    char cmd[1024], lite[128], url[300], args[600], o1[128], o2[128];
    snprintf(lite, sizeof lite, "%s/h.db", dir);
    assert_int_equal(pgtest_database(&pg, "copied", url, sizeof url), 0);
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd,
                 "%s bench --quick --engines lightning --workloads read-random,error-absent --reps 6 "
                 "%s --json %s/b%d.json >/dev/null 2>&1",
                 bin, k ? "--inject-slowdown 30" : "", dir, k);
        assert_int_equal(sh(cmd), 0);
        snprintf(args, sizeof args, "run --suite %s --from-json %s/b%d.json", SUITE, dir, k);
        snprintf(o1, sizeof o1, "%s/run%d.txt", dir, k);
        assert_int_equal(perf(lite, args, o1), 0);
    }
    snprintf(o1, sizeof o1, "%s/bl.txt", dir);
    assert_int_equal(perf(lite, "baseline set 1", o1), 0);
    /* a calibrated floor larger than the read tolerance: it sets the limit */
    perf_history *h;
    perf_error e;
    assert_int_equal(perf_history_open(lite, 0, &h, &e), 0);
    perf_run_info r1;
    assert_int_equal(perf_history_get_run(h, 1, &r1, &e), 1);
    perf_noise_row nr;
    memset(&nr, 0, sizeof nr);
    snprintf(nr.machine_id, sizeof nr.machine_id, "%s", r1.machine_id);
    snprintf(nr.sync_mode, sizeof nr.sync_mode, "%s", r1.sync_mode);
    snprintf(nr.benchmark, sizeof nr.benchmark, "read-random");
    snprintf(nr.engine, sizeof nr.engine, "lightning");
    nr.threads = 1;
    snprintf(nr.metric, sizeof nr.metric, "ops_per_sec");
    nr.floor = nr.raw = 0.15;
    nr.k = 6;
    nr.cv = 0.05;
    snprintf(nr.calibrated_at, sizeof nr.calibrated_at, "2026-12-01T00:00:00Z");
    assert_int_equal(perf_history_set_noise_floor(h, &nr, &e), 0);
    perf_run_info_free(&r1);
    perf_history_close(h);
    /* one comparison before the copy, so there is one to copy */
    snprintf(o1, sizeof o1, "%s/pre.txt", dir);
    int pre = perf(lite, "check", o1);
    if (pre != 0 && pre != 1 && pre != 3) {
        char *err = tu_read_text(strcat(o1, ".err"));
        fail_msg("check exit %d: %s", pre, err ? err : "");
    }

    snprintf(args, sizeof args, "copy-history --to '%s'", url);
    snprintf(o1, sizeof o1, "%s/copy.txt", dir);
    assert_int_equal(perf(lite, args, o1), 0);
    char *t = tu_read_text(o1);
    assert_non_null(strstr(t, "copied 2 runs"));
    assert_non_null(strstr(t, "1 baselines, 1 noise floors and 1 comparisons"));
    free(t);

    /* the same check on both */
    snprintf(o1, sizeof o1, "%s/check-sqlite.txt", dir);
    snprintf(o2, sizeof o2, "%s/check-pg.txt", dir);
    snprintf(args, sizeof args, "check --json %s/sqlite.json", dir);
    int rc1 = perf(lite, args, o1);
    snprintf(args, sizeof args, "check --json %s/pg.json", dir);
    int rc2 = perf(url, args, o2);
    assert_int_equal(rc1, rc2);
    char *a = tu_read_text(o1), *b = tu_read_text(o2);
    assert_non_null(a);
    assert_non_null(strstr(a, "0.850")); /* the floor's limit, copied */
    if (strcmp(a, b))
        fail_msg("check differs:\n--- sqlite\n%s\n--- postgresql\n%s", a, b);
    free(a);
    free(b);
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "%s/sqlite.json", dir);
    snprintf(p2, sizeof p2, "%s/pg.json", dir);
    json_t *j1 = json_load_file(p1, 0, NULL), *j2 = json_load_file(p2, 0, NULL);
    assert_non_null(j1);
    assert_non_null(j2);
    json_t *c1 = json_object_get(j1, "comparison"), *c2 = json_object_get(j2, "comparison");
    assert_true(json_equal(json_object_get(c1, "rows"), json_object_get(c2, "rows")));
    assert_true(json_equal(json_object_get(c1, "tally"), json_object_get(c2, "tally")));
    assert_true(json_equal(json_object_get(c1, "base"), json_object_get(c2, "base")));
    assert_true(json_equal(json_object_get(c1, "head"), json_object_get(c2, "head")));
    /* the next comparison id follows the copied ones on both */
    assert_int_equal(json_integer_value(json_object_get(c1, "id")),
                     json_integer_value(json_object_get(c2, "id")));
    json_decref(j1);
    json_decref(j2);

    /* a new run on the copy takes the next id */
    snprintf(args, sizeof args, "run --suite %s --from-json %s/b0.json", SUITE, dir);
    snprintf(o2, sizeof o2, "%s/run-pg.txt", dir);
    assert_int_equal(perf(url, args, o2), 0);
    t = tu_read_text(o2);
    assert_non_null(strstr(t, "recorded run 3"));
    free(t);
    /* and a non-empty destination is refused */
    snprintf(args, sizeof args, "copy-history --to '%s'", url);
    snprintf(o1, sizeof o1, "%s/copy2.txt", dir);
    assert_int_equal(perf(lite, args, o1), 2);
}

static int setup(void **s)
{
    (void)s;
    bin = getenv("LIGHTNING_BIN");
    if (!bin) {
        fprintf(stderr, "LIGHTNING_BIN is not set (run through make test)\n");
        return -1;
    }
    if (tu_mkdtemp(dir, sizeof dir, "test_perf_hpg"))
        return -1;
    return pgtest_start(&pg);
}

static int teardown(void **s)
{
    (void)s;
    pgtest_stop(&pg);
    tu_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_writers),
        cmocka_unit_test(test_two_writers_sqlite),
        cmocka_unit_test(test_sqlite_to_postgresql),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
