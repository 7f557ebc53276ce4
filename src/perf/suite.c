/* perf/suite.c — suite file parsing with libinih (see suite.h). */
#include "perf/suite.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench/workloads.h"
#include "perf/metrics.h"

void perf_suite_free(perf_suite *s)
{
    if (!s)
        return;
    free(s->b);
    free(s->text);
    memset(s, 0, sizeof *s);
}

typedef struct pctx {
    perf_suite *s;
    perf_error *e;
    int failed;
    char cur[64];     /* section of the keys in `seen`     */
    char seen[4096];  /* ",key,key," already set in it      */
} pctx;

static int fail(pctx *c, const char *fmt, const char *a, const char *b)
{
    char m[512];
    snprintf(m, sizeof m, fmt, a, b);
    if (!c->failed)
        perf_seterr(c->e, "%s", m);
    c->failed = 1;
    return 0; /* makes ini_parse stop and return this line number */
}

static int parse_long(const char *v, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < 0)
        return -1;
    *out = x;
    return 0;
}

static int parse_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || x < 0)
        return -1;
    *out = x;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
        !strcasecmp(v, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
        !strcasecmp(v, "off")) {
        *out = 0;
        return 0;
    }
    return -1;
}

static int check_ratio(pctx *c, const char *key, const char *v, double *out, int is_max)
{
    double r;
    if (parse_double(v, &r) || r <= 0)
        return fail(c, "%s must be a positive number, not '%s'", key, v);
    if (!is_max && r > 1)
        return fail(c, "%s = %s: a minimum ratio above 1 would demand a speed-up", key, v);
    if (is_max && (r < 1 || r > 100))
        return fail(c, "%s = %s: a maximum ratio must be in [1, 100]", key, v);
    *out = r;
    return 1;
}

/* "<metric>.<what> = value" */
static int add_override(pctx *c, perf_suite_override *ov, size_t *nov, const char *key,
                        const char *v)
{
    const char *dot = strrchr(key, '.');
    if (*nov >= PERF_SUITE_MAX_OVERRIDES)
        return fail(c, "too many per-metric settings (%s%s)", key, "");
    perf_suite_override *o = &ov[*nov];
    memset(o, 0, sizeof *o);
    size_t ml = (size_t)(dot - key);
    if (ml == 0 || ml >= sizeof o->metric)
        return fail(c, "bad metric name in '%s'%s", key, "");
    memcpy(o->metric, key, ml);
    o->metric[ml] = '\0';
    perf_strlcpy(o->what, dot + 1, sizeof o->what);
    if (!strcmp(o->what, "min_ratio")) {
        if (!check_ratio(c, key, v, &o->ratio, 0))
            return 0;
    } else if (!strcmp(o->what, "max_ratio")) {
        if (!check_ratio(c, key, v, &o->ratio, 1))
            return 0;
    } else if (!strcmp(o->what, "direction")) {
        if (!strcmp(v, "higher"))
            o->direction = PERF_HIGHER_IS_BETTER;
        else if (!strcmp(v, "lower"))
            o->direction = PERF_LOWER_IS_BETTER;
        else
            return fail(c, "%s must be 'higher' or 'lower', not '%s'", key, v);
    } else {
        return fail(c, "unknown per-metric setting '%s' (known: min_ratio, max_ratio, "
                       "direction)%s", key, "");
    }
    (*nov)++;
    return 1;
}

static int check_threshold(pctx *c, const char *section, const char *v, double *out)
{
    if (parse_double(v, out) || *out <= 0 || *out >= 0.5)
        return fail(c, "[%s] counts_threshold must be a fraction in (0, 0.5) such as 0.005, "
                       "not '%s'", section, v);
    return 1;
}

static int parse_pairing(pctx *c, const char *section, const char *v, int *out)
{
    if (!strcmp(v, "duet"))
        *out = PERF_PAIRING_DUET;
    else if (!strcmp(v, "abba"))
        *out = PERF_PAIRING_ABBA;
    else
        return fail(c, "[%s] pairing must be abba or duet, not '%s'", section, v);
    return 1;
}

