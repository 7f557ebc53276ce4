/*
 * engine/checkpoint.c — writing, installing and loading checkpoints (see
 * checkpoint.h).
 *
 * File layout (little-endian):
 *   header (64 B): "LDBCKPT1" | u32 version | u32 crc (bytes 0..11, 16..63)
 *                  | u64 seq | u64 replay segment | u64 replay offset
 *                  | u64 entries | u32 segments | u32 0 | u64 wall time (ns)
 *   segment table: segments x (u64 id, u64 end) | u32 crc | u32 0
 *   blocks:        u32 "CKBL" | u32 crc (body) | u32 body bytes | u32 entries
 *                  | entries: u16 klen | u16 0 | u32 stored vlen | u32 segment
 *                  | u32 offset | u64 seq | key
 *   trailer:       "CKPTEND\0" | u64 entries | u32 crc (first 16 bytes) | u32 0
 *
 * MANIFEST (text): "lightningdb-manifest 1\n", one "checkpoint NAME\n" line
 * per checkpoint (newest first), then "crc XXXXXXXX\n" over what precedes.
 */
#include "engine/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/alloc.h"
#include "engine/crc32c.h"
#include "engine/db.h"
#include "engine/durable.h"
#include "engine/space.h"
#include "engine/io.h"
#include "engine/syncer.h"
#include "engine/recovery.h"
#include "engine/mvcc.h"
#include "engine/util.h"

#define CK_MAGIC "LDBCKPT1"
#define CK_VERSION 1u
#define CK_HDR 64u
#define CK_BLOCK_MAGIC 0x4c424b43u /* "CKBL" */
#define CK_BLOCK_TARGET (256u << 10)
#define CK_TRAILER_MAGIC "CKPTEND"
#define CK_ENTRY_FIXED 24u
/* An entry offset no segment can hold (load_entry leaves it unresolved). */
#define CK_OFF_UNRESOLVED UINT32_MAX
/* write_manifest: renamed into place, but the directory sync failed. */
#define CKPT_INSTALLED_UNSYNCED 1

typedef struct seg_ref {
    uint64_t id, end;
    const uint8_t *base;
} seg_ref;

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- writing ----------------------------------------------------------- */

typedef struct ck_writer {
    int fd;
    uint64_t off;
    uint8_t *buf;
    size_t len, cap;
    uint32_t block_entries;
    uint64_t entries;
    int rc;
} ck_writer;

static int ck_write_raw(ck_writer *w, const void *p, size_t n)
{
    ssize_t r = io_pwrite(w->fd, p, n, w->off);
    if (r < 0) {
        util_set_error("writing a checkpoint failed: %s", strerror((int)-r));
        return util_errno_to_rc((int)-r);
    }
    w->off += n;
    return LDB_OK;
}

static int ck_flush_block(ck_writer *w)
{
    if (w->block_entries == 0) return LDB_OK;
    uint8_t *h = w->buf; /* the first 16 bytes were reserved for the header */
    uint32_t body = (uint32_t)(w->len - 16);
    util_put_u32(h, CK_BLOCK_MAGIC);
    util_put_u32(h + 4, crc32c(h + 16, body));
    util_put_u32(h + 8, body);
    util_put_u32(h + 12, w->block_entries);
    int rc = ck_write_raw(w, w->buf, w->len);
    w->len = 16;
    w->block_entries = 0;
    return rc;
}

static int ck_add(ck_writer *w, const idx_entry *e, const idx_version *v, uint32_t off)
{
    size_t need = CK_ENTRY_FIXED + e->klen;
    if (w->len + need > w->cap) {
        int rc = ck_flush_block(w);
        if (rc) return rc;
    }
    uint8_t *p = w->buf + w->len;
    util_put_u16(p, e->klen);
    util_put_u16(p + 2, 0);
    util_put_u32(p + 4, v->vlen);
    util_put_u32(p + 8, v->seg);
    util_put_u32(p + 12, off);
    util_put_u64(p + 16, v->seq);
    memcpy(p + CK_ENTRY_FIXED, e->key, e->klen);
    w->len += need;
    w->block_entries++;
    w->entries++;
    return LDB_OK;
}

