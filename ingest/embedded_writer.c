/* embedded_writer - the group-commit writer thread of the embedded log. */
#include "ingest/embedded_log.h"
#include "ingest/embedded_record.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int crash_batch;  /* test hook: batches until the crash; 0 = never */
static int crash_torn;
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static int hold_writes;  /* test hook: writer waits after write, before fsync */

/* Test hook: holds the writer between its writes and fsyncs. */
void emb_test_hold_writes(int hold)
{
	pthread_mutex_lock(&hold_mu);
	hold_writes = hold;
	pthread_cond_broadcast(&hold_cond);
	pthread_mutex_unlock(&hold_mu);
}

/* Test hook: _exit() after the writes of the batch-th batch from now. */
void emb_test_crash_after_write(int batch, int torn)
{
	__atomic_store_n(&crash_torn, torn, __ATOMIC_RELAXED);
	__atomic_store_n(&crash_batch, batch, __ATOMIC_RELEASE);
}

/* Initialises a condition variable on CLOCK_MONOTONIC. */
void emb_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

/* Waits on cond until deadline_ms (evm_mono_ms clock). */
int emb_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t deadline_ms)
{
	struct timespec ts = { .tv_sec = deadline_ms / 1000, .tv_nsec = (deadline_ms % 1000) * 1000000 };

	return pthread_cond_timedwait(cond, mu, &ts);
}

/* Appends item to the tail of q. */
void emb_queue_push(struct emb_queue *q, struct emb_item *item)
{
	item->next = NULL;
	if (q->tail != NULL)
		q->tail->next = item;
	else
		q->head = item;
	q->tail = item;
}

/* Marks an item failed with a message. */
static void item_fail(struct emb_item *item, const char *error)
{
	item->status = -1;
	item->offset = -1;
	snprintf(item->error, sizeof item->error, "%s", error);
}

/* The partition an item goes to. */
static struct emb_partition *item_partition(struct embedded_log *l, const struct emb_item *item)
{
	return &l->topics[item->topic].parts[item->partition];
}

/* Test hooks: called between the writes and the fsyncs of a batch. */
static void maybe_crash(struct emb_partition *last_p, size_t last_size)
{
	int n = __atomic_load_n(&crash_batch, __ATOMIC_ACQUIRE);

	pthread_mutex_lock(&hold_mu);
	while (hold_writes)
		pthread_cond_wait(&hold_cond, &hold_mu);
	pthread_mutex_unlock(&hold_mu);
	if (n <= 0)
		return;
	if (n > 1) {
		__atomic_store_n(&crash_batch, n - 1, __ATOMIC_RELEASE);
		return;
	}
	if (crash_torn && last_p != NULL && !last_p->failed) {
		struct emb_segment *seg = last_p->active;
		if (ftruncate(seg->fd, (off_t)(seg->w_size - (int64_t)last_size / 2)) < 0)
			_exit(EMB_TEST_CRASH_STATUS + 1);
	}
	_exit(EMB_TEST_CRASH_STATUS);
}

#define EMB_SYNC_THREADS 8
#define EMB_SYNC_SERIAL_MAX 4   /* up to this many files: synced by the writer itself */
#define EMB_SYNC_ERROR_MAX 256

struct emb_sync_job {
	struct emb_partition **parts;
	size_t n, first, step;
	char (*errors)[EMB_SYNC_ERROR_MAX];   /* "" when that partition synced */
};

/* Syncs parts first, first + step, ... (error text kept per partition). */
static void *sync_worker(void *arg)
{
	struct emb_sync_job *j = arg;

	for (size_t i = j->first; i < j->n; i += j->step) {
		const char *error = NULL;
		if (!j->parts[i]->failed && emb_partition_sync(j->parts[i], &error) < 0)
			snprintf(j->errors[i], EMB_SYNC_ERROR_MAX, "%s", error);
	}
	return NULL;
}

/* fdatasync of every touched partition file, up to EMB_SYNC_THREADS at a
 * time. A batch touches many files (a delivery writes a blob chunk in one
 * partition and the message in another), and syncing them one after the
 * other made the writer wait for each flush in turn (bench/README.md:
 * 1,791 sequential fdatasyncs for 1,000 messages). A small batch (at most
 * EMB_SYNC_SERIAL_MAX files, the common case of interactive writes) is
 * synced here: starting threads for it cost more than the flushes (~0.1
 * ms each on the bench machine), most of all on a busy CPU where each new
 * thread waits for the scheduler. Every sync still completes before the
 * batch is published or acknowledged. */
static void sync_touched(struct emb_partition **touched, size_t n)
{
	size_t nthreads = n <= EMB_SYNC_SERIAL_MAX ? 1 : n < EMB_SYNC_THREADS ? n : EMB_SYNC_THREADS;
	struct emb_sync_job jobs[EMB_SYNC_THREADS];
	pthread_t tids[EMB_SYNC_THREADS];
	int created[EMB_SYNC_THREADS] = { 0 };
	char (*errors)[EMB_SYNC_ERROR_MAX];

	if (n == 0)
		return;
	errors = xcalloc(n, EMB_SYNC_ERROR_MAX);
	for (size_t k = 0; k < nthreads; k++)
		jobs[k] = (struct emb_sync_job){ touched, n, k, nthreads, errors };
	for (size_t k = 1; k < nthreads; k++)
		created[k] = pthread_create(&tids[k], NULL, sync_worker, &jobs[k]) == 0;
	sync_worker(&jobs[0]);
	for (size_t k = 1; k < nthreads; k++) {
		if (created[k])
			pthread_join(tids[k], NULL);
		else
			sync_worker(&jobs[k]);   /* no thread to be had: do it here */
	}
	for (size_t i = 0; i < n; i++) {
		if (errors[i][0] != '\0')
			emb_partition_fail(touched[i], errors[i]);
	}
	free(errors);
}