static int suite_key(pctx *c, const char *k, const char *v)
{
    perf_suite *s = c->s;
    long l;
    double d;
    if (!strcmp(k, "name")) {
        if (!v[0] || strlen(v) >= sizeof s->name)
            return fail(c, "[suite] name must be 1-63 characters%s%s", "", "");
        perf_strlcpy(s->name, v, sizeof s->name);
    } else if (!strcmp(k, "description")) {
        perf_strlcpy(s->description, v, sizeof s->description);
    } else if (!strcmp(k, "engines")) {
        perf_strlcpy(s->engines, v, sizeof s->engines);
    } else if (!strcmp(k, "sync")) {
        if (strcasecmp(v, "none") && strcasecmp(v, "normal") && strcasecmp(v, "full"))
            return fail(c, "sync must be none, normal or full, not '%s'%s", v, "");
        perf_strlcpy(s->sync, v, sizeof s->sync);
    } else if (!strcmp(k, "args")) {
        perf_strlcpy(s->args, v, sizeof s->args);
    } else if (!strcmp(k, "resolve")) {
        if (parse_double(v, &d) || d < 0 || d >= 50)
            return fail(c, "resolve must be a percentage in [0, 50), not '%s'%s", v, "");
        s->resolve = d / 100;
    } else if (!strcmp(k, "duet_per_section")) {
        if (strcmp(v, "0") && strcmp(v, "1"))
            return fail(c, "duet_per_section must be 0 or 1, not '%s'%s", v, "");
        s->duet_per_section = v[0] == '1';
    } else if (!strcmp(k, "crossover")) {
        if (strcmp(v, "0") && strcmp(v, "1"))
            return fail(c, "crossover must be 0 or 1, not '%s'%s", v, "");
        s->crossover = v[0] == '1';
    } else if (!strcmp(k, "engine_options")) {
        if (strlen(v) >= sizeof s->engine_options)
            return fail(c, "engine_options must be under 256 characters%s%s", "", "");
        perf_strlcpy(s->engine_options, v, sizeof s->engine_options);
    } else if (!strcmp(k, "data_dir")) {
        if (v[0] != '/' || strlen(v) >= sizeof s->data_dir)
            return fail(c, "data_dir must be an absolute path under 512 characters, not '%s'%s",
                        v, "");
        perf_strlcpy(s->data_dir, v, sizeof s->data_dir);
    } else if (!strcmp(k, "keys")) {
        if (parse_long(v, &s->keys) || s->keys < 1)
            return fail(c, "keys must be a positive integer, not '%s'%s", v, "");
    } else if (!strcmp(k, "duration")) {
        if (parse_double(v, &s->duration) || s->duration <= 0)
            return fail(c, "duration must be positive seconds, not '%s'%s", v, "");
    } else if (!strcmp(k, "ops")) {
        if (parse_long(v, &s->ops))
            return fail(c, "ops must be a non-negative integer, not '%s'%s", v, "");
    } else if (!strcmp(k, "reps") || !strcmp(k, "processes") || !strcmp(k, "rounds") ||
               !strcmp(k, "max_rounds") || !strcmp(k, "ab_reps")) {
        if (parse_long(v, &l) || l < 1 || l > 10000)
            return fail(c, "%s must be an integer in [1, 10000], not '%s'", k, v);
        if (!strcmp(k, "reps"))
            s->reps = (unsigned)l;
        else if (!strcmp(k, "processes"))
            s->processes = (unsigned)l;
        else if (!strcmp(k, "max_rounds"))
            s->max_rounds = (unsigned)l;
        else if (!strcmp(k, "ab_reps"))
            s->ab_reps = (unsigned)l;
        else
            s->rounds = (unsigned)l;
    } else if (!strcmp(k, "seed")) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 0);
        if (errno || end == v || *end)
            return fail(c, "seed must be an integer, not '%s'%s", v, "");
        s->seed = x;
    } else if (!strcmp(k, "min_ratio")) {
        return check_ratio(c, k, v, &s->min_ratio, 0);
    } else if (!strcmp(k, "max_ratio")) {
        return check_ratio(c, k, v, &s->max_ratio, 1);
    } else if (!strcmp(k, "gate_on")) {
        int g = perf_gate_on_parse(v);
        if (g < 0)
            return fail(c, "gate_on must be either, counts or wallclock, not '%s'%s", v, "");
        s->gate_on = g;
    } else if (!strcmp(k, "counts_threshold")) {
        return check_threshold(c, "suite", v, &s->counts_threshold);
    } else if (!strcmp(k, "pairing")) {
        return parse_pairing(c, "suite", v, &s->pairing);
    } else if (strchr(k, '.')) {
        return add_override(c, s->ov, &s->nov, k, v);
    } else {
        (void)d;
        return fail(c, "unknown key '%s' in [suite]%s", k, "");
    }
    return 1;
}

