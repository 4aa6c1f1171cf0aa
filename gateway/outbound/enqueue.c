/* enqueue - outbound_enqueue() (see enqueue.h): the body as a blob, then
 * one queue.enqueue event (projector/queue.h) on the queue topic, keyed by
 * the item id so every event of the item shares its partition; answered
 * with the local projector's outcome. */
#include "gateway/outbound/enqueue.h"
#include "gateway/command.h"
#include "gateway/deliver_blob.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/queue.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#define ENQUEUE_TIMEOUT_MS 30000

/* What outbound_enqueue keeps until the answer. */
struct enqueue_job {
	struct node *node;
	enqueue_done_cb *cb;
	void *ctx;
	char id[QUEUE_ID_LEN + 1];
	char blob_id[DELIVER_BLOB_ID_LEN + 1];
	size_t blob_size;
	char actor[EVM_EVENT_NAME_MAX + 1];
	char *tenant, *account;
	json_t *data;                 /* the event's data, blob fields filled later */
	char error[300];
	struct event *defer;
};

static void job_finish(struct enqueue_job *j, int status, const char *error)
{
	if (status == 0)
		log_info("enqueue: %s queued %s blob %s size %zu rcpts %zu", j->actor, j->id, j->blob_id,
			 j->blob_size, json_array_size(json_object_get(j->data, "rcpts")));
	else
		log_warn("enqueue: %s item %s not queued: %s", j->actor, j->id, error);
	j->cb(j->ctx, status, j->id, error);
	if (j->defer != NULL)
		event_free(j->defer);
	json_decref(j->data);
	free(j->tenant);
	free(j->account);
	free(j);
}

/* A failure found before anything was appended, answered on the next turn. */
static void job_deferred(evutil_socket_t fd, short what, void *ctx)
{
	struct enqueue_job *j = ctx;

	job_finish(j, -1, j->error);
}

static void fail_later(struct enqueue_job *j, const char *error)
{
	snprintf(j->error, sizeof j->error, "%s", error);
	j->defer = evtimer_new(j->node->base, job_deferred, j);
	event_active(j->defer, EV_TIMEOUT, 0);
}

/* The projector's outcome of queue.enqueue. */
static void event_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct enqueue_job *j = ctx;
	const char *st, *reason;
	char msg[300];

	if (status < 0) {
		job_finish(j, -1, error);
		return;
	}
	st = json_string_value(json_object_get(outcome, "status"));
	if (st != NULL && strcmp(st, "accepted") == 0) {
		job_finish(j, 0, NULL);
		return;
	}
	reason = json_string_value(json_object_get(outcome, "reason"));
	snprintf(msg, sizeof msg, "queue.enqueue rejected: %s", reason != NULL ? reason : "no reason");
	job_finish(j, -1, msg);
}

/* The body is in the log and applied here: append the event. */
static void blob_applied(void *ctx, int status)
{
	struct enqueue_job *j = ctx;
	struct evm_event ev;
	const char *error = NULL;

	if (status < 0)
		log_warn("enqueue: blob %s is durable but not yet applied here; queueing anyway",
			 j->blob_id);
	json_object_set_new(j->data, "blob_id", json_string(j->blob_id));
	json_object_set_new(j->data, "blob_size", json_integer((json_int_t)j->blob_size));
	if (evm_event_init(&ev, "queue.enqueue", j->tenant, j->account, j->actor, json_incref(j->data),
			   &error) < 0) {
		job_finish(j, -1, error);
		return;
	}
	command_submit(j->node, &ev, EVM_TOPIC_QUEUE, j->id, ENQUEUE_TIMEOUT_MS, event_done, j);
}

static void blob_stored(void *ctx, int status, const char *error, int32_t partition, int64_t last_offset)
{
	struct enqueue_job *j = ctx;

	if (status < 0) {
		job_finish(j, -1, error);
		return;
	}
	projector_wait(j->node->projector, EVM_TOPIC_BLOB, partition, last_offset, ENQUEUE_TIMEOUT_MS,
		       blob_applied, j, NULL);
}

/* The event's data without the blob fields: recipients, DSN parameters,
 * flags and the times (RFC 3461 4: NOTIFY/ORCPT per recipient, RET/ENVID). */
static json_t *item_data(const struct node *node, const struct enqueue_request *req, const char *id)
{
	const struct evm_config *cfg = node->cfg;
	int64_t now = evm_now_ms();
	json_t *rcpts = json_array();

	for (size_t i = 0; i < req->nrcpts; i++) {
		const struct outbound_rcpt *r = &req->rcpts[i];
		json_array_append_new(rcpts, json_pack("{s:s,s:s,s:s}", "addr", r->addr, "orcpt",
						       r->orcpt != NULL ? r->orcpt : "", "notify",
						       r->notify != NULL ? r->notify : ""));
	}
	return json_pack("{s:s,s:s,s:o,s:s,s:s,s:b,s:b,s:b,s:b,s:I,s:I,s:I,s:I}", "id", id, "from",
			 req->from != NULL ? req->from : "", "rcpts", rcpts, "ret",
			 req->ret != NULL ? req->ret : "", "envid", req->envid != NULL ? req->envid : "",
			 "smtputf8", req->smtputf8, "body8bit", req->body8bit, "requiretls",
			 req->requiretls, "dsn", req->dsn, "arrival", (json_int_t)now, "next_try",
			 (json_int_t)now, "expire", (json_int_t)(now + cfg->delivery_max_lifetime_s * 1000),
			 "delay_warn",
			 (json_int_t)(cfg->delivery_delay_warning_s > 0 ? now + cfg->delivery_delay_warning_s * 1000 : 0));
}

void outbound_enqueue(struct node *node, const struct enqueue_request *req, enqueue_done_cb *cb,
		      void *ctx)
{
	struct enqueue_job *j = xcalloc(1, sizeof *j);

	j->node = node;
	j->cb = cb;
	j->ctx = ctx;
	evm_random_id(j->id);
	snprintf(j->actor, sizeof j->actor, "%s", req->actor != NULL ? req->actor : "submission");
	j->tenant = xstrdup(req->tenant != NULL ? req->tenant : "");
	j->account = xstrdup(req->account != NULL ? req->account : "");
	j->blob_size = req->len;
	if (req->nrcpts == 0 || req->nrcpts > QUEUE_MAX_RCPTS) {
		fail_later(j, "enqueue: between 1 and QUEUE_MAX_RCPTS recipients");
		return;
	}
	if (req->len == 0) {
		fail_later(j, "enqueue: empty message");
		return;
	}
	j->data = item_data(node, req, j->id);
	if (j->data == NULL) {
		fail_later(j, "enqueue: a field is not valid UTF-8");
		return;
	}
	deliver_blob_id(req->data, req->len, j->blob_id);
	deliver_blob_store(node, j->actor, j->account, j->blob_id, req->data, req->len, blob_stored, j);
}
