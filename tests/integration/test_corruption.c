/*
 * test_corruption.c — damaged logs are reported, never served.
 *
 * A database spanning several segments is written once. For a sample of
 * positions inside its records — segment headers, frame header fields,
 * record header fields, key bytes, value bytes — a copy gets one bit
 * flipped, and then:
 *
 *  - ldb_open fails with LDB_CORRUPTION, its message names the segment file
 *    and an offset inside the damaged frame (or header), and the failed
 *    open changed no file (so the damage can still be examined or salvaged);
 *  - with salvage on, the open succeeds and holds exactly the commits before
 *    the damaged frame, later segments are set aside as *.damaged, and the
 *    salvaged database takes new writes and reopens without salvage.
 *
 * Damage in the newest segment followed by valid frames is corruption too
 * (not a torn tail to cut silently); damage in its very last frame is
 * indistinguishable from a torn write and is cut. And damage that appears
 * while the database is open (a flip in the file, seen through the shared
 * mapping) makes reads of that record fail with LDB_CORRUPTION, never
 * return the bad bytes, and leaves every other key readable.
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

#define NK 160
#define MAXOPS 4
#define NCOMMITS 420
#define SEG_SIZE (64u << 10)
#define MAXSEGS 32
#define MAXFRAMES 640
#define MAXV 9000

/* ---- commits and the state they produce ------------------------------- */

typedef struct cop {
    uint16_t key;
    uint8_t del;
    uint32_t ver, len;
} cop;

typedef struct ccommit {
    int n;
    cop op[MAXOPS];
} ccommit;

typedef struct kstate {
    int present;
    uint32_t ver, len;
} kstate;

typedef struct cstate {
    kstate k[NK + 8];
} cstate;

static size_t key_of(unsigned id, char *k) { return (size_t)snprintf(k, 16, "c%04u", id); }

static void val_of(unsigned key, uint32_t ver, uint32_t len, uint8_t *out)
{
    for (uint32_t i = 0; i < len; i++) out[i] = (uint8_t)(1 + (key * 131u + ver * 7919u + i * 31u) % 255u);
}

static void apply(cstate *s, const ccommit *c)
{
    for (int i = 0; i < c->n; i++) {
        kstate *k = &s->k[c->op[i].key];
        k->present = !c->op[i].del;
        k->ver = c->op[i].ver;
        k->len = c->op[i].len;
    }
}

static void write_commit(ldb *db, const ccommit *c, cstate *s)
{
    static uint8_t val[MAXV];
    char k[16];
    ldb_txn *t = NULL;
    if (c->n > 1) assert_int_equal(ldb_txn_begin(db, 0, &t), LDB_OK);
    for (int i = 0; i < c->n; i++) {
        size_t kl = key_of(c->op[i].key, k);
        int rc;
        if (c->op[i].del) {
            rc = t ? ldb_txn_delete(t, k, kl) : ldb_delete(db, k, kl);
        } else {
            val_of(c->op[i].key, c->op[i].ver, c->op[i].len, val);
            rc = t ? ldb_txn_put(t, k, kl, val, c->op[i].len) : ldb_put(db, k, kl, val, c->op[i].len);
        }
        assert_int_equal(rc, LDB_OK);
    }
    if (t) assert_int_equal(ldb_txn_commit(t), LDB_OK);
    apply(s, c);
}

static void check_state(ldb *db, const cstate *s, const char *what)
{
    static uint8_t got[MAXV], want[MAXV];
    uint64_t present = 0;
    for (unsigned id = 0; id < NK + 8; id++) {
        char k[16];
        size_t kl = key_of(id, k), vl = 0;
        int rc = ldb_get(db, k, kl, got, sizeof got, &vl);
        const kstate *ks = &s->k[id];
        if (!ks->present) {
            if (rc != LDB_NOTFOUND)
                fail_msg("%s: key %u should be absent, got %s", what, id, ldb_strerror(rc));
            continue;
        }
        present++;
        if (rc != LDB_OK)
            fail_msg("%s: key %u (version %u) missing: %s (%s)", what, id, ks->ver, ldb_strerror(rc),
                     ldb_last_error());
        val_of(id, ks->ver, ks->len, want);
        if (vl != ks->len || memcmp(got, want, vl) != 0)
            fail_msg("%s: key %u holds %zu bytes, not version %u (%u bytes)", what, id, vl,
                     ks->ver, ks->len);
    }
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    uint64_t n = 0;
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it)) {
        const void *v;
        size_t vl;
        assert_int_equal(ldb_iter_value(it, &v, &vl), LDB_OK);
        n++;
    }
    assert_int_equal(ldb_iter_status(it), LDB_OK);
    ldb_iter_close(it);
    if (n != present)
        fail_msg("%s: a scan finds %llu keys, expected %llu", what, (unsigned long long)n,
                 (unsigned long long)present);
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    assert_int_equal(st.keys, present);
}

