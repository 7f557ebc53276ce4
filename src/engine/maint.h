/*
 * engine/maint.h — the background threads of a database:
 *  - the checkpoint thread takes automatic checkpoints (by log bytes
 *    written since the last one);
 *  - the cleaner thread runs the segment cleaner when space nears its limit
 *    (space.h), flat out while writers are held back, and keeps the spare
 *    segment made;
 *  - the scrubber (LDB_VERIFY_FIRST, read-only handles too) runs a scrub
 *    pass (scrub.h) every scrub_interval_ms.
 * Separate threads so that a checkpoint (an index walk, a file write and
 * fdatasyncs) never pauses the cleaner that writers may be waiting for.
 * Neither holds the commit mutex for longer than a cleaning batch.
 */
#ifndef LDB_MAINT_H
#define LDB_MAINT_H

struct ldb;

int maint_start(struct ldb *db);
void maint_stop(struct ldb *db);

#endif
