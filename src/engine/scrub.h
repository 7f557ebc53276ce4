/*
 * engine/scrub.h — the scrubber of LDB_VERIFY_FIRST: keeps the verified
 * marks (vmark.h) honest and ahead of the readers.
 *
 * One pass does two things, in each segment of the log in turn:
 *  1. asks the kernel which of the segment's pages are in memory (mincore)
 *     and clears the marks of every record lying in a page that is not, so
 *     the next read of a record whose bytes come back from disk checks them
 *     again;
 *  2. checks (CRC32C) up to `budget` bytes of records that are in memory
 *     and not yet marked, from where the last pass stopped, and marks the
 *     good ones; a bad one is counted and left unmarked, so a read of it
 *     checks it and answers LDB_CORRUPTION. Pages out of memory are skipped,
 *     never faulted in.
 * A pass never blocks a writer for longer than copying the segment list
 * under the commit mutex, and runs in an epoch section, so no segment it
 * looks at is unmapped under it.
 *
 * The thread (maint.c) runs a pass every scrub_interval_ms, stretched so
 * that passes take at most SCRUB_CPU_SHARE of one core.
 *
 * Thread-safety: scrub_pass may be called from any thread (the scrubber,
 * tests); passes are serialised by db->scrub_mu.
 */
#ifndef LDB_SCRUB_H
#define LDB_SCRUB_H

#include <stdint.h>

#include "engine/db.h"

/* Bytes of records one pass checks at most (~40 MB/s at the default
 * interval: well under 1% of a core at CRC32C's speed). */
#define SCRUB_BYTES_PER_PASS (4u << 20)
/* The share of one core passes may take; the interval grows past this. */
#define SCRUB_CPU_SHARE 0.02

typedef struct scrub_result {
    uint64_t absent_pages;    /* pages found out of memory (marks cleared) */
    uint64_t checked;         /* records checked and marked */
    uint64_t corrupt;         /* records that failed their check */
    uint64_t checked_bytes;
} scrub_result;

int scrub_pass(ldb *db, uint64_t budget, scrub_result *out)
    LDB_EXCLUDES(db->scrub_mu, db->commit_mu);

#endif /* LDB_SCRUB_H */
