/*
 * engine/commit.c — the commit critical section, version installation and
 * pruning, tombstone cleanup, group commit, the NORMAL-mode syncer, and
 * replay of frames during recovery.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/alloc.h"
#include "engine/compress.h"
#include "engine/crc32c.h"
#include "engine/db.h"
#include "engine/durable.h"
#include "engine/space.h"
#include "engine/util.h"

/* Recompute the oldest live snapshot every this many commits: pruning with
 * a stale (lower) bound is safe, it only keeps a version a little longer. */
#define COMMIT_OLDEST_EVERY 64
#define COMMIT_RECLAIM_AT 256

static inline void ctr_add(_Atomic uint64_t *c, uint64_t d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
                          memory_order_relaxed);
}
static inline void ctr_sub(_Atomic uint64_t *c, uint64_t d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) - d,
                          memory_order_relaxed);
}

static inline uint64_t ver_bytes(const idx_version *v, uint16_t klen)
{
    return rec_size(klen, v->vlen == IDX_TOMBSTONE ? 0 : v->vlen);
}

void commit_live_sub(ldb *db, const idx_version *v, uint16_t klen)
{
    log_segment *s = log_segment_by_id(&db->log, v->seg);
    uint64_t b = ver_bytes(v, klen);
    if (s) ctr_sub(&s->live, b);
    ctr_sub(&db->st_live_bytes, b);
}

void commit_live_add(ldb *db, log_segment *s, const idx_version *v, uint16_t klen)
{
    uint64_t b = ver_bytes(v, klen);
    ctr_add(&s->live, b);
    ctr_add(&db->st_live_bytes, b);
}

idx_entry *commit_entry_new(ldb *db, const uint8_t *k, uint16_t kl)
{
    /* Cache-line aligned: with a key of up to 16 bytes the entry, its first
     * version and its key are one line, one miss on the read path. */
    idx_entry *e = slab_alloc(&db->slab, sizeof(idx_entry) + kl);
    if (!e) return NULL;
    memset(e, 0, sizeof *e);
    e->klen = kl;
    memcpy(e->key, k, kl);
    atomic_store_explicit(&e->head, NULL, memory_order_relaxed);
    ctr_add(&db->st_entry_bytes, sizeof(idx_entry) + kl);
    return e;
}

void commit_version_free(void *ctx, void *p)
{
    slab_free_sized(&((ldb *)ctx)->slab, p, sizeof(idx_version));
}

static void entry_release(void *ctx, void *p)
{
    idx_entry *e = p;
    slab_free_sized(&((ldb *)ctx)->slab, e, sizeof(idx_entry) + e->klen);
}

void commit_free_entry(idx_entry *e, void *arg)
{
    ldb *db = arg;
    idx_version *v = atomic_load_explicit(&e->head, memory_order_relaxed);
    while (v) {
        idx_version *o = atomic_load_explicit(&v->older, memory_order_relaxed);
        if (v != &e->first) commit_version_free(db, v);
        v = o;
    }
    entry_release(db, e);
}

/* Cuts every version of e older than the one visible at `oldest`. */
void commit_prune(ldb *db, idx_entry *e, uint64_t oldest)
{
    idx_version *v = atomic_load_explicit(&e->head, memory_order_relaxed);
    while (v && v->seq > oldest) v = atomic_load_explicit(&v->older, memory_order_relaxed);
    if (!v) return;
    idx_version *cut = atomic_load_explicit(&v->older, memory_order_relaxed);
    if (!cut) return;
    /* Reserve before unlinking: an unretirable version must stay linked. */
    size_t n = 0;
    for (idx_version *c = cut; c; c = atomic_load_explicit(&c->older, memory_order_relaxed)) n++;
    if (epoch_reserve(&db->ep, n) != LDB_OK) return;
    atomic_store_explicit(&v->older, NULL, memory_order_release);
    while (cut) {
        idx_version *next = atomic_load_explicit(&cut->older, memory_order_relaxed);
        ctr_sub(&db->st_old_versions, 1);
        if (cut != &e->first) epoch_retire(&db->ep, cut, commit_version_free, db);
        cut = next;
    }
}

