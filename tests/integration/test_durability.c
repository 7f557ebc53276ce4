/*
 * test_durability.c — durability races forced through the I/O fault hook
 * and judged by a power-cut model, in one process.
 *
 * The model (pc_*): the engine's durability observer reports, after every
 * successful sync, which file and how many leading bytes are on disk; an
 * injected failed sync of a file marks what it held beyond its durable
 * prefix as lost for good (Linux may drop pages whose writeback failed, and
 * reports the error to one caller only, so a later successful fdatasync of
 * the same file does not bring them back). pc_image() copies the database
 * directory as a disk could hold it after a power cut at that instant: each
 * segment keeps its durable prefix minus lost ranges, zeros elsewhere; a
 * segment no sync ever covered, or whose directory entry no directory sync
 * covered, vanishes; *.tmp files vanish.
 *
 * Each test forces one interleaving that a review of the durability code
 * found (docs/durability.md lists them), and each fails on the code before
 * its fix:
 *  - a checkpoint naming the cleaner's relocated copies before they were
 *    synced (power cut right after the MANIFEST install), and naming some
 *    records of a relocation frame while syncing only up to them (the rest
 *    of the frame, walked before the swap, was left unsynced);
 *  - an unwritten page inside the newest segment's unsynced tail, followed
 *    by frames that did reach the disk;
 *  - a sync failure reported to another thread while the cleaner syncs its
 *    copies (the cleaner then deleted the originals), and while a
 *    checkpoint is being written (it was installed anyway);
 *  - ldb_sync in NONE mode leaving sealed segments and directory entries to
 *    the OS, and returning while another caller's directory fsync was still
 *    in flight;
 *  - a new database directory whose entry in its parent was never synced;
 *  - ldb_close while another thread is inside ldb_get.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "engine/alloc.h"
#include "engine/db.h"
#include "engine/io.h"
#include "lightningdb.h"
#include "testutil.h"

/* ---- the power-cut model ------------------------------------------------ */

#define PC_FILES 512

typedef struct pc_file {
    char name[64];
    uint64_t durable;          /* longest durable prefix reported */
    int reported;
    long first_report;         /* event index of its first report */
    uint64_t lost_lo, lost_hi; /* lost by a failed sync: [lo, hi) */
} pc_file;

static struct {
    pthread_mutex_t mu;
    char dir[4096];
    pc_file f[PC_FILES];
    int nf;
    long events, last_dir_sync;
    char synced_dirs[8][4096]; /* other directories reported synced */
    int nsynced_dirs;
} pc = {.mu = PTHREAD_MUTEX_INITIALIZER};

static const char *base_name(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t l = strlen(s), m = strlen(suffix);
    return l >= m && strcmp(s + l - m, suffix) == 0;
}

static pc_file *pc_file_of(const char *name)
{
    for (int i = 0; i < pc.nf; i++)
        if (strcmp(pc.f[i].name, name) == 0) return &pc.f[i];
    if (pc.nf == PC_FILES) return NULL;
    pc_file *f = &pc.f[pc.nf++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    return f;
}

static void pc_on_durable(const char *path, uint64_t len, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pc.mu);
    long ev = pc.events++;
    if (strcmp(path, pc.dir) == 0) {
        pc.last_dir_sync = ev;
    } else if (len == 0 && !ends_with(path, ".log")) {
        if (pc.nsynced_dirs < 8) snprintf(pc.synced_dirs[pc.nsynced_dirs++], 4096, "%s", path);
    } else {
        pc_file *f = pc_file_of(base_name(path));
        if (f) {
            if (!f->reported) f->first_report = ev;
            f->reported = 1;
            if (len > f->durable) f->durable = len;
        }
    }
    pthread_mutex_unlock(&pc.mu);
}

/* Starts the model on dir: what its segments hold now counts as durable
 * (the tests below start from a database every byte of which was synced),
 * with their directory entries. */
static void pc_start(const char *dir, int existing_durable)
{
    pthread_mutex_lock(&pc.mu);
    snprintf(pc.dir, sizeof pc.dir, "%s", dir);
    pc.nf = 0;
    pc.events = 1;
    pc.last_dir_sync = existing_durable ? 0 : -1;
    pc.nsynced_dirs = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (existing_durable && d && (de = readdir(d)) != NULL) {
        if (!ends_with(de->d_name, ".log")) continue;
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        pc_file *f = pc_file_of(de->d_name);
        f->durable = tu_nonzero_end(p);
        f->reported = 1;
    }
    if (d) closedir(d);
    pthread_mutex_unlock(&pc.mu);
    io_set_durable_hook(pc_on_durable, NULL);
}

/* An injected failed sync of path: what it holds beyond its durable prefix
 * is gone. */
