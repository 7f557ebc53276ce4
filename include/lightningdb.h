/*
 * lightningdb.h — the public API of Lightning DB, an embedded, ordered,
 * transactional key-value store.
 *
 * Contract
 * --------
 * - Keys are 1..LDB_MAX_KEY bytes, values 0..LDB_MAX_VALUE bytes. Keys are
 *   ordered bytewise: memcmp over the common length, then the shorter first.
 * - Every function that can fail returns LDB_OK (0) or a negative LDB_* code;
 *   none aborts the process on bad input. NULL handles or pointers give
 *   LDB_INVALID. ldb_strerror() names every code.
 * - One process owns a database directory at a time (a LOCK file held with
 *   flock); a second opener gets LDB_BUSY.
 * - Thread-safety: an `ldb` handle may be used by any number of threads at
 *   once. An `ldb_txn`, `ldb_iter` or `ldb_batch` belongs to one thread at a
 *   time. Readers never block writers and never take a lock the writer holds.
 * - Durability is chosen per database with `sync_mode` (see below); every
 *   commit that returned LDB_OK is kept as that mode promises.
 * - Threads of its own: a database opened for writing runs a checkpoint
 *   thread (unless checkpoint_bytes is 0) and a cleaner thread (unless
 *   cleaner is 0), in NORMAL mode a syncer, and from its first write a
 *   helper that faults in the log ahead of the writer. ldb_close joins them
 *   all.
 */
#ifndef LIGHTNINGDB_H
#define LIGHTNINGDB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LDB_VERSION_MAJOR 0
#define LDB_VERSION_MINOR 1
#define LDB_VERSION_PATCH 0

/* Error codes. LDB_OK is zero; every error is negative. */
enum {
    LDB_OK = 0,
    LDB_NOTFOUND = -1,   /* key absent (not an error for ldb_delete)           */
    LDB_INVALID = -2,    /* bad argument: NULL, empty key, closed handle, ...  */
    LDB_TOO_LARGE = -3,  /* key or value beyond the limits                     */
    LDB_IO = -4,         /* an I/O call failed; after a failed sync the
                            database refuses writes until reopened           */
    LDB_CORRUPTION = -5, /* a checksum or structure check failed             */
    LDB_NOMEM = -6,      /* an allocation failed; nothing was changed        */
    LDB_BUSY = -7,       /* the directory is locked by another process       */
    LDB_READONLY = -8,   /* write on a read-only database or transaction     */
    LDB_CONFLICT = -9,   /* transaction lost a conflict; nothing applied     */
    LDB_NOSPACE = -10    /* the disk is full; retry once space returns       */
};

#define LDB_MAX_KEY 4096u
#define LDB_MAX_VALUE (16u * 1024u * 1024u)

typedef struct ldb ldb;
typedef struct ldb_txn ldb_txn;
typedef struct ldb_iter ldb_iter;
typedef struct ldb_batch ldb_batch;

/*
 * Durability modes.
 *  LDB_SYNC_NONE    no fsync. A commit survives the process crashing (the
 *                   data is in the kernel's page cache), not a power loss.
 *  LDB_SYNC_NORMAL  a background thread calls fdatasync every
 *                   sync_interval_ms. After a power loss the database holds
 *                   a prefix of the commit history (never a gap) missing at
 *                   most the last interval.
 *  LDB_SYNC_FULL    a commit returns only once its record is on disk.
 *                   Concurrent committers share one fdatasync (group commit).
 */
typedef enum {
    LDB_SYNC_NONE = 0,
    LDB_SYNC_NORMAL = 1,
    LDB_SYNC_FULL = 2
} ldb_sync_mode;

/*
 * Checksum verification on read (ldb_options.verify_checksums). Every mode
 * checks the record header against the index (type, lengths) before a byte
 * is copied; the checking modes also compare the key.
 *  LDB_VERIFY_NEVER   no CRC32C on read (the header checks only).
 *  LDB_VERIFY_ALWAYS  every read checks the record's CRC32C and key.
 *  LDB_VERIFY_FIRST   a record is checked the first time it is read (or
 *                     scrubbed) after open, and again after the background
 *                     scrubber has seen one of its pages out of memory
 *                     (mincore, every scrub_interval_ms), so bytes re-read
 *                     from disk are checked again; records over 16 KiB are
 *                     checked on every read. Reads never return bytes that
 *                     failed a check (LDB_CORRUPTION). What it does not
 *                     catch: memory changed under a checked record (a RAM
 *                     error; a process writing the segment files), or a
 *                     page evicted and re-read within one scan interval
 *                     before the next scrub pass re-checks it
 *                     (docs/engine.md, "Checksums").
 */
