/*
 * engine/maint.h — the background threads of a writable database:
 *  - the checkpoint thread takes automatic checkpoints (by log bytes
 *    written since the last one);
 *  - the cleaner thread runs the segment cleaner when space nears its limit
 *    (space.h), flat out while writers are held back, and keeps the spare
 *    segment made.
 * Two threads so that a checkpoint (an index walk, a file write and
 * fdatasyncs) never pauses the cleaner that writers may be waiting for.
 * Neither holds the commit mutex for longer than a cleaning batch.
 */
#ifndef LDB_MAINT_H
#define LDB_MAINT_H

struct ldb;

int maint_start(struct ldb *db);
void maint_stop(struct ldb *db);

#endif