static void pc_lost(const char *path)
{
    uint64_t end = tu_nonzero_end(path);
    pthread_mutex_lock(&pc.mu);
    pc_file *f = pc_file_of(base_name(path));
    if (f && !f->lost_hi) {
        f->lost_lo = f->durable;
        f->lost_hi = end;
    }
    pthread_mutex_unlock(&pc.mu);
}

/* Writes into `to` (fresh) what the disk could hold after a power cut now. */
static void pc_image(const char *to)
{
    assert_int_equal(tu_copy_dir(pc.dir, to), 0);
    pthread_mutex_lock(&pc.mu);
    DIR *d = opendir(to);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", to, de->d_name);
        if (ends_with(de->d_name, ".tmp")) {
            unlink(p);
            continue;
        }
        if (!ends_with(de->d_name, ".log")) continue;
        pc_file *f = pc_file_of(de->d_name);
        if (!f || !f->reported || f->first_report > pc.last_dir_sync) {
            unlink(p); /* contents or directory entry never synced */
            continue;
        }
        if (f->lost_hi > f->lost_lo) assert_int_equal(tu_zero_range(p, f->lost_lo, f->lost_hi), 0);
        assert_int_equal(tu_zero_from(p, f->durable), 0);
    }
    closedir(d);
    pthread_mutex_unlock(&pc.mu);
}

static void pc_stop(void)
{
    io_set_durable_hook(NULL, NULL);
    io_set_fault_hook(NULL, NULL);
}

/* ---- workload and checks ---------------------------------------------- */

#define NKEYS 3000
#define VLEN 100

static size_t key_of(unsigned i, char *k) { return (size_t)snprintf(k, 16, "k%05u", i); }

static void val_of(unsigned i, unsigned gen, uint8_t *v)
{
    tu_rng r = {i * 0x9e3779b97f4a7c15ull + gen * 7919u + 1};
    for (unsigned b = 0; b < VLEN; b++) v[b] = (uint8_t)tu_rand(&r);
}

static unsigned gen_of(unsigned i) { return i < 600 && i % 5 < 2 ? 1u : 0u; }

static void fill_opts(ldb_options *o, ldb_sync_mode mode, uint64_t seg)
{
    ldb_options_init(o);
    o->sync_mode = mode;
    o->segment_size = seg;
    o->cleaner = 0;
    o->checkpoint_bytes = 0;
    o->checkpoint_on_close = 0;
    o->sync_interval_ms = 5;
}

/* NKEYS keys, then 40% of the first 600 overwritten: the first segment is
 * ~70% live and the only one ldb_compact cleans (so nothing else runs once
 * a test has taken its power-cut image). Then small fillers until the log
 * rotates, so the copies fit in the fresh active segment (no rotation sync
 * comes before the copies' sync). */
static void load(ldb *db)
{
    char k[16];
    uint8_t v[VLEN];
    for (unsigned i = 0; i < NKEYS; i++) {
        val_of(i, 0, v);
        assert_int_equal(ldb_put(db, k, key_of(i, k), v, VLEN), LDB_OK);
    }
    for (unsigned i = 0; i < NKEYS; i++) {
        if (!gen_of(i)) continue;
        val_of(i, 1, v);
        assert_int_equal(ldb_put(db, k, key_of(i, k), v, VLEN), LDB_OK);
    }
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    uint64_t segs = st.segments;
    for (unsigned j = 0; st.segments == segs; j++) {
        char fk[16];
        int n = snprintf(fk, sizeof fk, "f%05u", j);
        assert_int_equal(ldb_put(db, fk, (size_t)n, "x", 1), LDB_OK);
        assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    }
}

/* A fresh FULL-mode database, loaded (every byte synced), with the
 * power-cut model started on it. */
static char *open_loaded(const char *tag, ldb **db)
{
    char *dir = tu_tmpdir_fast(tag);
    assert_non_null(dir);
    ldb_options o;
    fill_opts(&o, LDB_SYNC_FULL, 128u << 10);
    assert_int_equal(ldb_open(dir, &o, db), LDB_OK);
    load(*db);
    pc_start(dir, 1);
    return dir;
}

/* Opens dir as recovery would and checks every loaded key's value. */
static void check_keys(const char *dir, const char *ctx)
{
    ldb_options o;
    fill_opts(&o, LDB_SYNC_NORMAL, 128u << 10);
    ldb *db;
    int rc = ldb_open(dir, &o, &db);
    if (rc) fail_msg("%s: reopen failed: %s (%s)", ctx, ldb_strerror(rc), ldb_last_error());
    char k[16];
    uint8_t v[VLEN], want[VLEN];
    unsigned bad = 0, first = NKEYS;
    int first_rc = 0;
    for (unsigned i = 0; i < NKEYS; i++) {
        size_t vl = 0;
        rc = ldb_get(db, k, key_of(i, k), v, sizeof v, &vl);
        val_of(i, gen_of(i), want);
        if (rc != LDB_OK || vl != VLEN || memcmp(v, want, VLEN) != 0) {
            if (!bad++) {
                first = i;
                first_rc = rc;
            }
        }
    }
    assert_int_equal(ldb_close(db), LDB_OK);
    if (bad)
        fail_msg("%s: %u of %u acknowledged keys lost or wrong after the power cut (first k%05u: %s)",
                 ctx, bad, NKEYS, first, ldb_strerror(first_rc));
}

