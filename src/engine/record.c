/*
 * engine/record.c — encoding and validation of segment headers, frames and
 * records (see record.h for the layout).
 */
#include "engine/record.h"

#include <stdio.h>
#include <string.h>

#include "engine/crc32c.h"
#include "engine/util.h"
#include "lightningdb.h"

uint32_t rec_crc(uint8_t type, uint8_t comp, uint16_t klen, uint32_t vlen,
                 uint32_t rawlen, const void *key, const void *val)
{
    uint8_t h[12];
    h[0] = type;
    h[1] = comp;
    util_put_u16(h + 2, klen);
    util_put_u32(h + 4, vlen);
    util_put_u32(h + 8, rawlen);
    uint32_t c = crc32c_extend(0, h, sizeof h);
    c = crc32c_extend(c, key, klen);
    if (vlen) c = crc32c_extend(c, val, vlen);
    return c;
}

size_t rec_write(uint8_t *dst, uint8_t type, uint8_t comp, uint16_t klen,
                 uint32_t vlen, uint32_t rawlen, uint32_t crc, const void *key,
                 const void *val)
{
    util_put_u32(dst, crc);
    dst[4] = type;
    dst[5] = comp;
    util_put_u16(dst + 6, klen);
    util_put_u32(dst + 8, vlen);
    util_put_u32(dst + 12, rawlen);
    memcpy(dst + REC_HDR, key, klen);
    if (vlen) memcpy(dst + REC_HDR + klen, val, vlen);
    size_t used = REC_HDR + klen + vlen, size = rec_size(klen, vlen);
    if (size > used) memset(dst + used, 0, size - used);
    return size;
}

void rec_frame_write(uint8_t *dst, uint64_t seq, uint32_t body_len,
                     uint32_t nrec, uint32_t flags, uint64_t durable)
{
    util_put_u32(dst, REC_FRAME_MAGIC);
    util_put_u64(dst + 8, seq);
    util_put_u32(dst + 16, body_len);
    util_put_u32(dst + 20, nrec);
    util_put_u32(dst + 24, flags);
    util_put_u32(dst + 28, durable > UINT32_MAX ? UINT32_MAX : (uint32_t)durable);
    util_put_u32(dst + 4, crc32c(dst + 8, REC_FRAME_HDR - 8));
}

static uint32_t rec_seg_crc(const uint8_t *p)
{
    uint32_t c = crc32c_extend(0, p, 12);
    return crc32c_extend(c, p + 16, REC_SEG_HDR - 16);
}

void rec_segment_header(uint8_t *dst, uint64_t seg_id, uint64_t size)
{
    memset(dst, 0, REC_SEG_HDR);
    memcpy(dst, REC_SEG_MAGIC, 8);
    util_put_u32(dst + 8, REC_SEG_VERSION);
    util_put_u64(dst + 16, seg_id);
    util_put_u64(dst + 24, size);
    util_put_u32(dst + 12, rec_seg_crc(dst));
}

rec_status rec_segment_check(const uint8_t *p, size_t avail, uint64_t seg_id,
                             uint64_t *id_out)
{
    if (avail < REC_SEG_HDR) return REC_BAD;
    if (memcmp(p, REC_SEG_MAGIC, 8) != 0) return REC_BAD;
    if (util_get_u32(p + 8) != REC_SEG_VERSION) return REC_BAD;
    if (util_get_u32(p + 12) != rec_seg_crc(p)) return REC_BAD;
    uint64_t id = util_get_u64(p + 16);
    if (seg_id && id != seg_id) return REC_BAD;
    if (id_out) *id_out = id;
    return REC_OK;
}

rec_status rec_parse(const uint8_t *p, size_t avail, rec_view *out)
{
    if (avail < REC_HDR) return REC_BAD;
    rec_view r;
    rec_header(p, &r);
    if (r.type != REC_PUT && r.type != REC_DEL && r.type != REC_SEQS) return REC_BAD;
    if (r.comp > REC_COMP_ZSTD) return REC_BAD;
    if (r.klen == 0 || r.klen > LDB_MAX_KEY) return REC_BAD;
    if (r.vlen > LDB_MAX_VALUE + 65536u || r.rawlen > LDB_MAX_VALUE) return REC_BAD;
    if (r.comp == REC_COMP_NONE && r.vlen != r.rawlen) return REC_BAD;
    if (r.type == REC_DEL && (r.vlen || r.rawlen || r.comp)) return REC_BAD;
    if (r.type == REC_SEQS && (r.comp || r.klen != 1 || (r.vlen % REC_SEQS_ENTRY))) return REC_BAD;
    if (rec_size(r.klen, r.vlen) > avail) return REC_BAD;
    *out = r;
    return REC_OK;
}