static uint64_t oldest_snapshot(ldb *db)
{
    if (++db->commits_since_oldest >= COMMIT_OLDEST_EVERY) {
        db->commits_since_oldest = 0;
        uint64_t c = atomic_load_explicit(&db->committed, memory_order_acquire);
        db->oldest_cache = epoch_oldest_snapshot(&db->ep, c);
    }
    return db->oldest_cache;
}

static int tomb_push(ldb *db, idx_entry *e)
{
    if (e->flags & IDX_F_TOMB_PENDING) return LDB_OK;
    if (db->ntombs == db->cap_tombs) {
        size_t nc = db->cap_tombs ? db->cap_tombs * 2 : 64;
        idx_entry **v = alloc_realloc(db->tombs, nc * sizeof *v);
        if (!v) return LDB_NOMEM;
        db->tombs = v;
        db->cap_tombs = nc;
    }
    db->tombs[db->ntombs++] = e;
    e->flags |= IDX_F_TOMB_PENDING;
    return LDB_OK;
}

/* Unlinks e from the index and retires it with all its versions. The
 * caller reserved room in the retire list. */
static void entry_drop(ldb *db, idx_entry *e)
{
    if (idx_remove(&db->tree, e) != LDB_OK) return;
    if (db->use_hash) hash_remove_w(&db->hash, e, hash_key(&db->hash, e->key, e->klen));
    idx_version *v = atomic_load_explicit(&e->head, memory_order_relaxed);
    int head = 1;
    while (v) {
        idx_version *o = atomic_load_explicit(&v->older, memory_order_relaxed);
        /* Only the newest version was counted live; older ones stopped
         * counting when they were superseded. */
        if (head) commit_live_sub(db, v, e->klen);
        else ctr_sub(&db->st_old_versions, 1);
        head = 0;
        if (v != &e->first) epoch_retire(&db->ep, v, commit_version_free, db);
        v = o;
    }
    ctr_sub(&db->st_entry_bytes, sizeof(idx_entry) + e->klen);
    epoch_retire(&db->ep, e, entry_release, db);
}

/* Removes keys whose deletion no snapshot can see past any more. */
static void tombs_collect(ldb *db, uint64_t oldest)
{
    size_t keep = 0, i = 0;
    for (; i < db->ntombs; i++) {
        idx_entry *e = db->tombs[i];
        idx_version *h = atomic_load_explicit(&e->head, memory_order_relaxed);
        if (!h || h->vlen != IDX_TOMBSTONE) { /* written again since */
            e->flags &= (uint16_t)~IDX_F_TOMB_PENDING;
            continue;
        }
        if (h->seq > oldest) {
            db->tombs[keep++] = e;
            continue;
        }
        size_t chain = 0;
        for (idx_version *c = h; c; c = atomic_load_explicit(&c->older, memory_order_relaxed)) chain++;
        if (epoch_reserve(&db->ep, IDX_REMOVE_RETIRES + chain + 1) != LDB_OK) break;
        entry_drop(db, e);
    }
    for (; i < db->ntombs; i++) db->tombs[keep++] = db->tombs[i];
    db->ntombs = keep;
}

/* Undo for a commit that failed before its frame was written: entries it
 * created (still without versions) leave the index; versions are freed. */
static void commit_undo(ldb *db, commit_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        commit_op *op = &ops[i];
        if (op->ver && op->entry && op->ver != &op->entry->first) commit_version_free(db, op->ver);
        op->ver = NULL;
        if (op->created && op->entry) {
            if (epoch_reserve(&db->ep, IDX_REMOVE_RETIRES + 1) == LDB_OK &&
                idx_remove(&db->tree, op->entry) == LDB_OK) {
                if (db->use_hash)
                    hash_remove_w(&db->hash, op->entry,
                                  hash_key(&db->hash, op->entry->key, op->entry->klen));
                ctr_sub(&db->st_entry_bytes, sizeof(idx_entry) + op->entry->klen);
                epoch_retire(&db->ep, op->entry, entry_release, db);
            }
            /* else: it stays as a key without versions, invisible to readers
             * and dropped the next time the key is deleted */
            op->entry = NULL;
            op->created = 0;
        }
    }
}

