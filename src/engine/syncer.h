/*
 * engine/syncer.h — waiting for durability: group commit and the NORMAL-mode
 * background syncer.
 *
 * What it owns: the protocol on db->sync_mu / sync_cv and the fields it
 * guards (durable, syncing, sync_waiters, stop, syncer_running): at most one
 * leader at a time syncs the active segment up to everything appended when
 * it started, on behalf of every waiter; the others sleep on sync_cv.
 *
 * Invariants it provides:
 * - db->durable only grows, and every sequence <= durable is on disk (its
 *   frame is below the active segment's durable watermark, and every older
 *   segment was synced at rotation or, for segments found at open, once by
 *   the first leader).
 * - In FULL mode `committed` is raised only here, after the sync returned:
 *   readers never see a commit a power cut could take back.
 * - A failed sync latches the log (log_fail); every waiter then returns
 *   LDB_IO and no later success can clear it.
 *
 * Who may call: any thread not holding the commit mutex (a leader takes it
 * briefly to read the log's end). ldb_close waits for sync_waiters to drain.
 */
#ifndef LDB_SYNCER_H
#define LDB_SYNCER_H

#include <stdint.h>

#include "engine/db.h"

/* Waits until every sequence <= seq is durable (leading an fdatasync if no
 * one else is). */
int syncer_wait_durable(ldb *db, uint64_t seq) LDB_EXCLUDES(db->commit_mu, db->sync_mu);
/* Starts the NORMAL-mode thread that syncs every sync_interval_ms (no-op in
 * other modes and read-only). */
int syncer_start(ldb *db);
void syncer_stop(ldb *db) LDB_EXCLUDES(db->sync_mu);

#endif /* LDB_SYNCER_H */