/* ---- a small rendezvous between the hook and the test's threads ------- */

static pthread_mutex_t rv_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rv_cv = PTHREAD_COND_INITIALIZER;

static void rv_set(int *flag)
{
    pthread_mutex_lock(&rv_mu);
    *flag = 1;
    pthread_cond_broadcast(&rv_cv);
    pthread_mutex_unlock(&rv_mu);
}

/* Waits up to ms for *flag; returns it. */
static int rv_wait(int *flag, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&rv_mu);
    while (!*flag && pthread_cond_timedwait(&rv_cv, &rv_mu, &ts) == 0) {}
    int v = *flag;
    pthread_mutex_unlock(&rv_mu);
    return v;
}

/* ---- 1. a checkpoint racing the cleaner ------------------------------- */

static struct {
    ldb *db;
    pthread_t main_thread, worker;
    int go, relocated, image_taken, manifest_renamed, fired, worker_blocked;
    int worker_rc;
    char image[4200];
} race;

static void *compactor_main(void *arg)
{
    (void)arg;
    rv_wait(&race.go, 10000);
    race.worker_rc = ldb_compact(race.db);
    return NULL;
}

/* The checkpoint (main thread) pauses after its own syncs, before its index
 * walk, until the cleaner has relocated records and is about to sync the
 * copies; the cleaner holds that sync until the power cut is taken right
 * after the MANIFEST install (or half a second, if the checkpoint has to
 * wait for the same sync: then the copies are durable first). */
static int ckpt_race_hook(io_op op, const char *path, void *arg)
{
    (void)arg;
    int is_main = pthread_equal(pthread_self(), race.main_thread);
    if (op == IO_OP_OPEN && is_main && path && ends_with(path, ".ldbc.tmp") && !race.fired) {
        race.fired = 1;
        rv_set(&race.go);
        assert_true(rv_wait(&race.relocated, 10000));
    } else if (op == IO_OP_SYNC && !is_main && path && ends_with(path, ".log") &&
               pthread_equal(pthread_self(), race.worker) && !race.worker_blocked) {
        race.worker_blocked = 1;
        rv_set(&race.relocated);
        rv_wait(&race.image_taken, 500);
    } else if ((op == IO_OP_SYNC || op == IO_OP_UNLINK) && race.worker_blocked &&
               pthread_equal(pthread_self(), race.worker)) {
        /* Nothing else of the cleaner's reaches the disk while the image
         * is copied (it must be one instant's). */
        rv_wait(&race.image_taken, 10000);
    } else if (op == IO_OP_RENAME && is_main && path && ends_with(path, "/MANIFEST")) {
        race.manifest_renamed = 1;
    } else if (op == IO_OP_SYNC && is_main && race.manifest_renamed && !race.image_taken &&
               path && strcmp(path, pc.dir) == 0) {
        pc_image(race.image); /* the cut: right after the MANIFEST is in place */
        rv_set(&race.image_taken);
    }
    return 0;
}

static void test_checkpoint_names_only_durable_copies(void **state)
{
    (void)state;
    memset(&race, 0, sizeof race);
    char *dir = open_loaded("dur-ckpt", &race.db);
    snprintf(race.image, sizeof race.image, "%s.cut", dir);
    race.main_thread = pthread_self();
    assert_int_equal(pthread_create(&race.worker, NULL, compactor_main, NULL), 0);
    io_set_fault_hook(ckpt_race_hook, NULL);
    int rc = ldb_checkpoint(race.db);
    pthread_join(race.worker, NULL);
    pc_stop();
    assert_int_equal(rc, LDB_OK);
    assert_int_equal(race.worker_rc, LDB_OK);
    assert_true(race.worker_blocked && race.image_taken);
    assert_int_equal(ldb_close(race.db), LDB_OK);
    check_keys(race.image, "checkpoint racing the cleaner, FULL");
    tu_rmdir(race.image);
    tu_rmdir(dir);
    free(dir);
}

/* ---- 1b. a checkpoint naming part of a relocation frame ---------------- */

/* The cleaner relocates a victim's records in frames of up to 1024, in the
 * victim's order; a checkpoint walks the index in key order. When the swap
 * lands mid-walk, the keys already walked are named at their old place and
 * the rest at their new one, inside the same frame. The checkpoint used to
 * sync only up to the last byte it named, so a power cut right after the
 * MANIFEST install kept part of the frame: recovery cuts a torn frame
 * whole, and the records the checkpoint named in it were gone (reads said
 * "corruption detected"). The CI failure of test_powerloss
 * test_full_checkpoint_races_cleaner (seed 3019) was this; here it is
 * forced: the victim holds high keys, then low ones; the walk is held after
 * its first block (past the low keys) until the cleaner's first frame is
 * in place, and the cleaner is held before its second frame (outside any
 * sync) until the power-cut image is taken. */

