/* tests/common/pgtest.c — a throwaway PostgreSQL cluster (pgtest.h). */
#include "pgtest.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *bindir(void)
{
    const char *b = getenv("PG_BINDIR");
    return b && b[0] ? b : "/usr/lib/postgresql/15/bin";
}

/* Runs a shell command as the cluster's owner. */
static int as_owner(const char *cmd)
{
    char full[2048];
    if (geteuid() == 0)
        snprintf(full, sizeof full, "runuser -u nobody -- sh -c '%s'", cmd);
    else
        snprintf(full, sizeof full, "sh -c '%s'", cmd);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int pgtest_start(pgtest *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/ldbpg_XXXXXX");
    if (!mkdtemp(p->dir)) {
        perror("pgtest: mkdtemp");
        return -1;
    }
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("nobody");
        if (!pw || chown(p->dir, pw->pw_uid, pw->pw_gid)) {
            fprintf(stderr, "pgtest: cannot give %s to the user nobody\n", p->dir);
            return -1;
        }
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s/initdb -D %s/data -A trust -U perf -E UTF8 --no-sync >%s/initdb.log 2>&1",
             bindir(), p->dir, p->dir);
    if (as_owner(cmd)) {
        fprintf(stderr, "pgtest: initdb failed (is Debian's postgresql installed? make deps):\n");
        snprintf(cmd, sizeof cmd, "tail -n 20 %s/initdb.log >&2", p->dir);
        if (system(cmd)) {
        }
        return -1;
    }
    /* No TCP, a socket in the directory, no fsync: a test server. */
    snprintf(cmd, sizeof cmd,
             "%s/pg_ctl -D %s/data -l %s/server.log -w -t 60 -o \"-k %s -c listen_addresses= "
             "-c fsync=off -c max_connections=40\" start >%s/pg_ctl.log 2>&1",
             bindir(), p->dir, p->dir, p->dir, p->dir);
    if (as_owner(cmd)) {
        fprintf(stderr, "pgtest: the server did not start:\n");
        snprintf(cmd, sizeof cmd, "tail -n 20 %s/server.log %s/pg_ctl.log >&2", p->dir, p->dir);
        if (system(cmd)) {
        }
        return -1;
    }
    p->running = 1;
    snprintf(p->url, sizeof p->url, "postgresql:///postgres?host=%s&user=perf", p->dir);
    return 0;
}

void pgtest_stop(pgtest *p)
{
    char cmd[1024];
    if (p->running) {
        snprintf(cmd, sizeof cmd, "%s/pg_ctl -D %s/data -m immediate -w stop >/dev/null 2>&1",
                 bindir(), p->dir);
        as_owner(cmd);
        p->running = 0;
    }
    if (p->dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
        if (system(cmd)) {
        }
        p->dir[0] = '\0';
    }
}

static int exec_on(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pgtest: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "pgtest: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

int pgtest_exec(const pgtest *p, const char *sql)
{
    return exec_on(p->url, sql);
}

int pgtest_database(const pgtest *p, const char *name, char *url, size_t cap)
{
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    exec_on(p->url, sql); /* exists already: fine */
    snprintf(url, cap, "postgresql:///%s?host=%s&user=perf", name, p->dir);
    return 0;
}
