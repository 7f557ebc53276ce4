/* bench/counts.c — counts mode under callgrind (see counts.h). */
#include "bench/counts.h"

#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "bench/engine_lightning.h"

extern char **environ;

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && cap)
        vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

double bench_counts_est_cycles(const bench_counts *c)
{
    return (double)c->ir + BENCH_COUNTS_D1_PENALTY * (double)c->d1_misses +
           BENCH_COUNTS_LL_PENALTY * (double)c->ll_misses;
}

/* ---- parsing a dump ------------------------------------------------------ */

enum { EV_IR, EV_I1MR, EV_D1MR, EV_D1MW, EV_ILMR, EV_DLMR, EV_DLMW, EV_N };
static const char *const ev_names[EV_N] = {"Ir", "I1mr", "D1mr", "D1mw",
                                           "ILmr", "DLmr", "DLmw"};

/* Position of each wanted event in the `events:` line (-1 if absent). */
static void parse_events(char *line, int pos[EV_N])
{
    for (int i = 0; i < EV_N; i++)
        pos[i] = -1;
    char *save = NULL;
    int k = 0;
    for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save), k++)
        for (int i = 0; i < EV_N; i++)
            if (!strcmp(t, ev_names[i]))
                pos[i] = k;
}

/* Values of the summary line; callgrind omits trailing zeros. */
static int parse_values(const char *line, uint64_t *v, int max)
{
    int n = 0;
    const char *p = line;
    while (n < max) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p < '0' || *p > '9')
            break;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(p, &end, 10);
        if (errno)
            return -1;
        v[n++] = x;
        p = end;
    }
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return *p ? -1 : n;
}

int bench_counts_parse_file(const char *path, bench_counts *out, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, cap, "cannot open callgrind output %s: %s", path, strerror(errno));
    char line[4096], summary[4096] = "", totals[4096] = "";
    int pos[EV_N], have_events = 0, rc = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "events:", 7)) {
            parse_events(line + 7, pos);
            have_events = 1;
        } else if (!strncmp(line, "summary:", 8)) {
            snprintf(summary, sizeof summary, "%s", line + 8);
        } else if (!strncmp(line, "totals:", 7)) {
            snprintf(totals, sizeof totals, "%s", line + 7);
        }
    }
    if (ferror(f)) {
        fail(err, cap, "cannot read callgrind output %s", path);
        goto out;
    }
    const char *vals = summary[0] ? summary : totals;
    if (!have_events || !vals[0] || pos[EV_IR] < 0) {
        fail(err, cap, "callgrind output %s has no events/summary line with Ir", path);
        goto out;
    }
    if (pos[EV_D1MR] < 0 || pos[EV_DLMR] < 0) {
        fail(err, cap, "callgrind output %s has no cache events (was --cache-sim=yes given?)",
             path);
        goto out;
    }
    uint64_t v[64] = {0};
    if (parse_values(vals, v, 64) < 0) {
        fail(err, cap, "callgrind output %s: bad summary line", path);
        goto out;
    }
#define EV(i) (pos[i] >= 0 && pos[i] < 64 ? v[pos[i]] : 0)
    out->ir = EV(EV_IR);
    out->i1_misses = EV(EV_I1MR);
    out->d1_misses = EV(EV_D1MR) + EV(EV_D1MW);
    out->ll_misses = EV(EV_ILMR) + EV(EV_DLMR) + EV(EV_DLMW);
#undef EV
    rc = 0;
out:
    fclose(f);
    return rc;
}

/* ---- the outer process ---------------------------------------------------- */

int bench_counts_active(void)
{
    const char *p = getenv(BENCH_COUNTS_ENV);
    return RUNNING_ON_VALGRIND && p && *p;
}

static void print_log_tail(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (strstr(line, "rror") || strstr(line, "FATAL") || strstr(line, "nable"))
            fprintf(stderr, "valgrind: %s", line);
    fclose(f);
}

static void remove_scratch(const char *dir)
{
    char cmdpath[4200];
    /* Only files this process asked callgrind and valgrind to write. */
    for (unsigned i = 0; i < 100000; i++) {
        snprintf(cmdpath, sizeof cmdpath, "%s/cg.out.%u", dir, i + 1);
        if (unlink(cmdpath) != 0 && errno == ENOENT && i > 0)
            break;
    }
    snprintf(cmdpath, sizeof cmdpath, "%s/cg.out", dir);
    unlink(cmdpath);
    snprintf(cmdpath, sizeof cmdpath, "%s/vg.log", dir);
    unlink(cmdpath);
    rmdir(dir);
}

