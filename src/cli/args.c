/*
 * cli/args.c — strict number parsing for the command line (see args.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"

int cli_parse_uint(const char *s, uint64_t min, uint64_t max, int suffixes, uint64_t *out)
{
    /* strtoull alone would take leading spaces, a sign (wrapping "-5" to a
     * huge number) and stop silently at the first non-digit. */
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return -1;
    uint64_t mul = 1;
    if (suffixes && *end) {
        switch (*end) {
        case 'k': case 'K': mul = 1000; break;
        case 'm': case 'M': mul = 1000000; break;
        case 'g': case 'G': mul = 1000000000; break;
        default: return -1;
        }
        end++;
    }
    if (*end) return -1;
    if (v > UINT64_MAX / mul) return -1;
    uint64_t r = (uint64_t)v * mul;
    if (r < min || r > max) return -1;
    *out = r;
    return 0;
}

int cli_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s || *s == ' ' || *s == '\t') return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > max) return -1;
    *out = v;
    return 0;
}

int cli_output_ok(const char *flag, const char *path)
{
    struct stat st;
    if (!path || !*path) {
        cli_error("%s needs a file name", flag);
        return -1;
    }
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            cli_error("%s %s: is a directory", flag, path);
            return -1;
        }
        if (access(path, W_OK) != 0) {
            cli_error("%s %s: cannot write: %s", flag, path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) {
        cli_error("%s %s: %s", flag, path, strerror(errno));
        return -1;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("%s %s: directory %s does not exist", flag, path, dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        cli_error("%s %s: cannot create files in %s: %s", flag, path, dir, strerror(errno));
        return -1;
    }
    return 0;
}
