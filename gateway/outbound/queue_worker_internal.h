/* queue_worker_internal - state shared by queue_worker.c (ownership and
 * scheduling) and queue_worker_job.c (one item in flight). */
#ifndef EVM_QUEUE_WORKER_INTERNAL_H
#define EVM_QUEUE_WORKER_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "gateway/node.h"
#include "gateway/outbound/outbound.h"
#include "gateway/outbound/queue_plan.h"
#include "gateway/outbound/queue_worker.h"
#include "ingest/evlog_group.h"

#define QW_SCAN_INTERVAL_MS 1000
#define QW_SUBMIT_TIMEOUT_MS 30000
#define QW_WAIT_TIMEOUT_MS 600000
#define QW_END_TIMEOUT_MS 2000
#define QW_REST_MAX_MS 60000

struct queue_worker;

/* A partition this node owns. */
struct qw_part {
	struct queue_worker *w;
	int32_t partition;
	int ready;                     /* applied up to the end it had when gained */
	struct projector_waiter *waiter;
	uint64_t query;                /* end-offset query in flight (its id), 0 none */
};

struct qw_offsets;

/* queue_worker_busy.c: attempts in flight per partition, shared with the
 * group's thread (mu guards everything). */
struct qw_busy {
	pthread_mutex_t mu;
	uint32_t *count;               /* attempts in flight, by partition */
	unsigned char *revoking;       /* being given up: start nothing there */
	size_t cap;
	int stopping;                  /* the worker is stopping: never wait */
};
void qw_busy_init(struct qw_busy *b);
void qw_busy_free(struct qw_busy *b);
/* An attempt starts on partition: 0, or -1 when the partition is being
 * given up (do not start it). Loop thread. */
int qw_busy_enter(struct qw_busy *b, int32_t partition);
/* The attempt has logged its outcome (or failed before logging any). */
void qw_busy_leave(struct qw_busy *b, int32_t partition);
/* evlog_group_busy_cb (the group's thread; ctx = the worker): marks the
 * partitions as being given up and counts what runs on them. */
size_t qw_busy_revoking(void *ctx, const int32_t *partitions, size_t n);
/* A new assignment reached the loop: nothing is being given up now. */
void qw_busy_assigned(struct qw_busy *b);
/* Before leaving the group: the group must not wait for the loop. */
void qw_busy_stopping(struct qw_busy *b);

/* One item being handled; in the worker's list while in flight (and while
 * resting after a failure, so it is not retried at once). */
struct qw_job {
	struct qw_job *prev, *next;
	struct queue_worker *w;        /* NULL once the worker stopped: finish quietly */
	char id[64];
	int32_t partition;
	json_t *item;
	struct queue_plan plan;
	char *body;
	size_t len;
	int64_t ts;                    /* the attempt's start */
	size_t groups_left;
	json_t **results;              /* per item rcpt: its result (SEND) */
	char error[QUEUE_REPLY_MAX + 1];
	int64_t rest_until;            /* > 0: resting after a failure (mono ms) */
	int busy;                      /* counted in w->busy (qw_busy_enter) */
};

struct queue_worker {
	struct node *node;
	struct evlog_group *group;
	struct evlog_reader *reader;   /* end offsets of gained partitions (offsets thread) */
	struct qw_offsets *offsets;    /* queue_worker_offsets.c */
	uint64_t query_seq;
	struct route_resolver *rr;
	struct outbound *ob;
	struct queue_plan_cfg pcfg;
	struct event *timer, *kick;
	struct projector_sub *sub;
	struct qw_part **parts;        /* owned, ascending */
	size_t nparts;
	struct qw_job *jobs;           /* in flight or resting */
	size_t njobs;
	size_t max_jobs;
	struct qw_busy busy;           /* in flight per partition, for rebalances */
	char actor[300];
	char hostname[256];
	uint64_t rng;
};

/* queue_worker_offsets.c: end offsets asked off the loop thread (a
 * Kafka query blocks up to QW_END_TIMEOUT_MS, for as long as no broker
 * answers). The thread owns w->reader. qw_offsets_ask queues a query for
 * partition tagged id; qw_end_answered(w, partition, id, ...) runs later on
 * the loop thread with the result. */
int qw_offsets_start(struct queue_worker *w, const char **error_r);
void qw_offsets_ask(struct queue_worker *w, int32_t partition, uint64_t id);
/* Joins the thread (a query in flight finishes first); no more answers. */
void qw_offsets_stop(struct queue_worker *w);
void qw_end_answered(struct queue_worker *w, int32_t partition, uint64_t id, int status,
		     int64_t end, const char *error);

/* Starts handling one due item (borrowed). 0 when taken, -1 when skipped
 * for now (body not complete here yet, nothing to do). */
int qw_job_start(struct queue_worker *w, int32_t partition, json_t *item);
/* Unlinks and frees a job. */
void qw_job_free(struct qw_job *job);
/* The job with this item id, or NULL. */
struct qw_job *qw_job_find(struct queue_worker *w, const char *id);

#endif
