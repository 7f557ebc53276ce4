/*
 * test_ckpt_corruption.c — damage to checkpoint files and the MANIFEST
 * (the log's own damage is covered by test_corruption and test_torn_tail).
 *
 * The database under test has an older checkpoint A, later writes
 * (overwrites and deletes), a newer checkpoint B and a log tail after it;
 * the MANIFEST names B then A. Then, one damage at a time, restored after
 * each open:
 *  - B with one bit flipped at every byte position (all eight bits in the
 *    header and segment table, one seeded bit elsewhere), and B cut at every
 *    length: the open must succeed, skip B for A
 *    (checkpoint_fallbacks >= 1, recovery_checkpoint_seq = A, the error
 *    naming B), and hold exactly the right contents. A flip may go
 *    unnoticed only in the two padding words no checksum covers (after the
 *    segment table's checksum and after the trailer's), and must then be
 *    harmless;
 *  - B damaged and A cut: both skipped, the whole log replayed;
 *  - the MANIFEST with every bit of every byte flipped, and cut at every
 *    length: the MANIFEST is ignored for a full replay (or, for the
 *    flips its parser cannot see — the case of a hex digit, the final
 *    newline — still names B), contents exact;
 *  - missing files: B, both checkpoints, the MANIFEST.
 * Never a crash, never wrong data. TEST_SEED replays the bit choices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "lightningdb.h"
#include "testutil.h"

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define NK 60u
#define MAXV 1500u

typedef struct fixture {
    char *dir;
    char name_a[64], name_b[64];
    uint64_t seq_a, seq_b;
    uint8_t *ckpt_a, *ckpt_b, *manifest;
    size_t len_a, len_b, len_manifest;
    uint32_t ver[NK]; /* 0: absent */
} fixture;

static fixture F;
static uint64_t g_seed;

static size_t key_of(unsigned id, char *k) { return (size_t)snprintf(k, 16, "ck%03u", id); }

static size_t val_of(unsigned id, uint32_t ver, uint8_t *out)
{
    tu_rng r = {(uint64_t)id * 7919u + ver};
    size_t len = (size_t)tu_rand_below(&r, MAXV);
    for (size_t i = 0; i < len; i++) out[i] = (uint8_t)tu_rand(&r);
    return len;
}

static ldb_options opts(void)
{
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NONE;
    o.segment_size = 64u << 10;
    o.cleaner = 0;
    o.checkpoint_bytes = 0;
    o.checkpoint_on_close = 0;
    return o;
}

static void put(ldb *db, unsigned id, uint32_t ver)
{
    static uint8_t v[MAXV];
    char k[16];
    size_t kl = key_of(id, k), vl = val_of(id, ver, v);
    assert_int_equal(ldb_put(db, k, kl, v, vl), LDB_OK);
    F.ver[id] = ver;
}

static void del(ldb *db, unsigned id)
{
    char k[16];
    size_t kl = key_of(id, k);
    assert_int_equal(ldb_delete(db, k, kl), LDB_OK);
    F.ver[id] = 0;
}

static uint8_t *load(const char *name, size_t *len)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", F.dir, name);
    uint8_t *b = tu_read_all(p, len);
    assert_non_null(b);
    return b;
}

static void store(const char *name, const uint8_t *b, size_t len)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", F.dir, name);
    assert_int_equal(tu_write_all(p, b, len), 0);
}

/* Puts every damaged file back as built. */
static void restore(void)
{
    store(F.name_a, F.ckpt_a, F.len_a);
    store(F.name_b, F.ckpt_b, F.len_b);
    store("MANIFEST", F.manifest, F.len_manifest);
}

