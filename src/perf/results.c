/* perf/results.c — lightning-bench/1 JSON to samples (see results.h). */
#include "perf/results.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf/metrics.h"

void perf_bench_doc_free(perf_bench_doc *doc)
{
    if (!doc)
        return;
    free(doc->machine_json);
    free(doc->engines_json);
    perf_samples_free(&doc->samples);
    memset(doc, 0, sizeof *doc);
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* Copies a string member (null or absent -> ""); -1 when it has another
 * type. */
static int get_str(const json_t *obj, const char *key, char *out, size_t cap,
                   const char **bad_type)
{
    json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        *bad_type = type_name(v);
        return -1;
    }
    perf_strlcpy(out, json_string_value(v), cap);
    return 0;
}

/* 1 with *out set for a number, 0 for null/absent, -1 for another type. */
static int get_num(const json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 1;
}

typedef struct ctx {
    const char *origin;
    size_t index;
    const char *bench, *engine;
    perf_sample proto;
    perf_bench_doc *doc;
    perf_error *e;
    int counts;     /* params.measure = "counts": a run under valgrind, whose
                       wall-clock figures say nothing about speed */
} ctx;

static int where(ctx *c, const char *fmt, const char *a, const char *b)
{
    char what[512];
    snprintf(what, sizeof what, fmt, a, b);
    return perf_seterr(c->e, "%s: result %zu (%s/%s): %s", c->origin, c->index,
                       c->bench ? c->bench : "?", c->engine ? c->engine : "?", what);
}

static int add(ctx *c, const char *metric, double value, const char *unit, int dir)
{
    perf_sample s = c->proto;
    perf_strlcpy(s.metric, metric, sizeof s.metric);
    char u[16];
    int d;
    perf_metric_kind kind;
    perf_metric_infer(metric, u, sizeof u, &d, &kind);
    if (c->counts && kind != PERF_KIND_COUNT)
        return 0; /* only the counts of a counts-mode result are samples */
    perf_strlcpy(s.unit, unit ? unit : u, sizeof s.unit);
    s.direction = dir ? dir : d;
    s.value = value;
    if (perf_samples_push(&c->doc->samples, &s))
        return perf_seterr(c->e, "out of memory");
    return 0;
}

/* A plain number member: a sample when present, an error for a wrong type. */
static int add_member(ctx *c, const json_t *obj, const char *key, const char *metric,
                      double *got)
{
    double v;
    int r = get_num(obj, key, &v);
    if (r < 0)
        return where(c, "%s is %s, expected a number or null", key,
                     type_name(json_object_get(obj, key)));
    if (r == 0) {
        if (got)
            *got = NAN;
        return 0;
    }
    if (got)
        *got = v;
    return add(c, metric, v, NULL, 0);
}

