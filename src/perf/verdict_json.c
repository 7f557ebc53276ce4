/* perf/verdict_json.c — "lightning-perf-verdict/1" (verdict_json.h). */
#include "perf/verdict_json.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perf/history.h"
#include "perf/metrics.h"
#include "perf/stats.h"

/* jansson refuses NaN and infinities; a figure that does not exist is
 * null in the document, never a stand-in number. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

/* json_object_set_new that remembers a failure instead of leaking. */
static void put(json_t *o, const char *k, json_t *v, int *bad)
{
    if (!v || json_object_set_new(o, k, v))
        *bad = 1;
}

static const char *row_mode(const perf_cmp_row *r)
{
    if (perf_row_is_count(r))
        return "counts";
    return r->overhead ? "overhead" : "wallclock";
}

static const char *row_status(const perf_cmp_row *r)
{
    switch (r->status) {
    case PERF_ROW_OK: return "ok";
    case PERF_ROW_NO_BASE: return "new";
    case PERF_ROW_NO_HEAD: return "missing";
    default: return "error";
    }
}

/* The verdict word in lower case: one vocabulary for programs. */
static const char *row_verdict(const perf_cmp_row *r)
{
    switch (r->status) {
    case PERF_ROW_NO_BASE: return "new";
    case PERF_ROW_NO_HEAD: return "missing";
    case PERF_ROW_ERROR: return "error";
    default: break;
    }
    switch (r->v.verdict) {
    case PERF_VERDICT_REGRESSION: return "regression";
    case PERF_VERDICT_IMPROVEMENT: return "improvement";
    case PERF_VERDICT_INCONCLUSIVE: return "inconclusive";
    default: return "same";
    }
}

