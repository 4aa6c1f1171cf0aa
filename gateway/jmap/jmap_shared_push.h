/* jmap_shared_push - push (RFC 8620 7.1) for the accounts shared with a
 * user (jmap_shared.h): a StateChange of the user's own account is joined
 * by the Mailbox, Email and Thread states of each shared account whose
 * owner's state moved. The state strings are the owner's, as the methods
 * answer them in that account (jmap_mail_state).
 *
 * A pushState (RFC 8887 4.3.5.1) covers the user's own account only.
 *
 * The owners are read from the view when the push starts and again each
 * time it is asked for changes: a share granted later is pushed at once
 * (the owner's ACL applier reports the sharee's account changed,
 * projector/mail_acl.c, which wakes the user's own subscription), a
 * revoked one is dropped; a mailbox shared with anyone of the user's tenant
 * is learnt of through the tenant's anyone channel (projector/mail_acl.h).
 * Each owner's account is subscribed to on the projector, so a
 * change applied on this node wakes the push once. Loop thread only. */
#ifndef EVM_JMAP_SHARED_PUSH_H
#define EVM_JMAP_SHARED_PUSH_H

#include <jansson.h>

#include "gateway/jmap/jmap_mail.h"
#include "projector/projector.h"

struct jmap_shared_push;

/* Starts tracking the accounts shared with req's user, for the types of
 * mask (a bit per enum mail_jtype); cb(ctx, owner) runs after a change of
 * one. The states read now are the baseline when from_now, else every
 * shared account is reported at the first join (a client resuming from
 * a pushState of its own account, RFC 8887 4.3.5.2). Never NULL. */
struct jmap_shared_push *jmap_shared_push_new(struct jmap_mail_req *req, unsigned mask, int from_now,
					      projector_change_cb *cb, void *ctx);
void jmap_shared_push_free(struct jmap_shared_push **sp);

/* Adds to change (a StateChange of the own account, or NULL) the shared
 * accounts whose states moved since last told (every one when force):
 * the StateChange (new reference; change is stolen), or NULL when
 * nothing moved anywhere. */
json_t *jmap_shared_push_join(struct jmap_shared_push *sp, json_t *change, int force);

#endif