#define PF_KEYS 20000u
#define PF_HIGH 19000u
#define PF_BATCH 100u

static unsigned pf_gen(unsigned i) { return i >= PF_HIGH && i % 10 < 3 ? 1u : 0u; }

static void pf_val(unsigned i, unsigned gen, uint8_t v[8])
{
    uint32_t a = i, b = gen * 0x9e3779b9u + 1;
    memcpy(v, &a, 4);
    memcpy(v + 4, &b, 4);
}

/* Keys [lo, hi) at generation gen (only those whose final generation is
 * gen when gen > 0), PF_BATCH to a commit. */
static void pf_put_range(ldb *db, unsigned lo, unsigned hi, unsigned gen)
{
    ldb_batch *b = NULL;
    unsigned n = 0;
    for (unsigned i = lo; i < hi; i++) {
        if (gen && pf_gen(i) != gen) continue;
        if (!b) assert_int_equal(ldb_batch_create(&b), LDB_OK);
        char k[16];
        uint8_t v[8];
        pf_val(i, gen, v);
        assert_int_equal(ldb_batch_put(b, k, key_of(i, k), v, sizeof v), LDB_OK);
        if (++n % PF_BATCH == 0 || i + 1 == hi) {
            assert_int_equal(ldb_write(db, b), LDB_OK);
            ldb_batch_free(b);
            b = NULL;
        }
    }
    if (b) {
        assert_int_equal(ldb_write(db, b), LDB_OK);
        ldb_batch_free(b);
    }
}

static uint64_t pf_segments(ldb *db)
{
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    return st.segments;
}

/* Segment 1: k19000..k19999, then k00000..k00999, then dead padding (one key
 * overwritten) to its end; the other keys after it, 30% of the high keys
 * overwritten, small fillers until the log rotates (the copies then land in
 * the fresh active segment). Only segment 1 is below the cleaner's bar. */
static void pf_load(ldb *db)
{
    pf_put_range(db, PF_HIGH, PF_KEYS, 0);
    pf_put_range(db, 0, 1000, 0);
    static uint8_t pad[4000];
    for (uint64_t segs = pf_segments(db); pf_segments(db) == segs;)
        assert_int_equal(ldb_put(db, "p", 1, pad, sizeof pad), LDB_OK);
    pf_put_range(db, 1000, PF_HIGH, 0);
    pf_put_range(db, PF_HIGH, PF_KEYS, 1);
    for (unsigned j = 0, segs = (unsigned)pf_segments(db); pf_segments(db) == segs; j++) {
        char fk[16];
        int n = snprintf(fk, sizeof fk, "f%05u", j);
        assert_int_equal(ldb_put(db, fk, (size_t)n, "x", 1), LDB_OK);
    }
}

static struct {
    ldb *db;
    pthread_t main_thread, worker;
    int opened, writes, go, relocated, held, image_taken, manifest_renamed;
    int worker_rc;
    char image[4200];
} pf;

static void *pf_compactor(void *arg)
{
    (void)arg;
    rv_wait(&pf.go, 10000);
    pf.worker_rc = ldb_compact(pf.db);
    return NULL;
}

/* The cleaner's first allocation after its first frame is published (the
 * next batch's): held there, before any sync, until the image is taken. */
static int pf_alloc_hook(void *arg)
{
    (void)arg;
    if (pf.worker && pthread_equal(pthread_self(), pf.worker) && !pf.held &&
        atomic_load(&pf.db->st_cleaner_bytes) > 0) {
        pf.held = 1;
        rv_set(&pf.relocated);
        rv_wait(&pf.image_taken, 10000);
    }
    return 0;
}

static int pf_io_hook(io_op op, const char *path, void *arg)
{
    (void)arg;
    int is_main = pthread_equal(pthread_self(), pf.main_thread);
    if (!is_main) return 0;
    if (op == IO_OP_OPEN && path && ends_with(path, ".ldbc.tmp")) {
        pf.opened = 1;
    } else if (op == IO_OP_WRITE && pf.opened && ++pf.writes == 2) {
        /* The segment table was the first write; this is the first block
         * of entries, flushed mid-walk. */
        rv_set(&pf.go);
        assert_true(rv_wait(&pf.relocated, 10000));
    } else if (op == IO_OP_RENAME && path && ends_with(path, "/MANIFEST")) {
        pf.manifest_renamed = 1;
    } else if (op == IO_OP_SYNC && pf.manifest_renamed && !pf.image_taken && path &&
               strcmp(path, pc.dir) == 0) {
        pc_image(pf.image);
        rv_set(&pf.image_taken);
    }
    return 0;
}

