/*
 * engine/space.h — disk space: what a database occupies, the limit writers
 * are held to, and the signals between writers and the cleaner.
 *
 * Accounting: `used` = the log's bytes (the ends of its segments) + a
 * segment for the spare (made or not) + the checkpoint files. With S the segment size and live
 * the bytes the index points to:
 *   hard = max(space_amp_target x live, live + checkpoints + 4 S)
 *          a writer above it waits for the cleaner;
 *   soft = hard - max(S, hard / 32)
 *          above it, each commit owes a delay proportional to how far past
 *          soft it is (up to SPACE_MAX_DELAY_US at hard).
 * Checkpoints count as the two kept plus room for the next one.
 * The cleaner works flat out, taking segments up to 95% live, from a
 * segment below soft. What the file system holds is `used` plus the
 * unwritten rest of the active segment (< S) and the copies the cleaner
 * writes before it deletes a victim (< S), so writers held at `hard` keep a
 * database within space_amp_target x live + 2 S on disk (the must of issue
 * 13); the floor (four segments: the newest two the cleaner never takes,
 * one victim and the spare; and the checkpoints, which for small values
 * alone can exceed the target) keeps a database with no garbage from ever
 * being throttled.
 *
 * No stall is longer than the cleaner needs for one segment: a waiting
 * writer returns at the cleaner's next step, whatever it achieved, and
 * never waits while the cleaner is off or found nothing it could clean
 * (space pinned by old snapshots is not the writer's to wait for); one
 * wait is capped at SPACE_MAX_WAIT_MS besides.
 *
 * Who calls: commit_apply (space_throttle, outside the commit mutex), the
 * cleaner thread (space_cleaner_mode, space_progress, space_cleaner_sleep).
 * Thread-safety: the counters are atomics; the wait uses bp_mu/bp_cv.
 */
#ifndef LDB_SPACE_H
#define LDB_SPACE_H

#include <stdint.h>

#include "engine/db.h"

static inline int space_over_watch(struct ldb *db)
{
    return atomic_load_explicit(&db->log.file_bytes, memory_order_relaxed) >
           atomic_load_explicit(&db->space_watch, memory_order_relaxed);
}

#define SPACE_FLOOR_SEGMENTS 4u
#define SPACE_MAX_DELAY_US 100u
#define SPACE_DELAY_QUANTUM_US 200u
#define SPACE_MAX_WAIT_MS 1000u

typedef struct space_limits {
    uint64_t used, soft, hard;
} space_limits;

void space_limits_get(struct ldb *db, space_limits *l);
/* Recomputes db->space_watch: the log size past which a commit must look
 * at the limits (soft minus the spare and checkpoints; UINT64_MAX with the
 * cleaner off). Called at open, by the cleaner after each step, after each
 * checkpoint and by space_throttle; between calls it can only be stale
 * low (live bytes grew), which costs a recomputation, never a missed one
 * beyond the cleaner's 20 ms tick. */
void space_refresh(struct ldb *db);
/* The writer's side: delays or waits as the limits say. The hot-path test
 * is space_over_watch (two loads): measured, computing the limits on every
 * commit cost +1.5% instructions per put. */
void space_throttle(struct ldb *db);
/* The cleaner's side: 0 nothing to do, 1 clean in the background (its CPU
 * share, segments at most 75% live for the default target), 2 clean flat
 * out, segments up to 95% live (writers are held back, or soon will be). */
int space_cleaner_mode(struct ldb *db);
/* After each cleaner step: `cleaned` says whether a segment was freed;
 * wakes the writers waiting at the hard limit. */
void space_progress(struct ldb *db, int cleaned);
/* Sleeps the cleaner until ms pass or a writer past soft wakes it. */
void space_cleaner_sleep(struct ldb *db, unsigned ms);
/* Wakes everything waiting (close). */
void space_wake_all(struct ldb *db);

#endif /* LDB_SPACE_H */
