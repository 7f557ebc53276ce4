/*
 * engine/io.c — file system calls with a fault-injection hook.
 */
#include "engine/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/alloc.h"
#include "engine/util.h"

/* Hooks may be set while the database's threads run: the argument is
 * published before the function (release), read after it (acquire). */
static _Atomic(io_fault_fn) io_hook;
static _Atomic(void *) io_hook_arg;

void io_set_fault_hook(io_fault_fn fn, void *arg)
{
    atomic_store_explicit(&io_hook_arg, arg, memory_order_relaxed);
    atomic_store_explicit(&io_hook, fn, memory_order_release);
}

static _Atomic(io_durable_fn) io_durable;
static _Atomic(void *) io_durable_arg;

void io_set_durable_hook(io_durable_fn fn, void *arg)
{
    atomic_store_explicit(&io_durable_arg, arg, memory_order_relaxed);
    atomic_store_explicit(&io_durable, fn, memory_order_release);
}

static inline void io_note_durable(const char *path, uint64_t len)
{
    io_durable_fn fn = atomic_load_explicit(&io_durable, memory_order_acquire);
    if (LDB_UNLIKELY(fn != NULL) && path)
        fn(path, len, atomic_load_explicit(&io_durable_arg, memory_order_relaxed));
}

static const char *const io_names[IO_OP_COUNT] = {
    "open", "read", "write", "sync", "rename", "truncate", "allocate",
    "mmap", "unlink", "mkdir", "lock", "readdir"};

const char *io_op_name(io_op op)
{
    return (unsigned)op < IO_OP_COUNT ? io_names[op] : "?";
}

static inline int io_fault(io_op op, const char *path)
{
    io_fault_fn fn = atomic_load_explicit(&io_hook, memory_order_acquire);
    if (LDB_LIKELY(fn == NULL)) return 0;
    void *io_hook_arg_v = atomic_load_explicit(&io_hook_arg, memory_order_relaxed);
    /* An injected EINTR is retried exactly like a real one (bounded, so a
     * hook that always interrupts cannot hang us). */
    int f, tries = 0;
    do f = fn(op, path, io_hook_arg_v);
    while (f == -EINTR && ++tries < 1000);
    return f == -EINTR ? -EIO : f;
}