static const seg_ref *seg_find(const seg_ref *t, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && t[lo].id == id ? &t[lo] : NULL;
}

/* Copies the segment table; the caller holds the commit mutex. */
static int seg_table_locked(ldb *db, seg_ref **out, size_t *n) LDB_REQUIRES(db->commit_mu)
{
    size_t cnt = db->log.nsegs;
    seg_ref *t = alloc_malloc((cnt ? cnt : 1) * sizeof *t);
    if (!t) return LDB_NOMEM;
    for (size_t i = 0; i < cnt; i++) {
        t[i].id = db->log.segs[i]->id;
        t[i].end = db->log.segs[i]->end;
        t[i].base = db->log.segs[i]->base;
    }
    alloc_free(*out);
    *out = t;
    *n = cnt;
    return LDB_OK;
}

/* Adds the segments created since *t was copied, keeping the ones removed
 * since: a version the walk read may still point into a segment the cleaner
 * has detached meanwhile (its mapping stays valid while the checkpoint's
 * snapshot pins the epoch). */
static int seg_table_merge(ldb *db, seg_ref **t, size_t *n) LDB_EXCLUDES(db->commit_mu)
{
    seg_ref *cur = NULL;
    size_t ncur = 0;
    ldb_mutex_lock(&db->commit_mu);
    int rc = seg_table_locked(db, &cur, &ncur);
    ldb_mutex_unlock(&db->commit_mu);
    if (rc) return rc;
    seg_ref *m = alloc_malloc((*n + ncur ? *n + ncur : 1) * sizeof *m);
    if (!m) {
        alloc_free(cur);
        return LDB_NOMEM;
    }
    size_t i = 0, j = 0, k = 0;
    while (i < *n || j < ncur) {
        if (j == ncur || (i < *n && (*t)[i].id < cur[j].id)) m[k++] = (*t)[i++];
        else if (i == *n || cur[j].id < (*t)[i].id) m[k++] = cur[j++];
        else { m[k++] = (*t)[i++]; j++; }
    }
    alloc_free(cur);
    alloc_free(*t);
    *t = m;
    *n = k;
    return LDB_OK;
}

/* The segments at or after its replay start in which a checkpoint names
 * something (usually one or two). Segments, not byte extents: what must be
 * durable is the whole frame holding a named record (see durable.h). */
typedef struct named_segs {
    uint64_t *id;
    size_t n, cap;
} named_segs;

static int note_named(named_segs *e, uint64_t id)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->id[i] == id) return LDB_OK;
    if (e->n == e->cap) {
        uint64_t *v = alloc_grow(e->id, &e->cap, sizeof *v, 4);
        if (!v) return LDB_NOMEM;
        e->id = v;
    }
    e->id[e->n++] = id;
    return LDB_OK;
}

/* The index walk of ckpt_write: one entry as of snapshot S. */
typedef struct ck_walk {
    ldb *db;
    ck_writer *w;
    seg_ref **segs;
    size_t *nsegs;
    named_segs *named;
    uint64_t S, pseg;
} ck_walk;

static int ck_walk_entry(idx_entry *e, void *arg)
{
    ck_walk *c = arg;
    idx_version *v = db_visible(e, c->S);
    if (!v || v->vlen == IDX_TOMBSTONE) return LDB_OK;
    const seg_ref *sr = seg_find(*c->segs, *c->nsegs, v->seg);
    if (!sr) { /* a segment created since the table was copied */
        int rc = seg_table_merge(c->db, c->segs, c->nsegs);
        if (rc) return rc;
        sr = seg_find(*c->segs, *c->nsegs, v->seg);
    }
    if (!sr) {
        /* Created and cleaned away again during the walk: a copy made
         * after P, whose newer copy lies after P too. Named as a
         * location no segment has, so loading leaves it to replay. */
        if (v->seg < c->pseg) {
            util_set_error("checkpoint: version in unknown segment %u", v->seg);
            return LDB_CORRUPTION;
        }
        return ck_add(c->w, e, v, CK_OFF_UNRESOLVED);
    }
    uint32_t off = (uint32_t)(v->rec - sr->base);
    if (v->seg >= c->pseg) {
        int rc = note_named(c->named, v->seg);
        if (rc) return rc;
    }
    return ck_add(c->w, e, v, off);
}

