/*
 * engine/compress.c — LZ4 / zstd wrappers (see compress.h).
 */
#include "engine/compress.h"

#include <lz4.h>
#include <zstd.h>

#include "engine/record.h"
#include "lightningdb.h"

size_t compress_bound(int comp, size_t n)
{
    if (comp == REC_COMP_LZ4) return (size_t)LZ4_compressBound((int)n);
    if (comp == REC_COMP_ZSTD) return ZSTD_compressBound(n);
    return n;
}

size_t compress_value(int comp, const void *src, size_t n, void *dst, size_t cap)
{
    size_t out = 0;
    if (comp == REC_COMP_LZ4) {
        int r = LZ4_compress_default(src, dst, (int)n, (int)cap);
        out = r > 0 ? (size_t)r : 0;
    } else if (comp == REC_COMP_ZSTD) {
        size_t r = ZSTD_compress(dst, cap, src, n, 1);
        out = ZSTD_isError(r) ? 0 : r;
    }
    /* Not worth the decompression on every read unless it saves 1/8. */
    if (out == 0 || out > n - n / 8) return 0;
    return out;
}

int decompress_value(int comp, const void *src, size_t n, void *dst, size_t rawlen)
{
    if (comp == REC_COMP_LZ4) {
        int r = LZ4_decompress_safe(src, dst, (int)n, (int)rawlen);
        return r == (int)rawlen ? LDB_OK : LDB_CORRUPTION;
    }
    if (comp == REC_COMP_ZSTD) {
        size_t r = ZSTD_decompress(dst, rawlen, src, n);
        return !ZSTD_isError(r) && r == rawlen ? LDB_OK : LDB_CORRUPTION;
    }
    return LDB_CORRUPTION;
}
