/* queue_worker_job - one due queue item in flight: carry out its plan
 * (queue_plan.h) and log the outcome through command_submit on the queue
 * topic, keyed by the item id (so the event lands in the item's partition
 * and the outcome says the local view applied it). */
#include "gateway/outbound/queue_worker_internal.h"
#include "gateway/outbound/dsn.h"
#include "gateway/command.h"
#include "projector/mail.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* String member or "" when absent. */
static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

struct qw_job *qw_job_find(struct queue_worker *w, const char *id)
{
	for (struct qw_job *j = w->jobs; j != NULL; j = j->next) {
		if (strcmp(j->id, id) == 0)
			return j;
	}
	return NULL;
}

void qw_job_free(struct qw_job *job)
{
	struct queue_worker *w = job->w;
	size_t n = json_array_size(json_object_get(job->item, "rcpts"));

	if (w != NULL && job->busy)
		qw_busy_leave(&w->busy, job->partition);
	if (w != NULL) {
		if (job->prev != NULL)
			job->prev->next = job->next;
		else
			w->jobs = job->next;
		if (job->next != NULL)
			job->next->prev = job->prev;
		w->njobs--;
	}
	if (job->results != NULL) {
		for (size_t i = 0; i < n; i++)
			json_decref(job->results[i]);
		free(job->results);
	}
	queue_plan_free(&job->plan);
	json_decref(job->item);
	free(job->body);
	free(job);
}

/* The job failed before logging anything: it rests (stays "in flight") a
 * while so the next scans do not retry it at once. */
static void job_rest(struct qw_job *job, const char *why)
{
	struct queue_worker *w = job->w;
	int64_t rest = w->pcfg.retry_min_s * 1000;

	if (rest > QW_REST_MAX_MS)
		rest = QW_REST_MAX_MS;
	log_warn("queue %s: %s (retrying in %lld s)", job->id, why, (long long)(rest / 1000));
	job->rest_until = evm_mono_ms() + rest;
	if (job->busy) {
		qw_busy_leave(&w->busy, job->partition);
		job->busy = 0;
	}
}

/* command_submit answered: the item's outcome is in the log (and view). */
static void submitted(void *ctx, int status, json_t *outcome, const char *error)
{
	struct qw_job *job = ctx;

	if (job->w == NULL) {
		qw_job_free(job);
		return;
	}
	if (status < 0) {
		job_rest(job, error);
		return;
	}
	if (strcmp(jstr(outcome, "status"), "accepted") != 0)
		log_info("queue %s: %s rejected: %s %s", job->id,
			 job->plan.kind == QPLAN_DSN || job->plan.kind == QPLAN_DELAY ? "queue.notified" :
			 "queue.attempt", jstr(outcome, "code"), jstr(outcome, "reason"));
	qw_job_free(job);
}

/* Appends one queue event for the job's item (data consumed). */
static void job_submit(struct qw_job *job, const char *type, json_t *data)
{
	struct evm_event ev;
	const char *error = NULL;

	if (evm_event_init(&ev, type, jstr(job->item, "tenant"), jstr(job->item, "account"),
			   job->w->actor, data, &error) < 0) {
		job_rest(job, error);
		return;
	}
	command_submit(job->w->node, &ev, EVM_TOPIC_QUEUE, job->id, QW_SUBMIT_TIMEOUT_MS, submitted, job);
}

/* dsn_send answered. */
static void dsn_sent(void *ctx, int status, const char *error)
{
	struct qw_job *job = ctx;

	if (job->w == NULL) {
		qw_job_free(job);
		return;
	}
	if (status < 0) {
		job_rest(job, error != NULL ? error : "the report was not sent");
		return;
	}
	job_submit(job, "queue.notified", queue_notified_data(job->item, &job->plan));
}

/* QPLAN_DSN / QPLAN_DELAY: the report, then queue.notified. */
static void job_report(struct qw_job *job)
{
	struct dsn_request req;
	struct dsn_rcpt *rcpts;
	const char *error;

	if (job->plan.dsn_silent) {
		job_submit(job, "queue.notified", queue_notified_data(job->item, &job->plan));
		return;
	}
	rcpts = xcalloc(job->plan.nrcpts, sizeof *rcpts);
	if (queue_plan_dsn_request(job->item, &job->plan, evm_now_ms(), &req, rcpts, &error) < 0) {
		free(rcpts);
		job_rest(job, error);
		return;
	}
	req.hostname = job->w->hostname;
	req.original = job->body;
	req.original_len = job->len;
	dsn_send(job->w->node, &req, dsn_sent, job);
	free(rcpts);
}

/* Random jitter up to a tenth of ms (the producer's, never an applier's). */
static int64_t jitter(struct queue_worker *w, int64_t ms)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return ms >= 10 ? (int64_t)(w->rng % (uint64_t)(ms / 10)) : 0;
}

/* Every group answered: ONE queue.attempt with every result. */
static void job_attempt_done(struct qw_job *job)
{
	struct queue_worker *w = job->w;
	json_t *rcpts = json_array(), *all = json_object_get(job->item, "rcpts");
	int64_t backoff = queue_backoff_ms(&w->pcfg, json_integer_value(json_object_get(job->item, "attempts")));
	size_t n = json_array_size(all);

	for (size_t i = 0; i < n; i++) {
		if (job->results[i] != NULL) {
			json_array_append(rcpts, job->results[i]);
		}
	}
	job_submit(job, "queue.attempt", queue_attempt_data(job->id, w->node->cfg->node_id, job->ts, rcpts,
							    evm_now_ms() + backoff + jitter(w, backoff),
							    job->error));
}

/* The context of one outbound_send. */
struct qw_send {
	struct qw_job *job;
	size_t group;
};

