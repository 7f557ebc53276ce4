/*
 * engine/contract.c — LDB_ASSERT's slow path (see contract.h).
 */
#include "engine/contract.h"

#include <stdio.h>
#include <stdlib.h>

void contract_failed(const char *cond, const char *file, int line)
{
    /* A broken internal invariant, never bad input: carrying on could write
     * damage to disk, so stop here, where the cause is known. */
    fprintf(stderr, "lightningdb: invariant broken at %s:%d: %s\n", file, line, cond);
    fflush(stderr);
    abort();
}
