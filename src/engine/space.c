/*
 * engine/space.c — disk-space limits and write backpressure (see space.h).
 */
#include "engine/space.h"

#include <errno.h>
#include <time.h>

#include "engine/db.h"
#include "engine/util.h"

void space_limits_get(ldb *db, space_limits *l)
{
    uint64_t S = db->opt.segment_size;
    uint64_t live = atomic_load_explicit(&db->st_live_bytes, memory_order_relaxed);
    uint64_t ckpt = atomic_load_explicit(&db->ckpt_disk_bytes, memory_order_relaxed);
    /* The spare counts whether or not it exists yet: the cleaner makes it
     * when it can, and making it must not push a database past its limit
     * (measured: a spare made late, near the limit, put test_space's
     * directory a segment over its bound about one run in fifteen). */
    l->used = atomic_load_explicit(&db->log.file_bytes, memory_order_relaxed) + S + ckpt;
    uint64_t allowed = (uint64_t)(db->opt.space_amp_target * (double)live);
    uint64_t floor = live + ckpt + SPACE_FLOOR_SEGMENTS * S;
    l->hard = allowed > floor ? allowed : floor;
    /* The band writers are slowed in: a segment, or 1/32 of the limit on a
     * large database, so the delay rises smoothly instead of writers
     * switching between full speed and waiting. */
    uint64_t band = l->hard / 32 > S ? l->hard / 32 : S;
    l->soft = l->hard - band;
}

void space_refresh(ldb *db)
{
    if (!db->opt.cleaner) {
        atomic_store_explicit(&db->space_watch, UINT64_MAX, memory_order_relaxed);
        return;
    }
    space_limits l;
    space_limits_get(db, &l);
    /* What `used` counts besides the log (read again: the log may have grown
     * since, and the difference must not wrap). */
    uint64_t other = db->opt.segment_size +
                     atomic_load_explicit(&db->ckpt_disk_bytes, memory_order_relaxed);
    atomic_store_explicit(&db->space_watch, l.soft > other ? l.soft - other : 0,
                          memory_order_relaxed);
}

static _Thread_local uint64_t tls_owed_ns;

void space_throttle(ldb *db)
{
    space_limits l;
    space_limits_get(db, &l);
    space_refresh(db); /* the watch may have been stale (live grew) */
    if (l.used <= l.soft || !db->gc_running) return;
    /* Wake a sleeping cleaner once, rather than signal on every commit. */
    if (atomic_load_explicit(&db->gc_sleeping, memory_order_relaxed) &&
        atomic_exchange_explicit(&db->gc_sleeping, 0, memory_order_relaxed)) {
        pthread_mutex_lock(&db->gc_wait_mu);
        pthread_cond_signal(&db->gc_cv);
        pthread_mutex_unlock(&db->gc_wait_mu);
    }
    uint64_t t0 = util_now_ns();
    if (l.used > l.hard) {
        struct timespec ts;
        util_deadline_ms(&ts, SPACE_MAX_WAIT_MS);
        pthread_mutex_lock(&db->bp_mu);
        uint64_t gen = db->gc_gen;
        while (db->gc_gen == gen && !db->gc_idle && !db->bp_stop &&
               pthread_cond_timedwait(&db->bp_cv, &db->bp_mu, &ts) != ETIMEDOUT) {}
        pthread_mutex_unlock(&db->bp_mu);
        atomic_fetch_add_explicit(&db->st_write_waits, 1, memory_order_relaxed);
    } else {
        /* A sleep costs at least the timer slack (~50 us), so the delay is
         * owed per thread and paid once it reaches SPACE_DELAY_QUANTUM_US:
         * the average per commit stays proportional and smooth. */
        tls_owed_ns += SPACE_MAX_DELAY_US * 1000u * (l.used - l.soft) / (l.hard - l.soft);
        if (tls_owed_ns < SPACE_DELAY_QUANTUM_US * 1000u) return;
        struct timespec ts = {(time_t)(tls_owed_ns / 1000000000u), (long)(tls_owed_ns % 1000000000u)};
        tls_owed_ns = 0;
        nanosleep(&ts, NULL);
        atomic_fetch_add_explicit(&db->st_write_delays, 1, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&db->st_write_delay_ns, util_now_ns() - t0, memory_order_relaxed);
}

int space_cleaner_mode(ldb *db)
{
    space_limits l;
    space_limits_get(db, &l);
    if (l.used + db->opt.segment_size > l.soft) return 2;
    /* Otherwise as before: ahead of the target by the log's own bytes. */
    uint64_t live = atomic_load_explicit(&db->st_live_bytes, memory_order_relaxed);
    uint64_t file = atomic_load_explicit(&db->log.file_bytes, memory_order_relaxed);
    return (double)file > db->opt.space_amp_target * 0.9 * (double)(live ? live : 1) ? 1 : 0;
}

void space_progress(ldb *db, int cleaned)
{
    space_refresh(db);
    pthread_mutex_lock(&db->bp_mu);
    db->gc_gen++;
    db->gc_idle = !cleaned;
    pthread_cond_broadcast(&db->bp_cv);
    pthread_mutex_unlock(&db->bp_mu);
}

void space_cleaner_sleep(ldb *db, unsigned ms)
{
    struct timespec ts;
    util_deadline_ms(&ts, ms);
    pthread_mutex_lock(&db->gc_wait_mu);
    atomic_store_explicit(&db->gc_sleeping, 1, memory_order_relaxed);
    if (!db->maint_stop) pthread_cond_timedwait(&db->gc_cv, &db->gc_wait_mu, &ts);
    atomic_store_explicit(&db->gc_sleeping, 0, memory_order_relaxed);
    pthread_mutex_unlock(&db->gc_wait_mu);
}

void space_wake_all(ldb *db)
{
    pthread_mutex_lock(&db->bp_mu);
    db->bp_stop = 1;
    pthread_cond_broadcast(&db->bp_cv);
    pthread_mutex_unlock(&db->bp_mu);
    pthread_mutex_lock(&db->gc_wait_mu);
    pthread_cond_broadcast(&db->gc_cv);
    pthread_mutex_unlock(&db->gc_wait_mu);
}
