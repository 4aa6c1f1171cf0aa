/* admin_queue - the outbound queue for operators (evmailctl queue):
 *
 *   GET  /admin/queue[?limit=N]          items in id order (default 1000,
 *                                        0 = all)
 *   GET  /admin/queue/ID                 one item
 *   POST /admin/queue/ID/retry           due now (queue.retry)
 *   POST /admin/queue/ID/hold            queue.hold
 *   POST /admin/queue/ID/release         queue.release
 *   POST /admin/queue/ID/delete          body {"bounce": true|false}
 *   POST /admin/queue/retry-all          queue.retry of every item
 *
 * Each POST appends its event to the queue topic (key = the item id) and
 * answers once the local projector applied it: 200 with the outcome,
 * 404 when the item does not exist, 409 for another rejection, 503 when
 * the event's fate is unknown. Every read answers from this node's view. */
#include "gateway/command.h"
#include "gateway/mgmt_http.h"
#include "gateway/http/http_util.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/queue.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_QUEUE_TIMEOUT_MS 30000
#define ADMIN_QUEUE_LIST_DEFAULT 1000
#define ADMIN_QUEUE_DELETE_REASON "deleted by an administrator"

/* One POST on one item. */
struct queue_cmd {
	struct http_request *req;
	struct queue_bulk *bulk;     /* retry-all: the batch it belongs to */
	int client_gone;             /* alone: the connection closed before the answer */
};

/* retry-all: the outcomes of every item's queue.retry. */
struct queue_bulk {
	struct http_request *req;
	json_t *outcomes;
	size_t remaining;
	size_t accepted;
	int client_gone;             /* the connection closed before the answer */
};

/* The client of a single-item POST left before its answer: the event
 * still completes (the answer is dropped); say so, since it will not. */
static void cmd_cancelled(void *ctx, struct http_request *req)
{
	struct queue_cmd *c = ctx;

	c->client_gone = 1;
	log_info("admin: [%s] client left before %s was answered; the queue event still completes",
		 http_request_peer_ip(req), http_request_path(req));
}

/* The same for retry-all. */
static void bulk_cancelled(void *ctx, struct http_request *req)
{
	struct queue_bulk *b = ctx;

	b->client_gone = 1;
	log_info("admin: [%s] client left before retry-all was answered; %zu queue.retry still completing",
		 http_request_peer_ip(req), b->remaining);
}

/* The HTTP status for an outcome. */
static int outcome_code(json_t *outcome)
{
	const char *st = json_string_value(json_object_get(outcome, "status"));
	const char *code = json_string_value(json_object_get(outcome, "code"));

	if (st != NULL && strcmp(st, "accepted") == 0)
		return 200;
	return code != NULL && strcmp(code, "not-found") == 0 ? 404 : 409;
}

static void bulk_done(struct queue_bulk *b, json_t *outcome)
{
	json_array_append(b->outcomes, outcome);
	if (outcome_code(outcome) == 200)
		b->accepted++;
	if (--b->remaining > 0)
		return;
	if (b->client_gone)
		log_info("admin: retry-all finished after its client left: %zu of %zu retried", b->accepted,
			 json_array_size(b->outcomes));
	mgmt_reply_json(b->req, 200, json_pack("{s:I, s:I, s:o}", "retried", (json_int_t)b->accepted,
					       "failed", (json_int_t)(json_array_size(b->outcomes) - b->accepted),
					       "outcomes", b->outcomes));
	free(b);
}

/* The event was applied (or not): answer with its outcome. */
static void cmd_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct queue_cmd *c = ctx;
	json_t *o;

	if (status < 0)
		o = json_pack("{s:s, s:s}", "status", "failed", "error", error ? error : "unknown");
	else
		o = json_deep_copy(outcome);
	if (c->bulk == NULL && c->client_gone) {
		const char *what = json_string_value(json_object_get(o, status < 0 ? "error" : "status"));
		log_info("admin: %s finished after its client left: %s", http_request_path(c->req),
			 what ? what : "no outcome");
	}
	if (c->bulk != NULL) {
		bulk_done(c->bulk, o);
		json_decref(o);
	} else if (status < 0) {
		mgmt_reply_json(c->req, 503, o);
	} else {
		int code = outcome_code(o);
		/* evmailctl prints "error" of a failed request. */
		if (code != 200)
			json_object_set(o, "error", json_object_get(o, "reason"));
		mgmt_reply_json(c->req, code, o);
	}
	free(c);
}

/* Appends one queue event about item id; the envelope names the item's
 * tenant and account when this node knows the item. data is stolen. */
static void submit(struct node *node, struct queue_cmd *c, const char *type, const char *id,
		   json_t *data)
{
	const char *error = NULL, *tenant = "", *account = "";
	struct evm_event ev;
	json_t *item = NULL;

	if (queue_item_get(node->view, id, &item, &error) > 0) {
		tenant = json_string_value(json_object_get(item, "tenant"));
		account = json_string_value(json_object_get(item, "account"));
	}
	json_object_set_new(data, "id", json_string(id));
	if (evm_event_init(&ev, type, tenant ? tenant : "", account ? account : "", "admin", data,
			   &error) < 0) {
		json_decref(item);
		cmd_done(c, -1, NULL, error);
		return;
	}
	json_decref(item);
	command_submit(node, &ev, EVM_TOPIC_QUEUE, id, ADMIN_QUEUE_TIMEOUT_MS, cmd_done, c);
}