/* outbound_send answered for one domain. */
static void group_done(void *ctx, const struct outbound_result *results, size_t n, const char *error)
{
	struct qw_send *s = ctx;
	struct qw_job *job = s->job;
	const struct queue_plan_group *g = &job->plan.groups[s->group];
	json_t *all = json_object_get(job->item, "rcpts");

	free(s);
	if (job->w == NULL) {
		if (--job->groups_left == 0)
			qw_job_free(job);
		return;
	}
	for (size_t i = 0; i < n && i < g->n; i++) {
		static const char *const st[] = { "delivered", "deferred", "failed" };
		json_t *r = json_array_get(all, g->rcpts[i]);
		job->results[g->rcpts[i]] = queue_rcpt_result(jstr(r, "addr"), st[results[i].status],
							       results[i].reply, results[i].enhanced,
							       results[i].remote, results[i].dsn_passed);
		/* One line per recipient and attempt, as an MTA's log has it. */
		log_info("queue %s: to=<%s> relay=%s status=%s (%s)", job->id, jstr(r, "addr"),
			 results[i].remote[0] != '\0' ? results[i].remote : "none", st[results[i].status],
			 results[i].reply);
	}
	if (error != NULL && error[0] != '\0') {
		size_t len = strlen(job->error);
		snprintf(job->error + len, sizeof job->error - len, "%s%s", len > 0 ? "; " : "", error);
	}
	if (--job->groups_left == 0)
		job_attempt_done(job);
}

/* QPLAN_SEND: one outbound_send per destination domain. */
static void job_send(struct qw_job *job)
{
	json_t *item = job->item, *all = json_object_get(item, "rcpts");
	size_t n = json_array_size(all);

	job->ts = evm_now_ms();
	job->results = xcalloc(n > 0 ? n : 1, sizeof *job->results);
	for (size_t i = 0; i < job->plan.ninvalid; i++) {
		json_t *r = json_array_get(all, job->plan.invalid[i]);
		job->results[job->plan.invalid[i]] = queue_rcpt_result(jstr(r, "addr"), "failed",
									"bad destination domain", "5.1.2", "", 0);
	}
	job->groups_left = job->plan.ngroups;
	if (job->groups_left == 0) {
		job_attempt_done(job);
		return;
	}
	for (size_t g = 0; g < job->plan.ngroups; g++) {
		const struct queue_plan_group *pg = &job->plan.groups[g];
		struct outbound_rcpt *or = xcalloc(pg->n, sizeof *or);
		struct outbound_msg msg;
		struct qw_send *s = xcalloc(1, sizeof *s);

		for (size_t i = 0; i < pg->n; i++) {
			json_t *r = json_array_get(all, pg->rcpts[i]);
			or[i].addr = jstr(r, "addr");
			or[i].orcpt = jstr(r, "orcpt");
			or[i].notify = jstr(r, "notify");
		}
		memset(&msg, 0, sizeof msg);
		msg.from = jstr(item, "from");
		msg.domain = pg->domain;
		msg.rcpts = or;
		msg.nrcpts = pg->n;
		msg.ret = jstr(item, "ret");
		msg.envid = jstr(item, "envid");
		msg.smtputf8 = json_is_true(json_object_get(item, "smtputf8"));
		msg.body8bit = json_is_true(json_object_get(item, "body8bit"));
		msg.requiretls = json_is_true(json_object_get(item, "requiretls"));
		msg.data = job->body;
		msg.len = job->len;
		s->job = job;
		s->group = g;
		outbound_send(job->w->ob, &msg, group_done, s);
		free(or);
	}
}

/* Reads the item's body; 1 read, 0 not complete on this node yet, -1 error. */
static int job_read_body(struct qw_job *job)
{
	const char *error = NULL;
	int rc = mail_blob_read(job->w->node->view, jstr(job->item, "blob_id"), &job->body, &job->len, &error);

	if (rc < 0)
		log_warn("queue %s: reading blob %s: %s", job->id, jstr(job->item, "blob_id"), error);
	return rc;
}

int qw_job_start(struct queue_worker *w, int32_t partition, json_t *item)
{
	struct qw_job *job = xcalloc(1, sizeof *job);
	const char *error;
	int need_body;

	job->w = w;
	job->partition = partition;
	job->item = json_incref(item);
	snprintf(job->id, sizeof job->id, "%s", jstr(item, "id"));
	if (queue_plan_make(item, evm_now_ms(), &w->pcfg, w->node->cfg->node_id, &job->plan, &error) < 0) {
		log_warn("queue %s: %s", job->id, error);
		goto skip;
	}
	if (job->plan.kind == QPLAN_NONE)
		goto skip;
	need_body = job->plan.kind == QPLAN_SEND ||
		    ((job->plan.kind == QPLAN_DSN || job->plan.kind == QPLAN_DELAY) && !job->plan.dsn_silent);
	if (need_body && job_read_body(job) <= 0)
		goto skip;          /* the blob is not here yet: the next scan retries */
	if (qw_busy_enter(&w->busy, partition) < 0)
		goto skip;          /* the partition is being given up */
	job->busy = 1;
	job->next = w->jobs;
	if (w->jobs != NULL)
		w->jobs->prev = job;
	w->jobs = job;
	w->njobs++;
	switch (job->plan.kind) {
	case QPLAN_DSN:
	case QPLAN_DELAY:
		job_report(job);
		break;
	case QPLAN_EXPIRE:
		job_submit(job, "queue.attempt", json_incref(job->plan.attempt));
		break;
	default:
		job_send(job);
		break;
	}
	return 0;
skip:
	job->w = NULL;
	qw_job_free(job);
	return -1;
}
