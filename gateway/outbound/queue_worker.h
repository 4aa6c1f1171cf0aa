/* queue_worker - the delivery role: attempts the queue items of the queue
 * partitions this node owns, and logs every outcome (projector/queue.h).
 *
 * Ownership (ingest/evlog_group.h): on Kafka the delivery nodes form one
 * consumer group on the queue topic, so a node's death hands its partitions
 * to the others; on the embedded log the one node owns them all. On gaining
 * a partition the worker first waits until the local projector has applied
 * that partition up to its end offset (so an outcome another node logged is
 * never attempted again), then schedules from the view's due index.
 *
 * Scheduling: every second and after each projector commit, for each owned
 * partition, items due (queue_due_scan) and not in flight are taken. For an
 * item: send the DSNs that are due (dsn.h) and append queue.notified; past
 * its expire, fail every pending recipient (4.4.7) and append the attempt;
 * past delay_warn, send the delay DSN once; else group its pending
 * recipients by domain and hand each group to outbound_send(). When every
 * group has answered, append ONE queue.attempt with every recipient's
 * result and next_try = now + backoff (delivery.retry_min_s doubling per
 * attempt, at most delivery.retry_max_s). At least once, never zero: the
 * only duplicate is an attempt in flight on a node that died before its
 * queue.attempt was acknowledged.
 *
 * Thread: the node's loop thread. */
#ifndef EVM_QUEUE_WORKER_H
#define EVM_QUEUE_WORKER_H

#include "gateway/node.h"

struct queue_worker;

/* Creates the resolver, the SMTP client and the group membership. */
int queue_worker_start(struct node *node, struct queue_worker **w_r, const char **error_r);
/* Leaves the group, closes connections; items in flight are simply not
 * logged (another owner attempts them again). NULL-safe; sets *w NULL. */
void queue_worker_stop(struct queue_worker **w);
/* {"owned":[partitions],"in_flight":n,"connections":n,"waiting":n} */
json_t *queue_worker_status(struct queue_worker *w);

#endif
