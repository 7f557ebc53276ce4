/*
 * engine/scrub.h — the scrubber of LDB_VERIFY_FIRST: keeps the verified
 * marks (vmark.h) honest and ahead of the readers.
 *
 * One pass does two things, in each segment of the log in turn:
 *  1. asks the kernel which of the segment's pages are in memory (mincore)
 *     and clears the marks of every record lying in a page that is not, so
 *     the next read of a record whose bytes come back from disk checks them
 *     again;
 *  2. walks up to `budget` bytes of the log as it was at open (what this
 *     handle did not write itself), from where the last pass stopped,
 *     checking (CRC32C) the records that are in memory and not yet marked,
 *     and marks the good ones; once through, it stops walking; a bad one is counted and left unmarked, so a read of it
 *     checks it and answers LDB_CORRUPTION. Pages out of memory are skipped,
 *     never faulted in.
 * A pass never blocks a writer for longer than copying the segment list
 * under the commit mutex, and holds the cleaner's mutex, so no segment it
 * looks at is unmapped under it (the cleaner waits at most one pass).
 *
 * Step 1 runs only once some mark exists (vmark_table.any), so a database
 * that is only written to pays one wake-up per interval. The thread
 * (maint.c) runs a pass every scrub_interval_ms, stretched so that passes
 * take at most SCRUB_CPU_SHARE of one core.
 *
 * Thread-safety: scrub_pass may be called from any thread (the scrubber,
 * tests); passes are serialised by db->scrub_mu.
 */
#ifndef LDB_SCRUB_H
#define LDB_SCRUB_H

#include <stdint.h>

#include "engine/db.h"

/* Bytes of log one pass walks at most (~10 MB/s at the default interval).
 * Measured with 4 MiB, a 2% share and a walk over everything: `ab --quick`
 * against the build before the scrubber said txn -3.9% and write-random
 * -1.5% (in a duet the scrubber shares its side's core, and it was
 * checking what the writer had just written). */
#define SCRUB_BYTES_PER_PASS (1u << 20)
/* The share of one core passes may take; the interval grows past this. */
#define SCRUB_CPU_SHARE 0.005

typedef struct scrub_result {
    uint64_t absent_pages;    /* pages found out of memory (marks cleared) */
    uint64_t checked;         /* records checked and marked */
    uint64_t corrupt;         /* records that failed their check */
    uint64_t checked_bytes;
} scrub_result;

/* 1 when a pass has nothing to do: no record was ever marked and the walk
 * over the log as it was at open is over. The thread then waits
 * SCRUB_IDLE_MS between looks instead of scrub_interval_ms. */
int scrub_idle(ldb *db);
#define SCRUB_IDLE_MS 1000u

int scrub_pass(ldb *db, uint64_t budget, scrub_result *out)
    LDB_EXCLUDES(db->scrub_mu, db->gc_mu, db->commit_mu);

#endif /* LDB_SCRUB_H */
