/*
 * test_maintenance.c — checkpoints, segment cleaning and compression:
 * bounded disk use under sustained overwrites, snapshots that survive the
 * relocation of their segments, damaged checkpoints skipped with a
 * fallback, SIGKILL during checkpoints and cleaning losing nothing
 * acknowledged and resurrecting no deleted key, and compressed values that
 * reopen whatever the option says.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lightningdb.h"
#include "testutil.h"

#define SEG (256u << 10)

static uint64_t disk_bytes(const char *dir, int *nsegs)
{
    DIR *d = opendir(dir);
    uint64_t total = 0;
    *nsegs = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 4, ".log") != 0) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st) == 0) total += (uint64_t)st.st_blocks * 512;
        (*nsegs)++;
    }
    if (d) closedir(d);
    return total;
}

static void fill(uint8_t *v, size_t n, uint64_t key, uint64_t ver)
{
    for (size_t i = 0; i < n; i++) v[i] = (uint8_t)(key * 31 + ver * 7 + i);
}

static int value_ok(const uint8_t *v, size_t n, uint64_t key, uint64_t ver)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] != (uint8_t)(key * 31 + ver * 7 + i)) return 0;
    return 1;
}

/* Overwrites a fixed key set many times; disk use stays within the target
 * space amplification plus one segment while the cleaner runs. */
static void test_space_bounded(void **state)
{
    const char *dir = *state;
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NONE;
    o.segment_size = SEG;
    o.cleaner_cpu = 1.0;
    ldb *db;
    db = tu_open(dir, &o);
    enum { KEYS = 20000, VSZ = 100, ROUNDS = 15 };
    uint8_t v[VSZ];
    uint64_t worst = 0;
    double worst_amp = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (uint64_t k = 0; k < KEYS; k++) {
            char key[16];
            snprintf(key, sizeof key, "k%08llu", (unsigned long long)((k * 7919) % KEYS));
            fill(v, VSZ, k, (uint64_t)round);
            assert_int_equal(ldb_put(db, key, strlen(key), v, VSZ), LDB_OK);
        }
        /* The background cleaner brings disk use back within the target
         * (plus the active segment and the one before it, which it never
         * cleans) promptly after each burst; a loaded machine may delay it,
         * so allow it up to 5 s rather than a fixed pause. */
        ldb_stats st;
        ldb_get_stats(db, &st);
        int nseg;
        uint64_t disk = disk_bytes(dir, &nseg);
        if (disk > worst) worst = disk;
        if (st.space_amplification > worst_amp) worst_amp = st.space_amplification;
        double bound = o.space_amp_target * (double)st.live_bytes + 2.0 * SEG;
        for (int wait = 0; wait < 250 && (double)disk > bound; wait++) {
            struct timespec ts = {0, 20000000L};
            nanosleep(&ts, NULL);
            disk = disk_bytes(dir, &nseg);
        }
        assert_true((double)disk <= bound);
    }
    ldb_stats st;
    ldb_get_stats(db, &st);
    fprintf(stderr, "# live %llu B, worst disk right after a burst %llu B (amp %.2f), write amp %.2f, %llu segments cleaned\n",
            (unsigned long long)st.live_bytes, (unsigned long long)worst, worst_amp,
            st.write_amplification, (unsigned long long)st.cleaned_segments);
    assert_true(st.cleaned_segments > 0);
    assert_true(st.write_amplification < 3.0);
    assert_int_equal(st.keys, KEYS);
    /* Everything reads back at its last version, and again after reopen. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t k = 0; k < KEYS; k++) {
            char key[16];
            uint8_t got[VSZ];
            size_t n;
            uint64_t idx = (k * 7919) % KEYS;
            snprintf(key, sizeof key, "k%08llu", (unsigned long long)idx);
            assert_int_equal(ldb_get(db, key, strlen(key), got, sizeof got, &n), LDB_OK);
            assert_int_equal(n, VSZ);
            assert_true(value_ok(got, n, k, ROUNDS - 1));
        }
        assert_int_equal(ldb_close(db), LDB_OK);
        db = tu_open(dir, &o);
    }
    assert_int_equal(ldb_close(db), LDB_OK);
}

/* A snapshot taken before cleaning reads its values while their segments
 * are relocated and deleted underneath it. */