int io_open(const char *path, int flags, mode_t mode)
{
    int f = io_fault(IO_OP_OPEN, path);
    if (f < 0) return f;
    int fd;
    do fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

int io_close(int fd)
{
    /* No retry on EINTR: on Linux the descriptor is gone either way. */
    return close(fd) < 0 ? -errno : 0;
}

ssize_t io_pread(int fd, void *buf, size_t n, uint64_t off)
{
    int f = io_fault(IO_OP_READ, NULL);
    if (f < 0) return f;
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

ssize_t io_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
    int f = io_fault(IO_OP_WRITE, NULL);
    if (f < 0) return f;
    size_t limit = n;
    if (f == IO_FAULT_SHORT) limit = n / 2;
    size_t done = 0;
    while (done < limit) {
        ssize_t r = pwrite(fd, (const char *)buf + done, limit - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        done += (size_t)r;
    }
    if (f == IO_FAULT_SHORT) return -ENOSPC;
    return (ssize_t)done;
}

int io_fdatasync(int fd, const char *path, uint64_t durable_len)
{
    int f = io_fault(IO_OP_SYNC, path);
    if (f < 0) return f;
    /* No retry after a failure: the kernel may have dropped the dirty pages
     * already, so a second fdatasync could succeed without the data (the
     * lesson PostgreSQL learned in 2018). The caller must treat it as lost. */
    int r;
    do r = fdatasync(fd);
    while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    io_note_durable(path, durable_len);
    return 0;
}

int io_fsync(int fd, const char *path)
{
    int f = io_fault(IO_OP_SYNC, path);
    if (f < 0) return f;
    int r;
    do r = fsync(fd);
    while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    io_note_durable(path, UINT64_MAX);
    return 0;
}

int io_fsync_dir(const char *dir)
{
    int fd = io_open(dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) return fd;
    int f = io_fault(IO_OP_SYNC, dir);
    int r = f < 0 ? f : 0;
    if (r == 0) {
        do r = fsync(fd);
        while (r < 0 && errno == EINTR);
        r = r < 0 ? -errno : 0;
    }
    io_close(fd);
    if (r == 0) io_note_durable(dir, 0);
    return r;
}

int io_rename(const char *from, const char *to)
{
    int f = io_fault(IO_OP_RENAME, to);
    if (f < 0) return f;
    return rename(from, to) < 0 ? -errno : 0;
}

int io_unlink(const char *path)
{
    int f = io_fault(IO_OP_UNLINK, path);
    if (f < 0) return f;
    return unlink(path) < 0 ? -errno : 0;
}

int io_ftruncate(int fd, uint64_t len)
{
    int f = io_fault(IO_OP_TRUNCATE, NULL);
    if (f < 0) return f;
    int r;
    do r = ftruncate(fd, (off_t)len);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

int io_fallocate(int fd, uint64_t len)
{
    int f = io_fault(IO_OP_ALLOCATE, NULL);
    if (f < 0) return f;
    int r;
    do r = fallocate(fd, 0, 0, (off_t)len);
    while (r < 0 && errno == EINTR);
    if (r == 0) return 0;
    if (errno != EOPNOTSUPP && errno != ENOSYS) return -errno;
    /* No fallocate here (e.g. some network file systems): a sparse file.
     * A later ENOSPC would then surface as SIGBUS on a mapped write; we
     * accept that only where the file system leaves no choice. */
    return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
}

int io_file_size(int fd, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) < 0) return -errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

int io_next_data(int fd, uint64_t off, uint64_t *lo, uint64_t *hi)
{
    off_t d = lseek(fd, (off_t)off, SEEK_DATA);
    if (d < 0) {
        if (errno == ENXIO) return -ENXIO;
        uint64_t size;
        int r = io_file_size(fd, &size);
        if (r < 0) return r;
        *lo = off;
        *hi = size;
        return 0;
    }
    off_t h = lseek(fd, d, SEEK_HOLE);
    if (h < 0) {
        uint64_t size;
        int r = io_file_size(fd, &size);
        if (r < 0) return r;
        h = (off_t)size;
    }
    *lo = (uint64_t)d;
    *hi = (uint64_t)h;
    return 0;
}

int io_mmap(int fd, size_t len, int writable, void **out)
{
    int f = io_fault(IO_OP_MMAP, NULL);
    if (f < 0) return f;
    void *p = mmap(NULL, len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
}

int io_munmap(void *addr, size_t len) { return munmap(addr, len) < 0 ? -errno : 0; }

int io_mkdir(const char *path)
{
    int f = io_fault(IO_OP_MKDIR, path);
    if (f < 0) return f;
    if (mkdir(path, 0755) < 0 && errno != EEXIST) return -errno;
    return 0;
}

int io_flock(int fd, int exclusive)
{
    int f = io_fault(IO_OP_LOCK, NULL);
    if (f < 0) return f;
    int r;
    do r = flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

static int io_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void io_free_names(char **names, size_t count)
{
    if (!names) return;
    for (size_t i = 0; i < count; i++) alloc_free(names[i]);
    alloc_free(names);
}

int io_list(const char *dir, const char *suffix, char ***names, size_t *count)
{
    int f = io_fault(IO_OP_READDIR, dir);
    if (f < 0) return f;
    char **v = NULL;
    size_t n = 0, cap = 0, sl = strlen(suffix);
    int rc = 0;
    DIR *d = opendir(dir);
    if (!d) return -errno;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l <= sl || strcmp(de->d_name + l - sl, suffix) != 0) continue;
        if (n == cap) {
            char **nv = alloc_grow(v, &cap, sizeof *nv, 16);
            if (!nv) { rc = -ENOMEM; goto fail; }
            v = nv;
        }
        v[n] = alloc_malloc(l + 1);
        if (!v[n]) { rc = -ENOMEM; goto fail; }
        memcpy(v[n], de->d_name, l + 1);
        n++;
    }
    closedir(d);
    if (n) qsort(v, n, sizeof *v, io_name_cmp);
    *names = v;
    *count = n;
    return 0;
fail:
    closedir(d);
    io_free_names(v, n);
    return rc;
}
