/*
 * engine/log.c — segment files: create, map, append, rotate, sync, replay.
 */
#include "engine/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "engine/alloc.h"
#include "engine/io.h"
#include "engine/util.h"
#include "lightningdb.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define LOG_POPULATE_CHUNK (1u << 20)
/* The helper is kept between LOG_PREFAULT_AHEAD - LOG_POPULATE_CHUNK and
 * LOG_PREFAULT_AHEAD ahead of the writer: one request per megabyte. */
#define LOG_PREFAULT_AHEAD (4u << 20)
#define LOG_SIZE_ROUND (1u << 20)

static log_segment *seg_alloc(ldb_log *log, const char *dir, uint64_t id)
{
    size_t need = strlen(dir) + 32;
    log_segment *s = alloc_calloc(1, sizeof *s + need);
    if (!s) return NULL;
    s->id = id;
    s->fd = -1;
    s->vm = &log->vm;
    pthread_mutex_init(&s->sync_mu, NULL);
    snprintf(s->path, need, "%s/%010" PRIu64 ".log", dir, id);
    return s;
}

static void seg_close(log_segment *s)
{
    if (!s) return;
    vmark_detach(s->vm, s->id, s->base);
    if (s->base) io_munmap(s->base, s->size);
    if (s->fd >= 0) io_close(s->fd);
    pthread_mutex_destroy(&s->sync_mu);
    alloc_free(s);
}

static int segs_push(ldb_log *log, log_segment *s)
{
    if (log->nsegs == log->cap) {
        log_segment **v = alloc_grow(log->segs, &log->cap, sizeof *v, 16);
        if (!v) return LDB_NOMEM;
        log->segs = v;
    }
    log->segs[log->nsegs++] = s;
    return LDB_OK;
}

/* Parses "NNNNNNNNNN.log"; 0 for names that are not segments. */
static uint64_t seg_id_from_name(const char *name)
{
    size_t l = strlen(name);
    if (l != 14 || strcmp(name + 10, ".log") != 0) return 0;
    uint64_t id = 0;
    for (int i = 0; i < 10; i++) {
        if (name[i] < '0' || name[i] > '9') return 0;
        id = id * 10 + (uint64_t)(name[i] - '0');
    }
    return id;
}

int log_dir_has_segments(const char *dir)
{
    char **names = NULL;
    size_t n = 0;
    int r = io_list(dir, ".log", &names, &n);
    if (r < 0) return r;
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) found = seg_id_from_name(names[i]) != 0;
    io_free_names(names, n);
    return found;
}

/* A sealed (read-only) segment asks for huge pages: random reads over a
 * large log otherwise pay a TLB miss, and under virtualisation a
 * two-dimensional page walk, per record (measured: 1M x 1 KiB random gets
 * 0.99 -> 0.87 us once the page cache holds the segments as 2 MiB folios).
 * Writable segments do not: a write fault would dirty a whole 2 MiB folio,
 * and each sync would write it all back. Advice only; failure is harmless. */
static void seg_advise_sealed(log_segment *s)
{
    if (s->base && s->size >= (2u << 20)) madvise(s->base, s->size, MADV_HUGEPAGE);
}

static int seg_map(log_segment *s, int writable)
{
    int fd = io_open(s->path, writable ? O_RDWR : O_RDONLY, 0);
    if (fd < 0) {
        util_set_error("cannot open %s: %s", s->path, strerror(-fd));
        return util_errno_to_rc(-fd);
    }
    s->fd = fd;
    int rc = io_file_size(fd, &s->size);
    if (rc < 0) return util_errno_to_rc(-rc);
    if (s->size < REC_SEG_HDR) return LDB_OK; /* caller decides */
    void *p;
    rc = io_mmap(fd, s->size, writable, &p);
    if (rc < 0) {
        util_set_error("cannot map %s: %s", s->path, strerror(-rc));
        return util_errno_to_rc(-rc);
    }
    s->base = p;
    s->writable = writable;
    vmark_attach(s->vm, s->id, s->base, s->size);
    if (!writable) seg_advise_sealed(s);
    return LDB_OK;
}