static void test_snapshot_survives_cleaning(void **state)
{
    const char *dir = *state;
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NONE;
    o.segment_size = SEG;
    o.cleaner = 0; /* cleaning only when we say */
    ldb *db;
    db = tu_open(dir, &o);
    enum { KEYS = 3000, VSZ = 200 };
    uint8_t v[VSZ];
    for (uint64_t k = 0; k < KEYS; k++) {
        char key[16];
        snprintf(key, sizeof key, "s%06llu", (unsigned long long)k);
        fill(v, VSZ, k, 0);
        assert_int_equal(ldb_put(db, key, strlen(key), v, VSZ), LDB_OK);
    }
    ldb_txn *t;
    assert_int_equal(ldb_txn_begin(db, LDB_TXN_READONLY, &t), LDB_OK);
    /* Overwrite half, delete a quarter: old segments turn mostly dead. */
    for (uint64_t k = 0; k < KEYS; k++) {
        char key[16];
        snprintf(key, sizeof key, "s%06llu", (unsigned long long)k);
        if (k % 4 == 0) {
            assert_int_equal(ldb_delete(db, key, strlen(key)), LDB_OK);
        } else if (k % 2 == 1) {
            fill(v, VSZ, k, 1);
            assert_int_equal(ldb_put(db, key, strlen(key), v, VSZ), LDB_OK);
        }
    }
    ldb_stats before, after;
    ldb_get_stats(db, &before);
    assert_int_equal(ldb_compact(db), LDB_OK);
    ldb_get_stats(db, &after);
    assert_true(after.cleaned_segments > before.cleaned_segments);
    /* The snapshot still sees version 0 of every key, by get and by scan. */
    for (uint64_t k = 0; k < KEYS; k++) {
        char key[16];
        snprintf(key, sizeof key, "s%06llu", (unsigned long long)k);
        const void *p;
        size_t n;
        assert_int_equal(ldb_txn_get(t, key, strlen(key), &p, &n), LDB_OK);
        assert_int_equal(n, VSZ);
        assert_true(value_ok(p, n, k, 0));
    }
    ldb_iter *it;
    assert_int_equal(ldb_iter_open_txn(t, &it), LDB_OK);
    uint64_t k = 0;
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it), k++) {
        const void *p;
        size_t n;
        assert_int_equal(ldb_iter_value(it, &p, &n), LDB_OK);
        assert_true(value_ok(p, n, k, 0));
    }
    assert_int_equal(k, KEYS);
    ldb_iter_close(it);
    ldb_txn_abort(t);
    /* And the present is right too, before and after reopen. */
    for (int pass = 0; pass < 2; pass++) {
        for (k = 0; k < KEYS; k++) {
            char key[16];
            uint8_t got[VSZ];
            size_t n;
            snprintf(key, sizeof key, "s%06llu", (unsigned long long)k);
            int rc = ldb_get(db, key, strlen(key), got, sizeof got, &n);
            if (k % 4 == 0) {
                assert_int_equal(rc, LDB_NOTFOUND);
            } else {
                assert_int_equal(rc, LDB_OK);
                assert_true(value_ok(got, n, k, k % 2));
            }
        }
        assert_int_equal(ldb_close(db), LDB_OK);
        db = tu_open(dir, &o);
    }
    ldb_stats st;
    ldb_get_stats(db, &st);
    assert_int_equal(st.keys, KEYS - KEYS / 4);
    assert_int_equal(ldb_close(db), LDB_OK);
}

/* Reopen after a checkpoint replays only the tail; a damaged checkpoint is
 * skipped for the previous one, then for a full replay, with the same data
 * every time. */
