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

/* Asked on the group's own thread before partitions are given up in a
 * rebalance (not when the membership was lost, nor on leave): how much work
 * on them is still in flight. The group waits, asking again every
 * EVLOG_GROUP_BUSY_POLL_MS for up to EVLOG_GROUP_REVOKE_WAIT_MS, until the
 * answer is 0 before it lets them go, so the next owner never starts what
 * this one is still doing. Must be thread-safe and must not block. */
typedef size_t evlog_group_busy_cb(void *ctx, const int32_t *partitions, size_t n);

#define EVLOG_GROUP_REVOKE_WAIT_MS 30000
#define EVLOG_GROUP_BUSY_POLL_MS 50

/* busy may be NULL. */
int evlog_group_join(struct evlog *log, enum evm_topic_id topic, const char *name,
		     evlog_group_cb *cb, evlog_group_busy_cb *busy, void *ctx, struct evlog_group **g_r,
		     const char **error_r);
/* Leaves the group (the partitions go to the others at once); cb is never
 * called again. NULL-safe; sets *g NULL. */
void evlog_group_leave(struct evlog_group **g);

#endif
