/*
 * cli/cmd_db.c — `lightning put|get|del|scan|stats|check DIR ...`: enough to
 * inspect and repair a database by hand.
 *
 * Keys and values are taken literally from the command line; with --hex
 * they are hex strings (and printed as hex). Non-printable bytes in printed
 * keys and values are escaped as \xNN unless --raw is given.
 */
#include <ctype.h>
#include <getopt.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "lightningdb.h"

/* The last message, so a command can also put it in the files a CI job
 * reads (perf's --json/--junit/--comment) when it stops on an error. */
static char last_error[1024];

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    fprintf(stderr, "lightning: %s\n", last_error);
}

const char *cli_last_error(void)
{
    return last_error[0] ? last_error : NULL;
}

typedef struct dbopts {
    int hex, raw, verbose, json, salvage, create;
    long limit;
    ldb_sync_mode sync;
} dbopts;

static void db_usage(const char *cmd, FILE *f)
{
    if (!strcmp(cmd, "put"))
        fprintf(f, "usage: lightning put [--hex] [--sync none|normal|full] [--create] [--salvage]\n"
                   "                     DIR KEY VALUE\n"
                   "Writes KEY=VALUE as one durable commit (VALUE '-' reads standard input).\n"
                   "Keys are 1..%u bytes, values 0..%u bytes (16 MiB).\n"
                   "A new database is made only where DIR is missing or empty; --create makes\n"
                   "one in a directory that holds other files.\n"
                   "--salvage opens a damaged log by keeping what precedes the damage.\n",
                LDB_MAX_KEY, LDB_MAX_VALUE);
    else if (!strcmp(cmd, "get"))
        fprintf(f, "usage: lightning get [--hex] [--raw] [--salvage] DIR KEY\n"
                   "Prints KEY's value; exit status 1 when the key is absent.\n"
                   "--salvage reads a damaged log up to the damage.\n");
    else if (!strcmp(cmd, "del"))
        fprintf(f, "usage: lightning del [--hex] [--salvage] DIR KEY\n"
                   "Deletes KEY (absent keys are fine).\n");
    else if (!strcmp(cmd, "scan"))
        fprintf(f, "usage: lightning scan [--hex] [-v] [--limit N] [--salvage] DIR [FROM [TO]]\n"
                   "Lists keys in order from FROM (inclusive) to TO (exclusive); -v adds values;\n"
                   "--limit stops after N keys (N >= 1).\n");
    else if (!strcmp(cmd, "stats"))
        fprintf(f, "usage: lightning stats [--json] [--salvage] DIR\n"
                   "Opens the database read-only and prints its statistics.\n");
    else
        fprintf(f, "usage: lightning check DIR\n"
                   "Verifies every record's checksum without changing anything; lists every\n"
                   "damaged region with its file and offset. Exit status 0 when sound,\n"
                   "1 when damage was found, 2 when the check could not run.\n");
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decodes an argument (hex when asked) into a malloc'd buffer. */
static int decode_arg(const char *s, int hex, uint8_t **out, size_t *len)
{
    size_t n = strlen(s);
    if (!hex) {
        *out = malloc(n + 1);
        if (!*out) return -1;
        memcpy(*out, s, n);
        *len = n;
        return 0;
    }
    if (n % 2) return -1;
    uint8_t *b = malloc(n / 2 + 1);
    if (!b) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return -1;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *len = n / 2;
    return 0;
}

static void print_bytes(FILE *f, const void *p, size_t n, const dbopts *o)
{
    const uint8_t *b = p;
    if (o->hex) {
        for (size_t i = 0; i < n; i++) fprintf(f, "%02x", b[i]);
        return;
    }
    if (o->raw) {
        fwrite(b, 1, n, f);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (isprint(b[i]) && b[i] != '\\') fputc(b[i], f);
        else fprintf(f, "\\x%02x", b[i]);
    }
}

static uint8_t *read_stdin(size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, stdin);
        n += r;
        if (r == 0) break;
        if (n == cap) {
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
            cap *= 2;
        }
    }
    *len = n;
    return b;
}

/* What DIR is before a put may create a database in it: -1 missing, 0 an
 * empty directory, 1 a directory holding other files, 2 not a directory. A
 * lone LOCK file counts as empty: earlier versions of the read-only tools
 * left one behind in whatever directory they were pointed at. */