int bench_counts_exec(int argc, char **argv, int *exit_code, char *err, size_t cap)
{
    char self[4096], dir[4096], out_opt[4200], log_opt[4200], env_kv[4300], log_path[4200];
    char **av = NULL, **envp = NULL;
    int rc = -1, started = 0;
    if (BENCH_COUNTS_SANITIZED)
        return fail(err, cap,
                    "--measure counts runs this binary under valgrind, which cannot run a "
                    "sanitizer build; use a plain build (make: build/lightning)");
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0)
        return fail(err, cap, "cannot find this program (/proc/self/exe): %s", strerror(errno));
    self[sl] = '\0';
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/lightning-counts-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return fail(err, cap, "cannot create a scratch directory %s: %s", dir, strerror(errno));
    snprintf(out_opt, sizeof out_opt, "--callgrind-out-file=%s/cg.out", dir);
    snprintf(log_opt, sizeof log_opt, "--log-file=%s/vg.log", dir);
    snprintf(log_path, sizeof log_path, "%s/vg.log", dir);
    snprintf(env_kv, sizeof env_kv, "%s=%s/cg.out", BENCH_COUNTS_ENV, dir);
    const char *pre[] = {"valgrind", "--tool=callgrind", "--cache-sim=yes",
                         "--collect-atstart=no", "--I1=" BENCH_COUNTS_I1,
                         "--D1=" BENCH_COUNTS_D1, "--LL=" BENCH_COUNTS_LL,
                         "--dump-instr=no", "--compress-strings=no", out_opt, log_opt,
                         self};
    size_t npre = sizeof pre / sizeof pre[0];
    av = calloc(npre + (size_t)argc + 1, sizeof *av);
    size_t ne = 0;
    while (environ && environ[ne])
        ne++;
    envp = calloc(ne + 2, sizeof *envp);
    if (!av || !envp) {
        fail(err, cap, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < npre; i++)
        av[i] = (char *)pre[i];
    for (int i = 0; i < argc; i++)
        av[npre + (size_t)i] = argv[i];
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], BENCH_COUNTS_ENV "=", sizeof BENCH_COUNTS_ENV))
            envp[k++] = environ[i];
    envp[k++] = env_kv;
    /* Same addresses every run (the cache model maps addresses to sets):
     * the child inherits the persona. Best effort; the spread with ASLR on
     * is documented. */
    int persona = personality(0xffffffff);
    if (persona != -1)
        (void)personality((unsigned long)persona | ADDR_NO_RANDOMIZE);
    pid_t pid;
    int src = posix_spawnp(&pid, "valgrind", NULL, NULL, av, envp);
    if (persona != -1)
        (void)personality((unsigned long)persona);
    if (src != 0) {
        fail(err, cap,
             "--measure counts needs valgrind, which could not be started (%s); install "
             "the valgrind package (make deps)",
             strerror(src));
        goto out;
    }
    started = 1;
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            fail(err, cap, "waitpid: %s", strerror(errno));
            goto out;
        }
    }
    if (WIFEXITED(st)) {
        *exit_code = WEXITSTATUS(st);
    } else {
        *exit_code = 2;
        fprintf(stderr, "lightning: bench under valgrind died (signal %d)\n",
                WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    }
    if (*exit_code != 0)
        print_log_tail(log_path);
    rc = 0;
out:
    if (started && getenv("LIGHTNING_BENCH_KEEP_COUNTS"))
        fprintf(stderr, "lightning: callgrind files kept in %s\n", dir);
    else
        remove_scratch(dir);
    free(av);
    free(envp);
    return rc;
}

/* ---- the hooks (inner process) ------------------------------------------- */

static void hook_begin(void *arg, const bench_phase_info *info)
{
    (void)arg;
    (void)info;
    CALLGRIND_ZERO_STATS;
}

static void hook_worker_begin(void *arg)
{
    (void)arg;
    CALLGRIND_TOGGLE_COLLECT;
}

static void hook_worker_end(void *arg)
{
    (void)arg;
    CALLGRIND_TOGGLE_COLLECT;
}

