/*
 * bench/machine.c — machine fingerprint and build identity; see machine.h.
 */
#include "bench/machine.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/keygen.h"

extern char **environ;

/* Copies src into dst[cap] with truncation, always terminated. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    if (cap == 0)
        return;
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* First line of a small file, trimmed; -1 if unreadable or empty. */
static int read_line_file(const char *path, char *out, size_t cap)
{
    char buf[512];
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char *line = fgets(buf, sizeof buf, f);
    fclose(f);
    if (!line)
        return -1;
    line = trim(line);
    if (*line == '\0')
        return -1;
    copy_str(out, cap, line);
    return 0;
}

/* The value of the first "key<ws>: value" line of /proc/cpuinfo among the
 * keys tried in order; architectures name the model differently. */
static void probe_cpu_model(char *out, size_t cap)
{
    static const char *const keys[] = {"model name", "cpu model", "Model",
                                       "Processor", "cpu", "Hardware"};
    char line[1024];
    out[0] = '\0';
    for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !out[0]; k++) {
        FILE *f = fopen("/proc/cpuinfo", "re");
        if (!f)
            return;
        size_t klen = strlen(keys[k]);
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, keys[k], klen) != 0)
                continue;
            char *p = line + klen;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p != ':')
                continue;
            char *v = trim(p + 1);
            if (*v) {
                copy_str(out, cap, v);
                break;
            }
        }
        fclose(f);
    }
}

static uint64_t probe_memory(void)
{
    char line[256];
    unsigned long long kb = 0;
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            break;
    }
    fclose(f);
    return (uint64_t)kb * 1024;
}

/* ---- filesystem type ----------------------------------------------------- */

static const struct {
    unsigned long magic;
    const char *name;
} fs_magics[] = {
    {0xEF53, "ext4"}, /* shared by ext2/3/4; refined from the mount table */
    {0x58465342, "xfs"},        {0x01021994, "tmpfs"},
    {0x9123683E, "btrfs"},      {0x794c7630, "overlay"},
    {0x2FC12FC1, "zfs"},        {0xF2F52010, "f2fs"},
    {0xCA451A4E, "bcachefs"},   {0x6969, "nfs"},
    {0x65735546, "fuse"},       {0xFF534D42, "cifs"},
    {0xFE534D42, "smb2"},       {0x01021997, "9p"},
    {0x858458F6, "ramfs"},      {0x73717368, "squashfs"},
    {0xE0F5E1E2, "erofs"},      {0x4d44, "vfat"},
    {0x2011BAB0, "exfat"},      {0x5346544e, "ntfs"},
    {0x3153464a, "jfs"},        {0x52654973, "reiserfs"},
    {0x00c36400, "ceph"},       {0x01161970, "gfs2"},
    {0x7461636f, "ocfs2"},      {0x9fa0, "proc"},
    {0x62656572, "sysfs"},      {0x1373, "devfs"},
};

/* The fstype of the mount whose device is dev, from /proc/self/mountinfo:
 * "id parent major:minor root mountpoint opts [optional...] - fstype src". */
static int mountinfo_fstype(dev_t dev, char *out, size_t cap)
{
    char line[4096];
    int found = -1;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -1;
    while (found != 0 && fgets(line, sizeof line, f)) {
        unsigned maj, min;
        if (sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2)
            continue;
        if (makedev(maj, min) != dev)
            continue;
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        char type[64];
        if (sscanf(sep + 3, "%63s", type) == 1) {
            copy_str(out, cap, type);
            found = 0;
        }
    }
    fclose(f);
    return found;
}

