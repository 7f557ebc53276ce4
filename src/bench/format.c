/* bench/format.c — hyperfine-style CSV and Markdown summaries
 * (format.h). */
#include "bench/format.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/output.h"
#include "util/csv.h"

typedef struct summary {
    const bench_result *first;
    size_t reps;
    double mean, stddev, median, min, max, relative, p50, p99, user, sys;
    int better;
    const char *unit;
} summary;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of the finite values in v[0..n) (sorted in place); NaN if none. */
static double median_of(double *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            v[k++] = v[i];
    if (!k)
        return NAN;
    qsort(v, k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static int summarise(const bench_result *const *g, size_t n, summary *s)
{
    double *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return -1;
    memset(s, 0, sizeof *s);
    s->first = g[0];
    s->reps = n;
    (void)bench_result_primary(g[0], &s->better, &s->unit);
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int b;
        const char *u;
        tmp[i] = bench_result_primary(g[i], &b, &u);
        if (isfinite(tmp[i])) {
            sum += tmp[i];
            lo = fmin(lo, tmp[i]);
            hi = fmax(hi, tmp[i]);
            k++;
        }
    }
    s->mean = k ? sum / (double)k : NAN;
    s->min = k ? lo : NAN;
    s->max = k ? hi : NAN;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(tmp[i]))
            ss += (tmp[i] - s->mean) * (tmp[i] - s->mean);
    s->stddev = k >= 2 ? sqrt(ss / (double)(k - 1)) : NAN;
    s->median = median_of(tmp, n);
    for (size_t i = 0; i < n; i++)
        tmp[i] = g[i]->lat_samples ? (double)g[i]->lat_p50 : NAN;
    s->p50 = median_of(tmp, n);
    for (size_t i = 0; i < n; i++)
        tmp[i] = g[i]->lat_samples ? (double)g[i]->lat_p99 : NAN;
    s->p99 = median_of(tmp, n);
    double us = 0, sy = 0;
    size_t kc = 0;
    for (size_t i = 0; i < n; i++)
        if (g[i]->counters.has_cpu) {
            us += g[i]->counters.cpu_user_s;
            sy += g[i]->counters.cpu_sys_s;
            kc++;
        }
    s->user = kc ? us / (double)kc : NAN;
    s->sys = kc ? sy / (double)kc : NAN;
    s->relative = NAN;
    free(tmp);
    return 0;
}

