/*
 * engine/gc.c — segment cleaning (see gc.h).
 */
#include "engine/gc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/alloc.h"
#include "engine/crc32c.h"
#include "engine/db.h"
#include "engine/io.h"
#include "engine/mvcc.h"
#include "engine/util.h"

#define GC_BATCH_BYTES (256u << 10)
#define GC_BATCH_RECORDS 1024u
#define GC_MAX_TOUCHED 16

typedef struct gc_cand {
    const uint8_t *rec;
    uint64_t seq;
} gc_cand;

typedef struct gc_run {
    ldb *db;
    log_segment *victim;
    int victim_oldest;
    gc_cand cands[GC_BATCH_RECORDS];
    size_t ncands, cand_bytes;
    uint64_t touched[GC_MAX_TOUCHED]; /* segments written by relocation */
    size_t ntouched;
    int incomplete;                   /* something live could not be moved */
    double cpu_share;
    uint64_t moved_bytes;
} gc_run;

static void gc_pause(const gc_run *g, uint64_t worked_ns)
{
    if (g->cpu_share >= 1.0 || g->cpu_share <= 0.0) return;
    uint64_t ns = (uint64_t)((double)worked_ns * (1.0 - g->cpu_share) / g->cpu_share);
    if (ns > 200000000ull) ns = 200000000ull;
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    nanosleep(&ts, NULL);
}

static void note_touched(gc_run *g, uint64_t id)
{
    for (size_t i = 0; i < g->ntouched; i++)
        if (g->touched[i] == id) return;
    if (g->ntouched < GC_MAX_TOUCHED) g->touched[g->ntouched++] = id;
    else g->incomplete = 1; /* cannot promise durability of the copies */
}

typedef struct gc_move {
    const uint8_t *rec;
    uint64_t seq;
    uint64_t sup;     /* the key's newest version's sequence right now */
    size_t size;
    idx_entry *e;     /* NULL for a tombstone whose key left the index */
    idx_version *v;   /* version to swap, NULL likewise */
} gc_move;

/* Decides, under the commit mutex, which candidates are live and relocates
 * them in one frame. */
