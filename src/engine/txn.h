/*
 * engine/txn.h — transactions: a snapshot, a private write set and (for
 * serializable ones) a read set, committed atomically through
 * commit_apply().
 *
 * Isolation: a transaction reads the database as of its begin (its epoch
 * slot pins the snapshot and every object it can reach until it ends).
 * Commit validates under the commit mutex: any key it writes that got a
 * newer version after the snapshot is a write-write conflict (first
 * committer wins: LDB_CONFLICT, nothing applied); a serializable
 * transaction also fails when any key it read, or any key inside a range
 * its iterators covered, changed after the snapshot (backward validation,
 * which rules out write skew and phantoms).
 *
 * Deadlock freedom: the only lock is the commit mutex, held for validation
 * and installation, never across user code or a wait on another
 * transaction. Thread-safety: one thread at a time per transaction.
 */
#ifndef LDB_TXN_H
#define LDB_TXN_H

#include "engine/db.h"
#include "engine/wset.h"

typedef struct txn_range {
    const uint8_t *lo, *hi;   /* in the write set's arena */
    uint16_t lolen, hilen;
    uint8_t lo_inf, hi_inf;   /* unbounded below / above */
} txn_range;

struct ldb_txn {
    uint32_t magic;
    ldb *db;
    unsigned flags;
    uint64_t snap;
    epoch_slot *slot;
    wset ws;
    txn_range *reads;         /* serializable read set (points are lo == hi) */
    size_t nreads, cap_reads;
    int reads_lost;           /* a range could not be recorded (no memory):
                                 the commit cannot be validated, so it fails */
    void **scratch;           /* decompressed values handed out by get */
    size_t nscratch, cap_scratch;
    ldb_iter **iters;         /* open iterators over this transaction */
    size_t niters, cap_iters;
};

/* Records a read range for serializable validation (copies the keys). */
int txn_note_range(ldb_txn *t, const uint8_t *lo, size_t lolen, int lo_inf,
                   const uint8_t *hi, size_t hilen, int hi_inf);
int txn_attach_iter(ldb_txn *t, ldb_iter *it);
void txn_detach_iter(ldb_txn *t, ldb_iter *it);
/* Called by the transaction when it ends: the iterator stops working. */
void iter_orphan(ldb_iter *it);

#endif /* LDB_TXN_H */
