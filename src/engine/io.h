/*
 * engine/io.h — the engine's only door to the operating system for files.
 *
 * Contract
 * - Every open, read, write, sync, rename, truncate, allocate, map, unlink,
 *   lock and directory call of the engine goes through these functions.
 * - Functions return >= 0 on success and -errno on failure (never set a
 *   global the caller must inspect). EINTR is retried here; short reads and
 *   writes are completed here (a short read at end of file is reported as
 *   the byte count).
 * - A test-only fault hook can fail the Nth call of a kind with an errno of
 *   its choice, or make a write short. With no hook set the cost is one
 *   predictable branch per call. The hook is process-global.
 * - Thread-safe (the functions are thin wrappers over thread-safe calls).
 */
#ifndef LDB_IO_H
#define LDB_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
    IO_OP_OPEN, IO_OP_READ, IO_OP_WRITE, IO_OP_SYNC, IO_OP_RENAME,
    IO_OP_TRUNCATE, IO_OP_ALLOCATE, IO_OP_MMAP, IO_OP_UNLINK, IO_OP_MKDIR,
    IO_OP_LOCK, IO_OP_READDIR, IO_OP_COUNT
} io_op;

const char *io_op_name(io_op op);

/* Returned by a hook for IO_OP_WRITE: write only half the bytes, then fail
 * the rest with ENOSPC (what a full disk does mid-write). */
#define IO_FAULT_SHORT 1

/* The hook sees each call before it happens: return 0 to let it run,
 * -errno to fail it, or IO_FAULT_SHORT (writes only). */
typedef int (*io_fault_fn)(io_op op, const char *path, void *arg);
void io_set_fault_hook(io_fault_fn fn, void *arg);

/* Test-only observer of durability, for power-loss simulation: called after
 * each successful sync with the file's path and how many of its leading
 * bytes are now known durable (a log segment: the end of its last frame;
 * any other file: UINT64_MAX, all of it; a directory: 0, its entries). A
 * simulated power loss keeps exactly what was reported. */
typedef void (*io_durable_fn)(const char *path, uint64_t durable_len, void *arg);
void io_set_durable_hook(io_durable_fn fn, void *arg);

int io_open(const char *path, int flags, mode_t mode);
int io_close(int fd);
ssize_t io_pread(int fd, void *buf, size_t n, uint64_t off);
ssize_t io_pwrite(int fd, const void *buf, size_t n, uint64_t off);
/* path and durable_len feed the durability observer (see above). */
int io_fdatasync(int fd, const char *path, uint64_t durable_len);
int io_fsync(int fd, const char *path);
int io_fsync_dir(const char *dir);
int io_rename(const char *from, const char *to);
int io_unlink(const char *path);
int io_ftruncate(int fd, uint64_t len);
/* Reserves disk blocks for [0, len) so later writes through a mapping cannot
 * hit ENOSPC (which would be a SIGBUS). Falls back to ftruncate where the
 * filesystem has no fallocate. */
int io_fallocate(int fd, uint64_t len);
int io_file_size(int fd, uint64_t *size);
/* The first data region at or after off: [*lo, *hi) (SEEK_DATA, then
 * SEEK_HOLE). -ENXIO when only holes follow; where the file system cannot
 * tell, the rest of the file is one data region. */
int io_next_data(int fd, uint64_t off, uint64_t *lo, uint64_t *hi);
/* Maps [0, len) shared; *out receives the address. */
int io_mmap(int fd, size_t len, int writable, void **out);
int io_munmap(void *addr, size_t len);
int io_mkdir(const char *path);
/* flock: exclusive or shared, never blocking (-EWOULDBLOCK when held). */
int io_flock(int fd, int exclusive);

/* Lists regular files in dir whose names end with `suffix`, sorted by name.
 * *names is an array of *count malloc'd strings; free with io_free_names. */
int io_list(const char *dir, const char *suffix, char ***names, size_t *count);
void io_free_names(char **names, size_t count);

#endif /* LDB_IO_H */
