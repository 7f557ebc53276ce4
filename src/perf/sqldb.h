/*
 * perf/sqldb.h — one prepared-statement interface over the two history
 * backends: SQLite (the embedded default, one file) and PostgreSQL
 * (libpq, a history shared by many machines and runners).
 *
 * Why: history.c's queries are the same on both (the schema and its
 * semantics are one), so they are written once against this interface
 * with SQLite's numbered parameters (?1, ?2, ...). For PostgreSQL the SQL
 * is rewritten on the way in: ?N -> $N, rowid -> seq (the PostgreSQL
 * tables carry an explicit insertion-order column), instr( -> strpos(,
 * BEGIN IMMEDIATE -> BEGIN, "?N IS NULL" -> "$N::text IS NULL" (only text
 * parameters are tested so). Anything else must be portable SQL (upserts
 * with ON CONFLICT ... DO UPDATE, INSERT ... RETURNING id, subqueries
 * with an alias).
 *
 * Semantics follow SQLite's: bind, then step until PERF_DB_DONE; a value
 * that is NULL reads as 0 / "" unless asked with perf_db_col_is_null; a
 * NaN bound as a double is stored as NULL on both (SQLite does that by
 * itself). PostgreSQL values travel as text; doubles are printed with 17
 * significant digits so they round-trip exactly.
 *
 * Contract: a perf_db and its statements belong to one thread. Strings
 * returned by perf_db_col_text stay valid until the next step, reset or
 * finalize of that statement. perf_db_close releases the connection.
 */
#ifndef PERF_SQLDB_H
#define PERF_SQLDB_H

#include <stddef.h>
#include <stdint.h>

typedef struct perf_db perf_db;
typedef struct perf_stmt perf_stmt;

enum { PERF_DB_SQLITE = 0, PERF_DB_POSTGRES = 1 };
enum { PERF_DB_ERROR = -1, PERF_DB_DONE = 0, PERF_DB_ROW = 1 };

struct sqlite3;
struct pg_conn;

/* Takes ownership of the connection; NULL on allocation failure (the
 * connection is then closed). */
perf_db *perf_db_from_sqlite(struct sqlite3 *db);
perf_db *perf_db_from_pg(struct pg_conn *conn);
void perf_db_close(perf_db *db);
int perf_db_kind(const perf_db *db);
struct sqlite3 *perf_db_sqlite(perf_db *db);
struct pg_conn *perf_db_pg(perf_db *db);

/* The last error's text (the backend's message). */
const char *perf_db_errmsg(perf_db *db);

/* Runs one or more statements without parameters. 0 or -1. */
int perf_db_exec(perf_db *db, const char *sql);

int perf_db_prepare(perf_db *db, const char *sql, perf_stmt **out);
void perf_db_finalize(perf_stmt *st);   /* NULL is fine */
/* Back to before the first step; bindings are kept. */
void perf_db_reset(perf_stmt *st);

void perf_db_bind_text(perf_stmt *st, int i, const char *s);  /* NULL binds NULL */
void perf_db_bind_int64(perf_stmt *st, int i, int64_t v);
void perf_db_bind_double(perf_stmt *st, int i, double v);   /* NaN binds NULL */
void perf_db_bind_null(perf_stmt *st, int i);

/* PERF_DB_ROW, PERF_DB_DONE or PERF_DB_ERROR (perf_db_errmsg says why). */
int perf_db_step(perf_stmt *st);

int perf_db_col_is_null(perf_stmt *st, int i);
int64_t perf_db_col_int64(perf_stmt *st, int i);
int perf_db_col_int(perf_stmt *st, int i);
double perf_db_col_double(perf_stmt *st, int i);
const char *perf_db_col_text(perf_stmt *st, int i); /* NULL when NULL */

#endif /* PERF_SQLDB_H */
