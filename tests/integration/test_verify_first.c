/*
 * test_verify_first.c — verify_checksums = LDB_VERIFY_FIRST checks a record
 * once, and checks it again when its bytes may have come back from disk.
 *
 *  - damage on disk before the first read is found by that read (get,
 *    multi_get, iterator) and by the scrubber, never served;
 *  - a read leaves the record marked, so the next read does not check it
 *    (the point of the mode: measured by `lightning bench`, not here);
 *  - once a page left memory (MADV_PAGEOUT, on a disk file system), the
 *    scrubber's next pass clears the marks of the records in it, so damage
 *    that arrives with the page's next read from disk is found;
 *  - records larger than VM_MAX_REC are checked on every read;
 *  - after a reopen the scrubber checks and marks the records nobody read
 *    yet (not those the handle writes itself);
 *  - an unknown mode is refused at open.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/db.h"
#include "engine/scrub.h"
#include "engine/vmark.h"
#include "lightningdb.h"
#include "testutil.h"

#define NK 400
#define VLEN 700

static ldb_options opts(int mode)
{
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NONE;
    o.segment_size = 1u << 20;
    o.verify_checksums = mode;
    o.scrub_interval_ms = 60000; /* passes run when the test calls them */
    o.cleaner = 0;
    o.checkpoint_bytes = 0;
    o.checkpoint_on_close = 0;
    return o;
}

static void key_of(char k[16], int i) { snprintf(k, 16, "key%06d", i); }

static void val_of(uint8_t *v, int i, size_t len)
{
    for (size_t j = 0; j < len; j++) v[j] = (uint8_t)(i * 31 + j * 7);
}

/* Writes key i = val_of(i) for every key. */
static void put_all(ldb *db, size_t vlen)
{
    uint8_t *v = malloc(vlen);
    assert_non_null(v);
    for (int i = 0; i < NK; i++) {
        char k[16];
        key_of(k, i);
        val_of(v, i, vlen);
        assert_int_equal(ldb_put(db, k, strlen(k), v, vlen), LDB_OK);
    }
    free(v);
}

static void fill(const char *dir, size_t vlen)
{
    ldb_options o = opts(LDB_VERIFY_FIRST);
    ldb *db = tu_open(dir, &o);
    put_all(db, vlen);
    /* With a checkpoint, the next open replays (and so checks) nothing: the
     * reads are the first to look at these records. */
    assert_int_equal(ldb_checkpoint(db), LDB_OK);
    assert_int_equal(ldb_close(db), LDB_OK);
}

/* The segment file and value offset of key i. */
static void locate(const char *dir, int i, char *seg, size_t cap, uint64_t *val_off)
{
    char *paths[16];
    size_t n = tu_segments(dir, paths, 16);
    char k[16];
    key_of(k, i);
    int found = 0;
    for (size_t s = 0; s < n; s++) {
        uint64_t ro, rl;
        uint32_t vl;
        if (!found && tu_find_record(paths[s], k, strlen(k), &ro, &rl, val_off, &vl) == 0) {
            snprintf(seg, cap, "%s", paths[s]);
            found = 1;
        }
        free(paths[s]);
    }
    assert_true(found);
}

static int get(ldb *db, int i, size_t vlen)
{
    char k[16];
    key_of(k, i);
    uint8_t *buf = malloc(vlen), *want = malloc(vlen);
    assert_non_null(buf);
    assert_non_null(want);
    size_t got = 0;
    int rc = ldb_get(db, k, strlen(k), buf, vlen, &got);
    if (rc == LDB_OK) {
        val_of(want, i, vlen);
        assert_int_equal(got, vlen);
        rc = memcmp(buf, want, vlen) ? -1000 : LDB_OK; /* -1000: bad bytes served */
    }
    free(buf);
    free(want);
    return rc;
}

static int marked(ldb *db, int i)
{
    char k[16];
    key_of(k, i);
    idx_entry *e = db_find(db, k, strlen(k));
    assert_non_null(e);
    idx_version *v = atomic_load(&e->head);
    return vmark_test(&db->log.vm, v->seg, v->rec);
}

