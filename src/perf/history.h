/*
 * perf/history.h — the result history of `lightning perf`: one SQLite file
 * (default perf-history.db at the repository root), or a PostgreSQL
 * database shared by many machines (a postgresql:// URL; history_pg.h),
 * holding runs and their samples, pinned baselines, calibrated noise
 * floors and comparisons. Both backends have the same tables and
 * semantics; history.c runs the same queries on both (sqldb.h).
 *
 * Schema (version PERF_HISTORY_SCHEMA_VERSION, kept in PRAGMA user_version
 * and in meta.schema_version; docs/perf.md has the full DDL):
 *   meta(key, value)
 *   machines(machine_id, info_json, first_seen, last_seen)
 *   runs(id, created_at, kind, label, group_id, commit_sha, dirty, compiler,
 *        cflags, machine_id, machine_json, suite, suite_path, suite_text,
 *        sync_mode, bench_bin, bench_args, inject_slowdown, duration_s,
 *        fingerprint)                                   (fingerprint: v2)
 *   samples(run_id, benchmark, engine, sync_mode, threads, params,
 *           repetition, proc, metric, value, unit, direction)
 *   baselines(machine_id, sync_mode, suite, run_id, set_at)
 *   noise_floors(machine_id, sync_mode, benchmark, engine, threads, metric,
 *                floor, raw, k, cv, n_a, n_b, run_a, run_b, calibrated_at)
 *   comparisons(id, created_at, kind, base_run, head_run, suite, forced,
 *               mismatch, exit_code, base_label, head_label)
 *   comparison_rows(comparison_id, rule, benchmark, engine, threads,
 *                   metric, unit, direction, overhead, versus, status,
 *                   n_base, n_head, median_base, median_head, g, g_lo,
 *                   g_hi, limit_g, tolerance, noise_floor,
 *                   floor_calibrated, p_value, p_exact, verdict,
 *                   reps_needed, mde90, cv_base, cv_head, reason, note)
 *
 * A metric is (name, value, unit, direction) on every sample row, so a new
 * metric kind (such as the instruction counts of `--measure counts`) needs
 * no schema change.
 *
 * Contract
 * - perf_history_open creates the file and schema when asked, migrates an
 *   older schema forward in one transaction per step, and refuses a file
 *   whose schema is newer than this build understands (or that is not a
 *   history at all) with a message saying so. Nothing else changes a file
 *   it did not create.
 * - Every write is one transaction (a run and all its samples land
 *   together or not at all); all SQL uses prepared statements.
 * - A perf_history handle belongs to one thread. Several processes may
 *   share a file: SQLite locks it, and a busy timeout of 10 s rides out
 *   another process's write. On PostgreSQL any number of processes write
 *   at once (transactions, sequences, upserts).
 * - Functions return 0 on success, -1 with e set on failure; lookups that
 *   may find nothing return 1 found / 0 not found.
 */
#ifndef PERF_HISTORY_H
#define PERF_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "perf/comparison.h"
#include "perf/error.h"
#include "perf/sample.h"

#define PERF_HISTORY_SCHEMA_VERSION 2

/* A machine key: the user's testbed name (--machine NAME) or, without
 * one, the 16-hex-digit fingerprint (bench/machine.h). Runs, baselines and
 * noise floors are keyed by it, so a named testbed keeps its baseline
 * across kernel updates that change the fingerprint; the fingerprint of
 * every run is kept beside it (perf_run_info.fingerprint). */
#define PERF_MACHINE_KEY_CAP 65

typedef struct perf_history perf_history;

typedef struct perf_run_info {
    int64_t id;
    char created_at[32];     /* ISO 8601 UTC, e.g. 2026-11-26T15:43:48Z     */
    char kind[24];           /* run, ab-base, ab-head, calibrate-a/-b, import */
    char label[160];
    int64_t group_id;        /* pairs the two sides of an ab/calibrate      */
    char commit[41];
    int dirty;               /* 1, 0, -1 unknown                            */
    char compiler[128];
    char cflags[1024];
    char machine_id[PERF_MACHINE_KEY_CAP]; /* the machine key (above)       */
    char fingerprint[17];    /* the hardware/OS fingerprint it ran on       */
    char *machine_json;      /* owned, may be NULL                          */
    char suite[64];
    char suite_path[4096];
    char *suite_text;        /* owned, may be NULL                          */
    char sync_mode[16];
    char bench_bin[4096];
    char bench_args[1024];
    double inject_slowdown;  /* percent given to bench, 0 normally         */
    double duration_s;       /* wall time of the measurement               */
    size_t n_samples;        /* filled by get/list                          */
} perf_run_info;

void perf_run_info_free(perf_run_info *r);
void perf_run_infos_free(perf_run_info *v, size_t n);

/* Opens (create = 1: creates when missing) the history at path. */
int perf_history_open(const char *path, int create, perf_history **out, perf_error *e);
void perf_history_close(perf_history *h);
/* The schema version of a file without migrating it (0 = empty/new). */
int perf_history_file_version(const char *path, int *version, perf_error *e);

/* Inserts the run (run->id and created_at are set) and its samples in one
 * transaction. created_at is kept when the caller filled it. */
int perf_history_add_run(perf_history *h, perf_run_info *run, const perf_sample_set *s,
                         perf_error *e);
int perf_history_set_group(perf_history *h, int64_t run_id, int64_t group_id,
                           perf_error *e);