static void test_checkpoint_names_part_of_a_frame(void **state)
{
    (void)state;
    memset(&pf, 0, sizeof pf);
    char *dir = tu_tmpdir_fast("dur-frame");
    assert_non_null(dir);
    ldb_options o;
    fill_opts(&o, LDB_SYNC_FULL, 128u << 10);
    assert_int_equal(ldb_open(dir, &o, &pf.db), LDB_OK);
    pf_load(pf.db);
    pc_start(dir, 1);
    snprintf(pf.image, sizeof pf.image, "%s.cut", dir);
    pf.main_thread = pthread_self();
    assert_int_equal(pthread_create(&pf.worker, NULL, pf_compactor, NULL), 0);
    alloc_set_fail_hook(pf_alloc_hook, NULL);
    io_set_fault_hook(pf_io_hook, NULL);
    int rc = ldb_checkpoint(pf.db);
    rv_set(&pf.image_taken); /* whatever happened, let the cleaner go */
    pthread_join(pf.worker, NULL);
    alloc_set_fail_hook(NULL, NULL);
    pc_stop();
    assert_int_equal(rc, LDB_OK);
    assert_int_equal(pf.worker_rc, LDB_OK);
    assert_true(pf.held);
    assert_int_equal(ldb_close(pf.db), LDB_OK);

    ldb *db;
    fill_opts(&o, LDB_SYNC_NORMAL, 128u << 10);
    rc = ldb_open(pf.image, &o, &db);
    if (rc) fail_msg("reopen after the cut: %s (%s)", ldb_strerror(rc), ldb_last_error());
    unsigned bad = 0, first = 0;
    int first_rc = LDB_OK;
    for (unsigned i = 0; i < PF_KEYS; i++) {
        char k[16];
        uint8_t v[16], want[8];
        size_t vl = 0;
        rc = ldb_get(db, k, key_of(i, k), v, sizeof v, &vl);
        pf_val(i, pf_gen(i), want);
        if (rc != LDB_OK || vl != 8 || memcmp(v, want, 8) != 0) {
            if (!bad++) {
                first = i;
                first_rc = rc;
            }
        }
    }
    assert_int_equal(ldb_close(db), LDB_OK);
    if (bad)
        fail_msg("%u of %u keys lost or wrong after a cut right after the MANIFEST install "
                 "(first k%05u: %s): the checkpoint named records of a frame it had not "
                 "made durable whole", bad, PF_KEYS, first, ldb_strerror(first_rc));
    tu_rmdir(pf.image);
    tu_rmdir(dir);
    free(dir);
}

/* ---- 2. zeros inside the newest segment ------------------------------- */

static void put_k(const char *dir, ldb_sync_mode mode, const char *val, size_t len)
{
    ldb_options o;
    fill_opts(&o, mode, 1u << 20);
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    assert_int_equal(ldb_put(db, "k", 1, val, len), LDB_OK);
    assert_int_equal(ldb_close(db), LDB_OK);
}

static int get_k(const char *dir, char *out, size_t cap, size_t *len)
{
    ldb_options o;
    fill_opts(&o, LDB_SYNC_FULL, 1u << 20);
    ldb *db;
    int rc = ldb_open(dir, &o, &db);
    if (rc) return rc;
    rc = ldb_get(db, "k", 1, out, cap, len);
    assert_int_equal(ldb_close(db), LDB_OK);
    return rc;
}

#define ZR_LEN 200

static void zr_value(char tag, int i, size_t len, char *v)
{
    memset(v, tag, len);
    snprintf(v, len, "%c%02d", tag, i);
}

/* Forty versions of k written without a sync (NONE mode), one frame each;
 * then a power cut leaves the page [4096, 8192) of the segment unwritten
 * while later pages reached the disk. Recovery keeps the frames before the
 * hole. Twenty versions put after that in FULL mode (each fdatasync'd) land
 * in front of the old frames behind the hole; the last of them must be what
 * k reads after the next reopen, whatever the size of their frames. */