static ldb_options opts(int salvage)
{
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NONE;
    o.segment_size = SEG_SIZE;
    o.salvage = salvage;
    o.verify_checksums = 1;
    /* Recovery must read every frame: no checkpoint lets it skip segments
     * (test_damage_under_checkpoint covers that case), and no cleaner
     * rewrites the fixture behind the frame map. */
    o.cleaner = 0;
    o.checkpoint_bytes = 0;
    o.checkpoint_on_close = 0;
    return o;
}

/* ---- the database every flip starts from ------------------------------- */

typedef struct frame_info {
    size_t seg;          /* index into the segment list */
    uint64_t off, end;   /* within the segment */
    uint64_t rec[16];    /* record offsets (up to 16) */
    uint32_t nrec;
} frame_info;

typedef struct fixture {
    char *dir;
    ccommit commits[NCOMMITS];
    int ncommits;
    char *segs[MAXSEGS];
    size_t nsegs;
    frame_info frames[MAXFRAMES];  /* global frame g is commit g */
    size_t nframes;
    size_t first_frame[MAXSEGS];   /* global index of each segment's first frame */
} fixture;

static void build(fixture *f, tu_rng *r)
{
    memset(f, 0, sizeof *f);
    f->dir = tu_tmpdir("corrupt-src");
    assert_non_null(f->dir);
    int present[NK] = {0};
    uint32_t ver = 1;
    /* Every commit changes something (deletes only of present keys), so
     * commit g is frame g of the log. */
    while (f->ncommits < NCOMMITS) {
        ccommit *c = &f->commits[f->ncommits];
        memset(c, 0, sizeof *c);
        uint64_t what = tu_rand_below(r, 10);
        c->n = what < 7 ? 1 : 2 + (int)tu_rand_below(r, MAXOPS - 1);
        int effective = 0;
        for (int i = 0; i < c->n; i++) {
            unsigned key;
            int dup;
            do {
                key = (unsigned)tu_rand_below(r, NK);
                dup = 0;
                for (int j = 0; j < i; j++) dup |= c->op[j].key == key;
            } while (dup);
            cop *o = &c->op[i];
            o->key = (uint16_t)key;
            o->del = present[key] && tu_rand_below(r, 5) == 0;
            o->ver = ver++;
            if (!o->del) {
                uint64_t x = tu_rand_below(r, 20);
                o->len = x == 0 ? 0 : x == 1 ? 4000 + (uint32_t)tu_rand_below(r, MAXV - 4000)
                                              : 1 + (uint32_t)tu_rand_below(r, 400);
            }
            effective |= !o->del || present[key];
        }
        if (!effective) continue;
        for (int i = 0; i < c->n; i++) present[c->op[i].key] = !c->op[i].del;
        f->ncommits++;
    }
    ldb_options o = opts(0);
    ldb *db;
    assert_int_equal(ldb_open(f->dir, &o, &db), LDB_OK);
    cstate s = {0};
    for (int i = 0; i < f->ncommits; i++) write_commit(db, &f->commits[i], &s);
    assert_int_equal(ldb_close(db), LDB_OK);

    f->nsegs = tu_segments(f->dir, f->segs, MAXSEGS);
    assert_true(f->nsegs >= 4);
    for (size_t i = 0; i < f->nsegs; i++) {
        size_t len;
        uint8_t *b = tu_read_all(f->segs[i], &len);
        assert_non_null(b);
        uint64_t offs[MAXFRAMES];
        size_t n = tu_segment_frames(f->segs[i], offs, MAXFRAMES);
        uint64_t used = tu_segment_used(f->segs[i]);
        f->first_frame[i] = f->nframes;
        for (size_t j = 0; j < n; j++) {
            assert_true(f->nframes < MAXFRAMES);
            frame_info *fi = &f->frames[f->nframes++];
            fi->seg = i;
            fi->off = offs[j];
            fi->end = j + 1 < n ? offs[j + 1] : used;
            rec_frame fr;
            assert_int_equal(rec_frame_check(b + fi->off, len - fi->off, &fr, (char[64]){0}, 64), REC_OK);
            const uint8_t *p = b + fi->off + REC_FRAME_HDR;
            for (uint32_t k = 0; k < fr.nrec; k++) {
                rec_view rv;
                assert_int_equal(rec_parse(p, (size_t)(b + fi->end - p), &rv), REC_OK);
                if (k < 16) fi->rec[k] = (uint64_t)(p - b);
                p += rec_size(rv.klen, rv.vlen);
            }
            fi->nrec = fr.nrec < 16 ? fr.nrec : 16;
        }
        free(b);
    }
    f->first_frame[f->nsegs] = f->nframes;
    assert_int_equal(f->nframes, (size_t)f->ncommits);
}