static int gc_flush(gc_run *g) LDB_EXCLUDES(g->db->commit_mu)
{
    ldb *db = g->db;
    if (!g->ncands) return LDB_OK;
    gc_move *mv = alloc_malloc(g->ncands * sizeof *mv);
    if (!mv) return LDB_NOMEM;
    size_t nm = 0, body = 0;
    int rc = LDB_OK;
    uint64_t t0 = util_now_ns();
    ldb_mutex_lock(&db->commit_mu);
    if (log_failed(&db->log)) {
        rc = LDB_IO;
        goto unlock;
    }
    uint64_t oldest = epoch_oldest_snapshot(&db->ep, atomic_load(&db->committed));
    for (size_t i = 0; i < g->ncands; i++) {
        rec_view r;
        rec_parse(g->cands[i].rec, REC_MAX_FRAME, &r);
        idx_entry *e = db_find(db, r.key, r.klen);
        idx_version *hit = NULL;
        if (e) {
            mvcc_prune(db, e, oldest);
            for (idx_version *v = atomic_load_explicit(&e->head, memory_order_relaxed); v;
                 v = atomic_load_explicit(&v->older, memory_order_relaxed))
                if (v->rec == g->cands[i].rec) {
                    hit = v;
                    break;
                }
        }
        if (!hit) {
            /* Dead, unless it is a delete that older files could still
             * contradict on a full replay. */
            idx_version *h = e ? atomic_load_explicit(&e->head, memory_order_relaxed) : NULL;
            if (r.type != REC_DEL || g->victim_oldest || (h && h->seq > g->cands[i].seq)) continue;
        }
        idx_version *head = e ? atomic_load_explicit(&e->head, memory_order_relaxed) : NULL;
        mv[nm].rec = g->cands[i].rec;
        mv[nm].seq = g->cands[i].seq;
        mv[nm].sup = hit && head ? head->seq : g->cands[i].seq;
        mv[nm].size = rec_size(r.klen, r.vlen);
        mv[nm].e = hit ? e : NULL;
        mv[nm].v = hit;
        body += mv[nm].size;
        nm++;
    }
    if (!nm) goto unlock;
    size_t seqs_size = rec_size(1, REC_SEQS_ENTRY * nm);
    size_t total = REC_FRAME_HDR + seqs_size + body;
    uint8_t *dst;
    log_segment *seg;
    db->log.use_spare = 1; /* the cleaner may rotate into the spare on a full disk */
    rc = log_reserve(&db->log, total, &dst, &seg);
    db->log.use_spare = 0;
    if (rc) {
        if (rc == LDB_IO) log_fail(&db->log);
        goto unlock;
    }
    uint64_t maxseq = 0;
    uint8_t *seqtab = alloc_malloc(REC_SEQS_ENTRY * nm);
    if (!seqtab) {
        rc = LDB_NOMEM;
        goto unlock;
    }
    for (size_t i = 0; i < nm; i++) {
        util_put_u64(seqtab + REC_SEQS_ENTRY * i, mv[i].seq);
        util_put_u64(seqtab + REC_SEQS_ENTRY * i + 8, mv[i].sup);
        if (mv[i].seq > maxseq) maxseq = mv[i].seq;
    }
    /* Acquire: as for a user frame (commit.c), pairs with the watermark's
     * release in log_sync_segment. */
    rec_frame_write(dst, maxseq, (uint32_t)(seqs_size + body), (uint32_t)(nm + 1), REC_F_RELOCATED,
                    atomic_load_explicit(&seg->synced, memory_order_acquire));
    uint8_t *p = dst + REC_FRAME_HDR;
    static const uint8_t zero_key = 0;
    uint32_t tab = (uint32_t)(REC_SEQS_ENTRY * nm);
    uint32_t crc = rec_crc(REC_SEQS, REC_COMP_NONE, 1, tab, tab, &zero_key, seqtab);
    p += rec_write(p, REC_SEQS, REC_COMP_NONE, 1, tab, tab, crc, &zero_key, seqtab);
    alloc_free(seqtab);
    for (size_t i = 0; i < nm; i++) {
        memcpy(p, mv[i].rec, mv[i].size); /* bytes and checksum unchanged */
        const uint8_t *nrec = p;
        p += mv[i].size;
        idx_version *v = mv[i].v;
        if (!v) continue;
        /* On failure the copy stays unused, or v leaks rather than being
         * freed under a reader: either way the victim cannot go. */
        if (mvcc_swap(db, mv[i].e, v, nrec, seg) != LDB_OK) g->incomplete = 1;
    }
    LDB_ASSERT(p == dst + total);
    log_advance(&db->log, total);
    db_ctr_add(&db->st_cleaner_bytes, total);
    g->moved_bytes += total;
    note_touched(g, seg->id);
unlock:
    ldb_mutex_unlock(&db->commit_mu);
    alloc_free(mv);
    g->ncands = 0;
    g->cand_bytes = 0;
    if (rc == LDB_OK) gc_pause(g, util_now_ns() - t0);
    return rc;
}

