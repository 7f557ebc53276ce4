/* perf/sqldb.c — the statement interface over SQLite and libpq
 * (sqldb.h). */
#include "perf/sqldb.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf/error.h"

#define PG_MAX_PARAMS 64

struct perf_db {
    int kind;
    sqlite3 *lite;
    PGconn *pg;
    char err[512];
};

struct perf_stmt {
    perf_db *db;
    sqlite3_stmt *lite;
    /* PostgreSQL: the rewritten SQL, text parameters, and the result
     * being walked */
    char *sql;
    int nparams;
    char *params[PG_MAX_PARAMS];
    PGresult *res;
    int row, nrows, executed;
};

perf_db *perf_db_from_sqlite(sqlite3 *lite)
{
    perf_db *db = calloc(1, sizeof *db);
    if (!db) {
        sqlite3_close(lite);
        return NULL;
    }
    db->kind = PERF_DB_SQLITE;
    db->lite = lite;
    return db;
}

perf_db *perf_db_from_pg(PGconn *pg)
{
    perf_db *db = calloc(1, sizeof *db);
    if (!db) {
        PQfinish(pg);
        return NULL;
    }
    db->kind = PERF_DB_POSTGRES;
    db->pg = pg;
    return db;
}

void perf_db_close(perf_db *db)
{
    if (!db)
        return;
    if (db->lite)
        sqlite3_close(db->lite);
    if (db->pg)
        PQfinish(db->pg);
    free(db);
}

int perf_db_kind(const perf_db *db)
{
    return db->kind;
}

sqlite3 *perf_db_sqlite(perf_db *db)
{
    return db->lite;
}

PGconn *perf_db_pg(perf_db *db)
{
    return db->pg;
}

static void pg_err(perf_db *db, const PGresult *r)
{
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !m[0])
        m = PQerrorMessage(db->pg);
    perf_strlcpy(db->err, m && m[0] ? m : "unknown PostgreSQL error", sizeof db->err);
    /* libpq ends its messages with a newline */
    size_t n = strlen(db->err);
    while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
        db->err[--n] = '\0';
}

const char *perf_db_errmsg(perf_db *db)
{
    if (db->kind == PERF_DB_SQLITE)
        return sqlite3_errmsg(db->lite);
    return db->err;
}

/* The PostgreSQL spelling of history.c's SQL (see sqldb.h). Returns a new
 * string and the highest parameter number, or NULL on allocation failure. */
static char *pg_sql(const char *sql, int *maxparam)
{
    size_t n = strlen(sql);
    char *out = malloc(n * 2 + 16);
    if (!out)
        return NULL;
    size_t o = 0;
    *maxparam = 0;
    if (!strncmp(sql, "BEGIN IMMEDIATE", 15)) {
        strcpy(out, "BEGIN");
        return out;
    }
    int in_str = 0;
    for (size_t i = 0; i < n;) {
        char ch = sql[i];
        if (ch == '\'') {
            in_str = !in_str;
            out[o++] = sql[i++];
            continue;
        }
        if (!in_str && ch == '?' && isdigit((unsigned char)sql[i + 1])) {
            int v = 0;
            i++;
            out[o++] = '$';
            while (isdigit((unsigned char)sql[i])) {
                v = v * 10 + (sql[i] - '0');
                out[o++] = sql[i++];
            }
            if (v > *maxparam)
                *maxparam = v;
            /* "?N IS NULL" alone gives PostgreSQL no type for the
             * parameter; history.c only tests text parameters so. */
            if (!strncmp(sql + i, " IS NULL", 8)) {
                memcpy(out + o, "::text", 6);
                o += 6;
            }
            continue;
        }
        int word_start = i == 0 || !(isalnum((unsigned char)sql[i - 1]) || sql[i - 1] == '_');
        if (!in_str && word_start && !strncmp(sql + i, "rowid", 5) &&
            !(isalnum((unsigned char)sql[i + 5]) || sql[i + 5] == '_')) {
            memcpy(out + o, "seq", 3);
            o += 3;
            i += 5;
            continue;
        }
        if (!in_str && word_start && !strncmp(sql + i, "instr(", 6)) {
            memcpy(out + o, "strpos(", 7);
            o += 7;
            i += 6;
            continue;
        }
        out[o++] = sql[i++];
    }
    out[o] = '\0';
    return out;
}

int perf_db_exec(perf_db *db, const char *sql)
{
    if (db->kind == PERF_DB_SQLITE) {
        char *msg = NULL;
        if (sqlite3_exec(db->lite, sql, NULL, NULL, &msg) != SQLITE_OK) {
            sqlite3_free(msg);
            return -1;
        }
        return 0;
    }
    int mp;
    char *q = pg_sql(sql, &mp);
    if (!q) {
        perf_strlcpy(db->err, "out of memory", sizeof db->err);
        return -1;
    }
    PGresult *r = PQexec(db->pg, q);
    free(q);
    ExecStatusType s = PQresultStatus(r);
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : -1;
    if (rc)
        pg_err(db, r);
    PQclear(r);
    return rc;
}

