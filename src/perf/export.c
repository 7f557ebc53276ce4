/* perf/export.c — CSV and JSON export of the history (see export.h). */
#include "perf/export.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"

typedef struct csv_ctx {
    FILE *f;
    size_t rows;
} csv_ctx;

static int csv_row(void *ctx, const perf_run_info *r, const perf_sample *s)
{
    csv_ctx *c = ctx;
    FILE *f = c->f;
    fprintf(f, "%lld,", (long long)r->id);
    csv_write_field(f, r->created_at);
    fputc(',', f);
    csv_write_field(f, r->commit);
    fputc(',', f);
    csv_write_field(f, r->machine_id);
    fputc(',', f);
    csv_write_field(f, s->benchmark);
    fputc(',', f);
    csv_write_field(f, s->engine);
    fputc(',', f);
    csv_write_field(f, s->sync_mode);
    fprintf(f, ",%d,%d,", s->threads, s->repetition);
    csv_write_field(f, s->metric);
    fprintf(f, ",%.17g,", s->value);
    csv_write_field(f, s->unit);
    fprintf(f, ",%s,", s->direction > 0 ? "higher" : "lower");
    if (r->dirty >= 0)
        fprintf(f, "%d", r->dirty);
    fputc(',', f);
    csv_write_field(f, r->suite);
    fputc(',', f);
    csv_write_field(f, r->kind);
    fprintf(f, ",%d,", s->proc);
    csv_write_field(f, r->label);
    fputc('\n', f);
    c->rows++;
    return ferror(f) ? 1 : 0;
}

int perf_export_csv(perf_history *h, const perf_run_filter *f, int64_t run_id, FILE *out,
                    size_t *rows, perf_error *e)
{
    csv_ctx c = {.f = out};
    fprintf(out, "run_id,timestamp,commit,machine_id,benchmark,engine,sync_mode,threads,"
                 "repetition,metric,value,unit,direction,dirty,suite,kind,proc,label\n");
    int rc = perf_history_visit_samples(h, f, run_id, csv_row, &c, e);
    if (rc > 0 || ferror(out))
        return perf_seterr(e, "writing the CSV failed");
    if (rows)
        *rows = c.rows;
    return rc;
}

typedef struct json_ctx {
    json_t *runs;
    json_t *cur_samples;
    int64_t cur_id;
    size_t rows;
} json_ctx;

static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static int json_row(void *ctx, const perf_run_info *r, const perf_sample *s)
{
    json_ctx *c = ctx;
    if (r->id != c->cur_id) {
        json_t *run = json_object();
        if (!run)
            return 1;
        json_object_set_new(run, "run_id", json_integer(r->id));
        json_object_set_new(run, "timestamp", json_string(r->created_at));
        json_object_set_new(run, "kind", json_string(r->kind));
        json_object_set_new(run, "label", json_string(r->label));
        json_object_set_new(run, "commit", str_or_null(r->commit));
        json_object_set_new(run, "dirty", r->dirty < 0 ? json_null() : json_boolean(r->dirty));
        json_object_set_new(run, "compiler", str_or_null(r->compiler));
        json_object_set_new(run, "cflags", str_or_null(r->cflags));
        json_object_set_new(run, "machine_id", json_string(r->machine_id));
        json_t *m = r->machine_json ? json_loads(r->machine_json, 0, NULL) : NULL;
        json_object_set_new(run, "machine", m ? m : json_null());
        json_object_set_new(run, "suite", json_string(r->suite));
        json_object_set_new(run, "sync_mode", json_string(r->sync_mode));
        json_object_set_new(run, "inject_slowdown_pct", json_real(r->inject_slowdown));
        c->cur_samples = json_array();
        json_object_set_new(run, "samples", c->cur_samples);
        json_array_append_new(c->runs, run);
        c->cur_id = r->id;
    }
    json_t *o = json_object();
    if (!o)
        return 1;
    json_object_set_new(o, "benchmark", json_string(s->benchmark));
    json_object_set_new(o, "engine", json_string(s->engine));
    json_object_set_new(o, "sync_mode", json_string(s->sync_mode));
    json_object_set_new(o, "threads", json_integer(s->threads));
    json_object_set_new(o, "repetition", json_integer(s->repetition));
    json_object_set_new(o, "proc", json_integer(s->proc));
    json_object_set_new(o, "metric", json_string(s->metric));
    json_object_set_new(o, "value", json_real(s->value));
    json_object_set_new(o, "unit", json_string(s->unit));
    json_object_set_new(o, "direction", json_string(s->direction > 0 ? "higher" : "lower"));
    if (s->params) {
        json_t *p = json_loads(s->params, 0, NULL);
        if (p)
            json_object_set_new(o, "params", p);
    }
    json_array_append_new(c->cur_samples, o);
    c->rows++;
    return 0;
}

int perf_export_json(perf_history *h, const perf_run_filter *f, int64_t run_id, FILE *out,
                     size_t *rows, perf_error *e)
{
    json_ctx c = {.runs = json_array()};
    json_t *root = json_object();
    if (!c.runs || !root) {
        json_decref(c.runs);
        json_decref(root);
        return perf_seterr(e, "out of memory");
    }
    json_object_set_new(root, "schema", json_string(PERF_EXPORT_SCHEMA));
    json_object_set_new(root, "runs", c.runs);
    int rc = perf_history_visit_samples(h, f, run_id, json_row, &c, e);
    if (rc > 0)
        rc = perf_seterr(e, "out of memory building the JSON export");
    if (!rc && json_dumpf(root, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER))
        rc = perf_seterr(e, "writing the JSON failed");
    fputc('\n', out);
    json_decref(root);
    if (!rc && rows)
        *rows = c.rows;
    return rc;
}
