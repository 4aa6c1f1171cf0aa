/* submit_node - submission's lookups and halves on a real node (submit.h):
 * the directory view for senders and DKIM keys, deliver_message and
 * outbound_enqueue. */
#include "gateway/submit/submit.h"
#include "common/address.h"
#include "common/log.h"
#include "projector/directory.h"

#include <string.h>

int submit_node_sender_allowed(void *ctx, const char *account, const char *address)
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
		log_warn("submit: alias lookup: %s", error);
		return -1;
	}
	json_array_foreach(json_object_get(alias, "targets"), i, t) {
		if (json_is_string(t) && strcmp(json_string_value(t), account) == 0)
			ok = 1;
	}
	json_decref(alias);
	return ok;
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