static void test_checkpoint_and_fallback(void **state)
{
    const char *dir = *state;
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NORMAL;
    o.segment_size = SEG;
    o.checkpoint_on_close = 0;
    ldb *db;
    db = tu_open(dir, &o);
    enum { KEYS = 5000 };
    char key[16], val[32];
    for (int k = 0; k < KEYS; k++) {
        snprintf(key, sizeof key, "c%05d", k);
        snprintf(val, sizeof val, "v%d", k);
        assert_int_equal(ldb_put(db, key, strlen(key), val, strlen(val)), LDB_OK);
    }
    assert_int_equal(ldb_checkpoint(db), LDB_OK); /* previous */
    for (int k = 0; k < KEYS; k += 2) {
        snprintf(key, sizeof key, "c%05d", k);
        assert_int_equal(ldb_delete(db, key, strlen(key)), LDB_OK);
    }
    assert_int_equal(ldb_checkpoint(db), LDB_OK); /* newest */
    for (int k = 1; k < 100; k += 2) {
        snprintf(key, sizeof key, "c%05d", k);
        assert_int_equal(ldb_put(db, key, strlen(key), "tail", 4), LDB_OK);
    }
    ldb_stats st;
    ldb_get_stats(db, &st);
    uint64_t newest = st.checkpoint_seq;
    assert_int_equal(st.checkpoints, 2);
    assert_int_equal(ldb_close(db), LDB_OK);

    /* The newest checkpoint is loaded; only the 50-record tail replays. */
    db = tu_open(dir, &o);
    ldb_get_stats(db, &st);
    assert_int_equal(st.recovery_checkpoint_seq, newest);
    assert_int_equal(st.recovery_records, 50);
    assert_int_equal(st.keys, KEYS / 2);
    assert_int_equal(ldb_close(db), LDB_OK);

    char *names[4];
    DIR *d = opendir(dir);
    int nck = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".ldbc") && nck < 4) {
            names[nck] = malloc(strlen(dir) + l + 2);
            sprintf(names[nck], "%s/%s", dir, de->d_name);
            nck++;
        }
    }
    closedir(d);
    assert_int_equal(nck, 2);
    if (strcmp(names[0], names[1]) < 0) { /* names[0] = newest */
        char *t = names[0];
        names[0] = names[1];
        names[1] = t;
    }
    for (int damage = 1; damage <= 2; damage++) {
        struct stat sb;
        stat(names[damage - 1], &sb);
        /* A flipped byte in the middle of the entry blocks. */
        assert_int_equal(tu_flip_byte(names[damage - 1], (uint64_t)sb.st_size / 2, 0x10), 0);
        db = tu_open(dir, &o);
        ldb_get_stats(db, &st);
        assert_int_equal(st.checkpoint_fallbacks, (uint64_t)damage);
        if (damage == 1) assert_true(st.recovery_checkpoint_seq > 0 && st.recovery_checkpoint_seq < newest);
        else assert_int_equal(st.recovery_checkpoint_seq, 0);
        assert_non_null(strstr(ldb_last_error(), "checkpoint"));
        assert_int_equal(st.keys, KEYS / 2);
        for (int k = 0; k < KEYS; k++) {
            char got[32];
            size_t n;
            snprintf(key, sizeof key, "c%05d", k);
            int rc = ldb_get(db, key, strlen(key), got, sizeof got, &n);
            if (k % 2 == 0) {
                assert_int_equal(rc, LDB_NOTFOUND);
            } else {
                assert_int_equal(rc, LDB_OK);
                if (k < 100) snprintf(val, sizeof val, "tail");
                else snprintf(val, sizeof val, "v%d", k);
                assert_int_equal(n, strlen(val));
                assert_memory_equal(got, val, n);
            }
        }
        assert_int_equal(ldb_close(db), LDB_OK);
    }
    free(names[0]);
    free(names[1]);
}

