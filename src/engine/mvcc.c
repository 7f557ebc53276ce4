/*
 * engine/mvcc.c — version chains and their accounting (see mvcc.h).
 */
#include "engine/mvcc.h"

#include <string.h>

#include "engine/alloc.h"
#include "engine/db.h"

/* Recompute the oldest live snapshot every this many commits. */
#define MVCC_OLDEST_EVERY 64

static inline uint64_t ver_bytes(const idx_version *v, uint16_t klen)
{
    return rec_size(klen, v->vlen == IDX_TOMBSTONE ? 0 : v->vlen);
}

void mvcc_live_sub(ldb *db, const idx_version *v, uint16_t klen)
{
    log_segment *s = log_segment_by_id(&db->log, v->seg);
    uint64_t b = ver_bytes(v, klen);
    if (s) db_ctr_sub(&s->live, b);
    db_ctr_sub(&db->st_live_bytes, b);
}

void mvcc_live_add(ldb *db, log_segment *s, const idx_version *v, uint16_t klen)
{
    uint64_t b = ver_bytes(v, klen);
    db_ctr_add(&s->live, b);
    db_ctr_add(&db->st_live_bytes, b);
}

idx_entry *mvcc_entry_new(ldb *db, const uint8_t *k, uint16_t kl)
{
    /* Cache-line aligned: with a key of up to 16 bytes the entry, its first
     * version and its key are one line, one miss on the read path. */
    idx_entry *e = slab_alloc(&db->slab, sizeof(idx_entry) + kl);
    if (!e) return NULL;
    memset(e, 0, sizeof *e);
    e->klen = kl;
    memcpy(e->key, k, kl);
    atomic_store_explicit(&e->head, NULL, memory_order_relaxed);
    db_ctr_add(&db->st_entry_bytes, sizeof(idx_entry) + kl);
    return e;
}

void mvcc_version_free(void *ctx, void *p)
{
    slab_free_sized(&((ldb *)ctx)->slab, p, sizeof(idx_version));
}

static void entry_release(void *ctx, void *p)
{
    idx_entry *e = p;
    slab_free_sized(&((ldb *)ctx)->slab, e, sizeof(idx_entry) + e->klen);
}

void mvcc_entry_discard(ldb *db, idx_entry *e)
{
    db_ctr_sub(&db->st_entry_bytes, sizeof(idx_entry) + e->klen);
    entry_release(db, e);
}

void mvcc_entry_retire(ldb *db, idx_entry *e)
{
    db_ctr_sub(&db->st_entry_bytes, sizeof(idx_entry) + e->klen);
    epoch_retire(&db->ep, e, entry_release, db);
}

void mvcc_free_entry(idx_entry *e, void *arg)
{
    ldb *db = arg;
    idx_version *v = atomic_load_explicit(&e->head, memory_order_relaxed);
    while (v) {
        idx_version *o = atomic_load_explicit(&v->older, memory_order_relaxed);
        if (v != &e->first) mvcc_version_free(db, v);
        v = o;
    }
    entry_release(db, e);
}

void mvcc_prune(ldb *db, idx_entry *e, uint64_t oldest)
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
    /* Pairs with the acquire loads of readers walking the chain: one that
     * already holds `cut` keeps it until it leaves its read section. */
    atomic_store_explicit(&v->older, NULL, memory_order_release);
    while (cut) {
        idx_version *next = atomic_load_explicit(&cut->older, memory_order_relaxed);
        db_ctr_sub(&db->st_old_versions, 1);
        if (cut != &e->first) epoch_retire(&db->ep, cut, mvcc_version_free, db);
        cut = next;
    }
}

uint64_t mvcc_oldest(ldb *db)
{
    if (++db->commits_since_oldest >= MVCC_OLDEST_EVERY) {
        db->commits_since_oldest = 0;
        /* Acquire pairs with the releases of `committed` (commit_apply,
         * syncer): snapshots are taken at or below it. */
        uint64_t c = atomic_load_explicit(&db->committed, memory_order_acquire);
        db->oldest_cache = epoch_oldest_snapshot(&db->ep, c);
    }
    return db->oldest_cache;
}

