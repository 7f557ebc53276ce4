/*
 * tests/common/pgtest.h — a throwaway PostgreSQL server for the tests of
 * the PostgreSQL history: Debian's postgresql (initdb and pg_ctl from
 * /usr/lib/postgresql/15/bin, or $PG_BINDIR), a cluster in a fresh
 * directory under /tmp, listening only on a unix socket in that directory,
 * trust authentication for the role "perf". As root (CI) the cluster runs
 * as the user nobody through runuser, because postgres refuses to run as
 * root. pgtest_stop stops it (pg_ctl -m immediate) and removes the
 * directory.
 *
 * A test that needs the server fails when it cannot start: it is never
 * skipped (the log's tail is printed).
 */
#ifndef PGTEST_H
#define PGTEST_H

#include <stddef.h>

typedef struct pgtest {
    char dir[64];
    char url[320];   /* postgresql:///postgres?host=DIR&user=perf */
    int running;
} pgtest;

/* 0, or -1 with the reason on stderr. */
int pgtest_start(pgtest *p);
void pgtest_stop(pgtest *p);
/* Runs SQL on the server (psql-free: libpq); 0 or -1 with the message
 * on stderr. */
int pgtest_exec(const pgtest *p, const char *sql);
/* A URL for another database on the same server, created when missing. */
int pgtest_database(const pgtest *p, const char *name, char *url, size_t cap);

#endif
