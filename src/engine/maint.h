/*
 * engine/maint.h — the maintenance thread: takes automatic checkpoints (by
 * log bytes written since the last one) and runs the segment cleaner when
 * space amplification nears its target. One per writable database; it
 * never holds the commit mutex for longer than a cleaning batch.
 */
#ifndef LDB_MAINT_H
#define LDB_MAINT_H

struct ldb;

int maint_start(struct ldb *db);
void maint_stop(struct ldb *db);

#endif
