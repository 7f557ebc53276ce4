/*
 * engine/iter.c — ordered iteration over a snapshot, merged with a
 * transaction's own writes.
 *
 * Two sources feed an iterator: the index (read a leaf at a time into a
 * small buffer, then continued from the leaf's fence key) filtered to the
 * versions visible at the snapshot, and — for iterators over a transaction
 * — the write set's sorted view, whose entries override the index and whose
 * deletes hide keys. Both sources stay positioned; moving in the same
 * direction advances the source(s) at the current key; turning around
 * repositions both strictly beyond the current key.
 *
 * Lifetime: the iterator's reads are pinned by an epoch read section (its
 * own for a database iterator, the transaction's otherwise), so buffered
 * entries, fence keys and value pointers stay valid until it moves or
 * closes. An iterator over a transaction that ends stops working
 * (LDB_INVALID) but must still be closed.
 *
 * Serializable transactions: the iterator tracks the key interval it has
 * observed (widened to infinity when it runs off an end) and adds it to the
 * transaction's read set, so a commit by someone else inside it is a
 * conflict (no phantoms).
 */
#include <string.h>

#include "engine/alloc.h"
#include "engine/txn.h"
#include "engine/util.h"

typedef struct icur {
    idx_entry *buf[IDX_CAP];
    size_t n, i;
    int dir;                /* order of buf: +1 ascending, -1 descending */
    const idx_key *fence;   /* where the next leaf's worth starts */
    idx_entry *cur;         /* current visible entry, NULL when exhausted */
    idx_version *ver;
} icur;

struct ldb_iter {
    uint32_t magic;
    ldb *db;
    ldb_txn *txn;
    epoch_slot *slot;       /* own slot (database iterator) */
    uint64_t snap;
    int status;
    int dir;
    int valid;
    icur ic;
    const uint32_t *ws_idx; /* transaction write set, sorted */
    size_t ws_n;
    ptrdiff_t wi;
    uint64_t ws_gen;
    const uint8_t *key;
    size_t klen;
    const wset_op *cur_op;  /* current comes from the write set */
    void *scratch;
    int has_range, rlo_inf, rhi_inf;
    const uint8_t *rlo, *rhi;
    size_t rlolen, rhilen;
};

static int iter_ok(const ldb_iter *it) { return it && it->magic == LDB_MAGIC_ITER; }

/* ---- index source ---------------------------------------------------- */

/* How many entries ahead of the current one a step starts the record's
 * miss: a scan's steps are entry -> version -> record, each a miss, and
 * with the entries requested when their leaf is buffered, the records a
 * few steps ahead arrive while the caller works on this one. */
#define IC_AHEAD 4

/* A leaf's worth just landed in buf: request every entry now (they are
 * independent misses), instead of one per step. */
static void ic_prefetch_entries(const icur *c)
{
    for (size_t j = 0; j < c->n; j++) __builtin_prefetch(c->buf[j]);
}

/* Starts the miss of the newest record of the entry IC_AHEAD steps ahead
 * (the version a scan almost always wants; an older one is simply not
 * prefetched). */
static void ic_prefetch_ahead(const icur *c)
{
    if (c->i + IC_AHEAD >= c->n) return;
    const idx_entry *e = c->buf[c->i + IC_AHEAD];
    /* Acquire, as db_visible's: the version's fields were written before
     * the release that published it. */
    const idx_version *v = atomic_load_explicit(&e->head, memory_order_acquire);
    if (v && v->rec) __builtin_prefetch(v->rec);
}

static void ic_settle(ldb_iter *it)
{
    icur *c = &it->ic;
    for (;;) {
        while (c->i == c->n) {
            if (!c->fence) {
                c->cur = NULL;
                return;
            }
            const idx_key *f = c->fence;
            if (c->dir > 0) c->n = idx_leaf_ge(&it->db->tree, f->bytes, f->len, 0, c->buf, &c->fence);
            else c->n = idx_leaf_le(&it->db->tree, f->bytes, f->len, 1, c->buf, &c->fence);
            c->i = 0;
            ic_prefetch_entries(c);
        }
        idx_entry *e = c->buf[c->i];
        idx_version *v = db_visible(e, it->snap);
        ic_prefetch_ahead(c);
        if (v && v->vlen != IDX_TOMBSTONE) {
            c->cur = e;
            c->ver = v;
            return;
        }
        c->i++;
    }
}

