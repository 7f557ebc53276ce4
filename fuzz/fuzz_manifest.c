/*
 * fuzz/fuzz_manifest.c — the MANIFEST parser, through ldb_open on the
 * template database (fuzz_template.h) with the input as its MANIFEST.
 *
 * Input byte 0 bit 0 set: the "crc" line is recomputed (appended when
 * absent) so the parser's later stages see arbitrary names. Whatever the
 * MANIFEST says, it can only pick among intact checkpoint files (or none),
 * so a read-only open must succeed with exactly the template's contents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crc32c.h"
#include "fuzz_common.h"
#include "fuzz_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crc32c_init();
    fuzz_template *t = fuzz_template_get();
    fuzz_template_reset(t);
    if (size < 1 || size > 4096) return 0;
    size_t n = size - 1;
    char *text = malloc(n + 32);
    if (!text) return 0;
    memcpy(text, data + 1, n);
    text[n] = 0;
    if (data[0] & 1) {
        /* Checksum over everything before the first "crc " (as the parser
         * reads it), or over the whole text with a crc line appended. */
        char *c = memmem(text, n, "crc ", 4);
        size_t upto = c ? (size_t)(c - text) : n;
        char line[32];
        int l = snprintf(line, sizeof line, "crc %08x\n", crc32c(text, upto));
        if (c && (size_t)(c - text) + (size_t)l <= n) memcpy(c, line, (size_t)l);
        else if (!c) {
            memcpy(text + n, line, (size_t)l);
            n += (size_t)l;
        }
    }
    char p[4200];
    snprintf(p, sizeof p, "%.4000s/MANIFEST", t->dir);
    FUZZ_CHECK(fuzz_write_file(p, text, n) == 0, "write MANIFEST");
    free(text);
    ldb_options o;
    fuzz_ro_opts(&o);
    ldb *db = NULL;
    int rc = ldb_open(t->dir, &o, &db);
    FUZZ_CHECK(rc == LDB_OK, "open failed with %d: %s", rc, ldb_last_error());
    FUZZ_CHECK(fuzz_template_matches(db, t), "contents differ (%s)", ldb_last_error());
    FUZZ_CHECK(ldb_close(db) == LDB_OK, "close");
    return 0;
}
