/* queue_worker_internal - state shared by queue_worker.c (ownership and
 * scheduling) and queue_worker_job.c (one item in flight). */
#ifndef EVM_QUEUE_WORKER_INTERNAL_H
#define EVM_QUEUE_WORKER_INTERNAL_H

#include <jansson.h>
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