static int dir_state(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) return errno == ENOENT ? -1 : 1;
    if (!S_ISDIR(st.st_mode)) return 2;
    DIR *d = opendir(dir);
    if (!d) return 1;
    int other = 0;
    struct dirent *e;
    while (!other && (e = readdir(d)))
        other = strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "LOCK");
    closedir(d);
    return other;
}

static void open_error(const char *dir, int rc)
{
    const char *why = ldb_last_error();
    if (rc == LDB_NOTFOUND && *why) cli_error("%s", why);
    else cli_error("cannot open %s: %s%s%s", dir, ldb_strerror(rc), *why ? ": " : "", why);
}

/* Opens an existing database; only `put` may create one, and only where
 * nothing is lost by it (RocksDB's create_if_missing, plus an explicit
 * --create for a directory that already holds other files), so a typo in
 * DIR never turns some directory into a database with a 64 MiB log. */
static int open_db(const char *dir, const char *cmd, const dbopts *o, ldb **db)
{
    int read_only = strcmp(cmd, "put") && strcmp(cmd, "del");
    ldb_options opt;
    ldb_options_init(&opt);
    opt.read_only = read_only;
    opt.create_if_missing = 0;
    opt.sync_mode = o->sync;
    opt.salvage = o->salvage;
    int rc = ldb_open(dir, &opt, db);
    if (rc == LDB_NOTFOUND && !strcmp(cmd, "put")) {
        int st = dir_state(dir);
        if (st <= 0 || (st == 1 && o->create)) {
            opt.create_if_missing = 1;
            rc = ldb_open(dir, &opt, db);
        } else if (st == 1) {
            cli_error("%s is not a lightning database and holds other files; "
                      "use put --create to make a database there",
                      dir);
            return LDB_NOTFOUND;
        }
    }
    if (rc) open_error(dir, rc);
    return rc;
}

static void check_cb(void *arg, const char *file, uint64_t off, const char *problem)
{
    (void)arg;
    printf("%s @ %" PRIu64 ": %s\n", file, off, problem);
}

static int cmd_check(const char *dir)
{
    ldb_check_report r;
    int rc = ldb_check_dir(dir, check_cb, NULL, &r);
    if (rc != LDB_OK && rc != LDB_CORRUPTION) {
        const char *why = ldb_last_error();
        if (*why) cli_error("check: %s", why);
        else cli_error("check of %s failed: %s", dir, ldb_strerror(rc));
        return 2;
    }
    printf("%" PRIu64 " segments, %" PRIu64 " frames, %" PRIu64 " records, %" PRIu64
           " bytes of data, newest sequence %" PRIu64 "\n",
           r.segments, r.frames, r.records, r.data_bytes, r.max_seq);
    if (r.torn_tail_bytes)
        printf("torn tail: %" PRIu64 " bytes (an interrupted write; cut off at next open)\n",
               r.torn_tail_bytes);
    if (rc == LDB_CORRUPTION) {
        printf("DAMAGED: %" PRIu64 " damaged regions, %" PRIu64 " bytes\n", r.damaged_frames,
               r.damaged_bytes);
        return 1;
    }
    printf("ok: every checksum matches\n");
    return 0;
}

#define STATS_PER_KEY_MIN 10000

