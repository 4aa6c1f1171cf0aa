/* metrics - Prometheus text exposition (format 0.0.4) of the node. */
#include "gateway/auth_gate.h"
#include "gateway/blobgc/blobgc.h"
#include "gateway/retention/retention.h"
#include "gateway/auth_password.h"
#include "gateway/fts/fts.h"
#include "gateway/mgmt_http.h"
#include "gateway/net.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/queue.h"

static void counter(struct buf *out, const char *name, const char *help, json_int_t v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", name, help, name, name, (long long)v);
}

static json_int_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* One gauge family with a sample per partition. */
static void partition_gauge(struct buf *out, json_t *parts, const char *name, const char *field,
			    const char *help)
{
	size_t i;
	json_t *p;

	buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	json_array_foreach(parts, i, p) {
		buf_printf(out, "%s{topic=\"%s\",partition=\"%lld\"} %lld\n", name,
			   json_string_value(json_object_get(p, "topic")),
			   (long long)jint(p, "partition"), (long long)jint(p, field));
	}
}

/* The outbound queue as this node's view sees it (projector/queue.h). */
static void queue_metrics(struct node *node, struct buf *out)
{
	struct queue_stats st;
	const char *error = NULL;
	int64_t age = 0;

	if (queue_stats(node->view, &st, &error) < 0) {
		log_warn("metrics: queue stats: %s", error);
		return;
	}
	if (st.oldest_arrival > 0 && evm_now_ms() > st.oldest_arrival)
		age = (evm_now_ms() - st.oldest_arrival) / 1000;
	buf_printf(out, "# HELP evmail_queue_items Items in the outbound queue.\n"
		   "# TYPE evmail_queue_items gauge\nevmail_queue_items %llu\n",
		   (unsigned long long)st.size);
	buf_printf(out, "# HELP evmail_queue_recipients Recipients of queued items not delivered or failed yet.\n"
		   "# TYPE evmail_queue_recipients gauge\nevmail_queue_recipients %llu\n",
		   (unsigned long long)st.recipients);
	buf_printf(out, "# HELP evmail_queue_held Queue items on hold.\n"
		   "# TYPE evmail_queue_held gauge\nevmail_queue_held %llu\n", (unsigned long long)st.held);
	buf_printf(out, "# HELP evmail_queue_oldest_age_seconds Age of the oldest queue item (0 when empty).\n"
		   "# TYPE evmail_queue_oldest_age_seconds gauge\nevmail_queue_oldest_age_seconds %lld\n",
		   (long long)age);
	buf_printf(out, "# HELP evmail_queue_events_total Queue events applied: items enqueued and removed, "
		   "recipient results delivered, deferred, failed.\n"
		   "# TYPE evmail_queue_events_total counter\n"
		   "evmail_queue_events_total{kind=\"enqueued\"} %llu\n"
		   "evmail_queue_events_total{kind=\"delivered\"} %llu\n"
		   "evmail_queue_events_total{kind=\"deferred\"} %llu\n"
		   "evmail_queue_events_total{kind=\"failed\"} %llu\n"
		   "evmail_queue_events_total{kind=\"removed\"} %llu\n",
		   (unsigned long long)st.enqueued, (unsigned long long)st.delivered,
		   (unsigned long long)st.deferred, (unsigned long long)st.failed,
		   (unsigned long long)st.removed);
}

/* Whether the log answers writes (ingest/evlog.h, evlog_health). */
static void log_metrics(struct node *node, struct buf *out)
{
	struct evlog_health h;
	struct evlog_compaction c;
	const char *error;

	evlog_health(node->log, &h);
	buf_printf(out, "# HELP evmail_log_reachable 1 while the log acknowledges appends, 0 after a "
		   "failure or timeout until the next acknowledged append.\n"
		   "# TYPE evmail_log_reachable gauge\nevmail_log_reachable %d\n", h.reachable ? 1 : 0);
	buf_printf(out, "# HELP evmail_log_storage_full 1 while appends fail because the log's storage is full.\n"
		   "# TYPE evmail_log_storage_full gauge\nevmail_log_storage_full %d\n",
		   !h.reachable && h.storage_full ? 1 : 0);
	buf_printf(out, "# HELP evmail_log_appends_total Appends answered by the log (or by log.write_timeout_ms), by result.\n"
		   "# TYPE evmail_log_appends_total counter\n"
		   "evmail_log_appends_total{result=\"ok\"} %llu\n"
		   "evmail_log_appends_total{result=\"failed\"} %llu\n"
		   "evmail_log_appends_total{result=\"timeout\"} %llu\n",
		   (unsigned long long)h.appends_ok,
		   (unsigned long long)(h.appends_failed - h.appends_timed_out),
		   (unsigned long long)h.appends_timed_out);
	counter(out, "evmail_log_appends_failed_total",
		"Appends that failed or were not acknowledged within log.write_timeout_ms.",
		(json_int_t)h.appends_failed);
	if (evlog_compaction_stats(node->log, &c, &error) < 0)
		return;   /* Kafka: the brokers compact */
	counter(out, "evmail_log_compaction_runs_total",
		"Compaction passes of the embedded log over its compacted topics.", (json_int_t)c.runs);
	counter(out, "evmail_log_compaction_bytes_reclaimed_total",
		"Bytes the embedded log's compaction removed from segment files.",
		(json_int_t)c.bytes_reclaimed);
	counter(out, "evmail_log_compaction_records_removed_total",
		"Records the embedded log's compaction removed (older records of a key, expired tombstones).",
		(json_int_t)c.records_removed);
	counter(out, "evmail_log_compaction_errors_total",
		"Partitions a compaction pass of the embedded log failed on.", (json_int_t)c.errors);
}

