/*
 * engine/db.h — the database handle and the internal interfaces between the
 * engine's modules (open/close, commit, reads, transactions, iterators).
 * Version chains are mvcc.h's, waiting for durability syncer.h's, building
 * the index at open recovery.h's.
 *
 * The life of a write: API → commit ops → commit_apply(): under the commit
 * mutex, validate (transactions), prepare index entries and versions (all
 * allocation happens here, before anything is visible), append one frame to
 * the log, install the versions, publish the sequence number (NONE/NORMAL)
 * → unlock → in FULL mode wait for the shared fdatasync, whose leader
 * publishes the sequence.
 *
 * The life of a read: a thread's cached epoch slot → epoch_enter (snapshot
 * = committed sequence) → index lookup → newest version <= snapshot → the
 * value in the mapped log → epoch_exit. No lock, no shared write.
 *
 * Invariants
 * - `committed` only grows; every version with seq <= committed is fully
 *   installed, and in FULL mode also durable.
 * - Versions with seq > committed may exist (FULL mode, awaiting the sync):
 *   readers skip them by snapshot; writers see them for conflict checks.
 * - Only the commit-mutex holder changes the index, the log's append state,
 *   the retire list and the writer-side counters.
 */
#ifndef LDB_DB_H
#define LDB_DB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "engine/contract.h"
#include "engine/epoch.h"
#include "engine/hash.h"
#include "engine/index.h"
#include "engine/log.h"
#include "engine/record.h"
#include "engine/slab.h"
#include "lightningdb.h"

#define LDB_MAGIC_DB 0x4c444230u
#define LDB_MAGIC_TXN 0x4c445458u
#define LDB_MAGIC_ITER 0x4c444954u
#define LDB_MAGIC_BATCH 0x4c444241u
#define LDB_MAGIC_DEAD 0xdeadbeefu
#define LDB_MAGIC_CLOSING 0x4c44435au

struct ldb {
    _Atomic uint32_t magic;        /* LDB_MAGIC_DB while usable; CLOSING
                                      from the start of ldb_close */
    uint64_t uid;                  /* unique per open, for thread caches */
    ldb_options opt;
    char *dir;
    int lock_fd;

    ldb_log log;
    idx_tree tree;
    hash_index hash;
    int use_hash;                  /* accelerator built and maintained */
    slab slab;                     /* entries and versions (writer only) */
    epoch_mgr ep;

    ldb_mutex_t commit_mu;
    _Atomic uint64_t committed;    /* newest sequence readers may see */
    _Atomic uint64_t appended;     /* newest sequence written to the log */
    uint64_t last_seq;             /* newest sequence assigned (writer) */
    /* A failed sync latches in the log (log_fail/log_failed): writes are
     * refused, and nothing is deleted or installed, until a reopen. */

    /* group commit and the NORMAL-mode syncer (syncer.h) */
    ldb_mutex_t sync_mu;
    pthread_cond_t sync_cv;
    uint64_t durable;              /* newest sequence known on disk */
    _Atomic int sealed_unsynced;   /* segments found at open: not yet synced
                                      by this process (syncer.h) */
    int syncing;                   /* a leader is inside fdatasync */
    int sync_waiters;              /* threads inside syncer_wait_durable */
    int stop;
    int syncer_running;
    pthread_t syncer;

    /* writer-side bookkeeping (commit mutex; mvcc.h) */
    uint64_t oldest_cache;         /* a lower bound of every live snapshot */
    uint32_t commits_since_oldest;
    idx_entry **tombs;             /* entries whose head is a tombstone */
    size_t ntombs, cap_tombs;

    /* checkpoints (checkpoint.c) */
    ldb_mutex_t ckpt_mu;       /* one checkpoint at a time */
    char ckpt_names[2][64];        /* newest and previous, as in MANIFEST */
    _Atomic uint64_t ckpt_seq;     /* newest checkpoint's sequence */
    _Atomic uint64_t ckpt_wall_ns; /* when it was written (CLOCK_REALTIME) */
    _Atomic uint64_t ckpt_log_bytes; /* log bytes appended when it was taken */
    uint64_t recovery_ckpt_seq, ckpt_fallbacks;