static int gc_clean(ldb *db, log_segment *victim, int victim_oldest, uint64_t end, double cpu)
    LDB_REQUIRES(db->gc_mu) LDB_EXCLUDES(db->commit_mu)
{
    gc_run *g = alloc_calloc(1, sizeof *g);
    if (!g) return LDB_NOMEM;
    g->db = db;
    g->victim = victim;
    g->victim_oldest = victim_oldest;
    g->cpu_share = cpu;
    int rc = LDB_OK;
    uint64_t off = REC_SEG_HDR;
    char why[128];
    while (off < end) {
        rec_frame f;
        /* Framing only: each record moves with its own checksum, which
         * every read verifies where it lands (measured: full checks here
         * were ~8% of a 1 KiB overwrite workload held at 2x space). */
        rec_status st = rec_frame_shape(victim->base + off, end - off, &f, why, sizeof why);
        if (st != REC_OK) {
            /* The victim was checked when written or replayed; damage now
             * means the disk changed under us. Leave the file alone. */
            util_set_error("cleaner: %s offset %" PRIu64 ": %s", victim->path, off, why);
            rc = LDB_CORRUPTION;
            goto out;
        }
        rec_cursor c;
        rec_view r;
        uint64_t seq, sup;
        rec_cursor_init(&c, victim->base + off, &f);
        while (rec_cursor_next(&c, &r, &seq, &sup)) {
            if (g->ncands == GC_BATCH_RECORDS || g->cand_bytes >= GC_BATCH_BYTES) {
                rc = gc_flush(g);
                if (rc) goto out;
            }
            g->cands[g->ncands].rec = r.rec;
            g->cands[g->ncands].seq = seq;
            g->ncands++;
            g->cand_bytes += rec_size(r.klen, r.vlen);
        }
        off += f.total;
    }
    rc = gc_flush(g);
    if (rc) goto out;
    if (g->incomplete) {
        rc = LDB_NOMEM;
        goto out;
    }
    /* The copies must be on disk before the originals go. */
    for (size_t i = 0; i < g->ntouched; i++) {
        ldb_mutex_lock(&db->commit_mu);
        log_segment *s = log_segment_by_id(&db->log, g->touched[i]);
        uint64_t send = s ? s->end : 0;
        ldb_mutex_unlock(&db->commit_mu);
        if (s) {
            rc = log_sync_segment(&db->log, s, send); /* latches on failure */
            if (rc) goto out;
        }
    }
    ldb_mutex_lock(&db->commit_mu);
    /* The copies' sync succeeded, but a failure latched by anyone else may
     * mean it succeeded only because the error went to them (log.h). */
    rc = log_failed(&db->log) ? LDB_IO : log_detach_segment(&db->log, victim);
    ldb_mutex_unlock(&db->commit_mu);
    if (rc) goto out;
    /* Unlink now (the mapping outlives the name), so no older file can
     * outlive a tombstone dropped from a later one. */
    int r = io_unlink(victim->path);
    if (r == 0) {
        r = io_fsync_dir(db->dir);
        /* The file is gone from the index's point of view; if the directory
         * sync failed, what the directory holds is unknown: latch. */
        if (r < 0) log_fail(&db->log);
    }
    if (r < 0) { /* before the victim can be freed below */
        util_set_error("cleaner: removing %s failed: %s", victim->path, strerror(-r));
        rc = util_errno_to_rc(-r);
    }
    ldb_mutex_lock(&db->commit_mu);
    if (epoch_retire(&db->ep, victim, log_segment_free, NULL) != LDB_OK) {
        /* Keep it mapped forever rather than unmap under a reader. */
    }
    /* Unmap it now if no reader can still see it: until then its blocks
     * stay allocated although the file is gone (and on a full disk no
     * commit may come along to reclaim). */
    epoch_reclaim(&db->ep);
    db_ctr_add(&db->st_cleaned_segments, 1);
    ldb_mutex_unlock(&db->commit_mu);
out:
    alloc_free(g);
    return rc;
}

/* Picks the segment with the smallest live share below max_live_share,
 * never the newest two (the active one, and the one a group-commit leader
 * may still be syncing). */
static log_segment *gc_pick(ldb *db, double max_live_share, int *oldest, uint64_t *end)
    LDB_REQUIRES(db->commit_mu)
{
    log_segment *best = NULL;
    double best_share = max_live_share;
    size_t n = db->log.nsegs;
    for (size_t i = 0; i + 2 < n; i++) {
        log_segment *s = db->log.segs[i];
        if (s->end <= REC_SEG_HDR) continue;
        double share = (double)atomic_load(&s->live) / (double)(s->end - REC_SEG_HDR);
        if (share < best_share) {
            best_share = share;
            best = s;
            *oldest = (i == 0);
            *end = s->end;
        }
    }
    return best;
}

int gc_step(ldb *db, double cpu_share, double max_live_share)
{
    ldb_mutex_lock(&db->gc_mu);
    ldb_mutex_lock(&db->commit_mu);
    int oldest = 0;
    uint64_t end = 0;
    log_segment *v = NULL;
    if (db->log.nsegs > 2)
        v = gc_pick(db, max_live_share, &oldest, &end);
    ldb_mutex_unlock(&db->commit_mu);
    int rc = 0;
    if (v) {
        rc = gc_clean(db, v, oldest, end, cpu_share);
        if (rc == LDB_OK) rc = 1;
    }
    ldb_mutex_unlock(&db->gc_mu);
    return rc;
}

int gc_compact(ldb *db)
{
    int rc = LDB_OK;
    ldb_mutex_lock(&db->gc_mu);
    ldb_mutex_lock(&db->commit_mu);
    size_t budget = db->log.nsegs; /* bounded: concurrent writers keep making dead bytes */
    ldb_mutex_unlock(&db->commit_mu);
    while (budget--) {
        int oldest = 0;
        uint64_t end = 0;
        ldb_mutex_lock(&db->commit_mu);
        log_segment *v = gc_pick(db, GC_URGENT_LIVE_SHARE, &oldest, &end);
        ldb_mutex_unlock(&db->commit_mu);
        if (!v) break;
        rc = gc_clean(db, v, oldest, end, 1.0);
        if (rc) break;
    }
    if (rc == LDB_OK) log_make_spare(&db->log, &db->commit_mu); /* if the cleaning used it */
    ldb_mutex_unlock(&db->gc_mu);
    return rc;
}