int perf_db_prepare(perf_db *db, const char *sql, perf_stmt **out)
{
    *out = NULL;
    perf_stmt *st = calloc(1, sizeof *st);
    if (!st) {
        perf_strlcpy(db->err, "out of memory", sizeof db->err);
        return -1;
    }
    st->db = db;
    if (db->kind == PERF_DB_SQLITE) {
        if (sqlite3_prepare_v2(db->lite, sql, -1, &st->lite, NULL) != SQLITE_OK) {
            free(st);
            return -1;
        }
    } else {
        st->sql = pg_sql(sql, &st->nparams);
        if (!st->sql || st->nparams > PG_MAX_PARAMS) {
            perf_strlcpy(db->err, st->sql ? "too many parameters" : "out of memory",
                         sizeof db->err);
            free(st->sql);
            free(st);
            return -1;
        }
    }
    *out = st;
    return 0;
}

static void pg_clear(perf_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = st->nrows = st->executed = 0;
}

void perf_db_finalize(perf_stmt *st)
{
    if (!st)
        return;
    if (st->lite)
        sqlite3_finalize(st->lite);
    pg_clear(st);
    for (int i = 0; i < PG_MAX_PARAMS; i++)
        free(st->params[i]);
    free(st->sql);
    free(st);
}

void perf_db_reset(perf_stmt *st)
{
    if (st->lite)
        sqlite3_reset(st->lite);
    else
        pg_clear(st);
}

static void pg_set(perf_stmt *st, int i, const char *text)
{
    if (i < 1 || i > PG_MAX_PARAMS)
        return;
    free(st->params[i - 1]);
    st->params[i - 1] = text ? strdup(text) : NULL;
}

void perf_db_bind_text(perf_stmt *st, int i, const char *s)
{
    if (st->lite) {
        if (s)
            sqlite3_bind_text(st->lite, i, s, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st->lite, i);
        return;
    }
    pg_set(st, i, s);
}

void perf_db_bind_int64(perf_stmt *st, int i, int64_t v)
{
    if (st->lite) {
        sqlite3_bind_int64(st->lite, i, v);
        return;
    }
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    pg_set(st, i, b);
}

void perf_db_bind_double(perf_stmt *st, int i, double v)
{
    if (st->lite) {
        sqlite3_bind_double(st->lite, i, v);
        return;
    }
    if (isnan(v)) {
        pg_set(st, i, NULL);
        return;
    }
    char b[40];
    if (isinf(v))
        snprintf(b, sizeof b, "%s", v > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(b, sizeof b, "%.17g", v);
    pg_set(st, i, b);
}

void perf_db_bind_null(perf_stmt *st, int i)
{
    if (st->lite)
        sqlite3_bind_null(st->lite, i);
    else
        pg_set(st, i, NULL);
}

int perf_db_step(perf_stmt *st)
{
    if (st->lite) {
        int rc = sqlite3_step(st->lite);
        return rc == SQLITE_ROW ? PERF_DB_ROW : rc == SQLITE_DONE ? PERF_DB_DONE : PERF_DB_ERROR;
    }
    if (!st->executed) {
        st->res = PQexecParams(st->db->pg, st->sql, st->nparams, NULL,
                               (const char *const *)st->params, NULL, NULL, 0);
        ExecStatusType s = PQresultStatus(st->res);
        if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
            pg_err(st->db, st->res);
            PQclear(st->res);
            st->res = NULL;
            return PERF_DB_ERROR;
        }
        st->executed = 1;
        st->nrows = s == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
        st->row = 0;
    } else {
        st->row++;
    }
    return st->row < st->nrows ? PERF_DB_ROW : PERF_DB_DONE;
}

int perf_db_col_is_null(perf_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_type(st->lite, i) == SQLITE_NULL;
    return !st->res || PQgetisnull(st->res, st->row, i);
}

const char *perf_db_col_text(perf_stmt *st, int i)
{
    if (st->lite)
        return (const char *)sqlite3_column_text(st->lite, i);
    if (perf_db_col_is_null(st, i))
        return NULL;
    return PQgetvalue(st->res, st->row, i);
}

int64_t perf_db_col_int64(perf_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_int64(st->lite, i);
    const char *t = perf_db_col_text(st, i);
    return t ? strtoll(t, NULL, 10) : 0;
}

int perf_db_col_int(perf_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_int(st->lite, i);
    return (int)perf_db_col_int64(st, i);
}

double perf_db_col_double(perf_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_double(st->lite, i);
    const char *t = perf_db_col_text(st, i);
    return t ? strtod(t, NULL) : 0.0;
}