/* Reopens an older, read-only mapped segment for writing (salvage, or a
 * removed unfinished newest file, makes it the newest). */
static int seg_map_writable(log_segment *s)
{
    if (s->writable) return LDB_OK;
    vmark_detach(s->vm, s->id, s->base);
    io_munmap(s->base, s->size);
    io_close(s->fd);
    s->base = NULL;
    s->fd = -1;
    return seg_map(s, 1);
}

/* Creates, preallocates and maps segment `id` of at least `size` bytes. */
static int seg_create(ldb_log *log, uint64_t id, uint64_t size, log_segment **out)
{
    int rc;
    log_segment *s = seg_alloc(log, log->dir, id);
    if (!s) return LDB_NOMEM;
    int fd = io_open(s->path, O_RDWR | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        util_set_error("cannot create %s: %s", s->path, strerror(-fd));
        rc = util_errno_to_rc(-fd);
        seg_close(s);
        return rc;
    }
    s->fd = fd;
    s->size = size;
    rc = io_fallocate(fd, size);
    if ((rc == -ENOSPC || rc == -EDQUOT) && log->use_spare && log->spare_size >= size) {
        /* A full disk, and the cleaner needs room to free some: the spare
         * was preallocated for exactly this. */
        char spare[4096];
        snprintf(spare, sizeof spare, "%s/SPARE", log->dir);
        io_close(fd);
        s->fd = -1;
        io_unlink(s->path);
        rc = io_rename(spare, s->path);
        if (rc == 0) {
            fd = io_open(s->path, O_RDWR, 0);
            if (fd < 0) {
                rc = fd;
            } else {
                s->fd = fd;
                s->size = log->spare_size;
                atomic_fetch_sub_explicit(&log->disk_bytes, log->spare_size, memory_order_relaxed);
                log->spare_size = 0;
            }
        }
        if (rc < 0) {
            util_set_error("cannot take the spare segment for %s: %s", s->path, strerror(-rc));
            rc = util_errno_to_rc(-rc);
            seg_close(s);
            return rc;
        }
    }
    if (rc < 0) {
        util_set_error("cannot allocate %" PRIu64 " bytes for %s: %s", size, s->path,
                       strerror(-rc));
        rc = util_errno_to_rc(-rc);
        goto fail;
    }
    void *p;
    size = s->size;
    rc = io_mmap(fd, size, 1, &p);
    if (rc < 0) {
        rc = util_errno_to_rc(-rc);
        goto fail;
    }
    s->base = p;
    s->writable = 1;
    vmark_attach(s->vm, s->id, s->base, size);
    rec_segment_header(s->base, id, size);
    s->end = REC_SEG_HDR;
    if (log->sync_mode != LDB_SYNC_NONE) {
        /* The directory entry must be durable before any commit in the
         * file is acknowledged as durable. */
        rc = io_fdatasync(fd, s->path, REC_SEG_HDR);
        if (rc == 0) rc = io_fsync_dir(log->dir);
        if (rc < 0) {
            util_set_error("syncing new segment %s failed: %s", s->path, strerror(-rc));
            log_fail(log); /* what the directory holds is unknown now */
            rc = util_errno_to_rc(-rc);
            goto fail;
        }
        atomic_store_explicit(&s->synced, REC_SEG_HDR, memory_order_release);
    } else {
        /* Release pairs with log_sync_dir's acquire: the file exists
         * under its name before an fsync that counts it starts. */
        atomic_fetch_add_explicit(&log->dir_gen, 1, memory_order_release);
    }
    *out = s;
    return LDB_OK;
fail:
    io_unlink(s->path);
    seg_close(s);
    return rc;
}

