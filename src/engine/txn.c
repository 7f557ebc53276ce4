/*
 * engine/txn.c — transactions and atomic batches (see txn.h).
 */
#include "engine/txn.h"

#include <string.h>

#include "engine/alloc.h"
#include "engine/util.h"

static int txn_ok(const ldb_txn *t) { return t && t->magic == LDB_MAGIC_TXN; }

int ldb_txn_begin(ldb *db, unsigned flags, ldb_txn **out)
{
    if (!db_ok(db) || !out) return LDB_INVALID;
    *out = NULL;
    if (flags & ~(LDB_TXN_READONLY | LDB_TXN_SERIALIZABLE)) return LDB_INVALID;
    if (db->opt.read_only && !(flags & LDB_TXN_READONLY)) flags |= LDB_TXN_READONLY;
    ldb_txn *t = alloc_calloc(1, sizeof *t);
    if (!t) return LDB_NOMEM;
    int rc = epoch_slot_claim(&db->ep, EPOCH_USER, &t->slot);
    if (rc) {
        alloc_free(t);
        return rc;
    }
    t->magic = LDB_MAGIC_TXN;
    t->db = db;
    t->flags = flags;
    wset_init(&t->ws);
    t->snap = epoch_enter(&db->ep, t->slot, &db->committed);
    *out = t;
    return LDB_OK;
}

uint64_t ldb_txn_snapshot(const ldb_txn *t) { return txn_ok(t) ? t->snap : 0; }

static void txn_free(ldb_txn *t)
{
    for (size_t i = 0; i < t->niters; i++) iter_orphan(t->iters[i]);
    if (t->slot) {
        epoch_exit(t->slot);
        epoch_slot_release(t->slot);
    }
    for (size_t i = 0; i < t->nscratch; i++) alloc_free(t->scratch[i]);
    alloc_free(t->scratch);
    alloc_free(t->reads);
    alloc_free(t->iters);
    wset_free(&t->ws);
    t->magic = LDB_MAGIC_DEAD;
    alloc_free(t);
}

int txn_note_range(ldb_txn *t, const uint8_t *lo, size_t lolen, int lo_inf,
                   const uint8_t *hi, size_t hilen, int hi_inf)
{
    if (!(t->flags & LDB_TXN_SERIALIZABLE) || (t->flags & LDB_TXN_READONLY)) return LDB_OK;
    if (t->nreads == t->cap_reads) {
        txn_range *v = alloc_grow(t->reads, &t->cap_reads, sizeof *v, 16);
        if (!v) return LDB_NOMEM;
        t->reads = v;
    }
    txn_range *r = &t->reads[t->nreads];
    memset(r, 0, sizeof *r);
    r->lo_inf = (uint8_t)lo_inf;
    r->hi_inf = (uint8_t)hi_inf;
    if (!lo_inf) {
        r->lo = wset_copy(&t->ws, lo, lolen);
        if (!r->lo) return LDB_NOMEM;
        r->lolen = (uint16_t)lolen;
    }
    if (!hi_inf) {
        if (!lo_inf && hi == lo && hilen == lolen) {
            r->hi = r->lo;
        } else {
            r->hi = wset_copy(&t->ws, hi, hilen);
            if (!r->hi) return LDB_NOMEM;
        }
        r->hilen = (uint16_t)hilen;
    }
    t->nreads++;
    return LDB_OK;
}

