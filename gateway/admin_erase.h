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

#include <jansson.h>
#include <stdint.h>

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

/* admin_revoke.c: after an account's purge, the grants other accounts
 * gave address are revoked (a mailbox.acl delete in each owner's
 * partition). Returns 0 when there is none (cb never runs), else 1 and cb
 * runs once with their count and the first failure (NULL when all were
 * applied): later, on the loop (inside the call only when no revocation
 * could even be built). */
typedef void admin_revoke_cb(void *ctx, size_t revoked, const char *error);
int admin_revoke_grants(struct node *node, const char *tenant, const char *address, admin_revoke_cb *cb,
			void *ctx);

/* admin_keytime.c: ts = the log time (ms) of the earliest account.key
 * record of kids, 0 when unknown, -1 when the node is stopping (then free
 * ctx, answer nothing). Runs exactly once, later, on the loop. */
typedef void admin_keytime_cb(void *ctx, int64_t ts);
/* Starts reading it on a worker thread: 0 (cb will run), or -1 when no
 * kid has a record here or a read is running (cb never runs). */
int admin_keytime_start(struct node *node, json_t *kids, admin_keytime_cb *cb, void *ctx);
/* node_stop (after mgmt_http_stop, before the log closes): joins a read
 * still running; its cb runs inside with ts -1. */
void admin_keytime_stop(void);

#endif
