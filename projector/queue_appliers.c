/* queue_appliers - the outbound queue's applier table (projector/queue.h). */
#include "projector/queue_internal.h"

const struct applier queue_appliers[] = {
	{ "queue.enqueue", EVM_TOPIC_QUEUE, queue_apply_enqueue },
	{ "queue.attempt", EVM_TOPIC_QUEUE, queue_apply_attempt },
	{ "queue.notified", EVM_TOPIC_QUEUE, queue_apply_notified },
	{ "queue.hold", EVM_TOPIC_QUEUE, queue_apply_hold },
	{ "queue.release", EVM_TOPIC_QUEUE, queue_apply_release },
	{ "queue.retry", EVM_TOPIC_QUEUE, queue_apply_retry },
	{ "queue.delete", EVM_TOPIC_QUEUE, queue_apply_delete },
	{ NULL, EVM_TOPIC_QUEUE, NULL },
};