static int cmd_stats(ldb *db, const dbopts *o)
{
    ldb_stats s;
    int rc = ldb_get_stats(db, &s);
    if (rc) return rc;
    double amp = s.live_bytes ? (double)s.file_bytes / (double)s.live_bytes : 0.0;
    /* kind: 0 a measure, 1 a count, 2 absent ("none" / JSON null). */
    struct {
        const char *name;
        double v;
        int is_int; /* the kind */
    } rows[] = {
        {"keys", (double)s.keys, 1},
        {"last_seq", (double)s.last_seq, 1},
        {"segments", (double)s.segments, 1},
        {"file_bytes", (double)s.file_bytes, 1},
        {"live_bytes", (double)s.live_bytes, 1},
        {"space_amplification", amp, 0},
        {"space_used_bytes", (double)s.space_used_bytes, 1},
        {"space_limit_bytes", (double)s.space_limit_bytes, 1},
        {"user_bytes", (double)s.user_bytes, 1},
        {"cleaner_bytes", (double)s.cleaner_bytes, 1},
        {"write_amplification", s.write_amplification, 0},
        {"index_bytes", (double)s.index_bytes, 1},
        {"hash_bytes", (double)s.hash_bytes, 1},
        /* The index and hash start with fixed tables (~66 KiB): over a few
         * keys the ratio says nothing about the cost of a key, so it is
         * shown only once the keys dominate. */
        {"index_bytes_per_key",
         s.keys >= STATS_PER_KEY_MIN ? (double)(s.index_bytes + s.hash_bytes) / (double)s.keys : 0,
         s.keys >= STATS_PER_KEY_MIN ? 0 : 2},
        {"checkpoint_seq", (double)s.checkpoint_seq, 1},
        {"checkpoint_age_s", s.checkpoint_age_s, s.checkpoint_age_s < 0 ? 2 : 0},
        {"recovery_checkpoint_seq", (double)s.recovery_checkpoint_seq, 1},
        {"checkpoint_fallbacks", (double)s.checkpoint_fallbacks, 1},
        {"recovery_records", (double)s.recovery_records, 1},
        {"recovery_seconds", s.recovery_seconds, 0},
        {"truncated_bytes", (double)s.truncated_bytes, 1},
    };
    size_t n = sizeof rows / sizeof rows[0];
    if (o->json) printf("{");
    for (size_t i = 0; i < n; i++) {
        if (rows[i].is_int == 2) {
            if (o->json) printf("%s\"%s\":null", i ? "," : "", rows[i].name);
            else printf("%-22s none\n", rows[i].name);
        } else if (o->json) {
            if (rows[i].is_int) printf("%s\"%s\":%.0f", i ? "," : "", rows[i].name, rows[i].v);
            else printf("%s\"%s\":%.6g", i ? "," : "", rows[i].name, rows[i].v);
        } else if (rows[i].is_int) {
            printf("%-22s %.0f\n", rows[i].name, rows[i].v);
        } else {
            printf("%-22s %.6g\n", rows[i].name, rows[i].v);
        }
    }
    if (o->json) printf("}\n");
    return 0;
}

static int cmd_scan(ldb *db, int argc, char **argv, const dbopts *o)
{
    uint8_t *from = NULL, *to = NULL;
    size_t fl = 0, tl = 0;
    int rc = 0;
    if ((argc > 0 && decode_arg(argv[0], o->hex, &from, &fl)) ||
        (argc > 1 && decode_arg(argv[1], o->hex, &to, &tl))) {
        cli_error("bad key argument (expected %s)", o->hex ? "hex digits" : "a string");
        rc = 2;
        goto out;
    }
    ldb_iter *it;
    rc = ldb_iter_open(db, &it);
    if (rc) goto out;
    if (from && fl) ldb_iter_seek(it, from, fl);
    else ldb_iter_first(it);
    long n = 0;
    for (; ldb_iter_valid(it) && (o->limit <= 0 || n < o->limit); ldb_iter_next(it), n++) {
        const void *k, *v;
        size_t kl, vl;
        ldb_iter_key(it, &k, &kl);
        if (to) {
            size_t m = kl < tl ? kl : tl;
            int c = memcmp(k, to, m);
            if (c > 0 || (c == 0 && kl >= tl)) break;
        }
        print_bytes(stdout, k, kl, o);
        if (o->verbose) {
            int vr = ldb_iter_value(it, &v, &vl);
            if (vr) break;
            fputc('\t', stdout);
            print_bytes(stdout, v, vl, o);
        }
        fputc('\n', stdout);
    }
    rc = ldb_iter_status(it);
    if (rc) cli_error("scan stopped: %s: %s", ldb_strerror(rc), ldb_last_error());
    ldb_iter_close(it);
out:
    free(from);
    free(to);
    return rc;
}

