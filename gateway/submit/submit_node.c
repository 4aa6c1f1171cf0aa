/* submit_node - submission's lookups and halves on a real node (submit.h):
 * the directory view for senders and DKIM keys, deliver_message and
 * outbound_enqueue. */
#include "gateway/submit/submit.h"
#include "common/address.h"
#include "common/log.h"
#include "projector/directory.h"

#include <stdio.h>
#include <string.h>

/* 1 when the alias's targets include account; -1 on a read error. */
static int alias_targets(struct node *node, const char *alias_name, const char *account, int *found_r)
{
	const char *error = NULL;
	json_t *alias = NULL, *t;
	size_t i;
	int ok = 0;

	if (directory_alias_get(node->view, alias_name, &alias, &error) < 0) {
		log_warn("submit: alias lookup: %s", error);
		return -1;
	}
	*found_r = alias != NULL;
	json_array_foreach(json_object_get(alias, "targets"), i, t) {
		if (json_is_string(t) && strcmp(json_string_value(t), account) == 0)
			ok = 1;
	}
	json_decref(alias);
	return ok;
}

/* An account may send as an address whose mail comes to it: its own, an
 * alias that targets it, or, when the address is neither an account nor
 * an alias, its domain's catch-all ("@domain") when that targets it (the
 * JMAP "*@domain" identity, RFC 8621 6). */
int submit_node_sender_allowed(void *ctx, const char *account, const char *address)
{
	struct node *node = ctx;
	char norm[EVM_ADDRESS_MAX + 1], catchall[EVM_ADDRESS_MAX + 2];
	const char *error = NULL, *at;
	json_t *acct = NULL;
	int r, found = 0;

	if (evm_address_normalize(address, norm, &error) < 0)
		return 0;
	if (strcmp(norm, account) == 0)
		return 1;
	r = alias_targets(node, norm, account, &found);
	if (r != 0 || found)
		return r;
	if (directory_account_get(node->view, norm, &acct, &error) < 0) {
		log_warn("submit: account lookup: %s", error);
		return -1;
	}
	found = acct != NULL;
	json_decref(acct);
	if (found || (at = strrchr(norm, '@')) == NULL)
		return 0;
	snprintf(catchall, sizeof catchall, "%s", at);
	return alias_targets(node, catchall, account, &found);
}

json_t *submit_node_dkim_keys(void *ctx, const char *domain)
{
	struct node *node = ctx;
	const char *error = NULL;
	json_t *keys = NULL;

	if (directory_dkim_keys(node->view, domain, 1, &keys, &error) < 0) {
		log_warn("submit: DKIM keys of %s: %s", domain, error);
		return NULL;
	}
	if (json_array_size(keys) == 0) {
		json_decref(keys);
		return NULL;
	}
	return keys;
}

void submit_node_lookups(struct node *node, struct submit_lookups *l)
{
	l->sender_allowed = submit_node_sender_allowed;
	l->dkim_keys = submit_node_dkim_keys;
	l->ctx = node;
}

static void node_deliver(void *ctx, const struct deliver_request *req, deliver_done_cb *cb, void *cb_ctx)
{
	deliver_message(ctx, req, cb, cb_ctx);
}

static void node_enqueue(void *ctx, const struct enqueue_request *req, enqueue_done_cb *cb, void *cb_ctx)
{
	outbound_enqueue(ctx, req, cb, cb_ctx);
}

void submit_node_ops(struct node *node, struct submit_ops *ops)
{
	ops->deliver = node_deliver;
	ops->enqueue = node_enqueue;
	ops->ctx = node;
}
