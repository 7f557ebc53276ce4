/* perf/history.c — the SQLite result history (see history.h). */
#include "perf/history.h"

#include <errno.h>
#include <sqlite3.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lightningdb.h"
#include "perf/history_pg.h"
#include "perf/sqldb.h"

struct perf_history {
    perf_db *db;             /* SQLite or PostgreSQL (sqldb.h)         */
    char path[4096];         /* as shown in messages (no password)     */
};

/* Migration i takes a file from schema version i to i + 1. Append-only:
 * a released step is never edited, so every file that reached version N
 * has the same tables whatever build created it. */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE machines ("
    "  machine_id TEXT PRIMARY KEY, info_json TEXT NOT NULL DEFAULT '{}',"
    "  first_seen TEXT NOT NULL, last_seen TEXT NOT NULL);"
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL,"
    "  label TEXT NOT NULL DEFAULT '', group_id INTEGER,"
    "  commit_sha TEXT NOT NULL DEFAULT '', dirty INTEGER,"
    "  compiler TEXT NOT NULL DEFAULT '', cflags TEXT NOT NULL DEFAULT '',"
    "  machine_id TEXT NOT NULL REFERENCES machines(machine_id),"
    "  machine_json TEXT, suite TEXT NOT NULL, suite_path TEXT NOT NULL DEFAULT '',"
    "  suite_text TEXT, sync_mode TEXT NOT NULL, bench_bin TEXT NOT NULL DEFAULT '',"
    "  bench_args TEXT NOT NULL DEFAULT '', inject_slowdown REAL NOT NULL DEFAULT 0,"
    "  duration_s REAL);"
    "CREATE INDEX runs_by_key ON runs(machine_id, sync_mode, suite, kind, id);"
    "CREATE TABLE samples ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  benchmark TEXT NOT NULL, engine TEXT NOT NULL, sync_mode TEXT NOT NULL,"
    "  threads INTEGER NOT NULL, params TEXT, repetition INTEGER NOT NULL,"
    "  proc INTEGER NOT NULL DEFAULT 0, metric TEXT NOT NULL, value REAL NOT NULL,"
    "  unit TEXT NOT NULL DEFAULT '',"
    "  direction INTEGER NOT NULL CHECK (direction IN (-1, 1)));"
    "CREATE INDEX samples_by_run ON samples(run_id, benchmark, engine, threads, metric);"
    "CREATE INDEX samples_by_series ON samples(benchmark, engine, threads, metric);"
    "CREATE TABLE baselines ("
    "  machine_id TEXT NOT NULL, sync_mode TEXT NOT NULL, suite TEXT NOT NULL,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  set_at TEXT NOT NULL, PRIMARY KEY (machine_id, sync_mode, suite));"
    "CREATE TABLE noise_floors ("
    "  machine_id TEXT NOT NULL, sync_mode TEXT NOT NULL, benchmark TEXT NOT NULL,"
    "  engine TEXT NOT NULL, threads INTEGER NOT NULL, metric TEXT NOT NULL,"
    "  floor REAL NOT NULL, raw REAL NOT NULL, k INTEGER NOT NULL, cv REAL,"
    "  n_a INTEGER, n_b INTEGER, run_a INTEGER, run_b INTEGER,"
    "  calibrated_at TEXT NOT NULL,"
    "  PRIMARY KEY (machine_id, sync_mode, benchmark, engine, threads, metric));"
    "CREATE TABLE comparisons ("
    "  id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL,"
    "  base_run INTEGER, head_run INTEGER, suite TEXT NOT NULL DEFAULT '',"
    "  forced INTEGER NOT NULL DEFAULT 0, mismatch TEXT NOT NULL DEFAULT '',"
    "  exit_code INTEGER NOT NULL, base_label TEXT NOT NULL DEFAULT '',"
    "  head_label TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE comparison_rows ("
    "  comparison_id INTEGER NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE,"
    "  rule TEXT NOT NULL, benchmark TEXT NOT NULL, engine TEXT NOT NULL,"
    "  threads INTEGER NOT NULL, metric TEXT NOT NULL, unit TEXT NOT NULL,"
    "  direction INTEGER NOT NULL, overhead INTEGER NOT NULL, versus TEXT NOT NULL,"
    "  status INTEGER NOT NULL, n_base INTEGER, n_head INTEGER,"
    "  median_base REAL, median_head REAL, g REAL, g_lo REAL, g_hi REAL,"
    "  limit_g REAL, tolerance REAL, noise_floor REAL, floor_calibrated INTEGER,"
    "  p_value REAL, p_exact INTEGER, verdict TEXT NOT NULL, reps_needed INTEGER,"
    "  mde90 REAL, cv_base REAL, cv_head REAL, reason TEXT, note TEXT);"
    "CREATE INDEX comparison_rows_by_id ON comparison_rows(comparison_id);",
    /* 1 -> 2: testbeds. machine_id becomes the machine key (a user-chosen
     * name, or the fingerprint as before); the fingerprint each run
     * measured on is kept beside it. Existing runs were keyed by their
     * fingerprint, so that is theirs. */
    "ALTER TABLE runs ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';"
    "UPDATE runs SET fingerprint = machine_id;",
};
#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])
_Static_assert(N_MIGRATIONS == PERF_HISTORY_SCHEMA_VERSION,
               "one migration per schema version");

void perf_utc_now(char *out, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int sqlerr(perf_history *h, perf_error *e, const char *what)
{
    return perf_seterr(e, "history %s: %s: %s", h->path, what, perf_db_errmsg(h->db));
}

static int exec(perf_history *h, const char *sql, perf_error *e)
{
    if (perf_db_exec(h->db, sql)) {
        perf_seterr(e, "history %s: %s", h->path, perf_db_errmsg(h->db));
        return -1;
    }
    return 0;
}

static int prep(perf_history *h, const char *sql, perf_stmt **st, perf_error *e)
{
    if (perf_db_prepare(h->db, sql, st)) {
        *st = NULL;
        return sqlerr(h, e, "prepare");
    }
    return 0;
}

static int user_version(perf_history *h, int *v, perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "PRAGMA user_version", &st, e))
        return -1;
    int rc = perf_db_step(st);
    if (rc != PERF_DB_ROW) {
        sqlerr(h, e, "reading the schema version");
        perf_db_finalize(st);
        return -1;
    }
    *v = perf_db_col_int(st, 0);
    perf_db_finalize(st);
    return 0;
}

/* The schema version and the number of tables, read by one statement and so
 * from one snapshot: read apart, another process's first migration could
 * commit in between, and the file looked like "tables and no schema
 * version" (test_perf_history_pg test_two_writers_sqlite, 2 runs in 40). */
