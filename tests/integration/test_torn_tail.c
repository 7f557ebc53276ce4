/*
 * test_torn_tail.c — a torn tail of the newest segment at every byte offset.
 *
 * A database of several segments is written once. Then, for every byte
 * offset from the start of the newest segment's second-to-last frame (a
 * multi-operation transaction) to the end of its written data, a copy of
 * the database is cut there and opened:
 *
 *  - zeroing from the offset: segments are preallocated, so a write that
 *    never reached the disk reads back as zeros;
 *  - truncating the file to the offset (a file system that lost the size
 *    update), plus every size shorter than the segment header (a crash
 *    between creating the file and allocating it).
 *
 * Each open must succeed and hold exactly the frames that were complete
 * before the cut (a transaction is all or nothing), report the cut bytes,
 * leave zeros behind the last good frame, accept new writes, and reopen
 * cleanly with everything in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <time.h>

#include "engine/record.h"
#include "lightningdb.h"
#include "testutil.h"

/* Under UBSan, undefined behaviour must fail the run. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define NK 80
#define MAXOPS 6
#define MAXCOMMITS 128
#define SEG_SIZE (64u << 10)
#define MAXSEGS 16

typedef struct top {
    uint16_t key;
    uint8_t del;
    uint32_t ver; /* value version: the bytes are a function of (key, ver, len) */
    uint32_t len;
} top;

typedef struct tcommit {
    int n;
    top op[MAXOPS];
} tcommit;

typedef struct kstate {
    int present;
    uint32_t ver, len;
} kstate;

typedef struct tstate {
    kstate k[NK];
} tstate;

static size_t key_of(unsigned id, char *k) { return (size_t)snprintf(k, 16, "t%04u", id); }

/* Value bytes are never zero, so zeroing inside a value always changes it
 * (zeros remain only in padding). */
static void val_of(unsigned key, uint32_t ver, uint32_t len, uint8_t *out)
{
    for (uint32_t i = 0; i < len; i++) out[i] = (uint8_t)(1 + (key * 131u + ver * 7919u + i * 31u) % 255u);
}

static void apply(tstate *s, const tcommit *c)
{
    for (int i = 0; i < c->n; i++) {
        kstate *k = &s->k[c->op[i].key];
        k->present = !c->op[i].del;
        k->ver = c->op[i].ver;
        k->len = c->op[i].len;
    }
}

static void write_commit(ldb *db, const tcommit *c, tstate *s)
{
    static uint8_t val[40000];
    char k[16];
    if (c->n == 1) {
        size_t kl = key_of(c->op[0].key, k);
        if (c->op[0].del) {
            assert_int_equal(ldb_delete(db, k, kl), LDB_OK);
        } else {
            val_of(c->op[0].key, c->op[0].ver, c->op[0].len, val);
            assert_int_equal(ldb_put(db, k, kl, val, c->op[0].len), LDB_OK);
        }
    } else {
        ldb_txn *t;
        assert_int_equal(ldb_txn_begin(db, 0, &t), LDB_OK);
        for (int i = 0; i < c->n; i++) {
            size_t kl = key_of(c->op[i].key, k);
            if (c->op[i].del) {
                assert_int_equal(ldb_txn_delete(t, k, kl), LDB_OK);
            } else {
                val_of(c->op[i].key, c->op[i].ver, c->op[i].len, val);
                assert_int_equal(ldb_txn_put(t, k, kl, val, c->op[i].len), LDB_OK);
            }
        }
        assert_int_equal(ldb_txn_commit(t), LDB_OK);
    }
    apply(s, c);
}

