/*
 * engine/log_prefault.h — a helper thread that faults in the active log
 * segment ahead of the writer and unmaps it behind the writer.
 *
 * Why: the first write to each 4 KiB of a new segment makes the kernel find
 * a page-cache page and zero it (the file is fallocate()d, so its extents
 * read as zeros). log.c used to do that inline, a megabyte at a time with
 * MADV_POPULATE_WRITE; on the 2-core VM it took 0.25-1 ms per megabyte
 * (zeroing fresh guest memory runs at 0.6-4 GB/s), i.e. 0.25-1 us of every
 * 1 KiB put, on the committer's critical path. Here a thread of its own does
 * it a few megabytes ahead, on another core when one is free. The same
 * thread unmaps what the writer has left behind (log_release_behind in
 * log.c says why): one thread doing both means a range it released is
 * never faulted in again by a late step ahead.
 *
 * What it owns: its thread and the range of one segment it was asked to
 * fault in. It never changes data: pre-faulting a page of a shared file
 * mapping only makes it present, so the writer writing into the same range
 * at the same time is correct whatever the interleaving (it takes an
 * ordinary page fault where the helper has not been yet).
 *
 * Who may call: the log's single writer (commit mutex held) calls
 * lpf_request and lpf_forget; log_close calls lpf_stop. All state
 * is under the helper's own mutex, held only for bookkeeping, never across
 * the madvise.
 *
 * Lifetime invariant: after lpf_forget(pf, s) returns, the helper does not
 * touch s again; the writer calls it before sealing s, so a sealed segment
 * (which the cleaner may later unmap) is never faulted in by the helper.
 */
#ifndef LDB_LOG_PREFAULT_H
#define LDB_LOG_PREFAULT_H

#include <pthread.h>
#include <stdint.h>

struct log_segment;

typedef struct log_prefault {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;       /* writer -> helper: more to do, or stop */
    pthread_cond_t idle_cv;       /* helper -> writer: `busy` cleared      */
    pthread_t thread;
    int state;                    /* LPF_OFF, LPF_RUNNING, LPF_FAILED      */
    int started;                  /* `thread` exists and must be joined    */
    int stop;
    struct log_segment *seg;      /* the segment asked for (NULL: none)    */
    struct log_segment *busy;     /* the segment inside madvise now        */
    uint64_t done;                /* seg is faulted in up to here          */
    uint64_t want;                /* ... and should be up to here          */
    uint64_t released;            /* seg is unmapped below here            */
    uint64_t release_to;          /* ... and should be below here          */
} log_prefault;

/* Initialises pf (no thread yet: lpf_request starts it on first use). */
void lpf_init(log_prefault *pf);
/* Asks for s to be faulted in up to `upto` (clamped to its size) and
 * unmapped below `release_to` (which the writer has passed); returns
 * at once. -1, doing nothing, when the helper cannot run (thread creation
 * failed, or MADV_POPULATE_WRITE is unsupported): the caller faults in
 * itself from then on. Where the helper has not been yet when the writer
 * gets there, the writer simply takes ordinary page faults. */
int lpf_request(log_prefault *pf, struct log_segment *s, uint64_t upto, uint64_t release_to);
/* Stops work on s; returns once the helper is not inside a madvise of s. */
void lpf_forget(log_prefault *pf, struct log_segment *s);
/* Stops and joins the helper (if it ever started). pf may be re-inited. */
void lpf_stop(log_prefault *pf);

#endif /* LDB_LOG_PREFAULT_H */