int bench_fs_type(const char *dir, char *out, size_t cap)
{
    char path[PATH_MAX];
    struct statfs sfs;
    struct stat st;
    if (!dir || !*dir || cap == 0) {
        errno = EINVAL;
        return -1;
    }
    copy_str(path, sizeof path, dir);
    /* A data directory is often created by the run itself: walk up to the
     * nearest existing ancestor, whose filesystem it will live on. */
    while (statfs(path, &sfs) != 0) {
        if (errno != ENOENT || strcmp(path, ".") == 0 || strcmp(path, "/") == 0)
            return -1;
        char *slash = strrchr(path, '/');
        if (!slash)
            copy_str(path, sizeof path, ".");
        else if (slash == path)
            path[1] = '\0';
        else
            *slash = '\0';
    }
    if (stat(path, &st) == 0 && mountinfo_fstype(st.st_dev, out, cap) == 0)
        return 0;
    for (size_t i = 0; i < sizeof fs_magics / sizeof fs_magics[0]; i++) {
        if ((unsigned long)sfs.f_type == fs_magics[i].magic) {
            copy_str(out, cap, fs_magics[i].name);
            return 0;
        }
    }
    snprintf(out, cap, "0x%lx", (unsigned long)sfs.f_type);
    return 0;
}

/* ---- machine ------------------------------------------------------------- */

void bench_machine_compute_id(bench_machine *m)
{
    unsigned major = 0, minor = 0;
    /* "6.1.0-18-amd64" -> 6.1; anything unparsable stays 0.0 */
    if (sscanf(m->kernel, "%u.%u", &major, &minor) != 2)
        major = minor = 0;
    uint64_t gib = (m->memory_bytes + (UINT64_C(1) << 29)) >> 30;
    snprintf(m->machine_id_basis, sizeof m->machine_id_basis,
             "cpu=%s;cores=%d;mem_gib=%llu;kernel=%u.%u", m->cpu_model,
             m->logical_cores, (unsigned long long)gib, major, minor);
    snprintf(m->machine_id, sizeof m->machine_id, "%016llx",
             (unsigned long long)bench_fnv1a64(m->machine_id_basis));
}

int bench_machine_probe(bench_machine *m, const char *data_dir)
{
    struct utsname u;
    memset(m, 0, sizeof *m);

    probe_cpu_model(m->cpu_model, sizeof m->cpu_model);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    m->logical_cores = n > 0 ? (int)n : 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        m->usable_cores = CPU_COUNT(&set);
    m->memory_bytes = probe_memory();
    if (read_line_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor",
                       m->governor, sizeof m->governor) != 0)
        m->governor[0] = '\0';
    if (data_dir && bench_fs_type(data_dir, m->fs_type, sizeof m->fs_type) != 0)
        m->fs_type[0] = '\0';
    if (gethostname(m->hostname, sizeof m->hostname) != 0)
        m->hostname[0] = '\0';
    m->hostname[sizeof m->hostname - 1] = '\0';

    int rc = uname(&u);
    if (rc == 0) {
        copy_str(m->kernel, sizeof m->kernel, u.release);
        copy_str(m->arch, sizeof m->arch, u.machine);
    }
    bench_machine_compute_id(m);
    return rc == 0 ? 0 : -1;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *int_or_null(long long v)
{
    return v > 0 ? json_integer(v) : json_null();
}

/* Sets obj[key] = v, consuming v; remembers the first failure in *ok. */
static void put(json_t *obj, const char *key, json_t *v, int *ok)
{
    if (!v || json_object_set_new(obj, key, v) != 0)
        *ok = 0;
}

