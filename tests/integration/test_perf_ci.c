/*
 * tests/integration/test_perf_ci.c — the CI templates of examples/ci, run
 * on this machine (a GitHub Actions or GitLab run cannot happen here).
 * tests/ci/run_ci_locally.py executes each template's own steps with bash
 * in a fresh workspace copied from this tree, emulating checkout, cache,
 * artifacts and the forge's comment API locally (its header says how).
 * For each of the GitHub workflow and the GitLab job, three pipelines on
 * one persistent state (cache + forge), with tests/ci/suite.ini:
 *   1. main branch: establishes the baseline: job passes, verdict.json is
 *      a check with no comparison and says so, this build becomes the
 *      cached baseline binary, no comment is posted (not a PR);
 *   2. a pull/merge request whose build is 4x slower (--inject-slowdown
 *      300 for run and ab): the gate exits 1 and the job fails; ab ran
 *      against the cached binary; verdict.json (of the command that
 *      decided) has REGRESSION rows with p < 0.01 and g_hi < limit;
 *      check.json compares against run 1 (the baseline of pipeline 1);
 *      junit.xml has one <failure> per gating regression; one comment is
 *      posted on the PR and it is comment.md;
 *   3. the same request, fixed (no slowdown): the comment is updated in
 *      place (still one), and the gate's exit is the verdict's.
 * Every verdict.json/check.json/ab.json validates against
 * docs/schemas/lightning-perf-verdict-1.json, every JUnit file against
 * docs/schemas/junit.xsd, and every comment starts with the marker and
 * names the same verdict as the JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"

#ifndef PERF_SOURCE_DIR
#error "PERF_SOURCE_DIR must name the source tree (the Makefile sets it)"
#endif

static char state[128];


static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* One pipeline; returns the runner's exit code (0 job passed, 1 failed). */
static int pipeline(const char *kind, const char *event, const char *ref, const char *inject)
{
    char cmd[2048], log[256];
    snprintf(log, sizeof log, "%s/runner-%s.log", state, kind);
    const char *tmpl = !strcmp(kind, "github") ? "examples/ci/github/perf.yml"
                                               : "examples/ci/gitlab/perf.gitlab-ci.yml";
    char extra[256] = "";
    if (inject)
        snprintf(extra, sizeof extra,
                 " --env 'PERF_RUN_ARGS=--inject-slowdown %s'"
                 " --env 'PERF_AB_ARGS=--inject-slowdown %s'", inject, inject);
    snprintf(cmd, sizeof cmd,
             "cd %s && /usr/bin/python3 tests/ci/run_ci_locally.py %s %s --source %s "
             "--state %s/%s --event %s --ref %s --env PERF_SUITE=tests/ci/suite.ini%s "
             ">%s 2>&1",
             PERF_SOURCE_DIR, kind, tmpl, PERF_SOURCE_DIR, state, kind, event, ref, extra, log);
    int rc = sh(cmd);
    char *out = tu_read_text(log);
    /* the runner's own account, visible when an assertion below fails */
    fprintf(stderr, "---- %s %s%s%s: exit %d\n%s", kind, event, inject ? " slowdown " : "",
            inject ? inject : "", rc, out ? out : "");
    free(out);
    return rc;
}

static void artifact(char *out, size_t cap, const char *kind, int run, const char *file)
{
    /* GitHub uploads perf-out/ as the artifact "perf-report"; GitLab keeps
     * the path perf-out/. */
    snprintf(out, cap, "%s/%s/artifacts/%d/%s/%s", state, kind, run,
             !strcmp(kind, "github") ? "perf-report" : "perf-out", file);
}

static void validate_json(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/scripts/check_json_schema.py "
             "%s/docs/schemas/lightning-perf-verdict-1.json '%s'",
             PERF_SOURCE_DIR, PERF_SOURCE_DIR, path);
    if (sh(cmd))
        fail_msg("%s does not validate against lightning-perf-verdict/1", path);
}

static void validate_junit(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "xmllint --noout --schema %s/docs/schemas/junit.xsd '%s' 2>&1",
             PERF_SOURCE_DIR, path);
    if (sh(cmd))
        fail_msg("%s does not validate against docs/schemas/junit.xsd", path);
}