static void zero_run_case(size_t newlen)
{
    char *dir = tu_tmpdir_fast("dur-zeros");
    assert_non_null(dir);
    char v[ZR_LEN];
    for (int i = 1; i <= 40; i++) {
        zr_value('v', i, ZR_LEN, v);
        put_k(dir, LDB_SYNC_NONE, v, ZR_LEN);
    }
    char *segs[4];
    assert_int_equal(tu_segments(dir, segs, 4), 1);
    uint64_t offs[64];
    size_t nf = tu_segment_frames(segs[0], offs, 64);
    assert_int_equal(nf, 40);
    assert_true(offs[39] > 8192);
    int kept = 0; /* frames wholly before the hole */
    while (kept < 39 && offs[kept + 1] <= 4096) kept++;
    assert_int_equal(tu_zero_range(segs[0], 4096, 8192), 0);
    char got[ZR_LEN + 8];
    size_t gl = 0;
    int rc = get_k(dir, got, sizeof got, &gl);
    if (rc != LDB_OK)
        fail_msg("reopen after an unwritten page in the unsynced tail: %s (%s)", ldb_strerror(rc),
                 ldb_last_error());
    zr_value('v', kept, ZR_LEN, v);
    assert_true(gl == ZR_LEN && memcmp(got, v, ZR_LEN) == 0);
    for (int i = 1; i <= 20; i++) {
        zr_value('N', i, newlen, v);
        put_k(dir, LDB_SYNC_FULL, v, newlen);
    }
    rc = get_k(dir, got, sizeof got, &gl);
    if (rc != LDB_OK)
        fail_msg("reopen after durable puts over the hole: %s (%s)", ldb_strerror(rc),
                 ldb_last_error());
    zr_value('N', 20, newlen, v);
    if (gl != newlen || memcmp(got, v, newlen) != 0)
        fail_msg("k reads as \"%.3s\" (%zu bytes), not N20, the value fdatasync'd last "
                 "(discarded frames came back)", got, gl);
    free(segs[0]);
    tu_rmdir(dir);
    free(dir);
}

static void test_zero_run_in_newest_segment(void **state)
{
    (void)state;
    zero_run_case(ZR_LEN); /* frames of equal size */
    zero_run_case(120);    /* shorter frames */
}

/* ---- 3. a failed sync seen by another thread -------------------------- */

static struct {
    ldb *db;
    pthread_t main_thread, helper;
    int go, failed, fired, done;
    int helper_rc;
} fs;

static void *failing_writer_main(void *arg)
{
    (void)arg;
    rv_wait(&fs.go, 10000);
    fs.helper_rc = ldb_put(fs.db, "helper", 6, "h", 1); /* FULL: syncs, and fails */
    rv_set(&fs.done); /* after the put returned: its failure is latched */
    return NULL;
}

/* The helper's fdatasync fails (and drops what it was writing); the main
 * thread's sync — the cleaner's of its copies, or the moment a checkpoint
 * starts writing — waits up to half a second for that failure first. */
static int failed_sync_hook(io_op op, const char *path, void *arg)
{
    const char *trigger = arg;
    int is_main = pthread_equal(pthread_self(), fs.main_thread);
    if (op == IO_OP_SYNC && path && ends_with(path, ".log") &&
        pthread_equal(pthread_self(), fs.helper) && !fs.failed) {
        pc_lost(path);
        rv_set(&fs.failed);
        return -EIO;
    }
    int hit = strcmp(trigger, "sync") == 0
                  ? op == IO_OP_SYNC && path && ends_with(path, ".log")
                  : op == IO_OP_OPEN && path && ends_with(path, ".ldbc.tmp");
    if (hit && is_main && !fs.fired) {
        fs.fired = 1;
        rv_set(&fs.go);
        /* At the cleaner's sync this thread holds the segment's sync mutex,
         * which the helper's sync needs once that is serialised: there the
         * wait must end. A checkpoint starting its file holds none. */
        rv_wait(&fs.done, strcmp(trigger, "sync") == 0 ? 500 : 10000);
    }
    return 0;
}

static void test_cleaner_after_failed_sync(void **state)
{
    (void)state;
    memset(&fs, 0, sizeof fs);
    char *dir = open_loaded("dur-fsync", &fs.db);
    fs.main_thread = pthread_self();
    assert_int_equal(pthread_create(&fs.helper, NULL, failing_writer_main, NULL), 0);
    io_set_fault_hook(failed_sync_hook, "sync");
    int rc = ldb_compact(fs.db);
    pthread_join(fs.helper, NULL);
    io_set_fault_hook(NULL, NULL);
    assert_true(rc == LDB_OK || rc == LDB_IO);
    /* LDB_OK is possible now: once the cleaner's sync is serialised, its
     * next sync (a rotation) may cover the helper's commit before the
     * helper's own sync runs. */
    assert_true(fs.helper_rc == LDB_IO || fs.helper_rc == LDB_OK);
    ldb_close(fs.db); /* LDB_IO when the database is failed */
    char img[4200];
    snprintf(img, sizeof img, "%s.cut", dir);
    pc_image(img);
    pc_stop();
    check_keys(img, "cleaner after another thread's failed sync");
    tu_rmdir(img);
    tu_rmdir(dir);
    free(dir);
}