/* {"bounce": bool}: 0 or -1. */
static int delete_body(struct http_request *req, int *bounce_r)
{
	struct evbuffer *in = http_request_body(req);
	size_t len = evbuffer_get_length(in);
	json_t *body = json_loadb((const char *)evbuffer_pullup(in, (ev_ssize_t)len), len, 0, NULL);
	json_t *b = json_object_get(body, "bounce");
	int ret = json_is_boolean(b) ? 0 : -1;

	*bounce_r = json_is_true(b);
	json_decref(body);
	return ret;
}

/* POST /admin/queue/ID/ACTION. */
static void item_action(struct node *node, struct http_request *req, const char *id,
			const char *action)
{
	struct queue_cmd *c;
	json_t *data;
	int bounce = 0;

	if (strcmp(action, "retry") == 0) {
		data = json_pack("{s:I}", "next_try", (json_int_t)evm_now_ms());
	} else if (strcmp(action, "hold") == 0 || strcmp(action, "release") == 0) {
		data = json_object();
	} else if (strcmp(action, "delete") == 0) {
		if (delete_body(req, &bounce) < 0) {
			mgmt_reply_error(req, 400, "expected a JSON body {\"bounce\": true|false}");
			return;
		}
		data = json_pack("{s:s, s:b}", "reason", ADMIN_QUEUE_DELETE_REASON, "bounce", bounce);
	} else {
		mgmt_reply_error(req, 404, "no such queue action (retry, hold, release, delete)");
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->req = req;
	/* Before submit, which may answer (and free c) at once; c lives as
	 * long as req is unanswered. */
	http_request_on_cancel(req, cmd_cancelled, c);
	if (strcmp(action, "retry") == 0)
		submit(node, c, "queue.retry", id, data);
	else if (strcmp(action, "delete") == 0)
		submit(node, c, "queue.delete", id, data);
	else
		submit(node, c, strcmp(action, "hold") == 0 ? "queue.hold" : "queue.release", id, data);
}

/* POST /admin/queue/retry-all: queue.retry (now) of every item here. */
static void retry_all(struct node *node, struct http_request *req)
{
	const char *error = NULL;
	struct queue_bulk *b;
	json_t *items = NULL, *it;
	int64_t now = evm_now_ms();
	size_t i;

	if (queue_list(node->view, 0, &items, &error) < 0) {
		mgmt_reply_error(req, 500, error);
		return;
	}
	if (json_array_size(items) == 0) {
		json_decref(items);
		mgmt_reply_json(req, 200, json_pack("{s:i, s:i, s:[]}", "retried", 0, "failed", 0, "outcomes"));
		return;
	}
	b = xcalloc(1, sizeof *b);
	b->req = req;
	b->outcomes = json_array();
	b->remaining = json_array_size(items);
	/* Before the first submit: the last one may answer (and free b) at
	 * once. b lives as long as req is unanswered. */
	http_request_on_cancel(req, bulk_cancelled, b);
	json_array_foreach(items, i, it) {
		struct queue_cmd *c = xcalloc(1, sizeof *c);
		c->req = req;
		c->bulk = b;
		submit(node, c, "queue.retry", json_string_value(json_object_get(it, "id")),
		       json_pack("{s:I}", "next_try", (json_int_t)now));
	}
	json_decref(items);
}

/* ?limit=N: 0 or -1. */
static int list_limit(struct http_request *req, size_t *limit_r)
{
	const char *error = NULL;
	char *v = NULL, *end;
	unsigned long long n;
	int ret;

	*limit_r = ADMIN_QUEUE_LIST_DEFAULT;
	ret = http_query_param(http_request_query(req), "limit", &v, &error);
	if (ret <= 0)
		return ret;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n > 10000000)
		ret = -1;
	else
		*limit_r = (size_t)n;
	free(v);
	return ret < 0 ? -1 : 0;
}

/* GET /admin/queue and /admin/queue/ID. */
static void handle_get(struct node *node, struct http_request *req, const char *id)
{
	const char *error = NULL;
	json_t *out = NULL;
	size_t limit;
	int ret;

	if (id == NULL) {
		if (list_limit(req, &limit) < 0) {
			mgmt_reply_error(req, 400, "limit must be a number (0 = all)");
			return;
		}
		if (queue_list(node->view, limit, &out, &error) < 0)
			mgmt_reply_error(req, 500, error);
		else
			mgmt_reply_json(req, 200, out);
		return;
	}
	ret = queue_item_get(node->view, id, &out, &error);
	if (ret < 0)
		mgmt_reply_error(req, 500, error);
	else if (ret == 0)
		mgmt_reply_error(req, 404, "no such queue item");
	else
		mgmt_reply_json(req, 200, out);
}

void admin_queue_handle(struct node *node, struct http_request *req, const char *path)
{
	const char *method = http_request_method(req);
	int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	char id[QUEUE_ID_LEN + 1];
	const char *slash;

	if (path[0] == '\0' || strcmp(path, "/") == 0) {
		if (get)
			handle_get(node, req, NULL);
		else
			mgmt_reply_error(req, 405, "use GET");
		return;
	}
	path++;  /* past '/' */
	if (strcmp(path, "retry-all") == 0) {
		if (post)
			retry_all(node, req);
		else
			mgmt_reply_error(req, 405, "use POST");
		return;
	}
	slash = strchr(path, '/');
	if ((slash ? (size_t)(slash - path) : strlen(path)) != QUEUE_ID_LEN) {
		mgmt_reply_error(req, 404, "no such queue item");
		return;
	}
	memcpy(id, path, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = '\0';
	if (!evm_id_valid(id)) {
		mgmt_reply_error(req, 404, "no such queue item");
	} else if (slash == NULL) {
		if (get)
			handle_get(node, req, id);
		else
			mgmt_reply_error(req, 405, "use GET");
	} else if (!post) {
		mgmt_reply_error(req, 405, "use POST");
	} else {
		item_action(node, req, id, slash + 1);
	}
}