static void ic_load(ldb_iter *it, int dir, const uint8_t *k, size_t kl, int excl)
{
    icur *c = &it->ic;
    c->dir = dir;
    c->i = 0;
    if (dir > 0) c->n = idx_leaf_ge(&it->db->tree, k, kl, excl, c->buf, &c->fence);
    else c->n = idx_leaf_le(&it->db->tree, k, kl, excl, c->buf, &c->fence);
    ic_prefetch_entries(c);
    ic_settle(it);
}

static void ic_advance(ldb_iter *it)
{
    it->ic.i++;
    ic_settle(it);
}

/* ---- write-set source ------------------------------------------------ */

static const wset_op *ws_cur(const ldb_iter *it)
{
    if (it->wi < 0 || (size_t)it->wi >= it->ws_n) return NULL;
    return &it->txn->ws.ops[it->ws_idx[it->wi]];
}

/* First position with key >= k (> k when excl); dir < 0 mirrors. */
static void ws_position(ldb_iter *it, int dir, const uint8_t *k, size_t kl, int excl)
{
    if (!it->ws_n) {
        it->wi = -1;
        return;
    }
    if (!k) {
        it->wi = dir > 0 ? 0 : (ptrdiff_t)it->ws_n - 1;
        return;
    }
    const wset_op *ops = it->txn->ws.ops;
    size_t lo = 0, hi = it->ws_n;
    /* count of keys < k (or <= k) */
    int upper = (dir > 0) ? excl : !excl;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const wset_op *op = &ops[it->ws_idx[mid]];
        int c = util_keycmp(op->key, op->klen, k, kl);
        if (c < 0 || (upper && c == 0)) lo = mid + 1;
        else hi = mid;
    }
    it->wi = dir > 0 ? (ptrdiff_t)lo : (ptrdiff_t)lo - 1;
}

/* Refreshes the sorted view if the transaction wrote since; returns 1 when
 * it did (the write-set position must then be recomputed). */
static int ws_refresh(ldb_iter *it)
{
    if (!it->txn || it->txn->ws.nops == 0) {
        int changed = it->ws_n != 0;
        it->ws_n = 0;
        it->wi = -1;
        return changed;
    }
    if (it->ws_idx && it->ws_gen == it->txn->ws.gen) return 0;
    const uint32_t *idx;
    if (wset_sorted(&it->txn->ws, &idx) != LDB_OK) {
        it->status = LDB_NOMEM;
        return 0;
    }
    it->ws_idx = idx;
    it->ws_n = it->txn->ws.nops;
    it->ws_gen = it->txn->ws.gen;
    return 1;
}

/* ---- merging ----------------------------------------------------------- */

static void range_note(ldb_iter *it, const uint8_t *k, size_t kl)
{
    if (!it->txn || !(it->txn->flags & LDB_TXN_SERIALIZABLE)) return;
    if (!it->has_range) {
        it->has_range = 1;
        it->rlo = it->rhi = k;
        it->rlolen = it->rhilen = kl;
        return;
    }
    if (!it->rlo_inf && util_keycmp(k, kl, it->rlo, it->rlolen) < 0) {
        it->rlo = k;
        it->rlolen = kl;
    }
    if (!it->rhi_inf && util_keycmp(k, kl, it->rhi, it->rhilen) > 0) {
        it->rhi = k;
        it->rhilen = kl;
    }
}

/* Seek targets come from the caller's memory: keep a stable copy. */
static void range_note_target(ldb_iter *it, const uint8_t *k, size_t kl)
{
    if (!it->txn || !(it->txn->flags & LDB_TXN_SERIALIZABLE) || !k) return;
    const uint8_t *copy = wset_copy(&it->txn->ws, k, kl);
    if (!copy) {
        it->status = LDB_NOMEM;
        return;
    }
    range_note(it, copy, kl);
}

