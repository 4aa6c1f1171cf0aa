/* ckpt_serve - GET /admin/checkpoint: a checkpoint of this node's view as
 * one streamed answer (ckpt_stream.h), never whole in memory.
 *
 * The checkpoint is made and hashed on a thread of its own (a flush and a
 * read of every file: too slow for the loop), in node.data_dir/
 * checkpoint-<pid>-<n>; then the loop streams its files, a piece at a time,
 * only while the connection's unsent output is under CKPT_PENDING_MAX
 * (a slow client slows the stream, it never fills memory). The directory
 * is removed when the answer ends, however it ends (ckpt_serve_stop at the
 * node's stop); one left by a crash is removed at the next start
 * (ckpt_node_prepare). */
#include "gateway/checkpoint/checkpoint.h"
#include "gateway/checkpoint/ckpt_stream.h"
#include "gateway/mgmt_http.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CKPT_PENDING_MAX (4u * 1024 * 1024)
#define CKPT_PIECE (256u * 1024)
#define CKPT_PUMP_RETRY_US 2000
#define CKPT_SERVING_MAX 2

struct ckpt_job {
	struct node *node;
	struct http_request *req;
	char dir[4096];
	struct event *done;          /* the thread finished (event_active) */
	struct event *pump;          /* stream the next pieces */
	json_t *manifest;
	char error[600];
	int cancelled;               /* loop thread: the client went away */
	int streaming;
	size_t file;                 /* index in manifest.files */
	int fd;
	unsigned char *piece;
	pthread_t thread;
	int joined;                  /* the thread was joined */
	struct ckpt_job *next;       /* in jobs */
};

/* Loop thread: the jobs in progress (at most CKPT_SERVING_MAX). */
static struct ckpt_job *jobs;
static unsigned serving;
static unsigned job_seq;

/* Frees the job and its directory. Loop thread. */
static void job_free(struct ckpt_job *job)
{
	const char *error = NULL;

	for (struct ckpt_job **pp = &jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	}
	if (job->fd >= 0)
		close(job->fd);
	if (ckpt_remove_dir(job->dir, &error) < 0)
		log_warn("checkpoint: %s", error);
	event_free(job->done);
	if (job->pump != NULL)
		event_free(job->pump);
	json_decref(job->manifest);
	free(job->piece);
	free(job);
	serving--;
}

/* Ends the answer (whole or not) and frees the job. */
static void job_end(struct ckpt_job *job, int complete)
{
	if (!complete)
		log_warn("checkpoint: stream to %s ended early", http_request_peer_ip(job->req));
	http_stream_end(job->req);
	job_free(job);
}

/* Opens the next file, or returns 0 at the end. 1 opened, -1 error. */
static int open_next(struct ckpt_job *job)
{
	json_t *f = json_array_get(json_object_get(job->manifest, "files"), job->file);
	char path[4400];

	if (f == NULL)
		return 0;
	snprintf(path, sizeof path, "%s/%s", job->dir, json_string_value(json_object_get(f, "name")));
	job->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (job->fd < 0) {
		log_error("checkpoint: %s: %s", path, strerror(errno));
		return -1;
	}
	return 1;
}

/* Writes pieces while the connection keeps up; re-arms itself otherwise. */
static void pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ckpt_job *job = arg;
	struct timeval retry = { 0, CKPT_PUMP_RETRY_US };

	if (job->cancelled) {
		job_end(job, 0);
		return;
	}
	while (http_stream_pending(job->req) < CKPT_PENDING_MAX) {
		ssize_t got;
		int r;

		if (job->fd < 0) {
			if ((r = open_next(job)) < 0) {
				job_end(job, 0);
				return;
			}
			if (r == 0) {
				if (http_stream_write(job->req, CKPT_TRAILER, 8) < 0) {
					job_end(job, 0);
					return;
				}
				log_info("checkpoint: sent to %s (%zu files)", http_request_peer_ip(job->req),
					 job->file);
				job_end(job, 1);
				return;
			}
		}
		got = read(job->fd, job->piece, CKPT_PIECE);
		if (got < 0) {
			log_error("checkpoint: read: %s", strerror(errno));
			job_end(job, 0);
			return;
		}
		if (got == 0) {
			close(job->fd);
			job->fd = -1;
			job->file++;
			continue;
		}
		if (http_stream_write(job->req, job->piece, (size_t)got) < 0) {
			job_end(job, 0);
			return;
		}
	}
	event_add(job->pump, &retry);
}

