/* queue_worker_offsets - the end offsets of gained queue partitions, asked
 * on a thread of their own (queue_worker_internal.h). evlog_reader_end_offset
 * blocks while Kafka does not answer (up to QW_END_TIMEOUT_MS, and the
 * worker retries every scan): on the loop thread that stalled every
 * session of the node while the log was away. */
#include "gateway/outbound/queue_worker_internal.h"
#include "common/buf.h"
#include "common/log.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* A query, then its answer. */
struct qw_query {
	struct qw_query *next;
	int32_t partition;
	uint64_t id;
	int status;
	int64_t end;
	char error[256];
};

struct qw_offsets {
	struct queue_worker *w;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct qw_query *asked, *answered;   /* LIFO lists; order does not matter */
	struct event *done_ev;
	int stop;
};

/* The thread: one query at a time, answers handed to the loop. */
static void *offsets_main(void *arg)
{
	struct qw_offsets *o = arg;

	pthread_mutex_lock(&o->mu);
	while (!o->stop) {
		struct qw_query *q = o->asked;
		const char *error = NULL;

		if (q == NULL) {
			pthread_cond_wait(&o->cond, &o->mu);
			continue;
		}
		o->asked = q->next;
		pthread_mutex_unlock(&o->mu);
		q->status = evlog_reader_end_offset(o->w->reader, EVM_TOPIC_QUEUE, q->partition,
						    QW_END_TIMEOUT_MS, &q->end, &error);
		if (q->status < 0)
			snprintf(q->error, sizeof q->error, "%s", error ? error : "unknown error");
		pthread_mutex_lock(&o->mu);
		q->next = o->answered;
		o->answered = q;
		/* Never hold mu while taking the event base's lock; done_ev
		 * lives until stop() has joined this thread. */
		pthread_mutex_unlock(&o->mu);
		event_active(o->done_ev, EV_READ, 0);
		pthread_mutex_lock(&o->mu);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* Loop thread: hands each answer to the worker. */
static void offsets_done(evutil_socket_t fd, short what, void *arg)
{
	struct qw_offsets *o = arg;
	struct qw_query *q;

	pthread_mutex_lock(&o->mu);
	q = o->answered;
	o->answered = NULL;
	pthread_mutex_unlock(&o->mu);
	while (q != NULL) {
		struct qw_query *next = q->next;
		qw_end_answered(o->w, q->partition, q->id, q->status, q->end, q->error);
		free(q);
		q = next;
	}
}

int qw_offsets_start(struct queue_worker *w, const char **error_r)
{
	struct qw_offsets *o = xcalloc(1, sizeof *o);

	o->w = w;
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cond, NULL);
	o->done_ev = event_new(w->node->base, -1, 0, offsets_done, o);
	if (o->done_ev == NULL || pthread_create(&o->tid, NULL, offsets_main, o) != 0) {
		if (o->done_ev != NULL)
			event_free(o->done_ev);
		pthread_cond_destroy(&o->cond);
		pthread_mutex_destroy(&o->mu);
		free(o);
		*error_r = "cannot start the end-offset thread";
		return -1;
	}
	w->offsets = o;
	return 0;
}

void qw_offsets_ask(struct queue_worker *w, int32_t partition, uint64_t id)
{
	struct qw_offsets *o = w->offsets;
	struct qw_query *q = xcalloc(1, sizeof *q);

	q->partition = partition;
	q->id = id;
	pthread_mutex_lock(&o->mu);
	q->next = o->asked;
	o->asked = q;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->mu);
}

/* Frees a list of queries. */
static void free_queries(struct qw_query *q)
{
	while (q != NULL) {
		struct qw_query *next = q->next;
		free(q);
		q = next;
	}
}

void qw_offsets_stop(struct queue_worker *w)
{
	struct qw_offsets *o = w->offsets;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->stop = 1;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->mu);
	pthread_join(o->tid, NULL);
	event_free(o->done_ev);
	free_queries(o->asked);
	free_queries(o->answered);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->mu);
	free(o);
	w->offsets = NULL;
}
