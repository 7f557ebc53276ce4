/* perf/junit.c — the verdict as JUnit XML (junit.h). */
#include "perf/junit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perf/history.h"
#include "perf/markup.h"
#include "perf/report.h"
#include "perf/sample.h"

static void prop(FILE *f, const char *name, const char *value)
{
    fprintf(f, "      <property name=\"");
    perf_xml_escape(f, name);
    fprintf(f, "\" value=\"");
    perf_xml_escape(f, value ? value : "");
    fprintf(f, "\"/>\n");
}

/* "g 0.858 [0.831, 0.884] vs limit 0.900, p 0.0001, -14.2%" */
static void row_figures(const perf_cmp_row *r, char *out, size_t cap)
{
    char b[32], h[32], p[24];
    perf_fmt_value(r->v.median_base, r->unit, b, sizeof b);
    perf_fmt_value(r->v.median_head, r->unit, h, sizeof h);
    if (isnan(r->v.p_value))
        perf_fmt(p, sizeof p, "-");
    else
        perf_fmt(p, sizeof p, "%.2g", r->v.p_value);
    double ch = r->v.median_base > 0 ? (r->v.median_head / r->v.median_base - 1) * 100 : NAN;
    perf_fmt(out, cap, "%+.1f%% (%s -> %s), g %.3f [%.3f, %.3f] vs limit %.3f, p %s", ch, b, h,
             r->v.g, r->v.g_lo, r->v.g_hi, r->v.limit, p);
}

typedef struct tally {
    unsigned tests, failures, errors, skipped;
} tally;

static void count_rows(const perf_comparison *c, tally *t)
{
    for (size_t i = 0; i < c->n; i++) {
        const perf_cmp_row *r = &c->rows[i];
        t->tests++;
        if (!perf_row_gates(c, r))
            continue;
        if (r->status == PERF_ROW_NO_HEAD || r->status == PERF_ROW_ERROR)
            t->errors++;
        else if (r->status == PERF_ROW_OK && r->v.verdict == PERF_VERDICT_REGRESSION)
            t->failures++;
        else if (r->status == PERF_ROW_OK && r->v.verdict == PERF_VERDICT_INCONCLUSIVE)
            t->skipped++;
    }
}

static void testcase_row(FILE *f, const char *command, const perf_comparison *c,
                         const perf_cmp_row *r)
{
    char name[200], fig[256];
    perf_series_name(r->benchmark, r->engine, r->threads, name, sizeof name);
    fprintf(f, "    <testcase classname=\"lightning.perf.");
    perf_xml_escape(f, command);
    fputc('.', f);
    perf_xml_escape(f, r->rule);
    fprintf(f, "\" name=\"");
    perf_xml_escape(f, name);
    fputc(' ', f);
    perf_xml_escape(f, r->metric);
    if (r->overhead) {
        fprintf(f, " vs ");
        perf_xml_escape(f, r->versus);
    }
    fprintf(f, "\" time=\"0\">\n");
    int gates = perf_row_gates(c, r);
    if (r->status == PERF_ROW_OK)
        row_figures(r, fig, sizeof fig);
    else
        perf_fmt(fig, sizeof fig, "%s", r->note);
    if (gates && (r->status == PERF_ROW_NO_HEAD || r->status == PERF_ROW_ERROR)) {
        fprintf(f, "      <error type=\"%s\" message=\"", r->status == PERF_ROW_NO_HEAD
                                                                ? "missing" : "error");
        perf_xml_escape(f, perf_row_word(r));
        fprintf(f, ": ");
        perf_xml_escape(f, r->note);
        fprintf(f, "\"/>\n");
    } else if (gates && r->status == PERF_ROW_OK && r->v.verdict == PERF_VERDICT_REGRESSION) {
        fprintf(f, "      <failure type=\"regression\" message=\"REGRESSION: ");
        perf_xml_escape(f, fig);
        fprintf(f, "\">");
        perf_xml_escape(f, r->v.reason);
        if (r->note[0]) {
            fputc(' ', f);
            perf_xml_escape(f, r->note);
        }
        fprintf(f, "</failure>\n");
    } else if (gates && r->status == PERF_ROW_OK &&
               r->v.verdict == PERF_VERDICT_INCONCLUSIVE) {
        fprintf(f, "      <skipped message=\"INCONCLUSIVE: ");
        perf_xml_escape(f, fig);
        fprintf(f, "; about %u repetitions per side would decide\"/>\n", r->v.reps_needed);
    }
    fprintf(f, "      <system-out>");
    perf_xml_escape(f, perf_row_word(r));
    fprintf(f, ": ");
    perf_xml_escape(f, fig);
    if (!gates)
        fprintf(f, " (not gating: gate_on = %s)", perf_gate_on_name(c->gate_on));
    if (r->status == PERF_ROW_OK && r->note[0]) {
        fprintf(f, " [");
        perf_xml_escape(f, r->note);
        fputc(']', f);
    }
    fprintf(f, "</system-out>\n    </testcase>\n");
}

