/* node - see node.h */
#include "gateway/node.h"
#include "gateway/auth_gate.h"
#include "gateway/auth_password.h"
#include "gateway/blobgc/blobgc.h"
#include "gateway/retention/retention.h"
#include "gateway/command.h"
#include "gateway/checkpoint/checkpoint.h"
#include "gateway/admin_logscan.h"
#include "gateway/admin_erase.h"
#include "gateway/mgmt_http.h"
#include "projector/keyring.h"
#include "gateway/net.h"
#include "gateway/smtp/smtp_rate.h"
#include "gateway/smtp/smtp_server.h"
#include "gateway/imap/imap_server.h"
#include "gateway/pop3/pop3_server.h"
#include "gateway/http/http_node.h"
#include "gateway/jmap/jmap_http.h"
#include "gateway/pushsub_sender.h"
#include "gateway/outbound/queue_worker.h"
#include "gateway/fts/fts.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/ids.h"
#include "common/log.h"
#include "gateway/privdrop.h"
#include "gateway/forward/forward.h"
#include "projector/blob_store.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The node's heartbeat (topic cluster, key = node id): who it is, what it
 * runs, where its management listener is, and how far it has applied. */
static void heartbeat_logged(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct node *node = ctx;

	node->heartbeat_in_flight = 0;
	if (status == 0)
		node->counters.heartbeats_sent++;
	else
		log_warn("heartbeat not logged: %s", error);
}

static void heartbeat_tick(evutil_socket_t fd, short what, void *ctx)
{
	struct node *node = ctx;
	json_t *st, *applied, *p;
	struct evm_event ev;
	const char *error = NULL;
	char *payload = NULL, actor[256];
	size_t len, i;

	if (node->heartbeat_in_flight || evlog_partitions(node->log, EVM_TOPIC_CLUSTER) <= 0)
		return;
	st = projector_status(node->projector);
	applied = json_object();
	json_array_foreach(json_object_get(st, "partitions"), i, p) {
		char key[160];
		snprintf(key, sizeof key, "%s/%lld", json_string_value(json_object_get(p, "topic")),
			 (long long)json_integer_value(json_object_get(p, "partition")));
		json_object_set(applied, key, json_object_get(p, "applied"));
	}
	snprintf(actor, sizeof actor, "node:%s", node->cfg->node_id);
	if (evm_event_init(&ev, "node.heartbeat", "", "", actor,
			   json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:b}", "id", node->cfg->node_id,
				     "roles", node->cfg->node_roles, "mgmt", node->cfg->mgmt_listen,
				     "version", EVMAIL_VERSION, "applied", applied,
				     "ready", json_is_true(json_object_get(st, "ready")),
				     "draining", node->draining != 0),
			   &error) < 0) {
		log_warn("heartbeat: %s", error);
		json_decref(st);
		return;
	}
	json_decref(st);
	if (evm_event_encode(&ev, &payload, &len, &error) == 0 &&
	    evlog_append(node->log, EVM_TOPIC_CLUSTER, -1, node->cfg->node_id,
			 strlen(node->cfg->node_id), payload, len, heartbeat_logged, node, &error) == 0)
		node->heartbeat_in_flight = 1;
	else
		log_warn("heartbeat: %s", error);
	free(payload);
	evm_event_clear(&ev);
}

/* How long a stop waits for transactions in flight to be answered. */
#define NODE_STOP_GRACE_MS 10000

/* During a stop: leave the loop once no session is left and the log has
 * acknowledged every append, or when the grace period is over. */
static void stop_tick(evutil_socket_t fd, short what, void *ctx)
{
	struct node *node = ctx;

	if ((node_sessions(node) == 0 && evlog_pending(node->log) == 0) ||
	    evm_mono_ms() >= node->stop_deadline_ms) {
		if (node_sessions(node) > 0)
			log_warn("stopping with %u session(s) still open after %d s", node_sessions(node),
				 NODE_STOP_GRACE_MS / 1000);
		event_base_loopexit(node->base, NULL);
	}
}

/* SIGTERM/SIGINT: a graceful stop. The node drains (new sessions refused,
 * idle ones closed, a transaction in flight is answered first, so a client
 * is not left with a message it cannot know the fate of), then the loop
 * ends and node_stop() closes everything. A second signal stops at once. */