static void fixture_free(fixture *f)
{
    for (size_t i = 0; i < f->nsegs; i++) free(f->segs[i]);
    tu_rmdir(f->dir);
    free(f->dir);
}

static const char *base_of(const char *path) { return strrchr(path, '/') + 1; }

/* A copy of the fixture in a fresh directory; returns it and fills the
 * paths of its segments. */
static char *copy_of(const fixture *f, char segs[][4200])
{
    char *dir = tu_tmpdir("corrupt");
    assert_non_null(dir);
    assert_int_equal(tu_copy_dir(f->dir, dir), 0);
    for (size_t i = 0; i < f->nsegs; i++) snprintf(segs[i], 4200, "%s/%s", dir, base_of(f->segs[i]));
    return dir;
}

/* A damaged byte: which segment, where, and the region it belongs to
 * (a frame, or the segment header). */
typedef struct damage {
    size_t seg;
    uint64_t pos;
    uint64_t lo, hi;   /* the damaged frame or header: [lo, hi) */
    size_t keep;       /* commits before the damage */
    const char *field;
} damage;

/* Open with salvage off must fail, say where, and touch no file. */
static void expect_detected(const fixture *f, const damage *d, tu_rng *r)
{
    char segs[MAXSEGS][4200];
    char *dir = copy_of(f, segs);
    uint8_t mask = (uint8_t)(1u << tu_rand_below(r, 8));
    assert_int_equal(tu_flip_byte(segs[d->seg], d->pos, mask), 0);
    uint8_t *before[MAXSEGS];
    size_t blen[MAXSEGS];
    for (size_t i = 0; i < f->nsegs; i++) before[i] = tu_read_all(segs[i], &blen[i]);

    ldb_options o = opts(0);
    ldb *db = NULL;
    int rc = ldb_open(dir, &o, &db);
    const char *msg = ldb_last_error();
    if (rc != LDB_CORRUPTION)
        fail_msg("flip 0x%02x of %s (segment %s, byte %llu): open gave %s, not corruption", mask,
                 d->field, base_of(f->segs[d->seg]), (unsigned long long)d->pos, ldb_strerror(rc));
    assert_null(db);
    if (!strstr(msg, base_of(f->segs[d->seg])))
        fail_msg("flip of %s in %s: the message does not name the file: \"%s\"", d->field,
                 base_of(f->segs[d->seg]), msg);
    int64_t at = tu_msg_offset(msg);
    if (at < (int64_t)d->lo || at >= (int64_t)d->hi)
        fail_msg("flip of %s at byte %llu (region %llu..%llu): the message points at %lld: \"%s\"",
                 d->field, (unsigned long long)d->pos, (unsigned long long)d->lo,
                 (unsigned long long)d->hi, (long long)at, msg);
    for (size_t i = 0; i < f->nsegs; i++) {
        size_t len;
        uint8_t *now = tu_read_all(segs[i], &len);
        if (!now || len != blen[i] || memcmp(now, before[i], len) != 0)
            fail_msg("flip of %s: the failed open changed %s", d->field, base_of(segs[i]));
        free(now);
        free(before[i]);
        char dm[4300];
        snprintf(dm, sizeof dm, "%.4200s.damaged", segs[i]);
        assert_false(tu_exists(dm));
    }
    tu_rmdir(dir);
    free(dir);
}

/* Open with salvage on keeps exactly the commits before the damage. */
static void expect_salvaged(const fixture *f, const damage *d, tu_rng *r)
{
    char segs[MAXSEGS][4200];
    char *dir = copy_of(f, segs);
    uint8_t mask = (uint8_t)(1u << tu_rand_below(r, 8));
    assert_int_equal(tu_flip_byte(segs[d->seg], d->pos, mask), 0);
    char what[200];
    snprintf(what, sizeof what, "salvage after a flip 0x%02x of %s (segment %s, byte %llu)", mask,
             d->field, base_of(f->segs[d->seg]), (unsigned long long)d->pos);

    ldb_options o = opts(1);
    ldb *db = NULL;
    int rc = ldb_open(dir, &o, &db);
    if (rc != LDB_OK) fail_msg("%s: open gave %s (%s)", what, ldb_strerror(rc), ldb_last_error());
    cstate s = {0};
    for (size_t g = 0; g < d->keep; g++) apply(&s, &f->commits[g]);
    check_state(db, &s, what);
    for (size_t j = d->seg + 1; j < f->nsegs; j++) {
        char dm[4300];
        snprintf(dm, sizeof dm, "%.4200s.damaged", segs[j]);
        if (tu_exists(segs[j]) || !tu_exists(dm))
            fail_msg("%s: %s was not set aside as .damaged", what, base_of(segs[j]));
    }
    /* The salvaged database is an ordinary one: it takes writes and opens
     * without salvage. */
    ccommit more[2] = {{1, {{NK + 1, 0, 1, 300}}}, {2, {{NK + 2, 0, 1, 5000}, {NK + 3, 0, 1, 0}}}};
    for (int i = 0; i < 2; i++) write_commit(db, &more[i], &s);
    assert_int_equal(ldb_close(db), LDB_OK);
    o = opts(0);
    rc = ldb_open(dir, &o, &db);
    if (rc != LDB_OK) fail_msg("%s: reopen gave %s (%s)", what, ldb_strerror(rc), ldb_last_error());
    check_state(db, &s, what);
    assert_int_equal(ldb_close(db), LDB_OK);
    tu_rmdir(dir);
    free(dir);
}

