/*
 * cli/args.h — the one strict parser for numbers given on the `lightning`
 * command line (db tools, bench, perf), so "abc", "-5", "1x", " 7" and an
 * out-of-range value are refused the same way everywhere instead of being
 * read as 0 or a prefix.
 *
 * Owns nothing; pure functions, safe from any thread. They print nothing:
 * the caller names the option in its own error message.
 */
#ifndef LDB_CLI_ARGS_H
#define LDB_CLI_ARGS_H

#include <stdint.h>

/* A whole number in [min, max]: decimal digits only (no sign, no spaces),
 * optionally followed by k, m or g (x1000, x1e6, x1e9) when `suffixes` is
 * set. 0 and *out set on success, -1 (and *out untouched) otherwise. */
int cli_parse_uint(const char *s, uint64_t min, uint64_t max, int suffixes, uint64_t *out);

/* A finite decimal number in [min, max], nothing after it. 0 or -1. */
int cli_parse_double(const char *s, double min, double max, double *out);

/* Whether a file can be written at `path` without writing it: an existing
 * file must be writable and not a directory, a new one needs a writable
 * directory to live in. 0, or -1 after cli_error naming `flag`. Commands
 * ask this for every output flag before they start, so a typo in an output
 * path does not cost the whole run. */
int cli_output_ok(const char *flag, const char *path);

#endif