static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
	struct node *node = ctx;
	struct timeval tick = { 0, 100 * 1000 };

	if (node->stop_timer != NULL) {
		log_info("signal %d again: stopping now", (int)sig);
		event_base_loopexit(node->base, NULL);
		return;
	}
	log_info("signal %d: shutting down (draining %u session(s), at most %d s)", (int)sig,
		 node_sessions(node), NODE_STOP_GRACE_MS / 1000);
	node_set_draining(node, 1);
	node->stop_deadline_ms = evm_mono_ms() + NODE_STOP_GRACE_MS;
	node->stop_timer = event_new(node->base, -1, EV_PERSIST, stop_tick, node);
	event_add(node->stop_timer, &tick);
}

/* SIGHUP: every listener's certificate and key are read again (tls.cert,
 * tls.key) into new contexts for later connections; sessions in progress
 * keep theirs, and a file that does not load leaves the old one in use.
 * The configuration itself is not re-read. The files are read as
 * node.user, after the privilege switch. */
static void on_sighup(evutil_socket_t sig, short what, void *ctx)
{
	log_info("signal %d: reloading TLS certificates", (int)sig);
	(void)net_tls_reload_all();
}

/* Roles this version knows; gateway reads the view in-process. */
static int node_check_roles(const struct evm_config *cfg, const char **error_r)
{
	if (!config_has_role(cfg, "projector")) {
		*error_r = "node.roles must include projector (every role reads the local view)";
		return -1;
	}
	return 0;
}

/* The protocol listeners of the gateway role. */
static int node_start_gateways(struct node *node, const char **error_r)
{
	static __thread char err[600];
	const struct evm_config *cfg = node->cfg;

	/* limits.submission_per_hour over every way of sending */
	if (cfg->limits_submission_per_hour > 0)
		node->submission_rate = smtp_rate_new((unsigned)cfg->limits_submission_per_hour);
	/* Before any listener: every protocol's password checks share it. */
	if (auth_password_cache_setup((unsigned)cfg->auth_cache_ttl_s, (unsigned)cfg->auth_cache_size,
				      error_r) < 0)
		return -1;
	if (cfg->smtp_listen[0] != '\0' &&
	    smtp_server_start(node, 0, cfg->smtp_listen, &node->smtp, error_r) < 0) {
		snprintf(err, sizeof err, "smtp.listen %s: %s", cfg->smtp_listen, *error_r);
		*error_r = err;
		return -1;
	}
	if (cfg->lmtp_listen[0] != '\0' &&
	    smtp_server_start(node, 1, cfg->lmtp_listen, &node->lmtp, error_r) < 0) {
		snprintf(err, sizeof err, "lmtp.listen %s: %s", cfg->lmtp_listen, *error_r);
		*error_r = err;
		return -1;
	}
	if (cfg->imap_listen[0] != '\0' &&
	    imap_server_start(node, cfg->imap_listen, 0, &node->imap, error_r) < 0) {
		snprintf(err, sizeof err, "imap.listen %s: %s", cfg->imap_listen, *error_r);
		*error_r = err;
		return -1;
	}
	/* RFC 6409 submission (STARTTLS), and RFC 8314 submissions (implicit
	 * TLS: needs a certificate; without one the listener stays off). */
	if (cfg->submission_listen[0] != '\0' &&
	    smtp_submission_start(node, cfg->submission_listen, 0, &node->submission, error_r) < 0) {
		snprintf(err, sizeof err, "submission.listen %s: %s", cfg->submission_listen, *error_r);
		*error_r = err;
		return -1;
	}
	if (cfg->submissions_listen[0] != '\0' && cfg->tls_cert[0] != '\0' &&
	    smtp_submission_start(node, cfg->submissions_listen, 1, &node->submissions, error_r) < 0) {
		snprintf(err, sizeof err, "submissions.listen %s: %s", cfg->submissions_listen, *error_r);
		*error_r = err;
		return -1;
	}
	/* Implicit TLS needs a certificate; without one the listener stays off. */
	if (cfg->imaps_listen[0] != '\0' && cfg->tls_cert[0] != '\0' &&
	    imap_server_start(node, cfg->imaps_listen, 1, &node->imaps, error_r) < 0) {
		snprintf(err, sizeof err, "imaps.listen %s: %s", cfg->imaps_listen, *error_r);
		*error_r = err;
		return -1;
	}
	/* POP3 (STLS when a certificate is set) and POP3S (implicit TLS:
	 * only with a certificate). */
	if (cfg->pop3_listen[0] != '\0' &&
	    pop3_server_start(node, cfg->pop3_listen, 0, &node->pop3, error_r) < 0) {
		snprintf(err, sizeof err, "pop3.listen %s: %s", cfg->pop3_listen, *error_r);
		*error_r = err;
		return -1;
	}
	if (cfg->pop3s_listen[0] != '\0' && cfg->tls_cert[0] != '\0' &&
	    pop3_server_start(node, cfg->pop3s_listen, 1, &node->pop3s, error_r) < 0) {
		snprintf(err, sizeof err, "pop3s.listen %s: %s", cfg->pop3s_listen, *error_r);
		*error_r = err;
		return -1;
	}
	if (http_node_start(node, error_r) < 0)   /* http.listen, https.listen */
		return -1;
	return jmap_http_start(node, error_r);     /* JMAP's routes on them */
}