static int parse_result(ctx *c, json_t *r)
{
    const char *bad = NULL;
    if (!json_is_object(r))
        return perf_seterr(c->e, "%s: result %zu is %s, expected an object", c->origin,
                           c->index, type_name(r));
    json_t *b = json_object_get(r, "benchmark"), *en = json_object_get(r, "engine");
    c->bench = json_is_string(b) ? json_string_value(b) : NULL;
    c->engine = json_is_string(en) ? json_string_value(en) : NULL;
    if (!c->bench || !c->bench[0])
        return where(c, "%s%s", "\"benchmark\" must be a non-empty string", "");
    if (!c->engine || !c->engine[0])
        return where(c, "%s%s", "\"engine\" must be a non-empty string", "");

    perf_sample *p = &c->proto;
    memset(p, 0, sizeof *p);
    perf_strlcpy(p->benchmark, c->bench, sizeof p->benchmark);
    perf_strlcpy(p->engine, c->engine, sizeof p->engine);
    if (get_str(r, "sync_mode", p->sync_mode, sizeof p->sync_mode, &bad))
        return where(c, "sync_mode is %s, expected a string%s", bad, "");
    if (!p->sync_mode[0])
        perf_strlcpy(p->sync_mode, "UNKNOWN", sizeof p->sync_mode);
    for (char *q = p->sync_mode; *q; q++)
        *q = (char)toupper((unsigned char)*q);
    double t = 1, rep = (double)c->index;
    if (get_num(r, "threads", &t) < 0)
        return where(c, "threads is %s, expected an integer%s",
                     type_name(json_object_get(r, "threads")), "");
    if (get_num(r, "repetition", &rep) < 0)
        return where(c, "repetition is %s, expected an integer%s",
                     type_name(json_object_get(r, "repetition")), "");
    p->threads = t < 1 ? 1 : (int)t;
    p->repetition = (int)rep;
    json_t *params = json_object_get(r, "params");
    if (params && !json_is_null(params)) {
        if (!json_is_object(params))
            return where(c, "params is %s, expected an object%s", type_name(params), "");
        p->params = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
        json_t *m = json_object_get(params, "measure");
        c->counts = json_is_string(m) && !strcmp(json_string_value(m), "counts");
    } else {
        c->counts = 0;
    }
    int rc = -1;
    double ops = NAN, usr = NAN, sys = NAN, ins = NAN, cyc = NAN;
    if (get_num(r, "ops", &ops) < 0) {
        where(c, "ops is %s, expected a number or null%s",
              type_name(json_object_get(r, "ops")), "");
        goto out;
    }
    if (add_member(c, r, "ops_per_sec", "ops_per_sec", NULL))
        goto out;
    json_t *lat = json_object_get(r, "latency_ns");
    if (lat && !json_is_null(lat)) {
        if (!json_is_object(lat)) {
            where(c, "latency_ns is %s, expected an object or null%s", type_name(lat), "");
            goto out;
        }
        static const char *const pct[] = {"p50", "p90", "p95", "p99", "p999", "max"};
        for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
            char m[64], key[64];
            snprintf(m, sizeof m, "latency_%s_ns", pct[i]);
            snprintf(key, sizeof key, "latency_ns.%s", pct[i]);
            double v;
            int g = get_num(lat, pct[i], &v);
            if (g < 0) {
                where(c, "%s is %s, expected a number or null", key,
                      type_name(json_object_get(lat, pct[i])));
                goto out;
            }
            if (g > 0 && add(c, m, v, NULL, 0))
                goto out;
        }
    }
    if (add_member(c, r, "cpu_user_s", "cpu_user_s", &usr) ||
        add_member(c, r, "cpu_sys_s", "cpu_sys_s", &sys) ||
        add_member(c, r, "rss_peak_bytes", "rss_peak_bytes", NULL) ||
        add_member(c, r, "instructions", "instructions", &ins) ||
        add_member(c, r, "cycles", "cycles", &cyc))
        goto out;
    /* Per-operation figures make totals comparable across repetitions that
     * ran for a duration (and so did different op counts). */
    if (ops > 0) {
        if (usr == usr && sys == sys && add(c, "cpu_ns_per_op", (usr + sys) * 1e9 / ops, NULL, 0))
            goto out;
        if (ins == ins && add(c, "instructions_per_op", ins / ops, NULL, 0))
            goto out;
        if (cyc == cyc && add(c, "cycles_per_op", cyc / ops, NULL, 0))
            goto out;
    }
    json_t *ms = json_object_get(r, "metrics");
    if (ms && !json_is_null(ms)) {
        if (!json_is_object(ms)) {
            where(c, "metrics is %s, expected an object%s", type_name(ms), "");
            goto out;
        }
        const char *name;
        json_t *v;
        json_object_foreach(ms, name, v) {
            if (json_is_null(v))
                continue;
            if (json_is_number(v)) {
                if (add(c, name, json_number_value(v), NULL, 0))
                    goto out;
                continue;
            }
            if (json_is_object(v)) {
                json_t *val = json_object_get(v, "value");
                if (!val || json_is_null(val))
                    continue;
                if (!json_is_number(val)) {
                    where(c, "metrics.%s.value is %s, expected a number", name, type_name(val));
                    goto out;
                }
                char unit[16] = "", dir[16] = "";
                const char *badt = NULL;
                if (get_str(v, "unit", unit, sizeof unit, &badt) ||
                    get_str(v, "direction", dir, sizeof dir, &badt)) {
                    where(c, "metrics.%s: unit and direction must be strings%s", name, "");
                    goto out;
                }
                int d = 0;
                if (!strcmp(dir, "higher"))
                    d = PERF_HIGHER_IS_BETTER;
                else if (!strcmp(dir, "lower"))
                    d = PERF_LOWER_IS_BETTER;
                else if (dir[0]) {
                    where(c, "metrics.%s.direction is '%s', expected higher or lower", name, dir);
                    goto out;
                }
                if (add(c, name, json_number_value(val), unit[0] ? unit : NULL, d))
                    goto out;
                continue;
            }
            where(c, "metrics.%s is %s, expected a number, object or null", name, type_name(v));
            goto out;
        }
    }
    rc = 0;
