/*
 * tests/common/testutil.c — see testutil.h.
 */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/epoch.h"
#include "engine/index.h"
#include "engine/record.h"
#include "engine/util.h"
#include "util/sys.h"

char *tu_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    char *p = malloc(strlen(base) + strlen(tag) + 32);
    if (!p) return NULL;
    sprintf(p, "%s/ldbtest-%s-XXXXXX", base, tag);
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

int tu_mkdtemp(char *out, size_t cap, const char *tag)
{
    char *p = tu_tmpdir(tag);
    if (!p) return -1;
    int fits = strlen(p) < cap;
    if (fits) memcpy(out, p, strlen(p) + 1);
    else tu_rmdir(p);
    free(p);
    return fits ? 0 : -1;
}

void tu_rmdir(const char *path)
{
    sys_rmtree(path);
}

uint64_t tu_seed(uint64_t dflt)
{
    const char *s = getenv("TEST_SEED");
    uint64_t seed = s && *s ? strtoull(s, NULL, 0) : dflt;
    fprintf(stderr, "# seed %llu (set TEST_SEED to replay)\n", (unsigned long long)seed);
    return seed;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

size_t tu_segments(const char *dir, char **paths, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l != 14 || strcmp(de->d_name + 10, ".log") != 0 || n == cap) continue;
        paths[n] = malloc(strlen(dir) + l + 2);
        sprintf(paths[n], "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    qsort(paths, n, sizeof *paths, cmp_str);
    return n;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

size_t tu_segment_frames(const char *path, uint64_t *offs, size_t cap)
{
    size_t len, n = 0;
    uint8_t *b = read_file(path, &len);
    if (!b) return 0;
    uint64_t off = REC_SEG_HDR;
    while (off + REC_FRAME_HDR <= len) {
        rec_frame f;
        if (rec_frame_parse(b + off, len - off, &f) != REC_OK) break;
        if (n < cap) offs[n] = off;
        n++;
        off += f.total;
    }
    free(b);
    return n;
}

uint64_t tu_segment_used(const char *path)
{
    size_t len;
    uint8_t *b = read_file(path, &len);
    if (!b) return 0;
    uint64_t off = REC_SEG_HDR;
    while (off + REC_FRAME_HDR <= len) {
        rec_frame f;
        if (rec_frame_parse(b + off, len - off, &f) != REC_OK) break;
        off += f.total;
    }
    free(b);
    return off;
}

int tu_flip_byte(const char *path, uint64_t off, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) return -1;
    uint8_t c;
    int rc = -1;
    if (pread(fd, &c, 1, (off_t)off) == 1) {
        c ^= mask;
        if (pwrite(fd, &c, 1, (off_t)off) == 1) rc = 0;
    }
    close(fd);
    return rc;
}

int tu_zero_from(const char *path, uint64_t off)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) return -1;
    struct stat st;
    fstat(fd, &st);
    static uint8_t zero[65536];
    int rc = 0;
    for (uint64_t o = off; o < (uint64_t)st.st_size;) {
        size_t n = (uint64_t)st.st_size - o < sizeof zero ? (size_t)((uint64_t)st.st_size - o) : sizeof zero;
        if (pwrite(fd, zero, n, (off_t)o) != (ssize_t)n) {
            rc = -1;
            break;
        }
        o += n;
    }
    close(fd);
    return rc;
}

int tu_copy_dir(const char *from, const char *to)
{
    DIR *d = opendir(from);
    if (!d) return -1;
    mkdir(to, 0755);
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char a[4096], b[4096];
        snprintf(a, sizeof a, "%s/%s", from, de->d_name);
        snprintf(b, sizeof b, "%s/%s", to, de->d_name);
        size_t len;
        uint8_t *buf = read_file(a, &len);
        if (!buf) continue;
        FILE *f = fopen(b, "wb");
        if (!f || fwrite(buf, 1, len, f) != len) rc = -1;
        if (f) fclose(f);
        free(buf);
    }
    closedir(d);
    return rc;
}

/* ---- added for the crash, torn-tail and corruption tests ------------- */

uint8_t *tu_read_all(const char *path, size_t *len) { return read_file(path, len); }

char *tu_read_text_or_empty(const char *path)
{
    char *t = tu_read_text(path);
    return t ? t : strdup("");
}

char *tu_read_text(const char *path)
{
    size_t len;
    uint8_t *b = read_file(path, &len);
    if (b) b[len] = 0; /* read_file leaves room for it */
    return (char *)b;
}