int rec_verify(const rec_view *r)
{
    return rec_crc(r->type, r->comp, r->klen, r->vlen, r->rawlen, r->key, r->val) == r->crc;
}

rec_status rec_frame_parse(const uint8_t *p, size_t avail, rec_frame *out)
{
    if (avail < REC_FRAME_HDR) {
        for (size_t i = 0; i < avail; i++)
            if (p[i]) return REC_BAD;
        return REC_END;
    }
    uint32_t magic = util_get_u32(p);
    if (magic == 0) {
        for (size_t i = 0; i < REC_FRAME_HDR; i++)
            if (p[i]) return REC_BAD;
        return REC_END;
    }
    if (magic != REC_FRAME_MAGIC) return REC_BAD;
    if (util_get_u32(p + 4) != crc32c(p + 8, REC_FRAME_HDR - 8)) return REC_BAD;
    rec_frame f;
    f.seq = util_get_u64(p + 8);
    f.body_len = util_get_u32(p + 16);
    f.nrec = util_get_u32(p + 20);
    f.flags = util_get_u32(p + 24);
    f.durable = util_get_u32(p + 28);
    f.total = REC_FRAME_HDR + (size_t)f.body_len;
    if (f.nrec == 0 || f.body_len < REC_HDR * (uint64_t)f.nrec || (f.body_len & 7) ||
        f.total > REC_MAX_FRAME || f.seq == 0)
        return REC_BAD;
    *out = f;
    return REC_OK;
}


static rec_status frame_check(const uint8_t *p, size_t avail, rec_frame *out, char *why,
                              size_t why_cap, int verify)
{
    rec_frame f;
    rec_status st = rec_frame_parse(p, avail, &f);
    if (st == REC_END) return REC_END;
    if (st != REC_OK) {
        snprintf(why, why_cap, "bad frame header");
        return REC_BAD;
    }
    if (f.total > avail) {
        snprintf(why, why_cap, "frame of %zu bytes runs past the end of the segment", f.total);
        return REC_BAD;
    }
    const uint8_t *q = p + REC_FRAME_HDR, *end = p + f.total;
    for (uint32_t i = 0; i < f.nrec; i++) {
        rec_view r;
        if (rec_parse(q, (size_t)(end - q), &r) != REC_OK) {
            snprintf(why, why_cap, "record %u of the frame has a bad header", i);
            return REC_BAD;
        }
        if (verify && !rec_verify(&r)) {
            snprintf(why, why_cap, "record %u of the frame fails its checksum", i);
            return REC_BAD;
        }
        /* A cleaner's frame starts with its sequence table; no other frame
         * may carry one. */
        int want_seqs = (f.flags & REC_F_RELOCATED) && i == 0;
        if (want_seqs != (r.type == REC_SEQS) ||
            (want_seqs && r.vlen != REC_SEQS_ENTRY * (f.nrec - 1))) {
            snprintf(why, why_cap, "record %u of the frame has a misplaced sequence table", i);
            return REC_BAD;
        }
        q += rec_size(r.klen, r.vlen);
    }
    if (q != end) {
        snprintf(why, why_cap, "records do not fill the frame");
        return REC_BAD;
    }
    *out = f;
    return REC_OK;
}

rec_status rec_frame_check(const uint8_t *p, size_t avail, rec_frame *out, char *why,
                           size_t why_cap)
{
    return frame_check(p, avail, out, why, why_cap, 1);
}

rec_status rec_frame_shape(const uint8_t *p, size_t avail, rec_frame *out, char *why,
                           size_t why_cap)
{
    return frame_check(p, avail, out, why, why_cap, 0);
}
