/* perf/comparison.c — comparison records and their tally (comparison.h). */
#include "perf/comparison.h"

#include <stdlib.h>
#include <string.h>

#include "perf/metrics.h"

int perf_comparison_add(perf_comparison *c, const perf_cmp_row *r)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        perf_cmp_row *nv = realloc(c->rows, nc * sizeof *nv);
        if (!nv)
            return -1;
        c->rows = nv;
        c->cap = nc;
    }
    c->rows[c->n] = *r;
    /* A reloaded reason lives in the row itself; re-point it at the copy. */
    if (r->v.reason == r->reason_buf)
        c->rows[c->n].v.reason = c->rows[c->n].reason_buf;
    c->n++;
    return 0;
}

void perf_comparison_free(perf_comparison *c)
{
    if (!c)
        return;
    free(c->rows);
    memset(c, 0, sizeof *c);
}

const char *perf_gate_on_name(int g)
{
    switch (g) {
    case PERF_GATE_COUNTS: return "counts";
    case PERF_GATE_WALLCLOCK: return "wallclock";
    default: return "either";
    }
}

int perf_gate_on_parse(const char *s)
{
    if (!s)
        return -1;
    if (!strcmp(s, "either"))
        return PERF_GATE_EITHER;
    if (!strcmp(s, "counts"))
        return PERF_GATE_COUNTS;
    if (!strcmp(s, "wallclock") || !strcmp(s, "wall-clock"))
        return PERF_GATE_WALLCLOCK;
    return -1;
}

int perf_row_is_count(const perf_cmp_row *r)
{
    perf_metric_kind k;
    int d;
    char u[16];
    perf_metric_infer(r->metric, u, sizeof u, &d, &k);
    return k == PERF_KIND_COUNT;
}

int perf_row_gates(const perf_comparison *c, const perf_cmp_row *r)
{
    if (c->gate_on == PERF_GATE_COUNTS)
        return perf_row_is_count(r);
    if (c->gate_on == PERF_GATE_WALLCLOCK)
        return !perf_row_is_count(r);
    return 1;
}

void perf_comparison_tally(perf_comparison *c)
{
    c->regressions = c->improvements = c->inconclusive = c->same = c->errors = 0;
    c->ungated = 0;
    c->reps_needed = 0;
    for (size_t i = 0; i < c->n; i++) {
        const perf_cmp_row *r = &c->rows[i];
        if (r->status == PERF_ROW_NO_BASE)
            continue;
        if (!perf_row_gates(c, r)) {
            c->ungated++;
            continue;
        }
        if (r->status != PERF_ROW_OK) {
            c->errors++;
            continue;
        }
        switch (r->v.verdict) {
        case PERF_VERDICT_REGRESSION: c->regressions++; break;
        case PERF_VERDICT_IMPROVEMENT: c->improvements++; break;
        case PERF_VERDICT_INCONCLUSIVE:
            c->inconclusive++;
            if (r->v.reps_needed > c->reps_needed)
                c->reps_needed = r->v.reps_needed;
            break;
        default: c->same++; break;
        }
    }
    if (c->regressions)
        c->exit_code = PERF_EXIT_REGRESSION;
    else if (c->errors)
        c->exit_code = PERF_EXIT_ERROR;
    else if (c->inconclusive)
        c->exit_code = PERF_EXIT_INCONCLUSIVE;
    else
        c->exit_code = PERF_EXIT_PASS;
}

const char *perf_row_word(const perf_cmp_row *r)
{
    switch (r->status) {
    case PERF_ROW_NO_BASE: return "new";
    case PERF_ROW_NO_HEAD: return "missing";
    case PERF_ROW_ERROR: return "error";
    case PERF_ROW_OK: break;
    }
    switch (r->v.verdict) {
    case PERF_VERDICT_REGRESSION: return "REGRESSION";
    case PERF_VERDICT_IMPROVEMENT: return "improvement";
    case PERF_VERDICT_INCONCLUSIVE: return "INCONCLUSIVE";
    case PERF_VERDICT_SAME: return "same";
    }
    return "?";
}