int ldb_txn_get(ldb_txn *t, const void *k, size_t klen, const void **v, size_t *vlen)
{
    if (!txn_ok(t) || !v || !vlen) return LDB_INVALID;
    int rc = db_check_key(k, klen);
    if (rc) return rc;
    const wset_op *op = wset_find(&t->ws, k, klen);
    if (op) {
        if (op->type == REC_DEL) return LDB_NOTFOUND;
        *v = op->val ? (const void *)op->val : (const void *)"";
        *vlen = op->vlen;
        return LDB_OK;
    }
    rc = txn_note_range(t, k, klen, 0, k, klen, 0);
    if (rc) return rc;
    idx_entry *e = db_find(t->db, k, klen);
    idx_version *ver = e ? db_visible(e, t->snap) : NULL;
    if (!ver || ver->vlen == IDX_TOMBSTONE) return LDB_NOTFOUND;
    void *scratch = NULL;
    rc = db_value(t->db, e, ver, NULL, 0, v, vlen, &scratch);
    if (scratch) {
        if (t->nscratch == t->cap_scratch) {
            size_t nc = t->cap_scratch ? t->cap_scratch * 2 : 4;
            void **nv = alloc_realloc(t->scratch, nc * sizeof *nv);
            if (!nv) {
                alloc_free(scratch);
                return LDB_NOMEM;
            }
            t->scratch = nv;
            t->cap_scratch = nc;
        }
        t->scratch[t->nscratch++] = scratch;
    }
    return rc;
}

int ldb_txn_put(ldb_txn *t, const void *k, size_t klen, const void *v, size_t vlen)
{
    if (!txn_ok(t)) return LDB_INVALID;
    int rc = db_check_key(k, klen);
    if (rc) return rc;
    rc = db_check_value(v, vlen);
    if (rc) return rc;
    if (t->flags & LDB_TXN_READONLY) return LDB_READONLY;
    return wset_put(&t->ws, REC_PUT, k, klen, v, vlen);
}

int ldb_txn_delete(ldb_txn *t, const void *k, size_t klen)
{
    if (!txn_ok(t)) return LDB_INVALID;
    int rc = db_check_key(k, klen);
    if (rc) return rc;
    if (t->flags & LDB_TXN_READONLY) return LDB_READONLY;
    return wset_put(&t->ws, REC_DEL, k, klen, NULL, 0);
}

/* A key changed after the snapshot when its newest version (published or
 * still awaiting its sync) is newer than the snapshot. */
static int changed_since(idx_entry *e, uint64_t snap)
{
    idx_version *h = e ? atomic_load_explicit(&e->head, memory_order_relaxed) : NULL;
    return h && h->seq > snap;
}

typedef struct range_check {
    const txn_range *r;
    uint64_t snap;
} range_check;

static int range_visit(idx_entry *e, void *arg)
{
    range_check *rc = arg;
    const txn_range *r = rc->r;
    if (!r->hi_inf && util_keycmp(e->key, e->klen, r->hi, r->hilen) > 0) return 1; /* past */
    return changed_since(e, rc->snap) ? 2 : 0;
}

static int txn_validate(ldb *db, void *arg)
{
    ldb_txn *t = arg;
    for (size_t i = 0; i < t->ws.nops; i++) {
        const wset_op *op = &t->ws.ops[i];
        if (changed_since(db_find(db, op->key, op->klen), t->snap)) {
            util_set_error("write-write conflict: a key this transaction writes was committed "
                           "by another transaction after its snapshot");
            return LDB_CONFLICT;
        }
    }
    for (size_t i = 0; i < t->nreads; i++) {
        const txn_range *r = &t->reads[i];
        int hit;
        if (!r->lo_inf && !r->hi_inf && r->lo == r->hi) {
            hit = changed_since(db_find(db, r->lo, r->lolen), t->snap);
        } else {
            range_check rc = {r, t->snap};
            hit = idx_walk(&db->tree, r->lo_inf ? NULL : r->lo, r->lolen, range_visit, &rc) == 2;
        }
        if (hit) {
            util_set_error("serialization conflict: data this transaction read was changed "
                           "after its snapshot");
            return LDB_CONFLICT;
        }
    }
    return LDB_OK;
}

static int commit_wset(ldb *db, wset *ws, commit_validate_fn validate, void *varg)
{
    if (ws->nops == 0) return LDB_OK;
    commit_op *ops = alloc_calloc(ws->nops, sizeof *ops);
    if (!ops) return LDB_NOMEM;
    for (size_t i = 0; i < ws->nops; i++) {
        const wset_op *w = &ws->ops[i];
        ops[i].type = w->type;
        ops[i].klen = w->klen;
        ops[i].vlen = w->vlen;
        ops[i].key = w->key;
        ops[i].val = w->val;
    }
    int rc = commit_apply(db, ops, ws->nops, validate, varg, NULL);
    alloc_free(ops);
    return rc;
}