/* The thread is done: answer the error, or start the stream. */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ckpt_job *job = arg;
	struct http_response resp;
	struct buf head = BUF_INIT;
	const char *error = NULL;

	pthread_join(job->thread, NULL);
	job->joined = 1;
	if (job->cancelled) {
		mgmt_reply_error(job->req, 503, "client gone");    /* finishes req; dropped */
		job_free(job);
		return;
	}
	if (job->manifest == NULL) {
		log_error("checkpoint: %s", job->error);
		mgmt_reply_error(job->req, 500, job->error);
		job_free(job);
		return;
	}
	http_response_init(&resp, 200);
	if (http_response_field(&resp, "Content-Type", "application/x-evmail-checkpoint", &error) < 0)
		log_panic("checkpoint: %s", error);
	job->streaming = 1;
	ckpt_stream_head(job->manifest, &head);
	if (http_stream_start(job->req, &resp) < 0 || http_stream_write(job->req, head.data, head.len) < 0) {
		http_response_clear(&resp);
		buf_free(&head);
		job_end(job, 0);
		return;
	}
	http_response_clear(&resp);
	buf_free(&head);
	job->piece = xmalloc(CKPT_PIECE);
	job->pump = evtimer_new(job->node->base, pump_cb, job);
	event_active(job->pump, EV_TIMEOUT, 0);
}

/* The checkpoint thread: makes and hashes the copy. */
static void *job_thread(void *arg)
{
	struct ckpt_job *job = arg;
	struct node *node = job->node;
	const char *error = NULL;

	if (ckpt_create(node->cfg, node->log, node->view, job->dir, &job->manifest, &error) < 0) {
		snprintf(job->error, sizeof job->error, "checkpoint: %s", error);
		job->manifest = NULL;
	}
	event_active(job->done, EV_TIMEOUT, 0);
	return NULL;
}

/* The client went away: the thread's end or the pump finishes req. */
static void job_cancelled(void *ctx, struct http_request *req)
{
	struct ckpt_job *job = ctx;

	job->cancelled = 1;
}

/* GET /admin/checkpoint. */
void ckpt_serve(struct node *node, struct http_request *req)
{
	json_t *st = projector_status(node->projector);
	const char *state = json_string_value(json_object_get(st, "state"));
	struct ckpt_job *job;
	int busy = state == NULL || strcmp(state, "running") != 0;

	if (busy) {
		char why[200];
		snprintf(why, sizeof why, "the projector is %s: no checkpoint until it runs",
			 state ? state : "unknown");
		json_decref(st);
		mgmt_reply_error(req, 409, why);
		return;
	}
	json_decref(st);
	if (serving >= CKPT_SERVING_MAX) {
		mgmt_reply_error(req, 429, "checkpoints are being served already; try again later");
		return;
	}
	serving++;
	job = xcalloc(1, sizeof *job);
	job->node = node;
	job->req = req;
	job->fd = -1;
	snprintf(job->dir, sizeof job->dir, "%s/" CKPT_DIR_PREFIX "%d-%u", node->cfg->node_data_dir,
		 (int)getpid(), ++job_seq);
	job->done = event_new(node->base, -1, 0, done_cb, job);
	http_request_on_cancel(req, job_cancelled, job);
	log_info("checkpoint: making one in %s for %s", job->dir, http_request_peer_ip(req));
	job->next = jobs;
	jobs = job;
	if (pthread_create(&job->thread, NULL, job_thread, job) != 0) {
		job->joined = 1;
		mgmt_reply_error(req, 500, "checkpoint: cannot start a thread");
		job_free(job);
	}
}

void ckpt_serve_stop(void)
{
	while (jobs != NULL) {
		struct ckpt_job *job = jobs;

		if (!job->joined) {
			pthread_join(job->thread, NULL);
			job->joined = 1;
		}
		if (job->streaming)
			http_stream_end(job->req);
		else
			mgmt_reply_error(job->req, 503, "the node is stopping");
		job_free(job);
	}
}
