/*
 * engine/durable.h — making what the log holds durable beyond the active
 * segment: the sealed segments and directory entries that NONE mode leaves
 * to the OS, and the relocated copies a checkpoint is about to name.
 *
 * What it owns: nothing; it drives log_sync_segment (log.h), whose durable
 * watermark and failure latch are the state. Group commit and the NORMAL
 * syncer (syncer_wait_durable, syncer.h) sync only the active segment,
 * which is enough while every sealed segment was synced at rotation.
 *
 * Invariant it provides: after dur_sync_log(db, id) returns LDB_OK, every
 * byte appended before the call to a segment numbered <= id is on disk,
 * and so is every segment file's directory entry. Every durable prefix it
 * makes ends at a frame boundary: frames are appended whole under the
 * commit mutex, and it syncs up to a segment's end read under that mutex.
 * That matters because recovery keeps or cuts a frame as a unit: a record
 * whose own bytes are durable but whose frame's tail is not is cut off with
 * the frame (a checkpoint naming it would then name nothing).
 *
 * Who may call: any thread outside the commit mutex (it takes it briefly);
 * segments are pinned with an epoch section of its own, so the cleaner may
 * run meanwhile.
 */
#ifndef LDB_DURABLE_H
#define LDB_DURABLE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/db.h"

int dur_sync_log(ldb *db, uint64_t upto_id) LDB_EXCLUDES(db->commit_mu);

/* Makes each listed segment durable up to its end now (whole frames: every
 * record appended before the call, with the rest of its frame). A segment
 * the cleaner has removed since is skipped: nothing can name it after a
 * reopen. For a checkpoint about to name records in these segments. */
int dur_sync_segments(ldb *db, const uint64_t *ids, size_t n) LDB_EXCLUDES(db->commit_mu);

#endif /* LDB_DURABLE_H */