void mvcc_install(ldb *db, idx_entry *e, idx_version *v, uint64_t seq, const uint8_t *rec,
                  log_segment *seg, uint32_t vlen, uint64_t hv, uint64_t oldest)
{
    idx_version *old = atomic_load_explicit(&e->head, memory_order_relaxed);
    LDB_ASSERT(!old || old->seq < seq); /* chains are newest first */
    v->seq = seq;
    v->rec = rec;
    v->seg = (uint32_t)seg->id;
    v->vlen = vlen;
    atomic_store_explicit(&v->older, old, memory_order_relaxed);
    /* Pairs with db_visible's acquire load: v is whole before it is seen. */
    atomic_store_explicit(&e->head, v, memory_order_release);
    if (db->use_hash) hash_set_hint_w(&db->hash, e, hv, rec);
    mvcc_live_add(db, seg, v, e->klen);
    int was_live = old && old->vlen != IDX_TOMBSTONE;
    if (old) {
        mvcc_live_sub(db, old, e->klen);
        db_ctr_add(&db->st_old_versions, 1);
    }
    if (vlen == IDX_TOMBSTONE) {
        db_ctr_add(&db->st_deletes, 1);
        if (was_live) db_ctr_sub(&db->st_keys, 1);
        mvcc_tomb_push(db, e); /* on failure the key stays as a tombstone: harmless */
    } else {
        db_ctr_add(&db->st_puts, 1);
        if (!was_live) db_ctr_add(&db->st_keys, 1);
    }
    if (old) mvcc_prune(db, e, oldest);
}

int mvcc_swap(ldb *db, idx_entry *e, idx_version *v, const uint8_t *rec, log_segment *seg)
{
    idx_version *nv = slab_alloc(&db->slab, sizeof *nv);
    if (!nv) return LDB_NOMEM;
    nv->seq = v->seq;
    nv->rec = rec;
    nv->seg = (uint32_t)seg->id;
    nv->vlen = v->vlen;
    atomic_store_explicit(&nv->older, atomic_load_explicit(&v->older, memory_order_relaxed),
                          memory_order_relaxed);
    idx_version *h = atomic_load_explicit(&e->head, memory_order_relaxed);
    /* The release stores pair with readers' acquire loads of head/older: a
     * reader sees v or nv, both whole, both with the same bytes. */
    if (h == v) {
        atomic_store_explicit(&e->head, nv, memory_order_release);
        if (db->use_hash) hash_set_hint_w(&db->hash, e, hash_key(&db->hash, e->key, e->klen), rec);
        /* Only a key's newest version counts as live bytes. */
        mvcc_live_sub(db, v, e->klen);
        mvcc_live_add(db, seg, nv, e->klen);
    } else {
        idx_version *pv = h;
        while (atomic_load_explicit(&pv->older, memory_order_relaxed) != v) {
            pv = atomic_load_explicit(&pv->older, memory_order_relaxed);
            LDB_ASSERT(pv != NULL); /* the cleaner found v in this chain */
        }
        atomic_store_explicit(&pv->older, nv, memory_order_release);
    }
    if (v != &e->first && epoch_retire(&db->ep, v, mvcc_version_free, db) != LDB_OK)
        return LDB_BUSY;
    return LDB_OK;
}

int mvcc_tomb_push(ldb *db, idx_entry *e)
{
    if (e->flags & IDX_F_TOMB_PENDING) return LDB_OK;
    if (db->ntombs == db->cap_tombs) {
        idx_entry **v = alloc_grow(db->tombs, &db->cap_tombs, sizeof *v, 64);
        if (!v) return LDB_NOMEM;
        db->tombs = v;
    }
    db->tombs[db->ntombs++] = e;
    e->flags |= IDX_F_TOMB_PENDING;
    return LDB_OK;
}

/* Unlinks e from the index and retires it with all its versions. The
 * caller reserved room in the retire list. */
static void entry_drop(ldb *db, idx_entry *e) LDB_REQUIRES(db->commit_mu)
{
    if (idx_remove(&db->tree, e) != LDB_OK) return;
    if (db->use_hash) hash_remove_w(&db->hash, e, hash_key(&db->hash, e->key, e->klen));
    idx_version *v = atomic_load_explicit(&e->head, memory_order_relaxed);
    int head = 1;
    while (v) {
        idx_version *o = atomic_load_explicit(&v->older, memory_order_relaxed);
        /* Only the newest version was counted live; older ones stopped
         * counting when they were superseded. */
        if (head) mvcc_live_sub(db, v, e->klen);
        else db_ctr_sub(&db->st_old_versions, 1);
        head = 0;
        if (v != &e->first) epoch_retire(&db->ep, v, mvcc_version_free, db);
        v = o;
    }
    mvcc_entry_retire(db, e);
}

void mvcc_tombs_collect(ldb *db, uint64_t oldest)
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

void mvcc_tombs_clear(ldb *db)
{
    for (size_t i = 0; i < db->ntombs; i++) db->tombs[i]->flags &= (uint16_t)~IDX_F_TOMB_PENDING;
    db->ntombs = 0;
}