/* Finds or creates entries and allocates versions for every op. */
static int commit_prepare(ldb *db, commit_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        commit_op *op = &ops[i];
        op->skip = 0;
        op->created = 0;
        op->ver = NULL;
        idx_path path;
        uint64_t hv = 0;
        idx_entry *e;
        if (db->use_hash) {
            /* Existing keys (overwrites) never touch the tree. */
            hv = op->hv;
            e = hash_find(&db->hash, op->key, op->klen, hv);
        } else {
            e = idx_find_wc(&db->tree, op->key, op->klen, &path);
        }
        idx_version *h = e ? atomic_load_explicit(&e->head, memory_order_relaxed) : NULL;
        if (op->type == REC_DEL && (!h || h->vlen == IDX_TOMBSTONE)) {
            op->skip = 1; /* deleting an absent key changes nothing */
            op->entry = e;
            continue;
        }
        if (!e) {
            e = commit_entry_new(db, op->key, op->klen);
            if (!e) return LDB_NOMEM;
            if (db->use_hash) idx_find_wc(&db->tree, op->key, op->klen, &path);
            int rc = idx_insert_wc(&db->tree, &path, e);
            if (rc == LDB_OK && db->use_hash) {
                rc = hash_insert_w(&db->hash, e, hv);
                if (rc) idx_remove(&db->tree, e); /* a fresh leaf slot: retires nothing */
            }
            if (rc) {
                ctr_sub(&db->st_entry_bytes, sizeof(idx_entry) + op->klen);
                entry_release(db, e);
                return rc;
            }
            op->created = 1;
        }
        op->entry = e;
        if (!atomic_load_explicit(&e->head, memory_order_relaxed) && e->first.seq == 0) {
            op->ver = &e->first;
        } else {
            op->ver = slab_alloc(&db->slab, sizeof(idx_version));
            if (!op->ver) return LDB_NOMEM;
        }
    }
    return LDB_OK;
}

static void install(ldb *db, commit_op *op, uint64_t seq, const uint8_t *rec, log_segment *seg,
                    uint64_t oldest)
{
    idx_entry *e = op->entry;
    idx_version *v = op->ver, *old = atomic_load_explicit(&e->head, memory_order_relaxed);
    v->seq = seq;
    v->rec = rec;
    v->seg = (uint32_t)seg->id;
    v->vlen = op->type == REC_DEL ? IDX_TOMBSTONE : op->slen;
    atomic_store_explicit(&v->older, old, memory_order_relaxed);
    atomic_store_explicit(&e->head, v, memory_order_release);
    if (db->use_hash) hash_set_hint_w(&db->hash, e, op->hv, rec); /* op->key is e's key */
    commit_live_add(db, seg, v, e->klen);
    int was_live = old && old->vlen != IDX_TOMBSTONE;
    if (old) {
        commit_live_sub(db, old, e->klen);
        ctr_add(&db->st_old_versions, 1);
    }
    if (op->type == REC_DEL) {
        ctr_add(&db->st_deletes, 1);
        if (was_live) ctr_sub(&db->st_keys, 1);
        tomb_push(db, e); /* on failure the key stays as a tombstone: harmless */
    } else {
        ctr_add(&db->st_puts, 1);
        if (!was_live) ctr_add(&db->st_keys, 1);
    }
    if (old) commit_prune(db, e, oldest);
}

/* One-op commits compress into a per-thread buffer (no allocation per put
 * once it has grown); larger commits get one buffer for all their values. */
static _Thread_local uint8_t *tls_cbuf;
static _Thread_local size_t tls_cbuf_cap;
/* The key only frees a thread's buffer when the thread exits (applications
 * that run many short-lived writer threads would otherwise leak one buffer
 * each); the hot path reads the _Thread_local pointer. */
static pthread_key_t cbuf_key;
static pthread_once_t cbuf_once = PTHREAD_ONCE_INIT;
static int cbuf_key_ok;

static void cbuf_thread_exit(void *p)
{
    alloc_free(p);
}

static void cbuf_key_init(void)
{
    cbuf_key_ok = pthread_key_create(&cbuf_key, cbuf_thread_exit) == 0;
}

static void commit_free_cbuf(uint8_t *b)
{
    if (b != tls_cbuf) alloc_free(b);
}

