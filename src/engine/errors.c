/*
 * engine/errors.c — names of the error codes and the last error message.
 */
#include "engine/util.h"
#include "lightningdb.h"

const char *ldb_strerror(int rc)
{
    switch (rc) {
    case LDB_OK: return "ok";
    case LDB_NOTFOUND: return "not found";
    case LDB_INVALID: return "invalid argument";
    case LDB_TOO_LARGE: return "key or value too large";
    case LDB_IO: return "I/O error";
    case LDB_CORRUPTION: return "corruption detected";
    case LDB_NOMEM: return "out of memory";
    case LDB_BUSY: return "database is locked by another user";
    case LDB_READONLY: return "database or transaction is read-only";
    case LDB_CONFLICT: return "transaction conflict";
    case LDB_NOSPACE: return "no space left on device";
    default: return "unknown error";
    }
}

const char *ldb_last_error(void) { return util_last_error(); }