static int setup(void **state)
{
    (void)state;
    g_seed = tu_seed(11);
    F.dir = tu_tmpdir_fast("ckptcorrupt");
    assert_non_null(F.dir);
    ldb_options o = opts();
    ldb *db;
    assert_int_equal(ldb_open(F.dir, &o, &db), LDB_OK);
    for (unsigned i = 0; i < 40; i++) put(db, i, 1);
    assert_int_equal(ldb_checkpoint(db), LDB_OK);
    for (unsigned i = 20; i < NK; i++) put(db, i, 2);
    for (unsigned i = 0; i < 12; i++) del(db, i * 3);
    assert_int_equal(ldb_checkpoint(db), LDB_OK);
    for (unsigned i = 30; i < 50; i++) put(db, i, 3);
    del(db, 31);
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    F.seq_b = st.checkpoint_seq;
    assert_int_equal(ldb_close(db), LDB_OK);
    F.manifest = load("MANIFEST", &F.len_manifest);
    char *m = (char *)F.manifest;
    char *a = strstr(m, "checkpoint ");
    assert_non_null(a);
    assert_int_equal(sscanf(a, "checkpoint %63s", F.name_b), 1);
    char *b = strstr(a + 1, "checkpoint ");
    assert_non_null(b);
    assert_int_equal(sscanf(b, "checkpoint %63s", F.name_a), 1);
    F.seq_a = strtoull(F.name_a + 5, NULL, 10);
    assert_true(F.seq_a > 0 && F.seq_a < F.seq_b);
    assert_int_equal(strtoull(F.name_b + 5, NULL, 10), F.seq_b);
    F.ckpt_a = load(F.name_a, &F.len_a);
    F.ckpt_b = load(F.name_b, &F.len_b);
    fprintf(stderr, "# checkpoints: %s (%zu bytes), %s (%zu bytes); MANIFEST %zu bytes\n", F.name_a,
            F.len_a, F.name_b, F.len_b, F.len_manifest);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmdir(F.dir);
    free(F.dir);
    free(F.ckpt_a);
    free(F.ckpt_b);
    free(F.manifest);
    return 0;
}

typedef struct outcome {
    uint64_t fallbacks, ckpt_seq;
    char err[512];
} outcome;

/* Opens the damaged directory: must succeed with exactly the contents. */
static outcome open_and_check(const char *what)
{
    outcome out = {0};
    ldb_options o = opts();
    ldb *db;
    int rc = ldb_open(F.dir, &o, &db);
    if (rc != LDB_OK) fail_msg("%s: open failed: %s (%s)", what, ldb_strerror(rc), ldb_last_error());
    snprintf(out.err, sizeof out.err, "%s", ldb_last_error());
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    out.fallbacks = st.checkpoint_fallbacks;
    out.ckpt_seq = st.recovery_checkpoint_seq;
    static uint8_t buf[MAXV], want[MAXV];
    char k[16];
    unsigned live = 0;
    for (unsigned id = 0; id < NK; id++) {
        size_t kl = key_of(id, k), vl = 0;
        rc = ldb_get(db, k, kl, buf, sizeof buf, &vl);
        if (!F.ver[id]) {
            if (rc != LDB_NOTFOUND) fail_msg("%s: deleted key %u is back (%s)", what, id, ldb_strerror(rc));
            continue;
        }
        live++;
        size_t wl = val_of(id, F.ver[id], want);
        if (rc != LDB_OK || vl != wl || memcmp(buf, want, wl) != 0)
            fail_msg("%s: key %u is wrong (%s)", what, id, ldb_strerror(rc));
    }
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    unsigned n = 0;
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it)) n++;
    assert_int_equal(ldb_iter_status(it), LDB_OK);
    ldb_iter_close(it);
    if (n != live) fail_msg("%s: %u keys, want %u", what, n, live);
    assert_int_equal(ldb_close(db), LDB_OK);
    restore();
    return out;
}

/* The bytes of B no checksum covers: the word after the segment table's
 * checksum and the word after the trailer's (see engine/checkpoint.c). */