static void testcase_trend(FILE *f, const perf_trend *t)
{
    char name[200];
    perf_series_name(t->key.benchmark, t->key.engine, t->key.threads, name, sizeof name);
    fprintf(f, "    <testcase classname=\"lightning.perf.trend\" name=\"");
    perf_xml_escape(f, name);
    fputc(' ', f);
    perf_xml_escape(f, t->key.metric);
    fprintf(f, "\" time=\"0\">\n      <system-out>%zu runs", t->n);
    if (!t->cp_ok)
        fprintf(f, "; change points need at least 10 runs");
    else if (!t->ncp)
        fprintf(f, "; no change point");
    for (size_t j = 0; j < t->ncp; j++) {
        const perf_series_point *p = &t->pts[t->cp[j].index];
        fprintf(f, "; change point at run %lld (commit %.12s): %+.1f%% (%s), p = %.3f",
                (long long)p->run_id, p->commit[0] ? p->commit : "unknown",
                t->cp[j].rel_step * 100, perf_step_word(t->cp[j].rel_step, t->direction),
                t->cp[j].p_value);
    }
    if (t->drift_ok)
        fprintf(f, "; drift %+.3f%% per run, Mann-Kendall p = %.3f", t->drift.slope_rel * 100,
                t->drift.p_value);
    fprintf(f, "</system-out>\n    </testcase>\n");
}

int perf_junit_write(FILE *f, const perf_outcome *o)
{
    const char *cmd = o->command ? o->command : "perf";
    tally t = {0};
    int early = !o->cmp && strcmp(cmd, "trend");
    if (o->cmp)
        count_rows(o->cmp, &t);
    else if (!early)
        t.tests = (unsigned)o->ntrends;
    /* A command that stopped before comparing still gives the test tab one
     * entry: an error saying why, or a pass saying a baseline was set. */
    if (early) {
        t.tests = 1;
        if (o->exit_code != PERF_EXIT_PASS)
            t.errors = 1;
    }
    char now[32];
    perf_utc_now(now, sizeof now);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"lightning perf %s\" tests=\"%u\" failures=\"%u\" "
               "errors=\"%u\" skipped=\"%u\" time=\"0\">\n",
            cmd, t.tests, t.failures, t.errors, t.skipped);
    fprintf(f, "  <testsuite name=\"lightning perf %s", cmd);
    if (o->suite) {
        fprintf(f, " (suite ");
        perf_xml_escape(f, o->suite);
        fputc(')', f);
    }
    fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"0\" "
               "timestamp=\"%.19s\">\n",
            t.tests, t.failures, t.errors, t.skipped, now);
    fprintf(f, "    <properties>\n");
    char code[16];
    perf_fmt(code, sizeof code, "%d", o->exit_code);
    prop(f, "exit_code", code);
    prop(f, "outcome", perf_outcome_word(o->exit_code));
    if (o->machine_id)
        prop(f, "machine_id", o->machine_id);
    if (o->sync_mode)
        prop(f, "sync_mode", o->sync_mode);
    if (o->cmp) {
        prop(f, "base", o->cmp->base_label);
        prop(f, "head", o->cmp->head_label);
        prop(f, "gate_on", perf_gate_on_name(o->cmp->gate_on));
        if (o->cmp->forced)
            prop(f, "forced", o->cmp->mismatch);
    }
    if (o->first_bad)
        prop(f, "first_bad_commit", o->first_bad);
    if (o->message)
        prop(f, "message", o->message);
    fprintf(f, "    </properties>\n");
    if (early) {
        fprintf(f, "    <testcase classname=\"lightning.perf.%s\" name=\"%s\" time=\"0\">\n",
                cmd, cmd);
        if (o->exit_code != PERF_EXIT_PASS) {
            fprintf(f, "      <error type=\"error\" message=\"");
            perf_xml_escape(f, o->message ? o->message : "the command failed; see its stderr");
            fprintf(f, "\"/>\n");
        } else if (o->message) {
            fprintf(f, "      <system-out>");
            perf_xml_escape(f, o->message);
            fprintf(f, "</system-out>\n");
        }
        fprintf(f, "    </testcase>\n");
    }
    size_t n = 0;
    int oom = 0;
    size_t *ix = perf_outcome_order(o->cmp, &n, &oom);
    if (oom)
        return -1;
    for (size_t i = 0; i < n; i++)
        testcase_row(f, cmd, o->cmp, &o->cmp->rows[ix[i]]);
    free(ix);
    if (!o->cmp)
        for (size_t i = 0; i < o->ntrends; i++)
            testcase_trend(f, &o->trends[i]);
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    return ferror(f) ? -1 : 0;
}
