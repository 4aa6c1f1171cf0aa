/* decider - which node takes the cluster's periodic decisions (body
 * garbage collection, retention): the node that holds queue partition 0
 * (a consumer-group assignment, so one node at a time, and another takes
 * over when it dies); on the embedded log, the one node. Decisions are
 * events in the log, applied alike by every projector, and are written so
 * that the same decision twice (two nodes during a rebalance) is harmless. */
#ifndef EVM_DECIDER_H
#define EVM_DECIDER_H

#include <stdbool.h>

struct node;

/* True when this node decides now. */
bool decider_is_me(struct node *node);

/* True when the projector runs and has applied the named topics ("mail",
 * "queue", "blob", ...; a NULL-terminated list) to their ends: a decision
 * taken now sees everything the log holds. */
bool decider_caught_up(struct node *node, const char *const *topics);

#endif
