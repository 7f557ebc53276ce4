/*
 * examples/quickstart.c — the smallest complete Lightning DB program: open,
 * write, read, delete, scan in order, run a transaction, close, reopen and
 * show that everything is still there.
 *
 *   make && build/examples/quickstart [DIR]
 *
 * Without DIR it works in a fresh temporary directory and removes it at
 * the end, so trying it leaves no 64 MiB log behind; with DIR the
 * database stays there to look at (`lightning scan -v DIR`).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lightningdb.h"

#define CHECK(call)                                                                   \
    do {                                                                              \
        int rc_ = (call);                                                             \
        if (rc_ != LDB_OK) {                                                          \
            fprintf(stderr, "%s failed: %s %s\n", #call, ldb_strerror(rc_), ldb_last_error()); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static void scan(ldb *db)
{
    ldb_iter *it;
    CHECK(ldb_iter_open(db, &it));
    for (ldb_iter_first(it); ldb_iter_valid(it); ldb_iter_next(it)) {
        const void *k, *v;
        size_t kl, vl;
        ldb_iter_key(it, &k, &kl);
        CHECK(ldb_iter_value(it, &v, &vl));
        printf("  %.*s = %.*s\n", (int)kl, (const char *)k, (int)vl, (const char *)v);
    }
    CHECK(ldb_iter_status(it));
    ldb_iter_close(it);
}

/* A database directory holds only files: remove them, then it. */
static void remove_db(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4096 + 256];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    char tmp[4096];
    const char *dir = argc > 1 ? argv[1] : NULL;
    if (!dir) {
        const char *t = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/quickstart-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmp)) {
            perror("mkdtemp");
            return 1;
        }
        dir = tmp;
    }
    ldb_options o;
    ldb_options_init(&o);
    o.sync_mode = LDB_SYNC_FULL; /* every commit is on disk when it returns */

    ldb *db;
    CHECK(ldb_open(dir, &o, &db));
    CHECK(ldb_put(db, "apple", 5, "red", 3));
    CHECK(ldb_put(db, "banana", 6, "yellow", 6));
    CHECK(ldb_put(db, "cherry", 6, "dark red", 8));
    CHECK(ldb_delete(db, "banana", 6));

    char buf[64];
    size_t len;
    CHECK(ldb_get(db, "apple", 5, buf, sizeof buf, &len));
    printf("get apple -> %.*s\n", (int)len, buf);
    printf("get banana -> %s\n", ldb_strerror(ldb_get(db, "banana", 6, buf, sizeof buf, &len)));

    /* A transaction: both writes or neither. */
    ldb_txn *t;
    CHECK(ldb_txn_begin(db, 0, &t));
    CHECK(ldb_txn_put(t, "date", 4, "brown", 5));
    CHECK(ldb_txn_put(t, "elderberry", 10, "purple", 6));
    CHECK(ldb_txn_commit(t));

    printf("scan:\n");
    scan(db);
    CHECK(ldb_close(db));

    CHECK(ldb_open(dir, &o, &db));
    ldb_stats st;
    CHECK(ldb_get_stats(db, &st));
    printf("reopened: %llu keys, recovered %llu records in %.3f ms\n",
           (unsigned long long)st.keys, (unsigned long long)st.recovery_records,
           st.recovery_seconds * 1e3);
    scan(db);
    CHECK(ldb_close(db));
    if (dir == tmp)
        remove_db(dir);
    else
        printf("the database is in %s\n", dir);
    return 0;
}
