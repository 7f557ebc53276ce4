/*
 * engine/scrub.c — the scrubber's pass (see scrub.h).
 */
#include "engine/scrub.h"

#include "engine/alloc.h"
#include "engine/record.h"
#include "engine/vmark.h"

typedef struct seg_ref {
    uint64_t id, end;
    const uint8_t *base;
} seg_ref;

/* Walks the frames in [*off, end) of one segment until the budget (bytes
 * walked) is spent, checking the unmarked records of frames wholly in
 * memory; *off ends at the next frame to look at (end when the segment is
 * done: a torn or damaged frame also ends it, the readers check those
 * records themselves). Nothing out of memory is touched, so the walk never
 * reads from disk. */
static void check_segment(ldb *db, const seg_ref *g, uint64_t *off, uint64_t *budget,
                          scrub_result *res)
{
    vmark_table *vm = &db->log.vm;
    if (*off < REC_SEG_HDR) *off = REC_SEG_HDR;
    while (*off + REC_FRAME_HDR <= g->end && *budget) {
        const uint8_t *frame = g->base + *off;
        size_t avail = (size_t)(g->end - *off);
        rec_frame f;
        char why[128];
        /* Only frames wholly before `end` (read under the commit mutex)
         * are complete. */
        if (!vmark_resident(vm, *off, REC_FRAME_HDR) || rec_frame_parse(frame, avail, &f) != REC_OK ||
            f.total > avail) {
            *off = g->end;
            return;
        }
        *budget = *budget > f.total ? *budget - f.total : 0;
        if (!vmark_resident(vm, *off, f.total)) {
            *off += f.total;
            continue;
        }
        /* Lengths and the header's checksum; the record CRCs follow. */
        if (rec_frame_shape(frame, avail, &f, why, sizeof why) != REC_OK) {
            *off = g->end;
            return;
        }
        rec_cursor c;
        rec_view r;
        uint64_t seq, sup;
        rec_cursor_init(&c, frame, &f);
        while (rec_cursor_next(&c, &r, &seq, &sup)) {
            size_t size = rec_size(r.klen, r.vlen);
            if (size > VM_MAX_REC || vmark_test(vm, (uint32_t)g->id, r.rec)) continue;
            if (rec_verify(&r)) {
                vmark_set(vm, (uint32_t)g->id, r.rec, size);
                res->checked++;
            } else {
                res->corrupt++;
            }
            res->checked_bytes += size;
        }
        *off += f.total;
    }
}

int scrub_idle(ldb *db)
{
    /* Both flags move one way only (`any` 0 to 1, `scrub_walking` 1 to 0),
     * so a stale read costs at most one pass more or one look later. */
    return !atomic_load_explicit(&db->log.vm.any, memory_order_relaxed) &&
           !atomic_load_explicit(&db->scrub_walking, memory_order_relaxed);
}

int scrub_pass(ldb *db, uint64_t budget, scrub_result *out)
{
    scrub_result res = {0};
    if (db->opt.verify_checksums != LDB_VERIFY_FIRST) goto done;
    if (scrub_idle(db)) goto done;
    ldb_mutex_lock(&db->scrub_mu);
    /* The cleaner's mutex, then the list: only the cleaner takes segments
     * off the list (under gc_mu), so none on it is retired and unmapped
     * before this pass lets go. An epoch section would do as well but pins
     * a snapshot, and old versions then pile up behind the pass (measured:
     * txn 3.8% slower in `ab --quick`). */
    ldb_mutex_lock(&db->gc_mu);
    ldb_mutex_lock(&db->commit_mu);
    size_t n = db->log.nsegs;
    seg_ref *segs = alloc_malloc((n ? n : 1) * sizeof *segs);
    if (segs)
        for (size_t i = 0; i < n; i++) {
            log_segment *s = db->log.segs[i];
            segs[i] = (seg_ref){.id = s->id, .end = s->end, .base = s->base};
        }
    ldb_mutex_unlock(&db->commit_mu);
    if (!segs) {
        ldb_mutex_unlock(&db->gc_mu);
        ldb_mutex_unlock(&db->scrub_mu);
        return LDB_NOMEM;
    }
    /* Where the checking walk resumes: the first segment at or after the
     * cursor's (a cleaned segment is gone; past the newest: start over). */
    size_t at = 0;
    while (at < n && segs[at].id < db->scrub_seg) at++;
    if (at == n) at = 0;
    if (at < n && segs[at].id != db->scrub_seg) db->scrub_off = 0;
    /* Until a mark exists there is nothing to clear; once the walk is done
     * with the log as it was at open, nothing to check. A database that is
     * only written to then costs the scrubber a wake-up per interval. */
    int any = atomic_load_explicit(&db->log.vm.any, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        seg_ref g = segs[i];
        if (!g.base) continue;
        int walk = budget && i >= at && g.id <= db->scrub_cold_seg;
        if (!any && !walk) continue;
        long absent = vmark_clear_absent(&db->log.vm, g.id, g.base, g.end);
        if (absent > 0) res.absent_pages += (uint64_t)absent;
        if (absent < 0 || !walk) continue;
        /* The residency vector now describes this segment: check it, up to
         * where it ended at open. */
        if (g.id == db->scrub_cold_seg && g.end > db->scrub_cold_end) g.end = db->scrub_cold_end;
        uint64_t off = i == at ? db->scrub_off : 0;
        check_segment(db, &g, &off, &budget, &res);
        db->scrub_seg = g.id;
        db->scrub_off = off;
        if (off >= g.end) { /* done with it: the next one, or with all */
            db->scrub_off = 0;
            if (i + 1 < n && segs[i + 1].id <= db->scrub_cold_seg) {
                db->scrub_seg = segs[i + 1].id;
            } else {
                /* The log as it was at open is checked (segment ids start
                 * at 1, so no segment is <= 0 and the walk is over). */
                db->scrub_cold_seg = 0;
                atomic_store_explicit(&db->scrub_walking, 0, memory_order_relaxed);
                break;
            }
        }
    }
    ldb_mutex_unlock(&db->gc_mu);
    ldb_mutex_unlock(&db->scrub_mu);
    alloc_free(segs);
done:
    db_ctr_add(&db->st_scrub_passes, 1);
    db_ctr_add(&db->st_scrub_absent, res.absent_pages);
    db_ctr_add(&db->st_scrub_checked, res.checked);
    db_ctr_add(&db->st_scrub_corrupt, res.corrupt);
    if (out) *out = res;
    return LDB_OK;
}
