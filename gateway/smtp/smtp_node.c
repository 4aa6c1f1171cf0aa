/* smtp_node - smtp_server_start() and smtp_submission_start(): listeners
 * configured from the node, delivering through gateway/deliver.h, and for
 * submission authenticating against the directory view
 * (gateway/auth_password.h), checking senders against accounts and
 * aliases, signing with the domain's DKIM keys and queueing through
 * gateway/outbound/enqueue.h. */
#include "gateway/deliver.h"
#include "common/address.h"
#include "common/log.h"
#include "projector/directory.h"
#include "projector/mail.h"
#include "gateway/smtp/smtp_rate.h"
#include "gateway/smtp/smtp_server_private.h"
#include "gateway/submit/submit.h"
#include "common/ids.h"

#include <string.h>
#include <strings.h>

/* One limiter for the node's submission listeners (587 and 465 count
 * together); created by the first, freed with the last. */
/* The SMTP listener's per-client limits (limits.smtp_msgs_per_min_ip,
 * limits.smtp_rcpts_per_min_ip); NULL when unlimited or not listening. */
static struct smtp_rate *node_ip_msgs, *node_ip_rcpts;

static enum deliver_rcpt_status node_resolve(void *ctx, const char *rcpt,
					     struct deliver_target **targets_r, size_t *n_r)
{
	struct node *node = ctx;

	return deliver_resolve(node->view, rcpt, targets_r, n_r);
}

static int node_over_quota(void *ctx, const char *account, uint64_t size)
{
	struct node *node = ctx;
	const char *error = NULL;
	int r = mail_over_quota(node->view, account, size, &error);

	if (r < 0)
		log_warn("smtp: quota of %s: %s", account, error);
	return r > 0;
}

static void node_auth_password(void *ctx, const char *peer_ip, const char *user, const char *password,
			       auth_password_cb *cb, void *cb_ctx)
{
	struct node *node = ctx;

	auth_password_verify(node->base, node->view, peer_ip, user, password, cb, cb_ctx);
}

static int node_scram_lookup(void *ctx, const char *user, json_t **rec_r, char *tenant)
{
	struct node *node = ctx;
	const char *error = NULL, *state, *t;
	json_t *acc = NULL, *rec;
	int found = 0;

	*rec_r = NULL;
	if (directory_account_get(node->view, user, &acc, &error) <= 0) {
		if (error != NULL)
			log_warn("smtp: account lookup: %s", error);
		return 0;
	}
	state = json_string_value(json_object_get(acc, "state"));
	t = json_string_value(json_object_get(acc, "tenant"));
	rec = json_object_get(acc, "scram_sha256");
	if (state != NULL && strcmp(state, "active") == 0 && t != NULL && strlen(t) < 64 && rec != NULL) {
		snprintf(tenant, 64, "%s", t);
		*rec_r = json_incref(rec);
		found = 1;
	}
	json_decref(acc);
	return found;
}

static int node_forward_resolve(void *ctx, const char *rcpt, struct forward_target **targets_r,
				size_t *n_r, char *local_r, const char **reply_r)
{
	struct node *node = ctx;

	return forward_resolve(node->view, evm_now_ms() / 1000, rcpt, targets_r, n_r, local_r, reply_r);
}

static void node_forward_send(void *ctx, const struct forward_send_request *req, enqueue_done_cb *cb,
			      void *cb_ctx)
{
	forward_send(ctx, req, cb, cb_ctx);
}

/* Inbound sender authentication (gateway/msgauth/msgauth_node.h); our
 * authserv-id is the host name of the greeting (RFC 8601 2.5). */
static void node_msgauth(void *ctx, const char *peer_ip, const char *helo, const char *mail_from,
			 const char *msg, size_t len, msgauth_node_cb *cb, void *cb_ctx)
{
	struct node *node = ctx;
	const struct evm_config *cfg = node->cfg;

	msgauth_node_check(node->base, cfg, cfg->smtp_hostname[0] != '\0' ? cfg->smtp_hostname : cfg->node_id,
			   peer_ip, helo, mail_from, msg, len, cb, cb_ctx);
}

/* The settings every listener of the node shares. */
static int node_settings(struct node *node, struct smtp_server_settings *set, struct net_tls **tls_r,
			 const char **error_r)
{
	const struct evm_config *cfg = node->cfg;

	*tls_r = NULL;
	if (cfg->tls_cert[0] != '\0' && net_tls_load_config(cfg, tls_r, error_r) < 0)
		return -1;
	set->session.hostname = cfg->smtp_hostname[0] != '\0' ? cfg->smtp_hostname : cfg->node_id;
	set->session.tls = *tls_r;
	set->session.max_line = (size_t)cfg->limits_smtp_line_length;
	set->session.max_message = (size_t)cfg->limits_message_size;
	set->session.max_recipients = (unsigned)cfg->limits_recipients;
	set->session.max_errors = (unsigned)cfg->limits_smtp_errors;
	set->session.command_timeout_s = (unsigned)cfg->limits_smtp_command_timeout_s;
	set->session.data_timeout_s = (unsigned)cfg->limits_smtp_data_timeout_s;
	set->max_connections = (unsigned)cfg->limits_connections;
	set->max_per_ip = (unsigned)cfg->limits_connections_per_ip;
	set->backend.resolve = node_resolve;
	{
		struct submit_ops ops;

		submit_node_ops(node, &ops);
		set->backend.deliver = ops.deliver;
	}
	set->backend.over_quota = node_over_quota;
	set->backend.ctx = node;
	return 0;
}

