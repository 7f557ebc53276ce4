/*
 * engine/compress.h — optional value compression (Debian's liblz4 and
 * libzstd). The algorithm is recorded per record, so a database reopens
 * whatever the option says now.
 *
 * Contract: compress_value() writes into dst (capacity compress_bound())
 * and returns the compressed size, or 0 when compression would not save
 * at least 1/8 of the bytes (the caller then stores the value raw).
 * decompress_value() must produce exactly rawlen bytes or it fails with
 * LDB_CORRUPTION. Thread-safe (no shared state; zstd contexts are per
 * call through the simple API).
 */
#ifndef LDB_COMPRESS_H
#define LDB_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

size_t compress_bound(int comp, size_t n);
size_t compress_value(int comp, const void *src, size_t n, void *dst, size_t cap);
int decompress_value(int comp, const void *src, size_t n, void *dst, size_t rawlen);

#endif
