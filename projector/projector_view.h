/* projector_view - batch save points, used by the projector (internal).
 *
 * A batch is shared by a run of events, so a rejected event's partial
 * writes must be undone without losing the events before it. These map to
 * RocksDB's WriteBatchWithIndex save points. The 7.8 C API has no "pop"
 * for an indexed batch, so marks that are never rolled back stay on the
 * batch's stack until the batch ends: a few bytes each, one per event. */
#ifndef EVM_PROJECTOR_VIEW_H
#define EVM_PROJECTOR_VIEW_H

#include "projector/view.h"

/* Marks the batch's current contents. */
void view_batch_savepoint(struct view_batch *b);
/* Undoes every write since the latest mark and removes that mark. */
int view_batch_rollback(struct view_batch *b, const char **error_r);

#endif
