/*
 * engine/checkpoint.h — checkpoints: a sorted snapshot of the index written
 * to a file, so an open loads it and replays only the log written after it.
 *
 * What it owns: ckpt-<seq>.ldbc files and the MANIFEST naming the newest
 * two. Installing is atomic: write a temporary file, fsync, rename, then
 * the same for the MANIFEST, then fsync the directory. A checkpoint holds,
 * for the snapshot at sequence S: every live key with its version's
 * sequence and log location, the end offset of every segment before the
 * replay start, and the log position P where replay must begin (every frame
 * before P has a sequence <= S).
 *
 * Safety rules it relies on and keeps:
 * - The log is synced up to S before the MANIFEST names the checkpoint, so
 *   a checkpoint never points at data a power loss could take back.
 * - A checkpoint may name a segment the cleaner has since deleted; the
 *   cleaner's relocated copies lie after P, so replay moves those keys;
 *   a location still missing after replay invalidates the checkpoint.
 * - A damaged checkpoint (any checksum) is skipped for the previous one,
 *   then for a full log replay; stats and ldb_last_error() say so.
 *
 * Who calls: ckpt_write from the checkpoint thread (maint.c),
 * ldb_checkpoint and ldb_close (serialised by the database's checkpoint mutex; it runs beside
 * commits, holding the commit mutex only for an instant); ckpt_load at open,
 * single-threaded.
 */
#ifndef LDB_CHECKPOINT_H
#define LDB_CHECKPOINT_H

#include <stdint.h>

#include "engine/db.h"

int ckpt_write(ldb *db) LDB_EXCLUDES(db->commit_mu, db->ckpt_mu);

typedef struct ckpt_start {
    uint64_t seq;       /* checkpoint sequence, 0 when none was loaded */
    uint64_t seg, off;  /* replay from here */
    uint64_t unresolved;/* entries whose segment is gone (replay must move them) */
} ckpt_start;

/* Loads the newest valid checkpoint into the (empty) index. LDB_OK with
 * start->seq == 0 when there is none or none is valid (fallbacks counted). */
int ckpt_load(ldb *db, ckpt_start *start) LDB_REQUIRES(db->commit_mu);

/* Records what the named checkpoint files occupy (db->ckpt_disk_bytes). */
void ckpt_note_disk_bytes(struct ldb *db);

/* Removes checkpoint files the MANIFEST no longer names (after install). */
void ckpt_remove_stale(struct ldb *db);

#endif /* LDB_CHECKPOINT_H */
