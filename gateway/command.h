/* command - the write path every gateway uses (ARCHITECTURE.md, Gateways):
 * encode a command event -> append -> the log's delivery report gives
 * (partition, offset) -> wait until the local projector has applied that
 * offset -> read the outcome -> answer. Read-your-writes on every node
 * without locks. Nothing is answered before the log acknowledged it. */
#ifndef EVM_COMMAND_H
#define EVM_COMMAND_H

#include <jansson.h>

#include "gateway/node.h"
#include "ingest/event.h"

/* status 0: outcome is the projector's outcome object (borrowed for the
 * call; "status" is "accepted" or "rejected"). status -1: the command's fate
 * is unknown or it was never logged; error says which ("log: ...": not
 * appended; "timeout ...": appended but not applied in time). */
typedef void command_done_cb(void *ctx, int status, json_t *outcome, const char *error);

/* Submits ev (consumed) to topic; partition key = key (NULL: the event id).
 * cb runs exactly once on the loop, never inside this call. */
void command_submit(struct node *node, struct evm_event *ev, enum evm_topic_id topic,
		    const char *key, int timeout_ms, command_done_cb *cb, void *ctx);

#endif