int smtp_submission_start(struct node *node, const char *listen, int implicit_tls,
			  struct smtp_server **s_r, const char **error_r)
{
	const struct evm_config *cfg = node->cfg;
	struct smtp_server_settings set = { 0 };
	struct net_tls *tls = NULL;

	if (node_settings(node, &set, &tls, error_r) < 0)
		return -1;
	if (implicit_tls && tls == NULL) {
		*error_r = "implicit TLS needs tls.cert";
		return -1;
	}
	set.listen = listen;
	set.implicit_tls = implicit_tls;
	set.session.submission = 1;
	set.session.allow_plaintext_auth = cfg->submission_allow_plaintext_auth != 0;
	set.session.dkim_sign = cfg->dkim_sign != 0;
	set.session.rate = node->submission_rate;
	set.backend.auth_password = node_auth_password;
	set.backend.scram_lookup = node_scram_lookup;
	{
		struct submit_ops ops;

		submit_node_ops(node, &ops);
		set.backend.sender_allowed = submit_node_sender_allowed;
		set.backend.dkim_keys = submit_node_dkim_keys;
		set.backend.enqueue = ops.enqueue;
	}
	if (smtp_server_create(node->base, &set, s_r, error_r) < 0) {
		net_tls_free(&tls);
		return -1;
	}
	(*s_r)->owned_tls = tls;
	return 0;
}

/* The SMTP listener stopped: its per-client limiters go. */
static void node_ip_release(void)
{
	smtp_rate_free(&node_ip_msgs);
	smtp_rate_free(&node_ip_rcpts);
}

/* The SMTP listener stopped: its limiters and the inbound checks' resolver go. */
static void node_inbound_release(void)
{
	node_ip_release();
	msgauth_node_stop();
}

int smtp_server_start(struct node *node, int lmtp, const char *listen, struct smtp_server **s_r,
		      const char **error_r)
{
	const struct evm_config *cfg = node->cfg;
	struct smtp_server_settings set = { 0 };
	struct net_tls *tls = NULL;

	if (node_settings(node, &set, &tls, error_r) < 0)
		return -1;
	set.listen = listen;
	set.session.lmtp = lmtp;
	/* Forwarding (gateway/forward/forward.h) on the SMTP listener when
	 * forward.srs_secret_file is set (read by node_start, before the
	 * privilege drop). */
	if (!lmtp && forward_enabled()) {
		set.backend.forward_resolve = node_forward_resolve;
		set.backend.forward_send = node_forward_send;
	}
	if (!lmtp && node->cfg->inbound_auth) {
		const char *p = node->cfg->inbound_dmarc_reject;
		if (strcmp(p, "reject") != 0 && strcmp(p, "quarantine") != 0 && strcmp(p, "none") != 0) {
			net_tls_free(&tls);
			*error_r = "inbound.dmarc_reject must be reject, quarantine or none";
			return -1;
		}
		if (msgauth_node_start(cfg, error_r) < 0) {   /* the shared resolver */
			net_tls_free(&tls);
			return -1;
		}
		set.backend.msgauth = node_msgauth;
	}
	if (!lmtp) {
		/* inbound from the internet: the per-client limits (LMTP is our
		 * own MTAs'); the connection limit answers 421 4.7.0 */
		if (cfg->limits_smtp_conn_per_ip > 0)
			set.max_per_ip = (unsigned)cfg->limits_smtp_conn_per_ip;
		node_ip_release();
		if (cfg->limits_smtp_msgs_per_min_ip > 0)
			node_ip_msgs = smtp_rate_new_per_minute((unsigned)cfg->limits_smtp_msgs_per_min_ip);
		if (cfg->limits_smtp_rcpts_per_min_ip > 0)
			node_ip_rcpts = smtp_rate_new_per_minute((unsigned)cfg->limits_smtp_rcpts_per_min_ip);
		set.session.ip_msgs = node_ip_msgs;
		set.session.ip_rcpts = node_ip_rcpts;
	}
	if (smtp_server_create(node->base, &set, s_r, error_r) < 0) {
		net_tls_free(&tls);
		if (!lmtp)
			node_inbound_release();
		return -1;
	}
	(*s_r)->owned_tls = tls;
	if (!lmtp)
		(*s_r)->on_stop = node_inbound_release;
	return 0;
}