/* Groups the canonically sorted results into summaries (caller frees). */
static summary *summaries(const bench_report *rep, size_t *out_n)
{
    const bench_result **v = bench_report_sorted(rep);
    summary *s = malloc((rep->n_results + 1) * sizeof *s);
    size_t n = 0;
    if (!v || !s)
        goto fail;
    for (size_t i = 0; i < rep->n_results;) {
        size_t j = i + 1;
        while (j < rep->n_results && v[j]->workload == v[i]->workload &&
               v[j]->threads == v[i]->threads && v[j]->engine_index == v[i]->engine_index)
            j++;
        if (summarise(v + i, j - i, &s[n]))
            goto fail;
        n++;
        i = j;
    }
    /* hyperfine's Relative: against the run's first engine, same row. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++)
            if (s[k].first->workload == s[i].first->workload &&
                s[k].first->threads == s[i].first->threads && s[k].first->engine_index == 0 &&
                isfinite(s[k].median) && s[k].median != 0)
                s[i].relative = s[i].median / s[k].median;
    free(v);
    *out_n = n;
    return s;
fail:
    free(v);
    free(s);
    return NULL;
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.10g", v);
    else
        fputc(',', f);
}

static void csv_str(FILE *f, const char *s, int first)
{
    if (!first)
        fputc(',', f);
    csv_write_field(f, s);
}

int bench_report_write_csv(FILE *f, const bench_report *rep)
{
    size_t n = 0;
    summary *s = summaries(rep, &n);
    if (!s)
        return -1;
    fprintf(f, "benchmark,engine,sync_mode,threads,metric,unit,direction,reps,mean,stddev,median,"
               "min,max,relative,p50_ns,p99_ns,user_s,system_s\n");
    for (size_t i = 0; i < n; i++) {
        const bench_result *r = s[i].first;
        csv_str(f, r->workload->name, 1);
        csv_str(f, r->engine, 0);
        csv_str(f, bench_sync_name(r->sync_mode), 0);
        fprintf(f, ",%d", r->threads);
        csv_str(f, r->primary[0] ? r->primary : "ops_per_sec", 0);
        csv_str(f, s[i].unit ? s[i].unit : "", 0);
        csv_str(f, s[i].better == BENCH_BETTER_LOWER ? "lower" : "higher", 0);
        fprintf(f, ",%zu", s[i].reps);
        csv_num(f, s[i].mean);
        csv_num(f, s[i].stddev);
        csv_num(f, s[i].median);
        csv_num(f, s[i].min);
        csv_num(f, s[i].max);
        csv_num(f, s[i].relative);
        csv_num(f, s[i].p50);
        csv_num(f, s[i].p99);
        csv_num(f, s[i].user);
        csv_num(f, s[i].sys);
        fputc('\n', f);
    }
    free(s);
    return ferror(f) ? -1 : 0;
}

/* The SI scale people read a magnitude in: 1, k, M or G. */
static double si_scale(double a, const char **suffix)
{
    a = fabs(a);
    if (a >= 1e9) {
        *suffix = "G";
        return 1e9;
    }
    if (a >= 1e6) {
        *suffix = "M";
        return 1e6;
    }
    if (a >= 1e4) {
        *suffix = "k";
        return 1e3;
    }
    *suffix = "";
    return 1;
}

static void md_val(FILE *f, double v)
{
    if (!isfinite(v)) {
        fputs(" - |", f);
        return;
    }
    const char *suf;
    double sc = si_scale(v, &suf);
    fprintf(f, " %.4g%s |", v / sc, suf);
}

/* "4.83M ± 0.047M": both in the mean's scale, so they read together. */
static void md_mean_sd(FILE *f, double mean, double sd)
{
    if (!isfinite(mean)) {
        fputs(" - |", f);
        return;
    }
    const char *suf;
    double sc = si_scale(mean, &suf);
    if (isfinite(sd))
        fprintf(f, " %.4g%s ± %.3g%s |", mean / sc, suf, sd / sc, suf);
    else
        fprintf(f, " %.4g%s |", mean / sc, suf);
}

int bench_report_write_markdown(FILE *f, const bench_report *rep)
{
    size_t n = 0;
    summary *s = summaries(rep, &n);
    if (!s)
        return -1;
    const char *ref = rep->cfg.n_engines ? rep->cfg.engines[0]->name : "?";
    fprintf(f, "| Benchmark | Engine | Threads | Median | Mean ± σ | Min | Max | p50 [ns] | "
               "p99 [ns] | Relative to %s |\n"
               "|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|\n", ref);
    for (size_t i = 0; i < n; i++) {
        const bench_result *r = s[i].first;
        fprintf(f, "| `%s` | %s | %d |", r->workload->name, r->engine, r->threads);
        md_val(f, s[i].median);
        md_mean_sd(f, s[i].mean, s[i].stddev);
        md_val(f, s[i].min);
        md_val(f, s[i].max);
        md_val(f, s[i].p50);
        md_val(f, s[i].p99);
        if (isfinite(s[i].relative))
            fprintf(f, " %.3g%s |\n", s[i].relative,
                    s[i].better == BENCH_BETTER_LOWER ? " (lower is better)" : "");
        else
            fputs(" - |\n", f);
    }
    /* Units once, below the table, keep the cells narrow. */
    fprintf(f, "\nMedian, mean, min and max over %d repetition%s of each row's figure "
               "(ops/s unless the benchmark says otherwise:",
            rep->cfg.reps, rep->cfg.reps == 1 ? "" : "s");
    int any = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].first->primary[0] && strcmp(s[i].first->primary, "ops_per_sec") &&
            (i == 0 || s[i - 1].first->workload != s[i].first->workload)) {
            fprintf(f, "%s `%s` in %s", any ? "," : "", s[i].first->workload->name,
                    s[i].unit && s[i].unit[0] ? s[i].unit : "its unit");
            any = 1;
        }
    fprintf(f, "%s); sync %s.\n", any ? "" : " all of them", bench_sync_name(rep->cfg.sync_mode));
    free(s);
    return ferror(f) ? -1 : 0;
}