static int split_metrics(pctx *c, perf_suite_bench *b, const char *v)
{
    char buf[512];
    perf_strlcpy(buf, v, sizeof buf);
    b->nmetrics = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        if (b->nmetrics >= PERF_SUITE_MAX_GATES)
            return fail(c, "[%s] gates more than 8 metrics%s", b->name, "");
        perf_strlcpy(b->metrics[b->nmetrics++], t, sizeof b->metrics[0]);
    }
    if (!b->nmetrics)
        return fail(c, "[%s] metrics is empty%s", b->name, "");
    return 1;
}

static int bench_key(pctx *c, perf_suite_bench *b, const char *k, const char *v)
{
    long l;
    if (!strcmp(k, "workload")) {
        if (!v[0])
            return fail(c, "[%s] workload is empty%s", b->name, "");
        perf_strlcpy(b->workload, v, sizeof b->workload);
    } else if (!strcmp(k, "match")) {
        perf_strlcpy(b->match, v, sizeof b->match);
    } else if (!strcmp(k, "engines")) {
        perf_strlcpy(b->engines, v, sizeof b->engines);
    } else if (!strcmp(k, "args")) {
        perf_strlcpy(b->args, v, sizeof b->args);
    } else if (!strcmp(k, "description")) {
        perf_strlcpy(b->description, v, sizeof b->description);
    } else if (!strcmp(k, "threads")) {
        if (parse_long(v, &l) || l > 4096)
            return fail(c, "[%s] threads must be an integer, not '%s'", b->name, v);
        b->threads = (int)l;
    } else if (!strcmp(k, "keys")) {
        if (parse_long(v, &b->keys) || b->keys < 1)
            return fail(c, "[%s] keys must be a positive integer, not '%s'", b->name, v);
    } else if (!strcmp(k, "duration")) {
        if (parse_double(v, &b->duration) || b->duration <= 0)
            return fail(c, "[%s] duration must be positive seconds, not '%s'", b->name, v);
    } else if (!strcmp(k, "ops")) {
        if (parse_long(v, &b->ops))
            return fail(c, "[%s] ops must be a non-negative integer, not '%s'", b->name, v);
    } else if (!strcmp(k, "reps")) {
        if (parse_long(v, &l) || l < 1 || l > 10000)
            return fail(c, "[%s] reps must be an integer in [1, 10000], not '%s'", b->name, v);
        b->reps = (unsigned)l;
    } else if (!strcmp(k, "metrics") || !strcmp(k, "metric")) {
        return split_metrics(c, b, v);
    } else if (!strcmp(k, "min_ratio")) {
        return check_ratio(c, k, v, &b->min_ratio, 0);
    } else if (!strcmp(k, "max_ratio")) {
        return check_ratio(c, k, v, &b->max_ratio, 1);
    } else if (!strcmp(k, "overhead_of")) {
        perf_strlcpy(b->overhead_of, v, sizeof b->overhead_of);
    } else if (!strcmp(k, "max_overhead")) {
        if (parse_double(v, &b->max_overhead) || b->max_overhead >= 100)
            return fail(c, "[%s] max_overhead must be a fraction such as 0.10, not '%s'",
                        b->name, v);
    } else if (!strcmp(k, "gate")) {
        if (parse_bool(v, &b->gate))
            return fail(c, "[%s] gate must be yes or no, not '%s'", b->name, v);
    } else if (!strcmp(k, "measure")) {
        if (strcmp(v, "counts") && strcmp(v, "wallclock"))
            return fail(c, "[%s] measure must be counts or wallclock, not '%s'", b->name, v);
        b->counts = !strcmp(v, "counts");
    } else if (!strcmp(k, "counts_threshold")) {
        return check_threshold(c, b->name, v, &b->counts_threshold);
    } else if (!strcmp(k, "pairing")) {
        return parse_pairing(c, b->name, v, &b->pairing);
    } else if (strchr(k, '.')) {
        return add_override(c, b->ov, &b->nov, k, v);
    } else {
        return fail(c, "unknown key '%s' in [%s]", k, b->name);
    }
    return 1;
}

