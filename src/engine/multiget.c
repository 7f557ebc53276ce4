/*
 * engine/multiget.c — ldb_multi_get: many point reads from one snapshot,
 * with their cache misses overlapped.
 *
 * A single lookup is a chain of dependent misses (hash slot, then entry and
 * record). A core can keep ~10 misses in flight, so instead of walking one
 * chain at a time we walk a group of keys stage by stage: hash all and
 * prefetch their slots; probe all (each probe prefetches its record hint)
 * and prefetch their entries; resolve all versions and prefetch records not
 * already hinted; then read. Each stage's misses were requested one stage
 * earlier, so the group pays roughly one miss latency per stage, not per
 * key.
 */
#include <string.h>

#include "engine/alloc.h"
#include "engine/txn.h"
#include "engine/util.h"

#define MG_GROUP 16

/* How many records ahead stage 4 streams in whole when it verifies
 * checksums: enough to cover a miss while one record is checked, few enough
 * that the requests fit the core's fill buffers. */
#define MG_AHEAD 2

/* Keeps a decompressed value alive until the transaction ends. */
static int keep_scratch(ldb_txn *t, void *scratch)
{
    if (t->nscratch == t->cap_scratch) {
        size_t nc = t->cap_scratch ? t->cap_scratch * 2 : 8;
        void **nv = alloc_realloc(t->scratch, nc * sizeof *nv);
        if (!nv) return LDB_NOMEM;
        t->scratch = nv;
        t->cap_scratch = nc;
    }
    t->scratch[t->nscratch++] = scratch;
    return LDB_OK;
}

int ldb_multi_get(ldb_txn *t, size_t n, const void *const *keys, const size_t *klens,
                  const void **vals, size_t *vlens, int *rcs)
{
    if (!t || t->magic != LDB_MAGIC_TXN || (n && (!keys || !klens || !vals || !vlens || !rcs)))
        return LDB_INVALID;
    for (size_t i = 0; i < n; i++) {
        int rc = db_check_key(keys[i], klens[i]);
        if (rc) return rc;
    }
    ldb *db = t->db;
    int mode = db->opt.verify_checksums;
    int serializable = (t->flags & LDB_TXN_SERIALIZABLE) && !(t->flags & LDB_TXN_READONLY);
    for (size_t base = 0; base < n; base += MG_GROUP) {
        size_t g = n - base < MG_GROUP ? n - base : MG_GROUP;
        uint64_t hv[MG_GROUP];
        idx_entry *ent[MG_GROUP];
        idx_version *ver[MG_GROUP];
        uint8_t done[MG_GROUP];
        /* Stage 1: own writes answer at once; hash the rest, fetch slots. */
        for (size_t j = 0; j < g; j++) {
            size_t i = base + j;
            done[j] = 0;
            if (t->ws.nops) {
                const wset_op *op = wset_find(&t->ws, keys[i], klens[i]);
                if (op) {
                    done[j] = 1;
                    rcs[i] = op->type == REC_DEL ? LDB_NOTFOUND : LDB_OK;
                    vals[i] = op->val ? (const void *)op->val : (const void *)"";
                    vlens[i] = op->vlen;
                    continue;
                }
            }
            if (serializable) {
                int rc = txn_note_range(t, keys[i], klens[i], 0, keys[i], klens[i], 0);
                if (rc) return rc;
            }
            if (db->use_hash) {
                hv[j] = hash_key(&db->hash, keys[i], klens[i]);
                hash_prefetch(&db->hash, hv[j]);
            }
        }
        /* Stage 2: probe (each probe starts its record's miss); fetch entries. */
        for (size_t j = 0; j < g; j++) {
            if (done[j]) continue;
            size_t i = base + j;
            ent[j] = db->use_hash ? hash_find(&db->hash, keys[i], klens[i], hv[j])
                                  : idx_find(&db->tree, keys[i], klens[i]);
            if (ent[j]) __builtin_prefetch(ent[j]);
        }
        /* Stage 3: pick the snapshot's version; fetch records not hinted
         * (an older version, when a newer one is past the snapshot). */
        for (size_t j = 0; j < g; j++) {
            if (done[j]) continue;
            ver[j] = ent[j] ? db_visible(ent[j], t->snap) : NULL;
            if (ver[j] && ver[j] != atomic_load_explicit(&ent[j]->head, memory_order_relaxed))
                __builtin_prefetch(ver[j]->rec);
            if (ver[j] && mode == LDB_VERIFY_FIRST)
                vmark_prefetch(&db->log.vm, ver[j]->seg, ver[j]->rec);
        }
        /* Stage 4: read. Verifying a checksum reads the whole record; the
         * records a few places ahead that will be checked stream in while
         * this one is (only their first line was requested above). A
         * record already marked (LDB_VERIFY_FIRST) is read only where the
         * caller looks. */
        size_t ahead = mode == LDB_VERIFY_NEVER ? g : 0;
        for (size_t j = 0; j < g; j++) {
            for (; ahead < g && ahead <= j + MG_AHEAD; ahead++)
                if (!done[ahead] && ver[ahead] &&
                    (mode == LDB_VERIFY_ALWAYS ||
                     !vmark_test(&db->log.vm, ver[ahead]->seg, ver[ahead]->rec)))
                    db_prefetch_record(ver[ahead], ent[ahead]->klen);
            if (done[j]) continue;
            size_t i = base + j;
            idx_version *v = ver[j];
            if (!v || v->vlen == IDX_TOMBSTONE) {
                rcs[i] = LDB_NOTFOUND;
                continue;
            }
            void *scratch = NULL;
            rcs[i] = db_value(db, ent[j], v, NULL, 0, &vals[i], &vlens[i], &scratch);
            if (scratch && keep_scratch(t, scratch) != LDB_OK) {
                alloc_free(scratch);
                return LDB_NOMEM;
            }
        }
    }
    return LDB_OK;
}