/* Writes one batch: stage every record, write each touched partition, fsync
 * each once. Sets every item's status; returns the touched partitions. */
static void write_batch(struct embedded_log *l, struct emb_item *batch,
			struct emb_partition ***touched_r, size_t *ntouched_r)
{
	struct emb_partition **touched = NULL, *last_p = NULL;
	size_t n = 0, cap = 0, last_size = 0;
	const char *error;

	for (struct emb_item *item = batch; item != NULL; item = item->next) {
		struct emb_partition *p = item_partition(l, item);
		if (!p->touched) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				touched = xrealloc(touched, cap * sizeof *touched);
			}
			touched[n++] = p;
			p->touched = 1;
			/* A partition that failed in an earlier batch (disk full,
			 * an I/O error) is put back to its durable state and
			 * tried again: appends go on once space returns. */
			if (p->failed && emb_partition_repair(p, &l->mu, &error) < 0)
				log_error("embedded log: partition %s not repaired: %s", p->dir, error);
			p->batch_first = p->active;
		}
		if (p->failed) {
			item_fail(item, p->fail_error);
			continue;
		}
		if (emb_partition_stage(p, &l->mu, l->cfg->log_segment_bytes, l->cfg->log_segment_ms, item->ts,
					item->data, item->key_len, item->data + item->key_len,
					item->value_len, &item->offset, &error) < 0) {
			emb_partition_fail(p, error);
			item_fail(item, error);
			continue;
		}
		item->status = 0;
		last_p = p;
		last_size = emb_record_size(item->key_len, item->value_len);
	}
	for (size_t i = 0; i < n; i++) {
		if (!touched[i]->failed && emb_partition_flush(touched[i], &error) < 0)
			emb_partition_fail(touched[i], error);
	}
	maybe_crash(last_p, last_size);
	sync_touched(touched, n);
	/* A partition that failed anywhere in the batch fails all of its items. */
	for (struct emb_item *item = batch; item != NULL; item = item->next) {
		struct emb_partition *p = item_partition(l, item);
		if (item->status == 0 && p->failed)
			item_fail(item, p->fail_error);
	}
	*touched_r = touched;
	*ntouched_r = n;
}

/* The writer thread: takes batches, writes, fsyncs, publishes. */
void *emb_writer_main(void *arg)
{
	struct embedded_log *l = arg;
	int64_t linger = l->cfg->log_embedded_linger_ms;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		struct emb_partition **touched;
		struct emb_item *batch;
		size_t n;

		while (l->queue.head == NULL && !l->stop)
			pthread_cond_wait(&l->work_cond, &l->mu);
		if (l->stop)
			break;
		/* Group commit: appends queued while the last batch was written
		 * and synced form this one; with log.embedded_linger_ms > 0 more
		 * may join, up to that long after the first (a timer every
		 * interactive write waits for: off by default). */
		int64_t deadline = l->queue.head->queued_ms + linger;
		while (!l->stop && evm_mono_ms() < deadline)
			emb_cond_wait_until(&l->work_cond, &l->mu, deadline);
		if (l->stop)
			break;
		batch = l->queue.head;
		l->queue.head = l->queue.tail = NULL;
		pthread_mutex_unlock(&l->mu);

		write_batch(l, batch, &touched, &n);

		pthread_mutex_lock(&l->mu);
		for (size_t i = 0; i < n; i++) {
			if (!touched[i]->failed)
				emb_partition_publish(touched[i]);
			touched[i]->touched = 0;
		}
		free(touched);
		while (batch != NULL) {
			struct emb_item *next = batch->next;
			emb_queue_push(&l->done, batch);
			batch = next;
		}
		pthread_cond_broadcast(&l->durable_cond);
		pthread_cond_broadcast(&l->done_cond);
		/* Outside mu: never hold it while taking the event base's lock.
		 * close() joins this thread before it frees done_ev. */
		pthread_mutex_unlock(&l->mu);
		event_active(l->done_ev, EV_READ, 0);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* Runs the callbacks of completed appends (loop thread). */
void emb_run_done(struct embedded_log *l)
{
	struct emb_item *item;

	pthread_mutex_lock(&l->mu);
	item = l->done.head;
	l->done.head = l->done.tail = NULL;
	pthread_mutex_unlock(&l->mu);
	while (item != NULL) {
		struct emb_item *next = item->next;
		l->pending--;
		item->cb(item->ctx, item->status, item->status == 0 ? NULL : item->error,
			 item->partition, item->offset);
		free(item);
		item = next;
	}
	if (l->pending == 0)
		event_del(l->done_ev);
}