/* A key given twice in a section (also how libinih reports an indented
 * continuation line) is a mistake worth naming, not a silent override. */
static int duplicate(pctx *c, const char *section, const char *name)
{
    char needle[160];
    if (strcmp(c->cur, section)) {
        perf_strlcpy(c->cur, section, sizeof c->cur);
        perf_strlcpy(c->seen, ",", sizeof c->seen);
    }
    perf_fmt(needle, sizeof needle, ",%s,", name);
    if (strstr(c->seen, needle))
        return 1;
    size_t l = strlen(c->seen);
    perf_fmt(c->seen + l, sizeof c->seen - l, "%s,", name);
    return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    pctx *c = user;
    if (c->failed)
        return 0;
    if (duplicate(c, section, name))
        return fail(c, "'%s' is set twice in [%s] (a repeated key or section, or an indented "
                       "continuation line)", name, section);
    if (!strcmp(section, "suite"))
        return suite_key(c, name, value);
    if (!section[0])
        return fail(c, "key '%s' outside any section%s", name, "");
    perf_suite *s = c->s;
    perf_suite_bench *b = s->nb ? &s->b[s->nb - 1] : NULL;
    if (!b || strcmp(b->name, section)) {
        for (size_t i = 0; i < s->nb; i++)
            if (!strcmp(s->b[i].name, section))
                return fail(c, "section [%s] appears twice%s", section, "");
        if (strlen(section) >= sizeof b->name)
            return fail(c, "section name [%s] is too long%s", section, "");
        for (const char *p = section; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
                return fail(c, "section name [%s]: use letters, digits, '-', '_', '.'%s",
                            section, "");
        perf_suite_bench *nb = realloc(s->b, (s->nb + 1) * sizeof *nb);
        if (!nb)
            return fail(c, "out of memory%s%s", "", "");
        s->b = nb;
        b = &s->b[s->nb++];
        memset(b, 0, sizeof *b);
        perf_strlcpy(b->name, section, sizeof b->name);
        b->gate = 1;
        b->pairing = PERF_PAIRING_UNSET;
    }
    return bench_key(c, b, name, value);
}

/* The line of `key` in [section] of the INI text (of the [section] header
 * when key is NULL or absent, as when it was defaulted), 0 if not found:
 * errors found once the whole file is read still name file:line. */
static int key_line(const char *text, const char *section, const char *key)
{
    int line = 0, in = 0, header = 0;
    size_t sl = strlen(section), kl = key ? strlen(key) : 0;
    for (const char *p = text; p && *p;) {
        line++;
        const char *q = p;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '[') {
            in = !strncmp(q + 1, section, sl) && q[1 + sl] == ']';
            if (in)
                header = line;
        } else if (in && key && !strncmp(q, key, kl) &&
                   (q[kl] == ' ' || q[kl] == '\t' || q[kl] == '=' || q[kl] == ':')) {
            return line;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return header;
}

static int has_direction(const perf_suite_override *ov, size_t n, const char *metric)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ov[i].metric, metric) && !strcmp(ov[i].what, "direction"))
            return 1;
    return 0;
}