static int commit_compress(ldb *db, commit_op *ops, size_t n, uint8_t **cbuf)
{
    int comp = db->opt.compression;
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        commit_op *op = &ops[i];
        op->comp = REC_COMP_NONE;
        op->slen = op->vlen;
        op->sval = op->val;
        if (comp && op->type == REC_PUT && op->vlen >= db->opt.compression_min)
            need += compress_bound(comp, op->vlen);
    }
    if (!need) return LDB_OK;
    uint8_t *buf;
    if (n == 1) {
        if (tls_cbuf_cap < need) {
            pthread_once(&cbuf_once, cbuf_key_init);
            uint8_t *nb = alloc_realloc(tls_cbuf, need);
            if (!nb) return LDB_NOMEM;
            tls_cbuf = nb;
            tls_cbuf_cap = need;
            if (cbuf_key_ok) pthread_setspecific(cbuf_key, nb);
        }
        buf = tls_cbuf;
    } else {
        buf = alloc_malloc(need);
        if (!buf) return LDB_NOMEM;
    }
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        commit_op *op = &ops[i];
        if (!(op->type == REC_PUT && op->vlen >= db->opt.compression_min)) continue;
        size_t bound = compress_bound(comp, op->vlen);
        size_t c = compress_value(comp, op->val, op->vlen, buf + used, bound);
        if (!c) continue;
        op->comp = (uint8_t)comp;
        op->slen = (uint32_t)c;
        op->sval = buf + used;
        used += c;
    }
    *cbuf = buf;
    return LDB_OK;
}

int commit_apply(ldb *db, commit_op *ops, size_t n, commit_validate_fn validate, void *varg,
                 uint64_t *seq_out)
{
    int rc;
    size_t frame = REC_FRAME_HDR;
    uint8_t *cbuf = NULL;
    /* Backpressure (space.h): below the soft limit this is a few loads. */
    if (LDB_UNLIKELY(space_over_watch(db))) space_throttle(db);
    rc = commit_compress(db, ops, n, &cbuf);
    if (rc) return rc;
    /* The keys' hash slots start to arrive while the checksums run, so the
     * probe under the lock finds them cached (measured: random-order fill
     * 2.64 -> 2.12 us/put). This thread is in no read section, hence the
     * variant that never dereferences the table. */
    if (db->use_hash)
        for (size_t i = 0; i < n; i++) {
            /* hashed once here; prepare and install reuse it */
            ops[i].hv = hash_key(&db->hash, ops[i].key, ops[i].klen);
            if (i < 16) hash_prefetch_any(&db->hash, ops[i].hv);
        }
    /* Checksums outside the lock: they are most of the per-byte work. */
    for (size_t i = 0; i < n; i++) {
        commit_op *op = &ops[i];
        op->crc = rec_crc(op->type, op->comp, op->klen, op->slen, op->vlen, op->key, op->sval);
        frame += rec_size(op->klen, op->slen);
    }
    if (frame > REC_MAX_FRAME) {
        commit_free_cbuf(cbuf);
        return LDB_TOO_LARGE;
    }

    pthread_mutex_lock(&db->commit_mu);
    if (log_failed(&db->log)) {
        rc = LDB_IO;
        util_set_error("the database refuses writes after a failed sync; reopen it");
        goto out;
    }
    if (validate) {
        rc = validate(db, varg);
        if (rc) {
            if (rc == LDB_CONFLICT) ctr_add(&db->st_conflicts, 1);
            if (rc == LDB_CONFLICT && db->opt.sync_mode == LDB_SYNC_FULL) {
                /* The winner may still await its sync, invisible to new
                 * snapshots: a caller retrying at once would conflict again
                 * until it lands. Wait for it so the retry sees it. */
                uint64_t pending = db->last_seq;
                pthread_mutex_unlock(&db->commit_mu);
                commit_free_cbuf(cbuf);
                commit_wait_durable(db, pending);
                return LDB_CONFLICT;
            }
            goto out;
        }
    }
    rc = epoch_reserve(&db->ep, n * 4 + 16);
    if (rc) goto out;
    rc = commit_prepare(db, ops, n);
    if (rc) {
        commit_undo(db, ops, n);
        goto out;
    }
    size_t nrec = 0, body = 0;
    for (size_t i = 0; i < n; i++)
        if (!ops[i].skip) {
            nrec++;
            body += rec_size(ops[i].klen, ops[i].slen);
        }
    if (nrec == 0) {
        if (seq_out) *seq_out = db->last_seq;
        rc = LDB_OK;
        goto out;
    }
    uint8_t *dst;
    log_segment *seg;
    rc = log_reserve(&db->log, REC_FRAME_HDR + body, &dst, &seg);
    if (rc) {
        if (rc == LDB_IO) log_fail(&db->log);
        commit_undo(db, ops, n);
        goto out;
    }
    uint64_t seq = ++db->last_seq;
    rec_frame_write(dst, seq, (uint32_t)body, (uint32_t)nrec, 0,
                    atomic_load_explicit(&seg->synced, memory_order_acquire));
    uint8_t *p = dst + REC_FRAME_HDR;
    uint64_t oldest = oldest_snapshot(db);
    for (size_t i = 0; i < n; i++) {
        commit_op *op = &ops[i];
        if (op->skip) continue;
        op->rec = p;
        p += rec_write(p, op->type, op->comp, op->klen, op->slen, op->vlen, op->crc, op->key,
                       op->sval);
        if (op->comp) ctr_add(&db->st_compressed, 1);
    }
    log_advance(&db->log, REC_FRAME_HDR + body);
    for (size_t i = 0; i < n; i++)
        if (!ops[i].skip) install(db, &ops[i], seq, ops[i].rec, seg, oldest);
    ctr_add(&db->st_commits, 1);
    ctr_add(&db->st_user_bytes, REC_FRAME_HDR + body);
    atomic_store_explicit(&db->appended, seq, memory_order_release);
    if (db->opt.sync_mode != LDB_SYNC_FULL)
        atomic_store_explicit(&db->committed, seq, memory_order_release);
    if (db->ntombs && (db->ntombs >= 64 || db->commits_since_oldest == 0)) tombs_collect(db, oldest);
    if (db->ep.n_items >= COMMIT_RECLAIM_AT) epoch_reclaim(&db->ep);
    if (seq_out) *seq_out = seq;
    pthread_mutex_unlock(&db->commit_mu);
    commit_free_cbuf(cbuf);
    if (db->opt.sync_mode == LDB_SYNC_FULL) return commit_wait_durable(db, seq);
    return LDB_OK;
out:
    pthread_mutex_unlock(&db->commit_mu);
    commit_free_cbuf(cbuf);
    return rc;
}