static int read_shape(perf_history *h, int *v, int *ntables, perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "SELECT user_version, (SELECT count(*) FROM sqlite_master WHERE type = 'table') "
                "FROM pragma_user_version", &st, e))
        return -1;
    if (perf_db_step(st) != PERF_DB_ROW) {
        sqlerr(h, e, "reading the schema version and the table list");
        perf_db_finalize(st);
        return -1;
    }
    *v = perf_db_col_int(st, 0);
    *ntables = perf_db_col_int(st, 1);
    perf_db_finalize(st);
    return 0;
}

static int migrate(perf_history *h, int from, perf_error *e)
{
    for (int v = from; v < PERF_HISTORY_SCHEMA_VERSION; v++) {
        char sql[160];
        if (exec(h, "BEGIN IMMEDIATE", e))
            return -1;
        /* Another process may have migrated while we waited for the lock. */
        int now;
        if (user_version(h, &now, e))
            goto fail;
        if (now > v) {
            exec(h, "COMMIT", e);
            v = now - 1;
            continue;
        }
        if (exec(h, migrations[v], e))
            goto fail;
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (exec(h, sql, e))
            goto fail;
        char now_s[32];
        perf_utc_now(now_s, sizeof now_s);
        snprintf(sql, sizeof sql,
                 "INSERT OR REPLACE INTO meta VALUES ('schema_version', '%d')", v + 1);
        if (exec(h, sql, e))
            goto fail;
        if (v == 0) {
            perf_stmt *st;
            if (prep(h, "INSERT OR REPLACE INTO meta VALUES ('created_at', ?1), "
                        "('created_by', ?2)", &st, e))
                goto fail;
            char by[64];
            snprintf(by, sizeof by, "lightning %d.%d.%d", LDB_VERSION_MAJOR, LDB_VERSION_MINOR,
                     LDB_VERSION_PATCH);
            perf_db_bind_text(st, 1, now_s);
            perf_db_bind_text(st, 2, by);
            int rc = perf_db_step(st);
            perf_db_finalize(st);
            if (rc != PERF_DB_DONE) {
                sqlerr(h, e, "writing meta");
                goto fail;
            }
        }
        if (exec(h, "COMMIT", e))
            goto fail;
    }
    return 0;
fail:
    perf_db_exec(h->db, "ROLLBACK");
    return -1;
}

/* 1 when the file begins with SQLite's 16-byte magic. */
static int sqlite_header(const char *path)
{
    char magic[16];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(magic, 1, sizeof magic, f);
    fclose(f);
    return n == sizeof magic && !memcmp(magic, "SQLite format 3", 16);
}

int perf_history_open(const char *path, int create, perf_history **out, perf_error *e)
{
    *out = NULL;
    if (perf_history_is_url(path)) {
        perf_history *ph = calloc(1, sizeof *ph);
        if (!ph)
            return perf_seterr(e, "out of memory");
        perf_history_redact(path, ph->path, sizeof ph->path);
        if (perf_history_pg_open(path, create, &ph->db, e)) {
            free(ph);
            return -1;
        }
        *out = ph;
        return 0;
    }
    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (!exists && !create)
        return perf_seterr(e, "no history at %s (run `lightning perf run` first, or pass "
                              "--history FILE)", path);
    if (exists && !S_ISREG(sb.st_mode))
        return perf_seterr(e, "history %s is not a regular file", path);
    perf_history *h = calloc(1, sizeof *h);
    if (!h)
        return perf_seterr(e, "out of memory");
    perf_strlcpy(h->path, path, sizeof h->path);
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    sqlite3 *lite = NULL;
    if (sqlite3_open_v2(path, &lite, flags, NULL) != SQLITE_OK) {
        perf_seterr(e, "cannot open history %s: %s", path,
                    lite ? sqlite3_errmsg(lite) : "out of memory");
        sqlite3_close(lite);
        goto fail;
    }
    sqlite3_busy_timeout(lite, 10000);
    sqlite3_extended_result_codes(lite, 1);
    if (!(h->db = perf_db_from_sqlite(lite))) {
        perf_seterr(e, "out of memory");
        goto fail;
    }
    int v, tables;
    if (read_shape(h, &v, &tables, e)) {
        /* SQLite says "file is not a database" for a stray file; a file
         * that starts as SQLite but is truncated or overwritten is a
         * damaged history, which asks for another remedy (a backup). */
        int code = sqlite3_errcode(lite) & 0xff;
        if (code == SQLITE_CORRUPT || (code == SQLITE_NOTADB && sqlite_header(path)))
            perf_seterr(e, "history %s is damaged (%s): restore it from a backup, or move it "
                           "aside to start a new one",
                        path, perf_db_errmsg(h->db));
        else
            perf_seterr(e, "%s is not a lightning perf history (%s)", path,
                        perf_db_errmsg(h->db));
        goto fail;
    }
    if (v == 0 && tables == 0 && !create) {
        /* An empty file (0 bytes, or a bare SQLite header): a command that
         * only reads must not write a schema into it. */
        perf_seterr(e, "history %s is empty: no runs recorded yet (run `lightning perf run` "
                       "first)", path);
        goto fail;
    }
    if (v > PERF_HISTORY_SCHEMA_VERSION) {
        perf_seterr(e, "history %s has schema version %d, newer than this lightning "
                       "understands (%d); use a newer lightning, or another --history file",
                    path, v, PERF_HISTORY_SCHEMA_VERSION);
        goto fail;
    }
    if (v == 0 && tables > 0) {
        perf_seterr(e, "%s is an SQLite database but not a lightning perf history "
                       "(it has tables and no schema version)", path);
        goto fail;
    }
    if (exec(h, "PRAGMA foreign_keys = ON", e))
        goto fail;
    if (v < PERF_HISTORY_SCHEMA_VERSION && migrate(h, v, e))
        goto fail;
    *out = h;
    return 0;
fail:
    perf_db_close(h->db);
    free(h);
    return -1;
}

void perf_history_close(perf_history *h)
{
    if (!h)
        return;
    perf_db_close(h->db);
    free(h);
}

