/*
 * engine/record.h — the on-disk format of the log: segment headers, commit
 * frames and the records inside them. Pure encoding and validation, no I/O,
 * so the decoder can be fuzzed on its own.
 *
 * Layout (all integers little-endian, every frame and record 8-aligned):
 *
 *   segment file = segment header (64 B) | frame | frame | ... | zeros
 *   segment header: "LDBSEG01" | u32 version | u32 crc | u64 segment id |
 *                   u64 file size | 32 B reserved (zero)
 *   frame header (32 B): u32 magic "LDBF" | u32 hcrc (CRC32C of bytes 8..31) |
 *                   u64 seq | u32 body_len | u32 nrec | u32 flags |
 *                   u32 durable (the segment's durable watermark when the
 *                   frame was appended: every byte before it was on disk;
 *                   0 in files written before it existed)
 *   record (16 B header): u32 crc (CRC32C of bytes 4.. end of value) |
 *                   u8 type | u8 compression | u16 klen | u32 vlen (stored) |
 *                   u32 raw length | key | value | zero padding to 8
 *
 * One frame is one commit: every record in it carries the frame's sequence
 * number and recovery applies a frame only when the header and every record
 * check out, so a torn commit is never half-applied. A frame header of all
 * zeros marks the end of the written part of a segment (segments are
 * preallocated and read as zeros past the end).
 *
 * Invariants the decoder enforces: 1 <= klen <= LDB_MAX_KEY, vlen and raw
 * length within LDB_MAX_VALUE, records exactly fill body_len, nrec >= 1.
 * Thread-safety: pure functions.
 */
#ifndef LDB_RECORD_H
#define LDB_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "engine/util.h"

#define REC_SEG_MAGIC "LDBSEG01"
#define REC_SEG_HDR 64u
#define REC_SEG_VERSION 1u
#define REC_FRAME_MAGIC 0x4642444cu /* "LDBF" */
#define REC_FRAME_HDR 32u
#define REC_HDR 16u
/* A frame may not exceed this (a transaction of ~1 GiB). */
#define REC_MAX_FRAME (1u << 30)

enum { REC_PUT = 1, REC_DEL = 2, REC_SEQS = 3 };
/* A frame written by the segment cleaner (REC_F_RELOCATED) moves records of
 * many commits: its first record is a REC_SEQS table (key "\0", value = one
 * pair of little-endian u64 per following record: the record's own sequence
 * number, and the sequence of the key's newest version when it was moved —
 * equal for a key's current version, larger for an older version kept only
 * for a snapshot, which recovery must not let override what a checkpoint
 * already knows). REC_SEQS_ENTRY is the size of one pair. */
#define REC_SEQS_ENTRY 16u
enum { REC_COMP_NONE = 0, REC_COMP_LZ4 = 1, REC_COMP_ZSTD = 2 };
/* Frame flags. */
#define REC_F_RELOCATED 0x1u /* written by the segment cleaner, not a user */

typedef struct rec_view {
    const uint8_t *rec;  /* start of the record */
    const uint8_t *key;
    const uint8_t *val;  /* stored bytes (compressed when comp != 0) */
    uint32_t crc;
    uint8_t type, comp;
    uint16_t klen;
    uint32_t vlen;       /* stored length */
    uint32_t rawlen;     /* length after decompression */
} rec_view;

typedef struct rec_frame {
    uint64_t seq;
    uint32_t body_len, nrec, flags;
    uint32_t durable;    /* the watermark recorded at append (see above) */
    size_t total;        /* header + body */
} rec_frame;

typedef enum { REC_OK = 0, REC_END = 1, REC_BAD = 2 } rec_status;

static inline size_t rec_size(size_t klen, size_t vlen)
{
    return (REC_HDR + klen + vlen + 7u) & ~(size_t)7u;
}

/* The record checksum over header fields, key and stored value, computed
 * without first copying them together. */
uint32_t rec_crc(uint8_t type, uint8_t comp, uint16_t klen, uint32_t vlen,
                 uint32_t rawlen, const void *key, const void *val);
