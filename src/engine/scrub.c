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

int scrub_pass(ldb *db, uint64_t budget, scrub_result *out)
{
    scrub_result res = {0};
    if (db->opt.verify_checksums != LDB_VERIFY_FIRST) goto done;
    epoch_slot *slot;
    int rc = db_thread_slot(db, &slot);
    if (rc) return rc;
    ldb_mutex_lock(&db->scrub_mu);
    /* The epoch section first, then the list: a segment on the list is
     * retired (and unmapped) only after this section ends. */
    epoch_enter(&db->ep, slot, &db->committed);
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
        epoch_exit(slot);
        ldb_mutex_unlock(&db->scrub_mu);
        return LDB_NOMEM;
    }
    /* Where the checking walk resumes: the first segment at or after the
     * cursor's (a cleaned segment is gone; past the newest: start over). */
    size_t at = 0;
    while (at < n && segs[at].id < db->scrub_seg) at++;
    if (at == n) at = 0;
    if (at < n && segs[at].id != db->scrub_seg) db->scrub_off = 0;
    for (size_t i = 0; i < n; i++) {
        const seg_ref *g = &segs[i];
        if (!g->base) continue;
        long absent = vmark_clear_absent(&db->log.vm, g->id, g->base, g->end);
        if (absent > 0) res.absent_pages += (uint64_t)absent;
        if (absent < 0 || i < at || !budget) continue;
        /* The residency vector now describes this segment: check it. */
        uint64_t off = i == at ? db->scrub_off : 0;
        check_segment(db, g, &off, &budget, &res);
        db->scrub_seg = g->id;
        db->scrub_off = off;
        if (off >= g->end) { /* done with it: the next one, or over again */
            db->scrub_seg = i + 1 < n ? segs[i + 1].id : 0;
            db->scrub_off = 0;
        }
    }
    epoch_exit(slot);
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