/* A filled database (on disk, or in /dev/shm) and where key's value lies. */
static char *prepared(int on_disk, size_t vlen, int key, char *seg, size_t cap, uint64_t *voff)
{
    char *dir = on_disk ? tu_tmpdir("vfirst") : tu_tmpdir_fast("vfirst");
    assert_non_null(dir);
    fill(dir, vlen);
    locate(dir, key, seg, cap, voff);
    return dir;
}

static void finish(ldb *db, char *dir)
{
    if (db) assert_int_equal(ldb_close(db), LDB_OK);
    tu_rmdir(dir);
    free(dir);
}

static void test_damage_before_first_read_is_found(void **state)
{
    (void)state;
    char seg[4096];
    uint64_t voff;
    char *dir = prepared(0, VLEN, 77, seg, sizeof seg, &voff);
    assert_int_equal(tu_flip_byte(seg, voff + 100, 0x10), 0);
    ldb_options o = opts(LDB_VERIFY_FIRST);
    ldb *db = tu_open(dir, &o);
    assert_int_equal(get(db, 77, VLEN), LDB_CORRUPTION);
    assert_int_equal(get(db, 77, VLEN), LDB_CORRUPTION); /* a failure marks nothing */
    assert_false(marked(db, 77));
    assert_int_equal(get(db, 78, VLEN), LDB_OK);
    assert_true(marked(db, 78));
    /* multi_get and the iterator share the read path. */
    ldb_txn *t;
    assert_int_equal(ldb_txn_begin(db, LDB_TXN_READONLY, &t), LDB_OK);
    char k[16];
    key_of(k, 77);
    const void *keys[1] = {k}, *vals[1];
    size_t kl[1] = {strlen(k)}, vl[1];
    int rcs[1];
    assert_int_equal(ldb_multi_get(t, 1, keys, kl, vals, vl, rcs), LDB_OK);
    assert_int_equal(rcs[0], LDB_CORRUPTION);
    ldb_txn_abort(t);
    ldb_iter *it;
    assert_int_equal(ldb_iter_open(db, &it), LDB_OK);
    assert_int_equal(ldb_iter_seek(it, k, strlen(k)), LDB_OK);
    const void *v;
    size_t vlen;
    assert_int_equal(ldb_iter_value(it, &v, &vlen), LDB_CORRUPTION);
    ldb_iter_close(it);
    /* The scrubber finds it too, and marks every good record. */
    scrub_result r;
    assert_int_equal(scrub_pass(db, UINT64_MAX, &r), LDB_OK);
    assert_int_equal(r.corrupt, 1);
    assert_int_equal(r.checked, NK - 2); /* 78 was marked by its read */
    assert_true(marked(db, 5));
    assert_false(marked(db, 77));
    assert_int_equal(get(db, 77, VLEN), LDB_CORRUPTION);
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    assert_int_equal(st.scrub_corrupt, 1);
    assert_int_equal(st.scrub_checked, NK - 2);
    finish(db, dir);
}

/* What the mark buys, and what it costs: a marked record is not checked
 * again while its page stays in memory (ALWAYS checks it every time). */
static void test_marked_record_is_not_rechecked(void **state)
{
    (void)state;
    char seg[4096];
    uint64_t voff;
    char *dir = prepared(0, VLEN, 10, seg, sizeof seg, &voff);
    for (int mode = LDB_VERIFY_ALWAYS; mode <= LDB_VERIFY_FIRST; mode++) {
        ldb_options o = opts(mode);
        ldb *db = tu_open(dir, &o);
        assert_int_equal(get(db, 10, VLEN), LDB_OK);
        /* The file changes under the shared mapping. */
        assert_int_equal(tu_flip_byte(seg, voff + 5, 0x01), 0);
        int rc = get(db, 10, VLEN);
        assert_int_equal(tu_flip_byte(seg, voff + 5, 0x01), 0);
        if (mode == LDB_VERIFY_ALWAYS) assert_int_equal(rc, LDB_CORRUPTION);
        else assert_int_equal(rc, -1000); /* documented: memory is trusted once checked */
        assert_int_equal(ldb_close(db), LDB_OK);
    }
    finish(NULL, dir);
}