/* Frames to damage: the first and last of each segment, and a few picked
 * at random, never the newest segment's last frame (damage there is a torn
 * tail by design; see test_newest_last_frame_is_cut). */
static size_t pick_frames(const fixture *f, tu_rng *r, size_t *out, size_t cap)
{
    size_t n = 0, last = f->nframes - 1;
    for (size_t i = 0; i < f->nsegs && n + 2 <= cap; i++) {
        size_t a = f->first_frame[i], b = f->first_frame[i + 1];
        if (a == b) continue;
        if (a != last) out[n++] = a;
        if (b - 1 != a && b - 1 != last) out[n++] = b - 1;
    }
    for (int i = 0; i < 24 && n < cap; i++) out[n++] = (size_t)tu_rand_below(r, last);
    return n;
}

typedef void (*damage_fn)(const fixture *f, const damage *d, tu_rng *r);

/* Runs fn over frame-header fields and record fields (header, key, value)
 * of the picked frames. */
static size_t for_each_record_damage(const fixture *f, tu_rng *r, damage_fn fn)
{
    size_t picks[64], np = pick_frames(f, r, picks, 64), count = 0;
    static const struct {
        const char *name;
        unsigned at;
    } fh[] = {{"frame magic", 0}, {"frame header crc", 5},  {"frame seq", 8},
              {"frame body_len", 16}, {"frame nrec", 20}, {"frame flags", 25},
              {"frame reserved", 30}},
      rh[] = {{"record crc", 2}, {"record type", 4}, {"record compression", 5},
              {"record klen", 6}, {"record vlen", 8}, {"record rawlen", 13}};
    for (size_t i = 0; i < np; i++) {
        const frame_info *fi = &f->frames[picks[i]];
        damage d = {fi->seg, 0, fi->off, fi->end, picks[i], NULL};
        for (size_t j = 0; j < sizeof fh / sizeof fh[0]; j++) {
            d.pos = fi->off + fh[j].at;
            d.field = fh[j].name;
            fn(f, &d, r);
            count++;
        }
        uint64_t rec = fi->rec[tu_rand_below(r, fi->nrec)];
        for (size_t j = 0; j < sizeof rh / sizeof rh[0]; j++) {
            d.pos = rec + rh[j].at;
            d.field = rh[j].name;
            fn(f, &d, r);
            count++;
        }
        /* Key and value bytes, read from the record header in the copy
         * source. */
        size_t len;
        uint8_t *b = tu_read_all(f->segs[fi->seg], &len);
        rec_view rv;
        assert_int_equal(rec_parse(b + rec, len - rec, &rv), REC_OK);
        d.pos = rec + REC_HDR + tu_rand_below(r, rv.klen);
        d.field = "key byte";
        fn(f, &d, r);
        count++;
        if (rv.vlen) {
            d.pos = rec + REC_HDR + rv.klen + tu_rand_below(r, rv.vlen);
            d.field = "value byte";
            fn(f, &d, r);
            count++;
        }
        free(b);
    }
    return count;
}

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the tests ---------------------------------------------------------- */

static void test_record_damage_detected(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(21)};
    fixture *f = malloc(sizeof *f);
    build(f, &r);
    double t0 = secs();
    size_t n = for_each_record_damage(f, &r, expect_detected);
    fprintf(stderr, "# %zu flips in frames of %zu segments detected in %.1f s\n", n, f->nsegs, secs() - t0);
    fixture_free(f);
    free(f);
}

