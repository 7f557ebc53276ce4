/*
 * engine/log_prefault.c — the pre-faulting helper thread (see log_prefault.h).
 */
#include "engine/log_prefault.h"

#include <errno.h>
#include <sys/mman.h>

#include "engine/log.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* One madvise at a time: short enough that lpf_forget at a rotation waits
 * well under a millisecond, long enough that the syscall cost vanishes. */
#define LPF_STEP (256u << 10)

enum { LPF_OFF, LPF_RUNNING, LPF_FAILED };
/* LPF_FAILED after a start means the thread still runs (idle) until
 * lpf_stop; `started` says whether there is a thread to join. */

/* Unmaps [from, to) of s: see log_release_behind in log.c for why. */
static int lpf_release(log_segment *s, uint64_t from, uint64_t to)
{
    return madvise(s->base + from, to - from, MADV_DONTNEED);
}

static void *lpf_main(void *arg)
{
    log_prefault *pf = arg;
    pthread_mutex_lock(&pf->mu);
    while (!pf->stop) {
        log_segment *s = pf->seg;
        int release = s && pf->released < pf->release_to;
        if (!s || (!release && pf->done >= pf->want)) {
            pthread_cond_wait(&pf->work_cv, &pf->mu);
            continue;
        }
        /* Releasing first: both happen in this one thread, so a range is
         * never faulted in again after it was released. */
        uint64_t from = release ? pf->released : pf->done;
        uint64_t to = release ? pf->release_to : from + LPF_STEP;
        if (!release && to > pf->want) to = pf->want;
        pf->busy = s;
        pthread_mutex_unlock(&pf->mu);
        int r = release ? lpf_release(s, from, to)
                        : madvise(s->base + from, to - from, MADV_POPULATE_WRITE);
        int err = r ? errno : 0;
        pthread_mutex_lock(&pf->mu);
        pf->busy = NULL;
        pthread_cond_broadcast(&pf->idle_cv);
        if (pf->seg != s) continue; /* forgotten meanwhile */
        if (release) {
            pf->released = r == 0 ? to : s->size; /* failed: advice only, stop */
        } else if (r == 0) {
            if (to > pf->done) pf->done = to;
        } else if (err == EINTR || err == EAGAIN) {
            continue; /* interrupted part-way: the same step again */
        } else if (err == EINVAL || err == ENOSYS) {
            pf->state = LPF_FAILED; /* no MADV_POPULATE_WRITE: the writer does it */
            pf->seg = NULL;
        } else {
            pf->want = pf->done; /* ENOMEM, EFAULT...: leave this range to the writer */
        }
    }
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

void lpf_init(log_prefault *pf)
{
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->work_cv, NULL);
    pthread_cond_init(&pf->idle_cv, NULL);
    pf->state = LPF_OFF;
    pf->started = 0;
    pf->stop = 0;
    pf->seg = pf->busy = NULL;
    pf->done = pf->want = pf->released = pf->release_to = 0;
}

int lpf_request(log_prefault *pf, log_segment *s, uint64_t upto, uint64_t release_to)
{
    int rc = 0;
    pthread_mutex_lock(&pf->mu);
    if (pf->state == LPF_OFF) {
        /* Started on first use: a database opened for writing but only read
         * never has the thread. A failure only means the writer faults in. */
        pf->started = pthread_create(&pf->thread, NULL, lpf_main, pf) == 0;
        pf->state = pf->started ? LPF_RUNNING : LPF_FAILED;
    }
    if (pf->state != LPF_RUNNING) {
        rc = -1;
        goto out;
    }
    /* madvise wants page-aligned ranges (EINVAL otherwise, which would read
     * as "unsupported"): the segment size is a multiple of the page. */
    upto = (upto + 4095) & ~(uint64_t)4095;
    if (upto > s->size) upto = s->size;
    release_to &= ~(uint64_t)4095;
    if (pf->seg != s) {
        pf->seg = s;
        pf->done = pf->want = pf->released = pf->release_to = 0;
    }
    /* What the writer has passed needs no faulting in any more. */
    uint64_t at = s->end & ~(uint64_t)4095;
    if (pf->done < at) pf->done = at;
    int more = 0;
    if (upto > pf->want) {
        pf->want = upto;
        more = 1;
    }
    if (release_to > pf->release_to) {
        pf->release_to = release_to;
        more = 1;
    }
    if (more) pthread_cond_signal(&pf->work_cv);
out:
    pthread_mutex_unlock(&pf->mu);
    return rc;
}

void lpf_forget(log_prefault *pf, log_segment *s)
{
    pthread_mutex_lock(&pf->mu);
    if (pf->seg == s) pf->seg = NULL;
    while (pf->busy == s) pthread_cond_wait(&pf->idle_cv, &pf->mu);
    pthread_mutex_unlock(&pf->mu);
}

void lpf_stop(log_prefault *pf)
{
    pthread_mutex_lock(&pf->mu);
    int running = pf->started;
    pf->stop = 1;
    pf->seg = NULL;
    pthread_cond_broadcast(&pf->work_cv);
    pthread_mutex_unlock(&pf->mu);
    if (running) pthread_join(pf->thread, NULL);
    pthread_cond_destroy(&pf->idle_cv);
    pthread_cond_destroy(&pf->work_cv);
    pthread_mutex_destroy(&pf->mu);
}
