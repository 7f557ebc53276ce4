/*
 * fuzz/fuzz_template.h — the database the checkpoint and MANIFEST fuzzers
 * open: two segments of log, two checkpoints (an older one, then more
 * writes, overwrites and deletes, then a newer one) and a log tail after
 * the newer one, so recovery loads a checkpoint and replays on top of it.
 * Built once per process in a scratch directory; the fuzzers then only
 * replace a checkpoint file or the MANIFEST and open it read-only (which
 * writes nothing, so the segments stay as built).
 */
#ifndef FUZZ_TEMPLATE_H
#define FUZZ_TEMPLATE_H

#include <dirent.h>
#include <stdlib.h>

#include "fuzz_common.h"

typedef struct fuzz_kv {
    uint8_t key[16];
    size_t klen;
    uint8_t *val;
    size_t vlen;
} fuzz_kv;

typedef struct fuzz_template {
    char *dir;
    char newest[64], oldest[64];   /* checkpoint file names */
    uint8_t *manifest;             /* the MANIFEST as written */
    size_t manifest_len;
    uint8_t *ckpt_newest, *ckpt_oldest;
    size_t ckpt_newest_len, ckpt_oldest_len;
    fuzz_kv kv[256];               /* the contents, in key order */
    size_t nkv;
} fuzz_template;

static fuzz_template fuzz_tpl;

static inline void fuzz_template_cleanup(void) { fuzz_rmdir(fuzz_tpl.dir); }

static inline void fuzz_put(ldb *db, unsigned i, unsigned ver)
{
    char k[16];
    uint8_t v[3000];
    int kl = snprintf(k, sizeof k, "key%03u", i);
    size_t vl = (i * 131u + ver * 17u) % 2500u;
    for (size_t j = 0; j < vl; j++) v[j] = (uint8_t)(i + ver + j * 7);
    FUZZ_CHECK(ldb_put(db, k, (size_t)kl, v, vl) == LDB_OK, "template put");
}

/* Builds the template once (later calls return at once). */
static inline fuzz_template *fuzz_template_get(void)
{
    if (fuzz_tpl.dir) return &fuzz_tpl;
    fuzz_tpl.dir = fuzz_mkdtemp("tpl");
    FUZZ_CHECK(fuzz_tpl.dir != NULL, "no scratch directory");
    atexit(fuzz_template_cleanup);
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_NONE;
    o.segment_size = 64u << 10;
    o.cleaner = 0;
    o.checkpoint_bytes = 0;
    o.checkpoint_on_close = 0;
    ldb *db;
    FUZZ_CHECK(ldb_open(fuzz_tpl.dir, &o, &db) == LDB_OK, "template open");
    for (unsigned i = 0; i < 40; i++) fuzz_put(db, i, 0);
    FUZZ_CHECK(ldb_checkpoint(db) == LDB_OK, "template checkpoint 1");
    for (unsigned i = 20; i < 60; i++) fuzz_put(db, i, 1);
    for (unsigned i = 0; i < 10; i++) {
        char k[16];
        int kl = snprintf(k, sizeof k, "key%03u", i * 3);
        FUZZ_CHECK(ldb_delete(db, k, (size_t)kl) == LDB_OK, "template delete");
    }
    FUZZ_CHECK(ldb_checkpoint(db) == LDB_OK, "template checkpoint 2");
    for (unsigned i = 50; i < 70; i++) fuzz_put(db, i, 2);
    FUZZ_CHECK(ldb_delete(db, "key055", 6) == LDB_OK, "template delete");
    /* The contents, for the fuzzers that can check them exactly. */
    ldb_iter *it;
    FUZZ_CHECK(ldb_iter_open(db, &it) == LDB_OK, "template iter");
    for (ldb_iter_first(it); ldb_iter_valid(it) && fuzz_tpl.nkv < 256; ldb_iter_next(it)) {
        const void *k, *v;
        size_t kl, vl;
        ldb_iter_key(it, &k, &kl);
        FUZZ_CHECK(ldb_iter_value(it, &v, &vl) == LDB_OK, "template value");
        fuzz_kv *e = &fuzz_tpl.kv[fuzz_tpl.nkv++];
        memcpy(e->key, k, kl);
        e->klen = kl;
        e->val = malloc(vl ? vl : 1);
        memcpy(e->val, v, vl);
        e->vlen = vl;
    }
    ldb_iter_close(it);
    FUZZ_CHECK(ldb_close(db) == LDB_OK, "template close");
    char p[4200];
    snprintf(p, sizeof p, "%.4000s/MANIFEST", fuzz_tpl.dir);
    fuzz_tpl.manifest = fuzz_read_file(p, &fuzz_tpl.manifest_len);
    FUZZ_CHECK(fuzz_tpl.manifest != NULL, "template MANIFEST");
    /* The MANIFEST names the newest checkpoint first. */
    char *a = strstr((char *)fuzz_tpl.manifest, "checkpoint ");
    FUZZ_CHECK(a && sscanf(a, "checkpoint %63s", fuzz_tpl.newest) == 1, "MANIFEST line 1");
    char *b = strstr(a + 1, "checkpoint ");
    FUZZ_CHECK(b && sscanf(b, "checkpoint %63s", fuzz_tpl.oldest) == 1, "MANIFEST line 2");
    snprintf(p, sizeof p, "%.4000s/%.63s", fuzz_tpl.dir, fuzz_tpl.newest);
    fuzz_tpl.ckpt_newest = fuzz_read_file(p, &fuzz_tpl.ckpt_newest_len);
    snprintf(p, sizeof p, "%.4000s/%.63s", fuzz_tpl.dir, fuzz_tpl.oldest);
    fuzz_tpl.ckpt_oldest = fuzz_read_file(p, &fuzz_tpl.ckpt_oldest_len);
    FUZZ_CHECK(fuzz_tpl.ckpt_newest && fuzz_tpl.ckpt_oldest, "template checkpoints");
    return &fuzz_tpl;
}