/* The order of node_start, and why (issue 8, privileges):
 *
 *   1. configuration checks, the data dir (made as whoever we are), the
 *      privilege plan (refuses root without node.user unless
 *      node.allow_root), and root-owned entries of the data dir handed to
 *      node.user;
 *   2. the privileged part: every socket (management, SMTP, LMTP,
 *      submission(s), IMAP(S), POP3(S)) bound and every TLS key read;
 *   3. the switch to node.user/node.group (privdrop_apply), verified;
 *   4. everything else as that user: the log (Kafka starts librdkafka's
 *      threads; the embedded log opens its segments), the view (RocksDB's
 *      threads), the projector thread, the delivery role.
 *
 * So the switch happens while the process has ONE thread: no credential
 * question for threads (raw setuid changes only the calling thread; glibc
 * signals every thread to follow, but no thread exists yet to need it),
 * and every file in the data dir is created by the user. No client input
 * is read before step 3: listeners only accept once event_base_dispatch
 * runs, after node_start returns. */
static int node_switch_user(struct node *node, const struct privdrop *pd, const char **error_r)
{
	static __thread char err[700];
	const char *dir = node->cfg->node_data_dir;

	if (privdrop_apply(pd, error_r) < 0)
		return -1;
	if (pd->active && access(dir, R_OK | W_OK | X_OK) != 0) {
		snprintf(err, sizeof err, "node.data_dir %s is not writable by %s: %s (check it and "
			 "every parent directory)", dir, pd->user, strerror(errno));
		*error_r = err;
		return -1;
	}
	return 0;
}

/* The blob store's hook (projector/blob_store.h): opens a sealed
 * blob.chunk read back from the log with the projector's keyring. A chunk
 * whose key was erased, or is not in the view, does not read: the store
 * moves on to another upload of the body. */
static int node_blob_open_event(void *ctx, struct evm_event *ev, const char **error_r)
{
	struct node *node = ctx;
	enum keyring_open_result res = KEYRING_PLAIN;
	/* NULL before the projector exists: a sealed chunk then fails to open */
	struct keyring *kr = node->projector != NULL ? projector_keyring(node->projector) : NULL;

	if (keyring_open_event(kr, node->view, ev, &res, error_r) < 0)
		return -1;
	if (res == KEYRING_ERASED || res == KEYRING_UNKNOWN) {
		*error_r = res == KEYRING_ERASED ? "the chunk's key was erased" : "the chunk's key is not in the view";
		return -1;
	}
	return 0;
}

/* blob.store = log: the body store, attached to the view before any
 * session reads a body. 0 or -1. */
static int node_open_blob_store(struct node *node, const char **error_r)
{
	static char err[512];
	char dir[4096];

	if (!config_blob_store_log(node->cfg))
		return 0;
	snprintf(dir, sizeof dir, "%s/blobcache", node->cfg->node_data_dir);
	if (blob_store_open(node->log, dir, (uint64_t)node->cfg->blob_cache_size, &node->blob_store, error_r) < 0) {
		snprintf(err, sizeof err, "blob store %s: %s", dir, *error_r);
		*error_r = err;
		return -1;
	}
	blob_store_set_opener(node->blob_store, node_blob_open_event, node);
	view_set_blob_store(node->view, node->blob_store);
	log_info("node: blob.store = log, cache %s of %lld octets", dir, (long long)node->cfg->blob_cache_size);
	return 0;
}