/* What bench would do with a section, checked when the suite is read: an
 * unknown workload, a match that selects none of its results or a metric
 * no result carries would otherwise give an empty (passing) run or a
 * failure only once bench starts. */
static int validate_bench(const perf_suite *s, perf_suite_bench *b, int match_defaulted,
                          const char *text, const char *origin, perf_error *e)
{
    const bench_workload *ws[64];
    char err[256];
    int nw = bench_workloads_select(b->workload, ws, 64, err, sizeof err);
    if (nw < 0)
        return perf_seterr(e, "%s line %d: [%s] workload = %s: %s (lightning bench --list "
                              "names the workloads)",
                           origin, key_line(text, b->name, "workload"), b->name, b->workload,
                           err);
    if (match_defaulted) {
        /* The default match is what the workload produces: for a group
         * ("concurrent") that is its members' names, not the group's. */
        char names[sizeof b->match];
        size_t used = 0;
        names[0] = '\0';
        for (int i = 0; i < nw; i++) {
            size_t l = strlen(ws[i]->name);
            if (used + l + 2 > sizeof names)
                break;
            if (used)
                names[used++] = ',';
            memcpy(names + used, ws[i]->name, l + 1);
            used += l;
        }
        if (used)
            perf_strlcpy(b->match, names, sizeof b->match);
    }
    char buf[sizeof b->match];
    perf_strlcpy(buf, b->match, sizeof buf);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        int hit = 0;
        for (int i = 0; i < nw && !hit; i++)
            hit = !fnmatch(t, ws[i]->name, 0);
        if (!hit)
            return perf_seterr(e, "%s line %d: [%s] match = %s: '%s' matches none of the "
                                  "benchmarks workload = %s produces",
                               origin, key_line(text, b->name, "match"), b->name, b->match, t,
                               b->workload);
    }
    for (size_t i = 0; i < b->nmetrics; i++) {
        const char *m = b->metrics[i];
        if (perf_metric_lookup(m) || has_direction(b->ov, b->nov, m) ||
            has_direction(s->ov, s->nov, m))
            continue;
        int line = key_line(text, b->name, "metrics");
        if (!line || line == key_line(text, b->name, NULL))
            line = key_line(text, b->name, "metric");
        return perf_seterr(e, "%s line %d: [%s] unknown metric '%s' (see docs/perf.md for the "
                              "metrics bench reports, or set %s.direction for a new one)",
                           origin, line, b->name, m, m);
    }
    return 0;
}

static int finish(perf_suite *s, const char *text, const char *origin, perf_error *e)
{
    if (!s->name[0]) {
        /* Default the name to the file's base name without ".ini". */
        const char *base = strrchr(origin, '/');
        base = base ? base + 1 : origin;
        perf_strlcpy(s->name, base, sizeof s->name);
        char *dot = strrchr(s->name, '.');
        if (dot && dot != s->name)
            *dot = '\0';
    }
    if (!s->engines[0])
        perf_strlcpy(s->engines, "lightning", sizeof s->engines);
    if (!s->sync[0])
        perf_strlcpy(s->sync, "none", sizeof s->sync);
    if (!s->keys)
        s->keys = 100000;
    if (!s->reps)
        s->reps = 10;
    if (!s->processes)
        s->processes = 1;
    if (!s->rounds)
        s->rounds = 20;
    if (s->max_rounds < s->rounds)
        s->max_rounds = s->rounds;
    if (!s->seed)
        s->seed = 42;
    if (!s->min_ratio)
        s->min_ratio = 0.90;
    if (!s->max_ratio)
        s->max_ratio = 1.10;
    if (!s->counts_threshold)
        s->counts_threshold = PERF_COUNTS_THRESHOLD;
    if (!s->ab_reps)
        s->ab_reps = 1;
    if (s->pairing == PERF_PAIRING_UNSET)
        s->pairing = PERF_PAIRING_ABBA;
    for (size_t i = 0; i < s->nb; i++)
        if (s->b[i].pairing == PERF_PAIRING_UNSET)
            s->b[i].pairing = s->pairing;
    if (!s->nb)
        return perf_seterr(e, "%s: the suite defines no benchmarks", origin);
    for (size_t i = 0; i < s->nb; i++) {
        perf_suite_bench *b = &s->b[i];
        if (!b->workload[0])
            perf_strlcpy(b->workload, b->name, sizeof b->workload);
        int match_defaulted = !b->match[0];
        if (match_defaulted)
            perf_strlcpy(b->match, b->workload, sizeof b->match);
        if (!b->nmetrics && b->counts) {
            perf_strlcpy(b->metrics[0], "ir_per_op", sizeof b->metrics[0]);
            perf_strlcpy(b->metrics[1], "est_cycles_per_op", sizeof b->metrics[1]);
            b->nmetrics = 2;
        } else if (!b->nmetrics) {
            perf_strlcpy(b->metrics[0], "ops_per_sec", sizeof b->metrics[0]);
            b->nmetrics = 1;
        }
        if (b->counts && !b->reps)
            b->reps = 1; /* deterministic: one repetition says it all */
        if (b->counts && b->duration > 0)
            return perf_seterr(e, "%s: [%s] measure = counts runs a fixed op count: use ops, "
                                  "not duration", origin, b->name);
        if (b->overhead_of[0] && !b->max_overhead)
            b->max_overhead = 0.10;
        if (validate_bench(s, b, match_defaulted, text, origin, e))
            return -1;
    }
    return 0;
}

