/*
 * engine/maint.c — the checkpoint, cleaner and scrubber threads (see
 * maint.h).
 */
#include "engine/maint.h"

#include <time.h>

#include "engine/checkpoint.h"
#include "engine/db.h"
#include "engine/gc.h"
#include "engine/scrub.h"
#include "engine/space.h"
#include "engine/util.h"

#define MAINT_TICK_MS 20

static void *ckpt_main(void *arg)
{
    ldb *db = arg;
    int backoff = 0;
    pthread_mutex_lock(&db->maint_mu);
    while (!db->maint_stop) {
        struct timespec ts;
        util_deadline_ms(&ts, MAINT_TICK_MS); /* maint_cv is monotonic */
        pthread_cond_timedwait(&db->maint_cv, &db->maint_mu, &ts);
        if (db->maint_stop) break;
        pthread_mutex_unlock(&db->maint_mu);
        if (!log_failed(&db->log)) {
            uint64_t written = db_log_bytes(db);
            if (backoff > 0) {
                backoff--;
            } else if (written - atomic_load(&db->ckpt_log_bytes) >= db->opt.checkpoint_bytes) {
                /* A failed checkpoint (disk full, say) is retried later. */
                if (ckpt_write(db) != LDB_OK) backoff = 1000 / MAINT_TICK_MS;
            }
        }
        pthread_mutex_lock(&db->maint_mu);
    }
    pthread_mutex_unlock(&db->maint_mu);
    return NULL;
}

static void *cleaner_main(void *arg)
{
    ldb *db = arg;
    while (!db->maint_stop) {
        space_cleaner_sleep(db, MAINT_TICK_MS);
        if (db->maint_stop || log_failed(&db->log)) continue;
        space_refresh(db);
        /* Keep going while there is work, checking for stop. */
        for (int i = 0; i < 64 && !db->maint_stop; i++) {
            int mode = space_cleaner_mode(db);
            int r = mode == 2   ? gc_step(db, 1.0, GC_URGENT_LIVE_SHARE)
                    : mode == 1 ? gc_step(db, db->opt.cleaner_cpu, 1.0 - 1.0 / db->opt.space_amp_target + 0.25)
                                : 0;
            space_progress(db, r == 1);
            if (r != 1) break;
        }
        /* The spare lets the cleaner run on a full disk; a database of one
         * or two segments has nothing the cleaner could take anyway. */
        ldb_mutex_lock(&db->commit_mu);
        size_t nsegs = db->log.nsegs;
        ldb_mutex_unlock(&db->commit_mu);
        if (nsegs >= 3) {
            ldb_mutex_lock(&db->gc_mu); /* one maker at a time (ldb_compact too) */
            log_make_spare(&db->log, &db->commit_mu);
            ldb_mutex_unlock(&db->gc_mu);
        }
    }
    space_progress(db, 0);
    return NULL;
}

static void *scrub_main(void *arg)
{
    ldb *db = arg;
    double wait_ms = scrub_idle(db) ? SCRUB_IDLE_MS : db->opt.scrub_interval_ms;
    pthread_mutex_lock(&db->maint_mu);
    while (!db->maint_stop) {
        struct timespec ts;
        util_deadline_ms(&ts, (unsigned)wait_ms);
        pthread_cond_timedwait(&db->maint_cv, &db->maint_mu, &ts);
        if (db->maint_stop) break;
        pthread_mutex_unlock(&db->maint_mu);
        uint64_t t0 = util_now_ns();
        scrub_pass(db, SCRUB_BYTES_PER_PASS, NULL); /* LDB_NOMEM: next time */
        /* A big log costs more to ask about: wait longer, not more often. */
        uint64_t took = util_now_ns() - t0;
        db_ctr_add(&db->st_scrub_ns, took);
        double took_ms = (double)took / 1e6;
        wait_ms = took_ms / SCRUB_CPU_SHARE;
        if (wait_ms < db->opt.scrub_interval_ms) wait_ms = db->opt.scrub_interval_ms;
        /* Nothing to do until a reader marks a record: look less often
         * (measured: ten empty passes a second cost txn 2.5% in a duet). */
        if (scrub_idle(db) && wait_ms < SCRUB_IDLE_MS) wait_ms = SCRUB_IDLE_MS;
        pthread_mutex_lock(&db->maint_mu);
    }
    pthread_mutex_unlock(&db->maint_mu);
    return NULL;
}

int maint_start(ldb *db)
{
    db->maint_stop = 0;
    if (db->opt.verify_checksums == LDB_VERIFY_FIRST) {
        if (pthread_create(&db->scrub_thread, NULL, scrub_main, db) != 0) return LDB_NOMEM;
        db->scrub_running = 1;
    }
    if (db->opt.read_only) return LDB_OK;
    if (db->opt.checkpoint_bytes) {
        if (pthread_create(&db->maint, NULL, ckpt_main, db) != 0) {
            maint_stop(db);
            return LDB_NOMEM;
        }
        db->maint_running = 1;
    }
    if (db->opt.cleaner) {
        if (pthread_create(&db->gc_thread, NULL, cleaner_main, db) != 0) {
            maint_stop(db);
            return LDB_NOMEM;
        }
        db->gc_running = 1;
    }
    return LDB_OK;
}

void maint_stop(ldb *db)
{
    pthread_mutex_lock(&db->maint_mu);
    db->maint_stop = 1;
    pthread_cond_broadcast(&db->maint_cv);
    pthread_mutex_unlock(&db->maint_mu);
    space_wake_all(db);
    if (db->maint_running) pthread_join(db->maint, NULL);
    if (db->gc_running) pthread_join(db->gc_thread, NULL);
    if (db->scrub_running) pthread_join(db->scrub_thread, NULL);
    db->maint_running = 0;
    db->gc_running = 0;
    db->scrub_running = 0;
}