    _Atomic uint64_t ckpt_disk_bytes; /* size of the checkpoint files kept */
    _Atomic uint64_t space_watch;  /* log bytes past which commits look at
                                      the space limits (space.h) */

    /* segment cleaning (gc.c), the checkpoint and cleaner threads (maint.c)
     * and write backpressure (space.c) */
    ldb_mutex_t gc_mu;         /* one cleaner at a time */
    pthread_mutex_t maint_mu;
    pthread_cond_t maint_cv;
    _Atomic int maint_stop;        /* both threads: stop */
    int maint_running, gc_running;
    pthread_t maint, gc_thread;
    pthread_mutex_t gc_wait_mu;    /* the cleaner's sleep */
    pthread_cond_t gc_cv;
    _Atomic int gc_sleeping;       /* it is asleep: a writer past soft wakes it */
    pthread_mutex_t bp_mu;         /* writers waiting at the hard limit */
    pthread_cond_t bp_cv;
    uint64_t gc_gen;               /* cleaner steps so far (bp_mu) */
    int gc_idle;                   /* its last step cleaned nothing (bp_mu) */
    int bp_stop;                   /* closing: nobody waits (bp_mu) */

    /* the scrubber of LDB_VERIFY_FIRST (scrub.h; its thread in maint.c) */
    ldb_mutex_t scrub_mu;      /* one pass at a time; guards the cursor */
    uint64_t scrub_seg, scrub_off; /* where the checking walk resumes */
    uint64_t scrub_cold_seg, scrub_cold_end; /* the log as it was at open
                                   (newest segment, its end): what the walk
                                   checks; later records are this handle's
                                   own or the cleaner's copies, checked on
                                   their first read */
    _Atomic int scrub_walking;     /* the walk over the log at open is not over */
    int scrub_running;
    pthread_t scrub_thread;
    _Atomic uint64_t st_scrub_passes, st_scrub_absent, st_scrub_checked, st_scrub_corrupt;
    _Atomic uint64_t st_scrub_ns;

    /* counters: written by their owner, read atomically by stats */
    _Atomic uint64_t st_cleaner_bytes, st_cleaned_segments, st_compressed, st_checkpoints;
    _Atomic uint64_t st_puts, st_deletes, st_commits, st_conflicts;
    _Atomic uint64_t st_syncs, st_synced_commits;
    _Atomic uint64_t st_keys, st_live_bytes, st_user_bytes, st_old_versions;
    _Atomic uint64_t st_entry_bytes;
    _Atomic uint64_t st_write_delays, st_write_waits, st_write_delay_ns;
    uint64_t recovery_records;
    uint64_t replayed_bytes;       /* log bytes the last open replayed: not
                                      covered by any checkpoint */
    double recovery_seconds;
};

/* Log bytes written that a checkpoint could cover: the tail the last open
 * replayed plus everything appended since. Checkpoint triggers compare it
 * with its value at the last checkpoint, so short-lived processes also
 * reach the next checkpoint. */
static inline uint64_t db_log_bytes(ldb *db)
{
    return db->replayed_bytes + atomic_load_explicit(&db->st_user_bytes, memory_order_relaxed) +
           atomic_load_explicit(&db->st_cleaner_bytes, memory_order_relaxed);
}

/* One operation of a commit. The caller fills type/key/val (keys within
 * one commit are distinct: write sets and batches deduplicate); commit_apply
 * fills the rest. */
typedef struct commit_op {
    uint8_t type;                  /* REC_PUT or REC_DEL */
    uint8_t skip;                  /* delete of an absent key: no record */
    uint8_t created;               /* entry created by this commit */
    uint16_t klen;
    uint32_t vlen;                 /* raw value length */
    const uint8_t *key;
    const uint8_t *val;
    uint8_t comp;                  /* REC_COMP_* chosen for the stored bytes */
    uint32_t slen;                 /* stored length (== vlen when raw) */
    const uint8_t *sval;           /* stored bytes */
    uint32_t crc;
    uint64_t hv;                   /* hash_key of key (set by commit_apply
                                      when the accelerator is on) */
    idx_entry *entry;
    idx_version *ver;
    const uint8_t *rec;            /* where the record landed in the log */
} commit_op;

