/*
 * Unit tests for bench/machine (fingerprint, build identity, JSON) and
 * bench/counters (CPU time, peak RSS, hardware counters never invented).
 * Expected values are read independently from /proc, uname and git here,
 * so a probe that returned constants or guesses would fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench/counters.h"
#include "bench/machine.h"
#include "testutil.h"

/* ---- helpers -------------------------------------------------------------- */

/* Whether /proc/cpuinfo has a "model name" line (x86 and most others). */
static int cpuinfo_has_model_name(void)
{
    char line[1024];
    int found = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof line, f))
        found = strncmp(line, "model name", 10) == 0;
    fclose(f);
    return found;
}

static unsigned long long meminfo_total_kb(void)
{
    char line[256];
    unsigned long long kb = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* Runs a shell command (fixed strings only) and returns its first line. */
static int sh_line(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    out[0] = '\0';
    if (!fgets(out, (int)cap, p))
        out[0] = '\0';
    int rc = pclose(p);
    out[strcspn(out, "\n")] = '\0';
    return rc;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile uint64_t sink;

/* Burns about `secs` of this thread's CPU time in user space. */
static void busy(double secs)
{
    double end = thread_cpu_s() + secs;
    uint64_t x = 1;
    while (thread_cpu_s() < end)
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    sink = x;
}

static uint64_t vmrss_bytes(void)
{
    char line[256];
    unsigned long long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

/* ---- machine -------------------------------------------------------------- */

static void test_machine_fields(void **state)
{
    (void)state;
    bench_machine m;
    assert_int_equal(bench_machine_probe(&m, "."), 0);

    if (cpuinfo_has_model_name())
        assert_true(strlen(m.cpu_model) > 0);
    assert_int_equal(m.logical_cores, (int)sysconf(_SC_NPROCESSORS_ONLN));
    assert_true(m.usable_cores >= 1 && m.usable_cores <= m.logical_cores);
    unsigned long long kb = meminfo_total_kb();
    if (kb)
        assert_true(m.memory_bytes == kb * 1024);

    struct utsname u;
    assert_int_equal(uname(&u), 0);
    assert_string_equal(m.kernel, u.release);
    assert_string_equal(m.arch, u.machine);
    char host[256];
    assert_int_equal(gethostname(host, sizeof host), 0);
    host[sizeof host - 1] = '\0';
    assert_string_equal(m.hostname, host);

    /* governor: the file's content when readable, empty (null) when not */
    char gov[64] = "";
    FILE *g = fopen("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "r");
    if (g) {
        if (!fgets(gov, sizeof gov, g))
            gov[0] = '\0';
        fclose(g);
        gov[strcspn(gov, "\n")] = '\0';
    }
    assert_string_equal(m.governor, gov);
    assert_true(strlen(m.fs_type) > 0);

    /* machine_id: 16 hex digits, stable, and a function of the documented
     * basis only. */
    assert_int_equal(strlen(m.machine_id), 16);
    assert_int_equal(strspn(m.machine_id, "0123456789abcdef"), 16);
    bench_machine m2;
    assert_int_equal(bench_machine_probe(&m2, "/"), 0);
    assert_string_equal(m.machine_id, m2.machine_id);
    assert_string_equal(m.machine_id_basis, m2.machine_id_basis);
    char want_cores[32];
    snprintf(want_cores, sizeof want_cores, ";cores=%d;", m.logical_cores);
    assert_non_null(strstr(m.machine_id_basis, want_cores));
    assert_non_null(strstr(m.machine_id_basis, "kernel="));

    bench_machine t = m;
    snprintf(t.hostname, sizeof t.hostname, "some-other-host");
    snprintf(t.governor, sizeof t.governor, "powersave");
    t.memory_bytes += 100u << 20; /* +100 MiB: rounds to the same GiB */
    bench_machine_compute_id(&t);
    assert_string_equal(t.machine_id, m.machine_id);
    t.logical_cores += 1;
    bench_machine_compute_id(&t);
    assert_string_not_equal(t.machine_id, m.machine_id);
    t = m;
    t.memory_bytes += UINT64_C(2) << 30;
    bench_machine_compute_id(&t);
    assert_string_not_equal(t.machine_id, m.machine_id);
}

static void test_fs_type(void **state)
{
    (void)state;
    char a[32], b[32];
    assert_int_equal(bench_fs_type("/proc", a, sizeof a), 0);
    assert_string_equal(a, "proc");

    struct statfs sfs;
    if (statfs("/dev/shm", &sfs) == 0 && sfs.f_type == 0x01021994) {
        assert_int_equal(bench_fs_type("/dev/shm", a, sizeof a), 0);
        assert_string_equal(a, "tmpfs");
    }
    /* A directory that does not exist yet is judged by its nearest
     * existing ancestor, where it would be created. */
    assert_int_equal(bench_fs_type(".", a, sizeof a), 0);
    assert_int_equal(bench_fs_type("./no/such/dir/yet", b, sizeof b), 0);
    assert_string_equal(a, b);
    assert_int_equal(bench_fs_type("no-such-relative-dir", b, sizeof b), 0);
    assert_string_equal(a, b);
    /* The name agrees with what stat(1) / the kernel's magic say for ext*,
     * where the magic alone cannot tell ext2/3/4 apart. */
    if (statfs(".", &sfs) == 0 && sfs.f_type == 0xEF53)
        assert_true(strncmp(a, "ext", 3) == 0);
    assert_int_equal(bench_fs_type("", a, sizeof a), -1);
}

static void test_machine_json(void **state)
{
    (void)state;
    bench_machine m;
    assert_int_equal(bench_machine_probe(&m, NULL), 0);
    /* Characters JSON must escape survive the round trip. */
    snprintf(m.cpu_model, sizeof m.cpu_model, "Weird \"CPU\" \\ model\t\x01");
    m.governor[0] = '\0';
    bench_machine_compute_id(&m);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(bench_machine_write_json(f, &m), 0);
    fclose(f);
    json_error_t err;
    json_t *o = json_loads(buf, 0, &err);
    if (!o)
        fail_msg("machine JSON does not parse: %s in %s", err.text, buf);
    assert_true(json_is_object(o));
    assert_string_equal(json_string_value(json_object_get(o, "cpu_model")),
                        m.cpu_model);
    assert_true(json_is_null(json_object_get(o, "governor")));
    assert_true(json_is_null(json_object_get(o, "data_fs"))); /* no dir given */
    assert_int_equal(json_integer_value(json_object_get(o, "logical_cores")),
                     m.logical_cores);
    assert_true((uint64_t)json_integer_value(json_object_get(o, "memory_bytes")) ==
                m.memory_bytes);
    assert_string_equal(json_string_value(json_object_get(o, "machine_id")),
                        m.machine_id);
    assert_string_equal(json_string_value(json_object_get(o, "kernel")), m.kernel);
    json_decref(o);
    free(buf);

    /* Unknown figures are null, never 0 or "". */
    bench_machine empty;
    memset(&empty, 0, sizeof empty);
    o = bench_machine_to_json(&empty);
    assert_non_null(o);
    assert_true(json_is_null(json_object_get(o, "cpu_model")));
    assert_true(json_is_null(json_object_get(o, "logical_cores")));
    assert_true(json_is_null(json_object_get(o, "memory_bytes")));
    json_decref(o);
}

static void test_build_info(void **state)
{
    (void)state;
    bench_build b;
    char want[128];
    assert_int_equal(bench_build_probe(&b, "."), 0);
    int rc = sh_line("git -C . rev-parse HEAD 2>/dev/null", want, sizeof want);
    if (rc == 0 && strlen(want) == 40) {
        assert_string_equal(b.commit, want);
        char dirty[256];
        sh_line("git -C . status --porcelain 2>/dev/null | head -n 1", dirty,
                sizeof dirty);
        assert_int_equal(b.dirty, dirty[0] != '\0');
    } else {
        assert_string_equal(b.commit, "");
        assert_int_equal(b.dirty, -1);
    }
    assert_true(strlen(b.compiler) > 0);
#if defined(__GNUC__) && !defined(__clang__)
    assert_non_null(strstr(b.compiler, "gcc"));
#endif
    assert_true(strlen(b.cflags) > 0);

    /* Not a git tree: unknown, and null in JSON. */
    char tmpl[256];
    assert_int_equal(tu_mkdtemp(tmpl, sizeof tmpl, "build"), 0);
    assert_int_equal(bench_build_probe(&b, tmpl), 0);
    assert_string_equal(b.commit, "");
    assert_int_equal(b.dirty, -1);
    json_t *o = bench_build_to_json(&b);
    assert_non_null(o);
    assert_true(json_is_null(json_object_get(o, "commit")));
    assert_true(json_is_null(json_object_get(o, "dirty")));
    assert_true(json_is_string(json_object_get(o, "compiler")));
    json_decref(o);
    rmdir(tmpl);

    /* A path with characters a shell would interpret is passed safely. */
    assert_int_equal(bench_build_probe(&b, "/nonexistent dir; echo x"), 0);
    assert_string_equal(b.commit, "");

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(bench_build_write_json(f, &b), 0);
    fclose(f);
    json_error_t err;
    o = json_loads(buf, 0, &err);
    assert_non_null(o);
    json_decref(o);
    free(buf);
}

/* ---- counters ------------------------------------------------------------- */

/* Independent check of what the kernel allows, with the raw syscall. */
static int hw_counters_work(void)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_HARDWARE;
    a.config = PERF_COUNT_HW_INSTRUCTIONS;
    a.disabled = 1;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    if (fd < 0)
        return 0;
    close((int)fd);
    return 1;
}

static void test_counters_never_invent_instructions(void **state)
{
    (void)state;
    int avail = hw_counters_work();
    char reason[192];
    assert_int_equal(bench_counters_perf_available(reason, sizeof reason), avail);

    bench_counters c;
    bench_counters_result r;
    assert_int_equal(bench_counters_start(&c, BENCH_COUNTERS_PROCESS), 0);
    busy(0.02);
    assert_int_equal(bench_counters_stop(&c, &r), 0);
    print_message("hardware counters %s%s%s\n", avail ? "available" : "unavailable",
                  avail ? "" : ": ", avail ? "" : r.perf_reason);
    if (!avail) {
        assert_int_equal(r.has_instructions, 0);
        assert_int_equal(r.has_cycles, 0);
        assert_true(r.instructions == 0 && r.cycles == 0);
        assert_true(r.perf_errno != 0);
        assert_true(strlen(r.perf_reason) > 0);
        assert_true(strlen(reason) > 0);
    } else {
        assert_int_equal(r.has_instructions, 1);
        assert_true(r.instructions > 1000000); /* 20 ms of arithmetic */
        assert_true(r.cycles > 1000000);
    }

    /* Not requested: not reported, whatever the machine. */
    assert_int_equal(bench_counters_start(&c, BENCH_COUNTERS_THREAD |
                                                  BENCH_COUNTERS_NO_PERF), 0);
    assert_int_equal(bench_counters_stop(&c, &r), 0);
    assert_int_equal(r.has_instructions, 0);
    assert_int_equal(r.has_cycles, 0);
    assert_true(strlen(r.perf_reason) > 0);

    /* ...and the JSON says null, not 0. */
    json_t *o = json_object();
    assert_int_equal(bench_counters_json_set(o, &r), 0);
    assert_true(json_is_null(json_object_get(o, "instructions")));
    assert_true(json_is_null(json_object_get(o, "cycles")));
    assert_true(json_is_real(json_object_get(o, "cpu_user_s")));
    assert_true(json_is_integer(json_object_get(o, "rss_peak_bytes")));
    json_decref(o);

    /* misuse */
    bench_counters idle;
    memset(&idle, 0, sizeof idle);
    errno = 0;
    assert_int_equal(bench_counters_stop(&idle, &r), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(bench_counters_start(&c, 64), -1);
}

static void test_counters_cpu_time(void **state)
{
    (void)state;
    bench_counters c;
    bench_counters_result r;
    static const int scopes[] = {BENCH_COUNTERS_PROCESS, BENCH_COUNTERS_THREAD};
    for (int s = 0; s < 2; s++) {
        assert_int_equal(bench_counters_start(&c, scopes[s]), 0);
        busy(0.15);
        assert_int_equal(bench_counters_stop(&c, &r), 0);
        assert_int_equal(r.has_cpu, 1);
        /* getrusage ticks may lag by a jiffy: allow 40 ms of slack */
        assert_true(r.cpu_user_s + r.cpu_sys_s >= 0.11);
        assert_true(r.cpu_user_s >= 0.08);
        assert_true(r.wall_s >= 0.14);
    }
    /* Sleeping takes wall time but no CPU: the figures are not wall time. */
    assert_int_equal(bench_counters_start(&c, BENCH_COUNTERS_THREAD), 0);
    struct timespec ts = {0, 60 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(bench_counters_stop(&c, &r), 0);
    assert_true(r.wall_s >= 0.059);
    assert_true(r.cpu_user_s + r.cpu_sys_s < 0.03);
}

static void test_counters_peak_rss(void **state)
{
    (void)state;
    const size_t size = 64u << 20;
    bench_counters c;
    bench_counters_result r1, r2;
    uint64_t before = vmrss_bytes();

    assert_int_equal(bench_counters_start(&c, BENCH_COUNTERS_PROCESS), 0);
    /* mmap, not malloc: an allocator (or ASan's quarantine) would keep the
     * pages around and blur the second phase. */
    unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    memset(p, 1, size);
    sink = p[size - 1];
    assert_int_equal(bench_counters_stop(&c, &r1), 0);
    munmap(p, size);

    assert_int_equal(r1.has_rss_peak, 1);
    assert_true(r1.rss_peak_bytes >= before + size - (4u << 20));
    assert_true(r1.ru_maxrss_bytes >= r1.rss_peak_bytes - (4u << 20));

    /* A later phase that allocates nothing: with the reset it reports its
     * own, lower peak; without it, the lifetime peak (and says so). */
    assert_int_equal(bench_counters_start(&c, BENCH_COUNTERS_PROCESS), 0);
    assert_int_equal(bench_counters_stop(&c, &r2), 0);
    print_message("peak RSS phase 1 %llu MiB, phase 2 %llu MiB, reset %s\n",
                  (unsigned long long)(r1.rss_peak_bytes >> 20),
                  (unsigned long long)(r2.rss_peak_bytes >> 20),
                  r2.rss_peak_is_phase ? "worked" : "not permitted");
    if (r2.rss_peak_is_phase) {
        assert_true(r2.rss_peak_bytes + size / 2 < r1.rss_peak_bytes);
        assert_int_equal(r2.rss_reset_errno, 0);
    } else {
        assert_true(r2.rss_peak_bytes >= r1.rss_peak_bytes);
        assert_true(r2.rss_reset_errno != 0);
    }

    /* Without the reset the peak stays the process's peak. */
    assert_int_equal(bench_counters_start(&c, BENCH_COUNTERS_NO_RSS_RESET), 0);
    assert_int_equal(bench_counters_stop(&c, &r2), 0);
    assert_int_equal(r2.rss_peak_is_phase, 0);

    json_t *o = json_object();
    assert_int_equal(bench_counters_json_set(o, &r1), 0);
    assert_true((uint64_t)json_integer_value(json_object_get(o, "rss_peak_bytes")) ==
                r1.rss_peak_bytes);
    assert_string_equal(json_string_value(json_object_get(o, "rss_peak_scope")),
                        r1.rss_peak_is_phase ? "phase" : "process");
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_machine_fields),
        cmocka_unit_test(test_fs_type),
        cmocka_unit_test(test_machine_json),
        cmocka_unit_test(test_build_info),
        cmocka_unit_test(test_counters_never_invent_instructions),
        cmocka_unit_test(test_counters_cpu_time),
        cmocka_unit_test(test_counters_peak_rss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