static void test_record_damage_salvaged(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(22)};
    fixture *f = malloc(sizeof *f);
    build(f, &r);
    double t0 = secs();
    size_t n = for_each_record_damage(f, &r, expect_salvaged);
    fprintf(stderr, "# %zu flips in frames salvaged in %.1f s\n", n, secs() - t0);
    fixture_free(f);
    free(f);
}

static const struct {
    const char *name;
    unsigned at;
} seg_fields[] = {{"segment magic", 3}, {"segment version", 8}, {"segment crc", 14},
                  {"segment id", 16},   {"segment size", 26},   {"segment reserved", 50}};

static void segment_header_damage(damage_fn fn, uint64_t seed)
{
    tu_rng r = {tu_seed(seed)};
    fixture *f = malloc(sizeof *f);
    build(f, &r);
    /* The first segment, a middle one and the newest. */
    size_t which[3] = {0, f->nsegs / 2, f->nsegs - 1};
    for (int w = 0; w < 3; w++)
        for (size_t j = 0; j < sizeof seg_fields / sizeof seg_fields[0]; j++) {
            damage d = {which[w], seg_fields[j].at, 0, REC_SEG_HDR, f->first_frame[which[w]],
                        seg_fields[j].name};
            fn(f, &d, &r);
        }
    fixture_free(f);
    free(f);
}

static void test_segment_header_damage_detected(void **state)
{
    (void)state;
    segment_header_damage(expect_detected, 23);
}

/* Salvage of a damaged segment header keeps the segments before it. */
static void test_segment_header_damage_salvaged(void **state)
{
    (void)state;
    segment_header_damage(expect_salvaged, 24);
}

/* Damage in the newest segment with valid frames after it is corruption,
 * not a torn tail: cutting there would silently drop acknowledged commits.
 * The message points at salvage. */
static void test_newest_segment_damage_with_valid_frames_after(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(25)};
    fixture *f = malloc(sizeof *f);
    build(f, &r);
    size_t newest = f->nsegs - 1, a = f->first_frame[newest], b = f->first_frame[newest + 1];
    assert_true(b - a >= 3);
    size_t targets[3] = {a, a + (b - a) / 2, b - 2};
    for (int i = 0; i < 3; i++) {
        const frame_info *fi = &f->frames[targets[i]];
        uint64_t rec = fi->rec[fi->nrec - 1];
        damage d = {newest, rec + 1, fi->off, fi->end, targets[i], "record crc (newest segment)"};
        expect_detected(f, &d, &r);
        expect_salvaged(f, &d, &r);
        d.pos = fi->off + 9;
        d.field = "frame seq (newest segment)";
        expect_detected(f, &d, &r);
        expect_salvaged(f, &d, &r);
    }
    /* And the message says valid data follows. */
    char segs[MAXSEGS][4200];
    char *dir = copy_of(f, segs);
    assert_int_equal(tu_flip_byte(segs[newest], f->frames[a].off + REC_FRAME_HDR + 1, 0x10), 0);
    ldb_options o = opts(0);
    ldb *db = NULL;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_CORRUPTION);
    assert_non_null(strstr(ldb_last_error(), "salvage"));
    tu_rmdir(dir);
    free(dir);
    fixture_free(f);
    free(f);
}

/* Damage inside the newest segment's last frame looks exactly like a torn
 * write: the frame is cut, everything before it stays, the open succeeds
 * (the documented recovery policy). */
static void test_newest_last_frame_is_cut(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(26)};
    fixture *f = malloc(sizeof *f);
    build(f, &r);
    const frame_info *fi = &f->frames[f->nframes - 1];
    uint64_t spots[3] = {fi->off + 8, fi->rec[0] + 2, fi->end - 1};
    for (int i = 0; i < 3; i++) {
        char segs[MAXSEGS][4200];
        char *dir = copy_of(f, segs);
        /* end - 1 may be padding: make sure the flip lands on a byte the
         * checksums cover by stepping back over zeros. */
        size_t len;
        uint8_t *b = tu_read_all(segs[fi->seg], &len);
        uint64_t p = spots[i];
        while (b[p] == 0 && p > fi->rec[0] + REC_HDR) p--;
        free(b);
        assert_int_equal(tu_flip_byte(segs[fi->seg], p, 0x04), 0);
        ldb_options o = opts(0);
        ldb *db = NULL;
        int rc = ldb_open(dir, &o, &db);
        if (rc != LDB_OK)
            fail_msg("flip at %llu of the last frame: %s (%s)", (unsigned long long)p,
                     ldb_strerror(rc), ldb_last_error());
        cstate s = {0};
        for (size_t g = 0; g + 1 < f->nframes; g++) apply(&s, &f->commits[g]);
        check_state(db, &s, "last frame cut");
        ldb_stats st;
        assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
        assert_true(st.truncated_bytes > 0);
        assert_int_equal(ldb_close(db), LDB_OK);
        tu_rmdir(dir);
        free(dir);
    }
    fixture_free(f);
    free(f);
}

