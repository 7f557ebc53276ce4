/*
 * engine/wset.c — write sets (see wset.h).
 */
#include "engine/wset.h"

#include <stdlib.h>
#include <string.h>

#include "engine/alloc.h"
#include "engine/util.h"
#include "lightningdb.h"

#define WSET_BLOCK (64u << 10)

struct wset_block {
    wset_block *next;
    size_t used, cap;
    uint8_t data[];
};

void wset_init(wset *ws) { memset(ws, 0, sizeof *ws); }

static uint64_t wset_hash(const uint8_t *k, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, k, 8);
        h = (h ^ (w * 0xbf58476d1ce4e5b9ull)) * 0x94d049bb133111ebull;
        h ^= h >> 29;
        k += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, k, n);
    h = (h ^ (w * 0xbf58476d1ce4e5b9ull)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

void *wset_copy(wset *ws, const void *p, size_t n)
{
    wset_block *b = ws->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > WSET_BLOCK / 4 ? n : WSET_BLOCK;
        wset_block *nb = alloc_malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->used = 0;
        nb->cap = cap;
        if (b && cap != WSET_BLOCK) { /* a big value: keep the current block current */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            ws->blocks = nb;
        }
        b = nb;
    }
    uint8_t *dst = b->data + b->used;
    if (n) memcpy(dst, p, n);
    b->used += (n + 7) & ~(size_t)7;
    if (b->used > b->cap) b->used = b->cap;
    return dst;
}

static int wset_grow_table(wset *ws)
{
    size_t nc = ws->tcap ? ws->tcap * 2 : 16;
    uint32_t *t = alloc_calloc(nc, sizeof *t);
    if (!t) return LDB_NOMEM;
    for (size_t i = 0; i < ws->nops; i++) {
        size_t j = ws->ops[i].hash & (nc - 1);
        while (t[j]) j = (j + 1) & (nc - 1);
        t[j] = (uint32_t)(i + 1);
    }
    alloc_free(ws->table);
    ws->table = t;
    ws->tcap = nc;
    return LDB_OK;
}

static wset_op *wset_lookup(const wset *ws, const void *k, size_t kl, uint64_t h)
{
    if (!ws->tcap) return NULL;
    for (size_t j = h & (ws->tcap - 1);; j = (j + 1) & (ws->tcap - 1)) {
        uint32_t ix = ws->table[j];
        if (!ix) return NULL;
        wset_op *op = &ws->ops[ix - 1];
        if (op->hash == h && op->klen == kl && memcmp(op->key, k, kl) == 0) return op;
    }
}

const wset_op *wset_find(const wset *ws, const void *k, size_t kl)
{
    return wset_lookup(ws, k, kl, wset_hash(k, kl));
}

int wset_put(wset *ws, uint8_t type, const void *k, size_t kl, const void *v, size_t vl)
{
    uint64_t h = wset_hash(k, kl);
    wset_op *op = wset_lookup(ws, k, kl, h);
    const uint8_t *val = NULL;
    if (vl) {
        val = wset_copy(ws, v, vl);
        if (!val) return LDB_NOMEM;
    }
    if (op) {
        op->type = type;
        op->val = val;
        op->vlen = (uint32_t)vl;
        ws->bytes += vl;
        ws->gen++;
        return LDB_OK;
    }
    if ((ws->nops + 1) * 2 > ws->tcap && wset_grow_table(ws)) return LDB_NOMEM;
    if (ws->nops == ws->cap) {
        wset_op *nv = alloc_grow(ws->ops, &ws->cap, sizeof *nv, 16);
        if (!nv) return LDB_NOMEM;
        ws->ops = nv;
    }
    const uint8_t *key = wset_copy(ws, k, kl);
    if (!key) return LDB_NOMEM;
    op = &ws->ops[ws->nops];
    op->key = key;
    op->klen = (uint16_t)kl;
    op->val = val;
    op->vlen = (uint32_t)vl;
    op->type = type;
    op->hash = h;
    size_t j = h & (ws->tcap - 1);
    while (ws->table[j]) j = (j + 1) & (ws->tcap - 1);
    ws->table[j] = (uint32_t)(ws->nops + 1);
    ws->nops++;
    ws->bytes += kl + vl;
    ws->gen++;
    return LDB_OK;
}

static int wset_cmp(const void *a, const void *b, void *arg)
{
    const wset *ws = arg;
    const wset_op *x = &ws->ops[*(const uint32_t *)a], *y = &ws->ops[*(const uint32_t *)b];
    return util_keycmp(x->key, x->klen, y->key, y->klen);
}

int wset_sorted(wset *ws, const uint32_t **idx)
{
    if (ws->sorted_gen != ws->gen || !ws->sorted) {
        if (ws->sorted_cap < ws->nops || !ws->sorted) {
            size_t nc = ws->nops ? ws->nops : 1;
            uint32_t *v = alloc_realloc(ws->sorted, nc * sizeof *v);
            if (!v) return LDB_NOMEM;
            ws->sorted = v;
            ws->sorted_cap = nc;
        }
        for (size_t i = 0; i < ws->nops; i++) ws->sorted[i] = (uint32_t)i;
        qsort_r(ws->sorted, ws->nops, sizeof(uint32_t), wset_cmp, ws);
        ws->sorted_gen = ws->gen;
    }
    *idx = ws->sorted;
    return LDB_OK;
}

void wset_clear(wset *ws)
{
    wset_block *b = ws->blocks;
    while (b) {
        wset_block *n = b->next;
        alloc_free(b);
        b = n;
    }
    ws->blocks = NULL;
    ws->nops = 0;
    ws->bytes = 0;
    if (ws->table) memset(ws->table, 0, ws->tcap * sizeof *ws->table);
    ws->gen++;
}

void wset_free(wset *ws)
{
    wset_clear(ws);
    alloc_free(ws->ops);
    alloc_free(ws->table);
    alloc_free(ws->sorted);
    memset(ws, 0, sizeof *ws);
}