int perf_suite_parse_string(const char *text, const char *origin, perf_suite *s,
                            perf_error *e)
{
    memset(s, 0, sizeof *s);
    s->pairing = PERF_PAIRING_UNSET;
    pctx c = {.s = s, .e = e};
    int line = ini_parse_string(text, handler, &c);
    if (line) {
        if (c.failed)
            perf_preperr(e, "%s line %d", origin, line);
        else
            perf_seterr(e, "%s line %d: not valid INI", origin, line);
        perf_suite_free(s);
        return -1;
    }
    if (finish(s, text, origin, e)) {
        perf_suite_free(s);
        return -1;
    }
    if (!(s->text = strdup(text))) {
        perf_suite_free(s);
        return perf_seterr(e, "out of memory");
    }
    return 0;
}

int perf_suite_load(const char *path, perf_suite *s, perf_error *e)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "r");
    if (!f)
        return perf_seterr(e, "cannot open suite file %s: %s", path, strerror(errno));
    /* Read it whole: the text is recorded with every run, so a check can
     * later apply exactly the tolerances that were in force. */
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
        if (n + 1 == cap) {
            char *nb = cap < (1u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        free(buf);
        return perf_seterr(e, "cannot read suite file %s (too large or unreadable)", path);
    }
    buf[n] = '\0';
    int rc = perf_suite_parse_string(buf, path, s, e);
    free(buf);
    if (rc)
        return -1;
    perf_strlcpy(s->path, path, sizeof s->path);
    return 0;
}

const perf_suite_bench *perf_suite_find(const perf_suite *s, const char *name)
{
    for (size_t i = 0; i < s->nb; i++)
        if (!strcmp(s->b[i].name, name))
            return &s->b[i];
    return NULL;
}

int perf_suite_select(perf_suite *s, const char *list, perf_error *e)
{
    char buf[1024];
    perf_strlcpy(buf, list, sizeof buf);
    char *keep = calloc(s->nb ? s->nb : 1, 1);
    if (!keep)
        return perf_seterr(e, "out of memory");
    char *save = NULL;
    size_t wanted = 0;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        size_t i;
        for (i = 0; i < s->nb; i++)
            if (!strcmp(s->b[i].name, t))
                break;
        if (i == s->nb) {
            char names[700] = "";
            size_t n = 0;
            for (size_t j = 0; j < s->nb && n < sizeof names - 70; j++)
                n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", j ? ", " : "",
                                      s->b[j].name);
            free(keep);
            return perf_seterr(e, "unknown benchmark '%s' (suite %s has: %s)", t, s->name,
                               names);
        }
        keep[i] = 1;
        wanted++;
    }
    if (!wanted) {
        free(keep);
        return perf_seterr(e, "--benchmark names no benchmark");
    }
    size_t o = 0;
    for (size_t i = 0; i < s->nb; i++)
        if (keep[i])
            s->b[o++] = s->b[i];
    s->nb = o;
    free(keep);
    return 0;
}