/* ---- durability ------------------------------------------------------ */

int commit_wait_durable(ldb *db, uint64_t seq)
{
    int rc = LDB_OK;
    pthread_mutex_lock(&db->sync_mu);
    db->sync_waiters++; /* ldb_close waits for this to reach 0 */
    while (db->durable < seq) {
        if (log_failed(&db->log)) {
            rc = LDB_IO;
            break;
        }
        if (db->syncing) {
            pthread_cond_wait(&db->sync_cv, &db->sync_mu);
            continue;
        }
        /* Lead: sync everything appended so far, for everyone waiting. */
        db->syncing = 1;
        pthread_mutex_unlock(&db->sync_mu);
        /* A read section pins the segment read below: by the time this
         * thread syncs it, rotations may have made it old enough for the
         * cleaner to delete and free (seen as a leader blocked forever on
         * a freed segment's sync mutex in test_powerloss under load). */
        epoch_slot *pin = NULL;
        int r = db_thread_slot(db, &pin);
        if (r == LDB_OK) epoch_enter(&db->ep, pin, &db->committed);
        pthread_mutex_lock(&db->commit_mu);
        log_segment *seg = r == LDB_OK ? db->log.active : NULL;
        uint64_t target = atomic_load_explicit(&db->appended, memory_order_acquire);
        uint64_t end = seg ? seg->end : 0;
        pthread_mutex_unlock(&db->commit_mu);
        /* Sealed segments are synced at rotation, but those found at open
         * may come from a NONE-mode run: once, before anything newer can
         * be called durable (else a power cut could leave a gap). */
        if (r == LDB_OK && atomic_load_explicit(&db->sealed_unsynced, memory_order_acquire)) {
            r = dur_sync_log(db, seg ? seg->id - 1 : UINT64_MAX);
            if (r == LDB_OK) atomic_store(&db->sealed_unsynced, 0);
        }
        if (r == LDB_OK && seg) r = log_sync_segment(&db->log, seg, end);
        if (pin) epoch_exit(pin);
        pthread_mutex_lock(&db->sync_mu);
        db->syncing = 0;
        if (r) {
            if (r != LDB_NOMEM) log_fail(&db->log);
            rc = r;
            pthread_cond_broadcast(&db->sync_cv);
            break;
        }
        if (target > db->durable) {
            ctr_add(&db->st_synced_commits, target - db->durable);
            db->durable = target;
        }
        ctr_add(&db->st_syncs, 1);
        uint64_t c = atomic_load_explicit(&db->committed, memory_order_relaxed);
        if (target > c) atomic_store_explicit(&db->committed, target, memory_order_release);
        pthread_cond_broadcast(&db->sync_cv);
    }
    db->sync_waiters--;
    pthread_mutex_unlock(&db->sync_mu);
    return rc;
}

