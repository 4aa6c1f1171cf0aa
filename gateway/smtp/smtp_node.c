/* smtp_node - smtp_server_start(): a listener configured from the node,
 * delivering through gateway/deliver.h. */
#include "gateway/deliver.h"
#include "common/log.h"
#include "projector/mail.h"
#include "gateway/smtp/smtp_server_private.h"

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

static void node_deliver(void *ctx, const struct deliver_request *req, deliver_done_cb *cb, void *cb_ctx)
{
	deliver_message(ctx, req, cb, cb_ctx);
}

int smtp_server_start(struct node *node, int lmtp, const char *listen, struct smtp_server **s_r,
		      const char **error_r)
{
	const struct evm_config *cfg = node->cfg;
	struct smtp_server_settings set = { 0 };
	struct net_tls *tls = NULL;

	if (cfg->tls_cert[0] != '\0' && net_tls_load(cfg->tls_cert, cfg->tls_key, &tls, error_r) < 0)
		return -1;
	set.listen = listen;
	set.session.lmtp = lmtp;
	set.session.hostname = cfg->smtp_hostname[0] != '\0' ? cfg->smtp_hostname : cfg->node_id;
	set.session.tls = tls;
	set.session.max_line = (size_t)cfg->limits_smtp_line_length;
	set.session.max_message = (size_t)cfg->limits_message_size;
	set.session.max_recipients = (unsigned)cfg->limits_recipients;
	set.session.max_errors = (unsigned)cfg->limits_smtp_errors;
	set.session.command_timeout_s = (unsigned)cfg->limits_smtp_command_timeout_s;
	set.session.data_timeout_s = (unsigned)cfg->limits_smtp_data_timeout_s;
	set.max_connections = (unsigned)cfg->limits_connections;
	set.max_per_ip = (unsigned)cfg->limits_connections_per_ip;
	set.backend.resolve = node_resolve;
	set.backend.deliver = node_deliver;
	set.backend.over_quota = node_over_quota;
	set.backend.ctx = node;
	if (smtp_server_create(node->base, &set, s_r, error_r) < 0) {
		net_tls_free(&tls);
		return -1;
	}
	(*s_r)->owned_tls = tls;
	return 0;
}
