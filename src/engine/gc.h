/*
 * engine/gc.h — the segment cleaner: bounds disk use by relocating the live
 * records of mostly-dead segments to the head of the log and deleting the
 * old files.
 *
 * Liveness: a record is live when a version some snapshot may still read
 * points at it (the chain of its key down to the version visible at the
 * oldest live snapshot), or when it is a tombstone that older segments may
 * still contradict (a delete whose key left the index stays until every
 * older segment is gone, so a full log replay can never resurrect the key).
 *
 * Relocation keeps each record's bytes and sequence number (a frame flagged
 * REC_F_RELOCATED with a sequence table), swaps the version in the chain for
 * one pointing at the copy under the commit mutex, in batches of ~256 KiB so
 * writers wait at most a batch. The old file is unlinked only after the
 * copies are durable, and unmapped only after every reader that might hold
 * a pointer into it has left (epoch retirement); readers never block.
 *
 * Who calls: the cleaner thread (gc_step, maint.c) and ldb_compact (gc_compact),
 * serialised by the database's gc mutex.
 */
#ifndef LDB_GC_H
#define LDB_GC_H

#include "engine/db.h"

/* Anything more than 5% dead: frame headers are not counted as live, so a
 * fully live segment reads as ~97% live. */
#define GC_URGENT_LIVE_SHARE 0.95
/* Cleans the emptiest segment less than max_live_share live (the caller,
 * space_cleaner_mode, decided that space calls for it), spending at most
 * `cpu_share` of a core (1.0 = flat out). Returns 1 when it cleaned a
 * segment, 0 when no segment was eligible, or an error. */
int gc_step(ldb *db, double cpu_share, double max_live_share)
    LDB_EXCLUDES(db->gc_mu, db->commit_mu);
/* Cleans every segment (except the newest two) that holds dead bytes. */
int gc_compact(ldb *db) LDB_EXCLUDES(db->gc_mu, db->commit_mu);

#endif /* LDB_GC_H */
