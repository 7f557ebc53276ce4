/*
 * engine/db.c — opening and closing a database, the one-operation API
 * (put/get/delete/sync), per-thread reader slots, value access and stats.
 */
#include "engine/db.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/alloc.h"
#include "engine/checkpoint.h"
#include "engine/compress.h"
#include "engine/gc.h"
#include "engine/maint.h"
#include "engine/recovery.h"
#include "engine/space.h"
#include "engine/syncer.h"
#include "engine/crc32c.h"
#include "engine/durable.h"
#include "engine/io.h"
#include "engine/util.h"

#define DB_DEFAULT_SEGMENT (64ull << 20)
#define DB_MIN_SEGMENT (64ull << 10)
#define DB_MAX_SEGMENT (1ull << 32) /* offsets inside a segment are 32-bit safe */
#define DB_CLOSE_CHECKPOINT_BYTES (16ull << 20)

/* ---- the registry of open databases and per-thread reader slots ---------
 *
 * A thread that calls ldb_get keeps one reader slot per database in a small
 * thread-local cache, so a get costs no atomic read-modify-write. The cache
 * is keyed by the database's unique open id; the registry (a mutex-guarded
 * list, touched only on first use, eviction, thread exit and close) tells
 * whether the database behind a cached slot is still open before the slot
 * is handed back. */

#define TLS_SLOTS 4

typedef struct tls_entry {
    uint64_t uid;
    ldb *db;
    epoch_slot *slot;
} tls_entry;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static ldb **reg_dbs;
static size_t reg_n, reg_cap;
static uint64_t reg_next_uid = 1;
static pthread_key_t reg_key;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static _Thread_local tls_entry tls_cache[TLS_SLOTS];

static int reg_alive_locked(const ldb *db, uint64_t uid)
{
    for (size_t i = 0; i < reg_n; i++)
        if (reg_dbs[i] == db && db->uid == uid) return 1;
    return 0;
}

static void reg_thread_exit(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&reg_mu);
    for (int i = 0; i < TLS_SLOTS; i++) {
        tls_entry *t = &tls_cache[i];
        if (t->slot && reg_alive_locked(t->db, t->uid)) epoch_slot_release(t->slot);
        memset(t, 0, sizeof *t);
    }
    pthread_mutex_unlock(&reg_mu);
}

static void reg_init(void) { pthread_key_create(&reg_key, reg_thread_exit); }

static int reg_add(ldb *db)
{
    pthread_once(&reg_once, reg_init);
    pthread_mutex_lock(&reg_mu);
    if (reg_n == reg_cap) {
        ldb **v = alloc_grow(reg_dbs, &reg_cap, sizeof *v, 8);
        if (!v) {
            pthread_mutex_unlock(&reg_mu);
            return LDB_NOMEM;
        }
        reg_dbs = v;
    }
    db->uid = reg_next_uid++;
    reg_dbs[reg_n++] = db;
    pthread_mutex_unlock(&reg_mu);
    return LDB_OK;
}

static void reg_remove(ldb *db)
{
    pthread_mutex_lock(&reg_mu);
    for (size_t i = 0; i < reg_n; i++)
        if (reg_dbs[i] == db) {
            reg_dbs[i] = reg_dbs[--reg_n];
            break;
        }
    if (reg_n == 0) {
        alloc_free(reg_dbs);
        reg_dbs = NULL;
        reg_cap = 0;
    }
    pthread_mutex_unlock(&reg_mu);
}

int db_thread_slot(ldb *db, epoch_slot **out)
{
    for (int i = 0; i < TLS_SLOTS; i++)
        if (tls_cache[i].uid == db->uid && tls_cache[i].db == db) {
            *out = tls_cache[i].slot;
            return LDB_OK;
        }
    /* Slow path, once per thread and database. */
    epoch_slot *s;
    int rc = epoch_slot_claim(&db->ep, EPOCH_SHORT, &s);
    if (rc) return rc;
    pthread_mutex_lock(&reg_mu);
    int victim = 0;
    for (int i = 0; i < TLS_SLOTS; i++) {
        tls_entry *t = &tls_cache[i];
        if (!t->slot || !reg_alive_locked(t->db, t->uid)) {
            victim = i;
            break;
        }
        victim = (int)((uintptr_t)s / 64 % TLS_SLOTS); /* all live: evict one */
    }
    tls_entry *t = &tls_cache[victim];
    if (t->slot && reg_alive_locked(t->db, t->uid)) epoch_slot_release(t->slot);
    t->uid = db->uid;
    t->db = db;
    t->slot = s;
    pthread_mutex_unlock(&reg_mu);
    pthread_setspecific(reg_key, (void *)1); /* so the exit hook runs */
    *out = s;
    return LDB_OK;
}