static void check_state(ldb *db, const tstate *s, const char *what, uint64_t off)
{
    static uint8_t got[40000], want[40000];
    uint64_t present = 0;
    for (unsigned id = 0; id < NK; id++) {
        char k[16];
        size_t kl = key_of(id, k), vl = 0;
        int rc = ldb_get(db, k, kl, got, sizeof got, &vl);
        const kstate *ks = &s->k[id];
        if (!ks->present) {
            if (rc != LDB_NOTFOUND)
                fail_msg("%s, cut at %llu: key %u should be absent, got %s (%zu bytes)", what,
                         (unsigned long long)off, id, ldb_strerror(rc), vl);
            continue;
        }
        present++;
        if (rc != LDB_OK)
            fail_msg("%s, cut at %llu: key %u (version %u) missing: %s", what,
                     (unsigned long long)off, id, ks->ver, ldb_strerror(rc));
        val_of(id, ks->ver, ks->len, want);
        if (vl != ks->len || memcmp(got, want, vl) != 0)
            fail_msg("%s, cut at %llu: key %u holds %zu bytes, not version %u (%u bytes)", what,
                     (unsigned long long)off, id, vl, ks->ver, ks->len);
    }
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    uint64_t n = 0;
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it)) n++;
    assert_int_equal(ldb_iter_status(it), LDB_OK);
    ldb_iter_close(it);
    assert_int_equal(n, present);
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    assert_int_equal(st.keys, present);
}

/* The log on its own: no cleaner moving frames and deleting files under
 * the byte-level checks, no checkpoint deciding where replay starts. NONE
 * mode: the cut is what is tested, not the disk. */
static ldb_options torn_opts(void)
{
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NONE;
    o.segment_size = SEG_SIZE;
    o.cleaner = 0;
    o.checkpoint_bytes = 0;
    o.checkpoint_on_close = 0;
    return o;
}

static ldb *open_ok(const char *dir, const char *what, uint64_t off)
{
    ldb_options o = torn_opts();
    ldb *db = NULL;
    int rc = ldb_open(dir, &o, &db);
    if (rc != LDB_OK)
        fail_msg("%s, cut at %llu: open failed: %s (%s)", what, (unsigned long long)off,
                 ldb_strerror(rc), ldb_last_error());
    return db;
}

/* ---- the database every cut starts from ---------------------------------- */

typedef struct fixture {
    char *dir;
    tcommit commits[MAXCOMMITS];
    int ncommits;
    char *segs[MAXSEGS];
    size_t nsegs;
    uint64_t older_frames;       /* frames in the segments before the newest */
    uint64_t frames[MAXCOMMITS]; /* frame offsets in the newest segment */
    uint64_t fend[MAXCOMMITS];   /* and where each ends */
    size_t nframes;
    uint64_t used;
    uint8_t *newest;             /* its original bytes */
    size_t newest_len;
} fixture;

static void add(fixture *f, const top *ops, int n)
{
    assert_true(f->ncommits < MAXCOMMITS && n <= MAXOPS);
    tcommit *c = &f->commits[f->ncommits++];
    c->n = n;
    memcpy(c->op, ops, (size_t)n * sizeof *ops);
}

static void put1(fixture *f, unsigned key, uint32_t ver, uint32_t len)
{
    top o = {(uint16_t)key, 0, ver, len};
    add(f, &o, 1);
}

static void del1(fixture *f, unsigned key)
{
    top o = {(uint16_t)key, 1, 0, 0};
    add(f, &o, 1);
}

/* short_layout: three segments of one or two big frames each, so the
 * segment before the newest has room left for more frames whatever the
 * seed (the newest was started only because a 40000-byte frame did not fit).
 * Otherwise the mixed layout described inside. */