static int write_manifest(ldb *db, const char *newest, const char *previous)
{
    char text[512], path[4096], tmp[4096];
    int n = snprintf(text, sizeof text, "lightningdb-manifest 1\ncheckpoint %s\n", newest);
    if (previous && *previous) n += snprintf(text + n, sizeof text - (size_t)n, "checkpoint %s\n", previous);
    n += snprintf(text + n, sizeof text - (size_t)n, "crc %08x\n", crc32c(text, (size_t)n));
    snprintf(path, sizeof path, "%s/MANIFEST", db->dir);
    snprintf(tmp, sizeof tmp, "%s/MANIFEST.tmp", db->dir);
    int fd = io_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return util_errno_to_rc(-fd);
    ssize_t w = io_pwrite(fd, text, (size_t)n, 0);
    int rc = w < 0 ? (int)w : io_fsync(fd, tmp);
    io_close(fd);
    if (rc == 0) rc = io_rename(tmp, path);
    if (rc < 0) {
        util_set_error("installing MANIFEST failed: %s", strerror(-rc));
        io_unlink(tmp);
        return util_errno_to_rc(-rc);
    }
    /* Renamed: the MANIFEST now names the new checkpoint, whatever happens
     * to the directory sync, so the caller must keep it. */
    rc = io_fsync_dir(db->dir);
    if (rc < 0) {
        util_set_error("syncing the directory after installing MANIFEST failed: %s", strerror(-rc));
        return CKPT_INSTALLED_UNSYNCED;
    }
    return LDB_OK;
}

