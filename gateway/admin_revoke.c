/* admin_revoke - after an account's purge (account remove, account
 * erase): the grants other accounts gave its address are revoked too, a
 * mailbox.acl delete in each owner's partition (which alone writes them),
 * so a new account with that address inherits none. Found in
 * mail/<acct>/shared/ of this node's view, which the purge leaves and each
 * revocation clears: running the removal again revokes what is left. */
#include "gateway/admin_erase.h"
#include "common/log.h"
#include "projector/mail.h"
#include "projector/mail_acl.h"

#include <stdlib.h>
#include <string.h>

#define REVOKE_TIMEOUT_MS 30000

struct revoke {
	admin_revoke_cb *cb;
	void *ctx;
	size_t pending;        /* + 1 while submitting */
	size_t count;
	char failed[256];      /* the first revocation whose fate is unknown */
};

/* One revocation applied (or not); the last one reports. */
static void revoke_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct revoke *r = ctx;

	(void)outcome;
	if (status < 0 && r->failed[0] == '\0')
		snprintf(r->failed, sizeof r->failed, "revoking a grant: %s", error ? error : "failed");
	if (--r->pending > 0)
		return;
	r->cb(r->ctx, r->count, r->failed[0] != '\0' ? r->failed : NULL);
	free(r);
}

int admin_revoke_grants(struct node *node, const char *tenant, const char *address, admin_revoke_cb *cb,
			void *ctx)
{
	const char *error = NULL;
	json_t *list = NULL, *g;
	struct revoke *r;
	size_t i;

	if (mail_shared_list(node->view, address, NULL, &list, &error) < 0) {
		log_warn("admin: grants to %s: %s", address, error);
		return 0;
	}
	if (json_array_size(list) == 0) {
		json_decref(list);
		return 0;
	}
	r = xcalloc(1, sizeof *r);
	r->cb = cb;
	r->ctx = ctx;
	r->count = json_array_size(list);
	r->pending = r->count + 1;
	json_array_foreach(list, i, g) {
		const char *owner = json_string_value(json_object_get(g, "owner"));
		struct evm_event ev;

		if (evm_event_init(&ev, "mailbox.acl", tenant, owner, "admin",
				   json_pack("{s:O, s:s, s:s}", "mailbox_id", json_object_get(g, "mailbox_id"),
					     "identifier", address, "action", "delete"), &error) < 0) {
			revoke_done(r, -1, NULL, error);
			continue;
		}
		command_submit(node, &ev, EVM_TOPIC_MAIL, owner, REVOKE_TIMEOUT_MS, revoke_done, r);
	}
	json_decref(list);
	revoke_done(r, 0, NULL, NULL);
	return 1;
}
