/*
 * engine/mvcc.h — version chains: the multi-version state of each key in the
 * index, and the accounting derived from it.
 *
 * What it owns: how an idx_entry's chain of idx_versions is created,
 * extended (install), rewritten by the cleaner (swap), cut (prune) and
 * dropped (tombstoned keys no snapshot can see past); the live-byte
 * counters per segment and for the database; the list of tombstoned keys
 * awaiting removal; the cached lower bound on live snapshots.
 *
 * Invariants it keeps:
 * - A chain is ordered newest first by sequence; readers follow `head` and
 *   `older` with acquire loads and take the first version <= their snapshot
 *   (db_visible). A new or moved version is fully written before the
 *   release store that links it.
 * - Only the key's newest version counts in the live bytes (its segment's
 *   `live` and st_live_bytes); older versions count in st_old_versions.
 * - A version or entry unlinked while readers may hold it is freed only
 *   through the epoch (retired), never directly; the retire list has room
 *   reserved (epoch_reserve) before anything is unlinked.
 * - The cleaner swaps a version for one with the same sequence and length
 *   pointing at the copy: what any snapshot reads does not change.
 *
 * Who may call: the commit-mutex holder only (writers, the cleaner's flush,
 * recovery, which holds it through the open): LDB_REQUIRES, checked by
 * make check-locks. mvcc_version_free and mvcc_free_entry are callbacks
 * (the epoch's, idx_destroy's) and run wherever those run.
 */
#ifndef LDB_MVCC_H
#define LDB_MVCC_H

#include <stdint.h>

#include "engine/db.h"
#include "engine/index.h"
#include "engine/log.h"

/* Live-byte accounting of a version's record. */
void mvcc_live_add(ldb *db, log_segment *s, const idx_version *v, uint16_t klen) LDB_REQUIRES(db->commit_mu);
void mvcc_live_sub(ldb *db, const idx_version *v, uint16_t klen) LDB_REQUIRES(db->commit_mu);

/* A new entry for key k with no versions yet, counted in st_entry_bytes
 * (NULL when out of memory). Not yet in any index. */
idx_entry *mvcc_entry_new(ldb *db, const uint8_t *k, uint16_t kl) LDB_REQUIRES(db->commit_mu);
/* An entry that never became visible (no reader can hold it): uncounted and
 * freed at once. */
void mvcc_entry_discard(ldb *db, idx_entry *e) LDB_REQUIRES(db->commit_mu);
/* An entry already unlinked from the indexes: uncounted and retired (room
 * in the retire list reserved by the caller). */
void mvcc_entry_retire(ldb *db, idx_entry *e) LDB_REQUIRES(db->commit_mu);
/* Epoch free function for versions (ctx: the database). */
void mvcc_version_free(void *db, void *v);
/* Frees e and its whole chain at once (idx_destroy's callback; no reader). */
void mvcc_free_entry(idx_entry *e, void *db);

/* A lower bound of every live snapshot, recomputed every few commits
 * (pruning with a stale, lower bound is safe: it keeps a version longer). */
uint64_t mvcc_oldest(ldb *db) LDB_REQUIRES(db->commit_mu);
/* Makes v (allocated by the caller, or &e->first for a fresh entry) e's
 * newest version at seq, for the record at rec in seg: vlen is the stored
 * length or IDX_TOMBSTONE for a delete. hv is e's key hash when the lookup
 * accelerator is on. Counts puts, deletes and keys; prunes against oldest;
 * queues a tombstoned key for removal. */
void mvcc_install(ldb *db, idx_entry *e, idx_version *v, uint64_t seq, const uint8_t *rec,
                  log_segment *seg, uint32_t vlen, uint64_t hv, uint64_t oldest) LDB_REQUIRES(db->commit_mu);
/* The cleaner moved v's record to rec in seg: links a copy of v pointing
 * there in v's place and retires v. LDB_NOMEM when no copy could be made
 * (v stays, the moved bytes are unused); LDB_BUSY when v could not be
 * retired (it leaks rather than being freed under a reader). Either way the
 * caller must not delete v's segment. */
int mvcc_swap(ldb *db, idx_entry *e, idx_version *v, const uint8_t *rec, log_segment *seg) LDB_REQUIRES(db->commit_mu);
/* Cuts every version of e older than the one visible at `oldest`. */
void mvcc_prune(ldb *db, idx_entry *e, uint64_t oldest) LDB_REQUIRES(db->commit_mu);

/* Queues e (whose head is a tombstone) for removal once no snapshot can see
 * past the delete; LDB_NOMEM leaves it a harmless tombstone. */
int mvcc_tomb_push(ldb *db, idx_entry *e) LDB_REQUIRES(db->commit_mu);
/* Removes the queued keys whose delete is at or below `oldest`. */
void mvcc_tombs_collect(ldb *db, uint64_t oldest) LDB_REQUIRES(db->commit_mu);
/* Forgets the queue (the index is being emptied). */
void mvcc_tombs_clear(ldb *db) LDB_REQUIRES(db->commit_mu);

#endif /* LDB_MVCC_H */