int ckpt_write(ldb *db)
{
    int rc;
    ck_writer w = {.fd = -1};
    seg_ref *segs = NULL;
    size_t nsegs = 0;
    named_segs named = {0};
    epoch_slot *slot = NULL;
    char name[64], path[4096], tmp[4200];
    ldb_mutex_lock(&db->ckpt_mu);

    rc = epoch_slot_claim(&db->ep, EPOCH_INTERNAL, &slot);
    if (rc) goto out;
    /* Take S, P and our snapshot at once: under the commit mutex nothing is
     * appended or pruned, and the writer's cached bound on snapshots is
     * already <= S, so no version visible at S can be pruned from here. */
    ldb_mutex_lock(&db->commit_mu);
    uint64_t S = db->last_seq;
    uint64_t pseg = db->log.active->id, poff = db->log.active->end;
    uint64_t logbytes = db_log_bytes(db);
    atomic_store_explicit(&slot->snap, S, memory_order_relaxed);
    atomic_store_explicit(&slot->epoch, atomic_load(&db->ep.global), memory_order_relaxed);
    /* Pairs with the seq_cst fences before the slot scans of epoch_reclaim
     * and epoch_oldest_snapshot (epoch.c), as epoch_enter's does: a scan
     * after this point sees the slot, so nothing visible at S is pruned or
     * freed while the walk runs. */
    UTIL_FENCE(memory_order_seq_cst);
    /* The segment table of this instant: every segment a version visible at
     * S lives in stays mapped while our snapshot is pinned. */
    rc = seg_table_locked(db, &segs, &nsegs);
    ldb_mutex_unlock(&db->commit_mu);
    if (rc) goto out;
    if (S == atomic_load(&db->ckpt_seq) && db->ckpt_names[0][0]) {
        rc = LDB_OK; /* nothing new since the last one */
        goto out;
    }
    /* Everything the checkpoint points at must survive a power loss: the
     * commits up to S, and every byte before P (the cleaner's relocated
     * copies, and segments NONE mode rotated without a sync). What it names
     * at or after P (copies the cleaner makes during the walk) is synced
     * once the walk has seen it, below. */
    rc = syncer_wait_durable(db, S);
    if (rc == LDB_OK) rc = dur_sync_log(db, pseg);
    if (rc) goto out;

    snprintf(name, sizeof name, "ckpt-%020" PRIu64 ".ldbc", S);
    snprintf(path, sizeof path, "%s/%s", db->dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    w.fd = io_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w.fd < 0) {
        util_set_error("cannot create %s: %s", tmp, strerror(-w.fd));
        rc = util_errno_to_rc(-w.fd);
        goto out;
    }
    w.cap = CK_BLOCK_TARGET + 16 + CK_ENTRY_FIXED + LDB_MAX_KEY;
    w.buf = alloc_malloc(w.cap);
    if (!w.buf) { rc = LDB_NOMEM; goto out; }

    /* Header placeholder, then the segment table of everything before P. */
    size_t nbefore = 0;
    while (nbefore < nsegs && segs[nbefore].id < pseg) nbefore++;
    uint8_t hdr[CK_HDR] = {0};
    w.off = CK_HDR;
    size_t tlen = nbefore * 16 + 8;
    uint8_t *tbl = alloc_malloc(tlen);
    if (!tbl) { rc = LDB_NOMEM; goto out; }
    for (size_t i = 0; i < nbefore; i++) {
        util_put_u64(tbl + 16 * i, segs[i].id);
        util_put_u64(tbl + 16 * i + 8, segs[i].end);
    }
    util_put_u32(tbl + nbefore * 16, crc32c(tbl, nbefore * 16));
    util_put_u32(tbl + nbefore * 16 + 4, 0);
    rc = ck_write_raw(&w, tbl, tlen);
    alloc_free(tbl);
    if (rc) goto out;

    /* Entries in key order, as of S. */
    w.len = 16;
    ck_walk cw = {db, &w, &segs, &nsegs, &named, S, pseg};
    rc = idx_walk(&db->tree, NULL, 0, ck_walk_entry, &cw);
    if (rc) goto out;
    rc = ck_flush_block(&w);
    if (rc) goto out;
    /* A checkpoint names only bytes below the durable watermark: the walk
     * follows the index, which the cleaner may have pointed at copies it has
     * not synced yet (it syncs them before deleting the originals, which
     * may be after this checkpoint is installed). Each segment is synced to
     * its end, not to the last named byte: the walk may have seen some of a
     * relocation frame's records at their new place and the rest (walked
     * before the swap) at their old one, and a frame durable only in part
     * is cut whole by recovery (test_durability
     * test_checkpoint_names_part_of_a_frame). */
    rc = dur_sync_segments(db, named.id, named.n);
    if (rc) goto out;
    uint8_t trailer[24];
    memcpy(trailer, CK_TRAILER_MAGIC, 8);
    util_put_u64(trailer + 8, w.entries);
    util_put_u32(trailer + 16, crc32c(trailer, 16));
    util_put_u32(trailer + 20, 0);
    rc = ck_write_raw(&w, trailer, sizeof trailer);
    if (rc) goto out;

    memcpy(hdr, CK_MAGIC, 8);
    util_put_u32(hdr + 8, CK_VERSION);
    util_put_u64(hdr + 16, S);
    util_put_u64(hdr + 24, pseg);
    util_put_u64(hdr + 32, poff);
    util_put_u64(hdr + 40, w.entries);
    util_put_u32(hdr + 48, (uint32_t)nbefore);
    uint64_t now = wall_ns();
    util_put_u64(hdr + 56, now);
    uint32_t c = crc32c_extend(crc32c(hdr, 12), hdr + 16, CK_HDR - 16);
    util_put_u32(hdr + 12, c);
    ssize_t hw = io_pwrite(w.fd, hdr, CK_HDR, 0);
    if (hw < 0) {
        rc = util_errno_to_rc((int)-hw);
        goto out;
    }
    int r = io_fsync(w.fd, tmp);
    if (r == 0 && log_failed(&db->log)) {
        /* A sync failed somewhere since ours succeeded, or ours hid it. */
        util_set_error("checkpoint not installed: a log sync failed");
        rc = LDB_IO;
        goto out;
    }
    if (r == 0) r = io_rename(tmp, path);
    if (r < 0) {
        util_set_error("installing checkpoint %s failed: %s", path, strerror(-r));
        rc = util_errno_to_rc(-r);
        goto out;
    }
    if (log_failed(&db->log)) {
        util_set_error("checkpoint not installed: a log sync failed");
        io_unlink(path);
        rc = LDB_IO;
        goto out;
    }
    rc = write_manifest(db, name, db->ckpt_names[0]);
    if (rc == CKPT_INSTALLED_UNSYNCED) {
        /* The MANIFEST names it: keep the file and the names in step, but a
         * failed sync leaves durability unknown, so the database stops
         * accepting writes (reopen to carry on). */
        log_fail(&db->log);
        rc = LDB_IO;
    } else if (rc) {
        io_unlink(path);
        goto out;
    }
    memcpy(db->ckpt_names[1], db->ckpt_names[0], sizeof db->ckpt_names[0]);
    snprintf(db->ckpt_names[0], sizeof db->ckpt_names[0], "%s", name);
    atomic_store(&db->ckpt_seq, S);
    atomic_store(&db->ckpt_wall_ns, now);
    atomic_store(&db->ckpt_log_bytes, logbytes);
    atomic_fetch_add(&db->st_checkpoints, 1);
    if (rc == LDB_OK) ckpt_remove_stale(db); /* only once the MANIFEST is durable */
    ckpt_note_disk_bytes(db);
out:
    if (w.fd >= 0) {
        io_close(w.fd);
        if (rc) io_unlink(tmp);
    }
    alloc_free(w.buf);
    alloc_free(segs);
    alloc_free(named.id);
    if (slot) {
        epoch_exit(slot);
        epoch_slot_release(slot);
    }
    ldb_mutex_unlock(&db->ckpt_mu);
    return rc;
}