/* Compressed values: every algorithm, reopened under another option. */
static void test_compression(void **state)
{
    const char *dir = *state;
    static uint8_t big[64 << 10];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)("lightning"[i % 9] + (i / 4096));
    for (int algo = LDB_COMPRESSION_NONE; algo <= LDB_COMPRESSION_ZSTD; algo++) {
        ldb_options o;
        ldb_options_init(&o);
        o.sync_mode = LDB_SYNC_NONE;
        o.compression = algo;
        ldb *db;
        db = tu_open(dir, &o);
        char key[16];
        snprintf(key, sizeof key, "algo%d", algo);
        assert_int_equal(ldb_put(db, key, strlen(key), big, sizeof big), LDB_OK);
        assert_int_equal(ldb_put(db, "small", 5, "tiny", 4), LDB_OK);
        ldb_stats st;
        ldb_get_stats(db, &st);
        if (algo != LDB_COMPRESSION_NONE) assert_true(st.compressed_values >= 1);
        assert_int_equal(ldb_close(db), LDB_OK);
    }
    ldb_options o;
    ldb_options_init(&o); /* compression off now */
    ldb *db;
    db = tu_open(dir, &o);
    static uint8_t got[64 << 10];
    for (int algo = LDB_COMPRESSION_NONE; algo <= LDB_COMPRESSION_ZSTD; algo++) {
        char key[16];
        size_t n;
        snprintf(key, sizeof key, "algo%d", algo);
        assert_int_equal(ldb_get(db, key, strlen(key), got, sizeof got, &n), LDB_OK);
        assert_int_equal(n, sizeof big);
        assert_memory_equal(got, big, n);
        /* A short buffer gets the first bytes and the full length. */
        assert_int_equal(ldb_get(db, key, strlen(key), got, 10, &n), LDB_OK);
        assert_int_equal(n, sizeof big);
        assert_memory_equal(got, big, 10);
        ldb_txn *t;
        assert_int_equal(ldb_txn_begin(db, LDB_TXN_READONLY, &t), LDB_OK);
        const void *p;
        assert_int_equal(ldb_txn_get(t, key, strlen(key), &p, &n), LDB_OK);
        assert_memory_equal(p, big, sizeof big);
        ldb_txn_abort(t);
    }
    /* The cleaner moves compressed records verbatim. */
    assert_int_equal(ldb_compact(db), LDB_OK);
    assert_int_equal(ldb_close(db), LDB_OK);
    db = tu_open(dir, &o);
    size_t n;
    assert_int_equal(ldb_get(db, "algo2", 5, got, sizeof got, &n), LDB_OK);
    assert_memory_equal(got, big, sizeof big);
    assert_int_equal(ldb_close(db), LDB_OK);
}

/* A child writes in FULL mode with checkpoints and cleaning running hot
 * (tiny segments, tiny checkpoint interval) and reports each acknowledged
 * operation; SIGKILL at a random moment. Every acknowledged write must be
 * there and every acknowledged delete absent; only the one operation in
 * flight (which the parent re-derives from the child's seed) may go either
 * way. */
typedef struct mop {
    uint32_t key;
    int del;
} mop;

static mop next_op(tu_rng *r, uint32_t keys)
{
    mop m;
    m.key = (uint32_t)tu_rand_below(r, keys);
    m.del = tu_rand_below(r, 5) == 0;
    return m;
}

typedef struct hist_ent {
    int round;
    uint64_t id;
    uint32_t key;
    int del, acked;
} hist_ent;
#define HIST_MAX 200000
static hist_ent hist[HIST_MAX];
static size_t hist_n;

