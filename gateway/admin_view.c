/* admin_view - POST /admin/view/compact: a forced compaction of this
 * node's view (projector/view.h view_compact), so deleted values such as
 * an erased account's mail leave the disk now. It runs on a thread of its
 * own (RocksDB blocks for as long as it takes) and is answered when done:
 * {"status": "compacted", "ms"}. One at a time per node (409 while one
 * runs). admin_view_compact_stop (node_stop) joins a running one. */
#include "gateway/mgmt_http.h"
#include "common/ids.h"
#include "common/log.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct view_compaction {
	struct node *node;
	struct http_request *req;
	pthread_t thread;
	struct event *done;
	int64_t started_ms;
	int status;
	char error[256];
};

/* The one compaction of this node (loop thread owns the pointer). */
static struct view_compaction *running;

/* The compaction's thread: compact, then wake the loop. */
static void *compact_worker(void *ctx)
{
	struct view_compaction *c = ctx;
	const char *error = NULL;

	c->status = view_compact(c->node->view, &error);
	if (c->status < 0)
		snprintf(c->error, sizeof c->error, "%s", error != NULL ? error : "compaction failed");
	event_active(c->done, EV_TIMEOUT, 0);
	return NULL;
}

/* Back on the loop: join, answer. */
static void compact_finished(evutil_socket_t fd, short what, void *ctx)
{
	struct view_compaction *c = ctx;
	int64_t ms = evm_mono_ms() - c->started_ms;

	(void)fd;
	(void)what;
	pthread_join(c->thread, NULL);
	running = NULL;
	if (c->status < 0) {
		log_warn("admin: view compaction: %s", c->error);
		mgmt_reply_error(c->req, 500, c->error);
	} else {
		log_info("admin: view compacted in %lld ms", (long long)ms);
		mgmt_reply_json(c->req, 200, json_pack("{s:s, s:I}", "status", "compacted", "ms", (json_int_t)ms));
	}
	event_free(c->done);
	free(c);
}

void admin_view_compact_handle(struct node *node, struct http_request *req)
{
	struct view_compaction *c;

	if (strcmp(http_request_method(req), "POST") != 0) {
		mgmt_reply_error(req, 405, "use POST");
		return;
	}
	if (running != NULL) {
		mgmt_reply_error(req, 409, "a view compaction is already running");
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->node = node;
	c->req = req;
	c->started_ms = evm_mono_ms();
	c->done = event_new(node->base, -1, 0, compact_finished, c);
	if (pthread_create(&c->thread, NULL, compact_worker, c) != 0) {
		event_free(c->done);
		free(c);
		mgmt_reply_error(req, 500, "cannot start the compaction thread");
		return;
	}
	running = c;
}

void admin_view_compact_stop(void)
{
	struct view_compaction *c = running;

	if (c == NULL)
		return;
	/* The management listener is closed: its request went with it. */
	pthread_join(c->thread, NULL);
	running = NULL;
	event_free(c->done);
	free(c);
}
