/*
 * engine/log.h — the log: append-only, preallocated, memory-mapped segment
 * files holding every commit frame. The log is the database; the index only
 * points into it.
 *
 * What it owns: segment files (NNNNNNNNNN.log in the database directory),
 * their descriptors and mappings, the append position and the per-segment
 * live-byte counters.
 *
 * Writing: the single committer (commit mutex held) calls log_reserve() for
 * a frame's size, writes the frame into the returned mapped memory and calls
 * log_advance(). No syscall happens per append: segments are fallocate()d
 * when created (so a write into the mapping can never meet ENOSPC, which
 * would be a SIGBUS) and pre-faulted a few megabytes ahead by a helper
 * thread (log_prefault.h; inline a megabyte at a time if it cannot run);
 * what the writer
 * has left a megabyte behind is unmapped again (the pages stay in the page
 * cache; log_release_behind says why). A segment that
 * cannot hold the next frame is closed for writing (synced first unless the
 * sync mode is NONE) and a new one is created.
 *
 * Reading: any thread may read a record through its mapping for as long as
 * the segment lives; segments are unmapped only through epoch retirement
 * (or at close), so a pointer obtained inside a read section stays valid for
 * the section.
 *
 * Durability: each segment keeps a durable watermark, `synced`: bytes
 * [0, synced) are known on disk because an fdatasync that covered them
 * *returned* success (a flag cleared before the sync, as this file once had,
 * says nothing while the sync is in flight). Anything that names log bytes
 * in a file that must survive a power cut (a checkpoint) names only bytes
 * below the watermark. In NORMAL and FULL mode every older segment was
 * synced when it was closed for writing, so syncing the active segment
 * makes every frame appended before the call durable; in NONE mode sealed
 * segments and new directory entries wait for log_sync_all().
 *
 * The failure latch: the first failed sync of any log file sets
 * `failed`, and it never clears while the log is open. Linux reports a
 * writeback error once per open file, so a later fdatasync of the same file
 * can return 0 although the pages it was meant to write were dropped: a
 * success is therefore trusted only if no failure was latched before it, and
 * each segment's syncs are serialised (sync_mu) so a failing sync always
 * latches before a later one of the same file can look. Whoever deletes,
 * renames or installs anything on the strength of a sync checks the latch
 * first (log_failed).
 *
 * Recovery: log_replay() validates every frame in order and hands each good
 * one to a callback. Damage at the end of the newest segment (a torn write)
 * is cut off and zeroed; damage anywhere else is LDB_CORRUPTION with the
 * file and offset in the error message, unless salvage is on (then the log
 * is cut at the damage and later segments are set aside as *.damaged).
 */
#ifndef LDB_LOG_H
#define LDB_LOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/log_prefault.h"
#include "engine/record.h"
#include "engine/vmark.h"

typedef struct log_segment {
    uint64_t id;
    int fd;
    uint8_t *base;            /* mapping of the whole file */
    uint64_t size;            /* file and mapping size */
    uint64_t end;             /* bytes in use (frames end here) */
    int writable;             /* mapped for writing */
    _Atomic uint64_t live;    /* bytes of records the index points to */
    _Atomic uint64_t synced;  /* durable watermark: [0, synced) is on disk
                                 (0 after open: nothing is assumed) */
    pthread_mutex_t sync_mu;  /* one fdatasync of this file at a time */
    vmark_table *vm;          /* the log's verified marks (vmark.h): the
                                 mapping holds a slot there while mapped */
    char path[];
} log_segment;