static void range_unbounded(ldb_iter *it, int dir)
{
    if (!it->txn || !(it->txn->flags & LDB_TXN_SERIALIZABLE)) return;
    if (!it->has_range) {
        it->has_range = 1;
        it->rlo_inf = it->rhi_inf = 1;
    }
    if (dir > 0) it->rhi_inf = 1;
    else it->rlo_inf = 1;
}

/* Chooses the current key from the two sources in direction dir, skipping
 * keys the transaction deleted. */
static void merge_pick(ldb_iter *it)
{
    int dir = it->dir;
    for (;;) {
        idx_entry *e = it->ic.cur;
        const wset_op *op = ws_cur(it);
        if (!e && !op) {
            it->valid = 0;
            range_unbounded(it, dir);
            return;
        }
        int c;
        if (!e) c = 1;
        else if (!op) c = -1;
        else c = util_keycmp(e->key, e->klen, op->key, op->klen) * dir;
        /* c < 0: index first; c > 0: write set first; 0: same key */
        if (c >= 0 && op->type == REC_DEL) {
            range_note(it, op->key, op->klen);
            it->wi += dir;
            if (c == 0) ic_advance(it);
            continue;
        }
        it->valid = 1;
        if (c < 0) {
            it->key = e->key;
            it->klen = e->klen;
            it->cur_op = NULL;
        } else {
            it->key = op->key;
            it->klen = op->klen;
            it->cur_op = op;
        }
        range_note(it, it->key, it->klen);
        return;
    }
}

static void iter_reset_value(ldb_iter *it)
{
    alloc_free(it->scratch);
    it->scratch = NULL;
}

static int iter_position(ldb_iter *it, int dir, const void *k, size_t kl, int excl)
{
    iter_reset_value(it);
    ws_refresh(it);
    it->dir = dir;
    ic_load(it, dir, k, kl, excl);
    ws_position(it, dir, k, kl, excl);
    merge_pick(it);
    return it->status;
}

static int iter_step(ldb_iter *it, int dir)
{
    if (!iter_ok(it)) return LDB_INVALID;
    if (it->status) return it->status;
    if (!it->valid) return LDB_INVALID;
    iter_reset_value(it);
    const uint8_t *k = it->key;
    size_t kl = it->klen;
    int refreshed = ws_refresh(it);
    if (dir != it->dir) {
        it->dir = dir;
        ic_load(it, dir, k, kl, 1);
        ws_position(it, dir, k, kl, 1);
    } else {
        if (it->ic.cur && util_keycmp(it->ic.cur->key, it->ic.cur->klen, k, kl) == 0)
            ic_advance(it);
        if (refreshed) {
            ws_position(it, dir, k, kl, 1);
        } else {
            const wset_op *op = ws_cur(it);
            if (op && util_keycmp(op->key, op->klen, k, kl) == 0) it->wi += dir;
        }
    }
    merge_pick(it);
    return it->status;
}

/* ---- API ------------------------------------------------------------- */

static int iter_new(ldb *db, ldb_txn *t, ldb_iter **out)
{
    ldb_iter *it = alloc_calloc(1, sizeof *it);
    if (!it) return LDB_NOMEM;
    it->magic = LDB_MAGIC_ITER;
    it->db = db;
    it->txn = t;
    it->wi = -1;
    it->dir = 1;
    if (t) {
        int rc = txn_attach_iter(t, it);
        if (rc) {
            alloc_free(it);
            return rc;
        }
        it->snap = t->snap;
    } else {
        int rc = epoch_slot_claim(&db->ep, EPOCH_USER, &it->slot);
        if (rc) {
            alloc_free(it);
            return rc;
        }
        it->snap = epoch_enter(&db->ep, it->slot, &db->committed);
    }
    *out = it;
    return LDB_OK;
}