int perf_history_file_version(const char *path, int *version, perf_error *e)
{
    if (perf_history_is_url(path))
        return perf_history_pg_version(path, version, e);
    perf_history h = {0};
    perf_strlcpy(h.path, path, sizeof h.path);
    sqlite3 *lite = NULL;
    if (sqlite3_open_v2(path, &lite, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        perf_seterr(e, "cannot open %s: %s", path, lite ? sqlite3_errmsg(lite) : "?");
        sqlite3_close(lite);
        return -1;
    }
    if (!(h.db = perf_db_from_sqlite(lite)))
        return perf_seterr(e, "out of memory");
    int rc = user_version(&h, version, e);
    perf_db_close(h.db);
    return rc;
}

/* ---- helpers for binding and reading ---------------------------------- */

static void bind_text(perf_stmt *st, int i, const char *s)
{
    perf_db_bind_text(st, i, s);
}

static void col_text(perf_stmt *st, int i, char *out, size_t cap)
{
    const char *t = perf_db_col_text(st, i);
    perf_strlcpy(out, t ? t : "", cap);
}

static char *col_dup(perf_stmt *st, int i)
{
    const char *t = perf_db_col_text(st, i);
    return t ? strdup(t) : NULL;
}

static int step_done(perf_history *h, perf_stmt *st, perf_error *e, const char *what)
{
    int rc = perf_db_step(st);
    if (rc != PERF_DB_DONE && rc != PERF_DB_ROW)
        return sqlerr(h, e, what);
    return 0;
}

/* ---- runs -------------------------------------------------------------- */

void perf_run_info_free(perf_run_info *r)
{
    if (!r)
        return;
    free(r->machine_json);
    free(r->suite_text);
    r->machine_json = r->suite_text = NULL;
}

void perf_run_infos_free(perf_run_info *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        perf_run_info_free(&v[i]);
    free(v);
}

/* keep_id: insert with run->id (copy-history), else a new id. */
static int insert_run(perf_history *h, perf_run_info *run, const perf_sample_set *s, int keep_id,
                      perf_error *e)
{
    perf_stmt *m = NULL, *r = NULL, *x = NULL;
    char sql[1024];
    if (!run->created_at[0])
        perf_utc_now(run->created_at, sizeof run->created_at);
    if (!run->machine_id[0])
        return perf_seterr(e, "a run needs a machine fingerprint");
    if (exec(h, "BEGIN IMMEDIATE", e))
        return -1;
    if (prep(h, "INSERT INTO machines (machine_id, info_json, first_seen, last_seen) "
                "VALUES (?1, coalesce(?2, '{}'), ?3, ?3) ON CONFLICT(machine_id) DO UPDATE "
                "SET last_seen = ?3, info_json = coalesce(?2, machines.info_json)", &m, e))
        goto fail;
    bind_text(m, 1, run->machine_id);
    bind_text(m, 2, run->machine_json);
    bind_text(m, 3, run->created_at);
    if (step_done(h, m, e, "recording the machine"))
        goto fail;
    perf_fmt(sql, sizeof sql,
             "INSERT INTO runs (created_at, kind, label, group_id, commit_sha, dirty, "
             "compiler, cflags, machine_id, machine_json, suite, suite_path, suite_text, "
             "sync_mode, bench_bin, bench_args, inject_slowdown, duration_s, fingerprint%s) "
             "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19%s) "
             "RETURNING id",
             keep_id ? ", id" : "", keep_id ? ",?20" : "");
    if (prep(h, sql, &r, e))
        goto fail;
    if (keep_id)
        perf_db_bind_int64(r, 20, run->id);
    /* Unnamed runs are keyed by their fingerprint: it is the key. */
    bind_text(r, 19, run->fingerprint[0] ? run->fingerprint : run->machine_id);
    bind_text(r, 1, run->created_at);
    bind_text(r, 2, run->kind[0] ? run->kind : "run");
    bind_text(r, 3, run->label);
    if (run->group_id)
        perf_db_bind_int64(r, 4, run->group_id);
    bind_text(r, 5, run->commit);
    if (run->dirty >= 0)
        perf_db_bind_int64(r, 6, run->dirty);
    bind_text(r, 7, run->compiler);
    bind_text(r, 8, run->cflags);
    bind_text(r, 9, run->machine_id);
    bind_text(r, 10, run->machine_json);
    bind_text(r, 11, run->suite);
    bind_text(r, 12, run->suite_path);
    bind_text(r, 13, run->suite_text);
    bind_text(r, 14, run->sync_mode);
    bind_text(r, 15, run->bench_bin);
    bind_text(r, 16, run->bench_args);
    perf_db_bind_double(r, 17, run->inject_slowdown);
    if (run->duration_s > 0)
        perf_db_bind_double(r, 18, run->duration_s);
    if (perf_db_step(r) != PERF_DB_ROW) {
        sqlerr(h, e, "recording the run");
        goto fail;
    }
    run->id = perf_db_col_int64(r, 0);
    if (prep(h, "INSERT INTO samples (run_id, benchmark, engine, sync_mode, threads, params, "
                "repetition, proc, metric, value, unit, direction) VALUES "
                "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)", &x, e))
        goto fail;
    for (size_t i = 0; s && i < s->n; i++) {
        const perf_sample *p = &s->v[i];
        perf_db_reset(x);
        perf_db_bind_int64(x, 1, run->id);
        bind_text(x, 2, p->benchmark);
        bind_text(x, 3, p->engine);
        bind_text(x, 4, p->sync_mode);
        perf_db_bind_int64(x, 5, p->threads);
        bind_text(x, 6, p->params);
        perf_db_bind_int64(x, 7, p->repetition);
        perf_db_bind_int64(x, 8, p->proc);
        bind_text(x, 9, p->metric);
        perf_db_bind_double(x, 10, p->value);
        bind_text(x, 11, p->unit);
        perf_db_bind_int64(x, 12, p->direction > 0 ? 1 : -1);
        if (step_done(h, x, e, "recording a sample"))
            goto fail;
    }
    perf_db_finalize(m);
    perf_db_finalize(r);
    perf_db_finalize(x);
    if (exec(h, "COMMIT", e)) {
        perf_db_exec(h->db, "ROLLBACK");
        return -1;
    }
    return 0;
fail:
    perf_db_finalize(m);
    perf_db_finalize(r);
    perf_db_finalize(x);
    perf_db_exec(h->db, "ROLLBACK");
    if (!keep_id)
        run->id = 0;
    return -1;
}

int perf_history_add_run(perf_history *h, perf_run_info *run, const perf_sample_set *s,
                         perf_error *e)
{
    return insert_run(h, run, s, 0, e);
}

int perf_history_import_run(perf_history *h, perf_run_info *run, const perf_sample_set *s,
                            perf_error *e)
{
    if (run->id <= 0)
        return perf_seterr(e, "importing a run needs its id");
    return insert_run(h, run, s, 1, e);
}

int perf_history_import_baseline(perf_history *h, const perf_baseline_row *b, perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "INSERT INTO baselines VALUES (?1, ?2, ?3, ?4, ?5)", &st, e))
        return -1;
    bind_text(st, 1, b->machine_id);
    bind_text(st, 2, b->sync_mode);
    bind_text(st, 3, b->suite);
    perf_db_bind_int64(st, 4, b->run_id);
    bind_text(st, 5, b->set_at);
    int rc = step_done(h, st, e, "importing a baseline");
    perf_db_finalize(st);
    return rc;
}

