/*
 * tests/common/testutil.h — helpers shared by the test programs: scratch
 * directories, a seeded PRNG, and file surgery for crash/corruption tests.
 *
 * Contract: tu_tmpdir() makes a fresh directory under $TMPDIR (or /tmp)
 * that tu_rmdir() removes recursively. Not thread-safe except tu_rand*,
 * which take explicit state.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "lightningdb.h"

/* Creates a fresh empty directory; returns a static-lifetime path copy
 * (caller frees with tu_rmdir + free). */
char *tu_tmpdir(const char *tag);
/* Removes a directory tree (best effort; never follows a link). */
void tu_rmdir(const char *path);
/* tu_tmpdir into a caller's buffer (for fixtures that keep the path in a
 * static array): 0, or -1 when it does not fit or cannot be made. */
int tu_mkdtemp(char *out, size_t cap, const char *tag);

typedef struct tu_rng {
    uint64_t s;
} tu_rng;
static inline uint64_t tu_rand(tu_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline uint64_t tu_rand_below(tu_rng *r, uint64_t n) { return n ? tu_rand(r) % n : 0; }

/* Seed from $TEST_SEED when set (to replay a failure), else `dflt`. The
 * seed in use is printed so a failing run can be repeated. */
uint64_t tu_seed(uint64_t dflt);

/* Lists the log segment files of a database directory, sorted; returns the
 * count and fills paths (each malloc'd) up to cap. */
size_t tu_segments(const char *dir, char **paths, size_t cap);
/* Byte length of the written part of a segment (offset of the zero frame
 * header that ends it), found by walking frame headers. */
uint64_t tu_segment_used(const char *path);
/* Offsets of every frame in a segment, up to cap; returns the count. */
size_t tu_segment_frames(const char *path, uint64_t *offs, size_t cap);
/* Overwrites len bytes at off; truncate-like zeroing from off to the end. */
int tu_flip_byte(const char *path, uint64_t off, uint8_t mask);
int tu_zero_from(const char *path, uint64_t off);
/* Copies a directory's regular files into another (fresh) directory. */
int tu_copy_dir(const char *from, const char *to);

/* ---- added for the crash, torn-tail and corruption tests ------------- */

/* Reads a whole file into malloc'd memory (NULL on failure). */
uint8_t *tu_read_all(const char *path, size_t *len);
/* Reads a whole file as a NUL-terminated string (NULL on failure; free()). */
char *tu_read_text(const char *path);
/* The same, but "" (malloc'd) for a file that cannot be read. */
char *tu_read_text_or_empty(const char *path);
/* Sets a file's size (shorter cuts it, longer extends with zeros). */
int tu_truncate(const char *path, uint64_t size);
/* 1 when path names an existing file or directory. */
int tu_exists(const char *path);
/* Finds the newest record for key in one segment file by walking its
 * frames. Fills the record's offset, its total (padded) size, the offset of
 * its value bytes and the value length; returns 0, or -1 when absent. */
int tu_find_record(const char *path, const void *key, size_t klen, uint64_t *rec_off,
                   uint64_t *rec_len, uint64_t *val_off, uint32_t *vlen);
/* Extracts the number following the first "offset " in an error message
 * (-1 when there is none), to check where the engine says damage lies. */
int64_t tu_msg_offset(const char *msg);

/* Starts argv (argv[0] a path, or a name looked up in PATH) with stdout
 * and stderr to out_path and err_path (truncated; NULL: inherited; the same
 * path twice: both into one file), in cwd (NULL: here), with the
 * NULL-terminated "NAME=value" strings env_set (may be NULL) set. The pid,
 * or -1 when fork fails. */
pid_t tu_spawn(const char *const *argv, const char *cwd, const char *const *env_set,
               const char *out_path, const char *err_path);
/* Waits for pid: its exit code, or 128 + the signal that ended it. */
int tu_wait(pid_t pid);

/* tu_spawn + tu_wait, then *out and *err (freed first; may hold NULL)
 * receive what the program wrote ("" for nothing). The exit code as
 * tu_wait gives it, or -1 when it could not start. */
int tu_run_capture(const char *const *argv, const char *cwd, const char *const *env_set,
                   const char *out_path, const char *err_path, char **out, char **err);

/* cmocka checks on a captured run: the exit code, and a string in (or not
 * in) an output, failing with both outputs shown. */
#define TU_EXPECT_EXIT(rc, want, out, err)                                                \
    do {                                                                                  \
        int rc_ = (rc);                                                                   \
        if (rc_ != (want))                                                                \
            fail_msg("exit %d, want %d\n--- stdout:\n%s\n--- stderr:\n%s", rc_, (want),   \
                     (out), (err));                                                       \
    } while (0)
#define TU_HAS(buf, s, out, err)                                                          \
    do {                                                                                  \
        if (!strstr((buf), (s)))                                                          \
            fail_msg("missing '%s' in:\n%s\n--- stderr:\n%s", (s), (out), (err));        \
    } while (0)
#define TU_LACKS(buf, s, out, err)                                                        \
    do {                                                                                  \
        if (strstr((buf), (s)))                                                           \
            fail_msg("unexpected '%s' in:\n%s\n--- stderr:\n%s", (s), (out), (err));     \
    } while (0)

/* The absolute path of the `lightning` binary under test ($LIGHTNING_BIN,
 * set by make test) into out; 0, or -1 after saying why on stderr. */
int tu_lightning_bin(char *out, size_t cap);

/* ---- added for the fault, power-loss, OOM and checkpoint-corruption tests */

/* Like tu_tmpdir, but on a RAM file system (/dev/shm) when there is one, or
 * under $LDB_FAST_TMPDIR when set: the sweeps reopen databases thousands of
 * times and an fdatasync on a real disk costs milliseconds. Their
 * durability is simulated (fault hook, durability observer), never taken
 * from the file system, so a RAM disk loses nothing that is tested. */
char *tu_tmpdir_fast(const char *tag);
/* Writes len bytes at off (the file must exist); 0 or -1. */
int tu_write_at(const char *path, uint64_t off, const void *buf, size_t len);
/* Writes a whole file (created or truncated); 0 or -1. */
int tu_write_all(const char *path, const void *buf, size_t len);
/* Zeroes [from, to) of a file, clamped to its size; 0 or -1. */
int tu_zero_range(const char *path, uint64_t from, uint64_t to);
/* Offset just past the last non-zero byte of a file (0 when all zero). */
uint64_t tu_nonzero_end(const char *path);

/* ---- the engine's in-memory structures, driven directly -------------- */

struct idx_entry;
/* An index entry for key k (its one version: seq, vlen, no record), as the
 * MVCC layer would make one; free with tu_entry_free (free(3) works). */
struct idx_entry *tu_entry_new(const void *k, size_t kl, uint64_t seq, uint32_t vlen);
void tu_entry_free(struct idx_entry *e, void *arg);
/* The 8-byte big-endian key of i (so byte order is numeric order). */
void tu_key_be(uint8_t out[8], uint64_t i);

/* Reader threads for the lock-free structures' tests: each claims an
 * epoch slot and, until tu_readers_stop (and at least 1000 times), looks
 * up a random one of n_stable keys tu_key_be(stable_key(i)) inside a read
 * section through find(), counting a miss when nothing comes back and a
 * wrong answer when anything but stable[i] does. Probes (optional) are
 * random keys below probe_below that may or may not be linked: whatever
 * comes back must carry the key asked for. The caller's writer changes
 * the structure meanwhile. */
struct epoch_mgr;
typedef struct tu_readers {
    struct epoch_mgr *ep;
    struct idx_entry *(*find)(void *ctx, const void *k, size_t kl);
    void *ctx;
    struct idx_entry **stable;
    size_t n_stable;
    uint64_t (*stable_key)(uint64_t i);
    uint64_t probe_below;                 /* 0: no probes */
    _Atomic uint64_t committed;
    _Atomic int stop;
    _Atomic uint64_t lookups, misses, wrong;
    int n_threads;
    pthread_t th[8];
} tu_readers;
void tu_readers_start(tu_readers *r, int threads);
/* Stops and joins them; the counts are final after it returns. */
void tu_readers_stop(tu_readers *r);

/* ---- the fixture engine tests start from ------------------------------ */

/* Per-test cmocka setup/teardown: *state is a fresh scratch directory
 * (tu_tmpdir, a char *), removed after the test even when it fails. Use
 * as cmocka_unit_test_setup_teardown(test, tu_setup_dir, tu_teardown_dir)
 * and `const char *dir = *state;`. */
int tu_setup_dir(void **state);
int tu_teardown_dir(void **state);
/* The same on a RAM file system (tu_tmpdir_fast); the same teardown. */
int tu_setup_fast_dir(void **state);
/* ldb_options_init, then no syncing and 1 MiB segments: fast and small,
 * for tests that do not measure durability or segment sizes. */
void tu_fast_options(ldb_options *o);
/* Opens dir with o, failing the test (printing the engine's message) when
 * it does not open; tu_open_fast uses tu_fast_options. */
ldb *tu_open(const char *dir, const ldb_options *o);
ldb *tu_open_fast(const char *dir);

#endif /* TESTUTIL_H */