void ckpt_remove_stale(ldb *db)
{
    char **names = NULL;
    size_t n = 0;
    if (io_list(db->dir, ".ldbc", &names, &n) < 0) return;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(names[i], db->ckpt_names[0]) || !strcmp(names[i], db->ckpt_names[1])) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", db->dir, names[i]);
        io_unlink(path);
    }
    io_free_names(names, n);
    /* Leftovers of a checkpoint interrupted before its rename. */
    if (io_list(db->dir, ".ldbc.tmp", &names, &n) < 0) return;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", db->dir, names[i]);
        io_unlink(path);
    }
    io_free_names(names, n);
}

/* The bytes the two named checkpoint files occupy, plus as much again as
 * the newest for the next one (written beside them before the oldest goes):
 * space accounting must leave room for it. */
void ckpt_note_disk_bytes(ldb *db)
{
    uint64_t total = 0, newest = 0;
    for (int i = 0; i < 2; i++) {
        if (!db->ckpt_names[i][0]) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", db->dir, db->ckpt_names[i]);
        int fd = io_open(path, O_RDONLY, 0);
        uint64_t sz = 0;
        if (fd >= 0) {
            if (io_file_size(fd, &sz) == 0) total += sz;
            io_close(fd);
        }
        if (i == 0) newest = sz;
    }
    atomic_store(&db->ckpt_disk_bytes, total + newest);
    space_refresh(db);
}

/* ---- loading ----------------------------------------------------------- */