int perf_history_comparison_ids(perf_history *h, int64_t **out, size_t *n, perf_error *e)
{
    perf_stmt *st;
    *out = NULL;
    *n = 0;
    if (prep(h, "SELECT id FROM comparisons ORDER BY id", &st, e))
        return -1;
    int64_t *v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = perf_db_step(st)) == PERF_DB_ROW) {
        int64_t *nv = realloc(v, (cnt + 1) * sizeof *nv);
        if (!nv) {
            free(v);
            perf_db_finalize(st);
            return perf_seterr(e, "out of memory");
        }
        v = nv;
        v[cnt++] = perf_db_col_int64(st, 0);
    }
    perf_db_finalize(st);
    if (rc != PERF_DB_DONE) {
        free(v);
        return sqlerr(h, e, "listing comparisons");
    }
    *out = v;
    *n = cnt;
    return 0;
}

int perf_history_sync_ids(perf_history *h, perf_error *e)
{
    /* SQLite takes max(id) + 1 by itself; PostgreSQL's sequences must be
     * told about the ids that were inserted explicitly. */
    if (perf_db_kind(h->db) != PERF_DB_POSTGRES)
        return 0;
    return exec(h,
                "SELECT setval(pg_get_serial_sequence('runs', 'id'), "
                "coalesce((SELECT max(id) FROM runs), 0) + 1, false);"
                "SELECT setval(pg_get_serial_sequence('comparisons', 'id'), "
                "coalesce((SELECT max(id) FROM comparisons), 0) + 1, false)",
                e);
}

int perf_history_set_group(perf_history *h, int64_t run_id, int64_t group_id, perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "UPDATE runs SET group_id = ?2 WHERE id = ?1", &st, e))
        return -1;
    perf_db_bind_int64(st, 1, run_id);
    perf_db_bind_int64(st, 2, group_id);
    int rc = step_done(h, st, e, "pairing runs");
    perf_db_finalize(st);
    return rc;
}

#define RUN_COLS                                                                           \
    "r.id, r.created_at, r.kind, r.label, r.group_id, r.commit_sha, r.dirty, r.compiler, " \
    "r.cflags, r.machine_id, r.machine_json, r.suite, r.suite_path, r.suite_text, "        \
    "r.sync_mode, r.bench_bin, r.bench_args, r.inject_slowdown, r.duration_s, "            \
    "(SELECT count(*) FROM samples s WHERE s.run_id = r.id), r.fingerprint"
#define RUN_NCOLS 21

static void read_run(perf_stmt *st, perf_run_info *o)
{
    memset(o, 0, sizeof *o);
    o->id = perf_db_col_int64(st, 0);
    col_text(st, 1, o->created_at, sizeof o->created_at);
    col_text(st, 2, o->kind, sizeof o->kind);
    col_text(st, 3, o->label, sizeof o->label);
    o->group_id = perf_db_col_int64(st, 4);
    col_text(st, 5, o->commit, sizeof o->commit);
    o->dirty = perf_db_col_is_null(st, 6) ? -1 : perf_db_col_int(st, 6);
    col_text(st, 7, o->compiler, sizeof o->compiler);
    col_text(st, 8, o->cflags, sizeof o->cflags);
    col_text(st, 9, o->machine_id, sizeof o->machine_id);
    o->machine_json = col_dup(st, 10);
    col_text(st, 11, o->suite, sizeof o->suite);
    col_text(st, 12, o->suite_path, sizeof o->suite_path);
    o->suite_text = col_dup(st, 13);
    col_text(st, 14, o->sync_mode, sizeof o->sync_mode);
    col_text(st, 15, o->bench_bin, sizeof o->bench_bin);
    col_text(st, 16, o->bench_args, sizeof o->bench_args);
    o->inject_slowdown = perf_db_col_double(st, 17);
    o->duration_s = perf_db_col_double(st, 18);
    o->n_samples = (size_t)perf_db_col_int64(st, 19);
    col_text(st, 20, o->fingerprint, sizeof o->fingerprint);
}

int perf_history_get_run(perf_history *h, int64_t id, perf_run_info *out, perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "SELECT " RUN_COLS " FROM runs r WHERE r.id = ?1", &st, e))
        return -1;
    perf_db_bind_int64(st, 1, id);
    int rc = perf_db_step(st);
    if (rc == PERF_DB_ROW) {
        read_run(st, out);
        perf_db_finalize(st);
        return 1;
    }
    perf_db_finalize(st);
    if (rc != PERF_DB_DONE)
        return sqlerr(h, e, "reading a run");
    return 0;
}

/* WHERE clause over runs r for a filter; parameters ?1..?4 bound by
 * bind_filter (NULL members match anything). */
#define FILTER_WHERE                                                 \
    " (?1 IS NULL OR r.kind = ?1) AND (?2 IS NULL OR r.machine_id = ?2)" \
    " AND (?3 IS NULL OR r.sync_mode = ?3) AND (?4 IS NULL OR r.suite = ?4) "

static void bind_filter(perf_stmt *st, const perf_run_filter *f)
{
    bind_text(st, 1, f ? f->kind : NULL);
    bind_text(st, 2, f ? f->machine_id : NULL);
    bind_text(st, 3, f ? f->sync_mode : NULL);
    bind_text(st, 4, f ? f->suite : NULL);
}

int perf_history_list_runs(perf_history *h, const perf_run_filter *f, perf_run_info **out,
                           size_t *n, perf_error *e)
{
    perf_stmt *st;
    *out = NULL;
    *n = 0;
    if (prep(h, "SELECT * FROM (SELECT " RUN_COLS " FROM runs r WHERE" FILTER_WHERE
                "ORDER BY r.id DESC LIMIT ?5) AS newest ORDER BY 1", &st, e))
        return -1;
    bind_filter(st, f);
    /* No limit: the largest one (PostgreSQL has no LIMIT -1). */
    perf_db_bind_int64(st, 5, f && f->limit ? (int64_t)f->limit : INT64_MAX);
    perf_run_info *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    while ((rc = perf_db_step(st)) == PERF_DB_ROW) {
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            perf_run_info *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                perf_seterr(e, "out of memory");
                goto fail;
            }
            v = nv;
            cap = nc;
        }
        read_run(st, &v[cnt++]);
    }
    if (rc != PERF_DB_DONE) {
        sqlerr(h, e, "listing runs");
        goto fail;
    }
    perf_db_finalize(st);
    *out = v;
    *n = cnt;
    return 0;
fail:
    perf_db_finalize(st);
    perf_run_infos_free(v, cnt);
    return -1;
}

