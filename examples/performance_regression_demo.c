/*
 * examples/performance_regression_demo.c — a guided tour of `lightning
 * perf`, the performance regression framework:
 *
 *   1. record a run of a small suite            (lightning perf run)
 *   2. pin it as this machine's baseline         (lightning perf baseline set)
 *   3. record a run with an injected slowdown    (lightning perf run --inject-slowdown 5)
 *   4. check it against the baseline             (lightning perf check)
 *   5. judge the same change interleaved (ABBA)  (lightning perf ab)
 *   6. an A/A comparison of one build            (lightning perf ab, same binary twice)
 *   7. write the reports                         (lightning perf report)
 *   8. read the history from C                   (perf/history.h)
 *
 * Usage: build/examples/performance_regression_demo [--slowdown PCT] [--rounds N] [DIR]
 * DIR (default: a fresh directory under /tmp) receives the history, the
 * suite file and the reports; it is kept so you can open report.html.
 * The `lightning` binary is $LIGHTNING_BIN, else build/lightning next to
 * this program's directory.
 *
 * What to expect: check holds each benchmark to the suite's tolerance (the
 * seed's "reads >= 90% of baseline"), so a 5% slowdown passes it by design;
 * ab runs both builds interleaved moments apart and judges against the
 * noise floor, so it can see 5% when the machine is quiet enough, and says
 * INCONCLUSIVE (exit 3, with the repetitions that would decide) when it is
 * not. It never calls noise a regression.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perf/error.h"
#include "perf/history.h"
#include "perf/proc.h"

static char lightning[PATH_MAX];
static char dir[PATH_MAX];
static char history[PATH_MAX + 32];

/* Runs `lightning perf ARGS...` with the demo's history, output shown. */
static int perf(const char *const *args)
{
    char *argv[40];
    size_t n = 0;
    argv[n++] = lightning;
    argv[n++] = "perf";
    printf("\n$ lightning perf");
    for (size_t i = 0; args[i] && n < 38; i++) {
        argv[n++] = (char *)args[i];
        printf(" %s", args[i]);
    }
    argv[n] = NULL;
    printf("\n");
    fflush(stdout);
    char env[PATH_MAX + 64];
    snprintf(env, sizeof env, "LIGHTNING_PERF_HISTORY=%s", history);
    char *envs[] = {env, NULL};
    perf_error e;
    int rc = perf_proc_run(argv, NULL, envs, NULL, NULL, &e);
    if (rc < 0)
        fprintf(stderr, "demo: %s\n", e.msg);
    printf("(exit %d)\n", rc);
    return rc;
}

static const char *meaning(int rc)
{
    switch (rc) {
    case 0: return "pass";
    case 1: return "regression";
    case 3: return "inconclusive: too noisy to decide";
    default: return "error";
    }
}

static int find_lightning(const char *argv0)
{
    const char *env = getenv("LIGHTNING_BIN");
    if (env && env[0]) {
        perf_strlcpy(lightning, env, sizeof lightning);
        return access(lightning, X_OK);
    }
    char self[PATH_MAX];
    if (perf_self_exe(self, sizeof self))
        snprintf(self, sizeof self, "%s", argv0);
    char *slash = strrchr(self, '/'); /* build/examples/demo -> build/lightning */
    if (slash)
        *slash = '\0';
    perf_fmt(lightning, sizeof lightning, "%s/../lightning", self);
    return access(lightning, X_OK);
}