static void test_kill_during_maintenance(void **state)
{
    const char *dir = *state;
    tu_rng r = {tu_seed(1234)};
    enum { KEYS = 400, ROUNDS = 12 };
    uint64_t *expect = calloc(KEYS, sizeof *expect); /* op id of the value, 0 = absent */
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_FULL;
    o.segment_size = 64 << 10;
    o.checkpoint_bytes = 32 << 10;
    o.cleaner_cpu = 1.0;
    uint64_t base = 1;
    uint64_t ckpts = 0, cleaned = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        uint64_t child_seed = tu_rand(&r);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            ldb *db;
            if (ldb_open(dir, &o, &db) != LDB_OK) _exit(3);
            tu_rng cr = {child_seed};
            uint8_t v[300];
            for (uint64_t i = 0;; i++) {
                mop m = next_op(&cr, KEYS);
                char key[16];
                snprintf(key, sizeof key, "m%04u", m.key);
                int rc;
                if (m.del) {
                    rc = ldb_delete(db, key, strlen(key));
                } else {
                    fill(v, sizeof v, m.key, base + i);
                    rc = ldb_put(db, key, strlen(key), v, sizeof v);
                }
                if (rc != LDB_OK) _exit(4);
                if (write(fds[1], &i, sizeof i) != sizeof i) _exit(5);
                if (i % 97 == 0) ldb_checkpoint(db);
            }
        }
        close(fds[1]);
        struct timespec ts = {0, (long)(20 + tu_rand_below(&r, 200)) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        uint64_t i, acked = 0;
        while (read(fds[0], &i, sizeof i) == sizeof i) acked = i + 1;
        close(fds[0]);
        /* Apply the acknowledged ops; note the one in flight. */
        tu_rng cr = {child_seed};
        for (uint64_t j = 0; j < acked; j++) {
            mop m = next_op(&cr, KEYS);
            expect[m.key] = m.del ? 0 : base + j;
            if (hist_n < HIST_MAX) hist[hist_n++] = (hist_ent){round, base + j, m.key, m.del, 1};
        }
        mop inflight = next_op(&cr, KEYS);
        uint64_t inflight_id = base + acked;
        if (hist_n < HIST_MAX) hist[hist_n++] = (hist_ent){round, inflight_id, inflight.key, inflight.del, 0};
        ldb *db;
        db = tu_open(dir, &o);
        for (uint32_t k = 0; k < KEYS; k++) {
            char key[16];
            uint8_t got[300];
            size_t n = 0;
            snprintf(key, sizeof key, "m%04u", k);
            int rc = ldb_get(db, key, strlen(key), got, sizeof got, &n);
            int as_acked = expect[k] ? (rc == LDB_OK && n == sizeof got && value_ok(got, n, k, expect[k]))
                                     : rc == LDB_NOTFOUND;
            if (as_acked) continue;
            int as_inflight = k == inflight.key &&
                              (inflight.del ? rc == LDB_NOTFOUND
                                            : rc == LDB_OK && value_ok(got, n, k, inflight_id));
            if (!as_inflight)
                for (size_t h = 0; h < hist_n; h++)
                    if (hist[h].key == k)
                        fprintf(stderr, "#   round %d op %llu %s %s\n", hist[h].round,
                                (unsigned long long)hist[h].id, hist[h].del ? "del" : "put",
                                hist[h].acked ? "acked" : "in flight");
            if (!as_inflight)
                fail_msg("round %d key %u: rc %d len %zu, expected op %llu (in flight: key %u)", round, k,
                         rc, n, (unsigned long long)expect[k], inflight.key);
            expect[k] = inflight.del ? 0 : inflight_id;
        }
        ldb_stats st;
        ldb_get_stats(db, &st);
        if (st.recovery_checkpoint_seq) ckpts++;
        assert_int_equal(ldb_compact(db), LDB_OK);
        ldb_get_stats(db, &st);
        cleaned += st.cleaned_segments;
        assert_int_equal(ldb_close(db), LDB_OK);
        base += acked + 1;
    }
    fprintf(stderr, "# %d rounds: %llu recovered from a checkpoint, %llu segments cleaned by compaction\n",
            ROUNDS, (unsigned long long)ckpts, (unsigned long long)cleaned);
    assert_true(ckpts > 0);
    free(expect);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_space_bounded, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_snapshot_survives_cleaning, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_checkpoint_and_fallback, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_compression, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_kill_during_maintenance, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