out:
    free(p->params);
    p->params = NULL;
    return rc;
}

static int parse_doc(json_t *root, const char *origin, perf_bench_doc *doc, perf_error *e)
{
    const char *bad = NULL;
    if (!json_is_object(root))
        return perf_seterr(e, "%s: top level is %s, expected a lightning-bench/1 object",
                           origin, type_name(root));
    json_t *schema = json_object_get(root, "schema");
    if (!json_is_string(schema))
        return perf_seterr(e, "%s: no \"schema\" string; not a lightning bench result", origin);
    if (strcmp(json_string_value(schema), PERF_BENCH_SCHEMA))
        return perf_seterr(e, "%s: schema is '%s', this lightning reads '%s'", origin,
                           json_string_value(schema), PERF_BENCH_SCHEMA);
    json_t *m = json_object_get(root, "machine");
    if (!json_is_object(m))
        return perf_seterr(e, "%s: \"machine\" must be an object", origin);
    if (get_str(m, "machine_id", doc->machine_id, sizeof doc->machine_id, &bad) ||
        !doc->machine_id[0])
        return perf_seterr(e, "%s: machine.machine_id must be a non-empty string", origin);
    doc->machine_json = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *b = json_object_get(root, "build");
    doc->dirty = -1;
    if (b && json_is_object(b)) {
        if (get_str(b, "commit", doc->commit, sizeof doc->commit, &bad) ||
            get_str(b, "compiler", doc->compiler, sizeof doc->compiler, &bad) ||
            get_str(b, "cflags", doc->cflags, sizeof doc->cflags, &bad))
            return perf_seterr(e, "%s: build.commit/compiler/cflags must be strings or null",
                               origin);
        json_t *d = json_object_get(b, "dirty");
        if (json_is_boolean(d))
            doc->dirty = json_is_true(d);
        else if (json_is_integer(d))
            doc->dirty = json_integer_value(d) ? 1 : 0;
    }
    json_t *en = json_object_get(root, "engines");
    if (en && json_is_object(en))
        doc->engines_json = json_dumps(en, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *rs = json_object_get(root, "results");
    if (!json_is_array(rs))
        return perf_seterr(e, "%s: \"results\" must be an array", origin);
    if (json_array_size(rs) == 0)
        return perf_seterr(e, "%s: \"results\" is empty; the benchmark produced nothing", origin);
    ctx c = {.origin = origin, .doc = doc, .e = e};
    for (size_t i = 0; i < json_array_size(rs); i++) {
        c.index = i;
        if (parse_result(&c, json_array_get(rs, i)))
            return -1;
    }
    doc->n_results = json_array_size(rs);
    return 0;
}

int perf_results_parse_text(const char *text, size_t len, const char *origin,
                            perf_bench_doc *doc, perf_error *e)
{
    json_error_t je;
    memset(doc, 0, sizeof *doc);
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root)
        return perf_seterr(e, "%s: corrupt JSON at line %d column %d: %s", origin, je.line,
                           je.column, je.text);
    int rc = parse_doc(root, origin, doc, e);
    json_decref(root);
    if (rc)
        perf_bench_doc_free(doc);
    return rc;
}

int perf_results_parse_file(const char *path, perf_bench_doc *doc, perf_error *e)
{
    json_error_t je;
    memset(doc, 0, sizeof *doc);
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        if (je.line < 0 || je.position == 0)
            return perf_seterr(e, "%s: %s", path, je.text);
        return perf_seterr(e, "%s: corrupt JSON at line %d column %d: %s", path, je.line,
                           je.column, je.text);
    }
    int rc = parse_doc(root, path, doc, e);
    json_decref(root);
    if (rc)
        perf_bench_doc_free(doc);
    return rc;
}
