/*
 * engine/verify.c — offline check of every frame and record of a database
 * directory (ldb_check_dir), used by `lightning check`.
 *
 * Unlike recovery, which stops at the first damage, the checker resumes at
 * the next valid frame so one report lists every damaged region. It holds
 * the directory's lock shared, so it never races a writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/alloc.h"
#include "engine/io.h"
#include "engine/log.h"
#include "engine/record.h"
#include "engine/util.h"
#include "lightningdb.h"

static void report(ldb_check_fn fn, void *arg, const char *file, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void report(ldb_check_fn fn, void *arg, const char *file, uint64_t off, const char *fmt, ...)
{
    if (!fn) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(arg, file, off, msg);
}

/* Next 8-aligned offset after off where a valid frame starts, or size. */
static uint64_t next_valid(const uint8_t *b, uint64_t size, uint64_t off)
{
    char why[128];
    for (uint64_t o = off + 8; o + REC_FRAME_HDR <= size; o += 8) {
        if (util_get_u32(b + o) != REC_FRAME_MAGIC) continue;
        rec_frame f;
        if (rec_frame_check(b + o, size - o, &f, why, sizeof why) == REC_OK) return o;
    }
    return size;
}

static int check_segment(const char *path, int last, ldb_check_fn fn, void *arg,
                         ldb_check_report *r)
{
    int fd = io_open(path, O_RDONLY, 0);
    if (fd < 0) {
        report(fn, arg, path, 0, "cannot open: %s", strerror(-fd));
        return util_errno_to_rc(-fd);
    }
    uint64_t size;
    int rc = io_file_size(fd, &size);
    if (rc < 0) {
        io_close(fd);
        return LDB_IO;
    }
    r->segments++;
    if (size < REC_SEG_HDR) {
        io_close(fd);
        if (last) {
            report(fn, arg, path, 0, "newest segment is an unfinished file of %" PRIu64
                   " bytes (removed at next open)", size);
            r->torn_tail_bytes += size;
            return LDB_OK;
        }
        report(fn, arg, path, 0, "file shorter than a segment header");
        r->damaged_frames++;
        return LDB_CORRUPTION;
    }
    void *map;
    rc = io_mmap(fd, size, 0, &map);
    io_close(fd);
    if (rc < 0) return util_errno_to_rc(-rc);
    const uint8_t *b = map;
    int bad = 0;
    if (rec_segment_check(b, size, 0, NULL) != REC_OK) {
        report(fn, arg, path, 0, "bad segment header");
        r->damaged_frames++;
        bad = 1;
    }
    uint64_t off = REC_SEG_HDR;
    char why[160];
    while (off < size) {
        rec_frame f;
        rec_status st = rec_frame_check(b + off, size - off, &f, why, sizeof why);
        if (st == REC_END) {
            /* Nothing valid may follow the end marker. */
            uint64_t nv = next_valid(b, size, off);
            if (nv == size) break;
            report(fn, arg, path, off, "zeroed region of %" PRIu64 " bytes inside the log",
                   nv - off);
            r->damaged_frames++;
            r->damaged_bytes += nv - off;
            bad = 1;
            off = nv;
            continue;
        }
        if (st == REC_BAD) {
            uint64_t nv = next_valid(b, size, off);
            if (last && nv == size) {
                uint64_t end = size;
                while (end > off && b[end - 1] == 0) end--;
                report(fn, arg, path, off, "torn tail of %" PRIu64
                       " bytes (%s); the next open cuts it off", end - off, why);
                r->torn_tail_bytes += end - off;
                break;
            }
            report(fn, arg, path, off, "%s", why);
            r->damaged_frames++;
            r->damaged_bytes += nv - off;
            bad = 1;
            off = nv;
            continue;
        }
        r->frames++;
        r->records += f.nrec;
        r->data_bytes += f.total;
        if (f.seq > r->max_seq) r->max_seq = f.seq;
        off += f.total;
    }
    io_munmap(map, size);
    return bad ? LDB_CORRUPTION : LDB_OK;
}

int ldb_check_dir(const char *dir, ldb_check_fn fn, void *arg, ldb_check_report *out)
{
    if (!dir) return LDB_INVALID;
    ldb_check_report r;
    memset(&r, 0, sizeof r);
    /* A file, or a directory with no segment, is named as what it is: a
     * checker that says "ok" about the wrong directory hides the mistake. */
    struct stat st;
    if (stat(dir, &st) != 0) {
        util_set_error("cannot open %s: %s", dir, strerror(errno));
        return util_errno_to_rc(errno);
    }
    if (!S_ISDIR(st.st_mode)) {
        util_set_error("%s is not a directory", dir);
        return LDB_INVALID;
    }
    int has = log_dir_has_segments(dir);
    if (has < 0) {
        util_set_error("cannot list %s: %s", dir, strerror(-has));
        return util_errno_to_rc(-has);
    }
    if (!has) {
        util_set_error("%s is not a lightning database (no log segment in it)", dir);
        return LDB_NOTFOUND;
    }
    char lock[4096];
    snprintf(lock, sizeof lock, "%s/LOCK", dir);
    int lfd = io_open(lock, O_RDONLY, 0);
    if (lfd >= 0) {
        int l = io_flock(lfd, 0);
        if (l == -EWOULDBLOCK) {
            io_close(lfd);
            util_set_error("%s is open for writing by another process; close it first", dir);
            return LDB_BUSY;
        }
    } else if (lfd != -ENOENT) {
        return util_errno_to_rc(-lfd);
    }
    char **names = NULL;
    size_t n = 0;
    int rc = io_list(dir, ".log", &names, &n);
    if (rc < 0) {
        if (lfd >= 0) io_close(lfd);
        util_set_error("cannot list %s: %s", dir, strerror(-rc));
        return util_errno_to_rc(-rc);
    }
    int result = LDB_OK;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int c = check_segment(path, i + 1 == n, fn, arg, &r);
        if (c == LDB_CORRUPTION && result == LDB_OK) result = LDB_CORRUPTION;
        else if (c != LDB_OK && c != LDB_CORRUPTION) result = c;
    }
    io_free_names(names, n);
    if (lfd >= 0) io_close(lfd);
    if (out) *out = r;
    return result;
}
