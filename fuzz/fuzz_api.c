/*
 * fuzz/fuzz_api.c — an API-sequence fuzzer: the input is a program of
 * operations (put, delete, get, transactions, batches, iterators, a
 * snapshot held across writes, checkpoint, compact, sync, reopen) run
 * against a fresh database and checked, step by step, against an
 * in-memory model. Any difference aborts.
 *
 * Byte 0 picks the sync mode and the compression; then each operation is
 * one byte (its kind in the low bits) followed by its operands. Keys are 48
 * fixed byte strings of 1..5 bytes, some with 0x00 and 0xff bytes, so the
 * model's order (memcmp, shorter first) is exercised at the edges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NKEYS 48
#define MAXOPS 256
#define MAXVAL 20000u

typedef struct mstate {
    uint32_t ver[NKEYS]; /* 0: absent */
    uint32_t len[NKEYS];
} mstate;

static uint8_t keys[NKEYS][5];
static size_t klens[NKEYS];
static int order[NKEYS]; /* key ids in key order */
static char *base_dir;

static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static void cleanup(void) { fuzz_rmdir(base_dir); }

static void init_once(void)
{
    if (base_dir) return;
    for (int i = 0; i < NKEYS; i++) {
        klens[i] = 1 + (size_t)(i % 5);
        for (size_t j = 0; j < klens[i]; j++) {
            unsigned b = (unsigned)(i * 37 + (int)j * 101) & 0xffu;
            if (i % 7 == 0 && j == klens[i] - 1) b = 0x00;
            if (i % 11 == 0 && j == 0) b = 0xff;
            keys[i][j] = (uint8_t)b;
        }
        /* Keys must be distinct: perturb on collision. */
        for (int q = 0; q < i; q++)
            if (klens[q] == klens[i] && memcmp(keys[q], keys[i], klens[i]) == 0) {
                keys[i][0] ^= 0x5a;
                q = -1;
            }
        order[i] = i;
    }
    for (int i = 1; i < NKEYS; i++)
        for (int j = i; j > 0 && keycmp(keys[order[j - 1]], klens[order[j - 1]], keys[order[j]],
                                         klens[order[j]]) > 0; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    base_dir = fuzz_mkdtemp("api");
    FUZZ_CHECK(base_dir != NULL, "no scratch directory");
    atexit(cleanup);
}

static uint8_t valbuf[MAXVAL], gotbuf[MAXVAL];

static void make_val(int id, uint32_t ver, uint32_t len, uint8_t *out)
{
    uint32_t x = (uint32_t)id * 2654435761u ^ ver * 40503u;
    for (uint32_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        out[i] = (uint8_t)(x >> 16);
    }
}

/* Checks one key against a model through ldb_get. */
static void check_key(ldb *db, const mstate *m, int id)
{
    size_t vl = 0;
    int rc = ldb_get(db, keys[id], klens[id], gotbuf, sizeof gotbuf, &vl);
    if (!m->ver[id]) {
        FUZZ_CHECK(rc == LDB_NOTFOUND, "key %d should be absent: %d", id, rc);
        return;
    }
    FUZZ_CHECK(rc == LDB_OK && vl == m->len[id], "key %d: rc %d len %zu want %u", id, rc, vl, m->len[id]);
    make_val(id, m->ver[id], m->len[id], valbuf);
    FUZZ_CHECK(memcmp(gotbuf, valbuf, vl) == 0, "key %d: wrong value", id);
}

static void check_all(ldb *db, const mstate *m)
{
    for (int i = 0; i < NKEYS; i++) check_key(db, m, i);
}

/* Iterates (from a transaction when t is set) and compares with the model:
 * dir 0 forward from first, 1 backward from last, 2 forward from a seek. */
static void check_iter(ldb *db, ldb_txn *t, const mstate *m, int dir, int seek_id)
{
    ldb_iter *it;
    int rc = t ? ldb_iter_open_txn(t, &it) : ldb_iter_open(db, &it);
    FUZZ_CHECK(rc == LDB_OK, "iter_open %d", rc);
    int pos;
    if (dir == 0) {
        ldb_iter_first(it);
        pos = 0;
    } else if (dir == 1) {
        ldb_iter_last(it);
        pos = NKEYS - 1;
    } else {
        ldb_iter_seek(it, keys[seek_id], klens[seek_id]);
        pos = 0;
        while (pos < NKEYS && keycmp(keys[order[pos]], klens[order[pos]], keys[seek_id], klens[seek_id]) < 0) pos++;
    }
    int step = dir == 1 ? -1 : 1;
    for (;;) {
        while (pos >= 0 && pos < NKEYS && !m->ver[order[pos]]) pos += step;
        if (pos < 0 || pos >= NKEYS) {
            FUZZ_CHECK(!ldb_iter_valid(it), "iterator has a key the model lacks");
            break;
        }
        FUZZ_CHECK(ldb_iter_valid(it), "iterator ended early (status %d)", ldb_iter_status(it));
        int id = order[pos];
        const void *k, *v;
        size_t kl, vl;
        FUZZ_CHECK(ldb_iter_key(it, &k, &kl) == LDB_OK && kl == klens[id] && memcmp(k, keys[id], kl) == 0,
                   "iterator key differs at %d", id);
        FUZZ_CHECK(ldb_iter_value(it, &v, &vl) == LDB_OK && vl == m->len[id], "iterator value len");
        make_val(id, m->ver[id], m->len[id], valbuf);
        FUZZ_CHECK(memcmp(v, valbuf, vl) == 0, "iterator value differs at %d", id);
        if (step > 0) ldb_iter_next(it);
        else ldb_iter_prev(it);
        pos += step;
    }
    FUZZ_CHECK(ldb_iter_status(it) == LDB_OK, "iter status");
    ldb_iter_close(it);
}

typedef struct reader {
    const uint8_t *p;
    size_t n, i;
} reader;

static unsigned next(reader *r) { return r->i < r->n ? r->p[r->i++] : 0; }

static uint32_t next_len(reader *r)
{
    unsigned a = next(r);
    if (a < 200) return a;                     /* small */
    if (a < 250) return 200 + next(r) * 8;     /* medium */
    return 2000 + (uint32_t)next(r) * 70;      /* large: rotations */
}

static int open_db(const char *dir, const ldb_options *o, ldb **db)
{
    int rc = ldb_open(dir, o, db);
    FUZZ_CHECK(rc == LDB_OK, "open: %d %s", rc, ldb_last_error());
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size < 1) return 0;
    reader rd = {data, size, 0};
    unsigned cfg = next(&rd);
    char dir[4200];
    snprintf(dir, sizeof dir, "%.4000s/db", base_dir);
    fuzz_rmdir(dir);
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = (ldb_sync_mode)(cfg % 3);
    o.compression = (int)((cfg / 3) % 3);
    o.compression_min = 64;
    o.sync_interval_ms = 1000;
    o.segment_size = 64u << 10;
    o.cleaner = 0;
    o.checkpoint_bytes = 0;
    o.checkpoint_on_close = (cfg >> 4) & 1;
    ldb *db;
    if (open_db(dir, &o, &db)) return 0;
    mstate m;
    memset(&m, 0, sizeof m);
    uint32_t ver = 0;
    ldb_txn *snap = NULL;
    mstate snap_m;
    for (int op = 0; op < MAXOPS && rd.i < rd.n; op++) {
        unsigned b = next(&rd);
        int id = (int)(next(&rd) % NKEYS);
        int rc;
        switch (b % 14) {
        case 0: case 1: case 2: { /* put */
            uint32_t len = next_len(&rd);
            ver++;
            make_val(id, ver, len, valbuf);
            rc = ldb_put(db, keys[id], klens[id], valbuf, len);
            FUZZ_CHECK(rc == LDB_OK, "put %d", rc);
            m.ver[id] = ver;
            m.len[id] = len;
            break;
        }
        case 3: /* delete */
            rc = ldb_delete(db, keys[id], klens[id]);
            FUZZ_CHECK(rc == LDB_OK, "delete %d", rc);
            m.ver[id] = 0;
            break;
        case 4: /* get */
            check_key(db, &m, id);
            break;
        case 5: case 6: { /* transaction: reads see the snapshot plus own writes */
            ldb_txn *t;
            unsigned flags = (b >> 4) & 1 ? LDB_TXN_SERIALIZABLE : 0;
            rc = ldb_txn_begin(db, flags, &t);
            FUZZ_CHECK(rc == LDB_OK, "txn_begin %d", rc);
            mstate tm = m;
            int n = 1 + (int)(next(&rd) % 6);
            for (int i = 0; i < n; i++) {
                unsigned c = next(&rd);
                int k = (int)(next(&rd) % NKEYS);
                if (c % 3 == 0) {
                    uint32_t len = next_len(&rd);
                    ver++;
                    make_val(k, ver, len, valbuf);
                    FUZZ_CHECK(ldb_txn_put(t, keys[k], klens[k], valbuf, len) == LDB_OK, "txn_put");
                    tm.ver[k] = ver;
                    tm.len[k] = len;
                } else if (c % 3 == 1) {
                    FUZZ_CHECK(ldb_txn_delete(t, keys[k], klens[k]) == LDB_OK, "txn_delete");
                    tm.ver[k] = 0;
                } else {
                    const void *v;
                    size_t vl;
                    rc = ldb_txn_get(t, keys[k], klens[k], &v, &vl);
                    if (!tm.ver[k]) {
                        FUZZ_CHECK(rc == LDB_NOTFOUND, "txn_get of absent key %d: %d", k, rc);
                    } else {
                        FUZZ_CHECK(rc == LDB_OK && vl == tm.len[k], "txn_get %d: %d", k, rc);
                        make_val(k, tm.ver[k], tm.len[k], valbuf);
                        FUZZ_CHECK(memcmp(v, valbuf, vl) == 0, "txn_get value %d", k);
                    }
                }
            }
            if (next(&rd) % 4 == 0) {
                check_iter(db, t, &tm, 0, 0);
            }
            if ((b >> 5) & 1) {
                ldb_txn_abort(t);
            } else {
                rc = ldb_txn_commit(t);
                FUZZ_CHECK(rc == LDB_OK, "txn_commit %d", rc);
                m = tm;
            }
            break;
        }
        case 7: { /* batch: the last write of a key wins */
            ldb_batch *bt;
            FUZZ_CHECK(ldb_batch_create(&bt) == LDB_OK, "batch_create");
            mstate bm = m;
            int n = 1 + (int)(next(&rd) % 8);
            for (int i = 0; i < n; i++) {
                unsigned c = next(&rd);
                int k = (int)(next(&rd) % NKEYS);
                if (c & 1) {
                    uint32_t len = next_len(&rd);
                    ver++;
                    make_val(k, ver, len, valbuf);
                    FUZZ_CHECK(ldb_batch_put(bt, keys[k], klens[k], valbuf, len) == LDB_OK, "batch_put");
                    bm.ver[k] = ver;
                    bm.len[k] = len;
                } else {
                    FUZZ_CHECK(ldb_batch_delete(bt, keys[k], klens[k]) == LDB_OK, "batch_delete");
                    bm.ver[k] = 0;
                }
            }
            if ((b >> 4) & 1) {
                ldb_batch_clear(bt);
                FUZZ_CHECK(ldb_batch_count(bt) == 0, "batch_clear");
                bm = m;
            }
            rc = ldb_write(db, bt);
            FUZZ_CHECK(rc == LDB_OK, "write %d", rc);
            ldb_batch_free(bt);
            m = bm;
            break;
        }
        case 8: /* iterate */
            check_iter(db, NULL, &m, (int)((b >> 4) % 3), id);
            break;
        case 9: /* a snapshot held across later writes */
            if (!snap) {
                FUZZ_CHECK(ldb_txn_begin(db, LDB_TXN_READONLY, &snap) == LDB_OK, "snapshot");
                snap_m = m;
            } else {
                const void *v;
                size_t vl;
                rc = ldb_txn_get(snap, keys[id], klens[id], &v, &vl);
                FUZZ_CHECK(rc == (snap_m.ver[id] ? LDB_OK : LDB_NOTFOUND), "snapshot get %d", rc);
                if (rc == LDB_OK) {
                    make_val(id, snap_m.ver[id], snap_m.len[id], valbuf);
                    FUZZ_CHECK(vl == snap_m.len[id] && memcmp(v, valbuf, vl) == 0, "snapshot value");
                }
                if ((b >> 4) & 1) check_iter(db, snap, &snap_m, 1, 0);
                if ((b >> 5) & 1) {
                    FUZZ_CHECK(ldb_txn_commit(snap) == LDB_OK, "read-only commit");
                    snap = NULL;
                }
            }
            break;
        case 10: /* reopen */
            if (snap) {
                FUZZ_CHECK(ldb_close(db) == LDB_BUSY, "close with an open snapshot");
                ldb_txn_abort(snap);
                snap = NULL;
            }
            FUZZ_CHECK(ldb_close(db) == LDB_OK, "close");
            if (open_db(dir, &o, &db)) return 0;
            check_all(db, &m);
            break;
        case 11:
            rc = ldb_checkpoint(db);
            FUZZ_CHECK(rc == LDB_OK, "checkpoint %d", rc);
            break;
        case 12:
            rc = ldb_compact(db);
            FUZZ_CHECK(rc == LDB_OK, "compact %d", rc);
            break;
        case 13:
            FUZZ_CHECK(ldb_sync(db) == LDB_OK, "sync");
            break;
        }
    }
    if (snap) ldb_txn_abort(snap);
    check_all(db, &m);
    check_iter(db, NULL, &m, 0, 0);
    FUZZ_CHECK(ldb_close(db) == LDB_OK, "final close");
    if (open_db(dir, &o, &db)) return 0;
    check_all(db, &m);
    FUZZ_CHECK(ldb_close(db) == LDB_OK, "close after reopen");
    return 0;
}