/* Record padding carries no information and no checksum covers it: a flip
 * there may be reported or ignored, but must never change what is read. */
static void test_padding_damage_harmless(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(27)};
    fixture *f = malloc(sizeof *f);
    build(f, &r);
    int tried = 0, reported = 0;
    for (size_t g = 0; g + 1 < f->nframes && tried < 20; g += 7) {
        const frame_info *fi = &f->frames[g];
        size_t len;
        uint8_t *b = tu_read_all(f->segs[fi->seg], &len);
        rec_view rv;
        assert_int_equal(rec_parse(b + fi->rec[0], len - fi->rec[0], &rv), REC_OK);
        uint64_t used = REC_HDR + rv.klen + rv.vlen, size = rec_size(rv.klen, rv.vlen);
        free(b);
        if (used == size) continue; /* no padding in this record */
        tried++;
        char segs[MAXSEGS][4200];
        char *dir = copy_of(f, segs);
        assert_int_equal(tu_flip_byte(segs[fi->seg], fi->rec[0] + used, 0x01), 0);
        ldb_options o = opts(0);
        ldb *db = NULL;
        int rc = ldb_open(dir, &o, &db);
        if (rc == LDB_OK) {
            cstate s = {0};
            for (int c = 0; c < f->ncommits; c++) apply(&s, &f->commits[c]);
            check_state(db, &s, "padding flip");
            assert_int_equal(ldb_close(db), LDB_OK);
        } else {
            assert_int_equal(rc, LDB_CORRUPTION);
            assert_non_null(strstr(ldb_last_error(), base_of(f->segs[fi->seg])));
            reported++;
        }
        tu_rmdir(dir);
        free(dir);
    }
    assert_true(tried > 0);
    fprintf(stderr, "# %d padding flips: %d reported as corruption, %d ignored (data intact)\n",
            tried, reported, tried - reported);
    fixture_free(f);
    free(f);
}

/* ---- damage that appears while the database is open --------------------- */

/* Locates the newest record of key id in the directory's segments. */
static int locate(const char *dir, unsigned id, char *seg_out, uint64_t *rec, uint64_t *rlen,
                  uint64_t *val, uint32_t *vlen)
{
    char *segs[MAXSEGS];
    size_t n = tu_segments(dir, segs, MAXSEGS);
    char k[16];
    size_t kl = key_of(id, k);
    int found = -1;
    for (size_t i = 0; i < n; i++) {
        if (tu_find_record(segs[i], k, kl, rec, rlen, val, vlen) == 0) {
            strcpy(seg_out, segs[i]);
            found = 0;
        }
        free(segs[i]);
    }
    return found;
}