/* Restores the template's checkpoint files and MANIFEST. */
static inline void fuzz_template_reset(fuzz_template *t)
{
    char p[4200];
    snprintf(p, sizeof p, "%.4000s/MANIFEST", t->dir);
    FUZZ_CHECK(fuzz_write_file(p, t->manifest, t->manifest_len) == 0, "reset MANIFEST");
    snprintf(p, sizeof p, "%.4000s/%.63s", t->dir, t->newest);
    FUZZ_CHECK(fuzz_write_file(p, t->ckpt_newest, t->ckpt_newest_len) == 0, "reset ckpt");
    snprintf(p, sizeof p, "%.4000s/%.63s", t->dir, t->oldest);
    FUZZ_CHECK(fuzz_write_file(p, t->ckpt_oldest, t->ckpt_oldest_len) == 0, "reset ckpt");
}

/* 1 when the open database holds exactly the template's contents. */
static inline int fuzz_template_matches(ldb *db, const fuzz_template *t)
{
    ldb_iter *it;
    if (ldb_iter_open(db, &it) != LDB_OK) return 0;
    size_t i = 0;
    int ok = 1;
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it), i++) {
        const void *k, *v;
        size_t kl, vl;
        ldb_iter_key(it, &k, &kl);
        if (i >= t->nkv || kl != t->kv[i].klen || memcmp(k, t->kv[i].key, kl) != 0 ||
            ldb_iter_value(it, &v, &vl) != LDB_OK || vl != t->kv[i].vlen ||
            (vl && memcmp(v, t->kv[i].val, vl) != 0)) {
            ok = 0;
            break;
        }
    }
    if (ldb_iter_status(it) != LDB_OK || i != t->nkv) ok = 0;
    ldb_iter_close(it);
    return ok;
}

static inline void fuzz_ro_opts(ldb_options *o)
{
    ldb_options_init(o);
    o->read_only = 1;
    o->create_if_missing = 0;
    o->cleaner = 0;
    o->checkpoint_bytes = 0;
    o->segment_size = 64u << 10;
}

#endif