static int read_manifest(ldb *db, char names[2][64], int *count)
{
    char path[4096], text[1024];
    *count = 0;
    snprintf(path, sizeof path, "%s/MANIFEST", db->dir);
    int fd = io_open(path, O_RDONLY, 0);
    if (fd == -ENOENT) return LDB_OK;
    if (fd < 0) return util_errno_to_rc(-fd);
    ssize_t n = io_pread(fd, text, sizeof text - 1, 0);
    io_close(fd);
    if (n < 0) return util_errno_to_rc((int)-n);
    text[n] = 0;
    char *crcline = strstr(text, "crc ");
    unsigned want;
    if (strncmp(text, "lightningdb-manifest 1\n", 23) != 0 || !crcline ||
        sscanf(crcline, "crc %8x", &want) != 1 ||
        crc32c(text, (size_t)(crcline - text)) != want) {
        util_set_error("MANIFEST is damaged; ignoring it");
        return LDB_CORRUPTION;
    }
    char *line = text + 23;
    while (line < crcline && *count < 2) {
        char nm[64];
        /* A name is a file in this directory, never a path elsewhere (the
         * crc guards against damage, not against a crafted MANIFEST). */
        if (sscanf(line, "checkpoint %63s", nm) == 1 && strncmp(nm, "ckpt-", 5) == 0 &&
            !strchr(nm, '/'))
            snprintf(names[(*count)++], 64, "%s", nm);
        char *nl = strchr(line, '\n');
        if (!nl) break;
        line = nl + 1;
    }
    return LDB_OK;
}

/* Installs one checkpoint entry (open is single-threaded: no readers). */
static int load_entry(ldb *db, const uint8_t *p, uint16_t klen, uint64_t *unresolved)
    LDB_REQUIRES(db->commit_mu)
{
    uint32_t slen = util_get_u32(p + 4), segid = util_get_u32(p + 8), off = util_get_u32(p + 12);
    uint64_t seq = util_get_u64(p + 16);
    const uint8_t *key = p + CK_ENTRY_FIXED;
    idx_entry *e = mvcc_entry_new(db, key, klen);
    if (!e) return LDB_NOMEM;
    log_segment *s = log_segment_by_id(&db->log, segid);
    idx_version *v = &e->first;
    v->seq = seq;
    v->seg = segid;
    v->vlen = slen;
    if (s && (uint64_t)off + REC_HDR + klen + slen <= s->size) {
        v->rec = s->base + off;
        atomic_fetch_add_explicit(&s->live, rec_size(klen, slen), memory_order_relaxed);
        atomic_fetch_add_explicit(&db->st_live_bytes, rec_size(klen, slen), memory_order_relaxed);
    } else {
        v->rec = NULL; /* replay must supply the relocated copy */
        (*unresolved)++;
    }
    atomic_store_explicit(&e->head, v, memory_order_relaxed);
    int rc = idx_insert(&db->tree, e);
    if (rc) {
        mvcc_free_entry(e, db);
        return rc == LDB_INVALID ? LDB_CORRUPTION : rc;
    }
    atomic_fetch_add_explicit(&db->st_keys, 1, memory_order_relaxed);
    return LDB_OK;
}