int perf_history_latest_run(perf_history *h, const perf_run_filter *f, int64_t *id,
                            perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "SELECT r.id FROM runs r WHERE" FILTER_WHERE "ORDER BY r.id DESC LIMIT 1", &st,
             e))
        return -1;
    bind_filter(st, f);
    int rc = perf_db_step(st);
    int found = 0;
    if (rc == PERF_DB_ROW) {
        *id = perf_db_col_int64(st, 0);
        found = 1;
    } else if (rc != PERF_DB_DONE) {
        found = sqlerr(h, e, "finding the latest run");
    }
    perf_db_finalize(st);
    return found;
}

static void read_sample(perf_stmt *st, int c0, perf_sample *p)
{
    memset(p, 0, sizeof *p);
    col_text(st, c0 + 0, p->benchmark, sizeof p->benchmark);
    col_text(st, c0 + 1, p->engine, sizeof p->engine);
    col_text(st, c0 + 2, p->sync_mode, sizeof p->sync_mode);
    p->threads = perf_db_col_int(st, c0 + 3);
    p->params = (char *)perf_db_col_text(st, c0 + 4); /* borrowed */
    p->repetition = perf_db_col_int(st, c0 + 5);
    p->proc = perf_db_col_int(st, c0 + 6);
    col_text(st, c0 + 7, p->metric, sizeof p->metric);
    p->value = perf_db_col_double(st, c0 + 8);
    col_text(st, c0 + 9, p->unit, sizeof p->unit);
    p->direction = perf_db_col_int(st, c0 + 10);
}

#define SAMPLE_COLS                                                                   \
    "s.benchmark, s.engine, s.sync_mode, s.threads, s.params, s.repetition, s.proc, " \
    "s.metric, s.value, s.unit, s.direction"

int perf_history_load_samples(perf_history *h, int64_t run_id, perf_sample_set *out,
                              perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "SELECT " SAMPLE_COLS " FROM samples s WHERE s.run_id = ?1 ORDER BY s.rowid",
             &st, e))
        return -1;
    perf_db_bind_int64(st, 1, run_id);
    int rc;
    while ((rc = perf_db_step(st)) == PERF_DB_ROW) {
        perf_sample p;
        read_sample(st, 0, &p);
        if (perf_samples_push(out, &p)) {
            perf_db_finalize(st);
            return perf_seterr(e, "out of memory");
        }
    }
    perf_db_finalize(st);
    if (rc != PERF_DB_DONE)
        return sqlerr(h, e, "loading samples");
    return 0;
}

int perf_history_visit_samples(perf_history *h, const perf_run_filter *f, int64_t run_id,
                               perf_sample_visit_fn fn, void *ctx, perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "SELECT " RUN_COLS ", " SAMPLE_COLS " FROM runs r JOIN samples s ON "
                "s.run_id = r.id WHERE" FILTER_WHERE "AND (?5 = 0 OR r.id = ?5) "
                "ORDER BY r.id, s.rowid", &st, e))
        return -1;
    bind_filter(st, f);
    perf_db_bind_int64(st, 5, run_id);
    int rc, stop = 0;
    perf_run_info run = {0};
    while (!stop && (rc = perf_db_step(st)) == PERF_DB_ROW) {
        if (perf_db_col_int64(st, 0) != run.id) {
            perf_run_info_free(&run);
            read_run(st, &run);
        }
        perf_sample p;
        read_sample(st, RUN_NCOLS, &p);
        stop = fn(ctx, &run, &p);
    }
    perf_run_info_free(&run);
    perf_db_finalize(st);
    if (stop)
        return stop;
    if (rc != PERF_DB_DONE)
        return sqlerr(h, e, "reading samples");
    return 0;
}

/* ---- baselines --------------------------------------------------------- */

int perf_history_set_baseline(perf_history *h, const char *machine_id, const char *sync_mode,
                              const char *suite, int64_t run_id, perf_error *e)
{
    perf_stmt *st;
    char now[32];
    perf_utc_now(now, sizeof now);
    if (prep(h, "INSERT INTO baselines VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (machine_id, "
                "sync_mode, suite) DO UPDATE SET run_id = excluded.run_id, "
                "set_at = excluded.set_at", &st, e))
        return -1;
    bind_text(st, 1, machine_id);
    bind_text(st, 2, sync_mode);
    bind_text(st, 3, suite);
    perf_db_bind_int64(st, 4, run_id);
    bind_text(st, 5, now);
    int rc = step_done(h, st, e, "setting the baseline");
    perf_db_finalize(st);
    return rc;
}

int perf_history_get_baseline(perf_history *h, const char *machine_id, const char *sync_mode,
                              const char *suite, int64_t *run_id, char *set_at, size_t cap,
                              perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "SELECT run_id, set_at FROM baselines WHERE machine_id = ?1 AND "
                "sync_mode = ?2 AND suite = ?3", &st, e))
        return -1;
    bind_text(st, 1, machine_id);
    bind_text(st, 2, sync_mode);
    bind_text(st, 3, suite);
    int rc = perf_db_step(st), found = 0;
    if (rc == PERF_DB_ROW) {
        *run_id = perf_db_col_int64(st, 0);
        if (set_at)
            col_text(st, 1, set_at, cap);
        found = 1;
    } else if (rc != PERF_DB_DONE) {
        found = sqlerr(h, e, "reading the baseline");
    }
    perf_db_finalize(st);
    return found;
}

int perf_history_list_baselines(perf_history *h, perf_baseline_row **out, size_t *n,
                                perf_error *e)
{
    perf_stmt *st;
    *out = NULL;
    *n = 0;
    if (prep(h, "SELECT machine_id, sync_mode, suite, run_id, set_at FROM baselines "
                "ORDER BY machine_id, suite, sync_mode", &st, e))
        return -1;
    perf_baseline_row *v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = perf_db_step(st)) == PERF_DB_ROW) {
        perf_baseline_row *nv = realloc(v, (cnt + 1) * sizeof *nv);
        if (!nv) {
            free(v);
            perf_db_finalize(st);
            return perf_seterr(e, "out of memory");
        }
        v = nv;
        perf_baseline_row *b = &v[cnt++];
        col_text(st, 0, b->machine_id, sizeof b->machine_id);
        col_text(st, 1, b->sync_mode, sizeof b->sync_mode);
        col_text(st, 2, b->suite, sizeof b->suite);
        b->run_id = perf_db_col_int64(st, 3);
        col_text(st, 4, b->set_at, sizeof b->set_at);
    }
    perf_db_finalize(st);
    if (rc != PERF_DB_DONE) {
        free(v);
        return sqlerr(h, e, "listing baselines");
    }
    *out = v;
    *n = cnt;
    return 0;
}