int main(int argc, char **argv)
{
    const char *slowdown = "5", *rounds = "20";
    const char *given_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--slowdown") && i + 1 < argc)
            slowdown = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = argv[++i];
        else if (argv[i][0] != '-' && !given_dir)
            given_dir = argv[i];
        else {
            fprintf(stderr, "usage: %s [--slowdown PCT] [--rounds N] [DIR]\n", argv[0]);
            return 2;
        }
    }
    if (find_lightning(argv[0])) {
        fprintf(stderr, "demo: no lightning binary at %s (build it with make, or set "
                        "LIGHTNING_BIN)\n", lightning);
        return 2;
    }
    if (given_dir) {
        snprintf(dir, sizeof dir, "%s", given_dir);
        perf_error e;
        if (perf_mkdirs(dir, &e)) {
            fprintf(stderr, "demo: %s\n", e.msg);
            return 2;
        }
    } else {
        snprintf(dir, sizeof dir, "/tmp/lightning-perf-demo-XXXXXX");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "demo: mkdtemp: %s\n", strerror(errno));
            return 2;
        }
    }
    snprintf(history, sizeof history, "%s/history.db", dir);
    unlink(history); /* a fresh tour every time */

    /* A suite file: what runs, and the tolerances check applies. */
    char suite[PATH_MAX + 32];
    snprintf(suite, sizeof suite, "%s/demo.ini", dir);
    static const char *suite_text =
        "; the demo's suite: random reads and the 80/20 mix on 20k keys\n"
        "[suite]\n"
        "name = demo\n"
        "engines = lightning\n"
        "sync = none\n"
        "keys = 20000\n"
        "duration = 0.1       ; seconds per repetition\n"
        "reps = 10            ; repetitions per benchmark in `run`\n"
        "processes = 2        ; spread over two bench processes\n"
        "args = --warmup 0.03\n"
        "\n"
        "[read]\n"
        "workload = read-random\n"
        "min_ratio = 0.90     ; the seed: reads >= 90% of the baseline\n"
        "\n"
        "[mixed]\n"
        "workload = mixed\n"
        "min_ratio = 0.85     ; mixed >= 85%\n";
    FILE *f = fopen(suite, "w");
    if (!f) {
        fprintf(stderr, "demo: cannot write %s: %s\n", suite, strerror(errno));
        return 2;
    }
    fputs(suite_text, f);
    fclose(f);
    printf("Lightning perf demo in %s, using %s\n", dir, lightning);
    printf("The suite (%s):\n%s", suite, suite_text);

    printf("\n== 1. Record a run\n");
    if (perf((const char *[]){"run", "--suite", suite, "--label", "before", NULL}))
        return 2;
    printf("\n== 2. Pin it as the baseline of this machine + sync mode + suite\n");
    if (perf((const char *[]){"baseline", "set", NULL}))
        return 2;
    printf("\n== 3. Record a run with an injected %s%% slowdown (busy work in every "
           "operation of the lightning engine)\n", slowdown);
    if (perf((const char *[]){"run", "--suite", suite, "--inject-slowdown", slowdown, "--label",
                              "after", NULL}))
        return 2;
    printf("\n== 4. check: the new run against the baseline, with the suite's tolerances\n");
    int check_rc = perf((const char *[]){"check", NULL});
    printf("check says: %s. A %s%% slowdown is inside the 90%% gate, so check lets it "
           "through on purpose; its job is to stop large regressions between runs made "
           "minutes or days apart.\n", meaning(check_rc), slowdown);

    printf("\n== 5. ab: the same change judged interleaved (A B B A ...), one process per "
           "sample, against the noise floor\n");
    char maxr[32];
    snprintf(maxr, sizeof maxr, "%d", 4 * atoi(rounds));
    int ab_rc = perf((const char *[]){"ab", "--suite", suite, "--benchmark", "read",
                                      "--base-bin", lightning, "--head-bin", lightning,
                                      "--inject-slowdown", slowdown, "--rounds", rounds,
                                      "--max-rounds", maxr, NULL});
    printf("ab says: %s.\n", meaning(ab_rc));

    printf("\n== 6. The control: A/A, the same build on both sides\n");
    int aa_rc = perf((const char *[]){"ab", "--suite", suite, "--benchmark", "read",
                                      "--base-bin", lightning, "--head-bin", lightning,
                                      "--rounds", rounds, "--max-rounds", maxr, NULL});
    printf("A/A says: %s (a false alarm here would be exit 1).\n", meaning(aa_rc));

    printf("\n== 7. Reports: Markdown for a CI page, one self-contained HTML file\n");
    char html[PATH_MAX + 32], md[PATH_MAX + 32];
    snprintf(html, sizeof html, "%s/report.html", dir);
    snprintf(md, sizeof md, "%s/report.md", dir);
    perf((const char *[]){"report", "--html", html, "--md", md, NULL});

    printf("\n== 8. The history is an SQLite file; read it from C (perf/history.h)\n");
    perf_history *h;
    perf_error e;
    if (perf_history_open(history, 0, &h, &e)) {
        fprintf(stderr, "demo: %s\n", e.msg);
        return 2;
    }
    perf_run_info *runs;
    size_t n;
    if (perf_history_list_runs(h, NULL, &runs, &n, &e) == 0) {
        for (size_t i = 0; i < n; i++)
            printf("  run %lld  %-8s %-8s commit %.12s  %zu samples%s\n", (long long)runs[i].id,
                   runs[i].kind, runs[i].label, runs[i].commit, runs[i].n_samples,
                   runs[i].inject_slowdown > 0 ? "  (injected slowdown)" : "");
        perf_run_infos_free(runs, n);
    }
    perf_comparison c;
    if (perf_history_load_comparison(h, 0, "ab", &c, &e) == 1) {
        for (size_t i = 0; i < c.n; i++)
            printf("  last ab: %s %s: g = %.3f [%.3f, %.3f], limit %.3f -> %s\n",
                   c.rows[i].benchmark, c.rows[i].metric, c.rows[i].v.g, c.rows[i].v.g_lo,
                   c.rows[i].v.g_hi, c.rows[i].v.limit, perf_row_word(&c.rows[i]));
        perf_comparison_free(&c);
    }
    perf_history_close(h);

    printf("\nSummary: injected %s%% slowdown -> check %d (%s), ab %d (%s); A/A ab %d (%s).\n",
           slowdown, check_rc, meaning(check_rc), ab_rc, meaning(ab_rc), aa_rc, meaning(aa_rc));
    printf("Open %s in a browser; the history is %s.\n", html, history);
    /* The tour succeeded if nothing failed to run and the A/A raised no alarm. */
    return (check_rc == 2 || ab_rc == 2 || aa_rc == 1 || aa_rc == 2) ? 1 : 0;
}