static void *syncer_main(void *arg)
{
    ldb *db = arg;
    pthread_mutex_lock(&db->sync_mu);
    while (!db->stop) {
        struct timespec ts;
        util_deadline_ms(&ts, db->opt.sync_interval_ms); /* sync_cv is monotonic */
        /* sync_cv is also broadcast by every group-commit sync (ldb_sync,
         * checkpoints); only the deadline or a stop ends the interval, so
         * NORMAL syncs once per interval, not once per broadcast. */
        while (!db->stop &&
               pthread_cond_timedwait(&db->sync_cv, &db->sync_mu, &ts) != ETIMEDOUT) {}
        if (db->stop) break;
        uint64_t a = atomic_load_explicit(&db->appended, memory_order_acquire);
        if (a > db->durable && !log_failed(&db->log)) {
            pthread_mutex_unlock(&db->sync_mu);
            commit_wait_durable(db, a);
            pthread_mutex_lock(&db->sync_mu);
        }
    }
    pthread_mutex_unlock(&db->sync_mu);
    return NULL;
}

int commit_start_syncer(ldb *db)
{
    if (db->opt.sync_mode != LDB_SYNC_NORMAL || db->opt.read_only) return LDB_OK;
    db->stop = 0;
    if (pthread_create(&db->syncer, NULL, syncer_main, db) != 0) return LDB_NOMEM;
    db->syncer_running = 1;
    return LDB_OK;
}

void commit_stop_syncer(ldb *db)
{
    if (!db->syncer_running) return;
    pthread_mutex_lock(&db->sync_mu);
    db->stop = 1;
    pthread_cond_broadcast(&db->sync_cv);
    pthread_mutex_unlock(&db->sync_mu);
    pthread_join(db->syncer, NULL);
    db->syncer_running = 0;
}

/* ---- recovery -------------------------------------------------------- */

/* Installs one replayed record at sequence `seq` (no reader exists during
 * recovery, so versions are rewritten in place and no chain is kept). */