int cli_db_main(int argc, char **argv)
{
    const char *cmd = argv[0];
    dbopts o = {.sync = LDB_SYNC_FULL, .limit = 0};
    static const struct option longopts[] = {
        {"hex", no_argument, NULL, 'x'},    {"raw", no_argument, NULL, 'r'},
        {"verbose", no_argument, NULL, 'v'}, {"json", no_argument, NULL, 'j'},
        {"limit", required_argument, NULL, 'n'}, {"sync", required_argument, NULL, 's'},
        {"salvage", no_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'},
        {"create", no_argument, NULL, 'C'},
        {NULL, 0, NULL, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "xrvjn:s:ShC", longopts, NULL)) != -1) {
        switch (c) {
        case 'x': o.hex = 1; break;
        case 'r': o.raw = 1; break;
        case 'v': o.verbose = 1; break;
        case 'j': o.json = 1; break;
        case 'S': o.salvage = 1; break;
        case 'C': o.create = 1; break;
        case 'n': {
            uint64_t v;
            if (cli_parse_uint(optarg, 1, LONG_MAX, 0, &v)) {
                cli_error("--limit takes a whole number of keys, at least 1, not '%s'", optarg);
                return 2;
            }
            o.limit = (long)v;
            break;
        }
        case 's':
            if (!strcmp(optarg, "none")) o.sync = LDB_SYNC_NONE;
            else if (!strcmp(optarg, "normal")) o.sync = LDB_SYNC_NORMAL;
            else if (!strcmp(optarg, "full")) o.sync = LDB_SYNC_FULL;
            else {
                cli_error("--sync takes none, normal or full");
                return 2;
            }
            break;
        case 'h': db_usage(cmd, stdout); return 0;
        default: db_usage(cmd, stderr); return 2;
        }
    }
    argc -= optind;
    argv += optind;
    int need = !strcmp(cmd, "put") ? 3 : (!strcmp(cmd, "get") || !strcmp(cmd, "del")) ? 2 : 1;
    if (argc < need || (strcmp(cmd, "scan") && argc > need)) {
        db_usage(cmd, stderr);
        return 2;
    }
    const char *dir = argv[0];
    if (!strcmp(cmd, "check")) return cmd_check(dir);

    /* The key and value are checked before the database is opened, so a
     * bad argument neither creates a database nor touches one. */
    uint8_t *key = NULL, *val = NULL;
    size_t kl = 0, vl = 0;
    int status = 0;
    ldb *db = NULL;
    int rc;
    if (argc > 1 && (!strcmp(cmd, "put") || !strcmp(cmd, "get") || !strcmp(cmd, "del"))) {
        if (decode_arg(argv[1], o.hex, &key, &kl)) {
            cli_error("bad key (expected %s)", o.hex ? "an even number of hex digits" : "a string");
            status = 2;
            goto done;
        }
        if (kl < 1 || kl > LDB_MAX_KEY) {
            cli_error("the key is %zu bytes; keys are 1 to %u bytes", kl, LDB_MAX_KEY);
            status = 2;
            goto done;
        }
    }
    if (!strcmp(cmd, "put")) {
        if (!strcmp(argv[2], "-")) val = read_stdin(&vl);
        else if (decode_arg(argv[2], o.hex, &val, &vl)) val = NULL;
        if (!val) {
            cli_error("bad value (expected %s)",
                      o.hex ? "an even number of hex digits" : "a string, or '-' for stdin");
            status = 2;
            goto done;
        }
        if (vl > LDB_MAX_VALUE) {
            cli_error("the value is %zu bytes; values are at most %u bytes (16 MiB)", vl,
                      LDB_MAX_VALUE);
            status = 2;
            goto done;
        }
    }
    rc = open_db(dir, cmd, &o, &db);
    if (rc) {
        status = 2;
        goto done;
    }
    if (!strcmp(cmd, "stats")) {
        rc = cmd_stats(db, &o);
    } else if (!strcmp(cmd, "scan")) {
        rc = cmd_scan(db, argc - 1, argv + 1, &o);
        if (rc == 2) status = 2;
    } else {
        if (!strcmp(cmd, "put")) {
            rc = ldb_put(db, key, kl, val, vl);
        } else if (!strcmp(cmd, "del")) {
            rc = ldb_delete(db, key, kl);
        } else {
            size_t len = 0;
            rc = ldb_get(db, key, kl, NULL, 0, &len);
            if (rc == LDB_OK) {
                val = malloc(len + 1);
                rc = val ? ldb_get(db, key, kl, val, len, &len) : LDB_NOMEM;
            }
            if (rc == LDB_OK) {
                print_bytes(stdout, val, len, &o);
                if (!o.raw || isatty(1)) fputc('\n', stdout);
            } else if (rc == LDB_NOTFOUND) {
                cli_error("key not found");
                status = 1;
                rc = LDB_OK;
            }
        }
    }
    if (rc && !status) {
        const char *why = ldb_last_error();
        cli_error("%s failed: %s%s%s", cmd, ldb_strerror(rc), *why ? ": " : "", why);
        status = rc == LDB_CORRUPTION ? 1 : 2;
    }
done:
    free(key);
    free(val);
    rc = db ? ldb_close(db) : LDB_OK;
    if (rc && !status) {
        cli_error("closing %s: %s", dir, ldb_strerror(rc));
        status = 2;
    }
    return status;
}