static json_t *load(const char *path)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j)
        fail_msg("%s: %s", path, err.text);
    return j;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static const char *badge(int code)
{
    return code == 0 ? "**PASS**" : code == 1 ? "**REGRESSION**" : code == 3 ? "**INCONCLUSIVE**"
                                                                             : "**ERROR**";
}

/* The three files agree with each other and their schemas; returns the
 * verdict's exit code. */
static int check_outputs(const char *kind, int run, const char *want_command)
{
    char cmdbuf[16];
    char pj[512], px[512], pm[512];
    artifact(pj, sizeof pj, kind, run, "verdict.json");
    artifact(px, sizeof px, kind, run, "junit.xml");
    artifact(pm, sizeof pm, kind, run, "comment.md");
    validate_json(pj);
    validate_junit(px);
    json_t *v = load(pj);
    assert_string_equal(jstr(v, "schema"), "lightning-perf-verdict/1");
    if (want_command)
        assert_string_equal(jstr(v, "command"), want_command);
    snprintf(cmdbuf, sizeof cmdbuf, "%s", jstr(v, "command"));
    want_command = cmdbuf;
    int code = (int)json_integer_value(json_object_get(v, "exit_code"));
    char *m = tu_read_text(pm);
    assert_non_null(m);
    assert_memory_equal(m, "<!-- lightning-perf-comment -->\n", 32);
    char head[128];
    snprintf(head, sizeof head, "### Lightning perf %s: %s (exit %d)", want_command, badge(code),
             code);
    if (!strstr(m, head))
        fail_msg("%s lacks '%s':\n%s", pm, head, m);
    char *x = tu_read_text(px);
    assert_non_null(x);
    json_t *cmp = json_object_get(v, "comparison");
    if (json_is_object(cmp)) {
        /* one <failure> per gating regression row */
        size_t i, regs = 0;
        json_t *r;
        json_array_foreach(json_object_get(cmp, "rows"), i, r)
        {
            if (!strcmp(jstr(r, "verdict"), "regression") &&
                json_is_true(json_object_get(r, "gating"))) {
                regs++;
                /* the rule: significant and the whole interval beyond the limit */
                assert_true(json_real_value(json_object_get(r, "g_hi")) <
                            json_real_value(json_object_get(r, "limit")));
                assert_true(json_real_value(json_object_get(r, "p_value")) < 0.01);
            }
        }
        char want[64];
        snprintf(want, sizeof want, "failures=\"%zu\"", regs);
        assert_non_null(strstr(x, want));
        assert_int_equal(regs > 0, code == 1);
        if (regs)
            assert_true(strstr(m, "- **REGRESSION** ") < strstr(m, "<details>"));
    }
    free(x);
    free(m);
    json_decref(v);
    return code;
}

/* The gate's exit code as the pipeline saw it: the GitHub step output
 * `exit_code` of "Performance gate", the GitLab job's exit. */
static int gate_exit(const char *kind)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s/last-run.json", state, kind);
    json_t *r = load(p);
    json_t *steps = json_object_get(r, "steps");
    int code = -1;
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st)
    {
        if (!strcmp(kind, "github")) {
            json_t *o = json_object_get(json_object_get(st, "outputs"), "exit_code");
            if (o)
                code = atoi(json_string_value(o));
        } else if (!strcmp(jstr(st, "name"), "script")) {
            code = (int)json_integer_value(json_object_get(st, "exit_code"));
        }
    }
    json_decref(r);
    if (code < 0)
        fail_msg("%s: no gate exit code recorded", p);
    return code;
}

/* ab ran (a cached baseline binary existed) and its files validate. */
static void check_ab_ran(const char *kind, int run)
{
    char p[512];
    artifact(p, sizeof p, kind, run, "ab.json");
    validate_json(p);
    json_t *v = load(p);
    assert_string_equal(jstr(v, "command"), "ab");
    assert_true(json_is_object(json_object_get(v, "comparison")));
    json_decref(v);
    artifact(p, sizeof p, kind, run, "ab.xml");
    validate_junit(p);
}