int log_open(ldb_log *log, const char *dir, int sync_mode, uint64_t seg_size,
             int read_only, int salvage, int marks)
{
    char **names = NULL;
    size_t n = 0;
    int rc;
    memset(log, 0, sizeof *log);
    pthread_mutex_init(&log->dir_mu, NULL);
    log->sync_mode = sync_mode;
    log->read_only = read_only;
    log->salvage = salvage;
    log->seg_size = seg_size;
    log->populate_ok = 1;
    log->prefault_on = !read_only;
    if (vmark_init(&log->vm, marks) != LDB_OK) return LDB_NOMEM;
    lpf_init(&log->prefault);
    log->dir = alloc_malloc(strlen(dir) + 1);
    if (!log->dir) return LDB_NOMEM;
    strcpy(log->dir, dir);

    rc = io_list(dir, ".log", &names, &n);
    if (rc < 0) {
        util_set_error("cannot list %s: %s", dir, strerror(-rc));
        rc = util_errno_to_rc(-rc);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t id = seg_id_from_name(names[i]);
        if (!id) continue;
        log_segment *s = seg_alloc(log, dir, id);
        if (!s) { rc = LDB_NOMEM; goto fail; }
        rc = segs_push(log, s);
        if (rc) { alloc_free(s); goto fail; }
    }
    io_free_names(names, n);
    names = NULL;
    if (!read_only) {
        char spare[4096];
        snprintf(spare, sizeof spare, "%s/SPARE", dir);
        int sfd = io_open(spare, O_RDONLY, 0);
        uint64_t ssz = 0;
        if (sfd >= 0) {
            if (io_file_size(sfd, &ssz) == 0 && ssz >= REC_SEG_HDR) log->spare_size = ssz;
            io_close(sfd);
        }
    }

    for (size_t i = 0; i < log->nsegs; i++) {
        int last = (i + 1 == log->nsegs);
        log_segment *s = log->segs[i];
        rc = seg_map(s, last && !read_only);
        if (rc) goto fail;
        if (s->size < REC_SEG_HDR) {
            if (last && !read_only) {
                /* A crash between creating the file and allocating it:
                 * nothing was ever written there. */
                io_close(s->fd);
                io_unlink(s->path);
                alloc_free(s);
                log->nsegs--;
                break;
            }
            util_set_error("corrupt log: %s is %" PRIu64 " bytes, shorter than a segment header",
                           s->path, s->size);
            rc = LDB_CORRUPTION;
            goto fail;
        }
    }
    /* The newest segment is the append target: if an unfinished newest
     * file was just removed, its predecessor takes over and must be
     * writable. */
    if (!read_only && log->nsegs && !log->segs[log->nsegs - 1]->writable) {
        rc = seg_map_writable(log->segs[log->nsegs - 1]);
        if (rc) goto fail;
    }
    return LDB_OK;
fail:
    io_free_names(names, n);
    log_close(log);
    return rc;
}

/* Highest offset + 1 of a non-zero byte in [from, end), or `from`. */
static uint64_t seg_scan_back(const log_segment *s, uint64_t from, uint64_t end)
{
    static const uint8_t zero[4096];
    while (end > from) {
        uint64_t start = end - 4096 > from && end >= 4096 ? end - 4096 : from;
        if (memcmp(s->base + start, zero, end - start) != 0) {
            while (end > start && s->base[end - 1] == 0) end--;
            return end;
        }
        end = start;
    }
    return from;
}

/* Highest offset + 1 of a non-zero byte in [from, s->size), or `from`.
 * Only the file's data regions are read: the preallocated, never written
 * rest of a segment is a hole to SEEK_DATA (unwritten extents without
 * cached pages), so cutting at open reads what was written rather than
 * faulting in up to a whole segment of zeros. Where the file system cannot
 * tell, everything counts as data and all of it is scanned. */
static uint64_t seg_dirty_end(const log_segment *s, uint64_t from)
{
    uint64_t best = from, pos = from;
    while (pos < s->size) {
        uint64_t lo, hi;
        if (io_next_data(s->fd, pos, &lo, &hi) != 0 || lo >= s->size) break;
        if (hi > s->size) hi = s->size;
        uint64_t e = seg_scan_back(s, lo, hi);
        if (e > lo) best = e;
        pos = hi;
    }
    return best;
}