typedef struct ldb_log {
    char *dir;
    int sync_mode;            /* LDB_SYNC_* */
    int read_only;
    int salvage;
    uint64_t seg_size;
    log_segment **segs;       /* ascending id; writer-owned */
    size_t nsegs, cap;
    log_segment *active;      /* newest segment, the one appended to */
    uint64_t populated;       /* active is pre-faulted up to here */
    uint64_t released;        /* active's pages below here were unmapped
                                 (MADV_DONTNEED) behind the writer */
    int populate_ok;          /* MADV_POPULATE_WRITE works here */
    int prefault_on;          /* the helper faults in ahead (else: inline) */
    uint64_t prefault_asked;  /* the helper was asked for active up to here */
    log_prefault prefault;
    _Atomic uint64_t file_bytes;   /* sum of segment `end`s */
    _Atomic uint64_t disk_bytes;   /* what the log occupies: the sizes of its
                                 segment files and of the spare */
    _Atomic uint64_t spare_size; /* bytes of the spare segment file, 0: none
                                 (changed under the commit mutex) */
    int use_spare;            /* the cleaner is appending: a rotation that
                                 meets a full disk may take the spare */
    _Atomic int failed;       /* the failure latch (see above) */
    /* The directory's durable watermark, as segments have theirs: dir_gen
     * counts segment files NONE mode created without a directory sync;
     * dir_synced is the count the last completed fsync of the directory
     * covered (raised only after it returned, under dir_mu, which also
     * serialises those fsyncs). */
    _Atomic uint64_t dir_gen, dir_synced;
    pthread_mutex_t dir_mu;
    uint64_t truncated_bytes; /* torn tail cut off at open */
    vmark_table vm;           /* which records were verified (vmark.h) */
} ldb_log;

typedef int (*log_frame_fn)(void *arg, const rec_frame *f, const uint8_t *frame,
                            log_segment *seg);

/* marks: keep verified marks (vmark.h) for LDB_VERIFY_FIRST. */
int log_open(ldb_log *log, const char *dir, int sync_mode, uint64_t seg_size,
             int read_only, int salvage, int marks);
/* 1 when `dir` holds at least one segment file (every database does from
 * its first open on), 0 when not, -errno when it cannot be listed. Reads
 * only; ldb_open and ldb_check_dir use it to refuse a directory that is not
 * a database before touching it. */
int log_dir_has_segments(const char *dir);
/* Validates and replays every frame in log order from (start_seg,
 * start_off) — (0, 0) for the whole log; segments before start_seg are
 * neither replayed nor re-verified (a checkpoint covers them). The
 * callback's non-zero return stops the replay and is returned. On success
 * the append position is just after the last good frame. */
int log_replay(ldb_log *log, uint64_t start_seg, uint64_t start_off, log_frame_fn fn, void *arg);
/* Returns a pointer where `size` bytes may be written at the end of the
 * log, rotating to a new segment if needed. Nothing is visible until
 * log_advance(). */
int log_reserve(ldb_log *log, size_t size, uint8_t **dst, log_segment **seg);
void log_advance(ldb_log *log, size_t size);
/* Makes [0, end) of segment s durable (end as captured under the commit
 * mutex): returns at once when the watermark already covers it, else
 * fdatasyncs and raises the watermark. LDB_IO, with the latch set, when
 * this or any earlier sync failed. Any thread; s must stay alive (the
 * caller holds the commit mutex, the gc mutex or an epoch section). */
int log_sync_segment(ldb_log *log, log_segment *s, uint64_t end);
/* Latches a durability failure (a failed sync of any file the log's
 * promises rest on, e.g. the directory after an unlink). */
void log_fail(ldb_log *log);
/* 1 once a sync failed: nothing may be deleted, renamed or installed on the
 * strength of a later sync, and no write is accepted. */
static inline int log_failed(ldb_log *log)
{
    return atomic_load_explicit(&log->failed, memory_order_acquire);
}
/* Returns once every segment file created before the call has a durable
 * directory entry: fsyncs the directory if NONE mode created one since the
 * last completed fsync, or waits for an fsync in flight (whose start may
 * have come after the creation). LDB_IO with the latch set on failure. */
int log_sync_dir(ldb_log *log);
log_segment *log_segment_by_id(ldb_log *log, uint64_t id);
/* The spare: one preallocated segment-sized file (SPARE) kept so that the
 * cleaner can always rotate, and so free space, on a full disk: a rotation
 * made while use_spare is set renames it into place when fallocate fails
 * with ENOSPC. log_make_spare creates it again (outside the commit mutex:
 * it takes the mutex only to install the file; callers serialise on the
 * gc mutex, or are alone at open); 0 on success or when one exists, else
 * the error (a full disk: try again later). */
int log_make_spare(ldb_log *log, pthread_mutex_t *commit_mu);
/* Unmaps and closes everything. */
void log_close(ldb_log *log);
/* Takes a cleaned segment out of the table (not the active one); the caller
 * unlinks its file and retires it with log_segment_free through the epoch,
 * so readers still holding pointers into its mapping stay safe. */
int log_detach_segment(ldb_log *log, log_segment *s);
void log_segment_free(void *ctx, void *seg);

#endif /* LDB_LOG_H */
