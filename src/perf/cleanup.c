/* perf/cleanup.c — the exit cleanup registry (see cleanup.h). */
#include "perf/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "perf/proc.h"

#define CLEANUP_PATHS 32
#define CLEANUP_KIDS 64

enum { E_FREE, E_DIR, E_WORKTREE };

typedef struct entry {
    int kind;
    char path[PATH_MAX];
    char repo[PATH_MAX];
} entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static entry ents[CLEANUP_PATHS]; /* guarded by mu */
static _Atomic pid_t kids[CLEANUP_KIDS];
static volatile sig_atomic_t got_signal;
static int pipe_fds[2] = {-1, -1};
static int started;               /* guarded by mu */

static void on_signal(int sig)
{
    int saved = errno;
    if (got_signal) /* a second signal while cleaning up: leave now */
        _exit(128 + sig);
    got_signal = sig;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(pipe_fds[1], &b, 1);
    (void)w;
    errno = saved;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

/* 1 while pid has not exited (zombies count as exited). */
static int alive(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return 0; /* ECHILD: reaped by its owner already */
    return si.si_pid != pid;
}

static void stop_children(void)
{
    int any = 0;
    for (int i = 0; i < CLEANUP_KIDS; i++) {
        pid_t p = atomic_load(&kids[i]);
        if (p > 0) {
            kill(p, SIGTERM);
            kill(-p, SIGTERM); /* its group, when it leads one (benches do) */
            any = 1;
        }
    }
    /* Let them remove their own files first; a child that ignores SIGTERM
     * is killed after 5 s. */
    for (int t = 0; any && t < 50; t++) {
        any = 0;
        for (int i = 0; i < CLEANUP_KIDS; i++) {
            pid_t p = atomic_load(&kids[i]);
            if (p > 0 && alive(p))
                any = 1;
        }
        if (any)
            sleep_ms(100);
    }
    for (int i = 0; any && i < CLEANUP_KIDS; i++) {
        pid_t p = atomic_load(&kids[i]);
        if (p > 0 && alive(p)) {
            kill(p, SIGKILL);
            kill(-p, SIGKILL);
        }
    }
}

static void remove_all(void)
{
    /* Taken out under the lock, removed outside it: removing a worktree
     * spawns git, which registers a child. */
    static entry todo[CLEANUP_PATHS];
    int n = 0;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < CLEANUP_PATHS; i++)
        if (ents[i].kind != E_FREE) {
            todo[n++] = ents[i];
            ents[i].kind = E_FREE;
        }
    pthread_mutex_unlock(&mu);
    /* Newest first: a directory registered inside another goes first. */
    for (int i = n - 1; i >= 0; i--) {
        if (todo[i].kind == E_WORKTREE) {
            char *rm[] = {"git", "-C", todo[i].repo, "worktree", "remove", "--force",
                          todo[i].path, NULL};
            perf_proc_run(rm, NULL, NULL, "/dev/null", "/dev/null", NULL);
            char *prune[] = {"git", "-C", todo[i].repo, "worktree", "prune", NULL};
            perf_proc_run(prune, NULL, NULL, "/dev/null", "/dev/null", NULL);
        }
        /* A second pass: a writer that was still running when the first
         * one listed the tree may have added a file since. */
        for (int pass = 0; pass < 3 && access(todo[i].path, F_OK) == 0; pass++)
            perf_rmtree(todo[i].path);
    }
}

void perf_cleanup_run(void)
{
    /* After a signal the watcher owns the exit: returning from main now
     * would end the process with the command's own code (2 for "the bench
     * failed") before the cleanup is done, instead of 130 or 143. */
    if (got_signal)
        for (;;)
            pause();
    remove_all();
}

static void *watch(void *arg)
{
    (void)arg;
    unsigned char b = 0;
    for (;;) {
        ssize_t r = read(pipe_fds[0], &b, 1);
        if (r == 1)
            break;
        if (r < 0 && errno == EINTR)
            continue;
        return NULL;
    }
    int sig = b;
    fprintf(stderr, "\nlightning: stopped by signal %d; removing temporary files\n", sig);
    stop_children();
    remove_all();
    /* Die of the signal itself, so the caller sees 128 + sig. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

int perf_cleanup_init(void)
{
    pthread_mutex_lock(&mu);
    int rc = 0;
    if (started)
        goto out;
    rc = -1;
    if (pipe2(pipe_fds, O_CLOEXEC))
        goto out;
    /* The watcher never takes a signal itself: they go to the threads
     * doing the work, whose handler only writes the byte. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_t t;
    int err = pthread_create(&t, NULL, watch, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err)
        goto out;
    pthread_detach(t);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    started = 1;
    rc = 0;
out:
    pthread_mutex_unlock(&mu);
    return rc;
}

static int add(int kind, const char *repo, const char *path)
{
    if (!path || !path[0] || strlen(path) >= PATH_MAX || (repo && strlen(repo) >= PATH_MAX))
        return -1;
    int rc = -1;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < CLEANUP_PATHS; i++)
        if (ents[i].kind == E_FREE) {
            ents[i].kind = kind;
            strcpy(ents[i].path, path);
            strcpy(ents[i].repo, repo ? repo : "");
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&mu);
    return rc;
}

int perf_cleanup_add_dir(const char *path)
{
    return add(E_DIR, NULL, path);
}

int perf_cleanup_add_worktree(const char *repo, const char *path)
{
    return add(E_WORKTREE, repo, path);
}

void perf_cleanup_forget(const char *path)
{
    if (!path)
        return;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < CLEANUP_PATHS; i++)
        if (ents[i].kind != E_FREE && !strcmp(ents[i].path, path))
            ents[i].kind = E_FREE;
    pthread_mutex_unlock(&mu);
}

void perf_cleanup_add_child(pid_t pid)
{
    for (int i = 0; i < CLEANUP_KIDS; i++) {
        pid_t z = 0;
        if (atomic_compare_exchange_strong(&kids[i], &z, pid))
            return;
    }
}

void perf_cleanup_forget_child(pid_t pid)
{
    for (int i = 0; i < CLEANUP_KIDS; i++) {
        pid_t p = pid;
        if (atomic_compare_exchange_strong(&kids[i], &p, 0))
            return;
    }
}

int perf_cleanup_signalled(void)
{
    return got_signal;
}
