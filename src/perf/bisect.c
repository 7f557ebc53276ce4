/* perf/bisect.c — driving `git bisect run` (see bisect.h). */
#include "perf/bisect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf/proc.h"

int perf_bisect_step_code(const perf_comparison *c)
{
    if (c->regressions)
        return PERF_BISECT_BAD;
    if (c->errors || c->inconclusive)
        return PERF_BISECT_SKIP;
    return PERF_BISECT_GOOD;
}

size_t perf_bisect_read_steps(const char *path, perf_bisect_step **out)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    perf_bisect_step *v = NULL;
    size_t n = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        perf_bisect_step s;
        memset(&s, 0, sizeof s);
        char verdict[200];
        if (sscanf(line, "%40s %lf %lf %lf %u %199[^\n]", s.sha, &s.g, &s.g_lo, &s.g_hi,
                   &s.rounds, verdict) != 6)
            continue;
        perf_strlcpy(s.verdict, verdict, sizeof s.verdict);
        perf_bisect_step *nv = realloc(v, (n + 1) * sizeof *nv);
        if (!nv)
            break;
        v = nv;
        v[n++] = s;
    }
    fclose(f);
    *out = v;
    return n;
}

void perf_bisect_append_step(const char *path, const perf_bisect_step *s)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    fprintf(f, "%s %.6f %.6f %.6f %u %s\n", s->sha, s->g, s->g_lo, s->g_hi, s->rounds,
            s->verdict);
    fclose(f);
}

int perf_bisect_drive(const perf_bisect_opts *o, char first_bad[41], char *out, size_t cap,
                      perf_error *e)
{
    char wt[4200], log[4300], drv[4300];
    int rc = -1, found = 0;
    perf_fmt(wt, sizeof wt, "%s/bisect-worktree", o->scratch);
    perf_fmt(log, sizeof log, "%s/bisect.log", o->scratch);
    perf_fmt(drv, sizeof drv, "%s/lightning-driver", o->scratch);
    if (out && cap)
        out[0] = '\0';
    /* git runs the step from a private copy: a rebuild of build/lightning
     * during a long bisection must not swap the driver under it. */
    char *cp[] = {"cp", (char *)o->driver, drv, NULL};
    if (perf_proc_run(cp, NULL, NULL, NULL, NULL, e) != 0)
        return perf_seterr(e, "cannot copy %s to %s", o->driver, drv);
    char *add[] = {"git", "-C", (char *)o->repo, "worktree", "add", "--detach", "--force", wt,
                   (char *)o->bad_sha, NULL};
    if (perf_proc_run(add, NULL, NULL, log, log, e) != 0) {
        char tail[400];
        perf_file_tail(log, 3, tail, sizeof tail);
        return perf_seterr(e, "git worktree add failed: %s", tail);
    }
    char *start[] = {"git", "bisect", "start", "--no-checkout", (char *)o->bad_sha,
                     (char *)o->good_sha, NULL};
    if (perf_proc_run(start, wt, NULL, log, log, e) != 0) {
        char tail[400];
        perf_file_tail(log, 3, tail, sizeof tail);
        perf_seterr(e, "git bisect start failed: %s", tail);
        goto out;
    }
    {
        char *argv[64];
        size_t a = 0;
        argv[a++] = "git";
        argv[a++] = "bisect";
        argv[a++] = "run";
        argv[a++] = drv;
        argv[a++] = "perf";
        for (size_t i = 0; o->step_args[i] && a < 62; i++)
            argv[a++] = o->step_args[i];
        argv[a] = NULL;
        char runlog[4300];
        perf_fmt(runlog, sizeof runlog, "%s/bisect-run.log", o->scratch);
        int r = perf_proc_run(argv, wt, NULL, runlog, runlog, e);
        if (r < 0)
            goto out;
        if (out)
            perf_file_tail(runlog, 4, out, cap);
        /* After a successful run refs/bisect/bad is the first bad commit;
         * git says "is the first bad commit" only when it is sure. */
        char sha[64];
        char *bad[] = {"git", "rev-parse", "--verify", "--quiet", "refs/bisect/bad", NULL};
        FILE *f = fopen(runlog, "r");
        int sure = 0;
        if (f) {
            char line[512];
            while (fgets(line, sizeof line, f))
                if (strstr(line, "is the first bad commit"))
                    sure = 1;
            fclose(f);
        }
        if (sure && perf_proc_capture(bad, wt, sha, sizeof sha, "/dev/null", e) == 0 &&
            strlen(sha) == 40) {
            memcpy(first_bad, sha, 41);
            found = 1;
        }
        rc = found;
    }
out:;
    char *reset[] = {"git", "bisect", "reset", NULL};
    perf_proc_run(reset, wt, NULL, "/dev/null", "/dev/null", NULL);
    char *rm[] = {"git", "-C", (char *)o->repo, "worktree", "remove", "--force", wt, NULL};
    perf_proc_run(rm, NULL, NULL, "/dev/null", "/dev/null", NULL);
    return rc;
}