/* ---- noise floors ------------------------------------------------------ */

int perf_history_set_noise_floor(perf_history *h, const perf_noise_row *r, perf_error *e)
{
    perf_stmt *st;
    char now[32];
    perf_utc_now(now, sizeof now);
    if (prep(h, "INSERT INTO noise_floors VALUES "
                "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15) ON CONFLICT (machine_id, "
                "sync_mode, benchmark, engine, threads, metric) DO UPDATE SET "
                "floor = excluded.floor, raw = excluded.raw, k = excluded.k, cv = excluded.cv, "
                "n_a = excluded.n_a, n_b = excluded.n_b, run_a = excluded.run_a, "
                "run_b = excluded.run_b, calibrated_at = excluded.calibrated_at", &st, e))
        return -1;
    bind_text(st, 1, r->machine_id);
    bind_text(st, 2, r->sync_mode);
    bind_text(st, 3, r->benchmark);
    bind_text(st, 4, r->engine);
    perf_db_bind_int64(st, 5, r->threads);
    bind_text(st, 6, r->metric);
    perf_db_bind_double(st, 7, r->floor);
    perf_db_bind_double(st, 8, r->raw);
    perf_db_bind_int64(st, 9, r->k);
    perf_db_bind_double(st, 10, r->cv);
    perf_db_bind_int64(st, 11, r->n_a);
    perf_db_bind_int64(st, 12, r->n_b);
    perf_db_bind_int64(st, 13, r->run_a);
    perf_db_bind_int64(st, 14, r->run_b);
    bind_text(st, 15, r->calibrated_at[0] ? r->calibrated_at : now);
    int rc = step_done(h, st, e, "storing a noise floor");
    perf_db_finalize(st);
    return rc;
}

static void read_noise(perf_stmt *st, perf_noise_row *o)
{
    memset(o, 0, sizeof *o);
    col_text(st, 0, o->machine_id, sizeof o->machine_id);
    col_text(st, 1, o->sync_mode, sizeof o->sync_mode);
    col_text(st, 2, o->benchmark, sizeof o->benchmark);
    col_text(st, 3, o->engine, sizeof o->engine);
    o->threads = perf_db_col_int(st, 4);
    col_text(st, 5, o->metric, sizeof o->metric);
    o->floor = perf_db_col_double(st, 6);
    o->raw = perf_db_col_double(st, 7);
    o->k = perf_db_col_int(st, 8);
    o->cv = perf_db_col_double(st, 9);
    o->n_a = perf_db_col_int(st, 10);
    o->n_b = perf_db_col_int(st, 11);
    o->run_a = perf_db_col_int64(st, 12);
    o->run_b = perf_db_col_int64(st, 13);
    col_text(st, 14, o->calibrated_at, sizeof o->calibrated_at);
}

int perf_history_get_noise_floor(perf_history *h, const char *machine_id, const char *sync_mode,
                                 const char *benchmark, const char *engine, int threads,
                                 const char *metric, perf_noise_row *out, perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "SELECT * FROM noise_floors WHERE machine_id = ?1 AND sync_mode = ?2 AND "
                "benchmark = ?3 AND engine = ?4 AND threads = ?5 AND metric = ?6", &st, e))
        return -1;
    bind_text(st, 1, machine_id);
    bind_text(st, 2, sync_mode);
    bind_text(st, 3, benchmark);
    bind_text(st, 4, engine);
    perf_db_bind_int64(st, 5, threads);
    bind_text(st, 6, metric);
    int rc = perf_db_step(st), found = 0;
    if (rc == PERF_DB_ROW) {
        read_noise(st, out);
        found = 1;
    } else if (rc != PERF_DB_DONE) {
        found = sqlerr(h, e, "reading a noise floor");
    }
    perf_db_finalize(st);
    return found;
}

int perf_history_list_noise_floors(perf_history *h, const char *machine_id,
                                   perf_noise_row **out, size_t *n, perf_error *e)
{
    perf_stmt *st;
    *out = NULL;
    *n = 0;
    if (prep(h, "SELECT * FROM noise_floors WHERE (?1 IS NULL OR machine_id = ?1) "
                "ORDER BY machine_id, sync_mode, benchmark, engine, threads, metric", &st, e))
        return -1;
    bind_text(st, 1, machine_id);
    perf_noise_row *v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = perf_db_step(st)) == PERF_DB_ROW) {
        perf_noise_row *nv = realloc(v, (cnt + 1) * sizeof *nv);
        if (!nv) {
            free(v);
            perf_db_finalize(st);
            return perf_seterr(e, "out of memory");
        }
        v = nv;
        read_noise(st, &v[cnt++]);
    }
    perf_db_finalize(st);
    if (rc != PERF_DB_DONE) {
        free(v);
        return sqlerr(h, e, "listing noise floors");
    }
    *out = v;
    *n = cnt;
    return 0;
}

/* ---- comparisons ------------------------------------------------------- */

static void bind_opt_run(perf_stmt *st, int i, int64_t id)
{
    if (id)
        perf_db_bind_int64(st, i, id);
    else
        perf_db_bind_null(st, i);
}

