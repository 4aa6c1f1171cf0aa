/* jmap_shared - mailboxes other users share with a JMAP user (RFC 4314
 * ACLs, projector/mail_acl.h) as accounts of their own (RFC 8620 1.6.2).
 *
 * Every owner of the user's tenant who grants the user at least the read
 * right r on some mailbox is one account: id = the owner's account id
 * (jmap_account_id), name = the owner's address, isPersonal false,
 * isReadOnly when no shared mailbox gives a right to change anything
 * (s w i t e), capability Mail only (Submission, VacationResponse, Quota
 * and Blob stay the owner's). The list is read from the view each time a
 * request starts, and the rights again on every call (jmap_shared_scope),
 * so a revoked share is accountNotFound from the next call on, exactly as
 * an account that never existed, in this tenant or any other.
 *
 * In a shared account a method reads the owner's data (jmap_mail_address)
 * filtered to the mailboxes the scope names; writes go to the owner's
 * partition with "as": <the user>, and the owner's projector checks the
 * rights again (jmap_mail_submit). The methods serving shared accounts
 * (jmap_shared_register): Mailbox/get, Mailbox/changes, Email/get,
 * Email/query, Email/queryChanges, Email/changes, Email/set
 * (jmap_email_set_scope.c; creating needs i, jmap_shared_may_append),
 * Email/import (the same rights), Email/copy (jmap_email_copy.c),
 * Thread/get and Thread/changes; downloads (jmap_shared_blob_read) and
 * EventSource push (jmap_shared_push.h) too.
 *
 * Blobs an Email/set creation or an Email/import names are read as the
 * user's own (an upload is the uploader's, jmap_blob.h); the message
 * written is the owner's from then on, readable by the owner as
 * "m<email id>" like any email of theirs. */
#ifndef EVM_JMAP_SHARED_H
#define EVM_JMAP_SHARED_H

#include <jansson.h>

#include "gateway/jmap/jmap_api.h"
#include "gateway/jmap/jmap_mail.h"

/* The accounts a request runs with: the user's own first, then one per
 * owner sharing with them, by owner address. */
struct jmap_mail_user {
	struct jmap_user user;        /* points into the fields below */
	struct jmap_account *accounts;
	char (*ids)[JMAP_ACCOUNT_ID_LEN + 1];
	json_t *owners;               /* the owner addresses the accounts borrow */
};

/* Builds u for req's user from the view. 0, or -1 with *error_r (then u
 * needs no clear). */
int jmap_mail_user_build(const struct jmap_mail_req *req, struct jmap_mail_user *u, const char **error_r);
void jmap_mail_user_clear(struct jmap_mail_user *u);

/* What the user may see of the call's target account now: *scope_r =
 * {mailbox id: rights bits (integer)} with every mailbox of the owner
 * shared with at least r (new reference), or NULL for the user's own
 * account (everything). 0, or -1 after finishing the call: accountNotFound
 * when nothing is shared any more, serverFail when the view fails. */
int jmap_shared_scope(struct jmap_call *call, json_t **scope_r);
/* The same for account a of the user (Email/copy's fromAccountId): the
 * call's error is not_found (e.g. "fromAccountNotFound") when nothing is
 * shared any more. */
int jmap_shared_scope_of(struct jmap_call *call, const struct jmap_account *a, const char *not_found,
			 json_t **scope_r);

/* The download of blob_id from account_id when that is an account shared
 * with req's user: as jmap_blob_read() for the owner, but only for an
 * email ("m...", RFC 8620 6.2) with a copy in a mailbox shared with the
 * user (r); 0 (not found) for anything else: an upload, an email of an
 * unshared mailbox, an account that shares nothing. */
int jmap_shared_blob_read(const struct jmap_mail_req *req, const char *account_id, const char *blob_id,
			  char **data_r, size_t *len_r, char **type_r, const char **error_r);

/* Leaves in ids (email ids of owner's) those with a copy in a mailbox
 * scope names (NULL: all). 0, or -1 with *error_r. */
int jmap_shared_filter_emails(struct view *view, const char *owner, const json_t *scope, json_t *ids,
			      const char **error_r);

/* Leaves in mailboxes ({mailbox id: true}) only the ids scope names. */
void jmap_shared_filter(const json_t *scope, json_t *mailboxes);

/* 1 when scope (NULL: the user's own account, every right) grants every
 * right in bits (MAIL_R_*) on mailbox mb, 0 when not (or mb is not shared). */
int jmap_shared_allows(const json_t *scope, const char *mb, unsigned bits);

/* Whether a new message may be appended, as the user, to each mailbox of
 * mailboxes (an array of the owner's mailbox ids) with the IMAP system
 * flags flags and the keywords keywords (arrays): RFC 4314 i, and s for
 * \Seen, t for \Deleted, w for any other flag or keyword, exactly what the
 * owner's projector checks again (mail_acl.h). 0 when scope is NULL (the
 * user's own account) or everything is granted; -1 with *type_r the
 * SetError type: "invalidProperties" for a mailbox that is not shared (as
 * if it did not exist), "forbidden" for a right not granted. */
int jmap_shared_may_append(const json_t *scope, const json_t *mailboxes, json_t *flags, const json_t *keywords,
			   const char **type_r);

/* RFC 8621 2.4 myRights of a shared mailbox from RFC 4314 rights bits. */
json_t *jmap_shared_rights(unsigned bits);

#endif
