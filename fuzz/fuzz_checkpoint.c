/*
 * fuzz/fuzz_checkpoint.c — the checkpoint decoder (engine/checkpoint.c's
 * loader) on arbitrary files, through ldb_open, since the loader reads a
 * file of a database directory.
 *
 * The template database (fuzz_template.h) gets the input as its newest
 * checkpoint file, then opens read-only. Input byte 0 picks a mode:
 *  bit 0 clear: the rest is the file as is. Any damage must be detected, so
 *    the open must succeed (falling back to the older checkpoint or a full
 *    replay) with exactly the template's contents;
 *  bit 0 set: the checksums are recomputed first (header, segment table,
 *    every block the input frames, trailer), so the fuzzer reaches the
 *    entry decoder and the index loader with structurally valid but
 *    arbitrary contents. The open must then return a code, never crash,
 *    and every key the database then shows must read without crashing.
 * Bit 1 also damages the older checkpoint (a full replay must follow).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crc32c.h"
#include "engine/util.h"
#include "fuzz_common.h"
#include "fuzz_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The loader's layout (engine/checkpoint.c): header 64 B, segment table,
 * blocks "CKBL", trailer "CKPTEND\0". */
static void fix_crcs(uint8_t *b, size_t n)
{
    if (n < 64) return;
    util_put_u32(b + 12, crc32c_extend(crc32c(b, 12), b + 16, 48));
    uint64_t nbefore = util_get_u32(b + 48);
    uint64_t off = 64, tlen = nbefore * 16;
    if (off + tlen + 8 > n) return;
    util_put_u32(b + off + tlen, crc32c(b + off, tlen));
    off += tlen + 8;
    while (off + 16 <= n && util_get_u32(b + off) == 0x4c424b43u) {
        uint64_t body = util_get_u32(b + off + 8);
        if (off + 16 + body > n) return;
        util_put_u32(b + off + 4, crc32c(b + off + 16, body));
        off += 16 + body;
    }
    if (off + 24 <= n && memcmp(b + off, "CKPTEND", 8) == 0)
        util_put_u32(b + off + 16, crc32c(b + off, 16));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crc32c_init();
    fuzz_template *t = fuzz_template_get();
    fuzz_template_reset(t);
    if (size < 1) return 0;
    int fix = data[0] & 1, both = data[0] & 2;
    size_t n = size - 1;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) return 0;
    if (n) memcpy(b, data + 1, n);
    if (fix) fix_crcs(b, n);
    char p[4200];
    snprintf(p, sizeof p, "%.4000s/%.63s", t->dir, t->newest);
    FUZZ_CHECK(fuzz_write_file(p, b, n) == 0, "write checkpoint");
    if (both) {
        snprintf(p, sizeof p, "%.4000s/%.63s", t->dir, t->oldest);
        FUZZ_CHECK(fuzz_write_file(p, t->ckpt_oldest, t->ckpt_oldest_len / 2) == 0, "cut old");
    }
    free(b);
    ldb_options o;
    fuzz_ro_opts(&o);
    ldb *db = NULL;
    int rc = ldb_open(t->dir, &o, &db);
    FUZZ_CHECK(fuzz_rc_ok(rc), "open returned %d", rc);
    if (!fix) {
        /* Nothing but recomputed checksums can make damage pass: a file
         * that is not the template's must be skipped. */
        FUZZ_CHECK(rc == LDB_OK, "open failed: %s", ldb_last_error());
        int same = n == t->ckpt_newest_len && memcmp(data + 1, t->ckpt_newest, n) == 0;
        ldb_stats st;
        FUZZ_CHECK(ldb_get_stats(db, &st) == LDB_OK, "stats");
        FUZZ_CHECK(same || st.checkpoint_fallbacks >= 1 || st.recovery_checkpoint_seq > 0,
                   "damaged checkpoint neither used nor skipped");
        FUZZ_CHECK(fuzz_template_matches(db, t), "contents differ after a damaged checkpoint (%s)",
                   ldb_last_error());
    }
    if (rc == LDB_OK) {
        fuzz_read_everything(db);
        FUZZ_CHECK(ldb_close(db) == LDB_OK, "close");
    }
    return 0;
}