static int insert_comparison(perf_history *h, perf_comparison *c, int keep_id, perf_error *e)
{
    perf_stmt *a = NULL, *b = NULL;
    char sql[512];
    if (!c->created_at[0])
        perf_utc_now(c->created_at, sizeof c->created_at);
    if (exec(h, "BEGIN IMMEDIATE", e))
        return -1;
    perf_fmt(sql, sizeof sql,
             "INSERT INTO comparisons (created_at, kind, base_run, head_run, suite, forced, "
             "mismatch, exit_code, base_label, head_label%s) VALUES "
             "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10%s) RETURNING id",
             keep_id ? ", id" : "", keep_id ? ",?11" : "");
    if (prep(h, sql, &a, e))
        goto fail;
    if (keep_id)
        perf_db_bind_int64(a, 11, c->id);
    bind_text(a, 1, c->created_at);
    bind_text(a, 2, c->kind);
    bind_opt_run(a, 3, c->base_run);
    bind_opt_run(a, 4, c->head_run);
    bind_text(a, 5, c->suite);
    perf_db_bind_int64(a, 6, c->forced);
    bind_text(a, 7, c->mismatch);
    perf_db_bind_int64(a, 8, c->exit_code);
    bind_text(a, 9, c->base_label);
    bind_text(a, 10, c->head_label);
    if (perf_db_step(a) != PERF_DB_ROW) {
        sqlerr(h, e, "saving the comparison");
        goto fail;
    }
    c->id = perf_db_col_int64(a, 0);
    if (prep(h, "INSERT INTO comparison_rows VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
                "?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31)",
             &b, e))
        goto fail;
    for (size_t i = 0; i < c->n; i++) {
        const perf_cmp_row *r = &c->rows[i];
        perf_db_reset(b);
        perf_db_bind_int64(b, 1, c->id);
        bind_text(b, 2, r->rule);
        bind_text(b, 3, r->benchmark);
        bind_text(b, 4, r->engine);
        perf_db_bind_int64(b, 5, r->threads);
        bind_text(b, 6, r->metric);
        bind_text(b, 7, r->unit);
        perf_db_bind_int64(b, 8, r->direction);
        perf_db_bind_int64(b, 9, r->overhead);
        bind_text(b, 10, r->versus);
        perf_db_bind_int64(b, 11, (int)r->status);
        perf_db_bind_int64(b, 12, (int64_t)r->v.n_base);
        perf_db_bind_int64(b, 13, (int64_t)r->v.n_head);
        perf_db_bind_double(b, 14, r->v.median_base);
        perf_db_bind_double(b, 15, r->v.median_head);
        perf_db_bind_double(b, 16, r->v.g);
        perf_db_bind_double(b, 17, r->v.g_lo);
        perf_db_bind_double(b, 18, r->v.g_hi);
        perf_db_bind_double(b, 19, r->v.limit);
        perf_db_bind_double(b, 20, r->tolerance);
        perf_db_bind_double(b, 21, r->noise_floor);
        perf_db_bind_int64(b, 22, r->floor_calibrated);
        perf_db_bind_double(b, 23, r->v.p_value);
        perf_db_bind_int64(b, 24, r->v.p_exact);
        bind_text(b, 25, perf_row_word(r));
        perf_db_bind_int64(b, 26, (int)r->v.reps_needed);
        perf_db_bind_double(b, 27, r->mde90);
        perf_db_bind_double(b, 28, r->cv_base);
        perf_db_bind_double(b, 29, r->cv_head);
        bind_text(b, 30, r->v.reason ? r->v.reason : "");
        bind_text(b, 31, r->note);
        if (step_done(h, b, e, "saving a comparison row"))
            goto fail;
    }
    perf_db_finalize(a);
    perf_db_finalize(b);
    if (exec(h, "COMMIT", e)) {
        perf_db_exec(h->db, "ROLLBACK");
        return -1;
    }
    return 0;
fail:
    perf_db_finalize(a);
    perf_db_finalize(b);
    perf_db_exec(h->db, "ROLLBACK");
    if (!keep_id)
        c->id = 0;
    return -1;
}

int perf_history_save_comparison(perf_history *h, perf_comparison *c, perf_error *e)
{
    return insert_comparison(h, c, 0, e);
}

int perf_history_import_comparison(perf_history *h, perf_comparison *c, perf_error *e)
{
    if (c->id <= 0)
        return perf_seterr(e, "importing a comparison needs its id");
    return insert_comparison(h, c, 1, e);
}

static perf_verdict verdict_from_word(const char *w)
{
    if (!strcmp(w, "REGRESSION"))
        return PERF_VERDICT_REGRESSION;
    if (!strcmp(w, "improvement"))
        return PERF_VERDICT_IMPROVEMENT;
    if (!strcmp(w, "INCONCLUSIVE"))
        return PERF_VERDICT_INCONCLUSIVE;
    return PERF_VERDICT_SAME;
}

int perf_history_load_comparison(perf_history *h, int64_t id, const char *kinds,
                                 perf_comparison *out, perf_error *e)
{
    char klist[128];
    perf_stmt *a = NULL, *b = NULL;
    memset(out, 0, sizeof *out);
    if (prep(h, "SELECT id, created_at, kind, base_run, head_run, suite, forced, mismatch, "
                "exit_code, base_label, head_label FROM comparisons WHERE (?1 = 0 OR id = ?1) "
                "AND (?2 IS NULL OR instr(?2, ',' || kind || ',') > 0) "
                "ORDER BY id DESC LIMIT 1", &a, e))
        return -1;
    perf_db_bind_int64(a, 1, id);
    if (kinds) {
        perf_fmt(klist, sizeof klist, ",%s,", kinds);
        bind_text(a, 2, klist);
    }
    int rc = perf_db_step(a);
    if (rc != PERF_DB_ROW) {
        perf_db_finalize(a);
        return rc == PERF_DB_DONE ? 0 : sqlerr(h, e, "loading a comparison");
    }
    out->id = perf_db_col_int64(a, 0);
    col_text(a, 1, out->created_at, sizeof out->created_at);
    col_text(a, 2, out->kind, sizeof out->kind);
    out->base_run = perf_db_col_int64(a, 3);
    out->head_run = perf_db_col_int64(a, 4);
    col_text(a, 5, out->suite, sizeof out->suite);
    out->forced = perf_db_col_int(a, 6);
    col_text(a, 7, out->mismatch, sizeof out->mismatch);
    int saved_exit = perf_db_col_int(a, 8);
    col_text(a, 9, out->base_label, sizeof out->base_label);
    col_text(a, 10, out->head_label, sizeof out->head_label);
    perf_db_finalize(a);
    if (prep(h, "SELECT * FROM comparison_rows WHERE comparison_id = ?1 ORDER BY rowid", &b, e))
        return -1;
    perf_db_bind_int64(b, 1, out->id);
    while ((rc = perf_db_step(b)) == PERF_DB_ROW) {
        perf_cmp_row r;
        memset(&r, 0, sizeof r);
        col_text(b, 1, r.rule, sizeof r.rule);
        col_text(b, 2, r.benchmark, sizeof r.benchmark);
        col_text(b, 3, r.engine, sizeof r.engine);
        r.threads = perf_db_col_int(b, 4);
        col_text(b, 5, r.metric, sizeof r.metric);
        col_text(b, 6, r.unit, sizeof r.unit);
        r.direction = perf_db_col_int(b, 7);
        r.overhead = perf_db_col_int(b, 8);
        col_text(b, 9, r.versus, sizeof r.versus);
        r.status = (perf_row_status)perf_db_col_int(b, 10);
        r.v.n_base = (size_t)perf_db_col_int64(b, 11);
        r.v.n_head = (size_t)perf_db_col_int64(b, 12);
        r.v.median_base = perf_db_col_double(b, 13);
        r.v.median_head = perf_db_col_double(b, 14);
        r.v.g = perf_db_col_double(b, 15);
        r.v.g_lo = perf_db_col_double(b, 16);
        r.v.g_hi = perf_db_col_double(b, 17);
        r.v.limit = perf_db_col_double(b, 18);
        r.tolerance = perf_db_col_double(b, 19);
        r.noise_floor = perf_db_col_double(b, 20);
        r.floor_calibrated = perf_db_col_int(b, 21);
        /* A count row has no test: its p was NaN, which SQLite stores as
         * NULL; reading that back as 0 would print "p 0". */
        r.v.p_value = perf_db_col_is_null(b, 22) ? NAN
                                                                 : perf_db_col_double(b, 22);
        r.v.p_exact = perf_db_col_int(b, 23);
        char word[32];
        col_text(b, 24, word, sizeof word);
        r.v.verdict = verdict_from_word(word);
        r.v.reps_needed = (unsigned)perf_db_col_int(b, 25);
        r.mde90 = perf_db_col_double(b, 26);
        r.cv_base = perf_db_col_double(b, 27);
        r.cv_head = perf_db_col_double(b, 28);
        col_text(b, 29, r.reason_buf, sizeof r.reason_buf);
        r.v.reason = r.reason_buf;
        col_text(b, 30, r.note, sizeof r.note);
        if (perf_comparison_add(out, &r)) {
            perf_db_finalize(b);
            perf_comparison_free(out);
            return perf_seterr(e, "out of memory");
        }
    }
    perf_db_finalize(b);
    if (rc != PERF_DB_DONE) {
        perf_comparison_free(out);
        return sqlerr(h, e, "loading comparison rows");
    }
    perf_comparison_tally(out);
    out->exit_code = saved_exit;
    return 1;
}