int node_start(struct node *node, const struct evm_config *cfg, struct event_base *base,
	       const char **error_r)
{
	static __thread char err[600];
	struct keyring *kr = NULL;
	char path[4096];
	struct timeval hb;
	struct privdrop pd;

	memset(node, 0, sizeof *node);
	node->cfg = cfg;
	node->base = base;
	node->started_ms = evm_mono_ms();
	if (node_check_roles(cfg, error_r) < 0 || evm_mkdir_p(cfg->node_data_dir, error_r) < 0 ||
	    privdrop_plan(cfg->node_user, cfg->node_group, cfg->node_allow_root != 0, geteuid(), &pd,
			  error_r) < 0)
		return -1;
	if (pd.active && privdrop_chown_tree(cfg->node_data_dir, pd.uid, pd.gid, error_r) < 0)
		return -1;
	/* The SRS secret, before the privilege drop: the SMTP listener
	 * forwards with it, and DSNs to SRS senders are reversed with it
	 * (gateway/forward/forward.h). */
	if (forward_node_init(cfg, error_r) < 0)
		return -1;
	/* login throttling: the admin token and every protocol's logins */
	if (auth_gate_setup(cfg, error_r) < 0)
		return -1;
	/* The master keys, before the privilege drop too (their files are
	 * mode 0600, maybe root's): the projector opens sealed events with
	 * them (projector/keyring.h). */
	if (keyring_open(cfg, &kr, error_r) < 0) {
		snprintf(err, sizeof err, "crypto: %s", *error_r);
		*error_r = err;
		return -1;
	}
	if (mgmt_http_start(node, &node->mgmt, error_r) < 0)
		goto fail;
	/* node.bootstrap_from; a half-done bootstrap (gateway/checkpoint/).
	 * Before the protocol listeners (no session ever sees a node without
	 * its view) but after the management API, which answers meanwhile;
	 * still root here, so what it wrote is handed to node.user. */
	snprintf(path, sizeof path, "%s/view", cfg->node_data_dir);
	if (ckpt_node_prepare_serving(base, cfg, path, error_r) < 0)
		goto fail;
	if (pd.active && privdrop_chown_tree(cfg->node_data_dir, pd.uid, pd.gid, error_r) < 0)
		goto fail;
	if (config_has_role(cfg, "gateway") && node_start_gateways(node, error_r) < 0)
		goto fail;
	if (node_switch_user(node, &pd, error_r) < 0)
		goto fail;
	if (evlog_open(cfg, base, &node->log, error_r) < 0) {
		snprintf(err, sizeof err, "log: %s", *error_r);
		*error_r = err;
		goto fail;
	}
	if (view_open_sized(path, (size_t)cfg->view_write_buffer_mb << 20, &node->view, error_r) < 0) {
		snprintf(err, sizeof err, "view %s: %s", path, *error_r);
		*error_r = err;
		goto fail;
	}
	if (node_open_blob_store(node, error_r) < 0)
		goto fail;
	http_node_view_ready(node);
	if (projector_create(cfg, node->log, node->view, base, &node->projector, error_r) < 0)
		goto fail;
	projector_set_keyring(node->projector, kr);  /* the projector owns it now */
	kr = NULL;
	node->keyring = projector_keyring(node->projector);   /* the writers seal with it */
	if (projector_start(node->projector, error_r) < 0)
		goto fail;
	if (config_has_role(cfg, "delivery") &&
	    queue_worker_start(node, &node->delivery, error_r) < 0) {
		snprintf(err, sizeof err, "delivery: %s", *error_r);
		*error_r = err;
		goto fail;
	}
	if (node->jmap != NULL && pushsub_sender_start(node, NULL, &node->pushsub, error_r) < 0)
		goto fail;
	if (blobgc_start(node, &node->blobgc, error_r) < 0 ||
	    retention_start(node, &node->retention, error_r) < 0)
		goto fail;
	node->heartbeat_timer = event_new(base, -1, EV_PERSIST, heartbeat_tick, node);
	hb.tv_sec = cfg->projector_heartbeat_ms / 1000;
	hb.tv_usec = (cfg->projector_heartbeat_ms % 1000) * 1000;
	event_add(node->heartbeat_timer, &hb);
	node->sig_term = evsignal_new(base, SIGTERM, on_signal, node);
	node->sig_int = evsignal_new(base, SIGINT, on_signal, node);
	event_add(node->sig_term, NULL);
	event_add(node->sig_int, NULL);
	node->sig_hup = evsignal_new(base, SIGHUP, on_sighup, node);
	event_add(node->sig_hup, NULL);
	log_info("node %s started: roles %s, %s log, data %s", cfg->node_id, cfg->node_roles,
		 cfg->log_backend == EVM_LOG_KAFKA ? "kafka" : "embedded", cfg->node_data_dir);
	return 0;
fail:
	keyring_close(&kr);
	node_stop(node);
	return -1;
}

