/* queue_worker_busy - what the delivery role has in flight per queue
 * partition, for a rebalance: before the group gives partitions up it asks
 * (on its own thread) how many attempts are still running on them; from
 * then on no new attempt starts there, and the group waits until the
 * running ones have logged their outcome. The next owner, which schedules a
 * gained partition only after applying it to its end, then sees those
 * outcomes instead of starting the same items again. */
#include "gateway/outbound/queue_worker_internal.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

/* The counter of partition p, grown as needed (mu held). */
static uint32_t *busy_slot(struct qw_busy *b, int32_t p)
{
	if ((size_t)p >= b->cap) {
		size_t cap = b->cap ? b->cap : 16;

		while (cap <= (size_t)p)
			cap *= 2;
		b->count = xrealloc(b->count, cap * sizeof *b->count);
		b->revoking = xrealloc(b->revoking, cap * sizeof *b->revoking);
		memset(b->count + b->cap, 0, (cap - b->cap) * sizeof *b->count);
		memset(b->revoking + b->cap, 0, (cap - b->cap) * sizeof *b->revoking);
		b->cap = cap;
	}
	return &b->count[p];
}

void qw_busy_init(struct qw_busy *b)
{
	memset(b, 0, sizeof *b);
	pthread_mutex_init(&b->mu, NULL);
}

void qw_busy_free(struct qw_busy *b)
{
	free(b->count);
	free(b->revoking);
	pthread_mutex_destroy(&b->mu);
}

int qw_busy_enter(struct qw_busy *b, int32_t partition)
{
	int ok;

	if (partition < 0)
		return -1;
	pthread_mutex_lock(&b->mu);
	busy_slot(b, partition);
	ok = !b->revoking[partition];
	if (ok)
		b->count[partition]++;
	pthread_mutex_unlock(&b->mu);
	return ok ? 0 : -1;
}

void qw_busy_leave(struct qw_busy *b, int32_t partition)
{
	pthread_mutex_lock(&b->mu);
	if (partition >= 0 && (size_t)partition < b->cap && b->count[partition] > 0)
		b->count[partition]--;
	pthread_mutex_unlock(&b->mu);
}

size_t qw_busy_revoking(void *ctx, const int32_t *partitions, size_t n)
{
	struct queue_worker *w = ctx;
	struct qw_busy *b = &w->busy;
	size_t total = 0;

	pthread_mutex_lock(&b->mu);
	if (!b->stopping) {
		for (size_t i = 0; i < n; i++) {
			if (partitions[i] < 0)
				continue;
			total += *busy_slot(b, partitions[i]);
			b->revoking[partitions[i]] = 1;
		}
	}
	pthread_mutex_unlock(&b->mu);
	return total;
}

void qw_busy_assigned(struct qw_busy *b)
{
	pthread_mutex_lock(&b->mu);
	if (b->revoking != NULL)
		memset(b->revoking, 0, b->cap * sizeof *b->revoking);
	pthread_mutex_unlock(&b->mu);
}

void qw_busy_stopping(struct qw_busy *b)
{
	pthread_mutex_lock(&b->mu);
	b->stopping = 1;
	pthread_mutex_unlock(&b->mu);
}
