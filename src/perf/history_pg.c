/* perf/history_pg.c — connecting to, checking and migrating a history on
 * PostgreSQL (history_pg.h). */
#include "perf/history_pg.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lightningdb.h"
#include "perf/history.h"

/* Step i takes the schema from version i to i + 1; released steps are
 * never edited (history.c's SQLite migrations are the same tables). */
static const char *const pg_migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE machines ("
    "  machine_id TEXT PRIMARY KEY, info_json TEXT NOT NULL DEFAULT '{}',"
    "  first_seen TEXT NOT NULL, last_seen TEXT NOT NULL);"
    "CREATE TABLE runs ("
    "  id BIGSERIAL PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL,"
    "  label TEXT NOT NULL DEFAULT '', group_id BIGINT,"
    "  commit_sha TEXT NOT NULL DEFAULT '', dirty BIGINT,"
    "  compiler TEXT NOT NULL DEFAULT '', cflags TEXT NOT NULL DEFAULT '',"
    "  machine_id TEXT NOT NULL REFERENCES machines(machine_id),"
    "  machine_json TEXT, suite TEXT NOT NULL, suite_path TEXT NOT NULL DEFAULT '',"
    "  suite_text TEXT, sync_mode TEXT NOT NULL, bench_bin TEXT NOT NULL DEFAULT '',"
    "  bench_args TEXT NOT NULL DEFAULT '', inject_slowdown DOUBLE PRECISION NOT NULL DEFAULT 0,"
    "  duration_s DOUBLE PRECISION);"
    "CREATE INDEX runs_by_key ON runs(machine_id, sync_mode, suite, kind, id);"
    "CREATE TABLE samples ("
    "  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  benchmark TEXT NOT NULL, engine TEXT NOT NULL, sync_mode TEXT NOT NULL,"
    "  threads BIGINT NOT NULL, params TEXT, repetition BIGINT NOT NULL,"
    "  proc BIGINT NOT NULL DEFAULT 0, metric TEXT NOT NULL, value DOUBLE PRECISION NOT NULL,"
    "  unit TEXT NOT NULL DEFAULT '',"
    "  direction BIGINT NOT NULL CHECK (direction IN (-1, 1)),"
    "  seq BIGSERIAL);"
    "CREATE INDEX samples_by_run ON samples(run_id, benchmark, engine, threads, metric);"
    "CREATE INDEX samples_by_series ON samples(benchmark, engine, threads, metric);"
    "CREATE TABLE baselines ("
    "  machine_id TEXT NOT NULL, sync_mode TEXT NOT NULL, suite TEXT NOT NULL,"
    "  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  set_at TEXT NOT NULL, PRIMARY KEY (machine_id, sync_mode, suite));"
    "CREATE TABLE noise_floors ("
    "  machine_id TEXT NOT NULL, sync_mode TEXT NOT NULL, benchmark TEXT NOT NULL,"
    "  engine TEXT NOT NULL, threads BIGINT NOT NULL, metric TEXT NOT NULL,"
    "  floor DOUBLE PRECISION NOT NULL, raw DOUBLE PRECISION NOT NULL, k BIGINT NOT NULL,"
    "  cv DOUBLE PRECISION, n_a BIGINT, n_b BIGINT, run_a BIGINT, run_b BIGINT,"
    "  calibrated_at TEXT NOT NULL,"
    "  PRIMARY KEY (machine_id, sync_mode, benchmark, engine, threads, metric));"
    "CREATE TABLE comparisons ("
    "  id BIGSERIAL PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL,"
    "  base_run BIGINT, head_run BIGINT, suite TEXT NOT NULL DEFAULT '',"
    "  forced BIGINT NOT NULL DEFAULT 0, mismatch TEXT NOT NULL DEFAULT '',"
    "  exit_code BIGINT NOT NULL, base_label TEXT NOT NULL DEFAULT '',"
    "  head_label TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE comparison_rows ("
    "  comparison_id BIGINT NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE,"
    "  rule TEXT NOT NULL, benchmark TEXT NOT NULL, engine TEXT NOT NULL,"
    "  threads BIGINT NOT NULL, metric TEXT NOT NULL, unit TEXT NOT NULL,"
    "  direction BIGINT NOT NULL, overhead BIGINT NOT NULL, versus TEXT NOT NULL,"
    "  status BIGINT NOT NULL, n_base BIGINT, n_head BIGINT,"
    "  median_base DOUBLE PRECISION, median_head DOUBLE PRECISION, g DOUBLE PRECISION,"
    "  g_lo DOUBLE PRECISION, g_hi DOUBLE PRECISION, limit_g DOUBLE PRECISION,"
    "  tolerance DOUBLE PRECISION, noise_floor DOUBLE PRECISION, floor_calibrated BIGINT,"
    "  p_value DOUBLE PRECISION, p_exact BIGINT, verdict TEXT NOT NULL, reps_needed BIGINT,"
    "  mde90 DOUBLE PRECISION, cv_base DOUBLE PRECISION, cv_head DOUBLE PRECISION,"
    "  reason TEXT, note TEXT, seq BIGSERIAL);"
    "CREATE INDEX comparison_rows_by_id ON comparison_rows(comparison_id);",
    /* 1 -> 2: testbeds (history.c's step 1 -> 2 says why) */
    "ALTER TABLE runs ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';"
    "UPDATE runs SET fingerprint = machine_id;",
};
#define PG_N_MIGRATIONS (sizeof pg_migrations / sizeof pg_migrations[0])
_Static_assert(PG_N_MIGRATIONS == PERF_HISTORY_SCHEMA_VERSION,
               "one PostgreSQL migration per schema version");

