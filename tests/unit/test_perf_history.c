/*
 * tests/unit/test_perf_history.c — the SQLite history of `lightning perf`
 * (src/perf/history.c): schema creation and versioning, refusal of newer or
 * foreign files, round trips of runs, samples, baselines, noise floors and
 * comparisons, per-run series medians, and atomic run insertion.
 *
 * Every test works on a fresh file in its own directory under /tmp. The
 * same tests (all but the SQLite file-format ones) then run against the
 * PostgreSQL backend (history_pg.h) on a throwaway server
 * (tests/common/pgtest.h), each on a fresh database, plus its own
 * refusals: a newer schema_migrations version, a lightning_perf schema
 * holding foreign tables. On both: a version-1 history migrates forward
 * keeping its runs, and a named testbed keys runs and baselines by its
 * name with the fingerprint kept beside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perf/history.h"
#include "pgtest.h"
#include "testutil.h"

/* A history call that must succeed (0) or find (1); says why when not. */
#define OK(call)                                                                 \
    do {                                                                         \
        if ((call) != 0)                                                         \
            fail_msg("%s: %s", #call, e.msg);                                    \
    } while (0)
#define FOUND(call)                                                              \
    do {                                                                         \
        if ((call) != 1)                                                         \
            fail_msg("%s: %s", #call, e.msg);                                    \
    } while (0)

static char dir[256];
static char db[300];
static pgtest pg;
static int pg_n;

static int setup(void **state)
{
    (void)state;
    if (tu_mkdtemp(dir, sizeof dir, "test_perf_history"))
        return -1;
    snprintf(db, sizeof db, "%s/h.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmdir(dir);
    return 0;
}

static void sample(perf_sample *s, const char *bench, const char *metric, int rep, double v)
{
    memset(s, 0, sizeof *s);
    snprintf(s->benchmark, sizeof s->benchmark, "%s", bench);
    snprintf(s->engine, sizeof s->engine, "lightning");
    snprintf(s->sync_mode, sizeof s->sync_mode, "NONE");
    s->threads = 1;
    s->repetition = rep;
    s->proc = rep / 2;
    snprintf(s->metric, sizeof s->metric, "%s", metric);
    snprintf(s->unit, sizeof s->unit, "ops/s");
    s->direction = 1;
    s->value = v;
    s->params = "{\"keys\":1000}";
}

static int64_t add_run(perf_history *h, const char *machine, const char *commit, double scale,
                       int reps)
{
    perf_sample_set set = {0};
    for (int r = 0; r < reps; r++) {
        perf_sample s;
        sample(&s, "read-random", "ops_per_sec", r, scale * (1000 + r));
        assert_int_equal(perf_samples_push(&set, &s), 0);
        sample(&s, "txn", "ops_per_sec", r, scale * 200);
        assert_int_equal(perf_samples_push(&set, &s), 0);
    }
    perf_run_info run;
    memset(&run, 0, sizeof run);
    snprintf(run.kind, sizeof run.kind, "run");
    snprintf(run.machine_id, sizeof run.machine_id, "%s", machine);
    snprintf(run.commit, sizeof run.commit, "%s", commit);
    run.dirty = 0;
    snprintf(run.suite, sizeof run.suite, "default");
    snprintf(run.sync_mode, sizeof run.sync_mode, "NONE");
    snprintf(run.compiler, sizeof run.compiler, "gcc 12");
    run.suite_text = "[suite]\nname = default\n[read]\n";
    run.machine_json = "{\"machine_id\":\"x\"}";
    perf_error e;
    if (perf_history_add_run(h, &run, &set, &e))
        fail_msg("add_run: %s", e.msg);
    assert_true(run.id > 0);
    perf_samples_free(&set);
    return run.id;
}

static void test_create_and_version(void **state)
{
    (void)state;
    perf_history *h;
    perf_error e;
    /* Without create, a missing file is an error that says what to do. */
    assert_int_equal(perf_history_open(db, 0, &h, &e), -1);
    assert_non_null(strstr(e.msg, "no history"));
    OK(perf_history_open(db, 1, &h, &e));
    perf_history_close(h);
    int v = -1;
    OK(perf_history_file_version(db, &v, &e));
    assert_int_equal(v, PERF_HISTORY_SCHEMA_VERSION);
    /* Reopening an existing history keeps its version and data. */
    OK(perf_history_open(db, 0, &h, &e));
    int64_t id = add_run(h, "aaaaaaaaaaaaaaaa", "c1", 1.0, 4);
    perf_history_close(h);
    OK(perf_history_open(db, 0, &h, &e));
    perf_run_info r;
    FOUND(perf_history_get_run(h, id, &r, &e));
    assert_string_equal(r.commit, "c1");
    perf_run_info_free(&r);
    perf_history_close(h);
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    perf_history *h;
    perf_error e;
    OK(perf_history_open(db, 1, &h, &e));
    perf_history_close(h);
    sqlite3 *s;
    assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    assert_int_equal(perf_history_open(db, 1, &h, &e), -1);
    assert_non_null(strstr(e.msg, "schema version 99"));
    assert_non_null(strstr(e.msg, "newer"));
    /* The refusal must not have touched the file. */
    int v = 0;
    OK(perf_history_file_version(db, &v, &e));
    assert_int_equal(v, 99);
}

static void test_foreign_files_refused(void **state)
{
    (void)state;
    perf_history *h;
    perf_error e;
    FILE *f = fopen(db, "w");
    assert_non_null(f);
    fputs("this is not a database, just text that is long enough to have a header......\n", f);
    fclose(f);
    assert_int_equal(perf_history_open(db, 1, &h, &e), -1);
    assert_non_null(strstr(e.msg, "not a lightning perf history"));
    unlink(db);
    /* An SQLite file with someone else's tables is not ours either. */
    sqlite3 *s;
    assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    assert_int_equal(perf_history_open(db, 1, &h, &e), -1);
    assert_non_null(strstr(e.msg, "not a lightning perf history"));
}

static void test_runs_and_samples(void **state)
{
    (void)state;
    perf_history *h;
    perf_error e;
    OK(perf_history_open(db, 1, &h, &e));
    int64_t a = add_run(h, "aaaaaaaaaaaaaaaa", "c1", 1.0, 6);
    int64_t b = add_run(h, "bbbbbbbbbbbbbbbb", "c2", 0.5, 4);
    int64_t c = add_run(h, "aaaaaaaaaaaaaaaa", "c3", 2.0, 2);
    perf_run_info r;
    FOUND(perf_history_get_run(h, b, &r, &e));
    assert_string_equal(r.machine_id, "bbbbbbbbbbbbbbbb");
    assert_string_equal(r.kind, "run");
    assert_string_equal(r.suite, "default");
    assert_string_equal(r.sync_mode, "NONE");
    assert_int_equal(r.dirty, 0);
    assert_int_equal((int)r.n_samples, 8);
    assert_non_null(r.suite_text);
    assert_non_null(strstr(r.suite_text, "[read]"));
    assert_true(strlen(r.created_at) == 20 && r.created_at[10] == 'T');
    perf_run_info_free(&r);
    OK(perf_history_get_run(h, 999, &r, &e));

    perf_sample_set s = {0};
    OK(perf_history_load_samples(h, a, &s, &e));
    assert_int_equal((int)s.n, 12);
    assert_string_equal(s.v[0].benchmark, "read-random");
    assert_true(s.v[0].value == 1000.0 && s.v[2].value == 1001.0);
    assert_string_equal(s.v[0].params, "{\"keys\":1000}");
    assert_int_equal(s.v[5].proc, 1);
    perf_samples_free(&s);

    perf_run_filter f = {.machine_id = "aaaaaaaaaaaaaaaa"};
    perf_run_info *list;
    size_t n;
    OK(perf_history_list_runs(h, &f, &list, &n, &e));
    assert_int_equal((int)n, 2);
    assert_true(list[0].id == a && list[1].id == c); /* oldest first */
    perf_run_infos_free(list, n);
    f.limit = 1;
    OK(perf_history_list_runs(h, &f, &list, &n, &e));
    assert_int_equal((int)n, 1);
    assert_true(list[0].id == c); /* the newest one */
    perf_run_infos_free(list, n);
    int64_t latest = 0;
    f.limit = 0;
    FOUND(perf_history_latest_run(h, &f, &latest, &e));
    assert_true(latest == c);
    f.machine_id = "cccccccccccccccc";
    OK(perf_history_latest_run(h, &f, &latest, &e));

    /* Series: one point per run, the median of its values. */
    perf_series_key k = {.benchmark = "read-random", .engine = "lightning", .threads = 1,
                         .metric = "ops_per_sec"};
    perf_run_filter fa = {.machine_id = "aaaaaaaaaaaaaaaa", .kind = "run"};
    perf_series_point *pts;
    OK(perf_history_series(h, &fa, &k, &pts, &n, &e));
    assert_int_equal((int)n, 2);
    assert_true(pts[0].run_id == a && fabs(pts[0].median - 1002.5) < 1e-9);
    assert_true(pts[1].run_id == c && fabs(pts[1].median - 2001.0) < 1e-9);
    assert_string_equal(pts[1].commit, "c3");
    free(pts);
    perf_series_key *keys;
    OK(perf_history_series_keys(h, &fa, &keys, &n, &e));
    assert_int_equal((int)n, 2);
    assert_string_equal(keys[0].benchmark, "read-random");
    assert_string_equal(keys[1].benchmark, "txn");
    free(keys);
    char unit[16];
    int dir_ = 0;
    FOUND(perf_history_series_unit(h, &k, unit, sizeof unit, &dir_, &e));
    assert_string_equal(unit, "ops/s");
    assert_int_equal(dir_, 1);
    perf_history_close(h);
}

static void test_baselines_and_floors(void **state)
{
    (void)state;
    perf_history *h;
    perf_error e;
    OK(perf_history_open(db, 1, &h, &e));
    int64_t a = add_run(h, "aaaaaaaaaaaaaaaa", "c1", 1.0, 2);
    int64_t b = add_run(h, "aaaaaaaaaaaaaaaa", "c2", 1.0, 2);
    int64_t got = 0;
    OK(perf_history_get_baseline(h, "aaaaaaaaaaaaaaaa", "NONE", "default", &got,
                                               NULL, 0, &e));
    assert_int_equal(perf_history_set_baseline(h, "aaaaaaaaaaaaaaaa", "NONE", "default", a, &e),
                     0);
    FOUND(perf_history_get_baseline(h, "aaaaaaaaaaaaaaaa", "NONE", "default", &got,
                                               NULL, 0, &e));
    assert_true(got == a);
    /* One baseline per (machine, sync, suite): setting again replaces. */
    assert_int_equal(perf_history_set_baseline(h, "aaaaaaaaaaaaaaaa", "NONE", "default", b, &e),
                     0);
    FOUND(perf_history_get_baseline(h, "aaaaaaaaaaaaaaaa", "NONE", "default", &got,
                                               NULL, 0, &e));
    assert_true(got == b);
    OK(perf_history_get_baseline(h, "aaaaaaaaaaaaaaaa", "FULL", "default", &got,
                                               NULL, 0, &e));
    perf_baseline_row *rows;
    size_t n;
    OK(perf_history_list_baselines(h, &rows, &n, &e));
    assert_int_equal((int)n, 1);
    free(rows);

    perf_noise_row nr;
    memset(&nr, 0, sizeof nr);
    snprintf(nr.machine_id, sizeof nr.machine_id, "aaaaaaaaaaaaaaaa");
    snprintf(nr.sync_mode, sizeof nr.sync_mode, "NONE");
    snprintf(nr.benchmark, sizeof nr.benchmark, "read-random");
    snprintf(nr.engine, sizeof nr.engine, "lightning");
    nr.threads = 1;
    snprintf(nr.metric, sizeof nr.metric, "ops_per_sec");
    nr.floor = 0.031;
    nr.raw = 0.031;
    nr.k = 20;
    nr.cv = 0.05;
    OK(perf_history_set_noise_floor(h, &nr, &e));
    nr.floor = nr.raw = 0.025; /* recalibration replaces */
    OK(perf_history_set_noise_floor(h, &nr, &e));
    perf_noise_row out;
    FOUND(perf_history_get_noise_floor(h, "aaaaaaaaaaaaaaaa", "NONE", "read-random",
                                                  "lightning", 1, "ops_per_sec", &out, &e));
    assert_true(fabs(out.floor - 0.025) < 1e-12 && out.k == 20);
    OK(perf_history_get_noise_floor(h, "bbbbbbbbbbbbbbbb", "NONE", "read-random",
                                                  "lightning", 1, "ops_per_sec", &out, &e));
    perf_noise_row *all;
    OK(perf_history_list_noise_floors(h, NULL, &all, &n, &e));
    assert_int_equal((int)n, 1);
    free(all);
    perf_history_close(h);
}

static void test_comparison_round_trip(void **state)
{
    (void)state;
    perf_history *h;
    perf_error e;
    OK(perf_history_open(db, 1, &h, &e));
    int64_t a = add_run(h, "aaaaaaaaaaaaaaaa", "c1", 1.0, 2);
    perf_comparison c;
    memset(&c, 0, sizeof c);
    snprintf(c.kind, sizeof c.kind, "check");
    c.base_run = a;
    c.head_run = a;
    c.forced = 1;
    snprintf(c.mismatch, sizeof c.mismatch, "different machines (x vs y)");
    perf_cmp_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.benchmark, sizeof r.benchmark, "read-random");
    snprintf(r.metric, sizeof r.metric, "ops_per_sec");
    r.status = PERF_ROW_OK;
    r.v.verdict = PERF_VERDICT_REGRESSION;
    r.v.g = 0.8;
    r.v.g_lo = 0.75;
    r.v.g_hi = 0.85;
    r.v.reason = "static reason";
    assert_int_equal(perf_comparison_add(&c, &r), 0);
    r.v.verdict = PERF_VERDICT_INCONCLUSIVE;
    r.v.reps_needed = 42;
    assert_int_equal(perf_comparison_add(&c, &r), 0);
    perf_comparison_tally(&c);
    assert_int_equal(c.exit_code, PERF_EXIT_REGRESSION);
    OK(perf_history_save_comparison(h, &c, &e));
    assert_true(c.id > 0);
    perf_comparison d;
    FOUND(perf_history_load_comparison(h, 0, NULL, &d, &e));
    assert_true(d.id == c.id);
    assert_int_equal((int)d.n, 2);
    assert_int_equal(d.forced, 1);
    assert_string_equal(d.mismatch, c.mismatch);
    assert_int_equal(d.rows[0].v.verdict, PERF_VERDICT_REGRESSION);
    assert_int_equal(d.rows[1].v.verdict, PERF_VERDICT_INCONCLUSIVE);
    assert_int_equal((int)d.rows[1].v.reps_needed, 42);
    assert_string_equal(d.rows[0].v.reason, "static reason");
    assert_true(fabs(d.rows[0].v.g_lo - 0.75) < 1e-12);
    assert_int_equal(d.exit_code, PERF_EXIT_REGRESSION);
    perf_comparison_free(&d);
    /* The kind filter skips comparisons of other kinds. */
    OK(perf_history_load_comparison(h, 0, "ab", &d, &e));
    FOUND(perf_history_load_comparison(h, 0, "check,ab", &d, &e));
    perf_comparison_free(&d);
    perf_comparison_free(&c);
    perf_history_close(h);
}

static void test_failed_insert_leaves_nothing(void **state)
{
    (void)state;
    perf_history *h;
    perf_error e;
    OK(perf_history_open(db, 1, &h, &e));
    perf_sample_set set = {0};
    perf_sample s;
    sample(&s, "read-random", "ops_per_sec", 0, 1.0);
    assert_int_equal(perf_samples_push(&set, &s), 0);
    perf_run_info run;
    memset(&run, 0, sizeof run);
    /* No machine fingerprint: refused before anything is written. */
    assert_int_equal(perf_history_add_run(h, &run, &set, &e), -1);
    assert_non_null(strstr(e.msg, "machine"));
    perf_run_filter f = {0};
    perf_run_info *list;
    size_t n;
    OK(perf_history_list_runs(h, &f, &list, &n, &e));
    assert_int_equal((int)n, 0);
    perf_run_infos_free(list, n);
    perf_samples_free(&set);
    perf_history_close(h);
}

/* A history made by the version-1 build: today's, with step 1 -> 2 undone
 * (its column dropped, its version record removed). */
static void downgrade_to_v1(void)
{
    if (!strncmp(db, "postgresql://", 13)) {
        pgtest tmp = pg;
        snprintf(tmp.url, sizeof tmp.url, "%s", db);
        assert_int_equal(pgtest_exec(&tmp, "ALTER TABLE lightning_perf.runs DROP COLUMN "
                                           "fingerprint; DELETE FROM "
                                           "lightning_perf.schema_migrations WHERE version = 2"),
                         0);
        return;
    }
    sqlite3 *s;
    assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, "ALTER TABLE runs DROP COLUMN fingerprint; PRAGMA "
                                     "user_version = 1; UPDATE meta SET value = '1' WHERE key = "
                                     "'schema_version'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(s);
}

static void test_migrates_from_v1(void **state)
{
    (void)state;
    perf_history *h;
    perf_error e;
    OK(perf_history_open(db, 1, &h, &e));
    int64_t id = add_run(h, "dddddddddddddddd", "old", 1.0, 3);
    perf_history_close(h);
    downgrade_to_v1();
    int v = 0;
    OK(perf_history_file_version(db, &v, &e));
    assert_int_equal(v, 1);
    /* opening migrates forward; the old run keeps everything and gets its
     * fingerprint (its machine key was the fingerprint) */
    OK(perf_history_open(db, 0, &h, &e));
    perf_run_info r;
    FOUND(perf_history_get_run(h, id, &r, &e));
    assert_string_equal(r.commit, "old");
    assert_string_equal(r.fingerprint, "dddddddddddddddd");
    assert_int_equal((int)r.n_samples, 6);
    perf_run_info_free(&r);
    perf_history_close(h);
    OK(perf_history_file_version(db, &v, &e));
    assert_int_equal(v, PERF_HISTORY_SCHEMA_VERSION);
}

/* A named testbed: the key is the name, the fingerprint is kept. */
static void test_named_machine(void **state)
{
    (void)state;
    perf_history *h;
    perf_error e;
    OK(perf_history_open(db, 1, &h, &e));
    perf_sample_set set = {0};
    perf_sample smp;
    sample(&smp, "read-random", "ops_per_sec", 0, 1.0);
    assert_int_equal(perf_samples_push(&set, &smp), 0);
    perf_run_info run;
    memset(&run, 0, sizeof run);
    snprintf(run.kind, sizeof run.kind, "run");
    snprintf(run.machine_id, sizeof run.machine_id, "ci-runner-large.eu-west");
    snprintf(run.fingerprint, sizeof run.fingerprint, "eeeeeeeeeeeeeeee");
    snprintf(run.suite, sizeof run.suite, "default");
    snprintf(run.sync_mode, sizeof run.sync_mode, "NONE");
    OK(perf_history_add_run(h, &run, &set, &e));
    OK(perf_history_set_baseline(h, run.machine_id, "NONE", "default", run.id, &e));
    perf_run_info back;
    FOUND(perf_history_get_run(h, run.id, &back, &e));
    assert_string_equal(back.machine_id, "ci-runner-large.eu-west");
    assert_string_equal(back.fingerprint, "eeeeeeeeeeeeeeee");
    perf_run_info_free(&back);
    int64_t bid = 0;
    FOUND(perf_history_get_baseline(h, "ci-runner-large.eu-west", "NONE", "default", &bid, NULL,
                                    0, &e));
    assert_int_equal(bid, run.id);
    perf_run_filter f = {.machine_id = "ci-runner-large.eu-west"};
    int64_t latest = 0;
    FOUND(perf_history_latest_run(h, &f, &latest, &e));
    assert_int_equal(latest, run.id);
    perf_samples_free(&set);
    perf_history_close(h);
}

/* ---- the same tests on PostgreSQL ----------------------------------- */

static int pg_setup(void **state)
{
    (void)state;
    char name[32];
    snprintf(name, sizeof name, "h%d", ++pg_n);
    return pgtest_database(&pg, name, db, sizeof db);
}

static int pg_teardown(void **state)
{
    (void)state;
    return 0;
}

static int pg_group_setup(void **state)
{
    (void)state;
    return pgtest_start(&pg);
}

static int pg_group_teardown(void **state)
{
    (void)state;
    pgtest_stop(&pg);
    return 0;
}

static void run_sql(const char *url, const char *sql)
{
    pgtest tmp = pg;
    snprintf(tmp.url, sizeof tmp.url, "%s", url);
    assert_int_equal(pgtest_exec(&tmp, sql), 0);
}

static void test_pg_refusals(void **state)
{
    (void)state;
    perf_history *h;
    perf_error e;
    OK(perf_history_open(db, 1, &h, &e));
    perf_history_close(h);
    run_sql(db, "INSERT INTO lightning_perf.schema_migrations VALUES (99, 'x', 'a future build')");
    assert_int_equal(perf_history_open(db, 1, &h, &e), -1);
    assert_non_null(strstr(e.msg, "newer"));
    int v = 0;
    OK(perf_history_file_version(db, &v, &e));
    assert_int_equal(v, 99);
    /* someone else's lightning_perf schema */
    char other[300];
    assert_int_equal(pgtest_database(&pg, "foreign1", other, sizeof other), 0);
    run_sql(other, "CREATE SCHEMA lightning_perf; CREATE TABLE lightning_perf.mine (x int)");
    assert_int_equal(perf_history_open(other, 1, &h, &e), -1);
    assert_non_null(strstr(e.msg, "not a lightning perf history"));
    /* a password never appears in a message */
    char bad[400];
    snprintf(bad, sizeof bad, "postgresql://perf:s3cret@/nodb?host=%s", pg.dir);
    assert_int_equal(perf_history_open(bad, 1, &h, &e), -1);
    assert_null(strstr(e.msg, "s3cret"));
    assert_non_null(strstr(e.msg, "perf:***@"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_files_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_and_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_baselines_and_floors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comparison_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_insert_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrates_from_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_machine, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_version, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_runs_and_samples, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_baselines_and_floors, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_comparison_round_trip, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_failed_insert_leaves_nothing, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_pg_refusals, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_migrates_from_v1, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_named_machine, pg_setup, pg_teardown),
    };
    failed += cmocka_run_group_tests_name("postgresql", pg_tests, pg_group_setup,
                                          pg_group_teardown);
    return failed;
}
