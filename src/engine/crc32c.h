/*
 * engine/crc32c.h — CRC-32C (Castagnoli), the checksum of every log record
 * and checkpoint block.
 *
 * Contract: crc32c_extend(0, buf, n) is the standard CRC-32C of buf (the
 * check value of "123456789" is 0xE3069283); extending is incremental:
 * crc32c_extend(crc32c_extend(0, a, na), b, nb) == crc of a||b. Uses the
 * SSE4.2 crc32 instruction (three interleaved streams) when the CPU has it,
 * a slicing-by-8 table otherwise. Thread-safe; crc32c_init() is optional
 * (the first call initialises) but cheap to call early.
 */
#ifndef LDB_CRC32C_H
#define LDB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

void crc32c_init(void);
uint32_t crc32c_extend(uint32_t crc, const void *buf, size_t n);
static inline uint32_t crc32c(const void *buf, size_t n) { return crc32c_extend(0, buf, n); }
/* 1 when the hardware instruction is in use. */
int crc32c_hardware(void);
/* The portable implementation, exposed so tests can compare both paths. */
uint32_t crc32c_extend_sw(uint32_t crc, const void *buf, size_t n);

#endif /* LDB_CRC32C_H */
