/* perf/sample.c — sample sets and series extraction (see sample.h). */
#include "perf/sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf/error.h"
#include "perf/stats.h"

int perf_samples_push(perf_sample_set *set, const perf_sample *s)
{
    if (set->n == set->cap) {
        size_t nc = set->cap ? set->cap * 2 : 64;
        perf_sample *nv = realloc(set->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        set->v = nv;
        set->cap = nc;
    }
    perf_sample *d = &set->v[set->n];
    *d = *s;
    d->params = NULL;
    if (s->params && !(d->params = strdup(s->params)))
        return -1;
    set->n++;
    return 0;
}

int perf_samples_append(perf_sample_set *dst, const perf_sample_set *src,
                        int proc_offset, int rep_offset)
{
    for (size_t i = 0; i < src->n; i++) {
        perf_sample s = src->v[i];
        s.proc += proc_offset;
        s.repetition += rep_offset;
        if (perf_samples_push(dst, &s))
            return -1;
    }
    return 0;
}

void perf_samples_free(perf_sample_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        free(set->v[i].params);
    free(set->v);
    set->v = NULL;
    set->n = set->cap = 0;
}

void perf_series_name(const char *benchmark, const char *engine, int threads,
                      char *out, size_t cap)
{
    if (threads > 1)
        snprintf(out, cap, "%s/%s/t%d", benchmark, engine, threads);
    else
        snprintf(out, cap, "%s/%s", benchmark, engine);
}

int perf_series_key_eq(const perf_series_key *a, const perf_series_key *b)
{
    return a->threads == b->threads && !strcmp(a->benchmark, b->benchmark) &&
           !strcmp(a->engine, b->engine) && !strcmp(a->metric, b->metric);
}

int perf_sample_in_series(const perf_sample *s, const perf_series_key *k)
{
    return s->threads == k->threads && !strcmp(s->benchmark, k->benchmark) &&
           !strcmp(s->engine, k->engine) && !strcmp(s->metric, k->metric);
}

int perf_samples_series(const perf_sample_set *set, perf_series_key **out, size_t *n)
{
    perf_series_key *v = NULL;
    size_t cnt = 0, cap = 0;
    for (size_t i = 0; i < set->n; i++) {
        const perf_sample *s = &set->v[i];
        size_t j;
        /* Quadratic, but a run holds tens of series, not thousands. */
        for (j = 0; j < cnt; j++)
            if (perf_sample_in_series(s, &v[j]))
                break;
        if (j < cnt)
            continue;
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            perf_series_key *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
            cap = nc;
        }
        perf_series_key *k = &v[cnt++];
        memset(k, 0, sizeof *k);
        perf_strlcpy(k->benchmark, s->benchmark, sizeof k->benchmark);
        perf_strlcpy(k->engine, s->engine, sizeof k->engine);
        perf_strlcpy(k->metric, s->metric, sizeof k->metric);
        k->threads = s->threads;
    }
    *out = v;
    *n = cnt;
    return 0;
}

double *perf_samples_values(const perf_sample_set *set, const perf_series_key *k,
                            int one_per_proc, size_t *n, const perf_sample **first)
{
    size_t cnt = 0;
    double *v = NULL;
    int *procs = NULL;
    *n = 0;
    if (first)
        *first = NULL;
    for (size_t i = 0; i < set->n; i++)
        if (perf_sample_in_series(&set->v[i], k))
            cnt++;
    if (!cnt)
        return NULL;
    v = malloc(cnt * sizeof *v);
    procs = malloc(cnt * sizeof *procs);
    if (!v || !procs)
        goto fail;
    size_t m = 0;
    for (size_t i = 0; i < set->n; i++)
        if (perf_sample_in_series(&set->v[i], k)) {
            if (first && !*first)
                *first = &set->v[i];
            procs[m] = set->v[i].proc;
            v[m++] = set->v[i].value;
        }
    if (one_per_proc) {
        /* Reduce each process's repetitions to their median, keeping the
         * order in which processes first appear. */
        double *out = malloc(cnt * sizeof *out), *tmp = malloc(cnt * sizeof *tmp);
        char *used = calloc(cnt, 1);
        size_t o = 0;
        if (!out || !tmp || !used) {
            free(out), free(tmp), free(used);
            goto fail;
        }
        for (size_t i = 0; i < m; i++) {
            if (used[i])
                continue;
            size_t t = 0;
            for (size_t j = i; j < m; j++)
                if (!used[j] && procs[j] == procs[i]) {
                    used[j] = 1;
                    tmp[t++] = v[j];
                }
            double med = tmp[0];
            perf_median(tmp, t, &med);
            out[o++] = med;
        }
        free(tmp), free(used), free(v);
        v = out;
        m = o;
    }
    free(procs);
    *n = m;
    return v;
fail:
    free(v);
    free(procs);
    return NULL;
}

void perf_samples_sync_mode(const perf_sample_set *set, char *out, size_t cap)
{
    perf_strlcpy(out, "", cap);
    for (size_t i = 0; i < set->n; i++) {
        if (!out[0])
            perf_strlcpy(out, set->v[i].sync_mode, cap);
        else if (strcmp(out, set->v[i].sync_mode)) {
            perf_strlcpy(out, "mixed", cap);
            return;
        }
    }
}