/* Called under the commit mutex before anything changes; returns LDB_OK or
 * LDB_CONFLICT. */
typedef int (*commit_validate_fn)(ldb *db, void *arg);

/* Applies ops atomically as one commit (see the file comment). On success
 * *seq_out (may be NULL) gets the commit's sequence number; a commit whose
 * ops are all no-ops returns LDB_OK with the current sequence. */
int commit_apply(ldb *db, commit_op *ops, size_t n, commit_validate_fn validate,
                 void *varg, uint64_t *seq_out) LDB_EXCLUDES(db->commit_mu);
/* Counters with a single writer: a plain add, published atomically. */
static inline void db_ctr_add(_Atomic uint64_t *c, uint64_t d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
                          memory_order_relaxed);
}
static inline void db_ctr_sub(_Atomic uint64_t *c, uint64_t d)
{
    /* Every counter is a count or a size: going below zero means something
     * was subtracted twice (as the live bytes once were, and the cleaner
     * then never found a segment to clean). */
    LDB_ASSERT(atomic_load_explicit(c, memory_order_relaxed) >= d);
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) - d,
                          memory_order_relaxed);
}

/* The entry for a key: through the accelerator when it is on, else by a
 * tree descent. Readers must be in a read section; the writer may call it
 * under the commit mutex. */
static inline idx_entry *db_find(ldb *db, const void *k, size_t kl)
{
    if (db->use_hash) return hash_find(&db->hash, k, kl, hash_key(&db->hash, k, kl));
    return idx_find(&db->tree, k, kl);
}

/* The version of e visible at snapshot snap (NULL when none). The acquire
 * loads pair with the release stores that link versions (mvcc_install,
 * mvcc_swap): a version seen is whole. */
static inline idx_version *db_visible(idx_entry *e, uint64_t snap)
{
    idx_version *v = atomic_load_explicit(&e->head, memory_order_acquire);
    while (v && v->seq > snap) v = atomic_load_explicit(&v->older, memory_order_acquire);
    return v;
}

/* Requests every cache line of v's record after the first (capped at 4 KiB)
 * at once, for a caller about to read all of it (a copy or a checksum):
 * the lines then arrive in parallel instead of one stream ramping up. */
#define DB_PREFETCH_MAX 4096
static inline void db_prefetch_record(const idx_version *v, uint16_t klen)
{
    const uint8_t *p = v->rec;
    if (!p || v->vlen == IDX_TOMBSTONE) return;
    size_t len = REC_HDR + (size_t)klen + v->vlen;
    if (len > DB_PREFETCH_MAX) len = DB_PREFETCH_MAX;
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)63, end = (uintptr_t)p + len;
    for (a += 64; a < end; a += 64) __builtin_prefetch((const void *)a);
}

/* Reads the value of version v of entry e: *val points at the value bytes
 * (in the mapping; or, for a compressed record, in dst when dst_cap holds
 * the raw length, else in *scratch, malloc'd and owned by the caller).
 * With checksum verification on, a record whose checksum or key does not
 * match gives LDB_CORRUPTION with the file and offset in the error. */
int db_value(ldb *db, const idx_entry *e, const idx_version *v, void *dst, size_t dst_cap,
             const void **val, size_t *vlen, void **scratch);

/* The calling thread's cached reader slot for db (claimed on first use). */
int db_thread_slot(ldb *db, epoch_slot **out);

/* Argument checks shared by the API entry points. */
int db_check_key(const void *k, size_t klen);
int db_check_value(const void *v, size_t vlen);
static inline int db_ok(const ldb *db)
{
    return db && atomic_load_explicit(&db->magic, memory_order_relaxed) == LDB_MAGIC_DB;
}

#endif /* LDB_DB_H */