int tu_truncate(const char *path, uint64_t size) { return truncate(path, (off_t)size); }

int tu_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int tu_find_record(const char *path, const void *key, size_t klen, uint64_t *rec_off,
                   uint64_t *rec_len, uint64_t *val_off, uint32_t *vlen)
{
    size_t len;
    uint8_t *b = read_file(path, &len);
    if (!b) return -1;
    int found = -1;
    uint64_t off = REC_SEG_HDR;
    while (off + REC_FRAME_HDR <= len) {
        rec_frame f;
        if (rec_frame_parse(b + off, len - off, &f) != REC_OK || off + f.total > len) break;
        const uint8_t *p = b + off + REC_FRAME_HDR, *end = b + off + f.total;
        for (uint32_t i = 0; i < f.nrec; i++) {
            rec_view r;
            if (rec_parse(p, (size_t)(end - p), &r) != REC_OK) break;
            if (r.klen == klen && memcmp(r.key, key, klen) == 0) {
                found = 0;
                *rec_off = (uint64_t)(p - b);
                *rec_len = rec_size(r.klen, r.vlen);
                *val_off = (uint64_t)(r.val - b);
                *vlen = r.vlen;
            }
            p += rec_size(r.klen, r.vlen);
        }
        off += f.total;
    }
    free(b);
    return found;
}

int64_t tu_msg_offset(const char *msg)
{
    const char *p = msg ? strstr(msg, "offset ") : NULL;
    if (!p) return -1;
    p += 7;
    if (*p < '0' || *p > '9') return -1;
    return (int64_t)strtoll(p, NULL, 10);
}

/* ---- added for the fault, power-loss, OOM and checkpoint-corruption tests */

char *tu_tmpdir_fast(const char *tag)
{
    const char *base = getenv("LDB_FAST_TMPDIR");
    if (!base || !*base) base = "/dev/shm";
    if (access(base, W_OK | X_OK) == 0) {
        char *p = malloc(strlen(base) + strlen(tag) + 32);
        if (!p) return NULL;
        sprintf(p, "%s/ldbtest-%s-XXXXXX", base, tag);
        if (mkdtemp(p)) return p;
        free(p);
    }
    return tu_tmpdir(tag);
}

int tu_write_at(const char *path, uint64_t off, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    ssize_t w = pwrite(fd, buf, len, (off_t)off);
    close(fd);
    return w == (ssize_t)len ? 0 : -1;
}

int tu_write_all(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    ssize_t w = len ? write(fd, buf, len) : 0;
    close(fd);
    return w == (ssize_t)len ? 0 : -1;
}

int tu_zero_range(const char *path, uint64_t from, uint64_t to)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    if (to > (uint64_t)st.st_size) to = (uint64_t)st.st_size;
    static const uint8_t zero[65536];
    int rc = 0;
    for (uint64_t o = from; o < to;) {
        size_t n = to - o < sizeof zero ? (size_t)(to - o) : sizeof zero;
        if (pwrite(fd, zero, n, (off_t)o) != (ssize_t)n) {
            rc = -1;
            break;
        }
        o += n;
    }
    close(fd);
    return rc;
}

uint64_t tu_nonzero_end(const char *path)
{
    size_t len;
    uint8_t *b = read_file(path, &len);
    if (!b) return 0;
    while (len > 0 && b[len - 1] == 0) len--;
    free(b);
    return len;
}

struct idx_entry *tu_entry_new(const void *k, size_t kl, uint64_t seq, uint32_t vlen)
{
    idx_entry *e = calloc(1, sizeof *e + kl);
    if (!e) return NULL;
    e->klen = (uint16_t)kl;
    if (kl) memcpy(e->key, k, kl);
    e->first.seq = seq;
    e->first.vlen = vlen;
    atomic_init(&e->first.older, NULL);
    atomic_init(&e->head, &e->first);
    return e;
}

void tu_entry_free(struct idx_entry *e, void *arg)
{
    (void)arg;
    free(e);
}

void tu_key_be(uint8_t out[8], uint64_t i)
{
    for (int b = 7; b >= 0; b--, i >>= 8) out[b] = (uint8_t)i;
}

int tu_setup_dir(void **state)
{
    char *dir = tu_tmpdir("t");
    if (!dir) return -1;
    *state = dir;
    return 0;
}

int tu_setup_fast_dir(void **state)
{
    char *dir = tu_tmpdir_fast("t");
    if (!dir) return -1;
    *state = dir;
    return 0;
}