typedef enum {
    LDB_VERIFY_NEVER = 0,
    LDB_VERIFY_ALWAYS = 1,
    LDB_VERIFY_FIRST = 2
} ldb_verify_mode;

typedef struct ldb_options {
    int create_if_missing;      /* create the database if absent (default 1),
                                   in a missing directory or an existing one;
                                   0, and every read_only open, refuse a
                                   directory holding no database with
                                   LDB_NOTFOUND and create nothing there
                                   (RocksDB's create_if_missing) */
    int read_only;              /* open without writing anything (default 0) */
    ldb_sync_mode sync_mode;    /* default LDB_SYNC_NORMAL */
    unsigned sync_interval_ms;  /* NORMAL mode sync period (default 100) */
    uint64_t segment_size;      /* log segment file size (default 64 MiB) */
    int verify_checksums;       /* ldb_verify_mode (default
                                   LDB_VERIFY_FIRST; a mismatch gives
                                   LDB_CORRUPTION, never the bad bytes) */
    unsigned scrub_interval_ms; /* LDB_VERIFY_FIRST: how often the scrubber
                                   asks which pages left memory (default
                                   100; longer when a scan costs more than
                                   0.5% of a core) */
    int salvage;                /* on a damaged log, keep what precedes the
                                   damage instead of failing (default 0) */
    /* Checkpoints: a sorted snapshot of the index, so an open replays only
     * the log written after it. */
    uint64_t checkpoint_bytes;  /* take one after this many log bytes
                                   (default 256 MiB; 0 = never automatically) */
    int checkpoint_on_close;    /* take one at ldb_close when the log grew
                                   since the last (default 1) */
    /* Segment cleaning: relocates the live records of mostly-dead segments
     * and deletes the old files, bounding disk use. */
    int cleaner;                /* run the background cleaner (default 1;
                                   off: no cleaning, no write backpressure) */
    double space_amp_target;    /* disk bytes / live bytes to hold (default
                                   2.0): commits are slowed a segment before
                                   the limit and wait for the cleaner at it,
                                   so the directory stays within target x
                                   live + 2 segments (floor: live +
                                   checkpoints + 4 segments) */
    double cleaner_cpu;         /* share of one core the cleaner may use well
                                   under the limit (default 0.25; near it,
                                   it runs flat out) */
    /* Value compression: values of at least compression_min bytes are
     * compressed when that saves an eighth or more. The algorithm is
     * recorded per record. */
    int compression;            /* LDB_COMPRESSION_* (default NONE) */
    uint32_t compression_min;   /* default 256 */
    /* Point-lookup accelerator: a hash table from key to index entry beside
     * the ordered index, so a get costs ~2 cache misses instead of a tree
     * descent (~16 bytes per key). Off: gets descend the B+tree. */
    int hash_accelerator;       /* default 1 */
    uint64_t hash_seed;         /* 0 (default): a random seed per open, so
                                   keys cannot be chosen ahead of time to
                                   collide; otherwise this seed, for runs
                                   that must repeat exactly (instruction
                                   counts) */
} ldb_options;

enum { LDB_COMPRESSION_NONE = 0, LDB_COMPRESSION_LZ4 = 1, LDB_COMPRESSION_ZSTD = 2 };

void ldb_options_init(ldb_options *o);

int ldb_open(const char *dir, const ldb_options *o, ldb **out);
/* Closes the handle: LDB_BUSY (and nothing changes) while transactions or
 * iterators are open. Once it has begun, a call another thread starts on
 * the handle returns LDB_INVALID, and calls already inside it (reads,
 * commits, syncs, checkpoints, compactions) are waited for before anything
 * is freed. No call may start after ldb_close has returned: the handle's
 * memory is gone (AddressSanitizer builds report such a use). */
int ldb_close(ldb *db);

const char *ldb_strerror(int rc);
/* A message naming what failed in the last ldb_open/recovery on this thread
 * (e.g. the file and offset of a bad record); "" when there is none. */
const char *ldb_last_error(void);