static json_t *forge_comments(const char *kind)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s/forge.json", state, kind);
    json_t *f = load(p);
    json_t *threads = json_object_get(f, "threads");
    const char *key = !strcmp(kind, "github") ? "gh:local/lightningdb:1" : "gl:1:1";
    json_t *c = json_incref(json_object_get(threads, key));
    json_decref(f);
    return c;
}

static void three_pipelines(const char *kind)
{
    const char *pr_event = !strcmp(kind, "github") ? "pull_request" : "merge_request_event";
    const char *pr_ref = !strcmp(kind, "github") ? "refs/pull/1/merge" : "refs/merge-requests/1/head";

    /* 1: main establishes */
    assert_int_equal(pipeline(kind, "push", "refs/heads/main", NULL), 0);
    assert_int_equal(gate_exit(kind), 0);
    assert_int_equal(check_outputs(kind, 1, "check"), 0);
    char p[512];
    artifact(p, sizeof p, kind, 1, "verdict.json");
    json_t *v = load(p);
    assert_true(json_is_null(json_object_get(v, "comparison")));
    assert_non_null(strstr(jstr(v, "message"), "is now the baseline"));
    json_decref(v);
    snprintf(p, sizeof p, "%s/%s/forge.json", state, kind);
    assert_int_equal(access(p, F_OK), -1); /* nothing posted outside a PR */

    /* 2: a 4x slower pull request */
    /* A 4x slowdown is caught: by ab (interleaved) or check, and the files
     * lead with the one that decided. */
    assert_int_equal(pipeline(kind, pr_event, pr_ref, "300"), 1);
    assert_int_equal(gate_exit(kind), 1);
    assert_int_equal(check_outputs(kind, 2, NULL), 1);
    check_ab_ran(kind, 2);
    artifact(p, sizeof p, kind, 2, "check.json");
    validate_json(p);
    v = load(p);
    json_t *cmp = json_object_get(v, "comparison");
    assert_true(json_is_object(cmp));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cmp, "base"), "run_id")),
                     1);
    json_decref(v);
    artifact(p, sizeof p, kind, 2, "report.html");
    assert_int_equal(access(p, R_OK), 0);
    json_t *c = forge_comments(kind);
    assert_int_equal(json_array_size(c), 1);
    artifact(p, sizeof p, kind, 2, "comment.md");
    char *m = tu_read_text(p);
    assert_string_equal(jstr(json_array_get(c, 0), "body"), m);
    free(m);
    json_decref(c);

    /* 3: fixed; the one comment is updated, not repeated */
    int rc = pipeline(kind, pr_event, pr_ref, NULL);
    int code = check_outputs(kind, 3, NULL);
    assert_int_equal(gate_exit(kind), code);
    assert_int_equal(rc, code == 0 ? 0 : 1);
    check_ab_ran(kind, 3);
    c = forge_comments(kind);
    assert_int_equal(json_array_size(c), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(c, 0), "updated")), 1);
    artifact(p, sizeof p, kind, 3, "comment.md");
    m = tu_read_text(p);
    assert_string_equal(jstr(json_array_get(c, 0), "body"), m);
    free(m);
    json_decref(c);
}

static void test_github_actions(void **state_)
{
    (void)state_;
    three_pipelines("github");
    /* the workflow's own logic: on the PR the cache is not saved, and the
     * Gate step is what failed */
    char p[256];
    snprintf(p, sizeof p, "%s/github/cache", state);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls '%s' | wc -l) -eq 1", p);
    assert_int_equal(sh(cmd), 0);
}

static void test_gitlab_ci(void **state_)
{
    (void)state_;
    three_pipelines("gitlab");
    char p[512];
    snprintf(p, sizeof p, "%s/gitlab/artifacts/2/reports/junit/junit.xml", state);
    validate_junit(p);
}

static int setup(void **s)
{
    (void)s;
    return tu_mkdtemp(state, sizeof state, "test_perf_ci");
}

static int teardown(void **s)
{
    (void)s;
    tu_rmdir(state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_github_actions),
        cmocka_unit_test(test_gitlab_ci),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