/* ---- argument checks ------------------------------------------------- */

int db_check_key(const void *k, size_t klen)
{
    if (!k || klen == 0) return LDB_INVALID;
    if (klen > LDB_MAX_KEY) return LDB_TOO_LARGE;
    return LDB_OK;
}

int db_check_value(const void *v, size_t vlen)
{
    if (!v && vlen) return LDB_INVALID;
    if (vlen > LDB_MAX_VALUE) return LDB_TOO_LARGE;
    return LDB_OK;
}

/* ---- options, open, close --------------------------------------------- */

void ldb_options_init(ldb_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->create_if_missing = 1;
    o->sync_mode = LDB_SYNC_NORMAL;
    o->sync_interval_ms = 100;
    o->segment_size = DB_DEFAULT_SEGMENT;
    o->verify_checksums = LDB_VERIFY_FIRST;
    o->scrub_interval_ms = 100;
    o->checkpoint_bytes = 256ull << 20;
    o->checkpoint_on_close = 1;
    o->cleaner = 1;
    o->space_amp_target = 2.0;
    o->cleaner_cpu = 0.25;
    o->compression = LDB_COMPRESSION_NONE;
    o->compression_min = 256;
    o->hash_accelerator = 1;
}

static int db_lock_dir(ldb *db)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/LOCK", db->dir);
    int fd = io_open(path, db->opt.read_only ? O_RDONLY | O_CREAT : O_RDWR | O_CREAT, 0644);
    if (fd < 0 && db->opt.read_only && fd == -EROFS) fd = io_open(path, O_RDONLY, 0);
    if (fd < 0) {
        util_set_error("cannot open %s: %s", path, strerror(-fd));
        return util_errno_to_rc(-fd);
    }
    int rc = io_flock(fd, !db->opt.read_only);
    if (rc < 0) {
        io_close(fd);
        if (rc == -EWOULDBLOCK) {
            util_set_error("%s is in use by another process (or another handle in this one)",
                           db->dir);
            return LDB_BUSY;
        }
        util_set_error("cannot lock %s: %s", path, strerror(-rc));
        return util_errno_to_rc(-rc);
    }
    db->lock_fd = fd;
    return LDB_OK;
}

static void db_free(ldb *db)
{
    /* Entries and versions live in the slab's arenas: dropped all at once. */
    idx_destroy(&db->tree, NULL, NULL);
    hash_destroy(&db->hash);
    epoch_destroy(&db->ep);
    slab_destroy(&db->slab);
    log_close(&db->log);
    if (db->lock_fd >= 0) io_close(db->lock_fd);
    alloc_free(db->tombs);
    alloc_free(db->dir);
    pthread_mutex_destroy(&db->commit_mu);
    pthread_mutex_destroy(&db->sync_mu);
    pthread_cond_destroy(&db->sync_cv);
    pthread_mutex_destroy(&db->ckpt_mu);
    pthread_mutex_destroy(&db->gc_mu);
    pthread_mutex_destroy(&db->scrub_mu);
    pthread_mutex_destroy(&db->maint_mu);
    pthread_cond_destroy(&db->maint_cv);
    pthread_mutex_destroy(&db->gc_wait_mu);
    pthread_cond_destroy(&db->gc_cv);
    pthread_mutex_destroy(&db->bp_mu);
    pthread_cond_destroy(&db->bp_cv);
    atomic_store(&db->magic, LDB_MAGIC_DEAD);
    alloc_free(db);
}

