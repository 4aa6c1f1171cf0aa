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

#include <string.h>
#include <strings.h>

/* One limiter for the node's submission listeners (587 and 465 count
 * together); created by the first, freed with the last. */
static struct smtp_rate *node_rate;
static unsigned node_rate_users;

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

static void node_auth_password(void *ctx, const char *user, const char *password,
			       auth_password_cb *cb, void *cb_ctx)
{
	struct node *node = ctx;

	auth_password_verify(node->base, node->view, user, password, cb, cb_ctx);
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

/* The account itself, or an alias of ours that has it among its targets. */
static int node_sender_allowed(void *ctx, const char *account, const char *address)
{
	struct node *node = ctx;
	char norm[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;
	json_t *alias = NULL, *t;
	size_t i;
	int r, ok = 0;

	if (evm_address_normalize(address, norm, &error) < 0)
		return 0;
	if (strcmp(norm, account) == 0)
		return 1;
	r = directory_alias_get(node->view, norm, &alias, &error);
	if (r < 0) {
		log_warn("smtp: alias lookup: %s", error);
		return -1;
	}
	json_array_foreach(json_object_get(alias, "targets"), i, t) {
		if (json_is_string(t) && strcmp(json_string_value(t), account) == 0)
			ok = 1;
	}
	json_decref(alias);
	return ok;
}

static json_t *node_dkim_keys(void *ctx, const char *domain)
{
	struct node *node = ctx;
	const char *error = NULL;
	json_t *keys = NULL;

	if (directory_dkim_keys(node->view, domain, 1, &keys, &error) < 0) {
		log_warn("smtp: DKIM keys of %s: %s", domain, error);
		return NULL;
	}
	if (json_array_size(keys) == 0) {
		json_decref(keys);
		return NULL;
	}
	return keys;
}

static void node_enqueue(void *ctx, const struct enqueue_request *req, enqueue_done_cb *cb, void *cb_ctx)
{
	outbound_enqueue(ctx, req, cb, cb_ctx);
}

/* The settings every listener of the node shares. */
static int node_settings(struct node *node, struct smtp_server_settings *set, struct net_tls **tls_r,
			 const char **error_r)
{
	const struct evm_config *cfg = node->cfg;

	*tls_r = NULL;
	if (cfg->tls_cert[0] != '\0' && net_tls_load(cfg->tls_cert, cfg->tls_key, tls_r, error_r) < 0)
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
	set->backend.deliver = node_deliver;
	set->backend.over_quota = node_over_quota;
	set->backend.ctx = node;
	return 0;
}

/* A submission listener stopped: the last one frees the limiter. */
static void node_rate_release(void)
{
	if (node_rate_users > 0 && --node_rate_users == 0)
		smtp_rate_free(&node_rate);
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
	if (node_rate_users++ == 0)
		node_rate = smtp_rate_new((unsigned)cfg->limits_submission_per_hour);
	set.listen = listen;
	set.implicit_tls = implicit_tls;
	set.session.submission = 1;
	set.session.allow_plaintext_auth = cfg->submission_allow_plaintext_auth != 0;
	set.session.dkim_sign = cfg->dkim_sign != 0;
	set.session.rate = node_rate;
	set.backend.auth_password = node_auth_password;
	set.backend.scram_lookup = node_scram_lookup;
	set.backend.sender_allowed = node_sender_allowed;
	set.backend.dkim_keys = node_dkim_keys;
	set.backend.enqueue = node_enqueue;
	if (smtp_server_create(node->base, &set, s_r, error_r) < 0) {
		net_tls_free(&tls);
		if (--node_rate_users == 0)
			smtp_rate_free(&node_rate);
		return -1;
	}
	(*s_r)->owned_tls = tls;
	(*s_r)->on_stop = node_rate_release;
	return 0;
}

int smtp_server_start(struct node *node, int lmtp, const char *listen, struct smtp_server **s_r,
		      const char **error_r)
{
	struct smtp_server_settings set = { 0 };
	struct net_tls *tls = NULL;

	if (node_settings(node, &set, &tls, error_r) < 0)
		return -1;
	set.listen = listen;
	set.session.lmtp = lmtp;
	if (smtp_server_create(node->base, &set, s_r, error_r) < 0) {
		net_tls_free(&tls);
		return -1;
	}
	(*s_r)->owned_tls = tls;
	return 0;
}
