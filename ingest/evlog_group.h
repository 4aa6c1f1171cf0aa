/* evlog_group - which partitions of a topic this node owns, shared among
 * the members of a named group (the delivery role's queue partitions).
 *
 * Kafka: a consumer group (group.id = log.topic_prefix + name) subscribed
 * to the topic; the broker's group coordinator assigns partitions, and a
 * member that dies (session.timeout.ms, 10 s) loses them to the others.
 * The member does not consume records through the group (the projector
 * reads the topic); it only follows the assignment, and keeps its
 * membership alive from a thread of its own. Embedded: the one node owns
 * every partition.
 *
 * cb runs on the loop thread of the log's event_base each time the
 * assignment changes (first time: the initial assignment), with the whole
 * new set of owned partitions in ascending order (possibly empty). */
#ifndef EVM_EVLOG_GROUP_H
#define EVM_EVLOG_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/evlog.h"

struct evlog_group;

typedef void evlog_group_cb(void *ctx, const int32_t *partitions, size_t n);

int evlog_group_join(struct evlog *log, enum evm_topic_id topic, const char *name,
		     evlog_group_cb *cb, void *ctx, struct evlog_group **g_r, const char **error_r);
/* Leaves the group (the partitions go to the others at once); cb is never
 * called again. NULL-safe; sets *g NULL. */
void evlog_group_leave(struct evlog_group **g);

#endif