static json_t *row_json(const perf_comparison *c, const perf_cmp_row *r)
{
    json_t *o = json_object();
    int bad = !o;
    if (bad)
        return NULL;
    int ok = r->status == PERF_ROW_OK;
    int count = perf_row_is_count(r);
    char name[160];
    perf_series_name(r->benchmark, r->engine, r->threads, name, sizeof name);
    put(o, "series", json_string(name), &bad);
    put(o, "rule", json_string(r->rule), &bad);
    put(o, "benchmark", json_string(r->benchmark), &bad);
    put(o, "engine", json_string(r->engine), &bad);
    put(o, "threads", json_integer(r->threads), &bad);
    put(o, "metric", json_string(r->metric), &bad);
    put(o, "unit", json_string(r->unit), &bad);
    put(o, "direction", json_string(perf_direction_name(r->direction)), &bad);
    put(o, "mode", json_string(row_mode(r)), &bad);
    put(o, "versus", str_or_null(r->overhead ? r->versus : NULL), &bad);
    put(o, "status", json_string(row_status(r)), &bad);
    put(o, "verdict", json_string(row_verdict(r)), &bad);
    put(o, "gating", json_boolean(perf_row_gates(c, r)), &bad);
    put(o, "n_base", ok ? json_integer((json_int_t)r->v.n_base) : json_null(), &bad);
    put(o, "n_head", ok ? json_integer((json_int_t)r->v.n_head) : json_null(), &bad);
    put(o, "median_base", ok ? num(r->v.median_base) : json_null(), &bad);
    put(o, "median_head", ok ? num(r->v.median_head) : json_null(), &bad);
    double change = ok && r->v.median_base > 0 ? r->v.median_head / r->v.median_base - 1 : NAN;
    put(o, "change", num(change), &bad);
    put(o, "g", ok ? num(r->v.g) : json_null(), &bad);
    put(o, "g_lo", ok ? num(r->v.g_lo) : json_null(), &bad);
    put(o, "g_hi", ok ? num(r->v.g_hi) : json_null(), &bad);
    /* Count rows are a plain ratio: their "interval" is the point. */
    put(o, "confidence", ok && !count ? json_real(PERF_DEFAULT_CONFIDENCE) : json_null(), &bad);
    put(o, "p_value", ok && !count ? num(r->v.p_value) : json_null(), &bad);
    put(o, "p_exact", ok && !count ? json_boolean(r->v.p_exact) : json_null(), &bad);
    put(o, "limit", ok ? num(r->v.limit) : json_null(), &bad);
    put(o, "tolerance", num(r->tolerance), &bad);
    put(o, "noise_floor", ok ? num(r->noise_floor) : json_null(), &bad);
    put(o, "floor_calibrated", json_boolean(r->floor_calibrated), &bad);
    put(o, "reps_needed",
        ok && r->v.verdict == PERF_VERDICT_INCONCLUSIVE ? json_integer(r->v.reps_needed)
                                                        : json_null(),
        &bad);
    /* mde90: 0 = not estimated (null), < 0 = not reachable below 50%. */
    put(o, "mde90", r->mde90 > 0 ? json_real(r->mde90) : json_null(), &bad);
    put(o, "mde90_beyond_50pct", json_boolean(r->mde90 < 0), &bad);
    put(o, "cv_base", ok && !count ? num(r->cv_base) : json_null(), &bad);
    put(o, "cv_head", ok && !count ? num(r->cv_head) : json_null(), &bad);
    put(o, "reason", str_or_null(ok ? r->v.reason : NULL), &bad);
    put(o, "note", str_or_null(r->note), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *comparison_json(const perf_comparison *c)
{
    json_t *o = json_object(), *rows = json_array();
    int bad = !o || !rows;
    if (bad) {
        json_decref(o);
        json_decref(rows);
        return NULL;
    }
    put(o, "id", c->id ? json_integer(c->id) : json_null(), &bad);
    put(o, "kind", json_string(c->kind), &bad);
    put(o, "created_at", str_or_null(c->created_at), &bad);
    put(o, "suite", str_or_null(c->suite), &bad);
    json_t *b = json_object(), *h = json_object();
    if (b && h) {
        put(b, "run_id", c->base_run ? json_integer(c->base_run) : json_null(), &bad);
        put(b, "label", json_string(c->base_label), &bad);
        put(h, "run_id", c->head_run ? json_integer(c->head_run) : json_null(), &bad);
        put(h, "label", json_string(c->head_label), &bad);
    }
    put(o, "base", b, &bad);
    put(o, "head", h, &bad);
    put(o, "forced", json_boolean(c->forced), &bad);
    put(o, "mismatch", str_or_null(c->mismatch), &bad);
    put(o, "gate_on", json_string(perf_gate_on_name(c->gate_on)), &bad);
    put(o, "exit_code", json_integer(c->exit_code), &bad);
    json_t *t = json_object();
    if (t) {
        put(t, "regressions", json_integer(c->regressions), &bad);
        put(t, "improvements", json_integer(c->improvements), &bad);
        put(t, "inconclusive", json_integer(c->inconclusive), &bad);
        put(t, "same", json_integer(c->same), &bad);
        put(t, "errors", json_integer(c->errors), &bad);
        put(t, "ungated", json_integer(c->ungated), &bad);
        put(t, "rows", json_integer((json_int_t)c->n), &bad);
    }
    put(o, "tally", t, &bad);
    put(o, "reps_needed", c->inconclusive ? json_integer(c->reps_needed) : json_null(), &bad);
    for (size_t i = 0; i < c->n && !bad; i++)
        if (json_array_append_new(rows, row_json(c, &c->rows[i])))
            bad = 1;
    put(o, "rows", rows, &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *trend_json(const perf_trend *t)
{
    json_t *o = json_object(), *cps = json_array();
    int bad = !o || !cps;
    if (bad) {
        json_decref(o);
        json_decref(cps);
        return NULL;
    }
    char name[160];
    perf_series_name(t->key.benchmark, t->key.engine, t->key.threads, name, sizeof name);
    put(o, "series", json_string(name), &bad);
    put(o, "benchmark", json_string(t->key.benchmark), &bad);
    put(o, "engine", json_string(t->key.engine), &bad);
    put(o, "threads", json_integer(t->key.threads), &bad);
    put(o, "metric", json_string(t->key.metric), &bad);
    put(o, "unit", json_string(t->unit), &bad);
    put(o, "direction", json_string(perf_direction_name(t->direction)), &bad);
    put(o, "runs", json_integer((json_int_t)t->n), &bad);
    put(o, "latest", t->n ? num(t->pts[t->n - 1].median) : json_null(), &bad);
    put(o, "latest_run", t->n ? json_integer(t->pts[t->n - 1].run_id) : json_null(), &bad);
    put(o, "change_points_computed", json_boolean(t->cp_ok), &bad);
    for (size_t j = 0; j < t->ncp && !bad; j++) {
        const perf_change_point *c = &t->cp[j];
        const perf_series_point *p = &t->pts[c->index];
        json_t *cp = json_object();
        if (!cp) {
            bad = 1;
            break;
        }
        put(cp, "run_id", json_integer(p->run_id), &bad);
        put(cp, "commit", str_or_null(p->commit), &bad);
        put(cp, "created_at", str_or_null(p->created_at), &bad);
        put(cp, "median_before", num(c->median_before), &bad);
        put(cp, "median_after", num(c->median_after), &bad);
        put(cp, "change", num(c->rel_step), &bad);
        /* g as in comparisons: < 1 is worse whatever the direction. */
        double g = c->median_before > 0 && c->median_after > 0
                       ? (t->direction >= 0 ? c->median_after / c->median_before
                                            : c->median_before / c->median_after)
                       : NAN;
        put(cp, "g", num(g), &bad);
        put(cp, "p_value", num(c->p_value), &bad);
        put(cp, "verdict", json_string(perf_step_word(c->rel_step, t->direction)), &bad);
        if (json_array_append_new(cps, cp))
            bad = 1;
    }
    put(o, "change_points", cps, &bad);
    if (t->drift_ok) {
        json_t *d = json_object();
        if (d) {
            put(d, "slope_per_run", num(t->drift.slope_rel), &bad);
            put(d, "over_window", num(t->drift_total), &bad);
            put(d, "p_value", num(t->drift.p_value), &bad);
            put(d, "significant", json_boolean(t->drift.p_value < 0.05), &bad);
        }
        put(o, "drift", d, &bad);
    } else {
        put(o, "drift", json_null(), &bad);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *bisect_json(const perf_outcome *o)
{
    json_t *b = json_object(), *steps = json_array();
    int bad = !b || !steps;
    if (bad) {
        json_decref(b);
        json_decref(steps);
        return NULL;
    }
    put(b, "good", str_or_null(o->good), &bad);
    put(b, "bad", str_or_null(o->bad), &bad);
    put(b, "good_commit", str_or_null(o->good_sha), &bad);
    put(b, "bad_commit", str_or_null(o->bad_sha), &bad);
    put(b, "benchmark", str_or_null(o->benchmark), &bad);
    put(b, "first_bad_commit", str_or_null(o->first_bad), &bad);
    put(b, "first_bad_subject", str_or_null(o->first_bad ? o->first_bad_subject : NULL), &bad);
    for (size_t i = 0; i < o->nsteps && !bad; i++) {
        const perf_bisect_step *s = &o->steps[i];
        json_t *j = json_object();
        if (!j) {
            bad = 1;
            break;
        }
        /* A skipped step (did not build) has no measurement. */
        int measured = s->rounds > 0;
        put(j, "commit", json_string(s->sha), &bad);
        put(j, "verdict", json_string(s->verdict), &bad);
        put(j, "g", measured ? num(s->g) : json_null(), &bad);
        put(j, "g_lo", measured ? num(s->g_lo) : json_null(), &bad);
        put(j, "g_hi", measured ? num(s->g_hi) : json_null(), &bad);
        put(j, "rounds", json_integer(s->rounds), &bad);
        if (json_array_append_new(steps, j))
            bad = 1;
    }
    put(b, "steps", steps, &bad);
    if (bad) {
        json_decref(b);
        return NULL;
    }
    return b;
}

int perf_verdict_json_write(FILE *f, const perf_outcome *o)
{
    json_t *root = json_object();
    int bad = !root;
    if (bad)
        return -1;
    char now[32];
    perf_utc_now(now, sizeof now);
    put(root, "schema", json_string(PERF_VERDICT_SCHEMA), &bad);
    put(root, "command", json_string(o->command ? o->command : ""), &bad);
    put(root, "generated_at", json_string(now), &bad);
    put(root, "exit_code", json_integer(o->exit_code), &bad);
    put(root, "outcome", json_string(perf_outcome_word(o->exit_code)), &bad);
    put(root, "message", str_or_null(o->message), &bad);
    put(root, "machine_id", str_or_null(o->machine_id), &bad);
    put(root, "sync_mode", str_or_null(o->sync_mode), &bad);
    put(root, "suite", str_or_null(o->suite), &bad);
    put(root, "history", str_or_null(o->history), &bad);
    put(root, "comparison", o->cmp ? comparison_json(o->cmp) : json_null(), &bad);
    if (o->command && !strcmp(o->command, "trend")) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < o->ntrends && !bad; i++)
            if (json_array_append_new(a, trend_json(&o->trends[i])))
                bad = 1;
        put(root, "trends", a, &bad);
    }
    if (o->command && !strcmp(o->command, "bisect"))
        put(root, "bisect", bisect_json(o), &bad);
    int rc = -1;
    if (!bad && json_dumpf(root, f, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) == 0 &&
        fputc('\n', f) != EOF)
        rc = 0;
    json_decref(root);
    return rc || ferror(f) ? -1 : 0;
}