/* Whether damage (or zeros) at `off` in the newest segment is a torn tail
 * to cut off rather than corruption to report. With no valid frame after
 * it (before `dirty`, the end of the non-zero bytes) it is: a write the
 * crash interrupted. With valid frames after it, it is only when both
 *  - no later frame recorded a durable watermark beyond `off` when it was
 *    appended (else `off` was on disk, and what is there now is damage);
 *  - and a whole 512-byte sector between `off` and the next valid frame is
 *    zero: what a power cut leaves where a page never reached the disk
 *    while later ones did. A flipped bit leaves no such sector, so damage
 *    to data a process crash would have kept is still reported.
 * (Frames written before the watermark existed record 0.) *at gets the
 * offset of the first valid frame after `off`. */
static int seg_tail_is_torn(const log_segment *s, uint64_t off, uint64_t dirty, uint64_t *at)
{
    char why[128];
    uint64_t first = 0;
    for (uint64_t o = (off + 8) & ~(uint64_t)7; o + REC_FRAME_HDR <= dirty; o += 8) {
        if (util_get_u32(s->base + o) != REC_FRAME_MAGIC) continue;
        rec_frame f;
        if (rec_frame_check(s->base + o, s->size - o, &f, why, sizeof why) != REC_OK) continue;
        if (!first) first = o;
        if (f.durable > off) {
            *at = o;
            return 0;
        }
        o += f.total - 8;
    }
    *at = first;
    if (!first) return 1;
    static const uint8_t zero[512];
    for (uint64_t sec = (off + 511) & ~(uint64_t)511; sec + 512 <= first; sec += 512)
        if (memcmp(s->base + sec, zero, 512) == 0) return 1;
    return 0;
}

/* Cuts segment s at off: zeroes what follows (up to dirty, the end of its
 * non-zero bytes) so a later replay cannot mistake old bytes for frames,
 * and makes the cut durable. */
static int seg_cut(ldb_log *log, log_segment *s, uint64_t off, uint64_t dirty)
{
    log->truncated_bytes += dirty - off;
    s->end = off;
    if (log->read_only || dirty == off) return LDB_OK;
    memset(s->base + off, 0, dirty - off);
    int rc = io_fdatasync(s->fd, s->path, off);
    if (rc < 0) return util_errno_to_rc(-rc);
    atomic_store_explicit(&s->synced, off, memory_order_release);
    return LDB_OK;
}

/* Salvage: segments after index i are renamed *.damaged and dropped. */
static int log_set_aside_after(ldb_log *log, size_t i)
{
    for (size_t j = i + 1; j < log->nsegs; j++) {
        log_segment *s = log->segs[j];
        char to[4096];
        snprintf(to, sizeof to, "%s.damaged", s->path);
        int rc = io_rename(s->path, to);
        seg_close(s);
        log->segs[j] = NULL;
        if (rc < 0) return util_errno_to_rc(-rc);
    }
    log->nsegs = i + 1;
    return LDB_OK;
}

/* End of the written part of a segment that replay skips (it precedes the
 * checkpoint), when the checkpoint did not record it: walks frame headers
 * without checking records. */
static uint64_t seg_find_end(const log_segment *s)
{
    uint64_t off = REC_SEG_HDR;
    while (off + REC_FRAME_HDR <= s->size) {
        rec_frame f;
        if (rec_frame_parse(s->base + off, s->size - off, &f) != REC_OK) break;
        if (f.total > s->size - off) break;
        off += f.total;
    }
    return off;
}

/* Salvage when the very first segment is unreadable: all of them go. */
static int log_set_aside_from_start(ldb_log *log)
{
    int rc = log->nsegs > 1 ? log_set_aside_after(log, 0) : LDB_OK;
    if (rc) return rc;
    log_segment *s = log->segs[0];
    char to[4200];
    snprintf(to, sizeof to, "%s.damaged", s->path);
    int r = io_rename(s->path, to);
    seg_close(s);
    log->segs[0] = NULL;
    log->nsegs = 0;
    return r < 0 ? util_errno_to_rc(-r) : LDB_OK;
}