/* Password checks (gateway/auth_password.h), the cache's effect included. */
static void auth_metrics(struct buf *out)
{
	struct auth_password_stats as;

	auth_password_get_stats(&as);
	counter(out, "evmail_auth_cache_hits_total",
		"Logins accepted from the password cache (auth.cache_ttl_s) without a yescrypt check.",
		(json_int_t)as.cache_hits);
	counter(out, "evmail_auth_cache_misses_total",
		"Logins of an active account the password cache could not answer (checked in full).",
		(json_int_t)as.cache_misses);
	counter(out, "evmail_auth_password_checks_total",
		"Full password checks (yescrypt on a worker thread), failures and unknown accounts included.",
		(json_int_t)as.checks);
}

/* Login throttling (gateway/auth_gate.h). */
static void auth_throttle_metrics(struct buf *out)
{
	struct auth_gate_stats gs;

	auth_gate_get_stats(&gs);
	counter(out, "evmail_auth_failures_total",
		"Failed authentications counted by the login throttle (every protocol, the admin token included).",
		(json_int_t)gs.failures);
	counter(out, "evmail_auth_failures_delayed_total",
		"Failed or refused authentications answered after auth.failure_delay_ms.", (json_int_t)gs.delayed);
	counter(out, "evmail_auth_refused_ip_total",
		"Authentications refused without a check: the client IP (IPv6 /64) was locked out.",
		(json_int_t)gs.refused_ip);
	counter(out, "evmail_auth_refused_account_total",
		"Authentications refused without a check: the account was locked for that client.",
		(json_int_t)gs.refused_account);
}

void metrics_render(struct node *node, struct buf *out)
{
	json_t *st = projector_status(node->projector);
	json_t *parts = json_object_get(st, "partitions");

	buf_printf(out, "# HELP evmail_build_info Build of this node.\n# TYPE evmail_build_info gauge\n"
		   "evmail_build_info{version=\"%s\"} 1\n", EVMAIL_VERSION);
	buf_printf(out, "# HELP evmail_ready 1 when every partition is caught up with the log end.\n"
		   "# TYPE evmail_ready gauge\nevmail_ready %d\n",
		   json_is_true(json_object_get(st, "ready")) ? 1 : 0);
	counter(out, "evmail_events_applied_total", "Events applied to the view (accepted or rejected).",
		jint(st, "events_applied"));
	counter(out, "evmail_events_rejected_total", "Command events whose precondition failed.",
		jint(st, "events_rejected"));
	counter(out, "evmail_events_duplicate_total", "Events skipped because their id was already applied.",
		jint(st, "duplicates"));
	counter(out, "evmail_decode_errors_total", "Log records that failed strict envelope decoding.",
		jint(st, "decode_errors"));
	partition_gauge(out, parts, "evmail_partition_applied_offset", "applied",
			"Next offset the projector will apply.");
	partition_gauge(out, parts, "evmail_partition_end_offset", "end", "Log end offset.");
	partition_gauge(out, parts, "evmail_partition_lag", "lag", "Events not yet applied.");
	buf_printf(out, "# HELP evmail_log_pending_appends Appends waiting for the log's acknowledgement.\n"
		   "# TYPE evmail_log_pending_appends gauge\nevmail_log_pending_appends %zu\n",
		   evlog_pending(node->log));
	log_metrics(node, out);
	buf_printf(out, "# HELP evmail_commands_total Commands submitted through this node, by result.\n"
		   "# TYPE evmail_commands_total counter\n"
		   "evmail_commands_total{result=\"accepted\"} %llu\n"
		   "evmail_commands_total{result=\"rejected\"} %llu\n"
		   "evmail_commands_total{result=\"failed\"} %llu\n",
		   (unsigned long long)node->counters.commands_accepted,
		   (unsigned long long)node->counters.commands_rejected,
		   (unsigned long long)node->counters.commands_failed);
	counter(out, "evmail_heartbeats_sent_total", "Heartbeats this node published.",
		(json_int_t)node->counters.heartbeats_sent);
	counter(out, "evmail_tcp_quickacks_total",
		"Immediate ACKs requested while a client sent a literal or body in parts.",
		(json_int_t)net_quickack_count());
	auth_metrics(out);
	auth_throttle_metrics(out);
	queue_metrics(node, out);
	evm_fts_metrics(node, out);
	blobgc_metrics(node->blobgc, out);
	blobgc_store_metrics(node, out);
	retention_metrics(node->retention, out);
	json_decref(st);
}
