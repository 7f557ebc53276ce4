/*
 * engine/wset.h — a transaction's (or batch's) private write set: the keys
 * it put or deleted, in insertion order, with a hash index for
 * read-your-own-writes and a sorted view for iterators and commit.
 *
 * Invariants: one op per distinct key (a second write to a key replaces the
 * first in place); key and value bytes live in arena blocks that never
 * move, so pointers handed out (zero-copy reads of the transaction's own
 * writes) stay valid until wset_clear/wset_free. `gen` changes on every
 * modification so iterators can notice.
 * Thread-safety: none; the owning transaction's thread only.
 */
#ifndef LDB_WSET_H
#define LDB_WSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct wset_op {
    const uint8_t *key;
    const uint8_t *val;
    uint32_t vlen;
    uint16_t klen;
    uint8_t type;              /* REC_PUT or REC_DEL */
    uint8_t pad;
    uint64_t hash;
} wset_op;

typedef struct wset_block wset_block;

typedef struct wset {
    wset_block *blocks;
    wset_op *ops;
    size_t nops, cap;
    uint32_t *table;           /* op index + 1, 0 = empty */
    size_t tcap;               /* power of two */
    uint32_t *sorted;
    size_t sorted_cap;
    uint64_t gen, sorted_gen;
    size_t bytes;              /* key + value bytes held */
} wset;

void wset_init(wset *ws);
int wset_put(wset *ws, uint8_t type, const void *k, size_t kl, const void *v, size_t vl);
const wset_op *wset_find(const wset *ws, const void *k, size_t kl);
/* Indices of ops in key order (cached until the next change). */
int wset_sorted(wset *ws, const uint32_t **idx);
/* Copies bytes into the arena (stable until clear); NULL when out of memory. */
void *wset_copy(wset *ws, const void *p, size_t n);
void wset_clear(wset *ws);
void wset_free(wset *ws);

#endif /* LDB_WSET_H */
