/* admin_erase - content keys and crypto-shredding in the admin API
 * (projector/keyring.h; docs/ARCHITECTURE.md "Erasure"):
 *
 *   POST /admin/accounts/ADDRESS/key    appends account.key: the account's
 *                                       first content key, or a rotation
 *                                       (older keys still open older events)
 *   POST /admin/accounts/ADDRESS/erase  appends account.erase, then a
 *                                       null-value record in the directory
 *                                       topic for each of the account's
 *                                       account.key records (compaction then
 *                                       deletes the wrapped keys from the
 *                                       log), then account.purge on its mail
 *                                       partition, and answers a report
 *
 * Both answer 409 when the node has no keyring (no crypto.master_key_file):
 * erasure then is `account remove`. Loop thread only. */
#ifndef EVM_ADMIN_ERASE_H
#define EVM_ADMIN_ERASE_H

#include "gateway/command.h"
#include "gateway/http/http_server.h"
#include "gateway/node.h"

/* path: what follows "/admin/accounts/" ("ADDRESS/key" or
 * "ADDRESS/erase", ADDRESS percent-encoded). POST only. */
void admin_erase_handle(struct node *node, struct http_request *req, const char *path);

/* Submits account.key (a fresh key from keyring_new_key) for address to
 * the directory; cb as command_submit's (exactly once, later). 0, or -1
 * with *error_r when no event could be built (cb never runs). */
int admin_key_submit(struct node *node, const char *tenant, const char *address,
		     command_done_cb *cb, void *ctx, const char **error_r);

#endif