static int replay_record(ldb *db, const rec_view *r, uint64_t seq, log_segment *seg)
{
    idx_path path;
    idx_entry *e = idx_find_wc(&db->tree, r->key, r->klen, &path);
    idx_version *h = e ? atomic_load_explicit(&e->head, memory_order_relaxed) : NULL;
    if (h && h->seq > seq) return LDB_OK; /* a newer version is known */
    if (h && h->seq == seq) {
        /* The same version again: the cleaner's relocated copy. The later
         * location wins (the older file is going away). */
        if (h->rec) commit_live_sub(db, h, e->klen);
        else db->unresolved--;
        h->rec = r->rec;
        h->seg = (uint32_t)seg->id;
        commit_live_add(db, seg, h, e->klen);
        return LDB_OK;
    }
    if (!e) {
        /* Even a delete of an unknown key creates an entry (a tombstone):
         * the log is not in sequence order (the cleaner moves records
         * forward), so an older put of this key may still come and must
         * lose to it. finish_recovery drops such entries. */
        e = commit_entry_new(db, r->key, r->klen);
        if (!e) return LDB_NOMEM;
        if (idx_insert_wc(&db->tree, &path, e)) {
            ctr_sub(&db->st_entry_bytes, sizeof(idx_entry) + r->klen);
            entry_release(db, e);
            return LDB_NOMEM;
        }
    }
    int was_live = h && h->vlen != IDX_TOMBSTONE;
    if (h) {
        if (h->rec) commit_live_sub(db, h, e->klen);
        else db->unresolved--; /* superseded before its location was found */
    }
    idx_version *v = h ? h : &e->first;
    v->seq = seq;
    v->rec = r->rec;
    v->seg = (uint32_t)seg->id;
    v->vlen = r->type == REC_DEL ? IDX_TOMBSTONE : r->vlen;
    atomic_store_explicit(&v->older, NULL, memory_order_relaxed);
    atomic_store_explicit(&e->head, v, memory_order_relaxed);
    commit_live_add(db, seg, v, e->klen);
    if (r->type == REC_DEL) {
        if (was_live) ctr_sub(&db->st_keys, 1);
        if (tomb_push(db, e)) return LDB_NOMEM;
    } else if (!was_live) {
        ctr_add(&db->st_keys, 1);
    }
    return LDB_OK;
}

/* An older version moved by the cleaner while a newer one (sequence sup)
 * was the key's head. Such a copy lands in the log after the newer version,
 * and may outlive it (the cleaner drops a delete once its own segment is
 * the oldest), so applying it in log order could resurrect a deleted key.
 * It is needed only if the newer version never became durable (FULL mode:
 * it was awaiting its sync when the process died); commits become durable
 * in sequence order, so that is exactly when replay found no sequence as
 * high as sup. */
typedef struct replay_deferred {
    const uint8_t *rec;
    uint64_t seq, sup;
    log_segment *seg;
} replay_deferred;

static int defer_push(ldb *db, const uint8_t *rec, uint64_t seq, uint64_t sup, log_segment *seg)
{
    if (db->ndeferred == db->cap_deferred) {
        size_t nc = db->cap_deferred ? db->cap_deferred * 2 : 64;
        replay_deferred *v = alloc_realloc(db->deferred, nc * sizeof *v);
        if (!v) return LDB_NOMEM;
        db->deferred = v;
        db->cap_deferred = nc;
    }
    db->deferred[db->ndeferred++] = (replay_deferred){rec, seq, sup, seg};
    return LDB_OK;
}

int commit_replay_settle(ldb *db)
{
    int rc = LDB_OK;
    for (size_t i = 0; i < db->ndeferred && rc == LDB_OK; i++) {
        replay_deferred *d = &db->deferred[i];
        if (d->sup <= db->last_seq) continue; /* its successor is durable */
        rec_view r;
        rec_parse(d->rec, REC_MAX_FRAME, &r); /* checked by the log */
        rc = replay_record(db, &r, d->seq, d->seg);
    }
    alloc_free(db->deferred);
    db->deferred = NULL;
    db->ndeferred = db->cap_deferred = 0;
    return rc;
}

int commit_replay_frame(void *arg, const rec_frame *f, const uint8_t *frame, log_segment *seg)
{
    ldb *db = arg;
    const uint8_t *p = frame + REC_FRAME_HDR;
    const uint8_t *seqs = NULL; /* relocated frames carry one seq per record */
    for (uint32_t i = 0; i < f->nrec; i++) {
        rec_view r;
        rec_parse(p, f->total - (size_t)(p - frame), &r); /* checked by the log */
        p += rec_size(r.klen, r.vlen);
        if (r.type == REC_SEQS) {
            seqs = r.val;
            continue;
        }
        uint64_t seq = f->seq;
        if (seqs) {
            seq = util_get_u64(seqs + REC_SEQS_ENTRY * (i - 1));
            uint64_t sup = util_get_u64(seqs + REC_SEQS_ENTRY * (i - 1) + 8);
            if (sup > seq) {
                /* An older version the cleaner moved for a snapshot; decided
                 * when replay ends (commit_replay_settle). */
                int rc = defer_push(db, r.rec, seq, sup, seg);
                if (rc) return rc;
                continue;
            }
        }
        int rc = replay_record(db, &r, seq, seg);
        if (rc) return rc;
        if (seq > db->last_seq) db->last_seq = seq;
        db->recovery_records++;
    }
    if (!seqs && f->seq > db->last_seq) db->last_seq = f->seq;
    db->replayed_bytes += f->total;
    return 0;
}