static void test_damage_while_open(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(28)};
    char *dir = tu_tmpdir("corrupt-live");
    assert_non_null(dir);
    ldb_options o = opts(0);
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    cstate s = {0};
    /* Enough to fill a few segments; the victims are an early key (an older,
     * read-only mapped segment) and a late one (the segment being written),
     * neither in the last frame. */
    for (uint32_t pass = 1; pass <= 2; pass++)
        for (unsigned id = 0; id < NK; id++) {
            ccommit c = {1, {{(uint16_t)id, 0, pass, 300 + (uint32_t)tu_rand_below(&r, 900)}}};
            write_commit(db, &c, &s);
        }
    const unsigned victims[2] = {5, NK - 10};
    const uint8_t what[2] = {'v', 'c'}; /* a value byte; a record checksum byte */
    char vseg[2][4200];
    uint64_t vrec[2], vrlen[2];
    for (int v = 0; v < 2; v++) {
        uint64_t val;
        uint32_t vlen;
        assert_int_equal(locate(dir, victims[v], vseg[v], &vrec[v], &vrlen[v], &val, &vlen), 0);
        uint64_t pos = what[v] == 'v' ? val + tu_rand_below(&r, vlen) : vrec[v] + 1;
        /* Written through the file, seen through the engine's shared map. */
        assert_int_equal(tu_flip_byte(vseg[v], pos, 0x20), 0);
    }
    char *segs[MAXSEGS];
    size_t nseg = tu_segments(dir, segs, MAXSEGS);
    assert_true(nseg >= 3);
    assert_string_not_equal(vseg[0], segs[nseg - 1]);
    assert_string_equal(vseg[1], segs[nseg - 1]);
    for (size_t i = 0; i < nseg; i++) free(segs[i]);

    static uint8_t buf[MAXV];
    for (int v = 0; v < 2; v++) {
        char k[16];
        size_t kl = key_of(victims[v], k), vl = 0;
        memset(buf, 0, sizeof buf);
        assert_int_equal(ldb_get(db, k, kl, buf, sizeof buf, &vl), LDB_CORRUPTION);
        const char *msg = ldb_last_error();
        if (!strstr(msg, base_of(vseg[v])))
            fail_msg("victim %u: the message does not name %s: \"%s\"", victims[v], base_of(vseg[v]), msg);
        int64_t at = tu_msg_offset(msg);
        if (at < (int64_t)vrec[v] || at >= (int64_t)(vrec[v] + vrlen[v]))
            fail_msg("victim %u: record at %llu..%llu, the message says %lld: \"%s\"", victims[v],
                     (unsigned long long)vrec[v], (unsigned long long)(vrec[v] + vrlen[v]),
                     (long long)at, msg);
        /* Nothing of the bad value was handed out. */
        for (size_t i = 0; i < sizeof buf; i++)
            if (buf[i]) fail_msg("victim %u: bytes were copied out of a corrupt record", victims[v]);
        /* A transaction's zero-copy get refuses it too. */
        ldb_txn *t;
        const void *tv = NULL;
        size_t tvl = 0;
        assert_int_equal(ldb_txn_begin(db, LDB_TXN_READONLY, &t), LDB_OK);
        assert_int_equal(ldb_txn_get(t, k, kl, &tv, &tvl), LDB_CORRUPTION);
        ldb_txn_abort(t);
        /* An iterator finds the key but refuses its value, and stops. */
        ldb_iter *it;
        assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
        assert_int_equal(ldb_iter_seek(it, k, kl), LDB_OK);
        assert_true(ldb_iter_valid(it));
        const void *ik;
        size_t ikl;
        assert_int_equal(ldb_iter_key(it, &ik, &ikl), LDB_OK);
        assert_int_equal(ikl, kl);
        assert_memory_equal(ik, k, kl);
        assert_int_equal(ldb_iter_value(it, &tv, &tvl), LDB_CORRUPTION);
        assert_int_equal(ldb_iter_status(it), LDB_CORRUPTION);
        assert_false(ldb_iter_valid(it));
        ldb_iter_close(it);
    }
    /* Every other key still reads exactly. */
    cstate others = s;
    for (int v = 0; v < 2; v++) others.k[victims[v]].present = 0;
    for (unsigned id = 0; id < NK; id++) {
        if (!others.k[id].present) continue;
        char k[16];
        size_t kl = key_of(id, k), vl;
        assert_int_equal(ldb_get(db, k, kl, buf, sizeof buf, &vl), LDB_OK);
        uint8_t want[MAXV];
        val_of(id, others.k[id].ver, others.k[id].len, want);
        assert_int_equal(vl, others.k[id].len);
        assert_memory_equal(buf, want, vl);
    }
    /* A full scan reports the damage rather than skipping it silently. */
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    int rc = LDB_OK;
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it)) {
        const void *iv;
        size_t ivl;
        rc = ldb_iter_value(it, &iv, &ivl);
        if (rc) break;
    }
    assert_int_equal(rc, LDB_CORRUPTION);
    assert_int_equal(ldb_iter_status(it), LDB_CORRUPTION);
    ldb_iter_close(it);

    /* Rewriting a damaged key gives it a good record again. */
    ccommit fix = {1, {{(uint16_t)victims[0], 0, 50, 77}}};
    write_commit(db, &fix, &s);
    char k[16];
    size_t kl = key_of(victims[0], k), vl;
    assert_int_equal(ldb_get(db, k, kl, buf, sizeof buf, &vl), LDB_OK);
    assert_int_equal(vl, 77);
    assert_int_equal(ldb_close(db), LDB_OK);

    /* The damage is on disk in older frames: the next open reports it. */
    assert_int_equal(ldb_open(dir, &o, &db), LDB_CORRUPTION);
    assert_non_null(strstr(ldb_last_error(), base_of(vseg[0])));
    tu_rmdir(dir);
    free(dir);
}

/* With a checkpoint, an open need not re-read the segments it covers, so
 * damage there may go unnoticed at open; it must then be caught when the
 * record is read: never served, everything else intact. */