int perf_history_get_run(perf_history *h, int64_t id, perf_run_info *out, perf_error *e);
int perf_history_load_samples(perf_history *h, int64_t run_id, perf_sample_set *out,
                              perf_error *e);

typedef struct perf_run_filter {
    const char *kind;        /* NULL = any; "run" etc.                      */
    const char *machine_id;  /* NULL = any                                  */
    const char *sync_mode;   /* NULL = any                                  */
    const char *suite;       /* NULL = any                                  */
    size_t limit;            /* 0 = no limit (newest first when limited)    */
} perf_run_filter;

/* Runs matching f, oldest first (the newest `limit` when limit > 0). */
int perf_history_list_runs(perf_history *h, const perf_run_filter *f, perf_run_info **out,
                           size_t *n, perf_error *e);
/* Newest run matching f: 1 found (*id set), 0 none, -1 error. */
int perf_history_latest_run(perf_history *h, const perf_run_filter *f, int64_t *id,
                            perf_error *e);

/* Baselines: one per (machine, sync mode, suite). */
int perf_history_set_baseline(perf_history *h, const char *machine_id, const char *sync_mode,
                              const char *suite, int64_t run_id, perf_error *e);
int perf_history_get_baseline(perf_history *h, const char *machine_id, const char *sync_mode,
                              const char *suite, int64_t *run_id, char *set_at, size_t cap,
                              perf_error *e);

typedef struct perf_baseline_row {
    char machine_id[PERF_MACHINE_KEY_CAP];
    char sync_mode[16];
    char suite[64];
    int64_t run_id;
    char set_at[32];
} perf_baseline_row;
/* Every baseline (malloc'd array). */
int perf_history_list_baselines(perf_history *h, perf_baseline_row **out, size_t *n,
                                perf_error *e);

typedef struct perf_noise_row {
    char machine_id[PERF_MACHINE_KEY_CAP];
    char sync_mode[16];
    char benchmark[64];
    char engine[32];
    int threads;
    char metric[64];
    double floor;            /* floor for groups of k repetitions          */
    double raw;              /* before the PERF_NOISE_FLOOR_MIN clamp       */
    int k;
    double cv;
    int n_a, n_b;
    int64_t run_a, run_b;
    char calibrated_at[32];
} perf_noise_row;

int perf_history_set_noise_floor(perf_history *h, const perf_noise_row *r, perf_error *e);
/* 1 found (*out filled), 0 not calibrated, -1 error. */
int perf_history_get_noise_floor(perf_history *h, const char *machine_id, const char *sync_mode,
                                 const char *benchmark, const char *engine, int threads,
                                 const char *metric, perf_noise_row *out, perf_error *e);
int perf_history_list_noise_floors(perf_history *h, const char *machine_id,
                                   perf_noise_row **out, size_t *n, perf_error *e);

/* Saves c (c->id and created_at are set). */
int perf_history_save_comparison(perf_history *h, perf_comparison *c, perf_error *e);
/* Loads comparison id, or the newest when id is 0 (of one of the kinds in
 * the comma-separated list `kinds`, any kind when NULL): 1 found, 0 none. */
int perf_history_load_comparison(perf_history *h, int64_t id, const char *kinds,
                                 perf_comparison *out, perf_error *e);

/* One point of a history series: the median of one run's values. */
typedef struct perf_series_point {
    int64_t run_id;
    char created_at[32];
    char commit[41];
    int dirty;
    double median;
    double q25, q75;         /* the middle half of the run's repetitions    */
    size_t n;
} perf_series_point;

/* Per-run medians of series k over the runs matching f, oldest first. */
int perf_history_series(perf_history *h, const perf_run_filter *f, const perf_series_key *k,
                        perf_series_point **out, size_t *n, perf_error *e);
/* The unit and direction recorded for series k (its first sample): 1
 * found, 0 none, -1 error. */
int perf_history_series_unit(perf_history *h, const perf_series_key *k, char *unit, size_t cap,
                             int *direction, perf_error *e);
/* The distinct series present in the runs matching f. */
int perf_history_series_keys(perf_history *h, const perf_run_filter *f, perf_series_key **out,
                             size_t *n, perf_error *e);

/* For export: calls fn once per sample of the runs matching f (ordered by
 * run, then insertion). fn returns 0 to continue, non-zero to stop (and
 * that value is returned). */
typedef int (*perf_sample_visit_fn)(void *ctx, const perf_run_info *run, const perf_sample *s);
int perf_history_visit_samples(perf_history *h, const perf_run_filter *f, int64_t run_id,
                               perf_sample_visit_fn fn, void *ctx, perf_error *e);

/* Copying a history (copy-history, history_copy.h): the rows as they
 * are, with their ids and times. A run or comparison whose id exists is an
 * error; perf_history_sync_ids makes new ids follow the copied ones. */
int perf_history_import_run(perf_history *h, perf_run_info *run, const perf_sample_set *s,
                            perf_error *e);
int perf_history_import_baseline(perf_history *h, const perf_baseline_row *b, perf_error *e);
int perf_history_import_comparison(perf_history *h, perf_comparison *c, perf_error *e);
/* Every comparison id, ascending (malloc'd). */
int perf_history_comparison_ids(perf_history *h, int64_t **out, size_t *n, perf_error *e);
int perf_history_sync_ids(perf_history *h, perf_error *e);

/* The current UTC time as ISO 8601 "YYYY-MM-DDTHH:MM:SSZ". */
void perf_utc_now(char *out, size_t cap);

#endif /* PERF_HISTORY_H */