int commit_reset_index(ldb *db)
{
    for (size_t i = 0; i < db->ntombs; i++) db->tombs[i]->flags &= (uint16_t)~IDX_F_TOMB_PENDING;
    db->ntombs = 0;
    if (db->use_hash) hash_clear_w(&db->hash);
    db->use_hash = 0;
    idx_destroy(&db->tree, commit_free_entry, db);
    epoch_reclaim(&db->ep);
    for (size_t i = 0; i < db->log.nsegs; i++) atomic_store(&db->log.segs[i]->live, 0);
    atomic_store(&db->st_keys, 0);
    atomic_store(&db->st_live_bytes, 0);
    atomic_store(&db->st_entry_bytes, 0);
    atomic_store(&db->st_old_versions, 0);
    db->last_seq = 0;
    db->recovery_records = 0;
    db->replayed_bytes = 0;
    db->unresolved = 0;
    alloc_free(db->deferred);
    db->deferred = NULL;
    db->ndeferred = db->cap_deferred = 0;
    return idx_init(&db->tree, &db->ep);
}

/* Builds the accelerator from the recovered index (bulk, one pass). */
static int build_hash(ldb *db)
{
    int rc = hash_reserve_w(&db->hash, atomic_load(&db->st_keys) + 1024);
    if (rc) return rc;
    idx_entry *buf[IDX_CAP];
    const idx_key *fence = NULL;
    const uint8_t *from = NULL;
    size_t from_len = 0;
    for (;;) {
        size_t n = idx_leaf_ge(&db->tree, from, from_len, 0, buf, &fence);
        for (size_t i = 0; i < n; i++) {
            rc = hash_insert_w(&db->hash, buf[i], hash_key(&db->hash, buf[i]->key, buf[i]->klen));
            if (rc) return rc;
        }
        if (!fence) return LDB_OK;
        from = fence->bytes;
        from_len = fence->len;
    }
}

int commit_finish_recovery(ldb *db)
{
    tombs_collect(db, UINT64_MAX);
    if (db->opt.hash_accelerator) {
        int rc = build_hash(db);
        if (rc) return rc;
        db->use_hash = 1;
    }
    epoch_reclaim(&db->ep);
    atomic_store(&db->committed, db->last_seq);
    atomic_store(&db->appended, db->last_seq);
    db->durable = db->last_seq;
    db->oldest_cache = db->last_seq;
    return LDB_OK;
}

/* Test support: the accelerator and the ordered index hold exactly the same
 * entries, and the tree's own invariants hold. */
int commit_check_indexes(ldb *db)
{
    int rc = LDB_OK;
    pthread_mutex_lock(&db->commit_mu);
    uint64_t entries = 0;
    if (idx_check(&db->tree, &entries) != 0) {
        rc = LDB_CORRUPTION;
        goto out;
    }
    if (db->use_hash) {
        hash_settle_w(&db->hash); /* a growth in progress: count one table */
        hash_table *t = atomic_load_explicit(&db->hash.table, memory_order_relaxed);
        if (t->used != entries) {
            rc = LDB_CORRUPTION;
            goto out;
        }
        idx_entry *buf[IDX_CAP];
        const idx_key *fence = NULL;
        const uint8_t *from = NULL;
        size_t from_len = 0;
        for (;;) {
            size_t n = idx_leaf_ge(&db->tree, from, from_len, 0, buf, &fence);
            for (size_t i = 0; i < n; i++)
                if (hash_find(&db->hash, buf[i]->key, buf[i]->klen,
                              hash_key(&db->hash, buf[i]->key, buf[i]->klen)) != buf[i]) {
                    rc = LDB_CORRUPTION;
                    goto out;
                }
            if (!fence) break;
            from = fence->bytes;
            from_len = fence->len;
        }
    }
out:
    pthread_mutex_unlock(&db->commit_mu);
    return rc;
}