const char *perf_suite_engines(const perf_suite *s, const perf_suite_bench *b)
{
    return b->engines[0] ? b->engines : s->engines;
}
long perf_suite_keys(const perf_suite *s, const perf_suite_bench *b)
{
    return b->keys ? b->keys : s->keys;
}
double perf_suite_duration(const perf_suite *s, const perf_suite_bench *b)
{
    return b->duration > 0 ? b->duration : s->duration;
}
long perf_suite_ops(const perf_suite *s, const perf_suite_bench *b)
{
    return b->ops ? b->ops : s->ops;
}
unsigned perf_suite_reps(const perf_suite *s, const perf_suite_bench *b)
{
    return b->reps ? b->reps : s->reps;
}

double perf_suite_counts_threshold(const perf_suite *s, const perf_suite_bench *b)
{
    return b && b->counts_threshold > 0 ? b->counts_threshold : s->counts_threshold;
}

static int in_list(const char *list, const char *item, int glob)
{
    char buf[512];
    perf_strlcpy(buf, list, sizeof buf);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (glob ? !fnmatch(t, item, 0) : !strcmp(t, item))
            return 1;
    return 0;
}

int perf_suite_bench_matches(const perf_suite *s, const perf_suite_bench *b,
                             const char *benchmark, const char *engine, int threads)
{
    if (b->threads && b->threads != threads)
        return 0;
    const char *engines = perf_suite_engines(s, b);
    if (engines[0] && strcmp(engines, "all") && !in_list(engines, engine, 0))
        return 0;
    return in_list(b->match, benchmark, 1);
}

static const perf_suite_override *find_ov(const perf_suite_override *ov, size_t n,
                                          const char *metric, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ov[i].metric, metric) && !strcmp(ov[i].what, what))
            return &ov[i];
    return NULL;
}

int perf_suite_direction(const perf_suite *s, const perf_suite_bench *b, const char *metric,
                         int sample_direction)
{
    const perf_suite_override *o = b ? find_ov(b->ov, b->nov, metric, "direction") : NULL;
    if (!o)
        o = find_ov(s->ov, s->nov, metric, "direction");
    return o ? o->direction : sample_direction;
}

double perf_suite_tolerance(const perf_suite *s, const perf_suite_bench *b, const char *metric,
                            int direction)
{
    const char *what = direction > 0 ? "min_ratio" : "max_ratio";
    const perf_suite_override *o = b ? find_ov(b->ov, b->nov, metric, what) : NULL;
    if (!o)
        o = find_ov(s->ov, s->nov, metric, what);
    double r;
    if (o)
        r = o->ratio;
    else if (direction > 0)
        r = b && b->min_ratio > 0 ? b->min_ratio : s->min_ratio;
    else
        r = b && b->max_ratio > 0 ? b->max_ratio : s->max_ratio;
    /* g is head/base for higher-is-better metrics and base/head for lower:
     * "head >= r x base" is g >= r, "head <= r x base" is g >= 1/r. */
    double tol = direction > 0 ? 1.0 - r : 1.0 - 1.0 / r;
    if (tol < 0)
        tol = 0;
    if (tol > 0.99)
        tol = 0.99;
    return tol;
}

int perf_suite_gates_metric(const perf_suite_bench *b, const char *metric)
{
    for (size_t i = 0; i < b->nmetrics; i++)
        if (!strcmp(b->metrics[i], metric))
            return 1;
    return 0;
}

int perf_suite_gates_series(const perf_suite *s, const perf_series_key *k)
{
    for (size_t i = 0; i < s->nb; i++)
        if (perf_suite_gates_metric(&s->b[i], k->metric) &&
            perf_suite_bench_matches(s, &s->b[i], k->benchmark, k->engine, k->threads))
            return 1;
    return 0;
}