/* The case the scrubber's residency scan exists for. Fails with the scan
 * taken out of scrub_pass: the damaged bytes are served. */
static void test_page_out_of_memory_is_checked_again(void **state)
{
    (void)state;
    char seg[4096];
    uint64_t voff;
    char *dir = prepared(1, VLEN, 200, seg, sizeof seg, &voff); /* tmpfs pages cannot leave memory */
    ldb_options o = opts(LDB_VERIFY_FIRST);
    ldb *db = tu_open(dir, &o);
    for (int i = 0; i < NK; i++) assert_int_equal(get(db, i, VLEN), LDB_OK);
    assert_true(marked(db, 200));
    scrub_result r;
    assert_int_equal(scrub_pass(db, 0, &r), LDB_OK);
    assert_int_equal(r.absent_pages, 0);
    assert_true(marked(db, 200));
    /* Evict the whole log from memory: written back first, since only
     * clean pages can simply be dropped. */
    sync();
    int evicted = 1;
    for (size_t i = 0; i < db->log.nsegs; i++) {
        log_segment *s = db->log.segs[i];
        if (madvise(s->base, s->size, MADV_PAGEOUT) != 0) evicted = 0;
    }
    assert_int_equal(scrub_pass(db, 0, &r), LDB_OK);
    print_message("# MADV_PAGEOUT %s; the scrubber found %llu pages out of memory\n",
                  evicted ? "worked" : "failed", (unsigned long long)r.absent_pages);
    if (!evicted || r.absent_pages == 0) {
        finish(db, dir);
        skip(); /* this kernel or file system keeps the pages */
    }
    assert_false(marked(db, 200));
    /* The page comes back from "disk" with a flipped bit. */
    assert_int_equal(tu_flip_byte(seg, voff + 300, 0x04), 0);
    assert_int_equal(get(db, 200, VLEN), LDB_CORRUPTION);
    assert_int_equal(get(db, 201, VLEN), LDB_OK);
    assert_true(marked(db, 201));
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    assert_true(st.scrub_absent_pages >= r.absent_pages);
    finish(db, dir);
}

static void test_large_records_are_checked_every_read(void **state)
{
    (void)state;
    size_t big = VM_MAX_REC + 100;
    char seg[4096];
    uint64_t voff;
    char *dir = prepared(0, big, 3, seg, sizeof seg, &voff);
    ldb_options o = opts(LDB_VERIFY_FIRST);
    ldb *db = tu_open(dir, &o);
    assert_int_equal(get(db, 3, big), LDB_OK);
    assert_false(marked(db, 3));
    assert_int_equal(tu_flip_byte(seg, voff + big - 1, 0x80), 0);
    assert_int_equal(get(db, 3, big), LDB_CORRUPTION);
    finish(db, dir);
}

/* The scrubber leaves what the handle writes itself alone (it is checked
 * on its first read); after a reopen it checks and marks the records that
 * were there at open by itself, nobody reading. */
static void test_scrubber_thread_marks_records(void **state)
{
    (void)state;
    char *dir = tu_tmpdir_fast("vfirst");
    ldb_options o = opts(LDB_VERIFY_FIRST);
    ldb *db = tu_open(dir, &o);
    o.scrub_interval_ms = 5;
    put_all(db, VLEN);
    scrub_result r;
    assert_int_equal(scrub_pass(db, UINT64_MAX, &r), LDB_OK);
    assert_int_equal(r.checked, 0);
    assert_false(marked(db, 0));
    assert_int_equal(ldb_checkpoint(db), LDB_OK);
    assert_int_equal(ldb_close(db), LDB_OK);
    db = tu_open(dir, &o);
    ldb_stats st;
    for (int tries = 0; tries < 2000; tries++) {
        assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
        if (st.scrub_checked >= NK) break;
        usleep(5000);
    }
    assert_true(st.scrub_checked >= NK);
    assert_int_equal(st.scrub_corrupt, 0);
    for (int i = 0; i < NK; i++) assert_true(marked(db, i));
    for (int i = 0; i < NK; i++) assert_int_equal(get(db, i, VLEN), LDB_OK);
    finish(db, dir);
}

