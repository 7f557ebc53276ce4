/* perf/outcome.c — the reading order of rows and the writing of the
 * machine-readable verdict files (outcome.h). */
#include "perf/outcome.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perf/comment.h"
#include "perf/junit.h"
#include "perf/verdict_json.h"

const char *perf_outcome_word(int exit_code)
{
    switch (exit_code) {
    case PERF_EXIT_PASS: return "pass";
    case PERF_EXIT_REGRESSION: return "regression";
    case PERF_EXIT_INCONCLUSIVE: return "inconclusive";
    default: return "error";
    }
}

/* Lower ranks are read first: what fails the gate, then what could not be
 * judged, then what could not be decided. */
static int row_rank(const perf_comparison *c, const perf_cmp_row *r)
{
    int gates = perf_row_gates(c, r);
    int rank;
    if (r->status == PERF_ROW_NO_HEAD || r->status == PERF_ROW_ERROR)
        rank = 1;
    else if (r->status == PERF_ROW_NO_BASE)
        rank = 5;
    else if (r->v.verdict == PERF_VERDICT_REGRESSION)
        rank = 0;
    else if (r->v.verdict == PERF_VERDICT_INCONCLUSIVE)
        rank = 2;
    else if (r->v.verdict == PERF_VERDICT_IMPROVEMENT)
        rank = 3;
    else
        rank = 4;
    /* A row outside the gate never outranks one that decides the exit. */
    return gates ? rank : rank + 10;
}

size_t *perf_outcome_order(const perf_comparison *c, size_t *n, int *oom)
{
    *n = 0;
    if (oom)
        *oom = 0;
    if (!c || !c->n)
        return NULL;
    size_t *ix = malloc(c->n * sizeof *ix);
    if (!ix) {
        if (oom)
            *oom = 1;
        return NULL;
    }
    size_t k = 0;
    /* Counting sort by rank keeps the comparison's own order within a
     * rank (the suite's section order), which people recognise. */
    for (int rank = 0; rank < 20; rank++)
        for (size_t i = 0; i < c->n; i++)
            if (row_rank(c, &c->rows[i]) == rank)
                ix[k++] = i;
    *n = k;
    return ix;
}

typedef int (*writer_fn)(FILE *f, const perf_outcome *o);

static int write_one(const char *path, writer_fn fn, const perf_outcome *o, const char *what,
                     perf_error *e)
{
    if (!strcmp(path, "-")) {
        if (fn(stdout, o) || fflush(stdout))
            return perf_seterr(e, "cannot write the %s to stdout", what);
        return 0;
    }
    char tmp[4200];
    perf_fmt(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return perf_seterr(e, "cannot write the %s to %s: %s", what, path, strerror(errno));
    int rc = fn(f, o);
    int err = errno;
    if (fclose(f) && !rc) {
        rc = -1;
        err = errno;
    }
    if (!rc && rename(tmp, path)) {
        rc = -1;
        err = errno;
    }
    if (rc) {
        unlink(tmp);
        return perf_seterr(e, "cannot write the %s to %s: %s", what, path,
                           err ? strerror(err) : "write failed");
    }
    return 0;
}

int perf_outcome_write(const perf_outcome *o, const char *json_path, const char *junit_path,
                       const char *comment_path, perf_error *e)
{
    int rc = 0;
    /* Each file is attempted even when another failed: a CI job that
     * cannot post a comment should still get its JUnit tab. */
    if (json_path && write_one(json_path, perf_verdict_json_write, o, "verdict JSON", e))
        rc = -1;
    if (junit_path && write_one(junit_path, perf_junit_write, o, "JUnit XML", rc ? NULL : e))
        rc = -1;
    if (comment_path && write_one(comment_path, perf_comment_write, o, "comment", rc ? NULL : e))
        rc = -1;
    return rc;
}
