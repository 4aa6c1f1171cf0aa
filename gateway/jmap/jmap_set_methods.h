/* jmap_set_methods - the handlers of the ESET modules (Mailbox/set,
 * Mailbox/query, Mailbox/queryChanges, Email/set, Email/copy), shared
 * inside gateway/jmap so jmap_mail_set_register() (jmap_email_set.c)
 * registers them all. */
#ifndef EVM_JMAP_SET_METHODS_H
#define EVM_JMAP_SET_METHODS_H

#include "gateway/jmap/jmap_api.h"

void jmap_mailbox_set(struct jmap_call *call, json_t *args, void *ctx);
void jmap_mailbox_query(struct jmap_call *call, json_t *args, void *ctx);
void jmap_mailbox_query_changes(struct jmap_call *call, json_t *args, void *ctx);
void jmap_email_set(struct jmap_call *call, json_t *args, void *ctx);
void jmap_email_copy(struct jmap_call *call, json_t *args, void *ctx);
/* The implicit Email/set of EmailSubmission/set (RFC 8621 7.5): update
 * (email id -> PatchObject) and destroy (email ids), both stolen and
 * either NULL, run as Email/set runs them; its response is added as
 * "Email/set" after the caller's own, and the call is finished. */
void jmap_email_set_implicit(struct jmap_call *call, const struct jmap_account *account, json_t *update,
			     json_t *destroy);

#endif
