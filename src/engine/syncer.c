/*
 * engine/syncer.c — group commit and the NORMAL-mode syncer (see syncer.h).
 */
#include "engine/syncer.h"

#include <errno.h>
#include <time.h>

#include "engine/db.h"
#include "engine/durable.h"
#include "engine/util.h"

int syncer_wait_durable(ldb *db, uint64_t seq)
{
    int rc = LDB_OK;
    ldb_mutex_lock(&db->sync_mu);
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
        ldb_mutex_unlock(&db->sync_mu);
        /* A read section pins the segment read below: by the time this
         * thread syncs it, rotations may have made it old enough for the
         * cleaner to delete and free (seen as a leader blocked forever on
         * a freed segment's sync mutex in test_powerloss under load). */
        epoch_slot *pin = NULL;
        int r = db_thread_slot(db, &pin);
        if (r == LDB_OK) epoch_enter(&db->ep, pin, &db->committed);
        ldb_mutex_lock(&db->commit_mu);
        log_segment *seg = r == LDB_OK ? db->log.active : NULL;
        /* Acquire pairs with commit_apply's release: every frame up to
         * target lies below `end`, read under the same mutex. */
        uint64_t target = atomic_load_explicit(&db->appended, memory_order_acquire);
        uint64_t end = seg ? seg->end : 0;
        ldb_mutex_unlock(&db->commit_mu);
        /* Sealed segments are synced at rotation, but those found at open
         * may come from a NONE-mode run: once, before anything newer can
         * be called durable (else a power cut could leave a gap). */
        if (r == LDB_OK && atomic_load_explicit(&db->sealed_unsynced, memory_order_acquire)) {
            r = dur_sync_log(db, seg ? seg->id - 1 : UINT64_MAX);
            if (r == LDB_OK) atomic_store(&db->sealed_unsynced, 0);
        }
        if (r == LDB_OK && seg) r = log_sync_segment(&db->log, seg, end);
        if (pin) epoch_exit(pin);
        ldb_mutex_lock(&db->sync_mu);
        db->syncing = 0;
        if (r) {
            if (r != LDB_NOMEM) log_fail(&db->log);
            rc = r;
            pthread_cond_broadcast(&db->sync_cv);
            break;
        }
        if (target > db->durable) {
            db_ctr_add(&db->st_synced_commits, target - db->durable);
            db->durable = target;
        }
        db_ctr_add(&db->st_syncs, 1);
        uint64_t c = atomic_load_explicit(&db->committed, memory_order_relaxed);
        /* Release pairs with epoch_enter's acquire: a FULL commit becomes
         * visible only once this sync made it durable. */
        if (target > c) atomic_store_explicit(&db->committed, target, memory_order_release);
        pthread_cond_broadcast(&db->sync_cv);
    }
    db->sync_waiters--;
    ldb_mutex_unlock(&db->sync_mu);
    return rc;
}

static void *syncer_main(void *arg)
{
    ldb *db = arg;
    ldb_mutex_lock(&db->sync_mu);
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
            ldb_mutex_unlock(&db->sync_mu);
            syncer_wait_durable(db, a);
            ldb_mutex_lock(&db->sync_mu);
        }
    }
    ldb_mutex_unlock(&db->sync_mu);
    return NULL;
}

int syncer_start(ldb *db)
{
    if (db->opt.sync_mode != LDB_SYNC_NORMAL || db->opt.read_only) return LDB_OK;
    db->stop = 0;
    if (pthread_create(&db->syncer, NULL, syncer_main, db) != 0) return LDB_NOMEM;
    db->syncer_running = 1;
    return LDB_OK;
}

void syncer_stop(ldb *db)
{
    if (!db->syncer_running) return;
    ldb_mutex_lock(&db->sync_mu);
    db->stop = 1;
    pthread_cond_broadcast(&db->sync_cv);
    ldb_mutex_unlock(&db->sync_mu);
    pthread_join(db->syncer, NULL);
    db->syncer_running = 0;
}