int ldb_txn_commit(ldb_txn *t)
{
    if (!txn_ok(t)) return LDB_INVALID;
    int rc = LDB_OK;
    for (size_t i = 0; i < t->niters; i++) iter_orphan(t->iters[i]);
    t->niters = 0;
    /* The snapshot stays registered through validation: otherwise a key
     * deleted after it could be dropped from the index before we look, and
     * the conflict would go unseen. (Retirement never waits for readers, so
     * holding our own read section here cannot block the commit.) */
    if (t->reads_lost && (t->flags & LDB_TXN_SERIALIZABLE) && !(t->flags & LDB_TXN_READONLY) &&
        t->ws.nops) {
        util_set_error("a serializable transaction's read range could not be recorded (out of "
                       "memory): it cannot be validated, nothing was applied");
        rc = LDB_NOMEM;
    } else if (!(t->flags & LDB_TXN_READONLY) && t->ws.nops) {
        rc = commit_wset(t->db, &t->ws, txn_validate, t);
    }
    txn_free(t);
    return rc;
}

void ldb_txn_abort(ldb_txn *t)
{
    if (!txn_ok(t)) return;
    txn_free(t);
}

int txn_attach_iter(ldb_txn *t, ldb_iter *it)
{
    if (t->niters == t->cap_iters) {
        size_t nc = t->cap_iters ? t->cap_iters * 2 : 4;
        ldb_iter **v = alloc_realloc(t->iters, nc * sizeof *v);
        if (!v) return LDB_NOMEM;
        t->iters = v;
        t->cap_iters = nc;
    }
    t->iters[t->niters++] = it;
    return LDB_OK;
}

void txn_detach_iter(ldb_txn *t, ldb_iter *it)
{
    for (size_t i = 0; i < t->niters; i++)
        if (t->iters[i] == it) {
            t->iters[i] = t->iters[--t->niters];
            return;
        }
}

/* ---- batches: a write set committed without a snapshot ---------------- */

struct ldb_batch {
    uint32_t magic;
    wset ws;
};

int ldb_batch_create(ldb_batch **out)
{
    if (!out) return LDB_INVALID;
    ldb_batch *b = alloc_calloc(1, sizeof *b);
    if (!b) return LDB_NOMEM;
    b->magic = LDB_MAGIC_BATCH;
    wset_init(&b->ws);
    *out = b;
    return LDB_OK;
}

static int batch_ok(const ldb_batch *b) { return b && b->magic == LDB_MAGIC_BATCH; }

int ldb_batch_put(ldb_batch *b, const void *k, size_t klen, const void *v, size_t vlen)
{
    if (!batch_ok(b)) return LDB_INVALID;
    int rc = db_check_key(k, klen);
    if (rc) return rc;
    rc = db_check_value(v, vlen);
    if (rc) return rc;
    return wset_put(&b->ws, REC_PUT, k, klen, v, vlen);
}

int ldb_batch_delete(ldb_batch *b, const void *k, size_t klen)
{
    if (!batch_ok(b)) return LDB_INVALID;
    int rc = db_check_key(k, klen);
    if (rc) return rc;
    return wset_put(&b->ws, REC_DEL, k, klen, NULL, 0);
}

void ldb_batch_clear(ldb_batch *b)
{
    if (batch_ok(b)) wset_clear(&b->ws);
}

size_t ldb_batch_count(const ldb_batch *b) { return batch_ok(b) ? b->ws.nops : 0; }

void ldb_batch_free(ldb_batch *b)
{
    if (!batch_ok(b)) return;
    wset_free(&b->ws);
    b->magic = LDB_MAGIC_DEAD;
    alloc_free(b);
}

int ldb_write(ldb *db, ldb_batch *b)
{
    if (!db_ok(db) || !batch_ok(b)) return LDB_INVALID;
    if (db->opt.read_only) return LDB_READONLY;
    return commit_wset(db, &b->ws, NULL, NULL);
}