int node_storage_full(struct node *node, const char *error)
{
	json_t *st;
	const char *detail;
	int full;

	if (error != NULL && strstr(error, EVLOG_ERR_STORAGE_FULL) != NULL)
		return 1;
	if (node == NULL || node->projector == NULL)
		return 0;
	st = projector_status(node->projector);
	detail = json_string_value(json_object_get(st, "detail"));
	full = json_is_string(json_object_get(st, "state")) &&
	       strcmp(json_string_value(json_object_get(st, "state")), "failed") == 0 &&
	       detail != NULL && strstr(detail, "view storage full") != NULL;
	json_decref(st);
	return full;
}

void node_set_draining(struct node *node, int on)
{
	on = on != 0;
	if (node->draining != on)
		log_info("node %s: %s", node->cfg->node_id, on ? "draining: new sessions refused, idle ones closed"
							     : "undrained: accepting sessions");
	node->draining = on;
	smtp_server_set_draining(node->smtp, on);
	smtp_server_set_draining(node->lmtp, on);
	smtp_server_set_draining(node->submission, on);
	smtp_server_set_draining(node->submissions, on);
	imap_server_set_draining(node->imap, on);
	imap_server_set_draining(node->imaps, on);
	pop3_server_set_draining(node->pop3, on);
	pop3_server_set_draining(node->pop3s, on);
	http_node_set_draining(node, on);
	/* The cluster hears it now rather than at the next tick. */
	heartbeat_tick(-1, 0, node);
}

unsigned node_sessions(const struct node *node)
{
	unsigned n = 0;

	if (node->smtp != NULL)
		n += smtp_server_sessions(node->smtp);
	if (node->lmtp != NULL)
		n += smtp_server_sessions(node->lmtp);
	if (node->submission != NULL)
		n += smtp_server_sessions(node->submission);
	if (node->submissions != NULL)
		n += smtp_server_sessions(node->submissions);
	if (node->imap != NULL)
		n += imap_server_sessions(node->imap);
	if (node->imaps != NULL)
		n += imap_server_sessions(node->imaps);
	n += pop3_server_sessions(node->pop3);
	n += pop3_server_sessions(node->pop3s);
	n += http_node_sessions(node);
	return n;
}

void node_stop(struct node *node)
{
	if (node->sig_term != NULL)
		event_free(node->sig_term);
	if (node->sig_int != NULL)
		event_free(node->sig_int);
	if (node->sig_hup != NULL)
		event_free(node->sig_hup);
	if (node->heartbeat_timer != NULL)
		event_free(node->heartbeat_timer);
	if (node->stop_timer != NULL)
		event_free(node->stop_timer);
	node->sig_term = node->sig_int = node->sig_hup = node->heartbeat_timer = node->stop_timer = NULL;
	/* Before the projector and the log: its waiters and appends end here. */
	blobgc_stop(&node->blobgc);
	retention_stop(&node->retention);
	queue_worker_stop(&node->delivery);
	forward_node_free();
	imap_server_stop(&node->imap);
	imap_server_stop(&node->imaps);
	pop3_server_stop(&node->pop3);
	pop3_server_stop(&node->pop3s);
	jmap_http_stop(node);   /* ends the push streams, then the listeners close */
	pushsub_sender_stop(&node->pushsub);   /* before the projector it subscribed to */
	http_node_stop(node);
	smtp_server_stop(&node->smtp);
	smtp_server_stop(&node->lmtp);
	smtp_server_stop(&node->submission);
	smtp_server_stop(&node->submissions);
	mgmt_http_stop(&node->mgmt);
	ckpt_serve_stop();     /* checkpoints being made read the view */
	admin_logscan_stop();   /* a history or restore reading the log: before the log closes */
	admin_view_compact_stop();   /* a view compaction: before the view closes */
	admin_keytime_stop();   /* an erasure reading its first key's time: before the log closes */
	auth_password_cache_teardown();
	smtp_rate_free(&node->submission_rate);
	auth_gate_teardown();   /* answers the failures still waiting: their requests are freed */
	evm_fts_stop(node);   /* the search indexer: before the projector and the view */
	if (node->projector != NULL)
		projector_stop(node->projector);
	if (node->view != NULL)
		view_set_blob_store(node->view, NULL);
	blob_store_close(&node->blob_store);   /* its reader: before the log */
	evlog_close(&node->log);
	projector_destroy(&node->projector);
	node->keyring = NULL;   /* the projector's, gone with it */
	view_close(&node->view);
}
