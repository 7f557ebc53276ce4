/*
 * tests/unit/test_log_mapping.c — how the log keeps its segments mapped
 * (engine/log.c, engine/log_prefault.h), checked through the kernel's own
 * view rather than the log's bookkeeping:
 * - faulted in ahead: a few megabytes past the writer are mapped
 *   (/proc/self/pagemap "present" bit) soon after a write, by the helper
 *   thread; inline pre-faulting alone reaches only a megabyte or two ahead,
 *   so this fails if the helper does not run or is never asked;
 * - unmapped behind: what the writer left more than two megabytes behind is
 *   no longer mapped by this process (/proc/self/pagemap "present" bit) but
 *   is still in the page cache, reads back intact and maps again on touch;
 *   fails if log_release_behind stops releasing or drops data;
 * - rotation: dozens of rotations of small segments while the helper runs
 *   (lpf_forget before sealing): every byte written is intact, every sealed
 *   segment is unmapped, and closing joins the helper (ASan/TSan builds run
 *   this too).
 * The last two run again with the helper switched off (prefault_on = 0,
 * as when it cannot start): the writer then releases inline.
 * The log is driven directly (log_reserve/log_advance) with raw patterned
 * bytes; nothing is replayed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "lightningdb.h"
#include "testutil.h"

#define PAGE 4096u
#define MIB (1u << 20)

static uint8_t pattern(uint64_t seg, uint64_t off) { return (uint8_t)(seg * 131 + off / 8); }

/* Appends `bytes` in frames of `frame` bytes, each filled with pattern(). */
static void append(ldb_log *log, uint64_t bytes, size_t frame)
{
    for (uint64_t done = 0; done < bytes; done += frame) {
        uint8_t *dst;
        log_segment *seg;
        assert_int_equal(log_reserve(log, frame, &dst, &seg), LDB_OK);
        uint64_t off = seg->end;
        for (size_t i = 0; i < frame; i += 8) memset(dst + i, pattern(seg->id, off + i), 8);
        log_advance(log, frame);
    }
}

/* Pages of [p, p + len) in the page cache. */
static size_t resident_pages(const uint8_t *p, size_t len)
{
    size_t n = len / PAGE, count = 0;
    unsigned char *v = malloc(n);
    assert_non_null(v);
    assert_int_equal(mincore((void *)p, len, v), 0);
    for (size_t i = 0; i < n; i++) count += v[i] & 1;
    free(v);
    return count;
}

/* Pages of [p, p + len) this process maps (pagemap bit 63). */
static size_t mapped_pages(const uint8_t *p, size_t len)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    assert_true(fd >= 0);
    size_t count = 0;
    for (size_t off = 0; off < len; off += PAGE) {
        uint64_t e;
        off_t at = (off_t)(((uintptr_t)p + off) / PAGE * sizeof e);
        assert_int_equal(pread(fd, &e, sizeof e, at), (ssize_t)sizeof e);
        count += (e >> 63) & 1;
    }
    close(fd);
    return count;
}

static void check_pattern(const log_segment *s, uint64_t from, uint64_t to)
{
    for (uint64_t off = from; off < to; off += 8)
        if (s->base[off] != pattern(s->id, off))
            fail_msg("segment %llu offset %llu: %u, wrote %u", (unsigned long long)s->id,
                     (unsigned long long)off, s->base[off], pattern(s->id, off));
}

static int no_frame(void *arg, const rec_frame *f, const uint8_t *frame, log_segment *seg)
{
    (void)arg, (void)f, (void)frame, (void)seg;
    return 0;
}

/* The log under test, closed by the teardown even when a test fails (its
 * helper thread must not outlive the test). */
typedef struct fixture {
    ldb_log log;
    char *dir;
    int open;
    int inline_only; /* no helper: the writer faults in and releases */
} fixture;

/* A new log, ready to append (the append position is set by replay). */
static ldb_log *open_log(void **state, uint64_t seg_size)
{
    fixture *f = *state;
    f->dir = tu_tmpdir("logmap");
    assert_int_equal(log_open(&f->log, f->dir, LDB_SYNC_NONE, seg_size, 0, 0, 0), LDB_OK);
    f->open = 1;
    if (f->inline_only) f->log.prefault_on = 0;
    assert_int_equal(log_replay(&f->log, 0, 0, no_frame, NULL), LDB_OK);
    return &f->log;
}

static int setup_helper(void **state)
{
    *state = calloc(1, sizeof(fixture));
    return *state ? 0 : -1;
}

static int setup_inline(void **state)
{
    if (setup_helper(state)) return -1;
    ((fixture *)*state)->inline_only = 1;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->open) log_close(&f->log);
    if (f->dir) {
        tu_rmdir(f->dir);
        free(f->dir);
    }
    free(f);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_faulted_in_ahead(void **state)
{
    ldb_log *log = open_log(state, 64ull * MIB);
    append(log, MIB + 16 * PAGE, PAGE);
    const log_segment *s = log->active;
    uint64_t from = (s->end + 2 * MIB) & ~(uint64_t)(PAGE - 1);
    size_t want = MIB / PAGE, got = 0;
    /* mapped, not merely cached: the kernel's readahead caches pages past
     * a fault on its own, but only a fault-in maps them */
    for (int i = 0; i < 500 && (got = mapped_pages(s->base + from, MIB)) < want; i++)
        sleep_ms(10);
    if (got < want)
        fail_msg("2-3 MiB ahead of the writer: %zu of %zu pages faulted in after 5 s", got, want);
}

static void test_unmapped_behind(void **state)
{
    ldb_log *log = open_log(state, 64ull * MIB);
    append(log, 6 * MIB, 2048);
    const log_segment *s = log->active;
    uint64_t behind = (s->end - 2 * MIB) & ~(uint64_t)(MIB - 1);
    assert_true(behind >= 3 * MIB);
    /* released (by the helper, asynchronously, or inline): not mapped here,
     * still cached, intact, and mapped again on touch */
    size_t mapped = 0;
    for (int i = 0; i < 500 && (mapped = mapped_pages(s->base, behind)) > 0; i++) sleep_ms(10);
    if (mapped)
        fail_msg("%zu of the %llu pages 2 MiB behind the writer still mapped after 5 s", mapped,
                 (unsigned long long)(behind / PAGE));
    assert_int_equal(resident_pages(s->base, behind), behind / PAGE);
    check_pattern(s, REC_SEG_HDR, s->end);
    assert_int_equal(mapped_pages(s->base, behind), behind / PAGE);
    /* the writer's own last page stays mapped */
    assert_int_equal(mapped_pages(s->base + ((s->end - 1) & ~(uint64_t)(PAGE - 1)), PAGE), 1);
}

static void test_rotation(void **state)
{
    const uint64_t seg = 4 * MIB;
    ldb_log *log = open_log(state, seg);
    /* 60 KiB frames leave a different tail in each segment. */
    append(log, 40 * seg, 60 * 1024);
    assert_true(log->nsegs >= 30);
    for (size_t i = 0; i + 1 < log->nsegs; i++) {
        const log_segment *s = log->segs[i];
        assert_false(s->writable);
        assert_int_equal(mapped_pages(s->base, s->size), 0); /* released when sealed */
        check_pattern(s, REC_SEG_HDR, s->end);
    }
    check_pattern(log->active, REC_SEG_HDR, log->active->end);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faulted_in_ahead, setup_helper, teardown),
        cmocka_unit_test_setup_teardown(test_unmapped_behind, setup_helper, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup_helper, teardown),
        cmocka_unit_test_setup_teardown(test_unmapped_behind, setup_inline, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup_inline, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
