/*
 * test_bank.c — the bank invariant: 8 threads move money between 100
 * accounts in read-modify-write transactions while checkers sum every
 * account in read-only snapshots (by point reads and by iteration). The
 * total never changes: not in any snapshot, not after close and reopen,
 * and not after the process is killed with SIGKILL mid-run (FULL and NONE
 * modes) and the database reopened.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lightningdb.h"
#include "testutil.h"

#define ACCOUNTS 100
#define START 1000
#define WRITERS 8

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define RUN_MS 1500
#else
#define RUN_MS 3000
#endif

typedef struct bank {
    ldb *db;
    atomic_int stop;
    atomic_long transfers, conflicts, checks, bad;
    uint64_t seed;
} bank;

static void acct_key(int i, char *k) { snprintf(k, 16, "acct%03d", i); }

static int64_t get_balance(ldb_txn *t, int i, int *rc)
{
    char k[16];
    acct_key(i, k);
    const void *v;
    size_t vl;
    *rc = ldb_txn_get(t, k, strlen(k), &v, &vl);
    if (*rc || vl != 8) {
        if (!*rc) *rc = LDB_CORRUPTION;
        return 0;
    }
    int64_t b;
    memcpy(&b, v, 8);
    return b;
}

static void *writer(void *arg)
{
    bank *b = arg;
    tu_rng r = {b->seed ^ (uint64_t)pthread_self()};
    while (!atomic_load(&b->stop)) {
        int from = (int)tu_rand_below(&r, ACCOUNTS), to = (int)tu_rand_below(&r, ACCOUNTS);
        if (from == to) continue;
        int64_t amount = (int64_t)tu_rand_below(&r, 50);
        for (;;) {
            ldb_txn *t;
            if (ldb_txn_begin(b->db, 0, &t) != LDB_OK) {
                atomic_fetch_add(&b->bad, 1);
                return NULL;
            }
            int rc1, rc2;
            int64_t fb = get_balance(t, from, &rc1), tb = get_balance(t, to, &rc2);
            if (rc1 || rc2) {
                atomic_fetch_add(&b->bad, 1);
                ldb_txn_abort(t);
                return NULL;
            }
            fb -= amount;
            tb += amount;
            char k[16];
            acct_key(from, k);
            ldb_txn_put(t, k, strlen(k), &fb, 8);
            acct_key(to, k);
            ldb_txn_put(t, k, strlen(k), &tb, 8);
            int rc = ldb_txn_commit(t);
            if (rc == LDB_OK) {
                atomic_fetch_add(&b->transfers, 1);
                break;
            }
            if (rc != LDB_CONFLICT) {
                atomic_fetch_add(&b->bad, 1);
                return NULL;
            }
            atomic_fetch_add(&b->conflicts, 1);
        }
    }
    return NULL;
}

/* Sums every account in one snapshot, by gets and by iteration. */
static int64_t snapshot_total(ldb *db, int64_t *iter_total)
{
    ldb_txn *t;
    if (ldb_txn_begin(db, LDB_TXN_READONLY, &t) != LDB_OK) return -1;
    int64_t sum = 0;
    for (int i = 0; i < ACCOUNTS; i++) {
        int rc;
        sum += get_balance(t, i, &rc);
        if (rc) sum = INT64_MIN / 2;
    }
    ldb_iter *it;
    int64_t isum = 0;
    int n = 0;
    if (ldb_iter_open_txn(t, &it) == LDB_OK) {
        for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it), n++) {
            const void *v;
            size_t vl;
            int64_t x = 0;
            if (ldb_iter_value(it, &v, &vl) == LDB_OK && vl == 8) memcpy(&x, v, 8);
            isum += x;
        }
        ldb_iter_close(it);
    }
    ldb_txn_abort(t);
    *iter_total = n == ACCOUNTS ? isum : -1;
    return sum;
}

static void *checker(void *arg)
{
    bank *b = arg;
    while (!atomic_load(&b->stop)) {
        int64_t it;
        int64_t s = snapshot_total(b->db, &it);
        if (s != (int64_t)ACCOUNTS * START || it != s) atomic_fetch_add(&b->bad, 1);
        atomic_fetch_add(&b->checks, 1);
    }
    return NULL;
}

