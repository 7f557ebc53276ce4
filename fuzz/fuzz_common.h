/*
 * fuzz/fuzz_common.h — helpers shared by the fuzz targets: checks that abort
 * (so libFuzzer, and the corpus regression test, see a crash), scratch
 * directories and whole-file writes. Header-only (static inline), because
 * every target is its own program (or its own object in the regression
 * test, built with -DFUZZ_NO_MAIN and a renamed entry point).
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/crc32c.h"
#include "lightningdb.h"

#define FUZZ_CHECK(cond, ...)                                                          \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* Every code an API call may return on damaged input. */
static inline int fuzz_rc_ok(int rc)
{
    return rc <= LDB_OK && rc >= LDB_NOSPACE;
}

static inline int fuzz_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static inline void fuzz_rmdir(const char *path)
{
    if (path && *path) nftw(path, fuzz_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under /dev/shm (or $TMPDIR, /tmp): malloc'd path. */
static inline char *fuzz_mkdtemp(const char *tag)
{
    const char *bases[3] = {getenv("LDB_FAST_TMPDIR"), "/dev/shm", getenv("TMPDIR")};
    for (int i = 0; i < 4; i++) {
        const char *b = i < 3 ? bases[i] : "/tmp";
        if (!b || !*b || access(b, W_OK | X_OK) != 0) continue;
        char *p = malloc(strlen(b) + strlen(tag) + 32);
        if (!p) return NULL;
        sprintf(p, "%s/ldbfuzz-%s-XXXXXX", b, tag);
        if (mkdtemp(p)) return p;
        free(p);
    }
    return NULL;
}

static inline int fuzz_write_file(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w <= 0) break;
        done += (size_t)w;
    }
    close(fd);
    return done == len ? 0 : -1;
}

static inline uint8_t *fuzz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* One byte more, zero: text files (the MANIFEST) read as strings. */
    uint8_t *b = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (b && n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n > 0 ? n : 0] = 0;
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return b;
}

/* Reads every key and value of an open database: nothing may crash, each
 * step returns a sane code. Returns the number of keys seen. */
static inline size_t fuzz_read_everything(ldb *db)
{
    ldb_iter *it;
    size_t n = 0;
    int rc = ldb_iter_open(db, &it);
    FUZZ_CHECK(fuzz_rc_ok(rc), "iter_open %d", rc);
    if (rc) return 0;
    for (rc = ldb_iter_first(it); ldb_iter_valid(it) && n < 100000; rc = ldb_iter_next(it)) {
        const void *k, *v;
        size_t kl, vl;
        FUZZ_CHECK(ldb_iter_key(it, &k, &kl) == LDB_OK, "iter_key");
        int vr = ldb_iter_value(it, &v, &vl);
        FUZZ_CHECK(fuzz_rc_ok(vr), "iter_value %d", vr);
        uint8_t buf[64];
        size_t gl;
        int gr = ldb_get(db, k, kl, buf, sizeof buf, &gl);
        FUZZ_CHECK(fuzz_rc_ok(gr), "get %d", gr);
        n++;
    }
    FUZZ_CHECK(fuzz_rc_ok(rc) && fuzz_rc_ok(ldb_iter_status(it)), "iteration %d", rc);
    ldb_iter_close(it);
    ldb_stats st;
    FUZZ_CHECK(ldb_get_stats(db, &st) == LDB_OK, "stats");
    return n;
}

#endif