int ldb_iter_open(ldb *db, ldb_iter **out)
{
    if (!db_ok(db) || !out) return LDB_INVALID;
    *out = NULL;
    return iter_new(db, NULL, out);
}

int ldb_iter_open_txn(ldb_txn *t, ldb_iter **out)
{
    if (!t || t->magic != LDB_MAGIC_TXN || !out) return LDB_INVALID;
    *out = NULL;
    return iter_new(t->db, t, out);
}

static int iter_usable(const ldb_iter *it)
{
    if (!iter_ok(it)) return LDB_INVALID;
    if (it->status == LDB_INVALID) return LDB_INVALID;
    return LDB_OK;
}

int ldb_iter_seek(ldb_iter *it, const void *k, size_t klen)
{
    int rc = iter_usable(it);
    if (rc) return rc;
    rc = db_check_key(k, klen);
    if (rc) return rc;
    it->status = LDB_OK;
    range_note_target(it, k, klen);
    return iter_position(it, 1, k, klen, 0);
}

int ldb_iter_first(ldb_iter *it)
{
    int rc = iter_usable(it);
    if (rc) return rc;
    it->status = LDB_OK;
    range_unbounded(it, -1);
    return iter_position(it, 1, NULL, 0, 0);
}

int ldb_iter_last(ldb_iter *it)
{
    int rc = iter_usable(it);
    if (rc) return rc;
    it->status = LDB_OK;
    range_unbounded(it, 1);
    return iter_position(it, -1, NULL, 0, 0);
}

int ldb_iter_next(ldb_iter *it) { return iter_step(it, 1); }
int ldb_iter_prev(ldb_iter *it) { return iter_step(it, -1); }

int ldb_iter_valid(const ldb_iter *it) { return iter_ok(it) && !it->status && it->valid; }

int ldb_iter_key(const ldb_iter *it, const void **k, size_t *klen)
{
    if (!ldb_iter_valid(it) || !k || !klen) return LDB_INVALID;
    *k = it->key;
    *klen = it->klen;
    return LDB_OK;
}

int ldb_iter_value(ldb_iter *it, const void **v, size_t *vlen)
{
    if (!ldb_iter_valid(it) || !v || !vlen) return LDB_INVALID;
    if (it->cur_op) {
        *v = it->cur_op->val ? (const void *)it->cur_op->val : (const void *)"";
        *vlen = it->cur_op->vlen;
        return LDB_OK;
    }
    iter_reset_value(it);
    int rc = db_value(it->db, it->ic.cur, it->ic.ver, NULL, 0, v, vlen, &it->scratch);
    if (rc) it->status = rc;
    return rc;
}

int ldb_iter_status(const ldb_iter *it)
{
    if (!iter_ok(it)) return LDB_INVALID;
    return it->status;
}

static void iter_flush_range(ldb_iter *it)
{
    if (!it->txn || !it->has_range) return;
    /* Dropping the range silently would let a phantom inside it go unseen
     * by a serializable commit: the transaction is marked instead. */
    if (txn_note_range(it->txn, it->rlo, it->rlolen, it->rlo_inf, it->rhi, it->rhilen,
                       it->rhi_inf) != LDB_OK)
        it->txn->reads_lost = 1;
    it->has_range = 0;
}

void iter_orphan(ldb_iter *it)
{
    iter_flush_range(it);
    iter_reset_value(it);
    it->txn = NULL;
    it->valid = 0;
    it->status = LDB_INVALID;
    it->ic.cur = NULL;
    it->ic.n = it->ic.i = 0;
    it->ic.fence = NULL;
}

void ldb_iter_close(ldb_iter *it)
{
    if (!iter_ok(it)) return;
    if (it->txn) {
        iter_flush_range(it);
        txn_detach_iter(it->txn, it);
    }
    if (it->slot) {
        epoch_exit(it->slot);
        epoch_slot_release(it->slot);
    }
    iter_reset_value(it);
    it->magic = LDB_MAGIC_DEAD;
    alloc_free(it);
}