static int unchecked_padding(size_t pos)
{
    uint32_t nseg;
    memcpy(&nseg, F.ckpt_b + 48, 4);
    size_t table_pad = 64 + (size_t)nseg * 16 + 4;
    return (pos >= table_pad && pos < table_pad + 4) || pos >= F.len_b - 4;
}

/* B damaged: skipped for A, or (padding only) used and harmless. */
static void expect_b_skipped(const outcome *o, const char *what, size_t pos, int flip, long *unnoticed)
{
    if (o->fallbacks == 0 && o->ckpt_seq == F.seq_b) {
        if (!flip || !unchecked_padding(pos))
            fail_msg("%s: damage at offset %zu of %s went unnoticed", what, pos, F.name_b);
        (*unnoticed)++;
        return;
    }
    if (o->fallbacks < 1 || o->ckpt_seq != F.seq_a)
        fail_msg("%s: want a fallback to %s, got %llu fallbacks and checkpoint seq %llu", what,
                 F.name_a, (unsigned long long)o->fallbacks, (unsigned long long)o->ckpt_seq);
    if (!strstr(o->err, F.name_b)) fail_msg("%s: the error does not name %s: %s", what, F.name_b, o->err);
}

static void test_checkpoint_bit_flips(void **state)
{
    (void)state;
    tu_rng r = {g_seed};
    uint8_t *b = malloc(F.len_b);
    assert_non_null(b);
    long cases = 0, unnoticed = 0;
    uint32_t nseg;
    memcpy(&nseg, F.ckpt_b + 48, 4);
    size_t dense = 64 + (size_t)nseg * 16 + 8 + 16; /* header, table, first block header */
    for (size_t pos = 0; pos < F.len_b; pos++) {
        unsigned bits = pos < dense ? 0xffu : 1u << tu_rand_below(&r, 8);
        for (unsigned bit = 0; bit < 8; bit++) {
            if (!(bits & (1u << bit))) continue;
            memcpy(b, F.ckpt_b, F.len_b);
            b[pos] ^= (uint8_t)(1u << bit);
            store(F.name_b, b, F.len_b);
            char what[128];
            snprintf(what, sizeof what, "bit %u of byte %zu of the newest checkpoint", bit, pos);
            outcome o = open_and_check(what);
            expect_b_skipped(&o, what, pos, 1, &unnoticed);
            cases++;
        }
    }
    fprintf(stderr, "# %ld bit flips in %zu bytes: all detected or harmless (%ld in unchecked padding)\n",
            cases, F.len_b, unnoticed);
    free(b);
}

static void test_checkpoint_truncated(void **state)
{
    (void)state;
    long unnoticed = 0;
    for (size_t len = 0; len < F.len_b; len++) {
        store(F.name_b, F.ckpt_b, len);
        char what[128];
        snprintf(what, sizeof what, "newest checkpoint cut to %zu bytes", len);
        outcome o = open_and_check(what);
        expect_b_skipped(&o, what, len, 0, &unnoticed);
    }
    fprintf(stderr, "# %zu truncations of the newest checkpoint: all skipped\n", F.len_b);
}

/* Both checkpoints damaged: the whole log is replayed. */
static void test_both_checkpoints_damaged(void **state)
{
    (void)state;
    tu_rng r = {g_seed ^ 0xabcdef};
    uint8_t *b = malloc(F.len_b);
    assert_non_null(b);
    for (int i = 0; i < 200; i++) {
        size_t pos = (size_t)tu_rand_below(&r, F.len_b);
        memcpy(b, F.ckpt_b, F.len_b);
        b[pos] ^= (uint8_t)(1u << tu_rand_below(&r, 8));
        store(F.name_b, b, F.len_b);
        size_t cut = (size_t)tu_rand_below(&r, F.len_a);
        store(F.name_a, F.ckpt_a, cut);
        char what[160];
        snprintf(what, sizeof what, "newest flipped at %zu, oldest cut to %zu", pos, cut);
        outcome o = open_and_check(what);
        if (unchecked_padding(pos)) continue;
        if (o.fallbacks != 2 || o.ckpt_seq != 0)
            fail_msg("%s: want 2 fallbacks and a full replay, got %llu and seq %llu", what,
                     (unsigned long long)o.fallbacks, (unsigned long long)o.ckpt_seq);
    }
    free(b);
}

