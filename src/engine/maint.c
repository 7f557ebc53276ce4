/*
 * engine/maint.c — the maintenance thread (see maint.h).
 */
#include "engine/maint.h"

#include <time.h>

#include "engine/checkpoint.h"
#include "engine/db.h"
#include "engine/gc.h"
#include "engine/util.h"

#define MAINT_TICK_MS 20

static void *maint_main(void *arg)
{
    ldb *db = arg;
    int ckpt_backoff = 0;
    pthread_mutex_lock(&db->maint_mu);
    while (!db->maint_stop) {
        struct timespec ts;
        util_deadline_ms(&ts, MAINT_TICK_MS); /* maint_cv is monotonic */
        pthread_cond_timedwait(&db->maint_cv, &db->maint_mu, &ts);
        if (db->maint_stop) break;
        pthread_mutex_unlock(&db->maint_mu);
        if (!log_failed(&db->log)) {
            uint64_t written = db_log_bytes(db);
            if (ckpt_backoff > 0) {
                ckpt_backoff--;
            } else if (db->opt.checkpoint_bytes &&
                       written - atomic_load(&db->ckpt_log_bytes) >= db->opt.checkpoint_bytes) {
                /* A failed checkpoint (disk full, say) is retried later. */
                if (ckpt_write(db) != LDB_OK) ckpt_backoff = 1000 / MAINT_TICK_MS;
            }
            if (db->opt.cleaner) {
                /* Keep going while there is work, checking for stop. */
                for (int i = 0; i < 64 && !db->maint_stop; i++)
                    if (gc_step(db, db->opt.cleaner_cpu) != 1) break;
            }
        }
        pthread_mutex_lock(&db->maint_mu);
    }
    pthread_mutex_unlock(&db->maint_mu);
    return NULL;
}

int maint_start(ldb *db)
{
    if (db->opt.read_only) return LDB_OK;
    if (!db->opt.cleaner && !db->opt.checkpoint_bytes) return LDB_OK;
    db->maint_stop = 0;
    if (pthread_create(&db->maint, NULL, maint_main, db) != 0) return LDB_NOMEM;
    db->maint_running = 1;
    return LDB_OK;
}

void maint_stop(ldb *db)
{
    if (!db->maint_running) return;
    pthread_mutex_lock(&db->maint_mu);
    db->maint_stop = 1;
    pthread_cond_broadcast(&db->maint_cv);
    pthread_mutex_unlock(&db->maint_mu);
    pthread_join(db->maint, NULL);
    db->maint_running = 0;
}