int tu_teardown_dir(void **state)
{
    tu_rmdir(*state);
    free(*state);
    *state = NULL;
    return 0;
}

void tu_fast_options(ldb_options *o)
{
    ldb_options_init(o);
    o->sync_mode = LDB_SYNC_NONE;
    o->segment_size = 1u << 20;
}

ldb *tu_open(const char *dir, const ldb_options *o)
{
    ldb *db = NULL;
    int rc = ldb_open(dir, o, &db);
    if (rc != LDB_OK) fprintf(stderr, "# open %s: %s: %s\n", dir, ldb_strerror(rc), ldb_last_error());
    assert_int_equal(rc, LDB_OK);
    assert_non_null(db);
    return db;
}

ldb *tu_open_fast(const char *dir)
{
    ldb_options o;
    tu_fast_options(&o);
    return tu_open(dir, &o);
}

static void *reader_main(void *arg)
{
    tu_readers *rd = arg;
    epoch_slot *s;
    if (epoch_slot_claim(rd->ep, EPOCH_SHORT, &s) != LDB_OK) return NULL;
    tu_rng r = {(uint64_t)(uintptr_t)&s};
    uint64_t n = 0;
    while (!atomic_load(&rd->stop) || n < 1000) {
        uint64_t i = tu_rand_below(&r, rd->n_stable);
        uint8_t k[8];
        tu_key_be(k, rd->stable_key(i));
        epoch_enter(rd->ep, s, &rd->committed);
        idx_entry *e = rd->find(rd->ctx, k, 8);
        if (!e) atomic_fetch_add(&rd->misses, 1);
        else if (e != rd->stable[i] || e->klen != 8 || memcmp(e->key, k, 8)) atomic_fetch_add(&rd->wrong, 1);
        if (rd->probe_below) {
            tu_key_be(k, tu_rand_below(&r, rd->probe_below));
            e = rd->find(rd->ctx, k, 8);
            if (e && (e->klen != 8 || memcmp(e->key, k, 8))) atomic_fetch_add(&rd->wrong, 1);
        }
        epoch_exit(s);
        n++;
    }
    atomic_fetch_add(&rd->lookups, n);
    epoch_slot_release(s);
    return NULL;
}

void tu_readers_start(tu_readers *r, int threads)
{
    assert_true(threads >= 1 && threads <= (int)(sizeof r->th / sizeof r->th[0]));
    atomic_store(&r->stop, 0);
    if (!atomic_load(&r->committed)) atomic_store(&r->committed, 1);
    r->n_threads = threads;
    for (int i = 0; i < threads; i++) assert_int_equal(pthread_create(&r->th[i], NULL, reader_main, r), 0);
}

void tu_readers_stop(tu_readers *r)
{
    atomic_store(&r->stop, 1);
    for (int i = 0; i < r->n_threads; i++) pthread_join(r->th[i], NULL);
    r->n_threads = 0;
}

pid_t tu_spawn(const char *const *argv, const char *cwd, const char *const *env_set,
               const char *out_path, const char *err_path)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (out_path) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0)
            _exit(126);
        dup2(o, 1);
        if (err_path && !strcmp(err_path, out_path))
            dup2(o, 2);
    }
    if (err_path && (!out_path || strcmp(err_path, out_path))) {
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (e < 0)
            _exit(126);
        dup2(e, 2);
    }
    if (cwd && chdir(cwd) != 0)
        _exit(126);
    for (size_t i = 0; env_set && env_set[i]; i++)
        putenv((char *)env_set[i]);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

int tu_wait(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int tu_run_capture(const char *const *argv, const char *cwd, const char *const *env_set,
                   const char *out_path, const char *err_path, char **out, char **err)
{
    pid_t pid = tu_spawn(argv, cwd, env_set, out_path, err_path);
    int rc = pid > 0 ? tu_wait(pid) : -1;
    free(*out);
    free(*err);
    *out = tu_read_text_or_empty(out_path);
    *err = tu_read_text_or_empty(err_path);
    return rc;
}

int tu_lightning_bin(char *out, size_t cap)
{
    const char *b = getenv("LIGHTNING_BIN");
    char real[4096];
    if (!b) {
        fprintf(stderr, "LIGHTNING_BIN is not set (run through make test)\n");
        return -1;
    }
    if (!realpath(b, real) || strlen(real) >= cap) {
        fprintf(stderr, "LIGHTNING_BIN %s: no such file\n", b);
        return -1;
    }
    strcpy(out, real);
    return 0;
}
