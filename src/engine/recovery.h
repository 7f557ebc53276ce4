/*
 * engine/recovery.h — building the index at open: load the newest valid
 * checkpoint, replay the log written after it, settle what the cleaner
 * moved, drop tombstoned keys, build the lookup accelerator.
 *
 * What it owns: a replay context that lives only during recovery_run (the
 * count of checkpoint entries still awaiting a location, and the older
 * versions the cleaner moved for snapshots, decided once replay ends).
 *
 * Rules it keeps:
 * - Replay is not in sequence order (the cleaner moves records forward):
 *   a record applies only if it is newer than what the key has; the same
 *   sequence again is a relocated copy, whose later location wins; a delete
 *   of an unknown key still creates a tombstone, so an older put found
 *   later loses to it.
 * - An older version moved for a snapshot (a relocation frame's sequence
 *   table says its key's head was newer) applies only if that newer version
 *   never became durable (no replayed sequence reached it).
 * - A checkpoint entry whose location replay cannot re-establish makes the
 *   checkpoint untrusted: the index is emptied and the whole log replayed.
 *
 * Who may call: ldb_open, single-threaded, before any reader or background
 * thread exists (versions are rewritten in place; no chain is kept). It
 * holds the commit mutex throughout all the same: the index and counters
 * it builds are the mutex's (mvcc.h), and the lock analysis then needs no
 * exception for open.
 */
#ifndef LDB_RECOVERY_H
#define LDB_RECOVERY_H

#include "engine/db.h"

/* Recovers the index and the sequence counters of an opened log. */
int recovery_run(ldb *db) LDB_EXCLUDES(db->commit_mu);
/* Empties the index and the counters derived from it (a checkpoint that
 * failed to load half-way is discarded this way). Open only. */
int recovery_reset_index(ldb *db) LDB_REQUIRES(db->commit_mu);
/* Test support: LDB_OK when the ordered index is sound and the lookup
 * accelerator holds exactly its entries; LDB_CORRUPTION otherwise. Takes
 * the commit mutex: callable on an open database. */
int recovery_check_indexes(ldb *db) LDB_EXCLUDES(db->commit_mu);

#endif /* LDB_RECOVERY_H */