/* Any fixed number: all lightning processes migrating one database
 * serialise on it. */
#define PG_MIGRATION_LOCK 0x4c4450455246LL /* "LDPERF" */

int perf_history_is_url(const char *path)
{
    return path && (!strncmp(path, "postgresql://", 13) || !strncmp(path, "postgres://", 11));
}

void perf_history_redact(const char *url, char *out, size_t cap)
{
    perf_strlcpy(out, url, cap);
    /* scheme://user:PASSWORD@host */
    char *scheme = strstr(out, "://");
    if (scheme) {
        char *auth = scheme + 3, *at = strchr(auth, '@'), *slash = strchr(auth, '/');
        char *colon = strchr(auth, ':');
        if (at && (!slash || at < slash) && colon && colon < at) {
            char rest[4096];
            perf_strlcpy(rest, at, sizeof rest);
            perf_fmt(colon, cap - (size_t)(colon - out), ":***%s", rest);
        }
    }
    /* ?password=... or &password=... */
    char *p = strstr(out, "password=");
    if (p && (p[-1] == '?' || p[-1] == '&')) {
        char *end = strchr(p, '&');
        char rest[4096] = "";
        if (end)
            perf_strlcpy(rest, end, sizeof rest);
        perf_fmt(p, cap - (size_t)(p - out), "password=***%s", rest);
    }
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg; /* NOTICEs of CREATE ... IF NOT EXISTS are not news */
}

static int connect_pg(const char *url, PGconn **out, perf_error *e)
{
    char shown[4096];
    perf_history_redact(url, shown, sizeof shown);
    PGconn *c = PQconnectdb(url);
    if (!c)
        return perf_seterr(e, "cannot connect to history %s: out of memory", shown);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[900];
        perf_strlcpy(msg, PQerrorMessage(c), sizeof msg);
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        PQfinish(c);
        return perf_seterr(e, "cannot connect to history %s: %s", shown, msg);
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    *out = c;
    return 0;
}

/* 0 and *v, or -1. A missing schema or table is version 0 with *state
 * saying which: 0 nothing there, 1 a lightning_perf schema without a
 * history in it (empty), 2 with someone else's tables, 3 a history. */