static void test_checkpoint_after_failed_sync(void **state)
{
    const char *dir = *state;
    ldb_options o;
    fill_opts(&o, LDB_SYNC_FULL, 128u << 10);
    memset(&fs, 0, sizeof fs);
    assert_int_equal(ldb_open(dir, &o, &fs.db), LDB_OK);
    assert_int_equal(ldb_put(fs.db, "a", 1, "1", 1), LDB_OK);
    assert_int_equal(ldb_checkpoint(fs.db), LDB_OK);
    char mpath[4200];
    snprintf(mpath, sizeof mpath, "%s/MANIFEST", dir);
    size_t ml0, ml1;
    uint8_t *m0 = tu_read_all(mpath, &ml0);
    assert_non_null(m0);
    assert_int_equal(ldb_put(fs.db, "b", 1, "2", 1), LDB_OK);
    pc_start(dir, 1);
    fs.main_thread = pthread_self();
    assert_int_equal(pthread_create(&fs.helper, NULL, failing_writer_main, NULL), 0);
    io_set_fault_hook(failed_sync_hook, "ckpt");
    int rc = ldb_checkpoint(fs.db);
    pthread_join(fs.helper, NULL);
    pc_stop();
    assert_true(fs.failed);
    assert_int_equal(fs.helper_rc, LDB_IO);
    uint8_t *m1 = tu_read_all(mpath, &ml1);
    assert_non_null(m1);
    if (rc != LDB_IO || ml0 != ml1 || memcmp(m0, m1, ml0) != 0)
        fail_msg("a checkpoint was installed (rc %s) after a log sync had failed",
                 ldb_strerror(rc));
    free(m0);
    free(m1);
    ldb_close(fs.db);
}

/* ---- 4. ldb_sync in NONE mode ------------------------------------------ */

/* NONE-mode workload of the ldb_sync tests: 300 keys of 1000 bytes, enough
 * for several rotations at 64 KiB segments. */
#define NONE_KEYS 300u

static void none_fill(ldb *db)
{
    char k[16];
    uint8_t v[1000];
    for (unsigned i = 0; i < NONE_KEYS; i++) {
        memset(v, (int)(i & 0xff), sizeof v);
        assert_int_equal(ldb_put(db, k, key_of(i, k), v, sizeof v), LDB_OK);
    }
}

/* Opens the power-cut image img and returns how many of none_fill's keys
 * are missing or wrong there (failing the test when it does not open). */
static unsigned none_lost(const char *img, const ldb_options *o, const char *ctx)
{
    ldb *r;
    int rc = ldb_open(img, o, &r);
    if (rc) fail_msg("%s: open failed: %s (%s)", ctx, ldb_strerror(rc), ldb_last_error());
    char k[16];
    uint8_t v[1000], got[1000];
    unsigned lost = 0;
    for (unsigned i = 0; i < NONE_KEYS; i++) {
        size_t vl;
        rc = ldb_get(r, k, key_of(i, k), got, sizeof got, &vl);
        memset(v, (int)(i & 0xff), sizeof v);
        if (rc != LDB_OK || vl != sizeof v || memcmp(got, v, vl) != 0) lost++;
    }
    assert_int_equal(ldb_close(r), LDB_OK);
    return lost;
}

static void test_none_mode_sync_covers_sealed_segments(void **state)
{
    const char *dir = *state;
    pc_start(dir, 0); /* before open: the first segment is created unsynced */
    ldb_options o;
    fill_opts(&o, LDB_SYNC_NONE, 64u << 10);
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    none_fill(db);
    ldb_stats st;
    assert_int_equal(ldb_get_stats(db, &st), LDB_OK);
    assert_true(st.segments >= 4);
    assert_int_equal(ldb_sync(db), LDB_OK);
    char img[4200];
    snprintf(img, sizeof img, "%s.cut", dir);
    pc_image(img); /* the cut: right after ldb_sync returned */
    pc_stop();
    assert_int_equal(ldb_close(db), LDB_OK);
    unsigned lost = none_lost(img, &o, "after ldb_sync in NONE mode and a power cut");
    if (lost) fail_msg("ldb_sync in NONE mode: %u of 300 keys lost after a power cut", lost);
    tu_rmdir(img);
}

/* Two ldb_sync calls in NONE mode at once: the second used to return while
 * the first one's directory fsync was still in flight (a dirty flag was
 * cleared before the fsync), so its caller was told the new segments'
 * directory entries were durable when they were not. The first caller is
 * held inside its directory fsync; the cut is taken the moment the second
 * returns. */
static struct {
    ldb *db;
    pthread_t first;
    int in_dir_sync, second_returned, first_rc;
    const char *dir;
} ds;

static int dir_sync_hold_hook(io_op op, const char *path, void *arg)
{
    (void)arg;
    if (op == IO_OP_SYNC && path && strcmp(path, ds.dir) == 0 &&
        pthread_equal(pthread_self(), ds.first) && !ds.in_dir_sync) {
        rv_set(&ds.in_dir_sync);
        rv_wait(&ds.second_returned, 1000); /* times out when the second waits for us */
    }
    return 0;
}

static void *first_sync_main(void *arg)
{
    (void)arg;
    ds.first_rc = ldb_sync(ds.db);
    return NULL;
}