json_t *bench_machine_to_json(const bench_machine *m)
{
    int ok = 1;
    json_t *o = json_object();
    if (!o)
        return NULL;
    put(o, "machine_id", str_or_null(m->machine_id), &ok);
    put(o, "cpu_model", str_or_null(m->cpu_model), &ok);
    put(o, "logical_cores", int_or_null(m->logical_cores), &ok);
    put(o, "usable_cores", int_or_null(m->usable_cores), &ok);
    put(o, "memory_bytes", int_or_null((long long)m->memory_bytes), &ok);
    put(o, "kernel", str_or_null(m->kernel), &ok);
    put(o, "arch", str_or_null(m->arch), &ok);
    put(o, "governor", str_or_null(m->governor), &ok);
    put(o, "data_fs", str_or_null(m->fs_type), &ok);
    put(o, "hostname", str_or_null(m->hostname), &ok);
    put(o, "machine_id_basis", str_or_null(m->machine_id_basis), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int write_json(FILE *f, json_t *o)
{
    if (!o) {
        errno = ENOMEM;
        return -1;
    }
    int rc = json_dumpf(o, f, JSON_COMPACT);
    json_decref(o);
    return rc == 0 ? 0 : -1;
}

int bench_machine_write_json(FILE *f, const bench_machine *m)
{
    return write_json(f, bench_machine_to_json(m));
}

/* ---- build --------------------------------------------------------------- */

/* Runs argv (found on PATH) with stdin and stderr on /dev/null and captures
 * up to cap-1 bytes of stdout into out (terminated); the rest is drained so
 * the child never blocks. *total gets the full output length. Returns the
 * exit status, or -1 if it could not run or was killed. No shell: src_dir
 * needs no quoting. */
static int run_capture(char *const argv[], char *out, size_t cap,
                       size_t *total)
{
    int fds[2] = {-1, -1}, rc = -1, status;
    int fa_ok = 0;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    size_t len = 0;

    *total = 0;
    if (cap)
        out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) != 0)
        goto out;
    if (posix_spawn_file_actions_init(&fa) != 0)
        goto out;
    fa_ok = 1;
    if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) ||
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1))
        goto out;
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
        goto out;
    close(fds[1]);
    fds[1] = -1;
    for (;;) {
        char buf[4096];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (cap && len < cap - 1) {
            size_t take = (size_t)r < cap - 1 - len ? (size_t)r : cap - 1 - len;
            memcpy(out + len, buf, take);
            len += take;
            out[len] = '\0';
        }
        *total += (size_t)r;
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            goto out;
    }
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    return rc;
}

static void probe_compiler(char *out, size_t cap)
{
#if defined(__clang__)
    copy_str(out, cap, "clang " __clang_version__);
#elif defined(__GNUC__)
    copy_str(out, cap, "gcc " __VERSION__);
#elif defined(__VERSION__)
    copy_str(out, cap, __VERSION__);
#else
    copy_str(out, cap, "unknown");
#endif
}

int bench_build_probe(bench_build *b, const char *src_dir)
{
    char buf[128];
    size_t total;
    const char *dir = src_dir && *src_dir ? src_dir : ".";
    memset(b, 0, sizeof *b);
    b->dirty = -1;

    char *rev[] = {"git", "-C", (char *)dir, "rev-parse", "HEAD", NULL};
    if (run_capture(rev, buf, sizeof buf, &total) == 0) {
        char *h = trim(buf);
        size_t n = strspn(h, "0123456789abcdef");
        /* only a full hash counts; anything else is "not known" */
        if (n == 40 && h[40] == '\0')
            copy_str(b->commit, sizeof b->commit, h);
    }
    if (b->commit[0]) {
        char *st[] = {"git", "-C", (char *)dir, "status", "--porcelain", NULL};
        if (run_capture(st, buf, sizeof buf, &total) == 0)
            b->dirty = total > 0;
    }

    probe_compiler(b->compiler, sizeof b->compiler);
#ifdef LDB_CFLAGS
    copy_str(b->cflags, sizeof b->cflags, LDB_CFLAGS);
#else
    copy_str(b->cflags, sizeof b->cflags, "unknown");
#endif
    return 0;
}

json_t *bench_build_to_json(const bench_build *b)
{
    int ok = 1;
    json_t *o = json_object();
    if (!o)
        return NULL;
    put(o, "commit", str_or_null(b->commit), &ok);
    put(o, "dirty", b->dirty < 0 ? json_null() : json_boolean(b->dirty), &ok);
    put(o, "compiler", str_or_null(b->compiler), &ok);
    put(o, "cflags", str_or_null(b->cflags), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int bench_build_write_json(FILE *f, const bench_build *b)
{
    return write_json(f, bench_build_to_json(b));
}