static int load_file(ldb *db, const char *name, ckpt_start *st) LDB_REQUIRES(db->commit_mu)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", db->dir, name);
    int fd = io_open(path, O_RDONLY, 0);
    if (fd < 0) {
        util_set_error("checkpoint %s: %s", path, strerror(-fd));
        return LDB_CORRUPTION;
    }
    uint64_t size;
    void *map = NULL;
    int rc = io_file_size(fd, &size);
    if (rc == 0 && size >= CK_HDR) rc = io_mmap(fd, size, 0, &map);
    io_close(fd);
    if (rc < 0 || !map) {
        util_set_error("checkpoint %s is unreadable or too short", path);
        return LDB_CORRUPTION;
    }
    const uint8_t *b = map;
    rc = LDB_CORRUPTION;
    if (memcmp(b, CK_MAGIC, 8) != 0 || util_get_u32(b + 8) != CK_VERSION ||
        util_get_u32(b + 12) != crc32c_extend(crc32c(b, 12), b + 16, CK_HDR - 16)) {
        util_set_error("checkpoint %s: bad header", path);
        goto out;
    }
    uint64_t seq = util_get_u64(b + 16), pseg = util_get_u64(b + 24), poff = util_get_u64(b + 32);
    uint64_t entries = util_get_u64(b + 40), nbefore = util_get_u32(b + 48);
    uint64_t off = CK_HDR, tlen = nbefore * 16;
    if (off + tlen + 8 > size || util_get_u32(b + off + tlen) != crc32c(b + off, tlen)) {
        util_set_error("checkpoint %s: bad segment table", path);
        goto out;
    }
    for (uint64_t i = 0; i < nbefore; i++) {
        log_segment *s = log_segment_by_id(&db->log, util_get_u64(b + off + 16 * i));
        uint64_t end = util_get_u64(b + off + 16 * i + 8);
        if (s && end >= REC_SEG_HDR && end <= s->size) s->end = end;
    }
    off += tlen + 8;
    uint64_t seen = 0, unresolved = 0;
    const uint8_t *prev = NULL;
    uint16_t prevlen = 0;
    while (off + 16 <= size && util_get_u32(b + off) == CK_BLOCK_MAGIC) {
        uint32_t body = util_get_u32(b + off + 8), n = util_get_u32(b + off + 12);
        if (off + 16 + body > size || crc32c(b + off + 16, body) != util_get_u32(b + off + 4)) {
            util_set_error("checkpoint %s: damaged block at offset %" PRIu64, path, off);
            goto out;
        }
        const uint8_t *p = b + off + 16, *end = p + body;
        for (uint32_t i = 0; i < n; i++) {
            if (p + CK_ENTRY_FIXED > end) goto bad_entry;
            uint16_t klen = util_get_u16(p);
            if (klen == 0 || klen > LDB_MAX_KEY || p + CK_ENTRY_FIXED + klen > end) goto bad_entry;
            if (prev && util_keycmp(prev, prevlen, p + CK_ENTRY_FIXED, klen) >= 0) goto bad_entry;
            int r = load_entry(db, p, klen, &unresolved);
            if (r) {
                rc = r;
                goto out;
            }
            prev = p + CK_ENTRY_FIXED;
            prevlen = klen;
            p += CK_ENTRY_FIXED + klen;
            seen++;
        }
        off += 16 + body;
    }
    if (off + 24 > size || memcmp(b + off, CK_TRAILER_MAGIC, 8) != 0 ||
        util_get_u32(b + off + 16) != crc32c(b + off, 16) || util_get_u64(b + off + 8) != entries ||
        seen != entries) {
        util_set_error("checkpoint %s: missing or inconsistent trailer (truncated?)", path);
        goto out;
    }
    st->seq = seq;
    st->seg = pseg;
    st->off = poff;
    st->unresolved = unresolved;
    atomic_store(&db->ckpt_wall_ns, util_get_u64(b + 56));
    rc = LDB_OK;
    goto out;
bad_entry:
    util_set_error("checkpoint %s: malformed entry in block at offset %" PRIu64, path, off);
out:
    io_munmap(map, size);
    return rc;
}

int ckpt_load(ldb *db, ckpt_start *st)
{
    char names[2][64];
    int count = 0;
    memset(st, 0, sizeof *st);
    int rc = read_manifest(db, names, &count);
    if (rc == LDB_CORRUPTION) {
        db->ckpt_fallbacks++;
        return LDB_OK;
    }
    if (rc) return rc;
    char notes[512] = "";
    for (int i = 0; i < count; i++) {
        rc = load_file(db, names[i], st);
        if (rc == LDB_OK) {
            memcpy(db->ckpt_names[0], names[i], 64);
            if (i + 1 < count) memcpy(db->ckpt_names[1], names[i + 1], 64);
            atomic_store(&db->ckpt_seq, st->seq);
            if (notes[0]) util_set_error("%s; loaded %s instead", notes, names[i]);
            ckpt_note_disk_bytes(db);
            return LDB_OK;
        }
        if (rc == LDB_NOMEM) return rc;
        db->ckpt_fallbacks++;
        snprintf(notes, sizeof notes, "%s", util_last_error());
        int r = recovery_reset_index(db);
        if (r) return r;
    }
    if (notes[0]) util_set_error("%s; replaying the whole log instead", notes);
    memset(st, 0, sizeof *st);
    return LDB_OK;
}