static void test_concurrent_dir_syncs(void **state)
{
    const char *dir = *state;
    memset(&ds, 0, sizeof ds);
    ds.dir = dir;
    pc_start(dir, 0); /* before open: the first segment is created unsynced */
    ldb_options o;
    fill_opts(&o, LDB_SYNC_NONE, 64u << 10);
    assert_int_equal(ldb_open(dir, &o, &ds.db), LDB_OK);
    none_fill(ds.db);
    io_set_fault_hook(dir_sync_hold_hook, NULL);
    assert_int_equal(pthread_create(&ds.first, NULL, first_sync_main, NULL), 0);
    assert_true(rv_wait(&ds.in_dir_sync, 10000));
    assert_int_equal(ldb_sync(ds.db), LDB_OK);
    char img[4200];
    snprintf(img, sizeof img, "%s.cut", dir);
    pc_image(img); /* the cut: right after the second ldb_sync returned */
    rv_set(&ds.second_returned);
    pthread_join(ds.first, NULL);
    pc_stop();
    assert_int_equal(ds.first_rc, LDB_OK);
    assert_int_equal(ldb_close(ds.db), LDB_OK);
    unsigned lost = none_lost(img, &o, "after two concurrent ldb_sync calls and a power cut");
    if (lost)
        fail_msg("ldb_sync returned while another call's directory fsync was in flight: %u of "
                 "300 keys lost after a power cut", lost);
    tu_rmdir(img);
}

/* ---- 7. a new database's directory entry ----------------------------- */

static void test_new_directory_entry_synced(void **state)
{
    const char *parent = *state;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/newdb", parent);
    pc_start(dir, 0);
    ldb_options o;
    fill_opts(&o, LDB_SYNC_FULL, 64u << 10);
    ldb *db;
    assert_int_equal(ldb_open(dir, &o, &db), LDB_OK);
    assert_int_equal(ldb_put(db, "k", 1, "v", 1), LDB_OK);
    pthread_mutex_lock(&pc.mu);
    int found = 0;
    for (int i = 0; i < pc.nsynced_dirs; i++) found |= strcmp(pc.synced_dirs[i], parent) == 0;
    pthread_mutex_unlock(&pc.mu);
    pc_stop();
    assert_int_equal(ldb_close(db), LDB_OK);
    if (!found) fail_msg("%s was created but its parent %s was never fsynced", dir, parent);
}

/* ---- 8. ldb_close while reads are in flight ---------------------------- */

/* A get of a compressed value with no buffer allocates its output inside
 * the read section; the allocation hook holds the reader there for 50 ms,
 * so ldb_close starts while the read is in flight, deterministically. */
static struct {
    ldb *db;
    pthread_t reader;
    int inside;
    int rc;
    size_t vlen;
} cl;

static int hold_reader_hook(void *arg)
{
    (void)arg;
    if (pthread_equal(pthread_self(), cl.reader) && !cl.inside) {
        rv_set(&cl.inside);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0; /* never fail the allocation */
}

static void *close_reader_main(void *arg)
{
    (void)arg;
    cl.rc = ldb_get(cl.db, "big", 3, NULL, 0, &cl.vlen);
    return NULL;
}

static void test_close_waits_for_reads(void **state)
{
    const char *dir = *state;
    ldb_options o;
    fill_opts(&o, LDB_SYNC_NONE, 4u << 20);
    o.compression = LDB_COMPRESSION_LZ4;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(ldb_open(dir, &o, &cl.db), LDB_OK);
    static uint8_t big[1 << 16];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i % 7);
    assert_int_equal(ldb_put(cl.db, "big", 3, big, sizeof big), LDB_OK);
    pthread_mutex_lock(&rv_mu); /* cl.reader is set before the hook can run */
    alloc_set_fail_hook(hold_reader_hook, NULL);
    assert_int_equal(pthread_create(&cl.reader, NULL, close_reader_main, NULL), 0);
    pthread_mutex_unlock(&rv_mu);
    assert_true(rv_wait(&cl.inside, 10000));
    int rc = ldb_close(cl.db); /* the read is still inside the handle */
    pthread_join(cl.reader, NULL);
    alloc_set_fail_hook(NULL, NULL);
    assert_int_equal(rc, LDB_OK);
    assert_int_equal(cl.rc, LDB_OK);
    assert_int_equal(cl.vlen, sizeof big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint_names_only_durable_copies),
        cmocka_unit_test(test_checkpoint_names_part_of_a_frame),
        cmocka_unit_test(test_zero_run_in_newest_segment),
        cmocka_unit_test(test_cleaner_after_failed_sync),
        cmocka_unit_test_setup_teardown(test_checkpoint_after_failed_sync, tu_setup_fast_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_none_mode_sync_covers_sealed_segments, tu_setup_fast_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_concurrent_dir_syncs, tu_setup_fast_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_new_directory_entry_synced, tu_setup_fast_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_close_waits_for_reads, tu_setup_fast_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