int log_replay(ldb_log *log, uint64_t start_seg, uint64_t start_off, log_frame_fn fn, void *arg)
{
    char why[160];
    int rc;
    atomic_store(&log->file_bytes, 0); /* recomputed below (replay may run twice) */
    for (size_t i = 0; i < log->nsegs; i++) {
        log_segment *s = log->segs[i];
        int last = (i + 1 == log->nsegs);
        if (s->id < start_seg && !last) {
            /* Covered by the checkpoint: not replayed, not re-verified. */
            if (s->end < REC_SEG_HDR) s->end = seg_find_end(s);
            continue;
        }
        if (rec_segment_check(s->base, s->size, s->id, NULL) != REC_OK) {
            int blank = 1;
            for (unsigned b = 0; b < REC_SEG_HDR; b++)
                if (s->base[b]) { blank = 0; break; }
            if (last && blank && !log->read_only) {
                /* Created but never written before a crash. */
                rec_segment_header(s->base, s->id, s->size);
                s->end = REC_SEG_HDR;
                break;
            }
            if (!log->salvage) {
                util_set_error("corrupt log: %s has a bad segment header (offset 0)", s->path);
                return LDB_CORRUPTION;
            }
            /* Salvage: this segment and everything after it are set aside. */
            if (!log->read_only) {
                rc = i ? log_set_aside_after(log, i - 1) : log_set_aside_from_start(log);
                if (rc) return rc;
                if (log->nsegs) {
                    rc = seg_map_writable(log->segs[log->nsegs - 1]);
                    if (rc) return rc;
                }
            } else {
                log->nsegs = i;
            }
            goto done;
        }
        uint64_t off = REC_SEG_HDR;
        if (s->id == start_seg && start_off > REC_SEG_HDR && start_off <= s->size) off = start_off;
        else if (s->id < start_seg) off = s->end > REC_SEG_HDR ? s->end : seg_find_end(s);
        for (;;) {
            rec_frame f;
            rec_status st = rec_frame_check(s->base + off, s->size - off, &f, why, sizeof why);
            if (st == REC_END && !last) break; /* its written part ends here */
            if (st != REC_OK) {
                /* The end of what recovery accepts in the newest segment.
                 * It becomes the end of the file's contents: bytes left
                 * after it (frames behind a run of zeros) would otherwise
                 * sit behind the next appends, and a later replay would
                 * walk from the new frames into them and apply them. */
                uint64_t dirty = last ? seg_dirty_end(s, off) : s->size, at = 0;
                if (last && seg_tail_is_torn(s, off, dirty, &at)) {
                    rc = seg_cut(log, s, off, dirty);
                    if (rc) return rc;
                    break;
                }
                if (st == REC_END)
                    snprintf(why, sizeof why, "zeros before the valid frame at offset %" PRIu64,
                             at);
                if (!log->salvage) {
                    util_set_error("corrupt log: %s offset %" PRIu64 ": %s%s", s->path, off, why,
                                   last ? " (valid data follows; open with salvage to keep "
                                          "what precedes it)"
                                        : "");
                    return LDB_CORRUPTION;
                }
                /* Salvage: keep everything before the damage. */
                if (!last) {
                    if (log->read_only) {
                        s->end = off;
                        log->nsegs = i + 1;
                        goto done;
                    }
                    rc = log_set_aside_after(log, i);
                    if (rc) return rc;
                    rc = seg_map_writable(s);
                    if (rc) return rc;
                }
                rc = seg_cut(log, s, off, seg_dirty_end(s, off));
                if (rc) return rc;
                break;
            }
            rc = fn(arg, &f, s->base + off, s);
            if (rc) return rc;
            off += f.total;
        }
        if (off > s->end) s->end = off;
    }
done:
    atomic_store(&log->disk_bytes, log->spare_size);
    for (size_t i = 0; i < log->nsegs; i++) {
        atomic_fetch_add_explicit(&log->file_bytes, log->segs[i]->end, memory_order_relaxed);
        atomic_fetch_add_explicit(&log->disk_bytes, log->segs[i]->size, memory_order_relaxed);
    }
    if (log->read_only) {
        log->active = log->nsegs ? log->segs[log->nsegs - 1] : NULL;
        return LDB_OK;
    }
    if (log->nsegs == 0) {
        log_segment *s;
        rc = seg_create(log, 1, log->seg_size, &s);
        if (rc) return rc;
        rc = segs_push(log, s);
        if (rc) {
            seg_close(s);
            return rc;
        }
        atomic_fetch_add_explicit(&log->file_bytes, s->end, memory_order_relaxed);
        atomic_fetch_add_explicit(&log->disk_bytes, s->size, memory_order_relaxed);
    }
    log->active = log->segs[log->nsegs - 1];
    log->populated = log->active->end;
    log->released = 0;
    log->prefault_asked = 0;
    return LDB_OK;
}

