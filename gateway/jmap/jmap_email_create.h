/* jmap_email_create - the create half of Email/set (RFC 8621 4.6), for
 * jmap_email_set.c: an Email object written as a message
 * (jmap_email_build.h), stored as a blob (gateway/deliver_blob.h), then
 * one message.append per mailbox with the summary common/mime.h makes of
 * the written bytes, keywords as flags and receivedAt as the internal
 * date. */
#ifndef EVM_JMAP_EMAIL_CREATE_H
#define EVM_JMAP_EMAIL_CREATE_H

#include "gateway/jmap/jmap_set_run.h"

/* The jmap_set_ops plan and done of a create (jmap_set_run.h). */
int jmap_email_create_plan(struct jmap_setrun *sr, const char *cid, json_t *obj, struct jmap_set_plan *p);
void jmap_email_create_done(struct jmap_setrun *sr, const char *cid, const struct jmap_set_plan *p,
			    json_t *results);
/* The mailboxIds of obj ({id: true}, "#cid" resolved) as a new array of
 * existing mailbox ids of the account: 0, -1 when not valid or a mailbox
 * is unknown (or the view fails: *error_r). */
int jmap_email_mailbox_ids(struct jmap_call *call, const json_t *ids, json_t **out_r, const char **error_r);

#endif