/* Single-operation writes and reads: each is its own transaction. */
int ldb_put(ldb *db, const void *k, size_t klen, const void *v, size_t vlen);
/* Copies min(cap, length) bytes into buf (buf may be NULL when cap is 0),
 * always sets *vlen to the full length; LDB_NOTFOUND when absent. */
int ldb_get(ldb *db, const void *k, size_t klen, void *buf, size_t cap,
            size_t *vlen);
/* Deleting an absent key is not an error. */
int ldb_delete(ldb *db, const void *k, size_t klen);
/* Make every commit so far durable, whatever the sync mode. */
int ldb_sync(ldb *db);
/* Writes a checkpoint now (sorted index snapshot, installed atomically). */
int ldb_checkpoint(ldb *db);
/* Cleans now: relocates the live records of every segment more than 5%
 * dead (except the newest two) and deletes the old files once no snapshot
 * can read them. */
int ldb_compact(ldb *db);

/* Iteration in key order. An iterator opened on the database reads one
 * consistent snapshot taken at ldb_iter_open. Key and value pointers stay
 * valid until the iterator moves or closes. */
int ldb_iter_open(ldb *db, ldb_iter **out);
int ldb_iter_seek(ldb_iter *it, const void *k, size_t klen); /* first >= k */
int ldb_iter_first(ldb_iter *it);
int ldb_iter_last(ldb_iter *it);
int ldb_iter_next(ldb_iter *it);
int ldb_iter_prev(ldb_iter *it);
int ldb_iter_valid(const ldb_iter *it); /* 1 when positioned on a key */
int ldb_iter_key(const ldb_iter *it, const void **k, size_t *klen);
int ldb_iter_value(ldb_iter *it, const void **v, size_t *vlen);
/* The error that stopped the iterator (e.g. LDB_CORRUPTION), else LDB_OK. */
int ldb_iter_status(const ldb_iter *it);
void ldb_iter_close(ldb_iter *it);

/* Transactions (snapshot isolation by default). */
#define LDB_TXN_READONLY 0x1u
#define LDB_TXN_SERIALIZABLE 0x2u

int ldb_txn_begin(ldb *db, unsigned flags, ldb_txn **out);
/* Zero-copy: *v stays valid until the transaction ends. */
int ldb_txn_get(ldb_txn *t, const void *k, size_t klen, const void **v,
                size_t *vlen);
int ldb_txn_put(ldb_txn *t, const void *k, size_t klen, const void *v,
                size_t vlen);
int ldb_txn_delete(ldb_txn *t, const void *k, size_t klen);
/* LDB_OK, or LDB_CONFLICT (nothing applied), or an I/O error. Frees t. */
int ldb_txn_commit(ldb_txn *t);
/* Frees t; nothing it wrote is applied. */
void ldb_txn_abort(ldb_txn *t);
/* The sequence number of the transaction's snapshot. */
uint64_t ldb_txn_snapshot(const ldb_txn *t);
int ldb_iter_open_txn(ldb_txn *t, ldb_iter **out);

/* n point reads against the transaction's snapshot (seeing its own writes
 * in a read-write transaction), issued so that their cache misses overlap:
 * the lookups are pipelined with software prefetching. For each i, rcs[i]
 * is LDB_OK (vals[i], vlens[i] set: zero-copy, valid until the transaction
 * ends), LDB_NOTFOUND or LDB_CORRUPTION. Returns LDB_OK when every key was
 * looked up, or an error for bad arguments (then rcs is not meaningful). */
int ldb_multi_get(ldb_txn *t, size_t n, const void *const *keys, const size_t *klens,
                  const void **vals, size_t *vlens, int *rcs);

/* Atomic batches: all of a batch or none of it, as one commit. */
int ldb_batch_create(ldb_batch **out);
int ldb_batch_put(ldb_batch *b, const void *k, size_t klen, const void *v,
                  size_t vlen);
int ldb_batch_delete(ldb_batch *b, const void *k, size_t klen);
void ldb_batch_clear(ldb_batch *b);
size_t ldb_batch_count(const ldb_batch *b);
void ldb_batch_free(ldb_batch *b);
int ldb_write(ldb *db, ldb_batch *b);

/* Statistics: a consistent-enough copy of the counters (each field is read
 * atomically; the set is not one instant). */
