/*
 * cli/main.c — entry point of the `lightning` command: dispatches to the
 * database tools, `bench` and `perf`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lightningdb.h"
#include "perf/cleanup.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lightning <command> [args]\n"
            "\n"
            "Database tools (DIR is a database directory):\n"
            "  put DIR KEY VALUE     write a key (value '-' reads stdin)\n"
            "  get DIR KEY           print a key's value\n"
            "  del DIR KEY           delete a key\n"
            "  scan DIR [FROM [TO]]  list keys (and values with -v) in order\n"
            "  stats DIR             print the database's statistics\n"
            "  check DIR             verify every record's checksum\n"
            "\n"
            "Measurement:\n"
            "  bench ...             run workloads against engines (lightning bench --help)\n"
            "  perf ...              performance regression framework (lightning perf --help)\n"
            "\n"
            "Run 'lightning <command> --help' for a command's options.\n"
            "Lightning DB %d.%d.%d\n",
            LDB_VERSION_MAJOR, LDB_VERSION_MINOR, LDB_VERSION_PATCH);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("lightning %d.%d.%d\n", LDB_VERSION_MAJOR, LDB_VERSION_MINOR, LDB_VERSION_PATCH);
        return 0;
    }
    if (!strcmp(cmd, "bench") || !strcmp(cmd, "perf")) {
        /* Both make temporary directories, worktrees and child processes
         * that a Ctrl-C must not leave behind (perf/cleanup.h). */
        if (perf_cleanup_init())
            fprintf(stderr, "lightning: warning: no cleanup on Ctrl-C (cannot start the watcher)\n");
        int rc = !strcmp(cmd, "bench") ? cli_bench_main(argc - 1, argv + 1)
                                        : cli_perf_main(argc - 1, argv + 1);
        perf_cleanup_run();
        return rc;
    }
    static const char *const dbcmds[] = {"put", "get", "del", "scan", "stats", "check", NULL};
    for (int i = 0; dbcmds[i]; i++)
        if (!strcmp(cmd, dbcmds[i])) return cli_db_main(argc - 1, argv + 1);
    fprintf(stderr, "lightning: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
