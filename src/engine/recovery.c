/*
 * engine/recovery.c — building the index at open (see recovery.h).
 */
#include "engine/recovery.h"

#include <inttypes.h>
#include <string.h>

#include "engine/alloc.h"
#include "engine/checkpoint.h"
#include "engine/db.h"
#include "engine/mvcc.h"
#include "engine/util.h"

/* An older version moved by the cleaner while a newer one (sequence sup)
 * was the key's head, awaiting replay's end (see replay_frame). */
typedef struct replay_deferred {
    const uint8_t *rec;
    uint64_t seq, sup;
    log_segment *seg;
} replay_deferred;

/* Lives for one recovery_run. */
typedef struct replay_ctx {
    ldb *db;
    uint64_t unresolved;        /* checkpoint entries awaiting a location */
    replay_deferred *deferred;  /* see replay_deferred */
    size_t ndeferred, cap_deferred;
} replay_ctx;


/* Installs one replayed record at sequence `seq` (no reader exists during
 * recovery, so versions are rewritten in place and no chain is kept). */
static int replay_record(ldb *db, replay_ctx *x, const rec_view *r, uint64_t seq,
                         log_segment *seg) LDB_REQUIRES(db->commit_mu)
{
    idx_path path;
    idx_entry *e = idx_find_wc(&db->tree, r->key, r->klen, &path);
    idx_version *h = e ? atomic_load_explicit(&e->head, memory_order_relaxed) : NULL;
    if (h && h->seq > seq) return LDB_OK; /* a newer version is known */
    if (h && h->seq == seq) {
        /* The same version again: the cleaner's relocated copy. The later
         * location wins (the older file is going away). */
        if (h->rec) {
            mvcc_live_sub(db, h, e->klen);
        } else {
            LDB_ASSERT(x->unresolved > 0);
            x->unresolved--;
        }
        h->rec = r->rec;
        h->seg = (uint32_t)seg->id;
        mvcc_live_add(db, seg, h, e->klen);
        return LDB_OK;
    }
    if (!e) {
        /* Even a delete of an unknown key creates an entry (a tombstone):
         * the log is not in sequence order (the cleaner moves records
         * forward), so an older put of this key may still come and must
         * lose to it. finish_recovery drops such entries. */
        e = mvcc_entry_new(db, r->key, r->klen);
        if (!e) return LDB_NOMEM;
        if (idx_insert_wc(&db->tree, &path, e)) {
            mvcc_entry_discard(db, e);
            return LDB_NOMEM;
        }
    }
    int was_live = h && h->vlen != IDX_TOMBSTONE;
    if (h) {
        if (h->rec) {
            mvcc_live_sub(db, h, e->klen);
        } else { /* superseded before its location was found */
            LDB_ASSERT(x->unresolved > 0);
            x->unresolved--;
        }
    }
    idx_version *v = h ? h : &e->first;
    v->seq = seq;
    v->rec = r->rec;
    v->seg = (uint32_t)seg->id;
    v->vlen = r->type == REC_DEL ? IDX_TOMBSTONE : r->vlen;
    atomic_store_explicit(&v->older, NULL, memory_order_relaxed);
    atomic_store_explicit(&e->head, v, memory_order_relaxed);
    mvcc_live_add(db, seg, v, e->klen);
    if (r->type == REC_DEL) {
        if (was_live) db_ctr_sub(&db->st_keys, 1);
        if (mvcc_tomb_push(db, e)) return LDB_NOMEM;
    } else if (!was_live) {
        db_ctr_add(&db->st_keys, 1);
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
static int defer_push(replay_ctx *x, const uint8_t *rec, uint64_t seq, uint64_t sup,
                      log_segment *seg)
{
    if (x->ndeferred == x->cap_deferred) {
        replay_deferred *v = alloc_grow(x->deferred, &x->cap_deferred, sizeof *v, 64);
        if (!v) return LDB_NOMEM;
        x->deferred = v;
    }
    x->deferred[x->ndeferred++] = (replay_deferred){rec, seq, sup, seg};
    return LDB_OK;
}

/* After each log replay: decides the deferred older versions. */
static int replay_settle(ldb *db, replay_ctx *x) LDB_REQUIRES(db->commit_mu)
{
    int rc = LDB_OK;
    for (size_t i = 0; i < x->ndeferred && rc == LDB_OK; i++) {
        replay_deferred *d = &x->deferred[i];
        if (d->sup <= db->last_seq) continue; /* its successor is durable */
        rec_view r;
        rec_parse(d->rec, REC_MAX_FRAME, &r); /* checked by the log */
        rc = replay_record(db, x, &r, d->seq, d->seg);
    }
    alloc_free(x->deferred);
    x->deferred = NULL;
    x->ndeferred = x->cap_deferred = 0;
    return rc;
}

/* log_replay's callback, under recover_locked's lock (which the analysis
 * cannot follow through log_replay's function pointer). */
static int replay_frame(void *arg, const rec_frame *f, const uint8_t *frame, log_segment *seg)
    LDB_NO_TSA
{
    replay_ctx *x = arg;
    ldb *db = x->db;
    rec_cursor c;
    rec_view r;
    uint64_t seq, sup;
    rec_cursor_init(&c, frame, f);
    while (rec_cursor_next(&c, &r, &seq, &sup)) {
        if (sup > seq) {
            /* An older version the cleaner moved for a snapshot; decided
             * when replay ends (replay_settle). */
            int rc = defer_push(x, r.rec, seq, sup, seg);
            if (rc) return rc;
            continue;
        }
        int rc = replay_record(db, x, &r, seq, seg);
        if (rc) return rc;
        if (seq > db->last_seq) db->last_seq = seq;
        db->recovery_records++;
    }
    /* A relocated frame counts through the records applied above (its
     * header's sequence may be that of a deferred older version). */
    if (!c.seqs && f->seq > db->last_seq) db->last_seq = f->seq;
    db->replayed_bytes += f->total;
    return 0;
}

int recovery_reset_index(ldb *db)
{
    mvcc_tombs_clear(db);
    if (db->use_hash) hash_clear_w(&db->hash);
    db->use_hash = 0;
    idx_destroy(&db->tree, mvcc_free_entry, db);
    epoch_reclaim(&db->ep);
    for (size_t i = 0; i < db->log.nsegs; i++) atomic_store(&db->log.segs[i]->live, 0);
    atomic_store(&db->st_keys, 0);
    atomic_store(&db->st_live_bytes, 0);
    atomic_store(&db->st_entry_bytes, 0);
    atomic_store(&db->st_old_versions, 0);
    db->last_seq = 0;
    db->recovery_records = 0;
    db->replayed_bytes = 0;
    return idx_init(&db->tree, &db->ep);
}

/* idx_walk's callback, under build_hash's caller's lock. */
static int hash_add_entry(idx_entry *e, void *arg) LDB_NO_TSA
{
    ldb *db = arg;
    return hash_insert_w(&db->hash, e, hash_key(&db->hash, e->key, e->klen));
}

/* Builds the accelerator from the recovered index (bulk, one pass). */
static int build_hash(ldb *db) LDB_REQUIRES(db->commit_mu)
{
    int rc = hash_reserve_w(&db->hash, atomic_load(&db->st_keys) + 1024);
    if (rc) return rc;
    return idx_walk(&db->tree, NULL, 0, hash_add_entry, db);
}

/* After replay: drops tombstoned keys (no snapshot exists yet) and builds
 * the lookup accelerator. */
static int finish_recovery(ldb *db) LDB_REQUIRES(db->commit_mu)
{
    mvcc_tombs_collect(db, UINT64_MAX);
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

static int recover_locked(ldb *db) LDB_REQUIRES(db->commit_mu);

int recovery_run(ldb *db)
{
    ldb_mutex_lock(&db->commit_mu);
    int rc = recover_locked(db);
    ldb_mutex_unlock(&db->commit_mu);
    return rc;
}

static int recover_locked(ldb *db) LDB_REQUIRES(db->commit_mu)
{
    replay_ctx x = {.db = db};
    ckpt_start cs;
    int rc = ckpt_load(db, &cs);
    if (rc) return rc;
    x.unresolved = cs.unresolved;
    if (cs.seq > db->last_seq) db->last_seq = cs.seq;
    rc = log_replay(&db->log, cs.seg, cs.off, replay_frame, &x);
    if (rc == LDB_OK) rc = replay_settle(db, &x);
    if (rc == LDB_OK && x.unresolved) {
        /* The checkpoint names a location replay could not re-establish:
         * distrust it and rebuild from the whole log. */
        util_set_error("checkpoint seq %" PRIu64 " points at %" PRIu64
                       " records no longer in the log; replaying the whole log instead",
                       cs.seq, x.unresolved);
        db->ckpt_fallbacks++;
        memset(&cs, 0, sizeof cs);
        x.unresolved = 0;
        rc = recovery_reset_index(db);
        if (rc == LDB_OK) rc = log_replay(&db->log, 0, 0, replay_frame, &x);
        if (rc == LDB_OK) rc = replay_settle(db, &x);
    }
    alloc_free(x.deferred);
    if (rc) return rc;
    if (cs.seq > db->last_seq) db->last_seq = cs.seq;
    rc = finish_recovery(db);
    if (rc) return rc;
    db->recovery_ckpt_seq = cs.seq;
    return LDB_OK;
}

static int hash_has_entry(idx_entry *e, void *arg)
{
    ldb *db = arg;
    return hash_find(&db->hash, e->key, e->klen, hash_key(&db->hash, e->key, e->klen)) != e;
}

/* Test support: the accelerator and the ordered index hold exactly the same
 * entries, and the tree's own invariants hold. */
int recovery_check_indexes(ldb *db)
{
    int rc = LDB_OK;
    ldb_mutex_lock(&db->commit_mu);
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
        if (idx_walk(&db->tree, NULL, 0, hash_has_entry, db)) rc = LDB_CORRUPTION;
    }
out:
    ldb_mutex_unlock(&db->commit_mu);
    return rc;
}
