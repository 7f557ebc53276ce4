/*
 * perf/sample.h — the unit of data of `lightning perf`: one sample is one
 * metric of one repetition of one benchmark, and a sample set is all the
 * samples of one run (or of one side of an A/B comparison).
 *
 * A series is what a comparison looks at: the values of one metric of one
 * (benchmark, engine, threads) across repetitions. The sync mode is a
 * property of the run, checked before anything is compared.
 *
 * Contract
 * - perf_sample is a plain struct of fixed-size strings plus one owned
 *   heap string (params, the result's parameters as compact JSON, may be
 *   NULL). A perf_sample_set owns its samples and their params; zero-init
 *   is an empty set; perf_samples_free releases it and leaves it empty.
 * - Over-long names are truncated (benchmark/metric 63 bytes); the bench
 *   contract's names are far shorter.
 * - Not thread-safe; a set belongs to one thread at a time.
 */
#ifndef PERF_SAMPLE_H
#define PERF_SAMPLE_H

#include <stddef.h>

typedef struct perf_sample {
    char benchmark[64];
    char engine[32];
    char sync_mode[16];  /* upper case: NONE, NORMAL, FULL                 */
    int threads;
    int repetition;      /* 0-based within the run                         */
    int proc;            /* which bench process of the run produced it     */
    char metric[64];
    char unit[16];
    int direction;       /* PERF_HIGHER_IS_BETTER or PERF_LOWER_IS_BETTER  */
    double value;
    char *params;        /* owned; compact JSON object text or NULL       */
} perf_sample;

typedef struct perf_sample_set {
    perf_sample *v;
    size_t n, cap;
} perf_sample_set;

/* Appends a copy of *s (params duplicated). 0, or -1 on allocation failure. */
int perf_samples_push(perf_sample_set *set, const perf_sample *s);
/* Appends copies of every sample of src, adding proc_offset to proc and
 * rep_offset to repetition. */
int perf_samples_append(perf_sample_set *dst, const perf_sample_set *src,
                        int proc_offset, int rep_offset);
void perf_samples_free(perf_sample_set *set);

typedef struct perf_series_key {
    char benchmark[64];
    char engine[32];
    int threads;
    char metric[64];
} perf_series_key;

/* "read/lightning" or "concurrent/lightning/t8" (threads shown when > 1). */
void perf_series_name(const char *benchmark, const char *engine, int threads,
                      char *out, size_t cap);

int perf_series_key_eq(const perf_series_key *a, const perf_series_key *b);
/* 1 when sample s belongs to series k. */
int perf_sample_in_series(const perf_sample *s, const perf_series_key *k);

/* The distinct series of a set in order of first appearance, as a new
 * malloc'd array (*out, *n; free with free()). 0 or -1 (allocation). */
int perf_samples_series(const perf_sample_set *set, perf_series_key **out, size_t *n);

/* Values of series k in sample order, as a new malloc'd array (NULL and 0
 * when the series is absent). When one_per_proc is set, the repetitions
 * of each process are first reduced to their median, so that a process
 * that ran several repetitions counts once (no pseudo-replication). The
 * first matching sample's unit/direction/params are copied to *first when
 * first is not NULL (params borrowed, not duplicated). */
double *perf_samples_values(const perf_sample_set *set, const perf_series_key *k,
                            int one_per_proc, size_t *n, const perf_sample **first);

/* Sync modes of the samples: writes the single mode into out, or "mixed"
 * when they differ, or "" for an empty set. */
void perf_samples_sync_mode(const perf_sample_set *set, char *out, size_t cap);

#endif /* PERF_SAMPLE_H */