static void log_populate(ldb_log *log, log_segment *s, uint64_t upto)
{
    if (!log->populate_ok) return;
    uint64_t from = log->populated & ~(uint64_t)4095;
    uint64_t to = upto + LOG_POPULATE_CHUNK;
    if (to > s->size) to = s->size;
    if (to <= from) return;
    /* One call faults in a megabyte of the page cache; otherwise each 4 KiB
     * page would cost a separate fault in the middle of a commit. */
    if (madvise(s->base + from, to - from, MADV_POPULATE_WRITE) != 0) {
        if (errno == EINVAL || errno == ENOSYS) log->populate_ok = 0;
        return;
    }
    log->populated = to;
}

/* Keeps the active segment faulted in ahead of the writer, and unmapped
 * more than a megabyte behind it: through the helper thread while it runs,
 * else inline (log_populate here, log_release_behind in log_reserve). */
static void log_fault_in(ldb_log *log, log_segment *s, uint64_t need)
{
    if (log->prefault_on) {
        uint64_t ask = s->end + LOG_PREFAULT_AHEAD;
        uint64_t release = s->end & ~(uint64_t)(LOG_POPULATE_CHUNK - 1);
        release = release >= LOG_POPULATE_CHUNK ? release - LOG_POPULATE_CHUNK : 0;
        if (lpf_request(&log->prefault, s, ask, release) == 0) {
            log->prefault_asked = ask;
            return;
        }
        log->prefault_on = 0;
    }
    if (need > log->populated) log_populate(log, s, need);
}

/* Unmaps the part of the active segment more than a chunk behind the
 * writer. Why: writeback of a page that is mapped dirty and writable must
 * write-protect it first, and the kernel does that one page at a time with
 * a TLB-flush IPI to every core running this process (page_mkclean). Every
 * log page is written back once (a checkpoint's sync, a NORMAL/FULL sync,
 * or the kernel's flusher), so each 4 KiB of log cost an IPI that stalled
 * the writer: perf showed a third of a random fill in
 * flush_tlb_mm_range/native_write_msr under the checkpoint's fdatasync.
 * Zapping a megabyte at a time costs one flush for 256 pages; the data stays
 * in the page cache (dirty state moves to the page), and a reader that
 * touches it again maps it read-only and clean, which writeback skips.
 * Measured 1M x 1 KiB, sync NONE, checkpoints on: write-seq 430K -> 650K,
 * write-random 286K -> 470K puts/s, concurrent-8 +40%, reads unchanged.
 * Advice only: on failure the pages simply stay mapped. */
static void log_release_behind(ldb_log *log, log_segment *s)
{
    uint64_t hi = (s->end & ~(uint64_t)(LOG_POPULATE_CHUNK - 1)) - LOG_POPULATE_CHUNK;
    if (hi <= log->released) return;
    if (madvise(s->base + log->released, hi - log->released, MADV_DONTNEED) == 0)
        log->released = hi;
    else
        log->released = s->size; /* not supported here: stop trying */
}