static void build(fixture *f, tu_rng *r, int short_layout)
{
    memset(f, 0, sizeof *f);
    f->dir = tu_tmpdir("torn-src");
    assert_non_null(f->dir);
    if (short_layout) {
        put1(f, 0, 1, 40000);
        put1(f, 1, 1, 40000);
        put1(f, 2, 1, 100 + (uint32_t)tu_rand_below(r, 100));
        put1(f, 3, 1, 40000);
        put1(f, 4, 1, 10 + (uint32_t)tu_rand_below(r, 100));
        goto write;
    }
    /* Every commit changes something (no delete of an absent key), so
     * commit i is frame i of the log. */
    for (unsigned k = 0; k < 30; k++) {
        uint32_t len = 8 + (uint32_t)tu_rand_below(r, 200);
        if (k % 7 == 5) len = 20000 + (uint32_t)tu_rand_below(r, 12000); /* large */
        put1(f, k, 1, len);
    }
    for (unsigned i = 0; i < 10; i++)
        put1(f, (unsigned)tu_rand_below(r, 20), 2 + i, 10 + (uint32_t)tu_rand_below(r, 3000));
    for (unsigned k = 21; k < 26; k++) del1(f, k);
    put1(f, 40, 1, 30000);
    put1(f, 41, 1, 10000);
    for (unsigned k = 42; k < 46; k++) put1(f, k, 1, 1 + (uint32_t)tu_rand_below(r, 100));
    del1(f, 42);
    /* Second-to-last frame: a transaction of puts, an overwrite, a delete
     * and, last, an empty value (whose record ends in zero padding). */
    top txn[5] = {{50, 0, 1, 60}, {1, 0, 90, 120}, {2, 1, 0, 0}, {43, 0, 7, 33}, {51, 0, 1, 0}};
    add(f, txn, 5);
    /* Last frame: a single put (its record ends in padding too). */
    put1(f, 52, 1, 500);

write:;
    ldb_options o = torn_opts();
    ldb *db;
    assert_int_equal(ldb_open(f->dir, &o, &db), LDB_OK);
    tstate s = {0};
    for (int i = 0; i < f->ncommits; i++) write_commit(db, &f->commits[i], &s);
    assert_int_equal(ldb_close(db), LDB_OK);

    f->nsegs = tu_segments(f->dir, f->segs, MAXSEGS);
    assert_true(f->nsegs >= 3); /* older segments exist and must survive every cut */
    for (size_t i = 0; i + 1 < f->nsegs; i++) f->older_frames += tu_segment_frames(f->segs[i], NULL, 0);
    const char *nw = f->segs[f->nsegs - 1];
    f->nframes = tu_segment_frames(nw, f->frames, MAXCOMMITS);
    assert_true(f->nframes >= 2);
    assert_int_equal(f->older_frames + f->nframes, (uint64_t)f->ncommits);
    f->used = tu_segment_used(nw);
    f->newest = tu_read_all(nw, &f->newest_len);
    assert_non_null(f->newest);
    assert_int_equal(f->newest_len, SEG_SIZE);
    for (size_t j = 0; j < f->nframes; j++) f->fend[j] = j + 1 < f->nframes ? f->frames[j + 1] : f->used;
    /* The transaction really is one frame of five records. */
    if (!short_layout) assert_int_equal(f->newest[f->frames[f->nframes - 2] + 20], 5);
}

static void fixture_free(fixture *f)
{
    for (size_t i = 0; i < f->nsegs; i++) free(f->segs[i]);
    free(f->newest);
    tu_rmdir(f->dir);
    free(f->dir);
}

enum { CUT_ZERO, CUT_TRUNCATE };