static void bank_init(ldb *db)
{
    ldb_batch *bt;
    assert_int_equal(ldb_batch_create(&bt), LDB_OK);
    for (int i = 0; i < ACCOUNTS; i++) {
        char k[16];
        int64_t v = START;
        acct_key(i, k);
        ldb_batch_put(bt, k, strlen(k), &v, 8);
    }
    assert_int_equal(ldb_write(db, bt), LDB_OK);
    ldb_batch_free(bt);
}

static void bank_run(bank *b, int ms)
{
    pthread_t w[WRITERS], c[2];
    for (int i = 0; i < WRITERS; i++) pthread_create(&w[i], NULL, writer, b);
    for (int i = 0; i < 2; i++) pthread_create(&c[i], NULL, checker, b);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(&b->stop, 1);
    for (int i = 0; i < WRITERS; i++) pthread_join(w[i], NULL);
    for (int i = 0; i < 2; i++) pthread_join(c[i], NULL);
}

static void check_total(ldb *db)
{
    int64_t it;
    assert_int_equal(snapshot_total(db, &it), (int64_t)ACCOUNTS * START);
    assert_int_equal(it, (int64_t)ACCOUNTS * START);
}

static void run_mode(ldb_sync_mode mode)
{
    char *dir = tu_tmpdir("bank");
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = mode;
    o.segment_size = 1 << 20;
    bank b;
    memset(&b, 0, sizeof b);
    b.seed = tu_seed(42 + (uint64_t)mode);
    assert_int_equal(ldb_open(dir, &o, &b.db), LDB_OK);
    bank_init(b.db);
    bank_run(&b, mode == LDB_SYNC_FULL ? RUN_MS / 2 : RUN_MS);
    fprintf(stderr, "# mode %d: %ld transfers, %ld conflicts retried, %ld snapshot checks\n", (int)mode,
            atomic_load(&b.transfers), atomic_load(&b.conflicts), atomic_load(&b.checks));
    assert_int_equal(atomic_load(&b.bad), 0);
    assert_true(atomic_load(&b.transfers) > 100);
    assert_true(atomic_load(&b.checks) > 10);
    check_total(b.db);
    assert_int_equal(ldb_close(b.db), LDB_OK);
    assert_int_equal(ldb_open(dir, &o, &b.db), LDB_OK);
    check_total(b.db);
    assert_int_equal(ldb_close(b.db), LDB_OK);
    tu_rmdir(dir);
    free(dir);
}

static void test_bank_none(void **s) { (void)s; run_mode(LDB_SYNC_NONE); }
static void test_bank_normal(void **s) { (void)s; run_mode(LDB_SYNC_NORMAL); }
static void test_bank_full(void **s) { (void)s; run_mode(LDB_SYNC_FULL); }

/* The child runs the bank until killed; the parent reopens and checks. */
static void crash_rounds(ldb_sync_mode mode, int rounds)
{
    char *dir = tu_tmpdir("bankcrash");
    tu_rng r = {tu_seed(7 + (uint64_t)mode)};
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = mode;
    o.segment_size = 256 << 10; /* rotations happen during the run */
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    bank_init(db);
    assert_int_equal(ldb_close(db), LDB_OK);
    for (int round = 0; round < rounds; round++) {
        int delay_ms = 50 + (int)tu_rand_below(&r, 250);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            bank b;
            memset(&b, 0, sizeof b);
            b.seed = tu_rand(&r);
            if (ldb_open(dir, &o, &b.db) != LDB_OK) _exit(3);
            bank_run(&b, 60000); /* killed long before */
            _exit(0);
        }
        struct timespec ts = {0, delay_ms * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
        check_total(db);
        ldb_stats st;
        ldb_get_stats(db, &st);
        assert_int_equal(st.keys, ACCOUNTS);
        assert_int_equal(ldb_close(db), LDB_OK);
    }
    tu_rmdir(dir);
    free(dir);
}

static void test_bank_crash_full(void **s) { (void)s; crash_rounds(LDB_SYNC_FULL, 6); }
static void test_bank_crash_none(void **s) { (void)s; crash_rounds(LDB_SYNC_NONE, 6); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bank_none),
        cmocka_unit_test(test_bank_normal),
        cmocka_unit_test(test_bank_full),
        cmocka_unit_test(test_bank_crash_full),
        cmocka_unit_test(test_bank_crash_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