static int read_version(PGconn *c, const char *shown, int *v, int *state, perf_error *e)
{
    *v = 0;
    *state = 0;
    PGresult *r = PQexec(c, "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = "
                            "'" PERF_HISTORY_PG_SCHEMA "'), "
                            "to_regclass('" PERF_HISTORY_PG_SCHEMA ".schema_migrations') IS NOT "
                            "NULL, (SELECT count(*) FROM pg_tables WHERE schemaname = '"
                            PERF_HISTORY_PG_SCHEMA "')");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        perf_seterr(e, "history %s: %s", shown, PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    int has_schema = atoi(PQgetvalue(r, 0, 0)) > 0;
    int has_table = PQgetvalue(r, 0, 1)[0] == 't';
    int tables = atoi(PQgetvalue(r, 0, 2));
    PQclear(r);
    if (!has_schema)
        return 0;
    if (!has_table) {
        *state = tables ? 2 : 1;
        return 0;
    }
    *state = 3;
    r = PQexec(c, "SELECT coalesce(max(version), 0) FROM " PERF_HISTORY_PG_SCHEMA
                  ".schema_migrations");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        perf_seterr(e, "history %s: reading the schema version: %s", shown,
                    PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    *v = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

static int run(PGconn *c, const char *sql, const char *shown, const char *what, perf_error *e)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        perf_seterr(e, "history %s: %s: %s", shown, what, PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

static int migrate(PGconn *c, const char *shown, perf_error *e)
{
    for (;;) {
        char sql[512];
        if (run(c, "BEGIN", shown, "starting a migration", e))
            return -1;
        perf_fmt(sql, sizeof sql,
                 "SELECT pg_advisory_xact_lock(%lld); CREATE SCHEMA IF NOT EXISTS %s; "
                 "CREATE TABLE IF NOT EXISTS %s.schema_migrations (version INTEGER PRIMARY KEY, "
                 "applied_at TEXT NOT NULL, applied_by TEXT NOT NULL)",
                 (long long)PG_MIGRATION_LOCK, PERF_HISTORY_PG_SCHEMA, PERF_HISTORY_PG_SCHEMA);
        if (run(c, sql, shown, "locking for a migration", e))
            goto fail;
        /* Another process may have migrated while we waited for the lock. */
        int v, state;
        if (read_version(c, shown, &v, &state, e))
            goto fail;
        if (v > PERF_HISTORY_SCHEMA_VERSION) {
            perf_seterr(e, "history %s has schema version %d, newer than this lightning "
                           "understands (%d); use a newer lightning, or another --history",
                        shown, v, PERF_HISTORY_SCHEMA_VERSION);
            goto fail;
        }
        if (v == PERF_HISTORY_SCHEMA_VERSION)
            return run(c, "COMMIT", shown, "finishing a migration", e);
        if (run(c, pg_migrations[v], shown, "migrating", e))
            goto fail;
        char now[32], by[64];
        perf_utc_now(now, sizeof now);
        perf_fmt(by, sizeof by, "lightning %d.%d.%d", LDB_VERSION_MAJOR, LDB_VERSION_MINOR,
                 LDB_VERSION_PATCH);
        perf_fmt(sql, sizeof sql,
                 "INSERT INTO schema_migrations VALUES (%d, '%s', '%s');"
                 "INSERT INTO meta VALUES ('schema_version', '%d') ON CONFLICT (key) DO UPDATE "
                 "SET value = excluded.value;",
                 v + 1, now, by, v + 1);
        if (run(c, sql, shown, "recording the migration", e))
            goto fail;
        if (v == 0) {
            perf_fmt(sql, sizeof sql,
                     "INSERT INTO meta VALUES ('created_at', '%s'), ('created_by', '%s')", now,
                     by);
            if (run(c, sql, shown, "writing meta", e))
                goto fail;
        }
        if (run(c, "COMMIT", shown, "committing a migration", e))
            return -1;
    }
fail:
    PQclear(PQexec(c, "ROLLBACK"));
    return -1;
}

int perf_history_pg_open(const char *url, int create, perf_db **out, perf_error *e)
{
    *out = NULL;
    char shown[4096];
    perf_history_redact(url, shown, sizeof shown);
    PGconn *c;
    if (connect_pg(url, &c, e))
        return -1;
    int v, state;
    if (run(c, "SET search_path TO " PERF_HISTORY_PG_SCHEMA, shown, "setting the schema", e) ||
        read_version(c, shown, &v, &state, e))
        goto fail;
    if (state == 2) {
        perf_seterr(e, "%s has a schema %s that is not a lightning perf history (it has tables "
                       "and no schema_migrations)", shown, PERF_HISTORY_PG_SCHEMA);
        goto fail;
    }
    if (state < 3 && !create) {
        perf_seterr(e, "no history at %s (run `lightning perf run` first, or pass --history)",
                    shown);
        goto fail;
    }
    if (v > PERF_HISTORY_SCHEMA_VERSION) {
        perf_seterr(e, "history %s has schema version %d, newer than this lightning understands "
                       "(%d); use a newer lightning, or another --history",
                    shown, v, PERF_HISTORY_SCHEMA_VERSION);
        goto fail;
    }
    if (v < PERF_HISTORY_SCHEMA_VERSION && migrate(c, shown, e))
        goto fail;
    if (!(*out = perf_db_from_pg(c)))
        return perf_seterr(e, "out of memory");
    return 0;
fail:
    PQfinish(c);
    return -1;
}

int perf_history_pg_version(const char *url, int *version, perf_error *e)
{
    char shown[4096];
    perf_history_redact(url, shown, sizeof shown);
    PGconn *c;
    if (connect_pg(url, &c, e))
        return -1;
    int state;
    int rc = read_version(c, shown, version, &state, e);
    PQfinish(c);
    return rc;
}