/* One cut: copy, damage, open, check, write, reopen, check. */
static void one_cut(fixture *f, int how, uint64_t off)
{
    const char *what = how == CUT_ZERO ? "zeroed tail" : "truncated file";
    char *dir = tu_tmpdir("torn");
    assert_non_null(dir);
    assert_int_equal(tu_copy_dir(f->dir, dir), 0);
    const char *base = strrchr(f->segs[f->nsegs - 1], '/') + 1;
    char seg[4200];
    snprintf(seg, sizeof seg, "%s/%s", dir, base);
    if (how == CUT_ZERO) assert_int_equal(tu_zero_from(seg, off), 0);
    else assert_int_equal(tu_truncate(seg, off), 0);

    /* Which frames of the newest segment survive the cut: those wholly
     * before it, and with zeroing also one whose bytes past the cut were
     * zeros already (padding). */
    size_t keep = 0;
    if (off >= REC_SEG_HDR || how == CUT_ZERO) {
        for (size_t j = 0; j < f->nframes; j++) {
            int intact = f->fend[j] <= off;
            if (!intact && how == CUT_ZERO && f->frames[j] < off) {
                intact = 1;
                for (uint64_t b = off; b < f->fend[j]; b++) intact &= f->newest[b] == 0;
            }
            if (!intact) break;
            keep++;
        }
    }
    if (off == 0) keep = 0; /* a blank newest segment: nothing of it is kept */
    tstate s = {0};
    uint64_t nkeep = f->older_frames + keep;
    for (uint64_t i = 0; i < nkeep; i++) apply(&s, &f->commits[i]);
    /* Bytes the open must report as cut: from the first lost frame to the
     * last non-zero byte that remains. */
    uint64_t expect_cut = 0;
    if (keep < f->nframes && off >= REC_SEG_HDR) {
        uint64_t from = f->frames[keep], end = from;
        for (uint64_t b = from; b < off && b < f->newest_len; b++)
            if (f->newest[b]) end = b + 1;
        expect_cut = end - from;
    }

    ldb *db = open_ok(dir, what, off);
    check_state(db, &s, what, off);
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    if (st.truncated_bytes != expect_cut)
        fail_msg("%s, cut at %llu: open reports %llu torn bytes, expected %llu", what,
                 (unsigned long long)off, (unsigned long long)st.truncated_bytes,
                 (unsigned long long)expect_cut);
    /* Behind the last good frame there are only zeros now, so a later
     * append cannot be followed by stale bytes that look like a frame. */
    if (off >= REC_SEG_HDR && keep < f->nframes) {
        size_t len;
        uint8_t *now = tu_read_all(seg, &len);
        assert_non_null(now);
        for (uint64_t b = f->frames[keep]; b < len; b++)
            if (now[b])
                fail_msg("%s, cut at %llu: byte %llu behind the last good frame is not zero",
                         what, (unsigned long long)off, (unsigned long long)b);
        free(now);
    }

    /* New writes: a new key, an overwrite of a key the lost transaction
     * wrote, a transaction with a delete. */
    tcommit more[3] = {{1, {{60, 0, 1, 100}}},
                       {1, {{50, 0, 77, 30}}},
                       {2, {{61, 0, 1, 2000}, {3, 1, 0, 0}}}};
    for (int i = 0; i < 3; i++) write_commit(db, &more[i], &s);
    check_state(db, &s, what, off);
    assert_int_equal(ldb_close(db), LDB_OK);

    db = open_ok(dir, what, off);
    check_state(db, &s, what, off);
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    if (st.truncated_bytes != 0)
        fail_msg("%s, cut at %llu: the reopen after new writes found %llu torn bytes", what,
                 (unsigned long long)off, (unsigned long long)st.truncated_bytes);
    assert_int_equal(ldb_close(db), LDB_OK);
    tu_rmdir(dir);
    free(dir);
}

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_torn_tail_zeroed(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(11)};
    fixture *f = malloc(sizeof *f);
    build(f, &r, 0);
    double t0 = secs();
    uint64_t from = f->frames[f->nframes - 2], n = 0;
    /* A blank newest segment (never written) is a fresh one. */
    one_cut(f, CUT_ZERO, 0);
    for (uint64_t off = from; off <= f->used; off++, n++) one_cut(f, CUT_ZERO, off);
    fprintf(stderr, "# zeroed tail: %llu cut offsets (%llu..%llu) in %.1f s\n",
            (unsigned long long)n + 1, (unsigned long long)from, (unsigned long long)f->used,
            secs() - t0);
    fixture_free(f);
    free(f);
}

static void test_torn_tail_truncated(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(12)};
    fixture *f = malloc(sizeof *f);
    build(f, &r, 0);
    double t0 = secs();
    uint64_t from = f->frames[f->nframes - 2], n = 0;
    for (uint64_t off = from; off <= f->used; off++, n++) one_cut(f, CUT_TRUNCATE, off);
    fprintf(stderr, "# truncated file: %llu cut sizes (%llu..%llu) in %.1f s\n",
            (unsigned long long)n, (unsigned long long)from, (unsigned long long)f->used,
            secs() - t0);
    fixture_free(f);
    free(f);
}

/* A newest segment shorter than its header: a crash between creating the
 * file and allocating it. The open drops it; the segment before it becomes
 * the one appended to, and new writes must land there (or in a new
 * segment) as for any other open. */
static void test_torn_tail_short_header(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(13)};
    fixture *f = malloc(sizeof *f);
    build(f, &r, 1);
    double t0 = secs();
    for (uint64_t off = 0; off < REC_SEG_HDR; off++) one_cut(f, CUT_TRUNCATE, off);
    fprintf(stderr, "# newest segment cut to 0..%u bytes in %.1f s\n", REC_SEG_HDR - 1, secs() - t0);
    fixture_free(f);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torn_tail_zeroed),
        cmocka_unit_test(test_torn_tail_truncated),
        cmocka_unit_test(test_torn_tail_short_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