/* Dumps the counters of the phase just run and reads them back. */
static int dump(bench_counts_ctx *c, bench_counts *out)
{
    char path[4200];
    CALLGRIND_DUMP_STATS_AT("lightning bench phase");
    c->dumps++;
    snprintf(path, sizeof path, "%s.%u", c->out_path, c->dumps);
    int rc = bench_counts_parse_file(path, out, c->err, sizeof c->err);
    if (rc != 0)
        c->failed = 1;
    unlink(path);
    return rc;
}

static void hook_end(void *arg, const bench_phase_info *info, bench_result *r)
{
    bench_counts_ctx *c = arg;
    bench_counts k;
    (void)info;
    if (dump(c, &k) != 0 || r->ops == 0)
        return;
    double ops = (double)r->ops;
    bench_result_add_metric(r, "ir_per_op", (double)k.ir / ops, "instr/op",
                            BENCH_BETTER_LOWER);
    bench_result_add_metric(r, "d1_misses_per_op", (double)k.d1_misses / ops, "misses/op",
                            BENCH_BETTER_LOWER);
    bench_result_add_metric(r, "ll_misses_per_op", (double)k.ll_misses / ops, "misses/op",
                            BENCH_BETTER_LOWER);
    bench_result_add_metric(r, "i1_misses_per_op", (double)k.i1_misses / ops, "misses/op",
                            BENCH_BETTER_LOWER);
    bench_result_add_metric(r, "est_cycles_per_op", bench_counts_est_cycles(&k) / ops,
                            "cycles/op", BENCH_BETTER_LOWER);
}

/* The busy loop's own cost under the model, measured once: est. cycles
 * of a call with no iterations (spin_fixed) and per iteration (spin_iter).
 * It does no memory traffic, so its estimated cycles are its instructions. */
static int spin_model(bench_counts_ctx *c)
{
    enum { CALLS = 64, ITERS = 4096 };
    bench_counts k0, k1;
    if (c->spin_iter > 0)
        return 0;
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
    for (int i = 0; i < CALLS; i++)
        bench_lightning_spin(0);
    CALLGRIND_TOGGLE_COLLECT;
    if (dump(c, &k0) != 0)
        return -1;
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
    for (int i = 0; i < CALLS; i++)
        bench_lightning_spin(ITERS);
    CALLGRIND_TOGGLE_COLLECT;
    if (dump(c, &k1) != 0)
        return -1;
    double e0 = bench_counts_est_cycles(&k0), e1 = bench_counts_est_cycles(&k1);
    c->spin_fixed = e0 / CALLS;
    c->spin_iter = (e1 - e0) / ((double)CALLS * ITERS);
    if (!(c->spin_iter > 0)) {
        snprintf(c->err, sizeof c->err, "the busy loop counted no instructions");
        c->failed = 1;
        return -1;
    }
    return 0;
}

static uint64_t hook_slowdown_iters(void *arg, const bench_phase_info *info, uint64_t ops,
                                    double pct)
{
    bench_counts_ctx *c = arg;
    bench_counts k;
    (void)info;
    if (dump(c, &k) != 0 || ops == 0 || spin_model(c) != 0)
        return 0;
    double want = bench_counts_est_cycles(&k) / (double)ops * pct / 100.0;
    double iters = (want - c->spin_fixed) / c->spin_iter;
    return iters < 0.5 ? 0 : (uint64_t)(iters + 0.5);
}

int bench_counts_hooks_init(bench_counts_ctx *ctx, bench_run_hooks *hooks, char *err,
                            size_t cap)
{
    memset(ctx, 0, sizeof *ctx);
    memset(hooks, 0, sizeof *hooks);
    const char *p = getenv(BENCH_COUNTS_ENV);
    if (!RUNNING_ON_VALGRIND || !p || !*p)
        return fail(err, cap, "counts mode must run under the valgrind that "
                              "`lightning bench --measure counts` starts");
    if (strlen(p) >= sizeof ctx->out_path)
        return fail(err, cap, "%s is too long", BENCH_COUNTS_ENV);
    snprintf(ctx->out_path, sizeof ctx->out_path, "%s", p);
    hooks->phase_begin = hook_begin;
    hooks->phase_end = hook_end;
    hooks->worker_begin = hook_worker_begin;
    hooks->worker_end = hook_worker_end;
    hooks->slowdown_iters = hook_slowdown_iters;
    hooks->arg = ctx;
    return 0;
}
