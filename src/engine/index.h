/*
 * engine/index.h — the in-memory ordered index: a cache-conscious B+tree
 * from key to the key's version chain.
 *
 * What it owns: tree nodes and separator keys. Entries (idx_entry) and
 * versions (idx_version) are allocated by the caller (the MVCC layer) and
 * only linked here.
 *
 * Concurrency (optimistic lock coupling, single writer):
 * - Exactly one writer at a time calls the *_w functions and idx_insert /
 *   idx_remove (the database's commit mutex guarantees it). The writer
 *   marks each node it changes (odd version) before touching it and bumps
 *   the version when done; parents are marked before children, so a split
 *   is never seen half-done.
 * - Readers take no lock and write nothing shared: they read a node's
 *   version, read its fields with atomic loads, and re-check the version;
 *   on a change they restart from the root. Readers must be inside an epoch
 *   read section (epoch.h): nodes, separators and entries unlinked by the
 *   writer are only freed once no reader can hold them.
 * - Every field a reader may load while the writer stores is atomic (relaxed
 *   for data, acquire/release for pointers and versions), so the protocol is
 *   free of data races in the C11 sense and ThreadSanitizer-clean.
 *
 * Node layout: up to IDX_CAP slots; each slot keeps an 8-byte big-endian
 * prefix of its key taken after the node's common prefix (up to IDX_CP_MAX
 * bytes, stored in the node) and the key length, so most comparisons never
 * leave the node's cache lines. Full keys are read only on prefix ties.
 */
#ifndef LDB_INDEX_H
#define LDB_INDEX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/epoch.h"

#define IDX_CAP 32
#define IDX_CP_MAX 24
#define IDX_MAX_DEPTH 24
#define IDX_TOMBSTONE 0xffffffffu

/* One version of a key. Immutable once published, except `older`, which
 * the writer may cut when no snapshot can reach past it. */
typedef struct idx_version {
    uint64_t seq;                      /* commit sequence */
    struct idx_version *_Atomic older; /* next older version, or NULL */
    const uint8_t *rec;                /* the record in the mapped log */
    uint32_t seg;                      /* segment id holding rec */
    uint32_t vlen;                     /* raw value length, or IDX_TOMBSTONE */
} idx_version;

/* A key and its version chain (newest first). The first version lives
 * inside the entry: a key written once costs one allocation and one cache
 * line on the read path. */
#define IDX_F_TOMB_PENDING 0x1u /* queued for removal once unseen (writer) */

typedef struct idx_entry {
    idx_version *_Atomic head;
    uint16_t klen;
    uint16_t flags;                    /* IDX_F_*, writer only */
    uint32_t reserved;
    idx_version first;
    uint8_t key[];
} idx_entry;

typedef struct idx_key {
    uint16_t len;
    uint8_t bytes[];
} idx_key;

typedef struct idx_node {
    _Atomic uint64_t version;          /* bit0: being changed, bit1: obsolete */
    _Atomic uint32_t count;
    uint8_t leaf;                      /* immutable */
    _Atomic uint8_t cpl;               /* common prefix length, <= IDX_CP_MAX */
    uint16_t pad;
    _Atomic uint64_t cp[IDX_CP_MAX / 8];
    _Atomic uint64_t prefix[IDX_CAP];
    _Atomic uint16_t klen[IDX_CAP];
    void *_Atomic ptr[IDX_CAP];        /* leaf: idx_entry*, inner: idx_node* */
    idx_key *_Atomic sep[];            /* inner only: lower bound of ptr[i], i >= 1 */
} idx_node;

typedef struct idx_tree {
    idx_node *_Atomic root;
    epoch_mgr *ep;                     /* where unlinked nodes are retired */
    _Atomic uint64_t bytes;            /* memory held by nodes and separators */
    _Atomic uint64_t nodes;
} idx_tree;

int idx_init(idx_tree *t, epoch_mgr *ep);
/* Frees every node and separator (entries are the caller's); no reader may
 * be active. `free_entry` (may be NULL) is called for each entry first. */
void idx_destroy(idx_tree *t, void (*free_entry)(idx_entry *e, void *arg), void *arg);

/* Reader: the entry for key k, or NULL. Caller is inside a read section. */
idx_entry *idx_find(idx_tree *t, const void *k, size_t kl);

/* Writer: the entry for key k, or NULL (no validation needed). */
idx_entry *idx_find_w(idx_tree *t, const void *k, size_t kl);
/* Writer: links e (its key must be absent). LDB_OK or LDB_NOMEM with the
 * tree unchanged. */
int idx_insert(idx_tree *t, idx_entry *e);

/* Writer: one descent for "find, else insert". idx_find_wc records the
 * path to the key's leaf position; idx_insert_wc links e there (e's key
 * must be the one searched, and the tree must not have changed since). */
typedef struct idx_path {
    struct idx_node *node[IDX_MAX_DEPTH];
    uint32_t idx[IDX_MAX_DEPTH]; /* child index taken at node[i] */
    int depth;                   /* node[depth-1] is the leaf */
    uint32_t pos;                /* position in the leaf */
} idx_path;
idx_entry *idx_find_wc(idx_tree *t, const void *k, size_t kl, idx_path *p);
int idx_insert_wc(idx_tree *t, idx_path *p, idx_entry *e);
/* Writer: unlinks e; emptied nodes are retired. The caller must have
 * reserved IDX_REMOVE_RETIRES epoch items first. LDB_OK or LDB_NOTFOUND. */
#define IDX_REMOVE_RETIRES (2 * IDX_MAX_DEPTH + 4)
int idx_remove(idx_tree *t, idx_entry *e);

/* Range reads, for iterators (reader or writer). They fill `out` with up to
 * IDX_CAP entries of one leaf and return how many.
 *
 * idx_leaf_ge: entries >= k (> k when exclusive) of the leaf that holds the
 * first such key, ascending. k == NULL means from the smallest key.
 * *next_fence gets the lower bound of the following leaf (NULL when this is
 * the last); when fewer entries than wanted come back, continue from it.
 *
 * idx_leaf_le: entries <= k (< k when exclusive), descending, from the leaf
 * holding the last such key. k == NULL means from the largest key.
 * *prev_fence gets this leaf's lower bound (NULL when leftmost); continue
 * with keys < fence. Fence keys stay valid for the read section. */
size_t idx_leaf_ge(idx_tree *t, const void *k, size_t kl, int exclusive,
                   idx_entry **out, const idx_key **next_fence);
size_t idx_leaf_le(idx_tree *t, const void *k, size_t kl, int exclusive,
                   idx_entry **out, const idx_key **prev_fence);

/* Visits entries in key order starting at the first key >= k (k == NULL:
 * from the start) until fn returns non-zero (which is returned), a leaf at
 * a time through idx_leaf_ge: the writer may call it, and so may a reader
 * inside a read section (fn then sees each leaf as one instant had it). */
int idx_walk(idx_tree *t, const void *k, size_t kl,
               int (*fn)(idx_entry *e, void *arg), void *arg);

/* Checks the tree's structural invariants (order, fences, counts, prefix
 * cache); writer only; for tests. Returns 0 when sound. */
int idx_check(idx_tree *t, uint64_t *entries_out);

#endif /* LDB_INDEX_H */
