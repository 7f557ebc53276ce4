/* perf/proc.c — child processes without a shell (see proc.h). */
#include "perf/proc.h"
#include "perf/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/sys.h"

extern char **environ;

/* environ with env_set applied, as a new array of borrowed strings. */
static char **make_env(char *const env_set[])
{
    size_t n = 0, m = 0;
    while (environ[n])
        n++;
    while (env_set && env_set[m])
        m++;
    char **v = malloc((n + m + 1) * sizeof *v);
    if (!v)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int replaced = 0;
        for (size_t j = 0; j < m && !replaced; j++)
            if (!strncmp(env_set[j], environ[i], kl) && env_set[j][kl] == '=')
                replaced = 1;
        if (!replaced)
            v[o++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        v[o++] = env_set[j];
    v[o] = NULL;
    return v;
}

static int wait_child(pid_t pid, const char *name, perf_error *e)
{
    int st;
    for (;;) {
        if (waitpid(pid, &st, 0) >= 0) {
            perf_cleanup_forget_child(pid);
            break;
        }
        if (errno != EINTR)
            return perf_seterr(e, "waiting for %s: %s", name, strerror(errno));
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 255;
}

static int spawn(char *const argv[], const char *cwd, char *const env_set[],
                 const char *out_path, int out_fd, const char *err_path, int own_pgroup,
                 pid_t *pid, perf_error *e)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    char **env = NULL;
    int rc = -1;
    if (posix_spawn_file_actions_init(&fa))
        return perf_seterr(e, "posix_spawn: out of memory");
    posix_spawnattr_init(&at);
    /* The child must not inherit a blocked or ignored SIGINT/SIGTERM. */
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (own_pgroup) {
        posix_spawnattr_setpgroup(&at, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&at, flags);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        posix_spawn_file_actions_addclose(&fa, out_fd);
    } else if (out_path) {
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (err_path)
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    env = make_env(env_set);
    if (!env) {
        perf_seterr(e, "out of memory");
        goto out;
    }
    int err = strchr(argv[0], '/') ? posix_spawn(pid, argv[0], &fa, &at, argv, env)
                                   : posix_spawnp(pid, argv[0], &fa, &at, argv, env);
    if (err) {
        perf_seterr(e, "cannot run %s: %s", argv[0], strerror(err));
        goto out;
    }
    perf_cleanup_add_child(*pid); /* stopped with us on Ctrl-C */
    rc = 0;
out:
    free(env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}

int perf_proc_start(char *const argv[], char *const env_set[], const char *out_path,
                    const char *err_path, const perf_spawn_opts *so, pid_t *pid, perf_error *e)
{
    cpu_set_t saved;
    int pinned = 0;
    if (so && so->cpus && CPU_COUNT(so->cpus) > 0) {
        /* posix_spawn has no affinity attribute; the child inherits the
         * calling thread's mask, so set it around the spawn. */
        if (sched_getaffinity(0, sizeof saved, &saved))
            return perf_seterr(e, "sched_getaffinity: %s", strerror(errno));
        if (sched_setaffinity(0, sizeof *so->cpus, so->cpus))
            return perf_seterr(e, "pinning %s to its cores: %s", argv[0], strerror(errno));
        pinned = 1;
    }
    int rc = spawn(argv, NULL, env_set, out_path, -1, err_path, so ? so->own_pgroup : 0, pid, e);
    if (pinned && sched_setaffinity(0, sizeof saved, &saved) && !rc) {
        perf_seterr(e, "restoring the CPU mask: %s", strerror(errno));
        rc = -1;
    }
    return rc;
}

int perf_proc_wait_exit(pid_t pid, perf_error *e)
{
    siginfo_t si;
    for (;;) {
        memset(&si, 0, sizeof si);
        if (!waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT))
            return 0;
        if (errno != EINTR)
            return perf_seterr(e, "waiting for child %d: %s", (int)pid, strerror(errno));
    }
}

int perf_proc_reap(pid_t pid, const char *name, perf_error *e)
{
    return wait_child(pid, name, e);
}

int perf_proc_run(char *const argv[], const char *cwd, char *const env_set[],
                  const char *out_path, const char *err_path, perf_error *e)
{
    pid_t pid;
    if (spawn(argv, cwd, env_set, out_path, -1, err_path, 0, &pid, e))
        return -1;
    return wait_child(pid, argv[0], e);
}

int perf_proc_capture(char *const argv[], const char *cwd, char *out, size_t cap,
                      const char *err_path, perf_error *e)
{
    int fds[2];
    pid_t pid;
    if (cap)
        out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC))
        return perf_seterr(e, "pipe: %s", strerror(errno));
    if (spawn(argv, cwd, NULL, NULL, fds[1], err_path, 0, &pid, e)) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    close(fds[1]);
    size_t n = 0;
    char sink[4096];
    for (;;) {
        ssize_t r;
        if (n + 1 < cap)
            r = read(fds[0], out + n, cap - 1 - n);
        else
            r = read(fds[0], sink, sizeof sink); /* drain so the child can finish */
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (n + 1 < cap)
            n += (size_t)r;
    }
    close(fds[0]);
    if (cap) {
        out[n] = '\0';
        while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
            out[--n] = '\0';
    }
    return wait_child(pid, argv[0], e);
}

void perf_file_tail(const char *path, int lines, char *out, size_t cap)
{
    if (!cap)
        return;
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char buf[16384];
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    long from = sz > (long)sizeof buf - 1 ? sz - (long)sizeof buf + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    /* Walk back `lines` newlines; \r progress lines keep only their last
     * rewrite. */
    size_t i = n;
    int seen = 0;
    while (i > 0) {
        if (buf[i - 1] == '\n' && ++seen == lines)
            break;
        i--;
    }
    size_t o = 0;
    for (size_t j = i; j < n && o + 1 < cap; j++) {
        if (buf[j] == '\r') {
            while (o > 0 && out[o - 1] != '\n')
                o--;
            continue;
        }
        out[o++] = buf[j];
    }
    out[o] = '\0';
}

int perf_mkdirs(const char *path, perf_error *e)
{
    if (sys_mkdirs(path))
        return perf_seterr(e, "cannot create %s: %s", path, strerror(errno));
    return 0;
}