static void test_damage_under_checkpoint(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(30)};
    fixture *f = malloc(sizeof *f);
    build(f, &r);
    char segs[MAXSEGS][4200];
    char *dir = copy_of(f, segs);
    ldb_options o = opts(0);
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    assert_int_equal(ldb_checkpoint(db), LDB_OK);
    assert_int_equal(ldb_close(db), LDB_OK);

    cstate s = {0};
    for (int c = 0; c < f->ncommits; c++) apply(&s, &f->commits[c]);
    /* A live key with a non-empty value whose record is in the oldest
     * segment. */
    unsigned victim = NK;
    char vseg[4200];
    uint64_t rec = 0, rlen = 0, val = 0;
    uint32_t vlen = 0;
    for (unsigned id = 0; id < NK && victim == NK; id++) {
        if (!s.k[id].present || !s.k[id].len) continue;
        if (locate(dir, id, vseg, &rec, &rlen, &val, &vlen) == 0 && strcmp(vseg, segs[0]) == 0)
            victim = id;
    }
    assert_true(victim < NK);
    assert_int_equal(tu_flip_byte(vseg, val + tu_rand_below(&r, vlen), 0x08), 0);

    int rc = ldb_open(dir, &o, &db);
    fprintf(stderr, "# damage in a checkpointed segment: open says %s\n", ldb_strerror(rc));
    if (rc == LDB_CORRUPTION) {
        /* Verified at open after all: fine, if it says where. */
        assert_non_null(strstr(ldb_last_error(), base_of(vseg)));
    } else {
        assert_int_equal(rc, LDB_OK);
        ldb_stats st;
        assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
        assert_true(st.recovery_checkpoint_seq > 0); /* the case under test */
        char k[16];
        size_t kl = key_of(victim, k), vl;
        static uint8_t buf[MAXV];
        assert_int_equal(ldb_get(db, k, kl, buf, sizeof buf, &vl), LDB_CORRUPTION);
        assert_non_null(strstr(ldb_last_error(), base_of(vseg)));
        cstate others = s;
        others.k[victim].present = 0;
        for (unsigned id = 0; id < NK; id++) {
            if (!others.k[id].present) continue;
            kl = key_of(id, k);
            assert_int_equal(ldb_get(db, k, kl, buf, sizeof buf, &vl), LDB_OK);
            uint8_t want[MAXV];
            val_of(id, others.k[id].ver, others.k[id].len, want);
            assert_int_equal(vl, others.k[id].len);
            assert_memory_equal(buf, want, vl);
        }
        assert_int_equal(ldb_close(db), LDB_OK);
    }
    tu_rmdir(dir);
    free(dir);
    fixture_free(f);
    free(f);
}

/* A damaged length field of a record already indexed: the reader must not
 * trust it (the index knows the length), let alone read past the record or
 * the mapping because of it. */
static void test_damage_while_open_length_field(void **state)
{
    (void)state;
    tu_rng r = {tu_seed(29)};
    char *dir = tu_tmpdir("corrupt-len");
    assert_non_null(dir);
    ldb_options o = opts(0);
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    cstate s = {0};
    for (unsigned id = 0; id < 20; id++) {
        ccommit c = {1, {{(uint16_t)id, 0, 1, 100 + (uint32_t)tu_rand_below(&r, 300)}}};
        write_commit(db, &c, &s);
    }
    char seg[4200];
    uint64_t rec, rlen, val;
    uint32_t vlen;
    assert_int_equal(locate(dir, 7, seg, &rec, &rlen, &val, &vlen), 0);
    /* The top byte of the stored length: it now claims ~512 MiB more. */
    assert_int_equal(tu_flip_byte(seg, rec + 11, 0x20), 0);
    char k[16];
    size_t kl = key_of(7, k), vl = 0;
    static uint8_t buf[MAXV];
    assert_int_equal(ldb_get(db, k, kl, buf, sizeof buf, &vl), LDB_CORRUPTION);
    assert_non_null(strstr(ldb_last_error(), base_of(seg)));
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    assert_int_equal(ldb_iter_seek(it, k, kl), LDB_OK);
    const void *iv;
    size_t ivl;
    assert_int_equal(ldb_iter_value(it, &iv, &ivl), LDB_CORRUPTION);
    ldb_iter_close(it);
    kl = key_of(8, k);
    assert_int_equal(ldb_get(db, k, kl, buf, sizeof buf, &vl), LDB_OK);
    assert_int_equal(vl, s.k[8].len);
    assert_int_equal(ldb_close(db), LDB_OK);
    tu_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_damage_detected),
        cmocka_unit_test(test_record_damage_salvaged),
        cmocka_unit_test(test_segment_header_damage_detected),
        cmocka_unit_test(test_newest_segment_damage_with_valid_frames_after),
        cmocka_unit_test(test_newest_last_frame_is_cut),
        cmocka_unit_test(test_padding_damage_harmless),
        cmocka_unit_test(test_segment_header_damage_salvaged),
        cmocka_unit_test(test_damage_while_open),
        cmocka_unit_test(test_damage_under_checkpoint),
        /* Last: a crash here (as with the engine at the time of writing)
         * takes the whole program down under ASan. */
        cmocka_unit_test(test_damage_while_open_length_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