static void test_manifest_bit_flips(void **state)
{
    (void)state;
    uint8_t *m = malloc(F.len_manifest);
    assert_non_null(m);
    long cases = 0, unnoticed = 0;
    for (size_t pos = 0; pos < F.len_manifest; pos++)
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(m, F.manifest, F.len_manifest);
            m[pos] ^= (uint8_t)(1u << bit);
            store("MANIFEST", m, F.len_manifest);
            char what[128];
            snprintf(what, sizeof what, "bit %u of MANIFEST byte %zu ('%c')", bit, pos,
                     F.manifest[pos] >= 32 && F.manifest[pos] < 127 ? F.manifest[pos] : '?');
            outcome o = open_and_check(what);
            cases++;
            if (o.fallbacks == 0) {
                /* Unseen by the parser: it must still have named B. */
                if (o.ckpt_seq != F.seq_b)
                    fail_msg("%s: no fallback but checkpoint seq %llu", what, (unsigned long long)o.ckpt_seq);
                unnoticed++;
                continue;
            }
            if (o.ckpt_seq != 0) fail_msg("%s: a damaged MANIFEST was still followed", what);
            if (!strstr(o.err, "MANIFEST")) fail_msg("%s: the error does not name the MANIFEST: %s", what, o.err);
        }
    fprintf(stderr, "# %ld MANIFEST bit flips: %ld invisible to its parser and harmless, the rest ignored it\n",
            cases, unnoticed);
    free(m);
}

static void test_manifest_truncated(void **state)
{
    (void)state;
    for (size_t len = 0; len < F.len_manifest; len++) {
        store("MANIFEST", F.manifest, len);
        char what[64];
        snprintf(what, sizeof what, "MANIFEST cut to %zu bytes", len);
        outcome o = open_and_check(what);
        /* Only the final newline may go unnoticed. */
        if (len + 1 == F.len_manifest && o.fallbacks == 0 && o.ckpt_seq == F.seq_b) continue;
        if (o.ckpt_seq != 0 || (len > 0 && o.fallbacks < 1))
            fail_msg("%s: seq %llu, %llu fallbacks", what, (unsigned long long)o.ckpt_seq,
                     (unsigned long long)o.fallbacks);
    }
}

static void test_missing_files(void **state)
{
    (void)state;
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", F.dir, F.name_b);
    assert_int_equal(unlink(p), 0);
    outcome o = open_and_check("newest checkpoint missing");
    assert_int_equal(o.ckpt_seq, F.seq_a);
    assert_true(o.fallbacks >= 1);
    assert_int_equal(unlink(p), 0);
    snprintf(p, sizeof p, "%s/%s", F.dir, F.name_a);
    assert_int_equal(unlink(p), 0);
    o = open_and_check("both checkpoints missing");
    assert_int_equal(o.ckpt_seq, 0);
    snprintf(p, sizeof p, "%s/MANIFEST", F.dir);
    assert_int_equal(unlink(p), 0);
    o = open_and_check("MANIFEST missing");
    assert_int_equal(o.ckpt_seq, 0);
    /* And intact, it is used. */
    o = open_and_check("intact");
    assert_int_equal(o.ckpt_seq, F.seq_b);
    assert_int_equal(o.fallbacks, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_files),
        cmocka_unit_test(test_checkpoint_bit_flips),
        cmocka_unit_test(test_checkpoint_truncated),
        cmocka_unit_test(test_both_checkpoints_damaged),
        cmocka_unit_test(test_manifest_bit_flips),
        cmocka_unit_test(test_manifest_truncated),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
