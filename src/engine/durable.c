/*
 * engine/durable.c — syncing sealed segments and named segments (see
 * durable.h).
 */
#include "engine/durable.h"

#include "engine/alloc.h"
#include "engine/db.h"
#include "engine/epoch.h"

typedef struct dur_item {
    log_segment *s;
    uint64_t end;
} dur_item;

/* Collects the segments under the commit mutex, syncs them outside it. */
static int dur_sync_items(ldb *db, const uint64_t *ids, size_t nx, uint64_t upto_id)
{
    epoch_slot *slot = NULL;
    dur_item *it = NULL;
    size_t n = 0;
    int rc = epoch_slot_claim(&db->ep, EPOCH_INTERNAL, &slot);
    if (rc) return rc;
    /* Pins every segment seen below: the cleaner retires a segment through
     * the epoch, so the structure and its descriptor outlive this section. */
    epoch_enter(&db->ep, slot, &db->committed);
    ldb_mutex_lock(&db->commit_mu);
    size_t cap = ids ? nx : db->log.nsegs;
    it = alloc_malloc((cap ? cap : 1) * sizeof *it);
    if (!it) {
        ldb_mutex_unlock(&db->commit_mu);
        rc = LDB_NOMEM;
        goto out;
    }
    /* The end read here, under the mutex, is a frame boundary. */
    if (ids) {
        for (size_t i = 0; i < nx; i++) {
            log_segment *s = log_segment_by_id(&db->log, ids[i]);
            if (s) it[n++] = (dur_item){s, s->end};
        }
    } else {
        for (size_t i = 0; i < db->log.nsegs && db->log.segs[i]->id <= upto_id; i++)
            it[n++] = (dur_item){db->log.segs[i], db->log.segs[i]->end};
    }
    ldb_mutex_unlock(&db->commit_mu);
    for (size_t i = 0; i < n && rc == LDB_OK; i++) rc = log_sync_segment(&db->log, it[i].s, it[i].end);
    if (rc == LDB_OK && !ids) rc = log_sync_dir(&db->log);
out:
    alloc_free(it);
    epoch_exit(slot);
    epoch_slot_release(slot);
    return rc;
}

int dur_sync_log(ldb *db, uint64_t upto_id)
{
    return dur_sync_items(db, NULL, 0, upto_id);
}

int dur_sync_segments(ldb *db, const uint64_t *ids, size_t n)
{
    if (!n) return LDB_OK;
    return dur_sync_items(db, ids, n, 0);
}