typedef struct ldb_stats {
    uint64_t keys;               /* live keys in the index */
    uint64_t last_seq;           /* newest committed sequence number */
    uint64_t puts, deletes, gets, commits, conflicts;
    uint64_t syncs;              /* fdatasync calls on the log */
    uint64_t synced_commits;     /* commits made durable by those syncs */
    uint64_t segments;           /* log segment files */
    uint64_t file_bytes;         /* bytes of log written (all segments) */
    uint64_t live_bytes;         /* bytes of the records the index points to */
    uint64_t user_bytes;         /* bytes of log appended for user commits */
    uint64_t index_bytes;        /* memory held by the ordered index */
    uint64_t hash_bytes;         /* memory held by the lookup accelerator */
    uint64_t active_snapshots;   /* open transactions and iterators */
    double oldest_snapshot_age_s;/* age of the oldest open snapshot */
    uint64_t oldest_snapshot_seq;
    uint64_t pinned_versions;    /* old versions not yet pruned: kept for open
                                    snapshots (pruned lazily, every 64 commits) */
    uint64_t recovery_records;   /* records replayed by the last open */
    double recovery_seconds;     /* time the last open took to recover */
    uint64_t truncated_bytes;    /* torn tail cut off by the last open */
    uint64_t recovery_checkpoint_seq; /* checkpoint the last open started
                                   from (0: the whole log was replayed) */
    uint64_t checkpoint_fallbacks;    /* damaged checkpoints skipped at open */
    uint64_t checkpoints;        /* checkpoints written since open */
    uint64_t checkpoint_seq;     /* sequence of the newest checkpoint */
    double checkpoint_age_s;     /* seconds since it was written (-1: none) */
    uint64_t cleaner_bytes;      /* bytes the cleaner relocated */
    uint64_t cleaned_segments;   /* segment files the cleaner deleted */
    double space_amplification;  /* file_bytes / live_bytes */
    double write_amplification;  /* (user + cleaner bytes) / user bytes */
    uint64_t compressed_values;  /* values stored compressed since open */
    /* Write backpressure: the cleaner must keep up with overwrites, so once
     * space used passes a soft limit below space_limit_bytes each commit is
     * delayed a little, and at the limit it waits for the cleaner's next
     * segment (never longer). */
    uint64_t space_used_bytes;   /* log + spare segment + checkpoint files */
    uint64_t space_limit_bytes;  /* where commits start to wait */
    uint64_t write_delays;       /* commits delayed past the soft limit */
    uint64_t write_waits;        /* commits that waited at the limit */
    double write_delay_seconds;  /* time commits spent delayed or waiting */
    /* The scrubber (LDB_VERIFY_FIRST): each pass clears the verified marks
     * of records whose pages left memory and checks records not yet read. */
    uint64_t scrub_passes;
    uint64_t scrub_absent_pages; /* log pages found out of memory */
    uint64_t scrub_checked;      /* records it checked and marked */
    uint64_t scrub_corrupt;      /* records that failed its check (a read of
                                    one answers LDB_CORRUPTION) */
    double scrub_seconds;        /* time its passes took */
} ldb_stats;

int ldb_get_stats(ldb *db, ldb_stats *out);

/* Offline verification of a database directory (it must not be open for
 * writing: LDB_BUSY otherwise). Reads every segment and checks every
 * frame's and record's checksum, reporting each problem through fn (may be
 * NULL) with the file and offset. Returns LDB_OK when the log is sound (a
 * torn tail at the end of the newest segment, which the next open cuts off,
 * is reported but is not corruption), LDB_CORRUPTION when damage was found,
 * or an I/O error. */
typedef struct ldb_check_report {
    uint64_t segments, frames, records;
    uint64_t data_bytes;          /* bytes of valid frames */
    uint64_t damaged_frames;      /* damaged regions found */
    uint64_t damaged_bytes;       /* bytes skipped over them */
    uint64_t torn_tail_bytes;     /* incomplete tail of the newest segment */
    uint64_t max_seq;             /* newest commit sequence found */
} ldb_check_report;
typedef void (*ldb_check_fn)(void *arg, const char *file, uint64_t offset,
                             const char *problem);
int ldb_check_dir(const char *dir, ldb_check_fn fn, void *arg,
                  ldb_check_report *out);

#ifdef __cplusplus
}
#endif
#endif /* LIGHTNINGDB_H */