/* The scrubber beside a writer, the cleaner (which relocates records and
 * retires whole segments, so mark slots are given up and taken again) and
 * readers that check every value. Run under TSan too (make test-tsan). */
static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct race_reader {
    ldb *db;
    _Atomic int stop;
    uint64_t reads, bad;
} race_reader;

static void *race_read(void *arg)
{
    race_reader *r = arg;
    tu_rng rng = {(uint64_t)(uintptr_t)arg | 1};
    uint8_t buf[VLEN], want[VLEN];
    while (!atomic_load(&r->stop)) {
        int i = (int)tu_rand_below(&rng, NK);
        char k[16];
        key_of(k, i);
        size_t got = 0;
        int rc = ldb_get(r->db, k, strlen(k), buf, sizeof buf, &got);
        /* Every version of key i holds val_of(i): overwrites rewrite the
         * same bytes, so any value that reads back must be exactly that. */
        val_of(want, i, VLEN);
        if (rc != LDB_OK || got != VLEN || memcmp(buf, want, VLEN)) r->bad++;
        r->reads++;
    }
    return NULL;
}

static void test_scrubber_races_cleaner_and_readers(void **state)
{
    (void)state;
    char *dir = tu_tmpdir_fast("vfirst");
    ldb_options o = opts(LDB_VERIFY_FIRST);
    o.scrub_interval_ms = 1;
    o.cleaner = 1;
    o.space_amp_target = 1.5;
    ldb *db = tu_open(dir, &o);
    put_all(db, VLEN);
    race_reader r = {.db = db};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, race_read, &r), 0);
    tu_rng rng = {7};
    uint8_t v[VLEN];
    uint64_t t_end = now_ms() + 1500;
    long puts = 0;
    while (now_ms() < t_end) {
        int i = (int)tu_rand_below(&rng, NK);
        char k[16];
        key_of(k, i);
        val_of(v, i, VLEN);
        assert_int_equal(ldb_put(db, k, strlen(k), v, VLEN), LDB_OK);
        puts++;
    }
    atomic_store(&r.stop, 1);
    pthread_join(th, NULL);
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    print_message("# %ld puts, %llu reads, %llu segments cleaned, %llu scrub passes, "
                  "%llu records scrubbed\n",
                  puts, (unsigned long long)r.reads, (unsigned long long)st.cleaned_segments,
                  (unsigned long long)st.scrub_passes, (unsigned long long)st.scrub_checked);
    assert_int_equal(r.bad, 0);
    assert_int_equal(st.scrub_corrupt, 0);
    assert_true(st.scrub_passes > 0);
    finish(db, dir);
}

static void test_modes_are_validated(void **state)
{
    (void)state;
    char *dir = tu_tmpdir_fast("vfirst");
    ldb_options o;
    ldb_options_init(&o);
    assert_int_equal(o.verify_checksums, LDB_VERIFY_FIRST);
    o.verify_checksums = 3;
    ldb *db = NULL;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_INVALID);
    assert_null(db);
    assert_non_null(strstr(ldb_last_error(), "verify_checksums"));
    /* NEVER keeps no marks and starts no scrubber. */
    o = opts(LDB_VERIFY_NEVER);
    db = tu_open(dir, &o);
    assert_null(db->log.vm.slots);
    assert_int_equal(db->scrub_running, 0);
    finish(db, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_damage_before_first_read_is_found),
        cmocka_unit_test(test_marked_record_is_not_rechecked),
        cmocka_unit_test(test_page_out_of_memory_is_checked_again),
        cmocka_unit_test(test_large_records_are_checked_every_read),
        cmocka_unit_test(test_scrubber_thread_marks_records),
        cmocka_unit_test(test_scrubber_races_cleaner_and_readers),
        cmocka_unit_test(test_modes_are_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
