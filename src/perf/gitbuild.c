/* perf/gitbuild.c — revisions to binaries via worktrees (gitbuild.h). */
#include "perf/gitbuild.h"
#include "perf/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perf/proc.h"

int perf_git_toplevel(const char *dir, char *out, size_t cap, perf_error *e)
{
    char *argv[] = {"git", "-C", (char *)(dir ? dir : "."), "rev-parse", "--show-toplevel", NULL};
    int rc = perf_proc_capture(argv, NULL, out, cap, "/dev/null", e);
    if (rc != 0 || !out[0])
        return perf_seterr(e, "%s is not inside a git work tree", dir ? dir : ".");
    return 0;
}

int perf_git_resolve(const char *repo, const char *rev, char sha[41], perf_error *e)
{
    char spec[600], out[128];
    if (!rev || !rev[0])
        return perf_seterr(e, "empty revision name");
    perf_fmt(spec, sizeof spec, "%s^{commit}", rev);
    char *argv[] = {"git", "-C", (char *)repo, "rev-parse", "--verify", "--quiet",
                    "--end-of-options", spec, NULL};
    int rc = perf_proc_capture(argv, NULL, out, sizeof out, "/dev/null", e);
    if (rc < 0)
        return -1;
    if (rc != 0 || strlen(out) != 40)
        return perf_seterr(e, "unknown revision '%s' in %s (not a commit git can find)", rev,
                           repo);
    memcpy(sha, out, 41);
    return 0;
}

void perf_git_subject(const char *repo, const char *sha, char *out, size_t cap)
{
    char *argv[] = {"git", "-C", (char *)repo, "log", "-1", "--format=%s", (char *)sha, "--",
                    NULL};
    if (perf_proc_capture(argv, NULL, out, cap, "/dev/null", NULL) != 0 && cap)
        out[0] = '\0';
}

static int copy_file(const char *from, const char *to, perf_error *e)
{
    char tmp[4200];
    perf_fmt(tmp, sizeof tmp, "%s.tmp", to);
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1;
    if (in < 0)
        return perf_seterr(e, "build produced no %s: %s", from, strerror(errno));
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (out < 0) {
        close(in);
        return perf_seterr(e, "cannot write %s: %s", tmp, strerror(errno));
    }
    char buf[65536];
    ssize_t r;
    while ((r = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)r) != r) {
            r = -1;
            break;
        }
    close(in);
    if (r < 0 || close(out)) {
        unlink(tmp);
        return perf_seterr(e, "copying %s failed", from);
    }
    /* rename makes the cached binary appear whole or not at all. */
    if (rename(tmp, to)) {
        unlink(tmp);
        return perf_seterr(e, "cannot rename %s: %s", tmp, strerror(errno));
    }
    return 0;
}

int perf_git_build(const char *repo, const char *sha, const perf_build_opts *o, char *bin,
                   size_t cap, perf_error *e)
{
    char cache[4096], dir[4200], wt[4300], log[4300], built[8600];
    perf_build_opts def = {0};
    if (!o)
        o = &def;
    if (o->cache_dir)
        perf_strlcpy(cache, o->cache_dir, sizeof cache);
    else
        perf_fmt(cache, sizeof cache, "%s/build/perf-revs", repo);
    perf_fmt(dir, sizeof dir, "%s/%s", cache, sha);
    perf_fmt(bin, cap, "%s/lightning", dir);
    if (access(bin, X_OK) == 0)
        return 0;
    if (perf_mkdirs(dir, e))
        return -1;
    perf_fmt(wt, sizeof wt, "%s/worktree", dir);
    perf_fmt(log, sizeof log, "%s/build.log", dir);
    if (!o->quiet)
        fprintf(stderr, "lightning perf: building %.12s in %s\n", sha, wt);
    /* A worktree left by an interrupted build is removed first. */
    char *rm[] = {"git", "-C", (char *)repo, "worktree", "remove", "--force", wt, NULL};
    if (access(wt, F_OK) == 0)
        perf_proc_run(rm, NULL, NULL, "/dev/null", "/dev/null", NULL);
    char *prune[] = {"git", "-C", (char *)repo, "worktree", "prune", NULL};
    perf_proc_run(prune, NULL, NULL, "/dev/null", "/dev/null", NULL);
    char *add[] = {"git", "-C", (char *)repo, "worktree", "add", "--detach", "--force", wt,
                   (char *)sha, NULL};
    /* Registered before it exists, so a Ctrl-C during the add or the build
     * unregisters it from git instead of leaving a worktree that `git
     * worktree prune` keeps (its directory is still there). */
    perf_cleanup_add_worktree(repo, wt);
    int rc = perf_proc_run(add, NULL, NULL, log, log, e);
    if (rc != 0) {
        perf_proc_run(rm, NULL, NULL, "/dev/null", "/dev/null", NULL);
        perf_cleanup_forget(wt);
        char tail[600];
        perf_file_tail(log, 4, tail, sizeof tail);
        return rc < 0 ? -1 : perf_seterr(e, "git worktree add for %.12s failed: %s", sha, tail);
    }
    char jobs[32];
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(jobs, sizeof jobs, "-j%ld", ncpu > 0 ? ncpu : 1);
    char *mk[] = {"make", jobs, "build/lightning", NULL};
    char *const *bargv = o->build_argv ? o->build_argv : mk;
    rc = perf_proc_run(bargv, wt, NULL, log, log, e);
    if (rc != 0) {
        char tail[900];
        perf_file_tail(log, 8, tail, sizeof tail);
        if (rc > 0)
            perf_seterr(e, "building %.12s failed (exit %d; log %s):\n%s", sha, rc, log, tail);
        perf_proc_run(rm, NULL, NULL, "/dev/null", "/dev/null", NULL);
        perf_cleanup_forget(wt);
        return -1;
    }
    perf_fmt(built, sizeof built, "%s/%s", wt, o->bin_rel ? o->bin_rel : "build/lightning");
    rc = copy_file(built, bin, e);
    perf_proc_run(rm, NULL, NULL, "/dev/null", "/dev/null", NULL);
    perf_cleanup_forget(wt);
    return rc;
}