/* Writes a record (header, key, value, padding) at dst; returns its size. */
size_t rec_write(uint8_t *dst, uint8_t type, uint8_t comp, uint16_t klen,
                 uint32_t vlen, uint32_t rawlen, uint32_t crc, const void *key,
                 const void *val);
void rec_frame_write(uint8_t *dst, uint64_t seq, uint32_t body_len,
                     uint32_t nrec, uint32_t flags, uint64_t durable);
void rec_segment_header(uint8_t *dst, uint64_t seg_id, uint64_t size);
/* REC_OK when the header is intact and names seg_id (seg_id 0 = any). */
rec_status rec_segment_check(const uint8_t *p, size_t avail, uint64_t seg_id,
                             uint64_t *id_out);

/* Decodes the record header at p (REC_HDR readable bytes) with no check at
 * all: for a location the index already trusts (the read path), which then
 * checks what it relies on. Everything else uses rec_parse. */
static inline void rec_header(const uint8_t *p, rec_view *r)
{
    r->rec = p;
    r->crc = util_get_u32(p);
    r->type = p[4];
    r->comp = p[5];
    r->klen = util_get_u16(p + 6);
    r->vlen = util_get_u32(p + 8);
    r->rawlen = util_get_u32(p + 12);
    r->key = p + REC_HDR;
    r->val = p + REC_HDR + r->klen;
}
/* Parses one record header at p (at most avail bytes), checking sizes but
 * not the checksum. */
rec_status rec_parse(const uint8_t *p, size_t avail, rec_view *out);
/* 1 when the record's checksum matches its bytes. */
int rec_verify(const rec_view *r);
/* Validates a whole frame at p (at most avail bytes): REC_END for a zero
 * header, REC_BAD (with a reason in why) for any damage, REC_OK otherwise. */
rec_status rec_frame_check(const uint8_t *p, size_t avail, rec_frame *out,
                           char *why, size_t why_cap);
/* rec_frame_check without the record checksums: the frame header's own
 * checksum and every length. For the cleaner, which copies records with
 * their checksums (a damaged one stays detectable where it lands). */
rec_status rec_frame_shape(const uint8_t *p, size_t avail, rec_frame *out,
                           char *why, size_t why_cap);
/* Parses the frame header only (no record checks). */
rec_status rec_frame_parse(const uint8_t *p, size_t avail, rec_frame *out);

/* The records of a frame already validated (rec_frame_check or _shape), in
 * order, with the relocation table hidden: each gives its own sequence and
 * `sup`, the sequence of its key's newest version when the cleaner moved it
 * (== seq for a user frame, and for a key's current version). The one
 * decoder of REC_SEQS, for replay and the cleaner. */
typedef struct rec_cursor {
    const uint8_t *p, *frame, *seqs; /* seqs: the table, once seen */
    const rec_frame *f;
    uint32_t i;
} rec_cursor;

static inline void rec_cursor_init(rec_cursor *c, const uint8_t *frame, const rec_frame *f)
{
    c->frame = frame;
    c->p = frame + REC_FRAME_HDR;
    c->seqs = NULL;
    c->f = f;
    c->i = 0;
}

/* 1 with the next record in *r, 0 at the end of the frame. */
static inline int rec_cursor_next(rec_cursor *c, rec_view *r, uint64_t *seq, uint64_t *sup)
{
    while (c->i < c->f->nrec) {
        uint32_t i = c->i++;
        rec_parse(c->p, c->f->total - (size_t)(c->p - c->frame), r); /* validated */
        c->p += rec_size(r->klen, r->vlen);
        if (r->type == REC_SEQS) { /* first in a relocated frame */
            c->seqs = r->val;
            continue;
        }
        *seq = *sup = c->f->seq;
        if (c->seqs) {
            *seq = util_get_u64(c->seqs + REC_SEQS_ENTRY * (i - 1));
            *sup = util_get_u64(c->seqs + REC_SEQS_ENTRY * (i - 1) + 8);
        }
        return 1;
    }
    return 0;
}

#endif /* LDB_RECORD_H */
