/*
 * fuzz/fuzz_record.c — the log decoder (engine/record.h) on arbitrary bytes.
 *
 * The input is read three ways: as a segment file (header check, then every
 * frame rec_frame_check accepts, walked the way recovery walks them), as a
 * lone record header (rec_parse), and as the material of a record that is
 * encoded and decoded again (round trip). Every accepted frame must keep
 * its promises: it lies inside the input, its records exactly fill it, each
 * parses and passes its checksum. Copies the input to an exact-size heap
 * buffer so AddressSanitizer sees any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crc32c.h"
#include "engine/record.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frames(const uint8_t *b, size_t n, size_t start)
{
    char why[160];
    size_t off = start;
    int frames = 0;
    while (off + REC_FRAME_HDR <= n && frames < 4096) {
        rec_frame f, g;
        rec_status st = rec_frame_check(b + off, n - off, &f, why, sizeof why);
        FUZZ_CHECK(st == REC_OK || st == REC_END || st == REC_BAD, "status %d", (int)st);
        if (st != REC_OK) {
            FUZZ_CHECK(st != REC_BAD || why[0], "REC_BAD without a reason");
            break;
        }
        FUZZ_CHECK(f.total >= REC_FRAME_HDR && f.total <= n - off, "frame of %zu bytes at %zu", f.total, off);
        FUZZ_CHECK(f.total % 8 == 0 && f.nrec >= 1, "total %zu nrec %u", f.total, f.nrec);
        FUZZ_CHECK(rec_frame_parse(b + off, n - off, &g) == REC_OK && g.total == f.total &&
                       g.seq == f.seq && g.nrec == f.nrec, "frame_parse disagrees");
        /* Recovery walks the records unchecked after rec_frame_check. */
        const uint8_t *p = b + off + REC_FRAME_HDR, *end = b + off + f.total;
        for (uint32_t i = 0; i < f.nrec; i++) {
            rec_view r;
            FUZZ_CHECK(p < end, "record %u past the frame", i);
            FUZZ_CHECK(rec_parse(p, (size_t)(end - p), &r) == REC_OK, "record %u does not parse", i);
            FUZZ_CHECK(r.klen >= 1 && r.klen <= LDB_MAX_KEY && r.vlen <= LDB_MAX_VALUE, "sizes");
            FUZZ_CHECK(rec_verify(&r), "record %u fails its checksum in an accepted frame", i);
            size_t sz = rec_size(r.klen, r.vlen);
            FUZZ_CHECK(sz <= (size_t)(end - p), "record %u overruns", i);
            p += sz;
        }
        FUZZ_CHECK(p == end, "records do not fill the frame");
        off += f.total;
        frames++;
    }
}

static void round_trip(const uint8_t *d, size_t n)
{
    if (n < 4) return;
    uint16_t klen = (uint16_t)(1 + (d[0] | (d[1] << 8)) % 64);
    uint8_t type = d[2] & 1 ? REC_PUT : REC_DEL;
    const uint8_t *rest = d + 3;
    size_t avail = n - 3;
    if (avail < klen) return;
    const uint8_t *key = rest, *val = rest + klen;
    uint32_t vlen = type == REC_PUT ? (uint32_t)(avail - klen) : 0;
    size_t sz = rec_size(klen, vlen);
    uint8_t *buf = malloc(REC_FRAME_HDR + sz);
    if (!buf) return;
    uint32_t crc = rec_crc(type, REC_COMP_NONE, klen, vlen, vlen, key, val);
    size_t w = rec_write(buf + REC_FRAME_HDR, type, REC_COMP_NONE, klen, vlen, vlen, crc, key, val);
    FUZZ_CHECK(w == sz, "rec_write wrote %zu, rec_size says %zu", w, sz);
    rec_frame_write(buf, 1 + d[3], (uint32_t)sz, 1, 0, d[3]);
    rec_view r;
    FUZZ_CHECK(rec_parse(buf + REC_FRAME_HDR, sz, &r) == REC_OK, "round trip parse");
    FUZZ_CHECK(r.klen == klen && r.vlen == vlen && r.type == type && rec_verify(&r), "round trip fields");
    FUZZ_CHECK(memcmp(r.key, key, klen) == 0 && (vlen == 0 || memcmp(r.val, val, vlen) == 0), "round trip bytes");
    rec_frame f;
    char why[160];
    FUZZ_CHECK(rec_frame_check(buf, REC_FRAME_HDR + sz, &f, why, sizeof why) == REC_OK, "round trip frame: %s", why);
    /* One flipped bit anywhere must be caught (the padding aside). */
    size_t at = (size_t)d[3] * 131 % (REC_FRAME_HDR + REC_HDR + klen + vlen);
    buf[at] ^= (uint8_t)(1u << (d[2] >> 5));
    rec_status st = rec_frame_check(buf, REC_FRAME_HDR + sz, &f, why, sizeof why);
    FUZZ_CHECK(st != REC_OK, "a flipped bit at %zu went unnoticed", at);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *b = malloc(size ? size : 1);
    if (!b) return 0;
    if (size) memcpy(b, data, size);
    crc32c_init();
    uint64_t id = 0;
    rec_status st = rec_segment_check(b, size, 0, &id);
    if (st == REC_OK) {
        FUZZ_CHECK(size >= REC_SEG_HDR, "segment header accepted in %zu bytes", size);
        check_frames(b, size, REC_SEG_HDR);
    }
    check_frames(b, size, 0);
    rec_view r;
    if (rec_parse(b, size, &r) == REC_OK) {
        FUZZ_CHECK(r.key >= b && r.key + r.klen <= b + size, "key outside the input");
        FUZZ_CHECK(r.val >= b && r.val + r.vlen <= b + size, "value outside the input");
        (void)rec_verify(&r);
    }
    round_trip(b, size);
    free(b);
    return 0;
}