static int log_rotate(ldb_log *log, size_t need)
{
    log_segment *old = log->active, *s;
    uint64_t size = log->seg_size;
    if (REC_SEG_HDR + need > size)
        size = (REC_SEG_HDR + need + LOG_SIZE_ROUND - 1) / LOG_SIZE_ROUND * LOG_SIZE_ROUND;
    int rc = segs_push(log, NULL);
    if (rc) return rc;
    log->nsegs--;
    if (log->sync_mode != LDB_SYNC_NONE) {
        /* The older segment is complete on disk before a newer file exists:
         * after a power loss the log is a prefix of history, and a torn tail
         * can only be in the newest file.  Unconditional: the syncer clears
         * `dirty` before its fdatasync returns, so a clean flag does not
         * prove the bytes are on disk yet (one fdatasync per segment is
         * cheap next to the segment's writes). */
        rc = log_sync_segment(log, old, old->end);
        if (rc) return LDB_IO;
    }
    rc = seg_create(log, old->id + 1, size, &s);
    if (rc) return rc;
    lpf_forget(&log->prefault, old); /* before it is sealed, and ever freed */
    /* Its writable mappings go first, as in log_release_behind (one TLB
     * flush for the whole range); reads map it again, read-only. */
    madvise(old->base, old->size, MADV_DONTNEED);
    mprotect(old->base, old->size, PROT_READ); /* stray writes fault loudly */
    old->writable = 0;
    seg_advise_sealed(old);
    log->segs[log->nsegs++] = s;
    log->active = s;
    log->populated = s->end;
    log->released = 0;
    log->prefault_asked = 0;
    atomic_fetch_add_explicit(&log->file_bytes, s->end, memory_order_relaxed);
    atomic_fetch_add_explicit(&log->disk_bytes, s->size, memory_order_relaxed);
    return LDB_OK;
}

int log_reserve(ldb_log *log, size_t size, uint8_t **dst, log_segment **seg)
{
    if (log->read_only || !log->active) return LDB_READONLY;
    if (size > REC_MAX_FRAME) return LDB_TOO_LARGE;
    log_segment *s = log->active;
    if (s->end + size > s->size) {
        int rc = log_rotate(log, size);
        if (rc) return rc;
        s = log->active;
    }
    if (log->prefault_on ? s->end + LOG_PREFAULT_AHEAD >= log->prefault_asked + LOG_POPULATE_CHUNK
                         : s->end + size > log->populated)
        log_fault_in(log, s, s->end + size);
    if (!log->prefault_on && s->end >= log->released + 2 * LOG_POPULATE_CHUNK)
        log_release_behind(log, s); /* else the helper does it */
    *dst = s->base + s->end;
    *seg = s;
    return LDB_OK;
}

void log_advance(ldb_log *log, size_t size)
{
    log->active->end += size;
    /* Single writer: a plain add published atomically, no locked RMW. */
    atomic_store_explicit(&log->file_bytes,
                          atomic_load_explicit(&log->file_bytes, memory_order_relaxed) + size,
                          memory_order_relaxed);
}

void log_fail(ldb_log *log)
{
    /* Release pairs with log_failed's acquire: whoever sees the latch sees
     * the error message and state the failing thread set before it. */
    atomic_store_explicit(&log->failed, 1, memory_order_release);
}

static int log_latched_error(void)
{
    util_set_error("an earlier sync failed, so the log's durability is unknown (reopen the "
                   "database)");
    return LDB_IO;
}

int log_sync_segment(ldb_log *log, log_segment *s, uint64_t end)
{
    if (log_failed(log)) return log_latched_error();
    /* Acquire pairs with the release below: a watermark seen is a sync
     * that returned. */
    if (atomic_load_explicit(&s->synced, memory_order_acquire) >= end) return LDB_OK;
    int rc = LDB_OK;
    pthread_mutex_lock(&s->sync_mu);
    if (log_failed(log)) {
        rc = log_latched_error();
    } else if (atomic_load_explicit(&s->synced, memory_order_relaxed) < end) {
        int r = io_fdatasync(s->fd, s->path, end);
        if (r < 0) {
            log_fail(log); /* before sync_mu is released: see the header */
            util_set_error("fdatasync of %s failed: %s", s->path, strerror(-r));
            rc = LDB_IO;
        } else if (log_failed(log)) {
            rc = log_latched_error(); /* this success may hide that failure */
        } else {
            atomic_store_explicit(&s->synced, end, memory_order_release);
        }
    }
    pthread_mutex_unlock(&s->sync_mu);
    return rc;
}

