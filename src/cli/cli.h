/*
 * cli/cli.h — the `lightning` command's subcommands. Each takes the
 * arguments after its own name (argv[0] is the subcommand name), prints
 * results on stdout and errors on stderr, and returns the process exit code
 * (0 success, 1 a failure the command reports, 2 usage or run error).
 */
#ifndef LDB_CLI_H
#define LDB_CLI_H

int cli_db_main(int argc, char **argv);    /* put get del scan stats check */
int cli_bench_main(int argc, char **argv); /* lightning bench */
int cli_perf_main(int argc, char **argv);  /* lightning perf */

/* Prints "lightning: <msg>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The text of the last cli_error (without the prefix), or NULL. */
const char *cli_last_error(void);

#endif
