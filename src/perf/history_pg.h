/*
 * perf/history_pg.h — the history on PostgreSQL: `--history
 * postgresql://...` (or LIGHTNING_PERF_HISTORY), for a history that many
 * machines and CI runners share. Same tables, columns and semantics as
 * the SQLite file (history.h; history.c runs the same queries on both
 * through sqldb.h); the SQLite file stays the embedded default.
 *
 * Layout: everything lives in the schema `lightning_perf` of the database
 * the URL names (so a database with other tenants is never touched
 * outside it). Integer columns are BIGINT, reals DOUBLE PRECISION, ids
 * BIGSERIAL; samples and comparison_rows carry a BIGSERIAL `seq` for
 * insertion order (SQLite's rowid).
 *
 * Migrations are versioned and append-only, as for SQLite: the table
 * schema_migrations(version, applied_at, applied_by) records each step,
 * meta.schema_version the current one. Opening migrates forward, each
 * step in one transaction under a PostgreSQL advisory lock, so several
 * processes opening a new or old history at once migrate it exactly once;
 * a newer schema than this build knows is refused, and so is a
 * `lightning_perf` schema holding tables that are not a history.
 *
 * Many writers: every write is one transaction (a run with all its
 * samples, a comparison with its rows); ids come from sequences and the
 * machine and baseline rows are upserts, so concurrent runners never
 * collide or lose a row.
 *
 * Contract: called by history.c only. Returns 0 or -1 with e set; the URL
 * is never shown with its password (perf_history_redact).
 */
#ifndef PERF_HISTORY_PG_H
#define PERF_HISTORY_PG_H

#include <stddef.h>

#include "perf/error.h"
#include "perf/sqldb.h"

#define PERF_HISTORY_PG_SCHEMA "lightning_perf"

/* 1 when path is a PostgreSQL URL (postgresql:// or postgres://). */
int perf_history_is_url(const char *path);

/* The URL with any password replaced by "***". */
void perf_history_redact(const char *url, char *out, size_t cap);

/* Connects, checks and migrates; *out is a PERF_DB_POSTGRES perf_db. */
int perf_history_pg_open(const char *url, int create, perf_db **out, perf_error *e);

/* The schema version without migrating (0: no history there yet). */
int perf_history_pg_version(const char *url, int *version, perf_error *e);

#endif /* PERF_HISTORY_PG_H */