/* fsyncs the directory holding `dir` (-errno on failure). */
static int db_sync_parent(const char *dir)
{
    size_t l = strlen(dir);
    char *p = alloc_malloc(l + 2);
    if (!p) return -ENOMEM;
    memcpy(p, dir, l + 1);
    while (l > 1 && p[l - 1] == '/') p[--l] = 0;
    char *slash = strrchr(p, '/');
    if (!slash) strcpy(p, ".");
    else if (slash == p) p[1] = 0;
    else *slash = 0;
    int r = io_fsync_dir(p);
    alloc_free(p);
    return r;
}

int ldb_open(const char *dir, const ldb_options *o, ldb **out)
{
    int rc;
    util_clear_error();
    if (!dir || !*dir || !out) return LDB_INVALID;
    *out = NULL;
    ldb_options opt;
    if (o) opt = *o;
    else ldb_options_init(&opt);
    if (opt.sync_mode != LDB_SYNC_NONE && opt.sync_mode != LDB_SYNC_NORMAL &&
        opt.sync_mode != LDB_SYNC_FULL) {
        util_set_error("unknown sync_mode %d", (int)opt.sync_mode);
        return LDB_INVALID;
    }
    if (opt.segment_size == 0) opt.segment_size = DB_DEFAULT_SEGMENT;
    if (opt.segment_size < DB_MIN_SEGMENT || opt.segment_size > DB_MAX_SEGMENT) {
        util_set_error("segment_size must be between %llu and %llu bytes",
                       DB_MIN_SEGMENT, DB_MAX_SEGMENT);
        return LDB_INVALID;
    }
    if (opt.sync_interval_ms == 0) opt.sync_interval_ms = 100;
    if (opt.scrub_interval_ms == 0) opt.scrub_interval_ms = 100;
    if (!(opt.space_amp_target >= 1.1 && opt.space_amp_target <= 100.0)) {
        util_set_error("space_amp_target must be between 1.1 and 100");
        return LDB_INVALID;
    }
    if (!(opt.cleaner_cpu > 0.0 && opt.cleaner_cpu <= 1.0)) {
        util_set_error("cleaner_cpu must be in (0, 1]");
        return LDB_INVALID;
    }
    if (opt.verify_checksums < LDB_VERIFY_NEVER || opt.verify_checksums > LDB_VERIFY_FIRST) {
        util_set_error("unknown verify_checksums %d (0 never, 1 always, 2 first)",
                       opt.verify_checksums);
        return LDB_INVALID;
    }
    if (opt.compression < LDB_COMPRESSION_NONE || opt.compression > LDB_COMPRESSION_ZSTD) {
        util_set_error("unknown compression %d", opt.compression);
        return LDB_INVALID;
    }
    crc32c_init();

    ldb *db = alloc_calloc(1, sizeof *db);
    if (!db) return LDB_NOMEM;
    db->lock_fd = -1;
    db->opt = opt;
    pthread_mutex_init(&db->commit_mu, NULL);
    pthread_mutex_init(&db->sync_mu, NULL);
    int cv_rc = util_cond_init_monotonic(&db->sync_cv);
    pthread_mutex_init(&db->ckpt_mu, NULL);
    pthread_mutex_init(&db->gc_mu, NULL);
    pthread_mutex_init(&db->scrub_mu, NULL);
    pthread_mutex_init(&db->maint_mu, NULL);
    if (cv_rc == LDB_OK) cv_rc = util_cond_init_monotonic(&db->maint_cv);
    pthread_mutex_init(&db->gc_wait_mu, NULL);
    pthread_mutex_init(&db->bp_mu, NULL);
    if (cv_rc == LDB_OK) cv_rc = util_cond_init_monotonic(&db->gc_cv);
    if (cv_rc == LDB_OK) cv_rc = util_cond_init_monotonic(&db->bp_cv);
    if (cv_rc) { rc = cv_rc; goto fail; }
    db->dir = alloc_malloc(strlen(dir) + 1);
    if (!db->dir) { rc = LDB_NOMEM; goto fail; }
    strcpy(db->dir, dir);

    struct stat st;
    if (stat(dir, &st) != 0) {
        if (!opt.create_if_missing || opt.read_only) {
            util_set_error("%s does not exist", dir);
            rc = LDB_NOTFOUND;
            goto fail;
        }
        int r = io_mkdir(dir);
        /* The new directory's own entry lives in its parent: without this
         * sync a power cut can take the whole database away, however
         * durable its files are. */
        if (r == 0) r = db_sync_parent(dir);
        if (r < 0) {
            util_set_error("cannot create %s: %s", dir, strerror(-r));
            rc = util_errno_to_rc(-r);
            goto fail;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        util_set_error("%s is not a directory", dir);
        rc = LDB_INVALID;
        goto fail;
    } else if (!opt.create_if_missing || opt.read_only) {
        /* Refused before the LOCK file is made, so pointing a tool at the
         * wrong directory leaves it exactly as it was. */
        int r = log_dir_has_segments(dir);
        if (r < 0) {
            util_set_error("cannot list %s: %s", dir, strerror(-r));
            rc = util_errno_to_rc(-r);
            goto fail;
        }
        if (r == 0) {
            util_set_error("%s is not a lightning database (no log segment in it)", dir);
            rc = LDB_NOTFOUND;
            goto fail;
        }
    }
    rc = db_lock_dir(db);
    if (rc) goto fail;
    slab_init(&db->slab);
    rc = epoch_init(&db->ep);
    if (rc) goto fail;
    rc = idx_init(&db->tree, &db->ep);
    if (rc) goto fail;
    rc = hash_init(&db->hash, &db->ep, 0, db->opt.hash_seed);
    if (rc) goto fail;
    rc = log_open(&db->log, dir, opt.sync_mode, opt.segment_size, opt.read_only, opt.salvage,
                  opt.verify_checksums == LDB_VERIFY_FIRST);
    if (rc) goto fail;
    uint64_t t0 = util_now_ns();
    rc = recovery_run(db);
    if (rc) goto fail;
    atomic_store(&db->ckpt_log_bytes, 0);
    if (db->log.nsegs) {
        db->scrub_cold_seg = db->log.segs[db->log.nsegs - 1]->id;
        db->scrub_cold_end = db->log.segs[db->log.nsegs - 1]->end;
        /* Something to check: the log held records at open. */
        if (db->log.nsegs > 1 || db->scrub_cold_end > REC_SEG_HDR) atomic_store(&db->scrub_walking, 1);
    }
    if (!opt.read_only && db->log.nsegs > 1) atomic_store(&db->sealed_unsynced, 1);
    /* A database the cleaner has work in gets its spare now (a full disk
     * may come before the cleaner thread's first round); failure is fine. */
    if (!opt.read_only && db->log.nsegs >= 3) log_make_spare(&db->log, &db->commit_mu);
    space_refresh(db);
    db->recovery_seconds = (double)(util_now_ns() - t0) / 1e9;
    atomic_store(&db->magic, LDB_MAGIC_DB);
    rc = reg_add(db);
    if (rc) goto fail;
    rc = syncer_start(db);
    if (rc == LDB_OK) rc = maint_start(db);
    if (rc) {
        syncer_stop(db);
        reg_remove(db);
        goto fail;
    }
    *out = db;
    return LDB_OK;
fail:
    db_free(db);
    return rc;
}

/* Waits until no thread is inside a call that passed the handle check
 * before ldb_close changed it: commits (the commit mutex), compactions and
 * checkpoints (theirs), reads (their read sections) and durability waits. */
static void db_drain_calls(ldb *db)
{
    ldb_mutex_lock(&db->commit_mu);
    ldb_mutex_unlock(&db->commit_mu);
    ldb_mutex_lock(&db->gc_mu);
    ldb_mutex_unlock(&db->gc_mu);
    ldb_mutex_lock(&db->ckpt_mu);
    ldb_mutex_unlock(&db->ckpt_mu);
    for (;;) {
        epoch_report r;
        epoch_report_get(&db->ep, &r);
        if (r.active == 0) break;
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
}

int ldb_close(ldb *db)
{
    if (!db) return LDB_INVALID;
    uint32_t open_magic = LDB_MAGIC_DB;
    /* From here every new call on the handle returns LDB_INVALID (and a
     * second close too), while the memory is still valid. */
    if (!atomic_compare_exchange_strong(&db->magic, &open_magic, LDB_MAGIC_CLOSING))
        return LDB_INVALID;
    epoch_report r;
    epoch_report_get(&db->ep, &r);
    if (r.long_active) {
        atomic_store(&db->magic, LDB_MAGIC_DB);
        util_set_error("%" PRIu64 " transactions or iterators are still open", r.long_active);
        return LDB_BUSY;
    }
    maint_stop(db);
    syncer_stop(db);
    db_drain_calls(db);
    int rc = LDB_OK;
    int writable = !db->opt.read_only && !log_failed(&db->log);
    if (writable && db->opt.checkpoint_on_close) {
        /* A checkpoint makes the next open fast; small tails replay fast
         * anyway, so only when the log grew noticeably. */
        uint64_t written = db_log_bytes(db);
        if (written - atomic_load(&db->ckpt_log_bytes) >= DB_CLOSE_CHECKPOINT_BYTES)
            rc = ckpt_write(db);
    }
    if (writable && db->opt.sync_mode != LDB_SYNC_NONE) {
        int sr = syncer_wait_durable(db, atomic_load(&db->appended));
        if (!rc) rc = sr;
    }
    ldb_mutex_lock(&db->sync_mu);
    while (db->sync_waiters) { /* woken by the last sync; leaving now */
        ldb_mutex_unlock(&db->sync_mu);
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
        ldb_mutex_lock(&db->sync_mu);
    }
    ldb_mutex_unlock(&db->sync_mu);
    reg_remove(db);
    db_free(db);
    return rc;
}

/* ---- one-operation API ---------------------------------------------- */

int ldb_put(ldb *db, const void *k, size_t klen, const void *v, size_t vlen)
{
    if (!db_ok(db)) return LDB_INVALID;
    int rc = db_check_key(k, klen);
    if (rc) return rc;
    rc = db_check_value(v, vlen);
    if (rc) return rc;
    if (db->opt.read_only) return LDB_READONLY;
    commit_op op = {.type = REC_PUT, .klen = (uint16_t)klen, .vlen = (uint32_t)vlen,
                    .key = k, .val = v};
    return commit_apply(db, &op, 1, NULL, NULL, NULL);
}

int ldb_delete(ldb *db, const void *k, size_t klen)
{
    if (!db_ok(db)) return LDB_INVALID;
    int rc = db_check_key(k, klen);
    if (rc) return rc;
    if (db->opt.read_only) return LDB_READONLY;
    commit_op op = {.type = REC_DEL, .klen = (uint16_t)klen, .key = k};
    return commit_apply(db, &op, 1, NULL, NULL, NULL);
}

int db_value(ldb *db, const idx_entry *e, const idx_version *v, void *dst, size_t dst_cap,
             const void **val, size_t *vlen, void **scratch)
{
    rec_view r;
    *scratch = NULL;
    const uint8_t *p = v->rec;
    /* LDB_VERIFY_FIRST: a record checked since its pages were last seen
     * out of memory is not checked again (vmark.h says what a mark means). */
    int mode = db->opt.verify_checksums;
    int check = mode == LDB_VERIFY_ALWAYS ||
                (mode == LDB_VERIFY_FIRST && !vmark_test(&db->log.vm, v->seg, p));
    if (dst || check) db_prefetch_record(v, e->klen);
    rec_header(p, &r);
    /* The record must be this key's (a wrong location is as bad as a flipped
     * bit) and intact. The header checks cost nothing (same cache line) and
     * keep a damaged length from ever steering a copy, so they run even
     * with checksum verification off. */
    int bad = r.klen != e->klen || r.type != REC_PUT || r.vlen != v->vlen ||
              r.comp > REC_COMP_ZSTD || r.rawlen > LDB_MAX_VALUE ||
              (r.comp == REC_COMP_NONE && r.rawlen != r.vlen);
    int copied = 0;
    /* The key sits beside the header: comparing it is nearly free, so every
     * checking mode does, marked or not. */
    if (!bad && mode != LDB_VERIFY_NEVER) bad = memcmp(r.key, e->key, e->klen) != 0;
    if (!bad && check) {
        if (!bad && r.comp == REC_COMP_NONE && dst && dst_cap >= r.vlen) {
            /* Copy first, then checksum the copy: the copy streams the value
             * from memory at full speed, and the checksum then runs over
             * cache-hot bytes instead of stalling on each miss (measured:
             * ~40% faster for random 1 KiB gets). */
            memcpy(dst, r.val, r.vlen);
            uint32_t c = rec_crc(r.type, r.comp, r.klen, r.vlen, r.rawlen, r.key, dst);
            bad = c != r.crc;
            if (bad) memset(dst, 0, r.vlen); /* never leave bad bytes behind */
            copied = 1;
        } else if (!bad) {
            bad = !rec_verify(&r);
        }
        if (!bad && mode == LDB_VERIFY_FIRST)
            vmark_set(&db->log.vm, v->seg, p, rec_size(r.klen, r.vlen));
    }
    if (bad) {
        /* Error path only: the segment table is the writer's, so borrow the
         * commit mutex to name the file and offset. */
        uint64_t off = 0;
        ldb_mutex_lock(&db->commit_mu);
        log_segment *s = log_segment_by_id(&db->log, v->seg);
        if (s) off = (uint64_t)(p - s->base);
        ldb_mutex_unlock(&db->commit_mu);
        util_set_error("corrupt record in %s/%010u.log at offset %" PRIu64
                       ": checksum or key mismatch, value not returned",
                       db->dir, v->seg, off);
        return LDB_CORRUPTION;
    }
    if (copied) {
        *val = dst;
        *vlen = r.vlen;
        return LDB_OK;
    }
    if (r.comp == REC_COMP_NONE) {
        *val = r.val;
        *vlen = r.vlen;
        return LDB_OK;
    }
    void *out = dst;
    if (!dst || dst_cap < r.rawlen) {
        out = alloc_malloc(r.rawlen ? r.rawlen : 1);
        if (!out) return LDB_NOMEM;
        *scratch = out;
    }
    if (decompress_value(r.comp, r.val, r.vlen, out, r.rawlen) != LDB_OK) {
        alloc_free(*scratch);
        *scratch = NULL;
        util_set_error("corrupt compressed value in %s/%010u.log", db->dir, v->seg);
        return LDB_CORRUPTION;
    }
    *val = out;
    *vlen = r.rawlen;
    return LDB_OK;
}

int ldb_get(ldb *db, const void *k, size_t klen, void *buf, size_t cap, size_t *vlen)
{
    if (!db_ok(db)) return LDB_INVALID;
    int rc = db_check_key(k, klen);
    if (rc) return rc;
    if ((!buf && cap) || !vlen) return LDB_INVALID;
    epoch_slot *slot;
    rc = db_thread_slot(db, &slot);
    if (rc) return rc;
    uint64_t snap = epoch_enter(&db->ep, slot, &db->committed);
    idx_entry *e = db_find(db, k, klen);
    idx_version *v = e ? db_visible(e, snap) : NULL;
    if (!v || v->vlen == IDX_TOMBSTONE) {
        rc = LDB_NOTFOUND;
    } else {
        const void *val;
        size_t len;
        void *scratch;
        rc = db_value(db, e, v, buf, cap, &val, &len, &scratch);
        if (rc == LDB_OK) {
            if (val != buf && cap) memcpy(buf, val, len < cap ? len : cap);
            *vlen = len;
        }
        alloc_free(scratch);
    }
    atomic_store_explicit(&slot->gets, atomic_load_explicit(&slot->gets, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    epoch_exit(slot);
    return rc;
}

int ldb_sync(ldb *db)
{
    if (!db_ok(db)) return LDB_INVALID;
    if (db->opt.read_only) return LDB_OK;
    if (log_failed(&db->log)) return LDB_IO;
    /* Every commit so far, whatever the mode: in NONE mode sealed segments
     * and new directory entries were left to the OS, so all of them (the
     * watermark makes this cheap when they are synced already). */
    uint64_t upto = atomic_load_explicit(&db->appended, memory_order_acquire);
    int rc = dur_sync_log(db, UINT64_MAX);
    if (rc == LDB_OK) atomic_store(&db->sealed_unsynced, 0);
    return rc ? rc : syncer_wait_durable(db, upto);
}

int ldb_get_stats(ldb *db, ldb_stats *s)
{
    if (!db_ok(db) || !s) return LDB_INVALID;
    memset(s, 0, sizeof *s);
#define LD(x) atomic_load_explicit(&db->x, memory_order_relaxed)
    s->keys = LD(st_keys);
    s->last_seq = atomic_load(&db->committed);
    s->puts = LD(st_puts);
    s->deletes = LD(st_deletes);
    s->commits = LD(st_commits);
    s->conflicts = LD(st_conflicts);
    s->syncs = LD(st_syncs);
    s->synced_commits = LD(st_synced_commits);
    s->live_bytes = LD(st_live_bytes);
    s->user_bytes = LD(st_user_bytes);
    s->pinned_versions = LD(st_old_versions);
    /* Entries and versions: the slab's arenas (what the process holds). */
    s->index_bytes = atomic_load_explicit(&db->tree.bytes, memory_order_relaxed) +
                     atomic_load_explicit(&db->slab.bytes, memory_order_relaxed);
    s->hash_bytes = db->use_hash ? atomic_load_explicit(&db->hash.bytes, memory_order_relaxed) : 0;
#undef LD
    s->file_bytes = atomic_load_explicit(&db->log.file_bytes, memory_order_relaxed);
    ldb_mutex_lock(&db->commit_mu);
    s->segments = db->log.nsegs;
    ldb_mutex_unlock(&db->commit_mu);
    epoch_report r;
    epoch_report_get(&db->ep, &r);
    s->gets = r.gets;
    s->active_snapshots = r.long_active;
    s->oldest_snapshot_seq = r.oldest_snap;
    if (r.oldest_begin_ns) s->oldest_snapshot_age_s = (double)(util_now_ns() - r.oldest_begin_ns) / 1e9;
    s->recovery_records = db->recovery_records;
    s->recovery_seconds = db->recovery_seconds;
    s->truncated_bytes = db->log.truncated_bytes;
    s->recovery_checkpoint_seq = db->recovery_ckpt_seq;
    s->checkpoint_fallbacks = db->ckpt_fallbacks;
    s->checkpoints = atomic_load(&db->st_checkpoints);
    s->checkpoint_seq = atomic_load(&db->ckpt_seq);
    uint64_t wall = atomic_load(&db->ckpt_wall_ns);
    s->checkpoint_age_s = -1.0;
    if (wall) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        s->checkpoint_age_s = now > wall ? (double)(now - wall) / 1e9 : 0.0;
    }
    s->cleaner_bytes = atomic_load(&db->st_cleaner_bytes);
    s->cleaned_segments = atomic_load(&db->st_cleaned_segments);
    s->compressed_values = atomic_load(&db->st_compressed);
    s->scrub_passes = atomic_load(&db->st_scrub_passes);
    s->scrub_absent_pages = atomic_load(&db->st_scrub_absent);
    s->scrub_checked = atomic_load(&db->st_scrub_checked);
    s->scrub_corrupt = atomic_load(&db->st_scrub_corrupt);
    s->scrub_seconds = (double)atomic_load(&db->st_scrub_ns) / 1e9;
    s->write_delays = atomic_load(&db->st_write_delays);
    s->write_waits = atomic_load(&db->st_write_waits);
    s->write_delay_seconds = (double)atomic_load(&db->st_write_delay_ns) / 1e9;
    space_limits sl;
    space_limits_get(db, &sl);
    s->space_used_bytes = sl.used;
    s->space_limit_bytes = sl.hard;
    s->space_amplification = s->live_bytes ? (double)s->file_bytes / (double)s->live_bytes : 0.0;
    s->write_amplification =
        s->user_bytes ? (double)(s->user_bytes + s->cleaner_bytes) / (double)s->user_bytes : 0.0;
    return LDB_OK;
}

int ldb_checkpoint(ldb *db)
{
    if (!db_ok(db)) return LDB_INVALID;
    if (db->opt.read_only) return LDB_READONLY;
    if (log_failed(&db->log)) return LDB_IO;
    return ckpt_write(db);
}

int ldb_compact(ldb *db)
{
    if (!db_ok(db)) return LDB_INVALID;
    if (db->opt.read_only) return LDB_READONLY;
    if (log_failed(&db->log)) return LDB_IO;
    return gc_compact(db);
}