int log_sync_dir(ldb_log *log)
{
    /* A watermark, not a dirty flag: a flag cleared before the fsync let a
     * second caller return while the first one's fsync was still in flight
     * (test_durability test_concurrent_dir_syncs). */
    uint64_t want = atomic_load_explicit(&log->dir_gen, memory_order_acquire);
    if (log_failed(log)) return log_latched_error();
    if (atomic_load_explicit(&log->dir_synced, memory_order_acquire) >= want) return LDB_OK;
    int rc = LDB_OK;
    pthread_mutex_lock(&log->dir_mu);
    if (log_failed(log)) {
        rc = log_latched_error();
    } else if (atomic_load_explicit(&log->dir_synced, memory_order_relaxed) < want) {
        /* Everything created before this load is covered by the fsync. */
        uint64_t g = atomic_load_explicit(&log->dir_gen, memory_order_acquire);
        int r = io_fsync_dir(log->dir);
        if (r < 0) {
            log_fail(log);
            util_set_error("fsync of directory %s failed: %s", log->dir, strerror(-r));
            rc = LDB_IO;
        } else {
            /* Release pairs with the acquire fast path above. */
            atomic_store_explicit(&log->dir_synced, g, memory_order_release);
        }
    }
    pthread_mutex_unlock(&log->dir_mu);
    return rc;
}

log_segment *log_segment_by_id(ldb_log *log, uint64_t id)
{
    size_t lo = 0, hi = log->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->segs[mid]->id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < log->nsegs && log->segs[lo]->id == id ? log->segs[lo] : NULL;
}

int log_make_spare(ldb_log *log, pthread_mutex_t *commit_mu)
{
    pthread_mutex_lock(commit_mu);
    int have = log->spare_size != 0 || log->read_only;
    uint64_t size = log->seg_size;
    pthread_mutex_unlock(commit_mu);
    if (have) return LDB_OK;
    char tmp[4096], spare[4096];
    snprintf(tmp, sizeof tmp, "%s/SPARE.tmp", log->dir);
    snprintf(spare, sizeof spare, "%s/SPARE", log->dir);
    int fd = io_open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return util_errno_to_rc(-fd);
    int r = io_fallocate(fd, size);
    io_close(fd);
    if (r < 0) {
        io_unlink(tmp);
        return util_errno_to_rc(-r);
    }
    /* Installed under the mutex: seg_create reads spare_size there. The
     * file needs no sync: a spare lost in a power cut is simply made again. */
    pthread_mutex_lock(commit_mu);
    r = log->spare_size ? -EEXIST : io_rename(tmp, spare);
    if (r == 0) {
        log->spare_size = size;
        atomic_fetch_add_explicit(&log->disk_bytes, size, memory_order_relaxed);
    }
    pthread_mutex_unlock(commit_mu);
    if (r < 0) io_unlink(tmp);
    return r < 0 && r != -EEXIST ? util_errno_to_rc(-r) : LDB_OK;
}

void log_close(ldb_log *log)
{
    lpf_stop(&log->prefault); /* it may be inside a madvise of the active segment */
    for (size_t i = 0; i < log->nsegs; i++) seg_close(log->segs[i]);
    alloc_free(log->segs);
    alloc_free(log->dir);
    vmark_destroy(&log->vm);
    pthread_mutex_destroy(&log->dir_mu);
    memset(log, 0, sizeof *log);
}

void log_segment_free(void *ctx, void *p)
{
    (void)ctx;
    seg_close(p);
}

int log_detach_segment(ldb_log *log, log_segment *s)
{
    for (size_t i = 0; i < log->nsegs; i++)
        if (log->segs[i] == s) {
            if (s == log->active) return LDB_INVALID;
            memmove(&log->segs[i], &log->segs[i + 1], (log->nsegs - i - 1) * sizeof *log->segs);
            log->nsegs--;
            atomic_fetch_sub_explicit(&log->file_bytes, s->end, memory_order_relaxed);
            atomic_fetch_sub_explicit(&log->disk_bytes, s->size, memory_order_relaxed);
            return LDB_OK;
        }
    return LDB_NOTFOUND;
}
