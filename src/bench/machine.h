/*
 * bench/machine.h — the machine fingerprint and build identity recorded with
 * every benchmark result.
 *
 * Contract
 * - bench_machine_probe / bench_build_probe fill caller-owned structs of
 *   fixed-size strings (nothing to free; over-long values are truncated).
 *   They read /proc, /sys, statfs and uname, and run `git`; they are for
 *   setup, never for a measured phase.
 * - Nothing is made up: a figure the system does not provide is left empty
 *   ("" for strings, 0 for numbers, -1 for `dirty`) and becomes JSON null.
 * - machine_id identifies "the same hardware and kernel line" for keying the
 *   result history: 16 hex digits of FNV-1a 64 over machine_id_basis,
 *       "cpu=<cpu_model>;cores=<logical_cores>;mem_gib=<memory rounded to
 *        the nearest GiB>;kernel=<major.minor>"
 *   Memory is rounded because MemTotal moves by a few MiB between boots and
 *   kernels; the kernel patch level is left out because stable updates are
 *   frequent and rarely move performance, while a new major.minor may. The
 *   hostname is left out on purpose: containers and CI runners get a fresh
 *   hostname per run on identical hardware, and two different machines can
 *   share a name; it is recorded, but only as information. The governor and
 *   filesystem are recorded too but depend on configuration, not hardware,
 *   so they belong to a result's context rather than to the machine's key.
 * - Thread-safety: probes only read process-wide state; safe to call from
 *   any thread, though one caller at startup is the intended use.
 * - JSON: *_to_json returns a new jansson object (caller json_decref's it,
 *   NULL on allocation failure); *_write_json writes that object compactly,
 *   with no trailing newline, so it can be embedded as a member value.
 */
#ifndef BENCH_MACHINE_H
#define BENCH_MACHINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_t; /* jansson's type, kept out of this header */

typedef struct bench_machine {
    char cpu_model[256];    /* /proc/cpuinfo "model name" (or arch equivalent) */
    int logical_cores;      /* online logical CPUs */
    int usable_cores;       /* CPUs in this process's affinity mask */
    uint64_t memory_bytes;  /* MemTotal */
    char kernel[65];        /* uname release */
    char arch[65];          /* uname machine */
    char governor[64];      /* cpu0 cpufreq scaling_governor, "" if unreadable */
    char fs_type[32];       /* filesystem of the data directory, "" if none */
    char hostname[256];
    char machine_id[17];    /* 16 lower-case hex digits */
    char machine_id_basis[512];
} bench_machine;

/* Fills *m. data_dir (may be NULL) is the directory whose filesystem is
 * recorded; if it does not exist yet, its nearest existing ancestor is used
 * (that is where it will be created). Returns 0; -1 only if uname fails. */
int bench_machine_probe(bench_machine *m, const char *data_dir);
/* Recomputes machine_id and machine_id_basis from the other fields. */
void bench_machine_compute_id(bench_machine *m);

/* The filesystem type name of dir (or of its nearest existing ancestor):
 * statfs's f_type mapped to a name ("ext4", "xfs", "tmpfs", "btrfs",
 * "overlay", ...). ext2/3/4 share one magic number, so the mount table
 * (/proc/self/mountinfo, matched by device number) names those; an unknown
 * magic becomes "0x<hex>". Returns 0, or -1 with errno set. */
int bench_fs_type(const char *dir, char *out, size_t cap);

struct json_t *bench_machine_to_json(const bench_machine *m);
int bench_machine_write_json(FILE *f, const bench_machine *m);

typedef struct bench_build {
    char commit[41];        /* HEAD of the source tree, "" if not a git tree */
    int dirty;              /* 1 modified or untracked files, 0 clean, -1 unknown */
    char compiler[128];     /* the compiler that built this file */
    char cflags[1024];      /* LDB_CFLAGS, or "unknown" */
} bench_build;

/* Fills *b. src_dir is the source tree (NULL = current directory); git runs
 * there as `git -C src_dir rev-parse HEAD` and `git status --porcelain`
 * (untracked files count as dirty: the Makefile compiles every src/ *.c it
 * finds). The build flags come from the string macro LDB_CFLAGS given when
 * this file is compiled, e.g. -DLDB_CFLAGS='"$(CFLAGS)"'. Returns 0. */
int bench_build_probe(bench_build *b, const char *src_dir);

struct json_t *bench_build_to_json(const bench_build *b);
int bench_build_write_json(FILE *f, const bench_build *b);

#endif /* BENCH_MACHINE_H */
