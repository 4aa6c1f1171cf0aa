/* admin_log - /admin/log/compact: the log's compaction (ingest/evlog.h).
 *
 * GET answers the counters; POST asks for a pass now and answers 202 with
 * the counters as they were (the pass runs on the log's compactor thread,
 * never on this loop: a pass reads whole topics). A client waits for
 * "runs" to grow. Kafka's brokers compact by themselves: 409 there. */
#include "gateway/mgmt_http.h"
#include "gateway/node.h"
#include "gateway/http/http_server.h"
#include "ingest/evlog.h"

#include <string.h>

/* The counters as JSON. */
static json_t *stats_json(const struct evlog_compaction *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "runs", (json_int_t)c->runs,
			 "segments_rewritten", (json_int_t)c->segments_rewritten,
			 "segments_removed", (json_int_t)c->segments_removed,
			 "records_removed", (json_int_t)c->records_removed,
			 "bytes_reclaimed", (json_int_t)c->bytes_reclaimed,
			 "errors", (json_int_t)c->errors,
			 "last_run_ms", (json_int_t)c->last_run_ms);
}

/* GET or POST /admin/log/compact. */
void admin_log_compact_handle(struct node *node, struct http_request *req)
{
	const char *method = http_request_method(req), *error = NULL;
	int post = strcmp(method, "POST") == 0;
	struct evlog_compaction c;

	if (!post && strcmp(method, "GET") != 0) {
		mgmt_reply_error(req, 405, "use GET or POST");
		return;
	}
	if (evlog_compaction_stats(node->log, &c, &error) < 0) {
		mgmt_reply_error(req, 409, error);
		return;
	}
	if (!post) {
		mgmt_reply_json(req, 200, stats_json(&c));
		return;
	}
	if (evlog_compact_now(node->log, &error) < 0) {
		mgmt_reply_error(req, 409, error);
		return;
	}
	mgmt_reply_json(req, 202, stats_json(&c));
}