/* ---- series ------------------------------------------------------------ */

int perf_history_series(perf_history *h, const perf_run_filter *f, const perf_series_key *k,
                        perf_series_point **out, size_t *n, perf_error *e)
{
    perf_stmt *st;
    *out = NULL;
    *n = 0;
    if (prep(h, "SELECT r.id, r.created_at, r.commit_sha, r.dirty, s.value FROM runs r JOIN "
                "samples s ON s.run_id = r.id WHERE" FILTER_WHERE
                "AND s.benchmark = ?5 AND s.engine = ?6 AND s.threads = ?7 AND s.metric = ?8 "
                "ORDER BY r.id, s.rowid", &st, e))
        return -1;
    bind_filter(st, f);
    bind_text(st, 5, k->benchmark);
    bind_text(st, 6, k->engine);
    perf_db_bind_int64(st, 7, k->threads);
    bind_text(st, 8, k->metric);
    perf_series_point *pts = NULL;
    size_t np = 0, cap = 0, nv = 0, vcap = 0;
    double *vals = NULL;
    int rc;
    int64_t cur = 0;
    /* Rows arrive grouped by run; a point is closed when the run changes. */
    for (;;) {
        rc = perf_db_step(st);
        int64_t id = rc == PERF_DB_ROW ? perf_db_col_int64(st, 0) : 0;
        if ((rc != PERF_DB_ROW || id != cur) && nv) {
            perf_median(vals, nv, &pts[np - 1].median);
            perf_quantile(vals, nv, 0.25, &pts[np - 1].q25);
            perf_quantile(vals, nv, 0.75, &pts[np - 1].q75);
            pts[np - 1].n = nv;
            nv = 0;
        }
        if (rc != PERF_DB_ROW)
            break;
        if (id != cur) {
            if (np == cap) {
                size_t nc = cap ? cap * 2 : 32;
                perf_series_point *q = realloc(pts, nc * sizeof *q);
                if (!q)
                    goto oom;
                pts = q;
                cap = nc;
            }
            perf_series_point *p = &pts[np++];
            memset(p, 0, sizeof *p);
            p->run_id = id;
            col_text(st, 1, p->created_at, sizeof p->created_at);
            col_text(st, 2, p->commit, sizeof p->commit);
            p->dirty = perf_db_col_is_null(st, 3) ? -1 : perf_db_col_int(st, 3);
            cur = id;
        }
        if (nv == vcap) {
            size_t nc = vcap ? vcap * 2 : 64;
            double *q = realloc(vals, nc * sizeof *q);
            if (!q)
                goto oom;
            vals = q;
            vcap = nc;
        }
        vals[nv++] = perf_db_col_double(st, 4);
    }
    perf_db_finalize(st);
    free(vals);
    if (rc != PERF_DB_DONE) {
        free(pts);
        return sqlerr(h, e, "reading a series");
    }
    *out = pts;
    *n = np;
    return 0;
oom:
    perf_db_finalize(st);
    free(vals);
    free(pts);
    return perf_seterr(e, "out of memory");
}

int perf_history_series_unit(perf_history *h, const perf_series_key *k, char *unit, size_t cap,
                             int *direction, perf_error *e)
{
    perf_stmt *st;
    if (prep(h, "SELECT unit, direction FROM samples WHERE benchmark = ?1 AND engine = ?2 AND "
                "threads = ?3 AND metric = ?4 LIMIT 1", &st, e))
        return -1;
    bind_text(st, 1, k->benchmark);
    bind_text(st, 2, k->engine);
    perf_db_bind_int64(st, 3, k->threads);
    bind_text(st, 4, k->metric);
    int rc = perf_db_step(st), found = 0;
    if (rc == PERF_DB_ROW) {
        col_text(st, 0, unit, cap);
        *direction = perf_db_col_int(st, 1);
        found = 1;
    } else if (rc != PERF_DB_DONE) {
        found = sqlerr(h, e, "reading a series unit");
    }
    perf_db_finalize(st);
    return found;
}

int perf_history_series_keys(perf_history *h, const perf_run_filter *f, perf_series_key **out,
                             size_t *n, perf_error *e)
{
    perf_stmt *st;
    *out = NULL;
    *n = 0;
    if (prep(h, "SELECT s.benchmark, s.engine, s.threads, s.metric, min(s.rowid) AS first "
                "FROM runs r JOIN samples s ON s.run_id = r.id WHERE" FILTER_WHERE
                "GROUP BY s.benchmark, s.engine, s.threads, s.metric ORDER BY first", &st, e))
        return -1;
    bind_filter(st, f);
    perf_series_key *v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = perf_db_step(st)) == PERF_DB_ROW) {
        perf_series_key *q = realloc(v, (cnt + 1) * sizeof *q);
        if (!q) {
            free(v);
            perf_db_finalize(st);
            return perf_seterr(e, "out of memory");
        }
        v = q;
        perf_series_key *k = &v[cnt++];
        memset(k, 0, sizeof *k);
        col_text(st, 0, k->benchmark, sizeof k->benchmark);
        col_text(st, 1, k->engine, sizeof k->engine);
        k->threads = perf_db_col_int(st, 2);
        col_text(st, 3, k->metric, sizeof k->metric);
    }
    perf_db_finalize(st);
    if (rc != PERF_DB_DONE) {
        free(v);
        return sqlerr(h, e, "listing series");
    }
    *out = v;
    *n = cnt;
    return 0;
}
